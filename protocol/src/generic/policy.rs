//! The class allowlist for client-supplied `"class"` keys in generic-call arguments.
//!
//! A generic call lets the caller name the Java class the provider instantiates (a map's
//! `"class"` entry, see `PojoUtils.realize`), which is a well-known deserialization attack path.
//! [`InputPolicy`] decides which names a JSON client may send. It is strict by default: the
//! declared parameter types, the exact packages of declared non-JDK classes, and a fixed set of
//! harmless JDK value and collection classes.

use std::collections::BTreeSet;

use super::java_type::{is_class_name, JavaType};

/// JDK classes any policy allows: value types and plain collections, none of which runs code
/// while being populated by `PojoUtils`.
const SAFE_JDK_CLASSES: &[&str] = &[
    "java.lang.String",
    "java.lang.Boolean",
    "java.lang.Byte",
    "java.lang.Short",
    "java.lang.Integer",
    "java.lang.Long",
    "java.lang.Float",
    "java.lang.Double",
    "java.lang.Character",
    "java.math.BigDecimal",
    "java.math.BigInteger",
    "java.util.Date",
    "java.time.LocalDate",
    "java.time.LocalDateTime",
    "java.time.LocalTime",
    "java.util.HashMap",
    "java.util.LinkedHashMap",
    "java.util.ArrayList",
    "java.util.LinkedList",
    "java.util.HashSet",
    "java.util.LinkedHashSet",
];

/// Package prefixes never derived from a declared type by [`InputPolicy::for_types`]: declaring
/// `java.sql.Timestamp` must not open all of `java.sql`.
const PLATFORM_PREFIXES: &[&str] = &["java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun."];

/// How many configured entries an error message lists before eliding the rest.
const LISTED_IN_ERRORS: usize = 8;

/// Which Java classes a JSON client may name with a `"class"` key.
///
/// A class is allowed when it is listed exactly, is one of the safe JDK value/collection classes,
/// or lives **directly** in an allowed package: package `org.example` allows
/// `org.example.Address` and `org.example.User$Inner`, not `org.example.sub.X`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputPolicy {
    classes: BTreeSet<String>,
    /// Package names with a trailing `.`.
    packages: BTreeSet<String>,
    /// Package trees (the package and every package below it), with a trailing `.`.
    trees: BTreeSet<String>,
    /// Any class at all (an operator's explicit `*`).
    any: bool,
}

impl InputPolicy {
    /// A policy allowing exactly `allowed_classes` and the classes directly in
    /// `allowed_packages` (written `org.example` or `org.example.`), plus the safe JDK classes.
    pub fn new(allowed_classes: Vec<String>, allowed_packages: Vec<String>) -> Self {
        let mut policy = InputPolicy::default();
        for class in allowed_classes {
            policy.allow_class(class);
        }
        for package in allowed_packages {
            policy.allow_package(&package);
        }
        policy
    }

    /// The default policy for a method: every class named in the declared parameter types
    /// (generic arguments and array elements included) and the package of each such class,
    /// except JDK packages, plus the safe JDK classes.
    pub fn for_types(types: &[JavaType]) -> Self {
        let mut policy = InputPolicy::default();
        for ty in types {
            policy.add_type(ty);
        }
        policy
    }

    /// Allows one more class by exact name.
    pub fn allow_class(&mut self, class: impl Into<String>) {
        self.classes.insert(class.into());
    }

    /// Allows the classes directly in one more package (`org.example` or `org.example.`).
    pub fn allow_package(&mut self, package: &str) {
        let package = package.trim_end_matches('.');
        if !package.is_empty() {
            self.packages.insert(format!("{package}."));
        }
    }

    /// Allows every class in a package and its sub-packages (`org.example` allows
    /// `org.example.dto.User`).
    pub fn allow_package_tree(&mut self, package: &str) {
        let package = package.trim_end_matches('.');
        if !package.is_empty() {
            self.trees.insert(format!("{package}."));
        }
    }

    /// Allows any class name. This switches the protection off; only an operator's explicit
    /// `allowClasses: ["*"]` does it.
    pub fn allow_any(&mut self) {
        self.any = true;
    }

    /// True if a client may name `class`. Syntactically invalid names are never allowed.
    pub fn check_class(&self, class: &str) -> bool {
        if !is_class_name(class) {
            return false;
        }
        if self.any || self.classes.contains(class) || SAFE_JDK_CLASSES.contains(&class) {
            return true;
        }
        if self.trees.iter().any(|t| class.starts_with(t.as_str())) {
            return true;
        }
        match class.rfind('.') {
            Some(dot) => self.packages.contains(&class[..=dot]),
            None => false,
        }
    }

    /// The configured entries for error messages: classes, then packages as `org.example.*`,
    /// at most a few, then `…`. The built-in JDK classes are not listed.
    pub fn describe(&self) -> String {
        if self.any {
            return "any class (*)".into();
        }
        let entries: Vec<String> = self
            .classes
            .iter()
            .cloned()
            .chain(self.packages.iter().map(|p| format!("{p}*")))
            .chain(
                self.trees
                    .iter()
                    .map(|p| format!("{p}** (with sub-packages)")),
            )
            .collect();
        if entries.is_empty() {
            return "JDK value types only".into();
        }
        let mut out = entries
            .iter()
            .take(LISTED_IN_ERRORS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if entries.len() > LISTED_IN_ERRORS {
            out.push_str(", …");
        }
        out
    }

    fn add_type(&mut self, ty: &JavaType) {
        match ty {
            JavaType::Array(inner) => self.add_type(inner),
            JavaType::List { element, .. } | JavaType::Set { element, .. } => {
                self.add_type(element)
            }
            JavaType::Map { key, value, .. } => {
                self.add_type(key);
                self.add_type(value);
            }
            JavaType::Class(class) => {
                self.allow_class(class.clone());
                let platform = PLATFORM_PREFIXES.iter().any(|p| class.starts_with(p));
                if let (false, Some(dot)) = (platform, class.rfind('.')) {
                    self.allow_package(&class[..dot]);
                }
            }
            _ => {}
        }
    }
}

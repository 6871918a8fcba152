//! Java type names as users write them in `parameterTypes` / `mapType`, parsed into [`JavaType`].
//!
//! Owns the accepted spellings (Java source names, JVM array names, generics, and the pixiu
//! aliases `string`, `date`, `object`, …) and [`JavaType::wire_name`], the name that goes into the
//! `String[]` of `$invoke` and that the provider resolves with `ReflectUtils.name2class`.

use std::fmt;

use thiserror::Error;

/// Maximum nesting of arrays and generic arguments in one type name.
const MAX_TYPE_DEPTH: usize = 16;

/// A type name that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid Java type {input:?}: {reason}")]
pub struct TypeError {
    /// The type name as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The eight Java primitive types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    /// `boolean` / `java.lang.Boolean`.
    Boolean,
    /// `byte` / `java.lang.Byte`.
    Byte,
    /// `short` / `java.lang.Short`.
    Short,
    /// `int` / `java.lang.Integer`.
    Int,
    /// `long` / `java.lang.Long`.
    Long,
    /// `float` / `java.lang.Float`.
    Float,
    /// `double` / `java.lang.Double`.
    Double,
    /// `char` / `java.lang.Character`.
    Char,
}

impl Primitive {
    const ALL: [Primitive; 8] = [
        Primitive::Boolean,
        Primitive::Byte,
        Primitive::Short,
        Primitive::Int,
        Primitive::Long,
        Primitive::Float,
        Primitive::Double,
        Primitive::Char,
    ];

    /// The Java keyword (`int`).
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Boolean => "boolean",
            Primitive::Byte => "byte",
            Primitive::Short => "short",
            Primitive::Int => "int",
            Primitive::Long => "long",
            Primitive::Float => "float",
            Primitive::Double => "double",
            Primitive::Char => "char",
        }
    }

    /// The box class (`java.lang.Integer`).
    pub fn boxed_name(self) -> &'static str {
        match self {
            Primitive::Boolean => "java.lang.Boolean",
            Primitive::Byte => "java.lang.Byte",
            Primitive::Short => "java.lang.Short",
            Primitive::Int => "java.lang.Integer",
            Primitive::Long => "java.lang.Long",
            Primitive::Float => "java.lang.Float",
            Primitive::Double => "java.lang.Double",
            Primitive::Char => "java.lang.Character",
        }
    }

    fn from_jvm_code(c: u8) -> Option<Self> {
        Some(match c {
            b'Z' => Primitive::Boolean,
            b'B' => Primitive::Byte,
            b'S' => Primitive::Short,
            b'I' => Primitive::Int,
            b'J' => Primitive::Long,
            b'F' => Primitive::Float,
            b'D' => Primitive::Double,
            b'C' => Primitive::Char,
            _ => return None,
        })
    }
}

/// A declared Java type, as far as the JSON bridge needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JavaType {
    /// A primitive (`int`): JSON `null` is rejected.
    Primitive(Primitive),
    /// A box (`java.lang.Integer`): like the primitive, but `null` is accepted.
    Boxed(Primitive),
    /// `java.lang.String`.
    String,
    /// `java.lang.Object`: the JSON value's own shape decides.
    Object,
    /// `java.math.BigDecimal`.
    BigDecimal,
    /// `java.math.BigInteger`.
    BigInteger,
    /// `java.util.Date`.
    Date,
    /// `java.time.LocalDate`.
    LocalDate,
    /// `java.time.LocalDateTime`.
    LocalDateTime,
    /// `java.time.LocalTime`.
    LocalTime,
    /// `byte[]` (hessian binary).
    ByteArray,
    /// `char[]` (hessian string).
    CharArray,
    /// Any other array `T[]`.
    Array(Box<JavaType>),
    /// A list-like collection (`java.util.List`, `ArrayList`, `Collection`, …).
    List {
        /// The declared collection class.
        class: String,
        /// The element type (`Object` when no generic argument was given).
        element: Box<JavaType>,
    },
    /// A set (`java.util.Set`, `HashSet`, …).
    Set {
        /// The declared collection class.
        class: String,
        /// The element type (`Object` when no generic argument was given).
        element: Box<JavaType>,
    },
    /// A map (`java.util.Map`, `HashMap`, …).
    Map {
        /// The declared map class.
        class: String,
        /// The key type (`Object` when no generic arguments were given).
        key: Box<JavaType>,
        /// The value type (`Object` when no generic arguments were given).
        value: Box<JavaType>,
    },
    /// Any other class: a POJO or an enum (the gateway cannot tell which).
    Class(String),
}

const LIST_CLASSES: &[&str] = &[
    "java.util.List",
    "java.util.ArrayList",
    "java.util.LinkedList",
    "java.util.Collection",
];
const SET_CLASSES: &[&str] = &[
    "java.util.Set",
    "java.util.HashSet",
    "java.util.LinkedHashSet",
    "java.util.SortedSet",
    "java.util.TreeSet",
];
const MAP_CLASSES: &[&str] = &[
    "java.util.Map",
    "java.util.HashMap",
    "java.util.LinkedHashMap",
    "java.util.SortedMap",
    "java.util.TreeMap",
    "java.util.concurrent.ConcurrentMap",
    "java.util.concurrent.ConcurrentHashMap",
];

impl JavaType {
    /// Parses a type name: Java keywords, fully qualified class names, the `java.lang` simple
    /// names (`String`, `Integer`, …), the pixiu aliases (`string`, `date`, `object`), source
    /// arrays (`int[][]`), JVM arrays (`[I`, `[Ljava.lang.String;`) and generics
    /// (`java.util.Map<String, java.util.List<org.example.User>>`, wildcards `?`/`? extends T`).
    /// Unqualified names other than those aliases are rejected, to catch typos early.
    pub fn parse(input: &str) -> Result<JavaType, TypeError> {
        parse_type(input.trim(), 0, false).map_err(|reason| TypeError {
            input: input.to_string(),
            reason,
        })
    }

    /// The name to put into `$invoke`'s parameter types: what `ReflectUtils.name2class`
    /// resolves (`int`, `java.lang.String`, `int[]`, `java.util.List`; generics stripped).
    pub fn wire_name(&self) -> String {
        match self {
            JavaType::Primitive(p) => p.name().to_string(),
            JavaType::Boxed(p) => p.boxed_name().to_string(),
            JavaType::Array(inner) => format!("{}[]", inner.wire_name()),
            JavaType::List { class, .. }
            | JavaType::Set { class, .. }
            | JavaType::Map { class, .. }
            | JavaType::Class(class) => class.clone(),
            other => other.fixed_name().unwrap_or_default().to_string(),
        }
    }

    /// True for the eight primitives (they reject JSON `null`).
    pub fn is_primitive(&self) -> bool {
        matches!(self, JavaType::Primitive(_))
    }

    fn fixed_name(&self) -> Option<&'static str> {
        Some(match self {
            JavaType::String => "java.lang.String",
            JavaType::Object => "java.lang.Object",
            JavaType::BigDecimal => "java.math.BigDecimal",
            JavaType::BigInteger => "java.math.BigInteger",
            JavaType::Date => "java.util.Date",
            JavaType::LocalDate => "java.time.LocalDate",
            JavaType::LocalDateTime => "java.time.LocalDateTime",
            JavaType::LocalTime => "java.time.LocalTime",
            JavaType::ByteArray => "byte[]",
            JavaType::CharArray => "char[]",
            _ => return None,
        })
    }

    /// The array type whose elements are `self` (`byte` → `byte[]` binary, `char` → `char[]`).
    pub fn array_of(self) -> JavaType {
        match self {
            JavaType::Primitive(Primitive::Byte) => JavaType::ByteArray,
            JavaType::Primitive(Primitive::Char) => JavaType::CharArray,
            other => JavaType::Array(Box::new(other)),
        }
    }
}

/// Source-style rendering with generics, for messages (`java.util.List<org.example.User>`).
impl fmt::Display for JavaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JavaType::Array(inner) => write!(f, "{inner}[]"),
            JavaType::List { class, element } | JavaType::Set { class, element } => {
                write!(f, "{class}<{element}>")
            }
            JavaType::Map { class, key, value } => write!(f, "{class}<{key}, {value}>"),
            other => f.write_str(&other.wire_name()),
        }
    }
}

fn parse_type(s: &str, depth: usize, generic_arg: bool) -> Result<JavaType, String> {
    if depth > MAX_TYPE_DEPTH {
        return Err(format!("nested deeper than {MAX_TYPE_DEPTH} levels"));
    }
    if s.is_empty() {
        return Err("empty type name".into());
    }
    if generic_arg {
        if s == "?" || s.starts_with("? super ") {
            return Ok(JavaType::Object);
        }
        if let Some(bound) = s.strip_prefix("? extends ") {
            return parse_type(bound.trim(), depth + 1, true);
        }
    }
    if s.starts_with('[') {
        return parse_jvm_array(s, depth);
    }
    if let Some(base) = s.strip_suffix("[]") {
        return Ok(parse_type(base.trim_end(), depth + 1, false)?.array_of());
    }
    if let Some(open) = s.find('<') {
        let Some(inner) = s[open + 1..].strip_suffix('>') else {
            return Err("generic arguments must end with '>'".into());
        };
        let args = split_top_level(inner)?
            .into_iter()
            .map(|a| parse_type(a, depth + 1, true))
            .collect::<Result<Vec<_>, _>>()?;
        return with_generics(s[..open].trim_end(), args);
    }
    let ty = parse_name(s)?;
    Ok(match ty {
        // `List<int>` is not Java, but the intent is clear.
        JavaType::Primitive(p) if generic_arg => JavaType::Boxed(p),
        other => other,
    })
}

/// `[I`, `[[J`, `[Ljava.lang.String;` (also with `/` separators).
fn parse_jvm_array(s: &str, depth: usize) -> Result<JavaType, String> {
    let dims = s.bytes().take_while(|&b| b == b'[').count();
    if dims > MAX_TYPE_DEPTH {
        return Err(format!("more than {MAX_TYPE_DEPTH} array dimensions"));
    }
    let rest = &s[dims..];
    let mut ty = match rest.as_bytes() {
        [c] => JavaType::Primitive(
            Primitive::from_jvm_code(*c)
                .ok_or_else(|| format!("unknown JVM type code {rest:?}"))?,
        ),
        [b'L', .., b';'] => {
            let name = rest[1..rest.len() - 1].replace('/', ".");
            match parse_type(&name, depth + 1, false)? {
                JavaType::Primitive(_) => return Err(format!("{name:?} is not a class name")),
                t => t,
            }
        }
        _ => return Err("malformed JVM array name".into()),
    };
    for _ in 0..dims {
        ty = ty.array_of();
    }
    Ok(ty)
}

/// Splits generic arguments at commas that are not nested in `<…>`.
fn split_top_level(s: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut level = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '<' => level += 1,
            '>' => level = level.checked_sub(1).ok_or("unbalanced '>'")?,
            ',' if level == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if level != 0 {
        return Err("unbalanced '<'".into());
    }
    parts.push(s[start..].trim());
    Ok(parts)
}

fn with_generics(raw: &str, mut args: Vec<JavaType>) -> Result<JavaType, String> {
    let base = parse_name(raw)?;
    let arity = args.len();
    match base {
        JavaType::List { class, .. } | JavaType::Set { class, .. } if arity == 1 => {
            let element = Box::new(args.remove(0));
            Ok(if LIST_CLASSES.contains(&class.as_str()) {
                JavaType::List { class, element }
            } else {
                JavaType::Set { class, element }
            })
        }
        JavaType::Map { class, .. } if arity == 2 => {
            let value = Box::new(args.remove(1));
            let key = Box::new(args.remove(0));
            Ok(JavaType::Map { class, key, value })
        }
        // A generic POJO (`org.example.Page<User>`): erasure keeps the class.
        JavaType::Class(class) => Ok(JavaType::Class(class)),
        other => Err(format!("{other} does not take {arity} generic argument(s)")),
    }
}

fn parse_name(s: &str) -> Result<JavaType, String> {
    if let Some(p) = Primitive::ALL.iter().find(|p| p.name() == s) {
        return Ok(JavaType::Primitive(*p));
    }
    if let Some(p) = Primitive::ALL
        .iter()
        .find(|p| p.boxed_name() == s || p.boxed_name().strip_prefix("java.lang.") == Some(s))
    {
        return Ok(JavaType::Boxed(*p));
    }
    let object = || Box::new(JavaType::Object);
    Ok(match s {
        "string" | "String" | "java.lang.String" => JavaType::String,
        "object" | "Object" | "java.lang.Object" => JavaType::Object,
        "date" | "java.util.Date" => JavaType::Date,
        "java.math.BigDecimal" => JavaType::BigDecimal,
        "java.math.BigInteger" => JavaType::BigInteger,
        "java.time.LocalDate" => JavaType::LocalDate,
        "java.time.LocalDateTime" => JavaType::LocalDateTime,
        "java.time.LocalTime" => JavaType::LocalTime,
        "void" => return Err("void is not a parameter type".into()),
        _ if LIST_CLASSES.contains(&s) => JavaType::List {
            class: s.to_string(),
            element: object(),
        },
        _ if SET_CLASSES.contains(&s) => JavaType::Set {
            class: s.to_string(),
            element: object(),
        },
        _ if MAP_CLASSES.contains(&s) => JavaType::Map {
            class: s.to_string(),
            key: object(),
            value: object(),
        },
        _ => {
            if !is_class_name(s) {
                return Err(format!("{s:?} is not a Java class name"));
            }
            if !s.contains('.') {
                return Err(format!(
                    "{s:?} is not a known alias; write the fully qualified class name"
                ));
            }
            JavaType::Class(s.to_string())
        }
    })
}

/// True for a syntactically valid Java binary class name (`org.example.Outer$Inner`).
pub(crate) fn is_class_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|seg| {
            let mut chars = seg.chars();
            matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

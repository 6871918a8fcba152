//! What one Dubbo call is, independent of the transport: the target service, the method with its
//! Java parameter types, the hessian2 arguments and the string attachments; plus the generic
//! `$invoke(String, String[], Object[])` form that any Dubbo provider accepts.

use crate::hessian2::{List, Value};

/// The generic method name (`CommonConstants.$INVOKE`).
pub const GENERIC_METHOD: &str = "$invoke";
/// The JVM descriptor of `$invoke(String, String[], Object[])`; the provider requires exactly this.
pub const GENERIC_DESCRIPTOR: &str = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;";
/// The Dubbo protocol version written in every request body; it enables response attachments.
pub const DUBBO_PROTOCOL_VERSION: &str = "2.0.2";

/// One call to a Dubbo service.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The service path, normally the interface name (`org.example.UserService`).
    pub service: String,
    /// The service version, `None` when the service has none.
    pub version: Option<String>,
    /// The service group, `None` when the service has none.
    pub group: Option<String>,
    /// The method name on the wire (`$invoke` for a generic call).
    pub method: String,
    /// Java type names of the wire-level parameters (`java.lang.String`, `int`, `long[]`,
    /// `[Ljava.lang.String;`, `org.example.User`…), one per argument.
    pub parameter_types: Vec<String>,
    /// The wire-level arguments.
    pub args: Vec<Value>,
    /// Extra attachments (trace context, token, …). `path`, `interface`, `version`, `group`,
    /// `timeout` and `generic` are added by the codec from the fields above.
    pub attachments: Vec<(String, String)>,
}

impl Invocation {
    /// A generic call: `$invoke(method, types, args)` on `service`.
    ///
    /// `types` are Java type names as `ReflectUtils.name2class` accepts them (`int`,
    /// `java.lang.String`, `java.lang.String[]`, `org.example.User`).
    pub fn generic(
        service: impl Into<String>,
        method: impl Into<String>,
        types: Vec<String>,
        args: Vec<Value>,
    ) -> Self {
        let type_values = types.into_iter().map(Value::String).collect();
        Invocation {
            service: service.into(),
            version: None,
            group: None,
            method: GENERIC_METHOD.to_string(),
            parameter_types: vec![
                "java.lang.String".into(),
                "[Ljava.lang.String;".into(),
                "[Ljava.lang.Object;".into(),
            ],
            args: vec![
                Value::String(method.into()),
                Value::List(List {
                    type_name: Some("[string".into()),
                    items: type_values,
                }),
                Value::List(List {
                    type_name: Some("[object".into()),
                    items: args,
                }),
            ],
            attachments: Vec::new(),
        }
    }

    /// Sets the version (empty strings mean "none").
    pub fn with_version(mut self, version: Option<String>) -> Self {
        self.version = version.filter(|v| !v.is_empty());
        self
    }

    /// Sets the group (empty strings mean "none").
    pub fn with_group(mut self, group: Option<String>) -> Self {
        self.group = group.filter(|g| !g.is_empty());
        self
    }

    /// True for `$invoke` / `$invokeAsync` with the generic descriptor.
    pub fn is_generic(&self) -> bool {
        (self.method == GENERIC_METHOD || self.method == "$invokeAsync")
            && self.descriptor() == GENERIC_DESCRIPTOR
    }

    /// For a generic call, the target method name (first argument).
    pub fn generic_target_method(&self) -> Option<&str> {
        if self.is_generic() {
            self.args.first().and_then(Value::as_str)
        } else {
            None
        }
    }

    /// The JVM parameter descriptor (`Ljava/lang/String;I[J`) of `parameter_types`.
    pub fn descriptor(&self) -> String {
        let mut out = String::new();
        for t in &self.parameter_types {
            push_descriptor(&mut out, t);
        }
        out
    }
}

/// Appends the JVM descriptor of one Java type name to `out`.
///
/// Accepts primitive names (`int`), binary names (`java.lang.String`), source-style arrays
/// (`int[]`, `java.lang.String[][]`) and JVM array names (`[I`, `[Ljava.lang.String;`).
pub fn push_descriptor(out: &mut String, java_type: &str) {
    let t = java_type.trim();
    if t.starts_with('[') {
        // Already a JVM array name: `[I`, `[Ljava.lang.String;`.
        out.extend(t.chars().map(|c| if c == '.' { '/' } else { c }));
        return;
    }
    let mut base = t;
    while let Some(stripped) = base.strip_suffix("[]") {
        out.push('[');
        base = stripped.trim_end();
    }
    match base {
        "boolean" => out.push('Z'),
        "byte" => out.push('B'),
        "char" => out.push('C'),
        "double" => out.push('D'),
        "float" => out.push('F'),
        "int" => out.push('I'),
        "long" => out.push('J'),
        "short" => out.push('S'),
        "void" => out.push('V'),
        other => {
            out.push('L');
            out.extend(other.chars().map(|c| if c == '.' { '/' } else { c }));
            out.push(';');
        }
    }
}

/// Splits a JVM descriptor back into Java type names as `Class.getName()` prints them
/// (`I` → `int`, `Ljava/lang/String;` → `java.lang.String`, `[I` → `[I`,
/// `[Ljava/lang/String;` → `[Ljava.lang.String;`). Returns `None` on a malformed descriptor.
pub fn parse_descriptor(desc: &str) -> Option<Vec<String>> {
    let bytes = desc.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i] == b'[' {
            i += 1;
        }
        let dims = i - start;
        let c = *bytes.get(i)?;
        let name = match c {
            b'L' => {
                let end = desc[i..].find(';')? + i;
                let class = desc[i + 1..end].replace('/', ".");
                i = end + 1;
                if dims > 0 {
                    format!("{}L{};", "[".repeat(dims), class)
                } else {
                    class
                }
            }
            b'Z' | b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'V' => {
                i += 1;
                if dims > 0 {
                    format!("{}{}", "[".repeat(dims), c as char)
                } else {
                    primitive_name(c)?.to_string()
                }
            }
            _ => return None,
        };
        out.push(name);
    }
    Some(out)
}

fn primitive_name(c: u8) -> Option<&'static str> {
    Some(match c {
        b'Z' => "boolean",
        b'B' => "byte",
        b'C' => "char",
        b'D' => "double",
        b'F' => "float",
        b'I' => "int",
        b'J' => "long",
        b'S' => "short",
        b'V' => "void",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_descriptor_is_exact() {
        let inv = Invocation::generic("org.example.Greeter", "sayHello", vec![], vec![]);
        assert_eq!(inv.descriptor(), GENERIC_DESCRIPTOR);
        assert!(inv.is_generic());
        assert_eq!(inv.generic_target_method(), Some("sayHello"));
    }

    #[test]
    fn descriptors_of_java_names() {
        let cases = [
            ("int", "I"),
            ("boolean", "Z"),
            ("java.lang.String", "Ljava/lang/String;"),
            ("int[]", "[I"),
            ("java.lang.String[][]", "[[Ljava/lang/String;"),
            ("[Ljava.lang.Object;", "[Ljava/lang/Object;"),
            ("[I", "[I"),
            ("org.example.User", "Lorg/example/User;"),
        ];
        for (name, desc) in cases {
            let mut out = String::new();
            push_descriptor(&mut out, name);
            assert_eq!(out, desc, "{name}");
        }
    }

    #[test]
    fn descriptor_round_trip() {
        let parsed =
            parse_descriptor("Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;IJ[[I")
                .unwrap();
        assert_eq!(
            parsed,
            vec![
                "java.lang.String",
                "[Ljava.lang.String;",
                "[Ljava.lang.Object;",
                "int",
                "long",
                "[[I"
            ]
        );
        assert_eq!(parse_descriptor("Ljava/lang/String"), None);
        assert_eq!(parse_descriptor("Q"), None);
        assert_eq!(parse_descriptor(""), Some(vec![]));
    }
}

//! Java type names written in `mapType`, `parameterTypes` and request-supplied `opt.types` are
//! checked with the same parser the gateway uses to convert arguments
//! (`tianlu_protocol::generic::JavaType`), so a configuration that validates also runs.

use tianlu_protocol::generic::JavaType;

/// Why `name` is not a usable Java type name, if it is not.
pub fn java_type_problem(name: &str) -> Option<String> {
    JavaType::parse(name).err().map(|e| e.reason)
}

/// True when `name` parses as a Java type.
pub fn is_valid_java_type(name: &str) -> bool {
    java_type_problem(name).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_gateway_converts_and_rejects_the_rest() {
        for ok in [
            "int",
            "java.lang.String",
            "string",
            "String",
            "int[]",
            "[I",
            "[Ljava.lang.String;",
            "java.util.List<com.x.Dto>",
            "java.util.Map<String, java.util.List<org.example.User>>",
            "org.example.User",
        ] {
            assert!(is_valid_java_type(ok), "{ok}");
        }
        for bad in ["", "User", "int[", "java.util.List<", "1abc", "a..b"] {
            assert!(!is_valid_java_type(bad), "{bad}");
            assert!(java_type_problem(bad).is_some());
        }
    }
}

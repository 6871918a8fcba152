//! `JavaType::parse`, `wire_name` and `Display`.

use crate::generic::{JavaType, Primitive};

fn class(name: &str) -> JavaType {
    JavaType::Class(name.to_string())
}

fn arr(t: JavaType) -> JavaType {
    JavaType::Array(Box::new(t))
}

#[test]
fn parses_names_and_gives_wire_names() {
    use JavaType as T;
    use Primitive as P;
    let list = |class: &str, e: JavaType| T::List {
        class: class.into(),
        element: Box::new(e),
    };
    let cases: Vec<(&str, JavaType, &str)> = vec![
        ("int", T::Primitive(P::Int), "int"),
        (" long ", T::Primitive(P::Long), "long"),
        ("boolean", T::Primitive(P::Boolean), "boolean"),
        ("char", T::Primitive(P::Char), "char"),
        ("java.lang.Integer", T::Boxed(P::Int), "java.lang.Integer"),
        ("Integer", T::Boxed(P::Int), "java.lang.Integer"),
        (
            "java.lang.Character",
            T::Boxed(P::Char),
            "java.lang.Character",
        ),
        ("string", T::String, "java.lang.String"),
        ("String", T::String, "java.lang.String"),
        ("java.lang.String", T::String, "java.lang.String"),
        ("object", T::Object, "java.lang.Object"),
        ("date", T::Date, "java.util.Date"),
        ("java.util.Date", T::Date, "java.util.Date"),
        (
            "java.math.BigDecimal",
            T::BigDecimal,
            "java.math.BigDecimal",
        ),
        (
            "java.math.BigInteger",
            T::BigInteger,
            "java.math.BigInteger",
        ),
        ("java.time.LocalDate", T::LocalDate, "java.time.LocalDate"),
        (
            "java.time.LocalDateTime",
            T::LocalDateTime,
            "java.time.LocalDateTime",
        ),
        ("java.time.LocalTime", T::LocalTime, "java.time.LocalTime"),
        ("byte[]", T::ByteArray, "byte[]"),
        ("[B", T::ByteArray, "byte[]"),
        ("char[]", T::CharArray, "char[]"),
        ("[C", T::CharArray, "char[]"),
        ("byte[][]", arr(T::ByteArray), "byte[][]"),
        ("int[]", arr(T::Primitive(P::Int)), "int[]"),
        ("[I", arr(T::Primitive(P::Int)), "int[]"),
        ("[[J", arr(arr(T::Primitive(P::Long))), "long[][]"),
        ("java.lang.String[]", arr(T::String), "java.lang.String[]"),
        ("[Ljava.lang.String;", arr(T::String), "java.lang.String[]"),
        ("[Ljava/lang/String;", arr(T::String), "java.lang.String[]"),
        (
            "[[Lorg.example.User;",
            arr(arr(class("org.example.User"))),
            "org.example.User[][]",
        ),
        (
            "java.util.List",
            list("java.util.List", T::Object),
            "java.util.List",
        ),
        (
            "java.util.List<org.example.User>",
            list("java.util.List", class("org.example.User")),
            "java.util.List",
        ),
        (
            "java.util.ArrayList<? extends org.example.User>",
            list("java.util.ArrayList", class("org.example.User")),
            "java.util.ArrayList",
        ),
        (
            "java.util.Set<int>",
            T::Set {
                class: "java.util.Set".into(),
                element: Box::new(T::Boxed(P::Int)),
            },
            "java.util.Set",
        ),
        (
            "java.util.Map<String,Integer>",
            T::Map {
                class: "java.util.Map".into(),
                key: Box::new(T::String),
                value: Box::new(T::Boxed(P::Int)),
            },
            "java.util.Map",
        ),
        (
            "java.util.HashMap<?, ? super Long>",
            T::Map {
                class: "java.util.HashMap".into(),
                key: Box::new(T::Object),
                value: Box::new(T::Object),
            },
            "java.util.HashMap",
        ),
        (
            "java.util.List<java.lang.String>[]",
            arr(list("java.util.List", T::String)),
            "java.util.List[]",
        ),
        (
            "org.example.User",
            class("org.example.User"),
            "org.example.User",
        ),
        (
            "org.example.Outer$Inner",
            class("org.example.Outer$Inner"),
            "org.example.Outer$Inner",
        ),
        (
            "org.example.Page<org.example.User>",
            class("org.example.Page"),
            "org.example.Page",
        ),
    ];
    for (input, expected, wire) in cases {
        let parsed = JavaType::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(parsed, expected, "{input}");
        assert_eq!(parsed.wire_name(), wire, "{input}");
    }
}

#[test]
fn nested_generics() {
    let t = JavaType::parse("java.util.Map<String, java.util.List<java.util.Map<Long, int[]>>>")
        .unwrap();
    assert_eq!(
        t.to_string(),
        "java.util.Map<java.lang.String, java.util.List<java.util.Map<java.lang.Long, int[]>>>"
    );
    assert_eq!(t.wire_name(), "java.util.Map");
}

#[test]
fn rejects_bad_names() {
    let cases = [
        ("", "empty"),
        ("Usr", "not a known alias"),
        ("void", "void"),
        ("java.util.List<", "end with '>'"),
        ("java.util.List<String>>", "unbalanced"),
        ("java.util.Map<String>", "does not take 1"),
        ("java.util.List<String, String>", "does not take 2"),
        ("int<String>", "does not take"),
        ("[", "malformed"),
        ("[Q", "unknown JVM type code"),
        ("[Lfoo", "malformed"),
        ("[Lint;", "not a class name"),
        ("org..User", "not a Java class name"),
        ("1org.User", "not a Java class name"),
        ("org.example.User;", "not a Java class name"),
    ];
    for (input, needle) in cases {
        let err = JavaType::parse(input).expect_err(input);
        assert_eq!(err.input, input);
        assert!(err.reason.contains(needle), "{input}: {}", err.reason);
        assert!(err.to_string().starts_with("invalid Java type"), "{err}");
    }
}

#[test]
fn depth_is_bounded() {
    let deep = format!(
        "{}org.example.X{}",
        "java.util.List<".repeat(40),
        ">".repeat(40)
    );
    assert!(JavaType::parse(&deep)
        .unwrap_err()
        .reason
        .contains("deeper"));
    let dims = format!("{}I", "[".repeat(40));
    assert!(JavaType::parse(&dims)
        .unwrap_err()
        .reason
        .contains("dimensions"));
    let ok = format!(
        "{}org.example.X{}",
        "java.util.List<".repeat(5),
        ">".repeat(5)
    );
    assert!(JavaType::parse(&ok).is_ok());
}

#[test]
fn primitive_flags() {
    assert!(JavaType::parse("int").unwrap().is_primitive());
    assert!(!JavaType::parse("java.lang.Integer").unwrap().is_primitive());
    assert!(!JavaType::parse("int[]").unwrap().is_primitive());
}

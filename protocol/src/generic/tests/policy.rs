//! `InputPolicy`: the class allowlist.

use crate::generic::{InputPolicy, JavaType};

fn types(names: &[&str]) -> Vec<JavaType> {
    names.iter().map(|n| JavaType::parse(n).unwrap()).collect()
}

#[test]
fn for_types_allows_declared_classes_and_their_exact_package() {
    let policy = InputPolicy::for_types(&types(&[
        "org.example.User",
        "java.util.List<org.acme.Item>",
        "java.util.Map<String, com.shop.Order[]>",
        "java.sql.Timestamp",
        "int",
    ]));
    let cases = [
        ("org.example.User", true),
        ("org.example.Address", true),
        ("org.example.User$Inner", true),
        ("org.example.sub.X", false),
        ("org.examples.X", false),
        ("org.acme.Other", true),
        ("com.shop.Order", true),
        ("com.shop.Cart", true),
        ("java.sql.Timestamp", true),
        ("java.sql.DriverManager", false),
        ("java.lang.String", true),
        ("java.lang.Integer", true),
        ("java.math.BigDecimal", true),
        ("java.util.HashMap", true),
        ("java.lang.Runtime", false),
        ("java.lang.ProcessBuilder", false),
        ("com.sun.rowset.JdbcRowSetImpl", false),
        ("org.springframework.beans.factory.ObjectFactory", false),
        ("", false),
        ("org.example.", false),
        ("org example.User", false),
        ("User", false),
    ];
    for (class, allowed) in cases {
        assert_eq!(policy.check_class(class), allowed, "{class}");
    }
}

#[test]
fn explicit_lists() {
    let policy = InputPolicy::new(
        vec!["a.b.C".into()],
        vec!["x.y".into(), "z.".into(), String::new()],
    );
    let cases = [
        ("a.b.C", true),
        ("a.b.D", false),
        ("x.y.D", true),
        ("x.y.z.D", false),
        ("z.Q", true),
        ("Q", false),
        ("java.util.ArrayList", true),
    ];
    for (class, allowed) in cases {
        assert_eq!(policy.check_class(class), allowed, "{class}");
    }
    assert_eq!(policy.describe(), "a.b.C, x.y.*, z.*");
}

#[test]
fn jdk_declared_types_open_no_package() {
    let policy = InputPolicy::for_types(&types(&["java.lang.Object", "java.util.Map"]));
    assert!(!policy.check_class("java.lang.Runtime"));
    assert!(!policy.check_class("java.util.PriorityQueue"));
    assert_eq!(policy.describe(), "JDK value types only");
}

#[test]
fn describe_elides_long_lists() {
    let classes = (0..20).map(|i| format!("p.C{i:02}")).collect();
    let text = InputPolicy::new(classes, vec![]).describe();
    assert!(text.starts_with("p.C00, p.C01"), "{text}");
    assert!(text.ends_with(", …"), "{text}");
    assert_eq!(text.matches("p.C").count(), 8);
}

#[test]
fn package_trees_and_any() {
    let mut p = InputPolicy::default();
    p.allow_package_tree("org.example");
    assert!(p.check_class("org.example.User"));
    assert!(p.check_class("org.example.dto.deep.Address"));
    assert!(
        !p.check_class("org.examples.User"),
        "a prefix is not a package"
    );
    assert!(!p.check_class("com.sun.rowset.JdbcRowSetImpl"));
    p.allow_any();
    assert!(p.check_class("com.sun.rowset.JdbcRowSetImpl"));
    assert!(!p.check_class("not a class"), "syntax still checked");
}

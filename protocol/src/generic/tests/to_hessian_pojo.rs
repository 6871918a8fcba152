//! `json_to_hessian`: POJOs as class maps and the `"class"` allowlist.

use serde_json::{json, Value as Json};

use super::to_hessian::{assert_err, conv};
use super::to_hessian_shapes::{class_map, s};
use crate::generic::{json_to_hessian, InputPolicy, JavaType};
use crate::hessian2::Value;

#[test]
fn pojos_are_class_maps() {
    let input = json!({"name": "a", "age": 3, "address": {"zip": "1", "lines": ["x"]}});
    let expected = class_map(
        "org.example.User",
        vec![
            ("name", s("a")),
            ("age", Value::Int(3)),
            (
                "address",
                Value::map(vec![
                    (s("zip"), s("1")),
                    (s("lines"), Value::list(vec![s("x")])),
                ]),
            ),
        ],
    );
    assert_eq!(conv(input, "org.example.User"), Ok(expected));
    // "class" is written first even when the client puts it last.
    assert_eq!(
        conv(
            json!({"id": 1, "class": "org.example.User"}),
            "org.example.User"
        ),
        Ok(class_map("org.example.User", vec![("id", Value::Int(1))]))
    );
    // A subclass from the same package passes the default policy.
    assert_eq!(
        conv(
            json!({"class": "org.example.VipUser", "level": 2}),
            "org.example.User"
        ),
        Ok(class_map(
            "org.example.VipUser",
            vec![("level", Value::Int(2))]
        ))
    );
    // Nested objects may name allowed classes.
    assert_eq!(
        conv(
            json!({"address": {"class": "org.example.Address", "zip": "1"}}),
            "org.example.User"
        ),
        Ok(class_map(
            "org.example.User",
            vec![(
                "address",
                class_map("org.example.Address", vec![("zip", s("1"))])
            )]
        ))
    );
    assert_eq!(conv(json!("ACTIVE"), "org.example.Status"), Ok(s("ACTIVE")));
}

#[test]
fn class_policy_denials_name_the_path() {
    let cases: Vec<(Json, &str, &str)> = vec![
        (
            json!({"class": "org.evil.Gadget"}),
            "org.example.User",
            "args[0].class",
        ),
        (
            json!({"class": "org.example.sub.X"}),
            "org.example.User",
            "args[0].class",
        ),
        (
            json!({"address": {"class": "java.lang.ProcessBuilder"}}),
            "org.example.User",
            "args[0].address.class",
        ),
        (
            json!({"list": [{"class": "org.evil.X"}]}),
            "org.example.User",
            "args[0].list[0].class",
        ),
        (
            json!({"my key": {"class": "org.evil.X"}}),
            "org.example.User",
            "args[0][\"my key\"].class",
        ),
        (
            json!([{"class": "org.evil.X"}]),
            "java.util.List<org.example.User>",
            "args[0][0].class",
        ),
        (
            json!({"class": "org.example.User"}),
            "java.lang.Object",
            "args[0].class",
        ),
        (
            json!([{"class": "com.sun.rowset.JdbcRowSetImpl"}]),
            "java.lang.Object[]",
            "args[0][0].class",
        ),
    ];
    for (input, ty, path) in cases {
        let result = conv(input, ty);
        assert_eq!(
            result.as_ref().err().map(|e| e.kind),
            Some(crate::generic::ArgErrorKind::ClassNotAllowed),
            "{path}"
        );
        assert_err(result, path, "is not allowed (allowlist: ");
    }
    assert_eq!(
        conv(json!(5), "org.example.User").err().map(|e| e.kind),
        Some(crate::generic::ArgErrorKind::Invalid)
    );
    assert_err(
        conv(json!({"class": 5}), "org.example.User"),
        "args[0].class",
        "\"class\" must be a string, found number",
    );
    assert_err(
        conv(json!(5), "org.example.User"),
        "args[0]",
        "expected a JSON object (or a string for an enum) for org.example.User, found number",
    );
}

#[test]
fn object_slots_infer_and_respect_an_explicit_policy() {
    let object = JavaType::Object;
    let policy = InputPolicy::new(vec!["org.example.User".into()], vec![]);
    let v = json_to_hessian(
        json!({"class": "org.example.User", "n": 1}),
        &object,
        "p",
        &policy,
    );
    assert_eq!(
        v,
        Ok(class_map("org.example.User", vec![("n", Value::Int(1))]))
    );
    let denied = json_to_hessian(json!({"class": "org.example.Other"}), &object, "p", &policy);
    assert_err(denied, "p.class", "allowlist: org.example.User");
    // A non-string "class" in an untyped object is just data (PojoUtils ignores it).
    assert_eq!(
        json_to_hessian(json!({"class": 3}), &object, "p", &policy),
        Ok(Value::map(vec![(s("class"), Value::Int(3))]))
    );
    assert_err(
        conv(json!(u64::MAX), "object"),
        "args[0]",
        "out of range for java.lang.Long",
    );
    assert_eq!(
        conv(json!(-3000000000_i64), "object"),
        Ok(Value::Long(-3_000_000_000))
    );
}

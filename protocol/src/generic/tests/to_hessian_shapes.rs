//! `json_to_hessian`: binary, arrays, collections, maps, depth and argument lists.

use serde_json::{json, Value as Json};

use super::to_hessian::{assert_err, conv};
use crate::generic::{json_args_to_hessian, InputPolicy, JavaType};
use crate::hessian2::Value;

pub(super) fn s(text: &str) -> Value {
    Value::string(text)
}

pub(super) fn class_map(class: &str, fields: Vec<(&str, Value)>) -> Value {
    let mut entries = vec![(s("class"), s(class))];
    entries.extend(fields.into_iter().map(|(k, v)| (s(k), v)));
    Value::map(entries)
}

#[test]
fn byte_arrays() {
    assert_eq!(
        conv(json!("AQID"), "byte[]"),
        Ok(Value::Binary(vec![1, 2, 3]))
    );
    assert_eq!(conv(json!("AQI"), "byte[]"), Ok(Value::Binary(vec![1, 2])));
    assert_eq!(conv(json!(""), "[B"), Ok(Value::Binary(vec![])));
    assert_eq!(
        conv(json!([1, 255, -1, -128]), "byte[]"),
        Ok(Value::Binary(vec![1, 255, 255, 128]))
    );
    assert_err(conv(json!("!!"), "byte[]"), "args[0]", "invalid base64");
    assert_err(
        conv(json!([1, 256]), "byte[]"),
        "args[0][1]",
        "out of range for byte",
    );
    assert_err(
        conv(json!([1, "2"]), "byte[]"),
        "args[0][1]",
        "found string",
    );
    assert_err(
        conv(json!(5), "byte[]"),
        "args[0]",
        "expected a base64 string or an array of bytes",
    );
}

#[test]
fn arrays_are_typed_lists() {
    let cases: Vec<(Json, &str, &str, Vec<Value>)> = vec![
        (
            json!([1, 2]),
            "int[]",
            "[int",
            vec![Value::Int(1), Value::Int(2)],
        ),
        (
            json!([1, "2"]),
            "[J",
            "[long",
            vec![Value::Long(1), Value::Long(2)],
        ),
        (
            json!([true]),
            "boolean[]",
            "[boolean",
            vec![Value::Bool(true)],
        ),
        (json!([1]), "short[]", "[short", vec![Value::Int(1)]),
        (json!([1.5]), "float[]", "[float", vec![Value::Double(1.5)]),
        (
            json!([1.5]),
            "double[]",
            "[double",
            vec![Value::Double(1.5)],
        ),
        (
            json!(["a", null]),
            "java.lang.String[]",
            "[string",
            vec![s("a"), Value::Null],
        ),
        (
            json!([1, null]),
            "java.lang.Integer[]",
            "[java.lang.Integer",
            vec![Value::Int(1), Value::Null],
        ),
        (
            json!(["x"]),
            "java.lang.Character[]",
            "[object",
            vec![s("x")],
        ),
        (
            json!([0]),
            "java.util.Date[]",
            "[date",
            vec![Value::Date(0)],
        ),
        (
            json!(["1.5"]),
            "java.math.BigDecimal[]",
            "[object",
            vec![s("1.5")],
        ),
        (
            json!([1, "a"]),
            "java.lang.Object[]",
            "[object",
            vec![Value::Int(1), s("a")],
        ),
        (
            json!(["AQ=="]),
            "byte[][]",
            "[[byte",
            vec![Value::Binary(vec![1])],
        ),
        (json!(["ab"]), "char[][]", "[[char", vec![s("ab")]),
        (
            json!(["ACTIVE"]),
            "org.example.Status[]",
            "[object",
            vec![s("ACTIVE")],
        ),
        (
            json!([{"name": "a"}]),
            "org.example.User[]",
            "[object",
            vec![class_map("org.example.User", vec![("name", s("a"))])],
        ),
        (
            json!([[1], []]),
            "int[][]",
            "[[int",
            vec![
                Value::typed_list("[int", vec![Value::Int(1)]),
                Value::typed_list("[int", vec![]),
            ],
        ),
        (
            json!([["a"]]),
            "[[Ljava.lang.String;",
            "[[string",
            vec![Value::typed_list("[string", vec![s("a")])],
        ),
    ];
    for (input, ty, type_name, items) in cases {
        assert_eq!(
            conv(input.clone(), ty),
            Ok(Value::typed_list(type_name, items)),
            "{input} as {ty}"
        );
    }
    assert_err(
        conv(json!([1, "x"]), "int[]"),
        "args[0][1]",
        "\"x\" is not an integer (int)",
    );
    assert_err(
        conv(json!([1, null]), "int[]"),
        "args[0][1]",
        "null is not allowed for primitive int",
    );
    assert_err(
        conv(json!([[1], [2, 3.5]]), "int[][]"),
        "args[0][1][1]",
        "not an integer",
    );
    assert_err(
        conv(json!({"a": 1}), "int[]"),
        "args[0]",
        "expected a JSON array for int[], found object",
    );
}

#[test]
fn collections() {
    assert_eq!(
        conv(json!([1, "2"]), "java.util.List<Long>"),
        Ok(Value::list(vec![Value::Long(1), Value::Long(2)]))
    );
    assert_eq!(
        conv(
            json!([1, "a", 1.5, 3000000000_i64, true, null]),
            "java.util.List"
        ),
        Ok(Value::list(vec![
            Value::Int(1),
            s("a"),
            Value::Double(1.5),
            Value::Long(3_000_000_000),
            Value::Bool(true),
            Value::Null
        ]))
    );
    assert_eq!(
        conv(json!(["a"]), "java.util.Set<String>"),
        Ok(Value::typed_list("java.util.HashSet", vec![s("a")]))
    );
    assert_eq!(
        conv(json!([{"id": 1}]), "java.util.Collection<org.example.User>"),
        Ok(Value::list(vec![class_map(
            "org.example.User",
            vec![("id", Value::Int(1))]
        )]))
    );
    assert_err(
        conv(json!([1, 2.5]), "java.util.List<Integer>"),
        "args[0][1]",
        "not an integer",
    );
    assert_err(
        conv(json!("a"), "java.util.List"),
        "args[0]",
        "expected a JSON array for java.util.List<java.lang.Object>",
    );
}

#[test]
fn maps() {
    assert_eq!(
        conv(json!({"a": 1, "b": null}), "java.util.Map<String,Integer>"),
        Ok(Value::map(vec![
            (s("a"), Value::Int(1)),
            (s("b"), Value::Null)
        ]))
    );
    assert_eq!(
        conv(
            json!({"1": "x", "-2": "y"}),
            "java.util.Map<Integer,String>"
        ),
        Ok(Value::map(vec![
            (Value::Int(1), s("x")),
            (Value::Int(-2), s("y"))
        ]))
    );
    assert_eq!(
        conv(
            json!({"7": [1]}),
            "java.util.HashMap<Long, java.util.List<Long>>"
        ),
        Ok(Value::map(vec![(
            Value::Long(7),
            Value::list(vec![Value::Long(1)])
        )]))
    );
    assert_eq!(
        conv(json!({"k": {"n": 1}}), "java.util.Map"),
        Ok(Value::map(vec![(
            s("k"),
            Value::map(vec![(s("n"), Value::Int(1))])
        )]))
    );
    assert_err(
        conv(json!({"x": "y"}), "java.util.Map<Integer,String>"),
        "args[0].x",
        "map key: \"x\" is not an integer",
    );
    assert_err(
        conv(json!({"a": "z"}), "java.util.Map<String,Integer>"),
        "args[0].a",
        "not an integer",
    );
    assert_err(
        conv(
            json!({"class": "org.evil.X"}),
            "java.util.Map<String,Object>",
        ),
        "args[0].class",
        "class \"org.evil.X\" is not allowed",
    );
    assert_eq!(
        conv(
            json!({"class": "java.util.HashMap"}),
            "java.util.Map<String,String>"
        ),
        Ok(Value::map(vec![(s("class"), s("java.util.HashMap"))]))
    );
    assert_err(
        conv(json!([1]), "java.util.Map"),
        "args[0]",
        "expected a JSON object",
    );
}

#[test]
fn depth_is_bounded() {
    let mut deep = Json::Null;
    for _ in 0..200 {
        deep = Json::Array(vec![deep]);
    }
    let err = conv(deep, "object").unwrap_err();
    assert!(err.reason.contains("nested deeper than 128"), "{err}");
    assert!(err.path.starts_with("args[0][0][0]"), "{}", err.path);
}

#[test]
fn argument_lists() {
    let types = vec![
        JavaType::parse("int").unwrap(),
        JavaType::parse("string").unwrap(),
    ];
    let policy = InputPolicy::for_types(&types);
    assert_eq!(
        json_args_to_hessian(&[json!(1), json!("a")], &types, &policy),
        Ok(vec![Value::Int(1), s("a")])
    );
    let err = json_args_to_hessian(&[json!(1), json!(2)], &types, &policy).unwrap_err();
    assert_eq!(err.path, "args[1]");
    let err = json_args_to_hessian(&[json!(1)], &types, &policy).unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.reason.as_str()),
        ("args", "expected 2 argument(s), found 1")
    );
}

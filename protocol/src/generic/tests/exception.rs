//! `exception_from_value`: Throwables, GenericException, generalized maps, chains.

use std::sync::Arc;

use serde_json::json;

use crate::generic::{exception_from_value, JavaException, MAX_CAUSES};
use crate::hessian2::{ClassDef, Value};

fn s(text: &str) -> Value {
    Value::string(text)
}

fn throwable(class: &str, message: Option<&str>, cause: Value, extra: Vec<(&str, Value)>) -> Value {
    let frame = Value::object(
        Arc::new(ClassDef::new(
            "java.lang.StackTraceElement",
            ["declaringClass", "methodName", "fileName", "lineNumber"],
        )),
        vec![s("org.example.Svc"), s("run"), s("Svc.java"), Value::Int(7)],
    );
    let mut names = vec![
        "detailMessage",
        "cause",
        "stackTrace",
        "suppressedExceptions",
    ];
    let mut values = vec![
        message.map_or(Value::Null, s),
        cause,
        Value::typed_list("[java.lang.StackTraceElement", vec![frame]),
        Value::typed_list("java.util.Collections$UnmodifiableRandomAccessList", vec![]),
    ];
    for (name, value) in extra {
        names.push(name);
        values.push(value);
    }
    Value::object(Arc::new(ClassDef::new(class, names)), values)
}

#[test]
fn throwable_with_self_cause() {
    let e = exception_from_value(&throwable(
        "java.io.IOException",
        Some("boom"),
        Value::Ref(0),
        vec![],
    ));
    assert_eq!(
        e,
        JavaException {
            class: "java.io.IOException".into(),
            message: Some("boom".into()),
            causes: vec![],
            fields: serde_json::Map::new(),
        }
    );
    assert_eq!(e.summary(), "java.io.IOException: boom");
    assert_eq!(
        e.to_json(),
        json!({"exception": "java.io.IOException", "message": "boom"})
    );
}

#[test]
fn business_exception_keeps_custom_fields_and_causes() {
    let root = throwable(
        "java.lang.IllegalArgumentException",
        Some("bad id"),
        Value::Ref(2),
        vec![],
    );
    let mid = throwable("java.lang.IllegalStateException", None, root, vec![]);
    let top = throwable(
        "org.example.BizException",
        Some("failed"),
        mid,
        vec![
            ("code", Value::Int(42)),
            ("detail", Value::map(vec![(s("k"), Value::Long(1))])),
            ("self", Value::Ref(0)),
        ],
    );
    let e = exception_from_value(&top);
    assert_eq!(e.class, "org.example.BizException");
    assert_eq!(
        e.causes,
        vec![
            ("java.lang.IllegalStateException".to_string(), None),
            (
                "java.lang.IllegalArgumentException".to_string(),
                Some("bad id".to_string())
            ),
        ]
    );
    // stackTrace never appears; the cyclic "self" field is left out.
    assert_eq!(json!(e.fields), json!({"code": 42, "detail": {"k": 1}}));
    assert_eq!(
        e.to_json(),
        json!({
            "exception": "org.example.BizException",
            "message": "failed",
            "causes": [
                {"exception": "java.lang.IllegalStateException", "message": null},
                {"exception": "java.lang.IllegalArgumentException", "message": "bad id"}
            ],
            "fields": {"code": 42, "detail": {"k": 1}}
        })
    );
}

#[test]
fn generic_exception_is_unwrapped() {
    for wrapper in [
        "com.alibaba.dubbo.rpc.service.GenericException",
        "org.apache.dubbo.rpc.service.GenericException",
    ] {
        let v = throwable(
            wrapper,
            Some("java.lang.IllegalArgumentException: bad"),
            Value::Ref(0),
            vec![
                ("exceptionClass", s("java.lang.IllegalArgumentException")),
                ("exceptionMessage", s("bad")),
            ],
        );
        let e = exception_from_value(&v);
        assert_eq!(e.class, "java.lang.IllegalArgumentException", "{wrapper}");
        assert_eq!(e.message.as_deref(), Some("bad"));
        assert!(e.fields.is_empty(), "{:?}", e.fields);
    }
    // Without exceptionClass the wrapper itself is reported.
    let v = throwable(
        "com.alibaba.dubbo.rpc.service.GenericException",
        Some("m"),
        Value::Null,
        vec![],
    );
    assert_eq!(
        exception_from_value(&v).class,
        "com.alibaba.dubbo.rpc.service.GenericException"
    );
}

#[test]
fn generalized_map() {
    let v = Value::map(vec![
        (s("class"), s("org.example.NotFound")),
        (s("message"), s("no user 7")),
        (s("code"), s("USER_404")),
        (s("stackTrace"), Value::list(vec![])),
        (
            s("cause"),
            Value::map(vec![
                (s("class"), s("java.sql.SQLException")),
                (s("detailMessage"), s("gone")),
            ]),
        ),
    ]);
    let e = exception_from_value(&v);
    assert_eq!(e.class, "org.example.NotFound");
    assert_eq!(e.message.as_deref(), Some("no user 7"));
    assert_eq!(
        e.causes,
        vec![(
            "java.sql.SQLException".to_string(),
            Some("gone".to_string())
        )]
    );
    assert_eq!(json!(e.fields), json!({"code": "USER_404"}));
}

#[test]
fn unknown_values() {
    let e = exception_from_value(&s("sys error"));
    assert_eq!(
        (e.class.as_str(), e.message.as_deref()),
        ("unknown", Some("sys error"))
    );
    for v in [
        Value::Null,
        Value::Int(1),
        Value::map(vec![(s("a"), s("b"))]),
    ] {
        let e = exception_from_value(&v);
        assert_eq!((e.class.as_str(), e.message), ("unknown", None), "{v:?}");
    }
}

#[test]
fn cause_chain_is_bounded() {
    let mut v = throwable("e.E0", Some("0"), Value::Null, vec![]);
    for i in 1..40 {
        v = throwable(&format!("e.E{i}"), Some(&i.to_string()), v, vec![]);
    }
    let e = exception_from_value(&v);
    assert_eq!(e.class, "e.E39");
    assert_eq!(e.causes.len(), MAX_CAUSES);
    assert_eq!(e.causes[0], ("e.E38".to_string(), Some("38".to_string())));
}

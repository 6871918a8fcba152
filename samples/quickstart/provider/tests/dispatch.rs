//! Service and method resolution (versions, groups, parameter types), direct calls with their
//! un-generalized hessian objects, `EchoService`, and `--slow-ms`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tianlu_protocol::hessian2::{ClassDef, List, Value};
use tianlu_protocol::invocation::Invocation;
use tianlu_sample_provider::SampleProvider;

fn get_user(id: i64) -> Invocation {
    generic(USER, "getUser", &["long"], vec![Value::Long(id)])
}

#[tokio::test]
async fn versions_and_groups_must_match_like_dubbo() {
    let p = provider();
    for version in [None, Some("2.0.0".to_string()), Some("*".to_string())] {
        let msg = status70(&p, get_user(1).with_version(version.clone())).await;
        assert!(
            msg.starts_with("Not found exported service"),
            "{version:?}: {msg}"
        );
        assert!(msg.contains(USER), "{msg}");
    }
    let msg = status70(&p, get_user(1).with_group(Some("blue".into()))).await;
    assert!(
        msg.contains("blue/org.tianlu.sample.UserService:1.0.0"),
        "{msg}"
    );
    // EchoService has no version: "0.0.0" means none, "1.0.0" is another service.
    let echo = generic(
        ECHO,
        "echo",
        &["java.lang.String"],
        vec![Value::string("x")],
    );
    let zero = echo.clone().with_version(Some("0.0.0".into()));
    assert_eq!(ok(&p, zero).await, Value::string("x"));
    let msg = status70(&p, echo.with_version(Some("1.0.0".into()))).await;
    assert!(msg.contains("EchoService:1.0.0"), "{msg}");
    let unknown = generic("org.tianlu.sample.NoSuchService", "x", &[], vec![]);
    let msg = status70(&p, unknown).await;
    assert!(msg.contains("org.tianlu.sample.NoSuchService"), "{msg}");
}

#[tokio::test]
async fn methods_resolve_by_name_and_types() {
    let p = provider();
    let msg = status70(
        &p,
        generic(USER, "getUsers", &["long"], vec![Value::Long(1)]),
    )
    .await;
    assert!(msg.contains("Not found method getUsers(long)"), "{msg}");
    let boxed = generic(USER, "getUser", &["java.lang.Long"], vec![Value::Long(1)]);
    let msg = status70(&p, boxed).await;
    assert!(msg.contains("getUser(java.lang.Long)"), "{msg}");

    // `null` types: the method is found by name (no overloads here).
    let mut untyped = get_user(2);
    untyped.args[1] = Value::Null;
    assert_eq!(field(&ok(&p, untyped).await, "name"), &Value::string("bob"));
    // `null` args: every argument is null, which a primitive refuses.
    let mut no_args = get_user(2);
    no_args.args[2] = Value::Null;
    let msg = status70(&p, no_args).await;
    assert!(msg.contains("null for a primitive"), "{msg}");
    // A `$invoke` whose arguments are not (String, String[], Object[]).
    let mut malformed = get_user(2);
    malformed.args[0] = Value::Int(1);
    let msg = status70(&p, malformed).await;
    assert!(msg.contains("Malformed generic invocation"), "{msg}");
}

#[tokio::test]
async fn direct_calls_get_hessian_objects() {
    let p = provider();
    let user = ok(&p, direct(USER, "getUser", &["long"], vec![Value::Long(1)])).await;
    let Value::Object(obj) = &user else {
        panic!("expected a User object, got {user:?}")
    };
    assert_eq!(obj.class.name, "org.tianlu.sample.User");
    let fields: Vec<_> = obj.fields().map(|(n, _)| n).collect();
    assert_eq!(
        fields,
        ["id", "name", "email", "age", "tags", "address", "createdAt"]
    );
    assert!(
        matches!(obj.field("address"), Some(Value::Object(a)) if a.class.name == "org.tianlu.sample.Address")
    );

    // A direct Java consumer sends typed objects, enums as {name} objects and BigDecimal as
    // {value} objects; the result keeps the enum object.
    let def = |name: &str, fields: &[&str]| Arc::new(ClassDef::new(name, fields.iter().copied()));
    let price = Value::object(
        def("java.math.BigDecimal", &["value"]),
        vec![Value::string("4.25")],
    );
    let item = Value::object(
        def("org.tianlu.sample.OrderItem", &["sku", "quantity", "price"]),
        vec![Value::string("X"), Value::Int(2), price],
    );
    let status = Value::object(
        def("org.tianlu.sample.OrderStatus", &["name"]),
        vec![Value::string("PAID")],
    );
    let order = Value::object(
        def("org.tianlu.sample.Order", &["userId", "items", "status"]),
        vec![Value::Long(2), Value::list(vec![item]), status],
    );
    let types = ["org.tianlu.sample.Order"];
    let created = ok(&p, direct(ORDER, "createOrder", &types, vec![order])).await;
    let Value::Object(o) = &created else {
        panic!("expected an Order object, got {created:?}")
    };
    assert_eq!(decimal(o.field("total").unwrap()), "8.50");
    let Some(Value::Object(status)) = o.field("status") else {
        panic!("status is not an enum object: {o:?}")
    };
    assert_eq!(status.class.name, "org.tianlu.sample.OrderStatus");
    assert_eq!(status.field("name"), Some(&Value::string("NEW")));

    // Direct calls must name the exact parameter types.
    let wrong = direct(USER, "getUser", &["int"], vec![Value::Int(1)]);
    let msg = status70(&p, wrong).await;
    assert!(msg.contains("getUser(int)"), "{msg}");
    let short = direct(
        USER,
        "updateUser",
        &["long", "org.tianlu.sample.User"],
        vec![],
    );
    let msg = status70(&p, short).await;
    assert!(msg.contains("0 arguments"), "{msg}");
    // `$invoke` with a non-generic descriptor is just an unknown method.
    let fake = direct(
        USER,
        "$invoke",
        &["java.lang.String"],
        vec![Value::string("getUser")],
    );
    status70(&p, fake).await;
}

#[tokio::test]
async fn echo_service() {
    let p = provider();
    let s = "héllo ✓";
    let echo = generic(ECHO, "echo", &["java.lang.String"], vec![Value::string(s)]);
    assert_eq!(ok(&p, echo).await, Value::string(s));
    let null = generic(ECHO, "echo", &["java.lang.String"], vec![Value::Null]);
    assert_eq!(p.handle(null).await, Ok(None));
    let add = |a, b| generic(ECHO, "add", &["int", "int"], vec![a, b]);
    assert_eq!(
        ok(&p, add(Value::Int(2), Value::Int(40))).await,
        Value::Int(42)
    );
    assert_eq!(
        ok(&p, add(Value::Int(i32::MAX), Value::Int(1))).await,
        Value::Int(i32::MIN)
    );
    let msg = status70(&p, add(Value::Bool(true), Value::Int(1))).await;
    assert!(msg.contains("add(int, int)"), "{msg}");

    // echoObject returns a generic POJO map as it came, "class" and all.
    let payload = map(&[
        ("class", Value::string("org.tianlu.bench.Payload")),
        ("id", Value::Long(7)),
        ("blob", Value::string("x".repeat(4096))),
        ("nested", map(&[("k", Value::Double(1.5))])),
    ]);
    let types = ["java.lang.Object"];
    let back = ok(
        &p,
        generic(ECHO, "echoObject", &types, vec![payload.clone()]),
    )
    .await;
    assert_eq!(back, payload);
    // A typed collection comes back as a List (untyped), as after PojoUtils.
    let typed = Value::List(List {
        type_name: Some("java.util.ArrayList".into()),
        items: vec![Value::Int(1)],
    });
    let back = ok(&p, generic(ECHO, "echoObject", &types, vec![typed])).await;
    assert_eq!(back, Value::list(vec![Value::Int(1)]));
    // Directly, the argument is returned exactly.
    let obj = Value::object(Arc::new(ClassDef::new("x.P", ["a"])), vec![Value::Int(1)]);
    let back = ok(&p, direct(ECHO, "echoObject", &types, vec![obj.clone()])).await;
    assert_eq!(back, obj);
}

#[tokio::test(start_paused = true)]
async fn slow_ms_delays_every_call() {
    let p = SampleProvider::new("slow-1", Duration::from_millis(300));
    let start = tokio::time::Instant::now();
    let me = ok(&p, generic(USER, "whoAmI", &[], vec![])).await;
    assert_eq!(me, Value::string("slow-1"));
    assert!(start.elapsed() >= Duration::from_millis(300));
    // Even failed dispatches wait.
    let start = tokio::time::Instant::now();
    status70(&p, generic("no.Such", "x", &[], vec![])).await;
    assert!(start.elapsed() >= Duration::from_millis(300));
}

//! `UserService` through the handler with generic calls: generalized results, argument
//! conversion, thrown exceptions.

mod common;

use std::time::Duration;

use common::*;
use tianlu_protocol::hessian2::Value;

const USER_TYPE: &str = "org.tianlu.sample.User";
const USER_KEYS: [&str; 8] = [
    "class",
    "id",
    "name",
    "email",
    "age",
    "tags",
    "address",
    "createdAt",
];

#[tokio::test]
async fn get_user_is_generalized_like_java() {
    let p = provider();
    let user = ok(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::Long(1)]),
    )
    .await;
    assert_eq!(keys(&user), USER_KEYS);
    assert_eq!(field(&user, "class"), &Value::string(USER_TYPE));
    assert_eq!(field(&user, "id"), &Value::Long(1));
    assert_eq!(field(&user, "name"), &Value::string("alice"));
    assert_eq!(field(&user, "email"), &Value::string("alice@example.com"));
    assert_eq!(field(&user, "age"), &Value::Int(30));
    assert_eq!(
        field(&user, "tags"),
        &Value::list(vec![Value::string("admin"), Value::string("dev")])
    );
    assert_eq!(field(&user, "createdAt"), &Value::Date(1_704_067_200_000));
    let address = field(&user, "address");
    assert_eq!(keys(address), ["class", "city", "street", "zip"]);
    assert_eq!(
        field(address, "class"),
        &Value::string("org.tianlu.sample.Address")
    );
    assert_eq!(field(address, "city"), &Value::string("Hangzhou"));

    // Null properties are kept; an Int id is accepted for `long` as PojoUtils does.
    let carol = ok(&p, generic(USER, "getUser", &["long"], vec![Value::Int(3)])).await;
    assert_eq!(field(&carol, "address"), &Value::Null);
    assert_eq!(field(&carol, "tags"), &Value::list(vec![]));
    // Numeric strings convert too.
    let bob = ok(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::string("2")]),
    )
    .await;
    assert_eq!(field(&bob, "name"), &Value::string("bob"));
}

#[tokio::test]
async fn unknown_user_throws_user_not_found_with_code() {
    let p = provider();
    let e = thrown(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::Long(99)]),
    )
    .await;
    assert_eq!(e.class, "org.tianlu.sample.UserNotFoundException");
    assert_eq!(e.message, "user 99 not found");
    assert_eq!(e.fields, vec![("code".to_string(), Value::Int(404))]);
}

#[tokio::test]
async fn create_user_assigns_the_next_id_and_stores_it() {
    let p = provider();
    // Without "class": the declared parameter type is used.
    let input = map(&[
        ("name", Value::string("dave")),
        ("age", Value::Long(41)),
        ("tags", Value::list(vec![Value::string("ops")])),
        ("address", map(&[("city", Value::string("Beijing"))])),
    ]);
    let created = ok(&p, generic(USER, "createUser", &[USER_TYPE], vec![input])).await;
    assert_eq!(keys(&created), USER_KEYS);
    assert_eq!(field(&created, "id"), &Value::Long(4));
    assert_eq!(field(&created, "age"), &Value::Int(41));
    assert_eq!(field(&created, "email"), &Value::Null);
    assert!(matches!(field(&created, "createdAt"), Value::Date(_)));
    let city = field(field(&created, "address"), "city");
    assert_eq!(city, &Value::string("Beijing"));

    // With "class", and a given createdAt kept.
    let input = map(&[
        ("class", Value::string(USER_TYPE)),
        ("name", Value::string("erin")),
        ("createdAt", Value::Date(5)),
    ]);
    let created = ok(&p, generic(USER, "createUser", &[USER_TYPE], vec![input])).await;
    assert_eq!(field(&created, "id"), &Value::Long(5));
    assert_eq!(field(&created, "createdAt"), &Value::Date(5));
    let fetched = ok(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::Long(5)]),
    )
    .await;
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn create_user_without_name_is_illegal_argument() {
    let p = provider();
    for input in [
        map(&[("age", Value::Int(3))]),
        map(&[("name", Value::string(""))]),
    ] {
        let e = thrown(&p, generic(USER, "createUser", &[USER_TYPE], vec![input])).await;
        assert_eq!(e.class, "java.lang.IllegalArgumentException");
        assert_eq!(e.message, "name is required");
    }
    // Nothing was stored: the next user still gets id 4.
    let input = map(&[("name", Value::string("x"))]);
    let created = ok(&p, generic(USER, "createUser", &[USER_TYPE], vec![input])).await;
    assert_eq!(field(&created, "id"), &Value::Long(4));
}

#[tokio::test]
async fn update_user_merges_non_null_fields() {
    let p = provider();
    let patch = map(&[
        ("class", Value::string(USER_TYPE)),
        ("email", Value::string("bobby@example.com")),
        ("name", Value::Null),
    ]);
    let types = ["long", USER_TYPE];
    let updated = ok(
        &p,
        generic(USER, "updateUser", &types, vec![Value::Long(2), patch]),
    )
    .await;
    assert_eq!(field(&updated, "name"), &Value::string("bob"));
    assert_eq!(
        field(&updated, "email"),
        &Value::string("bobby@example.com")
    );
    assert_eq!(field(&updated, "age"), &Value::Int(25));
    let again = ok(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::Long(2)]),
    )
    .await;
    assert_eq!(again, updated);

    let patch = map(&[("age", Value::Int(1))]);
    let e = thrown(
        &p,
        generic(USER, "updateUser", &types, vec![Value::Long(42), patch]),
    )
    .await;
    assert_eq!(e.message, "user 42 not found");
}

#[tokio::test]
async fn list_delete_and_who_am_i() {
    let p = provider();
    let types = ["java.lang.String", "int"];
    let all = ok(
        &p,
        generic(USER, "listUsers", &types, vec![Value::Null, Value::Int(0)]),
    )
    .await;
    let Value::List(list) = &all else {
        panic!("not a list: {all:?}")
    };
    assert_eq!(
        list.type_name, None,
        "a List is generalized to an untyped list"
    );
    let names: Vec<_> = list
        .items
        .iter()
        .map(|u| field(u, "name").clone())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"].map(Value::string));
    let limited = ok(
        &p,
        generic(USER, "listUsers", &types, vec![Value::Null, Value::Int(2)]),
    )
    .await;
    assert_eq!(items(&limited).len(), 2);
    let like = vec![Value::string("AR"), Value::Int(10)];
    let carol = ok(&p, generic(USER, "listUsers", &types, like)).await;
    assert_eq!(items(&carol).len(), 1);
    assert_eq!(field(&items(&carol)[0], "name"), &Value::string("carol"));

    let del = |id| generic(USER, "deleteUser", &["long"], vec![Value::Long(id)]);
    assert_eq!(ok(&p, del(3)).await, Value::Bool(true));
    assert_eq!(ok(&p, del(3)).await, Value::Bool(false));
    let e = thrown(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::Long(3)]),
    )
    .await;
    assert_eq!(e.message, "user 3 not found");

    let me = ok(&p, generic(USER, "whoAmI", &[], vec![])).await;
    assert_eq!(me, Value::string("test-1"));
}

#[tokio::test(start_paused = true)]
async fn slow_sleeps_then_answers() {
    let p = provider();
    let start = tokio::time::Instant::now();
    let done = ok(&p, generic(USER, "slow", &["int"], vec![Value::Int(250)])).await;
    assert_eq!(done, Value::string("done after 250ms"));
    assert!(start.elapsed() >= Duration::from_millis(250));
    let e = thrown(&p, generic(USER, "slow", &["int"], vec![Value::Int(-1)])).await;
    assert_eq!(e.class, "java.lang.IllegalArgumentException");
}

#[tokio::test]
async fn bad_arguments_are_status_70_with_the_path() {
    let p = provider();
    let msg = status70(
        &p,
        generic(USER, "getUser", &["long"], vec![Value::string("abc")]),
    )
    .await;
    assert!(
        msg.contains("getUser(long)") && msg.contains("args[0]"),
        "{msg}"
    );
    let msg = status70(&p, generic(USER, "getUser", &["long"], vec![Value::Null])).await;
    assert!(msg.contains("null for a primitive"), "{msg}");

    let bad_tags = map(&[
        ("name", Value::string("x")),
        ("tags", Value::list(vec![Value::string("a"), Value::Int(7)])),
    ]);
    let msg = status70(
        &p,
        generic(USER, "createUser", &[USER_TYPE], vec![bad_tags]),
    )
    .await;
    assert!(msg.contains("args[0].tags[1]"), "{msg}");

    let other_class = map(&[("class", Value::string("org.tianlu.sample.Order"))]);
    let msg = status70(
        &p,
        generic(USER, "createUser", &[USER_TYPE], vec![other_class]),
    )
    .await;
    assert!(msg.contains("org.tianlu.sample.Order"), "{msg}");

    // Argument count differs from the types.
    let msg = status70(
        &p,
        generic(
            USER,
            "getUser",
            &["long"],
            vec![Value::Long(1), Value::Long(2)],
        ),
    )
    .await;
    assert!(msg.contains("args.length != types.length"), "{msg}");
}

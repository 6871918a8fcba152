//! Triple interop against the real Java Dubbo 3.3 provider (`tests/interop`, services exported
//! over `tri`): generic `$invoke` through the Triple wrapper on `TypesService` / `UserService`,
//! covering the same type matrix as the Dubbo2 interop tests (`java_interop.rs`), plus
//! exceptions, unknown services, deadlines, size limits, multiplexing and reconnects.
//!
//! Needs Java 17 and Maven (the test kit builds and starts the provider; a missing tool fails the
//! test with the install command). One provider JVM is shared by the whole binary; the raw
//! exception mode test starts its own.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use serde_json::{json, Value as Json};
use tianlu_protocol::dubbo::{CallError, RpcOutcome, RpcResponse, Status};
use tianlu_protocol::generic::{
    exception_from_value, hessian_to_json, json_args_to_hessian, InputPolicy, JavaException,
    JavaType, OutputOptions,
};
use tianlu_protocol::hessian2::Value;
use tianlu_protocol::invocation::Invocation;
use tianlu_protocol::triple::{TripleConfig, TripleEndpoint};
use tianlu_testkit::{GenericExceptionMode, JavaProvider, ProviderOptions};

const TYPES: &str = "org.tianlu.interop.TypesService";
const USERS: &str = "org.tianlu.interop.UserService";
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- helpers

/// A fresh endpoint to the shared provider's Triple port (each test has its own runtime, so each
/// gets its own connection).
fn shared_endpoint() -> anyhow::Result<TripleEndpoint> {
    let provider = JavaProvider::shared()?;
    let addr = provider
        .tri_addr()
        .ok_or_else(|| anyhow!("the shared provider has no Triple port"))?;
    Ok(TripleEndpoint::new(addr, TripleConfig::default()))
}

#[derive(Debug)]
enum Reply {
    Value(Json),
    Exception(JavaException),
}

fn generic_invocation(
    service: &str,
    method: &str,
    types: &[&str],
    args: &[Json],
    policy: Option<InputPolicy>,
) -> anyhow::Result<Invocation> {
    let types = types
        .iter()
        .map(|t| JavaType::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let policy = policy.unwrap_or_else(|| InputPolicy::for_types(&types));
    let values = json_args_to_hessian(args, &types, &policy)?;
    let wire_types = types.iter().map(JavaType::wire_name).collect();
    Ok(Invocation::generic(service, method, wire_types, values))
}

fn reply_of(resp: RpcResponse, opts: &OutputOptions) -> anyhow::Result<Reply> {
    Ok(match resp.outcome {
        RpcOutcome::Value(v) => Reply::Value(hessian_to_json(&v, opts)?),
        RpcOutcome::Null => Reply::Value(Json::Null),
        RpcOutcome::Exception(e) => Reply::Exception(exception_from_value(&e)),
    })
}

async fn invoke_with(
    ep: &TripleEndpoint,
    inv: Invocation,
    opts: &OutputOptions,
) -> anyhow::Result<Reply> {
    let what = format!("{}#{:?}", inv.service, inv.generic_target_method());
    let resp = ep
        .call(&inv, CALL_TIMEOUT)
        .await
        .with_context(|| format!("calling {what} over Triple"))?;
    reply_of(resp, opts)
}

async fn invoke(
    ep: &TripleEndpoint,
    method: &str,
    types: &[&str],
    args: Vec<Json>,
) -> anyhow::Result<Reply> {
    let inv = generic_invocation(TYPES, method, types, &args, None)?;
    invoke_with(ep, inv, &OutputOptions::full()).await
}

async fn value(
    ep: &TripleEndpoint,
    method: &str,
    types: &[&str],
    args: Vec<Json>,
) -> anyhow::Result<Json> {
    match invoke(ep, method, types, args).await? {
        Reply::Value(v) => Ok(v),
        Reply::Exception(e) => bail!("{method} threw {}", e.summary()),
    }
}

async fn exception(
    ep: &TripleEndpoint,
    method: &str,
    types: &[&str],
    args: Vec<Json>,
) -> anyhow::Result<JavaException> {
    match invoke(ep, method, types, args).await? {
        Reply::Exception(e) => Ok(e),
        Reply::Value(v) => bail!("{method} returned {v} instead of throwing"),
    }
}

async fn check_echo(
    ep: &TripleEndpoint,
    method: &str,
    ty: &str,
    input: Json,
    expected: Json,
) -> anyhow::Result<()> {
    let got = value(ep, method, &[ty], vec![input.clone()]).await?;
    if got != expected {
        bail!("{method}({ty}) with {input}: expected {expected}, got {got}");
    }
    Ok(())
}

/// A call the provider must refuse, as an error status or an exception, with `needle` in the
/// text.
async fn expect_refusal(ep: &TripleEndpoint, inv: Invocation, needle: &str) -> anyhow::Result<()> {
    let what = format!("{:?}", inv.generic_target_method());
    match ep.call(&inv, CALL_TIMEOUT).await {
        Err(CallError::Status { message, .. }) => {
            anyhow::ensure!(message.contains(needle), "{what}: {message}")
        }
        Ok(resp) => match reply_of(resp, &OutputOptions::full())? {
            Reply::Exception(e) => {
                anyhow::ensure!(e.summary().contains(needle), "{what}: {}", e.summary())
            }
            Reply::Value(v) => bail!("{what} returned {v}"),
        },
        Err(other) => bail!("{what} failed with {other}"),
    }
    Ok(())
}

/// `TypesService.bigString(n)`'s text: n UTF-16 units cycling through these tokens.
fn big_string(n: usize) -> String {
    const TOKENS: [&str; 7] = ["a", "b", "c", "中", "文", "😀", "1"];
    let mut out = String::new();
    let mut units = 0;
    let mut i = 0;
    while units < n {
        let mut token = TOKENS[i % TOKENS.len()];
        i += 1;
        if units + token.encode_utf16().count() > n {
            token = "x";
        }
        units += token.encode_utf16().count();
        out.push_str(token);
    }
    out
}

/// `TypesService.bigBytes(n)`'s bytes: byte i = (i * 31 + 7) mod 256.
fn big_bytes(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i.wrapping_mul(31).wrapping_add(7)) as u8)
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(json: &Json) -> anyhow::Result<Vec<u8>> {
    let text = json
        .as_str()
        .ok_or_else(|| anyhow!("expected a base64 string, got {json}"))?;
    Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
}

fn float_on_wire(x: f64) -> f64 {
    let narrowed = x as f32;
    narrowed.to_string().parse::<f64>().unwrap_or(f64::NAN)
}

fn normalize(v: &Json) -> Json {
    match v {
        Json::Object(map) => {
            let mut sorted: Vec<(&String, &Json)> = map.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            Json::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), normalize(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

fn assert_same_json(got: &Json, expected: &Json, what: &str) {
    assert_eq!(
        normalize(got),
        normalize(expected),
        "{what}:\n got      {got}\n expected {expected}"
    );
}

// ---------------------------------------------------------------- the type matrix

#[tokio::test]
async fn primitives_and_wrappers_round_trip() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let cases: Vec<(&str, &str, Json, Json)> = vec![
        ("echoInt", "int", json!(0), json!(0)),
        ("echoInt", "int", json!(-17), json!(-17)),
        ("echoInt", "int", json!(i32::MAX), json!(i32::MAX)),
        ("echoInt", "int", json!(i32::MIN), json!(i32::MIN)),
        ("echoInt", "int", json!("123"), json!(123)),
        ("echoInteger", "java.lang.Integer", json!(2047), json!(2047)),
        ("echoInteger", "java.lang.Integer", Json::Null, Json::Null),
        (
            "echoLong",
            "long",
            json!(3_000_000_000i64),
            json!(3_000_000_000i64),
        ),
        (
            "echoLong",
            "long",
            json!(i64::MAX.to_string()),
            json!(i64::MAX.to_string()),
        ),
        (
            "echoLong",
            "long",
            json!(i64::MIN.to_string()),
            json!(i64::MIN.to_string()),
        ),
        ("echoLongObj", "java.lang.Long", json!(-5), json!(-5)),
        ("echoLongObj", "java.lang.Long", Json::Null, Json::Null),
        ("echoShort", "short", json!(i16::MAX), json!(i16::MAX)),
        ("echoShort", "short", json!(i16::MIN), json!(i16::MIN)),
        ("echoShortObj", "java.lang.Short", json!(-300), json!(-300)),
        ("echoByte", "byte", json!(i8::MAX), json!(i8::MAX)),
        ("echoByte", "byte", json!(i8::MIN), json!(i8::MIN)),
        ("echoByteObj", "java.lang.Byte", Json::Null, Json::Null),
        ("echoChar", "char", json!("A"), json!("A")),
        ("echoChar", "char", json!("中"), json!("中")),
        (
            "echoCharacter",
            "java.lang.Character",
            json!("z"),
            json!("z"),
        ),
        (
            "echoCharacter",
            "java.lang.Character",
            Json::Null,
            Json::Null,
        ),
        ("echoBoolean", "boolean", json!(true), json!(true)),
        ("echoBoolean", "boolean", json!(false), json!(false)),
        (
            "echoBooleanObj",
            "java.lang.Boolean",
            Json::Null,
            Json::Null,
        ),
        ("echoFloat", "float", json!(1.5), json!(1.5)),
        ("echoFloat", "float", json!(0.1), json!(float_on_wire(0.1))),
        (
            "echoFloat",
            "float",
            json!(123.456789012345),
            json!(float_on_wire(123.456789012345)),
        ),
        (
            "echoFloatObj",
            "java.lang.Float",
            json!(-0.25),
            json!(-0.25),
        ),
        (
            "echoDouble",
            "double",
            json!(123.456789012345),
            json!(123.456789012345),
        ),
        ("echoDouble", "double", json!(1e300), json!(1e300)),
        (
            "echoDouble",
            "double",
            json!(f64::MIN_POSITIVE),
            json!(f64::MIN_POSITIVE),
        ),
        (
            "echoDoubleObj",
            "java.lang.Double",
            json!(12.75),
            json!(12.75),
        ),
        ("echoDoubleObj", "java.lang.Double", Json::Null, Json::Null),
    ];
    for (method, ty, input, expected) in cases {
        check_echo(&ep, method, ty, input, expected).await?;
    }
    Ok(())
}

#[tokio::test]
async fn describe_shows_how_arguments_were_boxed() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let cases = [
        (json!(1), "java.lang.Integer:1"),
        (json!(2147483648i64), "java.lang.Long:2147483648"),
        (json!(1.5), "java.lang.Double:1.5"),
        (json!("s"), "java.lang.String:s"),
        (json!(true), "java.lang.Boolean:true"),
        (Json::Null, "null"),
    ];
    for (input, expected) in cases {
        let got = value(&ep, "describe", &["java.lang.Object"], vec![input.clone()]).await?;
        assert_eq!(got, json!(expected), "describe({input})");
    }
    let mut policy = InputPolicy::for_types(&[JavaType::Object]);
    policy.allow_package("org.tianlu.interop");
    let inv = generic_invocation(
        TYPES,
        "describe",
        &["java.lang.Object"],
        &[json!({"class": "org.tianlu.interop.Address", "city": "Hangzhou", "zip": "310000"})],
        Some(policy),
    )?;
    match invoke_with(&ep, inv, &OutputOptions::full()).await? {
        Reply::Value(v) => assert_eq!(
            v,
            json!("org.tianlu.interop.Address:Address{city=Hangzhou, zip=310000}")
        ),
        Reply::Exception(e) => bail!("describe(Address) threw {}", e.summary()),
    }
    Ok(())
}

#[tokio::test]
async fn strings_keep_every_code_point_beyond_64_kib() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let samples = [
        "",
        "hello",
        "你好，世界",
        "😀👍🏽🇨🇳",
        "mixed: a中😀b\u{0}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
    ];
    for s in samples {
        check_echo(&ep, "echoString", "java.lang.String", json!(s), json!(s)).await?;
        let expected = format!("{}:{}", s.encode_utf16().count(), s.chars().count());
        let got = value(&ep, "lengthOf", &["java.lang.String"], vec![json!(s)]).await?;
        assert_eq!(got, json!(expected), "lengthOf({s:?})");
    }
    check_echo(
        &ep,
        "echoString",
        "java.lang.String",
        Json::Null,
        Json::Null,
    )
    .await?;
    for n in [0x8000, 0x8001, 200_003] {
        let got = value(&ep, "bigString", &["int"], vec![json!(n)]).await?;
        assert!(
            got.as_str() == Some(big_string(n).as_str()),
            "bigString({n}) differs"
        );
    }
    let s = big_string(150_001);
    let echoed = value(&ep, "echoString", &["java.lang.String"], vec![json!(s)]).await?;
    assert!(
        echoed.as_str() == Some(s.as_str()),
        "150k string echo differs"
    );
    Ok(())
}

#[tokio::test]
async fn dates_big_numbers_and_enums() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let dates = [
        (
            json!("2024-02-29T12:34:56.789Z"),
            "2024-02-29T12:34:56.789Z",
        ),
        (
            json!("2024-02-29T20:34:56.789+08:00"),
            "2024-02-29T12:34:56.789Z",
        ),
        (json!("1969-12-31 23:59:59"), "1969-12-31T23:59:59.000Z"),
        (json!(1_700_000_000_000i64), "2023-11-14T22:13:20.000Z"),
    ];
    for (input, expected) in dates {
        check_echo(&ep, "echoDate", "java.util.Date", input, json!(expected)).await?;
    }
    check_echo(&ep, "echoDate", "java.util.Date", Json::Null, Json::Null).await?;
    for d in ["0", "-1.50", "12345678901234567890.123456789", "1E+400"] {
        let got = value(
            &ep,
            "echoBigDecimal",
            &["java.math.BigDecimal"],
            vec![json!(d)],
        )
        .await?;
        assert_eq!(got, json!({"class": "java.math.BigDecimal", "value": d}));
    }
    for i in [
        "0",
        "-18446744073709551616",
        "123456789012345678901234567890123456789",
    ] {
        let inv = generic_invocation(
            TYPES,
            "echoBigInteger",
            &["java.math.BigInteger"],
            &[json!(i)],
            None,
        )?;
        match invoke_with(&ep, inv, &OutputOptions::pixiu()).await? {
            Reply::Value(v) => assert_eq!(v, json!(i), "echoBigInteger({i})"),
            Reply::Exception(e) => bail!("echoBigInteger({i}) threw {}", e.summary()),
        }
    }
    for c in ["RED", "GREEN", "BLUE"] {
        check_echo(
            &ep,
            "echoColor",
            "org.tianlu.interop.Color",
            json!(c),
            json!(c),
        )
        .await?;
    }
    check_echo(
        &ep,
        "echoColor",
        "org.tianlu.interop.Color",
        Json::Null,
        Json::Null,
    )
    .await?;
    let inv = generic_invocation(
        TYPES,
        "echoColor",
        &["org.tianlu.interop.Color"],
        &[json!("PURPLE")],
        None,
    )?;
    expect_refusal(&ep, inv, "PURPLE").await
}

#[tokio::test]
async fn bytes_arrays_and_collections() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    for bytes in [vec![], vec![0u8, 1, 2, 127, 128, 255], big_bytes(70_000)] {
        let got = value(&ep, "echoBytes", &["byte[]"], vec![json!(b64(&bytes))]).await?;
        assert_eq!(unb64(&got)?, bytes, "echoBytes of {} bytes", bytes.len());
    }
    check_echo(
        &ep,
        "echoIntArray",
        "int[]",
        json!([1, -2, i32::MAX, i32::MIN]),
        json!([1, -2, i32::MAX, i32::MIN]),
    )
    .await?;
    check_echo(
        &ep,
        "echoStringArray",
        "java.lang.String[]",
        json!(["a", null, "中😀"]),
        json!(["a", null, "中😀"]),
    )
    .await?;
    check_echo(
        &ep,
        "echoList",
        "java.util.List<java.lang.String>",
        json!(["x", "y", "x"]),
        json!(["x", "y", "x"]),
    )
    .await?;
    let set = value(
        &ep,
        "echoSet",
        &["java.util.Set<java.lang.Integer>"],
        vec![json!([3, 1, 2, 3])],
    )
    .await?;
    let mut items: Vec<i64> = set
        .as_array()
        .ok_or_else(|| anyhow!("echoSet gave {set}"))?
        .iter()
        .filter_map(Json::as_i64)
        .collect();
    items.sort_unstable();
    assert_eq!(items, vec![1, 2, 3]);
    let map = value(
        &ep,
        "echoMap",
        &["java.util.Map<java.lang.String,java.lang.Integer>"],
        vec![json!({"a": 1, "b": -2, "中": i32::MAX})],
    )
    .await?;
    assert_eq!(map, json!({"a": 1, "b": -2, "中": i32::MAX}));
    let sum = value(
        &ep,
        "sumList",
        &["java.util.List<java.lang.Integer>"],
        vec![json!([1, 2, 3, 4])],
    )
    .await?;
    assert_eq!(sum, json!(10));
    Ok(())
}

fn sample_user(name: &str, id: i64) -> Json {
    json!({
        "name": name, "age": 33, "id": id,
        "address": {"city": "Hangzhou", "zip": "310000"},
        "history": [{"city": "Beijing", "zip": "100000"}, {"city": "Shanghai", "zip": "200000"}],
        "favorite": "BLUE",
        "created": "2024-01-02 03:04:05",
        "balance": "1234.50"
    })
}

fn expected_user(name: &str, id: Json) -> Json {
    json!({
        "class": "org.tianlu.interop.User", "name": name, "age": 33, "id": id,
        "address": {"class": "org.tianlu.interop.Address", "city": "Hangzhou", "zip": "310000"},
        "history": [
            {"class": "org.tianlu.interop.Address", "city": "Beijing", "zip": "100000"},
            {"class": "org.tianlu.interop.Address", "city": "Shanghai", "zip": "200000"}
        ],
        "favorite": "BLUE",
        "created": "2024-01-02T03:04:05.000Z",
        "balance": {"class": "java.math.BigDecimal", "value": "1234.50"}
    })
}

#[tokio::test]
async fn pojos_nested_pojos_and_lists_of_pojos() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let got = value(
        &ep,
        "echoUser",
        &["org.tianlu.interop.User"],
        vec![sample_user("Ann", 7)],
    )
    .await?;
    assert_same_json(&got, &expected_user("Ann", json!(7)), "echoUser");

    let mut user = sample_user("Big", 0);
    user["id"] = json!("9007199254740993");
    let got = value(&ep, "echoUser", &["org.tianlu.interop.User"], vec![user]).await?;
    assert_same_json(
        &got,
        &expected_user("Big", json!("9007199254740993")),
        "echoUser(big id)",
    );

    // An ISO date inside a POJO is refused by PojoUtils. Over Dubbo2 that is status 70 with the
    // text; over Triple the provider answers grpc-status 2 UNKNOWN ("Internal Server Error",
    // Dubbo hides the message unless verbose), which the table also makes 70 SERVICE_ERROR.
    let mut user = sample_user("Iso", 1);
    user["created"] = json!("2024-01-02T03:04:05.678Z");
    let inv = generic_invocation(
        TYPES,
        "echoUser",
        &["org.tianlu.interop.User"],
        &[user],
        None,
    )?;
    match ep.call(&inv, CALL_TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceError, "{message}");
            assert!(message.starts_with("grpc-status 2 UNKNOWN"), "{message}");
        }
        other => bail!("an ISO date inside a POJO gave {other:?}"),
    }

    let nested = value(
        &ep,
        "echoNested",
        &["java.util.Map<java.lang.String,java.util.List<org.tianlu.interop.User>>"],
        vec![json!({"team-a": [sample_user("A1", 1), sample_user("A2", 2)], "empty": []})],
    )
    .await?;
    assert_same_json(
        &nested,
        &json!({"team-a": [expected_user("A1", json!(1)), expected_user("A2", json!(2))], "empty": []}),
        "echoNested",
    );
    let got = value(
        &ep,
        "echoObject",
        &["java.lang.Object"],
        vec![json!([1, "two", null, 3.5])],
    )
    .await?;
    assert_eq!(got, json!([1, "two", null, 3.5]));
    Ok(())
}

#[tokio::test]
async fn nulls_void_overloads_and_direct_calls() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    // A null result is RpcOutcome::Null, like Dubbo2's flag 2.
    let inv = generic_invocation(TYPES, "nullUser", &[], &[], None)?;
    assert_eq!(ep.call(&inv, CALL_TIMEOUT).await?.outcome, RpcOutcome::Null);
    assert_eq!(
        value(&ep, "doNothing", &["java.lang.String"], vec![json!("x")]).await?,
        Json::Null
    );
    let got = value(
        &ep,
        "concat",
        &["java.lang.String", "java.lang.String"],
        vec![Json::Null, json!("b")],
    )
    .await?;
    assert_eq!(got, json!("nullb"));
    assert_eq!(
        value(&ep, "over", &["java.lang.String"], vec![json!("s")]).await?,
        json!("over(String):s")
    );
    assert_eq!(
        value(&ep, "over", &["int"], vec![json!(5)]).await?,
        json!("over(int):5")
    );
    assert_eq!(
        value(
            &ep,
            "over",
            &["java.lang.String", "int"],
            vec![json!("s"), json!(6)]
        )
        .await?,
        json!("over(String,int):s,6")
    );

    // Non-generic calls go through the wrapper too; argTypes pick the overload.
    let direct = |method: &str, types: &[&str], args: Vec<Value>| Invocation {
        service: TYPES.into(),
        version: None,
        group: None,
        method: method.into(),
        parameter_types: types.iter().map(|t| t.to_string()).collect(),
        args,
        attachments: Vec::new(),
    };
    let resp = ep
        .call(
            &direct("echoInt", &["int"], vec![Value::Int(7)]),
            CALL_TIMEOUT,
        )
        .await?;
    assert_eq!(resp.outcome, RpcOutcome::Value(Value::Int(7)));
    let resp = ep
        .call(&direct("over", &["int"], vec![Value::Int(9)]), CALL_TIMEOUT)
        .await?;
    assert_eq!(
        resp.outcome,
        RpcOutcome::Value(Value::String("over(int):9".into()))
    );
    let resp = ep
        .call(
            &direct(
                "concat",
                &["java.lang.String", "java.lang.String"],
                vec![Value::String("中".into()), Value::String("😀".into())],
            ),
            CALL_TIMEOUT,
        )
        .await?;
    assert_eq!(
        resp.outcome,
        RpcOutcome::Value(Value::String("中😀".into()))
    );
    Ok(())
}

// ---------------------------------------------------------------- exceptions and errors

#[tokio::test]
async fn business_exceptions_arrive_as_exception_outcomes() -> anyhow::Result<()> {
    // Flagged by tri-exception-code, the body is the serialized GenericException, which the
    // bridge unwraps to the real class.
    let ep = shared_endpoint()?;
    let e = exception(&ep, "fail", &["java.lang.String"], vec![json!("boom 中")]).await?;
    assert_eq!(e.class, "org.tianlu.interop.BusinessException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("boom 中"), "{e:?}");
    let e = exception(
        &ep,
        "failRuntime",
        &["java.lang.String"],
        vec![json!("bad state")],
    )
    .await?;
    assert_eq!(e.class, "java.lang.IllegalStateException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("bad state"), "{e:?}");
    check_echo(
        &ep,
        "echoString",
        "java.lang.String",
        json!("after"),
        json!("after"),
    )
    .await
}

#[tokio::test]
async fn raw_mode_exceptions_keep_custom_fields_and_a_dead_provider_is_unreachable(
) -> anyhow::Result<()> {
    let mut provider = JavaProvider::start(
        ProviderOptions::default()
            .with_tri()
            .app("tianlu-interop-tri-raw")
            .generic_exception(GenericExceptionMode::Raw),
    )?;
    let addr = provider
        .tri_addr()
        .ok_or_else(|| anyhow!("no Triple port"))?;
    let ep = TripleEndpoint::new(addr, TripleConfig::default());
    let e = exception(&ep, "fail", &["java.lang.String"], vec![json!("boom")]).await?;
    assert_eq!(e.class, "org.tianlu.interop.BusinessException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("boom"), "{e:?}");
    assert_eq!(e.fields.get("code"), Some(&json!(42)), "{e:?}");
    assert_eq!(e.fields.get("reason"), Some(&json!("rejected")), "{e:?}");
    assert_eq!(
        e.fields.get("detail"),
        Some(&json!({"msg": "boom", "source": "TypesService.fail"})),
        "{e:?}"
    );
    assert!(ep.is_connected());

    // The provider dies: the connection is noticed closed, and the next call cannot connect
    // (nothing sent, so a gateway may fail over).
    provider.stop();
    let inv = generic_invocation(TYPES, "echoInt", &["int"], &[json!(1)], None)?;
    let mut last = None;
    for _ in 0..3 {
        match ep.call(&inv, CALL_TIMEOUT).await {
            Err(e @ CallError::Connect { .. }) => {
                last = Some(e);
                break;
            }
            Err(e) => last = Some(e),
            Ok(resp) => bail!("a stopped provider answered {resp:?}"),
        }
    }
    match last {
        Some(e @ CallError::Connect { .. }) => assert!(!e.reached_provider()),
        other => bail!("expected a connect error after the provider stopped, got {other:?}"),
    }
    assert!(!ep.is_connected());
    Ok(())
}

#[tokio::test]
async fn unknown_methods_services_and_groups() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let inv = generic_invocation(
        TYPES,
        "noSuchMethod",
        &["java.lang.String"],
        &[json!("x")],
        None,
    )?;
    expect_refusal(&ep, inv, "noSuchMethod").await?;

    // No invoker for the path: gRPC UNIMPLEMENTED, the table's "service not found".
    let inv = generic_invocation("org.tianlu.interop.Missing", "x", &[], &[], None)?;
    match ep.call(&inv, CALL_TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceNotFound, "{message}");
            assert!(message.contains("UNIMPLEMENTED"), "{message}");
        }
        other => bail!("a missing service gave {other:?}"),
    }

    // Versions and groups travel as tri-service-version / tri-service-group.
    let who = |group: Option<&str>| {
        generic_invocation(USERS, "whoAmI", &[], &[], None).map(|inv| {
            inv.with_version(Some("1.0.0".into()))
                .with_group(group.map(String::from))
        })
    };
    match invoke_with(&ep, who(None)?, &OutputOptions::full()).await? {
        Reply::Value(v) => assert_eq!(v, json!("tianlu-interop")),
        other => bail!("{other:?}"),
    }
    match invoke_with(&ep, who(Some("g2"))?, &OutputOptions::full()).await? {
        Reply::Value(v) => assert_eq!(v, json!("tianlu-interop@g2")),
        other => bail!("{other:?}"),
    }
    let inv = generic_invocation(USERS, "getUser", &["long"], &[json!(1)], None)?
        .with_version(Some("1.0.0".into()));
    match invoke_with(&ep, inv, &OutputOptions::full()).await? {
        Reply::Value(v) => {
            assert_eq!(v["class"], json!("org.tianlu.interop.User"));
            assert_eq!(v["name"], json!("alice"));
        }
        Reply::Exception(e) => bail!("getUser threw {}", e.summary()),
    }
    check_echo(&ep, "echoInt", "int", json!(1), json!(1)).await
}

// ---------------------------------------------------------------- deadlines, sizes, streams

#[tokio::test]
async fn deadline_expires_and_the_connection_stays_usable() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let inv = generic_invocation(TYPES, "slow", &["int"], &[json!(2000)], None)?;
    match ep.call(&inv, Duration::from_millis(300)).await {
        Err(CallError::Timeout { after }) => assert_eq!(after, Duration::from_millis(300)),
        Ok(resp) => bail!("slow(2000) answered within a 300 ms deadline: {resp:?}"),
        Err(other) => bail!("slow(2000) failed with {other} instead of a timeout"),
    }
    assert!(ep.is_connected());
    assert_eq!(ep.in_flight(), 0);
    check_echo(
        &ep,
        "echoString",
        "java.lang.String",
        json!("still here"),
        json!("still here"),
    )
    .await?;
    assert_eq!(
        value(&ep, "slow", &["int"], vec![json!(300)]).await?,
        json!("done")
    );
    Ok(())
}

#[tokio::test]
async fn one_mebibyte_both_ways_and_the_response_limit() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let n = 1 << 20;
    let got = value(&ep, "bigBytes", &["int"], vec![json!(n)]).await?;
    let bytes = unb64(&got)?;
    assert!(bytes == big_bytes(n), "bigBytes({n}) differs");
    let got = value(&ep, "echoBytes", &["byte[]"], vec![json!(b64(&bytes))]).await?;
    assert!(unb64(&got)? == bytes, "1 MiB echoBytes differs");
    let s = big_string(n);
    let got = value(&ep, "echoString", &["java.lang.String"], vec![json!(s)]).await?;
    assert!(
        got.as_str() == Some(s.as_str()),
        "1 Mi-unit echoString differs"
    );

    // A 256 KiB limit: a bigger reply is refused, a bigger request is never sent.
    let addr = ep.addr();
    let small = TripleEndpoint::new(
        addr,
        TripleConfig {
            max_message: 256 * 1024,
            ..TripleConfig::default()
        },
    );
    let inv = generic_invocation(TYPES, "bigBytes", &["int"], &[json!(300_000)], None)?;
    match small.call(&inv, CALL_TIMEOUT).await {
        Err(CallError::ResponseTooLarge { size, limit }) => {
            assert!(size > limit, "{size} {limit}");
            assert_eq!(limit, 256 * 1024);
        }
        other => bail!("an oversized reply gave {other:?}"),
    }
    let inv = generic_invocation(
        TYPES,
        "echoBytes",
        &["byte[]"],
        &[json!(b64(&big_bytes(300_000)))],
        None,
    )?;
    match small.call(&inv, CALL_TIMEOUT).await {
        Err(e @ CallError::PayloadTooLarge { .. }) => assert!(!e.reached_provider()),
        other => bail!("an oversized request gave {other:?}"),
    }
    let inv = generic_invocation(TYPES, "echoInt", &["int"], &[json!(3)], None)?;
    assert_eq!(
        small.call(&inv, CALL_TIMEOUT).await?.outcome,
        RpcOutcome::Value(Value::Int(3))
    );
    Ok(())
}

/// A thousand calls multiplexed on one HTTP/2 connection, at most 200 streams at a time.
///
/// Why not all 1000 at once (as the Dubbo2 test does): Dubbo 3.3.6 (Netty 4.2.2) then sometimes
/// writes a HEADERS frame header without its 3-byte HPACK block (the next frame's header follows
/// directly: observed in the raw bytes read from the socket), which kills the connection with
/// an HPACK error for every call in flight. tianlu reports those calls as
/// `ConnectionClosed` and reconnects; with 200 streams in flight it was not seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_multiplexed_calls_on_one_connection() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let ep = ep.clone();
        let permits = std::sync::Arc::clone(&permits);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            let text = format!("n-{i}");
            let got = value(&ep, "echoString", &["java.lang.String"], vec![json!(text)]).await?;
            anyhow::ensure!(got == json!(text), "call {i}: sent {text}, got {got}");
            Ok::<usize, anyhow::Error>(i)
        });
    }
    let mut seen = vec![false; 1000];
    while let Some(done) = tasks.join_next().await {
        seen[done??] = true;
    }
    assert!(seen.iter().all(|s| *s), "every call finished");
    assert_eq!(ep.in_flight(), 0);
    assert!(ep.is_connected());
    Ok(())
}

#[tokio::test]
async fn close_then_reconnect_lazily() -> anyhow::Result<()> {
    let ep = shared_endpoint()?;
    assert!(!ep.is_connected(), "nothing connects before the first call");
    check_echo(&ep, "echoInt", "int", json!(1), json!(1)).await?;
    assert!(ep.is_connected());
    ep.close();
    assert!(!ep.is_connected());
    check_echo(&ep, "echoInt", "int", json!(2), json!(2)).await?;
    assert!(ep.is_connected());
    Ok(())
}

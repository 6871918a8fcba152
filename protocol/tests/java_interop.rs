//! End-to-end interop against the real Java Dubbo 3.3 provider (`tests/interop`): our Dubbo2
//! client and our JSON bridge call `org.tianlu.interop.TypesService` / `UserService` and the
//! decoded JSON is checked value by value.
//!
//! Needs Java 17 and Maven (the test kit builds and starts the provider; a missing tool fails the
//! test with the install command). One provider JVM is shared by the whole binary; the tests
//! that need Dubbo's "raw" exception mode start their own.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use serde_json::{json, Value as Json};
use tianlu_protocol::dubbo::{
    CallError, ClientConfig, Connection, Endpoint, RpcOutcome, RpcResponse, Status,
};
use tianlu_protocol::generic::{
    exception_from_value, hessian_to_json, json_args_to_hessian, InputPolicy, JavaException,
    JavaType, OutputOptions,
};
use tianlu_protocol::hessian2::Value;
use tianlu_protocol::invocation::Invocation;
use tianlu_testkit::{GenericExceptionMode, JavaProvider, ProviderOptions};

const TYPES: &str = "org.tianlu.interop.TypesService";
const USERS: &str = "org.tianlu.interop.UserService";
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- client helpers

async fn connect(addr: SocketAddr) -> anyhow::Result<Connection> {
    Connection::connect(addr, &ClientConfig::default())
        .await
        .with_context(|| format!("connecting to the Java provider at {addr}"))
}

async fn shared_conn() -> anyhow::Result<Connection> {
    connect(JavaProvider::shared()?.dubbo_addr()).await
}

async fn call(
    conn: &Connection,
    inv: Invocation,
    timeout: Duration,
) -> Result<RpcResponse, CallError> {
    conn.call(&inv, timeout).await
}

/// What a generic call produced, as JSON.
#[derive(Debug)]
enum Reply {
    /// A value (`null` for null and void).
    Value(Json),
    /// A Java exception.
    Exception(JavaException),
}

/// A generic `$invoke` built by the JSON bridge from Java type names and JSON arguments.
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
    conn: &Connection,
    inv: Invocation,
    opts: &OutputOptions,
) -> anyhow::Result<Reply> {
    let what = format!("{}#{:?}", inv.service, inv.generic_target_method());
    let resp = call(conn, inv, CALL_TIMEOUT)
        .await
        .with_context(|| format!("calling {what}"))?;
    reply_of(resp, opts)
}

/// Calls `TypesService.method(types…)` with JSON args; full output options.
async fn invoke(
    conn: &Connection,
    method: &str,
    types: &[&str],
    args: Vec<Json>,
) -> anyhow::Result<Reply> {
    let inv = generic_invocation(TYPES, method, types, &args, None)?;
    invoke_with(conn, inv, &OutputOptions::full()).await
}

/// Like [`invoke`] but the call must return a value.
async fn value(
    conn: &Connection,
    method: &str,
    types: &[&str],
    args: Vec<Json>,
) -> anyhow::Result<Json> {
    match invoke(conn, method, types, args).await? {
        Reply::Value(v) => Ok(v),
        Reply::Exception(e) => bail!("{method} threw {}", e.summary()),
    }
}

/// Like [`invoke`] but the call must throw.
async fn exception(
    conn: &Connection,
    method: &str,
    types: &[&str],
    args: Vec<Json>,
) -> anyhow::Result<JavaException> {
    match invoke(conn, method, types, args).await? {
        Reply::Exception(e) => Ok(e),
        Reply::Value(v) => bail!("{method} returned {v} instead of throwing"),
    }
}

/// Echo through `method(ty)` and expect `expected` back.
async fn check_echo(
    conn: &Connection,
    method: &str,
    ty: &str,
    input: Json,
    expected: Json,
) -> anyhow::Result<()> {
    let got = value(conn, method, &[ty], vec![input.clone()]).await?;
    if got != expected {
        bail!("{method}({ty}) with {input}: expected {expected}, got {got}");
    }
    Ok(())
}

/// The string `TypesService.bigString(n)` builds: exactly n UTF-16 units cycling through these
/// tokens, an `x` where a token would overflow.
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

/// The bytes `TypesService.bigBytes(n)` builds: byte i = (i * 31 + 7) mod 256.
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

// ---------------------------------------------------------------- primitives and wrappers

/// What a Java `float` parameter returns: narrowed to f32, then sent as the double whose text is
/// the float's shortest decimal representation (hessian-lite's `BasicSerializer`).
fn float_on_wire(x: f64) -> f64 {
    let narrowed = x as f32;
    narrowed
        .to_string()
        .parse::<f64>()
        .expect("a float's text parses as a double")
}

#[tokio::test]
async fn primitives_and_wrappers_round_trip() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let cases: Vec<(&str, &str, Json, Json)> = vec![
        ("echoInt", "int", json!(0), json!(0)),
        ("echoInt", "int", json!(-17), json!(-17)),
        ("echoInt", "int", json!(i32::MAX), json!(i32::MAX)),
        ("echoInt", "int", json!(i32::MIN), json!(i32::MIN)),
        ("echoInt", "int", json!("123"), json!(123)),
        ("echoInteger", "java.lang.Integer", json!(2047), json!(2047)),
        ("echoInteger", "java.lang.Integer", Json::Null, Json::Null),
        ("echoLong", "long", json!(0), json!(0)),
        (
            "echoLong",
            "long",
            json!(3_000_000_000i64),
            json!(3_000_000_000i64),
        ),
        // Beyond 2^53: sent as a string, returned as a string (JSON numbers would lose digits).
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
        // Java narrows to float; hessian-lite writes a float as the double of its shortest
        // decimal text (`Double.parseDouble(String.valueOf(f))`), so 0.1 comes back as 0.1.
        ("echoFloat", "float", json!(0.1), json!(float_on_wire(0.1))),
        (
            "echoFloat",
            "float",
            json!(123.456789012345),
            json!(float_on_wire(123.456789012345)),
        ),
        (
            "echoFloat",
            "float",
            json!(16_777_217),
            json!(float_on_wire(16_777_217.0)),
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
        ("echoDouble", "double", json!(-0.001), json!(-0.001)),
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
        check_echo(&conn, method, ty, input, expected).await?;
    }
    Ok(())
}

#[tokio::test]
async fn describe_shows_how_arguments_were_boxed() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let cases = [
        (json!(1), "java.lang.Integer:1"),
        (json!(-2147483648i64), "java.lang.Integer:-2147483648"),
        (json!(2147483648i64), "java.lang.Long:2147483648"),
        (json!(1.5), "java.lang.Double:1.5"),
        (json!("s"), "java.lang.String:s"),
        (json!(true), "java.lang.Boolean:true"),
        (Json::Null, "null"),
    ];
    for (input, expected) in cases {
        let got = value(
            &conn,
            "describe",
            &["java.lang.Object"],
            vec![input.clone()],
        )
        .await?;
        assert_eq!(got, json!(expected), "describe({input})");
    }
    // A map naming an allowed class becomes that POJO on the provider.
    let mut policy = InputPolicy::for_types(&[JavaType::Object]);
    policy.allow_package("org.tianlu.interop");
    let inv = generic_invocation(
        TYPES,
        "describe",
        &["java.lang.Object"],
        &[json!({"class": "org.tianlu.interop.Address", "city": "Hangzhou", "zip": "310000"})],
        Some(policy),
    )?;
    match invoke_with(&conn, inv, &OutputOptions::full()).await? {
        Reply::Value(v) => assert_eq!(
            v,
            json!("org.tianlu.interop.Address:Address{city=Hangzhou, zip=310000}")
        ),
        Reply::Exception(e) => bail!("describe(Address) threw {}", e.summary()),
    }
    Ok(())
}

// ---------------------------------------------------------------- strings

#[tokio::test]
async fn strings_keep_every_code_point() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let samples = [
        "",
        "hello",
        "你好，世界",
        "😀👍🏽🇨🇳",
        "mixed: a中😀b\u{0}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
        "line\nbreak\ttab \"quote\" \\ backslash",
    ];
    for s in samples {
        check_echo(&conn, "echoString", "java.lang.String", json!(s), json!(s)).await?;
        // Java's view: UTF-16 length and code points.
        let expected = format!("{}:{}", s.encode_utf16().count(), s.chars().count());
        let got = value(&conn, "lengthOf", &["java.lang.String"], vec![json!(s)]).await?;
        assert_eq!(got, json!(expected), "lengthOf({s:?})");
    }
    check_echo(
        &conn,
        "echoString",
        "java.lang.String",
        Json::Null,
        Json::Null,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn strings_longer_than_64_kib() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    // Java builds it: more than one 0x8000-unit chunk, surrogate pairs across chunk borders.
    for n in [0x7fff, 0x8000, 0x8001, 70_000, 200_003] {
        let got = value(&conn, "bigString", &["int"], vec![json!(n)]).await?;
        let expected = big_string(n);
        let got = got
            .as_str()
            .ok_or_else(|| anyhow!("bigString({n}) gave {got}"))?;
        assert_eq!(got.encode_utf16().count(), n, "bigString({n}) length");
        assert!(
            got == expected,
            "bigString({n}) differs from the expected text"
        );
    }
    // We build it: Java must see the same UTF-16 length and code points, and echo it intact.
    let s = big_string(150_001);
    let expected = format!("{}:{}", s.encode_utf16().count(), s.chars().count());
    let got = value(&conn, "lengthOf", &["java.lang.String"], vec![json!(s)]).await?;
    assert_eq!(got, json!(expected));
    let echoed = value(&conn, "echoString", &["java.lang.String"], vec![json!(s)]).await?;
    assert!(
        echoed.as_str() == Some(s.as_str()),
        "150k string echo differs"
    );
    Ok(())
}

// ---------------------------------------------------------------- dates, big numbers, enums

#[tokio::test]
async fn dates_big_numbers_and_enums() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
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
        (json!(0), "1970-01-01T00:00:00.000Z"),
    ];
    for (input, expected) in dates {
        check_echo(&conn, "echoDate", "java.util.Date", input, json!(expected)).await?;
    }
    check_echo(&conn, "echoDate", "java.util.Date", Json::Null, Json::Null).await?;

    // BigDecimal: exact digits both ways, as hessian-lite's {value} object or flattened.
    let decimals = ["0", "-1.50", "12345678901234567890.123456789", "1E+400"];
    for d in decimals {
        let got = value(
            &conn,
            "echoBigDecimal",
            &["java.math.BigDecimal"],
            vec![json!(d)],
        )
        .await?;
        assert_eq!(
            got,
            json!({"class": "java.math.BigDecimal", "value": d}),
            "echoBigDecimal({d})"
        );
        let inv = generic_invocation(
            TYPES,
            "echoBigDecimal",
            &["java.math.BigDecimal"],
            &[json!(d)],
            None,
        )?;
        match invoke_with(&conn, inv, &OutputOptions::pixiu()).await? {
            Reply::Value(v) => assert_eq!(v, json!(d), "flattened echoBigDecimal({d})"),
            Reply::Exception(e) => bail!("echoBigDecimal threw {}", e.summary()),
        }
    }
    // A JSON number works too.
    let got = value(
        &conn,
        "echoBigDecimal",
        &["java.math.BigDecimal"],
        vec![json!(2.5)],
    )
    .await?;
    assert_eq!(
        got,
        json!({"class": "java.math.BigDecimal", "value": "2.5"})
    );

    // BigInteger: flattened to the exact decimal text, whatever the magnitude and sign.
    let integers = [
        "0",
        "1",
        "-1",
        "4294967296",
        "-18446744073709551616",
        "123456789012345678901234567890123456789",
    ];
    for i in integers {
        let inv = generic_invocation(
            TYPES,
            "echoBigInteger",
            &["java.math.BigInteger"],
            &[json!(i)],
            None,
        )?;
        match invoke_with(&conn, inv, &OutputOptions::pixiu()).await? {
            Reply::Value(v) => assert_eq!(v, json!(i), "echoBigInteger({i})"),
            Reply::Exception(e) => bail!("echoBigInteger({i}) threw {}", e.summary()),
        }
    }

    // Enums travel as their names.
    for c in ["RED", "GREEN", "BLUE"] {
        check_echo(
            &conn,
            "echoColor",
            "org.tianlu.interop.Color",
            json!(c),
            json!(c),
        )
        .await?;
    }
    check_echo(
        &conn,
        "echoColor",
        "org.tianlu.interop.Color",
        Json::Null,
        Json::Null,
    )
    .await?;
    // An unknown constant is rejected by the provider, not silently mapped.
    let inv = generic_invocation(
        TYPES,
        "echoColor",
        &["org.tianlu.interop.Color"],
        &[json!("PURPLE")],
        None,
    )?;
    match call(&conn, inv, CALL_TIMEOUT).await {
        Err(CallError::Status { message, .. }) => {
            assert!(message.contains("PURPLE"), "{message}")
        }
        Ok(resp) => match reply_of(resp, &OutputOptions::full())? {
            Reply::Exception(e) => assert!(e.summary().contains("PURPLE"), "{}", e.summary()),
            Reply::Value(v) => bail!("echoColor(PURPLE) returned {v}"),
        },
        Err(other) => bail!("echoColor(PURPLE) failed with {other}"),
    }
    Ok(())
}

// ---------------------------------------------------------------- bytes, arrays, collections

#[tokio::test]
async fn bytes_arrays_and_collections() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    for bytes in [vec![], vec![0u8, 1, 2, 127, 128, 255], big_bytes(70_000)] {
        let got = value(&conn, "echoBytes", &["byte[]"], vec![json!(b64(&bytes))]).await?;
        assert_eq!(unb64(&got)?, bytes, "echoBytes of {} bytes", bytes.len());
    }
    // A JSON array of numbers is accepted for byte[] as well.
    let got = value(
        &conn,
        "echoBytes",
        &["byte[]"],
        vec![json!([1, -1, 127, -128])],
    )
    .await?;
    assert_eq!(unb64(&got)?, vec![1u8, 255, 127, 128]);

    check_echo(
        &conn,
        "echoIntArray",
        "int[]",
        json!([1, -2, i32::MAX, i32::MIN]),
        json!([1, -2, i32::MAX, i32::MIN]),
    )
    .await?;
    check_echo(&conn, "echoIntArray", "int[]", json!([]), json!([])).await?;
    check_echo(
        &conn,
        "echoStringArray",
        "java.lang.String[]",
        json!(["a", null, "中😀"]),
        json!(["a", null, "中😀"]),
    )
    .await?;
    check_echo(
        &conn,
        "echoList",
        "java.util.List<java.lang.String>",
        json!(["x", "y", "x"]),
        json!(["x", "y", "x"]),
    )
    .await?;
    let set = value(
        &conn,
        "echoSet",
        &["java.util.Set<java.lang.Integer>"],
        vec![json!([3, 1, 2, 3])],
    )
    .await?;
    let mut items: Vec<i64> = set
        .as_array()
        .ok_or_else(|| anyhow!("echoSet gave {set}"))?
        .iter()
        .map(|v| v.as_i64().ok_or_else(|| anyhow!("set item {v}")))
        .collect::<anyhow::Result<_>>()?;
    items.sort_unstable();
    assert_eq!(items, vec![1, 2, 3]);

    let map = value(
        &conn,
        "echoMap",
        &["java.util.Map<java.lang.String,java.lang.Integer>"],
        vec![json!({"a": 1, "b": -2, "中": i32::MAX})],
    )
    .await?;
    assert_eq!(map, json!({"a": 1, "b": -2, "中": i32::MAX}));

    let sum = value(
        &conn,
        "sumList",
        &["java.util.List<java.lang.Integer>"],
        vec![json!([1, 2, 3, 4])],
    )
    .await?;
    assert_eq!(sum, json!(10));
    Ok(())
}

// ---------------------------------------------------------------- POJOs

fn sample_user(name: &str, id: i64) -> Json {
    json!({
        "name": name,
        "age": 33,
        "id": id,
        "address": {"city": "Hangzhou", "zip": "310000"},
        "history": [{"city": "Beijing", "zip": "100000"}, {"city": "Shanghai", "zip": "200000"}],
        "favorite": "BLUE",
        // Inside a POJO the bridge does not know the field is a Date: PojoUtils converts the
        // string with "yyyy-MM-dd HH:mm:ss" in the provider's zone (UTC here), or epoch millis.
        "created": "2024-01-02 03:04:05",
        "balance": "1234.50"
    })
}

/// The generalized form Java sends back for [`sample_user`].
fn expected_user(name: &str, id: Json) -> Json {
    json!({
        "class": "org.tianlu.interop.User",
        "name": name,
        "age": 33,
        "id": id,
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

/// Compares objects ignoring key order (Java's generalized maps are HashMaps).
fn assert_same_json(got: &Json, expected: &Json, what: &str) {
    assert_eq!(
        normalize(got),
        normalize(expected),
        "{what}:\n got      {got}\n expected {expected}"
    );
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

#[tokio::test]
async fn pojos_nested_pojos_and_lists_of_pojos() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let got = value(
        &conn,
        "echoUser",
        &["org.tianlu.interop.User"],
        vec![sample_user("Ann", 7)],
    )
    .await?;
    assert_same_json(&got, &expected_user("Ann", json!(7)), "echoUser");

    // A long id beyond 2^53 survives as a string; a date field given as epoch millis.
    let big_id = "9007199254740993";
    let mut user = sample_user("Big", 0);
    user["id"] = json!(big_id);
    user["created"] = json!(1_704_164_645_678i64);
    let got = value(&conn, "echoUser", &["org.tianlu.interop.User"], vec![user]).await?;
    let mut expected = expected_user("Big", json!(big_id));
    expected["created"] = json!("2024-01-02T03:04:05.678Z");
    assert_same_json(&got, &expected, "echoUser(big id, millis date)");

    // An ISO date inside a POJO is not understood by PojoUtils (the bridge cannot know the
    // field's type): the provider refuses the call with status 70, naming the date.
    let mut user = sample_user("Iso", 1);
    user["created"] = json!("2024-01-02T03:04:05.678Z");
    let inv = generic_invocation(
        TYPES,
        "echoUser",
        &["org.tianlu.interop.User"],
        &[user],
        None,
    )?;
    match call(&conn, inv, CALL_TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceError, "{message}");
            assert!(message.contains("2024-01-02T03:04:05.678Z"), "{message}");
        }
        other => bail!("ISO date inside a POJO gave {other:?}"),
    }

    // Missing fields come back with Java's defaults / nulls.
    let got = value(
        &conn,
        "echoUser",
        &["org.tianlu.interop.User"],
        vec![json!({"name": "Min"})],
    )
    .await?;
    assert_same_json(
        &got,
        &json!({
            "class": "org.tianlu.interop.User", "name": "Min", "age": 0, "id": 0,
            "address": null, "history": null, "favorite": null, "created": null, "balance": null
        }),
        "echoUser(minimal)",
    );

    let nested = value(
        &conn,
        "echoNested",
        &["java.util.Map<java.lang.String,java.util.List<org.tianlu.interop.User>>"],
        vec![json!({"team-a": [sample_user("A1", 1), sample_user("A2", 2)], "empty": []})],
    )
    .await?;
    assert_same_json(
        &nested,
        &json!({
            "team-a": [expected_user("A1", json!(1)), expected_user("A2", json!(2))],
            "empty": []
        }),
        "echoNested",
    );

    // Object-typed slot: a map with "class" is realized as that POJO and generalized back.
    let mut policy = InputPolicy::for_types(&[JavaType::Object]);
    policy.allow_package("org.tianlu.interop");
    let mut user = sample_user("Obj", 9);
    if let Some(m) = user.as_object_mut() {
        m.insert("class".into(), json!("org.tianlu.interop.User"));
    }
    let inv = generic_invocation(
        TYPES,
        "echoObject",
        &["java.lang.Object"],
        &[user],
        Some(policy),
    )?;
    match invoke_with(&conn, inv, &OutputOptions::full()).await? {
        Reply::Value(v) => {
            assert_same_json(&v, &expected_user("Obj", json!(9)), "echoObject(User)")
        }
        Reply::Exception(e) => bail!("echoObject threw {}", e.summary()),
    }
    let got = value(
        &conn,
        "echoObject",
        &["java.lang.Object"],
        vec![json!([1, "two", null, 3.5])],
    )
    .await?;
    assert_eq!(got, json!([1, "two", null, 3.5]));
    Ok(())
}

#[tokio::test]
async fn nulls_void_and_overloads() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    assert_eq!(value(&conn, "nullUser", &[], vec![]).await?, Json::Null);
    check_echo(
        &conn,
        "echoUser",
        "org.tianlu.interop.User",
        Json::Null,
        Json::Null,
    )
    .await?;
    let got = value(
        &conn,
        "concat",
        &["java.lang.String", "java.lang.String"],
        vec![Json::Null, json!("b")],
    )
    .await?;
    assert_eq!(got, json!("nullb"));
    let got = value(
        &conn,
        "concat",
        &["java.lang.String", "java.lang.String"],
        vec![json!("a"), json!("中")],
    )
    .await?;
    assert_eq!(got, json!("a中"));
    assert_eq!(
        value(&conn, "doNothing", &["java.lang.String"], vec![json!("x")]).await?,
        Json::Null
    );

    // The parameter types pick the overload.
    let got = value(&conn, "over", &["java.lang.String"], vec![json!("s")]).await?;
    assert_eq!(got, json!("over(String):s"));
    let got = value(&conn, "over", &["int"], vec![json!(5)]).await?;
    assert_eq!(got, json!("over(int):5"));
    let got = value(
        &conn,
        "over",
        &["java.lang.String", "int"],
        vec![json!("s"), json!(6)],
    )
    .await?;
    assert_eq!(got, json!("over(String,int):s,6"));
    Ok(())
}

// ---------------------------------------------------------------- exceptions

#[tokio::test]
async fn exceptions_in_dubbo_default_mode() -> anyhow::Result<()> {
    // The shared provider runs with Dubbo's defaults: generic calls see exceptions wrapped in
    // com.alibaba.dubbo.rpc.service.GenericException, which our bridge unwraps to the real class.
    let conn = shared_conn().await?;
    let e = exception(&conn, "fail", &["java.lang.String"], vec![json!("boom 中")]).await?;
    assert_eq!(e.class, "org.tianlu.interop.BusinessException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("boom 中"), "{e:?}");

    let e = exception(
        &conn,
        "failRuntime",
        &["java.lang.String"],
        vec![json!("bad state")],
    )
    .await?;
    assert_eq!(e.class, "java.lang.IllegalStateException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("bad state"), "{e:?}");

    // The connection is fine afterwards.
    check_echo(
        &conn,
        "echoString",
        "java.lang.String",
        json!("after"),
        json!("after"),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn exceptions_with_custom_fields_in_raw_mode() -> anyhow::Result<()> {
    let provider = JavaProvider::start(
        ProviderOptions::default()
            .app("tianlu-interop-raw")
            .generic_exception(GenericExceptionMode::Raw),
    )?;
    let conn = connect(provider.dubbo_addr()).await?;
    let e = exception(&conn, "fail", &["java.lang.String"], vec![json!("boom")]).await?;
    assert_eq!(e.class, "org.tianlu.interop.BusinessException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("boom"), "{e:?}");
    assert_eq!(e.fields.get("code"), Some(&json!(42)), "{e:?}");
    assert_eq!(e.fields.get("reason"), Some(&json!("rejected")), "{e:?}");
    assert_eq!(
        e.fields.get("detail"),
        Some(&json!({"msg": "boom", "source": "TypesService.fail"})),
        "{e:?}"
    );
    let exported = e.to_json();
    assert_eq!(
        exported["exception"],
        json!("org.tianlu.interop.BusinessException")
    );
    assert_eq!(exported["message"], json!("boom"));

    let e = exception(
        &conn,
        "failRuntime",
        &["java.lang.String"],
        vec![json!("bad state")],
    )
    .await?;
    assert_eq!(e.class, "java.lang.IllegalStateException", "{e:?}");
    assert_eq!(e.message.as_deref(), Some("bad state"), "{e:?}");
    assert!(e.fields.is_empty(), "no custom fields expected: {e:?}");
    Ok(())
}

#[tokio::test]
async fn unknown_method_and_service_are_provider_errors() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let inv = generic_invocation(
        TYPES,
        "noSuchMethod",
        &["java.lang.String"],
        &[json!("x")],
        None,
    )?;
    match call(&conn, inv, CALL_TIMEOUT).await {
        Err(CallError::Status { message, .. }) => {
            assert!(message.contains("noSuchMethod"), "{message}")
        }
        Ok(resp) => match reply_of(resp, &OutputOptions::full())? {
            Reply::Exception(e) => assert!(e.summary().contains("noSuchMethod"), "{}", e.summary()),
            Reply::Value(v) => bail!("noSuchMethod returned {v}"),
        },
        Err(other) => bail!("noSuchMethod failed with {other}"),
    }
    // An unknown service is refused while the body is decoded (Dubbo's serialization check
    // looks the service up first): status 40 BAD_REQUEST.
    let inv = generic_invocation("org.tianlu.interop.Missing", "x", &[], &[], None)?;
    match call(&conn, inv, CALL_TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::BadRequest, "{message}");
            assert!(message.contains("Fail to decode request"), "{message}");
        }
        other => bail!("call to a missing service gave {other:?}"),
    }
    // Still usable.
    check_echo(&conn, "echoInt", "int", json!(1), json!(1)).await?;
    Ok(())
}

// ---------------------------------------------------------------- deadlines, size, concurrency

#[tokio::test]
async fn deadline_expires_and_connection_stays_usable() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let inv = generic_invocation(TYPES, "slow", &["int"], &[json!(2000)], None)?;
    match call(&conn, inv, Duration::from_millis(300)).await {
        Err(CallError::Timeout { after }) => assert_eq!(after, Duration::from_millis(300)),
        Ok(resp) => bail!("slow(2000) answered within a 300 ms deadline: {resp:?}"),
        Err(other) => bail!("slow(2000) failed with {other} instead of a timeout"),
    }
    // The same connection serves the next call while the provider still sleeps.
    check_echo(
        &conn,
        "echoString",
        "java.lang.String",
        json!("still here"),
        json!("still here"),
    )
    .await?;
    // And after the late "done" answer has arrived (and been discarded).
    let done = value(&conn, "slow", &["int"], vec![json!(2500)]).await?;
    assert_eq!(done, json!("done"));
    check_echo(
        &conn,
        "echoString",
        "java.lang.String",
        json!("later"),
        json!("later"),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn one_mebibyte_payloads_both_ways() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let n = 1 << 20;
    // Provider → us.
    let got = value(&conn, "bigBytes", &["int"], vec![json!(n)]).await?;
    let bytes = unb64(&got)?;
    assert!(bytes == big_bytes(n), "bigBytes({n}) differs");
    // Us → provider → us.
    let got = value(&conn, "echoBytes", &["byte[]"], vec![json!(b64(&bytes))]).await?;
    assert!(unb64(&got)? == bytes, "1 MiB echoBytes differs");
    // A 1 Mi-unit string (ASCII, CJK and surrogate pairs) both ways.
    let s = big_string(n);
    let got = value(&conn, "bigString", &["int"], vec![json!(n)]).await?;
    assert!(got.as_str() == Some(s.as_str()), "bigString({n}) differs");
    let got = value(&conn, "echoString", &["java.lang.String"], vec![json!(s)]).await?;
    assert!(
        got.as_str() == Some(s.as_str()),
        "1 Mi-unit echoString differs"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_one_connection() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let conn = conn.clone();
        tasks.spawn(async move {
            let text = format!("n-{i}");
            let got = value(
                &conn,
                "echoString",
                &["java.lang.String"],
                vec![json!(text)],
            )
            .await?;
            anyhow::ensure!(got == json!(text), "call {i}: sent {text}, got {got}");
            Ok::<usize, anyhow::Error>(i)
        });
    }
    let mut seen = vec![false; 1000];
    while let Some(done) = tasks.join_next().await {
        let i = done??;
        seen[i] = true;
    }
    assert!(seen.iter().all(|s| *s), "every call finished");
    Ok(())
}

// ---------------------------------------------------------------- direct calls, versions, groups

#[tokio::test]
async fn direct_non_generic_call() -> anyhow::Result<()> {
    let conn = shared_conn().await?;
    let inv = Invocation {
        service: TYPES.into(),
        version: None,
        group: None,
        method: "echoInt".into(),
        parameter_types: vec!["int".into()],
        args: vec![Value::Int(7)],
        attachments: Vec::new(),
    };
    let resp = call(&conn, inv, CALL_TIMEOUT).await?;
    assert_eq!(resp.outcome, RpcOutcome::Value(Value::Int(7)));

    let inv = Invocation {
        service: TYPES.into(),
        version: None,
        group: None,
        method: "concat".into(),
        parameter_types: vec!["java.lang.String".into(), "java.lang.String".into()],
        args: vec![Value::String("中".into()), Value::String("😀".into())],
        attachments: Vec::new(),
    };
    let resp = call(&conn, inv, CALL_TIMEOUT).await?;
    assert_eq!(
        resp.outcome,
        RpcOutcome::Value(Value::String("中😀".into()))
    );
    Ok(())
}

#[tokio::test]
async fn versions_and_groups_route_to_the_right_export() -> anyhow::Result<()> {
    let provider = JavaProvider::shared()?;
    let conn = connect(provider.dubbo_addr()).await?;
    let who = |group: Option<&str>| {
        generic_invocation(USERS, "whoAmI", &[], &[], None).map(|inv| {
            inv.with_version(Some("1.0.0".into()))
                .with_group(group.map(String::from))
        })
    };
    let reply = invoke_with(&conn, who(None)?, &OutputOptions::full()).await?;
    assert!(
        matches!(&reply, Reply::Value(v) if v == &json!("tianlu-interop")),
        "{reply:?}"
    );
    let reply = invoke_with(&conn, who(Some("g2"))?, &OutputOptions::full()).await?;
    assert!(
        matches!(&reply, Reply::Value(v) if v == &json!("tianlu-interop@g2")),
        "{reply:?}"
    );

    let inv = generic_invocation(USERS, "getUser", &["long"], &[json!(1)], None)?
        .with_version(Some("1.0.0".into()));
    match invoke_with(&conn, inv, &OutputOptions::full()).await? {
        Reply::Value(v) => {
            assert_eq!(v["class"], json!("org.tianlu.interop.User"));
            assert_eq!(v["name"], json!("alice"));
            assert_eq!(v["id"], json!(1));
            assert_eq!(v["address"]["city"], json!("Hangzhou"));
        }
        Reply::Exception(e) => bail!("getUser threw {}", e.summary()),
    }

    // Without the version the export is not found: status 40, not a hang.
    let inv = generic_invocation(USERS, "whoAmI", &[], &[], None)?;
    match call(&conn, inv, CALL_TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::BadRequest, "{message}")
        }
        other => bail!("unversioned call gave {other:?}"),
    }
    // Right version, unknown group: the exporter lookup fails with 70 SERVICE_ERROR.
    let inv = who(Some("nope"))?;
    match call(&conn, inv, CALL_TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceError, "{message}");
            assert!(message.contains(USERS), "{message}");
        }
        other => bail!("call to an unknown group gave {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn user_service_crud_through_an_endpoint() -> anyhow::Result<()> {
    let provider = JavaProvider::shared()?;
    let endpoint = Endpoint::new(provider.dubbo_addr(), ClientConfig::default());
    let users = |method: &str, types: &[&str], args: Vec<Json>| {
        generic_invocation(USERS, method, types, &args, None)
            .map(|inv| inv.with_version(Some("1.0.0".into())))
    };
    let run = |inv: Invocation| {
        let endpoint = &endpoint;
        async move {
            let resp = endpoint.call(&inv, CALL_TIMEOUT).await?;
            match reply_of(resp, &OutputOptions::full())? {
                Reply::Value(v) => Ok::<Json, anyhow::Error>(v),
                Reply::Exception(e) => {
                    bail!("{:?} threw {}", inv.generic_target_method(), e.summary())
                }
            }
        }
    };

    let created = run(users(
        "createUser",
        &["org.tianlu.interop.User"],
        vec![json!({"name": "zed-crud", "age": 51, "favorite": "GREEN"})],
    )?)
    .await?;
    assert!(endpoint.is_connected());
    let id = created["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("createUser gave {created}"))?;
    assert!(id >= 1000, "ids of created users start at 1000: {created}");
    assert_eq!(created["name"], json!("zed-crud"));
    assert_eq!(created["favorite"], json!("GREEN"));

    let fetched = run(users("getUser", &["long"], vec![json!(id)])?).await?;
    assert_same_json(&fetched, &created, "getUser after createUser");

    let updated = run(users(
        "updateUser",
        &["long", "org.tianlu.interop.User"],
        vec![json!(id), json!({"name": "zed-crud-2", "age": 52})],
    )?)
    .await?;
    assert_eq!(updated["id"], json!(id));
    assert_eq!(updated["name"], json!("zed-crud-2"));
    assert_eq!(updated["age"], json!(52));

    let listed = run(users(
        "listUsers",
        &["java.lang.String", "int"],
        vec![json!("zed-crud"), json!(10)],
    )?)
    .await?;
    let names: Vec<&str> = listed
        .as_array()
        .ok_or_else(|| anyhow!("listUsers gave {listed}"))?
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert!(names.contains(&"zed-crud-2"), "{listed}");

    let seeded = run(users(
        "listUsers",
        &["java.lang.String", "int"],
        vec![Json::Null, json!(2)],
    )?)
    .await?;
    let seeded_names: Vec<&str> = seeded
        .as_array()
        .ok_or_else(|| anyhow!("listUsers gave {seeded}"))?
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(seeded_names, ["alice", "bob"]);

    assert_eq!(
        run(users("deleteUser", &["long"], vec![json!(id)])?).await?,
        json!(true)
    );
    assert_eq!(
        run(users("deleteUser", &["long"], vec![json!(id)])?).await?,
        json!(false)
    );
    assert_eq!(
        run(users("getUser", &["long"], vec![json!(id)])?).await?,
        Json::Null
    );
    Ok(())
}

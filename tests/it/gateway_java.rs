//! The real gateway (in-process, 127.0.0.1:0) in front of the real Apache Dubbo 3.3 Java
//! provider from `tests/interop`: REST routes with path, query and body parameters, nested
//! resources, group/version routing, the universal endpoint and its allowlists, every error
//! status the gateway produces (400/403/404/405/413/500/503/504), and type fidelity through
//! HTTP/JSON.
//!
//! One provider JVM ([`JavaProvider::shared`]) serves every test here except the raw exception /
//! direct-mode test, which starts (and then kills) its own. Each test starts its own gateway
//! from [`API`]. Tests only read the seeded users 1–3 and change only users they created.

use crate::support::{client, conf_yaml, endpoint, Gateway};
use anyhow::{anyhow, ensure, Context, Result};
use base64::Engine as _;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value as Json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tianlu_testkit::{free_port, GenericExceptionMode, JavaProvider, ProviderOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USERS: &str = "org.tianlu.interop.UserService";
const TYPES: &str = "org.tianlu.interop.TypesService";

/// The routes every test's gateway serves. `java` is the shared provider, `dead` a port nothing
/// listens on.
const API: &str = r#"name: gateway-java
description: the Java interop provider behind the real gateway
resources:
  - path: /users
    methods:
      - httpVerb: GET
        inboundRequest:
          queryStrings:
            - { name: name, required: true }
            - { name: limit, required: true }
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: listUsers
          clusterName: java
          parameterTypes: [java.lang.String, int]
          mappingParams:
            - { name: queryStrings.name, mapTo: 0 }
            - { name: queryStrings.limit, mapTo: 1 }
      - httpVerb: POST
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: createUser
          clusterName: java
          parameterTypes: [org.tianlu.interop.User]
          retries: 0
          mappingParams:
            - { name: requestBody._all, mapTo: 0 }
    resources:
      - path: /{id}
        methods:
          - httpVerb: GET
            integrationRequest:
              requestType: dubbo
              interface: org.tianlu.interop.UserService
              version: 1.0.0
              method: getUser
              clusterName: java
              parameterTypes: [long]
              mappingParams:
                - { name: uri.id, mapTo: 0 }
          - httpVerb: PUT
            integrationRequest:
              requestType: dubbo
              interface: org.tianlu.interop.UserService
              version: 1.0.0
              method: updateUser
              clusterName: java
              parameterTypes: [long, org.tianlu.interop.User]
              retries: 0
              mappingParams:
                - { name: uri.id, mapTo: 0 }
                - { name: requestBody._all, mapTo: 1 }
        resources:
          - path: /full
            methods:
              - httpVerb: GET
                integrationRequest:
                  requestType: dubbo
                  interface: org.tianlu.interop.UserService
                  version: 1.0.0
                  method: getUser
                  clusterName: java
                  parameterTypes: [long]
                  response: { keepClass: true, keepNull: true }
                  mappingParams:
                    - { name: uri.id, mapTo: 0 }
  - path: /whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: java
          parameterTypes: []
  - path: /g2/whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          group: g2
          method: whoAmI
          clusterName: java
          parameterTypes: []
  - path: /v9/whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 9.9.9
          method: whoAmI
          clusterName: java
          parameterTypes: []
  - path: /types/long/:value
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: echoLong
          clusterName: java
          parameterTypes: [long]
          mappingParams:
            - { name: uri.value, mapTo: 0 }
  - path: /types/decimal
    methods:
      - httpVerb: POST
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: echoBigDecimal
          clusterName: java
          parameterTypes: [java.math.BigDecimal]
          mappingParams:
            - { name: requestBody.value, mapTo: 0 }
  - path: /types/string
    methods:
      - httpVerb: POST
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: echoString
          clusterName: java
          parameterTypes: [java.lang.String]
          mappingParams:
            - { name: requestBody.value, mapTo: 0 }
  - path: /types/decimal-object
    methods:
      - httpVerb: POST
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: echoBigDecimal
          clusterName: java
          parameterTypes: [java.math.BigDecimal]
          response: { flattenBigNumbers: false, keepClass: true }
          mappingParams:
            - { name: requestBody.value, mapTo: 0 }
  - path: /slow
    methods:
      - httpVerb: GET
        timeout: 500ms
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: slow
          clusterName: java
          parameterTypes: [int]
          mappingParams:
            - { name: queryStrings.ms, mapTo: 0 }
  - path: /fail
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: fail
          clusterName: java
          parameterTypes: [java.lang.String]
          mappingParams:
            - { name: queryStrings.msg, mapTo: 0 }
  - path: /fail-runtime
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.TypesService
          method: failRuntime
          clusterName: java
          parameterTypes: [java.lang.String]
          mappingParams:
            - { name: queryStrings.msg, mapTo: 0 }
  - path: /dead/whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: dead
          parameterTypes: []
  - path: /invoke/:interface
    methods:
      - httpVerb: POST
        integrationRequest:
          clusterName: java
          allowInterfaces: [org.tianlu.interop.TypesService]
          allowClasses: [org.tianlu.interop.*]
          mappingParams:
            - { name: uri.interface, mapTo: opt.interface }
            - { name: queryStrings.method, mapTo: opt.method }
            - { name: requestBody.types, mapTo: opt.types }
            - { name: requestBody.values, mapTo: opt.values }
  # The same universal endpoint in front of a dead port: a 403 here proves that the refusal
  # happened in the gateway, before any provider call (which would have been a 503).
  - path: /guarded/invoke/:interface
    methods:
      - httpVerb: POST
        integrationRequest:
          clusterName: dead
          allowInterfaces: [org.tianlu.interop.TypesService]
          allowClasses: [org.tianlu.interop.*]
          mappingParams:
            - { name: uri.interface, mapTo: opt.interface }
            - { name: queryStrings.method, mapTo: opt.method }
            - { name: requestBody.types, mapTo: opt.types }
            - { name: requestBody.values, mapTo: opt.values }
"#;

// ---------------------------------------------------------------- helpers

/// The shared provider, started (and built) off the async worker threads.
async fn shared_provider() -> Result<&'static JavaProvider> {
    tokio::task::spawn_blocking(JavaProvider::shared).await?
}

/// A gateway serving [`API`] in front of the shared provider (`java`) and a dead port (`dead`).
async fn start_gateway(tag: &str) -> Result<Gateway> {
    let provider = shared_provider().await?;
    let dead: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let clusters = format!(
        "    - name: java\n      endpoints:\n{}    - name: dead\n      endpoints:\n{}",
        endpoint(provider.dubbo_addr(), 100),
        endpoint(dead, 100)
    );
    Gateway::start(tag, &conf_yaml(&clusters, "10s"), API).await
}

/// One HTTP answer: status, headers, and the body parsed as JSON.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Json,
}

async fn send(req: RequestBuilder) -> Result<Reply> {
    let resp = req.send().await.context("sending the request")?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.context("reading the response body")?;
    let body = serde_json::from_str(&text)
        .with_context(|| format!("{status}: response body is not JSON: {text:?}"))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

async fn get(gw: &Gateway, path: &str) -> Result<Reply> {
    send(client().get(gw.url(path))).await
}

async fn post(gw: &Gateway, path: &str, body: &Json) -> Result<Reply> {
    send(client().post(gw.url(path)).json(body)).await
}

async fn put(gw: &Gateway, path: &str, body: &Json) -> Result<Reply> {
    send(client().put(gw.url(path)).json(body)).await
}

/// A call through a universal endpoint (`prefix` is `/invoke` or `/guarded/invoke`).
async fn invoke_at(
    gw: &Gateway,
    prefix: &str,
    interface: &str,
    method: &str,
    types: Json,
    values: Json,
) -> Result<Reply> {
    post(
        gw,
        &format!("{prefix}/{interface}?method={method}"),
        &json!({"types": types, "values": values}),
    )
    .await
}

/// `TypesService.method` through `/invoke`; the call must answer 200. Returns the JSON value.
async fn types_call(gw: &Gateway, method: &str, types: Json, values: Json) -> Result<Json> {
    let r = invoke_at(gw, "/invoke", TYPES, method, types.clone(), values.clone()).await?;
    ensure!(
        r.status == StatusCode::OK,
        "{method}({types}, {values}) answered {}: {}",
        r.status,
        r.body
    );
    Ok(r.body)
}

/// The response's content type.
fn content_type(r: &Reply) -> &str {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Checks a 200 JSON answer and returns its body.
fn ok(r: Reply, what: &str) -> Result<Json> {
    ensure!(
        r.status == StatusCode::OK,
        "{what}: expected 200, got {}: {}",
        r.status,
        r.body
    );
    ensure!(
        content_type(&r).starts_with("application/json"),
        "{what}: content-type {:?}",
        content_type(&r)
    );
    Ok(r.body)
}

/// Checks an error answer: status, `code`, a non-empty `message` and `request_id`. Returns the
/// body for further checks.
fn error(r: Reply, status: StatusCode, code: &str, what: &str) -> Result<Json> {
    ensure!(
        r.status == status && r.body["code"] == json!(code),
        "{what}: expected {status} {code}, got {}: {}",
        r.status,
        r.body
    );
    ensure!(
        content_type(&r).starts_with("application/json"),
        "{what}: content-type {:?}",
        content_type(&r)
    );
    let message = r.body["message"].as_str().unwrap_or_default();
    ensure!(!message.is_empty(), "{what}: no message in {}", r.body);
    let request_id = r.body["request_id"].as_str().unwrap_or_default();
    ensure!(
        !request_id.is_empty(),
        "{what}: no request_id in {}",
        r.body
    );
    Ok(r.body)
}

/// True if any object in `v` (at any depth) has the key `key`.
fn has_key(v: &Json, key: &str) -> bool {
    match v {
        Json::Object(m) => m.contains_key(key) || m.values().any(|x| has_key(x, key)),
        Json::Array(a) => a.iter().any(|x| has_key(x, key)),
        _ => false,
    }
}

/// True if any value in `v` (at any depth) is null.
fn has_null(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Object(m) => m.values().any(has_null),
        Json::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Seeded user 2 in the pixiu shape (no `class`, no nulls, BigDecimal flattened).
fn bob() -> Json {
    json!({
        "name": "bob",
        "age": 25,
        "id": 2,
        "address": {"city": "Beijing", "zip": "100000"},
        "history": [{"city": "Beijing", "zip": "100000"}],
        "favorite": "GREEN",
        // 1_700_000_000_000 + 2 days, in millis.
        "created": "2023-11-16T22:13:20.000Z",
        "balance": "200.50"
    })
}

/// A user name unique to this test process.
fn unique_name(what: &str) -> String {
    format!("gw-{what}-{}", std::process::id())
}

// ---------------------------------------------------------------- 1. GET routes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_routes_with_path_and_query_params() -> Result<()> {
    let gw = start_gateway("java-get").await?;

    // `{id}` path parameter → getUser(long); the default (pixiu) shape.
    let user = ok(get(&gw, "/users/2").await?, "GET /users/2")?;
    assert_eq!(user, bob());
    assert!(!has_key(&user, "class"), "class keys in {user}");

    // Query parameters → listUsers(String, int), in id order, limited.
    let list = ok(
        get(&gw, "/users?name=o&limit=2").await?,
        "GET /users?name=o&limit=2",
    )?;
    assert_eq!(list, json!([bob(), list[1].clone()]));
    assert_eq!(list[1]["name"], json!("carol"), "{list}");
    assert_eq!(list[1]["id"], json!(3), "{list}");
    assert!(!has_key(&list, "class"), "class keys in {list}");
    let list = ok(
        get(&gw, "/users?name=alice&limit=1").await?,
        "GET /users?name=alice&limit=1",
    )?;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["name"], json!("alice"), "{list}");
    assert_eq!(list[0]["address"]["city"], json!("Hangzhou"), "{list}");
    // Percent-encoded query values are decoded (a name nobody has: an empty list).
    let list = ok(
        get(&gw, "/users?name=%E4%B8%AD%20x&limit=5").await?,
        "GET /users?name=中 x",
    )?;
    assert_eq!(list, json!([]));

    // A nested resource (`/users/{id}/full`) inherits the parent's path parameter, and its
    // `response: {keepClass, keepNull}` keeps the classes.
    let full = ok(get(&gw, "/users/2/full").await?, "GET /users/2/full")?;
    assert_eq!(full["class"], json!("org.tianlu.interop.User"), "{full}");
    assert_eq!(
        full["address"],
        json!({"class": "org.tianlu.interop.Address", "city": "Beijing", "zip": "100000"})
    );
    assert_eq!(full["name"], json!("bob"), "{full}");
    assert_eq!(full["id"], json!(2), "{full}");
    assert_eq!(full["balance"], json!("200.50"), "{full}");
    assert_eq!(full["created"], json!("2023-11-16T22:13:20.000Z"), "{full}");

    // A missing user is a null result, not an error.
    let none = ok(get(&gw, "/users/424242").await?, "GET /users/424242")?;
    assert_eq!(none, Json::Null);

    // The `:value` form of a path parameter; a long beyond 2^53 comes back as a string.
    let max = ok(
        get(&gw, "/types/long/9223372036854775807").await?,
        "GET /types/long/MAX",
    )?;
    assert_eq!(max, json!("9223372036854775807"));
    let min = ok(
        get(&gw, "/types/long/-9223372036854775808").await?,
        "GET /types/long/MIN",
    )?;
    assert_eq!(min, json!("-9223372036854775808"));
    let small = ok(get(&gw, "/types/long/-5").await?, "GET /types/long/-5")?;
    assert_eq!(small, json!(-5));

    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 2. POST / PUT bodies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_and_put_carry_pojo_bodies() -> Result<()> {
    let gw = start_gateway("java-post").await?;
    let name = unique_name("post");

    // POST: the whole body is the User argument; nested POJO, list of POJOs, enum, BigDecimal
    // and a provider-format date inside the POJO.
    let input = json!({
        "name": name,
        "age": 33,
        "address": {"city": "西安", "zip": "710000"},
        "history": [{"city": "Xi'an", "zip": "710000"}, {"city": "Lhasa", "zip": "850000"}],
        "favorite": "BLUE",
        "created": "2024-01-02 03:04:05",
        "balance": "12345678901234567890.25"
    });
    let created = ok(post(&gw, "/users", &input).await?, "POST /users")?;
    let id = created["id"]
        .as_i64()
        .ok_or_else(|| anyhow!("no numeric id in {created}"))?;
    assert!(id >= 1000, "new ids start at 1000: {created}");
    let mut expected = input.clone();
    expected["id"] = json!(id);
    expected["created"] = json!("2024-01-02T03:04:05.000Z");
    assert_eq!(created, expected);
    let read = ok(get(&gw, &format!("/users/{id}")).await?, "GET created")?;
    assert_eq!(read, expected);

    // PUT mixes a path parameter (the id) and the body (the new user); the path id wins over
    // an id inside the body.
    let update = json!({"id": 1, "name": format!("{name}-renamed"), "age": 34});
    let updated = ok(
        put(&gw, &format!("/users/{id}"), &update).await?,
        "PUT /users/{id}",
    )?;
    // Pixiu shape: the fields the update left null are absent.
    assert_eq!(
        updated,
        json!({"name": format!("{name}-renamed"), "age": 34, "id": id})
    );
    // keepNull on the nested `/full` resource shows them.
    let full = ok(get(&gw, &format!("/users/{id}/full")).await?, "GET full")?;
    assert_eq!(
        full,
        json!({
            "class": "org.tianlu.interop.User",
            "name": format!("{name}-renamed"),
            "age": 34,
            "id": id,
            "address": null,
            "history": null,
            "favorite": null,
            "created": null,
            "balance": null
        })
    );
    assert!(!has_null(&updated), "{updated}");
    // User 1 was not touched by the body's id.
    let alice = ok(get(&gw, "/users/1").await?, "GET /users/1")?;
    assert_eq!(alice["name"], json!("alice"), "{alice}");

    // Updating a user that does not exist: the provider answers null.
    let missing = ok(
        put(&gw, "/users/987654", &json!({"name": "nobody"})).await?,
        "PUT missing",
    )?;
    assert_eq!(missing, Json::Null);

    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 3. group / version

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_and_version_pick_the_export() -> Result<()> {
    let gw = start_gateway("java-group").await?;
    let plain = ok(get(&gw, "/whoami").await?, "GET /whoami")?;
    assert_eq!(plain, json!("tianlu-interop"));
    let g2 = ok(get(&gw, "/g2/whoami").await?, "GET /g2/whoami")?;
    assert_eq!(g2, json!("tianlu-interop@g2"));
    // A version nothing exports: the provider refuses it (a Dubbo status), the gateway maps it
    // to a 502 naming that status.
    let r = get(&gw, "/v9/whoami").await?;
    ensure!(
        r.status == StatusCode::BAD_GATEWAY
            && r.body["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("DUBBO_")),
        "unknown version: expected 502 DUBBO_*, got {}: {}",
        r.status,
        r.body
    );
    ensure!(r.body["dubbo_status"].is_u64(), "{}", r.body);
    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 4. universal endpoint

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn universal_endpoint_and_its_allowlists() -> Result<()> {
    let gw = start_gateway("java-invoke").await?;

    // An allowed interface, the method from the query, types and values from the body.
    let s = types_call(
        &gw,
        "echoString",
        json!(["java.lang.String"]),
        json!(["hi"]),
    )
    .await?;
    assert_eq!(s, json!("hi"));
    let l = types_call(
        &gw,
        "echoLong",
        json!(["long"]),
        json!(["9007199254740993"]),
    )
    .await?;
    assert_eq!(l, json!("9007199254740993"));
    // How values were boxed on the provider: a JSON integer beyond int stays a Long, an int
    // stays an Integer, a string a String.
    let d = types_call(
        &gw,
        "describe",
        json!(["java.lang.Object"]),
        json!([2147483648i64]),
    )
    .await?;
    assert_eq!(d, json!("java.lang.Long:2147483648"));
    let d = types_call(&gw, "describe", json!(["java.lang.Object"]), json!([7])).await?;
    assert_eq!(d, json!("java.lang.Integer:7"));
    // An explicitly typed boxed Long argument reaches the provider as a Long.
    let d = types_call(&gw, "echoLongObj", json!(["java.lang.Long"]), json!([12])).await?;
    assert_eq!(d, json!(12));
    // A class in allowClasses may be named by the client.
    let d = types_call(
        &gw,
        "describe",
        json!(["java.lang.Object"]),
        json!([{"class": "org.tianlu.interop.Address", "city": "Hangzhou", "zip": "310000"}]),
    )
    .await?;
    assert_eq!(
        d,
        json!("org.tianlu.interop.Address:Address{city=Hangzhou, zip=310000}")
    );
    // Types as a CSV string pick an overload.
    let o = types_call(&gw, "over", json!("java.lang.String,int"), json!(["s", 6])).await?;
    assert_eq!(o, json!("over(String,int):s,6"));
    let o = types_call(&gw, "over", json!(["int"]), json!([5])).await?;
    assert_eq!(o, json!("over(int):5"));

    // An interface outside allowInterfaces.
    let r = invoke_at(&gw, "/invoke", USERS, "whoAmI", json!([]), json!([])).await?;
    error(
        r,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "UserService via /invoke",
    )?;

    // The refusals below happen before any provider call: the guarded endpoint's cluster is a
    // dead port, so a request that got through would be a 503, not a 403.
    let r = invoke_at(
        &gw,
        "/guarded/invoke",
        USERS,
        "whoAmI",
        json!([]),
        json!([]),
    )
    .await?;
    error(r, StatusCode::FORBIDDEN, "FORBIDDEN", "guarded UserService")?;
    // A client-supplied `class` outside the allowlist.
    for prefix in ["/invoke", "/guarded/invoke"] {
        let r = invoke_at(
            &gw,
            prefix,
            TYPES,
            "describe",
            json!(["java.lang.Object"]),
            json!([{"class": "java.lang.ProcessBuilder", "command": ["id"]}]),
        )
        .await?;
        let body = error(
            r,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "class ProcessBuilder",
        )?;
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("java.lang.ProcessBuilder"), "{body}");
        // Nested deeper, inside a list.
        let r = invoke_at(
            &gw,
            prefix,
            TYPES,
            "describe",
            json!(["java.lang.Object"]),
            json!([[1, {"class": "javax.naming.InitialContext"}]]),
        )
        .await?;
        error(r, StatusCode::FORBIDDEN, "FORBIDDEN", "nested class")?;
        // A client-supplied parameter type outside the allowlist, also as a generic argument.
        for ty in [
            "java.lang.ProcessBuilder",
            "java.util.List<java.net.URL>",
            "java.net.URL[]",
        ] {
            let r = invoke_at(&gw, prefix, TYPES, "describe", json!([ty]), json!([{}])).await?;
            let body = error(r, StatusCode::FORBIDDEN, "FORBIDDEN", ty)?;
            let message = body["message"].as_str().unwrap_or_default();
            assert!(message.contains("not allowed"), "{ty}: {body}");
        }
    }
    // The guarded endpoint with an allowed call does go to the (dead) provider: 503.
    let r = invoke_at(
        &gw,
        "/guarded/invoke",
        TYPES,
        "echoString",
        json!(["java.lang.String"]),
        json!(["x"]),
    )
    .await?;
    error(
        r,
        StatusCode::SERVICE_UNAVAILABLE,
        "PROVIDER_UNREACHABLE",
        "guarded allowed call",
    )?;

    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 5. client errors

/// A raw HTTP/1.1 POST whose body is sent chunked (no content-length) in 4 KiB chunks;
/// returns the status and the JSON body of the answer.
async fn chunked_post(addr: &str, path: &str, body: &[u8]) -> Result<(u16, Json)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    for chunk in body.chunks(4096) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The gateway may answer and stop reading before the whole body is sent.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| anyhow!("no HTTP status line in {text:?}"))?;
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("no header end in {text:?}"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        dechunk(rest)?
    } else {
        rest.to_string()
    };
    let json =
        serde_json::from_str(&payload).with_context(|| format!("parsing the body of {text:?}"))?;
    Ok((status, json))
}

/// Joins the chunks of a chunked HTTP/1.1 body.
fn dechunk(mut rest: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest
            .split_once("\r\n")
            .ok_or_else(|| anyhow!("bad chunk framing: {rest:?}"))?;
        let size = usize::from_str_radix(size.trim(), 16)
            .with_context(|| format!("bad chunk size {size:?}"))?;
        if size == 0 {
            return Ok(out);
        }
        let data = after
            .get(..size)
            .ok_or_else(|| anyhow!("short chunk: {after:?}"))?;
        out.push_str(data);
        rest = after[size..].trim_start_matches("\r\n");
    }
}

/// `{"value": "中aaa…a"}`, exactly `size` bytes of JSON (the CJK character is 3 bytes), for
/// `/types/string`; also returns the string.
fn string_body(size: usize) -> (String, String) {
    let overhead = r#"{"value":"中"}"#.len();
    let text = format!("中{}", "a".repeat(size - overhead));
    let body = json!({ "value": text }).to_string();
    assert_eq!(body.len(), size);
    (body, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_4xx_with_json_bodies() -> Result<()> {
    let gw = start_gateway("java-4xx").await?;

    // 404: no route.
    let r = get(&gw, "/nowhere/at/all").await?;
    let body = error(r, StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND", "404")?;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("/nowhere/at/all")),
        "{body}"
    );

    // 405 with an `allow` header naming the route's methods.
    let r = send(client().delete(gw.url("/users/1"))).await?;
    let allow = r
        .headers
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = error(
        r,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "405",
    )?;
    let mut listed: Vec<&str> = allow.split(',').map(str::trim).collect();
    listed.sort_unstable();
    assert_eq!(listed, ["GET", "PUT"], "allow header {allow:?}");
    let mut allowed: Vec<String> = serde_json::from_value(body["allowed"].clone())?;
    allowed.sort();
    assert_eq!(allowed, ["GET", "PUT"], "{body}");

    // 400: malformed JSON names requestBody.
    let r = send(
        client()
            .post(gw.url("/users"))
            .header("content-type", "application/json")
            .body(r#"{"name": "x", "age": "#),
    )
    .await?;
    let body = error(r, StatusCode::BAD_REQUEST, "BAD_REQUEST", "malformed JSON")?;
    assert_eq!(body["field"], json!("requestBody"), "{body}");
    // The same route reads its whole body in one pass: a value that fits no Java number names
    // its path, a class outside the allowlist is refused even when it comes after the value
    // that does not fit, and an empty body is missing.
    let r = send(
        client()
            .post(gw.url("/users"))
            .header("content-type", "application/json")
            .body(r#"{"name": "x", "history": [{}, {"zip": 18446744073709551615}]}"#),
    )
    .await?;
    let body = error(
        r,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "zip out of range",
    )?;
    assert_eq!(
        body["field"],
        json!("requestBody._all.history[1].zip"),
        "{body}"
    );
    let r = send(
        client()
            .post(gw.url("/users"))
            .header("content-type", "application/json")
            .body(r#"{"age": 18446744073709551615, "class": "java.lang.ProcessBuilder"}"#),
    )
    .await?;
    error(
        r,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "class in a POJO body",
    )?;
    let r = send(
        client()
            .post(gw.url("/users"))
            .header("content-type", "application/json"),
    )
    .await?;
    let body = error(r, StatusCode::BAD_REQUEST, "BAD_REQUEST", "empty body")?;
    assert_eq!(body["field"], json!("requestBody._all"), "{body}");
    // 400: a path parameter that is not a long names the field.
    let r = get(&gw, "/users/abc").await?;
    let body = error(r, StatusCode::BAD_REQUEST, "BAD_REQUEST", "id abc")?;
    assert_eq!(body["field"], json!("uri.id"), "{body}");
    // 400: an int out of range.
    let r = get(&gw, "/users?name=a&limit=3000000000").await?;
    let body = error(
        r,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "limit out of range",
    )?;
    assert_eq!(body["field"], json!("queryStrings.limit"), "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("3000000000")),
        "{body}"
    );
    // 400: a required query parameter is missing.
    let r = get(&gw, "/users?name=a").await?;
    let body = error(r, StatusCode::BAD_REQUEST, "BAD_REQUEST", "no limit")?;
    assert_eq!(body["field"], json!("queryStrings.limit"), "{body}");
    // 400: a POJO field of the wrong JSON kind for a declared scalar parameter.
    let r = post(&gw, "/types/decimal", &json!({"value": "12.x"})).await?;
    let body = error(r, StatusCode::BAD_REQUEST, "BAD_REQUEST", "bad decimal")?;
    assert_eq!(body["field"], json!("requestBody.value"), "{body}");

    // 413: a declared content-length over the bodylimit filter's 65536 bytes.
    let (big, _) = string_body(65_537);
    let r = send(
        client()
            .post(gw.url("/types/string"))
            .header("content-type", "application/json")
            .body(big.clone()),
    )
    .await?;
    let body = error(r, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "413")?;
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("65536")),
        "{body}"
    );
    // 413: the same without a content-length (chunked), cut off while being read.
    let addr = gw.base.trim_start_matches("http://").to_string();
    let (status, body) = chunked_post(&addr, "/types/string", big.as_bytes()).await?;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], json!("PAYLOAD_TOO_LARGE"), "{body}");
    // Exactly at the limit, both ways, the body goes through to the provider and back.
    let (at_limit, text) = string_body(65_536);
    let r = send(
        client()
            .post(gw.url("/types/string"))
            .header("content-type", "application/json")
            .body(at_limit.clone()),
    )
    .await?;
    assert_eq!(ok(r, "64 KiB body")?, json!(text));
    let (status, body) = chunked_post(&addr, "/types/string", at_limit.as_bytes()).await?;
    assert_eq!(status, 200, "chunked 64 KiB body");
    assert_eq!(body, json!(text));

    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 6 + 7. exceptions, 503

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_exceptions_in_default_mode_and_dead_cluster() -> Result<()> {
    let gw = start_gateway("java-500").await?;

    // Dubbo's default: the exception arrives wrapped in GenericException; the gateway reports
    // the original class and message.
    let r = get(&gw, "/fail?msg=boom%20%E4%B8%AD").await?;
    let body = error(
        r,
        StatusCode::INTERNAL_SERVER_ERROR,
        "BUSINESS_EXCEPTION",
        "fail",
    )?;
    assert_eq!(
        body["exception"],
        json!("org.tianlu.interop.BusinessException"),
        "{body}"
    );
    assert_eq!(body["detail"]["message"], json!("boom 中"), "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("boom 中")),
        "{body}"
    );
    // No stack traces leak.
    assert!(!body.to_string().contains("stackTrace"), "{body}");

    let r = get(&gw, "/fail-runtime?msg=bad%20state").await?;
    let body = error(
        r,
        StatusCode::INTERNAL_SERVER_ERROR,
        "BUSINESS_EXCEPTION",
        "failRuntime",
    )?;
    assert_eq!(
        body["exception"],
        json!("java.lang.IllegalStateException"),
        "{body}"
    );
    assert_eq!(body["detail"]["message"], json!("bad state"), "{body}");

    // The route and connection are fine afterwards.
    let who = ok(get(&gw, "/whoami").await?, "whoami after exceptions")?;
    assert_eq!(who, json!("tianlu-interop"));

    // A cluster whose only endpoint is a port nothing listens on.
    for _ in 0..2 {
        let r = get(&gw, "/dead/whoami").await?;
        error(
            r,
            StatusCode::SERVICE_UNAVAILABLE,
            "PROVIDER_UNREACHABLE",
            "dead cluster",
        )?;
    }

    gw.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_exceptions_and_a_stopped_direct_provider() -> Result<()> {
    // A provider of our own: raw exception mode, reached in direct mode (`url:`), then killed.
    let mut provider = tokio::task::spawn_blocking(|| {
        JavaProvider::start(
            ProviderOptions::default()
                .app("tianlu-gw-raw")
                .generic_exception(GenericExceptionMode::Raw),
        )
    })
    .await??;
    let url = format!("dubbo://{}", provider.dubbo_addr());
    let api = format!(
        r#"name: gateway-java-raw
resources:
  - path: /raw/fail
    methods:
      - httpVerb: GET
        integrationRequest:
          url: {url}
          interface: {TYPES}
          method: fail
          parameterTypes: [java.lang.String]
          mappingParams:
            - {{ name: queryStrings.msg, mapTo: 0 }}
  - path: /raw/whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          url: {url}
          interface: {USERS}
          version: 1.0.0
          method: whoAmI
          parameterTypes: []
"#
    );
    // No static clusters: the direct `url` makes its own.
    let gw = Gateway::start("java-raw", &conf_yaml("    []", "10s"), &api).await?;

    let who = ok(get(&gw, "/raw/whoami").await?, "raw whoami")?;
    assert_eq!(who, json!("tianlu-gw-raw"));

    // Raw mode: the real BusinessException with its custom fields.
    let r = get(&gw, "/raw/fail?msg=nope").await?;
    let body = error(
        r,
        StatusCode::INTERNAL_SERVER_ERROR,
        "BUSINESS_EXCEPTION",
        "raw fail",
    )?;
    assert_eq!(
        body["exception"],
        json!("org.tianlu.interop.BusinessException"),
        "{body}"
    );
    assert_eq!(body["detail"]["message"], json!("nope"), "{body}");
    assert_eq!(body["detail"]["fields"]["code"], json!(42), "{body}");
    assert_eq!(
        body["detail"]["fields"]["reason"],
        json!("rejected"),
        "{body}"
    );
    assert_eq!(
        body["detail"]["fields"]["detail"],
        json!({"msg": "nope", "source": "TypesService.fail"}),
        "{body}"
    );
    assert!(!body.to_string().contains("stackTrace"), "{body}");

    // Kill the provider: the direct route now answers 503 PROVIDER_UNREACHABLE.
    tokio::task::spawn_blocking(move || {
        provider.stop();
        provider
    })
    .await?;
    // Give the gateway's connection a moment to see the close (otherwise the first request may
    // legitimately be the one that discovers the lost connection).
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..2 {
        let r = get(&gw, "/raw/whoami").await?;
        error(
            r,
            StatusCode::SERVICE_UNAVAILABLE,
            "PROVIDER_UNREACHABLE",
            "stopped direct provider",
        )?;
    }

    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 8. deadline

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_provider_hits_the_route_deadline() -> Result<()> {
    let gw = start_gateway("java-504").await?;
    // Warm the connection so the deadline measures the call, not the connect.
    let done = ok(get(&gw, "/slow?ms=1").await?, "slow(1)")?;
    assert_eq!(done, json!("done"));

    let http = client();
    let started = Instant::now();
    let r = send(http.get(gw.url("/slow?ms=3000"))).await?;
    let elapsed = started.elapsed();
    let body = error(
        r,
        StatusCode::GATEWAY_TIMEOUT,
        "UPSTREAM_TIMEOUT",
        "slow(3000)",
    )?;
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("500")),
        "{body}"
    );
    // Functional deadline: the 504 came long before the provider would have answered.
    assert!(
        elapsed < Duration::from_millis(2500),
        "504 took {elapsed:?} (the provider sleeps 3 s)"
    );

    // The same route, on the same HTTP client (connection) and the same Dubbo connection,
    // works while the provider is still sleeping on the abandoned call.
    let done = ok(send(http.get(gw.url("/slow?ms=10"))).await?, "slow(10)")?;
    assert_eq!(done, json!("done"));

    gw.stop().await;
    Ok(())
}

// ---------------------------------------------------------------- 9. type fidelity

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn types_keep_their_fidelity_through_http() -> Result<()> {
    let gw = start_gateway("java-types").await?;
    let s = |v: &str| json!(v);

    // long: Long.MAX as a string comes back as a string of digits; safe longs as numbers.
    let v = types_call(
        &gw,
        "echoLong",
        json!(["long"]),
        json!(["9223372036854775807"]),
    )
    .await?;
    assert_eq!(v, s("9223372036854775807"));
    let v = types_call(
        &gw,
        "echoLong",
        json!(["long"]),
        json!([9007199254740991i64]),
    )
    .await?;
    assert_eq!(v, json!(9007199254740991i64));
    let v = types_call(&gw, "echoInt", json!(["int"]), json!([-2147483648i64])).await?;
    assert_eq!(v, json!(-2147483648i64));
    let v = types_call(&gw, "echoDouble", json!(["double"]), json!([0.1])).await?;
    assert_eq!(v, json!(0.1));
    let v = types_call(&gw, "echoBoolean", json!(["boolean"]), json!([true])).await?;
    assert_eq!(v, json!(true));

    // BigDecimal: exact, flattened to a string by default; the object form on request.
    let dec = "12345678901234567890.123456789";
    let v = ok(
        post(&gw, "/types/decimal", &json!({"value": dec})).await?,
        "decimal",
    )?;
    assert_eq!(v, s(dec));
    let v = ok(
        post(&gw, "/types/decimal-object", &json!({"value": dec})).await?,
        "decimal object",
    )?;
    assert_eq!(v, json!({"class": "java.math.BigDecimal", "value": dec}));
    let v = types_call(
        &gw,
        "echoBigInteger",
        json!(["java.math.BigInteger"]),
        json!(["-123456789012345678901234567890"]),
    )
    .await?;
    assert_eq!(v, s("-123456789012345678901234567890"));

    // byte[]: base64 both ways, every byte value.
    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    let v = types_call(&gw, "echoBytes", json!(["byte[]"]), json!([b64(&bytes)])).await?;
    assert_eq!(v, json!(b64(&bytes)));

    // Date (top-level parameter): ISO-8601 in, ISO-8601 UTC with millis out.
    let v = types_call(
        &gw,
        "echoDate",
        json!(["java.util.Date"]),
        json!(["2024-02-29T12:34:56.789Z"]),
    )
    .await?;
    assert_eq!(v, s("2024-02-29T12:34:56.789Z"));
    let v = types_call(
        &gw,
        "echoDate",
        json!(["java.util.Date"]),
        json!(["2024-02-29T20:34:56.789+08:00"]),
    )
    .await?;
    assert_eq!(v, s("2024-02-29T12:34:56.789Z"));

    // Enum by name; an unknown constant is not silently accepted.
    let v = types_call(
        &gw,
        "echoColor",
        json!(["org.tianlu.interop.Color"]),
        json!(["GREEN"]),
    )
    .await?;
    assert_eq!(v, s("GREEN"));
    let r = invoke_at(
        &gw,
        "/invoke",
        TYPES,
        "echoColor",
        json!(["org.tianlu.interop.Color"]),
        json!(["PURPLE"]),
    )
    .await?;
    // The provider refuses it (Dubbo status 70); the message names the constant but carries no
    // Java stack trace.
    let body = error(
        r,
        StatusCode::BAD_GATEWAY,
        "DUBBO_SERVICE_ERROR",
        "echoColor(PURPLE)",
    )?;
    assert_eq!(body["dubbo_status"], json!(70), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("No enum constant"), "{body}");
    assert!(message.contains("PURPLE"), "{body}");
    assert!(
        !message.contains('\n') && !message.contains("\tat "),
        "stack trace in the message: {body}"
    );

    // char: a BMP CJK character.
    let v = types_call(&gw, "echoChar", json!(["char"]), json!(["中"])).await?;
    assert_eq!(v, s("中"));

    // Collections, nested.
    let v = types_call(
        &gw,
        "echoList",
        json!(["java.util.List<java.lang.String>"]),
        json!([["a", "中", "😀", ""]]),
    )
    .await?;
    assert_eq!(v, json!(["a", "中", "😀", ""]));
    let v = types_call(
        &gw,
        "echoSet",
        json!(["java.util.Set<java.lang.Integer>"]),
        json!([[3, 1, 2]]),
    )
    .await?;
    let mut set: Vec<i64> = serde_json::from_value(v)?;
    set.sort_unstable();
    assert_eq!(set, [1, 2, 3]);
    let v = types_call(
        &gw,
        "echoMap",
        json!(["java.util.Map<java.lang.String,java.lang.Integer>"]),
        json!([{"one": 1, "二": 2, "big": 2147483647}]),
    )
    .await?;
    assert_eq!(v, json!({"one": 1, "二": 2, "big": 2147483647}));
    let team = json!({
        "team": [
            {"name": "ann", "age": 1, "id": 10, "address": {"city": "a", "zip": "1"},
             "favorite": "RED", "balance": "0.10"},
            {"name": "ben", "age": 2, "id": 11, "history": [{"city": "b", "zip": "2"}]}
        ],
        "empty": []
    });
    let v = types_call(
        &gw,
        "echoNested",
        json!(["java.util.Map<java.lang.String,java.util.List<org.tianlu.interop.User>>"]),
        json!([team.clone()]),
    )
    .await?;
    assert_eq!(v, team);
    let v = types_call(
        &gw,
        "sumList",
        json!(["java.util.List<java.lang.Integer>"]),
        json!([[1, 2, 3, 40]]),
    )
    .await?;
    assert_eq!(v, json!(46));

    // Strings: CJK and emoji (surrogate pairs) arrive intact, as Java counts them.
    let text = "你好，世界 😀👍🏽 \"q\" \\ \n end";
    let v = types_call(
        &gw,
        "echoString",
        json!(["java.lang.String"]),
        json!([text]),
    )
    .await?;
    assert_eq!(v, s(text));
    let v = types_call(&gw, "lengthOf", json!(["java.lang.String"]), json!([text])).await?;
    let expected = format!("{}:{}", text.encode_utf16().count(), text.chars().count());
    assert_eq!(v, json!(expected));

    // null and void.
    let v = types_call(
        &gw,
        "echoString",
        json!(["java.lang.String"]),
        json!([null]),
    )
    .await?;
    assert_eq!(v, Json::Null);
    let v = types_call(&gw, "doNothing", json!(["java.lang.String"]), json!(["x"])).await?;
    assert_eq!(v, Json::Null);

    gw.stop().await;
    Ok(())
}

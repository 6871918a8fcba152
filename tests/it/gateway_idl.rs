//! The real gateway serving protobuf IDL routes (`requestType: grpc`): against the Java Dubbo
//! 3.3 provider's `org.tianlu.interop.idl.CatalogService` (tests/interop catalog.proto) with
//! descriptors from protosets (route level and `dubboProxyConfig.protoset`), and against a tonic
//! server in this process with descriptors from gRPC server reflection (no protoset). Also 1,000
//! concurrent calls through one Triple endpoint of the Java provider, under the per-connection
//! stream cap.

use crate::support::{client, scratch_dir, Gateway, API_CONFIG_FILTER, LISTENER_HEAD};
use anyhow::{anyhow, Context, Result};
use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tianlu_testkit::JavaProvider;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, BoxFuture, Context as TaskContext, Poll, Service};
use tonic::server::{Grpc, NamedService, UnaryService};

const CATALOG: &str = "org.tianlu.interop.idl.CatalogService";

/// The descriptor set the interop Maven build writes for catalog.proto (imports included).
fn catalog_protoset() -> Result<PathBuf> {
    let path = tianlu_testkit::java::interop_dir()
        .join("target/generated-resources/protobuf/descriptor-sets/catalog.protoset");
    if !path.is_file() {
        return Err(anyhow!(
            "{} is missing: it is written by the interop Maven build (tests/interop/build.sh; {})",
            path.display(),
            tianlu_testkit::java::JAVA_HINT
        ));
    }
    Ok(path)
}

/// catalog.protoset with one more rpc, `DeleteItem(GetItemRequest) returns (Item)`, that the
/// provider does not implement.
fn protoset_with_extra_method(dir: &Path) -> Result<PathBuf> {
    let mut set = prost_types::FileDescriptorSet::decode(&*std::fs::read(catalog_protoset()?)?)?;
    let file = set
        .file
        .iter_mut()
        .find(|f| f.package() == "org.tianlu.interop.idl")
        .context("catalog.proto in the set")?;
    let service = file.service.first_mut().context("the catalog service")?;
    service.method.push(prost_types::MethodDescriptorProto {
        name: Some("DeleteItem".into()),
        input_type: Some(".org.tianlu.interop.idl.GetItemRequest".into()),
        output_type: Some(".org.tianlu.interop.idl.Item".into()),
        ..Default::default()
    });
    let path = dir.join("catalog-plus.protoset");
    std::fs::write(&path, set.encode_to_vec())?;
    Ok(path)
}

/// Item 1 as the provider seeds it, in canonical proto3 JSON.
fn item_one() -> Value {
    json!({
        "id": "1",
        "name": "Dream of the Red Chamber",
        "category": "BOOK",
        "price": {"currency": "CNY", "units": "59", "nanos": 900000000},
        "tags": ["classic", "novel"],
        "stock": {"hangzhou": 12, "beijing": 0},
        "reviews": [
            {"author": "alice", "stars": 5, "text": "红楼梦 😀"},
            {"author": "bob", "stars": 4}
        ],
        "createdAt": "2024-02-29T12:34:56.789Z",
        "shelfLife": "86400.500s",
        "attributes": {"pages": 1606.0, "hardcover": true, "translator": null, "languages": ["zh", "en"]},
        "note": "first edition",
        "discount": 0.15,
        "thumbnail": "AAEC/v8=",
        "weight": 1.25,
        "available": true,
        "sku": "18446744073709551615",
        "alsoIn": ["GAME"]
    })
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn assert_json(got: &Value, expected: &Value, what: &str) {
    assert_eq!(
        sorted(got),
        sorted(expected),
        "{what}:\n got      {got}\n expected {expected}"
    );
}

fn idl_route(path: &str, method: &str, timeout: &str, extra: &str) -> String {
    format!(
        r#"  - path: {path}
    methods:
      - httpVerb: POST{timeout}
        integrationRequest:
          requestType: grpc
          interface: {CATALOG}
          method: {method}
          clusterName: catalog
{extra}"#
    )
}

fn java_api(plus: &Path) -> String {
    let mut api = String::from("name: idl\nresources:\n");
    api += &idl_route("/catalog/item", "GetItem", "", "");
    api += &idl_route("/catalog/echo", "EchoItem", "", "");
    api += &idl_route("/catalog/search", "Search", "", "");
    // The message from a part of the body.
    api += &idl_route(
        "/catalog/wrapped",
        "EchoItem",
        "",
        "          mappingParams:\n            - { name: requestBody.item, mapTo: 0 }\n",
    );
    api += &idl_route("/catalog/slow", "Slow", "\n        timeout: 500ms", "");
    api += &idl_route("/catalog/slow-long", "Slow", "", "");
    // A path parameter named like a field of the input message.
    api += &format!(
        r#"  - path: /catalog/items/:id
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: grpc
          interface: {CATALOG}
          method: GetItem
          clusterName: catalog
"#
    );
    // Other JSON options.
    api += &idl_route(
        "/catalog/item-raw",
        "GetItem",
        "",
        "          protobufJson: { emitDefaults: true, protoFieldNames: true, enumsAsNumbers: true, int64AsNumbers: true, ignoreUnknownFields: true }\n",
    );
    // A method the descriptors have (from a route-level protoset) but the provider lacks.
    api += &idl_route(
        "/catalog/delete",
        "DeleteItem",
        "",
        &format!("          protoset: {}\n", plus.display()),
    );
    api
}

fn conf(tri: SocketAddr, protoset: &Path, streams: usize) -> String {
    format!(
        r#"{LISTENER_HEAD}{API_CONFIG_FILTER}                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      protoset: {protoset}
                      max_concurrent_streams: {streams}
                      timeout_config: {{ request_timeout: 30s }}
              timeout: 60s
  clusters:
    - name: catalog
      endpoints:
        - socket_address: {{ address: 127.0.0.1, port: {port} }}
          protocol: tri
"#,
        protoset = protoset.display(),
        port = tri.port()
    )
}

async fn post(g: &Gateway, path: &str, body: Value) -> Result<(u16, Value)> {
    let resp = client().post(g.url(path)).json(&body).send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let json = serde_json::from_str(&text).with_context(|| format!("{path}: {text}"))?;
    Ok((status, json))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idl_routes_over_protosets_against_the_java_provider() -> Result<()> {
    let java = JavaProvider::shared()?;
    let tri = java.tri_addr().context("the shared provider serves tri")?;
    let dir = scratch_dir("idl-protosets");
    let plus = protoset_with_extra_method(&dir)?;
    let g = Gateway::start(
        "idl",
        &conf(tri, &catalog_protoset()?, 256),
        &java_api(&plus),
    )
    .await?;

    // Nested, repeated, maps, enums and well-known types in canonical proto3 JSON.
    let (status, item) = post(&g, "/catalog/item", json!({"id": 1})).await?;
    assert_eq!(status, 200, "{item}");
    assert_json(&item, &item_one(), "GetItem(1)");

    // Every field kind round-trips; original field names and loose spellings are accepted.
    let mut sent = item_one();
    sent["attributes"] = json!({"nested": {"deep": [1.5, "x", false, null, {}]}, "empty": []});
    sent["stock"] = json!({"": 1, "🙂": -2147483648});
    sent["alsoIn"] = json!(["BOOK", "MUSIC", "GAME"]);
    let (status, echoed) = post(&g, "/catalog/echo", sent.clone()).await?;
    assert_eq!(status, 200, "{echoed}");
    assert_json(&echoed, &sent, "EchoItem");
    let (status, echoed) = post(
        &g,
        "/catalog/echo",
        json!({"id": 7, "created_at": "2024-02-29T20:34:56.789+08:00", "also_in": [2], "sku": 42}),
    )
    .await?;
    assert_eq!(status, 200, "{echoed}");
    assert_json(
        &echoed,
        &json!({"id": "7", "createdAt": "2024-02-29T12:34:56.789Z", "alsoIn": ["MUSIC"], "sku": "42"}),
        "EchoItem(proto names)",
    );
    // An empty body is the empty message.
    let resp = client().post(g.url("/catalog/echo")).send().await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await?, json!({}));

    // Repeated enums in, wrappers, maps of messages and a Timestamp out.
    let (status, found) = post(
        &g,
        "/catalog/search",
        json!({"categories": ["MUSIC", "GAME"], "limit": 1}),
    )
    .await?;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], json!(2), "{found}");
    assert_eq!(found["generatedAt"], json!("2025-01-01T00:00:00Z"));
    assert_eq!(found["items"][0]["name"], json!("Kind of Blue"));
    assert_eq!(
        found["byName"]["Kind of Blue"]["sku"],
        json!("9007199254740993")
    );

    // The route's protobufJson options: defaults written, .proto names, numbers; unknown
    // request fields dropped.
    let (status, raw) = post(&g, "/catalog/item-raw", json!({"id": 3, "colour": "red"})).await?;
    assert_eq!(status, 200, "{raw}");
    for (key, want) in [
        ("id", json!(3)),
        ("category", json!(3)),
        ("created_at", json!("2024-02-29T12:34:56.789Z")),
        ("tags", json!([])),
        ("sku", json!(0)),
        ("available", json!(false)),
    ] {
        assert_eq!(raw[key], want, "{key} in {raw}");
    }

    // GET with the id from the path.
    let resp = client().get(g.url("/catalog/items/2")).send().await?;
    assert_eq!(resp.status(), 200);
    let item: Value = resp.json().await?;
    assert_eq!(
        (&item["id"], &item["name"]),
        (&json!("2"), &json!("Kind of Blue")),
        "{item}"
    );
    let resp = client().get(g.url("/catalog/items/two")).send().await?;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await?;
    assert_eq!(err["field"], "uri.id", "{err}");

    // The message mapped from a part of the body.
    let (status, echoed) = post(&g, "/catalog/wrapped", json!({"item": {"name": "x"}})).await?;
    assert_eq!((status, echoed), (200, json!({"name": "x"})));

    // Bad JSON: 400 naming the field, nothing sent.
    for (body, field) in [
        (
            json!({"reviews": [{}, {"stars": "many"}]}),
            "requestBody.reviews[1].stars",
        ),
        (json!({"category": "FOOD"}), "requestBody.category"),
        (json!({"createdAt": "yesterday"}), "requestBody.createdAt"),
    ] {
        let (status, err) = post(&g, "/catalog/echo", body.clone()).await?;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["code"], "BAD_REQUEST", "{err}");
        assert_eq!(err["field"], field, "{err}");
    }
    let (status, err) = post(&g, "/catalog/echo", json!({"colour": "red"})).await?;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["message"].as_str().unwrap_or("").contains("colour"),
        "{err}"
    );
    let (status, err) = post(&g, "/catalog/wrapped", json!({"item": [1]})).await?;
    assert_eq!(
        (status, &err["field"]),
        (400, &json!("requestBody.item")),
        "{err}"
    );

    // Provider errors through the gRPC status table: NOT_FOUND, and an exception (UNKNOWN).
    let (status, err) = post(&g, "/catalog/item", json!({"id": 99})).await?;
    assert_eq!(status, 502, "{err}");
    assert_eq!(err["code"], "DUBBO_SERVICE_NOT_FOUND", "{err}");
    assert!(
        err["message"].as_str().unwrap_or("").contains("no item 99"),
        "{err}"
    );
    let (status, err) = post(&g, "/catalog/item", json!({"id": -1})).await?;
    assert_eq!(
        (status, &err["code"]),
        (502, &json!("DUBBO_SERVICE_ERROR")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap_or("").contains("UNKNOWN"),
        "{err}"
    );

    // A method the provider does not have: Dubbo 3.3.6 fails the lookup with UNKNOWN (not
    // UNIMPLEMENTED), which the table maps to SERVICE_ERROR.
    let (status, err) = post(&g, "/catalog/delete", json!({"id": 1})).await?;
    assert_eq!(
        (status, &err["code"]),
        (502, &json!("DUBBO_SERVICE_ERROR")),
        "{err}"
    );

    // The route deadline travels as grpc-timeout and ends the call with 504.
    let started = Instant::now();
    let (status, err) = post(&g, "/catalog/slow", json!({"millis": 3000})).await?;
    assert_eq!(
        (status, &err["code"]),
        (504, &json!("UPSTREAM_TIMEOUT")),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "answered at the route deadline, not when the provider finished"
    );
    let (status, item) = post(&g, "/catalog/slow", json!({"millis": 1})).await?;
    assert_eq!((status, &item["name"]), (200, &json!("Go")), "{item}");
    g.stop().await;
    Ok(())
}

/// 1,000 concurrent calls through the gateway to one Triple endpoint of the Java provider, each
/// held 100 ms by the provider: with the default cap (256 streams per connection) every one of
/// them succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_idl_calls_through_one_endpoint() -> Result<()> {
    // Its own provider: 1,000 calls held 100 ms each exhaust a provider's thread pool, and
    // tests sharing that provider would see its overload answers.
    let mut java = tokio::task::spawn_blocking(|| {
        JavaProvider::start(tianlu_testkit::ProviderOptions::default().with_tri())
    })
    .await??;
    let tri = java.tri_addr().context("the provider serves tri")?;
    let dir = scratch_dir("idl-concurrency");
    let plus = protoset_with_extra_method(&dir)?;
    let g = Gateway::start(
        "idl-concurrency",
        &conf(tri, &catalog_protoset()?, 256),
        &java_api(&plus),
    )
    .await?;
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1000)
        .build()?;
    let url = g.url("/catalog/slow-long");
    let calls = (0..1000).map(|_| {
        let c = c.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let resp = c.post(&url).json(&json!({"millis": 100})).send().await?;
            let status = resp.status().as_u16();
            let body: Value = resp.json().await?;
            anyhow::Ok((status, body))
        })
    });
    let results = futures_util::future::join_all(calls).await;
    let mut failures = Vec::new();
    for r in results {
        match r? {
            Ok((200, body)) if body["name"] == "Go" => {}
            Ok((status, body)) => failures.push(format!("{status} {body}")),
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 1000 calls failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    g.stop().await;
    java.stop();
    Ok(())
}

// ---------------------------------------------------------------- reflection (tonic server)

/// Passes message bytes through.
#[derive(Clone, Default)]
struct RawCodec;
struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `CatalogService` with only `EchoItem` (the request bytes come back as the reply, after
/// `delay`); every other method answers UNIMPLEMENTED. `gauge` sees how many `EchoItem` calls
/// run at once.
#[derive(Clone)]
struct EchoOnly {
    delay: Duration,
    gauge: Arc<Gauge>,
}

/// Calls running now, and the most at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl NamedService for EchoOnly {
    const NAME: &'static str = CATALOG;
}

struct Echo(EchoOnly);

impl UnaryService<Bytes> for Echo {
    type Response = Bytes;
    type Future = BoxFuture<tonic::Response<Bytes>, tonic::Status>;
    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let EchoOnly { delay, gauge } = self.0.clone();
        Box::pin(async move {
            let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
            gauge.max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            gauge.now.fetch_sub(1, Ordering::SeqCst);
            Ok(tonic::Response::new(request.into_inner()))
        })
    }
}

impl Service<http::Request<tonic::body::Body>> for EchoOnly {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let me = self.clone();
        Box::pin(async move {
            if req.uri().path() == format!("/{CATALOG}/EchoItem") {
                Ok(Grpc::new(RawCodec).unary(Echo(me), req).await)
            } else {
                Ok(tonic::Status::unimplemented("no such method").into_http())
            }
        })
    }
}

/// A tonic server on 127.0.0.1:0 serving [`EchoOnly`] and v1alpha server reflection for the
/// catalog descriptors, announcing `max_streams` as its SETTINGS_MAX_CONCURRENT_STREAMS when
/// given; stops when the returned sender is dropped.
async fn start_reflection_server(
    delay: Duration,
    max_streams: Option<u32>,
) -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>, Arc<Gauge>)> {
    start_server("127.0.0.1:0".parse()?, true, delay, max_streams).await
}

/// [`start_reflection_server`] on `at`, with or without the reflection service.
async fn start_server(
    at: SocketAddr,
    with_reflection: bool,
    delay: Duration,
    max_streams: Option<u32>,
) -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>, Arc<Gauge>)> {
    let set = std::fs::read(catalog_protoset()?)?;
    let listener = tokio::net::TcpListener::bind(at).await?;
    let addr = listener.local_addr()?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(Box::leak(set.into_boxed_slice()))
        .build_v1alpha()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let gauge = Arc::new(Gauge::default());
    let echo = EchoOnly {
        delay,
        gauge: Arc::clone(&gauge),
    };
    let mut builder = tonic::transport::Server::builder().max_concurrent_streams(max_streams);
    let router = if with_reflection {
        builder.add_service(reflection).add_service(echo)
    } else {
        builder.add_service(echo)
    };
    tokio::spawn(async move {
        let _ = router
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok((addr, stop, gauge))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idl_routes_without_protoset_use_server_reflection() -> Result<()> {
    let (addr, stop, _) = start_reflection_server(Duration::ZERO, None).await?;
    let api = format!(
        r#"name: reflected
resources:
  - path: /echo
    methods:
      - httpVerb: POST
        integrationRequest:
          requestType: grpc
          url: tri://{addr}
          interface: {CATALOG}
          method: EchoItem
  - path: /get
    methods:
      - httpVerb: POST
        integrationRequest:
          requestType: grpc
          url: tri://{addr}
          interface: {CATALOG}
          method: GetItem
  - path: /missing-service
    methods:
      - httpVerb: POST
        integrationRequest:
          requestType: grpc
          url: tri://{addr}
          interface: org.tianlu.Nope
          method: Get
"#
    );
    let conf = format!("{LISTENER_HEAD}{API_CONFIG_FILTER}              timeout: 10s\n");
    let g = Gateway::start("idl-reflection", &conf, &api).await?;

    let mut sent = item_one();
    sent["reviews"] = json!([{"author": "中文", "stars": -3}, {}]);
    let (status, echoed) = post(&g, "/echo", sent.clone()).await?;
    assert_eq!(status, 200, "{echoed}");
    assert_json(&echoed, &sent, "EchoItem through reflected descriptors");
    // Cached: a second call (and bad JSON named by field) without another reflection fetch
    // is not observable from here, but must behave the same.
    let (status, err) = post(&g, "/echo", json!({"price": {"units": "1.5"}})).await?;
    assert_eq!(
        (status, &err["field"]),
        (400, &json!("requestBody.price.units")),
        "{err}"
    );

    // The descriptors know GetItem, the server does not: UNIMPLEMENTED → SERVICE_NOT_FOUND.
    let (status, err) = post(&g, "/get", json!({"id": 1})).await?;
    assert_eq!(
        (status, &err["code"]),
        (502, &json!("DUBBO_SERVICE_NOT_FOUND")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("UNIMPLEMENTED"),
        "{err}"
    );

    // A service reflection does not know.
    let (status, err) = post(&g, "/missing-service", json!({})).await?;
    assert_eq!(
        (status, &err["code"]),
        (502, &json!("DUBBO_SERVICE_NOT_FOUND")),
        "{err}"
    );
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("org.tianlu.Nope"),
        "{err}"
    );

    g.stop().await;
    drop(stop);
    Ok(())
}

fn echo_gateway_conf(addr: SocketAddr, streams: usize) -> (String, String) {
    let api = format!(
        r#"name: capped
resources:
  - path: /echo
    methods:
      - httpVerb: POST
        integrationRequest:
          requestType: grpc
          url: tri://{addr}
          interface: {CATALOG}
          method: EchoItem
"#
    );
    let conf = format!(
        r#"{LISTENER_HEAD}{API_CONFIG_FILTER}                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      max_concurrent_streams: {streams}
              timeout: 30s
"#
    );
    (conf, api)
}

/// Sends `n` concurrent echo requests through the gateway; all must succeed.
async fn concurrent_echoes(g: &Gateway, n: usize) -> Result<()> {
    let c = client();
    let calls = (0..n).map(|i| {
        let c = c.clone();
        let url = g.url("/echo");
        tokio::spawn(async move {
            let resp = c.post(&url).json(&json!({"id": i + 1})).send().await?;
            let status = resp.status().as_u16();
            anyhow::Ok((status, resp.json::<Value>().await?))
        })
    });
    for (i, r) in futures_util::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        let (status, body) = r??;
        assert_eq!((status, body), (200, json!({"id": (i + 1).to_string()})));
    }
    Ok(())
}

/// `max_concurrent_streams` caps the calls open at once on the Triple connection: the server
/// never sees more than the cap, though every call succeeds; and a server's own lower
/// SETTINGS_MAX_CONCURRENT_STREAMS is respected the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triple_streams_per_connection_are_capped() -> Result<()> {
    // The gateway's cap (4) below the server's (unlimited).
    let (addr, stop, gauge) = start_reflection_server(Duration::from_millis(100), None).await?;
    let (conf, api) = echo_gateway_conf(addr, 4);
    let g = Gateway::start("idl-cap", &conf, &api).await?;
    concurrent_echoes(&g, 40).await?;
    assert_eq!(
        gauge.max.load(Ordering::SeqCst),
        4,
        "calls at once on the server"
    );
    g.stop().await;
    drop(stop);

    // The server's limit (2) below the gateway's cap (256).
    let (addr, stop, gauge) = start_reflection_server(Duration::from_millis(100), Some(2)).await?;
    let (conf, api) = echo_gateway_conf(addr, 256);
    let g = Gateway::start("idl-server-cap", &conf, &api).await?;
    concurrent_echoes(&g, 40).await?;
    assert_eq!(
        gauge.max.load(Ordering::SeqCst),
        2,
        "calls at once on the server"
    );
    g.stop().await;
    drop(stop);
    Ok(())
}

/// Reflection failures are not cached: a provider that serves no reflection fails the call, and
/// once the provider at that address serves it, the next call fetches the descriptors and works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reflection_is_fetched_again() -> Result<()> {
    let (addr, stop, _) = start_server("127.0.0.1:0".parse()?, false, Duration::ZERO, None).await?;
    let (conf, api) = echo_gateway_conf(addr, 256);
    let g = Gateway::start("idl-refetch", &conf, &api).await?;
    let (status, err) = post(&g, "/echo", json!({"id": 5})).await?;
    assert_eq!(
        (status, &err["code"]),
        (502, &json!("DUBBO_SERVICE_NOT_FOUND")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap_or("").contains("reflection"),
        "{err}"
    );

    // The same address, now with reflection.
    drop(stop);
    let mut restarted = None;
    for _ in 0..100 {
        match start_server(addr, true, Duration::ZERO, None).await {
            Ok(s) => {
                restarted = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let (_, stop, _) = restarted.context("rebinding the test server's port")?;
    let mut last = (0, Value::Null);
    for _ in 0..50 {
        last = post(&g, "/echo", json!({"id": 5})).await?;
        if last.0 == 200 {
            break;
        }
        // The old connection may still be closing.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, (200, json!({"id": "5"})));
    g.stop().await;
    drop(stop);
    Ok(())
}

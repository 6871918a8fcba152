//! OpenTelemetry traces through the real gateway: an OTLP/HTTP collector in the test (decoding
//! exports with the upstream generated protobuf types) sees one server span per request, child
//! of the caller's `traceparent`, and one client span per provider attempt; the real Java
//! provider (`ContextService.attachment`) receives a `traceparent` whose parent is the
//! gateway's server span. A collector that is down costs spans, not requests.

use crate::support::{client, conf_yaml, endpoint, Gateway};
use anyhow::{bail, ensure, Context, Result};
use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tianlu_testkit::{free_port, JavaProvider};

/// Spans received, with the `service.name` of their resource.
type Received = Arc<Mutex<Vec<(String, Span)>>>;

/// An OTLP/HTTP trace receiver on 127.0.0.1:0 (`POST /v1/traces`, protobuf).
struct Collector {
    addr: SocketAddr,
    spans: Received,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(State(spans): State<Received>, body: Bytes) -> (http::StatusCode, Vec<u8>) {
    let Ok(req) = ExportTraceServiceRequest::decode(body) else {
        return (http::StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut out = spans.lock().unwrap();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref()?.value.clone())
            .map(|v| match v {
                AnyValue::StringValue(s) => s,
                other => format!("{other:?}"),
            })
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for s in ss.spans {
                out.push((service.clone(), s));
            }
        }
    }
    // An empty ExportTraceServiceResponse.
    (http::StatusCode::OK, Vec::new())
}

impl Collector {
    async fn start() -> Result<Collector> {
        let spans: Received = Arc::default();
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(receive))
            .with_state(Arc::clone(&spans));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Collector { addr, spans, task })
    }

    /// Every span of `trace` received so far.
    fn trace(&self, trace: &[u8]) -> Vec<Span> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.trace_id == trace)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Waits until the server span of `trace` has arrived, and returns all its spans.
    async fn wait_for_server_span(&self, trace: &[u8]) -> Result<Vec<Span>> {
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            let spans = self.trace(trace);
            if spans.iter().any(|s| s.kind == SpanKind::Server as i32) {
                return Ok(spans);
            }
            if Instant::now() > until {
                bail!(
                    "no server span of trace {} arrived; have {spans:?}",
                    hex(trace)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// `traceparent` → (trace id, span id, flags).
fn parts(tp: &str) -> (Vec<u8>, Vec<u8>, String) {
    let p: Vec<&str> = tp.split('-').collect();
    assert_eq!(p.len(), 4, "{tp}");
    (unhex(p[1]), unhex(p[2]), p[3].to_string())
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.clone())
        .map(|v| match v {
            AnyValue::StringValue(s) => s,
            AnyValue::IntValue(i) => i.to_string(),
            other => format!("{other:?}"),
        })
}

const API: &str = r#"name: tracing
resources:
  - path: /ctx/:key
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.interop.ContextService
          method: attachment
          clusterName: java
          parameterTypes: [java.lang.String]
          mappingParams:
            - { name: uri.key, mapTo: 0 }
  - path: /flaky/:key
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.interop.ContextService
          method: attachment
          clusterName: flaky
          parameterTypes: [java.lang.String]
          mappingParams:
            - { name: uri.key, mapTo: 0 }
"#;

async fn gateway(tag: &str, collector: SocketAddr) -> Result<(Gateway, SocketAddr, SocketAddr)> {
    let java = tokio::task::spawn_blocking(JavaProvider::shared).await??;
    let dead: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let clusters = format!(
        "    - name: java\n      endpoints:\n{}    - name: flaky\n      lb_policy: RoundRobin\n      endpoints:\n{}{}",
        endpoint(java.dubbo_addr(), 100),
        endpoint(dead, 100),
        endpoint(java.dubbo_addr(), 100),
    );
    let conf = format!(
        "admin: {{ address: 127.0.0.1, port: 0 }}\ntracing:\n  name: otlp\n  serviceName: tianlu-it\n  sampler: {{ type: always }}\n  config: {{ url: \"http://{collector}\", flush_interval: 50ms, batch_size: 64 }}\n{}",
        conf_yaml(&clusters, "10s")
    );
    let g = Gateway::start(tag, &conf, API).await?;
    Ok((g, java.dubbo_addr(), dead))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_spans_continue_the_callers_trace_and_the_provider_sees_the_gateway_span() -> Result<()>
{
    let collector = Collector::start().await?;
    let (g, java, dead) = gateway("otlp", collector.addr).await?;
    let c = client();

    // 1. A caller that does not sample: its flag reaches the provider, and nothing is exported.
    let quiet = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    let resp = c
        .get(g.url("/ctx/traceparent"))
        .header("traceparent", quiet)
        .send()
        .await?;
    ensure!(resp.status() == 200, "{}", resp.text().await?);
    let got: String = resp.json().await?;
    let (qt, qs, qf) = parts(&got);
    assert_eq!(
        (hex(&qt), qf.as_str()),
        ("0af7651916cd43dd8448eb211c80319c".into(), "00")
    );
    assert_ne!(
        hex(&qs),
        "b7ad6b7169203331",
        "the provider's parent is the gateway span"
    );

    // 2. A sampled caller with trace state.
    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (trace, caller_span, _) = parts(caller);
    let resp = c
        .get(g.url("/ctx/traceparent"))
        .header("traceparent", caller)
        .header("tracestate", "vendor=1")
        .send()
        .await?;
    ensure!(resp.status() == 200, "{}", resp.text().await?);
    let request_id = resp.headers()["x-request-id"].to_str()?.to_string();
    let at_provider: String = resp.json().await?;
    let (pt, ps, pf) = parts(&at_provider);
    assert_eq!(pt, trace, "the provider continues the caller's trace");
    assert_eq!(pf, "01");
    assert_ne!(ps, caller_span);
    let state: serde_json::Value = c
        .get(g.url("/ctx/tracestate"))
        .header("traceparent", caller)
        .header("tracestate", "vendor=1")
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(state, "vendor=1");

    let spans = collector.wait_for_server_span(&trace).await?;
    let servers: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Server as i32)
        .collect();
    // Two requests carried this trace (traceparent, tracestate): two server spans, never more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let spans = collector.trace(&trace);
    let servers_now: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Server as i32)
        .collect();
    assert_eq!(
        servers_now.len(),
        2,
        "one server span per request: {spans:#?}"
    );
    assert!(!servers.is_empty());
    let server = servers_now
        .iter()
        .find(|s| s.span_id == ps)
        .context("the server span is the span the provider saw as its parent")?;
    assert_eq!(
        server.parent_span_id, caller_span,
        "child of the caller's span"
    );
    assert_eq!(server.name, "GET /ctx/:key");
    assert_eq!(server.trace_state, "vendor=1");
    assert_eq!(attr(server, "http.route").as_deref(), Some("GET /ctx/:key"));
    assert_eq!(attr(server, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(
        attr(server, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(
        attr(server, "tianlu.request_id").as_deref(),
        Some(request_id.as_str())
    );
    assert_eq!(
        attr(server, "tianlu.upstream.endpoint"),
        Some(java.to_string())
    );
    assert_eq!(attr(server, "tianlu.retries").as_deref(), Some("0"));
    assert!(server.end_time_unix_nano >= server.start_time_unix_nano);
    let clients: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Client as i32 && s.parent_span_id == server.span_id)
        .collect();
    assert_eq!(clients.len(), 1, "{spans:#?}");
    let client_span = clients[0];
    assert_eq!(
        client_span.name,
        "org.tianlu.interop.ContextService/attachment"
    );
    assert_eq!(
        attr(client_span, "rpc.system").as_deref(),
        Some("apache_dubbo")
    );
    assert_eq!(attr(client_span, "server.address"), Some(java.to_string()));
    let service = collector.spans.lock().unwrap()[0].0.clone();
    assert_eq!(service, "tianlu-it");
    assert!(
        collector.trace(&qt).is_empty(),
        "an unsampled trace is not exported"
    );

    // 3. No traceparent: a new trace, rooted at the gateway.
    let got: String = c
        .get(g.url("/ctx/traceparent"))
        .send()
        .await?
        .json()
        .await?;
    let (nt, ns, nf) = parts(&got);
    assert_eq!(nf, "01");
    let spans = collector.wait_for_server_span(&nt).await?;
    let root = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    assert!(root.parent_span_id.is_empty(), "a root span has no parent");
    assert_eq!(root.span_id, ns);

    // 4. A failover: the attempt on the dead endpoint and the one that answered are both
    // client spans of one server span with tianlu.retries = 1. Round robin over [dead, java]
    // starts one of two requests on the dead endpoint.
    let mut failed_over = None;
    for i in 0..2 {
        let tp = format!("00-{:032x}-00f067aa0ba902b7-01", 0xabc0 + i);
        let resp = c
            .get(g.url("/flaky/traceparent"))
            .header("traceparent", &tp)
            .send()
            .await?;
        ensure!(resp.status() == 200, "{}", resp.text().await?);
        let (t, _, _) = parts(&tp);
        let spans = collector.wait_for_server_span(&t).await?;
        let server = spans
            .iter()
            .find(|s| s.kind == SpanKind::Server as i32)
            .unwrap();
        if attr(server, "tianlu.retries").as_deref() == Some("1") {
            failed_over = Some(spans);
        }
    }
    let spans = failed_over.context("one request failed over")?;
    let mut clients: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Client as i32)
        .collect();
    clients.sort_by_key(|s| s.start_time_unix_nano);
    assert_eq!(clients.len(), 2, "{spans:#?}");
    assert_eq!(attr(clients[0], "server.address"), Some(dead.to_string()));
    assert_eq!(
        clients[0].status.as_ref().map(|s| s.code),
        Some(2),
        "the failed attempt is an error"
    );
    assert_eq!(attr(clients[1], "server.address"), Some(java.to_string()));
    assert_eq!(attr(clients[1], "tianlu.attempt").as_deref(), Some("2"));

    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_costs_spans_not_requests() -> Result<()> {
    let down: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let (g, _, _) = gateway("otlp-down", down).await?;
    let c = client();
    for _ in 0..20 {
        let resp = c.get(g.url("/ctx/tianlu.request_id")).send().await?;
        ensure!(resp.status() == 200, "{}", resp.text().await?);
    }
    let admin = format!(
        "http://{}",
        g.running.as_ref().and_then(|r| r.admin).context("admin")?
    );
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let text = c
            .get(format!("{admin}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let failed = text
            .lines()
            .find_map(|l| l.strip_prefix("tianlu_trace_spans_total{outcome=\"failed\"} "))
            .and_then(|n| n.parse::<u64>().ok())
            .context("tianlu_trace_spans_total missing")?;
        if failed >= 40 {
            assert!(
                text.contains("tianlu_trace_spans_total{outcome=\"queued\"} 40"),
                "{text}"
            );
            break;
        }
        ensure!(Instant::now() < until, "exports never failed: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    g.stop().await;
    Ok(())
}

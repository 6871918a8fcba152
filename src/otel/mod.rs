//! OpenTelemetry traces: one server span per request (child of the incoming `traceparent`, or
//! the root of a new trace) and one client span per provider attempt, exported over OTLP/HTTP
//! by a background batcher ([`export`]). The provider receives the server span's context.
//!
//! The request path only builds span records and hands them to a bounded queue with
//! `try_send`: a slow or absent collector costs dropped spans (counted in
//! `tianlu_trace_spans_total{outcome="dropped"}`), never request latency.

pub mod context;
mod export;
pub mod proto;

pub use context::TraceParent;

use crate::metrics::Metrics;
use context::{hex, new_span_id, new_trace_id};
use http::HeaderMap;
use proto::{kind, status_code, KeyValue, Span, Status};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tianlu_api_config::bootstrap::otlp::{Sampler, TracingConfig};
use tianlu_protocol::invocation::Invocation;
use tokio::sync::mpsc;

/// Starts and finishes spans for one runtime; its exporter task ends (after a last flush) when
/// the tracer is dropped with the runtime.
pub struct Tracer {
    sampler: Sampler,
    queue: mpsc::Sender<Span>,
    metrics: Arc<Metrics>,
}

/// The gateway's span for one request, kept in the request's extensions while it runs.
#[derive(Clone)]
pub struct ServerSpan {
    /// This span's context: the trace id, the gateway's span id, the flags.
    pub context: TraceParent,
    /// The caller's span id, when the request carried a valid `traceparent`.
    pub parent: Option<[u8; 8]>,
    /// The incoming `tracestate`, passed on unchanged.
    pub trace_state: Option<String>,
    start_unix_nanos: u64,
    started: Instant,
    client_spans: Vec<Span>,
    attempts: u32,
}

/// One provider attempt being timed.
pub struct Attempt {
    span_id: [u8; 8],
    start_unix_nanos: u64,
    started: Instant,
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn elapsed_nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Whether a new trace with this id is sampled.
fn sample(sampler: Sampler, trace_id: &[u8; 16]) -> bool {
    match sampler {
        Sampler::Always => true,
        Sampler::Never => false,
        Sampler::Ratio(r) => {
            // The low 8 bytes of a random trace id are uniform; compare them with r × 2^64.
            let mut low = [0u8; 8];
            low.copy_from_slice(&trace_id[8..]);
            let x = u64::from_be_bytes(low) >> 11;
            (x as f64) < r * (1u64 << 53) as f64
        }
    }
}

impl Tracer {
    /// A tracer exporting to `cfg.url`; spawns the exporter on the current tokio runtime.
    pub fn start(cfg: &TracingConfig, metrics: &Arc<Metrics>) -> Result<Tracer, String> {
        let queue = export::spawn(cfg, Arc::clone(metrics))?;
        Ok(Tracer {
            sampler: cfg.sampler,
            queue,
            metrics: Arc::clone(metrics),
        })
    }

    /// Starts the server span of a request with these headers.
    pub fn begin(&self, headers: &HeaderMap) -> ServerSpan {
        let incoming = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(TraceParent::parse);
        let (trace_id, parent, sampled) = match incoming {
            Some(tp) => (tp.trace_id, Some(tp.span_id), tp.sampled()),
            None => {
                let id = new_trace_id();
                (id, None, sample(self.sampler, &id))
            }
        };
        let trace_state = incoming
            .and_then(|_| headers.get("tracestate"))
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        ServerSpan {
            context: TraceParent {
                trace_id,
                span_id: new_span_id(),
                flags: u8::from(sampled),
            },
            parent,
            trace_state,
            start_unix_nanos: unix_nanos(),
            started: Instant::now(),
            client_spans: Vec::new(),
            attempts: 0,
        }
    }

    /// Ends the request's server span (taken out of `extensions`) and queues it with its
    /// client spans when the trace is sampled.
    pub fn end(&self, extensions: &mut http::Extensions, done: &Finished<'_>) {
        let Some(span) = extensions.remove::<ServerSpan>() else {
            return;
        };
        if !span.context.sampled() {
            return;
        }
        let mut attributes = vec![
            KeyValue::string("http.request.method", done.method),
            KeyValue::string("url.path", done.path),
            KeyValue::int("http.response.status_code", i64::from(done.status)),
            KeyValue::string("tianlu.listener", done.listener),
        ];
        if !done.request_id.is_empty() {
            attributes.push(KeyValue::string("tianlu.request_id", done.request_id));
        }
        if let Some(route) = done.route {
            attributes.push(KeyValue::string("http.route", route));
        }
        if let Some(up) = done.upstream {
            attributes.push(KeyValue::string("tianlu.upstream.endpoint", up));
        }
        attributes.push(KeyValue::int(
            "tianlu.retries",
            i64::from(span.attempts.saturating_sub(1)),
        ));
        let status = (done.status >= 500).then(|| Status {
            message: format!("HTTP {}", done.status),
            code: status_code::ERROR,
        });
        let name = match done.route {
            Some(r) => r.to_owned(),
            None => done.method.to_owned(),
        };
        let server = Span {
            trace_id: span.context.trace_id.to_vec(),
            span_id: span.context.span_id.to_vec(),
            trace_state: span.trace_state.clone().unwrap_or_default(),
            parent_span_id: span.parent.map(|p| p.to_vec()).unwrap_or_default(),
            name,
            kind: kind::SERVER,
            start_time_unix_nano: span.start_unix_nanos,
            end_time_unix_nano: span
                .start_unix_nanos
                .saturating_add(elapsed_nanos(span.started)),
            attributes,
            status,
            flags: u32::from(span.context.flags),
        };
        for s in span.client_spans.into_iter().chain([server]) {
            let outcome = if self.queue.try_send(s).is_ok() {
                &self.metrics.spans_queued
            } else {
                &self.metrics.spans_dropped
            };
            outcome.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What the server span records about a finished request.
pub struct Finished<'a> {
    /// Listener name.
    pub listener: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Request path.
    pub path: &'a str,
    /// The matched route's label.
    pub route: Option<&'a str>,
    /// Response status.
    pub status: u16,
    /// Request id.
    pub request_id: &'a str,
    /// The endpoint of the last provider attempt.
    pub upstream: Option<&'a str>,
}

impl ServerSpan {
    /// The `traceparent` a provider gets: this span as its parent.
    pub fn traceparent(&self) -> String {
        self.context.header()
    }

    /// The trace id as 32 hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.context.trace_id)
    }
}

/// What an attempt calls, for its client span.
#[derive(Debug, Clone, Copy)]
pub struct CallTarget<'a> {
    /// The Dubbo interface or protobuf service.
    pub service: &'a str,
    /// The method (the target of a generic `$invoke`).
    pub method: &'a str,
    /// The Dubbo group.
    pub group: Option<&'a str>,
    /// The Dubbo version.
    pub version: Option<&'a str>,
}

impl<'a> From<&'a Invocation> for CallTarget<'a> {
    fn from(inv: &'a Invocation) -> Self {
        CallTarget {
            service: &inv.service,
            method: inv.generic_target_method().unwrap_or(&inv.method),
            group: inv.group.as_deref(),
            version: inv.version.as_deref(),
        }
    }
}

impl Attempt {
    /// Starts timing an attempt, when the request has a server span.
    pub fn begin(extensions: &http::Extensions) -> Option<Attempt> {
        extensions.get::<ServerSpan>()?;
        Some(Attempt {
            span_id: new_span_id(),
            start_unix_nanos: unix_nanos(),
            started: Instant::now(),
        })
    }

    /// Records the attempt as a client span under the server span; `error` when it failed.
    pub fn end(
        self,
        extensions: &mut http::Extensions,
        endpoint: &str,
        target: &CallTarget<'_>,
        error: Option<String>,
    ) {
        let Some(server) = extensions.get_mut::<ServerSpan>() else {
            return;
        };
        server.attempts += 1;
        if !server.context.sampled() {
            return;
        }
        let method = target.method.to_owned();
        let mut attributes = vec![
            KeyValue::string("rpc.system", "apache_dubbo"),
            KeyValue::string("rpc.service", target.service.to_owned()),
            KeyValue::string("rpc.method", method.clone()),
            KeyValue::string("server.address", endpoint),
            KeyValue::int("tianlu.attempt", i64::from(server.attempts)),
        ];
        if let Some(g) = target.group {
            attributes.push(KeyValue::string("tianlu.dubbo.group", g.to_owned()));
        }
        if let Some(v) = target.version {
            attributes.push(KeyValue::string("tianlu.dubbo.version", v.to_owned()));
        }
        let status = error.map(|message| Status {
            message,
            code: status_code::ERROR,
        });
        server.client_spans.push(Span {
            trace_id: server.context.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            trace_state: server.trace_state.clone().unwrap_or_default(),
            parent_span_id: server.context.span_id.to_vec(),
            name: format!("{}/{method}", target.service),
            kind: kind::CLIENT,
            start_time_unix_nano: self.start_unix_nanos,
            end_time_unix_nano: self
                .start_unix_nanos
                .saturating_add(elapsed_nanos(self.started)),
            attributes,
            status,
            flags: u32::from(server.context.flags),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_sampler_keeps_about_that_share() {
        let kept = (0..20_000)
            .filter(|_| sample(Sampler::Ratio(0.25), &new_trace_id()))
            .count();
        assert!((4_000..6_000).contains(&kept), "{kept} of 20000");
        assert!(!sample(Sampler::Ratio(0.0), &[0xff; 16]));
        assert!(sample(Sampler::Ratio(1.0), &[0xff; 16]));
    }

    #[tokio::test]
    async fn server_span_continues_the_callers_trace() {
        let cfg = TracingConfig {
            service_name: "t".into(),
            sampler: Sampler::Never,
            url: "http://127.0.0.1:9/v1/traces".into(),
            timeout: std::time::Duration::from_millis(50),
            batch_size: 1,
            queue_size: 1,
            flush_interval: std::time::Duration::from_secs(60),
        };
        let t = Tracer::start(&cfg, &Arc::new(Metrics::default())).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        h.insert("tracestate", "k=v".parse().unwrap());
        let s = t.begin(&h);
        assert_eq!(s.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            s.parent,
            Some([0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7])
        );
        assert!(s.context.sampled(), "the caller's decision wins over never");
        assert_eq!(s.trace_state.as_deref(), Some("k=v"));
        let tp = TraceParent::parse(&s.traceparent()).unwrap();
        assert_eq!(tp.span_id, s.context.span_id);
        assert_ne!(Some(tp.span_id), s.parent);
        let fresh = t.begin(&HeaderMap::new());
        assert!(fresh.parent.is_none() && !fresh.context.sampled());
    }
}

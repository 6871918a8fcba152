//! The top-level `tracing` block of conf.yaml: OpenTelemetry traces exported over OTLP/HTTP
//! (protobuf). pixiu's keys are read as they are (`name`, `serviceName`, `sampler{type, param}`,
//! `config.url`); `name: jaeger` is refused with the way to reach Jaeger over OTLP instead.
//! tianlu's batching keys (`timeout`, `batch_size`, `queue_size`, `flush_interval`) sit beside
//! `url` under `config`.

use std::time::Duration;

use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Kind;

/// Default `serviceName`.
pub const DEFAULT_SERVICE_NAME: &str = "tianlu";
/// Default `config.timeout`: how long one export may take.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `config.batch_size`: spans per export request.
pub const DEFAULT_BATCH_SIZE: usize = 512;
/// Default `config.queue_size`: finished spans waiting for export; more are dropped.
pub const DEFAULT_QUEUE_SIZE: usize = 4096;
/// Default `config.flush_interval`: longest wait before a partial batch is sent.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(2);

/// Which traces are recorded (and exported) when the request does not decide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// `always` (default).
    Always,
    /// `never`: ids are still made and propagated, nothing is exported.
    Never,
    /// `ratio` with `param` in [0, 1]: that share of new traces, chosen by trace id.
    Ratio(f64),
}

/// `tracing`.
#[derive(Debug, Clone, PartialEq)]
pub struct TracingConfig {
    /// `serviceName` (default `tianlu`): the `service.name` resource attribute.
    pub service_name: String,
    /// `sampler` for new traces; a request with a `traceparent` keeps its sampled flag.
    pub sampler: Sampler,
    /// `config.url`: the OTLP/HTTP traces endpoint (`/v1/traces` is added to a bare host).
    pub url: String,
    /// `config.timeout` (default 5s).
    pub timeout: Duration,
    /// `config.batch_size` (default 512).
    pub batch_size: usize,
    /// `config.queue_size` (default 4096).
    pub queue_size: usize,
    /// `config.flush_interval` (default 2s).
    pub flush_interval: Duration,
}

fn ratio(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str) -> Option<f64> {
    let node = m.get(key)?;
    let text = match &node.kind {
        Kind::Int(..) | Kind::Float(_) | Kind::Str(_) => node.scalar_text(),
        _ => None,
    };
    match text.and_then(|t| t.trim().parse::<f64>().ok()) {
        Some(v) if (0.0..=1.0).contains(&v) => Some(v),
        _ => {
            cx.problem(
                m.key_line(key),
                &m.child(key),
                "expected a share from 0 to 1 (such as 0.25)",
            );
            None
        }
    }
}

/// The traces URL for `url`: a URL with no path gets `/v1/traces`. `Err` says what is wrong.
pub fn traces_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("{url:?} is not an http:// or https:// URL (tianlu exports OTLP over HTTP/protobuf)")
        })?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("{url:?} has no host"));
    }
    if path.is_empty() || path == "/" {
        Ok(format!("{}/v1/traces", url.trim_end_matches('/')))
    } else {
        Ok(url.to_owned())
    }
}

fn count(cx: &mut Ctx, c: &mut MapView<'_>, key: &'static str, default: usize) -> usize {
    match c.uint(cx, key, 1_000_000) {
        Some(0) => {
            cx.problem(c.key_line(key), &c.child(key), "must be greater than 0");
            default
        }
        Some(n) => usize::try_from(n).unwrap_or(default),
        None => default,
    }
}

/// Reads `tracing` from the top level, if present.
pub(crate) fn read(cx: &mut Ctx, top: &mut MapView<'_>) -> Option<TracingConfig> {
    let mut t = top.map(cx, "tracing")?;
    match t.string(cx, "name").as_deref().map(str::trim) {
        None | Some("otlp") => {}
        Some("jaeger") => cx.problem(
            t.key_line("name"),
            &t.child("name"),
            "the Jaeger exporter is not supported; Jaeger accepts OTLP: use name: otlp with config.url http://<jaeger>:4318",
        ),
        Some(other) => cx.problem(
            t.key_line("name"),
            &t.child("name"),
            format!("unknown exporter {other:?}; use otlp"),
        ),
    }
    let service_name = t
        .string(cx, "serviceName")
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
    let sampler = match t.map(cx, "sampler") {
        None => Some(Sampler::Always),
        Some(mut s) => {
            let kind = s.string(cx, "type");
            let sampler = match kind.as_deref().map(str::trim) {
                None | Some("always") => Some(Sampler::Always),
                Some("never") => Some(Sampler::Never),
                Some("ratio") => {
                    if s.get("param").is_none() {
                        s.missing(cx, "param");
                    }
                    ratio(cx, &mut s, "param").map(Sampler::Ratio)
                }
                Some(other) => {
                    cx.problem(
                        s.key_line("type"),
                        &s.child("type"),
                        format!("unknown sampler {other:?}; use always, never or ratio"),
                    );
                    None
                }
            };
            if !matches!(sampler, Some(Sampler::Ratio(_))) && s.get("param").is_some() {
                cx.problem(
                    s.key_line("param"),
                    &s.child("param"),
                    "param is only used with type: ratio",
                );
            }
            s.finish(cx);
            sampler
        }
    };
    let Some(mut c) = t.map(cx, "config") else {
        t.missing(cx, "config");
        t.finish(cx);
        return None;
    };
    let url = match c.req_string(cx, "url") {
        Some(u) => match traces_url(&u) {
            Ok(u) => Some(u),
            Err(e) => {
                cx.problem(c.key_line("url"), &c.child("url"), e);
                None
            }
        },
        None => None,
    };
    let timeout = c
        .positive_duration(cx, "timeout")
        .unwrap_or(DEFAULT_EXPORT_TIMEOUT);
    let flush_interval = c
        .positive_duration(cx, "flush_interval")
        .unwrap_or(DEFAULT_FLUSH_INTERVAL);
    let batch_size = count(cx, &mut c, "batch_size", DEFAULT_BATCH_SIZE);
    let queue_size = count(cx, &mut c, "queue_size", DEFAULT_QUEUE_SIZE);
    if batch_size > queue_size {
        cx.problem(
            c.key_line("batch_size"),
            &c.child("batch_size"),
            format!("batch_size {batch_size} is larger than queue_size {queue_size}"),
        );
    }
    c.finish(cx);
    t.finish(cx);
    Some(TracingConfig {
        service_name,
        sampler: sampler?,
        url: url?,
        timeout,
        batch_size,
        queue_size,
        flush_interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::Bootstrap;

    const LISTENER: &str = "static_resources:\n  listeners:\n    - name: l\n      protocol_type: HTTP\n      address: { socket_address: { address: 127.0.0.1, port: 0 } }\n      filter_chains:\n        filters:\n          - name: dgp.filter.httpconnectionmanager\n            config:\n              http_filters:\n                - name: dgp.filter.http.apiconfig\n                  config: { path: api.yaml }\n";

    fn load(tracing: &str) -> Result<Bootstrap, String> {
        Bootstrap::from_yaml_str(&format!("{tracing}{LISTENER}"), "conf.yaml")
            .map(|(b, _)| b)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn pixiu_keys_and_defaults() {
        let b = load("tracing:\n  name: otlp\n  serviceName: edge\n  sampler: { type: ratio, param: 0.25 }\n  config:\n    url: http://127.0.0.1:4318\n").unwrap();
        let t = b.tracing.unwrap();
        assert_eq!(t.service_name, "edge");
        assert_eq!(t.sampler, Sampler::Ratio(0.25));
        assert_eq!(t.url, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(t.batch_size, DEFAULT_BATCH_SIZE);
        assert_eq!(t.queue_size, DEFAULT_QUEUE_SIZE);
        let b = load("tracing:\n  config: { url: \"https://c.example/otlp/traces\", flush_interval: 100ms, batch_size: 10, queue_size: 20 }\n").unwrap();
        let t = b.tracing.unwrap();
        assert_eq!(t.url, "https://c.example/otlp/traces");
        assert_eq!(t.sampler, Sampler::Always);
        assert_eq!(t.flush_interval, Duration::from_millis(100));
        assert!(load("").unwrap().tracing.is_none());
    }

    #[test]
    fn bad_keys_are_named() {
        for (yaml, path, what) in [
            ("tracing:\n  name: jaeger\n  config: { url: http://a:4318 }\n", "tracing.name", "Jaeger accepts OTLP"),
            ("tracing:\n  sampler: { type: ratio, param: 2 }\n  config: { url: http://a:4318 }\n", "tracing.sampler.param", "from 0 to 1"),
            ("tracing:\n  sampler: { type: sometimes }\n  config: { url: http://a:4318 }\n", "tracing.sampler.type", "unknown sampler"),
            ("tracing:\n  config: { url: \"grpc://a:4317\" }\n", "tracing.config.url", "http:// or https://"),
            ("tracing:\n  serviceName: x\n", "tracing.config", "missing"),
            ("tracing:\n  config: { url: http://a:4318, batch_size: 9, queue_size: 8 }\n", "tracing.config.batch_size", "larger than queue_size"),
            ("tracing:\n  config: { url: http://a:4318, endpoint: x }\n", "tracing.config.endpoint", "unknown"),
        ] {
            let e = load(yaml).expect_err(yaml);
            assert!(e.contains(path) && e.contains(what), "{yaml}: {e}");
        }
    }

    #[test]
    fn pixiu_tracing_and_traffic_filters_point_to_tianlu_keys() {
        for (name, what) in [
            ("dgp.filters.tracing", "top-level tracing block"),
            ("dgp.filter.http.traffic", "integrationRequest.split"),
        ] {
            let text = LISTENER.replace(
                "                - name: dgp.filter.http.apiconfig\n",
                &format!("                - name: {name}\n                  config: {{ traffics: [] }}\n                - name: dgp.filter.http.apiconfig\n"),
            );
            let e = Bootstrap::from_yaml_str(&text, "conf.yaml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(what) && !e.contains("traffics"), "{name}: {e}");
        }
    }
}

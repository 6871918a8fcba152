//! Prometheus metrics, served as text at the admin listener's `/metrics`: requests by route and
//! status with latency histograms, upstream calls by endpoint with in-flight and connection
//! gauges, ejections, and reload outcomes.
//!
//! The hot path only touches atomics: each route and endpoint gets its counters once, when a
//! runtime is built, from a registry that outlives reloads (so counters never reset on reload).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Statuses counted individually; anything else is counted as `other`.
const STATUSES: [u16; 16] = [
    200, 204, 400, 401, 403, 404, 405, 406, 413, 429, 500, 502, 503, 504, 0, 0,
];
const OTHER: usize = 14;
/// Latency bucket bounds in microseconds.
const BUCKETS_US: [u64; 14] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 10_000_000,
];

/// Counters of one route (or of a listener's unmatched requests).
#[derive(Default)]
pub struct RouteStats {
    statuses: [AtomicU64; 16],
    buckets: [AtomicU64; BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl RouteStats {
    /// Records one finished request.
    pub fn observe(&self, status: u16, elapsed: Duration) {
        let slot = STATUSES[..OTHER]
            .iter()
            .position(|&s| s == status)
            .unwrap_or(OTHER);
        self.statuses[slot].fetch_add(1, Ordering::Relaxed);
        let us = elapsed.as_micros() as u64;
        if let Some(b) = BUCKETS_US.iter().position(|&le| us <= le) {
            self.buckets[b].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }
}

/// Counters of one provider endpoint within a cluster.
#[derive(Default)]
pub struct EndpointStats {
    /// Calls answered by the provider (values, nulls and exceptions).
    pub ok: AtomicU64,
    /// Calls that failed at the transport or protocol level.
    pub errors: AtomicU64,
    /// Times the endpoint was ejected.
    pub ejections: AtomicU64,
}

/// Live gauges of an endpoint, read when `/metrics` is scraped.
pub struct EndpointGauges {
    /// Calls in flight.
    pub in_flight: usize,
    /// Whether a connection is up.
    pub connected: bool,
    /// Whether the endpoint is currently ejected.
    pub ejected: bool,
}

/// Failover retries of one cluster and the retries its budget refused.
#[derive(Default)]
pub struct RetryStats {
    /// Retries made.
    pub retries: AtomicU64,
    /// Retries refused because the cluster's retry budget was spent.
    pub exhausted: AtomicU64,
}

type Key = (String, String);

/// The metrics registry shared by every runtime of one gateway process.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<Key, Arc<RouteStats>>>,
    endpoints: Mutex<BTreeMap<Key, Arc<EndpointStats>>>,
    retries: Mutex<BTreeMap<String, Arc<RetryStats>>>,
    /// Applied reloads.
    pub reloads_applied: AtomicU64,
    /// Refused reloads.
    pub reloads_failed: AtomicU64,
    /// Trace spans handed to the exporter queue.
    pub spans_queued: AtomicU64,
    /// Trace spans dropped because the exporter queue was full.
    pub spans_dropped: AtomicU64,
    /// Trace spans the collector accepted.
    pub spans_exported: AtomicU64,
    /// Trace spans lost to failed exports.
    pub spans_failed: AtomicU64,
    registries: Mutex<BTreeMap<String, Arc<RegistryGauge>>>,
    registry_updates: Mutex<BTreeMap<String, Arc<AtomicU64>>>,
}

/// The connection state of one registry.
#[derive(Default)]
pub struct RegistryGauge {
    /// Connected now.
    pub connected: std::sync::atomic::AtomicBool,
}

impl Metrics {
    /// The counters of `route` on `listener` (created on first use; called at build time).
    pub fn route(&self, listener: &str, route: &str) -> Arc<RouteStats> {
        shared(&self.routes, (listener.to_string(), route.to_string()))
    }

    /// The counters of `endpoint` in `cluster` (created on first use; called at build time).
    pub fn endpoint(&self, cluster: &str, endpoint: &str) -> Arc<EndpointStats> {
        shared(&self.endpoints, (cluster.to_string(), endpoint.to_string()))
    }

    /// The connection gauge of registry `id` (created on first use).
    pub fn registry(&self, id: &str) -> Arc<RegistryGauge> {
        shared(&self.registries, id.to_string())
    }

    /// The counter of registry changes received for discovered cluster `cluster`.
    pub fn registry_updates(&self, cluster: &str) -> Arc<AtomicU64> {
        shared(&self.registry_updates, cluster.to_string())
    }

    /// The retry counters of `cluster` (created on first use; called at build time).
    pub fn retries(&self, cluster: &str) -> Arc<RetryStats> {
        shared(&self.retries, cluster.to_string())
    }

    /// Renders the Prometheus text exposition. `gauges` gives the live state of endpoints that
    /// are in the current runtime, keyed like [`Metrics::endpoint`].
    pub fn render(&self, gauges: &BTreeMap<Key, EndpointGauges>) -> String {
        let mut out = String::with_capacity(4096);
        let routes: Vec<(Key, Arc<RouteStats>)> = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        out.push_str("# HELP tianlu_requests_total HTTP requests by listener, route and status.\n");
        out.push_str("# TYPE tianlu_requests_total counter\n");
        for ((listener, route), s) in &routes {
            for (i, status) in STATUSES.iter().enumerate().take(OTHER + 1) {
                let n = s.statuses[i].load(Ordering::Relaxed);
                if n == 0 {
                    continue;
                }
                let status = if i == OTHER {
                    "other".to_string()
                } else {
                    status.to_string()
                };
                let _ = writeln!(
                    out,
                    "tianlu_requests_total{{listener=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    esc(listener),
                    esc(route)
                );
            }
        }
        out.push_str("# HELP tianlu_request_duration_seconds Time from request to response.\n");
        out.push_str("# TYPE tianlu_request_duration_seconds histogram\n");
        for ((listener, route), s) in &routes {
            let count = s.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let labels = format!("listener=\"{}\",route=\"{}\"", esc(listener), esc(route));
            let mut cumulative = 0;
            for (i, le) in BUCKETS_US.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "tianlu_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {cumulative}",
                    *le as f64 / 1e6
                );
            }
            let _ = writeln!(
                out,
                "tianlu_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "tianlu_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "tianlu_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        let endpoints: Vec<(Key, Arc<EndpointStats>)> = self
            .endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        out.push_str(
            "# HELP tianlu_upstream_calls_total Provider calls by cluster, endpoint and outcome.\n",
        );
        out.push_str("# TYPE tianlu_upstream_calls_total counter\n");
        for ((cluster, ep), s) in &endpoints {
            for (outcome, n) in [("ok", &s.ok), ("error", &s.errors)] {
                let _ = writeln!(
                    out,
                    "tianlu_upstream_calls_total{{cluster=\"{}\",endpoint=\"{}\",outcome=\"{outcome}\"}} {}",
                    esc(cluster),
                    esc(ep),
                    n.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str("# HELP tianlu_upstream_ejections_total Outlier ejections by endpoint.\n");
        out.push_str("# TYPE tianlu_upstream_ejections_total counter\n");
        for ((cluster, ep), s) in &endpoints {
            let _ = writeln!(
                out,
                "tianlu_upstream_ejections_total{{cluster=\"{}\",endpoint=\"{}\"}} {}",
                esc(cluster),
                esc(ep),
                s.ejections.load(Ordering::Relaxed)
            );
        }
        for (name, help, read) in [
            (
                "tianlu_upstream_in_flight",
                "Calls in flight per endpoint.",
                (|g: &EndpointGauges| g.in_flight as u64) as fn(&EndpointGauges) -> u64,
            ),
            (
                "tianlu_upstream_connected",
                "1 while a connection to the endpoint is up.",
                |g: &EndpointGauges| u64::from(g.connected),
            ),
            (
                "tianlu_upstream_ejected",
                "1 while the endpoint is ejected.",
                |g: &EndpointGauges| u64::from(g.ejected),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for ((cluster, ep), g) in gauges {
                let _ = writeln!(
                    out,
                    "{name}{{cluster=\"{}\",endpoint=\"{}\"}} {}",
                    esc(cluster),
                    esc(ep),
                    read(g)
                );
            }
        }
        out.push_str("# HELP tianlu_reloads_total Configuration reloads by outcome.\n");
        out.push_str("# TYPE tianlu_reloads_total counter\n");
        let _ = writeln!(
            out,
            "tianlu_reloads_total{{outcome=\"applied\"}} {}",
            self.reloads_applied.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "tianlu_reloads_total{{outcome=\"failed\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        let registries: Vec<(String, bool)> = self
            .registries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, g)| (k.clone(), g.connected.load(Ordering::Relaxed)))
            .collect();
        if !registries.is_empty() {
            out.push_str(
                "# HELP tianlu_registry_connected Whether the gateway is connected to the registry.\n",
            );
            out.push_str("# TYPE tianlu_registry_connected gauge\n");
            for (id, up) in registries {
                let _ = writeln!(
                    out,
                    "tianlu_registry_connected{{registry=\"{}\"}} {}",
                    esc(&id),
                    u8::from(up)
                );
            }
        }
        let updates: Vec<(String, u64)> = self
            .registry_updates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, n)| (k.clone(), n.load(Ordering::Relaxed)))
            .collect();
        if !updates.is_empty() {
            out.push_str("# HELP tianlu_registry_changes_total Provider list changes received from registries, by discovered cluster.\n");
            out.push_str("# TYPE tianlu_registry_changes_total counter\n");
            for (cluster, n) in updates {
                let _ = writeln!(
                    out,
                    "tianlu_registry_changes_total{{cluster=\"{}\"}} {n}",
                    esc(&cluster)
                );
            }
        }
        let retries: Vec<(String, Arc<RetryStats>)> = self
            .retries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        for (name, help, read) in [
            (
                "tianlu_retries_total",
                "Failover retries by cluster.",
                (|s: &RetryStats| s.retries.load(Ordering::Relaxed)) as fn(&RetryStats) -> u64,
            ),
            (
                "tianlu_retry_budget_exhausted_total",
                "Retries refused because the cluster's retry budget was spent.",
                |s: &RetryStats| s.exhausted.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (cluster, s) in &retries {
                let _ = writeln!(out, "{name}{{cluster=\"{}\"}} {}", esc(cluster), read(s));
            }
        }
        out.push_str("# HELP tianlu_ratelimit_redis_failures_total Requests whose shared rate limit Redis could not decide (on_failure applied).\n");
        out.push_str("# TYPE tianlu_ratelimit_redis_failures_total counter\n");
        let _ = writeln!(
            out,
            "tianlu_ratelimit_redis_failures_total {}",
            crate::filter::REDIS_FAILURES.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tianlu_trace_spans_total Trace spans by outcome (queued, dropped on a full queue, exported, failed to export).\n");
        out.push_str("# TYPE tianlu_trace_spans_total counter\n");
        for (outcome, n) in [
            ("queued", &self.spans_queued),
            ("dropped", &self.spans_dropped),
            ("exported", &self.spans_exported),
            ("failed", &self.spans_failed),
        ] {
            let _ = writeln!(
                out,
                "tianlu_trace_spans_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// The entry of `key` in a registry of shared counters, created on first use: the same key
/// always gets the same counters, so they survive reloads.
fn shared<K: Ord, V: Default>(map: &Mutex<BTreeMap<K, Arc<V>>>, key: K) -> Arc<V> {
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(map.entry(key).or_default())
}

/// Escapes a label value.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_statuses_and_latency_and_survives_reregistration() {
        let m = Metrics::default();
        let r = m.route("l", "GET /a/:id");
        r.observe(200, Duration::from_micros(300));
        r.observe(200, Duration::from_millis(3));
        r.observe(418, Duration::from_millis(3));
        // A reload asks for the same route again and gets the same counters.
        m.route("l", "GET /a/:id")
            .observe(504, Duration::from_secs(1));
        let e = m.endpoint("c", "127.0.0.1:1");
        e.ok.fetch_add(2, Ordering::Relaxed);
        m.reloads_failed.fetch_add(1, Ordering::Relaxed);
        let mut gauges = BTreeMap::new();
        gauges.insert(
            ("c".to_string(), "127.0.0.1:1".to_string()),
            EndpointGauges {
                in_flight: 3,
                connected: true,
                ejected: false,
            },
        );
        let text = m.render(&gauges);
        for line in [
            "tianlu_requests_total{listener=\"l\",route=\"GET /a/:id\",status=\"200\"} 2",
            "tianlu_requests_total{listener=\"l\",route=\"GET /a/:id\",status=\"other\"} 1",
            "tianlu_requests_total{listener=\"l\",route=\"GET /a/:id\",status=\"504\"} 1",
            "tianlu_request_duration_seconds_bucket{listener=\"l\",route=\"GET /a/:id\",le=\"0.0005\"} 1",
            "tianlu_request_duration_seconds_bucket{listener=\"l\",route=\"GET /a/:id\",le=\"0.005\"} 3",
            "tianlu_request_duration_seconds_bucket{listener=\"l\",route=\"GET /a/:id\",le=\"+Inf\"} 4",
            "tianlu_request_duration_seconds_count{listener=\"l\",route=\"GET /a/:id\"} 4",
            "tianlu_upstream_calls_total{cluster=\"c\",endpoint=\"127.0.0.1:1\",outcome=\"ok\"} 2",
            "tianlu_upstream_in_flight{cluster=\"c\",endpoint=\"127.0.0.1:1\"} 3",
            "tianlu_upstream_connected{cluster=\"c\",endpoint=\"127.0.0.1:1\"} 1",
            "tianlu_reloads_total{outcome=\"failed\"} 1",
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

//! `retry_budget` of a cluster: how many failover retries its routes may make, as a share of
//! recent requests plus a floor per second, over a sliding window. Absent = the defaults (20%
//! of requests plus 3 retries per second over 10s), so a failing cluster cannot multiply load.

use std::time::Duration;

use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Kind;

/// Default `ratio`, in millionths (20%).
pub const DEFAULT_RETRY_RATIO_PPM: u32 = 200_000;
/// Default `min_retries_per_second`, in thousandths (3 per second).
pub const DEFAULT_MIN_RETRIES_MILLI: u32 = 3_000;
/// Default `ttl`.
pub const DEFAULT_RETRY_TTL: Duration = Duration::from_secs(10);

/// A cluster's retry budget (fixed-point so the config stays `Eq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudgetConfig {
    /// `ratio` × 10⁶: retries allowed per request in the window.
    pub ratio_ppm: u32,
    /// `min_retries_per_second` × 10³: retries allowed per second of `ttl` whatever the traffic.
    pub min_per_second_milli: u32,
    /// `ttl` (1s–10m): the window requests and retries are counted over.
    pub ttl: Duration,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        RetryBudgetConfig {
            ratio_ppm: DEFAULT_RETRY_RATIO_PPM,
            min_per_second_milli: DEFAULT_MIN_RETRIES_MILLI,
            ttl: DEFAULT_RETRY_TTL,
        }
    }
}

impl RetryBudgetConfig {
    /// `ratio` as a number.
    pub fn ratio(&self) -> f64 {
        f64::from(self.ratio_ppm) / 1e6
    }

    /// Retries the window allows whatever the traffic: `min_retries_per_second × ttl`.
    pub fn reserve(&self) -> f64 {
        f64::from(self.min_per_second_milli) / 1e3 * self.ttl.as_secs_f64()
    }
}

fn number(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str, max: f64) -> Option<f64> {
    let node = m.get(key)?;
    let text = match &node.kind {
        Kind::Int(..) | Kind::Float(_) | Kind::Str(_) => node.scalar_text(),
        _ => None,
    };
    match text.and_then(|t| t.trim().parse::<f64>().ok()) {
        Some(v) if (0.0..=max).contains(&v) => Some(v),
        _ => {
            cx.problem(
                m.key_line(key),
                &m.child(key),
                format!("expected a number from 0 to {max}"),
            );
            None
        }
    }
}

/// Reads `retry_budget` of a cluster mapping (defaults when absent).
pub(crate) fn read(cx: &mut Ctx, m: &mut MapView<'_>) -> RetryBudgetConfig {
    let mut out = RetryBudgetConfig::default();
    let Some(mut b) = m.map(cx, "retry_budget") else {
        return out;
    };
    if let Some(r) = number(cx, &mut b, "ratio", 10.0) {
        out.ratio_ppm = (r * 1e6).round() as u32;
    }
    if let Some(n) = number(cx, &mut b, "min_retries_per_second", 100_000.0) {
        out.min_per_second_milli = (n * 1e3).round() as u32;
    }
    if let Some(t) = b.duration(cx, "ttl") {
        if t < Duration::from_secs(1) || t > Duration::from_secs(600) {
            cx.problem(b.key_line("ttl"), &b.child("ttl"), "must be from 1s to 10m");
        } else {
            out.ttl = t;
        }
    }
    b.finish(cx);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::Bootstrap;

    fn load(budget: &str) -> Result<Bootstrap, String> {
        let text = format!("static_resources:\n  listeners:\n    - name: l\n      protocol_type: HTTP\n      address: {{ socket_address: {{ address: 127.0.0.1, port: 0 }} }}\n      filter_chains:\n        filters:\n          - name: dgp.filter.httpconnectionmanager\n            config:\n              http_filters:\n                - name: dgp.filter.http.apiconfig\n                  config: {{ path: api.yaml }}\n  clusters:\n    - name: c\n      endpoints:\n        - socket_address: {{ address: 127.0.0.1, port: 20880 }}\n{budget}");
        Bootstrap::from_yaml_str(&text, "conf.yaml")
            .map(|(b, _)| b)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_keys() {
        let b = load("").unwrap();
        assert_eq!(b.clusters[0].retry_budget, RetryBudgetConfig::default());
        assert!((b.clusters[0].retry_budget.reserve() - 30.0).abs() < 1e-9);
        let b = load("      retry_budget: { ratio: 0.5, min_retries_per_second: 0.25, ttl: 4s }\n")
            .unwrap();
        let r = b.clusters[0].retry_budget;
        assert_eq!((r.ratio_ppm, r.min_per_second_milli), (500_000, 250));
        assert!((r.reserve() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_values_are_named() {
        for (yaml, path) in [
            (
                "      retry_budget: { ratio: -1 }\n",
                "clusters[0].retry_budget.ratio",
            ),
            (
                "      retry_budget: { ttl: 100ms }\n",
                "clusters[0].retry_budget.ttl",
            ),
            (
                "      retry_budget: { min_per_second: 3 }\n",
                "clusters[0].retry_budget.min_per_second",
            ),
        ] {
            let e = load(yaml).expect_err(yaml);
            assert!(e.contains(path), "{yaml}: {e}");
        }
    }
}

//! `tianlu.filter.http.circuitbreaker` config (also read under pixiu's name
//! `dgp.filter.http.circuitbreaker`): one breaker per filter instance, so per route when the
//! filter is on a route and per listener otherwise.
//!
//! Keys: `window` (the sliding window the error and slow-call rates are measured over, counted
//! in ten buckets), `min_requests`, `error_rate`, `count_business_errors`, `slow_call`,
//! `slow_call_rate`, `open_for` and `half_open_probes`.
//!
//! pixiu's filter of this name wraps sentinel-golang (`resources[]`, `rules[]` with strategies
//! and resource names); those keys are load errors that show how to write the breaker instead.

use std::time::Duration;

use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Kind;

/// Default `window`.
pub const DEFAULT_CB_WINDOW: Duration = Duration::from_secs(10);
/// Default `min_requests`.
pub const DEFAULT_CB_MIN_REQUESTS: u32 = 20;
/// Default `error_rate`.
pub const DEFAULT_CB_ERROR_RATE: f64 = 0.5;
/// Default `slow_call_rate` (only used when `slow_call` is set: every call in the window slow).
pub const DEFAULT_CB_SLOW_CALL_RATE: f64 = 1.0;
/// Default `open_for`.
pub const DEFAULT_CB_OPEN_FOR: Duration = Duration::from_secs(30);
/// Default `half_open_probes`.
pub const DEFAULT_CB_HALF_OPEN_PROBES: u32 = 3;
/// Shortest `window`: each of its ten buckets spans at least a millisecond.
pub const MIN_CB_WINDOW: Duration = Duration::from_millis(10);
/// Largest `min_requests` and `half_open_probes`.
const MAX_COUNT: u64 = 1_000_000;

/// `tianlu.filter.http.circuitbreaker` config.
///
/// A call counts as a failure when its response status is 500 or above (provider unreachable,
/// timeouts, bad responses, gateway faults), except that a Java exception thrown by the provider
/// (500 `BUSINESS_EXCEPTION`) is a success unless `count_business_errors` is set: the provider
/// answered, so it is healthy.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreakerConfig {
    /// `window` (default 10s): how far back the rates look, in ten buckets.
    pub window: Duration,
    /// `min_requests` (default 20): calls the window must hold before the breaker may open.
    pub min_requests: u32,
    /// `error_rate` (default 0.5, in (0, 1]): the share of failed calls that opens the breaker.
    pub error_rate: f64,
    /// `count_business_errors` (default false): Java exceptions from the provider are failures.
    pub count_business_errors: bool,
    /// `slow_call`: calls taking longer than this (from the request's arrival) are slow.
    pub slow_call: Option<Duration>,
    /// `slow_call_rate` (default 1.0, in (0, 1]): the share of slow calls that opens the breaker;
    /// only used with `slow_call`.
    pub slow_call_rate: f64,
    /// `open_for` (default 30s): how long an open breaker answers locally before probing.
    pub open_for: Duration,
    /// `half_open_probes` (default 3): calls let through when half-open; that many successes
    /// close the breaker, one failure opens it again.
    pub half_open_probes: u32,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        CircuitBreakerConfig {
            window: DEFAULT_CB_WINDOW,
            min_requests: DEFAULT_CB_MIN_REQUESTS,
            error_rate: DEFAULT_CB_ERROR_RATE,
            count_business_errors: false,
            slow_call: None,
            slow_call_rate: DEFAULT_CB_SLOW_CALL_RATE,
            open_for: DEFAULT_CB_OPEN_FOR,
            half_open_probes: DEFAULT_CB_HALF_OPEN_PROBES,
        }
    }
}

const SENTINEL: &str = "sentinel circuit-breaker rules are not supported (tianlu keeps one breaker per filter instance: put the filter on a route for a per-route breaker); write window: 10s, min_requests: 20, error_rate: 0.5, slow_call: 1s, slow_call_rate: 0.5, open_for: 30s, half_open_probes: 3";

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<CircuitBreakerConfig> {
    let before = cx.problems.len();
    for key in ["resources", "rules", "logPath"] {
        c.reject(cx, key, SENTINEL);
    }
    let mut out = CircuitBreakerConfig::default();
    if let Some(w) = c.duration(cx, "window") {
        if w < MIN_CB_WINDOW {
            cx.problem(
                c.key_line("window"),
                &c.child("window"),
                "must be at least 10ms",
            );
        }
        out.window = w;
    }
    if let Some(n) = count(cx, c, "min_requests") {
        out.min_requests = n;
    }
    if let Some(r) = ratio(cx, c, "error_rate") {
        out.error_rate = r;
    }
    if let Some(b) = c.bool(cx, "count_business_errors") {
        out.count_business_errors = b;
    }
    out.slow_call = c.positive_duration(cx, "slow_call");
    if let Some(r) = ratio(cx, c, "slow_call_rate") {
        if c.get("slow_call").is_none() {
            cx.problem(
                c.key_line("slow_call_rate"),
                &c.child("slow_call_rate"),
                "slow_call_rate is only used with slow_call (the duration that makes a call slow)",
            );
        }
        out.slow_call_rate = r;
    }
    if let Some(d) = c.positive_duration(cx, "open_for") {
        out.open_for = d;
    }
    if let Some(n) = count(cx, c, "half_open_probes") {
        out.half_open_probes = n;
    }
    (cx.problems.len() == before).then_some(out)
}

/// `key` as a count from 1 to [`MAX_COUNT`].
fn count(cx: &mut Ctx, c: &mut MapView<'_>, key: &'static str) -> Option<u32> {
    let n = c.uint(cx, key, MAX_COUNT)?;
    if n == 0 {
        cx.problem(c.key_line(key), &c.child(key), "must be greater than 0");
        return None;
    }
    u32::try_from(n).ok()
}

/// `key` as a share greater than 0 and at most 1 (`0.5`, `1`).
fn ratio(cx: &mut Ctx, c: &mut MapView<'_>, key: &'static str) -> Option<f64> {
    let node = c.get(key)?;
    let text = match &node.kind {
        Kind::Int(..) | Kind::Float(_) | Kind::Str(_) => node.scalar_text(),
        _ => None,
    };
    match text.and_then(|t| t.trim().parse::<f64>().ok()) {
        Some(v) if v > 0.0 && v <= 1.0 => Some(v),
        _ => {
            let found = match node.scalar_text() {
                Some(s) => format!("{} {s:?}", node.shape()),
                None => node.shape().to_owned(),
            };
            cx.problem(
                c.key_line(key),
                &c.child(key),
                format!(
                    "expected a share greater than 0 and at most 1 (such as 0.5), found {found}"
                ),
            );
            None
        }
    }
}

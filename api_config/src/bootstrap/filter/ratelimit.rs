//! `dgp.filter.http.ratelimit` config: local token buckets, `rules: [{match, rate, interval,
//! burst, key, max_keys}]`.
//!
//! pixiu's filter of this name wraps sentinel-golang (`resources[]`, `rules[].flowRule`), whose
//! sliding-window statistics and control behaviours a token bucket cannot reproduce, so those
//! keys are load errors that say how to write the rule instead.

use std::time::Duration;

use super::common::{header_name, read_match, PathMatch};
use crate::yaml::reader::{Ctx, MapView};

/// Default `max_keys`: buckets kept per keyed rule before idle ones are evicted.
pub const DEFAULT_MAX_KEYS: usize = 65_536;
/// Largest `rate` and `burst`.
pub const MAX_RATE: u64 = 1_000_000_000;

/// `dgp.filter.http.ratelimit` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `rules`: every rule whose match fits a request takes a token from its bucket.
    pub rules: Vec<RateLimitRule>,
}

/// One `rules[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitRule {
    /// `match` (absent = every request).
    pub path_match: PathMatch,
    /// `rate`: tokens added per `interval`.
    pub rate: u64,
    /// `interval` (default 1s).
    pub interval: Duration,
    /// `burst` (default `rate`): the bucket size, requests allowed at once.
    pub burst: u64,
    /// `key`: whose bucket a request draws from.
    pub key: RateLimitKey,
    /// `max_keys` (default 65536): buckets kept for a keyed rule; idle buckets are dropped first.
    pub max_keys: usize,
}

/// `key` of a rate-limit rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitKey {
    /// Absent or `global`: one bucket for every request.
    Global,
    /// `ip`: one bucket per client IP (the TCP peer).
    Ip,
    /// `header:<name>`: one bucket per value of this header (lower-cased name); requests
    /// without it share one bucket.
    Header(String),
}

const SENTINEL: &str = "sentinel flow rules are not supported (tianlu limits with local token buckets); write rules: [{match: {prefix: /api}, rate: 100, burst: 200, key: ip}]";

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<RateLimitConfig> {
    c.reject(cx, "resources", SENTINEL);
    c.reject(cx, "logPath", SENTINEL);
    let items = c.list(cx, "rules");
    if items.is_empty() {
        cx.problem(
            c.key_line("rules"),
            &c.child("rules"),
            "list at least one rule",
        );
        return None;
    }
    let mut rules = Vec::new();
    let mut ok = true;
    for (path, node) in items {
        let mut r = MapView::new(cx, node, path);
        for key in ["flowRule", "enable", "id"] {
            r.reject(cx, key, SENTINEL);
        }
        match read_rule(cx, &mut r) {
            Some(rule) => rules.push(rule),
            None => ok = false,
        }
        r.finish(cx);
    }
    ok.then_some(RateLimitConfig { rules })
}

fn positive(cx: &mut Ctx, r: &mut MapView<'_>, key: &'static str) -> Option<u64> {
    let v = r.uint(cx, key, MAX_RATE)?;
    if v == 0 {
        cx.problem(r.key_line(key), &r.child(key), "must be greater than 0");
        return None;
    }
    Some(v)
}

fn read_rule(cx: &mut Ctx, r: &mut MapView<'_>) -> Option<RateLimitRule> {
    let path_match = read_match(cx, r);
    let rate = positive(cx, r, "rate");
    if r.get("rate").is_none() {
        r.missing(cx, "rate");
    }
    let burst = positive(cx, r, "burst");
    let interval = r.duration(cx, "interval");
    if interval.is_some_and(|d| d.is_zero()) {
        cx.problem(
            r.key_line("interval"),
            &r.child("interval"),
            "must be greater than 0",
        );
        return None;
    }
    let interval = interval.unwrap_or(Duration::from_secs(1));
    let key = match r.string(cx, "key") {
        None => Some(RateLimitKey::Global),
        Some(k) => match k.trim() {
            "global" => Some(RateLimitKey::Global),
            "ip" => Some(RateLimitKey::Ip),
            other => match other.strip_prefix("header:") {
                Some(h) => header_name(cx, r.key_line("key"), &r.child("key"), h.trim())
                    .map(RateLimitKey::Header),
                None => {
                    cx.problem(
                        r.key_line("key"),
                        &r.child("key"),
                        format!("unknown key {other:?}; use ip, header:<name> or global"),
                    );
                    None
                }
            },
        },
    };
    let max_keys = r.uint(cx, "max_keys", 10_000_000);
    if max_keys == Some(0) {
        cx.problem(
            r.key_line("max_keys"),
            &r.child("max_keys"),
            "must be greater than 0",
        );
    }
    if max_keys.is_some() && key == Some(RateLimitKey::Global) {
        cx.problem(
            r.key_line("max_keys"),
            &r.child("max_keys"),
            "max_keys is only used with key ip or header:<name>",
        );
    }
    let rate = rate?;
    let burst = burst.unwrap_or(rate);
    // One token every interval / rate; the bucket must be at least a nanosecond per token and
    // its full span must fit the limiter's clock.
    let per_token = interval.as_nanos() / u128::from(rate);
    if per_token == 0 {
        cx.problem(
            r.key_line("rate"),
            &r.child("rate"),
            "more than one token per nanosecond; lower rate or lengthen interval",
        );
        return None;
    }
    if per_token.saturating_mul(u128::from(burst)) > 1 << 62 {
        cx.problem(
            r.key_line("burst"),
            &r.child("burst"),
            "burst × (interval / rate) is longer than a century",
        );
        return None;
    }
    Some(RateLimitRule {
        path_match: path_match?,
        rate,
        interval,
        burst,
        key: key?,
        max_keys: max_keys
            .filter(|n| *n > 0)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_KEYS),
    })
}

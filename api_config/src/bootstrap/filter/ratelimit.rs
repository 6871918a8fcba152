//! `dgp.filter.http.ratelimit` config: token buckets, `rules: [{match, rate, interval, burst,
//! key, max_keys}]`, local to the gateway or, with `redis: {url, timeout, key_prefix,
//! on_failure}`, shared through Redis by a fleet of gateways.
//!
//! pixiu's filter of this name wraps sentinel-golang (`resources[]`, `rules[].flowRule`), whose
//! sliding-window statistics and control behaviours a token bucket cannot reproduce, so those
//! keys are load errors that say how to write the rule instead.

use std::time::Duration;

use super::common::{header_name, read_match, PathMatch, Secret};
use crate::yaml::reader::{Ctx, MapView};

/// Default `max_keys`: buckets kept per keyed rule before idle ones are evicted.
pub const DEFAULT_MAX_KEYS: usize = 65_536;
/// Largest `rate` and `burst`.
pub const MAX_RATE: u64 = 1_000_000_000;

/// Default `redis.timeout`: longest wait for Redis before the failure policy applies.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(100);
/// Default `redis.key_prefix`.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "tianlu:ratelimit:";

/// `dgp.filter.http.ratelimit` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `rules`: every rule whose match fits a request takes a token from its bucket.
    pub rules: Vec<RateLimitRule>,
    /// `redis`: keep the buckets in Redis, shared by every gateway using the same keys.
    pub redis: Option<RedisLimit>,
}

/// `redis` of the rate-limit filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisLimit {
    /// `host:port` from `url` (`redis://[:password@]host[:port][/db]`, port 6379 by default).
    pub addr: String,
    /// The database number from `url` (default 0).
    pub db: u32,
    /// The password from `url`.
    pub password: Option<Secret>,
    /// `timeout` (default 100ms): longest wait for a connection or an answer.
    pub timeout: Duration,
    /// `key_prefix` (default `tianlu:ratelimit:`): bucket keys are `<prefix><rule index>:<key>`.
    pub key_prefix: String,
    /// `on_failure` (default `local`): what a request gets when Redis cannot answer.
    pub on_failure: OnRedisFailure,
}

/// `redis.on_failure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRedisFailure {
    /// `local`: this gateway's own buckets decide (each gateway then admits the full rate).
    Local,
    /// `allow`: admit (fail open).
    Allow,
    /// `deny`: refuse with 503 (fail closed).
    Deny,
}

/// Parses `redis://[:password@]host[:port][/db]` into (addr, db, password).
pub fn parse_redis_url(url: &str) -> Result<(String, u32, Option<String>), String> {
    let rest = url
        .trim()
        .strip_prefix("redis://")
        .ok_or_else(|| format!("{url:?} is not a redis:// URL (rediss:// TLS is not supported)"))?;
    let (auth, rest) = match rest.rsplit_once('@') {
        Some((a, r)) => (Some(a), r),
        None => (None, rest),
    };
    let password = auth.map(|a| a.split_once(':').map_or(a, |(_, p)| p).to_owned());
    let (hostport, db) = match rest.split_once('/') {
        Some((h, d)) if !d.is_empty() => (
            h,
            d.parse::<u32>()
                .map_err(|_| format!("database {d:?} is not a number"))?,
        ),
        Some((h, _)) => (h, 0),
        None => (rest, 0),
    };
    if hostport.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    let addr = if hostport.starts_with('[') {
        if hostport.contains("]:") {
            hostport.to_owned()
        } else {
            format!("{hostport}:6379")
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((_, p)) => {
                p.parse::<u16>()
                    .map_err(|_| format!("port {p:?} is not a port number"))?;
                hostport.to_owned()
            }
            None => format!("{hostport}:6379"),
        }
    };
    Ok((addr, db, password.filter(|p| !p.is_empty())))
}

fn read_redis(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<Option<RedisLimit>> {
    let Some(mut r) = c.map(cx, "redis") else {
        return Some(None);
    };
    let url = r.req_string(cx, "url");
    let parsed = url.and_then(|u| match parse_redis_url(&u) {
        Ok(p) => Some(p),
        Err(e) => {
            cx.problem(r.key_line("url"), &r.child("url"), e);
            None
        }
    });
    let timeout = r
        .positive_duration(cx, "timeout")
        .unwrap_or(DEFAULT_REDIS_TIMEOUT);
    let key_prefix = r
        .string(cx, "key_prefix")
        .unwrap_or_else(|| DEFAULT_REDIS_KEY_PREFIX.to_owned());
    let on_failure = match r.string(cx, "on_failure").as_deref().map(str::trim) {
        None | Some("local") => Some(OnRedisFailure::Local),
        Some("allow") => Some(OnRedisFailure::Allow),
        Some("deny") => Some(OnRedisFailure::Deny),
        Some(other) => {
            cx.problem(
                r.key_line("on_failure"),
                &r.child("on_failure"),
                format!("unknown policy {other:?}; use local, allow or deny"),
            );
            None
        }
    };
    r.finish(cx);
    let (addr, db, password) = parsed?;
    Some(Some(RedisLimit {
        addr,
        db,
        password: password.map(Secret::new),
        timeout,
        key_prefix,
        on_failure: on_failure?,
    }))
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
    let redis = read_redis(cx, c);
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
    let redis = redis?;
    ok.then_some(RateLimitConfig { rules, redis })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls() {
        assert_eq!(
            parse_redis_url("redis://127.0.0.1:6380/2"),
            Ok(("127.0.0.1:6380".into(), 2, None))
        );
        assert_eq!(
            parse_redis_url("redis://:s3cret@cache"),
            Ok(("cache:6379".into(), 0, Some("s3cret".into())))
        );
        assert_eq!(
            parse_redis_url("redis://user:pw@[::1]/"),
            Ok(("[::1]:6379".into(), 0, Some("pw".into())))
        );
        for bad in [
            "http://x",
            "redis://",
            "redis://h:port",
            "redis://h/db",
            "rediss://h",
        ] {
            assert!(parse_redis_url(bad).is_err(), "{bad}");
        }
    }
}

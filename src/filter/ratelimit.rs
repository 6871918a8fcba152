//! `dgp.filter.http.ratelimit`: local token buckets per rule, global or keyed by client IP or a
//! header value. A refused request gets 429 with `Retry-After` (seconds, rounded up) and the
//! `RATE_LIMITED` error body.
//!
//! Each bucket is one number, its theoretical arrival time (GCRA, equivalent to a token bucket):
//! a request is admitted when taking a token would not push that time more than `burst` tokens
//! past now. A global bucket is one atomic updated by compare-and-swap; keyed buckets live in
//! sharded maps keyed by a 64-bit keyed hash of the key (no allocation per request, bounded size
//! whatever the header values). A bucket whose time has passed is exactly a full bucket, so it
//! is dropped without changing behaviour when a shard fills; if every bucket is busy, the eighth
//! closest to full is dropped.
//!
//! With `redis`, the buckets live in Redis instead ([`super::ratelimit_redis`]), shared by every
//! gateway of a fleet; when Redis cannot answer within its timeout, `on_failure` decides: these
//! local buckets (default), admit, or 503.

use super::ratelimit_redis::SharedBuckets;
use super::{FilterFuture, Flow, HttpFilter, RequestCtx};
use crate::error::GatewayError;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tianlu_api_config::bootstrap::filter::{
    OnRedisFailure, PathMatch, RateLimitConfig, RateLimitKey, RateLimitRule,
};

/// Most shards per keyed rule.
const SHARDS: usize = 16;

/// The rate-limit filter.
pub struct RateLimit {
    limiters: Vec<Limiter>,
    epoch: Instant,
    shared: Option<SharedBuckets>,
}

struct Limiter {
    path_match: PathMatch,
    /// Nanoseconds per token.
    per_token: u64,
    /// Nanoseconds a full bucket spans (`burst` tokens).
    span: u64,
    key: RateLimitKey,
    store: Store,
}

enum Store {
    Global(AtomicU64),
    Keyed(Sharded),
}

/// Buckets by key hash, in shards each behind a short, never-awaited lock.
struct Sharded {
    shards: Box<[Mutex<HashMap<u64, u64>>]>,
    per_shard: usize,
    hasher: RandomState,
}

/// GCRA step: the new arrival time when admitted, else how long until a token is due.
fn admit(tat: u64, now: u64, per_token: u64, span: u64) -> Result<u64, u64> {
    let next = tat.max(now).saturating_add(per_token);
    let ahead = next - now;
    if ahead > span {
        Err(ahead - span)
    } else {
        Ok(next)
    }
}

impl Sharded {
    fn new(max_keys: usize) -> Self {
        let n = max_keys.clamp(1, SHARDS);
        Sharded {
            shards: (0..n).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: max_keys.div_ceil(n),
            hasher: RandomState::new(),
        }
    }

    fn take(&self, key: &[u8], now: u64, per_token: u64, span: u64) -> Result<(), u64> {
        let h = self.hasher.hash_one(key);
        let idx = usize::try_from(h >> 32).unwrap_or(0) % self.shards.len();
        let mut map = self.shards[idx]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tat) = map.get_mut(&h) {
            *tat = admit(*tat, now, per_token, span)?;
            return Ok(());
        }
        if map.len() >= self.per_shard {
            Self::evict(&mut map, now, self.per_shard);
        }
        map.insert(h, admit(0, now, per_token, span)?);
        Ok(())
    }

    /// Makes room in a full shard: idle (refilled) buckets first, else the eighth of the busy
    /// ones closest to refilled.
    fn evict(map: &mut HashMap<u64, u64>, now: u64, cap: usize) {
        map.retain(|_, tat| *tat > now);
        if map.len() < cap {
            return;
        }
        let mut tats: Vec<u64> = map.values().copied().collect();
        let nth = (tats.len() / 8).min(tats.len() - 1);
        let (_, cut, _) = tats.select_nth_unstable(nth);
        let cut = *cut;
        map.retain(|_, tat| *tat > cut);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Limiter {
    fn new(rule: &RateLimitRule) -> Self {
        let per_token = nanos(rule.interval / u32::try_from(rule.rate).unwrap_or(u32::MAX)).max(1);
        let store = match rule.key {
            RateLimitKey::Global => Store::Global(AtomicU64::new(0)),
            _ => Store::Keyed(Sharded::new(rule.max_keys)),
        };
        Limiter {
            path_match: rule.path_match.clone(),
            per_token,
            span: per_token.saturating_mul(rule.burst),
            key: rule.key.clone(),
            store,
        }
    }

    /// Takes a token for this request; `Err(wait)` when none is left.
    fn take(&self, ctx: &RequestCtx, now: u64) -> Result<(), u64> {
        match &self.store {
            Store::Global(tat) => {
                let mut cur = tat.load(Ordering::Relaxed);
                loop {
                    let next = admit(cur, now, self.per_token, self.span)?;
                    match tat.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
                    {
                        Ok(_) => return Ok(()),
                        Err(seen) => cur = seen,
                    }
                }
            }
            Store::Keyed(map) => {
                let mut ip_buf = [0u8; 16];
                let key: &[u8] = match &self.key {
                    RateLimitKey::Ip => match ctx.remote.map(|a| a.ip().to_canonical()) {
                        Some(std::net::IpAddr::V4(v4)) => {
                            ip_buf[..4].copy_from_slice(&v4.octets());
                            &ip_buf[..4]
                        }
                        Some(std::net::IpAddr::V6(v6)) => {
                            ip_buf = v6.octets();
                            &ip_buf
                        }
                        None => b"",
                    },
                    RateLimitKey::Header(name) => ctx
                        .headers
                        .get(name.as_str())
                        .map(|v| v.as_bytes())
                        .unwrap_or_default(),
                    RateLimitKey::Global => b"",
                };
                map.take(key, now, self.per_token, self.span)
            }
        }
    }
}

impl RateLimit {
    /// Builds the filter with empty (full) buckets.
    pub fn new(cfg: &RateLimitConfig) -> Self {
        RateLimit {
            limiters: cfg.rules.iter().map(Limiter::new).collect(),
            epoch: Instant::now(),
            shared: cfg.redis.as_ref().map(SharedBuckets::new),
        }
    }

    fn refuse(ctx: &RequestCtx, wait: u64) -> Flow {
        Flow::Reply(
            GatewayError::RateLimited {
                retry_after: Duration::from_nanos(wait),
            }
            .into_response_with(&ctx.request_id),
        )
    }

    /// The request phase with shared buckets: each matching rule asks Redis, and falls back to
    /// `on_failure` when Redis cannot decide.
    async fn take_shared(&self, shared: &SharedBuckets, ctx: &RequestCtx) -> Flow {
        let (path, query) = (ctx.uri.path(), ctx.uri.query());
        for (i, l) in self.limiters.iter().enumerate() {
            if !l.path_match.matches(path, query) {
                continue;
            }
            match shared.take(i, &l.key, ctx, l.per_token, l.span).await {
                Ok(Ok(())) => {}
                Ok(Err(wait)) => return Self::refuse(ctx, wait),
                Err(_) => match shared.on_failure {
                    OnRedisFailure::Local => {
                        if let Err(wait) = l.take(ctx, self.now()) {
                            return Self::refuse(ctx, wait);
                        }
                    }
                    OnRedisFailure::Allow => {}
                    OnRedisFailure::Deny => {
                        return Flow::Reply(
                            GatewayError::LimiterUnavailable.into_response_with(&ctx.request_id),
                        )
                    }
                },
            }
        }
        Flow::Continue
    }

    fn now(&self) -> u64 {
        nanos(self.epoch.elapsed())
    }
}

impl HttpFilter for RateLimit {
    fn name(&self) -> &'static str {
        "dgp.filter.http.ratelimit"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        let now = self.now();
        let (path, query) = (ctx.uri.path(), ctx.uri.query());
        for l in &self.limiters {
            if !l.path_match.matches(path, query) {
                continue;
            }
            if let Err(wait) = l.take(ctx, now) {
                return Self::refuse(ctx, wait);
            }
        }
        Flow::Continue
    }

    fn is_async(&self) -> bool {
        self.shared.is_some()
    }

    fn on_request_async<'a>(&'a self, ctx: &'a mut RequestCtx) -> FilterFuture<'a> {
        Box::pin(async move {
            match &self.shared {
                Some(shared) => self.take_shared(shared, ctx).await,
                None => self.on_request(ctx),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use crate::error::retry_after_secs;
    use axum::response::{IntoResponse, Response};

    fn rule(rate: u64, interval: Duration, burst: u64, key: RateLimitKey) -> RateLimitRule {
        RateLimitRule {
            path_match: PathMatch::Prefix("/api".into()),
            rate,
            interval,
            burst,
            key,
            max_keys: 64,
        }
    }

    fn filter(rules: Vec<RateLimitRule>) -> RateLimit {
        RateLimit::new(&RateLimitConfig { rules, redis: None })
    }

    fn status(f: &RateLimit, c: &mut RequestCtx) -> u16 {
        match f.on_request(c) {
            Flow::Continue => 200,
            Flow::Reply(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn gcra_admits_burst_then_spaces_tokens() {
        let (t, span) = (10, 30);
        let mut tat = 0;
        for _ in 0..3 {
            tat = admit(tat, 100, t, span).expect("within burst");
        }
        assert_eq!(
            admit(tat, 100, t, span),
            Err(10),
            "one token is due in 10ns"
        );
        assert!(admit(tat, 110, t, span).is_ok(), "and then it is there");
        assert_eq!(
            admit(tat, 5_000, t, span),
            Ok(5_010),
            "an idle bucket is full"
        );
    }

    #[test]
    fn global_bucket_refuses_with_retry_after() {
        let f = filter(vec![rule(
            1,
            Duration::from_secs(60),
            2,
            RateLimitKey::Global,
        )]);
        let mut c = ctx("GET", "/api/x", &[]);
        assert_eq!(status(&f, &mut c), 200);
        assert_eq!(status(&f, &mut c), 200);
        let Flow::Reply(resp) = f.on_request(&mut c) else {
            panic!("third request within a minute must be refused")
        };
        assert_eq!(resp.status(), http::StatusCode::TOO_MANY_REQUESTS);
        let secs: u64 = resp.headers()[http::header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((59..=60).contains(&secs), "{secs}");
        let mut other = ctx("GET", "/other", &[]);
        assert_eq!(
            status(&f, &mut other),
            200,
            "unmatched paths are not limited"
        );
    }

    #[test]
    fn keyed_buckets_are_separate() {
        let hour = Duration::from_secs(3600);
        let f = filter(vec![rule(
            1,
            hour,
            1,
            RateLimitKey::Header("x-user".into()),
        )]);
        let mut a = ctx("GET", "/api", &[("x-user", "a")]);
        let mut b = ctx("GET", "/api", &[("x-user", "b")]);
        let mut none = ctx("GET", "/api", &[]);
        assert_eq!(status(&f, &mut a), 200);
        assert_eq!(status(&f, &mut b), 200);
        assert_eq!(status(&f, &mut none), 200);
        assert_eq!(status(&f, &mut a), 429);
        assert_eq!(
            status(&f, &mut none),
            429,
            "header-less requests share a bucket"
        );

        let f = filter(vec![rule(1, hour, 1, RateLimitKey::Ip)]);
        let mut one = ctx("GET", "/api", &[]);
        one.remote = Some("10.0.0.1:1000".parse().unwrap());
        let mut same = ctx("GET", "/api", &[]);
        same.remote = Some("[::ffff:10.0.0.1]:2000".parse().unwrap());
        let mut two = ctx("GET", "/api", &[]);
        two.remote = Some("10.0.0.2:1000".parse().unwrap());
        assert_eq!(status(&f, &mut one), 200);
        assert_eq!(
            status(&f, &mut same),
            429,
            "the port and v4-mapping do not matter"
        );
        assert_eq!(status(&f, &mut two), 200);
    }

    #[test]
    fn full_shards_evict_and_stay_bounded() {
        let s = Sharded::new(32);
        let (t, span) = (1_000, 1_000);
        for i in 0u32..1_000 {
            s.take(&i.to_be_bytes(), 0, t, span)
                .expect("new keys start full");
        }
        assert!(s.len() <= 32, "{} buckets kept", s.len());
        // Buckets idle long enough are dropped first, without changing anyone's outcome.
        for i in 0u32..1_000 {
            assert!(s.take(&i.to_be_bytes(), 10_000, t, span).is_ok());
        }
        assert!(s.len() <= 32);
    }

    #[test]
    fn retry_after_rounds_up_and_response_phase_leaves_answers_alone() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        let f = filter(vec![rule(
            1,
            Duration::from_secs(1),
            1,
            RateLimitKey::Global,
        )]);
        let c = ctx("GET", "/api", &[]);
        let mut resp: Response = http::StatusCode::OK.into_response();
        f.on_response(&c, &mut resp);
        assert_eq!(resp.status(), http::StatusCode::OK);
        assert!(resp.headers().is_empty());
    }
}

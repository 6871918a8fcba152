//! The shared buckets of `dgp.filter.http.ratelimit` with `redis`: the same GCRA step as the
//! local buckets, run atomically inside Redis by a Lua script on Redis's own clock (so gateways
//! with skewed clocks agree). A bucket is one key holding its theoretical arrival time in
//! microseconds, expiring when the bucket would be full again.
//!
//! Keys are `<key_prefix><rule index>` for a global rule and `<key_prefix><rule index>:<hex>` for
//! keyed rules, where `<hex>` is the first 16 bytes of SHA-256 of the client IP or header value
//! (bounded key size whatever the client sends, the same on every gateway).

use super::redis::{RedisClient, RedisError, RedisTarget, Reply};
use super::RequestCtx;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tianlu_api_config::bootstrap::filter::{OnRedisFailure, RateLimitKey, RedisLimit};

/// Requests decided by the failure policy because Redis could not answer (all filters).
pub static REDIS_FAILURES: AtomicU64 = AtomicU64::new(0);

/// GCRA in Redis. KEYS[1] = bucket; ARGV[1] = microseconds per token, ARGV[2] = microseconds a
/// full bucket spans. Returns 0 when admitted, else the microseconds until a token is due.
const SCRIPT: &str = r"local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local per = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + per
local ahead = nxt - now
if ahead > span then return math.max(1, ahead - span) end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor(ahead / 1000) + 1)
return 0
";

/// The Redis side of one rate-limit filter.
pub struct SharedBuckets {
    client: RedisClient,
    prefix: String,
    sha: String,
    /// What a request gets when Redis fails.
    pub on_failure: OnRedisFailure,
    failing: AtomicBool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SharedBuckets {
    /// Buckets in the Redis of `cfg` (connected on first use).
    pub fn new(cfg: &RedisLimit) -> Self {
        let sha = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, SCRIPT.as_bytes());
        SharedBuckets {
            client: RedisClient::new(RedisTarget {
                addr: cfg.addr.clone(),
                db: cfg.db,
                password: cfg.password.as_ref().map(|p| p.expose().to_owned()),
                timeout: cfg.timeout,
            }),
            prefix: cfg.key_prefix.clone(),
            sha: hex(sha.as_ref()),
            on_failure: cfg.on_failure,
            failing: AtomicBool::new(false),
        }
    }

    /// The bucket key of rule `index` for this request.
    fn key(&self, index: usize, key: &RateLimitKey, ctx: &RequestCtx) -> String {
        let value: Vec<u8> = match key {
            RateLimitKey::Global => return format!("{}{index}", self.prefix),
            RateLimitKey::Ip => ctx
                .remote
                .map(|a| a.ip().to_canonical().to_string().into_bytes())
                .unwrap_or_default(),
            RateLimitKey::Header(name) => ctx
                .headers
                .get(name.as_str())
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default(),
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, &value);
        format!("{}{index}:{}", self.prefix, hex(&digest.as_ref()[..16]))
    }

    /// Takes a token from rule `index`'s shared bucket: `Ok(Ok(()))` admitted, `Ok(Err(ns))`
    /// refused with the wait in nanoseconds, `Err` when Redis could not decide.
    pub async fn take(
        &self,
        index: usize,
        key: &RateLimitKey,
        ctx: &RequestCtx,
        per_token_ns: u64,
        span_ns: u64,
    ) -> Result<Result<(), u64>, RedisError> {
        let key = self.key(index, key, ctx);
        let per = (per_token_ns / 1_000).max(1).to_string();
        let span = (span_ns / 1_000).max(1).to_string();
        let mut reply = self
            .client
            .call(&[
                b"EVALSHA",
                self.sha.as_bytes(),
                b"1",
                key.as_bytes(),
                per.as_bytes(),
                span.as_bytes(),
            ])
            .await;
        if matches!(&reply, Ok(Reply::Error(e)) if e.starts_with("NOSCRIPT")) {
            reply = self
                .client
                .call(&[
                    b"EVAL",
                    SCRIPT.as_bytes(),
                    b"1",
                    key.as_bytes(),
                    per.as_bytes(),
                    span.as_bytes(),
                ])
                .await;
        }
        let result = match reply {
            Ok(Reply::Int(0)) => Ok(Ok(())),
            Ok(Reply::Int(us)) if us > 0 => Ok(Err(u64::try_from(us).unwrap_or(0) * 1_000)),
            Ok(Reply::Error(e)) => Err(RedisError::Protocol(e)),
            Ok(other) => Err(RedisError::Protocol(format!("unexpected reply {other:?}"))),
            Err(e) => Err(e),
        };
        match &result {
            Ok(_) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limit: redis answers again; shared buckets in use");
                }
            }
            Err(e) => {
                REDIS_FAILURES.fetch_add(1, Ordering::Relaxed);
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, policy = ?self.on_failure, "rate limit: redis cannot decide; applying on_failure");
                }
            }
        }
        result
    }
}

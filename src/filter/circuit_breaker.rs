//! `tianlu.filter.http.circuitbreaker` (also `dgp.filter.http.circuitbreaker`): one breaker per
//! filter instance — per route when the filter is configured on a route, per listener otherwise.
//!
//! - **Closed**: every request passes. Outcomes are counted in a sliding `window` of ten time
//!   buckets; once the window holds `min_requests` calls and the share of failures reaches
//!   `error_rate` (or, with `slow_call` set, the share of slow calls reaches `slow_call_rate`),
//!   the breaker opens.
//! - **Open**: requests are answered locally, 503 `CIRCUIT_OPEN` with `Retry-After` (seconds
//!   until probing starts), for `open_for`.
//! - **Half-open**: at most `half_open_probes` requests pass as probes, marked by a ticket in
//!   [`RequestCtx::extensions`]; the others get `CIRCUIT_OPEN` (`Retry-After: 1`). That many
//!   successful probes close the breaker (with an empty window); the first failed or slow probe
//!   opens it again. A probe that ends without an outcome (its request was dropped, or it was
//!   refused before any call) gives its slot back.
//!
//! What counts: a response with status 500 or above is a failure — except the breaker's and
//! the concurrency limit's own local refusals, which are not counted at all, and a Java
//! exception thrown by the provider (500 `BUSINESS_EXCEPTION`), which is a success unless
//! `count_business_errors` is set (the provider answered, so it is up). Other responses count
//! as successes only when the gateway tried a provider (`ctx.upstream` is set): requests
//! refused or answered before any call (404, 401, a mock) say nothing about the provider. A
//! counted call is slow when it took longer than `slow_call` since the request arrived
//! (`ctx.started`).
//!
//! Each transition bumps a generation; a ticket remembers the generation it was issued in, so
//! outcomes of calls admitted before a transition never count after it. The closed fast path
//! of the request phase is one atomic load; outcomes are recorded under a short lock (a bucket
//! update and a sum over ten buckets), never held across an await.

use super::{Flow, HttpFilter, RequestCtx};
use crate::error::{ErrorCode, GatewayError, BUSINESS_EXCEPTION, CIRCUIT_OPEN, CONCURRENCY_LIMIT};
use axum::response::Response;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tianlu_api_config::bootstrap::filter::CircuitBreakerConfig;

/// Buckets per window.
const BUCKETS: usize = 10;
/// `Retry-After` while every half-open probe slot is taken.
const PROBES_BUSY_RETRY: Duration = Duration::from_secs(1);

/// State tags in [`Core::word`].
const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;

/// The circuit-breaker filter.
pub struct CircuitBreaker {
    core: Arc<Core>,
}

/// The breaker shared by the filter and the tickets of its requests.
struct Core {
    /// Nanoseconds per bucket (`window / 10`, at least 1).
    bucket: u64,
    min_requests: u64,
    error_rate: f64,
    count_business_errors: bool,
    slow_call: Option<Duration>,
    slow_call_rate: f64,
    /// Nanoseconds an open breaker stays open.
    open_for: u64,
    probes: u32,
    epoch: Instant,
    /// `generation << 2 | state tag`, mirrored from `inner` for the lock-free request path.
    word: AtomicU64,
    /// While open: when probing may start, in nanoseconds since `epoch`.
    open_until: AtomicU64,
    inner: Mutex<Inner>,
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    /// Open until this time (nanoseconds since the epoch).
    Open {
        until: u64,
    },
    /// Probing: probes in flight and probes that succeeded.
    HalfOpen {
        in_flight: u32,
        successes: u32,
    },
}

struct Inner {
    state: State,
    generation: u64,
    buckets: [Bucket; BUCKETS],
}

/// Outcomes counted in one bucket-long slice of time.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// The slice (`now / bucket`) these counts belong to.
    seq: u64,
    calls: u32,
    failures: u32,
    slow: u32,
}

/// What the request phase decided.
#[derive(Debug, PartialEq, Eq)]
enum Admission {
    Pass { generation: u64, probe: bool },
    Refuse { retry_after: Duration },
}

/// How a counted call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcome {
    failure: bool,
    slow: bool,
}

/// A state change worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    Opened,
    Closed,
}

/// The tickets one request holds, one per breaker it passed (a listener's and a route's may
/// both apply). Shared so that cloning the extensions never duplicates a ticket.
#[derive(Clone, Default)]
struct Tickets(Vec<Arc<Ticket>>);

/// A request admitted by one breaker in one generation.
struct Ticket {
    core: Arc<Core>,
    generation: u64,
    probe: bool,
    /// The response phase has dealt with this ticket.
    settled: AtomicBool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.probe && !*self.settled.get_mut() {
            self.core.release(self.generation);
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Core {
    fn new(cfg: &CircuitBreakerConfig) -> Self {
        Core {
            bucket: (nanos(cfg.window) / BUCKETS as u64).max(1),
            min_requests: u64::from(cfg.min_requests.max(1)),
            error_rate: cfg.error_rate,
            count_business_errors: cfg.count_business_errors,
            slow_call: cfg.slow_call,
            slow_call_rate: cfg.slow_call_rate,
            open_for: nanos(cfg.open_for),
            probes: cfg.half_open_probes.max(1),
            epoch: Instant::now(),
            word: AtomicU64::new(CLOSED),
            open_until: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                state: State::Closed,
                generation: 0,
                buckets: [Bucket::default(); BUCKETS],
            }),
        }
    }

    fn now(&self) -> u64 {
        nanos(self.epoch.elapsed())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Mirrors `inner`'s state for the lock-free path.
    fn publish(&self, inner: &Inner) {
        let tag = match inner.state {
            State::Closed => CLOSED,
            State::Open { until } => {
                self.open_until.store(until, Ordering::Release);
                OPEN
            }
            State::HalfOpen { .. } => HALF_OPEN,
        };
        self.word
            .store(inner.generation << 2 | tag, Ordering::Release);
    }

    fn set(&self, inner: &mut Inner, state: State) {
        inner.state = state;
        inner.generation += 1;
        self.publish(inner);
    }

    fn trip(&self, inner: &mut Inner, now: u64) -> Transition {
        self.set(
            inner,
            State::Open {
                until: now.saturating_add(self.open_for),
            },
        );
        Transition::Opened
    }

    /// The request phase at time `now`.
    fn admit(&self, now: u64) -> Admission {
        let word = self.word.load(Ordering::Acquire);
        match word & 3 {
            CLOSED => {
                return Admission::Pass {
                    generation: word >> 2,
                    probe: false,
                }
            }
            OPEN => {
                let until = self.open_until.load(Ordering::Acquire);
                if now < until {
                    return Admission::Refuse {
                        retry_after: Duration::from_nanos(until - now),
                    };
                }
            }
            _ => {}
        }
        let mut inner = self.lock();
        if let State::Open { until } = inner.state {
            if now < until {
                return Admission::Refuse {
                    retry_after: Duration::from_nanos(until - now),
                };
            }
            self.set(
                &mut inner,
                State::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                },
            );
        }
        let generation = inner.generation;
        match &mut inner.state {
            State::HalfOpen {
                in_flight,
                successes,
            } => {
                if in_flight.saturating_add(*successes) < self.probes {
                    *in_flight += 1;
                    Admission::Pass {
                        generation,
                        probe: true,
                    }
                } else {
                    Admission::Refuse {
                        retry_after: PROBES_BUSY_RETRY,
                    }
                }
            }
            State::Closed | State::Open { .. } => Admission::Pass {
                generation,
                probe: false,
            },
        }
    }

    /// Counts the outcome of a call admitted in `generation`, at time `now`.
    fn record(&self, now: u64, generation: u64, outcome: Outcome) -> Option<Transition> {
        let mut inner = self.lock();
        if inner.generation != generation {
            return None;
        }
        match inner.state {
            State::Closed => {
                let seq = now / self.bucket;
                let slot = &mut inner.buckets[(seq % BUCKETS as u64) as usize];
                if slot.seq != seq {
                    *slot = Bucket {
                        seq,
                        ..Bucket::default()
                    };
                }
                slot.calls = slot.calls.saturating_add(1);
                slot.failures = slot.failures.saturating_add(u32::from(outcome.failure));
                slot.slow = slot.slow.saturating_add(u32::from(outcome.slow));
                let (mut calls, mut failures, mut slow) = (0u64, 0u64, 0u64);
                for b in inner
                    .buckets
                    .iter()
                    .filter(|b| seq.saturating_sub(b.seq) < BUCKETS as u64)
                {
                    calls += u64::from(b.calls);
                    failures += u64::from(b.failures);
                    slow += u64::from(b.slow);
                }
                let share = |n: u64| n as f64 / calls as f64;
                let too_slow = self.slow_call.is_some() && share(slow) >= self.slow_call_rate;
                (calls >= self.min_requests && (share(failures) >= self.error_rate || too_slow))
                    .then(|| self.trip(&mut inner, now))
            }
            State::HalfOpen {
                in_flight,
                successes,
            } => {
                if outcome.failure || outcome.slow {
                    return Some(self.trip(&mut inner, now));
                }
                let successes = successes + 1;
                if successes >= self.probes {
                    inner.buckets = [Bucket::default(); BUCKETS];
                    self.set(&mut inner, State::Closed);
                    return Some(Transition::Closed);
                }
                inner.state = State::HalfOpen {
                    in_flight: in_flight.saturating_sub(1),
                    successes,
                };
                None
            }
            State::Open { .. } => None,
        }
    }

    /// Gives back the slot of a probe that ended without an outcome.
    fn release(&self, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if let State::HalfOpen { in_flight, .. } = &mut inner.state {
            *in_flight = in_flight.saturating_sub(1);
        }
    }
}

impl CircuitBreaker {
    /// A closed breaker with an empty window.
    pub fn new(cfg: &CircuitBreakerConfig) -> Self {
        CircuitBreaker {
            core: Arc::new(Core::new(cfg)),
        }
    }

    /// The state now: `closed`, `open` or `half-open` (an open breaker whose `open_for` has
    /// passed reads `open` until a request arrives).
    pub fn state(&self) -> &'static str {
        match self.core.lock().state {
            State::Closed => "closed",
            State::Open { .. } => "open",
            State::HalfOpen { .. } => "half-open",
        }
    }

    fn request_at(&self, ctx: &mut RequestCtx, now: u64) -> Flow {
        match self.core.admit(now) {
            Admission::Refuse { retry_after } => Flow::Reply(
                GatewayError::CircuitOpen { retry_after }.into_response_with(&ctx.request_id),
            ),
            Admission::Pass { generation, probe } => {
                if probe {
                    tracing::info!(route = ?ctx.route, "circuit breaker half-open: probing");
                }
                let ticket = Arc::new(Ticket {
                    core: Arc::clone(&self.core),
                    generation,
                    probe,
                    settled: AtomicBool::new(false),
                });
                ctx.extensions
                    .get_or_insert_default::<Tickets>()
                    .0
                    .push(ticket);
                Flow::Continue
            }
        }
    }

    fn response_at(&self, ctx: &RequestCtx, resp: &Response, now: u64) {
        let Some(tickets) = ctx.extensions.get::<Tickets>() else {
            return;
        };
        let Some(ticket) = tickets.0.iter().find(|t| Arc::ptr_eq(&t.core, &self.core)) else {
            return;
        };
        if ticket.settled.swap(true, Ordering::AcqRel) {
            return;
        }
        match self.classify(ctx, resp) {
            Some(outcome) => match self.core.record(now, ticket.generation, outcome) {
                Some(Transition::Opened) => {
                    tracing::warn!(route = ?ctx.route, status = resp.status().as_u16(), "circuit breaker opened");
                }
                Some(Transition::Closed) => {
                    tracing::info!(route = ?ctx.route, "circuit breaker closed");
                }
                None => {}
            },
            None if ticket.probe => self.core.release(ticket.generation),
            None => {}
        }
    }

    /// The outcome of a response, or `None` when it does not count (see the module docs).
    fn classify(&self, ctx: &RequestCtx, resp: &Response) -> Option<Outcome> {
        let code = resp.extensions().get::<ErrorCode>().map(|c| c.0);
        if matches!(code, Some(CIRCUIT_OPEN | CONCURRENCY_LIMIT)) {
            return None;
        }
        let failure = resp.status().is_server_error()
            && (self.core.count_business_errors || code != Some(BUSINESS_EXCEPTION));
        if !failure && ctx.upstream.is_none() {
            return None;
        }
        let slow = self
            .core
            .slow_call
            .is_some_and(|limit| ctx.started.elapsed() > limit);
        Some(Outcome { failure, slow })
    }
}

impl HttpFilter for CircuitBreaker {
    fn name(&self) -> &'static str {
        "tianlu.filter.http.circuitbreaker"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        self.request_at(ctx, self.core.now())
    }

    fn on_response(&self, ctx: &RequestCtx, resp: &mut Response) {
        self.response_at(ctx, resp, self.core.now());
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;
    use tianlu_protocol::generic::JavaException;

    const MS: u64 = 1_000_000;
    const SEC: u64 = 1_000 * MS;

    fn config() -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            window: Duration::from_secs(10),
            min_requests: 4,
            error_rate: 0.5,
            count_business_errors: false,
            slow_call: None,
            slow_call_rate: 1.0,
            open_for: Duration::from_secs(30),
            half_open_probes: 2,
        }
    }

    fn ok() -> Response {
        http::StatusCode::OK.into_response()
    }

    fn unreachable() -> Response {
        GatewayError::NoProvider {
            cluster: "c".into(),
        }
        .into_response_with("r")
    }

    fn business() -> Response {
        GatewayError::Business {
            exception: Box::new(JavaException {
                class: "java.lang.IllegalArgumentException".into(),
                message: Some("no such user".into()),
                fields: serde_json::Map::new(),
                causes: Vec::new(),
            }),
        }
        .into_response_with("r")
    }

    /// Runs one request through `f` at time `now`: its status, and `Retry-After` when refused.
    fn call(f: &CircuitBreaker, now: u64, resp: fn() -> Response) -> (u16, Option<u64>) {
        let mut c = ctx("GET", "/api/x", &[]);
        c.upstream = Some("127.0.0.1:20880".into());
        match f.request_at(&mut c, now) {
            Flow::Reply(mut r) => {
                f.response_at(&c, &r, now);
                let retry = r
                    .headers_mut()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse().ok());
                (r.status().as_u16(), retry)
            }
            Flow::Continue => {
                let r = resp();
                f.response_at(&c, &r, now);
                (r.status().as_u16(), None)
            }
        }
    }

    #[test]
    fn opens_at_the_error_rate_once_the_window_holds_enough_calls() {
        let f = CircuitBreaker::new(&config());
        assert_eq!(call(&f, 0, unreachable).0, 503);
        assert_eq!(call(&f, MS, unreachable).0, 503);
        assert_eq!(call(&f, 2 * MS, unreachable).0, 503);
        assert_eq!(f.state(), "closed", "3 calls are below min_requests");
        assert_eq!(call(&f, 3 * MS, ok).0, 200);
        assert_eq!(f.state(), "open", "3 of 4 failed");
        let (status, retry) = call(&f, 4 * MS, ok);
        assert_eq!((status, retry), (503, Some(30)));
        let (_, retry) = call(&f, 20 * SEC, ok);
        assert_eq!(retry, Some(11), "seconds until half-open, rounded up");
        assert_eq!(f.state(), "open", "refusals are not counted");
    }

    #[test]
    fn stays_closed_below_the_error_rate() {
        let f = CircuitBreaker::new(&config());
        for i in 0..20 {
            let resp = if i % 3 == 2 { unreachable } else { ok };
            call(&f, i * MS, resp);
        }
        assert_eq!(f.state(), "closed", "a third failed, below one half");
    }

    #[test]
    fn the_window_forgets_old_buckets() {
        let f = CircuitBreaker::new(&config());
        for i in 0..3 {
            call(&f, i * MS, unreachable);
        }
        // 10.5 s later the three failures have left the 10 s window.
        call(&f, 10 * SEC + 500 * MS, unreachable);
        assert_eq!(f.state(), "closed");
        for i in 1..3 {
            call(&f, 10 * SEC + 500 * MS + i * MS, ok);
        }
        assert_eq!(f.state(), "closed", "1 of 3 in the window failed");
        call(&f, 11 * SEC, unreachable);
        assert_eq!(f.state(), "open", "2 of 4 in the window failed");
    }

    fn open(f: &CircuitBreaker) {
        for i in 0..4 {
            call(f, i * MS, unreachable);
        }
        assert_eq!(f.state(), "open");
    }

    #[test]
    fn half_open_lets_probes_through_and_closes_after_enough_successes() {
        let f = CircuitBreaker::new(&config());
        open(&f);
        let after = 31 * SEC;
        let mut a = ctx("GET", "/api/x", &[]);
        let mut b = ctx("GET", "/api/x", &[]);
        let mut c = ctx("GET", "/api/x", &[]);
        assert!(matches!(f.request_at(&mut a, after), Flow::Continue));
        assert_eq!(f.state(), "half-open");
        assert!(matches!(f.request_at(&mut b, after), Flow::Continue));
        let Flow::Reply(busy) = f.request_at(&mut c, after) else {
            panic!("only two probes at once")
        };
        assert_eq!(busy.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[http::header::RETRY_AFTER], "1");
        let probe = |c: &RequestCtx| {
            c.extensions
                .get::<Tickets>()
                .is_some_and(|t| t.0.iter().any(|t| t.probe))
        };
        assert!(probe(&a) && probe(&b) && !probe(&c));
        for p in [&mut a, &mut b] {
            p.upstream = Some("127.0.0.1:20880".into());
        }
        f.response_at(&a, &ok(), after);
        assert_eq!(f.state(), "half-open");
        f.response_at(&b, &ok(), after);
        assert_eq!(f.state(), "closed");
        // A closed breaker starts from an empty window.
        for i in 0..3 {
            call(&f, after + i * MS, unreachable);
        }
        assert_eq!(f.state(), "closed");
    }

    #[test]
    fn a_failed_probe_opens_again() {
        let f = CircuitBreaker::new(&config());
        open(&f);
        let after = 31 * SEC;
        assert_eq!(call(&f, after, ok).0, 200);
        assert_eq!(f.state(), "half-open");
        assert_eq!(call(&f, after + MS, unreachable).0, 503);
        assert_eq!(f.state(), "open");
        assert_eq!(
            call(&f, after + 2 * MS, ok),
            (503, Some(30)),
            "open for another open_for"
        );
    }

    #[test]
    fn a_probe_without_an_outcome_gives_its_slot_back() {
        let f = CircuitBreaker::new(&CircuitBreakerConfig {
            half_open_probes: 1,
            ..config()
        });
        open(&f);
        let after = 31 * SEC;
        let mut dropped = ctx("GET", "/api/x", &[]);
        assert!(matches!(f.request_at(&mut dropped, after), Flow::Continue));
        assert_eq!(call(&f, after, ok).0, 503, "the only probe slot is taken");
        drop(dropped);
        // Refused before any call (no upstream, a 4xx): not an outcome either.
        let mut refused = ctx("GET", "/api/x", &[]);
        assert!(matches!(f.request_at(&mut refused, after), Flow::Continue));
        f.response_at(
            &refused,
            &http::StatusCode::UNAUTHORIZED.into_response(),
            after,
        );
        assert_eq!(f.state(), "half-open");
        assert_eq!(call(&f, after, ok).0, 200, "the slot is free again");
        assert_eq!(f.state(), "closed");
    }

    #[test]
    fn outcomes_from_before_a_transition_are_ignored() {
        let f = CircuitBreaker::new(&config());
        let mut late = ctx("GET", "/api/x", &[]);
        late.upstream = Some("127.0.0.1:20880".into());
        assert!(matches!(f.request_at(&mut late, 0), Flow::Continue));
        open(&f);
        let after = 31 * SEC;
        assert_eq!(call(&f, after, ok).0, 200, "a probe");
        f.response_at(&late, &unreachable(), after);
        assert_eq!(
            f.state(),
            "half-open",
            "a call admitted while closed does not count as a probe"
        );
    }

    #[test]
    fn business_exceptions_count_only_when_configured() {
        let f = CircuitBreaker::new(&config());
        for i in 0..10 {
            assert_eq!(call(&f, i * MS, business).0, 500);
        }
        assert_eq!(f.state(), "closed", "the provider answered");
        let f = CircuitBreaker::new(&CircuitBreakerConfig {
            count_business_errors: true,
            ..config()
        });
        for i in 0..4 {
            call(&f, i * MS, business);
        }
        assert_eq!(f.state(), "open");
    }

    #[test]
    fn local_replies_do_not_count() {
        let f = CircuitBreaker::new(&CircuitBreakerConfig {
            min_requests: 1,
            ..config()
        });
        let mut c = ctx("GET", "/api/x", &[]);
        assert!(matches!(f.request_at(&mut c, 0), Flow::Continue));
        let shed = GatewayError::Overloaded { limit: 1 }.into_response_with("r");
        f.response_at(&c, &shed, 0);
        let mut c = ctx("GET", "/nowhere", &[]);
        assert!(matches!(f.request_at(&mut c, 0), Flow::Continue));
        f.response_at(&c, &http::StatusCode::NOT_FOUND.into_response(), 0);
        assert_eq!(f.state(), "closed");
        let mut c = ctx("GET", "/api/x", &[]);
        assert!(matches!(f.request_at(&mut c, 0), Flow::Continue));
        f.response_at(&c, &unreachable(), 0);
        f.response_at(&c, &ok(), 0);
        assert_eq!(
            f.state(),
            "open",
            "a 5xx counts without an upstream; a ticket counts once"
        );
    }

    #[test]
    fn slow_calls_open_the_breaker() {
        let f = CircuitBreaker::new(&CircuitBreakerConfig {
            slow_call: Some(Duration::from_millis(500)),
            slow_call_rate: 0.5,
            ..config()
        });
        let slow = |f: &CircuitBreaker, now: u64| {
            let mut c = ctx("GET", "/api/x", &[]);
            c.upstream = Some("127.0.0.1:20880".into());
            if let Some(t) = Instant::now().checked_sub(Duration::from_secs(10)) {
                c.started = t;
            }
            assert!(matches!(f.request_at(&mut c, now), Flow::Continue));
            f.response_at(&c, &ok(), now);
        };
        call(&f, 0, ok);
        call(&f, MS, ok);
        slow(&f, 2 * MS);
        assert_eq!(f.state(), "closed");
        slow(&f, 3 * MS);
        assert_eq!(f.state(), "open", "2 of 4 calls took 10 s");
        // In half-open, a slow probe opens again.
        slow(&f, 31 * SEC);
        assert_eq!(f.state(), "open");
    }

    #[test]
    fn slow_calls_are_ignored_without_slow_call() {
        let f = CircuitBreaker::new(&config());
        for i in 0..10 {
            let mut c = ctx("GET", "/api/x", &[]);
            c.upstream = Some("127.0.0.1:20880".into());
            if let Some(t) = Instant::now().checked_sub(Duration::from_secs(100)) {
                c.started = t;
            }
            assert!(matches!(f.request_at(&mut c, i * MS), Flow::Continue));
            f.response_at(&c, &ok(), i * MS);
        }
        assert_eq!(f.state(), "closed");
    }

    #[test]
    fn breakers_keep_separate_tickets() {
        let listener = CircuitBreaker::new(&config());
        let route = CircuitBreaker::new(&CircuitBreakerConfig {
            min_requests: 1,
            ..config()
        });
        let mut c = ctx("GET", "/api/x", &[]);
        c.upstream = Some("127.0.0.1:20880".into());
        assert!(matches!(listener.request_at(&mut c, 0), Flow::Continue));
        assert!(matches!(route.request_at(&mut c, 0), Flow::Continue));
        let resp = unreachable();
        route.response_at(&c, &resp, 0);
        listener.response_at(&c, &resp, 0);
        assert_eq!((route.state(), listener.state()), ("open", "closed"));
        let mut next = ctx("GET", "/api/x", &[]);
        assert!(matches!(listener.request_at(&mut next, MS), Flow::Continue));
        assert!(matches!(route.request_at(&mut next, MS), Flow::Reply(_)));
    }
}

//! `tianlu.filter.http.concurrency`: at most `max` requests in flight through one filter
//! instance (a route's own instance when configured on a route, the listener's otherwise). The
//! excess is answered at once with 503 and the `CONCURRENCY_LIMIT` error body; nothing waits
//! in a queue.
//!
//! The count is one atomic. An admitted request carries a permit in [`RequestCtx::extensions`];
//! the response phase gives it back, and dropping the request context gives it back too, so a
//! request that ends without a response phase (the client went away mid-call) never leaks a
//! slot.

use super::{Flow, HttpFilter, RequestCtx};
use crate::error::GatewayError;
use axum::response::Response;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The concurrency-limit filter.
pub struct ConcurrencyLimit {
    gauge: Arc<Gauge>,
}

/// In-flight requests of one filter instance.
struct Gauge {
    in_flight: AtomicUsize,
    max: usize,
}

/// The permits one request holds, one per concurrency filter it passed (a listener's and a
/// route's may both apply). Shared so that cloning the extensions never duplicates a permit.
#[derive(Clone, Default)]
struct Permits(Vec<Arc<Permit>>);

/// One slot of one filter instance, given back once.
struct Permit {
    gauge: Arc<Gauge>,
    held: AtomicBool,
}

impl Permit {
    /// Gives the slot back unless that has been done already.
    fn release(&self) {
        if self.held.swap(false, Ordering::AcqRel) {
            self.gauge.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.release();
    }
}

impl Gauge {
    /// Takes a slot unless all `max` are taken.
    fn acquire(&self) -> bool {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }
}

impl ConcurrencyLimit {
    /// A limit of `max` requests in flight (at least one).
    pub fn new(max: usize) -> Self {
        ConcurrencyLimit {
            gauge: Arc::new(Gauge {
                in_flight: AtomicUsize::new(0),
                max: max.max(1),
            }),
        }
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.gauge.in_flight.load(Ordering::Acquire)
    }
}

impl HttpFilter for ConcurrencyLimit {
    fn name(&self) -> &'static str {
        "tianlu.filter.http.concurrency"
    }

    fn on_request(&self, ctx: &mut RequestCtx) -> Flow {
        if !self.gauge.acquire() {
            return Flow::Reply(
                GatewayError::Overloaded {
                    limit: self.gauge.max,
                }
                .into_response_with(&ctx.request_id),
            );
        }
        let permit = Arc::new(Permit {
            gauge: Arc::clone(&self.gauge),
            held: AtomicBool::new(true),
        });
        ctx.extensions
            .get_or_insert_default::<Permits>()
            .0
            .push(permit);
        Flow::Continue
    }

    fn on_response(&self, ctx: &RequestCtx, _resp: &mut Response) {
        if let Some(permits) = ctx.extensions.get::<Permits>() {
            permits
                .0
                .iter()
                .filter(|p| Arc::ptr_eq(&p.gauge, &self.gauge))
                .for_each(|p| p.release());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::ctx;
    use super::super::Chain;
    use super::*;
    use axum::response::IntoResponse;

    fn status(flow: Flow) -> u16 {
        match flow {
            Flow::Continue => 200,
            Flow::Reply(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn refuses_beyond_max_and_frees_slots_in_the_response_phase() {
        let f = ConcurrencyLimit::new(2);
        let mut a = ctx("GET", "/a", &[]);
        let mut b = ctx("GET", "/b", &[]);
        let mut c = ctx("GET", "/c", &[]);
        assert_eq!(status(f.on_request(&mut a)), 200);
        assert_eq!(status(f.on_request(&mut b)), 200);
        let Flow::Reply(refused) = f.on_request(&mut c) else {
            panic!("a third request in flight must be refused")
        };
        assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            refused.extensions().get::<crate::error::ErrorCode>(),
            Some(&crate::error::ErrorCode("CONCURRENCY_LIMIT"))
        );
        assert_eq!(f.in_flight(), 2);

        let mut resp = http::StatusCode::OK.into_response();
        f.on_response(&a, &mut resp);
        f.on_response(&a, &mut resp);
        assert_eq!(f.in_flight(), 1, "a permit is given back once");
        f.on_response(&c, &mut resp);
        assert_eq!(f.in_flight(), 1, "a refused request held no slot");
        assert_eq!(status(f.on_request(&mut c)), 200);
        assert_eq!(f.in_flight(), 2);
        drop(a);
        assert_eq!(f.in_flight(), 2, "a released permit is not released again");
    }

    #[test]
    fn a_request_dropped_without_a_response_phase_frees_its_slot() {
        let f = ConcurrencyLimit::new(1);
        let mut a = ctx("GET", "/a", &[]);
        assert_eq!(status(f.on_request(&mut a)), 200);
        let mut b = ctx("GET", "/b", &[]);
        assert_eq!(status(f.on_request(&mut b)), 503);
        drop(a);
        assert_eq!(f.in_flight(), 0);
        assert_eq!(status(f.on_request(&mut b)), 200);
    }

    #[tokio::test]
    async fn instances_count_separately_and_see_only_their_permits() {
        let listener = Arc::new(ConcurrencyLimit::new(1));
        let route = Arc::new(ConcurrencyLimit::new(1));
        let chain = Chain::new(vec![
            Arc::clone(&listener) as Arc<dyn HttpFilter>,
            Arc::clone(&route) as Arc<dyn HttpFilter>,
        ]);
        let mut a = ctx("GET", "/a", &[]);
        let (ran, reply) = chain.request(&mut a).await;
        assert!(reply.is_none());
        assert_eq!((listener.in_flight(), route.in_flight()), (1, 1));

        // Another route with its own instance behind the same listener limit.
        let other = ConcurrencyLimit::new(1);
        let mut b = ctx("GET", "/b", &[]);
        assert_eq!(status(other.on_request(&mut b)), 200);
        let mut resp = http::StatusCode::OK.into_response();
        other.on_response(&b, &mut resp);
        assert_eq!((listener.in_flight(), route.in_flight()), (1, 1));

        chain.response(ran, &a, &mut resp);
        assert_eq!((listener.in_flight(), route.in_flight()), (0, 0));
    }
}

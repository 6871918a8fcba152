//! The HTTP filter chain: our own [`HttpFilter`] trait with a request phase (in configuration
//! order, able to answer locally) and a response phase (in reverse order). Chains are built from
//! configuration by [`build_chain`] when a runtime is loaded, never per request.
//!
//! Adding a filter: one file here with its config and tests, one arm in [`build_filter`], a YAML
//! example in `docs/configuration.md`.

mod access_log;
mod apikey;
mod authority;
mod body_limit;
mod circuit_breaker;
mod concurrency;
mod cors;
mod fault;
mod headers;
mod jwt;
mod jwt_keys;
mod mock;
mod ratelimit;
mod ratelimit_redis;
mod redis;

pub use access_log::AccessLog;
pub use apikey::ApiKeyFilter;
pub use authority::Authority;
pub use body_limit::BodyLimit;
pub use circuit_breaker::CircuitBreaker;
pub use concurrency::ConcurrencyLimit;
pub use cors::{Cors, CorsSettings};
pub use fault::FaultInjection;
pub use headers::Headers;
pub use jwt::Jwt;
pub use mock::Mock;
pub use ratelimit::RateLimit;
pub use ratelimit_redis::REDIS_FAILURES;

use axum::response::Response;
use http::{HeaderMap, Method, Uri};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tianlu_api_config::{HttpFilter as FilterConfig, HttpFilterConfig};

/// What filters see of a request, and what they may leave for later steps.
pub struct RequestCtx {
    /// The request id (from `x-request-id`, generated when absent).
    pub request_id: String,
    /// The HTTP method.
    pub method: Method,
    /// The request URI.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The client's address.
    pub remote: Option<SocketAddr>,
    /// When the gateway received the request.
    pub started: Instant,
    /// The matched route (`GET /api/users/:id`), once routing is done.
    pub route: Option<String>,
    /// The provider endpoint that served the call, when one did.
    pub upstream: Option<Arc<str>>,
    /// The largest body this request may carry; filters may lower it.
    pub body_limit: usize,
    /// Dubbo attachments filters ask for (an API key's owner, JWT claims); the terminal step
    /// copies them into the invocation.
    pub attachments: Vec<(String, String)>,
    /// Per-request state filters leave for their own response phase (a circuit breaker's
    /// ticket, a concurrency permit). Values may be guards: they are dropped with the request
    /// even when no response phase runs.
    pub extensions: http::Extensions,
}

/// The outcome of a filter's request phase.
pub enum Flow {
    /// Go on with the next filter.
    Continue,
    /// Answer with this response; later filters' request phases and the upstream call are
    /// skipped, but response phases of the filters that already ran still run.
    Reply(Response),
}

/// A boxed future for filters whose request phase has to wait (a remote rate limiter, …).
pub type FilterFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Flow> + Send + 'a>>;

/// One HTTP filter.
pub trait HttpFilter: Send + Sync {
    /// The filter's configuration name.
    fn name(&self) -> &'static str;

    /// The request phase, for filters that decide without waiting.
    fn on_request(&self, _ctx: &mut RequestCtx) -> Flow {
        Flow::Continue
    }

    /// True when the request phase must wait; then [`HttpFilter::on_request_async`] runs
    /// instead of [`HttpFilter::on_request`].
    fn is_async(&self) -> bool {
        false
    }

    /// The request phase of a filter that waits (only called when `is_async` is true).
    fn on_request_async<'a>(&'a self, ctx: &'a mut RequestCtx) -> FilterFuture<'a> {
        Box::pin(async move { self.on_request(ctx) })
    }

    /// The response phase (runs for local replies and errors too).
    fn on_response(&self, _ctx: &RequestCtx, _resp: &mut Response) {}

    /// True when [`HttpFilter::on_response`] reads the request headers. Forwarding routes
    /// move the request headers upstream rather than copying them unless a filter of the
    /// request's chains says so; a filter that reads them there must return true.
    fn reads_request_headers_on_response(&self) -> bool {
        false
    }
}

/// An ordered filter chain.
#[derive(Clone, Default)]
pub struct Chain {
    filters: Vec<Arc<dyn HttpFilter>>,
    reads_headers_on_response: bool,
}

impl Chain {
    /// A chain of the given filters.
    pub fn new(filters: Vec<Arc<dyn HttpFilter>>) -> Self {
        let reads_headers_on_response = filters
            .iter()
            .any(|f| f.reads_request_headers_on_response());
        Chain {
            filters,
            reads_headers_on_response,
        }
    }

    /// True when a filter's response phase reads the request headers.
    pub fn reads_request_headers_on_response(&self) -> bool {
        self.reads_headers_on_response
    }

    /// Runs the request phases in order. Returns how many filters ran (the response phase runs
    /// for exactly those) and the local reply, if one answered.
    pub async fn request(&self, ctx: &mut RequestCtx) -> (usize, Option<Response>) {
        for (i, f) in self.filters.iter().enumerate() {
            let flow = if f.is_async() {
                f.on_request_async(ctx).await
            } else {
                f.on_request(ctx)
            };
            if let Flow::Reply(resp) = flow {
                return (i + 1, Some(resp));
            }
        }
        (self.filters.len(), None)
    }

    /// Runs the response phases of the first `ran` filters in reverse order.
    pub fn response(&self, ran: usize, ctx: &RequestCtx, resp: &mut Response) {
        for f in self.filters[..ran.min(self.filters.len())].iter().rev() {
            f.on_response(ctx, resp);
        }
    }

    /// The names of the filters, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.filters.iter().map(|f| f.name()).collect()
    }
}

/// Builds one filter from its configuration. Filters that are not part of the per-request chain
/// (the api_config loader and the Dubbo proxy, which are the routing and terminal steps) give
/// `Ok(None)`.
pub fn build_filter(cfg: &HttpFilterConfig) -> Result<Option<Arc<dyn HttpFilter>>, String> {
    Ok(match cfg {
        HttpFilterConfig::Cors(c) => Some(Arc::new(Cors::new(&CorsSettings {
            allow_origin: c.allow_origin.clone(),
            allow_methods: c.allow_methods.clone(),
            allow_headers: c.allow_headers.clone(),
            expose_headers: c.expose_headers.clone(),
            max_age: c.max_age,
            allow_credentials: c.allow_credentials,
        })?)),
        HttpFilterConfig::AccessLog(c) => Some(Arc::new(AccessLog::new(c.output_path.clone())?)),
        HttpFilterConfig::BodyLimit(c) => Some(Arc::new(BodyLimit::new(
            usize::try_from(c.max_bytes).unwrap_or(usize::MAX),
        ))),
        HttpFilterConfig::RateLimit(c) => Some(Arc::new(RateLimit::new(c))),
        HttpFilterConfig::Authority(c) => Some(Arc::new(Authority::new(c))),
        HttpFilterConfig::ApiKey(c) => Some(Arc::new(ApiKeyFilter::new(c)?)),
        HttpFilterConfig::Jwt(c) => Some(Arc::new(Jwt::new(c)?)),
        HttpFilterConfig::Headers(c) => Some(Arc::new(Headers::new(c)?)),
        HttpFilterConfig::FaultInjection(c) => Some(Arc::new(FaultInjection::new(c))),
        HttpFilterConfig::Mock(c) => Some(Arc::new(Mock::new(c)?)),
        HttpFilterConfig::CircuitBreaker(c) => Some(Arc::new(CircuitBreaker::new(c))),
        HttpFilterConfig::Concurrency(c) => Some(Arc::new(ConcurrencyLimit::new(c.max))),
        HttpFilterConfig::ApiConfig(_) | HttpFilterConfig::DubboProxy(_) => None,
    })
}

/// Builds a chain from a listener's `http_filters`.
pub fn build_chain(cfgs: &[FilterConfig]) -> Result<Chain, String> {
    let mut filters = Vec::new();
    for c in cfgs {
        if let Some(f) = build_filter(&c.config)? {
            filters.push(f);
        }
    }
    Ok(Chain::new(filters))
}

#[cfg(test)]
pub(crate) mod testing {
    //! A request context for filter tests.
    use super::*;

    pub fn ctx(method: &str, uri: &str, headers: &[(&str, &str)]) -> RequestCtx {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        RequestCtx {
            request_id: "req-1".into(),
            method: method.parse().unwrap(),
            uri: uri.parse().unwrap(),
            headers: map,
            remote: None,
            started: Instant::now(),
            route: None,
            upstream: None,
            body_limit: 1 << 20,
            attachments: Vec::new(),
            extensions: http::Extensions::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::ctx;
    use super::*;
    use axum::response::IntoResponse;
    use std::sync::Mutex;

    /// Records its phases in a shared log; answers locally when `reply` is set.
    struct Probe {
        tag: &'static str,
        reply: bool,
        wait: bool,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl HttpFilter for Probe {
        fn name(&self) -> &'static str {
            self.tag
        }
        fn on_request(&self, _ctx: &mut RequestCtx) -> Flow {
            self.log.lock().unwrap().push(format!("req {}", self.tag));
            if self.reply {
                Flow::Reply(http::StatusCode::TOO_MANY_REQUESTS.into_response())
            } else {
                Flow::Continue
            }
        }
        fn is_async(&self) -> bool {
            self.wait
        }
        fn on_request_async<'a>(&'a self, ctx: &'a mut RequestCtx) -> FilterFuture<'a> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                self.log.lock().unwrap().push(format!("async {}", self.tag));
                self.on_request(ctx)
            })
        }
        fn on_response(&self, _ctx: &RequestCtx, _resp: &mut Response) {
            self.log.lock().unwrap().push(format!("resp {}", self.tag));
        }
    }

    fn chain(spec: &[(&'static str, bool, bool)], log: &Arc<Mutex<Vec<String>>>) -> Chain {
        Chain::new(
            spec.iter()
                .map(|&(tag, reply, wait)| {
                    Arc::new(Probe {
                        tag,
                        reply,
                        wait,
                        log: Arc::clone(log),
                    }) as Arc<dyn HttpFilter>
                })
                .collect(),
        )
    }

    #[tokio::test]
    async fn request_in_order_response_reversed() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let c = chain(
            &[("a", false, false), ("b", false, true), ("c", false, false)],
            &log,
        );
        let mut cx = ctx("GET", "/", &[]);
        let (ran, reply) = c.request(&mut cx).await;
        assert_eq!(ran, 3);
        assert!(reply.is_none());
        let mut resp = http::StatusCode::OK.into_response();
        c.response(ran, &cx, &mut resp);
        assert_eq!(
            *log.lock().unwrap(),
            ["req a", "async b", "req b", "req c", "resp c", "resp b", "resp a"]
        );
    }

    #[tokio::test]
    async fn local_reply_stops_the_request_phase() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let c = chain(
            &[("a", false, false), ("b", true, false), ("c", false, false)],
            &log,
        );
        let mut cx = ctx("GET", "/", &[]);
        let (ran, reply) = c.request(&mut cx).await;
        assert_eq!(ran, 2);
        let mut resp = reply.expect("b answers");
        assert_eq!(resp.status(), http::StatusCode::TOO_MANY_REQUESTS);
        c.response(ran, &cx, &mut resp);
        assert_eq!(
            *log.lock().unwrap(),
            ["req a", "req b", "resp b", "resp a"],
            "c never runs; b and a see the reply"
        );
    }
}

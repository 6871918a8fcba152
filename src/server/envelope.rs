//! The fixed middleware envelope every request passes through, outermost first: request id
//! (taken from `x-request-id` or generated, and echoed on the response), a tracing span, and a
//! panic catcher that answers a structured 500. Body limits and deadlines are per route and live
//! in the handler.

use super::handler::handle;
use super::Shared;
use crate::error::GatewayError;
use axum::body::Body;
use axum::response::Response;
use axum::Router;
use http::{HeaderValue, Request};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

/// The request-id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Generates request ids: a per-process random prefix and a counter (cheap and unique).
/// With `enabled` false (`generate_request_id: false`) only client-sent ids are used.
#[derive(Clone)]
struct IdGen {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
    enabled: bool,
}

impl IdGen {
    fn new(enabled: bool) -> Self {
        IdGen {
            prefix: format!("{:08x}", rand::random::<u32>()).into(),
            next: Arc::new(AtomicU64::new(1)),
            enabled,
        }
    }
}

impl MakeRequestId for IdGen {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        if !self.enabled {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    tracing::error!(panic = what, "request handler panicked");
    GatewayError::Internal {
        reason: "the gateway hit an internal fault".into(),
    }
    .into_response_with("")
}

/// The application for one listener: envelope + fallback handler bound to `listener` (an index
/// into the runtime's listeners). `generate_ids` is the listener's `generate_request_id`.
pub fn app(shared: Arc<Shared>, listener: usize, generate_ids: bool) -> Router {
    let header = http::HeaderName::from_static(REQUEST_ID);
    Router::new()
        .fallback(move |req: Request<Body>| handle(Arc::clone(&shared), listener, req))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(header.clone()))
        .layer(SetRequestIdLayer::new(header, IdGen::new(generate_ids)))
}

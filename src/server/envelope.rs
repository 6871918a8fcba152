//! The fixed envelope every request passes through, as one hyper service per connection: the
//! request id (taken from `x-request-id` or generated, and echoed on the response), a tracing
//! span, and a panic catcher that answers a structured 500. Body limits and deadlines are per
//! route and live in the handler. It is written out by hand rather than stacked from tower
//! layers: this is the per-request hot path, and each layer cost a boxed future and a copy.

use super::handler::handle;
use super::Shared;
use crate::error::GatewayError;
use axum::body::Body;
use axum::response::Response;
use futures_util::FutureExt;
use http::{HeaderValue, Request};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::Instrument;

/// The request-id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Generates request ids: a per-process random prefix and a counter in hex (cheap and unique).
/// With `enabled` false (`generate_request_id: false`) only client-sent ids are used.
#[derive(Clone)]
struct IdGen {
    prefix: [u8; 8],
    next: Arc<AtomicU64>,
    enabled: bool,
}

impl IdGen {
    fn new(enabled: bool) -> Self {
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(format!("{:08x}", rand::random::<u32>()).as_bytes());
        IdGen {
            prefix,
            next: Arc::new(AtomicU64::new(1)),
            enabled,
        }
    }

    /// The next id, `{prefix}-{counter in hex}`, or `None` when generation is off.
    fn next(&self) -> Option<HeaderValue> {
        if !self.enabled {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut buf = [0u8; 8 + 1 + 16];
        buf[..8].copy_from_slice(&self.prefix);
        buf[8] = b'-';
        let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        for i in 0..digits {
            let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
            buf[9 + i] = b"0123456789abcdef"[nibble as usize];
        }
        HeaderValue::from_bytes(&buf[..9 + digits]).ok()
    }
}

/// Runs the handler; a panic in it becomes a structured 500 with the request id (the
/// connection stays usable). The handler comes boxed, so the wrappers move a pointer rather
/// than its large state.
async fn guarded<F: Future<Output = Response>>(handler: Pin<Box<F>>, request_id: &str) -> Response {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(resp) => resp,
        Err(err) => {
            let what = err
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| err.downcast_ref::<&str>().copied())
                .unwrap_or("panic");
            tracing::error!(panic = what, "request handler panicked");
            GatewayError::Internal {
                reason: "the gateway hit an internal fault".into(),
            }
            .into_response_with(request_id)
        }
    }
}

/// The entry point of one listener: the envelope around the handler bound to `listener` (an
/// index into the runtime's listeners). Cheap to clone; [`App::connection`] gives the service
/// for one accepted connection.
#[derive(Clone)]
pub struct App {
    shared: Arc<Shared>,
    listener: usize,
    ids: IdGen,
}

/// The listener's application. `generate_ids` is the listener's `generate_request_id`.
pub fn app(shared: Arc<Shared>, listener: usize, generate_ids: bool) -> App {
    App {
        shared,
        listener,
        ids: IdGen::new(generate_ids),
    }
}

impl App {
    /// The service for a connection from `remote`.
    pub fn connection(&self, remote: SocketAddr) -> ConnService {
        ConnService {
            app: self.clone(),
            remote,
        }
    }

    /// Serves one request through the whole envelope.
    async fn serve(&self, req: Request<Body>, remote: Option<SocketAddr>) -> Response {
        let mut req = req;
        let id = match req.headers().get(REQUEST_ID) {
            Some(v) => Some(v.clone()),
            None => self.ids.next().inspect(|v| {
                req.headers_mut().insert(REQUEST_ID, v.clone());
            }),
        };
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or(""),
        );
        let handler = Box::pin(handle(Arc::clone(&self.shared), self.listener, remote, req));
        let id_text = id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut resp = guarded(handler, id_text).instrument(span).await;
        if let Some(id) = id {
            resp.headers_mut().entry(REQUEST_ID).or_insert(id);
        }
        resp
    }
}

/// The envelope as the hyper service of one connection.
#[derive(Clone)]
pub struct ConnService {
    app: App,
    remote: SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let app = self.app.clone();
        let remote = self.remote;
        Box::pin(async move { Ok(app.serve(req.map(Body::new), Some(remote)).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_prefix_dash_hex_counter() {
        let ids = IdGen::new(true);
        let prefix = std::str::from_utf8(&ids.prefix).unwrap().to_string();
        assert_eq!(ids.next().unwrap(), format!("{prefix}-1").as_str());
        ids.next.store(0xabc, Ordering::Relaxed);
        assert_eq!(ids.next().unwrap(), format!("{prefix}-abc").as_str());
        ids.next.store(u64::MAX, Ordering::Relaxed);
        assert_eq!(
            ids.next().unwrap(),
            format!("{prefix}-ffffffffffffffff").as_str()
        );
        assert!(IdGen::new(false).next().is_none());
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_structured_500_with_the_request_id() {
        let resp = guarded(
            Box::pin(async {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                Response::new(Body::empty())
            }),
            "id-7",
        )
        .await;
        assert_eq!(resp.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "INTERNAL", "{v}");
        assert_eq!(v["request_id"], "id-7", "{v}");

        let ok = guarded(Box::pin(async { Response::new(Body::from("fine")) }), "x").await;
        assert_eq!(ok.status(), http::StatusCode::OK);
    }
}

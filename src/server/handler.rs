//! The one fallback handler: loads the current runtime once, runs the listener's filter chain
//! (request phase in order, local replies allowed), hands the request to the terminal step, and
//! runs the response phase in reverse. Every error becomes a response here.

use super::envelope::REQUEST_ID;
use super::Shared;
use crate::error::GatewayError;
use crate::filter::RequestCtx;
use axum::body::Body;
use axum::response::Response;
use http::Request;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Handles one request on listener `listener`.
pub async fn handle(
    shared: Arc<Shared>,
    listener: usize,
    remote: Option<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let started = Instant::now();
    let runtime = shared.runtime.load_full();
    let (parts, body) = req.into_parts();
    let request_id = parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some(site) = runtime.listeners.get(listener) else {
        return GatewayError::Internal {
            reason: format!("listener {listener} has no runtime"),
        }
        .into_response_with(&request_id);
    };
    let mut ctx = RequestCtx {
        request_id,
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        remote,
        started,
        route: None,
        upstream: None,
        body_limit: site.max_body,
        attachments: Vec::new(),
        extensions: http::Extensions::new(),
    };
    if let Some(t) = &runtime.tracer {
        ctx.extensions.insert(t.begin(&ctx.headers));
    }
    let (ran, reply) = site.chain.request(&mut ctx).await;
    let mut stats = None;
    let mut resp = match reply {
        Some(resp) => resp,
        None => {
            match crate::call::invoke::serve(&runtime, site, &mut ctx, body, &mut stats).await {
                Ok(resp) => resp,
                Err(err) => {
                    if err.status().is_server_error() {
                        tracing::warn!(error = %err, "request failed");
                    }
                    err.into_response_with(&ctx.request_id)
                }
            }
        }
    };
    site.chain.response(ran, &ctx, &mut resp);
    if let Some(server) = &site.server_header {
        resp.headers_mut()
            .insert(http::header::SERVER, server.clone());
    }
    stats
        .as_deref()
        .unwrap_or(&site.unmatched)
        .observe(resp.status().as_u16(), started.elapsed());
    if let Some(t) = &runtime.tracer {
        let done = crate::otel::Finished {
            listener: &site.name,
            method: ctx.method.as_str(),
            path: ctx.uri.path(),
            route: ctx.route.as_deref(),
            status: resp.status().as_u16(),
            request_id: &ctx.request_id,
            upstream: ctx.upstream.as_deref(),
        };
        t.end(&mut ctx.extensions, &done);
    }
    resp
}

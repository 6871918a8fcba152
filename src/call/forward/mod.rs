//! The terminal step of forwarding routes (`requestType: http` and `triple-json`): the
//! request, with its body streamed, goes to an endpoint the route's cluster picks, over pooled
//! keep-alive HTTP/1.1 connections; the response streams back. Connect failures fail over to
//! another endpoint (nothing was sent); the route deadline bounds the wait for the response
//! headers. No transcoding happens in either direction.

mod conn;
mod headers;
mod target;

pub use conn::{HttpEndpoint, PooledBody, SendError};

use crate::error::GatewayError;
use crate::filter::RequestCtx;
use crate::runtime::CallPlan;
use crate::upstream::balance::hash_key;
use crate::upstream::{Client, ConnectionPool};
use axum::body::Body;
use axum::response::Response;
use http::{header, HeaderValue, Method, Request};
use http_body_util::Limited;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tianlu_api_config::{Backend, Forward, ForwardKind, HashKey, MappingErrorKind, Params, Route};
use tianlu_protocol::dubbo::CallError;

/// What a forwarding route needs besides its [`CallPlan`], compiled at load time.
pub struct ForwardPlan {
    /// The route's forwarding settings.
    pub forward: Forward,
    /// `triple-json`: the interface and method called, and the service version and group.
    pub interface: String,
    /// See `interface`.
    pub method: String,
    /// `tri-service-version`.
    pub version: Option<HeaderValue>,
    /// `tri-service-group`.
    pub group: Option<HeaderValue>,
    /// The listener serves HTTPS (for `X-Forwarded-Proto`).
    pub https: bool,
    /// Where the HTTP side of `tri` endpoints is pooled.
    pub pool: Arc<ConnectionPool>,
    /// The `Host` sent upstream for a direct `host`/`url` (the name as configured); cluster
    /// endpoints get their address.
    pub host: Option<HeaderValue>,
    /// A response phase of the request's filter chains reads the request headers: they are
    /// copied upstream rather than moved.
    pub keep_headers: bool,
}

impl ForwardPlan {
    /// The plan of `route` if it forwards; `Err` names what cannot be sent as a header.
    /// `keep_headers`: see [`ForwardPlan::keep_headers`].
    pub fn of(
        route: &Route,
        https: bool,
        pool: &Arc<ConnectionPool>,
        keep_headers: bool,
    ) -> Result<Option<ForwardPlan>, String> {
        let Some(forward) = &route.forward else {
            return Ok(None);
        };
        let header = |name: &str, v: &Option<String>| {
            v.as_deref()
                .map(|v| {
                    HeaderValue::from_str(v)
                        .map_err(|_| format!("{name} {v:?} cannot be sent as a header"))
                })
                .transpose()
        };
        Ok(Some(ForwardPlan {
            forward: forward.clone(),
            interface: route.target.interface.clone().unwrap_or_default(),
            method: route.target.method.clone().unwrap_or_default(),
            version: header("version", &route.target.version)?,
            group: header("group", &route.target.group)?,
            https,
            pool: Arc::clone(pool),
            host: match &route.target.backend {
                Backend::Direct { host, port, .. } if host.contains(':') => {
                    HeaderValue::from_str(&format!("[{host}]:{port}")).ok()
                }
                Backend::Direct { host, port, .. } => {
                    HeaderValue::from_str(&format!("{host}:{port}")).ok()
                }
                Backend::Cluster(_) | Backend::Registry => None,
            },
            keep_headers,
        }))
    }
}

fn inbound_error(e: tianlu_api_config::MappingError) -> GatewayError {
    match e.kind {
        MappingErrorKind::NotAllowed => GatewayError::Forbidden {
            reason: format!("{}: {}", e.field, e.reason),
        },
        _ => GatewayError::bad_request(e.field, e.reason),
    }
}

/// Builds the upstream request (without the `Host`, set per attempt).
fn upstream_request(
    route: &Route,
    fwd: &ForwardPlan,
    params: &Params,
    ctx: &mut RequestCtx,
    body: Body,
) -> Result<Request<Body>, GatewayError> {
    let query = ctx.uri.query();
    let (method, target) = match fwd.forward.kind {
        ForwardKind::Http => (
            ctx.method.clone(),
            target::http_target(&fwd.forward, ctx.uri.path(), query, params),
        ),
        ForwardKind::TripleJson => {
            let method = match &fwd.forward.method_param {
                None => fwd.method.as_str(),
                Some(name) => {
                    let m = params.get(name).unwrap_or("");
                    let java_name = m
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                        && m.chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
                    if !java_name {
                        return Err(GatewayError::bad_request(
                            format!("uri.{name}"),
                            format!("{m:?} is not a Java method name"),
                        ));
                    }
                    m
                }
            };
            (
                Method::POST,
                target::triple_target(&fwd.interface, method, query),
            )
        }
    };
    let mut headers = if fwd.keep_headers {
        ctx.headers.clone()
    } else {
        std::mem::take(&mut ctx.headers)
    };
    headers::strip_hop_by_hop(&mut headers);
    // The listener already answered `Expect: 100-continue`; the body is sent right away.
    headers.remove(header::EXPECT);
    let host = headers.remove(header::HOST).or_else(|| {
        ctx.uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    headers::add_forwarded(&mut headers, ctx.remote, fwd.https, host.as_ref());
    if fwd.forward.kind == ForwardKind::TripleJson {
        if let Some(v) = &fwd.version {
            headers.insert("tri-service-version", v.clone());
        }
        if let Some(g) = &fwd.group {
            headers.insert("tri-service-group", g.clone());
        }
        headers
            .entry(header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/json"));
    }
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > ctx.body_limit {
            return Err(GatewayError::PayloadTooLarge {
                limit: ctx.body_limit,
            });
        }
    }
    let body = Body::new(Limited::new(body, ctx.body_limit));
    let mut req = Request::builder()
        .method(method)
        .uri(target)
        .body(body)
        .map_err(|e| GatewayError::bad_request("path", format!("cannot forward: {e}")))?;
    *req.headers_mut() = headers;
    debug_assert!(route.forward.is_some());
    Ok(req)
}

/// Forwards the request of a matched, enabled forwarding route.
pub async fn serve(
    route: &Route,
    plan: &CallPlan,
    fwd: &ForwardPlan,
    params: &Params,
    ctx: &mut RequestCtx,
    body: Body,
) -> Result<Response, GatewayError> {
    let query = ctx.uri.query().unwrap_or("");
    let headers = &ctx.headers;
    let header_of = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    route
        .check_inbound(query, &header_of)
        .map_err(inbound_error)?;
    let hash = match &plan.hash_key {
        Some(HashKey::Header(name)) => header_of(name).map(|v| hash_key(v.as_bytes())),
        _ => None,
    };
    let mut req = upstream_request(route, fwd, params, ctx, body)?;

    let deadline = Instant::now() + plan.deadline;
    let snapshot = plan.cluster.snapshot();
    let mut tried: Vec<usize> = Vec::new();
    let mut failovers_left = plan.retries;
    // The cluster's retry budget caps failovers here as for Dubbo calls.
    plan.retry_budget.record_request();
    loop {
        let Some(i) = snapshot.pick(hash, &tried) else {
            return Err(GatewayError::NoProvider {
                cluster: plan.cluster.name.clone(),
            });
        };
        let endpoint = &snapshot.endpoints[i];
        ctx.upstream = Some(endpoint.id.clone());
        let http = match (&endpoint.client, fwd.forward.kind) {
            (Client::Http(h), ForwardKind::Http) => h.clone(),
            (Client::Triple(_), ForwardKind::TripleJson) => fwd.pool.http(endpoint.addr),
            (other, _) => {
                return Err(GatewayError::Internal {
                    reason: format!(
                        "endpoint {} speaks {:?}, not what route {} forwards to",
                        endpoint.id,
                        other.protocol(),
                        plan.label
                    ),
                })
            }
        };
        if let Some(v) = fwd.host.clone().or_else(|| endpoint.host.clone()) {
            req.headers_mut().insert(header::HOST, v);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(GatewayError::Timeout {
                after: plan.deadline,
            });
        }
        match tokio::time::timeout(remaining, http.send(req)).await {
            Ok(Ok(resp)) => {
                endpoint.stats.ok.fetch_add(1, Ordering::Relaxed);
                snapshot.record(i, false);
                let (mut parts, incoming) = resp.into_parts();
                headers::strip_hop_by_hop(&mut parts.headers);
                return Ok(Response::from_parts(parts, Body::new(incoming)));
            }
            Ok(Err(failed)) => {
                endpoint.stats.errors.fetch_add(1, Ordering::Relaxed);
                snapshot.record(i, true);
                tried.push(i);
                match (failed.error, failed.request) {
                    (SendError::Connect { addr, reason }, Some(r)) => {
                        if failovers_left > 0
                            && tried.len() < snapshot.endpoints.len()
                            && plan.retry_budget.try_retry()
                        {
                            failovers_left -= 1;
                            tracing::debug!(%addr, %reason, "failing over to another endpoint");
                            req = r;
                            continue;
                        }
                        return Err(GatewayError::Upstream {
                            endpoint: endpoint.id.to_string(),
                            source: CallError::Connect { addr, reason },
                        });
                    }
                    (e, _) => {
                        return Err(GatewayError::BadResponse {
                            reason: e.to_string(),
                        })
                    }
                }
            }
            Err(_) => {
                endpoint.stats.errors.fetch_add(1, Ordering::Relaxed);
                snapshot.record(i, true);
                return Err(GatewayError::Timeout {
                    after: plan.deadline,
                });
            }
        }
    }
}

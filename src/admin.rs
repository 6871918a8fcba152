//! The admin listener (off unless `admin` is configured; loopback by default, and a
//! non-loopback address requires a token): `/healthz` (the process is up), `/readyz` (every
//! listener is bound and the runtime is loaded), `/config` (the configuration in force: summary,
//! routes, clusters, last reload outcome) and `POST /reload`. When a token is configured,
//! `/config` and `/reload` require `Authorization: Bearer <token>`.

use crate::metrics::EndpointGauges;
use crate::reload::Reloader;
use crate::server::Shared;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Admin state.
#[derive(Clone)]
pub struct Admin {
    shared: Arc<Shared>,
    reloader: Arc<Reloader>,
    ready: Arc<AtomicBool>,
    token: Option<Arc<str>>,
}

impl Admin {
    /// Admin endpoints over `shared`; `ready` flips once listeners are bound.
    pub fn new(
        shared: Arc<Shared>,
        reloader: Arc<Reloader>,
        ready: Arc<AtomicBool>,
        token: Option<String>,
    ) -> Self {
        Admin {
            shared,
            reloader,
            ready,
            token: token.map(Into::into),
        }
    }

    /// The admin router.
    pub fn router(self) -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/config", get(config))
            .route("/metrics", get(metrics))
            .route("/reload", axum::routing::post(reload))
            .with_state(self)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        match &self.token {
            None => true,
            Some(t) => headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|v| v == &**t),
        }
    }
}

async fn readyz(State(admin): State<Admin>) -> Response {
    if admin.ready.load(Ordering::Relaxed) {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting").into_response()
    }
}

async fn config(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if !admin.authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, "admin token required").into_response();
    }
    let rt = admin.shared.runtime.load_full();
    let listeners: Vec<_> = rt
        .listeners
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "filters": l.chain.names(),
                "routes": l.routes.routes().iter().map(|r| r.label()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut clusters: Vec<_> = rt
        .clusters
        .values()
        .map(|c| json!({"name": c.name, "endpoints": c.addresses().iter().map(|a| a.to_string()).collect::<Vec<_>>()}))
        .collect();
    clusters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Json(json!({
        "summary": rt.summary,
        "listeners": listeners,
        "clusters": clusters,
        "reload": admin.reloader.status_json(),
    }))
    .into_response()
}

async fn metrics(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if !admin.authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, "admin token required").into_response();
    }
    let rt = admin.shared.runtime.load_full();
    let mut gauges = std::collections::BTreeMap::new();
    for c in rt.clusters.values() {
        for ep in &c.snapshot().endpoints {
            gauges.insert(
                (c.name.clone(), ep.id.to_string()),
                EndpointGauges {
                    in_flight: ep.client.in_flight(),
                    connected: ep.client.is_connected(),
                    ejected: ep.outlier.is_ejected(),
                },
            );
        }
    }
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        admin.shared.metrics.render(&gauges),
    )
        .into_response()
}

async fn reload(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if !admin.authorized(&headers) {
        return (StatusCode::UNAUTHORIZED, "admin token required").into_response();
    }
    match admin.reloader.reload().await {
        Ok(summary) => Json(json!({"reloaded": true, "summary": summary})).into_response(),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"reloaded": false, "error": error})),
        )
            .into_response(),
    }
}

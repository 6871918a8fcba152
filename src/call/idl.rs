//! Protobuf IDL routes (`requestType: grpc`) at request time. [`IdlPlan`] is a route's compiled
//! IDL call: the method resolved at load time from protosets, or resolved at first use from
//! descriptors the provider serves through gRPC server reflection ([`ReflectionCache`], one
//! entry per cluster and service, dropped and fetched again after a failure that may mean stale
//! descriptors). [`call_idl_route`] turns the request into the input message (the JSON body, or
//! the value mapped with `mapTo: 0`), calls a Triple endpoint of the cluster through the shared
//! pick loop (deadline, failover, balancing) and answers with the reply in proto3 JSON.

use crate::call::invoke::{call_cluster, mapping_error, read_json_body, AttemptError};
use crate::error::GatewayError;
use crate::filter::RequestCtx;
use crate::runtime::CallPlan;
use crate::upstream::balance::hash_key;
use crate::upstream::Client;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tianlu_api_config::idl::{descriptor_source, DescriptorSource};
use tianlu_api_config::{HashKey, HttpConnectionManager, MapTarget, Params, RequestView, Route};
use tianlu_protocol::dubbo::{CallError, Status};
use tianlu_protocol::triple::{
    fetch_descriptor_pool, CallMeta, DescriptorPool, IdlCall, IdlCallError, IdlError, JsonOptions,
    ReflectionError, TripleEndpoint,
};

/// Every protoset file the configuration reads (listeners' `dubboProxyConfig.protoset` and IDL
/// routes' `protoset`), once each: a change to one of them reloads like a change to conf.yaml.
pub fn protoset_files(config: &tianlu_api_config::Config) -> Vec<std::path::PathBuf> {
    let listeners = config
        .bootstrap
        .listeners
        .iter()
        .flat_map(|l| l.hcm.dubbo_proxy().protoset);
    let routes = config
        .apis
        .iter()
        .flat_map(|a| &a.routes)
        .filter_map(|r| r.target.idl.as_ref())
        .flat_map(|i| i.protosets.iter().cloned());
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for p in listeners.chain(routes) {
        if !files.contains(&p.path) {
            files.push(p.path);
        }
    }
    files
}

/// Descriptors fetched by reflection, per cluster and service, shared by the routes of one
/// runtime (a reload starts afresh).
#[derive(Default)]
pub struct ReflectionCache {
    entries: Mutex<HashMap<(String, String), Arc<Reflected>>>,
}

impl ReflectionCache {
    fn entry(&self, cluster: &str, service: &str) -> Arc<Reflected> {
        let mut map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            map.entry((cluster.to_string(), service.to_string()))
                .or_default(),
        )
    }
}

/// One cluster's descriptors for one service; `None` until fetched (or after a failure).
#[derive(Default)]
struct Reflected {
    pool: tokio::sync::Mutex<Option<DescriptorPool>>,
}

enum Source {
    /// Resolved at load time from protosets.
    Static(IdlCall),
    /// Resolved at first use from the provider's reflection service.
    Reflection(Arc<Reflected>),
}

/// A route's protobuf IDL call.
pub struct IdlPlan {
    service: String,
    method: String,
    json: JsonOptions,
    source: Source,
}

impl IdlPlan {
    /// The protobuf service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The rpc.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The IDL plan of `route` (`None` unless it is a `requestType: grpc` route), with the
    /// protosets of its listener's `dubboProxyConfig`.
    pub fn build(
        route: &Route,
        hcm: &HttpConnectionManager,
        cluster: &str,
        cache: &ReflectionCache,
    ) -> Result<Option<Arc<IdlPlan>>, String> {
        let Some(idl) = &route.target.idl else {
            return Ok(None);
        };
        let service = route
            .target
            .interface
            .clone()
            .ok_or("interface: a requestType grpc route needs the protobuf service")?;
        let method = route
            .target
            .method
            .clone()
            .ok_or("method: a requestType grpc route needs the rpc name")?;
        let listener = hcm.dubbo_proxy().protoset;
        let j = idl.json;
        let json = JsonOptions {
            emit_defaults: j.emit_defaults,
            proto_field_names: j.proto_field_names,
            enums_as_numbers: j.enums_as_numbers,
            int64_as_numbers: j.int64_as_numbers,
            ignore_unknown_fields: j.ignore_unknown_fields,
        };
        let source = match descriptor_source(&idl.protosets, &listener)
            .map_err(|e| format!("protoset: {e}"))?
        {
            DescriptorSource::Protosets(pool) => Source::Static(
                IdlCall::new(&pool, &service, &method)
                    .map_err(|e| format!("method: {e}"))?
                    .with_json_options(json),
            ),
            DescriptorSource::Reflection => Source::Reflection(cache.entry(cluster, &service)),
        };
        Ok(Some(Arc::new(IdlPlan {
            service,
            method,
            json,
            source,
        })))
    }

    /// True when the descriptors come from server reflection.
    pub fn uses_reflection(&self) -> bool {
        matches!(self.source, Source::Reflection(_))
    }

    /// The method to call on `endpoint`, fetching descriptors by reflection (within `wait`) when
    /// the route has no protoset and none are cached.
    async fn resolve(
        &self,
        endpoint: &TripleEndpoint,
        wait: Duration,
    ) -> Result<IdlCall, AttemptError> {
        let cached = match &self.source {
            Source::Static(call) => return Ok(call.clone()),
            Source::Reflection(cached) => cached,
        };
        // Another call may be fetching: wait for it within this call's deadline.
        let started = Instant::now();
        let Ok(mut slot) = tokio::time::timeout(wait, cached.pool.lock()).await else {
            return Err(AttemptError::Call(CallError::Timeout { after: wait }));
        };
        let pool = match &*slot {
            Some(pool) => pool.clone(),
            None => {
                let left = wait.saturating_sub(started.elapsed());
                let pool = fetch_descriptor_pool(endpoint, &[self.service.as_str()], left)
                    .await
                    .map_err(reflection_error)?;
                *slot = Some(pool.clone());
                pool
            }
        };
        match IdlCall::new(&pool, &self.service, &self.method) {
            Ok(call) => Ok(call.with_json_options(self.json)),
            Err(e) => {
                // Perhaps stale: fetch again next time.
                *slot = None;
                Err(match e {
                    IdlError::Streaming(_) => AttemptError::Local(GatewayError::BadResponse {
                        reason: format!("{e} (the provider's descriptors)"),
                    }),
                    e => AttemptError::Call(CallError::Status {
                        status: Status::ServiceNotFound,
                        message: format!("{e} (descriptors from server reflection)"),
                    }),
                })
            }
        }
    }

    /// Forgets reflected descriptors, so the next call fetches them again.
    async fn invalidate(&self) {
        if let Source::Reflection(cached) = &self.source {
            *cached.pool.lock().await = None;
        }
    }
}

fn reflection_error(e: ReflectionError) -> AttemptError {
    match e {
        // Say that the status answered the reflection request (e.g. no reflection service).
        ReflectionError::Call(CallError::Status { status, message }) => {
            AttemptError::Call(CallError::Status {
                status,
                message: format!("server reflection: {message}"),
            })
        }
        ReflectionError::Call(e) => AttemptError::Call(e),
        ReflectionError::Server { .. } => AttemptError::Call(CallError::Status {
            status: Status::ServiceNotFound,
            message: e.to_string(),
        }),
        other => AttemptError::Local(GatewayError::BadResponse {
            reason: other.to_string(),
        }),
    }
}

/// Serves a matched `requestType: grpc` route: inbound checks, the input message, the call
/// through the cluster, the reply as JSON.
pub(crate) async fn call_idl_route(
    route: &Route,
    plan: &CallPlan,
    idl: &IdlPlan,
    params: &Params,
    ctx: &mut RequestCtx,
    body: Body,
) -> Result<Response, GatewayError> {
    let query = ctx.uri.query().unwrap_or("");
    let headers = &ctx.headers;
    let header_of = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    route
        .check_inbound(query, &header_of)
        .map_err(mapping_error)?;
    let json_body = read_json_body(body, ctx.body_limit, true).await?;
    let mapped_message = route.mapping.maps(MapTarget::Arg(0));
    let (message, field_prefix, group, version) = if route.mapping.params().is_empty() {
        (
            json_body.unwrap_or(Json::Null),
            "requestBody".to_string(),
            route.target.group.clone(),
            route.target.version.clone(),
        )
    } else {
        let extracted = route
            .mapping
            .extract(&RequestView {
                params,
                query,
                headers: &header_of,
                body: json_body.as_ref(),
            })
            .map_err(mapping_error)?;
        let (message, prefix) = match extracted.args.into_iter().next() {
            Some(arg) => (arg.value, arg.source),
            // No `mapTo: 0` (only opt.group / opt.version): the body is the message.
            None => (
                json_body.clone().unwrap_or(Json::Null),
                "requestBody".into(),
            ),
        };
        (
            message,
            prefix,
            extracted.opt.group.or_else(|| route.target.group.clone()),
            extracted
                .opt
                .version
                .or_else(|| route.target.version.clone()),
        )
    };
    if mapped_message && !(message.is_object() || message.is_null()) {
        return Err(GatewayError::bad_request(
            field_prefix,
            "the rpc's input must be a JSON object (the message)",
        ));
    }

    let hash = plan.hash_key.as_ref().and_then(|k| match k {
        HashKey::Argument(0) => Some(hash_key(message.to_string().as_bytes())),
        HashKey::Argument(_) => None,
        HashKey::Header(name) => header_of(name).map(|v| hash_key(v.as_bytes())),
    });

    let mut attachments = vec![("tianlu.request_id".to_string(), ctx.request_id.clone())];
    attachments.extend(ctx.attachments.iter().cloned());
    for name in ["traceparent", "tracestate"] {
        if let Some(v) = ctx.headers.get(name).and_then(|v| v.to_str().ok()) {
            attachments.push((name.to_string(), v.to_string()));
        }
    }
    let meta = CallMeta {
        version,
        group,
        attachments,
    };

    let (message, meta, field_prefix) = (&message, &meta, &field_prefix);
    let target = crate::otel::CallTarget {
        service: idl.service(),
        method: idl.method(),
        group: meta.group.as_deref(),
        version: meta.version.as_deref(),
    };
    let reply = call_cluster(
        plan,
        (&plan.cluster, &plan.retry_budget),
        target,
        hash,
        ctx,
        |client: Client, remaining| async move {
            let started = Instant::now();
            let Some(endpoint) = client.triple() else {
                return Err(AttemptError::Local(GatewayError::Internal {
                    reason: format!(
                        "endpoint {} speaks dubbo; requestType grpc needs tri endpoints",
                        client.addr()
                    ),
                }));
            };
            let call = idl.resolve(endpoint, remaining).await?;
            let left = remaining.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(AttemptError::Call(CallError::Timeout { after: remaining }));
            }
            // Path parameters named like a field of the input message set that field.
            let mut bound_message;
            let (message, bound) = if params.is_empty() {
                (message, Vec::new())
            } else {
                bound_message = message.clone();
                let bound = call.bind_fields(&mut bound_message, params.iter());
                (&bound_message, bound)
            };
            match endpoint.call_idl(&call, message, meta, left).await {
                Ok(reply) => Ok(reply.json),
                Err(IdlCallError::Request(IdlError::InvalidJson { field, reason, .. })) => {
                    let top = field.split(['.', '[']).next().unwrap_or_default();
                    let field = if let Some((param, _)) = bound.iter().find(|(_, f)| f == top) {
                        format!("uri.{param}")
                    } else if field.is_empty() {
                        field_prefix.clone()
                    } else {
                        format!("{field_prefix}.{field}")
                    };
                    Err(AttemptError::Local(GatewayError::BadRequest {
                        field,
                        reason,
                    }))
                }
                Err(IdlCallError::Request(e)) => Err(AttemptError::Local(
                    GatewayError::bad_request(field_prefix.clone(), e.to_string()),
                )),
                Err(IdlCallError::Call(e)) => {
                    if matches!(
                        e,
                        CallError::Status {
                            status: Status::ServiceNotFound,
                            ..
                        }
                    ) {
                        idl.invalidate().await;
                    }
                    Err(AttemptError::Call(e))
                }
                Err(IdlCallError::Reply(e)) => {
                    idl.invalidate().await;
                    Err(AttemptError::Local(GatewayError::BadResponse {
                        reason: e.to_string(),
                    }))
                }
            }
        },
    )
    .await?;

    let body = serde_json::to_vec(&reply).map_err(|e| GatewayError::Internal {
        reason: e.to_string(),
    })?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflection_entries_are_shared_per_cluster_and_service() {
        let cache = ReflectionCache::default();
        let a = cache.entry("c1", "pkg.S");
        assert!(Arc::ptr_eq(&a, &cache.entry("c1", "pkg.S")));
        assert!(!Arc::ptr_eq(&a, &cache.entry("c2", "pkg.S")));
        assert!(!Arc::ptr_eq(&a, &cache.entry("c1", "pkg.T")));
    }

    #[test]
    fn reflection_errors_keep_failover_for_transport_failures() {
        let connect = reflection_error(ReflectionError::Call(CallError::Connect {
            addr: "127.0.0.1:1".parse().unwrap(),
            reason: "refused".into(),
        }));
        assert!(matches!(
            connect,
            AttemptError::Call(CallError::Connect { .. })
        ));
        let server = reflection_error(ReflectionError::Server {
            code: 5,
            request: "symbol x.Y".into(),
            message: "not found".into(),
        });
        assert!(matches!(
            server,
            AttemptError::Call(CallError::Status {
                status: Status::ServiceNotFound,
                ..
            })
        ));
        assert!(matches!(
            reflection_error(ReflectionError::Protocol("x".into())),
            AttemptError::Local(GatewayError::BadResponse { .. })
        ));
    }
}

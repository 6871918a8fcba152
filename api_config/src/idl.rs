//! Protobuf IDL routes (`requestType: grpc`): the protoset files a route or a listener's
//! `dubboProxyConfig` names ([`Protoset`], read and decoded while the file is loaded), the
//! route's [`IdlTarget`], and the load-time check that the service and method exist in the
//! descriptors the route will use ([`idl_problems`]). A route with no protoset anywhere takes its
//! descriptors from the provider's gRPC server reflection at first use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tianlu_protocol::triple::{load_protoset, load_protosets, DescriptorPool, IdlCall, IdlError};

use crate::api::ApiConfig;
use crate::bootstrap::filter::{resolve, HttpFilterConfig};
use crate::bootstrap::Bootstrap;
use crate::error::Problem;
use crate::yaml::reader::{Ctx, MapView};

/// One protoset file (`FileDescriptorSet` bytes, as `protoc --descriptor_set_out` writes them),
/// read at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protoset {
    /// The file, resolved against the folder of the file that names it.
    pub path: PathBuf,
    /// Its bytes (a valid descriptor set).
    pub bytes: Arc<[u8]>,
}

/// The IDL side of a `requestType: grpc` route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdlTarget {
    /// The route's own `protoset` files (the listener's `dubboProxyConfig.protoset` files are
    /// added to them). With none on either, descriptors come from server reflection.
    pub protosets: Vec<Protoset>,
    /// `protobufJson`: how JSON maps to and from the messages.
    pub json: ProtobufJson,
}

/// `integrationRequest.protobufJson` of an IDL route. All `false` by default: the canonical
/// proto3 JSON mapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProtobufJson {
    /// `emitDefaults`: write fields that hold their default value (`0`, `""`, `[]`).
    pub emit_defaults: bool,
    /// `protoFieldNames`: write the `.proto` field names instead of lowerCamel.
    pub proto_field_names: bool,
    /// `enumsAsNumbers`: write enums as numbers instead of names.
    pub enums_as_numbers: bool,
    /// `int64AsNumbers`: write 64-bit integers as JSON numbers instead of strings.
    pub int64_as_numbers: bool,
    /// `ignoreUnknownFields`: drop request fields the message does not have instead of
    /// answering 400.
    pub ignore_unknown_fields: bool,
}

/// Where an IDL route's descriptors come from.
#[derive(Debug, Clone)]
pub enum DescriptorSource {
    /// Protoset files (route and listener), decoded into one pool.
    Protosets(DescriptorPool),
    /// No protoset anywhere: the provider's gRPC server reflection, at first use.
    Reflection,
}

/// The descriptors for a route's `protoset` files plus its listener's.
pub fn descriptor_source(
    route: &[Protoset],
    listener: &[Protoset],
) -> Result<DescriptorSource, IdlError> {
    if route.is_empty() && listener.is_empty() {
        return Ok(DescriptorSource::Reflection);
    }
    // The route's files first: a file (by name) already in the pool is not replaced, so the
    // route's version of a file wins over the listener's.
    let sets: Vec<&[u8]> = route
        .iter()
        .chain(listener)
        .map(|p| p.bytes.as_ref())
        .collect();
    load_protosets(&sets).map(DescriptorSource::Protosets)
}

/// Reads `key` (one path or a list) of `m`: each file resolved against `base`, read and decoded.
/// Unreadable or undecodable files are problems at `key[i]`.
pub(crate) fn read_protosets(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    key: &'static str,
    base: &Path,
) -> Vec<Protoset> {
    let Some(names) = m.string_list(cx, key) else {
        return Vec::new();
    };
    let line = m.key_line(key);
    let path = m.child(key);
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let name = name.trim();
        if name.is_empty() {
            cx.problem(line, &at, "must not be empty");
            continue;
        }
        let file = resolve(base, name);
        match std::fs::read(&file) {
            Ok(bytes) => match load_protoset(&bytes) {
                Ok(_) => out.push(Protoset {
                    path: file,
                    bytes: bytes.into(),
                }),
                Err(e) => cx.problem(
                    line,
                    &at,
                    format!("protoset {} is not usable: {e}", file.display()),
                ),
            },
            Err(e) => cx.problem(
                line,
                &at,
                format!("cannot read protoset {}: {e}", file.display()),
            ),
        }
    }
    out
}

/// Problems of IDL routes against the descriptors they will use: for each listener and each
/// `requestType: grpc` route of its api_config that has protosets (its own or the listener's),
/// the service (`interface`) and the unary method (`method`) must exist.
pub(crate) fn idl_problems(bootstrap: &Bootstrap, apis: &[ApiConfig]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for l in &bootstrap.listeners {
        let Some(path) = l.hcm.api_config_path() else {
            continue;
        };
        let Some(api) = apis.iter().find(|a| a.file == path) else {
            continue;
        };
        let listener_sets: Vec<Protoset> = l
            .hcm
            .http_filters
            .iter()
            .filter_map(|f| match &f.config {
                HttpFilterConfig::DubboProxy(d) => Some(d.protoset.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        for r in &api.routes {
            let Some(idl) = &r.target.idl else {
                continue;
            };
            let problem = |key: &str, message: String| Problem {
                file: api.file.clone(),
                line: Some(r.source.line).filter(|l| *l > 0),
                key_path: format!("{}.integrationRequest.{key}", r.source.key_path),
                route: Some(r.label()),
                message,
            };
            let pool = match descriptor_source(&idl.protosets, &listener_sets) {
                Ok(DescriptorSource::Protosets(pool)) => pool,
                Ok(DescriptorSource::Reflection) => continue,
                Err(e) => {
                    problems.push(problem(
                        "protoset",
                        format!(
                            "the protosets of listener {} and this route do not link: {e}",
                            l.name
                        ),
                    ));
                    continue;
                }
            };
            let (Some(service), Some(method)) = (&r.target.interface, &r.target.method) else {
                continue;
            };
            match IdlCall::new(&pool, service, method) {
                Ok(_) => {}
                Err(e @ IdlError::UnknownService(_)) => {
                    let names: Vec<String> = pool
                        .services()
                        .map(|s| s.full_name().to_string())
                        .filter(|n| !n.starts_with("google.protobuf."))
                        .collect();
                    problems.push(problem(
                        "interface",
                        format!(
                            "{e} in the protosets (services: {})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    ));
                }
                Err(e @ IdlError::UnknownMethod { .. }) => {
                    let methods: Vec<String> = pool
                        .get_service_by_name(service)
                        .or_else(|| pool.services().find(|s| s.name() == service.as_str()))
                        .map(|s| s.methods().map(|m| m.name().to_string()).collect())
                        .unwrap_or_default();
                    problems.push(problem(
                        "method",
                        format!("{e} (methods: {})", methods.join(", ")),
                    ));
                }
                Err(e @ IdlError::Streaming(_)) => {
                    problems.push(problem("method", format!("{e}: IDL routes are unary")));
                }
                Err(e) => problems.push(problem("method", e.to_string())),
            }
        }
    }
    problems
}

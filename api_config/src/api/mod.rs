//! The api_config file (pixiu's keys): `name`, `description`, `resources[]` (nested, paths
//! joined, headers and timeouts inherited) with `methods[]`, validated into [`Route`]s.
//!
//! Accepted with a warning (documented pixiu no-ops): resource `id`, method `resourcePath`,
//! `inboundRequest.requestBody`, `inboundRequest.uri`, inbound parameter `type`, `definitions`.

pub mod forward;
mod idl_route;
mod integration;
pub mod route;
pub mod split;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bootstrap::filter::{HttpFilter, HttpFilterConfig};
use crate::error::{ConfigError, Warning};
use crate::path::{join_paths, PathPattern};
use crate::router::duplicate_problems;
use crate::yaml::reader::{as_bool, as_string, Ctx, MapView};
use crate::yaml::{self, Kind, Node};
use route::{Inbound, InboundParam, Route, RouteSource};

/// A loaded api_config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// The file it was read from (as given).
    pub file: PathBuf,
    /// Every route, in document order (disabled ones included).
    pub routes: Vec<Route>,
}

/// What a resource passes to its methods and child resources.
struct Inherited {
    path: String,
    headers: Vec<(String, String)>,
    timeout: Option<Duration>,
    description: Option<String>,
    /// Filters of the enclosing resources, outermost first.
    filters: Vec<HttpFilter>,
    /// The api_config file's folder, for relative paths in filter configs.
    base: PathBuf,
}

const HTTP_VERBS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY",
];

impl ApiConfig {
    /// Parses and validates api_config text; `file_name` is used in problems. Cluster names are
    /// not checked here (see `Config::load`).
    pub fn from_yaml_str(
        text: &str,
        file_name: impl AsRef<Path>,
    ) -> Result<(ApiConfig, Vec<Warning>), ConfigError> {
        let file = file_name.as_ref();
        let root = yaml::parse(text).map_err(|e| ConfigError::file(file, e.line, e.message))?;
        let mut cx = Ctx::new(file);
        let mut m = MapView::new(&mut cx, &root, "");
        let name = m.string(&mut cx, "name");
        let description = m.string(&mut cx, "description");
        m.noop(
            &mut cx,
            "definitions",
            "definitions are not used to validate requests; ignored",
        );
        for key in ["pluginFilePath", "pluginsGroup", "plugins"] {
            m.reject(&mut cx, key, "pixiu Go plugin groups are not supported (pixiu no longer reads them either); remove this key");
        }
        let mut routes = Vec::new();
        let resources = m.list(&mut cx, "resources");
        if resources.is_empty() {
            cx.problem(
                m.key_line("resources"),
                "resources",
                "at least one resource is required",
            );
        }
        let root_inherited = Inherited {
            path: String::new(),
            headers: Vec::new(),
            timeout: None,
            description: None,
            filters: Vec::new(),
            base: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        for (path, node) in resources {
            read_resource(&mut cx, node, &path, &root_inherited, &mut routes);
        }
        m.finish(&mut cx);
        cx.problems.extend(duplicate_problems(&routes));
        cx.finish(ApiConfig {
            name,
            description,
            file: file.to_path_buf(),
            routes,
        })
    }

    /// Reads and validates an api_config file.
    pub fn load(path: &Path) -> Result<(ApiConfig, Vec<Warning>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::file(path, None, format!("cannot read api_config file: {e}"))
        })?;
        ApiConfig::from_yaml_str(&text, path)
    }
}

fn read_headers(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    inherited: &[(String, String)],
) -> Vec<(String, String)> {
    let mut headers = inherited.to_vec();
    let Some(node) = m.get("headers") else {
        return headers;
    };
    let path = m.child("headers");
    match &node.kind {
        Kind::Map(entries) => {
            for e in entries {
                let value =
                    as_string(cx, &e.value, &format!("{path}.{}", e.key)).unwrap_or_default();
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&e.key));
                headers.push((e.key.clone(), value));
            }
        }
        _ => cx.problem(
            node.line,
            &path,
            format!(
                "expected a mapping of header name to value, found {}",
                node.shape()
            ),
        ),
    }
    headers
}

fn read_resource(
    cx: &mut Ctx,
    node: &Node,
    key_path: &str,
    parent: &Inherited,
    routes: &mut Vec<Route>,
) {
    let mut m = MapView::new(cx, node, key_path);
    let own_path = m.req_string(cx, "path");
    match m.string(cx, "type").as_deref() {
        None | Some("restful") | Some("") => {}
        Some(t) => cx.problem(
            m.key_line("type"),
            &m.child("type"),
            format!("unknown resource type {t:?} (only restful)"),
        ),
    }
    m.noop(
        cx,
        "id",
        "resource id is only used by pixiu's etcd admin; ignored",
    );
    let filters = read_route_filters(cx, &mut m, &parent.filters, &parent.base);
    let here = Inherited {
        filters,
        base: parent.base.clone(),
        path: join_paths(&parent.path, own_path.as_deref().unwrap_or("/")),
        timeout: m.positive_duration(cx, "timeout").or(parent.timeout),
        description: m
            .string(cx, "description")
            .or_else(|| parent.description.clone()),
        headers: read_headers(cx, &mut m, &parent.headers),
    };
    match (&own_path, PathPattern::parse(&here.path)) {
        (Some(p), _) if !p.starts_with('/') => {
            cx.problem(
                m.key_line("path"),
                &m.child("path"),
                format!("path {p:?} must start with '/'"),
            );
        }
        (Some(_), Err(e)) => cx.problem(m.key_line("path"), &m.child("path"), e),
        _ => {}
    }
    for (path, method) in m.list(cx, "methods") {
        read_method(cx, method, &path, &here, routes);
    }
    for (path, child) in m.list(cx, "resources") {
        read_resource(cx, child, &path, &here, routes);
    }
    m.finish(cx);
}

/// `filters` of a resource or method: the same filters (names and configs) as conf.yaml's
/// `http_filters`, appended to the enclosing resources' ones. The routing and terminal filters
/// (apiconfig, dubboproxy) belong to conf.yaml only.
fn read_route_filters(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    inherited: &[HttpFilter],
    base: &Path,
) -> Vec<HttpFilter> {
    let mut out = inherited.to_vec();
    for (path, node) in m.list(cx, "filters") {
        let Some(f) = crate::bootstrap::filter::read(cx, node, &path, base) else {
            continue;
        };
        match f.config {
            HttpFilterConfig::ApiConfig(_) | HttpFilterConfig::DubboProxy(_) => cx.problem(
                node.line,
                &path,
                format!(
                    "{} belongs in conf.yaml http_filters, not on a route",
                    f.name
                ),
            ),
            _ => {
                out.retain(|g| g.name != f.name);
                out.push(f);
            }
        }
    }
    out
}

fn read_inbound_params(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str) -> Vec<InboundParam> {
    let mut out = Vec::new();
    for (path, node) in m.list(cx, key) {
        let mut p = MapView::new(cx, node, path.as_str());
        let name = p.req_string(cx, "name");
        let required = p
            .get("required")
            .and_then(|n| as_bool(cx, n, &format!("{path}.required")))
            .unwrap_or(false);
        p.noop(cx, "type", "parameter types are not checked; ignored");
        p.finish(cx);
        if let Some(name) = name {
            out.push(InboundParam { name, required });
        }
    }
    out
}

fn read_inbound(cx: &mut Ctx, m: &mut MapView<'_>) -> Inbound {
    let Some(mut ib) = m.map(cx, "inboundRequest") else {
        return Inbound::default();
    };
    match ib.string(cx, "requestType").as_deref() {
        None | Some("http") | Some("") => {}
        Some(t) => cx.problem(
            ib.key_line("requestType"),
            &ib.child("requestType"),
            format!("inboundRequest.requestType must be http, found {t:?}"),
        ),
    }
    let inbound = Inbound {
        headers: read_inbound_params(cx, &mut ib, "headers"),
        query_strings: read_inbound_params(cx, &mut ib, "queryStrings"),
    };
    ib.noop(
        cx,
        "requestBody",
        "request bodies are not validated against definitions; ignored",
    );
    ib.noop(
        cx,
        "uri",
        "inboundRequest.uri is not read (path parameters come from the resource path); ignored",
    );
    ib.finish(cx);
    inbound
}

fn read_method(
    cx: &mut Ctx,
    node: &Node,
    key_path: &str,
    res: &Inherited,
    routes: &mut Vec<Route>,
) {
    let mut m = MapView::new(cx, node, key_path);
    let verb_line = m.key_line("httpVerb");
    let verb = m
        .req_string(cx, "httpVerb")
        .map(|v| v.trim().to_ascii_uppercase());
    if let Some(v) = &verb {
        if !HTTP_VERBS.contains(&v.as_str()) {
            cx.problem(
                verb_line,
                &m.child("httpVerb"),
                format!(
                    "unknown httpVerb {v:?} (use one of {})",
                    HTTP_VERBS.join(", ")
                ),
            );
        }
    }
    let method = verb.unwrap_or_else(|| "?".to_owned());
    cx.route = Some(format!("{method} {}", res.path));
    // A bad resource path was reported once, at the resource.
    let pattern = PathPattern::parse(&res.path).unwrap_or(PathPattern {
        segments: Vec::new(),
        param_names: Vec::new(),
    });
    let id = m.string(cx, "id");
    let enabled = m.bool(cx, "enable").unwrap_or(true);
    let timeout = m.positive_duration(cx, "timeout").or(res.timeout);
    let description = m
        .string(cx, "description")
        .or_else(|| res.description.clone());
    if m.bool(cx, "mock") == Some(true) {
        cx.problem(
            m.key_line("mock"),
            &m.child("mock"),
            "mock: true is not supported; answer this route with a tianlu.filter.http.mock filter in its filters",
        );
    }
    let filters = read_route_filters(cx, &mut m, &res.filters, &res.base);
    m.noop(
        cx,
        "resourcePath",
        "resourcePath is derived from the resource path; ignored",
    );
    let inbound = read_inbound(cx, &mut m);
    let ir_node = m.get("integrationRequest");
    let ir = integration::read(
        cx,
        ir_node,
        &m.child("integrationRequest"),
        m.line(),
        &res.path,
        &pattern.param_names,
        &res.base,
    );
    m.finish(cx);
    cx.route = None;
    routes.push(Route {
        id,
        method,
        path: res.path.clone(),
        enabled,
        timeout,
        description,
        headers: res.headers.clone(),
        inbound,
        target: ir.target,
        mapping: ir.mapping,
        response: ir.response,
        allow_interfaces: ir.allow_interfaces,
        allow_classes: ir.allow_classes,
        filters,
        source: RouteSource {
            file: cx.file.clone(),
            line: verb_line,
            key_path: key_path.to_owned(),
        },
        pattern,
        cluster_site: ir.cluster_site,
        forward: ir.forward,
    });
}

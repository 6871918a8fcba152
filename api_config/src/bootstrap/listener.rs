//! Listeners and their HTTP connection manager (`dgp.filter.httpconnectionmanager`): protocol,
//! TLS files, route rules (`route_config.routes`) and the `http_filters` chain.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cluster::Cluster;
use super::filter::{self, DubboProxyConfig, HttpFilter, HttpFilterConfig};
use super::route_rule::{self, RouteRule};
use super::{read_socket_address, SocketAddress};
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::{Kind, Node};

/// The network filter name of the HTTP connection manager.
pub const HTTP_CONNECTION_MANAGER: &str = "dgp.filter.httpconnectionmanager";
/// Default HCM `timeout`.
pub const DEFAULT_HCM_TIMEOUT: Duration = Duration::from_secs(10);

/// `protocol_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerProtocol {
    /// `HTTP`: HTTP/1.1 (and h2c with prior knowledge).
    Http,
    /// `HTTP2`: h2c.
    Http2,
    /// `HTTPS`: TLS with `config.tls` files; HTTP/1.1 and HTTP/2 by ALPN.
    Https,
}

/// `config.tls` (tianlu extension, HTTPS only): PEM files, resolved against the conf folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// The HTTP connection manager of a listener.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConnectionManager {
    /// `route_config.routes`; empty = every request is admitted.
    pub routes: Vec<RouteRule>,
    /// `http_filters`, in order.
    pub http_filters: Vec<HttpFilter>,
    /// `timeout` (default 10s): the whole-request deadline; caps every route timeout.
    pub timeout: Duration,
    /// `server_name`: the `Server` response header, if set.
    pub server_name: Option<String>,
    /// `generate_request_id` (default true): add `x-request-id` when the client sent none
    /// (`false` keeps the client's id only).
    pub generate_request_id: bool,
    /// `idle_timeout`: close HTTP/1.1 client connections that send no request (headers) for
    /// this long.
    pub idle_timeout: Option<Duration>,
}

impl HttpConnectionManager {
    /// The first route rule matching the request, if any.
    pub fn match_route<'h>(
        &self,
        method: &str,
        path: &str,
        headers: &dyn Fn(&str) -> Option<&'h str>,
    ) -> Option<&RouteRule> {
        self.routes
            .iter()
            .find(|r| r.matches(method, path, headers))
    }

    /// True when the request may enter the filter chain (no rules, or a rule matches).
    pub fn admits<'h>(
        &self,
        method: &str,
        path: &str,
        headers: &dyn Fn(&str) -> Option<&'h str>,
    ) -> bool {
        self.routes.is_empty() || self.routes.iter().any(|r| r.matches(method, path, headers))
    }

    /// The api_config file of the `dgp.filter.http.apiconfig` filter.
    pub fn api_config_path(&self) -> Option<&Path> {
        self.http_filters.iter().find_map(|f| match &f.config {
            HttpFilterConfig::ApiConfig(a) => Some(a.path.as_path()),
            _ => None,
        })
    }

    /// The `dynamic_adapter` of the apiconfig filter (with `dynamic: true`), if any.
    pub fn api_config_adapter(&self) -> Option<&str> {
        self.http_filters.iter().find_map(|f| match &f.config {
            HttpFilterConfig::ApiConfig(a) => a.adapter.as_deref(),
            _ => None,
        })
    }

    /// The dubboproxy settings (defaults when the filter is absent).
    pub fn dubbo_proxy(&self) -> DubboProxyConfig {
        self.http_filters
            .iter()
            .find_map(|f| match &f.config {
                HttpFilterConfig::DubboProxy(d) => Some(d.clone()),
                _ => None,
            })
            .unwrap_or(DubboProxyConfig {
                connect_timeout: filter::DEFAULT_CONNECT_TIMEOUT,
                request_timeout: filter::DEFAULT_REQUEST_TIMEOUT,
                load_balance: None,
                retries: filter::DEFAULT_RETRIES,
                registries: Vec::new(),
                protoset: Vec::new(),
                max_concurrent_streams: filter::DEFAULT_MAX_STREAMS,
            })
    }
}

/// A listener.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    /// `name`.
    pub name: String,
    /// `protocol_type` (default HTTP).
    pub protocol: ListenerProtocol,
    /// `address.socket_address` (address default 0.0.0.0).
    pub address: SocketAddress,
    /// `config.tls` (HTTPS only, required there).
    pub tls: Option<TlsFiles>,
    /// The connection manager.
    pub hcm: HttpConnectionManager,
}

fn read_hcm(
    cx: &mut Ctx,
    node: &Node,
    path: &str,
    base: &Path,
    clusters: &[Cluster],
) -> HttpConnectionManager {
    let mut c = MapView::new(cx, node, path);
    let mut routes = Vec::new();
    if let Some(mut rc) = c.map(cx, "route_config") {
        if rc.bool(cx, "dynamic") == Some(true) {
            cx.problem(
                rc.key_line("dynamic"),
                &rc.child("dynamic"),
                "dynamic routes are not supported yet",
            );
        }
        for (p, n) in rc.list(cx, "routes") {
            routes.extend(route_rule::read(cx, n, &p, clusters));
        }
        rc.finish(cx);
    }
    let mut http_filters: Vec<HttpFilter> = Vec::new();
    let filter_items = c.list(cx, "http_filters");
    for (p, n) in &filter_items {
        if let Some(f) = filter::read(cx, n, p, base) {
            if http_filters.iter().any(|x| x.name == f.name) {
                cx.problem(
                    n.line,
                    &format!("{p}.name"),
                    format!("filter {:?} appears twice", f.name),
                );
            }
            if matches!(f.config, HttpFilterConfig::ApiConfig(_))
                && http_filters
                    .iter()
                    .any(|x| matches!(x.config, HttpFilterConfig::DubboProxy(_)))
            {
                cx.problem(
                    n.line,
                    &format!("{p}.name"),
                    "dgp.filter.http.apiconfig must come before dgp.filter.http.dubboproxy",
                );
            }
            http_filters.push(f);
        }
    }
    let has_api = filter_items.iter().any(|(_, n)| {
        matches!(&n.kind, Kind::Map(e) if e.iter().any(|e| e.key == "name" && e.value.scalar_text() == Some(filter::API_CONFIG_FILTER)))
    });
    if !has_api {
        cx.problem(
            c.key_line("http_filters"),
            &c.child("http_filters"),
            format!(
                "a {} filter with a path is required",
                filter::API_CONFIG_FILTER
            ),
        );
    }
    let hcm = HttpConnectionManager {
        routes,
        http_filters,
        timeout: c.duration(cx, "timeout").unwrap_or(DEFAULT_HCM_TIMEOUT),
        server_name: c.string(cx, "server_name").filter(|s| !s.is_empty()),
        generate_request_id: c.bool(cx, "generate_request_id").unwrap_or(true),
        idle_timeout: c.duration(cx, "idle_timeout"),
    };
    if hcm.timeout.is_zero() {
        cx.problem(
            c.key_line("timeout"),
            &c.child("timeout"),
            "must be greater than 0",
        );
    }
    c.finish(cx);
    hcm
}

/// Reads one `listeners[]` entry.
pub(crate) fn read(
    cx: &mut Ctx,
    node: &Node,
    path: &str,
    base: &Path,
    clusters: &[Cluster],
) -> Option<Listener> {
    let mut m = MapView::new(cx, node, path);
    let name = m.req_string(cx, "name");
    let protocol = match m
        .string(cx, "protocol_type")
        .map(|p| p.to_ascii_uppercase())
        .as_deref()
    {
        None | Some("HTTP") => Some(ListenerProtocol::Http),
        Some("HTTP2") => Some(ListenerProtocol::Http2),
        Some("HTTPS") => Some(ListenerProtocol::Https),
        Some(p @ ("TCP" | "UDP" | "GRPC" | "TRIPLE")) => {
            cx.problem(
                m.key_line("protocol_type"),
                &m.child("protocol_type"),
                format!("protocol_type {p} is not supported (HTTP, HTTP2 or HTTPS)"),
            );
            None
        }
        Some(p) => {
            cx.problem(
                m.key_line("protocol_type"),
                &m.child("protocol_type"),
                format!("unknown protocol_type {p:?} (HTTP, HTTP2 or HTTPS)"),
            );
            None
        }
    };
    let address = match m.map(cx, "address") {
        Some(mut a) => {
            let s = read_socket_address(cx, &mut a, false);
            a.finish(cx);
            s
        }
        None => {
            m.missing(cx, "address");
            None
        }
    };
    let mut tls = None;
    if let Some(mut c) = m.map(cx, "config") {
        if let Some(mut t) = c.map(cx, "tls") {
            let cert = t.req_string(cx, "cert");
            let key = t.req_string(cx, "key");
            if protocol.is_some_and(|p| p != ListenerProtocol::Https) {
                cx.problem(
                    t.line(),
                    t.path(),
                    "tls is only used with protocol_type HTTPS",
                );
            }
            if let (Some(cert), Some(key)) = (cert, key) {
                tls = Some(TlsFiles {
                    cert: filter::resolve(base, &cert),
                    key: filter::resolve(base, &key),
                });
            }
            t.finish(cx);
        }
        for key in [
            "idle_timeout",
            "read_timeout",
            "write_timeout",
            "max_header_bytes",
        ] {
            c.reject(
                cx,
                key,
                "not supported yet (the connection manager has idle_timeout and timeout)",
            );
        }
        c.finish(cx);
    }
    if protocol == Some(ListenerProtocol::Https) && tls.is_none() {
        cx.problem(
            m.key_line("config"),
            &m.child("config.tls"),
            "HTTPS needs config.tls {cert, key}",
        );
    }
    let mut hcm = None;
    match m.map(cx, "filter_chains") {
        Some(mut fc) => {
            let filters = fc.list(cx, "filters");
            if filters.is_empty() {
                cx.problem(
                    fc.line(),
                    &fc.child("filters"),
                    format!("a {HTTP_CONNECTION_MANAGER} filter is required"),
                );
            }
            for (i, (p, n)) in filters.iter().enumerate() {
                let mut f = MapView::new(cx, n, p.as_str());
                let fname = f.req_string(cx, "name");
                let cfg = f.get("config");
                match fname.as_deref() {
                    Some(HTTP_CONNECTION_MANAGER) if i == 0 => {
                        let empty = Node { line: n.line, kind: Kind::Null };
                        hcm = Some(read_hcm(cx, cfg.unwrap_or(&empty), &f.child("config"), base, clusters));
                    }
                    Some(HTTP_CONNECTION_MANAGER) => cx.problem(n.line, p, "only one network filter per listener is supported"),
                    Some(other) => cx.problem(f.key_line("name"), &f.child("name"), format!("network filter {other:?} is not supported (only {HTTP_CONNECTION_MANAGER})")),
                    None => {}
                }
                f.finish(cx);
            }
            fc.finish(cx);
        }
        None => m.missing(cx, "filter_chains"),
    }
    m.finish(cx);
    Some(Listener {
        name: name?,
        protocol: protocol?,
        address: address?,
        tls,
        hcm: hcm?,
    })
}

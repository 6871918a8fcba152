//! The bootstrap file (`conf.yaml`, pixiu's shape): listeners with their HTTP connection manager
//! (routes, http_filters, timeouts), static clusters, shutdown, the admin endpoint and OTLP
//! tracing.
//!
//! Accepted with a warning (documented pixiu no-ops): top-level `log` and `node`,
//! `static_resources.pprofConf`, `shutdown_config.step_timeout` / `reject_policy`, a route's
//! `cluster_not_found_response_code`. Every other unsupported key is an error.

pub mod adapter;
pub mod cluster;
pub mod filter;
mod listener;
pub mod otlp;
pub mod registration;
pub mod registry;
pub mod retry_budget;
mod route_rule;

use std::path::Path;
use std::time::Duration;

pub use listener::{HttpConnectionManager, Listener, ListenerProtocol, TlsFiles};
pub use route_rule::{HeaderMatch, RouteRule};

use crate::error::{ConfigError, Warning};
use crate::yaml;
use crate::yaml::reader::{Ctx, MapView};
use cluster::{Cluster, LbPolicy};
use filter::HttpFilterConfig;

/// Default `shutdown_config.timeout`.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Default admin address (loopback only).
pub const DEFAULT_ADMIN_ADDRESS: &str = "127.0.0.1";
/// Default admin port.
pub const DEFAULT_ADMIN_PORT: u16 = 9901;

/// `address` + `port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocketAddress {
    /// Host name or IP.
    pub address: String,
    /// Port (0 = any free port, for listeners).
    pub port: u16,
}

/// `static_resources.shutdown_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownConfig {
    /// `timeout` (default 30s): how long in-flight requests may finish after a stop signal.
    pub timeout: Duration,
}

/// `admin` (tianlu extension). Absent = no admin endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `address` (default 127.0.0.1). A non-loopback address requires `token`.
    pub address: String,
    /// `port` (default 9901).
    pub port: u16,
    /// `token`: required as `Authorization: Bearer <token>` on mutating endpoints when set.
    pub token: Option<String>,
}

/// The whole bootstrap.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    /// `static_resources.listeners` (at least one).
    pub listeners: Vec<Listener>,
    /// `static_resources.clusters`.
    pub clusters: Vec<Cluster>,
    /// `static_resources.shutdown_config`.
    pub shutdown: ShutdownConfig,
    /// `admin`, if configured.
    pub admin: Option<AdminConfig>,
    /// `static_resources.adapters` (enabled ones).
    pub adapters: Vec<adapter::Adapter>,
    /// `registration` (self-registration in Nacos), if configured.
    pub registration: Option<registration::Registration>,
    /// `tracing`: OpenTelemetry export, if configured.
    pub tracing: Option<otlp::TracingConfig>,
}

/// Reads `socket_address{address, port}` from `m` (the `socket_address` key).
pub(crate) fn read_socket_address(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    port_required_nonzero: bool,
) -> Option<SocketAddress> {
    let Some(mut s) = m.map(cx, "socket_address") else {
        m.missing(cx, "socket_address");
        return None;
    };
    let address = s.string(cx, "address").filter(|a| !a.trim().is_empty());
    let port = s
        .uint(cx, "port", u64::from(u16::MAX))
        .and_then(|p| u16::try_from(p).ok());
    if s.get("port").is_none() {
        s.missing(cx, "port");
    }
    if address.is_none() && port_required_nonzero {
        s.missing(cx, "address");
    }
    for key in ["domains", "certs_dir", "resolver_name"] {
        s.reject(
            cx,
            key,
            "ACME/autocert is not supported; use protocol_type HTTPS with config.tls {cert, key}",
        );
    }
    if port == Some(0) && port_required_nonzero {
        cx.problem(s.key_line("port"), &s.child("port"), "port must not be 0");
    }
    s.finish(cx);
    Some(SocketAddress {
        address: if port_required_nonzero {
            address?
        } else {
            address.unwrap_or_else(|| "0.0.0.0".to_owned())
        },
        port: port?,
    })
}

fn is_loopback(address: &str) -> bool {
    address == "localhost"
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn read_admin(cx: &mut Ctx, m: &mut MapView<'_>) -> Option<AdminConfig> {
    let mut a = m.map(cx, "admin")?;
    let admin = AdminConfig {
        address: a
            .string(cx, "address")
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ADMIN_ADDRESS.to_owned()),
        port: a
            .uint(cx, "port", u64::from(u16::MAX))
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(DEFAULT_ADMIN_PORT),
        token: a.string(cx, "token").filter(|s| !s.is_empty()),
    };
    if !is_loopback(&admin.address) && admin.token.is_none() {
        cx.problem(
            a.key_line("address"),
            &a.child("address"),
            "a non-loopback admin address requires a token",
        );
    }
    a.finish(cx);
    Some(admin)
}

impl Bootstrap {
    /// Parses and validates bootstrap text. `file` names it in problems; relative paths in it
    /// (api_config `path`, TLS files, access log) are resolved against `file`'s folder.
    pub fn from_yaml_str(
        text: &str,
        file: impl AsRef<Path>,
    ) -> Result<(Bootstrap, Vec<Warning>), ConfigError> {
        let (bootstrap, cx) = Bootstrap::read(text, file.as_ref())?;
        cx.finish(bootstrap)
    }

    /// Like [`Bootstrap::from_yaml_str`], but returns what could be read together with the
    /// problems (so `Config::load` can go on checking api_config files). `Err` only when
    /// nothing usable could be read.
    pub(crate) fn read(text: &str, file: &Path) -> Result<(Bootstrap, Ctx), ConfigError> {
        let base = file.parent().unwrap_or(Path::new(""));
        let root = yaml::parse(text).map_err(|e| ConfigError::file(file, e.line, e.message))?;
        let mut cx = Ctx::new(file);
        let mut top = MapView::new(&mut cx, &root, "");
        for key in ["dynamic_resources", "config-center", "nacos"] {
            top.reject(&mut cx, key, "dynamic configuration (xDS / config center) is not supported yet; use static_resources");
        }
        let tracing = otlp::read(&mut cx, &mut top);
        top.reject(
            &mut cx,
            "metric",
            "metrics are served by the admin endpoint (/metrics); remove this key",
        );
        top.reject(&mut cx, "wasm", "WebAssembly filters are not supported");
        top.noop(
            &mut cx,
            "log",
            "logging is configured with the RUST_LOG and TIANLU_LOG_FORMAT environment variables; ignored",
        );
        top.noop(
            &mut cx,
            "node",
            "node identity is only used by xDS; ignored",
        );
        let admin = read_admin(&mut cx, &mut top);
        let registration = registration::read(&mut cx, &mut top);
        let Some(mut sr) = top.map(&mut cx, "static_resources") else {
            top.missing(&mut cx, "static_resources");
            top.finish(&mut cx);
            return Err(ConfigError {
                problems: cx.problems,
            });
        };
        sr.noop(&mut cx, "pprofConf", "pprof is a Go profiler; ignored");
        let mut adapters: Vec<adapter::Adapter> = Vec::new();
        for (path, node) in sr.list(&mut cx, "adapters") {
            if let Some(a) = adapter::read(&mut cx, node, &path) {
                if adapters.iter().any(|x| x.id == a.id) {
                    cx.problem(
                        node.line,
                        &format!("{path}.id"),
                        format!("adapter {:?} is defined twice", a.id),
                    );
                }
                adapters.push(a);
            }
        }
        let mut clusters: Vec<Cluster> = Vec::new();
        for (path, node) in sr.list(&mut cx, "clusters") {
            if let Some(c) = cluster::read(&mut cx, node, &path) {
                if clusters.iter().any(|x| x.name == c.name) {
                    cx.problem(
                        node.line,
                        &format!("{path}.name"),
                        format!("cluster {:?} is defined twice", c.name),
                    );
                }
                clusters.push(c);
            }
        }
        let mut listeners: Vec<Listener> = Vec::new();
        let listener_items = sr.list(&mut cx, "listeners");
        if listener_items.is_empty() {
            cx.problem(
                sr.key_line("listeners"),
                &sr.child("listeners"),
                "at least one listener is required",
            );
        }
        for (path, node) in listener_items {
            if let Some(l) = listener::read(&mut cx, node, &path, base, &clusters) {
                if listeners.iter().any(|x| x.name == l.name) {
                    cx.problem(
                        node.line,
                        &format!("{path}.name"),
                        format!("listener {:?} is defined twice", l.name),
                    );
                }
                if l.address.port != 0 && listeners.iter().any(|x| x.address == l.address) {
                    cx.problem(
                        node.line,
                        &format!("{path}.address"),
                        format!(
                            "{}:{} is used by another listener",
                            l.address.address, l.address.port
                        ),
                    );
                }
                listeners.push(l);
            }
        }
        let shutdown = match sr.map(&mut cx, "shutdown_config") {
            Some(mut s) => {
                let timeout = s
                    .duration(&mut cx, "timeout")
                    .unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT);
                s.noop(&mut cx, "step_timeout", "shutdown has one timeout; ignored");
                s.noop(
                    &mut cx,
                    "reject_policy",
                    "new requests are always refused during shutdown; ignored",
                );
                s.finish(&mut cx);
                ShutdownConfig { timeout }
            }
            None => ShutdownConfig {
                timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            },
        };
        sr.finish(&mut cx);
        top.finish(&mut cx);
        apply_default_lb(&mut cx, &listeners, &mut clusters);
        for (li, l) in listeners.iter().enumerate() {
            for f in &l.hcm.http_filters {
                if let HttpFilterConfig::ApiConfig(a) = &f.config {
                    if let Some(id) = &a.adapter {
                        if !adapters.iter().any(|x| &x.id == id) {
                            let parent = a.site.1.rsplit_once('.').map_or("", |(p, _)| p);
                            cx.problem(
                                a.site.0,
                                &format!("{parent}.dynamic_adapter"),
                                format!("no enabled adapter with id {id:?} in static_resources.adapters (listener {li})"),
                            );
                        }
                    }
                }
            }
        }
        Ok((
            Bootstrap {
                listeners,
                clusters,
                shutdown,
                admin,
                adapters,
                registration,
                tracing,
            },
            cx,
        ))
    }
}

/// Gives clusters without `lb_policy` the dubboproxy filters' `load_balance` (which must agree).
fn apply_default_lb(cx: &mut Ctx, listeners: &[Listener], clusters: &mut [Cluster]) {
    let mut chosen: Option<LbPolicy> = None;
    for l in listeners {
        for f in &l.hcm.http_filters {
            if let HttpFilterConfig::DubboProxy(d) = &f.config {
                match (chosen, d.load_balance) {
                    (Some(a), Some(b)) if a != b => cx.problem(
                        0,
                        "static_resources.listeners",
                        format!("dubboproxy filters disagree on load_balance ({} vs {}); set lb_policy on the clusters instead", a.name(), b.name()),
                    ),
                    (None, Some(b)) => chosen = Some(b),
                    _ => {}
                }
            }
        }
    }
    if let Some(p) = chosen {
        for c in clusters.iter_mut().filter(|c| !c.lb_policy_explicit) {
            c.lb_policy = p;
        }
    }
}

//! Registry definitions (pixiu's `Registry`): the `registries: {<id>: {...}}` mapping of the
//! dubboproxy filter's `dubboProxyConfig` and of a `dgp.adapter.dubboregistrycenter` adapter.
//!
//! Keys: `protocol` (`zookeeper` or `nacos`, required), `address` (required; `host:port[,…]`,
//! an optional `zookeeper://` / `nacos://` prefix is dropped), `timeout` (default 5s: how long
//! the gateway waits for a registry's first answer at start), `username`, `password`, `group`,
//! `namespace` (Nacos), `registry_type` (`interface` (default), `application`/`service`/
//! `instance`, or `all`).

use std::time::Duration;

use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::{Kind, Node};

/// Default `timeout`.
pub const DEFAULT_REGISTRY_TIMEOUT: Duration = Duration::from_secs(5);

/// Which server a registry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistryProtocol {
    /// Apache ZooKeeper.
    Zookeeper,
    /// Nacos (gRPC naming).
    Nacos,
}

/// Which layout of the registry is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RegistryType {
    /// One entry per provider URL (Dubbo 2 and Dubbo 3 `register-mode: interface|all`).
    #[default]
    Interface,
    /// Dubbo 3 application-level discovery (instances plus metadata).
    Application,
    /// Both layouts, merged.
    All,
}

/// One registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryConfig {
    /// The key of the `registries` mapping (`zk`, `nacos`, …).
    pub id: String,
    /// `protocol`.
    pub protocol: RegistryProtocol,
    /// `address`: `host:port[,host:port…]`.
    pub address: String,
    /// `timeout`: the longest wait for the registry's first answer.
    pub timeout: Duration,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `group`: Dubbo's registry group (ZooKeeper root, Nacos group).
    pub group: Option<String>,
    /// `namespace` (Nacos namespace id).
    pub namespace: Option<String>,
    /// `registry_type`.
    pub registry_type: RegistryType,
}

/// Reads a `registries` mapping (`{<id>: Registry}`) at `path`. An empty mapping or list gives
/// no registries.
pub(crate) fn read_registries(cx: &mut Ctx, node: &Node, path: &str) -> Vec<RegistryConfig> {
    let entries = match &node.kind {
        Kind::Map(entries) => entries,
        Kind::Null => return Vec::new(),
        Kind::Seq(items) if items.is_empty() => return Vec::new(),
        _ => {
            cx.problem(
                node.line,
                path,
                format!(
                    "expected a mapping of registry id to registry, found {}",
                    node.shape()
                ),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for e in entries {
        let key_path = format!("{path}.{}", e.key);
        if let Some(r) = read_one(cx, &e.key, &e.value, &key_path) {
            out.push(r);
        }
    }
    out
}

fn read_one(cx: &mut Ctx, id: &str, node: &Node, path: &str) -> Option<RegistryConfig> {
    let mut m = MapView::new(cx, node, path);
    let r = read_keys(cx, &mut m, id);
    m.finish(cx);
    r
}

/// Reads the registry keys of `m` (leaving other keys to the caller, who finishes `m`).
pub(crate) fn read_keys(cx: &mut Ctx, m: &mut MapView<'_>, id: &str) -> Option<RegistryConfig> {
    let protocol = match m.req_string(cx, "protocol") {
        Some(p) => match p.trim().to_ascii_lowercase().as_str() {
            "zookeeper" | "zk" => Some(RegistryProtocol::Zookeeper),
            "nacos" => Some(RegistryProtocol::Nacos),
            other => {
                cx.problem(
                    m.key_line("protocol"),
                    &m.child("protocol"),
                    format!("unknown registry protocol {other:?} (use zookeeper or nacos)"),
                );
                None
            }
        },
        None => None,
    };
    let server = read_server(cx, m, id, &["zookeeper://", "nacos://"]);
    let group = m.string(cx, "group").filter(|s| !s.trim().is_empty());
    let registry_type = match m.string(cx, "registry_type") {
        None => RegistryType::Interface,
        Some(t) => match t.trim().to_ascii_lowercase().as_str() {
            "" | "interface" => RegistryType::Interface,
            "application" | "service" | "instance" => RegistryType::Application,
            "all" => RegistryType::All,
            other => {
                cx.problem(
                    m.key_line("registry_type"),
                    &m.child("registry_type"),
                    format!(
                        "unknown registry_type {other:?} (interface, application (also service or instance) or all)"
                    ),
                );
                RegistryType::Interface
            }
        },
    };
    let has_namespace = server.as_ref().is_some_and(|s| s.namespace.is_some());
    if protocol == Some(RegistryProtocol::Zookeeper) && has_namespace {
        cx.problem(
            m.key_line("namespace"),
            &m.child("namespace"),
            "namespace is a Nacos setting; ZooKeeper registries use group as their root",
        );
    }
    Some(RegistryConfig {
        protocol: protocol?,
        group,
        registry_type,
        ..server?
    })
}

/// Reads the keys that locate a Nacos server (`address`, `namespace`, `username`, `password`,
/// `timeout`) from `m`, for uses other than discovery (the config group is the caller's).
pub(crate) fn read_server_keys(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    id: &str,
) -> Option<RegistryConfig> {
    read_server(cx, m, id, &["nacos://"])
}

/// The keys every registry entry has: `address` (without one of `schemes`), `timeout`,
/// `username`/`password` (both or neither) and `namespace`; a Nacos, interface-level entry
/// until the caller says otherwise.
fn read_server(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    id: &str,
    schemes: &[&str],
) -> Option<RegistryConfig> {
    let address = m.req_string(cx, "address").map(|a| {
        let a = a.trim();
        let a = schemes
            .iter()
            .find_map(|scheme| a.strip_prefix(scheme))
            .unwrap_or(a);
        a.trim_end_matches('/').to_owned()
    });
    let timeout = m
        .positive_duration(cx, "timeout")
        .unwrap_or(DEFAULT_REGISTRY_TIMEOUT);
    let username = m.string(cx, "username").filter(|s| !s.is_empty());
    let password = m.string(cx, "password").filter(|s| !s.is_empty());
    let namespace = m.string(cx, "namespace").filter(|s| !s.trim().is_empty());
    if username.is_some() != password.is_some() {
        let path = m.path().to_owned();
        cx.problem(
            m.line(),
            &path,
            "set both username and password, or neither",
        );
    }
    Some(RegistryConfig {
        id: id.to_owned(),
        protocol: RegistryProtocol::Nacos,
        address: address?,
        timeout,
        username,
        password,
        group: None,
        namespace,
        registry_type: RegistryType::Interface,
    })
}

//! `static_resources.adapters[]`: pixiu's `dgp.adapter.dubboregistrycenter`, which turns the
//! methods providers register into routes (`POST /{application}/{interface}/{method}`).
//!
//! ```yaml
//! adapters:
//!   - id: dubbo
//!     name: dgp.adapter.dubboregistrycenter
//!     config:
//!       registries:
//!         zk: { protocol: zookeeper, address: 127.0.0.1:2181 }
//!       interfaces: [org.example.UserService]   # tianlu: required allowlist
//! ```
//!
//! Routes are published only for the interfaces listed in `interfaces` (exact names): a
//! registry is written by every provider in the fleet, so exposing whatever appears there would
//! publish internal services over HTTP. A listener takes the routes with its apiconfig filter's
//! `dynamic: true` and `dynamic_adapter: <id>`.

use super::registry::{read_registries, RegistryConfig};
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Node;

/// The adapter kind tianlu implements.
pub const DUBBO_REGISTRY_ADAPTER: &str = "dgp.adapter.dubboregistrycenter";

/// One `dgp.adapter.dubboregistrycenter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// `id`.
    pub id: String,
    /// `config.registries`.
    pub registries: Vec<RegistryConfig>,
    /// `config.interfaces`: the interfaces whose methods become routes.
    pub interfaces: Vec<String>,
}

/// Reads one `adapters[]` item; `None` for a disabled adapter or after a problem.
pub(crate) fn read(cx: &mut Ctx, node: &Node, path: &str) -> Option<Adapter> {
    let mut m = MapView::new(cx, node, path);
    let id = m.req_string(cx, "id");
    let name = m.req_string(cx, "name");
    let enabled = m.bool(cx, "enabled").unwrap_or(true);
    let mut c = m.map(cx, "config");
    if c.is_none() {
        m.missing(cx, "config");
    }
    let name_line = m.key_line("name");
    let name_path = m.child("name");
    m.finish(cx);
    let mut c = c.take()?;
    if let Some(n) = &name {
        if n != DUBBO_REGISTRY_ADAPTER {
            cx.problem(
                name_line,
                &name_path,
                format!("adapter {n:?} is not supported (only {DUBBO_REGISTRY_ADAPTER})"),
            );
        }
    }
    let registries = match c.get("registries") {
        Some(node) => read_registries(cx, node, &c.child("registries")),
        None => Vec::new(),
    };
    if registries.is_empty() {
        cx.problem(
            c.key_line("registries"),
            &c.child("registries"),
            "list at least one registry",
        );
    }
    let line = c.key_line("interfaces");
    let ipath = c.child("interfaces");
    let interfaces = c.string_list(cx, "interfaces").unwrap_or_default();
    if interfaces.is_empty() {
        cx.problem(
            line,
            &ipath,
            "list the interfaces whose methods become routes (exact names): publishing every service found in a registry would expose internal services",
        );
    }
    for (i, e) in interfaces.iter().enumerate() {
        if e.contains('*') || !e.contains('.') || e.split('.').any(|s| s.is_empty()) {
            cx.problem(
                line,
                &format!("{ipath}[{i}]"),
                format!("{e:?} is not an exact interface name"),
            );
        }
    }
    c.finish(cx);
    if !enabled {
        return None;
    }
    Some(Adapter {
        id: id?,
        registries,
        interfaces,
    })
}

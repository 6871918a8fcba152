//! `registration` (tianlu extension): the gateway registering itself in Nacos as an instance
//! of `service`, so that clients, load balancers or other gateways can discover it.
//!
//! ```yaml
//! registration:
//!   protocol: nacos            # the only choice
//!   address: 127.0.0.1:8848    # plus namespace, group, username, password, timeout
//!   service: tianlu-gateway    # default
//!   ip: 10.0.0.5               # default: the first listener's address, if it is one IP
//!   port: 8888                 # default: the first listener's bound port
//!   weight: 1                  # default
//!   metadata: { zone: a }
//! ```

use std::collections::BTreeMap;

use super::registry::{read_keys, RegistryConfig, RegistryProtocol};
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Kind;

/// Default `service`.
pub const DEFAULT_SERVICE: &str = "tianlu-gateway";

/// `registration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The Nacos server (the registry keys).
    pub registry: RegistryConfig,
    /// `service`.
    pub service: String,
    /// `ip`, if set.
    pub ip: Option<std::net::IpAddr>,
    /// `port`, if set.
    pub port: Option<u16>,
    /// `weight`.
    pub weight: f64,
    /// `metadata`.
    pub metadata: BTreeMap<String, String>,
}

pub(crate) fn read(cx: &mut Ctx, m: &mut MapView<'_>) -> Option<Registration> {
    let mut r = m.map(cx, "registration")?;
    let registry = read_keys(cx, &mut r, "registration");
    if registry.as_ref().map(|x| x.protocol) == Some(RegistryProtocol::Zookeeper) {
        cx.problem(
            r.key_line("protocol"),
            &r.child("protocol"),
            "the gateway registers itself in Nacos only (protocol: nacos)",
        );
    }
    let service = r
        .string(cx, "service")
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
    let ip = match r.string(cx, "ip") {
        None => None,
        Some(text) => match text.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if !ip.is_unspecified() => Some(ip),
            _ => {
                cx.problem(
                    r.key_line("ip"),
                    &r.child("ip"),
                    format!("{text:?} is not an IP address clients can reach"),
                );
                None
            }
        },
    };
    let port = r
        .uint(cx, "port", u64::from(u16::MAX))
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0);
    let weight = match r.get("weight") {
        None => 1.0,
        Some(node) => match node.scalar_text().map(str::parse::<f64>) {
            Some(Ok(w)) if w.is_finite() && w >= 0.0 => w,
            _ => {
                cx.problem(
                    r.key_line("weight"),
                    &r.child("weight"),
                    "must be a number of at least 0",
                );
                1.0
            }
        },
    };
    let mut metadata = BTreeMap::new();
    if let Some(node) = r.get("metadata") {
        match &node.kind {
            Kind::Map(entries) => {
                for e in entries {
                    match e.value.scalar_text() {
                        Some(v) => {
                            metadata.insert(e.key.clone(), v.to_owned());
                        }
                        None => cx.problem(
                            e.key_line,
                            &format!("{}.{}", r.child("metadata"), e.key),
                            "must be a string",
                        ),
                    }
                }
            }
            _ => cx.problem(
                node.line,
                &r.child("metadata"),
                format!("expected a mapping, found {}", node.shape()),
            ),
        }
    }
    r.finish(cx);
    Some(Registration {
        registry: registry?,
        service,
        ip,
        port,
        weight,
        metadata,
    })
}

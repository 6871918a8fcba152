//! One registry client built from a `registries` entry: ZooKeeper or Nacos, in the layout the
//! entry's `registry_type` names, with its connection state mirrored into the metrics.
//!
//! `NACOS_ADDRESS`, when set, replaces the address of every Nacos registry (as pixiu does).

use crate::metrics::Metrics;
use std::sync::Arc;
use tianlu_api_config::{RegistryConfig, RegistryProtocol, RegistryType};
use tianlu_registry::{
    Discover, NacosConfig, NacosDiscover, RegistryMode, RegistryStatus, ServiceDefinition,
    ServiceKey, Watch, ZkConfig, ZkDiscover,
};
use tokio::sync::watch;

/// A registry client shared by every discovered cluster that reads this registry.
#[derive(Clone)]
pub struct Source {
    /// The registry's id in the configuration.
    pub id: String,
    discover: Arc<dyn Discover>,
    reports: Reports,
    status: watch::Receiver<RegistryStatus>,
    _mirror: Arc<Mirror>,
}

/// Where service definitions (methods with parameter types) are read: the registry's
/// metadata report.
#[derive(Clone)]
enum Reports {
    Zk(ZkDiscover),
    Nacos(NacosDiscover),
}

/// Stops the status mirror when the last clone of the source goes.
struct Mirror(tokio::task::JoinHandle<()>);

impl Drop for Mirror {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn mode(t: RegistryType) -> RegistryMode {
    match t {
        RegistryType::Interface => RegistryMode::Interface,
        RegistryType::Application => RegistryMode::Application,
        RegistryType::All => RegistryMode::All,
    }
}

/// The Nacos client settings of a registry entry (`NACOS_ADDRESS` wins over `address`).
pub fn nacos_config(cfg: &RegistryConfig) -> NacosConfig {
    let address = std::env::var("NACOS_ADDRESS")
        .ok()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| cfg.address.clone());
    let mut nacos = NacosConfig::new(address).with_mode(mode(cfg.registry_type));
    if let Some(g) = &cfg.group {
        nacos = nacos.with_group(g.clone());
    }
    if let Some(ns) = &cfg.namespace {
        nacos.namespace = ns.clone();
    }
    nacos.username = cfg.username.clone();
    nacos.password = cfg.password.clone();
    nacos.app_name = "tianlu-gateway".into();
    nacos.metadata_timeout = cfg.timeout;
    nacos.scan_interval = std::time::Duration::from_secs(5);
    nacos
}

impl Source {
    /// Builds the client; it connects (and reconnects) in the background.
    pub async fn connect(cfg: &RegistryConfig, metrics: &Metrics) -> Result<Source, String> {
        let (discover, status, reports): (Arc<dyn Discover>, _, _) = match cfg.protocol {
            RegistryProtocol::Zookeeper => {
                let mut zk = ZkConfig::new(cfg.address.clone()).with_mode(mode(cfg.registry_type));
                if let Some(g) = &cfg.group {
                    zk = zk.with_group(g.clone());
                }
                zk.username = cfg.username.clone();
                zk.password = cfg.password.clone();
                zk.metadata_timeout = cfg.timeout;
                let d = ZkDiscover::new(zk).map_err(|e| format!("registry {}: {e}", cfg.id))?;
                let status = d.status_receiver();
                (Arc::new(d.clone()), status, Reports::Zk(d))
            }
            RegistryProtocol::Nacos => {
                let nacos = nacos_config(cfg);
                let d = tokio::time::timeout(cfg.timeout, NacosDiscover::new(nacos))
                    .await
                    .map_err(|_| {
                        format!(
                            "registry {}: the Nacos client did not start within {:?}",
                            cfg.id, cfg.timeout
                        )
                    })?
                    .map_err(|e| format!("registry {}: {e}", cfg.id))?;
                let status = d.status_receiver();
                (Arc::new(d.clone()), status, Reports::Nacos(d))
            }
        };
        let gauge = metrics.registry(&cfg.id);
        let mut rx = status.clone();
        let id = cfg.id.clone();
        let mirror = tokio::spawn(async move {
            loop {
                let connected = rx.borrow_and_update().is_connected();
                let was = gauge
                    .connected
                    .swap(connected, std::sync::atomic::Ordering::Relaxed);
                if was != connected {
                    if connected {
                        tracing::info!(registry = %id, "registry connected");
                    } else {
                        tracing::warn!(registry = %id, status = ?*rx.borrow(), "registry not connected; the last known providers keep serving");
                    }
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });
        Ok(Source {
            id: cfg.id.clone(),
            discover,
            reports,
            status,
            _mirror: Arc::new(Mirror(mirror)),
        })
    }

    /// Starts watching the providers `key` selects.
    pub fn watch(&self, key: &ServiceKey) -> Watch {
        self.discover.watch(key)
    }

    /// The service definition a provider application reported for a service (`None` when
    /// it reported none).
    pub async fn definition(
        &self,
        interface: &str,
        version: Option<&str>,
        group: Option<&str>,
        app: &str,
    ) -> Result<Option<ServiceDefinition>, String> {
        let r = match &self.reports {
            Reports::Zk(z) => z.service_definition(interface, version, group, app).await,
            Reports::Nacos(n) => n.service_definition(interface, version, group, app).await,
        };
        r.map_err(|e| e.to_string())
    }

    /// The connection state now.
    pub fn status(&self) -> RegistryStatus {
        self.status.borrow().clone()
    }
}

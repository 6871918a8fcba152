//! The gateway registering itself in Nacos: one ephemeral instance (service name, ip, port,
//! metadata such as listeners and version), kept alive by nacos-sdk's gRPC connection (and
//! re-registered by it after a reconnection), removed by [`NacosRegistration::deregister`] on
//! graceful shutdown. If the process dies, Nacos drops the instance when the connection goes.

use std::collections::BTreeMap;

use nacos_sdk::api::naming::{NamingService, ServiceInstance};
use tracing::info;

use crate::error::RegistryError;
use crate::nacos::{nacos_error, NacosConfig, DEFAULT_GROUP};

/// Metadata key carrying the gateway's version.
pub const META_VERSION: &str = "tianlu.version";
/// Metadata key carrying the gateway's listeners (comma separated `name=addr` or addresses).
pub const META_LISTENERS: &str = "tianlu.listeners";

/// What to register.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfInstance {
    /// Nacos service name.
    pub service: String,
    /// Nacos group (default `DEFAULT_GROUP`).
    pub group: String,
    /// The address clients should use.
    pub ip: String,
    /// The port clients should use.
    pub port: u16,
    /// Nacos weight (default 1.0).
    pub weight: f64,
    /// Nacos cluster (default `DEFAULT`).
    pub cluster: Option<String>,
    /// Instance metadata.
    pub metadata: BTreeMap<String, String>,
}

impl SelfInstance {
    /// `service` at `ip:port`, group `DEFAULT_GROUP`, weight 1, metadata
    /// [`META_VERSION`] = this crate's version.
    pub fn new(service: impl Into<String>, ip: impl Into<String>, port: u16) -> Self {
        SelfInstance {
            service: service.into(),
            group: DEFAULT_GROUP.into(),
            ip: ip.into(),
            port,
            weight: 1.0,
            cluster: None,
            metadata: BTreeMap::from([(
                META_VERSION.to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]),
        }
    }

    /// Adds a metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Records the listeners (e.g. `http=0.0.0.0:8888`) under [`META_LISTENERS`].
    pub fn with_listeners<S: AsRef<str>>(self, listeners: &[S]) -> Self {
        let joined = listeners
            .iter()
            .map(|l| l.as_ref().trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        self.with_metadata(META_LISTENERS, joined)
    }

    /// Sets the version metadata (the gateway's own version rather than this crate's).
    pub fn with_version(self, version: impl Into<String>) -> Self {
        self.with_metadata(META_VERSION, version)
    }

    fn validate(&self) -> Result<(), RegistryError> {
        if self.service.trim().is_empty() || self.group.trim().is_empty() {
            return Err(RegistryError::Config(
                "self-registration needs a service name and a group".into(),
            ));
        }
        if self.ip.parse::<std::net::IpAddr>().is_err() {
            return Err(RegistryError::Config(format!(
                "self-registration ip {:?} is not an IP address",
                self.ip
            )));
        }
        if self.port == 0 || !self.weight.is_finite() || self.weight < 0.0 {
            return Err(RegistryError::Config(
                "self-registration needs a port and a non-negative weight".into(),
            ));
        }
        Ok(())
    }

    fn to_nacos(&self) -> ServiceInstance {
        ServiceInstance {
            ip: self.ip.clone(),
            port: i32::from(self.port),
            weight: self.weight,
            healthy: true,
            enabled: true,
            ephemeral: true,
            cluster_name: Some(self.cluster.clone().unwrap_or_else(|| "DEFAULT".into())),
            service_name: Some(self.service.clone()),
            metadata: self
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..ServiceInstance::default()
        }
    }
}

/// A live registration. Call [`NacosRegistration::deregister`] on graceful shutdown.
#[derive(Debug)]
pub struct NacosRegistration {
    naming: NamingService,
    me: SelfInstance,
}

impl NacosRegistration {
    /// Connects to Nacos with `cfg` and registers `me`.
    pub async fn register(cfg: &NacosConfig, me: SelfInstance) -> Result<Self, RegistryError> {
        me.validate()?;
        let naming = cfg.naming_service().await?;
        Self::on(naming, me).await
    }

    /// Registers `me` on an existing client.
    pub(crate) async fn on(naming: NamingService, me: SelfInstance) -> Result<Self, RegistryError> {
        me.validate()?;
        naming
            .register_instance(me.service.clone(), Some(me.group.clone()), me.to_nacos())
            .await
            .map_err(|e| nacos_error(&format!("register {}", me.service), e))?;
        info!(service = %me.service, ip = %me.ip, port = me.port, "registered in Nacos");
        Ok(NacosRegistration { naming, me })
    }

    /// What was registered.
    pub fn instance(&self) -> &SelfInstance {
        &self.me
    }

    /// Removes the instance from Nacos.
    pub async fn deregister(self) -> Result<(), RegistryError> {
        self.naming
            .deregister_instance(
                self.me.service.clone(),
                Some(self.me.group.clone()),
                self.me.to_nacos(),
            )
            .await
            .map_err(|e| nacos_error(&format!("deregister {}", self.me.service), e))?;
        info!(service = %self.me.service, "deregistered from Nacos");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_metadata() {
        let me = SelfInstance::new("tianlu-gateway", "127.0.0.1", 8888)
            .with_listeners(&["http=0.0.0.0:8888", " ", "admin=127.0.0.1:9901"])
            .with_version("1.2.3");
        assert_eq!(
            me.metadata[META_LISTENERS],
            "http=0.0.0.0:8888,admin=127.0.0.1:9901"
        );
        assert_eq!(me.metadata[META_VERSION], "1.2.3");
        let nacos = me.to_nacos();
        assert_eq!(nacos.port, 8888);
        assert!(nacos.ephemeral);
        assert_eq!(nacos.metadata.len(), 2);
        assert!(me.validate().is_ok());
    }

    #[test]
    fn validation_table() {
        let ok = SelfInstance::new("s", "10.0.0.1", 1);
        let cases: Vec<(SelfInstance, bool)> = vec![
            (ok.clone(), true),
            (
                SelfInstance {
                    service: " ".into(),
                    ..ok.clone()
                },
                false,
            ),
            (
                SelfInstance {
                    group: String::new(),
                    ..ok.clone()
                },
                false,
            ),
            (
                SelfInstance {
                    ip: "gateway.local".into(),
                    ..ok.clone()
                },
                false,
            ),
            (
                SelfInstance {
                    port: 0,
                    ..ok.clone()
                },
                false,
            ),
            (
                SelfInstance {
                    weight: f64::NAN,
                    ..ok.clone()
                },
                false,
            ),
            (
                SelfInstance {
                    weight: -1.0,
                    ..ok.clone()
                },
                false,
            ),
            (
                SelfInstance {
                    ip: "::1".into(),
                    ..ok
                },
                true,
            ),
        ];
        for (me, want) in cases {
            assert_eq!(me.validate().is_ok(), want, "{me:?}");
        }
    }
}

//! Service discovery for the tianlu gateway.
//!
//! ```text
//!  ZooKeeper ──┐                                   ┌─> Change::Reset(Vec<Instance>)
//!  Nacos ──────┼─> Discover::watch(&ServiceKey) ───┤   (full lists; Add/Remove for other sources)
//!  fixed list ─┘        (one task per watch)       └─> RegistryStatus (Connected / Disconnected)
//! ```
//!
//! - [`url`]: Dubbo provider URLs ([`ProviderUrl`]), Java form encoding.
//! - [`instance`]: [`Instance`], [`InstanceId`], [`ServiceKey`] (Dubbo group/version matching),
//!   [`Change`], [`RegistryStatus`], [`InstanceSet`].
//! - [`discover`]: the [`Discover`] trait, [`Watch`] (a `Stream` of changes), [`RegistryMode`].
//! - [`zookeeper`]: [`ZkDiscover`] — interface-level and application-level (Dubbo 3) layouts.
//! - [`nacos`]: [`NacosDiscover`] — the same two layouts in Nacos (gRPC naming via `nacos-sdk`).
//! - [`fixed`]: [`FixedDiscover`] — static instances.
//! - [`metadata`]: application-level data: instance records, `MetadataInfo`, the provider's
//!   MetadataService, service definitions with parameter types.
//! - [`register`]: the gateway registering itself in Nacos ([`NacosRegistration`]).
//! - [`config_source`]: a config text from Nacos, with change notifications
//!   ([`NacosConfigSource`]).
//!
//! Registry data is untrusted: malformed entries are skipped (and logged at debug), never a
//! panic. A registry outage keeps the last known instances: no watch ever sends an empty list
//! because a connection dropped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tianlu_registry::RegistryError> {
//! use tianlu_registry::{Change, Discover, InstanceSet, RegistryMode, ServiceKey, ZkConfig, ZkDiscover};
//!
//! let zk = ZkDiscover::new(ZkConfig::new("127.0.0.1:2181").with_mode(RegistryMode::All))?;
//! let mut watch = zk.watch(&ServiceKey::new("org.example.Greeter").with_version("1.0.0"));
//! let mut current = InstanceSet::new();
//! while let Some(change) = watch.next().await {
//!     current.apply(change); // rebuild the balancer from `current.instances()`
//!     println!("{} providers, registry {:?}", current.len(), watch.status());
//! }
//! # Ok(())
//! # }
//! ```

pub mod config_source;
pub mod discover;
pub mod error;
pub mod fixed;
mod http1;
pub mod instance;
pub mod metadata;
pub mod nacos;
pub mod register;
pub mod url;
pub mod zookeeper;

pub use config_source::NacosConfigSource;
pub use discover::{Discover, RegistryMode, Watch};
pub use error::RegistryError;
pub use fixed::FixedDiscover;
pub use instance::{
    Change, Instance, InstanceId, InstanceSet, Protocol, RegistryStatus, ServiceKey,
};
pub use metadata::{MetadataError, MetadataInfo, ServiceDefinition};
pub use nacos::{NacosConfig, NacosDiscover};
pub use register::{NacosRegistration, SelfInstance};
pub use url::{ProviderUrl, UrlError};
pub use zookeeper::{ZkConfig, ZkDiscover};

//! Discovery inside the gateway: one registry client per configured registry and one
//! discovered cluster per (registries, service key, balancing), both kept across reloads while
//! their settings stay the same, so a reload neither resubscribes nor forgets providers.
//!
//! A discovered cluster is an ordinary [`Cluster`] whose endpoint set a feed task replaces on
//! every registry change (see [`feed`]). Registry clients come from [`source`].

mod feed;
mod routes;
mod source;

pub use routes::{AdapterFeed, GeneratedRoute};

pub use feed::{effective_weight, endpoint_specs};
pub use source::{nacos_config, Source};

use crate::metrics::Metrics;
use crate::upstream::{Cluster, ClusterSettings, ConnectionPool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tianlu_api_config::bootstrap::adapter::Adapter;
use tianlu_api_config::{Protocol, RegistryConfig};
use tianlu_registry::ServiceKey;
use tokio::sync::watch;

/// A callback run on a change.
pub type Hook = Arc<dyn Fn() + Send + Sync>;

/// What identifies a discovered cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeedKey {
    /// The registries asked, in configuration order.
    pub registries: Vec<RegistryConfig>,
    /// Interface, group and version.
    pub service: ServiceKey,
    /// Only endpoints of this protocol (`requestType` of the route), or any.
    pub protocol: Option<Protocol>,
    /// The balancing policy's name and settings, rendered (clusters with other settings are
    /// other clusters).
    pub settings: String,
}

impl FeedKey {
    /// The cluster's name in logs and metrics: `registry:zk/org.example.Users:1.0.0@group`.
    pub fn cluster_name(&self) -> String {
        let ids: Vec<&str> = self.registries.iter().map(|r| r.id.as_str()).collect();
        let mut name = format!("registry:{}/{}", ids.join("+"), self.service.interface);
        if let Some(v) = &self.service.version {
            name.push(':');
            name.push_str(v);
        }
        if let Some(g) = &self.service.group {
            name.push('@');
            name.push_str(g);
        }
        if let Some(p) = self.protocol {
            name.push_str(match p {
                Protocol::Dubbo => "#dubbo",
                Protocol::Triple => "#tri",
                Protocol::Http => "#http",
            });
        }
        name
    }
}

/// A discovered cluster and the task feeding it (stopped when the last runtime using it is
/// dropped).
pub struct Feed {
    /// The cluster the routes call.
    pub cluster: Arc<Cluster>,
    ready: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Feed {
    /// True once every registry answered at least once.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Waits until every registry answered or `timeout` passed; returns [`Feed::is_ready`].
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut ready = self.ready.clone();
        let _ = tokio::time::timeout(timeout, ready.wait_for(|r| *r)).await;
        self.is_ready()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The registries and discovered clusters of one gateway process.
pub struct Discovery {
    pool: Arc<ConnectionPool>,
    metrics: Arc<Metrics>,
    sources: tokio::sync::Mutex<HashMap<RegistryConfig, Source>>,
    feeds: Mutex<HashMap<FeedKey, std::sync::Weak<Feed>>>,
    adapters: tokio::sync::Mutex<Vec<std::sync::Weak<AdapterFeed>>>,
    on_routes_changed: Arc<Mutex<Option<Hook>>>,
}

impl Discovery {
    /// No registries yet; they are created as configurations ask for them.
    pub fn new(pool: Arc<ConnectionPool>, metrics: Arc<Metrics>) -> Self {
        Discovery {
            pool,
            metrics,
            sources: tokio::sync::Mutex::new(HashMap::new()),
            feeds: Mutex::new(HashMap::new()),
            adapters: tokio::sync::Mutex::new(Vec::new()),
            on_routes_changed: Arc::new(Mutex::new(None)),
        }
    }

    /// What runs when an adapter's routes change (the gateway rebuilds its runtime).
    pub fn on_routes_changed(&self, f: Hook) {
        *self
            .on_routes_changed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(f);
    }

    /// The route feed of `adapter`, shared by every runtime that names the same adapter.
    pub async fn adapter(&self, adapter: &Adapter) -> Result<Arc<AdapterFeed>, String> {
        let mut adapters = self.adapters.lock().await;
        adapters.retain(|w| w.strong_count() > 0);
        if let Some(feed) = adapters
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .find(|f| &f.adapter == adapter)
        {
            return Ok(feed);
        }
        let mut sources = Vec::new();
        for r in &adapter.registries {
            sources.push(self.source(r).await?);
        }
        let hook = Arc::clone(&self.on_routes_changed);
        let changed: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let f = hook
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(f) = f {
                f();
            }
        });
        let feed = Arc::new(AdapterFeed::start(adapter.clone(), sources, changed));
        adapters.push(Arc::downgrade(&feed));
        Ok(feed)
    }

    /// The registry client for `cfg`, created (and connecting in the background) on first use.
    pub async fn source(&self, cfg: &RegistryConfig) -> Result<Source, String> {
        let mut sources = self.sources.lock().await;
        if let Some(s) = sources.get(cfg) {
            return Ok(s.clone());
        }
        let s = Source::connect(cfg, &self.metrics).await?;
        sources.insert(cfg.clone(), s.clone());
        Ok(s)
    }

    /// The discovered cluster for `key`, shared with every runtime that asks for the same key.
    /// A new one starts watching at once; callers decide how long to wait for its first answer.
    pub async fn cluster(
        &self,
        key: &FeedKey,
        settings: ClusterSettings,
    ) -> Result<Arc<Feed>, String> {
        if let Some(feed) = self.existing(key) {
            return Ok(feed);
        }
        let mut sources = Vec::with_capacity(key.registries.len());
        for r in &key.registries {
            sources.push(self.source(r).await?);
        }
        let name = key.cluster_name();
        let cluster = Arc::new(Cluster::new(
            &name,
            settings,
            &[],
            &self.pool,
            &self.metrics,
        ));
        let (ready_tx, ready) = watch::channel(false);
        let watches = sources.iter().map(|s| s.watch(&key.service)).collect();
        let task = tokio::spawn(feed::run(
            Arc::clone(&cluster),
            Arc::clone(&self.pool),
            Arc::clone(&self.metrics),
            watches,
            key.protocol,
            ready_tx,
        ));
        let feed = Arc::new(Feed {
            cluster,
            ready,
            task,
        });
        let mut feeds = self
            .feeds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        feeds.retain(|_, f| f.strong_count() > 0);
        feeds.insert(key.clone(), Arc::downgrade(&feed));
        Ok(feed)
    }

    fn existing(&self, key: &FeedKey) -> Option<Arc<Feed>> {
        self.feeds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .and_then(std::sync::Weak::upgrade)
    }

    /// Drops registry clients no live discovered cluster uses, except those in `keep` (the
    /// registries of the configuration in force).
    pub async fn retain_sources(&self, keep: &[RegistryConfig]) {
        let in_use: Vec<RegistryConfig> = {
            let feeds = self
                .feeds
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            feeds
                .iter()
                .filter(|(_, f)| f.strong_count() > 0)
                .flat_map(|(k, _)| k.registries.clone())
                .collect()
        };
        self.sources
            .lock()
            .await
            .retain(|cfg, _| keep.contains(cfg) || in_use.contains(cfg));
    }
}

//! Discovery from Nacos (gRPC naming through `nacos-sdk`), in Dubbo's two layouts.
//!
//! - **Interface level**: one Nacos service per interface/version/group, named
//!   `providers:{interface}:{version}:{group}` (four segments, empty ones kept), in the Nacos
//!   group of [`NacosConfig::group`]. Instance ip/port are the provider address, instance
//!   metadata the provider URL parameters plus `protocol`, `path`, `category`. A key with a
//!   wildcard or list group/version is resolved by scanning the service list periodically.
//! - **Application level**: the interface → application mapping is the config
//!   `dataId={interface}, group=mapping` (comma-separated names); each application is a Nacos
//!   service named after it whose instance metadata is Dubbo's instance metadata; remote
//!   `MetadataInfo` is the config `dataId={app}, group={revision}`.
//!
//! Every push (and every re-subscription) re-reads the full instance lists and publishes them.
//! A probe task asks the server for its service list every [`NacosConfig::probe_interval`] and
//! reports [`RegistryStatus`]; while it fails nothing is published, and for
//! [`NacosConfig::recovery_grace`] after the server is back an empty list does not replace a
//! non-empty one (providers re-register after a server restart), so an outage never empties a
//! watch.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nacos_sdk::api::config::{
    ConfigChangeListener, ConfigResponse, ConfigService, ConfigServiceBuilder,
};
use nacos_sdk::api::naming::{
    NamingChangeEvent, NamingEventListener, NamingService, NamingServiceBuilder, ServiceInstance,
};
use nacos_sdk::api::props::ClientProps;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::discover::{merge, Backoff, Discover, Emitter, Publisher, RegistryMode, Watch};
use crate::error::RegistryError;
use crate::instance::{Instance, RegistryStatus, ServiceKey};
use crate::metadata::{
    fetch_metadata, AppInstance, MetadataCache, MetadataError, MetadataInfo, ServiceDefinition,
    StorageType,
};
use crate::register::{NacosRegistration, SelfInstance};
use crate::url::ProviderUrl;

mod application;

use crate::zookeeper::parse_apps;
use application::application_loop;

/// Nacos' default group.
pub const DEFAULT_GROUP: &str = "DEFAULT_GROUP";
/// The config group of Dubbo's interface → application mapping.
pub const MAPPING_GROUP: &str = "mapping";

/// Settings of a Nacos registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NacosConfig {
    /// `host:port[,host:port…]` of the HTTP port; gRPC is that port + 1000 unless
    /// [`NacosConfig::grpc_port`] says otherwise.
    pub server_addr: String,
    /// The gRPC port when it is not HTTP + 1000.
    pub grpc_port: Option<u16>,
    /// Namespace id (`""` = public).
    pub namespace: String,
    /// Nacos group of the services (Dubbo's registry `group`), default `DEFAULT_GROUP`.
    pub group: String,
    /// Config group of the metadata report (service definitions, remote `MetadataInfo` is
    /// keyed by revision instead): Dubbo's registry `group`, default `dubbo`.
    pub metadata_group: String,
    /// User name (Nacos auth).
    pub username: Option<String>,
    /// Password (Nacos auth).
    pub password: Option<String>,
    /// Which layout(s) to read.
    pub mode: RegistryMode,
    /// The client's application name (a label on the connection), default `tianlu`.
    pub app_name: String,
    /// Deadline of one MetadataService call or config read, default 3 s.
    pub metadata_timeout: Duration,
    /// How often the server is probed for the status, default 2 s.
    pub probe_interval: Duration,
    /// How long after a reconnection an empty list is not taken as "all providers gone",
    /// default 10 s.
    pub recovery_grace: Duration,
    /// How often a wildcard key re-scans the service list, and an application-level watch
    /// re-reads the interface → application mapping, default 10 s.
    pub scan_interval: Duration,
    /// Where nacos-sdk keeps its disk cache (default `~/nacos`).
    pub cache_dir: Option<PathBuf>,
}

impl NacosConfig {
    /// Defaults for `server_addr`.
    pub fn new(server_addr: impl Into<String>) -> Self {
        NacosConfig {
            server_addr: server_addr.into(),
            grpc_port: None,
            namespace: String::new(),
            group: DEFAULT_GROUP.into(),
            metadata_group: "dubbo".into(),
            username: None,
            password: None,
            mode: RegistryMode::Interface,
            app_name: "tianlu".into(),
            metadata_timeout: Duration::from_secs(3),
            probe_interval: Duration::from_secs(2),
            recovery_grace: Duration::from_secs(10),
            scan_interval: Duration::from_secs(10),
            cache_dir: None,
        }
    }

    /// Sets the mode.
    pub fn with_mode(mut self, mode: RegistryMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets Dubbo's registry `group` (`nacos://…?group=g`): the Nacos group of the services
    /// and the config group of the metadata report.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        let group = group.into();
        self.group = group.clone();
        self.metadata_group = group;
        self
    }

    fn validate(&self) -> Result<(), RegistryError> {
        if self.server_addr.trim().is_empty() {
            return Err(RegistryError::Config(
                "Nacos server address is empty".into(),
            ));
        }
        if self.group.trim().is_empty() {
            return Err(RegistryError::Config("Nacos group is empty".into()));
        }
        if self.probe_interval.is_zero()
            || self.metadata_timeout.is_zero()
            || self.scan_interval.is_zero()
        {
            return Err(RegistryError::Config(
                "Nacos intervals and timeouts must be positive".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn client_props(&self) -> ClientProps {
        let mut props = ClientProps::new()
            .env_first(false)
            .server_addr(self.server_addr.trim())
            .namespace(self.namespace.clone())
            .app_name(self.app_name.clone())
            .naming_push_empty_protection(false)
            .naming_load_cache_at_start(false)
            .config_load_cache_at_start(false);
        if let Some(port) = self.grpc_port {
            props = props.remote_grpc_port(port);
        }
        if let Some(dir) = &self.cache_dir {
            props = props.cache_dir(dir.clone());
        }
        if let Some(user) = &self.username {
            props = props.auth_username(user.clone());
        }
        if let Some(pass) = &self.password {
            props = props.auth_password(pass.clone());
        }
        props
    }

    pub(crate) async fn naming_service(&self) -> Result<NamingService, RegistryError> {
        let mut builder = NamingServiceBuilder::new(self.client_props());
        if self.username.is_some() {
            builder = builder.enable_auth_plugin_http();
        }
        builder
            .build()
            .await
            .map_err(|e| nacos_error("connect (naming)", e))
    }

    pub(crate) async fn config_service(&self) -> Result<ConfigService, RegistryError> {
        let mut builder = ConfigServiceBuilder::new(self.client_props());
        if self.username.is_some() {
            builder = builder.enable_auth_plugin_http();
        }
        builder
            .build()
            .await
            .map_err(|e| nacos_error("connect (config)", e))
    }
}

/// The Nacos service name of an interface-level Dubbo service.
pub fn provider_service_name(
    interface: &str,
    version: Option<&str>,
    group: Option<&str>,
) -> String {
    format!(
        "providers:{interface}:{}:{}",
        version.unwrap_or(""),
        group.unwrap_or("")
    )
}

/// Splits `providers:{interface}:{version}:{group}` into its parts (`None` for other names).
pub fn parse_provider_service_name(name: &str) -> Option<(String, Option<String>, Option<String>)> {
    let rest = name.strip_prefix("providers:")?;
    let mut parts = rest.split(':');
    let interface = parts.next().filter(|i| !i.is_empty())?.to_string();
    let version = parts.next().filter(|v| !v.is_empty()).map(str::to_string);
    let group = parts.next().filter(|g| !g.is_empty()).map(str::to_string);
    if parts.next().is_some() {
        return None;
    }
    Some((interface, version, group))
}

struct Inner {
    cfg: NacosConfig,
    naming: NamingService,
    config: tokio::sync::OnceCell<ConfigService>,
    status: watch::Receiver<RegistryStatus>,
    /// Bumped when the server is reachable again: watches re-read.
    epoch: watch::Receiver<(u64, Option<Instant>)>,
    probe: JoinHandle<()>,
    cache: MetadataCache,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.probe.abort();
    }
}

impl Inner {
    async fn config(&self) -> Result<&ConfigService, RegistryError> {
        self.config
            .get_or_try_init(|| self.cfg.config_service())
            .await
    }

    /// True while within the grace period after a reconnection.
    fn in_grace(&self) -> Option<Duration> {
        let (_, recovered) = *self.epoch.borrow();
        let since = recovered?.elapsed();
        (since < self.cfg.recovery_grace).then(|| self.cfg.recovery_grace - since)
    }
}

/// How often lists are read from the server itself during the grace period.
const GRACE_POLL: Duration = Duration::from_millis(500);

/// During the grace period (`Some(remaining)`), when to read again: every [`GRACE_POLL`], and
/// once more right when it ends.
fn grace_poll(in_grace: Option<Duration>) -> Option<Duration> {
    in_grace.map(|left| left.min(GRACE_POLL))
}

/// Nacos discovery. Cheap to clone; all clones and watches share one gRPC connection.
#[derive(Clone)]
pub struct NacosDiscover {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for NacosDiscover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NacosDiscover")
            .field("server_addr", &self.inner.cfg.server_addr)
            .field("mode", &self.inner.cfg.mode)
            .field("status", &*self.inner.status.borrow())
            .finish()
    }
}

impl NacosDiscover {
    /// Builds the Nacos client (nacos-sdk connects in the background and keeps reconnecting)
    /// and starts the status probe.
    pub async fn new(cfg: NacosConfig) -> Result<NacosDiscover, RegistryError> {
        cfg.validate()?;
        let naming = cfg.naming_service().await?;
        let (status_tx, status_rx) = watch::channel(RegistryStatus::Connecting);
        let (epoch_tx, epoch_rx) = watch::channel((0u64, None));
        let probe = tokio::spawn(probe(cfg.clone(), naming.clone(), status_tx, epoch_tx));
        Ok(NacosDiscover {
            inner: Arc::new(Inner {
                cfg,
                naming,
                config: tokio::sync::OnceCell::new(),
                status: status_rx,
                epoch: epoch_rx,
                probe,
                cache: MetadataCache::new(),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &NacosConfig {
        &self.inner.cfg
    }

    /// The status now.
    pub fn status(&self) -> RegistryStatus {
        self.inner.status.borrow().clone()
    }

    /// Status updates.
    pub fn status_receiver(&self) -> watch::Receiver<RegistryStatus> {
        self.inner.status.clone()
    }

    /// Waits until the probe reached the server.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), RegistryError> {
        let mut status = self.inner.status.clone();
        let waited = tokio::time::timeout(timeout, status.wait_for(RegistryStatus::is_connected))
            .await
            .map(|r| r.is_ok());
        match waited {
            Ok(true) => Ok(()),
            Ok(false) => Err(RegistryError::NotConnected("Nacos probe stopped".into())),
            Err(_) => Err(RegistryError::Timeout {
                op: format!("connecting to Nacos {}", self.inner.cfg.server_addr),
                after: timeout,
            }),
        }
    }

    /// The applications that provide `interface` (config `dataId={interface}, group=mapping`).
    pub async fn applications(&self, interface: &str) -> Result<Vec<String>, RegistryError> {
        let config = self.inner.config().await?;
        read_config(
            config,
            interface,
            MAPPING_GROUP,
            self.inner.cfg.metadata_timeout,
        )
        .await
        .map(|text| text.map(|t| parse_apps(t.as_bytes())).unwrap_or_default())
    }

    /// The service definition (with parameter types) `app` reported for a service: config
    /// `dataId={interface}:{version}:{group}:provider:{app}` in [`NacosConfig::metadata_group`].
    /// `None` when there is none.
    pub async fn service_definition(
        &self,
        interface: &str,
        version: Option<&str>,
        group: Option<&str>,
        app: &str,
    ) -> Result<Option<ServiceDefinition>, RegistryError> {
        let config = self.inner.config().await?;
        let data_id = format!(
            "{interface}:{}:{}:provider:{app}",
            version.unwrap_or(""),
            group.unwrap_or("")
        );
        let text = read_config(
            config,
            &data_id,
            &self.inner.cfg.metadata_group,
            self.inner.cfg.metadata_timeout,
        )
        .await?;
        match text {
            Some(text) if !text.trim().is_empty() => {
                Ok(Some(ServiceDefinition::from_json_bytes(text.as_bytes())?))
            }
            _ => Ok(None),
        }
    }

    /// Registers an instance (the gateway itself) on this client's connection.
    pub async fn register(&self, me: SelfInstance) -> Result<NacosRegistration, RegistryError> {
        NacosRegistration::on(self.inner.naming.clone(), me).await
    }
}

impl Discover for NacosDiscover {
    fn watch(&self, key: &ServiceKey) -> Watch {
        let (emitter, rx) = Emitter::channel(key);
        let inner = Arc::clone(&self.inner);
        let task_key = key.clone();
        let task = tokio::spawn(async move {
            let inner = &inner;
            let key = &task_key;
            match inner.cfg.mode {
                RegistryMode::Interface => {
                    interface_loop(inner, key, Publisher::Direct(emitter)).await;
                }
                RegistryMode::Application => {
                    application_loop(inner, key, Publisher::Direct(emitter)).await;
                }
                RegistryMode::All => {
                    let (tx, merged) = mpsc::channel(8);
                    let by_interface = Publisher::Part {
                        index: 0,
                        tx: tx.clone(),
                    };
                    let by_application = Publisher::Part { index: 1, tx };
                    tokio::join!(
                        merge(emitter, merged, 2),
                        interface_loop(inner, key, by_interface),
                        application_loop(inner, key, by_application),
                    );
                }
            }
        });
        Watch::new(key.clone(), rx, self.inner.status.clone(), Some(task))
    }
}

/// Probes the server; reports the status and bumps the epoch when it is back.
async fn probe(
    cfg: NacosConfig,
    naming: NamingService,
    status: watch::Sender<RegistryStatus>,
    epoch: watch::Sender<(u64, Option<Instant>)>,
) {
    let mut was_down = false;
    loop {
        let answer = tokio::time::timeout(
            cfg.probe_interval.max(Duration::from_secs(1)),
            naming.get_service_list(1, 1, Some(cfg.group.clone())),
        )
        .await;
        match answer {
            Ok(Ok(_)) => {
                if was_down {
                    info!(server = %cfg.server_addr, "Nacos reachable again; resubscribing");
                    epoch.send_modify(|(n, at)| {
                        *n += 1;
                        *at = Some(Instant::now());
                    });
                }
                was_down = false;
                status.send_if_modified(|s| {
                    let changed = !s.is_connected();
                    *s = RegistryStatus::Connected;
                    changed
                });
            }
            failure => {
                let reason = match failure {
                    Ok(Err(e)) => format!("Nacos {}: {e}", cfg.server_addr),
                    _ => format!("Nacos {} did not answer in time", cfg.server_addr),
                };
                if !was_down {
                    warn!(%reason, "Nacos unreachable; keeping the last known providers");
                }
                was_down = true;
                status.send_if_modified(|s| match s {
                    RegistryStatus::Disconnected { .. } => false,
                    _ => {
                        *s = RegistryStatus::Disconnected {
                            since: Instant::now(),
                            reason,
                        };
                        true
                    }
                });
            }
        }
        tokio::time::sleep(cfg.probe_interval).await;
    }
}

/// Forwards nacos-sdk pushes as pokes.
struct Poke(mpsc::UnboundedSender<()>);

impl NamingEventListener for Poke {
    fn event(&self, _event: Arc<NamingChangeEvent>) {
        let _ = self.0.send(());
    }
}

impl ConfigChangeListener for Poke {
    fn notify(&self, _config: ConfigResponse) {
        let _ = self.0.send(());
    }
}

/// The subscriptions of one watch, undone when it ends.
struct Subscriptions {
    naming: NamingService,
    group: String,
    listener: Arc<Poke>,
    services: BTreeSet<String>,
}

impl Subscriptions {
    fn new(naming: NamingService, group: String, poke: mpsc::UnboundedSender<()>) -> Self {
        Subscriptions {
            naming,
            group,
            listener: Arc::new(Poke(poke)),
            services: BTreeSet::new(),
        }
    }

    /// Subscribes to `service` unless already done.
    async fn ensure(&mut self, service: &str) -> Result<(), RegistryError> {
        if self.services.contains(service) {
            return Ok(());
        }
        let listener: Arc<dyn NamingEventListener> = self.listener.clone();
        self.naming
            .subscribe(
                service.to_string(),
                Some(self.group.clone()),
                Vec::new(),
                listener,
            )
            .await
            .map_err(|e| nacos_error(&format!("subscribe {service}"), e))?;
        self.services.insert(service.to_string());
        Ok(())
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let naming = self.naming.clone();
        let group = self.group.clone();
        let listener: Arc<dyn NamingEventListener> = self.listener.clone();
        let services = std::mem::take(&mut self.services);
        handle.spawn(async move {
            for service in services {
                let _ = naming
                    .unsubscribe(
                        service,
                        Some(group.clone()),
                        Vec::new(),
                        Arc::clone(&listener),
                    )
                    .await;
            }
        });
    }
}

/// Per-service lists kept for the keep-last-good rule.
#[derive(Default)]
struct Lists {
    by_service: BTreeMap<String, Vec<Instance>>,
}

impl Lists {
    /// Takes `fresh` for `service` unless it is an empty list replacing a non-empty one during
    /// the grace period; returns whether it was held back.
    fn update(&mut self, service: &str, fresh: Vec<Instance>, in_grace: bool) -> bool {
        let held = fresh.is_empty()
            && in_grace
            && self
                .by_service
                .get(service)
                .is_some_and(|old| !old.is_empty());
        if !held {
            self.by_service.insert(service.to_string(), fresh);
        }
        held
    }

    fn retain(&mut self, services: &BTreeSet<String>) {
        self.by_service.retain(|s, _| services.contains(s));
    }

    fn all(&self) -> Vec<Instance> {
        self.by_service.values().flatten().cloned().collect()
    }
}

/// What a round decided about the next wait.
struct Next {
    retry: Option<Duration>,
}

/// Interface level.
async fn interface_loop(inner: &Arc<Inner>, key: &ServiceKey, mut out: Publisher) {
    let (poke_tx, mut poke_rx) = mpsc::unbounded_channel();
    let mut subs = Subscriptions::new(inner.naming.clone(), inner.cfg.group.clone(), poke_tx);
    let mut lists = Lists::default();
    let mut epoch = inner.epoch.clone();
    let mut status = inner.status.clone();
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut last_scan: Option<Instant> = None;
    let mut services: BTreeSet<String> = BTreeSet::new();
    loop {
        let next = if !status.borrow_and_update().is_connected() && last_scan.is_some() {
            // Unreachable: keep what we have; the epoch bump brings us back.
            Next { retry: None }
        } else {
            match interface_round(
                inner,
                key,
                &mut subs,
                &mut lists,
                &mut services,
                &mut last_scan,
            )
            .await
            {
                Ok((all, poll)) => {
                    backoff.reset();
                    if !out.publish(all).await {
                        return;
                    }
                    let rescan = key.is_wildcard().then_some(inner.cfg.scan_interval);
                    Next {
                        retry: [poll, rescan].into_iter().flatten().min(),
                    }
                }
                Err(e) => {
                    debug!(interface = %key.interface, error = %e, "Nacos read failed; keeping the last providers");
                    Next {
                        retry: Some(backoff.next_delay()),
                    }
                }
            }
        };
        if !wait(&mut poke_rx, &mut epoch, &mut status, &out, next.retry).await {
            return;
        }
    }
}

/// Resolves the service names, subscribes, reads every list. Returns the union and, during
/// the grace period after a reconnection, when to read again.
async fn interface_round(
    inner: &Inner,
    key: &ServiceKey,
    subs: &mut Subscriptions,
    lists: &mut Lists,
    services: &mut BTreeSet<String>,
    last_scan: &mut Option<Instant>,
) -> Result<(Vec<Instance>, Option<Duration>), RegistryError> {
    if !key.is_wildcard() {
        *services = exact_service_names(key).into_iter().collect();
    } else if last_scan.is_none_or(|at| at.elapsed() >= inner.cfg.scan_interval) {
        *services = scan_services(inner, key).await?;
    }
    *last_scan = Some(Instant::now());
    let in_grace = inner.in_grace();
    for service in services.iter() {
        subs.ensure(service).await?;
        // Right after a reconnection the subscriptions are being redone and pushes may be
        // missing: ask the server itself, not nacos-sdk's push-fed cache.
        let raw = inner
            .naming
            .get_all_instances(
                service.clone(),
                Some(inner.cfg.group.clone()),
                Vec::new(),
                in_grace.is_none(),
            )
            .await
            .map_err(|e| nacos_error(&format!("list {service}"), e))?;
        let fresh: Vec<Instance> = raw
            .iter()
            .filter_map(|i| provider_instance(&key.interface, i))
            .collect();
        if lists.update(service, fresh, in_grace.is_some()) {
            debug!(%service, "empty list right after reconnection held back");
        }
    }
    lists.retain(services);
    Ok((lists.all(), grace_poll(in_grace)))
}

/// The `providers:{interface}:…` services in the group that `key` selects.
async fn scan_services(inner: &Inner, key: &ServiceKey) -> Result<BTreeSet<String>, RegistryError> {
    let mut found = BTreeSet::new();
    let page_size = 500;
    for page in 1..=200 {
        let (names, total) = inner
            .naming
            .get_service_list(page, page_size, Some(inner.cfg.group.clone()))
            .await
            .map_err(|e| nacos_error("list services", e))?;
        let count = names.len();
        for name in names {
            if let Some((interface, version, group)) = parse_provider_service_name(&name) {
                if interface == key.interface && key.matches(group.as_deref(), version.as_deref()) {
                    found.insert(name);
                }
            }
        }
        if count < usize::try_from(page_size).unwrap_or(usize::MAX)
            || i64::from(page) * i64::from(page_size) >= i64::from(total)
        {
            break;
        }
    }
    Ok(found)
}

/// One Nacos instance of an interface-level service as a routable instance.
pub fn provider_instance(interface: &str, raw: &ServiceInstance) -> Option<Instance> {
    if !raw.enabled || !raw.healthy {
        return None;
    }
    let port = u16::try_from(raw.port).ok()?;
    let meta = &raw.metadata;
    let protocol = meta
        .get("protocol")
        .cloned()
        .unwrap_or_else(|| "dubbo".into());
    let url = ProviderUrl {
        protocol,
        username: None,
        password: None,
        host: raw.ip.clone(),
        port,
        path: meta
            .get("path")
            .cloned()
            .unwrap_or_else(|| interface.to_string()),
        params: meta.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    if url.interface() != interface || url.category() != "providers" || !url.is_enabled() {
        return None;
    }
    url.to_instance()
        .map_err(|e| debug!(ip = %raw.ip, error = %e, "skipping a Nacos instance"))
        .ok()
}

/// A config's content; `None` when it does not exist.
pub(crate) async fn read_config(
    config: &ConfigService,
    data_id: &str,
    group: &str,
    timeout: Duration,
) -> Result<Option<String>, RegistryError> {
    let read = config.get_config(data_id.to_string(), group.to_string());
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(resp)) => Ok(Some(resp.content().clone())),
        Ok(Err(nacos_sdk::api::error::Error::ConfigNotFound(_))) => Ok(None),
        Ok(Err(e)) => Err(nacos_error(&format!("get config {data_id}/{group}"), e)),
        Err(_) => Err(RegistryError::Timeout {
            op: format!("get config {data_id}/{group}"),
            after: timeout,
        }),
    }
}

/// Waits for a push, a reconnection, the retry delay or the end of the watch; coalesces
/// pending pokes. `false` when the watch is gone.
async fn wait(
    pokes: &mut mpsc::UnboundedReceiver<()>,
    epoch: &mut watch::Receiver<(u64, Option<Instant>)>,
    status: &mut watch::Receiver<RegistryStatus>,
    out: &Publisher,
    retry: Option<Duration>,
) -> bool {
    let delay = async {
        match retry {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let go_on = tokio::select! {
        poke = pokes.recv() => poke.is_some(),
        changed = epoch.changed() => changed.is_ok(),
        changed = status.changed() => changed.is_ok(),
        _ = delay => true,
        _ = out.closed() => false,
    };
    // Pushes often come in bursts: let them settle a moment, then read once.
    if go_on {
        tokio::time::sleep(Duration::from_millis(20)).await;
        while pokes.try_recv().is_ok() {}
    }
    go_on
}

pub(crate) fn nacos_error(op: &str, e: nacos_sdk::api::error::Error) -> RegistryError {
    RegistryError::Nacos {
        op: op.to_string(),
        reason: e.to_string(),
    }
}

/// The Nacos service an interface-level key without wildcards maps to.
pub fn exact_service_names(key: &ServiceKey) -> Vec<String> {
    vec![provider_service_name(
        &key.interface,
        key.version.as_deref(),
        key.group.as_deref(),
    )]
}

#[cfg(test)]
mod tests;

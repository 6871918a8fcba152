//! Discovery from ZooKeeper, in Dubbo's two layouts.
//!
//! - **Interface level**: `/{root}/{interface}/providers/{URL-encoded provider URL}`; one child
//!   watch, re-armed after every event; every event re-lists the children into a full list.
//! - **Application level** (Dubbo 3): the mapping node `/{root}/mapping/{interface}` (content:
//!   comma-separated application names), the Curator instances under `/services/{app}/{ip:port}`,
//!   and per instance revision the `MetadataInfo` — from `/{root}/metadata/{app}/{revision}` when
//!   the instance says `storage-type=remote`, otherwise from the provider's MetadataService
//!   (see [`crate::metadata`]). Every watched node (mapping, app children, instance data)
//!   triggers a rebuild of the full list.
//!
//! One ZooKeeper session is shared by all watches of a [`ZkDiscover`]. A manager task connects
//! (retrying with backoff), publishes the client, reports the [`RegistryStatus`], and on
//! reconnection bumps an epoch that makes every watch re-read (events during a disconnection
//! can be lost, ZOOKEEPER-4698). When the session expires a new one is made and every watch
//! re-subscribes. While ZooKeeper is unreachable nothing is published: the last lists stay.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::select_all;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};
use zookeeper_client as zk;

use crate::discover::{merge, Backoff, Discover, Emitter, Publisher, RegistryMode, Watch};
use crate::error::RegistryError;
use crate::instance::{Instance, RegistryStatus, ServiceKey};
use crate::metadata::{
    definition_report_path, fetch_metadata, AppInstance, MetadataCache, MetadataError,
    MetadataInfo, ServiceDefinition, StorageType,
};
use crate::url::{form_encode, ProviderUrl};

mod application;

use application::application_loop;

/// Settings of a ZooKeeper registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkConfig {
    /// Connect string: `host:port[,host:port…]`.
    pub address: String,
    /// Dubbo's root node (the registry `group`), default `dubbo`.
    pub root: String,
    /// Curator service-discovery root for application-level instances, default `services`
    /// (Dubbo uses the registry `group` here too when one is set: see [`ZkConfig::with_group`]).
    pub services_root: String,
    /// Which layout(s) to read.
    pub mode: RegistryMode,
    /// Session timeout asked for (the server clamps it), default 10 s.
    pub session_timeout: Duration,
    /// Deadline of one MetadataService call, default 3 s.
    pub metadata_timeout: Duration,
    /// Digest authentication user (`addauth digest user:password`).
    pub username: Option<String>,
    /// Digest authentication password.
    pub password: Option<String>,
}

impl ZkConfig {
    /// Defaults for `address`.
    pub fn new(address: impl Into<String>) -> Self {
        ZkConfig {
            address: address.into(),
            root: "dubbo".into(),
            services_root: "services".into(),
            mode: RegistryMode::Interface,
            session_timeout: Duration::from_secs(10),
            metadata_timeout: Duration::from_secs(3),
            username: None,
            password: None,
        }
    }

    /// Sets the mode.
    pub fn with_mode(mut self, mode: RegistryMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets Dubbo's registry `group` (`zookeeper://…?group=g`): Dubbo then uses `/g` as the
    /// root of the interface-level, mapping and metadata nodes **and** of the application
    /// instances (`/g/{app}/{ip:port}` instead of `/services/{app}/…`).
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        let group = group.into();
        self.root = group.clone();
        self.services_root = group;
        self
    }

    /// Sets the session timeout.
    pub fn with_session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    fn validate(&self) -> Result<(), RegistryError> {
        if self.address.trim().is_empty() {
            return Err(RegistryError::Config("ZooKeeper address is empty".into()));
        }
        for (name, value) in [("root", &self.root), ("services_root", &self.services_root)] {
            let trimmed = value.trim_matches('/');
            if trimmed.is_empty() || !trimmed.split('/').all(is_node_name) {
                return Err(RegistryError::Config(format!(
                    "ZooKeeper {name} {value:?} is not a valid node path"
                )));
            }
        }
        if self.session_timeout.is_zero() || self.metadata_timeout.is_zero() {
            return Err(RegistryError::Config(
                "ZooKeeper timeouts must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// The published session: the client (while there is a live session) and an epoch bumped on
/// every (re)connection.
#[derive(Clone, Default)]
struct Conn {
    client: Option<zk::Client>,
    epoch: u64,
}

struct Inner {
    cfg: ZkConfig,
    root: String,
    services_root: String,
    conn: watch::Receiver<Conn>,
    status: watch::Receiver<RegistryStatus>,
    manager: JoinHandle<()>,
    cache: MetadataCache,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.manager.abort();
    }
}

/// ZooKeeper discovery. Cheap to clone; all clones and watches share one session.
#[derive(Clone)]
pub struct ZkDiscover {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ZkDiscover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkDiscover")
            .field("address", &self.inner.cfg.address)
            .field("mode", &self.inner.cfg.mode)
            .field("status", &*self.inner.status.borrow())
            .finish()
    }
}

type Waiter = Pin<Box<dyn Future<Output = ()> + Send>>;

fn waiter(w: zk::OneshotWatcher) -> Waiter {
    Box::pin(async move {
        w.changed().await;
    })
}

impl ZkDiscover {
    /// Starts the session manager (connecting in the background, retrying until it works).
    /// Must be called inside a tokio runtime.
    pub fn new(cfg: ZkConfig) -> Result<ZkDiscover, RegistryError> {
        cfg.validate()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(RegistryError::Config(
                "ZkDiscover::new must run inside a tokio runtime".into(),
            ));
        }
        let (conn_tx, conn_rx) = watch::channel(Conn::default());
        let (status_tx, status_rx) = watch::channel(RegistryStatus::Connecting);
        let manager = tokio::spawn(manage(cfg.clone(), conn_tx, status_tx));
        Ok(ZkDiscover {
            inner: Arc::new(Inner {
                root: format!("/{}", cfg.root.trim_matches('/')),
                services_root: format!("/{}", cfg.services_root.trim_matches('/')),
                cfg,
                conn: conn_rx,
                status: status_rx,
                manager,
                cache: MetadataCache::new(),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ZkConfig {
        &self.inner.cfg
    }

    /// The session status now.
    pub fn status(&self) -> RegistryStatus {
        self.inner.status.borrow().clone()
    }

    /// Status updates.
    pub fn status_receiver(&self) -> watch::Receiver<RegistryStatus> {
        self.inner.status.clone()
    }

    /// Waits until a session is established.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), RegistryError> {
        let mut status = self.inner.status.clone();
        let waited = tokio::time::timeout(timeout, status.wait_for(RegistryStatus::is_connected))
            .await
            .map(|r| r.is_ok());
        match waited {
            Ok(true) => Ok(()),
            Ok(false) => Err(RegistryError::NotConnected(
                "ZooKeeper manager stopped".into(),
            )),
            Err(_) => Err(RegistryError::Timeout {
                op: format!("connecting to ZooKeeper {}", self.inner.cfg.address),
                after: timeout,
            }),
        }
    }

    /// The applications that provide `interface` (the mapping node; empty when there is none).
    pub async fn applications(&self, interface: &str) -> Result<Vec<String>, RegistryError> {
        let client = self.client()?;
        let path = format!("{}/mapping/{interface}", self.inner.root);
        match client.get_data(&path).await {
            Ok((data, _)) => Ok(parse_apps(&data)),
            Err(zk::Error::NoNode) => Ok(Vec::new()),
            Err(e) => Err(zk_error(&format!("get {path}"), e)),
        }
    }

    /// The service definition (with parameter types) `app` reported for a service, from the
    /// metadata report (`/{root}/metadata/{interface}[/{version}][/{group}]/provider/{app}`).
    /// `None` when the provider reported none.
    pub async fn service_definition(
        &self,
        interface: &str,
        version: Option<&str>,
        group: Option<&str>,
        app: &str,
    ) -> Result<Option<ServiceDefinition>, RegistryError> {
        let client = self.client()?;
        let path = format!(
            "{}/{}",
            self.inner.root,
            definition_report_path(interface, version, group, app)
        );
        match client.get_data(&path).await {
            Ok((data, _)) => Ok(Some(ServiceDefinition::from_json_bytes(&data)?)),
            Err(zk::Error::NoNode) => Ok(None),
            Err(e) => Err(zk_error(&format!("get {path}"), e)),
        }
    }

    fn client(&self) -> Result<zk::Client, RegistryError> {
        self.inner
            .conn
            .borrow()
            .client
            .clone()
            .ok_or_else(|| RegistryError::NotConnected(self.status_text()))
    }

    fn status_text(&self) -> String {
        match &*self.inner.status.borrow() {
            RegistryStatus::Disconnected { reason, .. } => reason.clone(),
            other => format!("{other:?}"),
        }
    }
}

impl Discover for ZkDiscover {
    fn watch(&self, key: &ServiceKey) -> Watch {
        let (emitter, rx) = Emitter::channel(key);
        let inner = Arc::clone(&self.inner);
        let task_key = key.clone();
        let task = tokio::spawn(async move {
            let inner = &*inner;
            let key = &task_key;
            if !is_node_name(&key.interface) {
                warn!(interface = %key.interface, "not a valid interface name; nothing to watch");
                emitter.closed().await;
                return;
            }
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

/// Connects, publishes the client, follows its session state, reconnects after expiry.
async fn manage(
    cfg: ZkConfig,
    conn_tx: watch::Sender<Conn>,
    status_tx: watch::Sender<RegistryStatus>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut epoch = 0u64;
    loop {
        let mut connector = zk::Client::connector()
            .with_session_timeout(cfg.session_timeout)
            .with_fail_eagerly();
        if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
            connector = connector.with_auth("digest", format!("{user}:{pass}").as_bytes());
        }
        let attempt = tokio::time::timeout(
            cfg.session_timeout + Duration::from_secs(2),
            connector.connect(&cfg.address),
        )
        .await;
        let client = match attempt {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                set_disconnected(
                    &status_tx,
                    format!("cannot connect to {}: {e}", cfg.address),
                );
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
            Err(_) => {
                set_disconnected(
                    &status_tx,
                    format!("no session with {} in time", cfg.address),
                );
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        backoff.reset();
        epoch += 1;
        info!(address = %cfg.address, session = ?client.session_id(), "ZooKeeper session established");
        let mut states = client.state_watcher();
        conn_tx.send_replace(Conn {
            client: Some(client.clone()),
            epoch,
        });
        status_tx.send_replace(RegistryStatus::Connected);
        loop {
            match states.changed().await {
                zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                    epoch += 1;
                    info!(address = %cfg.address, "ZooKeeper connection restored; resubscribing");
                    conn_tx.send_modify(|c| c.epoch = epoch);
                    status_tx.send_replace(RegistryStatus::Connected);
                }
                zk::SessionState::Disconnected => {
                    warn!(address = %cfg.address, "ZooKeeper connection lost; keeping the last known providers");
                    set_disconnected(&status_tx, "connection to ZooKeeper lost".into());
                }
                terminal => {
                    warn!(address = %cfg.address, state = ?terminal, "ZooKeeper session ended; reconnecting");
                    set_disconnected(&status_tx, format!("ZooKeeper session {terminal:?}"));
                    break;
                }
            }
        }
        conn_tx.send_replace(Conn {
            client: None,
            epoch,
        });
        drop(client);
    }
}

/// Marks the status disconnected, keeping the first `since` of an ongoing outage.
fn set_disconnected(status: &watch::Sender<RegistryStatus>, reason: String) {
    status.send_if_modified(|s| match s {
        RegistryStatus::Disconnected { reason: r, .. } if *r == reason => false,
        RegistryStatus::Disconnected { reason: r, .. } => {
            *r = reason;
            true
        }
        _ => {
            *s = RegistryStatus::Disconnected {
                since: std::time::Instant::now(),
                reason,
            };
            true
        }
    });
}

/// The current client, waiting for one; `None` when the manager is gone.
async fn current_client(conn: &mut watch::Receiver<Conn>) -> Option<zk::Client> {
    loop {
        if let Some(client) = conn.borrow_and_update().client.clone() {
            return Some(client);
        }
        conn.changed().await.ok()?;
    }
}

/// What ends a wait inside a watch loop.
enum Wake {
    /// Something changed (or the retry delay passed): read again.
    Again,
    /// The watch or the manager is gone.
    Stop,
}

/// Waits for any of `waiters`, a new session epoch, the retry delay, or the end of the watch.
async fn wait(
    waiters: Vec<Waiter>,
    conn: &mut watch::Receiver<Conn>,
    out: &Publisher,
    retry: Option<Duration>,
) -> Wake {
    let any = async {
        if waiters.is_empty() {
            std::future::pending::<()>().await;
        } else {
            select_all(waiters).await;
        }
    };
    let delay = async {
        match retry {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = any => Wake::Again,
        _ = delay => Wake::Again,
        changed = conn.changed() => if changed.is_ok() { Wake::Again } else { Wake::Stop },
        _ = out.closed() => Wake::Stop,
    }
}

/// Interface level: list `/{root}/{interface}/providers` with a child watch, publish, repeat.
async fn interface_loop(inner: &Inner, key: &ServiceKey, mut out: Publisher) {
    let path = format!("{}/{}/providers", inner.root, form_encode(&key.interface));
    let mut conn = inner.conn.clone();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        let client = tokio::select! {
            c = current_client(&mut conn) => c,
            _ = out.closed() => None,
        };
        let Some(client) = client else { return };
        let wake = match children_watch(&client, &path).await {
            Ok((children, w)) => {
                backoff.reset();
                let instances = provider_instances(&key.interface, &children);
                debug!(%path, providers = instances.len(), "ZooKeeper providers");
                if !out.publish(instances).await {
                    return;
                }
                wait(vec![w], &mut conn, &out, None).await
            }
            Err(e) => {
                debug!(%path, error = %e, "ZooKeeper read failed; keeping the last providers");
                wait(Vec::new(), &mut conn, &out, Some(backoff.next_delay())).await
            }
        };
        if let Wake::Stop = wake {
            return;
        }
    }
}

/// Children of `path` with a watch; a missing node is an empty list watched for creation.
async fn children_watch(
    client: &zk::Client,
    path: &str,
) -> Result<(Vec<String>, Waiter), zk::Error> {
    for _ in 0..3 {
        match client.get_and_watch_children(path).await {
            Ok((children, _, w)) => return Ok((children, waiter(w))),
            Err(zk::Error::NoNode) => match client.check_and_watch_stat(path).await? {
                (None, w) => return Ok((Vec::new(), waiter(w))),
                // Created in between: list again.
                (Some(_), _) => continue,
            },
            Err(e) => return Err(e),
        }
    }
    Err(zk::Error::UnexpectedError(format!(
        "{path} keeps appearing and vanishing"
    )))
}

/// Data of `path` with a watch; `None` (watched for creation) when missing.
async fn data_watch(
    client: &zk::Client,
    path: &str,
) -> Result<(Option<Vec<u8>>, Waiter), zk::Error> {
    for _ in 0..3 {
        match client.get_and_watch_data(path).await {
            Ok((data, _, w)) => return Ok((Some(data), waiter(w))),
            Err(zk::Error::NoNode) => match client.check_and_watch_stat(path).await? {
                (None, w) => return Ok((None, waiter(w))),
                (Some(_), _) => continue,
            },
            Err(e) => return Err(e),
        }
    }
    Err(zk::Error::UnexpectedError(format!(
        "{path} keeps appearing and vanishing"
    )))
}

/// The routable providers among encoded provider-URL node names.
pub fn provider_instances(interface: &str, children: &[String]) -> Vec<Instance> {
    let mut out = Vec::with_capacity(children.len());
    for child in children {
        let url = match ProviderUrl::parse(child) {
            Ok(url) => url,
            Err(e) => {
                debug!(node = %child, error = %e, "skipping a provider node that is not a URL");
                continue;
            }
        };
        if url.interface() != interface || url.category() != "providers" || !url.is_enabled() {
            continue;
        }
        if url.side().is_some_and(|s| s != "provider") {
            continue;
        }
        match url.to_instance() {
            Ok(instance) => out.push(instance),
            Err(e) => debug!(node = %child, error = %e, "skipping a provider"),
        }
    }
    out
}

/// The application names in a mapping node's content (comma separated, invalid names dropped).
pub fn parse_apps(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut apps: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|a| is_node_name(a) && !a.contains(char::REPLACEMENT_CHARACTER))
        .map(str::to_string)
        .collect();
    apps.sort();
    apps.dedup();
    apps
}

/// True for a usable single ZooKeeper node name.
fn is_node_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 1024
        && !name.contains('/')
        && !name.chars().any(char::is_control)
}

fn zk_error(op: &str, e: zk::Error) -> RegistryError {
    RegistryError::ZooKeeper {
        op: op.to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests;

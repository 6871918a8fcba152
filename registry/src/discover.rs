//! The [`Discover`] trait and the [`Watch`] handle every registry hands out.
//!
//! A watch is a background task per [`ServiceKey`] feeding a bounded channel of [`Change`]s;
//! registries deliver full lists, so the task sends [`Change::Reset`] whenever the selected set
//! differs from the last one sent (never twice the same set). The registry connection state is
//! shared through a `tokio::sync::watch` of [`RegistryStatus`]. Dropping the [`Watch`] stops its
//! task.
//!
//! Keep-last-good: a task never sends an empty `Reset` because the registry became unreachable;
//! it keeps quiet (and the status says `Disconnected`) until the registry answers again.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::instance::{Change, Instance, RegistryStatus, ServiceKey};

/// How many changes may wait for a slow consumer before the producer waits too.
pub const WATCH_CHANNEL: usize = 64;

/// A source of provider instances.
///
/// `watch` must be called inside a tokio runtime; it returns at once and the first
/// [`Change::Reset`] follows as soon as the registry answered.
pub trait Discover: Send + Sync + 'static {
    /// Starts watching the providers selected by `key`.
    fn watch(&self, key: &ServiceKey) -> Watch;
}

/// A stream of [`Change`]s for one [`ServiceKey`], plus the registry status.
#[derive(Debug)]
pub struct Watch {
    key: ServiceKey,
    changes: mpsc::Receiver<Change>,
    status: watch::Receiver<RegistryStatus>,
    task: Option<JoinHandle<()>>,
}

impl Watch {
    /// Wraps a receiver fed by `task` (aborted when the watch is dropped).
    pub fn new(
        key: ServiceKey,
        changes: mpsc::Receiver<Change>,
        status: watch::Receiver<RegistryStatus>,
        task: Option<JoinHandle<()>>,
    ) -> Self {
        Watch {
            key,
            changes,
            status,
            task,
        }
    }

    /// The key being watched.
    pub fn key(&self) -> &ServiceKey {
        &self.key
    }

    /// The next change; `None` once the watch ended (its source was dropped).
    pub async fn next(&mut self) -> Option<Change> {
        self.changes.recv().await
    }

    /// The registry status right now.
    pub fn status(&self) -> RegistryStatus {
        self.status.borrow().clone()
    }

    /// A receiver of status updates (e.g. to export as a metric or readiness signal).
    pub fn status_receiver(&self) -> watch::Receiver<RegistryStatus> {
        self.status.clone()
    }
}

impl Stream for Watch {
    type Item = Change;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Change>> {
        self.changes.poll_recv(cx)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The sending side of a watch: filters by key, sorts, and sends a `Reset` only when the set
/// changed.
#[derive(Debug)]
pub(crate) struct Emitter {
    key: ServiceKey,
    tx: mpsc::Sender<Change>,
    last: Option<Vec<Instance>>,
}

impl Emitter {
    /// A channel pair for `key`.
    pub(crate) fn channel(key: &ServiceKey) -> (Emitter, mpsc::Receiver<Change>) {
        let (tx, rx) = mpsc::channel(WATCH_CHANNEL);
        (
            Emitter {
                key: key.clone(),
                tx,
                last: None,
            },
            rx,
        )
    }

    /// Sends the instances of `all` that the key selects, as a `Reset`, if they differ from the
    /// last set sent. Returns `false` when the watch was dropped (the task should end).
    pub(crate) async fn reset(&mut self, all: Vec<Instance>) -> bool {
        let selected = select(&self.key, all);
        if self.last.as_ref() == Some(&selected) {
            return !self.tx.is_closed();
        }
        self.last = Some(selected.clone());
        self.tx.send(Change::Reset(selected)).await.is_ok()
    }

    /// The last set sent, if any.
    #[cfg(test)]
    pub(crate) fn last(&self) -> Option<&[Instance]> {
        self.last.as_deref()
    }

    /// True when the watch was dropped.
    #[cfg(test)]
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Resolves when the watch is dropped.
    pub(crate) async fn closed(&self) {
        self.tx.closed().await
    }
}

/// Which registry layout(s) a watch reads, named after Dubbo's `register-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryMode {
    /// Interface level: one entry per provider URL (`/dubbo/{interface}/providers`, Nacos
    /// `providers:{interface}:{version}:{group}`). pixiu's `registry_type: interface`.
    #[default]
    Interface,
    /// Application level (Dubbo 3): interface → application mapping, application instances,
    /// `MetadataInfo` per revision. pixiu's `registry_type: service`.
    Application,
    /// Both, merged (an instance found both ways is taken from the interface level).
    All,
}

impl std::str::FromStr for RegistryMode {
    type Err = String;

    /// `interface`; `application`, `instance` or `service`; `all`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "interface" => Ok(RegistryMode::Interface),
            "application" | "instance" | "service" => Ok(RegistryMode::Application),
            "all" => Ok(RegistryMode::All),
            other => Err(format!(
                "unknown registry mode {other:?} (interface, application/instance/service or all)"
            )),
        }
    }
}

/// Where a producer task sends its full lists: straight to the watch, or to a merger when one
/// watch combines several layouts ([`RegistryMode::All`]).
#[derive(Debug)]
pub(crate) enum Publisher {
    /// The only producer of the watch.
    Direct(Emitter),
    /// Part `index` of a merged watch.
    Part {
        /// Which part this is.
        index: usize,
        /// The merger's input.
        tx: mpsc::Sender<(usize, Vec<Instance>)>,
    },
}

impl Publisher {
    /// Publishes the current full list; `false` when the watch is gone.
    pub(crate) async fn publish(&mut self, all: Vec<Instance>) -> bool {
        match self {
            Publisher::Direct(emitter) => emitter.reset(all).await,
            Publisher::Part { index, tx } => tx.send((*index, all)).await.is_ok(),
        }
    }

    /// Resolves when the watch is gone.
    pub(crate) async fn closed(&self) {
        match self {
            Publisher::Direct(emitter) => emitter.closed().await,
            Publisher::Part { tx, .. } => tx.closed().await,
        }
    }
}

/// Merges the latest list of each part into one watch: the union (earlier parts win on equal
/// ids), sent once every part reported at least once or, failing that, as soon as any did.
pub(crate) async fn merge(
    mut emitter: Emitter,
    mut rx: mpsc::Receiver<(usize, Vec<Instance>)>,
    parts: usize,
) {
    let mut latest: Vec<Option<Vec<Instance>>> = vec![None; parts];
    loop {
        tokio::select! {
            next = rx.recv() => {
                let Some((index, list)) = next else { return };
                if let Some(slot) = latest.get_mut(index) {
                    *slot = Some(list);
                }
                let union: Vec<Instance> = latest.iter().flatten().flatten().cloned().collect();
                if !emitter.reset(union).await {
                    return;
                }
            }
            _ = emitter.closed() => return,
        }
    }
}

/// Exponential backoff for retries against an unreachable registry.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: std::time::Duration,
    min: std::time::Duration,
    max: std::time::Duration,
}

impl Backoff {
    /// Starts at `min`, doubles up to `max`.
    pub(crate) fn new(min: std::time::Duration, max: std::time::Duration) -> Self {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    /// The delay to wait now (and doubles the next one).
    pub(crate) fn next_delay(&mut self) -> std::time::Duration {
        let now = self.next;
        self.next = (self.next * 2).min(self.max);
        now
    }

    /// Back to the shortest delay after a success.
    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }
}

/// Keeps the instances `key` selects (interface is assumed checked by the caller), sorted by id
/// with duplicates (same id) removed, the first one kept.
pub(crate) fn select(key: &ServiceKey, all: Vec<Instance>) -> Vec<Instance> {
    let mut selected: Vec<Instance> = all
        .into_iter()
        .filter(|i| key.matches(i.group.as_deref(), i.version.as_deref()))
        .collect();
    selected.sort_by_key(Instance::id);
    selected.dedup_by_key(|i| i.id());
    selected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::Protocol;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn inst(port: u16, group: Option<&str>, version: Option<&str>) -> Instance {
        Instance {
            addr: ([127, 0, 0, 1], port).into(),
            protocol: Protocol::Dubbo,
            weight: 100,
            warmup: Duration::ZERO,
            started_at: None,
            group: group.map(str::to_string),
            version: version.map(str::to_string),
            params: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn emitter_filters_sorts_and_skips_repeats() {
        let key = ServiceKey::new("I").with_version("1");
        let (mut em, mut rx) = Emitter::channel(&key);
        assert!(
            em.reset(vec![
                inst(2, None, Some("1")),
                inst(1, None, Some("1")),
                inst(3, Some("g"), Some("1")),
                inst(4, None, Some("2")),
                inst(1, None, Some("1")),
            ])
            .await
        );
        let Some(Change::Reset(got)) = rx.recv().await else {
            panic!("expected a reset")
        };
        let ports: Vec<u16> = got.iter().map(|i| i.addr.port()).collect();
        assert_eq!(ports, [1, 2]);
        // Same set in another order: nothing sent.
        assert!(
            em.reset(vec![inst(1, None, Some("1")), inst(2, None, Some("1"))])
                .await
        );
        assert!(rx.try_recv().is_err());
        // An empty set is sent once.
        assert!(em.reset(Vec::new()).await);
        assert_eq!(rx.recv().await, Some(Change::Reset(Vec::new())));
        assert_eq!(em.last(), Some(&[][..]));
        drop(rx);
        assert!(!em.reset(vec![inst(9, None, Some("1"))]).await);
        assert!(em.is_closed());
    }

    #[test]
    fn registry_modes_parse() {
        for (text, want) in [
            ("interface", Ok(RegistryMode::Interface)),
            (" Interface ", Ok(RegistryMode::Interface)),
            ("application", Ok(RegistryMode::Application)),
            ("instance", Ok(RegistryMode::Application)),
            ("service", Ok(RegistryMode::Application)),
            ("all", Ok(RegistryMode::All)),
        ] {
            assert_eq!(text.parse::<RegistryMode>(), want, "{text}");
        }
        assert!("both".parse::<RegistryMode>().is_err());
    }

    #[test]
    fn backoff_doubles_and_resets() {
        let ms = std::time::Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(350));
        let got: Vec<_> = (0..4).map(|_| b.next_delay()).collect();
        assert_eq!(got, [ms(100), ms(200), ms(350), ms(350)]);
        b.reset();
        assert_eq!(b.next_delay(), ms(100));
    }

    #[tokio::test]
    async fn merger_unions_parts_first_part_wins() {
        let key = ServiceKey::new("I");
        let (emitter, mut out) = Emitter::channel(&key);
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(merge(emitter, rx, 2));
        let mut a = inst(1, None, None);
        a.weight = 1;
        let mut b = inst(1, None, None);
        b.weight = 2;
        tx.send((1, vec![b.clone(), inst(2, None, None)]))
            .await
            .unwrap();
        let Some(Change::Reset(first)) = out.recv().await else {
            panic!()
        };
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].weight, 2);
        tx.send((0, vec![a.clone()])).await.unwrap();
        let Some(Change::Reset(second)) = out.recv().await else {
            panic!()
        };
        assert_eq!(second.len(), 2);
        assert_eq!(second[0].weight, 1, "part 0 wins on equal ids");
        // Out-of-range parts are ignored, not a panic.
        tx.send((7, vec![inst(9, None, None)])).await.unwrap();
        tx.send((1, Vec::new())).await.unwrap();
        let Some(Change::Reset(third)) = out.recv().await else {
            panic!()
        };
        assert_eq!(third.len(), 1);
        drop(out);
        tx.send((0, Vec::new())).await.ok();
        tokio::time::timeout(std::time::Duration::from_secs(1), task)
            .await
            .expect("merger ends when the watch is gone")
            .unwrap();
    }

    #[tokio::test]
    async fn dropping_the_watch_aborts_its_task() {
        let (tx, rx) = mpsc::channel(1);
        let (_status_tx, status_rx) = watch::channel(RegistryStatus::Connecting);
        let task = tokio::spawn(async move {
            let _keep = tx;
            std::future::pending::<()>().await;
        });
        let abort = task.abort_handle();
        let watch = Watch::new(ServiceKey::new("I"), rx, status_rx, Some(task));
        assert_eq!(watch.status(), RegistryStatus::Connecting);
        drop(watch);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(abort.is_finished());
    }
}

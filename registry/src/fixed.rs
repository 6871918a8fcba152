//! Static instances (a cluster's configured endpoints): every watch gets one
//! [`Change::Reset`] and then stays open, with the status always `Connected`.
//!
//! Group and version are not used for selection here: a static endpoint serves whatever the call
//! names. An instance whose `interface` parameter is set is only given to watches of that
//! interface.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::discover::{Discover, Watch};
use crate::instance::{Change, Instance, InstanceId, RegistryStatus, ServiceKey};
use crate::url::{ProviderUrl, UrlError};

/// A fixed list of instances.
#[derive(Debug, Clone)]
pub struct FixedDiscover {
    instances: Arc<Vec<Instance>>,
    status: watch::Receiver<RegistryStatus>,
    _status_tx: Arc<watch::Sender<RegistryStatus>>,
}

impl FixedDiscover {
    /// Serves `instances` to every watch.
    pub fn new(instances: Vec<Instance>) -> Self {
        let (tx, rx) = watch::channel(RegistryStatus::Connected);
        FixedDiscover {
            instances: Arc::new(instances),
            status: rx,
            _status_tx: Arc::new(tx),
        }
    }

    /// Parses provider URLs (`dubbo://10.0.0.1:20880/org.A?weight=5`, `tri://…`).
    pub fn from_urls<S: AsRef<str>>(urls: &[S]) -> Result<Self, UrlError> {
        let instances = urls
            .iter()
            .map(|u| ProviderUrl::parse(u.as_ref()).and_then(|u| u.to_instance()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(instances))
    }

    /// The instances given to a watch of `key`.
    pub fn instances_for(&self, key: &ServiceKey) -> Vec<Instance> {
        let mut out: Vec<Instance> = self
            .instances
            .iter()
            .filter(|i| {
                i.param("interface")
                    .is_none_or(|iface| iface == key.interface)
            })
            .cloned()
            .collect();
        out.sort_by_key(Instance::id);
        out.dedup_by_key(|i| i.id());
        out
    }
}

impl Discover for FixedDiscover {
    fn watch(&self, key: &ServiceKey) -> Watch {
        // One Reset, then the task holds the sender until the watch is dropped, so the stream
        // stays open (a static list never changes, but it never ends either).
        let (tx, rx) = mpsc::channel(1);
        let first = Change::Reset(self.instances_for(key));
        let task = tokio::spawn(async move {
            if tx.send(first).await.is_ok() {
                tx.closed().await;
            }
        });
        Watch::new(key.clone(), rx, self.status.clone(), Some(task))
    }
}

/// Convenience: the ids of a list of instances.
pub fn ids(instances: &[Instance]) -> Vec<InstanceId> {
    instances.iter().map(Instance::id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_reset_then_quiet() {
        let fixed = FixedDiscover::from_urls(&[
            "dubbo://127.0.0.1:2/any?weight=5",
            "tri://127.0.0.1:1/any",
            "dubbo://127.0.0.1:3/x?interface=org.Other",
            "dubbo://127.0.0.1:4/x?interface=org.A&version=9",
        ])
        .unwrap();
        let mut watch = fixed.watch(&ServiceKey::new("org.A").with_version("1.0.0"));
        let Some(Change::Reset(got)) = watch.next().await else {
            panic!("expected a reset")
        };
        let ports: Vec<u16> = got.iter().map(|i| i.addr.port()).collect();
        assert_eq!(
            ports,
            [2, 4, 1],
            "sorted by id: dubbo before tri, org.Other left out"
        );
        assert_eq!(got[0].weight, 5);
        assert!(watch.status().is_connected());
        let more = tokio::time::timeout(Duration::from_millis(50), watch.next()).await;
        assert!(more.is_err(), "the stream stays open and quiet");
        assert_eq!(ids(&got).len(), 3);
    }

    #[test]
    fn bad_urls_are_errors() {
        for bad in [
            "",
            "dubbo://host.name:1/a",
            "rest://1.1.1.1:1/a",
            "dubbo://1.1.1.1/a",
        ] {
            assert!(FixedDiscover::from_urls(&[bad]).is_err(), "{bad:?}");
        }
    }
}

//! The gateway's own instance in Nacos (`registration` in conf.yaml): registered once the
//! listeners are bound (retried in the background while Nacos is unreachable, so the gateway
//! serves regardless), kept alive by the Nacos client, and removed first thing on graceful
//! shutdown so that clients stop choosing this gateway before it stops accepting.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tianlu_api_config::bootstrap::registration::Registration;
use tianlu_registry::{NacosRegistration, SelfInstance};
use tokio::sync::Mutex;

/// A registration in progress or done.
pub struct SelfRegistration {
    instance: SelfInstance,
    done: Arc<Mutex<Option<NacosRegistration>>>,
    task: tokio::task::JoinHandle<()>,
    timeout: Duration,
}

/// The address to register: `ip` if set, else the first listener's IP if it is a specific
/// one, else this host's address as its name resolves, else loopback.
async fn advertised_ip(cfg: &Registration, first: SocketAddr) -> IpAddr {
    if let Some(ip) = cfg.ip {
        return ip;
    }
    if !first.ip().is_unspecified() {
        return first.ip();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    if let Some(host) = host {
        if let Ok(addrs) = tokio::net::lookup_host((host.as_str(), 0)).await {
            let addrs: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
            if let Some(ip) = addrs
                .iter()
                .find(|ip| ip.is_ipv4() && !ip.is_loopback())
                .or_else(|| addrs.iter().find(|ip| !ip.is_loopback()))
            {
                return *ip;
            }
        }
    }
    tracing::warn!(
        "registration: no address found for this host; registering 127.0.0.1 (set registration.ip)"
    );
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

impl SelfRegistration {
    /// Starts registering; `listeners` are the bound listeners (name, address), the first one
    /// gives the default port.
    pub async fn start(cfg: &Registration, listeners: &[(String, SocketAddr)]) -> Self {
        let first = listeners
            .first()
            .map(|(_, a)| *a)
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        let ip = advertised_ip(cfg, first).await;
        let port = cfg.port.unwrap_or(first.port());
        let names: Vec<String> = listeners.iter().map(|(n, a)| format!("{n}={a}")).collect();
        let mut me = SelfInstance::new(cfg.service.clone(), ip.to_string(), port)
            .with_listeners(&names)
            .with_version(env!("CARGO_PKG_VERSION"));
        me.weight = cfg.weight;
        if let Some(g) = &cfg.registry.group {
            me.group = g.clone();
        }
        for (k, v) in &cfg.metadata {
            me = me.with_metadata(k.clone(), v.clone());
        }
        let nacos = crate::discovery::nacos_config(&cfg.registry);
        let done = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&done);
        let instance = me.clone();
        let timeout = cfg.registry.timeout;
        let task = tokio::spawn(async move {
            let mut delay = Duration::from_millis(500);
            loop {
                match tokio::time::timeout(timeout, NacosRegistration::register(&nacos, me.clone()))
                    .await
                {
                    Ok(Ok(r)) => {
                        *slot.lock().await = Some(r);
                        return;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "registration in Nacos failed; retrying in {delay:?}")
                    }
                    Err(_) => tracing::warn!(
                        "registration in Nacos got no answer within {timeout:?}; retrying in {delay:?}"
                    ),
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        });
        SelfRegistration {
            instance,
            done,
            task,
            timeout,
        }
    }

    /// What is (being) registered.
    pub fn instance(&self) -> &SelfInstance {
        &self.instance
    }

    /// Stops retrying and removes the instance from Nacos (bounded by the registry timeout).
    pub async fn deregister(self) {
        self.task.abort();
        let Some(r) = self.done.lock().await.take() else {
            return;
        };
        match tokio::time::timeout(self.timeout, r.deregister()).await {
            Ok(Ok(())) => tracing::info!("deregistered from Nacos"),
            Ok(Err(e)) => tracing::warn!(error = %e, "deregistration from Nacos failed"),
            Err(_) => tracing::warn!("deregistration from Nacos got no answer in time"),
        }
    }
}

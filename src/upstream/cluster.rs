//! A cluster: a named, atomically replaceable snapshot of provider endpoints plus the balancer
//! built for that snapshot. Requests load the snapshot once and pick from it; endpoint churn
//! (static config today, registry events later) builds a new snapshot and swaps it in.

use super::balance::{self, Balancer, HashTuning, Member, PickContext, Policy};
use super::client::Client;
use super::outlier::{Outlier, OutlierConfig};
use super::pool::ConnectionPool;
use crate::metrics::{EndpointStats, Metrics};
use arc_swap::ArcSwap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tianlu_api_config::Protocol;

/// One provider as configuration or discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The provider's address.
    pub addr: SocketAddr,
    /// Relative weight (Dubbo's default is 100).
    pub weight: u32,
    /// The protocol the provider speaks at this address.
    pub protocol: Protocol,
}

/// A provider inside a snapshot, with its connection and health state.
pub struct UpstreamEndpoint {
    /// `host:port` (shared: every request that uses the endpoint records it).
    pub id: Arc<str>,
    /// `id` as a `Host` header value, for requests forwarded to the endpoint.
    pub host: Option<http::HeaderValue>,
    /// The provider's address.
    pub addr: SocketAddr,
    /// Relative weight.
    pub weight: u32,
    /// The multiplexed connection (Dubbo2 or Triple).
    pub client: Client,
    /// Passive ejection state.
    pub outlier: Outlier,
    /// Active health-check verdict (true until a check says otherwise).
    pub healthy: AtomicBool,
    /// Call counters (kept across reloads).
    pub stats: Arc<EndpointStats>,
}

/// How a cluster balances and ejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSettings {
    /// The balancing policy.
    pub policy: Policy,
    /// Consistent-hash sizes.
    pub tuning: HashTuning,
    /// Outlier ejection.
    pub outlier: OutlierConfig,
    /// Ignore endpoint weights (plain `random` / `round_robin`).
    pub uniform: bool,
}

/// One immutable view of a cluster's endpoints.
pub struct Snapshot {
    /// The endpoints, in a stable order.
    pub endpoints: Vec<Arc<UpstreamEndpoint>>,
    balancer: Box<dyn Balancer>,
    outlier: OutlierConfig,
}

impl Snapshot {
    /// Picks an endpoint index, skipping `tried` ones. Ejected or unhealthy endpoints are avoided
    /// while any other is available; if none is, they are used rather than failing outright.
    pub fn pick(&self, hash: Option<u64>, tried: &[usize]) -> Option<usize> {
        let in_flight = |i: usize| self.endpoints[i].client.in_flight();
        let preferred = |i: usize| {
            !tried.contains(&i)
                && !self.endpoints[i].outlier.is_ejected()
                && self.endpoints[i].healthy.load(Ordering::Relaxed)
        };
        let ctx = PickContext {
            hash,
            in_flight: &in_flight,
            eligible: &preferred,
        };
        if let Some(i) = self.balancer.pick(&ctx) {
            return Some(i);
        }
        let untried = |i: usize| !tried.contains(&i);
        self.balancer.pick(&PickContext {
            hash,
            in_flight: &in_flight,
            eligible: &untried,
        })
    }

    /// Records the outcome of a call to endpoint `i`: `transport_failure` is true for connect
    /// errors, timeouts and lost connections (not for provider exceptions).
    pub fn record(&self, i: usize, transport_failure: bool) {
        let Some(ep) = self.endpoints.get(i) else {
            return;
        };
        if !transport_failure {
            ep.outlier.success();
            return;
        }
        let ejected = self
            .endpoints
            .iter()
            .filter(|e| e.outlier.is_ejected())
            .count();
        let budget = self.endpoints.len() * self.outlier.max_ejection_percent as usize / 100;
        if ep.outlier.failure(&self.outlier, ejected < budget) {
            ep.stats
                .ejections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(endpoint = %ep.id, "endpoint ejected after consecutive failures");
        }
    }
}

/// A named cluster.
pub struct Cluster {
    /// The cluster name from the configuration.
    pub name: String,
    settings: ClusterSettings,
    snapshot: ArcSwap<Snapshot>,
    metrics: Arc<Metrics>,
}

impl Cluster {
    /// A cluster with the given endpoints.
    pub fn new(
        name: impl Into<String>,
        settings: ClusterSettings,
        specs: &[EndpointSpec],
        pool: &ConnectionPool,
        metrics: &Arc<Metrics>,
    ) -> Self {
        let name = name.into();
        let snapshot = build_snapshot(&name, &settings, specs, pool, &[], metrics);
        Cluster {
            name,
            settings,
            snapshot: ArcSwap::from_pointee(snapshot),
            metrics: Arc::clone(metrics),
        }
    }

    /// The current snapshot (load once per request).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Replaces the endpoint set. Endpoints that stay keep their health and ejection state.
    pub fn update(&self, specs: &[EndpointSpec], pool: &ConnectionPool) {
        let old = self.snapshot.load_full();
        let next = build_snapshot(
            &self.name,
            &self.settings,
            specs,
            pool,
            &old.endpoints,
            &self.metrics,
        );
        self.snapshot.store(Arc::new(next));
    }

    /// The addresses in the current snapshot.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.snapshot
            .load()
            .endpoints
            .iter()
            .map(|e| e.addr)
            .collect()
    }

    /// The pool keys (address, protocol) in the current snapshot.
    pub fn pool_keys(&self) -> Vec<(SocketAddr, Protocol)> {
        self.snapshot
            .load()
            .endpoints
            .iter()
            .map(|e| (e.addr, e.client.protocol()))
            .collect()
    }
}

fn build_snapshot(
    cluster: &str,
    settings: &ClusterSettings,
    specs: &[EndpointSpec],
    pool: &ConnectionPool,
    previous: &[Arc<UpstreamEndpoint>],
    metrics: &Metrics,
) -> Snapshot {
    let mut endpoints: Vec<Arc<UpstreamEndpoint>> = Vec::with_capacity(specs.len());
    for spec in specs {
        if endpoints
            .iter()
            .any(|e| e.addr == spec.addr && e.client.protocol() == spec.protocol)
        {
            continue;
        }
        let kept = previous.iter().find(|e| {
            e.addr == spec.addr && e.weight == spec.weight && e.client.protocol() == spec.protocol
        });
        endpoints.push(match kept {
            Some(e) => Arc::clone(e),
            None => Arc::new(UpstreamEndpoint {
                id: spec.addr.to_string().into(),
                host: http::HeaderValue::from_str(&spec.addr.to_string()).ok(),
                addr: spec.addr,
                weight: spec.weight,
                client: pool.client(spec.addr, spec.protocol),
                outlier: Outlier::default(),
                healthy: AtomicBool::new(true),
                stats: metrics.endpoint(cluster, &spec.addr.to_string()),
            }),
        });
    }
    let members: Vec<Member> = endpoints
        .iter()
        .map(|e| Member {
            id: e.id.to_string(),
            weight: if settings.uniform { 1 } else { e.weight },
        })
        .collect();
    Snapshot {
        balancer: balance::build(settings.policy, &members, settings.tuning),
        endpoints,
        outlier: settings.outlier,
    }
}

//! The task feeding one discovered cluster: merges the watches of its registries (an instance
//! seen in two registries counts once), turns instances into endpoints (protocol from the
//! instance, Dubbo's warm-up applied to the weight) and swaps the cluster's endpoint set when it
//! changed. While an instance warms up the weights are recomputed every second.
//!
//! A registry outage sends nothing (the registry crate keeps the last good list), so the
//! cluster keeps its endpoints; an empty list arrives only when the registry says so.

use crate::metrics::Metrics;
use crate::upstream::{Cluster, ConnectionPool, EndpointSpec};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tianlu_api_config::Protocol;
use tianlu_registry::{Instance, InstanceSet, Watch};
use tokio::sync::watch;

/// How often warming weights are recomputed.
const WARMUP_TICK: Duration = Duration::from_secs(1);

/// Dubbo's warm-up: during `warmup` after the provider started, the weight grows linearly from
/// 1 to the configured weight (`AbstractLoadBalance.calculateWarmupWeight`). Returns the weight
/// and whether the instance is still warming.
pub fn effective_weight(inst: &Instance, now: SystemTime) -> (u32, bool) {
    let weight = inst.weight;
    let (Some(started), false) = (inst.started_at, inst.warmup.is_zero()) else {
        return (weight, false);
    };
    if weight == 0 {
        return (0, false);
    }
    let Ok(uptime) = now.duration_since(started) else {
        return (weight, false);
    };
    if uptime.is_zero() || uptime >= inst.warmup {
        return (weight, false);
    }
    let ww = uptime.as_secs_f64() / (inst.warmup.as_secs_f64() / f64::from(weight));
    (ww.clamp(1.0, f64::from(weight)) as u32, true)
}

/// The endpoints for `instances` (only `protocol` ones when the route asks for one), and
/// whether any is warming up.
pub fn endpoint_specs<'a>(
    instances: impl Iterator<Item = &'a Instance>,
    protocol: Option<Protocol>,
    now: SystemTime,
) -> (Vec<EndpointSpec>, bool) {
    let mut warming = false;
    let mut specs: Vec<EndpointSpec> = Vec::new();
    for inst in instances {
        let p = match inst.protocol {
            tianlu_registry::Protocol::Dubbo => Protocol::Dubbo,
            tianlu_registry::Protocol::Tri => Protocol::Triple,
        };
        if protocol.is_some_and(|want| want != p) {
            continue;
        }
        if specs.iter().any(|s| s.addr == inst.addr && s.protocol == p) {
            continue;
        }
        let (weight, w) = effective_weight(inst, now);
        warming |= w;
        specs.push(EndpointSpec {
            addr: inst.addr,
            weight,
            protocol: p,
        });
    }
    specs.sort_by_key(|s| (s.addr, s.protocol == Protocol::Triple));
    (specs, warming)
}

/// Runs until aborted (or every watch ended).
pub(super) async fn run(
    cluster: Arc<Cluster>,
    pool: Arc<ConnectionPool>,
    metrics: Arc<Metrics>,
    watches: Vec<Watch>,
    protocol: Option<Protocol>,
    ready: watch::Sender<bool>,
) {
    let n = watches.len();
    let mut sets: Vec<Option<InstanceSet>> = (0..n).map(|_| None).collect();
    let mut merged = futures_util::stream::select_all(
        watches
            .into_iter()
            .enumerate()
            .map(|(i, w)| w.map(move |c| (i, c))),
    );
    let updates = metrics.registry_updates(&cluster.name);
    let mut last: Option<Vec<EndpointSpec>> = None;
    let mut warming = false;
    let mut tick = tokio::time::interval(WARMUP_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            next = merged.next() => {
                let Some((i, change)) = next else { break };
                sets[i].get_or_insert_with(InstanceSet::new).apply(change);
                updates.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            _ = tick.tick(), if warming => {}
        }
        let (specs, w) = endpoint_specs(
            sets.iter().flatten().flat_map(InstanceSet::instances),
            protocol,
            SystemTime::now(),
        );
        warming = w;
        if last.as_ref() != Some(&specs) {
            tracing::info!(
                cluster = %cluster.name,
                endpoints = specs.len(),
                "providers changed: {}",
                specs
                    .iter()
                    .map(|s| format!("{}:{}", s.addr, s.weight))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            cluster.update(&specs, &pool);
            pool.sweep();
            last = Some(specs);
        }
        if !*ready.borrow() && sets.iter().all(Option::is_some) {
            let _ = ready.send(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn inst(port: u16, weight: u32, age: Option<Duration>) -> Instance {
        let now = SystemTime::now();
        Instance {
            addr: format!("10.0.0.1:{port}").parse().unwrap(),
            protocol: tianlu_registry::Protocol::Dubbo,
            weight,
            warmup: Duration::from_secs(600),
            started_at: age.map(|a| now - a),
            group: None,
            version: None,
            params: BTreeMap::new(),
        }
    }

    #[test]
    fn warm_up_ramps_the_weight_as_dubbo_does() {
        let now = SystemTime::now();
        // Half-way through a 10-minute warm-up: half the weight.
        let (w, warming) = effective_weight(&inst(1, 100, Some(Duration::from_secs(300))), now);
        assert!(warming);
        assert!((49..=51).contains(&w), "{w}");
        // Just started: at least 1.
        let (w, _) = effective_weight(&inst(1, 100, Some(Duration::from_millis(10))), now);
        assert_eq!(w, 1);
        // Warm, or no start time: the configured weight.
        assert_eq!(
            effective_weight(&inst(1, 100, Some(Duration::from_secs(601))), now),
            (100, false)
        );
        assert_eq!(effective_weight(&inst(1, 100, None), now), (100, false));
        // Weight 0 stays 0.
        assert_eq!(
            effective_weight(&inst(1, 0, Some(Duration::from_secs(1))), now),
            (0, false)
        );
    }

    #[test]
    fn specs_filter_by_protocol_and_drop_duplicates() {
        let mut tri = inst(2, 100, None);
        tri.protocol = tianlu_registry::Protocol::Tri;
        let all = [inst(1, 100, None), inst(1, 100, None), tri];
        let (any, _) = endpoint_specs(all.iter(), None, SystemTime::now());
        assert_eq!(any.len(), 2);
        let (only_tri, _) = endpoint_specs(all.iter(), Some(Protocol::Triple), SystemTime::now());
        assert_eq!(only_tri.len(), 1);
        assert_eq!(only_tri[0].addr.port(), 2);
        assert_eq!(only_tri[0].protocol, Protocol::Triple);
    }
}

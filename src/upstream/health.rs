//! Active TCP health checks: a background task per cluster dials each endpoint every interval
//! and flips its `healthy` flag after the configured number of consecutive results.

use super::cluster::Cluster;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

/// Health-check settings (pixiu's `health_checks[0]` with protocol `tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheck {
    /// Dial timeout.
    pub timeout: Duration,
    /// Time between rounds.
    pub interval: Duration,
    /// Consecutive successes that mark an unhealthy endpoint healthy.
    pub healthy_threshold: u32,
    /// Consecutive failures that mark a healthy endpoint unhealthy.
    pub unhealthy_threshold: u32,
}

impl HealthCheck {
    /// Runs checks for `cluster` until it is dropped.
    pub fn spawn(self, cluster: Weak<Cluster>) {
        tokio::spawn(async move {
            let mut streaks: HashMap<SocketAddr, i64> = HashMap::new();
            loop {
                tokio::time::sleep(self.interval).await;
                let Some(cluster) = cluster.upgrade() else {
                    return;
                };
                let snapshot = cluster.snapshot();
                drop(cluster);
                for ep in &snapshot.endpoints {
                    let ok = matches!(
                        tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(ep.addr))
                            .await,
                        Ok(Ok(_))
                    );
                    let streak = streaks.entry(ep.addr).or_insert(0);
                    *streak = match (ok, *streak >= 0) {
                        (true, true) => *streak + 1,
                        (true, false) => 1,
                        (false, true) => -1,
                        (false, false) => *streak - 1,
                    };
                    let healthy = ep.healthy.load(Ordering::Relaxed);
                    if healthy && -*streak >= i64::from(self.unhealthy_threshold.max(1)) {
                        tracing::warn!(endpoint = %ep.id, "health check failed; endpoint marked unhealthy");
                        ep.healthy.store(false, Ordering::Relaxed);
                    } else if !healthy && *streak >= i64::from(self.healthy_threshold.max(1)) {
                        tracing::info!(endpoint = %ep.id, "health check passed; endpoint healthy again");
                        ep.healthy.store(true, Ordering::Relaxed);
                    }
                }
                streaks.retain(|addr, _| snapshot.endpoints.iter().any(|e| e.addr == *addr));
            }
        });
    }
}

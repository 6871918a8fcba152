//! Passive outlier ejection per endpoint: consecutive transport failures (connect errors,
//! timeouts, lost connections; never business exceptions) eject the endpoint for a while, the
//! ejection growing with each repeat; a success resets the count.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Outlier-ejection settings of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlierConfig {
    /// Consecutive failures that eject an endpoint (0 disables ejection).
    pub consecutive_errors: u32,
    /// Ejection time for the first ejection; the n-th lasts n times as long (up to 10×).
    pub base_ejection_time: Duration,
    /// At most this share of a cluster's endpoints is ejected at once.
    pub max_ejection_percent: u32,
}

impl Default for OutlierConfig {
    fn default() -> Self {
        OutlierConfig {
            consecutive_errors: 5,
            base_ejection_time: Duration::from_secs(30),
            max_ejection_percent: 50,
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

/// The ejection state of one endpoint (lock-free; read on every pick).
#[derive(Debug, Default)]
pub struct Outlier {
    consecutive: AtomicU32,
    ejections: AtomicU32,
    ejected_until_ms: AtomicU64,
}

impl Outlier {
    /// True while the endpoint is ejected.
    pub fn is_ejected(&self) -> bool {
        let until = self.ejected_until_ms.load(Ordering::Relaxed);
        until != 0 && now_ms() < until
    }

    /// Records a successful call.
    pub fn success(&self) {
        if self.consecutive.load(Ordering::Relaxed) != 0 {
            self.consecutive.store(0, Ordering::Relaxed);
        }
    }

    /// Records a transport failure. `may_eject` says whether the cluster's ejection budget
    /// allows one more ejected endpoint. Returns true when this failure ejected the endpoint.
    pub fn failure(&self, cfg: &OutlierConfig, may_eject: bool) -> bool {
        if cfg.consecutive_errors == 0 {
            return false;
        }
        let n = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
        if n < cfg.consecutive_errors || !may_eject || self.is_ejected() {
            return false;
        }
        let times = (self.ejections.fetch_add(1, Ordering::Relaxed) + 1).min(10);
        let until = now_ms() + cfg.base_ejection_time.as_millis() as u64 * u64::from(times);
        self.ejected_until_ms.store(until, Ordering::Relaxed);
        self.consecutive.store(0, Ordering::Relaxed);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ejects_after_consecutive_failures_and_success_resets() {
        let cfg = OutlierConfig {
            consecutive_errors: 3,
            base_ejection_time: Duration::from_secs(60),
            max_ejection_percent: 100,
        };
        let o = Outlier::default();
        assert!(!o.failure(&cfg, true));
        assert!(!o.failure(&cfg, true));
        o.success();
        assert!(!o.failure(&cfg, true));
        assert!(!o.failure(&cfg, true));
        assert!(!o.is_ejected());
        assert!(o.failure(&cfg, true));
        assert!(o.is_ejected());
    }

    #[test]
    fn budget_and_disable() {
        let cfg = OutlierConfig {
            consecutive_errors: 1,
            ..OutlierConfig::default()
        };
        let o = Outlier::default();
        assert!(!o.failure(&cfg, false), "no budget, no ejection");
        assert!(!o.is_ejected());
        let off = OutlierConfig {
            consecutive_errors: 0,
            ..cfg
        };
        assert!(!o.failure(&off, true));
    }

    #[test]
    fn ejection_expires() {
        let cfg = OutlierConfig {
            consecutive_errors: 1,
            base_ejection_time: Duration::from_millis(20),
            max_ejection_percent: 100,
        };
        let o = Outlier::default();
        assert!(o.failure(&cfg, true));
        assert!(o.is_ejected());
        std::thread::sleep(Duration::from_millis(50));
        assert!(!o.is_ejected());
    }
}

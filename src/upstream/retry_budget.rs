//! Retry budgets: a cluster's failover retries are limited to `ratio` × the requests of the last
//! `ttl` plus `min_retries_per_second` × `ttl`, so a failing cluster cannot multiply its load.
//!
//! Requests and retries are counted in ten time slots covering `ttl`, each an epoch and two
//! counters in atomics (no lock on the request path). A slot whose epoch is stale is reset by
//! the first request that lands in it; a race there can lose a count, never block.

use crate::metrics::RetryStats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tianlu_api_config::bootstrap::retry_budget::RetryBudgetConfig;

const SLOTS: usize = 10;

#[derive(Default)]
struct Slot {
    epoch: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
}

/// One cluster's retry budget.
pub struct RetryBudget {
    ratio: f64,
    reserve: f64,
    slot_nanos: u64,
    start: Instant,
    slots: [Slot; SLOTS],
    stats: Arc<RetryStats>,
}

impl RetryBudget {
    /// A budget with `cfg`, counting into `stats`.
    pub fn new(cfg: &RetryBudgetConfig, stats: Arc<RetryStats>) -> Self {
        let ttl = u64::try_from(cfg.ttl.as_nanos()).unwrap_or(u64::MAX);
        RetryBudget {
            ratio: cfg.ratio(),
            reserve: cfg.reserve(),
            slot_nanos: (ttl / SLOTS as u64).max(1),
            start: Instant::now(),
            slots: Default::default(),
            stats,
        }
    }

    /// The current epoch (1-based, so 0 marks an unused slot) and its slot, reset if stale.
    fn slot(&self) -> (u64, &Slot) {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let epoch = now / self.slot_nanos + 1;
        let slot = &self.slots[usize::try_from(epoch % SLOTS as u64).unwrap_or(0)];
        let seen = slot.epoch.load(Ordering::Acquire);
        if seen != epoch
            && slot
                .epoch
                .compare_exchange(seen, epoch, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            slot.requests.store(0, Ordering::Release);
            slot.retries.store(0, Ordering::Release);
        }
        (epoch, slot)
    }

    /// Counts a request (its first attempt).
    pub fn record_request(&self) {
        self.slot().1.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes a retry from the budget: true (and counted) when one is left, else false and
    /// counted as exhausted.
    pub fn try_retry(&self) -> bool {
        let (epoch, current) = self.slot();
        let (mut requests, mut retries) = (0u64, 0u64);
        for s in &self.slots {
            let e = s.epoch.load(Ordering::Acquire);
            if e != 0 && e + (SLOTS as u64) > epoch && e <= epoch {
                requests += s.requests.load(Ordering::Relaxed);
                retries += s.retries.load(Ordering::Relaxed);
            }
        }
        if (retries + 1) as f64 <= self.reserve + self.ratio * requests as f64 {
            current.retries.fetch_add(1, Ordering::Relaxed);
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            self.stats.exhausted.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget(ratio: f64, per_second: f64, ttl: Duration) -> RetryBudget {
        RetryBudget::new(
            &RetryBudgetConfig {
                ratio_ppm: (ratio * 1e6) as u32,
                min_per_second_milli: (per_second * 1e3) as u32,
                ttl,
            },
            Arc::default(),
        )
    }

    #[test]
    fn reserve_then_ratio() {
        let b = budget(0.2, 0.3, Duration::from_secs(10));
        // 3 retries of reserve with no traffic at all.
        assert!(b.try_retry() && b.try_retry() && b.try_retry());
        assert!(!b.try_retry());
        // Each request adds a fifth of a retry.
        for _ in 0..4 {
            b.record_request();
        }
        assert!(!b.try_retry(), "0.8 of a retry is not one");
        b.record_request();
        assert!(b.try_retry());
        assert!(!b.try_retry());
        assert_eq!(b.stats.retries.load(Ordering::Relaxed), 4);
        assert_eq!(b.stats.exhausted.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn the_window_slides() {
        let b = budget(0.0, 1.0, Duration::from_secs(1));
        assert!(b.try_retry());
        assert!(!b.try_retry());
        std::thread::sleep(Duration::from_millis(1_150));
        assert!(b.try_retry(), "the old retry has left the window");
    }
}

//! Smooth weighted round robin without a lock: the interleaved schedule (the order nginx's smooth
//! algorithm produces) is computed once per snapshot, and calls walk it with an atomic cursor.

use super::{Balancer, Member, PickContext};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Longest schedule kept; larger weight sums are scaled down proportionally.
const MAX_SCHEDULE: u64 = 4096;

/// Weighted round robin over a snapshot.
pub struct WeightedRoundRobin {
    schedule: Vec<usize>,
    len: usize,
    cursor: AtomicUsize,
}

impl WeightedRoundRobin {
    /// Builds the policy for `members`.
    pub fn new(members: &[Member]) -> Self {
        let mut weights: Vec<u64> = members.iter().map(|m| u64::from(m.weight)).collect();
        let gcd = weights.iter().fold(0, |a, &b| gcd(a, b));
        if gcd > 1 {
            weights.iter_mut().for_each(|w| *w /= gcd);
        }
        let total: u64 = weights.iter().sum();
        if total > MAX_SCHEDULE {
            weights
                .iter_mut()
                .for_each(|w| *w = (*w * MAX_SCHEDULE / total).max(u64::from(*w > 0)));
        }
        let total: u64 = weights.iter().sum();
        let mut current = vec![0i64; weights.len()];
        let mut schedule = Vec::with_capacity(total as usize);
        for _ in 0..total {
            let mut best = 0;
            for (i, w) in weights.iter().enumerate() {
                current[i] += *w as i64;
                if current[i] > current[best] {
                    best = i;
                }
            }
            current[best] -= total as i64;
            schedule.push(best);
        }
        WeightedRoundRobin {
            schedule,
            len: members.len(),
            cursor: AtomicUsize::new(rand::random_range(0..usize::MAX / 2)),
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Balancer for WeightedRoundRobin {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        if !self.schedule.is_empty() {
            for _ in 0..self.schedule.len() {
                let n = self.cursor.fetch_add(1, Ordering::Relaxed);
                let i = self.schedule[n % self.schedule.len()];
                if (ctx.eligible)(i) {
                    return Some(i);
                }
            }
        }
        // Every weighted member is ineligible (or all weights are 0): plain rotation.
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        (0..self.len)
            .map(|k| (start + k) % self.len)
            .find(|&i| (ctx.eligible)(i))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn exact_shares_per_cycle() {
        let weights = [1, 2, 3];
        let b = WeightedRoundRobin::new(&members(&weights));
        let counts = spread(&b, 3, 600);
        assert_eq!(counts, vec![100, 200, 300]);
    }

    #[test]
    fn interleaves_smoothly() {
        let b = WeightedRoundRobin::new(&members(&[5, 1, 1]));
        let picks: Vec<usize> = (0..70)
            .map(|_| {
                b.pick(&PickContext {
                    hash: None,
                    in_flight: &idle,
                    eligible: &all,
                })
                .unwrap()
            })
            .collect();
        // Every window of one cycle holds each member exactly by weight …
        for w in picks.windows(7) {
            let mut counts = [0; 3];
            w.iter().for_each(|&i| counts[i] += 1);
            assert_eq!(counts, [5, 1, 1], "{picks:?}");
        }
        // … and the light members are spread out: the heavy one never runs 5 in a row, which
        // a plain "5 × a, b, c" rotation would do.
        let max_run = picks
            .chunk_by(|a, b| a == b)
            .map(<[usize]>::len)
            .max()
            .unwrap();
        assert!(max_run <= 4, "{picks:?}");
    }

    #[test]
    fn skips_ineligible() {
        let b = WeightedRoundRobin::new(&members(&[1, 1, 1]));
        for _ in 0..30 {
            let ctx = PickContext {
                hash: None,
                in_flight: &idle,
                eligible: &|i| i == 1,
            };
            assert_eq!(b.pick(&ctx), Some(1));
        }
    }

    #[test]
    fn huge_weights_are_scaled() {
        let b = WeightedRoundRobin::new(&members(&[1_000_000, 3_000_000, 1]));
        assert!(b.schedule.len() as u64 <= MAX_SCHEDULE + 3);
        let counts = spread(&b, 3, 4000);
        assert!(counts[2] >= 1, "tiny weight still served: {counts:?}");
        assert_shares(&counts[..2], &[1, 3], 0.05);
    }
}

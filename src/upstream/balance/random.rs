//! Weighted random: each eligible member is picked with probability proportional to its weight.

use super::{weighted_choice, Balancer, Member, PickContext};

/// Weighted random over a snapshot.
pub struct WeightedRandom {
    weights: Vec<u32>,
    cumulative: Vec<u64>,
}

impl WeightedRandom {
    /// Builds the policy for `members`.
    pub fn new(members: &[Member]) -> Self {
        let weights: Vec<u32> = members.iter().map(|m| m.weight).collect();
        let mut acc = 0u64;
        let cumulative = weights
            .iter()
            .map(|&w| {
                acc += u64::from(w);
                acc
            })
            .collect();
        WeightedRandom {
            weights,
            cumulative,
        }
    }
}

impl Balancer for WeightedRandom {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let total = self.cumulative.last().copied().unwrap_or(0);
        // Fast path: one draw over the whole snapshot, accepted if eligible.
        if total > 0 {
            let point = rand::random_range(0..total);
            let i = self.cumulative.partition_point(|&c| c <= point);
            if i < self.weights.len() && (ctx.eligible)(i) {
                return Some(i);
            }
        }
        let candidates: Vec<usize> = (0..self.weights.len())
            .filter(|&i| (ctx.eligible)(i))
            .collect();
        weighted_choice(&candidates, &self.weights)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn follows_weights() {
        let weights = [1, 2, 7];
        let b = WeightedRandom::new(&members(&weights));
        let counts = spread(&b, 3, 30_000);
        assert_shares(&counts, &weights, 0.08);
    }

    #[test]
    fn skips_ineligible_and_zero_weight() {
        let b = WeightedRandom::new(&members(&[5, 0, 5]));
        for _ in 0..500 {
            let ctx = PickContext {
                hash: None,
                in_flight: &idle,
                eligible: &|i| i != 0,
            };
            assert_eq!(b.pick(&ctx), Some(2));
        }
        let ctx = PickContext {
            hash: None,
            in_flight: &idle,
            eligible: &|i| i == 1,
        };
        assert_eq!(
            b.pick(&ctx),
            Some(1),
            "zero weight used when it is the only one"
        );
        let ctx = PickContext {
            hash: None,
            in_flight: &idle,
            eligible: &|_| false,
        };
        assert_eq!(b.pick(&ctx), None);
    }
}

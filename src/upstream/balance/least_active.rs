//! Least active: the eligible member with the fewest calls in flight; ties are broken by
//! weighted random, as Dubbo's own `leastactive` does.

use super::{weighted_choice, Balancer, Member, PickContext};

/// Least-active balancing over a snapshot.
pub struct LeastActive {
    weights: Vec<u32>,
}

impl LeastActive {
    /// Builds the policy for `members`.
    pub fn new(members: &[Member]) -> Self {
        LeastActive {
            weights: members.iter().map(|m| m.weight).collect(),
        }
    }
}

impl Balancer for LeastActive {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let mut least = usize::MAX;
        let mut ties: Vec<usize> = Vec::new();
        for i in 0..self.weights.len() {
            if !(ctx.eligible)(i) {
                continue;
            }
            let active = (ctx.in_flight)(i);
            if active < least {
                least = active;
                ties.clear();
            }
            if active == least {
                ties.push(i);
            }
        }
        weighted_choice(&ties, &self.weights)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn picks_least_loaded() {
        let b = LeastActive::new(&members(&[1, 1, 1]));
        let load = [5usize, 2, 9];
        let ctx = PickContext {
            hash: None,
            in_flight: &|i| load[i],
            eligible: &all,
        };
        for _ in 0..50 {
            assert_eq!(b.pick(&ctx), Some(1));
        }
    }

    #[test]
    fn ties_follow_weights() {
        let weights = [1, 3, 1];
        let b = LeastActive::new(&members(&weights));
        let load = [0usize, 0, 4];
        let mut counts = [0usize; 3];
        for _ in 0..8000 {
            let ctx = PickContext {
                hash: None,
                in_flight: &|i| load[i],
                eligible: &all,
            };
            counts[b.pick(&ctx).unwrap()] += 1;
        }
        assert_eq!(counts[2], 0);
        assert_shares(&counts[..2], &[1, 3], 0.08);
    }
}

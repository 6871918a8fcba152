//! Power of two choices: draw two distinct eligible members by weight and keep the one with
//! fewer calls in flight.

use super::{weighted_choice, Balancer, Member, PickContext};

/// P2C balancing over a snapshot.
pub struct PowerOfTwo {
    weights: Vec<u32>,
}

impl PowerOfTwo {
    /// Builds the policy for `members`.
    pub fn new(members: &[Member]) -> Self {
        PowerOfTwo {
            weights: members.iter().map(|m| m.weight).collect(),
        }
    }
}

impl Balancer for PowerOfTwo {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let mut candidates: Vec<usize> = (0..self.weights.len())
            .filter(|&i| (ctx.eligible)(i))
            .collect();
        let a = weighted_choice(&candidates, &self.weights)?;
        candidates.retain(|&i| i != a);
        let Some(b) = weighted_choice(&candidates, &self.weights) else {
            return Some(a);
        };
        if (ctx.in_flight)(b) < (ctx.in_flight)(a) {
            Some(b)
        } else {
            Some(a)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn never_picks_the_most_loaded_of_three() {
        // With three members, the busiest one can only win if drawn twice, which P2C forbids.
        let b = PowerOfTwo::new(&members(&[1, 1, 1]));
        let load = [1usize, 2, 50];
        for _ in 0..2000 {
            let ctx = PickContext {
                hash: None,
                in_flight: &|i| load[i],
                eligible: &all,
            };
            assert_ne!(b.pick(&ctx), Some(2));
        }
    }

    #[test]
    fn spreads_when_idle() {
        let b = PowerOfTwo::new(&members(&[1, 1, 1, 1]));
        let counts = spread(&b, 4, 20_000);
        assert_shares(&counts, &[1, 1, 1, 1], 0.1);
    }
}

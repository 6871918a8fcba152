//! Consistent hashing on a ring: each member owns `replicas × weight` virtual nodes placed by
//! hashing `"{id}#{n}"`; a key goes to the first virtual node clockwise from its hash. When a
//! member leaves, only the keys it owned move.

use super::hash::hash_key;
use super::{Balancer, Member, PickContext};

/// Ring-hash balancing over a snapshot.
pub struct RingHash {
    ring: Vec<(u64, usize)>,
    len: usize,
}

impl RingHash {
    /// Builds the ring with `replicas` virtual nodes per unit of weight (weights are normalised so
    /// the smallest positive weight gets `replicas` nodes); the ring holds at most `max_nodes`
    /// (default 2^20) virtual nodes, scaled down proportionally.
    pub fn new(members: &[Member], replicas: u32, max_nodes: Option<u32>) -> Self {
        let cap = u64::from(max_nodes.unwrap_or(1 << 20).max(1));
        let replicas = u64::from(replicas.max(1));
        let min_weight = members
            .iter()
            .map(|m| m.weight)
            .filter(|&w| w > 0)
            .min()
            .unwrap_or(1);
        let total: u64 = members
            .iter()
            .map(|m| u64::from(m.weight) * replicas / u64::from(min_weight))
            .sum();
        let scale = if total > cap {
            cap as f64 / total as f64
        } else {
            1.0
        };
        let mut ring = Vec::new();
        for (i, m) in members.iter().enumerate() {
            if m.weight == 0 {
                continue;
            }
            let nodes = u64::from(m.weight) * replicas / u64::from(min_weight);
            let nodes = ((nodes as f64 * scale) as u64).max(1);
            let mut key = Vec::with_capacity(m.id.len() + 8);
            for n in 0..nodes {
                key.clear();
                key.extend_from_slice(m.id.as_bytes());
                key.push(b'#');
                key.extend_from_slice(n.to_string().as_bytes());
                ring.push((hash_key(&key), i));
            }
        }
        ring.sort_unstable();
        RingHash {
            ring,
            len: members.len(),
        }
    }
}

impl Balancer for RingHash {
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize> {
        let Some(hash) = ctx.hash else {
            // No key: behave like random over eligible members.
            let start = rand::random_range(0..self.len.max(1));
            return (0..self.len)
                .map(|k| (start + k) % self.len)
                .find(|&i| (ctx.eligible)(i));
        };
        if self.ring.is_empty() {
            return (0..self.len).find(|&i| (ctx.eligible)(i));
        }
        let start = self.ring.partition_point(|&(h, _)| h < hash);
        let n = self.ring.len();
        (0..n)
            .map(|k| self.ring[(start + k) % n].1)
            .find(|&i| (ctx.eligible)(i))
            .or_else(|| (0..self.len).find(|&i| (ctx.eligible)(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn pick(b: &RingHash, key: u64, eligible: &dyn Fn(usize) -> bool) -> usize {
        b.pick(&PickContext {
            hash: Some(hash_key(&key.to_le_bytes())),
            in_flight: &idle,
            eligible,
        })
        .unwrap()
    }

    #[test]
    fn same_key_same_member_and_even_spread() {
        let b = RingHash::new(&members(&[1, 1, 1]), 160, None);
        let mut counts = [0usize; 3];
        for key in 0..30_000u64 {
            let i = pick(&b, key, &all);
            assert_eq!(i, pick(&b, key, &all));
            counts[i] += 1;
        }
        // 160 virtual nodes per member (Dubbo's default) balance to within about ±20%.
        assert_shares(&counts, &[1, 1, 1], 0.2);
    }

    #[test]
    fn only_the_leaving_members_keys_move() {
        let three = members(&[1, 1, 1]);
        let before = RingHash::new(&three, 160, None);
        // Member 1 leaves: rebuild from the remaining snapshot (indices shift, ids don't).
        let two = vec![three[0].clone(), three[2].clone()];
        let after = RingHash::new(&two, 160, None);
        let mut moved_from_others = 0;
        for key in 0..20_000u64 {
            let old = &three[pick(&before, key, &all)].id;
            let new = &two[pick(&after, key, &all)].id;
            if old != &three[1].id && old != new {
                moved_from_others += 1;
            }
        }
        assert_eq!(moved_from_others, 0);
    }

    #[test]
    fn ineligible_member_falls_to_next_on_ring() {
        let b = RingHash::new(&members(&[1, 1, 1]), 160, None);
        for key in 0..2000u64 {
            let i = pick(&b, key, &all);
            let j = pick(&b, key, &|x| x != i);
            assert_ne!(i, j);
        }
    }
}

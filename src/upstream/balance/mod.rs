//! Load-balancing policies. A [`Balancer`] is built from one snapshot of a cluster's endpoints
//! (their weights and identities) and then picks an index into that snapshot per call. Per-call
//! inputs are the live in-flight counts (for least-active and P2C), a hash of the request's key
//! (for ring hash and Maglev), and which endpoints are currently eligible (not ejected, not
//! already tried).

mod hash;
mod least_active;
mod maglev;
mod p2c;
mod random;
mod ring_hash;
mod round_robin;

pub use hash::hash_key;
pub use least_active::LeastActive;
pub use maglev::Maglev;
pub use p2c::PowerOfTwo;
pub use random::WeightedRandom;
pub use ring_hash::RingHash;
pub use round_robin::WeightedRoundRobin;

/// What a balancer knows about one endpoint when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// A stable identity (`host:port`), used to place the endpoint on hash rings.
    pub id: String,
    /// Relative weight; 0 means "never picked while others are available".
    pub weight: u32,
}

/// Per-call inputs to [`Balancer::pick`].
pub struct PickContext<'a> {
    /// Hash of the request's affinity key (consistent-hash policies), if any.
    pub hash: Option<u64>,
    /// Current in-flight calls per member, indexed like the snapshot.
    pub in_flight: &'a dyn Fn(usize) -> usize,
    /// Whether a member may be picked now (healthy and not yet tried for this request).
    pub eligible: &'a dyn Fn(usize) -> bool,
}

/// A load-balancing policy over one endpoint snapshot.
pub trait Balancer: Send + Sync {
    /// Picks a member index, or `None` when no eligible member exists.
    fn pick(&self, ctx: &PickContext<'_>) -> Option<usize>;
}

/// The policies a cluster can be configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Weighted random.
    Random,
    /// Smooth weighted round robin.
    RoundRobin,
    /// Fewest in-flight calls, ties broken by weighted random.
    LeastActive,
    /// Power of two choices on in-flight calls.
    PowerOfTwo,
    /// Consistent hashing on a ring of virtual nodes.
    RingHash,
    /// Maglev consistent hashing.
    Maglev,
}

/// Sizes for the consistent-hash policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashTuning {
    /// Virtual nodes per unit of weight on the ring.
    pub ring_replicas: u32,
    /// Maglev lookup table size (a prime).
    pub maglev_table_size: u32,
    /// Cap on the ring's virtual nodes (`max_vnode_num`).
    pub ring_max_nodes: Option<u32>,
}

impl Default for HashTuning {
    fn default() -> Self {
        HashTuning {
            ring_replicas: 160,
            maglev_table_size: 65_537,
            ring_max_nodes: None,
        }
    }
}

/// Builds the balancer for `policy` over `members`.
pub fn build(policy: Policy, members: &[Member], tuning: HashTuning) -> Box<dyn Balancer> {
    match policy {
        Policy::Random => Box::new(WeightedRandom::new(members)),
        Policy::RoundRobin => Box::new(WeightedRoundRobin::new(members)),
        Policy::LeastActive => Box::new(LeastActive::new(members)),
        Policy::PowerOfTwo => Box::new(PowerOfTwo::new(members)),
        Policy::RingHash => Box::new(RingHash::new(
            members,
            tuning.ring_replicas,
            tuning.ring_max_nodes,
        )),
        Policy::Maglev => Box::new(Maglev::new(members, tuning.maglev_table_size)),
    }
}

/// Picks uniformly-by-weight among the eligible members of `candidates` (indices into
/// `weights`). Members with weight 0 are picked only when every eligible weight is 0.
pub(crate) fn weighted_choice(candidates: &[usize], weights: &[u32]) -> Option<usize> {
    let total: u64 = candidates
        .iter()
        .map(|&i| u64::from(weights.get(i).copied().unwrap_or(0)))
        .sum();
    if candidates.is_empty() {
        return None;
    }
    if total == 0 {
        return candidates
            .get(rand::random_range(0..candidates.len()))
            .copied();
    }
    let mut point = rand::random_range(0..total);
    for &i in candidates {
        let w = u64::from(weights.get(i).copied().unwrap_or(0));
        if point < w {
            return Some(i);
        }
        point -= w;
    }
    candidates.last().copied()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers shared by the policy tests.
    use super::*;

    pub fn members(weights: &[u32]) -> Vec<Member> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Member {
                id: format!("10.0.0.{}:20880", i + 1),
                weight: w,
            })
            .collect()
    }

    pub fn all(_: usize) -> bool {
        true
    }

    pub fn idle(_: usize) -> usize {
        0
    }

    /// Runs `n` picks and counts how often each member was chosen.
    pub fn spread(b: &dyn Balancer, len: usize, n: usize) -> Vec<usize> {
        let mut counts = vec![0; len];
        for _ in 0..n {
            let ctx = PickContext {
                hash: None,
                in_flight: &idle,
                eligible: &all,
            };
            let i = b.pick(&ctx).expect("a member");
            counts[i] += 1;
        }
        counts
    }

    /// Asserts that `counts` is within `tolerance` (fraction) of the weight shares.
    pub fn assert_shares(counts: &[usize], weights: &[u32], tolerance: f64) {
        let n: usize = counts.iter().sum();
        let total: u32 = weights.iter().sum();
        for (i, (&c, &w)) in counts.iter().zip(weights).enumerate() {
            let expected = n as f64 * f64::from(w) / f64::from(total);
            let diff = (c as f64 - expected).abs();
            assert!(
                diff <= expected * tolerance + 1.0,
                "member {i}: got {c}, expected about {expected:.0} (counts {counts:?})"
            );
        }
    }
}

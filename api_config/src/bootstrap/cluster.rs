//! Static clusters (`static_resources.clusters[]`): load-balancing policy (pixiu's and tianlu's
//! names, case-insensitive, unknown = error), consistent-hash settings, TCP health check,
//! endpoints and outlier detection.

use std::time::Duration;

use super::SocketAddress;
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Node;

/// Default endpoint weight (Dubbo's default).
pub const DEFAULT_WEIGHT: u32 = 100;
/// Default virtual nodes per endpoint on the hash ring (Dubbo's `hash.nodes`).
pub const DEFAULT_REPLICA_NUM: u32 = 160;
/// Default Maglev table size (a prime).
pub const DEFAULT_MAGLEV_TABLE_SIZE: u64 = 65_537;

/// Largest accepted `maglev_table_size` (the table holds one 4-byte entry per slot).
pub const MAX_MAGLEV_TABLE_SIZE: u64 = 5_000_011;

/// How a cluster picks an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LbPolicy {
    /// Uniform (`random`, pixiu `Rand`).
    Random,
    /// By endpoint weight (`weighted_random`, pixiu `WeightRandom`); the default.
    WeightedRandom,
    /// In turn (`round_robin`, pixiu `RoundRobin`).
    RoundRobin,
    /// Smooth weighted round robin (`weighted_round_robin`).
    WeightedRoundRobin,
    /// Fewest calls in flight (`least_active`, dubbo-go `leastactive`).
    LeastActive,
    /// Power of two choices (`p2c`).
    P2c,
    /// Consistent hash ring (`ring_hash`, pixiu `RingHashing`, dubbo-go `consistenthash`).
    RingHash,
    /// Maglev (`maglev`, pixiu `MaglevHashing`).
    Maglev,
}

impl LbPolicy {
    /// Parses pixiu, dubbo-go and tianlu names, ignoring case, `_` and `-`.
    pub fn parse(name: &str) -> Option<LbPolicy> {
        let norm: String = name
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match norm.as_str() {
            "rand" | "random" => LbPolicy::Random,
            "weightrandom" | "weightedrandom" => LbPolicy::WeightedRandom,
            "roundrobin" => LbPolicy::RoundRobin,
            "weightedroundrobin" => LbPolicy::WeightedRoundRobin,
            "leastactive" => LbPolicy::LeastActive,
            "p2c" => LbPolicy::P2c,
            "ringhash" | "ringhashing" | "consistenthash" | "consistenthashing" => {
                LbPolicy::RingHash
            }
            "maglev" | "maglevhashing" => LbPolicy::Maglev,
            _ => return None,
        })
    }

    /// tianlu's name (`weighted_random`).
    pub fn name(self) -> &'static str {
        match self {
            LbPolicy::Random => "random",
            LbPolicy::WeightedRandom => "weighted_random",
            LbPolicy::RoundRobin => "round_robin",
            LbPolicy::WeightedRoundRobin => "weighted_round_robin",
            LbPolicy::LeastActive => "least_active",
            LbPolicy::P2c => "p2c",
            LbPolicy::RingHash => "ring_hash",
            LbPolicy::Maglev => "maglev",
        }
    }

    /// True for the hash policies that read `consistent`.
    pub fn is_hash(self) -> bool {
        matches!(self, LbPolicy::RingHash | LbPolicy::Maglev)
    }

    pub(crate) fn unknown_message(value: &str) -> String {
        format!(
            "unknown load-balancing policy {value:?}; use random, weighted_random, round_robin, weighted_round_robin, least_active, p2c, ring_hash or maglev (pixiu names Rand, RoundRobin, WeightRandom, RingHashing, MaglevHashing also work)"
        )
    }
}

/// What a hash policy hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashKey {
    /// `{argument: N}`: the N-th call argument (default: argument 0, as Dubbo).
    Argument(usize),
    /// `{header: name}`: a request header.
    Header(String),
}

/// `consistent` (hash policies only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistentConfig {
    /// `replica_num`: virtual nodes per endpoint on the ring (default 160).
    pub replica_num: u32,
    /// `max_vnode_num`: cap on all virtual nodes (`None` = no cap).
    pub max_vnode_num: Option<u32>,
    /// `maglev_table_size`: a prime (default 65537).
    pub maglev_table_size: u64,
    /// `hash_key` (default argument 0).
    pub hash_key: HashKey,
}

impl Default for ConsistentConfig {
    fn default() -> Self {
        ConsistentConfig {
            replica_num: DEFAULT_REPLICA_NUM,
            max_vnode_num: None,
            maglev_table_size: DEFAULT_MAGLEV_TABLE_SIZE,
            hash_key: HashKey::Argument(0),
        }
    }
}

/// `health_checks[0]`: a TCP connect probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheck {
    /// `timeout` (default 1s).
    pub timeout: Duration,
    /// `interval` (default 3s).
    pub interval: Duration,
    /// `healthy_threshold`: successes to mark healthy again (default 5).
    pub healthy_threshold: u32,
    /// `unhealthy_threshold`: failures to mark unhealthy (default 5).
    pub unhealthy_threshold: u32,
}

/// `outlier_detection` (tianlu extension): passive ejection on call errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlierDetection {
    /// `consecutive_errors` (default 5).
    pub consecutive_errors: u32,
    /// `base_ejection_time` (default 30s).
    pub base_ejection_time: Duration,
    /// `max_ejection_percent` (default 50).
    pub max_ejection_percent: u32,
}

/// One provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `protocol`: `dubbo` (default), `tri` or `http`.
    pub protocol: Protocol,
    /// `ID`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `socket_address`.
    pub address: SocketAddress,
    /// `meta.weight` (default 100).
    pub weight: u32,
}

/// The RPC protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Dubbo2 over TCP with hessian2 (`dubbo`).
    Dubbo,
    /// Triple, Dubbo 3's gRPC-compatible protocol over HTTP/2 (`tri`, `triple`).
    Triple,
    /// Plain HTTP/1.1 (`http`): endpoints of `requestType: http` routes.
    Http,
}

impl Protocol {
    /// Parses `dubbo`, `tri`, `triple` or `http` (any case).
    pub fn parse(name: &str) -> Option<Protocol> {
        match name.to_ascii_lowercase().as_str() {
            "dubbo" => Some(Protocol::Dubbo),
            "tri" | "triple" => Some(Protocol::Triple),
            "http" => Some(Protocol::Http),
            _ => None,
        }
    }
}

/// A static cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// `name`.
    pub name: String,
    /// `lb_policy`, else the dubboproxy `load_balance`, else weighted random.
    pub lb_policy: LbPolicy,
    /// True when `lb_policy` was set on the cluster itself.
    pub lb_policy_explicit: bool,
    /// `consistent` (defaults when absent; only read by hash policies).
    pub consistent: ConsistentConfig,
    /// `health_checks[0]`, if any.
    pub health_check: Option<HealthCheck>,
    /// `endpoints` (at least one).
    pub endpoints: Vec<Endpoint>,
    /// `outlier_detection`, if any.
    pub outlier_detection: Option<OutlierDetection>,
    /// `retry_budget` (defaults when absent).
    pub retry_budget: super::retry_budget::RetryBudgetConfig,
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d: &u64| d.saturating_mul(*d) <= n)
            .all(|d| !n.is_multiple_of(d))
}

fn u32_of(v: Option<u64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn read_consistent(cx: &mut Ctx, c: &mut MapView<'_>) -> ConsistentConfig {
    let mut out = ConsistentConfig::default();
    if let Some(n) = u32_of(c.uint(cx, "replica_num", u64::from(u32::MAX))).filter(|n| *n > 0) {
        out.replica_num = n;
    }
    out.max_vnode_num = u32_of(c.uint(cx, "max_vnode_num", u64::from(u32::MAX))).filter(|n| *n > 0);
    if let Some(n) = c
        .uint(cx, "maglev_table_size", MAX_MAGLEV_TABLE_SIZE)
        .filter(|n| *n > 0)
    {
        if is_prime(n) {
            out.maglev_table_size = n;
        } else {
            cx.problem(
                c.key_line("maglev_table_size"),
                &c.child("maglev_table_size"),
                format!("{n} is not a prime number (Maglev needs a prime table size, e.g. 65537)"),
            );
        }
    }
    if let Some(mut k) = c.map(cx, "hash_key") {
        let arg = k.uint(cx, "argument", 254);
        let header = k.string(cx, "header").filter(|h| !h.trim().is_empty());
        match (arg, header) {
            (Some(a), None) => out.hash_key = HashKey::Argument(usize::try_from(a).unwrap_or(0)),
            (None, Some(h)) => out.hash_key = HashKey::Header(h),
            (Some(_), Some(_)) => cx.problem(
                k.line(),
                k.path(),
                "set either argument or header, not both",
            ),
            (None, None) => cx.problem(k.line(), k.path(), "set argument: N or header: name"),
        }
        k.finish(cx);
    }
    out
}

fn read_health_check(cx: &mut Ctx, node: &Node, path: &str) -> HealthCheck {
    let mut h = MapView::new(cx, node, path);
    if let Some(p) = h.string(cx, "protocol") {
        if !p.eq_ignore_ascii_case("tcp") {
            cx.problem(
                h.key_line("protocol"),
                &h.child("protocol"),
                format!("health check protocol {p:?} is not supported (only tcp)"),
            );
        }
    }
    let out = HealthCheck {
        timeout: h.duration(cx, "timeout").unwrap_or(Duration::from_secs(1)),
        interval: h.duration(cx, "interval").unwrap_or(Duration::from_secs(3)),
        healthy_threshold: u32_of(h.uint(cx, "healthy_threshold", 1000))
            .unwrap_or(5)
            .max(1),
        unhealthy_threshold: u32_of(h.uint(cx, "unhealthy_threshold", 1000))
            .unwrap_or(5)
            .max(1),
    };
    h.finish(cx);
    out
}

fn read_endpoint(cx: &mut Ctx, node: &Node, path: &str) -> Option<Endpoint> {
    let mut e = MapView::new(cx, node, path);
    let id = e.string(cx, "ID");
    let name = e.string(cx, "name");
    let mut protocol = Protocol::Dubbo;
    if let Some(p) = e.string(cx, "protocol") {
        match Protocol::parse(&p) {
            Some(found) => protocol = found,
            None => cx.problem(
                e.key_line("protocol"),
                &e.child("protocol"),
                format!("unknown endpoint protocol {p:?} (use dubbo, tri or http)"),
            ),
        }
    }
    let mut weight = DEFAULT_WEIGHT;
    if let Some(mut meta) = e.map(cx, "meta") {
        weight = u32_of(meta.uint(cx, "weight", 1_000_000)).unwrap_or(DEFAULT_WEIGHT);
        meta.finish(cx);
    }
    e.reject(cx, "llm_meta", "LLM endpoints are not supported");
    let address = super::read_socket_address(cx, &mut e, true);
    e.finish(cx);
    Some(Endpoint {
        protocol,
        id,
        name,
        address: address?,
        weight,
    })
}

/// Reads one `clusters[]` entry.
pub(crate) fn read(cx: &mut Ctx, node: &Node, path: &str) -> Option<Cluster> {
    let mut m = MapView::new(cx, node, path);
    let name = m.req_string(cx, "name");
    if let Some(t) = m.string(cx, "type") {
        if !t.eq_ignore_ascii_case("static") {
            cx.problem(
                m.key_line("type"),
                &m.child("type"),
                format!("cluster type {t:?} is not supported (only Static)"),
            );
        }
    }
    let lb = m.string(cx, "lb_policy");
    let lb_policy = lb.as_deref().and_then(|v| {
        let p = LbPolicy::parse(v);
        if p.is_none() {
            cx.problem(
                m.key_line("lb_policy"),
                &m.child("lb_policy"),
                LbPolicy::unknown_message(v),
            );
        }
        p
    });
    let consistent = match m.map(cx, "consistent") {
        Some(mut c) => {
            if lb_policy.is_some_and(|p| !p.is_hash()) {
                cx.problem(
                    c.line(),
                    c.path(),
                    "consistent is only used by ring_hash and maglev",
                );
            }
            let out = read_consistent(cx, &mut c);
            c.finish(cx);
            out
        }
        None => ConsistentConfig::default(),
    };
    let checks = m.list(cx, "health_checks");
    if let Some((p, n)) = checks.get(1) {
        cx.problem(n.line, p, "only one health check is supported");
    }
    let health_check = checks.first().map(|(p, n)| read_health_check(cx, n, p));
    let mut endpoints: Vec<Endpoint> = Vec::new();
    let endpoint_items = m.list(cx, "endpoints");
    if endpoint_items.is_empty() {
        cx.problem(
            m.key_line("endpoints"),
            &m.child("endpoints"),
            "a static cluster needs at least one endpoint",
        );
    }
    for (p, n) in endpoint_items {
        if let Some(ep) = read_endpoint(cx, n, &p) {
            if endpoints.iter().any(|e| e.address == ep.address) {
                cx.problem(
                    n.line,
                    &p,
                    format!(
                        "endpoint {}:{} is listed twice",
                        ep.address.address, ep.address.port
                    ),
                );
            }
            endpoints.push(ep);
        }
    }
    let outlier_detection = m.map(cx, "outlier_detection").map(|mut o| {
        let out = OutlierDetection {
            // 0 switches ejection off.
            consecutive_errors: u32_of(o.uint(cx, "consecutive_errors", 1_000_000)).unwrap_or(5),
            base_ejection_time: o
                .duration(cx, "base_ejection_time")
                .unwrap_or(Duration::from_secs(30)),
            max_ejection_percent: u32_of(o.uint(cx, "max_ejection_percent", 100)).unwrap_or(50),
        };
        o.finish(cx);
        out
    });
    let retry_budget = super::retry_budget::read(cx, &mut m);
    m.finish(cx);
    Some(Cluster {
        retry_budget,
        name: name?,
        lb_policy: lb_policy.unwrap_or(LbPolicy::WeightedRandom),
        lb_policy_explicit: lb_policy.is_some(),
        consistent,
        health_check,
        endpoints,
        outlier_detection,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policy_names() {
        let cases = [
            ("Rand", Some(LbPolicy::Random)),
            ("random", Some(LbPolicy::Random)),
            ("RoundRobin", Some(LbPolicy::RoundRobin)),
            ("round_robin", Some(LbPolicy::RoundRobin)),
            ("WeightRandom", Some(LbPolicy::WeightedRandom)),
            ("weighted_random", Some(LbPolicy::WeightedRandom)),
            ("WEIGHTED_ROUND_ROBIN", Some(LbPolicy::WeightedRoundRobin)),
            ("leastactive", Some(LbPolicy::LeastActive)),
            ("least_active", Some(LbPolicy::LeastActive)),
            ("p2c", Some(LbPolicy::P2c)),
            ("RingHashing", Some(LbPolicy::RingHash)),
            ("consistenthash", Some(LbPolicy::RingHash)),
            ("MaglevHashing", Some(LbPolicy::Maglev)),
            ("lb", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(LbPolicy::parse(name), want, "{name}");
            if let Some(p) = want {
                assert_eq!(LbPolicy::parse(p.name()), want);
            }
        }
    }

    #[test]
    fn primes() {
        let got: Vec<u64> = (0..30).filter(|n| is_prime(*n)).collect();
        assert_eq!(got, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(is_prime(DEFAULT_MAGLEV_TABLE_SIZE));
        assert!(!is_prime(65_536));
    }
}

//! `dgp.filter.http.authority` config: client IP allow and deny lists, in pixiu's shape
//! (`authority_rules: [{strategy: 0 white | 1 black, limit: 0 IP, items: [..]}]`) or tianlu's
//! (`allow: [cidr..]`, `deny: [cidr..]`). Items are addresses or CIDR blocks, IPv4 or IPv6.
//!
//! pixiu's `limit: 1` (application name) is a load error: an HTTP request carries no trusted
//! application name.

use std::fmt;
use std::net::IpAddr;

use crate::yaml::reader::{as_string, list_items, Ctx, MapView};

/// `dgp.filter.http.authority` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityConfig {
    /// Every rule must pass (`allow` and `deny` become one rule each).
    pub rules: Vec<AuthorityRule>,
}

/// One list of addresses and what a match means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityRule {
    /// White list (`strategy: 0`, `allow`) or black list (`strategy: 1`, `deny`).
    pub strategy: Strategy,
    /// The addresses and blocks.
    pub items: Vec<IpNet>,
}

/// What a list does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Only listed clients pass.
    Allow,
    /// Listed clients are refused.
    Deny,
}

impl AuthorityRule {
    /// True when a client at `ip` (`None` = unknown) passes this rule.
    pub fn passes(&self, ip: Option<IpAddr>) -> bool {
        let listed = ip.is_some_and(|ip| self.items.iter().any(|n| n.contains(ip)));
        match self.strategy {
            Strategy::Allow => listed,
            Strategy::Deny => !listed,
        }
    }
}

/// An address block: an address and a prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or `v6/n`. Host bits must be zero.
    pub fn parse(text: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("{text:?}: prefix length must be 0 to {max}")),
            },
        };
        let net = IpNet { addr, prefix };
        if net.bits(addr) != Self::raw(addr) {
            return Err(format!(
                "{text:?} has bits set after the prefix; did you mean {}?",
                IpNet {
                    addr: net.network(),
                    prefix
                }
            ));
        }
        Ok(net)
    }

    fn raw(ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        }
    }

    fn bits(&self, ip: IpAddr) -> u128 {
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let host_bits = u32::from(width - self.prefix);
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        Self::raw(ip) & mask
    }

    fn network(&self) -> IpAddr {
        let bits = self.bits(self.addr);
        match self.addr {
            IpAddr::V4(_) => IpAddr::from(u32::try_from(bits).unwrap_or(0).to_be_bytes()),
            IpAddr::V6(_) => IpAddr::from(bits.to_be_bytes()),
        }
    }

    /// True when `ip` lies in this block. IPv4-mapped IPv6 clients (`::ffff:a.b.c.d`) are
    /// compared as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4() && self.bits(ip) == self.bits(self.addr)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Reads a list of addresses at `key`; `None` when absent.
fn read_items(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    key: &'static str,
    strategy: Strategy,
) -> Option<Vec<IpNet>> {
    let node = m.get(key)?;
    let mut items = Vec::new();
    let listed = list_items(cx, node, &m.child(key));
    let written = listed.len();
    for (path, item) in listed {
        let Some(text) = as_string(cx, item, &path) else {
            continue;
        };
        match IpNet::parse(text.trim()) {
            Ok(n) => items.push(n),
            Err(e) => cx.problem(item.line, &path, e),
        }
    }
    if written == 0 && strategy == Strategy::Allow {
        cx.problem(
            m.key_line(key),
            &m.child(key),
            "an empty white list refuses every request; list at least one address",
        );
    }
    Some(items)
}

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<AuthorityConfig> {
    let mut rules = Vec::new();
    let before = cx.problems.len();
    for (path, node) in c.list(cx, "authority_rules") {
        let mut r = MapView::new(cx, node, path);
        let strategy = match r.uint(cx, "strategy", 1) {
            Some(0) => Some(Strategy::Allow),
            Some(_) => Some(Strategy::Deny),
            None => {
                if r.get("strategy").is_none() {
                    r.missing(cx, "strategy");
                }
                None
            }
        };
        if r.uint(cx, "limit", 1) == Some(1) {
            cx.problem(
                r.key_line("limit"),
                &r.child("limit"),
                "limit 1 (App) is not supported: HTTP requests carry no trusted application name; use limit 0 (IP)",
            );
        }
        match read_items(cx, &mut r, "items", strategy.unwrap_or(Strategy::Deny)) {
            Some(items) => {
                if let Some(strategy) = strategy {
                    rules.push(AuthorityRule { strategy, items });
                }
            }
            None => r.missing(cx, "items"),
        }
        r.finish(cx);
    }
    for (key, strategy) in [("allow", Strategy::Allow), ("deny", Strategy::Deny)] {
        if let Some(items) = read_items(cx, c, key, strategy) {
            rules.push(AuthorityRule { strategy, items });
        }
    }
    if rules.is_empty() && cx.problems.len() == before {
        cx.problem(c.line(), c.path(), "set allow, deny or authority_rules");
    }
    (cx.problems.len() == before).then_some(AuthorityConfig { rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let net = |s: &str| IpNet::parse(s).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(net("10.0.0.0/8").contains(ip("10.1.2.3")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!net("0.0.0.0/0").contains(ip("::1")));
        assert!(net("127.0.0.1").contains(ip("::ffff:127.0.0.1")));
        assert!(net("fd00::/8").contains(ip("fd12::1")));
        assert!(!net("fd00::/8").contains(ip("fe80::1")));
        assert!(net("::/0").contains(ip("::1")));
        assert_eq!(
            IpNet::parse("10.0.0.1/8").unwrap_err(),
            "\"10.0.0.1/8\" has bits set after the prefix; did you mean 10.0.0.0/8?"
        );
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("host.example").is_err());
    }

    #[test]
    fn rules_pass_and_refuse() {
        let allow = AuthorityRule {
            strategy: Strategy::Allow,
            items: vec![IpNet::parse("192.168.0.0/16").unwrap()],
        };
        let deny = AuthorityRule {
            strategy: Strategy::Deny,
            items: allow.items.clone(),
        };
        let inside = Some("192.168.1.1".parse().unwrap());
        let outside = Some("10.0.0.1".parse().unwrap());
        assert!(allow.passes(inside) && !allow.passes(outside) && !allow.passes(None));
        assert!(!deny.passes(inside) && deny.passes(outside) && deny.passes(None));
    }
}

//! [`RouteTable`]: a precompiled segment trie over all routes of one api_config, and
//! [`RouteTable::lookup`].
//!
//! Precedence at every segment: literal, then `:param`/`{param}`, then `*`, then `**`; a failed
//! deeper match backtracks to the next alternative. Literal segments compare case-sensitively
//! with the percent-decoded request segment (pixiu lowercases paths; tianlu does not). A route
//! for the exact method beats an `ANY` route on the same node. Empty segments are ignored.
//! A miss allocates nothing; only `Found` (params) and `MethodNotAllowed` (allowed list) do.

use std::collections::HashMap;

use crate::api::route::Route;
use crate::error::{ConfigError, Problem};
use crate::params::{eq_decoded, percent_decode, Params};
use crate::path::{Segment, MAX_PARAMS};

/// The result of [`RouteTable::lookup`].
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    /// A route matched path and method. The route may be disabled (`enabled == false`).
    Found {
        /// The matched route.
        route: &'a Route,
        /// Its path parameters, percent-decoded.
        params: Params,
        /// The route's position in [`RouteTable::routes`], for per-route data kept beside the
        /// table.
        index: usize,
    },
    /// The path matched but no route has this method; `allowed` is sorted (for `Allow`).
    MethodNotAllowed {
        /// Methods that would match.
        allowed: Vec<String>,
    },
    /// No route matches the path.
    NotFound,
}

#[derive(Debug, Default)]
struct TrieNode {
    literals: Vec<(Box<str>, TrieNode)>,
    param: Option<Box<TrieNode>>,
    wildcard: Option<Box<TrieNode>>,
    /// Routes ending in `**` at this node: (method, route index).
    catch_all: Vec<(Box<str>, usize)>,
    /// Routes ending exactly here.
    here: Vec<(Box<str>, usize)>,
}

/// Captured parameter spans (byte ranges into the request path).
struct Caps {
    spans: [(usize, usize); MAX_PARAMS],
    len: usize,
}

/// All routes of one api_config, ready for lookups.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    root: TrieNode,
}

fn pick(list: &[(Box<str>, usize)], method: &str) -> Option<usize> {
    list.iter()
        .find(|(m, _)| &**m == method)
        .or_else(|| list.iter().find(|(m, _)| &**m == "ANY"))
        .map(|(_, i)| *i)
}

/// `(start, end)` of the next non-empty segment at or after `pos`, if any.
fn next_segment(path: &str, pos: usize) -> Option<(usize, usize)> {
    let bytes = path.as_bytes();
    let mut start = pos;
    while bytes.get(start) == Some(&b'/') {
        start += 1;
    }
    if start >= bytes.len() {
        return None;
    }
    let end = path[start..].find('/').map_or(path.len(), |i| start + i);
    Some((start, end))
}

impl TrieNode {
    fn find(&self, path: &str, pos: usize, method: &str, caps: &mut Caps) -> Option<usize> {
        let Some((start, end)) = next_segment(path, pos) else {
            return pick(&self.here, method).or_else(|| pick(&self.catch_all, method));
        };
        let seg = &path[start..end];
        for (lit, child) in &self.literals {
            if eq_decoded(seg, lit, false) {
                if let Some(found) = child.find(path, end, method, caps) {
                    return Some(found);
                }
            }
        }
        if let Some(child) = &self.param {
            if caps.len < MAX_PARAMS {
                caps.spans[caps.len] = (start, end);
                caps.len += 1;
                if let Some(found) = child.find(path, end, method, caps) {
                    return Some(found);
                }
                caps.len -= 1;
            }
        }
        if let Some(child) = &self.wildcard {
            if let Some(found) = child.find(path, end, method, caps) {
                return Some(found);
            }
        }
        pick(&self.catch_all, method)
    }

    /// Every method of every route whose path matches.
    fn allowed(&self, path: &str, pos: usize, out: &mut Vec<String>) {
        out.extend(self.catch_all.iter().map(|(m, _)| m.to_string()));
        let Some((start, end)) = next_segment(path, pos) else {
            out.extend(self.here.iter().map(|(m, _)| m.to_string()));
            return;
        };
        let seg = &path[start..end];
        for (lit, child) in &self.literals {
            if eq_decoded(seg, lit, false) {
                child.allowed(path, end, out);
            }
        }
        for child in [&self.param, &self.wildcard].into_iter().flatten() {
            child.allowed(path, end, out);
        }
    }

    fn insert(&mut self, segments: &[Segment], method: &str, index: usize) {
        let Some((first, rest)) = segments.split_first() else {
            self.here.push((method.into(), index));
            return;
        };
        let child = match first {
            Segment::CatchAll => {
                self.catch_all.push((method.into(), index));
                return;
            }
            Segment::Param => self.param.get_or_insert_with(Box::default),
            Segment::Wildcard => self.wildcard.get_or_insert_with(Box::default),
            Segment::Literal(lit) => {
                let pos = match self.literals.iter().position(|(l, _)| l == lit) {
                    Some(pos) => pos,
                    None => {
                        self.literals.push((lit.clone(), TrieNode::default()));
                        self.literals.len() - 1
                    }
                };
                &mut self.literals[pos].1
            }
        };
        child.insert(rest, method, index);
    }
}

/// Problems for routes with the same method and path shape as an earlier one.
pub(crate) fn duplicate_problems(routes: &[Route]) -> Vec<Problem> {
    let mut seen: HashMap<(String, String), &Route> = HashMap::new();
    let mut problems = Vec::new();
    for r in routes {
        let key = (r.method.clone(), r.pattern.shape());
        match seen.get(&key) {
            Some(first) => problems.push(Problem {
                file: r.source.file.clone(),
                line: Some(r.source.line).filter(|l| *l > 0),
                key_path: format!("{}.httpVerb", r.source.key_path),
                route: Some(r.label()),
                message: format!(
                    "duplicate route: {} is already defined at {}:{}",
                    first.label(),
                    first.source.file.display(),
                    first.source.line
                ),
            }),
            None => {
                seen.insert(key, r);
            }
        }
    }
    problems
}

impl RouteTable {
    /// Builds the table; fails on duplicate method + path (parameter names do not matter).
    pub fn new(routes: Vec<Route>) -> Result<RouteTable, ConfigError> {
        let problems = duplicate_problems(&routes);
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        let mut root = TrieNode::default();
        for (i, r) in routes.iter().enumerate() {
            root.insert(&r.pattern.segments, &r.method, i);
        }
        Ok(RouteTable { routes, root })
    }

    /// The routes, in the order given.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// True when there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Finds the route for `method` (case-sensitive, e.g. `GET`) and `path` (no query string).
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let mut caps = Caps {
            spans: [(0, 0); MAX_PARAMS],
            len: 0,
        };
        if let Some(index) = self.root.find(path, 0, method, &mut caps) {
            let Some(route) = self.routes.get(index) else {
                return Lookup::NotFound;
            };
            let params = route
                .pattern
                .param_names
                .iter()
                .zip(&caps.spans[..caps.len])
                .map(|(name, (s, e))| {
                    (
                        name.clone(),
                        percent_decode(&path[*s..*e], false).into_owned(),
                    )
                })
                .collect();
            return Lookup::Found {
                route,
                params,
                index,
            };
        }
        let mut allowed = Vec::new();
        self.root.allowed(path, 0, &mut allowed);
        if allowed.is_empty() {
            return Lookup::NotFound;
        }
        allowed.sort_unstable();
        allowed.dedup();
        Lookup::MethodNotAllowed { allowed }
    }
}

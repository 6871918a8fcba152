//! Route rules of the connection manager (`route_config.routes[]`): a prefix or path pattern,
//! methods and header conditions selecting an optional cluster; and their matching.

use super::cluster::Cluster;
use crate::path::PathPattern;
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Node;

/// One header condition of a route rule: present, and equal to one of `values` if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    /// Header name.
    pub name: String,
    /// Accepted values (empty = any value).
    pub values: Vec<String>,
}

/// One `route_config.routes[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRule {
    /// `id`.
    pub id: Option<String>,
    /// `match.prefix` (segment-wise: `/api` matches `/api` and `/api/x`, not `/apix`).
    pub prefix: Option<String>,
    /// `match.path` (a pattern like api_config paths).
    pub path: Option<String>,
    /// `match.methods` upper-cased; empty or `*` = any.
    pub methods: Vec<String>,
    /// `match.headers`.
    pub headers: Vec<HeaderMatch>,
    /// `route.cluster` (checked to exist).
    pub cluster: Option<String>,
    pattern: PathPattern,
}

impl RouteRule {
    /// True when method, path and headers match. `headers` must be case-insensitive.
    pub fn matches<'h>(
        &self,
        method: &str,
        path: &str,
        headers: &dyn Fn(&str) -> Option<&'h str>,
    ) -> bool {
        let method_ok =
            self.methods.is_empty() || self.methods.iter().any(|m| m == "*" || m == method);
        method_ok
            && self.pattern.matches(path)
            && self.headers.iter().all(|h| match headers(&h.name) {
                Some(v) => h.values.is_empty() || h.values.iter().any(|w| w == v),
                None => false,
            })
    }
}

/// Reads one `route_config.routes[]` entry.
pub(crate) fn read(
    cx: &mut Ctx,
    node: &Node,
    path: &str,
    clusters: &[Cluster],
) -> Option<RouteRule> {
    let mut r = MapView::new(cx, node, path);
    let id = r.string(cx, "id");
    let mut cluster = None;
    if let Some(mut route) = r.map(cx, "route") {
        cluster = route.string(cx, "cluster").filter(|s| !s.is_empty());
        if let Some(c) = &cluster {
            if !clusters.iter().any(|x| &x.name == c) {
                cx.problem(
                    route.key_line("cluster"),
                    &route.child("cluster"),
                    format!("no cluster named {c:?}"),
                );
            }
        }
        route.noop(
            cx,
            "cluster_not_found_response_code",
            "an unknown cluster is a load-time error; ignored",
        );
        route.finish(cx);
    }
    let Some(mut mm) = r.map(cx, "match") else {
        r.missing(cx, "match");
        r.finish(cx);
        return None;
    };
    let prefix = mm.string(cx, "prefix").filter(|s| !s.is_empty());
    let exact = mm.string(cx, "path").filter(|s| !s.is_empty());
    let methods: Vec<String> = mm
        .string_list(cx, "methods")
        .unwrap_or_default()
        .iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .collect();
    let mut headers = Vec::new();
    for (hp, hn) in mm.list(cx, "headers") {
        let mut h = MapView::new(cx, hn, hp.as_str());
        let name = h.req_string(cx, "name");
        let values = h.string_list(cx, "values").unwrap_or_default();
        if h.bool(cx, "regex") == Some(true) {
            cx.problem(
                h.key_line("regex"),
                &h.child("regex"),
                "regex header matching is not supported",
            );
        }
        h.finish(cx);
        if let Some(name) = name {
            headers.push(HeaderMatch { name, values });
        }
    }
    let pattern_text = match (&prefix, &exact) {
        (Some(_), Some(_)) => {
            cx.problem(mm.line(), mm.path(), "set either prefix or path, not both");
            None
        }
        (Some(p), None) => Some(format!("{}/**", p.trim_end_matches('/'))),
        (None, Some(p)) => Some(p.clone()),
        (None, None) => {
            cx.problem(
                mm.line(),
                &mm.child("prefix"),
                "missing required key (prefix or path)",
            );
            None
        }
    };
    let key = if prefix.is_some() { "prefix" } else { "path" };
    let pattern = pattern_text.and_then(|t| match PathPattern::parse(&t) {
        Ok(p) => Some(p),
        Err(e) => {
            cx.problem(mm.key_line(key), &mm.child(key), e);
            None
        }
    });
    mm.finish(cx);
    r.finish(cx);
    Some(RouteRule {
        id,
        prefix,
        path: exact,
        methods,
        headers,
        cluster,
        pattern: pattern?,
    })
}

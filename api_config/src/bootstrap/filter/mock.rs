//! `tianlu.filter.http.mock` config: responses answered by the gateway itself,
//! `rules: [{match: {method, prefix | path}, status, headers, body}]`; the first matching rule
//! answers, other requests go on.

use serde_json::Value;

use super::common::{header_map, read_path_match, status_code, to_json, PathMatch};
use crate::yaml::reader::{Ctx, MapView};

/// `tianlu.filter.http.mock` config.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// The rules, in order.
    pub rules: Vec<MockRule>,
}

/// One mocked response.
#[derive(Debug, Clone, PartialEq)]
pub struct MockRule {
    /// `match.method` upper-cased; `None` = any method.
    pub method: Option<String>,
    /// `match.prefix` / `match.path`.
    pub path_match: PathMatch,
    /// `status` (default 200).
    pub status: u16,
    /// `headers` (lower-cased names).
    pub headers: Vec<(String, String)>,
    /// `body`: any YAML value, sent as JSON; absent = no body.
    pub body: Option<Value>,
}

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<MockConfig> {
    let before = cx.problems.len();
    let items = c.list(cx, "rules");
    if items.is_empty() {
        cx.problem(
            c.key_line("rules"),
            &c.child("rules"),
            "list at least one rule",
        );
    }
    let mut rules = Vec::new();
    for (path, node) in items {
        let mut r = MapView::new(cx, node, path);
        let (mut method, mut path_match) = (None, None);
        match r.map(cx, "match") {
            Some(mut mm) => {
                path_match = read_path_match(cx, &mut mm);
                method = mm
                    .string(cx, "method")
                    .map(|m| m.trim().to_ascii_uppercase())
                    .filter(|m| !m.is_empty() && m != "*" && m != "ANY");
                if let Some(m) = &method {
                    if !super::common::is_header_name(m) {
                        cx.problem(
                            mm.key_line("method"),
                            &mm.child("method"),
                            format!("{m:?} is not an HTTP method"),
                        );
                    }
                }
                mm.finish(cx);
            }
            None => r.missing(cx, "match"),
        }
        let status = match r.get("status") {
            Some(_) => status_code(cx, &mut r, "status"),
            None => Some(200),
        };
        let headers = header_map(cx, &mut r, "headers");
        let body = r.get("body").map(|n| to_json(cx, n, &r.child("body")));
        r.finish(cx);
        if let (Some(path_match), Some(status)) = (path_match, status) {
            rules.push(MockRule {
                method,
                path_match,
                status,
                headers,
                body,
            });
        }
    }
    (cx.problems.len() == before).then_some(MockConfig { rules })
}

//! `dgp.filter.http.faultinjection` config: aborts (status and body) and delays, always or for a
//! percentage of requests. pixiu's shape is a map keyed by request URI
//! (`fail_inject_rules: {"/api/x": {type, trigger_type, odds, status_code, body, delay}}`,
//! compared with path and query exactly); tianlu also takes `rules: [{match: {prefix | path},
//! ...}]` (a map under `rules` is read like pixiu's). The first matching rule applies.
//!
//! Where tianlu differs from pixiu: a delayed request then goes on to the provider (pixiu ends
//! it); `trigger_type` defaults to `always` (pixiu then never triggers); `random` is 50%, as in
//! pixiu.

use std::time::Duration;

use super::common::{map_entries, read_match, status_code, PathMatch};
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::{Kind, Node};

/// `dgp.filter.http.faultinjection` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultConfig {
    /// The rules, in order.
    pub rules: Vec<FaultRule>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// Which requests.
    pub path_match: PathMatch,
    /// `type`: what happens.
    pub action: FaultAction,
    /// `trigger_type` / `odds`: the share of matching requests hit, 0 to 100 percent
    /// (`always` = 100, `random` = 50).
    pub percent: u8,
}

/// `type` of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// `abort`: answer `status_code` with `body` at once.
    Abort {
        /// `status_code`.
        status: u16,
        /// `body` (sent as JSON when it parses as JSON, else as text).
        body: String,
    },
    /// `delay`: wait, then go on.
    Delay(Duration),
}

fn read_rule(
    cx: &mut Ctx,
    r: &mut MapView<'_>,
    path_match: Option<PathMatch>,
) -> Option<FaultRule> {
    let before = cx.problems.len();
    let kind = r.req_string(cx, "type");
    let trigger = r.string(cx, "trigger_type");
    let odds = r.uint(cx, "odds", 100);
    let percent = match trigger.as_deref().map(str::trim) {
        None | Some("always") => Some(100),
        Some("random") => Some(50),
        Some("percentage") => {
            if r.get("odds").is_none() {
                r.missing(cx, "odds");
            }
            odds.and_then(|o| u8::try_from(o).ok())
        }
        Some(other) => {
            cx.problem(
                r.key_line("trigger_type"),
                &r.child("trigger_type"),
                format!("unknown trigger_type {other:?}; use always, percentage or random"),
            );
            None
        }
    };
    if trigger.as_deref() != Some("percentage") && r.get("odds").is_some() {
        cx.problem(
            r.key_line("odds"),
            &r.child("odds"),
            "odds is only used with trigger_type percentage",
        );
    }
    let action = match kind.as_deref() {
        Some("abort") => {
            let status = status_code(cx, r, "status_code");
            if r.get("status_code").is_none() {
                r.missing(cx, "status_code");
            }
            let body = r.string(cx, "body").unwrap_or_default();
            r.reject(cx, "delay", "delay is only used with type delay");
            status.map(|status| FaultAction::Abort { status, body })
        }
        Some("delay") => {
            let d = r.duration(cx, "delay");
            if r.get("delay").is_none() {
                r.missing(cx, "delay");
            }
            for key in ["status_code", "body"] {
                r.reject(cx, key, "only used with type abort");
            }
            d.map(FaultAction::Delay)
        }
        Some(other) => {
            cx.problem(
                r.key_line("type"),
                &r.child("type"),
                format!("unknown type {other:?}; use abort or delay"),
            );
            None
        }
        None => None,
    };
    if cx.problems.len() != before {
        return None;
    }
    Some(FaultRule {
        path_match: path_match?,
        action: action?,
        percent: percent?,
    })
}

/// pixiu's map of URI → rule.
fn read_uri_map(cx: &mut Ctx, c: &mut MapView<'_>, key: &'static str, out: &mut Vec<FaultRule>) {
    for (uri, node, line, path) in map_entries(cx, c, key) {
        if !uri.starts_with('/') {
            cx.problem(line, &path, "a rule's URI must start with \"/\"");
            continue;
        }
        let mut r = MapView::new(cx, node, path);
        out.extend(read_rule(cx, &mut r, Some(PathMatch::Uri(uri))));
        r.finish(cx);
    }
}

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<FaultConfig> {
    let before = cx.problems.len();
    let mut rules = Vec::new();
    read_uri_map(cx, c, "fail_inject_rules", &mut rules);
    let rules_is_map = matches!(
        c.get("rules"),
        Some(Node {
            kind: Kind::Map(_),
            ..
        })
    );
    if rules_is_map {
        read_uri_map(cx, c, "rules", &mut rules);
    } else {
        for (path, node) in c.list(cx, "rules") {
            let mut r = MapView::new(cx, node, path);
            let m = read_match(cx, &mut r);
            rules.extend(read_rule(cx, &mut r, m));
            r.finish(cx);
        }
    }
    if rules.is_empty() && cx.problems.len() == before {
        cx.problem(
            c.line(),
            &c.child("rules"),
            "list at least one rule (rules or fail_inject_rules)",
        );
    }
    (cx.problems.len() == before).then_some(FaultConfig { rules })
}

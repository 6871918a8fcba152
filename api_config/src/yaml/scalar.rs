//! Typed reads of single nodes (string, bool, bounded integer, duration, string list, list
//! items), each recording a problem with the key path when the node has the wrong shape.

use std::time::Duration;

use super::reader::Ctx;
use super::{Kind, Node};
use crate::duration::parse_duration;

/// `parent.key`, or `key` at the root.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The scalar text of `node`; a collection is a problem.
pub(crate) fn as_string(cx: &mut Ctx, node: &Node, path: &str) -> Option<String> {
    match node.scalar_text() {
        Some(s) => Some(s.to_owned()),
        None if node.is_null() => None,
        None => {
            cx.problem(
                node.line,
                path,
                format!("expected a string, found {}", node.shape()),
            );
            None
        }
    }
}

/// A boolean (`true`/`false`, or those words as a string).
pub(crate) fn as_bool(cx: &mut Ctx, node: &Node, path: &str) -> Option<bool> {
    match &node.kind {
        Kind::Bool(b, _) => Some(*b),
        Kind::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Kind::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Kind::Null => None,
        _ => {
            cx.problem(
                node.line,
                path,
                format!("expected true or false, found {}", describe(node)),
            );
            None
        }
    }
}

/// A non-negative integer no larger than `max`, written as a number or as a string of digits.
pub(crate) fn as_uint(cx: &mut Ctx, node: &Node, path: &str, max: u64) -> Option<u64> {
    let parsed = match &node.kind {
        Kind::Int(i, _) => u64::try_from(*i).ok(),
        Kind::Str(s) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
            s.trim().parse::<u64>().ok()
        }
        Kind::Null => return None,
        _ => None,
    };
    match parsed {
        Some(v) if v <= max => Some(v),
        _ => {
            cx.problem(
                node.line,
                path,
                format!(
                    "expected an integer from 0 to {max}, found {}",
                    describe(node)
                ),
            );
            None
        }
    }
}

/// A duration (`"3s"`, `"500ms"`, bare integer = milliseconds).
pub(crate) fn as_duration(cx: &mut Ctx, node: &Node, path: &str) -> Option<Duration> {
    let text = match &node.kind {
        Kind::Int(..) | Kind::Str(_) | Kind::Float(_) => node.scalar_text().unwrap_or_default(),
        Kind::Null => return None,
        _ => {
            cx.problem(
                node.line,
                path,
                format!(
                    "expected a duration such as \"3s\", found {}",
                    describe(node)
                ),
            );
            return None;
        }
    };
    match parse_duration(text) {
        Ok(d) => Some(d),
        Err(e) => {
            cx.problem(node.line, path, e.to_string());
            None
        }
    }
}

/// A list of strings; a single string is accepted as a one-element list.
pub(crate) fn as_string_list(cx: &mut Ctx, node: &Node, path: &str) -> Option<Vec<String>> {
    match &node.kind {
        Kind::Seq(items) => Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| as_string(cx, item, &format!("{path}[{i}]")))
                .collect(),
        ),
        Kind::Null => None,
        _ => as_string(cx, node, path).map(|s| vec![s]),
    }
}

/// Shape plus text, for messages: `a string "abc"`, `a list`.
pub(crate) fn describe(node: &Node) -> String {
    match node.scalar_text() {
        Some(s) => format!("{} {s:?}", node.shape()),
        None => node.shape().to_owned(),
    }
}

/// Items of a list node with their key paths; null is an empty list, anything else a problem.
pub(crate) fn list_items<'n>(cx: &mut Ctx, node: &'n Node, path: &str) -> Vec<(String, &'n Node)> {
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{path}[{i}]"), n))
            .collect(),
        Kind::Null => Vec::new(),
        _ => {
            cx.problem(
                node.line,
                path,
                format!("expected a list, found {}", describe(node)),
            );
            Vec::new()
        }
    }
}

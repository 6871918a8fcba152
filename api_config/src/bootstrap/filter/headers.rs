//! `tianlu.filter.http.headers` (also accepted as pixiu's `dgp.filter.http.header`) config:
//! `request: {set, add, remove}` and `response: {set, add, remove}`.
//!
//! pixiu's `dgp.filter.http.header` does nothing; under tianlu the name maps to this filter,
//! which really changes headers. With no changes configured it loads with a warning.

use super::common::{header_map, header_name};
use crate::yaml::reader::{Ctx, MapView};

/// `tianlu.filter.http.headers` config.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeadersConfig {
    /// `request`: applied before later filters and the parameter mapping see the headers.
    pub request: HeaderOps,
    /// `response`: applied to every response, local replies and errors included.
    pub response: HeaderOps,
}

/// Header changes, applied in the order remove, set, add. Names are lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderOps {
    /// `set`: replace every value of the header with this one.
    pub set: Vec<(String, String)>,
    /// `add`: append this value, keeping existing ones.
    pub add: Vec<(String, String)>,
    /// `remove`: drop the header.
    pub remove: Vec<String>,
}

impl HeaderOps {
    /// True when nothing is changed.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

fn read_ops(cx: &mut Ctx, c: &mut MapView<'_>, key: &'static str) -> HeaderOps {
    let Some(mut m) = c.map(cx, key) else {
        return HeaderOps::default();
    };
    let set = header_map(cx, &mut m, "set");
    let add = header_map(cx, &mut m, "add");
    let mut remove = Vec::new();
    if let Some(names) = m.string_list(cx, "remove") {
        for (i, n) in names.iter().enumerate() {
            let path = format!("{}[{i}]", m.child("remove"));
            if let Some(n) = header_name(cx, m.key_line("remove"), &path, n.trim()) {
                remove.push(n);
            }
        }
    }
    m.finish(cx);
    HeaderOps { set, add, remove }
}

/// Reads the filter's config.
pub(crate) fn read(cx: &mut Ctx, c: &mut MapView<'_>) -> Option<HeadersConfig> {
    let before = cx.problems.len();
    let out = HeadersConfig {
        request: read_ops(cx, c, "request"),
        response: read_ops(cx, c, "response"),
    };
    if cx.problems.len() != before {
        return None;
    }
    if out.request.is_empty() && out.response.is_empty() {
        cx.warn(
            c.line(),
            c.path(),
            "no request or response header changes configured; the filter does nothing",
        );
    }
    Some(out)
}

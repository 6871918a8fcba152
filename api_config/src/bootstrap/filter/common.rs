//! Pieces shared by several HTTP filter configs: `match` blocks and their request matching,
//! free-form string maps, header name and value checks, secrets that never print, and YAML
//! values turned into JSON.

use std::fmt;

use serde_json::{Map, Number, Value};

use crate::params::eq_decoded;
use crate::yaml::reader::{as_string, describe, Ctx, MapView};
use crate::yaml::{Kind, Node};

/// Which requests a filter rule applies to, by path.
///
/// `Prefix` and `Path` compare like the route table does: segment by segment against the
/// percent-decoded request segments, empty segments ignored (`/api` matches `/api`, `/api/` and
/// `/api/x` but not `/apix`; `/%61pi/x` is `/api/x`). A filter rule therefore always sees the
/// same path the router does, so an encoded or doubled slash cannot slip past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// `match.prefix`: the request path starts with these segments (`/` = every request).
    Prefix(String),
    /// `match.path`: the request path has exactly these segments.
    Path(String),
    /// pixiu's URI-keyed rule maps (`fail_inject_rules`): path and query equal this text
    /// exactly, as pixiu compares `RequestURI`.
    Uri(String),
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl PathMatch {
    /// Every request.
    pub fn any() -> Self {
        PathMatch::Prefix("/".to_owned())
    }

    /// True when a request with this raw `path` and `query` matches.
    pub fn matches(&self, path: &str, query: Option<&str>) -> bool {
        match self {
            PathMatch::Prefix(want) => {
                let mut got = segments(path);
                segments(want).all(|w| got.next().is_some_and(|g| eq_decoded(g, w, false)))
            }
            PathMatch::Path(want) => {
                let mut got = segments(path);
                segments(want).all(|w| got.next().is_some_and(|g| eq_decoded(g, w, false)))
                    && got.next().is_none()
            }
            PathMatch::Uri(want) => match (want.strip_prefix(path), query) {
                (Some(rest), None) => rest.is_empty(),
                (Some(rest), Some(q)) => rest.strip_prefix('?') == Some(q),
                (None, _) => false,
            },
        }
    }
}

impl fmt::Display for PathMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathMatch::Prefix(p) => write!(f, "prefix {p}"),
            PathMatch::Path(p) => write!(f, "path {p}"),
            PathMatch::Uri(p) => write!(f, "uri {p}"),
        }
    }
}

/// A secret from the configuration (an API key, an HMAC secret): its `Debug` output is
/// redacted so that config dumps and logs never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Reads the `prefix` / `path` keys of a `match` view (exactly one, starting with `/`). Does not
/// finish the view, so callers can read more keys (`method`).
pub(crate) fn read_path_match(cx: &mut Ctx, mm: &mut MapView<'_>) -> Option<PathMatch> {
    let prefix = mm.string(cx, "prefix");
    let path = mm.string(cx, "path");
    let (key, text, make): (&str, String, fn(String) -> PathMatch) = match (prefix, path) {
        (Some(_), Some(_)) => {
            cx.problem(mm.line(), mm.path(), "set either prefix or path, not both");
            return None;
        }
        (Some(p), None) => ("prefix", p, PathMatch::Prefix),
        (None, Some(p)) => ("path", p, PathMatch::Path),
        (None, None) => {
            if mm.get("prefix").is_none() && mm.get("path").is_none() {
                cx.problem(
                    mm.line(),
                    &mm.child("prefix"),
                    "missing required key (prefix or path)",
                );
            }
            return None;
        }
    };
    if !text.starts_with('/') {
        cx.problem(mm.key_line(key), &mm.child(key), "must start with \"/\"");
        return None;
    }
    Some(make(text))
}

/// Reads an optional `match: {prefix | path}` block; absent = every request.
pub(crate) fn read_match(cx: &mut Ctx, m: &mut MapView<'_>) -> Option<PathMatch> {
    let Some(mut mm) = m.map(cx, "match") else {
        return Some(PathMatch::any());
    };
    let out = read_path_match(cx, &mut mm);
    mm.finish(cx);
    out
}

/// The entries of mapping `key` as `(key, value node, key line, key path)`; absent = empty.
pub(crate) fn map_entries<'n>(
    cx: &mut Ctx,
    m: &mut MapView<'n>,
    key: &'static str,
) -> Vec<(String, &'n Node, usize, String)> {
    let Some(node) = m.get(key) else {
        return Vec::new();
    };
    let path = m.child(key);
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .map(|e| {
                (
                    e.key.clone(),
                    &e.value,
                    e.key_line,
                    format!("{path}.{}", e.key),
                )
            })
            .collect(),
        _ => {
            cx.problem(
                node.line,
                &path,
                format!("expected a mapping, found {}", describe(node)),
            );
            Vec::new()
        }
    }
}

/// Mapping `key` of string values (numbers and booleans keep their text).
pub(crate) fn string_map(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    key: &'static str,
) -> Vec<(String, String, usize, String)> {
    map_entries(cx, m, key)
        .into_iter()
        .filter_map(|(k, node, line, path)| {
            if node.is_null() {
                cx.problem(line, &path, "expected a string, found null");
                return None;
            }
            as_string(cx, node, &path).map(|v| (k, v, line, path))
        })
        .collect()
}

/// True for an HTTP header (or token) name: RFC 9110 `tchar`s only.
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// True for a header value the gateway can send: visible ASCII, spaces and tabs.
pub(crate) fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Checks a header name at `path`; returns it lower-cased.
pub(crate) fn header_name(cx: &mut Ctx, line: usize, path: &str, name: &str) -> Option<String> {
    if is_header_name(name) {
        Some(name.to_ascii_lowercase())
    } else {
        cx.problem(line, path, format!("{name:?} is not a valid header name"));
        None
    }
}

/// Checks a header value at `path`.
pub(crate) fn header_value(cx: &mut Ctx, line: usize, path: &str, value: &str) -> Option<String> {
    if is_header_value(value) {
        Some(value.to_owned())
    } else {
        cx.problem(
            line,
            path,
            "header values may only hold visible ASCII characters, spaces and tabs",
        );
        None
    }
}

/// Mapping `key` of header names to values, both checked; names lower-cased.
pub(crate) fn header_map(
    cx: &mut Ctx,
    m: &mut MapView<'_>,
    key: &'static str,
) -> Vec<(String, String)> {
    string_map(cx, m, key)
        .into_iter()
        .filter_map(|(k, v, line, path)| {
            let name = header_name(cx, line, &path, &k);
            let value = header_value(cx, line, &path, &v);
            Some((name?, value?))
        })
        .collect()
}

/// An HTTP status code `key` in 100..=599.
pub(crate) fn status_code(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str) -> Option<u16> {
    let v = m.uint(cx, key, 999)?;
    if !(100..=599).contains(&v) {
        cx.problem(
            m.key_line(key),
            &m.child(key),
            format!("{v} is not an HTTP status code (100 to 599)"),
        );
        return None;
    }
    u16::try_from(v).ok()
}

/// A YAML value as JSON. Map keys become strings; `.inf` and `.nan` are problems.
pub(crate) fn to_json(cx: &mut Ctx, node: &Node, path: &str) -> Value {
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b, _) => Value::Bool(*b),
        Kind::Int(i, text) => {
            if let Ok(v) = i64::try_from(*i) {
                Value::from(v)
            } else if let Ok(v) = u64::try_from(*i) {
                Value::from(v)
            } else {
                cx.problem(
                    node.line,
                    path,
                    format!("{text} does not fit in a JSON number"),
                );
                Value::Null
            }
        }
        Kind::Float(text) => match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Value::Number(n),
            None => {
                cx.problem(node.line, path, format!("{text} is not a JSON number"));
                Value::Null
            }
        },
        Kind::Str(s) => Value::String(s.clone()),
        Kind::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| to_json(cx, n, &format!("{path}[{i}]")))
                .collect(),
        ),
        Kind::Map(entries) => {
            let mut out = Map::new();
            for e in entries {
                let v = to_json(cx, &e.value, &format!("{path}.{}", e.key));
                out.insert(e.key.clone(), v);
            }
            Value::Object(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_matching_follows_the_router() {
        let prefix = PathMatch::Prefix("/api".into());
        let path = PathMatch::Path("/api/users".into());
        let uri = PathMatch::Uri("/api/users?id=1".into());
        let cases: [(&PathMatch, &str, Option<&str>, bool); 14] = [
            (&prefix, "/api", None, true),
            (&prefix, "/api/", None, true),
            (&prefix, "/api/x/y", None, true),
            (&prefix, "//api//x", None, true),
            (&prefix, "/%61pi/x", None, true),
            (&prefix, "/apix", None, false),
            (&prefix, "/", None, false),
            (&path, "/api/users", Some("a=1"), true),
            (&path, "/api/users/", None, true),
            (&path, "/api/users/1", None, false),
            (&path, "/api", None, false),
            (&uri, "/api/users", Some("id=1"), true),
            (&uri, "/api/users", None, false),
            (&uri, "/api/users", Some("id=2"), false),
        ];
        for (m, p, q, want) in cases {
            assert_eq!(m.matches(p, q), want, "{m} vs {p} {q:?}");
        }
        assert!(PathMatch::any().matches("/", None));
        assert!(PathMatch::any().matches("/anything/at/all", None));
    }

    #[test]
    fn header_checks_and_secret_debug() {
        assert!(is_header_name("X-Api-Key"));
        assert!(!is_header_name("x api"));
        assert!(!is_header_name(""));
        assert!(is_header_value("a b\tc"));
        assert!(!is_header_value("a\r\nb"));
        assert!(!is_header_value("é"));
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }
}

//! The YAML layer: parses text with `serde-saphyr` into a small positioned node tree ([`Node`]),
//! which the loaders walk with [`reader`] so that every problem can be reported with its key path
//! and line instead of stopping at the first one.
//!
//! Scalars keep their source text: `version: 1.10` stays `"1.10"` when a string is wanted, and
//! only YAML 1.2 booleans (`true`/`false`) are booleans (`on`/`yes` are strings).

pub(crate) mod reader;
mod scalar;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;

/// A YAML node with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) line: usize,
    pub(crate) kind: Kind,
}

/// The shape of a node. Non-string scalars keep their source text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool, String),
    Int(i128, String),
    Float(String),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping; non-string keys are kept as their source text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_line: usize,
    pub(crate) value: Node,
}

impl Node {
    /// The scalar's text (strings, numbers, booleans); `None` for null and collections.
    pub(crate) fn scalar_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) | Kind::Bool(_, s) | Kind::Int(_, s) | Kind::Float(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the node's shape, for "expected X, found Y" messages.
    pub(crate) fn shape(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(..) => "a boolean",
            Kind::Int(..) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }
}

/// A YAML syntax error: line (when known) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

/// Parses one YAML document. An empty document is [`Kind::Null`].
pub(crate) fn parse(src: &str) -> Result<Node, SyntaxError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(src, options) {
        Ok(root) => Ok(convert(root, src)),
        Err(e) => {
            let line = e.location().and_then(|l| usize::try_from(l.line()).ok());
            let mut message = e.without_snippet().to_string();
            // serde-saphyr appends " at line N, column M"; our Display prints the line itself.
            if let Some(idx) = message.rfind(" at line ") {
                message.truncate(idx);
            }
            Err(SyntaxError {
                line: line.filter(|l| *l > 0),
                message: format!("invalid YAML: {message}"),
            })
        }
    }
}

fn line_of(loc: &Location) -> usize {
    usize::try_from(loc.line()).unwrap_or(0)
}

/// The source text of a scalar, found through the byte span of where it is defined.
fn source_text(loc: &Location, src: &str) -> Option<String> {
    let span = loc.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    src.get(start..start.checked_add(len)?).map(str::to_owned)
}

fn convert(raw: Spanned<Raw>, src: &str) -> Node {
    let line = line_of(&raw.referenced);
    let text = |fallback: String| source_text(&raw.defined, src).unwrap_or(fallback);
    let kind = match raw.value {
        Raw::Null => Kind::Null,
        Raw::Bool(b) => Kind::Bool(b, text(b.to_string())),
        Raw::Int(i) => Kind::Int(i, text(i.to_string())),
        Raw::Float(f) => Kind::Float(text(f.to_string())),
        Raw::Str(s) => Kind::Str(s),
        Raw::Seq(items) => Kind::Seq(items.into_iter().map(|n| convert(n, src)).collect()),
        Raw::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key_node = convert(k, src);
                    let key = key_node.scalar_text().unwrap_or("").to_owned();
                    Entry {
                        key,
                        key_line: key_node.line,
                        value: convert(v, src),
                    }
                })
                .collect(),
        ),
    };
    Node { line, kind }
}

/// What serde-saphyr hands us before positions are attached.
enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(i128::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalars(src: &str) -> Vec<(usize, String)> {
        let Kind::Seq(items) = parse(src).expect("parses").kind else {
            panic!("not a list")
        };
        items
            .iter()
            .map(|n| {
                (
                    n.line,
                    format!("{}:{}", n.shape(), n.scalar_text().unwrap_or("-")),
                )
            })
            .collect()
    }

    #[test]
    fn scalars_keep_source_text() {
        let got = scalars("- 1.10\n- on\n- true\n- 0x1F\n- ~\n- \"3\"\n- 3s\n- -7\n");
        let want = [
            (1, "a number:1.10"),
            (2, "a string:on"),
            (3, "a boolean:true"),
            (4, "an integer:0x1F"),
            (5, "null:-"),
            (6, "a string:3"),
            (7, "a string:3s"),
            (8, "an integer:-7"),
        ];
        let want: Vec<(usize, String)> = want.iter().map(|(l, s)| (*l, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn map_keys_have_lines_and_aliases_resolve() {
        let root = parse("a: &x\n  k: v\nb: *x\n7: seven\n").expect("parses");
        let Kind::Map(entries) = root.kind else {
            panic!("not a map")
        };
        let keys: Vec<(&str, usize)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.key_line))
            .collect();
        assert_eq!(keys, [("a", 1), ("b", 3), ("7", 4)]);
        let inner = |n: &Node| match &n.kind {
            Kind::Map(e) => (e[0].key.clone(), e[0].value.scalar_text().map(String::from)),
            _ => panic!("not a map"),
        };
        assert_eq!(
            inner(&entries[1].value),
            ("k".to_owned(), Some("v".to_owned()))
        );
        assert_eq!(inner(&entries[0].value), inner(&entries[1].value));
    }

    #[test]
    fn syntax_errors_have_lines() {
        let cases = [
            ("a: [1,\n", Some(1), "unclosed bracket"),
            ("a: 1\na: 2\n", Some(2), "duplicate mapping key"),
            ("a: *nope\n", Some(1), "unknown anchor"),
            ("---\na: 1\n---\nb: 2\n", Some(4), "multiple YAML documents"),
        ];
        for (src, line, needle) in cases {
            let err = parse(src).expect_err(src);
            assert_eq!(err.line, line, "{src:?}");
            assert!(err.message.contains(needle), "{src:?}: {}", err.message);
            assert!(!err.message.contains(" at line "), "{}", err.message);
        }
        assert_eq!(parse("").expect("empty is fine").kind, Kind::Null);
    }
}

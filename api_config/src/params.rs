//! Request-side helpers shared by routing and mapping: [`Params`] (captured path parameters),
//! percent-decoding, and first-value query-string lookup ([`query_param`]).

use std::borrow::Cow;

/// Path parameters captured by a route match, in pattern order, with percent-decoded values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(String, String)>,
}

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Params::default()
    }

    /// The value of parameter `name` (names are case-sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(name, value)` pairs in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends a parameter (used by the router; handy in tests).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Params {
            entries: iter
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Iterates the bytes of `raw` with `%XX` decoded (and `+` as space when asked). A `%` not
/// followed by two hex digits stays as it is.
fn decoded_bytes(raw: &str, plus_as_space: bool) -> impl Iterator<Item = u8> + '_ {
    let bytes = raw.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *bytes.get(i)?;
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                i += 3;
                return Some(h << 4 | l);
            }
        }
        i += 1;
        Some(if plus_as_space && b == b'+' { b' ' } else { b })
    })
}

fn needs_decoding(raw: &str, plus_as_space: bool) -> bool {
    raw.contains('%') || (plus_as_space && raw.contains('+'))
}

/// Percent-decodes `raw`; invalid UTF-8 after decoding becomes U+FFFD. Borrows when nothing
/// needs decoding.
pub fn percent_decode(raw: &str, plus_as_space: bool) -> Cow<'_, str> {
    if !needs_decoding(raw, plus_as_space) {
        return Cow::Borrowed(raw);
    }
    let bytes: Vec<u8> = decoded_bytes(raw, plus_as_space).collect();
    match String::from_utf8(bytes) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// True when `raw`, percent-decoded, equals `want`; never allocates.
pub(crate) fn eq_decoded(raw: &str, want: &str, plus_as_space: bool) -> bool {
    if !needs_decoding(raw, plus_as_space) {
        return raw == want;
    }
    decoded_bytes(raw, plus_as_space).eq(want.bytes())
}

/// The first value of query parameter `name` in a raw query string (no leading `?`), decoded
/// (`%XX` and `+`). A key without `=` has the empty value. Keys compare after decoding.
pub fn query_param<'q>(query: &'q str, name: &str) -> Option<Cow<'q, str>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            eq_decoded(key, name, true).then(|| percent_decode(value, true))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        let cases = [
            ("plain", false, "plain"),
            ("a%20b", false, "a b"),
            ("a+b", false, "a+b"),
            ("a+b", true, "a b"),
            ("%E4%B8%AD", false, "中"),
            ("100%", false, "100%"),
            ("%zz%4", false, "%zz%4"),
            ("%FF", false, "\u{FFFD}"),
            ("%2F", false, "/"),
        ];
        for (raw, plus, want) in cases {
            assert_eq!(percent_decode(raw, plus), want, "{raw:?}");
            assert!(
                eq_decoded(raw, want, plus) || want.contains('\u{FFFD}'),
                "{raw:?}"
            );
        }
        assert!(!eq_decoded("a%20b", "a%20b", false));
    }

    #[test]
    fn query_lookup_takes_first_value() {
        let q = "a=1&b=x+y&a=2&flag&c%20d=%3D&e=";
        let cases = [
            ("a", Some("1")),
            ("b", Some("x y")),
            ("flag", Some("")),
            ("c d", Some("=")),
            ("e", Some("")),
            ("A", None),
            ("missing", None),
        ];
        for (name, want) in cases {
            assert_eq!(query_param(q, name).as_deref(), want, "{name}");
        }
        assert_eq!(query_param("", "a"), None);
    }

    #[test]
    fn params_keep_order() {
        let p: Params = [("id", "7"), ("name", "x")].into_iter().collect();
        assert_eq!(p.get("id"), Some("7"));
        assert_eq!(p.get("ID"), None);
        assert_eq!(p.iter().collect::<Vec<_>>(), [("id", "7"), ("name", "x")]);
        assert_eq!(
            (p.len(), p.is_empty(), Params::new().is_empty()),
            (2, false, true)
        );
    }
}

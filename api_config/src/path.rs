//! Route path patterns: parsing `/api/users/:id`, `/api/users/{id}`, `*` (one segment) and `**`
//! (the rest, zero or more segments) into segments, and matching a single pattern against a path.
//!
//! Empty segments are ignored on both sides, so a trailing slash and `//` do not matter. Literal
//! segments compare case-sensitively against the percent-decoded request segment.

use crate::params::eq_decoded;

/// Most named parameters one route may have.
pub const MAX_PARAMS: usize = 16;
/// Most segments a pattern may have (keeps the route trie shallow).
pub const MAX_SEGMENTS: usize = 64;

/// One segment of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Must equal the request segment.
    Literal(Box<str>),
    /// `:name` or `{name}`: any one segment, captured.
    Param,
    /// `*`: any one segment, not captured.
    Wildcard,
    /// `**`: the rest of the path (zero or more segments); always last.
    CatchAll,
}

/// A compiled path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    pub(crate) segments: Vec<Segment>,
    pub(crate) param_names: Vec<String>,
}

/// Joins a parent resource path and a child path: `/api` + `/users` = `/api/users`.
pub(crate) fn join_paths(parent: &str, child: &str) -> String {
    let parent = parent.trim_end_matches('/');
    let child = child.trim_start_matches('/');
    if child.is_empty() {
        if parent.is_empty() {
            "/".to_owned()
        } else {
            parent.to_owned()
        }
    } else {
        format!("{parent}/{child}")
    }
}

fn valid_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl PathPattern {
    /// Parses a pattern; the error says what is wrong.
    pub(crate) fn parse(path: &str) -> Result<PathPattern, String> {
        if !path.starts_with('/') {
            return Err(format!("path {path:?} must start with '/'"));
        }
        let mut segments = Vec::new();
        let mut param_names: Vec<String> = Vec::new();
        let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if raw.len() > MAX_SEGMENTS {
            return Err(format!("path has more than {MAX_SEGMENTS} segments"));
        }
        for (i, seg) in raw.iter().enumerate() {
            let name = seg
                .strip_prefix(':')
                .or_else(|| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
            if let Some(name) = name {
                if !valid_param_name(name) {
                    return Err(format!(
                        "invalid path parameter {seg:?}: a name is letters, digits, '_', '-' or '.'"
                    ));
                }
                if param_names.iter().any(|n| n == name) {
                    return Err(format!("path parameter {name:?} appears twice"));
                }
                param_names.push(name.to_owned());
                segments.push(Segment::Param);
            } else if *seg == "*" {
                segments.push(Segment::Wildcard);
            } else if *seg == "**" {
                if i + 1 != raw.len() {
                    return Err("'**' must be the last segment".to_owned());
                }
                segments.push(Segment::CatchAll);
            } else if seg.contains(['{', '}', '*']) || seg.starts_with(':') {
                return Err(format!(
                    "segment {seg:?}: a parameter or wildcard must be a whole segment (':id', '{{id}}', '*' or '**')"
                ));
            } else {
                segments.push(Segment::Literal((*seg).into()));
            }
        }
        if param_names.len() > MAX_PARAMS {
            return Err(format!("more than {MAX_PARAMS} path parameters"));
        }
        Ok(PathPattern {
            segments,
            param_names,
        })
    }

    /// The shape used to detect duplicates: parameter names replaced by `:`.
    pub(crate) fn shape(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            out.push('/');
            match seg {
                Segment::Literal(l) => out.push_str(l),
                Segment::Param => out.push(':'),
                Segment::Wildcard => out.push('*'),
                Segment::CatchAll => out.push_str("**"),
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// True when `path` (no query) matches this pattern.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let mut req = path.split('/').filter(|s| !s.is_empty());
        for seg in &self.segments {
            match seg {
                Segment::CatchAll => return true,
                Segment::Literal(lit) => match req.next() {
                    Some(r) if eq_decoded(r, lit, false) => {}
                    _ => return false,
                },
                Segment::Param | Segment::Wildcard => {
                    if req.next().is_none() {
                        return false;
                    }
                }
            }
        }
        req.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_patterns() {
        let cases = [
            ("/", Ok(("/", vec![]))),
            ("/api/users/:id", Ok(("/api/users/:", vec!["id"]))),
            ("/api/users/{id}/", Ok(("/api/users/:", vec!["id"]))),
            ("//a//*/b", Ok(("/a/*/b", vec![]))),
            ("/a/**", Ok(("/a/**", vec![]))),
            ("/a/:x/{y.z}", Ok(("/a/:/:", vec!["x", "y.z"]))),
            ("api", Err("must start with '/'")),
            ("/a/**/b", Err("'**' must be the last segment")),
            ("/a/:", Err("invalid path parameter")),
            ("/a/{}", Err("invalid path parameter")),
            ("/a/user-{id}", Err("must be a whole segment")),
            ("/a/x*", Err("must be a whole segment")),
            ("/a/:id/:id", Err("appears twice")),
            ("/a/{id", Err("must be a whole segment")),
        ];
        for (input, want) in cases {
            match (PathPattern::parse(input), want) {
                (Ok(p), Ok((shape, names))) => {
                    assert_eq!(p.shape(), shape, "{input}");
                    assert_eq!(p.param_names, names, "{input}");
                }
                (Err(e), Err(needle)) => assert!(e.contains(needle), "{input}: {e}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn matches_single_pattern() {
        let cases = [
            ("/api/v1", "/api/v1", true),
            ("/api/v1", "/api/v1/", true),
            ("/api/v1", "/API/v1", false),
            ("/api/v1", "/api/v1/x", false),
            ("/api/:id", "/api/7", true),
            ("/api/:id", "/api", false),
            ("/api/**", "/api", true),
            ("/api/**", "/api/a/b/c", true),
            ("/api/**", "/apix", false),
            ("/a b/*", "/a%20b/x", true),
        ];
        for (pattern, path, want) in cases {
            let p = PathPattern::parse(pattern).expect(pattern);
            assert_eq!(p.matches(path), want, "{pattern} vs {path}");
        }
    }

    #[test]
    fn joins_paths() {
        let cases = [
            ("/api", "/users", "/api/users"),
            ("/api/", "/users", "/api/users"),
            ("/api", "/", "/api"),
            ("/", "/x", "/x"),
            ("", "/", "/"),
        ];
        for (parent, child, want) in cases {
            assert_eq!(join_paths(parent, child), want);
        }
    }
}

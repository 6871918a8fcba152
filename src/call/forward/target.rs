//! The upstream request target of a forwarding route: the route's `path` template with its path
//! parameters filled in (percent-encoded), the rest of the request path appended for prefix
//! (`/**`) routes, and the query string as the client sent it.

use tianlu_api_config::{Forward, Params, PathPart};

/// Appends `value` percent-encoded as one path segment (RFC 3986 `pchar`s stay as they are).
fn push_segment(out: &mut String, value: &str) {
    out.push_str(&tianlu_protocol::triple::encode_path_segment(value));
}

/// The raw request path after its first `n` non-empty segments (`""` when nothing is left).
fn rest_after(path: &str, n: usize) -> &str {
    let mut pos = 0;
    let bytes = path.as_bytes();
    for _ in 0..n {
        while bytes.get(pos) == Some(&b'/') {
            pos += 1;
        }
        match path[pos..].find('/') {
            Some(i) => pos += i,
            None => return "",
        }
    }
    &path[pos..]
}

/// The upstream path and query for an `http` route. `raw_path` is the request path as
/// received (still percent-encoded); `params` are the route's decoded path parameters.
pub fn http_target(fwd: &Forward, raw_path: &str, query: Option<&str>, params: &Params) -> String {
    let mut out = String::with_capacity(raw_path.len() + 16);
    match &fwd.path {
        None => out.push_str(raw_path),
        Some(parts) => {
            for part in parts {
                out.push('/');
                match part {
                    PathPart::Literal(l) => out.push_str(l),
                    PathPart::Param(name) => push_segment(&mut out, params.get(name).unwrap_or("")),
                }
            }
            if let Some(n) = fwd.prefix_segments {
                let rest = rest_after(raw_path, n);
                if out.ends_with('/') && rest.starts_with('/') {
                    out.push_str(&rest[1..]);
                } else {
                    out.push_str(rest);
                }
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `/{interface}/{method}` plus the query, for a `triple-json` route.
pub fn triple_target(interface: &str, method: &str, query: Option<&str>) -> String {
    let mut out = format!("/{interface}/{method}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tianlu_api_config::ForwardKind;

    fn fwd(path: Option<Vec<PathPart>>, prefix: Option<usize>) -> Forward {
        Forward {
            kind: ForwardKind::Http,
            path,
            prefix_segments: prefix,
            method_param: None,
        }
    }

    #[test]
    fn builds_targets() {
        let mut params = Params::new();
        params.push("id", "a b/ü");
        let lit = |s: &str| PathPart::Literal(s.into());
        let template = Some(vec![lit("users"), PathPart::Param("id".into())]);
        let cases = [
            (fwd(None, None), "/api/x%20y", Some("a=1"), "/api/x%20y?a=1"),
            (
                fwd(template.clone(), None),
                "/u/whatever",
                None,
                "/users/a%20b%2F%C3%BC",
            ),
            (
                fwd(Some(vec![lit("assets")]), Some(1)),
                "/static/css/a.css",
                None,
                "/assets/css/a.css",
            ),
            (
                fwd(Some(vec![lit("assets")]), Some(1)),
                "/static",
                None,
                "/assets",
            ),
            (
                fwd(Some(vec![lit("assets")]), Some(1)),
                "/static/d/",
                Some("v=2"),
                "/assets/d/?v=2",
            ),
            (fwd(Some(vec![]), Some(2)), "/a/b/c%2Fd/e", None, "/c%2Fd/e"),
            (fwd(Some(vec![]), Some(1)), "/a", None, "/"),
            (fwd(None, Some(1)), "/static/x", None, "/static/x"),
        ];
        for (f, path, query, want) in cases {
            assert_eq!(http_target(&f, path, query, &params), want, "{path}");
        }
        assert_eq!(
            triple_target("org.x.Svc", "get", Some("q=1")),
            "/org.x.Svc/get?q=1"
        );
    }
}

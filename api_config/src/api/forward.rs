//! `integrationRequest` of routes that forward the HTTP request instead of making a Dubbo call:
//! `requestType: http` (pixiu's HTTP backend keys `host`, `path`, `url` and `schema`, or
//! `clusterName` naming a cluster of `protocol: http` endpoints) and `requestType: triple-json`
//! (the JSON mapping a Dubbo 3.3 Triple provider serves itself at `POST /{interface}/{method}`,
//! reached through a cluster of `tri` endpoints or a direct `url`). Dubbo-only keys are refused
//! with a message saying why.

use crate::allow::AllowList;
use crate::api::integration::{parse_direct_url, Integration};
use crate::api::route::{Backend, ResponseOptions, Target};
use crate::bootstrap::cluster::Protocol;
use crate::mapping::Mapping;
use crate::yaml::reader::{Ctx, MapView};

/// What a forwarding route sends upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardKind {
    /// `requestType: http`: the request as it came (method, path, query, headers, body) to an
    /// HTTP service.
    Http,
    /// `requestType: triple-json` (or `tri-json`): the client's JSON body, untouched, as
    /// `POST /{interface}/{method}` to a Triple provider's HTTP/JSON mapping.
    TripleJson,
}

impl ForwardKind {
    /// Parses a `requestType` value (already lower-cased); `None` for Dubbo kinds.
    pub fn parse(request_type: &str) -> Option<ForwardKind> {
        match request_type {
            "http" => Some(ForwardKind::Http),
            "triple-json" | "tri-json" => Some(ForwardKind::TripleJson),
            _ => None,
        }
    }

    /// The endpoint protocol this kind talks to.
    pub fn protocol(self) -> Protocol {
        match self {
            ForwardKind::Http => Protocol::Http,
            ForwardKind::TripleJson => Protocol::Triple,
        }
    }
}

/// One segment of an upstream path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// A literal segment, sent as written.
    Literal(String),
    /// `:name` or `{name}`: the route's path parameter of that name, percent-encoded.
    Param(String),
}

/// The forwarding side of a route (`Route::forward`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// What is sent.
    pub kind: ForwardKind,
    /// `requestType: http` only: the upstream path (`path`, or the path of `url`), segment by
    /// segment; `None` sends the request's own path.
    pub path: Option<Vec<PathPart>>,
    /// For routes ending in `/**`: how many route segments come before it. The request path
    /// after that many segments is appended to `path` (a prefix route).
    pub prefix_segments: Option<usize>,
    /// `requestType: triple-json` with `method: ":name"` / `"{name}"`: the method is the route's
    /// path parameter of that name, checked to be a Java method name on each request.
    pub method_param: Option<String>,
}

/// Keys that only mean something for Dubbo calls.
const DUBBO_ONLY: [&str; 9] = [
    "parameterTypes",
    "paramTypes",
    "mappingParams",
    "serialization",
    "protocol",
    "response",
    "allowInterfaces",
    "allowClasses",
    "applicationName",
];

/// Parses an upstream path template: `/users/:id/orders`.
fn parse_path(path: &str, route_params: &[String]) -> Result<Vec<PathPart>, String> {
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must start with '/'"));
    }
    let mut parts = Vec::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let name = seg
            .strip_prefix(':')
            .or_else(|| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
        if let Some(name) = name {
            if !route_params.iter().any(|p| p == name) {
                return Err(format!(
                    "path parameter {name:?} is not a parameter of the route path (route has: {})",
                    if route_params.is_empty() {
                        "none".to_owned()
                    } else {
                        route_params.join(", ")
                    }
                ));
            }
            parts.push(PathPart::Param(name.to_owned()));
        } else if seg.contains(['{', '}', '*', '?', '#', ' ']) {
            return Err(format!(
                "segment {seg:?}: use literal segments and ':name' / '{{name}}' parameters only"
            ));
        } else {
            parts.push(PathPart::Literal(seg.to_owned()));
        }
    }
    Ok(parts)
}

/// `http://host:port[/path]`: the address and the path (if any).
fn parse_http_url(url: &str) -> Result<(String, u16, Option<String>), String> {
    let rest = match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => rest,
        Some((s, _)) if s.eq_ignore_ascii_case("https") => {
            return Err("https upstreams are not supported yet; use http://host:port".to_owned())
        }
        Some((s, _)) => {
            return Err(format!(
                "url scheme {s:?} is not supported for requestType http (use http://host:port/path)"
            ))
        }
        None => url,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(rest[i..].to_owned())),
        None => (rest, None),
    };
    let (host, port, _) = parse_direct_url(authority)
        .map_err(|_| format!("url {url:?} must be http://host:port[/path]"))?;
    Ok((host, port, path.filter(|p| p != "/")))
}

/// Reads the rest of an `integrationRequest` whose `requestType` is a forwarding kind.
pub(crate) fn read(
    cx: &mut Ctx,
    mut m: MapView<'_>,
    kind: ForwardKind,
    route_path: &str,
    path_params: &[String],
) -> Integration {
    let what = match kind {
        ForwardKind::Http => "requestType http",
        ForwardKind::TripleJson => "requestType triple-json",
    };
    for key in DUBBO_ONLY {
        let why = if key == "mappingParams" {
            format!("{what} forwards the request as it is; mappingParams is not used")
        } else {
            format!("{key} is for Dubbo calls; {what} does not use it")
        };
        m.reject(cx, key, &why);
    }
    let retries = m
        .uint(cx, "retries", 100)
        .and_then(|r| u32::try_from(r).ok());
    let cluster = m.string(cx, "clusterName").filter(|s| !s.trim().is_empty());
    let cluster_site = cluster
        .as_ref()
        .map(|_| (m.key_line("clusterName"), m.child("clusterName")));
    let url = m.string(cx, "url").filter(|s| !s.trim().is_empty());

    let mut target = Target {
        interface: None,
        method: None,
        group: None,
        version: None,
        application: None,
        backend: Backend::Cluster(String::new()),
        protocol: Some(kind.protocol()),
        parameter_types: None,
        retries,
        split: Vec::new(),
        idl: None,
    };
    let mut path = None;
    let mut direct = None;
    let mut method_param = None;
    match kind {
        ForwardKind::Http => {
            for key in ["interface", "method", "group", "version"] {
                m.reject(
                    cx,
                    key,
                    &format!("{key} is for Dubbo calls; requestType http does not use it"),
                );
            }
            if let Some(s) = m.string(cx, "schema") {
                if s.eq_ignore_ascii_case("https") {
                    cx.problem(
                        m.key_line("schema"),
                        &m.child("schema"),
                        "https upstreams are not supported yet (only http)",
                    );
                } else if !s.eq_ignore_ascii_case("http") {
                    cx.problem(
                        m.key_line("schema"),
                        &m.child("schema"),
                        format!("unknown schema {s:?} (use http)"),
                    );
                }
            }
            let host = m.string(cx, "host").filter(|s| !s.trim().is_empty());
            let path_key = m.string(cx, "path");
            let mut raw_path = path_key.clone();
            match (&host, &url) {
                (Some(_), Some(_)) => cx.problem(
                    m.key_line("url"),
                    &m.child("url"),
                    "set either host (with path) or url, not both",
                ),
                (Some(h), None) => match parse_direct_url(h.trim()) {
                    Ok((host, port, None)) => direct = Some((host, port)),
                    _ => cx.problem(
                        m.key_line("host"),
                        &m.child("host"),
                        format!("host {h:?} must be host:port (no scheme, no path)"),
                    ),
                },
                (None, Some(u)) => match parse_http_url(u.trim()) {
                    Ok((host, port, url_path)) => {
                        direct = Some((host, port));
                        if url_path.is_some() && path_key.is_some() {
                            cx.problem(
                                m.key_line("path"),
                                &m.child("path"),
                                "the url already has a path; set one or the other",
                            );
                        }
                        raw_path = raw_path.or(url_path);
                    }
                    Err(e) => cx.problem(m.key_line("url"), &m.child("url"), e),
                },
                (None, None) => {}
            }
            if let Some(p) = raw_path {
                match parse_path(p.trim(), path_params) {
                    Ok(parts) => path = Some(parts),
                    Err(e) => {
                        let key = if path_key.is_some() { "path" } else { "url" };
                        cx.problem(m.key_line(key), &m.child(key), e);
                    }
                }
            }
            if cluster.is_some() && (direct.is_some() || host.is_some() || url.is_some()) {
                cx.problem(
                    m.key_line("clusterName"),
                    &m.child("clusterName"),
                    "set either clusterName or host/url, not both",
                );
            }
            if cluster.is_none() && host.is_none() && url.is_none() {
                cx.problem(
                    m.line(),
                    &m.child("clusterName"),
                    "missing required key (or host: host:port, or url: http://host:port/path)",
                );
            }
        }
        ForwardKind::TripleJson => {
            for key in ["host", "path", "schema"] {
                m.reject(
                    cx,
                    key,
                    &format!("{key} is for requestType http; triple-json calls /{{interface}}/{{method}}"),
                );
            }
            target.interface = m.req_string(cx, "interface");
            target.method = m.req_string(cx, "method");
            let param = target.method.as_deref().and_then(|v| {
                v.strip_prefix(':')
                    .or_else(|| v.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            });
            if let Some(name) = param {
                if path_params.iter().any(|p| p == name) {
                    method_param = Some(name.to_owned());
                } else {
                    cx.problem(
                        m.key_line("method"),
                        &m.child("method"),
                        format!("{name:?} is not a parameter of the route path"),
                    );
                }
                target.method = None;
            }
            target.group = m.string(cx, "group").filter(|s| !s.is_empty());
            target.version = m.string(cx, "version").filter(|s| !s.is_empty());
            for (key, value) in [("interface", &target.interface), ("method", &target.method)] {
                if let Some(v) = value {
                    let ok = !v.is_empty()
                        && v.split('.').all(|p| {
                            !p.is_empty()
                                && p.chars()
                                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
                        })
                        && (key == "interface" || !v.contains('.'));
                    if !ok {
                        cx.problem(
                            m.key_line(key),
                            &m.child(key),
                            format!("{v:?} is not a Java {key} name"),
                        );
                    }
                }
            }
            match (&cluster, &url) {
                (Some(_), Some(_)) => cx.problem(
                    m.key_line("url"),
                    &m.child("url"),
                    "set either clusterName or url, not both",
                ),
                (None, Some(u)) => match parse_direct_url(u.trim()) {
                    Ok((host, port, None | Some(Protocol::Triple))) => direct = Some((host, port)),
                    Ok(_) => cx.problem(
                        m.key_line("url"),
                        &m.child("url"),
                        "requestType triple-json needs a Triple provider: tri://host:port",
                    ),
                    Err(e) => cx.problem(m.key_line("url"), &m.child("url"), e),
                },
                (None, None) => cx.problem(
                    m.line(),
                    &m.child("clusterName"),
                    "missing required key (or url: tri://host:port)",
                ),
                (Some(_), None) => {}
            }
        }
    }
    target.backend = match (cluster, direct) {
        (Some(c), None) => Backend::Cluster(c),
        (None, Some((host, port))) => Backend::Direct {
            host,
            port,
            protocol: kind.protocol(),
        },
        _ => Backend::Cluster(String::new()),
    };
    let segments: Vec<&str> = route_path.split('/').filter(|s| !s.is_empty()).collect();
    let prefix_segments = (segments.last() == Some(&"**")).then(|| segments.len() - 1);
    m.finish(cx);
    Integration {
        target,
        mapping: Mapping::default(),
        response: ResponseOptions::default(),
        allow_interfaces: AllowList::default(),
        allow_classes: AllowList::default(),
        cluster_site,
        forward: Some(Forward {
            kind,
            path,
            prefix_segments,
            method_param,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates() {
        let params = vec!["id".to_owned()];
        assert_eq!(
            parse_path("/users/:id/orders", &params),
            Ok(vec![
                PathPart::Literal("users".into()),
                PathPart::Param("id".into()),
                PathPart::Literal("orders".into())
            ])
        );
        assert_eq!(
            parse_path("/u/{id}", &params),
            Ok(vec![
                PathPart::Literal("u".into()),
                PathPart::Param("id".into())
            ])
        );
        assert_eq!(parse_path("/", &params), Ok(vec![]));
        for (bad, needle) in [
            ("users", "must start with '/'"),
            ("/u/:nope", "not a parameter of the route path"),
            ("/u/*", "literal segments"),
            ("/u?x=1", "literal segments"),
        ] {
            let e = parse_path(bad, &params).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn http_urls() {
        assert_eq!(
            parse_http_url("http://127.0.0.1:8080/base/:id"),
            Ok(("127.0.0.1".into(), 8080, Some("/base/:id".into())))
        );
        assert_eq!(
            parse_http_url("http://svc.local:80/"),
            Ok(("svc.local".into(), 80, None))
        );
        assert_eq!(
            parse_http_url("10.0.0.1:81"),
            Ok(("10.0.0.1".into(), 81, None))
        );
        for (bad, needle) in [
            ("https://h:443", "not supported yet"),
            ("dubbo://h:1", "not supported for requestType http"),
            ("http://h", "must be http://host:port"),
        ] {
            let e = parse_http_url(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}

//! Reading `integrationRequest`: the Dubbo target (pixiu's inline backend keys), the direct
//! `url`, `mappingParams`, and tianlu's per-route extensions `response`, `allowInterfaces` and
//! `allowClasses`. Keys for backends we do not support yet are rejected with a clear message.

use crate::allow::AllowList;
use crate::api::route::{Backend, ResponseOptions, Target};
use crate::bootstrap::cluster::Protocol;
use crate::mapping::{self, java_type::java_type_problem, MapTarget, Mapping, RouteFacts};
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::Node;

/// Everything read from one `integrationRequest`.
pub(crate) struct Integration {
    pub(crate) target: Target,
    pub(crate) mapping: Mapping,
    pub(crate) response: ResponseOptions,
    pub(crate) allow_interfaces: AllowList,
    pub(crate) allow_classes: AllowList,
    pub(crate) cluster_site: Option<(usize, String)>,
    /// Set for routes that forward the HTTP request (`requestType: http` / `triple-json`).
    pub(crate) forward: Option<super::forward::Forward>,
}

/// Parses `dubbo://host:port`, `tri://host:port`, `host:port` or `[v6]:port`; the protocol is
/// `None` without a scheme.
pub(crate) fn parse_direct_url(url: &str) -> Result<(String, u16, Option<Protocol>), String> {
    let bad = || format!("url {url:?} must be dubbo://host:port or tri://host:port");
    let (rest, protocol) = match url.split_once("://") {
        Some(("dubbo", rest)) => (rest, Some(Protocol::Dubbo)),
        Some(("tri", rest)) => (rest, Some(Protocol::Triple)),
        Some((scheme, _)) => {
            return Err(format!(
                "url scheme {scheme:?} is not supported (use dubbo://host:port or tri://host:port)"
            ))
        }
        None => (url, None),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, port) = v6.split_once("]:").ok_or_else(bad)?;
        (host, port)
    } else {
        rest.rsplit_once(':').ok_or_else(bad)?
    };
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    match port.parse::<u16>() {
        Ok(p) if p > 0 && valid_host => Ok((host.to_owned(), p, protocol)),
        _ => Err(bad()),
    }
}

/// `a.b.C` or `c`: dot-separated Java identifiers.
fn is_java_identifier_path(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

fn allow_list(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str) -> AllowList {
    let entries = m.string_list(cx, key).unwrap_or_default();
    let path = m.child(key);
    let line = m.key_line(key);
    for (i, e) in entries.iter().enumerate() {
        if let Some(why) = AllowList::check_entry(e) {
            cx.problem(line, &format!("{path}[{i}]"), why);
        }
    }
    AllowList::new(entries)
}

/// Reads `integrationRequest` at `path` (absent node = a "missing" problem).
pub(crate) fn read(
    cx: &mut Ctx,
    node: Option<&Node>,
    path: &str,
    method_line: usize,
    route_path: &str,
    path_params: &[String],
    base: &std::path::Path,
) -> Integration {
    let empty = Node {
        line: method_line,
        kind: crate::yaml::Kind::Null,
    };
    if node.is_none() {
        cx.problem(method_line, path, "missing required key");
    }
    let mut m = MapView::new(cx, node.unwrap_or(&empty), path);

    let request_type = m
        .string(cx, "requestType")
        .as_deref()
        .map(str::to_ascii_lowercase);
    if let Some(kind) = request_type
        .as_deref()
        .and_then(super::forward::ForwardKind::parse)
    {
        return super::forward::read(cx, m, kind, route_path, path_params);
    }
    let mut idl = false;
    let request_type = match request_type.as_deref() {
        None => None,
        Some("dubbo") => Some(Protocol::Dubbo),
        Some("triple" | "tri") => Some(Protocol::Triple),
        Some("grpc") => {
            // Protobuf IDL over Triple (gRPC is the same wire).
            idl = true;
            Some(Protocol::Triple)
        }
        Some(t) => {
            cx.problem(
                m.key_line("requestType"),
                &m.child("requestType"),
                format!("unknown requestType {t:?} (use dubbo, triple, grpc, http or triple-json)"),
            );
            None
        }
    };
    let protocol_key = match m.string(cx, "protocol") {
        None => None,
        Some(p) => match Protocol::parse(&p) {
            Some(found @ (Protocol::Dubbo | Protocol::Triple)) => Some(found),
            Some(Protocol::Http) => {
                cx.problem(
                    m.key_line("protocol"),
                    &m.child("protocol"),
                    "protocol http is not a Dubbo protocol; set requestType: http instead",
                );
                None
            }
            None => {
                cx.problem(
                    m.key_line("protocol"),
                    &m.child("protocol"),
                    format!("unknown protocol {p:?} (use dubbo or tri)"),
                );
                None
            }
        },
    };
    if let (Some(a), Some(b)) = (request_type, protocol_key) {
        if a != b {
            cx.problem(
                m.key_line("protocol"),
                &m.child("protocol"),
                "protocol and requestType disagree",
            );
        }
    }
    let route_protocol = protocol_key.or(request_type);
    if let Some(s) = m.string(cx, "serialization") {
        if idl && !s.eq_ignore_ascii_case("protobuf") {
            cx.problem(
                m.key_line("serialization"),
                &m.child("serialization"),
                format!("serialization {s:?} does not fit requestType grpc (protobuf)"),
            );
        } else if !idl && !s.eq_ignore_ascii_case("hessian2") {
            cx.problem(
                m.key_line("serialization"),
                &m.child("serialization"),
                format!("serialization {s:?} is not supported (only hessian2)"),
            );
        }
    }
    for key in ["host", "path", "schema"] {
        let key: &'static str = key;
        m.reject(
            cx,
            key,
            "host/path/schema are for HTTP backends; set requestType: http",
        );
    }
    m.reject(
        cx,
        "paramTypes",
        "paramTypes is not read (pixiu ignored it too); use parameterTypes",
    );

    let application = m.string(cx, "applicationName");
    let interface = m.string(cx, "interface");
    let method = m.string(cx, "method");
    let group = m.string(cx, "group").filter(|s| !s.is_empty());
    let version = m.string(cx, "version").filter(|s| !s.is_empty());
    if let Some(i) = &interface {
        if !is_java_identifier_path(i) {
            cx.problem(
                m.key_line("interface"),
                &m.child("interface"),
                format!("{i:?} is not a Java interface name"),
            );
        }
    }
    if let Some(name) = &method {
        if !is_java_identifier_path(name) || name.contains('.') {
            cx.problem(
                m.key_line("method"),
                &m.child("method"),
                format!("{name:?} is not a Java method name"),
            );
        }
    }
    let parameter_types = m.string_list(cx, "parameterTypes");
    if let Some(types) = &parameter_types {
        let line = m.key_line("parameterTypes");
        for (i, t) in types.iter().enumerate() {
            if let Some(why) = java_type_problem(t) {
                cx.problem(
                    line,
                    &format!("{}[{i}]", m.child("parameterTypes")),
                    format!("{t:?} is not a Java type name: {why}"),
                );
            }
        }
    }
    let idl_target = crate::api::idl_route::read(cx, &mut m, idl, base, parameter_types.is_some());
    let retries = m
        .uint(cx, "retries", 100)
        .and_then(|r| u32::try_from(r).ok());

    let cluster = m.string(cx, "clusterName").filter(|s| !s.trim().is_empty());
    let cluster_site = cluster
        .as_ref()
        .map(|_| (m.key_line("clusterName"), m.child("clusterName")));
    let url = m.string(cx, "url").filter(|s| !s.trim().is_empty());
    let backend = match (cluster, url) {
        (Some(_), Some(_)) => {
            cx.problem(
                m.key_line("url"),
                &m.child("url"),
                "set either clusterName or url, not both",
            );
            Backend::Cluster(String::new())
        }
        (Some(c), None) => Backend::Cluster(c),
        (None, Some(u)) => match parse_direct_url(u.trim()) {
            Ok((host, port, scheme)) => {
                if let (Some(s), Some(r)) = (scheme, route_protocol) {
                    if s != r {
                        cx.problem(
                            m.key_line("url"),
                            &m.child("url"),
                            "the url scheme and the route's protocol/requestType disagree",
                        );
                    }
                }
                Backend::Direct {
                    host,
                    port,
                    protocol: scheme.or(route_protocol).unwrap_or(Protocol::Dubbo),
                }
            }
            Err(e) => {
                cx.problem(m.key_line("url"), &m.child("url"), e);
                Backend::Cluster(String::new())
            }
        },
        // Checked against the listener's registries (and `interface`) by `Config::load`.
        (None, None) => Backend::Registry,
    };

    let response = match m.map(cx, "response") {
        Some(mut r) => {
            let defaults = ResponseOptions::default();
            let opts = ResponseOptions {
                keep_class: r.bool(cx, "keepClass").unwrap_or(defaults.keep_class),
                keep_null: r.bool(cx, "keepNull").unwrap_or(defaults.keep_null),
                flatten_big_numbers: r
                    .bool(cx, "flattenBigNumbers")
                    .unwrap_or(defaults.flatten_big_numbers),
            };
            r.finish(cx);
            opts
        }
        None => ResponseOptions::default(),
    };
    let split = crate::api::split::read(cx, &mut m);
    let allow_interfaces = allow_list(cx, &mut m, "allowInterfaces");
    let allow_classes = allow_list(cx, &mut m, "allowClasses");

    let facts = RouteFacts {
        path: route_path,
        path_params,
        // IDL routes have no Java signature (reported above when given).
        parameter_types: parameter_types.as_deref().filter(|_| !idl),
        parameter_types_line: m.key_line("parameterTypes"),
        parameter_types_path: m.child("parameterTypes"),
        mapping_line: m.key_line("mappingParams"),
        allow_interfaces: &allow_interfaces,
        has_static_interface: interface.is_some(),
        has_static_method: method.is_some(),
    };
    let mapping_node = m.get("mappingParams");
    let mapping = mapping::compile(cx, mapping_node, &m.child("mappingParams"), &facts);
    if idl_target.is_some() {
        crate::api::idl_route::check_mapping(cx, &m, &mapping);
    }
    if interface.is_none() && !mapping.maps(MapTarget::Interface) {
        cx.problem(
            m.line(),
            &m.child("interface"),
            "missing required key (or map opt.interface from the request)",
        );
    }
    if method.is_none() && !mapping.maps(MapTarget::Method) {
        cx.problem(
            m.line(),
            &m.child("method"),
            "missing required key (or map opt.method from the request)",
        );
    }
    if !allow_interfaces.is_empty() && !mapping.maps(MapTarget::Interface) {
        cx.warn(
            m.key_line("allowInterfaces"),
            &m.child("allowInterfaces"),
            "has no effect: no mapping takes opt.interface from the request",
        );
    }
    m.finish(cx);
    Integration {
        target: Target {
            interface,
            method,
            group,
            version,
            application,
            protocol: route_protocol,
            backend,
            parameter_types,
            retries,
            split,
            idl: idl_target,
        },
        mapping,
        response,
        allow_interfaces,
        allow_classes,
        cluster_site,
        forward: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_direct_urls() {
        let cases = [
            ("dubbo://10.0.0.8:20880", Ok(("10.0.0.8", 20880))),
            (
                "dubbo://provider.local:20880/",
                Ok(("provider.local", 20880)),
            ),
            ("10.0.0.8:20880", Ok(("10.0.0.8", 20880))),
            ("dubbo://[::1]:20880", Ok(("::1", 20880))),
            ("tri://10.0.0.8:50051", Ok(("10.0.0.8", 50051))),
            ("grpc://10.0.0.8:50051", Err("is not supported")),
            ("dubbo://10.0.0.8", Err("must be dubbo://host:port")),
            ("dubbo://:20880", Err("must be dubbo://host:port")),
            ("dubbo://h:0", Err("must be dubbo://host:port")),
            ("dubbo://h:99999", Err("must be dubbo://host:port")),
            ("dubbo://h/x:1", Err("must be dubbo://host:port")),
        ];
        for (url, want) in cases {
            match (parse_direct_url(url), want) {
                (Ok((h, p, _)), Ok((wh, wp))) => assert_eq!((h.as_str(), p), (wh, wp), "{url}"),
                (Err(e), Err(needle)) => assert!(e.contains(needle), "{url}: {e}"),
                (got, want) => panic!("{url}: {got:?} vs {want:?}"),
            }
        }
    }
}

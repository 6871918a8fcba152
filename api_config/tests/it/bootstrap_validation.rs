//! conf.yaml validation errors, with exact line and key path.

use tianlu_api_config::Bootstrap;

use crate::{assert_problems, Case};

/// A valid bootstrap; cases replace text (keeping line numbers) or append lines.
const BASE: &str = "\
static_resources:
  listeners:
    - name: main
      protocol_type: HTTP
      address:
        socket_address: {address: 0.0.0.0, port: 8080}
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              timeout: 5s
              http_filters:
                - name: dgp.filter.http.apiconfig
                  config: {path: api.yaml}
                - name: dgp.filter.http.dubboproxy
                  config: {}
  clusters:
    - name: c
      lb_policy: RoundRobin
      endpoints:
        - socket_address: {address: 127.0.0.1, port: 20880}
";

const L0: &str = "static_resources.listeners[0]";
const HCM: &str = "static_resources.listeners[0].filter_chains.filters[0].config";
const C0: &str = "static_resources.clusters[0]";

fn with(replacements: &[(&str, &str)]) -> String {
    let mut text = BASE.to_owned();
    for (from, to) in replacements {
        assert!(text.contains(from), "base has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

#[test]
fn base_is_valid() {
    let (b, warnings) = Bootstrap::from_yaml_str(BASE, "/etc/tianlu/conf.yaml").expect("valid");
    assert!(warnings.is_empty());
    assert_eq!(
        b.listeners[0].hcm.api_config_path(),
        Some(std::path::Path::new("/etc/tianlu/api.yaml"))
    );
}

#[test]
fn bootstrap_errors() {
    let f = |i: usize, key: &str| format!("{HCM}.http_filters[{i}].{key}");
    let cases: Vec<Case> = vec![
        ("unknown lb", with(&[("lb_policy: RoundRobin", "lb_policy: lb")]), vec![(19, format!("{C0}.lb_policy"), "unknown load-balancing policy \"lb\"")]),
        ("unknown filter", with(&[("name: dgp.filter.http.dubboproxy", "name: dgp.filter.http.dubbo")]), vec![(15, f(1, "name"), "http filter \"dgp.filter.http.dubbo\" is not a known filter; known filters: dgp.filter.http.apiconfig, dgp.filter.http.dubboproxy, dgp.filter.http.cors, dgp.filter.http.accesslog, tianlu.filter.http.bodylimit, dgp.filter.http.ratelimit, dgp.filter.http.authority, tianlu.filter.http.apikey, dgp.filter.http.auth.jwt, tianlu.filter.http.headers, dgp.filter.http.header, dgp.filter.http.faultinjection, tianlu.filter.http.mock")]),
        ("pixiu-only filter", with(&[("name: dgp.filter.http.dubboproxy", "name: dgp.filter.http.csrf")]), vec![(15, f(1, "name"), "is a pixiu filter that tianlu does not support yet")]),
        ("registry address", with(&[("config: {}", "config: {dubboProxyConfig: {registries: {zk: {protocol: zookeeper}}}}")]), vec![(16, f(1, "config.dubboProxyConfig.registries.zk.address"), "missing required key")]),
        ("registry protocol", with(&[("config: {}", "config: {dubboProxyConfig: {registries: {r: {protocol: etcd, address: x}}}}")]), vec![(16, f(1, "config.dubboProxyConfig.registries.r.protocol"), "unknown registry protocol \"etcd\" (use zookeeper or nacos)")]),
        ("registry type", with(&[("config: {}", "config: {dubboProxyConfig: {registries: {r: {protocol: nacos, address: x, registry_type: apps}}}}")]), vec![(16, f(1, "config.dubboProxyConfig.registries.r.registry_type"), "unknown registry_type \"apps\" (interface, application (also service or instance) or all)")]),
        ("registry credentials", with(&[("config: {}", "config: {dubboProxyConfig: {registries: {r: {protocol: nacos, address: x, username: u}}}}")]), vec![(16, f(1, "config.dubboProxyConfig.registries.r"), "set both username and password, or neither")]),
        ("registries shape", with(&[("config: {}", "config: {dubboProxyConfig: {registries: [zk]}}")]), vec![(16, f(1, "config.dubboProxyConfig.registries"), "expected a mapping of registry id to registry, found a list")]),
        ("dubboproxy lb", with(&[("config: {}", "config: {dubboProxyConfig: {load_balance: fastest}}")]), vec![(16, f(1, "config.dubboProxyConfig.load_balance"), "unknown load-balancing policy")]),
        ("api path missing", with(&[("config: {path: api.yaml}", "config: {}")]), vec![(14, f(0, "config.path"), "missing required key")]),
        ("filter config key", with(&[("config: {}", "config: {timeout: 3s}")]), vec![(16, f(1, "config.timeout"), "unknown key \"timeout\"; expected one of: auto_resolve, dubboProxyConfig")]),
        ("https without tls", with(&[("protocol_type: HTTP", "protocol_type: HTTPS")]), vec![(3, format!("{L0}.config.tls"), "HTTPS needs config.tls {cert, key}")]),
        ("tls on http", with(&[("      address:", "      config: {tls: {cert: c.pem, key: k.pem}}\n      address:")]), vec![(5, format!("{L0}.config.tls"), "tls is only used with protocol_type HTTPS")]),
        ("tcp listener", with(&[("protocol_type: HTTP", "protocol_type: TCP")]), vec![(4, format!("{L0}.protocol_type"), "protocol_type TCP is not supported")]),
        ("autocert", with(&[("port: 8080}", "port: 8080, domains: [a.com]}")]), vec![(6, format!("{L0}.address.socket_address.domains"), "ACME/autocert is not supported")]),
        ("missing port", with(&[("{address: 0.0.0.0, port: 8080}", "{address: 0.0.0.0}")]), vec![(6, format!("{L0}.address.socket_address.port"), "missing required key")]),
        ("bad port", with(&[("port: 8080}", "port: 80800}")]), vec![(6, format!("{L0}.address.socket_address.port"), "expected an integer from 0 to 65535")]),
        ("bad hcm timeout", with(&[("timeout: 5s", "timeout: soon")]), vec![(11, format!("{HCM}.timeout"), "invalid duration \"soon\"")]),
        ("hcm key typo", with(&[("timeout: 5s", "timout: 5s")]), vec![(11, format!("{HCM}.timout"), "did you mean \"timeout\"?")]),
        ("no apiconfig", with(&[("name: dgp.filter.http.apiconfig", "name: dgp.filter.http.cors"), ("config: {path: api.yaml}", "config: {allow_origin: ['*']}")]), vec![(12, format!("{HCM}.http_filters"), "a dgp.filter.http.apiconfig filter with a path is required")]),
        ("filter order", with(&[("- name: dgp.filter.http.apiconfig\n                  config: {path: api.yaml}\n                - name: dgp.filter.http.dubboproxy\n                  config: {}", "- name: dgp.filter.http.dubboproxy\n                  config: {}\n                - name: dgp.filter.http.apiconfig\n                  config: {path: api.yaml}")]), vec![(15, f(1, "name"), "must come before dgp.filter.http.dubboproxy")]),
        ("cors credentials", with(&[("name: dgp.filter.http.dubboproxy", "name: dgp.filter.http.cors"), ("config: {}", "config: {allow_origin: ['*'], allow_credentials: true}")]), vec![(16, f(1, "config.allow_credentials"), "allow_credentials cannot be used with allow_origin \"*\"")]),
        ("body limit zero", with(&[("name: dgp.filter.http.dubboproxy", "name: tianlu.filter.http.bodylimit"), ("config: {}", "config: {max_bytes: 0}")]), vec![(16, f(1, "config.max_bytes"), "must be greater than 0")]),
        ("network filter", with(&[("name: dgp.filter.httpconnectionmanager", "name: dgp.filter.network.dubboconnectionmanager")]), vec![(9, format!("{L0}.filter_chains.filters[0].name"), "network filter \"dgp.filter.network.dubboconnectionmanager\" is not supported")]),
        ("unknown route cluster", with(&[("              timeout: 5s", "              route_config: {routes: [{match: {prefix: /api}, route: {cluster: nope}}]}")]), vec![(11, format!("{HCM}.route_config.routes[0].route.cluster"), "no cluster named \"nope\"")]),
        ("route without match", with(&[("              timeout: 5s", "              route_config: {routes: [{route: {cluster: c}}]}")]), vec![(11, format!("{HCM}.route_config.routes[0].match"), "missing required key")]),
        ("route regex", with(&[("              timeout: 5s", "              route_config: {routes: [{match: {path: /a, headers: [{name: x, regex: true}]}}]}")]), vec![(11, format!("{HCM}.route_config.routes[0].match.headers[0].regex"), "regex header matching is not supported")]),
        ("cluster type", with(&[("lb_policy: RoundRobin", "type: EDS")]), vec![(19, format!("{C0}.type"), "cluster type \"EDS\" is not supported (only Static)")]),
        ("consistent on round robin", with(&[("      endpoints:", "      consistent: {replica_num: 10}\n      endpoints:")]), vec![(20, format!("{C0}.consistent"), "consistent is only used by ring_hash and maglev")]),
        ("maglev not prime", with(&[("lb_policy: RoundRobin", "lb_policy: MaglevHashing"), ("      endpoints:", "      consistent: {maglev_table_size: 100}\n      endpoints:")]), vec![(20, format!("{C0}.consistent.maglev_table_size"), "100 is not a prime number")]),
        ("hash key both", with(&[("lb_policy: RoundRobin", "lb_policy: ring_hash"), ("      endpoints:", "      consistent: {hash_key: {argument: 1, header: x}}\n      endpoints:")]), vec![(20, format!("{C0}.consistent.hash_key"), "set either argument or header, not both")]),
        ("two health checks", with(&[("      endpoints:", "      health_checks: [{protocol: tcp}, {protocol: tcp}]\n      endpoints:")]), vec![(20, format!("{C0}.health_checks[1]"), "only one health check is supported")]),
        ("http health check", with(&[("      endpoints:", "      health_checks: [{protocol: http}]\n      endpoints:")]), vec![(20, format!("{C0}.health_checks[0].protocol"), "health check protocol \"http\" is not supported (only tcp)")]),
        ("no endpoints", with(&[("        - socket_address: {address: 127.0.0.1, port: 20880}\n", "")]), vec![(20, format!("{C0}.endpoints"), "a static cluster needs at least one endpoint")]),
        ("endpoint port zero", with(&[("port: 20880}", "port: 0}")]), vec![(21, format!("{C0}.endpoints[0].socket_address.port"), "port must not be 0")]),
        ("endpoint weight", with(&[("port: 20880}", "port: 20880}\n          meta: {weight: heavy}")]), vec![(22, format!("{C0}.endpoints[0].meta.weight"), "expected an integer")]),
        ("endpoint protocol", with(&[("port: 20880}", "port: 20880}\n          protocol: grpc")]), vec![(22, format!("{C0}.endpoints[0].protocol"), "unknown endpoint protocol \"grpc\" (use dubbo, tri or http)")]),
        ("duplicate cluster", format!("{BASE}    - name: c\n      endpoints: [{{socket_address: {{address: h, port: 1}}}}]\n"), vec![(22, "static_resources.clusters[1].name".to_owned(), "cluster \"c\" is defined twice")]),
        ("adapters", with(&[("  clusters:", "  adapters: [{id: a}]\n  clusters:")]), vec![(17, "static_resources.adapters[0].name".to_owned(), "missing required key"), (17, "static_resources.adapters[0].config".to_owned(), "missing required key")]),
        ("tracing", format!("{BASE}tracing: {{name: jaeger}}\n"), vec![(22, "tracing.name".to_owned(), "Jaeger accepts OTLP"), (22, "tracing.config".to_owned(), "missing required key")]),
        ("public admin", format!("{BASE}admin: {{address: 0.0.0.0}}\n"), vec![(22, "admin.address".to_owned(), "a non-loopback admin address requires a token")]),
        ("registration in zookeeper", format!("{BASE}registration: {{protocol: zookeeper, address: x}}\n"), vec![(22, "registration.protocol".to_owned(), "the gateway registers itself in Nacos only (protocol: nacos)")]),
        ("registration ip", format!("{BASE}registration: {{protocol: nacos, address: x, ip: 0.0.0.0}}\n"), vec![(22, "registration.ip".to_owned(), "\"0.0.0.0\" is not an IP address clients can reach")]),
        ("registration key", format!("{BASE}registration: {{protocol: nacos, address: x, services: y}}\n"), vec![(22, "registration.services".to_owned(), "unknown key")]),
        ("adapter allowlist", with(&[("  clusters:\n", "  adapters:\n    - {id: d, name: dgp.adapter.dubboregistrycenter, config: {registries: {z: {protocol: zookeeper, address: x}}}}\n  clusters:\n")]), vec![(18, "static_resources.adapters[0].config.interfaces".to_owned(), "list the interfaces whose methods become routes")]),
        ("adapter kind", with(&[("  clusters:\n", "  adapters:\n    - {id: d, name: dgp.adapter.springcloud, config: {registries: {z: {protocol: zookeeper, address: x}}, interfaces: [a.B]}}\n  clusters:\n")]), vec![(18, "static_resources.adapters[0].name".to_owned(), "adapter \"dgp.adapter.springcloud\" is not supported")]),
        ("adapter wildcard", with(&[("  clusters:\n", "  adapters:\n    - {id: d, name: dgp.adapter.dubboregistrycenter, config: {registries: {z: {protocol: zookeeper, address: x}}, interfaces: [\"a.*\"]}}\n  clusters:\n")]), vec![(18, "static_resources.adapters[0].config.interfaces[0]".to_owned(), "\"a.*\" is not an exact interface name")]),
        ("unknown adapter", with(&[("config: {path: api.yaml}", "config: {path: api.yaml, dynamic: true, dynamic_adapter: nope}")]), vec![(14, f(0, "config.dynamic_adapter"), "no enabled adapter with id \"nope\"")]),
        ("dynamic without adapter", with(&[("config: {path: api.yaml}", "config: {path: api.yaml, dynamic: true}")]), vec![(14, f(0, "config.dynamic_adapter"), "dynamic: true needs dynamic_adapter")]),
        ("no static_resources", "admin: {port: 1}\n".to_owned(), vec![(1, "static_resources".to_owned(), "missing required key")]),
        ("no listeners", "static_resources:\n  clusters: []\n".to_owned(), vec![(2, "static_resources.listeners".to_owned(), "at least one listener is required")]),
    ];
    for (name, yaml, want) in cases {
        let err = Bootstrap::from_yaml_str(&yaml, "conf.yaml").expect_err(name);
        let want: Vec<(usize, &str, &str)> =
            want.iter().map(|(l, p, m)| (*l, p.as_str(), *m)).collect();
        assert_problems(name, &err, &want);
    }
}

#[test]
fn noops_and_defaults() {
    let yaml = format!("{BASE}  shutdown_config: {{timeout: 5s, step_timeout: 1s}}\n  pprofConf: {{enable: true}}\nlog: {{level: info}}\nnode: {{id: x}}\n");
    let (b, warnings) = Bootstrap::from_yaml_str(&yaml, "conf.yaml").expect("valid");
    let got: Vec<(Option<usize>, &str)> = warnings
        .iter()
        .map(|w| (w.line, w.key_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(22), "static_resources.shutdown_config.step_timeout"),
            (Some(23), "static_resources.pprofConf"),
            (Some(24), "log"),
            (Some(25), "node"),
        ]
    );
    assert_eq!(b.shutdown.timeout, std::time::Duration::from_secs(5));
    assert!(b.admin.is_none());
    let d = b.listeners[0].hcm.dubbo_proxy();
    assert_eq!(
        (
            d.request_timeout.as_secs(),
            d.connect_timeout.as_secs(),
            d.retries
        ),
        (10, 3, 2)
    );
}

//! Forwarding routes (`requestType: http` and `triple-json`): what they read, every validation
//! error with its line and key path, and the cross-file checks of cluster endpoint protocols.

use tianlu_api_config::{ApiConfig, Backend, Config, ForwardKind, PathPart, Protocol};

use crate::{assert_problems, Case};

const HTTP: &str = "\
resources:
  - path: /api/users/:id
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: http
          host: 127.0.0.1:8080
          path: /users/:id
";

const TRI: &str = "\
resources:
  - path: /tj/users
    methods:
      - httpVerb: POST
        integrationRequest:
          requestType: triple-json
          clusterName: tri
          interface: org.example.UserService
          method: getUser
";

const IR: &str = "resources[0].methods[0].integrationRequest";

fn with(base: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = base.to_owned();
    for (from, to) in replacements {
        assert!(text.contains(from), "base has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

#[test]
fn reads_http_and_triple_json_routes() {
    let (api, warnings) = ApiConfig::from_yaml_str(HTTP, "api.yaml").expect("valid");
    assert!(warnings.is_empty());
    let r = &api.routes[0];
    let f = r.forward.as_ref().expect("forwarding route");
    assert_eq!(f.kind, ForwardKind::Http);
    assert_eq!(
        f.path,
        Some(vec![
            PathPart::Literal("users".into()),
            PathPart::Param("id".into())
        ])
    );
    assert_eq!(f.prefix_segments, None);
    assert_eq!(
        r.target.backend,
        Backend::Direct {
            host: "127.0.0.1".into(),
            port: 8080,
            protocol: Protocol::Http
        }
    );

    let prefix = "resources:\n  - path: /static/**\n    methods:\n      - httpVerb: ANY\n        integrationRequest: {requestType: HTTP, url: \"http://web.local:81/assets\"}\n";
    let (api, _) = ApiConfig::from_yaml_str(prefix, "api.yaml").expect("valid");
    let f = api.routes[0].forward.as_ref().expect("forward");
    assert_eq!(f.prefix_segments, Some(1));
    assert_eq!(f.path, Some(vec![PathPart::Literal("assets".into())]));

    let cluster = with(
        HTTP,
        &[(
            "host: 127.0.0.1:8080\n          path: /users/:id",
            "clusterName: web",
        )],
    );
    let (api, _) = ApiConfig::from_yaml_str(&cluster, "api.yaml").expect("valid");
    assert_eq!(api.routes[0].target.backend, Backend::Cluster("web".into()));
    assert_eq!(
        api.routes[0].forward.as_ref().and_then(|f| f.path.clone()),
        None
    );

    let by_path = with(
        TRI,
        &[
            ("path: /tj/users", "path: /tj/users/{m}"),
            ("method: getUser", "method: \"{m}\""),
        ],
    );
    let (api, _) = ApiConfig::from_yaml_str(&by_path, "api.yaml").expect("valid");
    assert_eq!(
        api.routes[0]
            .forward
            .as_ref()
            .and_then(|f| f.method_param.as_deref()),
        Some("m")
    );
    assert_eq!(api.routes[0].target.method, None);

    let (api, _) = ApiConfig::from_yaml_str(TRI, "api.yaml").expect("valid");
    let r = &api.routes[0];
    assert_eq!(
        r.forward.as_ref().map(|f| f.kind),
        Some(ForwardKind::TripleJson)
    );
    assert_eq!(r.target.protocol, Some(Protocol::Triple));
    assert_eq!(
        r.target.interface.as_deref(),
        Some("org.example.UserService")
    );
}

#[test]
fn forwarding_route_errors() {
    let cases: Vec<Case> = vec![
        ("unknown path param", with(HTTP, &[("path: /users/:id", "path: /users/:uid")]), vec![(8, format!("{IR}.path"), "\"uid\" is not a parameter of the route path (route has: id)")]),
        ("wildcard in path", with(HTTP, &[("path: /users/:id", "path: /users/*")]), vec![(8, format!("{IR}.path"), "literal segments")]),
        ("host and url", with(HTTP, &[("path: /users/:id", "url: http://h:1")]), vec![(8, format!("{IR}.url"), "set either host (with path) or url, not both")]),
        ("https url", with(HTTP, &[("host: 127.0.0.1:8080", "url: https://h:443")]), vec![(7, format!("{IR}.url"), "https upstreams are not supported yet")]),
        ("url with two paths", with(HTTP, &[("host: 127.0.0.1:8080", "url: http://h:1/x")]), vec![(8, format!("{IR}.path"), "the url already has a path")]),
        ("host with scheme", with(HTTP, &[("host: 127.0.0.1:8080", "host: http://h:1")]), vec![(7, format!("{IR}.host"), "must be host:port (no scheme, no path)")]),
        ("https schema", with(HTTP, &[("path: /users/:id", "path: /users/:id\n          schema: https")]), vec![(9, format!("{IR}.schema"), "https upstreams are not supported yet")]),
        ("no backend", with(HTTP, &[("          host: 127.0.0.1:8080\n", "")]), vec![(6, format!("{IR}.clusterName"), "missing required key (or host: host:port, or url: http://host:port/path)")]),
        ("cluster and host", with(HTTP, &[("path: /users/:id", "path: /users/:id\n          clusterName: web")]), vec![(9, format!("{IR}.clusterName"), "set either clusterName or host/url, not both")]),
        ("dubbo keys", with(HTTP, &[("path: /users/:id", "path: /users/:id\n          interface: a.B\n          parameterTypes: [long]")]), vec![(9, format!("{IR}.interface"), "interface is for Dubbo calls; requestType http does not use it"), (10, format!("{IR}.parameterTypes"), "parameterTypes is for Dubbo calls")]),
        ("mapping", with(HTTP, &[("path: /users/:id", "path: /users/:id\n          mappingParams: [{name: uri.id, mapTo: 0}]")]), vec![(9, format!("{IR}.mappingParams"), "requestType http forwards the request as it is; mappingParams is not used")]),
        ("unknown key", with(HTTP, &[("path: /users/:id", "path: /users/:id\n          hosts: x")]), vec![(9, format!("{IR}.hosts"), "did you mean \"host\"?")]),
        ("triple-json without target", with(TRI, &[("          interface: org.example.UserService\n          method: getUser\n", "")]), vec![(6, format!("{IR}.interface"), "missing required key"), (6, format!("{IR}.method"), "missing required key")]),
        ("triple-json bad method", with(TRI, &[("method: getUser", "method: a.b")]), vec![(9, format!("{IR}.method"), "is not a Java method name")]),
        ("triple-json method from an unknown path param", with(TRI, &[("method: getUser", "method: \":m\"")]), vec![(9, format!("{IR}.method"), "\"m\" is not a parameter of the route path")]),
        ("triple-json dubbo url", with(TRI, &[("clusterName: tri", "url: dubbo://h:1")]), vec![(7, format!("{IR}.url"), "needs a Triple provider: tri://host:port")]),
        ("triple-json http keys", with(TRI, &[("method: getUser", "method: getUser\n          path: /x")]), vec![(10, format!("{IR}.path"), "path is for requestType http")]),
        ("triple-json mapping", with(TRI, &[("method: getUser", "method: getUser\n          mappingParams: []")]), vec![(10, format!("{IR}.mappingParams"), "requestType triple-json forwards the request as it is")]),
        ("dubbo route with protocol http", "resources:\n  - path: /a\n    methods:\n      - httpVerb: GET\n        integrationRequest: {protocol: http, clusterName: c, interface: a.B, method: m}\n".to_owned(), vec![(5, format!("{IR}.protocol"), "protocol http is not a Dubbo protocol; set requestType: http instead")]),
    ];
    for (name, yaml, want) in cases {
        let err = ApiConfig::from_yaml_str(&yaml, "api.yaml").expect_err(name);
        let want: Vec<(usize, &str, &str)> =
            want.iter().map(|(l, p, m)| (*l, p.as_str(), *m)).collect();
        assert_problems(name, &err, &want);
    }
}

const CONF: &str = "\
static_resources:
  listeners:
    - name: l
      address:
        socket_address: { address: 127.0.0.1, port: 8888 }
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.apiconfig
                  config: { path: api_config.yaml }
  clusters:
    - name: web
      endpoints:
        - socket_address: { address: 127.0.0.1, port: 8080 }
          protocol: http
    - name: dubbo
      endpoints:
        - socket_address: { address: 127.0.0.1, port: 20880 }
";

/// Loads CONF with `api` as its api_config; returns each problem's (line, key path, message).
fn load(test: &str, api: &str) -> Result<(), Vec<(Option<usize>, String, String)>> {
    let dir = std::env::temp_dir().join(format!("tianlu-forward-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("conf.yaml"), CONF).expect("write");
    std::fs::write(dir.join("api_config.yaml"), api).expect("write");
    let out = Config::load(&dir.join("conf.yaml"))
        .map(|_| ())
        .map_err(|e| crate::flat(&e));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn cluster_protocols_must_match_the_route() {
    let http_route = |cluster: &str| {
        format!("resources:\n  - path: /w/**\n    methods:\n      - httpVerb: ANY\n        integrationRequest: {{requestType: http, clusterName: {cluster}}}\n")
    };
    assert_eq!(load("ok", &http_route("web")), Ok(()));
    let err = load("http-on-dubbo", &http_route("dubbo")).expect_err("mismatch");
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(err[0].0, Some(5));
    assert_eq!(err[0].1, format!("{IR}.clusterName"));
    assert!(
        err[0]
            .2
            .contains("the route asks for Http but cluster \"dubbo\" has a Dubbo endpoint"),
        "{err:?}"
    );

    let dubbo_route = "resources:\n  - path: /d\n    methods:\n      - httpVerb: GET\n        integrationRequest:\n          clusterName: web\n          interface: a.B\n          method: m\n";
    let err = load("dubbo-on-http", dubbo_route).expect_err("mismatch");
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(
        (err[0].0, err[0].1.as_str()),
        (Some(6), format!("{IR}.clusterName").as_str())
    );
    assert!(
        err[0]
            .2
            .contains("has a plain HTTP endpoint (127.0.0.1:8080) but the route makes Dubbo calls"),
        "{err:?}"
    );
}

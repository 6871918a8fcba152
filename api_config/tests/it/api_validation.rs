//! Every api_config validation error, with its exact line and key path.

use tianlu_api_config::ApiConfig;

use crate::{assert_problems, Case};

/// A valid api_config; cases replace one line (keeping line numbers) or append lines.
const BASE: &str = "\
resources:
  - path: /api/users/:id
    methods:
      - httpVerb: GET
        integrationRequest:
          clusterName: c
          interface: com.example.UserService
          method: getUser
          mappingParams:
            - {name: uri.id, mapTo: 0, mapType: long}
";

const IR: &str = "resources[0].methods[0].integrationRequest";

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
    let (api, warnings) = ApiConfig::from_yaml_str(BASE, "api.yaml").expect("valid");
    assert_eq!(api.routes.len(), 1);
    assert!(warnings.is_empty());
}

#[test]
fn mapping_errors() {
    let mp = |i: usize, key: &str| format!("{IR}.mappingParams[{i}].{key}");
    let cases: Vec<Case> = vec![
        ("bad source", with(&[("uri.id, mapTo", "body.id, mapTo")]), vec![(10, mp(0, "name"), "is not a valid source")]),
        ("unknown path param", with(&[("uri.id", "uri.uid")]), vec![(10, mp(0, "name"), "\"uri.uid\" does not name a path parameter of /api/users/:id (it has: id)")]),
        ("opt.application", with(&[("mapTo: 0, mapType: long", "mapTo: opt.application")]), vec![(10, mp(0, "mapTo"), "opt.application is deprecated")]),
        ("negative position", with(&[("mapTo: 0", "mapTo: -1")]), vec![(10, mp(0, "mapTo"), "must be a non-negative integer")]),
        ("unknown target", with(&[("mapTo: 0", "mapTo: opt.foo")]), vec![(10, mp(0, "mapTo"), "is not a target")]),
        ("missing mapTo", with(&[("mapTo: 0, ", "")]), vec![(10, mp(0, "mapTo"), "missing required key")]),
        ("gap in positions", format!("{BASE}            - {{name: queryStrings.b, mapTo: 2}}\n"), vec![(9, format!("{IR}.mappingParams"), "position 1 is not mapped")]),
        ("position twice", format!("{BASE}            - {{name: queryStrings.b, mapTo: \"0\"}}\n"), vec![(11, mp(1, "mapTo"), "argument position 0 is mapped twice")]),
        ("values with positions", format!("{BASE}            - {{name: requestBody.v, mapTo: opt.values}}\n"), vec![(11, mp(1, "mapTo"), "opt.values cannot be combined with positional mappings")]),
        ("opt target twice", format!("{BASE}            - {{name: queryStrings.g, mapTo: opt.group}}\n            - {{name: headers.g, mapTo: opt.group}}\n"), vec![(12, mp(2, "mapTo"), "opt.group is mapped twice")]),
        ("bad mapType", with(&[("mapType: long", "mapType: java lang")]), vec![(10, mp(0, "mapType"), "\"java lang\" is not a Java type name")]),
        ("mapType on opt", format!("{BASE}            - {{name: queryStrings.g, mapTo: opt.group, mapType: string}}\n"), vec![(11, mp(1, "mapType"), "mapType only applies to positional arguments")]),
        ("parameterTypes length", with(&[("method: getUser", "parameterTypes: [long, int]")]), vec![(6, format!("{IR}.method"), "missing required key (or map opt.method"), (8, format!("{IR}.parameterTypes"), "parameterTypes lists 2 type(s) but mappingParams maps 1 positional argument(s)")]),
        ("bad parameterTypes entry", with(&[("method: getUser", "parameterTypes: [\"1x\"]")]), vec![(6, format!("{IR}.method"), "missing required key"), (8, format!("{IR}.parameterTypes[0]"), "\"1x\" is not a Java type name")]),
        ("opt.interface needs allowInterfaces", with(&[("interface: com.example.UserService", "group: g"), ("mapTo: 0, mapType: long", "mapTo: opt.interface")]), vec![(10, format!("{IR}.allowInterfaces"), "allowInterfaces must list the interfaces")]),
        ("mapping list not a list", with(&[("mappingParams:\n", "mappingParams: 3\n#")]), vec![(9, format!("{IR}.mappingParams"), "expected a list")]),
    ];
    for (name, yaml, want) in cases {
        let err = ApiConfig::from_yaml_str(&yaml, "api.yaml").expect_err(name);
        let want: Vec<(usize, &str, &str)> =
            want.iter().map(|(l, p, m)| (*l, p.as_str(), *m)).collect();
        assert_problems(name, &err, &want);
    }
}

#[test]
fn method_and_resource_errors() {
    let m = |key: &str| format!("resources[0].methods[0].{key}");
    let cases: Vec<Case> = vec![
        (
            "no interface or method",
            with(&[
                ("interface: com.example.UserService", "group: g"),
                ("method: getUser", "version: v"),
            ]),
            vec![
                (
                    6,
                    format!("{IR}.interface"),
                    "missing required key (or map opt.interface from the request)",
                ),
                (
                    6,
                    format!("{IR}.method"),
                    "missing required key (or map opt.method from the request)",
                ),
            ],
        ),
        (
            "bad interface name",
            with(&[("com.example.UserService", "com.example.User-Service")]),
            vec![(7, format!("{IR}.interface"), "is not a Java interface name")],
        ),
        (
            "protocol disagrees",
            with(&[(
                "clusterName: c",
                "requestType: triple\n          protocol: dubbo\n          clusterName: c",
            )]),
            vec![(
                7,
                format!("{IR}.protocol"),
                "protocol and requestType disagree",
            )],
        ),
        (
            "url scheme disagrees",
            with(&[(
                "clusterName: c",
                "requestType: triple\n          url: dubbo://127.0.0.1:20880",
            )]),
            vec![(
                7,
                format!("{IR}.url"),
                "the url scheme and the route's protocol/requestType disagree",
            )],
        ),
        (
            "http backend keys on a dubbo route",
            with(&[("clusterName: c", "clusterName: c\n          host: h:1")]),
            vec![(
                7,
                format!("{IR}.host"),
                "host/path/schema are for HTTP backends; set requestType: http",
            )],
        ),
        (
            "paramTypes",
            with(&[(
                "method: getUser",
                "method: getUser\n          paramTypes: [long]",
            )]),
            vec![(9, format!("{IR}.paramTypes"), "use parameterTypes")],
        ),
        (
            "unknown key with suggestion",
            with(&[("clusterName: c", "clusterName: c\n          clustername: d")]),
            vec![(
                7,
                format!("{IR}.clustername"),
                "unknown key \"clustername\"; did you mean \"clusterName\"?",
            )],
        ),
        (
            "cluster and url",
            with(&[(
                "clusterName: c",
                "clusterName: c\n          url: dubbo://h:1",
            )]),
            vec![(
                7,
                format!("{IR}.url"),
                "set either clusterName or url, not both",
            )],
        ),
        (
            "bad url",
            with(&[("clusterName: c", "url: dubbo://h")]),
            vec![(6, format!("{IR}.url"), "must be dubbo://host:port")],
        ),
        (
            "bad verb",
            with(&[("httpVerb: GET", "httpVerb: FETCH")]),
            vec![(4, m("httpVerb"), "unknown httpVerb \"FETCH\"")],
        ),
        (
            "missing verb",
            with(&[("- httpVerb: GET", "- enable: true")]),
            vec![(4, m("httpVerb"), "missing required key")],
        ),
        (
            "bad timeout",
            with(&[("- httpVerb: GET", "- httpVerb: GET\n        timeout: 3x")]),
            vec![(5, m("timeout"), "invalid duration \"3x\"")],
        ),
        (
            "bad enable",
            with(&[("- httpVerb: GET", "- httpVerb: GET\n        enable: maybe")]),
            vec![(
                5,
                m("enable"),
                "expected true or false, found a string \"maybe\"",
            )],
        ),
        (
            "mock",
            with(&[("- httpVerb: GET", "- httpVerb: GET\n        mock: true")]),
            vec![(5, m("mock"), "mock: true is not supported")],
        ),
        (
            "retries",
            with(&[("clusterName: c", "clusterName: c\n          retries: many")]),
            vec![(
                7,
                format!("{IR}.retries"),
                "expected an integer from 0 to 100",
            )],
        ),
        (
            "missing integrationRequest",
            "resources:\n  - path: /a\n    methods:\n      - httpVerb: GET\n".to_owned(),
            vec![
                (4, IR.to_owned(), "missing required key"),
                (4, format!("{IR}.interface"), "missing required key"),
                (4, format!("{IR}.method"), "missing required key"),
            ],
        ),
        (
            "resource path without slash",
            with(&[("path: /api/users/:id", "path: api/users")]),
            vec![
                (2, "resources[0].path".to_owned(), "must start with '/'"),
                (
                    10,
                    format!("{IR}.mappingParams[0].name"),
                    "does not name a path parameter",
                ),
            ],
        ),
        (
            "mixed segment",
            with(&[("path: /api/users/:id", "path: /api/user-{id}")]),
            vec![
                (2, "resources[0].path".to_owned(), "must be a whole segment"),
                (
                    10,
                    format!("{IR}.mappingParams[0].name"),
                    "does not name a path parameter",
                ),
            ],
        ),
        (
            "resource filters",
            with(&[("    methods:", "    filters: [{name: x}]\n    methods:")]),
            vec![(
                3,
                "resources[0].filters[0].name".to_owned(),
                "http filter \"x\" is not a known filter",
            )],
        ),
        (
            "route-level dubboproxy",
            with(&[(
                "    methods:",
                "    filters: [{name: dgp.filter.http.dubboproxy}]\n    methods:",
            )]),
            vec![(
                3,
                "resources[0].filters[0]".to_owned(),
                "belongs in conf.yaml http_filters, not on a route",
            )],
        ),
        (
            "resource type",
            with(&[("    methods:", "    type: rpc\n    methods:")]),
            vec![(
                3,
                "resources[0].type".to_owned(),
                "unknown resource type \"rpc\"",
            )],
        ),
        (
            "no resources",
            "name: x\n".to_owned(),
            vec![(
                1,
                "resources".to_owned(),
                "at least one resource is required",
            )],
        ),
        (
            "top-level plugins",
            format!("{BASE}pluginFilePath: x\n"),
            vec![(
                11,
                "pluginFilePath".to_owned(),
                "pixiu Go plugin groups are not supported",
            )],
        ),
        (
            "allow entry",
            with(&[(
                "clusterName: c",
                "clusterName: c\n          allowClasses: [\"com..x\"]",
            )]),
            vec![(
                7,
                format!("{IR}.allowClasses[0]"),
                "is not a class or package name",
            )],
        ),
        (
            "response key",
            with(&[(
                "clusterName: c",
                "clusterName: c\n          response: {keep_class: true}",
            )]),
            vec![(
                7,
                format!("{IR}.response.keep_class"),
                "did you mean \"keepClass\"?",
            )],
        ),
    ];
    for (name, yaml, want) in cases {
        let err = ApiConfig::from_yaml_str(&yaml, "api.yaml").expect_err(name);
        let want: Vec<(usize, &str, &str)> =
            want.iter().map(|(l, p, m)| (*l, p.as_str(), *m)).collect();
        assert_problems(name, &err, &want);
    }
}

#[test]
fn duplicates_nesting_and_route_labels() {
    let yaml = "\
resources:
  - path: /api
    resources:
      - path: /users/:id
        methods:
          - httpVerb: GET
            integrationRequest: {clusterName: c, interface: a.B, method: m, mappingParams: [{name: uri.nope, mapTo: 0}]}
  - path: /api/users/{uid}
    methods:
      - httpVerb: get
        integrationRequest: {clusterName: c, interface: a.B, method: m}
";
    let err = ApiConfig::from_yaml_str(yaml, "api.yaml").expect_err("invalid");
    assert_problems(
        "nested",
        &err,
        &[
            (
                7,
                "resources[0].resources[0].methods[0].integrationRequest.mappingParams[0].name",
                "\"uri.nope\" does not name a path parameter of /api/users/:id",
            ),
            (
                10,
                "resources[1].methods[0].httpVerb",
                "duplicate route: GET /api/users/:id is already defined at api.yaml:6",
            ),
        ],
    );
    let routes: Vec<Option<&str>> = err.problems.iter().map(|p| p.route.as_deref()).collect();
    assert_eq!(
        routes,
        [Some("GET /api/users/:id"), Some("GET /api/users/{uid}")]
    );
    assert_eq!(
        err.to_string().lines().next(),
        Some("api.yaml:7: resources[0].resources[0].methods[0].integrationRequest.mappingParams[0].name: \"uri.nope\" does not name a path parameter of /api/users/:id (it has: id) (route GET /api/users/:id)")
    );
}

#[test]
fn syntax_errors_are_one_problem() {
    let err =
        ApiConfig::from_yaml_str("resources:\n  - path: [\n", "api.yaml").expect_err("bad yaml");
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].key_path, "");
    assert!(
        err.problems[0].message.starts_with("invalid YAML"),
        "{}",
        err.problems[0].message
    );
    assert!(err.problems[0].line.is_some());
    let err = ApiConfig::from_yaml_str("- 1\n", "api.yaml").expect_err("not a map");
    assert_eq!(err.problems[0].message, "expected a mapping, found a list");
}

#[test]
fn pixiu_noops_are_warnings() {
    let yaml = with(&[
        ("    methods:", "    id: 7\n    methods:"),
        ("      - httpVerb: GET", "      - httpVerb: GET\n        resourcePath: /x\n        inboundRequest: {requestType: http, uri: x, requestBody: [{definitionName: U}], headers: [{name: X-A, type: string, required: true}]}"),
    ]) + "definitions: [{name: U, schema: \"{}\"}]\n";
    let (api, warnings) = ApiConfig::from_yaml_str(&yaml, "api.yaml").expect("valid");
    let got: Vec<(Option<usize>, &str)> = warnings
        .iter()
        .map(|w| (w.line, w.key_path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(3), "resources[0].id"),
            (Some(6), "resources[0].methods[0].resourcePath"),
            (
                Some(7),
                "resources[0].methods[0].inboundRequest.headers[0].type"
            ),
            (
                Some(7),
                "resources[0].methods[0].inboundRequest.requestBody"
            ),
            (Some(7), "resources[0].methods[0].inboundRequest.uri"),
            (Some(14), "definitions"),
        ]
    );
    assert!(api.routes[0].inbound.headers[0].required);
}

#[test]
fn route_filters_inherit_and_override() {
    let yaml = r#"name: f
resources:
  - path: /a
    filters:
      - name: tianlu.filter.http.bodylimit
        config: { max_bytes: 100 }
      - name: dgp.filter.http.cors
        config: { allow_origin: ["*"] }
    methods:
      - httpVerb: GET
        filters:
          - name: tianlu.filter.http.bodylimit
            config: { max_bytes: 10 }
        integrationRequest: { interface: a.B, method: m, clusterName: c }
      - httpVerb: POST
        integrationRequest: { interface: a.B, method: m, clusterName: c }
"#;
    let (api, _) = ApiConfig::from_yaml_str(yaml, "api.yaml").expect("valid");
    let names = |i: usize| -> Vec<(String, String)> {
        api.routes[i]
            .filters
            .iter()
            .map(|f| (f.name.clone(), format!("{:?}", f.config)))
            .collect()
    };
    let get = names(0);
    assert_eq!(get.len(), 2);
    assert_eq!(get[0].0, "dgp.filter.http.cors");
    assert_eq!(get[1].0, "tianlu.filter.http.bodylimit");
    assert!(get[1].1.contains("max_bytes: 10"), "{get:?}");
    let post = names(1);
    assert_eq!(post[0].0, "tianlu.filter.http.bodylimit");
    assert!(post[0].1.contains("max_bytes: 100"), "{post:?}");
}

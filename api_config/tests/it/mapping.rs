//! Mapping extraction: every source kind, opt.* values, type resolution and errors.

use serde_json::{json, Value};
use tianlu_api_config::{ApiConfig, Extracted, Lookup, MappingErrorKind, RequestView, RouteTable};

const ROUTES: &str = "
resources:
  - path: /users/:id
    methods:
      - httpVerb: GET
        inboundRequest:
          headers: [{name: X-Token, required: true}]
          queryStrings: [{name: page, required: true}, {name: size}]
        integrationRequest:
          clusterName: c
          interface: com.x.Users
          method: get
          mappingParams:
            - {name: uri.id, mapTo: 0, mapType: long}
            - {name: queryStrings.age, mapTo: 1, mapType: int}
            - {name: headers.X-Token, mapTo: 2}
  - path: /users
    headers: {X-Tenant: acme}
    methods:
      - httpVerb: POST
        integrationRequest:
          clusterName: c
          interface: com.x.Users
          method: create
          parameterTypes: [java.lang.String, com.x.Item, java.util.Map]
          mappingParams:
            - {name: requestBody.user.name, mapTo: 0}
            - {name: requestBody.items.1, mapTo: 1, mapType: object}
            - {name: requestBody._all, mapTo: 2}
  - path: /generic/:interface
    methods:
      - httpVerb: POST
        integrationRequest:
          clusterName: c
          allowInterfaces: [com.x.*]
          mappingParams:
            - {name: uri.interface, mapTo: opt.interface}
            - {name: queryStrings.method, mapTo: opt.method}
            - {name: queryStrings.group, mapTo: opt.group}
            - {name: headers.X-Version, mapTo: opt.version}
            - {name: requestBody.types, mapTo: opt.types}
            - {name: requestBody.values, mapTo: opt.values}
  - path: /typed
    methods:
      - httpVerb: POST
        integrationRequest:
          clusterName: c
          interface: com.x.T
          method: m
          parameterTypes: [int, int]
          mappingParams:
            - {name: requestBody.values, mapTo: opt.values}
";

struct Req<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: Option<Value>,
}

fn table() -> RouteTable {
    let (api, _) = ApiConfig::from_yaml_str(ROUTES, "m.yaml").unwrap_or_else(|e| panic!("{e}"));
    RouteTable::new(api.routes).unwrap_or_else(|e| panic!("{e}"))
}

/// Looks the request up, checks inbound rules and extracts; errors as `kind field: reason`.
fn run(t: &RouteTable, req: &Req<'_>) -> Result<Extracted, String> {
    let Lookup::Found { route, params, .. } = t.lookup(req.method, req.path) else {
        panic!("no route for {} {}", req.method, req.path)
    };
    let pairs = req.headers;
    let headers = move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let fail = |e: tianlu_api_config::MappingError| format!("{:?} {}", e.kind, e);
    route.check_inbound(req.query, &headers).map_err(fail)?;
    let view = RequestView {
        params: &params,
        query: req.query,
        headers: &headers,
        body: req.body.as_ref(),
    };
    route.mapping.extract(&view).map_err(fail)
}

/// `(value, type)` per positional argument.
fn args(e: &Extracted) -> Vec<(Value, Option<&str>)> {
    e.args
        .iter()
        .map(|a| (a.value.clone(), a.map_type.as_deref()))
        .collect()
}

#[test]
fn positional_sources() {
    let t = table();
    let get = |query, headers| Req {
        method: "GET",
        path: "/users/7",
        query,
        headers,
        body: None,
    };
    let ok = run(&t, &get("page=1&age=30", &[("x-token", "tok")])).expect("ok");
    assert_eq!(
        args(&ok),
        [
            (json!("7"), Some("long")),
            (json!("30"), Some("int")),
            (json!("tok"), None)
        ]
    );
    assert_eq!(ok.args[1].source, "queryStrings.age");

    let errors = [
        (
            get("age=30", &[("X-Token", "t")]),
            "Missing queryStrings.page: required query parameter is missing",
        ),
        (
            get("page=1&age=30", &[]),
            "Missing headers.X-Token: required header is missing",
        ),
        (
            get("page=1", &[("X-Token", "t")]),
            "Missing queryStrings.age: required query parameter is missing",
        ),
    ];
    for (req, want) in errors {
        assert_eq!(run(&t, &req).expect_err(want), want);
    }
}

#[test]
fn body_sources_and_parameter_types() {
    let t = table();
    let body = json!({"user": {"name": "tc"}, "items": [{"a": 1}, {"b": 2}]});
    let post = |headers, body| Req {
        method: "POST",
        path: "/users",
        query: "",
        headers,
        body,
    };
    let ok = run(&t, &post(&[("X-Tenant", "acme")], Some(body.clone()))).expect("ok");
    assert_eq!(
        args(&ok),
        [
            (json!("tc"), Some("java.lang.String")),
            (json!({"b": 2}), Some("com.x.Item")),
            (body.clone(), Some("java.util.Map"))
        ]
    );
    let errors = [
        (
            post(&[], Some(body.clone())),
            "Missing headers.X-Tenant: required header is missing",
        ),
        (
            post(&[("X-Tenant", "evil")], Some(body.clone())),
            "Invalid headers.X-Tenant: must be \"acme\"",
        ),
        (
            post(&[("X-Tenant", "acme")], None),
            "Missing requestBody.user.name: request body is missing",
        ),
        (
            post(&[("X-Tenant", "acme")], Some(json!({"user": {}}))),
            "Missing requestBody.user.name: field is missing in the request body",
        ),
        (
            post(
                &[("X-Tenant", "acme")],
                Some(json!({"user": {"name": "x"}, "items": [1]})),
            ),
            "Missing requestBody.items.1: field is missing in the request body",
        ),
    ];
    for (req, want) in errors {
        assert_eq!(run(&t, &req).expect_err(want), want);
    }
}

#[test]
fn universal_endpoint() {
    let t = table();
    let post = |path, query, headers, body: Value| Req {
        method: "POST",
        path,
        query,
        headers,
        body: Some(body),
    };
    let ok = run(
        &t,
        &post(
            "/generic/com.x.Users",
            "method=get&group=g",
            &[("X-Version", "1.0")],
            json!({"types": "string, int", "values": ["a", 1]}),
        ),
    )
    .expect("ok");
    assert_eq!(ok.opt.interface.as_deref(), Some("com.x.Users"));
    assert_eq!(ok.opt.method.as_deref(), Some("get"));
    assert_eq!(
        (ok.opt.group.as_deref(), ok.opt.version.as_deref()),
        (Some("g"), Some("1.0"))
    );
    assert_eq!(
        ok.opt.types,
        Some(vec!["string".to_owned(), "int".to_owned()])
    );
    assert_eq!(ok.opt.values, Some(vec![json!("a"), json!(1)]));
    assert!(ok.args.is_empty());

    let scalar = run(
        &t,
        &post(
            "/generic/com.x.Users",
            "method=get",
            &[],
            json!({"types": ["java.lang.String"], "values": "x"}),
        ),
    )
    .expect("ok");
    assert_eq!(
        (scalar.opt.values, scalar.opt.group),
        (Some(vec![json!("x")]), None)
    );
    let no_args = run(
        &t,
        &post("/generic/com.x.Users", "method=ping", &[], json!({})),
    )
    .expect("ok");
    assert_eq!((no_args.opt.values, no_args.opt.types), (None, None));

    let errors = [
        (post("/generic/org.evil.Svc", "method=get", &[], json!({})), "NotAllowed uri.interface: interface \"org.evil.Svc\" is not allowed on this route"),
        (post("/generic/com.x.Users", "", &[], json!({})), "Missing queryStrings.method: required query parameter is missing"),
        (post("/generic/com.x.Users", "method=", &[], json!({})), "Invalid queryStrings.method: method must not be empty"),
        (post("/generic/com.x.Users", "method=m", &[], json!({"types": 3})), "Invalid requestBody.types: must be a comma-separated string or an array of type names, found a number"),
        (post("/generic/com.x.Users", "method=m", &[], json!({"types": ["int", 1]})), "Invalid requestBody.types: each type must be a string, found a number"),
        (post("/generic/com.x.Users", "method=m", &[], json!({"types": "in t"})), "Invalid requestBody.types: \"in t\" is not a Java type name"),
        (post("/generic/com.x.Users", "method=m", &[], json!({"types": "int", "values": [1, 2]})), "Invalid requestBody.values: 2 argument value(s) but 1 parameter type(s)"),
    ];
    for (req, want) in errors {
        assert_eq!(run(&t, &req).expect_err(want), want);
    }
}

#[test]
fn declared_types_check_opt_values_arity() {
    let t = table();
    let post = |body: Value| Req {
        method: "POST",
        path: "/typed",
        query: "",
        headers: &[],
        body: Some(body),
    };
    let ok = run(&t, &post(json!({"values": [1, 2]}))).expect("ok");
    assert_eq!(ok.opt.values, Some(vec![json!(1), json!(2)]));
    for (body, want) in [
        (
            json!({"values": [1]}),
            "Invalid requestBody.values: 1 argument value(s) but 2 parameter type(s)",
        ),
        (
            json!({}),
            "Invalid requestBody.values: 0 argument value(s) but 2 parameter type(s)",
        ),
    ] {
        assert_eq!(run(&t, &post(body)).expect_err(want), want);
    }
}

#[test]
fn error_kinds() {
    let t = table();
    let req = Req {
        method: "POST",
        path: "/generic/org.evil.X",
        query: "method=m",
        headers: &[],
        body: None,
    };
    let Lookup::Found { route, params, .. } = t.lookup(req.method, req.path) else {
        panic!("route")
    };
    let headers = |_: &str| None::<&str>;
    let view = RequestView {
        params: &params,
        query: req.query,
        headers: &headers,
        body: None,
    };
    let err = route.mapping.extract(&view).expect_err("not allowed");
    assert_eq!(
        (err.kind, err.field.as_str()),
        (MappingErrorKind::NotAllowed, "uri.interface")
    );
}

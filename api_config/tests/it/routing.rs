//! Route matching: both parameter forms, wildcards, precedence, method-not-allowed, nesting.

use tianlu_api_config::{ApiConfig, Lookup, RouteTable};

const ROUTES: &str = "
resources:
  - path: /api/users
    headers: {X-Tenant: acme}
    methods:
      - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Users, method: list}}
      - {httpVerb: POST, integrationRequest: {clusterName: c, interface: a.Users, method: create}}
    resources:
      - path: /:id
        headers: {X-Tenant: other, X-Region: eu}
        methods:
          - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Users, method: get}}
          - {httpVerb: DELETE, integrationRequest: {clusterName: c, interface: a.Users, method: delete}}
        resources:
          - path: /profile
            methods:
              - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Users, method: profile}}
      - path: /me
        methods:
          - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Users, method: me}}
  - path: /api/users/{uid}/orders/*
    methods:
      - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Orders, method: list}}
  - path: /api/files/**
    methods:
      - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Files, method: get}}
  - path: /api/files/special
    methods:
      - {httpVerb: PUT, integrationRequest: {clusterName: c, interface: a.Files, method: put}}
  - path: /any/thing
    methods:
      - {httpVerb: ANY, integrationRequest: {clusterName: c, interface: a.Any, method: any}}
      - {httpVerb: POST, integrationRequest: {clusterName: c, interface: a.Any, method: post}}
  - path: /a/:x/b
    methods:
      - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Back, method: one}}
  - path: /a/*/c
    methods:
      - {httpVerb: GET, integrationRequest: {clusterName: c, interface: a.Back, method: two}}
";

fn table() -> RouteTable {
    let (api, _) =
        ApiConfig::from_yaml_str(ROUTES, "routes.yaml").unwrap_or_else(|e| panic!("{e}"));
    RouteTable::new(api.routes).unwrap_or_else(|e| panic!("{e}"))
}

/// A lookup result reduced to comparable values: the Dubbo method name stands for the route.
#[derive(Debug, PartialEq)]
enum Got {
    Found(String, Vec<(String, String)>),
    NotAllowed(Vec<String>),
    NotFound,
}

fn found(method: &str, params: &[(&str, &str)]) -> Got {
    Got::Found(
        method.to_owned(),
        params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    )
}

fn not_allowed(methods: &[&str]) -> Got {
    Got::NotAllowed(methods.iter().map(|m| m.to_string()).collect())
}

#[test]
fn lookup_table() {
    let t = table();
    let cases: Vec<(&str, &str, Got)> = vec![
        ("GET", "/api/users", found("list", &[])),
        ("POST", "/api/users/", found("create", &[])),
        ("GET", "//api//users", found("list", &[])),
        ("GET", "/api/users/me", found("me", &[])),
        ("DELETE", "/api/users/me", found("delete", &[("id", "me")])),
        ("GET", "/api/users/42", found("get", &[("id", "42")])),
        (
            "GET",
            "/api/users/a%20b%2Fc",
            found("get", &[("id", "a b/c")]),
        ),
        ("GET", "/api/users/%6De", found("me", &[])),
        (
            "GET",
            "/api/users/42/profile",
            found("profile", &[("id", "42")]),
        ),
        (
            "GET",
            "/api/users/42/orders/7",
            found("list", &[("uid", "42")]),
        ),
        ("GET", "/api/users/42/orders", Got::NotFound),
        ("GET", "/api/users/42/orders/7/8", Got::NotFound),
        ("PATCH", "/api/users/42", not_allowed(&["DELETE", "GET"])),
        ("PUT", "/api/users", not_allowed(&["GET", "POST"])),
        ("GET", "/api/files", found("get", &[])),
        ("GET", "/api/files/a/b/c", found("get", &[])),
        ("PUT", "/api/files/special", found("put", &[])),
        ("GET", "/api/files/special", found("get", &[])),
        ("POST", "/api/files/special", not_allowed(&["GET", "PUT"])),
        ("POST", "/api/files/x", not_allowed(&["GET"])),
        ("HEAD", "/any/thing", found("any", &[])),
        ("POST", "/any/thing", found("post", &[])),
        ("GET", "/a/1/c", found("two", &[])),
        ("GET", "/a/1/b", found("one", &[("x", "1")])),
        ("GET", "/API/users", Got::NotFound),
        ("get", "/api/users", not_allowed(&["GET", "POST"])),
        ("GET", "/nothing", Got::NotFound),
        ("GET", "/", Got::NotFound),
        ("GET", "", Got::NotFound),
    ];
    for (method, path, want) in cases {
        let got = match t.lookup(method, path) {
            Lookup::Found { route, params, .. } => Got::Found(
                route.target.method.clone().unwrap_or_default(),
                params
                    .iter()
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect(),
            ),
            Lookup::MethodNotAllowed { allowed } => Got::NotAllowed(allowed),
            Lookup::NotFound => Got::NotFound,
        };
        assert_eq!(got, want, "{method} {path}");
    }
}

#[test]
fn nested_resources_inherit_headers_and_paths() {
    let t = table();
    let Lookup::Found { route, .. } = t.lookup("GET", "/api/users/42/profile") else {
        panic!("no profile route")
    };
    assert_eq!(route.path, "/api/users/:id/profile");
    assert_eq!(
        route.headers,
        [
            ("X-Tenant".to_owned(), "other".to_owned()),
            ("X-Region".to_owned(), "eu".to_owned())
        ]
    );
    let Lookup::Found { route, .. } = t.lookup("GET", "/api/users") else {
        panic!("no list route")
    };
    assert_eq!(route.headers, [("X-Tenant".to_owned(), "acme".to_owned())]);
}

#[test]
fn duplicate_shapes_are_rejected_by_the_table() {
    let (api, _) = ApiConfig::from_yaml_str(ROUTES, "routes.yaml").expect("valid");
    let mut routes = api.routes.clone();
    routes.push(api.routes[2].clone());
    let err = RouteTable::new(routes).expect_err("duplicate");
    assert_eq!(err.problems.len(), 1);
    assert!(
        err.problems[0]
            .message
            .starts_with("duplicate route: GET /api/users/:id"),
        "{}",
        err.problems[0].message
    );
    assert_eq!(table().len(), 13);
}

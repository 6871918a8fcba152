//! Request-policy filter configs in conf.yaml (rate limit, authority, API key, JWT, headers,
//! fault injection, mock): errors with exact line and key path, and what valid configs become.

use std::time::Duration;

use tianlu_api_config::bootstrap::filter::{
    FaultAction, HttpFilterConfig, JwtKeys, JwtRequires, PathMatch, RateLimitKey, Strategy,
};
use tianlu_api_config::Bootstrap;

use crate::{assert_problems, Case};

/// A bootstrap whose second filter is `name` with `config` (lines relative to the config
/// mapping; they start on line 16).
fn conf(name: &str, config: &str) -> String {
    let body: String = config
        .lines()
        .map(|l| format!("                    {l}\n"))
        .collect();
    format!(
        "static_resources:
  listeners:
    - name: main
      protocol_type: HTTP
      address:
        socket_address: {{address: 0.0.0.0, port: 8080}}
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.apiconfig
                  config: {{path: api.yaml}}
                - name: {name}
                  config:
{body}                - name: dgp.filter.http.dubboproxy
                  config: {{}}
  clusters:
    - name: c
      endpoints:
        - socket_address: {{address: 127.0.0.1, port: 20880}}
"
    )
}

const F: &str =
    "static_resources.listeners[0].filter_chains.filters[0].config.http_filters[1].config";

fn load(name: &str, config: &str) -> (HttpFilterConfig, Vec<String>) {
    let (b, warnings) = Bootstrap::from_yaml_str(&conf(name, config), "/etc/tianlu/conf.yaml")
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let f = b.listeners[0].hcm.http_filters[1].config.clone();
    (f, warnings.iter().map(|w| w.key_path.clone()).collect())
}

#[test]
fn filter_config_errors() {
    let p = |key: &str| format!("{F}.{key}");
    let rl = "dgp.filter.http.ratelimit";
    let au = "dgp.filter.http.authority";
    let ak = "tianlu.filter.http.apikey";
    let jw = "dgp.filter.http.auth.jwt";
    let fi = "dgp.filter.http.faultinjection";
    let mo = "tianlu.filter.http.mock";
    let hs = "tianlu.filter.http.headers";
    let secret = "secret: 0123456789abcdef0123456789abcdef";
    let cases: Vec<Case> = vec![
        ("rl no rules", conf(rl, "rules: []"), vec![(16, p("rules"), "list at least one rule")]),
        ("rl sentinel", conf(rl, "resources: [{name: a}]\nrules: [{flowRule: {resource: a}}]"), vec![
            (16, p("resources"), "sentinel flow rules are not supported"),
            (17, p("rules[0].flowRule"), "sentinel flow rules are not supported"),
            (17, p("rules[0].rate"), "missing required key"),
        ]),
        ("rl key", conf(rl, "rules:\n  - {rate: 5, key: cookie}"), vec![(17, p("rules[0].key"), "unknown key \"cookie\"; use ip, header:<name> or global")]),
        ("rl header key", conf(rl, "rules:\n  - {rate: 5, key: \"header:a b\"}"), vec![(17, p("rules[0].key"), "\"a b\" is not a valid header name")]),
        ("rl zero rate", conf(rl, "rules:\n  - {rate: 0}"), vec![(17, p("rules[0].rate"), "must be greater than 0")]),
        ("rl max_keys global", conf(rl, "rules:\n  - {rate: 5, max_keys: 10}"), vec![(17, p("rules[0].max_keys"), "max_keys is only used with key ip or header:<name>")]),
        ("rl too fast", conf(rl, "rules:\n  - {rate: 2000, interval: 1us}"), vec![(17, p("rules[0].rate"), "more than one token per nanosecond")]),
        ("rl match both", conf(rl, "rules:\n  - {rate: 5, match: {prefix: /a, path: /b}}"), vec![(17, p("rules[0].match"), "set either prefix or path, not both")]),
        ("rl match typo", conf(rl, "rules:\n  - {rate: 5, match: {prefx: /a}}"), vec![
            (17, p("rules[0].match.prefix"), "missing required key (prefix or path)"),
            (17, p("rules[0].match.prefx"), "did you mean \"prefix\"?"),
        ]),
        ("au app limit", conf(au, "authority_rules:\n  - {strategy: 0, limit: 1, items: [1.2.3.4]}"), vec![(17, p("authority_rules[0].limit"), "limit 1 (App) is not supported")]),
        ("au items", conf(au, "allow: [10.0.0.1/8, nope]"), vec![
            (16, p("allow[0]"), "has bits set after the prefix; did you mean 10.0.0.0/8?"),
            (16, p("allow[1]"), "\"nope\" is not an IP address or CIDR block"),
        ]),
        ("au empty allow", conf(au, "allow: []"), vec![(16, p("allow"), "an empty white list refuses every request")]),
        ("au strategy", conf(au, "authority_rules:\n  - {strategy: 2, items: [1.2.3.4]}"), vec![(17, p("authority_rules[0].strategy"), "expected an integer from 0 to 1")]),
        ("ak no key", conf(ak, "keys: [{name: a}]"), vec![(16, p("keys[0].key"), "missing required key")]),
        ("ak file", conf(ak, "keys_file: /nonexistent/tianlu-keys.txt"), vec![(16, p("keys_file"), "cannot read /nonexistent/tianlu-keys.txt")]),
        ("ak duplicate", conf(ak, "keys: [{name: a, key: k}, {name: b, key: k}]"), vec![(16, p("keys"), "the key of \"b\" is also given to another name")]),
        ("ak header", conf(ak, "keys: [{name: a, key: k}]\nheader: \"x key\""), vec![(17, p("header"), "is not a valid header name")]),
        ("jwt no source", conf(jw, "providers: [{name: a}]\nrules: [{requires: {requires_any: {provider_name: a}}}]"), vec![(16, p("providers[0]"), "set one key source: secret, public_key, local_jwks or remote_jwks")]),
        ("jwt two sources", conf(jw, &format!("providers: [{{name: a, {secret}, local_jwks: {{inline_string: x}}}}]\nrules: [{{}}]")), vec![(16, p("providers[0]"), "set only one key source, not secret and local_jwks")]),
        ("jwt unknown provider", conf(jw, &format!("providers: [{{name: a, {secret}}}]\nrules: [{{requires: {{requires_any: {{provider_name: b}}}}}}]")), vec![(17, p("rules[0].requires.requires_any.provider_name"), "no provider named \"b\"")]),
        ("jwt cluster", conf(jw, "providers:\n  - name: a\n    remote_jwks: {http_uri: {uri: 'http://idp/jwks', cluster: idp}}\nrules: [{}]"), vec![(18, p("providers[0].remote_jwks.http_uri.cluster"), "fetching keys through a cluster is not supported")]),
        ("jwt remote scheme", conf(jw, "providers:\n  - name: a\n    remote_jwks: {uri: 'ftp://idp/jwks'}\nrules: [{}]"), vec![(18, p("providers[0].remote_jwks.uri"), "must be an http:// or https:// URL")]),
        ("jwt algorithm", conf(jw, &format!("providers: [{{name: a, {secret}, algorithm: RS256}}]\nrules: [{{}}]")), vec![(16, p("providers[0].algorithm"), "algorithm \"RS256\" does not fit this key; use one of: HS256, HS384, HS512")]),
        ("jwt jwks", conf(jw, "providers: [{name: a, local_jwks: {inline_string: '{\"k\": 1}'}}]\nrules: [{}]"), vec![(16, p("providers[0].local_jwks.inline_string"), "a JWK set is a JSON object with a \"keys\" list")]),
        ("jwt no rules", conf(jw, &format!("providers: [{{name: a, {secret}}}]")), vec![(16, p("rules"), "list at least one rule")]),
        ("jwt any and all", conf(jw, &format!("providers: [{{name: a, {secret}}}]\nrules: [{{requires: {{requires_any: {{provider_name: a}}, requires_all: [{{provider_name: a}}]}}}}]")), vec![(17, p("rules[0].requires"), "set either requires_any or requires_all, not both")]),
        ("headers name", conf(hs, "request: {set: {\"bad name\": x}}"), vec![(16, p("request.set.bad name"), "\"bad name\" is not a valid header name")]),
        ("headers remove", conf("dgp.filter.http.header", "response: {remove: [ok, \"a b\"]}"), vec![(16, p("response.remove[1]"), "\"a b\" is not a valid header name")]),
        ("headers value", conf(hs, "response: {add: {x-a: [1]}}"), vec![(16, p("response.add.x-a"), "expected a string, found a list")]),
        ("fi pixiu status", conf(fi, "fail_inject_rules:\n  /api/x: {type: abort}"), vec![(17, p("fail_inject_rules./api/x.status_code"), "missing required key")]),
        ("fi odds always", conf(fi, "rules: [{type: delay, delay: 1s, trigger_type: always, odds: 5}]"), vec![(16, p("rules[0].odds"), "odds is only used with trigger_type percentage")]),
        ("fi type", conf(fi, "rules: [{type: explode}]"), vec![(16, p("rules[0].type"), "unknown type \"explode\"; use abort or delay")]),
        ("fi odds range", conf(fi, "rules: [{type: delay, delay: 1s, trigger_type: percentage, odds: 101}]"), vec![(16, p("rules[0].odds"), "expected an integer from 0 to 100")]),
        ("fi trigger", conf(fi, "rules: [{type: delay, delay: 1s, trigger_type: sometimes}]"), vec![(16, p("rules[0].trigger_type"), "unknown trigger_type \"sometimes\"")]),
        ("fi status on delay", conf(fi, "rules: [{type: delay, delay: 1s, status_code: 500}]"), vec![(16, p("rules[0].status_code"), "only used with type abort")]),
        ("mock no match", conf(mo, "rules: [{status: 200}]"), vec![(16, p("rules[0].match"), "missing required key")]),
        ("mock status", conf(mo, "rules: [{match: {path: /a}, status: 99}]"), vec![(16, p("rules[0].status"), "99 is not an HTTP status code")]),
        ("mock path", conf(mo, "rules: [{match: {path: a}}]"), vec![(16, p("rules[0].match.path"), "must start with \"/\"")]),
        ("mock header", conf(mo, "rules: [{match: {path: /a}, headers: {\"a b\": x}}]"), vec![(16, p("rules[0].headers.a b"), "\"a b\" is not a valid header name")]),
    ];
    for (name, yaml, want) in cases {
        let err = Bootstrap::from_yaml_str(&yaml, "conf.yaml").expect_err(name);
        let want: Vec<(usize, &str, &str)> =
            want.iter().map(|(l, p, m)| (*l, p.as_str(), *m)).collect();
        assert_problems(name, &err, &want);
    }
}

#[test]
fn rate_limit_and_authority_configs() {
    let (f, _) = load(
        "dgp.filter.http.ratelimit",
        "rules:\n  - {match: {prefix: /api}, rate: 5, interval: 1m, key: ip, max_keys: 100}\n  - {rate: 100, burst: 50, key: \"header:X-User\"}",
    );
    let HttpFilterConfig::RateLimit(c) = f else {
        panic!("{f:?}")
    };
    let r = &c.rules[0];
    assert_eq!(r.path_match, PathMatch::Prefix("/api".into()));
    assert_eq!(
        (r.rate, r.interval, r.burst, r.max_keys),
        (5, Duration::from_secs(60), 5, 100)
    );
    assert_eq!(r.key, RateLimitKey::Ip);
    let r = &c.rules[1];
    assert_eq!((r.path_match.clone(), r.burst), (PathMatch::any(), 50));
    assert_eq!(r.key, RateLimitKey::Header("x-user".into()));

    let (f, _) = load(
        "dgp.filter.http.authority",
        "authority_rules:\n  - {strategy: 1, limit: 0, items: [\"192.168.0.0/16\"]}\nallow: [\"::1\", 127.0.0.1]",
    );
    let HttpFilterConfig::Authority(c) = f else {
        panic!("{f:?}")
    };
    let strategies: Vec<(Strategy, usize)> = c
        .rules
        .iter()
        .map(|r| (r.strategy, r.items.len()))
        .collect();
    assert_eq!(strategies, [(Strategy::Deny, 1), (Strategy::Allow, 2)]);
}

#[test]
fn api_key_config_reads_its_file() {
    let dir = std::env::temp_dir().join(format!("tianlu-apikey-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keys.txt"), "# partners\nbeta=k-beta\n").unwrap();
    let text = conf(
        "tianlu.filter.http.apikey",
        "keys: [{name: alpha, key: k-alpha}]\nkeys_file: keys.txt\nquery: api_key",
    );
    let (b, _) = Bootstrap::from_yaml_str(&text, dir.join("conf.yaml")).expect("valid");
    let HttpFilterConfig::ApiKey(c) = &b.listeners[0].hcm.http_filters[1].config else {
        panic!()
    };
    let keys: Vec<(&str, &str)> = c
        .keys
        .iter()
        .map(|k| (k.name.as_str(), k.key.expose()))
        .collect();
    assert_eq!(keys, [("alpha", "k-alpha"), ("beta", "k-beta")]);
    assert_eq!(
        (c.header.as_str(), c.query.as_deref(), c.attachment.as_str()),
        ("x-api-key", Some("api_key"), "tianlu.apikey")
    );
    assert!(!format!("{c:?}").contains("k-alpha"), "keys never print");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn jwt_config_in_pixiu_shape() {
    let (f, warnings) = load(
        "dgp.filter.http.auth.jwt",
        "err_msg: token invalid
rules:
  - match: {prefix: /api/public}
  - match: {prefix: /api}
    requires:
      requires_any: {provider_name: idp}
providers:
  - name: idp
    issuer: https://idp.example
    forward_payload_header: X-Jwt-Payload
    from_headers: {name: X-Token, value_prefix: \"\"}
    claims_to_attachments: {sub: user.id}
    remote_jwks: {http_uri: {uri: 'https://idp.example/jwks', timeout: 2s}, refresh: 1m}
  - name: local
    secret: short",
    );
    assert_eq!(
        warnings,
        [format!("{F}.providers[1].secret")],
        "short secret warns"
    );
    let HttpFilterConfig::Jwt(c) = f else {
        panic!("{f:?}")
    };
    assert_eq!(c.err_msg.as_deref(), Some("token invalid"));
    assert_eq!(c.rules[0].requires, JwtRequires::Nothing);
    assert_eq!(c.rules[1].requires, JwtRequires::Any(vec!["idp".into()]));
    let p = &c.providers[0];
    assert_eq!(p.forward_payload_header.as_deref(), Some("x-jwt-payload"));
    assert_eq!(
        (
            p.from_headers[0].name.as_str(),
            p.from_headers[0].value_prefix.as_str()
        ),
        ("x-token", "")
    );
    assert_eq!(
        p.claims_to_attachments,
        [("sub".to_owned(), "user.id".to_owned())]
    );
    assert_eq!(
        p.keys,
        JwtKeys::RemoteJwks {
            uri: "https://idp.example/jwks".into(),
            timeout: Duration::from_secs(2),
            refresh: Duration::from_secs(60)
        }
    );
    let JwtKeys::Secret { algorithm, .. } = &c.providers[1].keys else {
        panic!()
    };
    assert_eq!(algorithm, "HS256");
    assert_eq!(c.providers[1].from_headers[0].value_prefix, "Bearer ");
}

#[test]
fn headers_fault_and_mock_configs() {
    let (f, warnings) = load("dgp.filter.http.header", "{}");
    assert_eq!(f, HttpFilterConfig::Headers(Default::default()));
    assert_eq!(
        warnings,
        [F.to_owned()],
        "a header filter that does nothing warns"
    );

    let (f, _) = load(
        "dgp.filter.http.faultinjection",
        "fail_inject_rules:\n  /api/x?a=1: {type: abort, trigger_type: random, status_code: 503, body: down}\nrules:\n  - {match: {path: /slow}, type: delay, delay: 20ms, trigger_type: percentage, odds: 10}",
    );
    let HttpFilterConfig::FaultInjection(c) = f else {
        panic!("{f:?}")
    };
    assert_eq!(c.rules[0].path_match, PathMatch::Uri("/api/x?a=1".into()));
    assert_eq!(c.rules[0].percent, 50, "random is pixiu's coin toss");
    assert_eq!(
        c.rules[0].action,
        FaultAction::Abort {
            status: 503,
            body: "down".into()
        }
    );
    assert_eq!(
        (c.rules[1].percent, &c.rules[1].action),
        (10, &FaultAction::Delay(Duration::from_millis(20)))
    );

    let (f, _) = load(
        "tianlu.filter.http.mock",
        "rules:\n  - match: {method: get, path: /api/users/1}\n    headers: {X-Mock: \"yes\"}\n    body: {id: 1, tags: [a, 2, true, null, 1.5]}",
    );
    let HttpFilterConfig::Mock(c) = f else {
        panic!("{f:?}")
    };
    let r = &c.rules[0];
    assert_eq!((r.method.as_deref(), r.status), (Some("GET"), 200));
    assert_eq!(r.headers, [("x-mock".to_owned(), "yes".to_owned())]);
    assert_eq!(
        r.body,
        Some(serde_json::json!({"id": 1, "tags": ["a", 2, true, null, 1.5]}))
    );
}

#[test]
fn circuit_breaker_and_concurrency_config_errors() {
    let p = |key: &str| format!("{F}.{key}");
    let cb = "tianlu.filter.http.circuitbreaker";
    let cc = "tianlu.filter.http.concurrency";
    let cases: Vec<Case> = vec![
        (
            "cb sentinel",
            conf(
                "dgp.filter.http.circuitbreaker",
                "resources: [{name: a}]\nrules: [{resource: a, strategy: 1}]",
            ),
            vec![
                (
                    16,
                    p("resources"),
                    "sentinel circuit-breaker rules are not supported",
                ),
                (
                    17,
                    p("rules"),
                    "write window: 10s, min_requests: 20, error_rate: 0.5",
                ),
            ],
        ),
        (
            "cb rate above 1",
            conf(cb, "error_rate: 1.5"),
            vec![(
                16,
                p("error_rate"),
                "expected a share greater than 0 and at most 1 (such as 0.5)",
            )],
        ),
        (
            "cb rate zero",
            conf(cb, "error_rate: 0"),
            vec![(
                16,
                p("error_rate"),
                "expected a share greater than 0 and at most 1",
            )],
        ),
        (
            "cb rate text",
            conf(cb, "error_rate: half"),
            vec![(16, p("error_rate"), "found a string \"half\"")],
        ),
        (
            "cb slow rate alone",
            conf(cb, "slow_call_rate: 0.5"),
            vec![(
                16,
                p("slow_call_rate"),
                "slow_call_rate is only used with slow_call",
            )],
        ),
        (
            "cb short window",
            conf(cb, "window: 5ms"),
            vec![(16, p("window"), "must be at least 10ms")],
        ),
        (
            "cb zero probes",
            conf(cb, "half_open_probes: 0"),
            vec![(16, p("half_open_probes"), "must be greater than 0")],
        ),
        (
            "cb zero min",
            conf(cb, "min_requests: 0"),
            vec![(16, p("min_requests"), "must be greater than 0")],
        ),
        (
            "cb zero open_for",
            conf(cb, "open_for: 0s"),
            vec![(16, p("open_for"), "must be greater than 0")],
        ),
        (
            "cb business flag",
            conf(cb, "count_business_errors: sometimes"),
            vec![(16, p("count_business_errors"), "expected true or false")],
        ),
        (
            "cb typo",
            conf(cb, "min_request: 5"),
            vec![(16, p("min_request"), "did you mean \"min_requests\"?")],
        ),
        (
            "cc missing max",
            conf(cc, "{}"),
            vec![(16, p("max"), "missing required key")],
        ),
        (
            "cc zero",
            conf(cc, "max: 0"),
            vec![(16, p("max"), "must be greater than 0")],
        ),
        (
            "cc too big",
            conf(cc, "max: 2000000"),
            vec![(16, p("max"), "expected an integer from 0 to 1000000")],
        ),
    ];
    for (name, yaml, want) in cases {
        let err = Bootstrap::from_yaml_str(&yaml, "conf.yaml").expect_err(name);
        let want: Vec<(usize, &str, &str)> =
            want.iter().map(|(l, p, m)| (*l, p.as_str(), *m)).collect();
        assert_problems(name, &err, &want);
    }
}

#[test]
fn circuit_breaker_and_concurrency_configs() {
    use tianlu_api_config::bootstrap::filter::{CircuitBreakerConfig, ConcurrencyConfig};
    let (f, _) = load("tianlu.filter.http.circuitbreaker", "{}");
    assert_eq!(
        f,
        HttpFilterConfig::CircuitBreaker(CircuitBreakerConfig {
            window: Duration::from_secs(10),
            min_requests: 20,
            error_rate: 0.5,
            count_business_errors: false,
            slow_call: None,
            slow_call_rate: 1.0,
            open_for: Duration::from_secs(30),
            half_open_probes: 3,
        }),
        "the documented defaults"
    );
    let (f, _) = load(
        "dgp.filter.http.circuitbreaker",
        "window: 20s\nmin_requests: 5\nerror_rate: 1\ncount_business_errors: true\nslow_call: 800ms\nslow_call_rate: 0.25\nopen_for: 1m\nhalf_open_probes: 1",
    );
    assert_eq!(
        f,
        HttpFilterConfig::CircuitBreaker(CircuitBreakerConfig {
            window: Duration::from_secs(20),
            min_requests: 5,
            error_rate: 1.0,
            count_business_errors: true,
            slow_call: Some(Duration::from_millis(800)),
            slow_call_rate: 0.25,
            open_for: Duration::from_secs(60),
            half_open_probes: 1,
        }),
        "pixiu's name takes tianlu's keys"
    );
    let (f, _) = load("tianlu.filter.http.concurrency", "max: 64");
    assert_eq!(
        f,
        HttpFilterConfig::Concurrency(ConcurrencyConfig { max: 64 })
    );
}

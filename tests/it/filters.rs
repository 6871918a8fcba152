//! The request-policy filters through the real gateway in front of the Rust sample provider:
//! rate limiting, IP authority, API keys, JWT (inline secret and a remote JWK set served
//! locally), header changes, fault injection and mocks, each configured in conf.yaml as a user
//! would.

use crate::support::{client, endpoint, Gateway, RustProvider, LISTENER_HEAD};
use anyhow::Result;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// `GET /whoami` (no arguments) and `GET /echo` (echoes header `x-echo`).
const API: &str = r#"name: filters
resources:
  - path: /whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: sample
          parameterTypes: []
  - path: /echo
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.EchoService
          method: echo
          clusterName: sample
          parameterTypes: [java.lang.String]
          mappingParams:
            - { name: headers.x-echo, mapTo: 0 }
"#;

/// conf.yaml with `filters` (http_filters list items, indented by 16 spaces) before the
/// apiconfig and dubboproxy filters.
fn conf(filters: &str, provider: SocketAddr) -> String {
    format!(
        r#"{LISTENER_HEAD}{filters}
                - name: dgp.filter.http.apiconfig
                  config: {{ path: api_config.yaml }}
                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      timeout_config: {{ connect_timeout: 1s, request_timeout: 5s }}
              timeout: 10s
  clusters:
    - name: sample
      endpoints:
{ep}"#,
        ep = endpoint(provider, 100)
    )
}

async fn start(tag: &str, filters: &str) -> Result<(RustProvider, Gateway)> {
    let p = RustProvider::start("p1", None)?;
    let g = Gateway::start(tag, &conf(filters, p.addr), API).await?;
    Ok((p, g))
}

/// Status, a header's value and the JSON (or text) body.
async fn get(
    g: &Gateway,
    path: &str,
    headers: &[(&str, &str)],
    want_header: &str,
) -> Result<(u16, Option<String>, Value)> {
    let mut req = client().get(g.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let h = resp
        .headers()
        .get(want_header)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = resp.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok((status, h, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after() -> Result<()> {
    let (_p, g) = start(
        "ratelimit",
        "                - name: dgp.filter.http.ratelimit
                  config:
                    rules:
                      - { match: { prefix: /whoami }, rate: 1, interval: 1h, burst: 2 }",
    )
    .await?;
    for _ in 0..2 {
        let (status, _, body) = get(&g, "/whoami", &[], "retry-after").await?;
        assert_eq!((status, body), (200, json!("p1")));
    }
    let (status, retry, body) = get(&g, "/whoami", &[], "retry-after").await?;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "RATE_LIMITED");
    let secs: u64 = retry.expect("Retry-After").parse()?;
    assert!(
        (3500..=3600).contains(&secs),
        "the next token is an hour away: {secs}"
    );
    let (status, _, body) = get(&g, "/echo", &[("x-echo", "hi")], "x").await?;
    assert_eq!(
        (status, body),
        (200, json!("hi")),
        "other paths are not limited"
    );
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authority_refuses_listed_and_unlisted_clients() -> Result<()> {
    let (_p, g) = start(
        "authority-deny",
        "                - name: dgp.filter.http.authority
                  config:
                    authority_rules:
                      - { strategy: 1, limit: 0, items: [127.0.0.1] }",
    )
    .await?;
    let (status, _, body) = get(&g, "/whoami", &[], "x").await?;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "FORBIDDEN");
    g.stop().await;

    let (_p, g) = start(
        "authority-allow",
        "                - name: dgp.filter.http.authority
                  config: { allow: [127.0.0.0/8, \"::1\"] }",
    )
    .await?;
    let (status, _, body) = get(&g, "/whoami", &[], "x").await?;
    assert_eq!((status, body), (200, json!("p1")));
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_required() -> Result<()> {
    let (_p, g) = start(
        "apikey",
        "                - name: tianlu.filter.http.apikey
                  config:
                    keys: [{ name: partner-a, key: s3cret-a }]
                    query: api_key",
    )
    .await?;
    let (status, _, body) = get(&g, "/whoami", &[], "x").await?;
    assert_eq!((status, &body["code"]), (401, &json!("UNAUTHORIZED")));
    let (status, _, _) = get(&g, "/whoami", &[("x-api-key", "s3cret-b")], "x").await?;
    assert_eq!(status, 401);
    let (status, _, body) = get(&g, "/whoami", &[("x-api-key", "s3cret-a")], "x").await?;
    assert_eq!((status, body), (200, json!("p1")));
    let (status, _, _) = get(&g, "/whoami?api_key=s3cret-a", &[], "x").await?;
    assert_eq!(status, 200);
    let (status, _, body) = get(
        &g,
        "/echo",
        &[("x-api-key", "s3cret-a"), ("x-echo", "ok")],
        "x",
    )
    .await?;
    assert_eq!((status, body), (200, json!("ok")));
    g.stop().await;
    Ok(())
}

fn hs256(claims: &Value, kid: Option<&str>, secret: &[u8]) -> String {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, &jsonwebtoken::EncodingKey::from_secret(secret))
        .expect("token")
}

fn claims(exp_from_now: i64) -> Value {
    let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(0);
    json!({"sub": "u-7", "iss": "https://idp.test", "exp": now + exp_from_now})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_with_a_secret_guards_and_forwards_the_payload() -> Result<()> {
    let secret = "0123456789abcdef0123456789abcdef";
    let (_p, g) = start(
        "jwt-secret",
        &format!(
            "                - name: dgp.filter.http.auth.jwt
                  config:
                    rules:
                      - match: {{ prefix: / }}
                        requires: {{ requires_any: {{ provider_name: local }} }}
                    providers:
                      - name: local
                        issuer: https://idp.test
                        secret: {secret}
                        forward_payload_header: x-echo
                        claims_to_attachments: {{ sub: user.id }}"
        ),
    )
    .await?;
    let (status, challenge, body) = get(&g, "/whoami", &[], "www-authenticate").await?;
    assert_eq!(
        (status, challenge.as_deref()),
        (401, Some("Bearer")),
        "{body}"
    );
    let expired = format!("Bearer {}", hs256(&claims(-3600), None, secret.as_bytes()));
    let (status, _, body) = get(&g, "/whoami", &[("authorization", &expired)], "x").await?;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "token expired");
    let token = hs256(&claims(600), None, secret.as_bytes());
    let auth = format!("Bearer {token}");
    let (status, _, body) = get(&g, "/whoami", &[("authorization", &auth)], "x").await?;
    assert_eq!((status, body), (200, json!("p1")));
    // The verified payload replaces whatever the client put in the forward header.
    let (status, _, body) = get(
        &g,
        "/echo",
        &[("authorization", &auth), ("x-echo", "forged")],
        "x",
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(body.as_str(), token.split('.').nth(1));
    g.stop().await;
    Ok(())
}

/// Serves `jwks` at `http://<addr>/jwks` until the returned handle is aborted.
async fn jwks_server(jwks: String) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let body = jwks.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_with_a_remote_jwk_set() -> Result<()> {
    use base64::Engine;
    let secret = b"a remote key, thirty-two bytes!!";
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let (addr, server) = jwks_server(format!(
        r#"{{"keys":[{{"kty":"oct","kid":"k1","alg":"HS256","k":"{k}"}}]}}"#
    ))
    .await?;
    let (_p, g) = start(
        "jwt-remote",
        &format!(
            "                - name: dgp.filter.http.auth.jwt
                  config:
                    rules:
                      - match: {{ prefix: /whoami }}
                        requires: {{ requires_any: {{ provider_name: idp }} }}
                    providers:
                      - name: idp
                        remote_jwks: {{ http_uri: {{ uri: 'http://{addr}/jwks', timeout: 5s }}, refresh: 10m }}"
        ),
    )
    .await?;
    let good = format!("Bearer {}", hs256(&claims(600), Some("k1"), secret));
    let (status, _, body) = get(&g, "/whoami", &[("authorization", &good)], "x").await?;
    assert_eq!(
        (status, body),
        (200, json!("p1")),
        "the first request waits for the keys"
    );
    let stranger = format!("Bearer {}", hs256(&claims(600), Some("k2"), secret));
    let (status, _, body) = get(&g, "/whoami", &[("authorization", &stranger)], "x").await?;
    assert_eq!(
        (status, &body["message"]),
        (401, &json!("unknown signing key"))
    );
    server.abort();
    let (status, _, _) = get(&g, "/whoami", &[("authorization", &good)], "x").await?;
    assert_eq!(status, 200, "the key set stays after its server went away");
    let (status, _, body) = get(&g, "/echo", &[("x-echo", "open")], "x").await?;
    assert_eq!(
        (status, body),
        (200, json!("open")),
        "paths without a rule pass"
    );
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_filter_changes_requests_and_responses() -> Result<()> {
    let (_p, g) = start(
        "headers",
        "                - name: dgp.filter.http.header
                  config:
                    request: { set: { x-echo: from-gateway } }
                    response: { set: { x-served-by: tianlu } }",
    )
    .await?;
    let (status, served, body) =
        get(&g, "/echo", &[("x-echo", "from-client")], "x-served-by").await?;
    assert_eq!((status, body), (200, json!("from-gateway")));
    assert_eq!(served.as_deref(), Some("tianlu"));
    let (status, served, _) = get(&g, "/nowhere", &[], "x-served-by").await?;
    assert_eq!(
        (status, served.as_deref()),
        (404, Some("tianlu")),
        "errors too"
    );
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_aborts_and_delays() -> Result<()> {
    let (_p, g) = start(
        "fault",
        "                - name: dgp.filter.http.faultinjection
                  config:
                    rules:
                      - { match: { path: /whoami }, type: abort, trigger_type: always, status_code: 503, body: '{\"fault\":true}' }
                      - { match: { path: /echo }, type: delay, trigger_type: percentage, odds: 100, delay: 200ms }",
    )
    .await?;
    let (status, ct, body) = get(&g, "/whoami", &[], "content-type").await?;
    assert_eq!((status, body), (503, json!({"fault": true})));
    assert_eq!(ct.as_deref(), Some("application/json"));
    let started = Instant::now();
    let (status, _, body) = get(&g, "/echo", &[("x-echo", "late")], "x").await?;
    assert_eq!(
        (status, body),
        (200, json!("late")),
        "a delayed call still reaches the provider"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "it was delayed"
    );
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_answers_without_a_provider() -> Result<()> {
    let (_p, g) = start(
        "mock",
        "                - name: tianlu.filter.http.mock
                  config:
                    rules:
                      - match: { method: GET, path: /api/users/1 }
                        status: 200
                        headers: { x-mock: 'true' }
                        body: { id: 1, name: Mock User, tags: [a, b] }",
    )
    .await?;
    let (status, mock, body) = get(&g, "/api/users/1", &[], "x-mock").await?;
    assert_eq!((status, mock.as_deref()), (200, Some("true")));
    assert_eq!(
        body,
        json!({"id": 1, "name": "Mock User", "tags": ["a", "b"]})
    );
    let (status, _, body) = get(&g, "/whoami", &[], "x").await?;
    assert_eq!(
        (status, body),
        (200, json!("p1")),
        "other requests reach the provider"
    );
    g.stop().await;
    Ok(())
}

/// Route-level `filters` in api_config: a resource's filters apply to its methods, a method's
/// filter replaces the resource's filter of the same name, and other routes are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_filters_apply_only_to_their_routes() -> Result<()> {
    let p = RustProvider::start("p1", None)?;
    let api = r#"name: route-filters
resources:
  - path: /limited
    filters:
      - name: tianlu.filter.http.headers
        config: { response: { set: { x-route: limited } } }
      - name: dgp.filter.http.ratelimit
        config:
          rules: [{ match: { prefix: / }, rate: 1, interval: 60s, burst: 1 }]
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: sample
          parameterTypes: []
    resources:
      - path: /inner
        methods:
          - httpVerb: GET
            filters:
              - name: tianlu.filter.http.headers
                config: { response: { set: { x-route: inner } } }
            integrationRequest:
              requestType: dubbo
              interface: org.tianlu.sample.UserService
              version: 1.0.0
              method: whoAmI
              clusterName: sample
              parameterTypes: []
  - path: /free
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: sample
          parameterTypes: []
"#;
    let g = Gateway::start("route-filters", &conf("", p.addr), api).await?;
    let (s, h, _) = get(&g, "/limited", &[], "x-route").await?;
    assert_eq!((s, h.as_deref()), (200, Some("limited")));
    let (s, h, body) = get(&g, "/limited", &[], "x-route").await?;
    assert_eq!(s, 429, "{body}");
    assert_eq!(
        h.as_deref(),
        Some("limited"),
        "response phase runs on local replies"
    );
    // The nested resource inherits the rate limit (its own bucket) and overrides the header.
    let (s, h, _) = get(&g, "/limited/inner", &[], "x-route").await?;
    assert_eq!((s, h.as_deref()), (200, Some("inner")));
    let (s, _, _) = get(&g, "/limited/inner", &[], "x-route").await?;
    assert_eq!(s, 429);
    for _ in 0..5 {
        let (s, h, _) = get(&g, "/free", &[], "x-route").await?;
        assert_eq!((s, h), (200, None), "other routes are untouched");
    }
    g.stop().await;
    Ok(())
}

/// One GET route per entry: `(path, route filters (YAML flow list), method, parameterTypes,
/// mappingParams, timeout)` on the sample provider's `UserService`.
fn user_routes(routes: &[(&str, &str, &str, &str, &str, &str)]) -> String {
    let mut api = String::from("name: resilience\nresources:\n");
    for (path, filters, method, types, mapping, timeout) in routes {
        api.push_str(&format!(
            "  - path: {path}
    filters: {filters}
    methods:
      - httpVerb: GET
        timeout: {timeout}
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: {method}
          clusterName: sample
          parameterTypes: {types}
          mappingParams: {mapping}
"
        ));
    }
    api
}

/// Route circuit breakers: timeouts trip one, it answers CIRCUIT_OPEN with Retry-After, a
/// failed probe opens it again, successful probes close it; business exceptions count only
/// when asked; each route has its own breaker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_breaker_opens_probes_and_closes() -> Result<()> {
    let p = RustProvider::start("p1", None)?;
    let slow_ms = "[{ name: queryStrings.ms, mapTo: 0 }]";
    let by_id = "[{ name: uri.id, mapTo: 0 }]";
    let api = user_routes(&[
        (
            "/slow",
            "[{ name: tianlu.filter.http.circuitbreaker, config: { window: 10s, min_requests: 3, error_rate: 0.5, open_for: 1s, half_open_probes: 2 } }]",
            "slow",
            "[int]",
            slow_ms,
            "300ms",
        ),
        (
            "/users/:id",
            "[{ name: dgp.filter.http.circuitbreaker, config: { min_requests: 2, open_for: 1m } }]",
            "getUser",
            "[long]",
            by_id,
            "5s",
        ),
        (
            "/strict/:id",
            "[{ name: tianlu.filter.http.circuitbreaker, config: { min_requests: 2, open_for: 1m, count_business_errors: true } }]",
            "getUser",
            "[long]",
            by_id,
            "5s",
        ),
        ("/whoami", "[]", "whoAmI", "[]", "[]", "5s"),
    ]);
    let g = Gateway::start("circuit-breaker", &conf("", p.addr), &api).await?;

    // Java exceptions mean the provider answered: not failures by default.
    for _ in 0..4 {
        let (s, _, body) = get(&g, "/users/999999", &[], "x").await?;
        assert_eq!((s, &body["code"]), (500, &json!("BUSINESS_EXCEPTION")));
    }
    for _ in 0..2 {
        let (s, _, body) = get(&g, "/strict/999999", &[], "x").await?;
        assert_eq!((s, &body["code"]), (500, &json!("BUSINESS_EXCEPTION")));
    }
    let (s, retry, body) = get(&g, "/strict/1", &[], "retry-after").await?;
    assert_eq!((s, &body["code"]), (503, &json!("CIRCUIT_OPEN")), "{body}");
    let secs: u64 = retry.expect("Retry-After").parse()?;
    assert!((59..=60).contains(&secs), "open for a minute: {secs}");
    assert_eq!(body["retry_after"], json!(secs));
    let (s, _, body) = get(&g, "/whoami", &[], "x").await?;
    assert_eq!((s, body), (200, json!("p1")), "other routes are untouched");

    // Three timeouts (504) trip the /slow breaker.
    for _ in 0..3 {
        let (s, _, body) = get(&g, "/slow?ms=2000", &[], "x").await?;
        assert_eq!((s, &body["code"]), (504, &json!("UPSTREAM_TIMEOUT")));
    }
    let (s, retry, body) = get(&g, "/slow?ms=0", &[], "retry-after").await?;
    assert_eq!((s, &body["code"]), (503, &json!("CIRCUIT_OPEN")), "{body}");
    assert_eq!(retry.as_deref(), Some("1"));

    // After open_for a probe goes through; it fails, so the breaker opens again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (s, _, body) = get(&g, "/slow?ms=2000", &[], "x").await?;
    assert_eq!((s, &body["code"]), (504, &json!("UPSTREAM_TIMEOUT")));
    let (s, _, body) = get(&g, "/slow?ms=0", &[], "x").await?;
    assert_eq!((s, &body["code"]), (503, &json!("CIRCUIT_OPEN")));

    // Two successful probes close it; a half-open breaker would refuse a third call.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for i in 0..5 {
        let (s, _, body) = get(&g, "/slow?ms=0", &[], "x").await?;
        assert_eq!((s, body), (200, json!("done after 0ms")), "call {i}");
    }
    g.stop().await;
    Ok(())
}

/// A route concurrency limit: with two slow calls in flight the others are refused at once
/// with CONCURRENCY_LIMIT; other routes pass; once the calls finish, requests pass again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limit_refuses_excess_requests() -> Result<()> {
    let p = RustProvider::start("p1", None)?;
    let api = user_routes(&[
        (
            "/slow",
            "[{ name: tianlu.filter.http.concurrency, config: { max: 2 } }]",
            "slow",
            "[int]",
            "[{ name: queryStrings.ms, mapTo: 0 }]",
            "10s",
        ),
        ("/whoami", "[]", "whoAmI", "[]", "[]", "5s"),
    ]);
    let g = Gateway::start("concurrency", &conf("", p.addr), &api).await?;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..4 {
        let (url, tx) = (g.url("/slow?ms=4000"), tx.clone());
        tokio::spawn(async move {
            let result = async {
                let resp = client().get(url).send().await?;
                let status = resp.status().as_u16();
                let body: Value = resp.json().await?;
                anyhow::Ok((status, body))
            }
            .await;
            let _ = tx.send(result.map_err(|e| e.to_string()));
        });
    }
    drop(tx);
    // The two refused requests come back at once, while the other two are still running.
    for _ in 0..2 {
        let (s, body) = rx
            .recv()
            .await
            .expect("an answer")
            .map_err(anyhow::Error::msg)?;
        assert_eq!(
            (s, &body["code"]),
            (503, &json!("CONCURRENCY_LIMIT")),
            "{body}"
        );
        assert_eq!(body["limit"], json!(2));
    }
    let (s, _, body) = get(&g, "/slow?ms=0", &[], "x").await?;
    assert_eq!(
        (s, &body["code"]),
        (503, &json!("CONCURRENCY_LIMIT")),
        "still full"
    );
    let (s, _, body) = get(&g, "/whoami", &[], "x").await?;
    assert_eq!(
        (s, body),
        (200, json!("p1")),
        "other routes are not limited"
    );
    for _ in 0..2 {
        let (s, body) = rx
            .recv()
            .await
            .expect("an answer")
            .map_err(anyhow::Error::msg)?;
        assert_eq!((s, body), (200, json!("done after 4000ms")));
    }
    for _ in 0..3 {
        let (s, _, body) = get(&g, "/slow?ms=0", &[], "x").await?;
        assert_eq!(
            (s, body),
            (200, json!("done after 0ms")),
            "slots are free again"
        );
    }
    g.stop().await;
    Ok(())
}

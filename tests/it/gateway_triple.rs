//! The real gateway calling the Apache Dubbo 3.3 Java provider over Triple: routes to `tri`
//! endpoints, a cluster mixing one Dubbo2 and one Triple endpoint of the same provider, a direct
//! `requestType: triple` url, business exceptions and the route deadline.

use crate::support::{client, Gateway, API_CONFIG_FILTER, LISTENER_HEAD};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tianlu_testkit::JavaProvider;

fn api(tri: std::net::SocketAddr) -> String {
    format!(
        r#"name: triple
resources:
  - path: /tri/users/{{id}}
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: triple
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: getUser
          clusterName: tri
          parameterTypes: [long]
          mappingParams:
            - {{ name: uri.id, mapTo: 0 }}
  - path: /mixed/users/{{id}}
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: getUser
          clusterName: mixed
          parameterTypes: [long]
          mappingParams:
            - {{ name: uri.id, mapTo: 0 }}
  - path: /direct/echo/:s
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: triple
          url: {tri}
          interface: org.tianlu.interop.TypesService
          method: echoString
          parameterTypes: [java.lang.String]
          mappingParams:
            - {{ name: uri.s, mapTo: 0 }}
  - path: /tri/fail
    methods:
      - httpVerb: POST
        integrationRequest:
          requestType: triple
          interface: org.tianlu.interop.TypesService
          method: fail
          clusterName: tri
          parameterTypes: [java.lang.String]
          mappingParams:
            - {{ name: requestBody.msg, mapTo: 0 }}
  - path: /tri/slow/:ms
    methods:
      - httpVerb: GET
        timeout: 500ms
        integrationRequest:
          requestType: triple
          interface: org.tianlu.interop.TypesService
          method: slow
          clusterName: tri
          parameterTypes: [int]
          mappingParams:
            - {{ name: uri.ms, mapTo: 0 }}
"#
    )
}

fn conf(dubbo: std::net::SocketAddr, tri: std::net::SocketAddr) -> String {
    format!(
        r#"{LISTENER_HEAD}{API_CONFIG_FILTER}              timeout: 10s
  clusters:
    - name: tri
      endpoints:
        - socket_address: {{ address: 127.0.0.1, port: {tp} }}
          protocol: tri
    - name: mixed
      lb_policy: round_robin
      endpoints:
        - socket_address: {{ address: 127.0.0.1, port: {dp} }}
        - socket_address: {{ address: 127.0.0.1, port: {tp} }}
          protocol: tri
admin:
  address: 127.0.0.1
  port: 0
"#,
        tp = tri.port(),
        dp = dubbo.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triple_routes_mixed_clusters_errors_and_deadlines() -> Result<()> {
    let java = JavaProvider::shared()?;
    let tri = java.tri_addr().context("the shared provider serves tri")?;
    let g = Gateway::start("triple", &conf(java.dubbo_addr(), tri), &api(tri)).await?;
    let c = client();

    let over_tri: Value = c.get(g.url("/tri/users/1")).send().await?.json().await?;
    assert_eq!(over_tri["id"], 1, "{over_tri}");
    assert_eq!(over_tri["name"], "alice", "{over_tri}");
    assert!(over_tri.get("class").is_none(), "pixiu shape by default");

    // The same call through a cluster of one Dubbo2 and one Triple endpoint: round robin uses
    // both, each with its own protocol, and the answers are identical.
    for _ in 0..6 {
        let resp = c.get(g.url("/mixed/users/1")).send().await?;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>().await?, over_tri);
    }
    let admin = g.running.as_ref().and_then(|r| r.admin).context("admin")?;
    let metrics = c
        .get(format!("http://{admin}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for ep in [java.dubbo_addr(), tri] {
        let line = format!(
            "tianlu_upstream_calls_total{{cluster=\"mixed\",endpoint=\"{ep}\",outcome=\"ok\"}} 3"
        );
        assert!(metrics.contains(&line), "missing {line}\n{metrics}");
    }

    let echoed: Value = c
        .get(g.url("/direct/echo/中文😀"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(echoed, json!("中文😀"));

    let resp = c
        .post(g.url("/tri/fail"))
        .json(&json!({"msg": "over triple"}))
        .send()
        .await?;
    assert_eq!(resp.status(), 500);
    let body: Value = resp.json().await?;
    assert_eq!(body["code"], "BUSINESS_EXCEPTION", "{body}");
    assert_eq!(
        body["exception"], "org.tianlu.interop.BusinessException",
        "{body}"
    );

    let started = Instant::now();
    let resp = c.get(g.url("/tri/slow/3000")).send().await?;
    assert_eq!(resp.status(), 504);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "answered at the route deadline, not when the provider finished"
    );
    let body: Value = resp.json().await?;
    assert_eq!(body["code"], "UPSTREAM_TIMEOUT");
    let resp = c.get(g.url("/tri/slow/10")).send().await?;
    assert_eq!(
        resp.status(),
        200,
        "the connection still serves after a timeout"
    );
    g.stop().await;
    Ok(())
}

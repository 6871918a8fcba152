//! Retry budgets through the real gateway: two clusters over the same pair of endpoints (one
//! dead port, one Rust sample provider), balanced round robin so that requests keep starting on
//! the dead one (outlier ejection is off, so it stays in). The cluster with a tight budget fails over only as often as its budget allows
//! and answers the rest with the failure; the one with the default budget fails over every time.
//! The counts are read from `/metrics`.

use crate::support::{client, endpoint, Gateway, RustProvider, API_CONFIG_FILTER, LISTENER_HEAD};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use tianlu_testkit::free_port;

const API: &str = r#"name: budget
resources:
  - path: /tight
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: tight
          parameterTypes: []
  - path: /roomy
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: roomy
          parameterTypes: []
"#;

fn conf(dead: SocketAddr, live: SocketAddr) -> String {
    let eps = format!("{}{}", endpoint(dead, 100), endpoint(live, 100));
    format!(
        r#"{LISTENER_HEAD}{API_CONFIG_FILTER}                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      timeout_config: {{ connect_timeout: 1s, request_timeout: 5s }}
                      retries: 2
              timeout: 10s
  clusters:
    - name: tight
      lb_policy: RoundRobin
      retry_budget: {{ ratio: 0, min_retries_per_second: 0.05, ttl: 60s }}
      outlier_detection: {{ consecutive_errors: 0 }}
      endpoints:
{eps}    - name: roomy
      lb_policy: RoundRobin
      outlier_detection: {{ consecutive_errors: 0 }}
      endpoints:
{eps}admin:
  address: 127.0.0.1
  port: 0
"#
    )
}

fn counter(text: &str, series: &str) -> Result<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no {series} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_retry_budget_stops_failover() -> Result<()> {
    let p = RustProvider::start("p1", None)?;
    let dead: SocketAddr = ([127, 0, 0, 1], free_port()?).into();
    let g = Gateway::start("retry-budget", &conf(dead, p.addr), API).await?;
    let admin = format!(
        "http://{}",
        g.running.as_ref().and_then(|r| r.admin).context("admin")?
    );
    let c = client();

    // The default budget (20% + 3/s over 10s) has room for every failover of 12 requests.
    for _ in 0..12 {
        let resp = c.get(g.url("/roomy")).send().await?;
        assert_eq!(resp.status(), 200, "{}", resp.text().await?);
    }
    // The tight budget has 3 retries a minute and nothing per request.
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..24 {
        let resp = c.get(g.url("/tight")).send().await?;
        match resp.status().as_u16() {
            200 => ok += 1,
            s if s >= 500 => failed += 1,
            s => panic!("unexpected {s}: {}", resp.text().await?),
        }
    }
    let text = c
        .get(format!("{admin}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let roomy_retries = counter(&text, "tianlu_retries_total{cluster=\"roomy\"}")?;
    assert!(
        roomy_retries >= 1,
        "round robin starts some requests on the dead port"
    );
    assert_eq!(
        counter(
            &text,
            "tianlu_retry_budget_exhausted_total{cluster=\"roomy\"}"
        )?,
        0
    );
    assert_eq!(
        counter(&text, "tianlu_retries_total{cluster=\"tight\"}")?,
        3,
        "{text}"
    );
    let exhausted = counter(
        &text,
        "tianlu_retry_budget_exhausted_total{cluster=\"tight\"}",
    )?;
    assert!(
        exhausted >= 1,
        "more than 3 of 24 requests start on the dead port: {text}"
    );
    assert_eq!(failed, exhausted, "each refused retry is a failed request");
    assert_eq!(ok + failed, 24);
    g.stop().await;
    Ok(())
}

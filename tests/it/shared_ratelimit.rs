//! The rate-limit filter with `redis`: two gateways, one in the test process and one a separate
//! `tianlu run` process, in front of the Rust sample provider hold one limit together through a
//! real `redis-server` started by tianlu-testkit; when Redis goes away, the `on_failure` policy
//! decides (local buckets, or 503 with `deny`).

use crate::support::{client, endpoint, scratch_dir, Gateway, RustProvider};
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tianlu_testkit::process::ChildGuard;
use tianlu_testkit::{free_port, Redis};

const API: &str = r#"name: shared-limit
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
            - { name: headers.x-user, mapTo: 0 }
"#;

fn conf(redis_url: &str, on_failure: &str, provider: SocketAddr) -> String {
    conf_on(0, redis_url, on_failure, provider)
}

fn conf_on(port: u16, redis_url: &str, on_failure: &str, provider: SocketAddr) -> String {
    format!(
        r#"static_resources:
  listeners:
    - name: test
      protocol_type: HTTP
      address:
        socket_address: {{ address: 127.0.0.1, port: {port} }}
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.ratelimit
                  config:
                    redis: {{ url: "{redis_url}", timeout: 500ms, on_failure: {on_failure} }}
                    rules:
                      - {{ match: {{ prefix: /whoami }}, rate: 6, interval: 1h, burst: 6 }}
                      - {{ match: {{ prefix: /echo }}, rate: 1, interval: 1h, burst: 2, key: "header:x-user" }}
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

/// The `tianlu` binary serving `conf` as its own process, killed by PID when dropped.
struct GatewayProcess {
    base: String,
    _child: ChildGuard,
}

impl GatewayProcess {
    async fn start(tag: &str, port: u16, conf: &str) -> Result<GatewayProcess> {
        let dir = scratch_dir(tag);
        std::fs::write(dir.join("conf.yaml"), conf)?;
        std::fs::write(dir.join("api_config.yaml"), API)?;
        let log = dir.join("stderr.log");
        let mut child = ChildGuard::new(
            Command::new(env!("CARGO_BIN_EXE_tianlu"))
                .args(["run", "-c"])
                .arg(dir.join("conf.yaml"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .spawn()
                .context("spawning tianlu run")?,
        );
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let until = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if child.try_wait()?.is_some() || Instant::now() > until {
                bail!(
                    "tianlu run did not listen on {addr}: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(GatewayProcess {
            base: format!("http://{addr}"),
            _child: child,
        })
    }
}

/// Something that serves HTTP at a base URL.
trait Base {
    fn base(&self) -> &str;
}

impl Base for Gateway {
    fn base(&self) -> &str {
        &self.base
    }
}

impl Base for GatewayProcess {
    fn base(&self) -> &str {
        &self.base
    }
}

/// Status, `Retry-After` and the JSON body.
async fn get(
    g: &(impl Base + ?Sized),
    path: &str,
    user: Option<&str>,
) -> Result<(u16, Option<String>, Value)> {
    let mut req = client().get(format!("{}{path}", g.base()));
    if let Some(u) = user {
        req = req.header("x-user", u);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = resp.text().await?;
    Ok((
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_hold_one_limit_through_redis() -> Result<()> {
    let mut redis = tokio::task::spawn_blocking(Redis::start).await??;
    let p = RustProvider::start("p1", None)?;
    let a = Gateway::start("shared-rl-a", &conf(&redis.url(), "local", p.addr), API).await?;
    let port = free_port()?;
    let b = GatewayProcess::start(
        "shared-rl-b",
        port,
        &conf_on(port, &redis.url(), "local", p.addr),
    )
    .await?;

    // Ten requests, alternating between the gateways: the shared bucket of 6 admits 6 in all
    // (each gateway alone would have admitted all of its 5).
    let mut admitted = 0;
    for i in 0..10 {
        let g: &dyn Base = if i % 2 == 0 { &a } else { &b };
        let (status, retry, body) = get(g, "/whoami", None).await?;
        match status {
            200 => admitted += 1,
            429 => {
                assert_eq!(body["code"], "RATE_LIMITED");
                let secs: u64 = retry.expect("Retry-After").parse()?;
                assert!(
                    (1..=600).contains(&secs),
                    "a token is due within 10 minutes: {secs}"
                );
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(admitted, 6, "one limit for both gateways");

    // Keyed buckets are shared per key too: user a has 2 in all, user b its own 2.
    assert_eq!(get(&a, "/echo", Some("a")).await?.0, 200);
    assert_eq!(get(&b, "/echo", Some("a")).await?.0, 200);
    assert_eq!(get(&a, "/echo", Some("a")).await?.0, 429);
    assert_eq!(get(&b, "/echo", Some("a")).await?.0, 429);
    let (status, _, body) = get(&b, "/echo", Some("b")).await?;
    assert_eq!((status, body), (200, Value::String("b".into())));

    // Redis goes away: on_failure local lets each gateway's own buckets decide (they are full,
    // having not been used), and every such decision is counted.
    redis.stop();
    let before = tianlu::filter::REDIS_FAILURES.load(Ordering::Relaxed);
    let (status, _, body) = get(&a, "/whoami", None).await?;
    assert_eq!(status, 200, "{body}");
    ensure!(
        tianlu::filter::REDIS_FAILURES.load(Ordering::Relaxed) > before,
        "the fallback is counted"
    );
    // The local bucket of 6 still limits this gateway on its own.
    let mut local = 1;
    for _ in 0..7 {
        if get(&a, "/whoami", None).await?.0 == 200 {
            local += 1;
        }
    }
    assert_eq!(local, 6, "the local fallback applies the same rule");

    // A gateway configured to fail closed answers 503 while Redis is down.
    let c = Gateway::start("shared-rl-deny", &conf(&redis.url(), "deny", p.addr), API).await?;
    let (status, _, body) = get(&c, "/whoami", None).await?;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "RATE_LIMITER_UNAVAILABLE");
    for g in [a, c] {
        g.stop().await;
    }
    drop(b);
    Ok(())
}

//! Operations through the real gateway: hot reload under steady load (new routes appear with
//! no failed request; a broken config is refused and the old routes keep serving) and graceful
//! shutdown that finishes every accepted request.

use crate::support::{client, Gateway, RustProvider, API_CONFIG_FILTER, LISTENER_HEAD};
use anyhow::Result;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn conf(p: &RustProvider) -> String {
    format!(
        r#"{LISTENER_HEAD}{API_CONFIG_FILTER}  clusters:
    - name: one
      endpoints:
        - socket_address: {{ address: {}, port: {} }}
  shutdown_config:
    timeout: 5s
admin:
  address: 127.0.0.1
  port: 0
"#,
        p.addr.ip(),
        p.addr.port()
    )
}

fn api(routes: &[(&str, &str, &str)]) -> String {
    let mut out = String::from("name: ops\nresources:\n");
    for (path, method, args) in routes {
        out.push_str(&format!(
            "  - path: {path}\n    methods:\n      - httpVerb: GET\n        integrationRequest:\n          requestType: dubbo\n          interface: org.tianlu.sample.UserService\n          version: 1.0.0\n          method: {method}\n          clusterName: one\n{args}"
        ));
    }
    out
}

const WHOAMI: (&str, &str, &str) = ("/whoami", "whoAmI", "          parameterTypes: []\n");
const USER: (&str, &str, &str) = (
    "/users/{id}",
    "getUser",
    "          parameterTypes: [long]\n          mappingParams:\n            - { name: uri.id, mapTo: 0 }\n",
);
const SLOW: (&str, &str, &str) = (
    "/slow/:ms",
    "slow",
    "          parameterTypes: [int]\n          mappingParams:\n            - { name: uri.ms, mapTo: 0 }\n",
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_under_load_and_bad_configs_are_refused() -> Result<()> {
    let p = RustProvider::start("ops", None)?;
    let g = Gateway::start("reload", &conf(&p), &api(&[WHOAMI])).await?;
    let admin = format!(
        "http://{}",
        g.running.as_ref().and_then(|r| r.admin).expect("admin")
    );
    let c = client();

    // Steady load on the route that exists throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (c, url, stop, ok, failed) = (
            client(),
            g.url("/whoami"),
            Arc::clone(&stop),
            Arc::clone(&ok),
            Arc::clone(&failed),
        );
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match c.get(&url).send().await {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }

    assert_eq!(c.get(g.url("/users/1")).send().await?.status(), 404);
    // A file change adds a route.
    std::fs::write(g.dir.join("api_config.yaml"), api(&[WHOAMI, USER]))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if c.get(g.url("/users/1")).send().await?.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the new route never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A broken file is refused; the old routes keep serving and the error is reported.
    std::fs::write(
        g.dir.join("api_config.yaml"),
        "name: broken\nresources:\n  - path: no-slash\n",
    )?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status: serde_json::Value = c
            .get(format!("{admin}/config"))
            .send()
            .await?
            .json()
            .await?;
        if status["reload"]["failed"].as_u64().unwrap_or(0) >= 1 {
            assert!(
                status["reload"]["last_error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("api_config.yaml"),
                "{status}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broken config was not noticed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.get(g.url("/users/1")).send().await?.status(), 200);
    let resp = c.post(format!("{admin}/reload")).send().await?;
    assert_eq!(
        resp.status(),
        422,
        "an explicit reload of a broken config is refused"
    );

    // Fixed again, reloaded through the admin call.
    std::fs::write(g.dir.join("api_config.yaml"), api(&[WHOAMI]))?;
    let resp: serde_json::Value = c
        .post(format!("{admin}/reload"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(resp["reloaded"], true, "{resp}");
    assert_eq!(c.get(g.url("/users/1")).send().await?.status(), 404);

    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await?;
    }
    assert!(ok.load(Ordering::Relaxed) > 50, "load ran");
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "no request failed across reloads"
    );
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_accepted_requests() -> Result<()> {
    let p = RustProvider::start("drain", None)?;
    let mut g = Gateway::start("drain", &conf(&p), &api(&[SLOW])).await?;
    let url = g.url("/slow/400");
    let mut inflight = Vec::new();
    for _ in 0..6 {
        let (c, url) = (client(), url.clone());
        inflight.push(tokio::spawn(async move {
            let r = c.get(&url).send().await?;
            let status = r.status().as_u16();
            Ok::<_, reqwest::Error>((status, r.text().await?))
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let running = g.running.take().expect("running");
    let addr = running.listeners[0].1;
    let shutdown = tokio::spawn(running.shutdown());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no new connections once shutdown started"
    );
    for t in inflight {
        let (status, body) = t.await??;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, "\"done after 400ms\"");
    }
    shutdown.await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_known_traffic() -> Result<()> {
    let p = RustProvider::start("metrics", None)?;
    let g = Gateway::start("metrics", &conf(&p), &api(&[WHOAMI, USER])).await?;
    let admin = format!(
        "http://{}",
        g.running.as_ref().and_then(|r| r.admin).expect("admin")
    );
    let c = client();
    for _ in 0..3 {
        assert_eq!(c.get(g.url("/whoami")).send().await?.status(), 200);
    }
    assert_eq!(c.get(g.url("/users/999")).send().await?.status(), 500);
    assert_eq!(c.get(g.url("/users/x")).send().await?.status(), 400);
    assert_eq!(c.get(g.url("/nowhere")).send().await?.status(), 404);
    let resp = c.get(format!("{admin}/metrics")).send().await?;
    assert!(resp.headers()["content-type"]
        .to_str()?
        .starts_with("text/plain"));
    let text = resp.text().await?;
    let ep = p.addr.to_string();
    for line in [
        "tianlu_requests_total{listener=\"test\",route=\"GET /whoami\",status=\"200\"} 3"
            .to_string(),
        "tianlu_requests_total{listener=\"test\",route=\"GET /users/{id}\",status=\"500\"} 1"
            .into(),
        "tianlu_requests_total{listener=\"test\",route=\"GET /users/{id}\",status=\"400\"} 1"
            .into(),
        "tianlu_requests_total{listener=\"test\",route=\"<unmatched>\",status=\"404\"} 1".into(),
        "tianlu_request_duration_seconds_count{listener=\"test\",route=\"GET /whoami\"} 3".into(),
        // 3 answers plus the exception (the provider answered); the 400 never left the gateway.
        format!(
            "tianlu_upstream_calls_total{{cluster=\"one\",endpoint=\"{ep}\",outcome=\"ok\"}} 4"
        ),
        format!(
            "tianlu_upstream_calls_total{{cluster=\"one\",endpoint=\"{ep}\",outcome=\"error\"}} 0"
        ),
        format!("tianlu_upstream_connected{{cluster=\"one\",endpoint=\"{ep}\"}} 1"),
        "tianlu_reloads_total{outcome=\"applied\"} 0".into(),
    ] {
        assert!(text.contains(&line), "missing {line}\n{text}");
    }
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_and_trace_context_reach_the_provider() -> Result<()> {
    let p = RustProvider::start("att", None)?;
    let api = "name: att\nresources:\n  - path: /att/:key\n    methods:\n      - httpVerb: GET\n        integrationRequest:\n          requestType: dubbo\n          interface: org.tianlu.sample.EchoService\n          method: attachment\n          clusterName: one\n          parameterTypes: [java.lang.String]\n          mappingParams:\n            - { name: uri.key, mapTo: 0 }\n";
    let g = Gateway::start("att", &conf(&p), api).await?;
    let c = client();
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = c
        .get(g.url("/att/traceparent"))
        .header("traceparent", tp)
        .send()
        .await?;
    assert_eq!(resp.json::<serde_json::Value>().await?, tp);
    let resp = c.get(g.url("/att/tianlu.request_id")).send().await?;
    let id = resp.headers()["x-request-id"].to_str()?.to_string();
    assert_eq!(resp.json::<serde_json::Value>().await?, id.as_str());
    let resp = c.get(g.url("/att/tracestate")).send().await?;
    assert_eq!(
        resp.json::<serde_json::Value>().await?,
        serde_json::Value::Null
    );
    g.stop().await;
    Ok(())
}

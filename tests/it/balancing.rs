//! Load balancing through the real gateway in front of three Rust sample providers: the spread
//! of each policy, consistent hashing that keeps a key on one provider and moves only a dead
//! provider's keys, and a provider crashed under load costing no request that could have been
//! sent elsewhere.

use crate::support::{client, conf_yaml, endpoint, Gateway, RustProvider};
use anyhow::Result;
use std::collections::HashMap;

const WHOAMI_API: &str = r#"name: lb
resources:
  - path: /whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: pool
          parameterTypes: []
"#;

fn providers() -> Result<Vec<RustProvider>> {
    ["p1", "p2", "p3"]
        .iter()
        .map(|n| RustProvider::start(n, None))
        .collect()
}

async fn gateway(
    tag: &str,
    policy_block: &str,
    ps: &[RustProvider],
    weights: &[u32],
) -> Result<Gateway> {
    let mut eps = String::new();
    for (p, w) in ps.iter().zip(weights) {
        eps.push_str(&endpoint(p.addr, *w));
    }
    let clusters = format!("    - name: pool\n{policy_block}      endpoints:\n{eps}");
    Gateway::start(tag, &conf_yaml(&clusters, "5s"), WHOAMI_API).await
}

async fn who(c: &reqwest::Client, g: &Gateway, key: Option<&str>) -> Result<(u16, String)> {
    let mut req = c.get(g.url("/whoami"));
    if let Some(k) = key {
        req = req.header("x-user", k);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await?))
}

async fn spread(g: &Gateway, n: usize) -> Result<HashMap<String, usize>> {
    let c = client();
    let mut counts = HashMap::new();
    for _ in 0..n {
        let (status, body) = who(&c, g, None).await?;
        assert_eq!(status, 200, "{body}");
        let name: String = serde_json::from_str(&body)?;
        *counts.entry(name).or_insert(0) += 1;
    }
    Ok(counts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_spread_as_configured() -> Result<()> {
    let ps = providers()?;

    let g = gateway("rr", "      lb_policy: round_robin\n", &ps, &[1, 5, 9]).await?;
    let counts = spread(&g, 300).await?;
    for p in ["p1", "p2", "p3"] {
        assert_eq!(
            counts.get(p),
            Some(&100),
            "round robin ignores weights: {counts:?}"
        );
    }
    g.stop().await;

    let g = gateway(
        "wrr",
        "      lb_policy: weighted_round_robin\n",
        &ps,
        &[1, 2, 3],
    )
    .await?;
    let counts = spread(&g, 600).await?;
    assert_eq!(
        (counts["p1"], counts["p2"], counts["p3"]),
        (100, 200, 300),
        "{counts:?}"
    );
    g.stop().await;

    let g = gateway("wr", "      lb_policy: WeightRandom\n", &ps, &[1, 1, 4]).await?;
    let counts = spread(&g, 600).await?;
    // Expected 100/100/400; the bounds are about five standard deviations wide.
    assert!(counts["p3"] > 330 && counts["p3"] < 470, "{counts:?}");
    assert!(counts["p1"] > 45 && counts["p1"] < 160, "{counts:?}");
    g.stop().await;

    for policy in ["least_active", "p2c"] {
        let g = gateway(
            policy,
            &format!("      lb_policy: {policy}\n"),
            &ps,
            &[1, 1, 1],
        )
        .await?;
        let counts = spread(&g, 300).await?;
        for p in ["p1", "p2", "p3"] {
            let n = counts.get(p).copied().unwrap_or(0);
            assert!(n > 50, "{policy} must use every idle provider: {counts:?}");
        }
        g.stop().await;
    }
    Ok(())
}

async fn keys_stay_and_only_dead_keys_move(policy: &str) -> Result<()> {
    let mut ps = providers()?;
    let block = format!(
        "      lb_policy: {policy}\n      consistent:\n        hash_key: {{ header: X-User }}\n"
    );
    let g = gateway(policy, &block, &ps, &[1, 1, 1]).await?;
    let c = client();
    let keys: Vec<String> = (0..90).map(|i| format!("user-{i}")).collect();
    let mut owner = HashMap::new();
    for k in &keys {
        let (s1, a) = who(&c, &g, Some(k)).await?;
        let (s2, b) = who(&c, &g, Some(k)).await?;
        assert_eq!((s1, s2), (200, 200));
        assert_eq!(a, b, "{policy}: key {k} must stay on one provider");
        owner.insert(k.clone(), a);
    }
    let used: std::collections::HashSet<&String> = owner.values().collect();
    assert_eq!(used.len(), 3, "{policy}: keys spread over all providers");

    ps[1].kill();
    // Give the gateway a moment to see the connection close; a call written into the dying
    // connection before that is (correctly) not retried, which the load test covers.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let dead = "\"p2\"".to_string();
    for k in &keys {
        let (status, now) = who(&c, &g, Some(k)).await?;
        assert_eq!(status, 200, "{policy}: key {k} after p2 died: {now}");
        if owner[k] == dead {
            assert_ne!(now, dead);
        } else {
            assert_eq!(
                now, owner[k],
                "{policy}: key {k} moved although its provider lives"
            );
        }
    }
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_hash_is_consistent() -> Result<()> {
    keys_stay_and_only_dead_keys_move("ring_hash").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maglev_is_consistent() -> Result<()> {
    keys_stay_and_only_dead_keys_move("MaglevHashing").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_killed_under_load_costs_no_retryable_request() -> Result<()> {
    let mut ps = providers()?;
    let g = gateway("kill", "      lb_policy: random\n", &ps, &[1, 1, 1]).await?;
    let url = g.url("/whoami");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = client();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for _ in 0..60 {
                let resp = c.get(&url).send().await.expect("gateway answers");
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.expect("json");
                out.push((status, body));
            }
            out
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    ps[1].kill();
    let mut ok = 0;
    let mut lost_in_flight = 0;
    for t in tasks {
        for (status, body) in t.await? {
            match status {
                200 => ok += 1,
                // Only calls already sent to p2 when it died may fail: the gateway cannot know
                // whether p2 ran them, so it must not send them again.
                503 if body["code"] == "PROVIDER_CONNECTION_LOST" => lost_in_flight += 1,
                _ => panic!(
                    "request failed although another provider could serve it: {status} {body}"
                ),
            }
        }
    }
    assert!(
        lost_in_flight <= 8,
        "at most one in-flight call per client: {lost_in_flight}"
    );
    assert_eq!(ok + lost_in_flight, 480);
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_take_a_dead_provider_out_before_any_request_fails() -> Result<()> {
    let mut ps = providers()?;
    let block = "      lb_policy: round_robin\n      health_checks:\n        - { protocol: tcp, timeout: 200ms, interval: 100ms, healthy_threshold: 1, unhealthy_threshold: 1 }\n";
    let g = gateway("health", block, &ps, &[1, 1, 1]).await?;
    let counts = spread(&g, 30).await?;
    assert_eq!(counts.len(), 3, "{counts:?}");
    ps[1].kill();
    // A few check rounds; no request is sent meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let c = client();
    for _ in 0..30 {
        let (status, body) = who(&c, &g, None).await?;
        assert_eq!(status, 200, "{body}");
        assert_ne!(body, "\"p2\"");
    }
    // p2 was never even tried: the health check, not a failed call, took it out.
    let p2 = ps[1].addr;
    let rt = g
        .running
        .as_ref()
        .expect("running")
        .shared
        .runtime
        .load_full();
    let snapshot = rt.clusters["pool"].snapshot();
    let ep = snapshot
        .endpoints
        .iter()
        .find(|e| e.addr == p2)
        .expect("p2 in the snapshot");
    assert!(!ep.healthy.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(
        ep.stats.errors.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "no call reached the dead provider"
    );
    // It comes back: the check marks it healthy and it serves again.
    let revived = RustProvider::start("p2", Some(p2))?;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let counts = spread(&g, 30).await?;
    assert_eq!(counts.get("p2"), Some(&10), "{counts:?}");
    drop(revived);
    g.stop().await;
    Ok(())
}

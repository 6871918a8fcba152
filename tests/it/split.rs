//! Canary routing and traffic splits (`integrationRequest.split`) through the real gateway in
//! front of two real Java Dubbo providers: the shared one (`stable` cluster, which also exports
//! group `g2`) and a second JVM named `canary` (`canary` cluster). Header entries send to a
//! group, another cluster or a version; a weight entry sends its share of the rest.

use crate::support::{client, conf_yaml, endpoint, Gateway};
use anyhow::{Context, Result};
use tianlu_testkit::{JavaProvider, ProviderOptions};

const API: &str = r#"name: split
resources:
  - path: /who
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: stable
          parameterTypes: []
          split:
            - { header: x-canary, value: g2, group: g2 }
            - { header: x-canary, value: cluster, cluster: canary }
            - { header: x-version, version: 9.9.9 }
            - { weight: 30, cluster: canary }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_by_header_and_weight_to_groups_versions_and_clusters() -> Result<()> {
    let stable = tokio::task::spawn_blocking(JavaProvider::shared).await??;
    let canary = tokio::task::spawn_blocking(|| {
        JavaProvider::start(ProviderOptions::default().name("canary"))
    })
    .await??;
    let clusters = format!(
        "    - name: stable\n      endpoints:\n{}    - name: canary\n      endpoints:\n{}",
        endpoint(stable.dubbo_addr(), 100),
        endpoint(canary.dubbo_addr(), 100)
    );
    let g = Gateway::start("split", &conf_yaml(&clusters, "10s"), API).await?;
    let c = client();
    let who = |h: Option<(&'static str, &'static str)>| {
        let mut req = c.get(g.url("/who"));
        if let Some((k, v)) = h {
            req = req.header(k, v);
        }
        async move {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await?;
            anyhow::Ok((status, body))
        }
    };

    // Header entries: a provider group, another cluster, a version nobody exports. (A request
    // without a matching header may go to the canary by weight, so the stable provider's name
    // is learnt from its g2 export.)
    let (s, g2) = who(Some(("x-canary", "g2"))).await?;
    assert_eq!(s, 200, "{g2}");
    let stable_name = g2
        .as_str()
        .and_then(|n| n.strip_suffix("@g2"))
        .context("the g2 export answers <name>@g2")?
        .to_string();
    assert_ne!(stable_name, "canary");
    for _ in 0..5 {
        let (s, body) = who(Some(("x-canary", "g2"))).await?;
        assert_eq!((s, &body), (200, &g2));
        let (s, body) = who(Some(("x-canary", "cluster"))).await?;
        assert_eq!((s, body), (200, serde_json::json!("canary")));
    }
    let (s, body) = who(Some(("x-version", "any"))).await?;
    assert!(s >= 500, "no provider exports version 9.9.9: {s} {body}");
    let (s, body) = who(Some(("x-canary", "other"))).await?;
    assert_eq!(s, 200, "{body}");

    // The weight entry: 30% of the other requests go to the canary cluster.
    let mut to_canary = 0;
    for _ in 0..200 {
        let (s, body) = who(None).await?;
        assert_eq!(s, 200, "{body}");
        if body == "canary" {
            to_canary += 1;
        } else {
            assert_eq!(body, stable_name.as_str());
        }
    }
    assert!(
        (30..=90).contains(&to_canary),
        "about 60 of 200 go to the canary: {to_canary}"
    );
    g.stop().await;

    // A split to a cluster that does not exist is a load error naming the key.
    let bad = API.replace(
        "cluster: canary }\n            - { header: x-version",
        "cluster: nowhere }\n            - { header: x-version",
    );
    let err = Gateway::start("split-bad", &conf_yaml(&clusters, "10s"), &bad)
        .await
        .err()
        .context("a split to an unknown cluster must not load")?;
    let text = format!("{err:#}");
    assert!(
        text.contains("split[1].cluster") && text.contains("no cluster named \"nowhere\""),
        "{text}"
    );
    drop(canary);
    Ok(())
}

//! Routes whose providers come from a registry (`dubboProxyConfig.registries`): real Java Dubbo
//! 3.3 providers registering themselves in a real ZooKeeper (interface level) and a real Nacos
//! server (application level), the gateway in front under steady load. A provider that joins
//! gets traffic, one that shuts down stops getting it, the registry going away keeps the last
//! providers serving, and after it comes back new providers are seen again — with no failed
//! request along the way.

use crate::support::{client, one_listener, scratch_dir};
use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tianlu::gateway::Running;
use tianlu_testkit::{JavaProvider, Nacos, ProviderOptions, ZooKeeper};

const API: &str = r#"name: discovered
resources:
  - path: /whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: whoAmI
          parameterTypes: []
  - path: /tri/whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: triple
          interface: org.tianlu.interop.UserService
          version: 1.0.0
          method: whoAmI
          parameterTypes: []
"#;

fn conf(registries: &str) -> String {
    one_listener(
        "discovery",
        &format!(
            r#"                - name: dgp.filter.http.apiconfig
                  config: {{ path: api_config.yaml }}
                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      timeout_config: {{ connect_timeout: 1s, request_timeout: 5s }}
                      retries: 2
                      load_balance: round_robin
                      registries:
{registries}"#
        ),
        "",
        "admin:\n  address: 127.0.0.1\n  port: 0\n",
    )
}

/// A gateway started from `conf` and [`API`].
async fn gateway(tag: &str, conf: &str) -> Result<(Running, String)> {
    let dir = scratch_dir(tag);
    std::fs::write(dir.join("conf.yaml"), conf)?;
    std::fs::write(dir.join("api_config.yaml"), API)?;
    let running = tianlu::gateway::start(&dir.join("conf.yaml"))
        .await
        .context("starting the gateway")?;
    let base = format!("http://{}", running.listeners[0].1);
    Ok((running, base))
}

/// Logs to the test output when `TIANLU_TEST_LOG` holds a filter (e.g. `tianlu=debug`).
fn init_logs() {
    if let Ok(filter) = std::env::var("TIANLU_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

fn provider(registry: &str, name: &str, mode: &str) -> ProviderOptions {
    let mut opts = ProviderOptions::default()
        .with_tri()
        .app(format!("disc-{name}"))
        .name(name)
        .registry(registry);
    // No warm-up ramp for the joining provider (Dubbo's default is 10 minutes of reduced
    // weight), so that "gets traffic" is visible within a few requests.
    opts.jvm_args.push("-Ddubbo.provider.warmup=0".into());
    opts.args = vec!["--register-mode".into(), mode.into()];
    opts.ready_timeout = Duration::from_secs(180);
    opts
}

async fn start(opts: ProviderOptions) -> Result<JavaProvider> {
    tokio::task::spawn_blocking(move || JavaProvider::start(opts))
        .await
        .context("provider start task")?
}

fn sigterm(pid: u32) -> Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("running kill -TERM")?;
    ensure!(status.success(), "kill -TERM {pid} failed: {status}");
    Ok(())
}

/// Steady traffic on one path: every answer's provider name with its time, and every failure.
struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(Instant, String)>>>,
    failures: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(url: String) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let (s, se, f) = (Arc::clone(&stop), Arc::clone(&seen), Arc::clone(&failures));
        let task = tokio::spawn(async move {
            let c = client();
            while !s.load(Ordering::Relaxed) {
                match c.get(&url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let name: String = r.json().await.unwrap_or_default();
                        se.lock().unwrap().push((Instant::now(), name));
                    }
                    Ok(r) => {
                        let status = r.status();
                        let body = r.text().await.unwrap_or_default();
                        f.lock().unwrap().push(format!("{status}: {body}"));
                    }
                    Err(e) => f.lock().unwrap().push(format!("transport: {e}")),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        Load {
            stop,
            seen,
            failures,
            task,
        }
    }

    /// Waits until `name` answers after `since`; returns how long after `since`.
    async fn until_seen(&self, name: &str, since: Instant, timeout: Duration) -> Result<Duration> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((t, _)) = self
                .seen
                .lock()
                .unwrap()
                .iter()
                .find(|(t, n)| *t >= since && n == name)
            {
                return Ok(t.duration_since(since));
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} got no traffic within {timeout:?}; {}",
                    self.recent()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `name` has had no traffic for `quiet`; returns when its last answer was,
    /// counted from `since`.
    async fn until_gone(
        &self,
        name: &str,
        since: Instant,
        quiet: Duration,
        timeout: Duration,
    ) -> Result<Duration> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = self
                .seen
                .lock()
                .unwrap()
                .iter()
                .rev()
                .find(|(_, n)| n == name)
                .map(|(t, _)| *t);
            let now = Instant::now();
            match last {
                Some(t) if now.duration_since(t) < quiet => {}
                Some(t) => return Ok(t.saturating_duration_since(since)),
                None => return Ok(Duration::ZERO),
            }
            if now > deadline {
                bail!(
                    "{name} still gets traffic after {timeout:?}; {}",
                    self.recent()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The providers that answered in the last `window`, with counts.
    fn answering(&self, window: Duration) -> BTreeMap<String, usize> {
        let now = Instant::now();
        let mut out = BTreeMap::new();
        for (t, n) in self.seen.lock().unwrap().iter() {
            if now.duration_since(*t) <= window {
                *out.entry(n.clone()).or_insert(0) += 1;
            }
        }
        out
    }

    fn recent(&self) -> String {
        format!(
            "answering in the last 2s: {:?}; failures: {:?}",
            self.answering(Duration::from_secs(2)),
            self.failures.lock().unwrap()
        )
    }

    fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }

    async fn stop(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        let n = self.seen.lock().unwrap().len();
        (n, self.failures.lock().unwrap().clone())
    }
}

async fn metrics(running: &Running) -> Result<String> {
    let admin = running.admin.context("admin address")?;
    Ok(client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await?
        .text()
        .await?)
}

/// Join, leave, outage and recovery with one registry; `outage` stops the registry and
/// `recover` brings it back.
async fn lifecycle(
    (registry_url, mode): (&str, &str),
    running: &Running,
    base: &str,
    outage: impl FnOnce() -> Result<()>,
    recover: impl FnOnce() -> Result<()>,
    provider_names: [&str; 4],
    mut first: Vec<JavaProvider>,
) -> Result<()> {
    let [a, b, c, d] = provider_names;
    let load = Load::start(format!("{base}/whoami"));
    let t0 = Instant::now();
    load.until_seen(a, t0, Duration::from_secs(20)).await?;
    load.until_seen(b, t0, Duration::from_secs(20)).await?;

    // Triple: the route that asks for it reaches the tri:// providers the registry lists.
    let tri = client().get(format!("{base}/tri/whoami")).send().await?;
    ensure!(tri.status().is_success(), "tri route: {}", tri.status());
    let who: String = tri.json().await?;
    ensure!(who == a || who == b, "tri route answered {who}");

    // A third provider joins.
    let joined = start(provider(registry_url, c, mode)).await?;
    let ready = Instant::now();
    let took = load.until_seen(c, ready, Duration::from_secs(20)).await?;
    eprintln!("[{mode}] {c} got traffic {took:?} after its READY line");

    // The first one shuts down gracefully (Dubbo unregisters, then drains).
    let stopping = Instant::now();
    sigterm(first[0].pid())?;
    let gone = load
        .until_gone(a, stopping, Duration::from_secs(2), Duration::from_secs(30))
        .await?;
    eprintln!("[{mode}] {a} got its last request {gone:?} after SIGTERM");
    ensure!(
        load.failures().is_empty(),
        "failed requests around join/leave: {:?}",
        load.failures()
    );

    // The registry goes away: the last known providers keep serving.
    outage()?;
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let answering = load.answering(Duration::from_secs(3));
    ensure!(
        answering.contains_key(b) && answering.contains_key(c),
        "with the registry down, {b} and {c} should keep answering: {answering:?}"
    );
    ensure!(
        load.failures().is_empty(),
        "failed requests during the registry outage: {:?}",
        load.failures()
    );
    let m = metrics(running).await?;
    ensure!(
        m.contains("tianlu_registry_connected{registry=\"reg\"} 0"),
        "the registry gauge should say disconnected:\n{m}"
    );

    // It comes back; a new provider registered after that is seen.
    recover()?;
    eprintln!("[{mode}] registry back after {:?}", down.elapsed());
    let late = start(provider(registry_url, d, mode)).await?;
    let ready = Instant::now();
    let took = load.until_seen(d, ready, Duration::from_secs(60)).await?;
    eprintln!("[{mode}] {d} (after the outage) got traffic {took:?} after its READY line");

    let (n, failures) = load.stop().await;
    ensure!(failures.is_empty(), "failed requests: {failures:?}");
    ensure!(n > 100, "only {n} requests were made");
    let m = metrics(running).await?;
    ensure!(
        m.contains("tianlu_registry_connected{registry=\"reg\"} 1"),
        "the registry gauge should say connected again:\n{m}"
    );
    ensure!(
        m.contains("tianlu_registry_changes_total{cluster=\"registry:reg/org.tianlu.interop.UserService:1.0.0"),
        "registry changes are counted:\n{m}"
    );
    // Discovered endpoints have their gauges like static ones.
    ensure!(
        m.contains("cluster=\"registry:reg/org.tianlu.interop.UserService:1.0.0\",endpoint="),
        "discovered endpoints have gauges:\n{m}"
    );
    first.push(joined);
    first.push(late);
    for mut p in first {
        p.stop();
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_interface_level_providers_join_leave_and_survive_an_outage() -> Result<()> {
    let zk = Arc::new(Mutex::new(
        tokio::task::spawn_blocking(ZooKeeper::start).await??,
    ));
    let (url, connect) = {
        let z = zk.lock().unwrap();
        (z.registry_url(), z.connect_string())
    };
    let first = vec![
        start(provider(&url, "zk-a", "interface")).await?,
        start(provider(&url, "zk-b", "interface")).await?,
    ];
    let registries = format!(
        "                        reg: {{ protocol: zookeeper, address: \"{connect}\", timeout: 5s }}"
    );
    let (running, base) = gateway("disc-zk", &conf(&registries)).await?;
    let (z1, z2) = (Arc::clone(&zk), Arc::clone(&zk));
    let result = lifecycle(
        (&url, "interface"),
        &running,
        &base,
        move || {
            z1.lock().unwrap().stop();
            Ok(())
        },
        move || z2.lock().unwrap().restart(),
        ["zk-a", "zk-b", "zk-c", "zk-d"],
        first,
    )
    .await;
    running.shutdown().await;
    if let Err(e) = &result {
        eprintln!("ZooKeeper log tail:\n{}", zk.lock().unwrap().log_tail(30));
        return Err(anyhow::anyhow!("{e:#}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nacos_application_level_providers_join_leave_and_survive_an_outage() -> Result<()> {
    init_logs();
    let nacos = Arc::new(Mutex::new(
        tokio::task::spawn_blocking(Nacos::start).await??,
    ));
    let (url, addr) = {
        let n = nacos.lock().unwrap();
        (n.registry_url(), n.server_addr())
    };
    let first = vec![
        start(provider(&url, "nc-a", "instance")).await?,
        start(provider(&url, "nc-b", "instance")).await?,
    ];
    let registries = format!(
        "                        reg: {{ protocol: nacos, address: \"{addr}\", registry_type: application, timeout: 10s }}"
    );
    let (running, base) = gateway("disc-nacos", &conf(&registries)).await?;
    let (n1, n2) = (Arc::clone(&nacos), Arc::clone(&nacos));
    let result = lifecycle(
        (&url, "instance"),
        &running,
        &base,
        move || {
            n1.lock().unwrap().stop();
            Ok(())
        },
        move || n2.lock().unwrap().restart(),
        ["nc-a", "nc-b", "nc-c", "nc-d"],
        first,
    )
    .await;
    running.shutdown().await;
    if let Err(e) = &result {
        eprintln!("Nacos log tail:\n{}", nacos.lock().unwrap().log_tail(30));
        return Err(anyhow::anyhow!("{e:#}"));
    }
    Ok(())
}

/// A route without clusterName or url on a listener without registries is a config error
/// naming the route.
#[tokio::test]
async fn a_route_without_cluster_url_or_registries_is_refused() -> Result<()> {
    let dir = scratch_dir("disc-none");
    let conf = conf("                        {}").replace("registries:\n", "registries:");
    std::fs::write(dir.join("conf.yaml"), conf)?;
    std::fs::write(dir.join("api_config.yaml"), API)?;
    let Err(e) = tianlu::gateway::start(&dir.join("conf.yaml")).await else {
        bail!("the gateway started without any provider source");
    };
    let msg = format!("{e:#}");
    ensure!(
        msg.contains("GET /whoami") && msg.contains("registries"),
        "{msg}"
    );
    Ok(())
}

/// `registration`: the gateway's own instance appears in Nacos with its port and metadata once
/// it started, and is gone right after a graceful shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_registers_itself_in_nacos_and_leaves_on_shutdown() -> Result<()> {
    let nacos = tokio::task::spawn_blocking(Nacos::shared).await??;
    let dir = scratch_dir("disc-selfreg");
    let conf = one_listener(
        "public",
        "                - name: dgp.filter.http.apiconfig\n                  config: { path: api_config.yaml }",
        "",
        &format!(
            "registration:\n  protocol: nacos\n  address: \"{}\"\n  service: tianlu-selfreg\n  metadata: {{ zone: test-a }}\n",
            nacos.server_addr()
        ),
    );
    std::fs::write(dir.join("conf.yaml"), conf)?;
    std::fs::write(
        dir.join("api_config.yaml"),
        "name: x\nresources:\n  - path: /x\n    methods:\n      - httpVerb: GET\n        integrationRequest: { interface: a.B, method: c, url: \"127.0.0.1:9\", parameterTypes: [] }\n",
    )?;
    let running = tianlu::gateway::start(&dir.join("conf.yaml")).await?;
    let port = running.listeners[0].1.port();
    let listed = |want: bool| async move {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let json = tokio::task::spawn_blocking(|| {
                Nacos::shared()?.instance_list_json("tianlu-selfreg", "DEFAULT_GROUP")
            })
            .await??;
            let v: serde_json::Value = serde_json::from_str(&json)?;
            let hosts = v["hosts"].as_array().cloned().unwrap_or_default();
            let mine = hosts
                .iter()
                .find(|h| h["port"].as_u64() == Some(u64::from(port)))
                .cloned();
            if mine.is_some() == want {
                return Ok::<_, anyhow::Error>(mine);
            }
            if Instant::now() > deadline {
                bail!(
                    "instance on port {port} listed = {}, wanted {want}: {json}",
                    !want
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let me = listed(true).await?.context("listed")?;
    ensure!(me["ip"] == "127.0.0.1", "{me}");
    ensure!(me["metadata"]["zone"] == "test-a", "{me}");
    ensure!(
        me["metadata"]["tianlu.listeners"]
            .as_str()
            .is_some_and(|l| l.contains(&format!("public=127.0.0.1:{port}"))),
        "{me}"
    );
    ensure!(
        me["metadata"]["tianlu.version"] == env!("CARGO_PKG_VERSION"),
        "{me}"
    );
    let stopped = Instant::now();
    running.shutdown().await;
    listed(false).await?;
    eprintln!(
        "gone from Nacos {:?} after shutdown began",
        stopped.elapsed()
    );
    Ok(())
}

fn sample_api(path: &str, provider: std::net::SocketAddr) -> String {
    format!(
        r#"name: from-nacos
resources:
  - path: {path}
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          url: "dubbo://{provider}"
          parameterTypes: []
"#
    )
}

async fn status_of(url: String) -> Result<u16> {
    Ok(client().get(url).send().await?.status().as_u16())
}

async fn wait_status(url: &str, want: u16, timeout: Duration) -> Result<Duration> {
    let t = Instant::now();
    loop {
        let got = status_of(url.to_owned()).await?;
        if got == want {
            return Ok(t.elapsed());
        }
        if t.elapsed() > timeout {
            bail!("{url} answered {got}, wanted {want}, after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// api_config from a Nacos config: served at start, a change applies without a restart, a
/// broken change is refused and the last good routes keep serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_config_from_nacos_reloads_on_change_and_keeps_the_last_good() -> Result<()> {
    init_logs();
    let nacos = tokio::task::spawn_blocking(Nacos::shared).await??;
    let provider = crate::support::RustProvider::start("from-nacos", None)?;
    let data_id = format!("tianlu-api-{}", std::process::id());
    nacos.publish_config(&data_id, "TIANLU", &sample_api("/v1/whoami", provider.addr))?;
    let dir = scratch_dir("disc-nacos-api");
    let conf = one_listener(
        "public",
        &format!(
            "                - name: dgp.filter.http.apiconfig\n                  config:\n                    nacos: {{ address: \"{}\", data_id: {data_id}, group: TIANLU }}\n                - name: dgp.filter.http.dubboproxy\n                  config: {{}}",
            nacos.server_addr()
        ),
        "",
        "",
    );
    std::fs::write(dir.join("conf.yaml"), &conf)?;

    // `tianlu validate` reads it from Nacos too.
    let conf_path = dir.join("conf.yaml");
    let report =
        tokio::task::spawn_blocking(move || tianlu::cli::validate::validate(&conf_path)).await?;
    ensure!(report.ok, "validate: {:?}", report.lines);

    let running = tianlu::gateway::start(&dir.join("conf.yaml")).await?;
    let base = format!("http://{}", running.listeners[0].1);
    let v1 = format!("{base}/v1/whoami");
    let v2 = format!("{base}/v2/whoami");
    ensure!(status_of(v1.clone()).await? == 200, "v1 served at start");

    nacos.publish_config(&data_id, "TIANLU", &sample_api("/v2/whoami", provider.addr))?;
    let took = wait_status(&v2, 200, Duration::from_secs(15)).await?;
    eprintln!("the changed api_config served {took:?} after publishing");
    ensure!(status_of(v1.clone()).await? == 404, "v1 removed");

    let failed_before = running.reloader.status().failed;
    nacos.publish_config(
        &data_id,
        "TIANLU",
        "name: broken\nresources:\n  - path: /v3\n    methods: [{httpVerb: GET, integrationRequest: {interface: a.B, method: c}}]\n",
    )?;
    let t = Instant::now();
    while running.reloader.status().failed == failed_before {
        ensure!(
            t.elapsed() < Duration::from_secs(15),
            "the broken change was not noticed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = running.reloader.status();
    let error = status.last_error.unwrap_or_default();
    ensure!(
        error.contains(&format!("TIANLU/{data_id}")) && error.contains("GET /v3"),
        "the refusal names the Nacos config and the route: {error}"
    );
    ensure!(status_of(v2.clone()).await? == 200, "v2 still served");
    running.shutdown().await;
    nacos.remove_config(&data_id, "TIANLU")?;
    Ok(())
}

/// Routes from registry metadata (`dgp.adapter.dubboregistrycenter`): no route is written by
/// hand; each method of an allowed interface answers at `POST /{application}/{interface}/{method}`
/// with types from the provider's service definition, in pixiu's `{types, values}` form or as
/// a typed body, and a provider of another application that joins gets its routes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_from_registry_metadata_need_no_parameter_types() -> Result<()> {
    init_logs();
    let zk = tokio::task::spawn_blocking(ZooKeeper::shared).await??;
    let url = format!("{}?group=adapt", zk.registry_url());
    let mut first = start(provider(&url, "ad-a", "all")).await?;
    let conf = one_listener(
        "generated",
        "                - name: dgp.filter.http.apiconfig
                  config: { dynamic: true, dynamic_adapter: dubbo }
                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      timeout_config: { connect_timeout: 1s, request_timeout: 5s }",
        &format!(
            "  adapters:
    - id: dubbo
      name: dgp.adapter.dubboregistrycenter
      config:
        registries:
          zk: {{ protocol: zookeeper, address: \"{}\", group: adapt, timeout: 10s }}
        interfaces: [org.tianlu.interop.UserService]
",
            zk.connect_string()
        ),
        "",
    );
    let dir = scratch_dir("disc-adapter");
    std::fs::write(dir.join("conf.yaml"), &conf)?;
    let running = tianlu::gateway::start(&dir.join("conf.yaml")).await?;
    let base = format!("http://{}", running.listeners[0].1);
    let c = client();
    let post = |path: &str, body: Option<serde_json::Value>| {
        let mut req = c.post(format!("{base}{path}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let r = req.send().await?;
            let status = r.status().as_u16();
            let text = r.text().await?;
            Ok::<_, anyhow::Error>((
                status,
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or(serde_json::Value::String(text)),
            ))
        }
    };
    const U: &str = "/disc-ad-a/org.tianlu.interop.UserService";

    let (s, who) = post(&format!("{U}/whoAmI"), None).await?;
    ensure!(s == 200 && who == "ad-a", "whoAmI: {s} {who}");
    // Typed body: the argument itself, typed `long` from the service definition.
    let (s, alice) = post(&format!("{U}/getUser"), Some(serde_json::json!(1))).await?;
    ensure!(
        s == 200 && alice["name"] == "alice",
        "getUser typed: {s} {alice}"
    );
    // pixiu's form.
    let (s, again) = post(
        &format!("{U}/getUser"),
        Some(serde_json::json!({"types": "long", "values": [1]})),
    )
    .await?;
    ensure!(
        s == 200 && again == alice,
        "getUser pixiu form: {s} {again}"
    );
    // Two arguments, as an array.
    let (s, list) = post(&format!("{U}/listUsers"), Some(serde_json::json!(["", 1]))).await?;
    ensure!(
        s == 200 && list.as_array().is_some_and(|l| l.len() == 1),
        "listUsers: {s} {list}"
    );
    // Types that the provider does not declare are refused before any call.
    let (s, e) = post(
        &format!("{U}/getUser"),
        Some(serde_json::json!({"types": ["com.evil.Gadget"], "values": [{}]})),
    )
    .await?;
    ensure!(
        s == 400
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("getUser(long)")),
        "undeclared types: {s} {e}"
    );
    let (s, e) = post(&format!("{U}/getUser"), Some(serde_json::json!([1, 2]))).await?;
    ensure!(s == 400, "wrong arity: {s} {e}");
    // The qualified path reaches the g2 group.
    let (s, who) = post(
        "/disc-ad-a/g2/org.tianlu.interop.UserService/1.0.0/whoAmI",
        None,
    )
    .await?;
    ensure!(s == 200 && who == "ad-a@g2", "g2 whoAmI: {s} {who}");
    // Interfaces outside the allowlist get no routes.
    let (s, _) = post(
        "/disc-ad-a/org.tianlu.interop.TypesService/echoString",
        Some(serde_json::json!("x")),
    )
    .await?;
    ensure!(s == 404, "TypesService must not be routed: {s}");

    // Another application registers: its routes appear.
    let mut second = start(provider(&url, "ad-b", "all")).await?;
    let t = Instant::now();
    loop {
        let (s, who) = post("/disc-ad-b/org.tianlu.interop.UserService/whoAmI", None).await?;
        if s == 200 && who == "ad-b" {
            break;
        }
        ensure!(
            t.elapsed() < Duration::from_secs(30),
            "ad-b routes: {s} {who}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "routes of a new application served {:?} after its READY line",
        t.elapsed()
    );
    running.shutdown().await;
    first.stop();
    second.stop();
    Ok(())
}

//! Nacos discovery, self-registration and config against a real Nacos-compatible server
//! (rnacos) and real Java Dubbo 3.3.6 providers (nacos-client 2.4.3, gRPC).
//!
//! One rnacos is shared by the tests of this binary (each test uses its own Nacos group); the
//! outage test runs its own server because it stops it. A missing rnacos is installed into
//! `<repo>/.cache/rnacos` by the testkit (about 16 minutes, once).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use common::*;
use tianlu_registry::nacos::provider_service_name;
use tianlu_registry::register::META_LISTENERS;
use tianlu_registry::{
    Discover, InstanceSet, NacosConfig, NacosConfigSource, NacosDiscover, NacosRegistration,
    Protocol, RegistryMode, RegistryStatus, SelfInstance, ServiceKey,
};
use tianlu_testkit::zookeeper::ScratchDir;
use tianlu_testkit::Nacos;

const USER: &str = "org.tianlu.interop.UserService";

/// How long after the server's instance list changed a watch must have the change: 1 s for us
/// plus rnacos' own push batching (a subscriber push waits 500 ms and is sent on a 500 ms tick,
/// `naming_delay_nofity.rs`), measured at 0.07-0.99 s on this machine.
const PUSH_BOUND: Duration = Duration::from_millis(1500);

async fn shared_nacos() -> anyhow::Result<&'static Nacos> {
    tokio::task::spawn_blocking(Nacos::shared).await?
}

/// A disk-cache directory for nacos-sdk that lives as long as the test binary.
fn cache_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<ScratchDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| ScratchDir::new("nacos-sdk-cache").expect("scratch dir"))
        .path()
        .to_path_buf()
}

fn config(server: &str, group: &str, mode: RegistryMode) -> NacosConfig {
    let mut cfg = NacosConfig::new(server).with_mode(mode).with_group(group);
    cfg.cache_dir = Some(cache_dir());
    cfg.probe_interval = Duration::from_millis(500);
    cfg
}

fn user_key() -> ServiceKey {
    ServiceKey::new(USER).with_version("1.0.0")
}

/// The instances of `service` in `group` through the open API: `(ip:port, metadata)`.
fn http_instances(
    nacos: &Nacos,
    service: &str,
    group: &str,
) -> anyhow::Result<Vec<(String, BTreeMap<String, String>)>> {
    let text = nacos.instance_list_json(service, group)?;
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| text.clone())?;
    let hosts = json
        .get("hosts")
        .and_then(|h| h.as_array())
        .cloned()
        .unwrap_or_default();
    Ok(hosts
        .iter()
        .map(|h| {
            let ip = h.get("ip").and_then(|v| v.as_str()).unwrap_or("");
            let port = h.get("port").and_then(|v| v.as_u64()).unwrap_or(0);
            let meta = h
                .get("metadata")
                .and_then(|m| m.as_object())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default();
            (format!("{ip}:{port}"), meta)
        })
        .collect())
}

/// (a): providers registered with `--register-mode interface|instance|all` in Nacos are seen by
/// the watcher of the matching layout(s), with the right address, protocol, version, group,
/// weight and methods (application level: mapping config + app service + MetadataService).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_modes_are_seen_by_the_matching_watchers() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let nacos = shared_nacos().await?;
    let group = "modes";
    let url = format!("{}?group={group}", nacos.registry_url());
    let providers = start_providers(vec![
        provider_options(&url, "nacos-modes-iface", "interface", &[]),
        provider_options(
            &url,
            "nacos-modes-inst",
            "instance",
            &["--metadata-protocol", "dubbo"],
        ),
        provider_options(&url, "nacos-modes-all", "all", &[]),
    ])
    .await?;
    let [iface, inst, all] = providers.as_slice() else {
        bail!("three providers expected")
    };
    eprintln!("providers up after {:?}", started.elapsed());
    // What the Java provider wrote, as seen through the open API.
    let registered = http_instances(
        nacos,
        &provider_service_name(USER, Some("1.0.0"), None),
        group,
    )?;
    ensure!(
        registered.len() == 4,
        "interface-level instances: {registered:?}"
    );
    let apps = http_instances(nacos, "nacos-modes-inst", group)?;
    ensure!(
        apps.len() == 1 && apps[0].1.contains_key("dubbo.metadata.revision"),
        "{apps:?}"
    );

    let cases: [(RegistryMode, Vec<_>, Vec<_>); 3] = [
        (RegistryMode::Interface, vec![iface, all], vec![inst]),
        (RegistryMode::Application, vec![inst, all], vec![iface]),
        (RegistryMode::All, vec![iface, inst, all], vec![]),
    ];
    for (mode, present, absent) in cases {
        let t = Instant::now();
        let discover = NacosDiscover::new(config(&nacos.server_addr(), group, mode)).await?;
        let mut watch = discover.watch(&user_key());
        let mut set = InstanceSet::new();
        let want: Vec<u16> = present
            .iter()
            .flat_map(|p| {
                let (d, t) = provider_ports(p);
                [d, t]
            })
            .collect();
        let (list, _) = wait_for(
            &mut watch,
            &mut set,
            Duration::from_secs(30),
            &format!("{mode:?} watcher"),
            |l| want.iter().all(|p| ports(l).contains(p)),
        )
        .await?;
        for p in &present {
            check_user_service(&list, p).with_context(|| format!("{mode:?}"))?;
        }
        for p in &absent {
            let (d, t) = provider_ports(p);
            ensure!(
                on_port(&list, d).is_empty() && on_port(&list, t).is_empty(),
                "{mode:?} watcher saw a provider registered only in the other layout: {}",
                describe(&list)
            );
        }
        ensure!(list.len() == want.len(), "{mode:?}: {}", describe(&list));
        eprintln!(
            "{mode:?} watcher: {} instances in {:?}",
            list.len(),
            t.elapsed()
        );
        if mode == RegistryMode::Application {
            // Parameter types come from the metadata report (config group = registry group).
            let def = discover
                .service_definition(USER, Some("1.0.0"), None, "nacos-modes-inst")
                .await?
                .context("no service definition in the Nacos metadata report")?;
            let list_users = def.methods_named("listUsers").next().context("listUsers")?;
            ensure!(
                list_users.parameter_types == ["java.lang.String", "int"],
                "{def:?}"
            );
            ensure!(discover
                .service_definition(USER, Some("9"), None, "nacos-modes-inst")
                .await?
                .is_none());
            let apps = discover.applications(USER).await?;
            ensure!(
                apps.contains(&"nacos-modes-inst".to_string())
                    && apps.contains(&"nacos-modes-all".to_string()),
                "mapping: {apps:?}"
            );
        }
    }

    // Wildcard group: the service list is scanned for providers:{interface}:1.0.0:*.
    let discover =
        NacosDiscover::new(config(&nacos.server_addr(), group, RegistryMode::Interface)).await?;
    let mut watch = discover.watch(&user_key().with_group("*"));
    let mut set = InstanceSet::new();
    let (list, _) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(30),
        "any group",
        |l| l.len() == 8,
    )
    .await?;
    ensure!(
        list.iter()
            .filter(|i| i.group.as_deref() == Some("g2"))
            .count()
            == 4
    );
    eprintln!("register_modes: {:?}", started.elapsed());
    Ok(())
}

/// Polls the open API for the ports registered under `service` and records, per port, when it
/// first appeared and when it went.
fn observe(nacos: &'static Nacos, service: String, group: String) -> Seen {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    std::thread::spawn(move || loop {
        if Arc::strong_count(&sink) == 1 {
            return;
        }
        if let Ok(list) = http_instances(nacos, &service, &group) {
            let now = Instant::now();
            let present: Vec<u16> = list
                .iter()
                .filter_map(|(addr, _)| addr.rsplit(':').next()?.parse().ok())
                .collect();
            let mut map = sink.lock().unwrap();
            for port in &present {
                let entry = map.entry(*port).or_default();
                entry.0.get_or_insert(now);
                entry.1 = None;
            }
            for (port, entry) in map.iter_mut() {
                if !present.contains(port) && entry.0.is_some() && entry.1.is_none() {
                    entry.1 = Some(now);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    });
    seen
}

/// (b): a second and third provider join and one leaves (clean stop), one is killed: each
/// change reaches the watcher within 1 s of the server's instance list changing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_joining_and_leaving_are_seen_within_a_second() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let nacos = shared_nacos().await?;
    let group = "churn";
    let url = format!("{}?group={group}", nacos.registry_url());
    let service = provider_service_name(USER, Some("1.0.0"), None);
    let seen = observe(nacos, service, group.to_string());
    let discover =
        NacosDiscover::new(config(&nacos.server_addr(), group, RegistryMode::Interface)).await?;
    let mut watch = discover.watch(&user_key());
    let mut set = InstanceSet::new();
    let mut providers = Vec::new();
    let mut report = Vec::new();
    let lag_of =
        |port_a: u16, port_b: u16, at: Instant, joined: bool| -> anyhow::Result<Duration> {
            let map = seen.lock().unwrap();
            let pick = |p: u16| map.get(&p).and_then(|e| if joined { e.0 } else { e.1 });
            let when = pick(port_a)
                .into_iter()
                .chain(pick(port_b))
                .max()
                .context("the observer did not see the change")?;
            Ok(at.saturating_duration_since(when))
        };
    for n in 1..=3 {
        let p = start_provider(provider_options(
            &url,
            &format!("nacos-churn-{n}"),
            "interface",
            &[],
        ))
        .await?;
        let (d, t) = provider_ports(&p);
        let (_, at) = wait_for(
            &mut watch,
            &mut set,
            Duration::from_secs(10),
            &format!("provider {n}"),
            |l| ports(l).contains(&d) && ports(l).contains(&t),
        )
        .await?;
        // Give the observer one more poll to have seen it too.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let lag = lag_of(d, t, at, true)?;
        report.push(format!("join {n}: {lag:?}"));
        ensure!(
            lag < PUSH_BOUND,
            "provider {n} seen {lag:?} after the server listed it"
        );
        ensure!(set.len() == 2 * n, "{}", describe(&set.to_vec()));
        providers.push(p);
    }

    let leaving = providers.remove(1);
    let (d, t) = provider_ports(&leaving);
    sigterm(leaving.pid())?;
    let (_, at) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(20),
        "provider 2 to leave",
        |l| !ports(l).contains(&d) && !ports(l).contains(&t),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let lag = lag_of(d, t, at, false)?;
    report.push(format!("leave: {lag:?}"));
    ensure!(
        lag < PUSH_BOUND,
        "removal seen {lag:?} after the server dropped it"
    );
    ensure!(set.len() == 4, "{}", describe(&set.to_vec()));
    drop(leaving);

    // A killed JVM: its gRPC connection closes and the server drops its instances.
    let mut killed = providers.remove(0);
    let (d, t) = provider_ports(&killed);
    let kill_at = Instant::now();
    killed.stop();
    let (_, at) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(30),
        "the killed provider to go",
        |l| !ports(l).contains(&d) && !ports(l).contains(&t),
    )
    .await?;
    report.push(format!(
        "killed: gone from the watch {:?} after SIGKILL",
        at - kill_at
    ));
    ensure!(set.len() == 2, "{}", describe(&set.to_vec()));
    eprintln!(
        "churn: {}; total {:?}",
        report.join(", "),
        started.elapsed()
    );
    Ok(())
}

/// (c): rnacos stops → the watcher keeps its instances and reports the outage; rnacos is back
/// (empty: it keeps ephemeral instances in memory) → connected again, the Java provider
/// re-registers, the list is never emptied, and new changes are seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_keeps_the_last_instances_and_resubscribes() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let nacos = tokio::task::spawn_blocking(Nacos::start).await??;
    let nacos = Arc::new(Mutex::new(nacos));
    let (server, url) = {
        let n = nacos.lock().unwrap();
        (
            n.server_addr(),
            format!("{}?group=outage", n.registry_url()),
        )
    };
    let mut cfg = config(&server, "outage", RegistryMode::Interface);
    cfg.recovery_grace = Duration::from_secs(15);
    let discover = NacosDiscover::new(cfg.clone()).await?;
    let mut watch = discover.watch(&user_key());
    let mut set = InstanceSet::new();
    let p = start_provider(provider_options(&url, "nacos-outage", "interface", &[])).await?;
    let (d, t) = provider_ports(&p);
    wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(10),
        "provider",
        |l| ports(l).contains(&d) && ports(l).contains(&t),
    )
    .await?;

    let n = Arc::clone(&nacos);
    tokio::task::spawn_blocking(move || n.lock().unwrap().stop()).await?;
    let stopped = Instant::now();
    let mut status = watch.status_receiver();
    tokio::time::timeout(
        Duration::from_secs(15),
        status.wait_for(|s| matches!(s, RegistryStatus::Disconnected { .. })),
    )
    .await
    .context("no Disconnected status after rnacos stopped")??;
    let noticed = stopped.elapsed();
    assert_quiet(&mut watch, Duration::from_secs(3), "during the outage").await?;
    ensure!(set.len() == 2, "kept: {}", describe(&set.to_vec()));

    let n = Arc::clone(&nacos);
    tokio::task::spawn_blocking(move || n.lock().unwrap().restart()).await??;
    tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(RegistryStatus::is_connected),
    )
    .await
    .context("not connected again after the restart")??;
    let back = stopped.elapsed();
    // The Java client re-registers on its own; through all of it the list never went empty.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = {
            let n = nacos.lock().unwrap();
            http_instances(
                &n,
                &provider_service_name(USER, Some("1.0.0"), None),
                "outage",
            )?
        };
        if listed.len() == 2 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the Java provider did not re-register: {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reregistered = stopped.elapsed();
    while let Ok(Some(change)) =
        tokio::time::timeout(Duration::from_millis(300), watch.next()).await
    {
        set.apply(change);
        ensure!(!set.is_empty(), "the watch was emptied by the restart");
    }
    ensure!(set.len() == 2, "{}", describe(&set.to_vec()));

    // A new instance (registered through our own self-registration) is seen within a second.
    let me = SelfInstance {
        group: "outage".into(),
        ..SelfInstance::new(
            provider_service_name(USER, Some("1.0.0"), None),
            "127.0.0.1",
            1,
        )
    }
    .with_metadata("interface", USER)
    .with_metadata("version", "1.0.0")
    .with_metadata("protocol", "dubbo")
    .with_metadata("category", "providers")
    .with_metadata("side", "provider")
    .with_metadata("weight", "3");
    let registered_at = Instant::now();
    let reg = NacosRegistration::register(&cfg, me).await?;
    let (list, at) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(5),
        "the new instance",
        |l| ports(l).contains(&1),
    )
    .await?;
    ensure!(
        at - registered_at < PUSH_BOUND,
        "seen after {:?}",
        at - registered_at
    );
    let one = on_port(&list, 1)[0];
    ensure!(one.weight == 3 && one.protocol == Protocol::Dubbo);
    reg.deregister().await?;
    wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(5),
        "the instance to go",
        |l| !ports(l).contains(&1),
    )
    .await?;
    eprintln!(
        "outage noticed after {noticed:?}, reconnected {back:?}, provider re-registered {reregistered:?} after the stop; total {:?}",
        started.elapsed()
    );
    drop(p);
    Ok(())
}

/// (d): the gateway's self-registration appears in Nacos with its metadata and disappears on
/// deregister.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_registration_appears_and_disappears() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let nacos = shared_nacos().await?;
    let cfg = config(&nacos.server_addr(), "self", RegistryMode::Interface);
    let me = SelfInstance {
        group: "self".into(),
        ..SelfInstance::new("tianlu-gateway-it", "127.0.0.1", 18_888)
    }
    .with_listeners(&["http=127.0.0.1:18888"])
    .with_version("9.9.9");
    let reg = NacosRegistration::register(&cfg, me).await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let listed = loop {
        let listed = http_instances(nacos, "tianlu-gateway-it", "self")?;
        if !listed.is_empty() || Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let appeared = started.elapsed();
    let [(addr, meta)] = listed.as_slice() else {
        bail!("expected one instance, got {listed:?}")
    };
    ensure!(addr == "127.0.0.1:18888");
    ensure!(
        meta.get(META_LISTENERS).map(String::as_str) == Some("http=127.0.0.1:18888"),
        "{meta:?}"
    );
    ensure!(
        meta.get("tianlu.version").map(String::as_str) == Some("9.9.9"),
        "{meta:?}"
    );
    // Still there a few heartbeats later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(
        http_instances(nacos, "tianlu-gateway-it", "self")?.len() == 1,
        "instance dropped while alive"
    );

    let t = Instant::now();
    reg.deregister().await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if http_instances(nacos, "tianlu-gateway-it", "self")?.is_empty() {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "still registered 5 s after deregister"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "self-registration: listed after {appeared:?}, gone {:?} after deregister",
        t.elapsed()
    );
    Ok(())
}

/// Config source: get, listen, change, removal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_source_reads_and_follows_changes() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let nacos = shared_nacos().await?;
    let mut cfg = NacosConfig::new(nacos.server_addr());
    cfg.cache_dir = Some(cache_dir());
    let source = NacosConfigSource::new(&cfg).await?;
    ensure!(source.get("tianlu-api-config", "TIANLU").await?.is_none());
    let first = "routes:\n  - path: /a\n";
    {
        let text = first.to_string();
        tokio::task::spawn_blocking(move || {
            nacos.publish_config("tianlu-api-config", "TIANLU", &text)
        })
        .await??;
    }
    // rnacos applies a write through its raft log: the first read may still miss it.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = source.get("tianlu-api-config", "TIANLU").await?;
        if got.as_deref() == Some(first) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "read {got:?} after publishing {first:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut changes = source.listen("tianlu-api-config", "TIANLU").await?;
    let second = "routes:\n  - path: /b\n";
    let t = Instant::now();
    source
        .publish("tianlu-api-config", "TIANLU", second)
        .await?;
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match changes.next().await {
                Some(text) if text == second => return Ok(text),
                Some(_) => continue,
                None => return Err(anyhow::anyhow!("config watch ended")),
            }
        }
    })
    .await
    .context("no change notification within 5 s")??;
    ensure!(got == second);
    let lag = t.elapsed();
    eprintln!(
        "config change seen after {lag:?}; total {:?}",
        started.elapsed()
    );
    Ok(())
}

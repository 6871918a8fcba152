//! ZooKeeper discovery against a real ZooKeeper 3.8 and real Java Dubbo 3.3.6 providers.
//!
//! One ZooKeeper is shared by the tests of this binary (each test registers under its own
//! Dubbo registry group, i.e. its own root node); the outage test runs its own server because
//! it stops it. Missing ZooKeeper/Java/Maven fail the tests with install hints.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use common::*;
use tianlu_registry::metadata::{fetch_definition_dubbo, METADATA_SERVICE};
use tianlu_registry::url::form_encode;
use tianlu_registry::{
    Discover, InstanceSet, Protocol, RegistryMode, RegistryStatus, ServiceKey, ZkConfig, ZkDiscover,
};
use tianlu_testkit::ZooKeeper;

const USER: &str = "org.tianlu.interop.UserService";
const TYPES: &str = "org.tianlu.interop.TypesService";

async fn shared_zk() -> anyhow::Result<&'static ZooKeeper> {
    tokio::task::spawn_blocking(ZooKeeper::shared).await?
}

fn discover(zk_addr: &str, group: &str, mode: RegistryMode) -> anyhow::Result<ZkDiscover> {
    Ok(ZkDiscover::new(
        ZkConfig::new(zk_addr).with_group(group).with_mode(mode),
    )?)
}

fn user_key() -> ServiceKey {
    ServiceKey::new(USER).with_version("1.0.0")
}

/// (a) + (e): providers registered with `--register-mode interface|instance|all` are seen by
/// the watcher of the matching layout(s), with the right address, protocol, version, group,
/// weight and methods; application-level metadata comes from the MetadataService over Dubbo2
/// (`--metadata-protocol dubbo`) and over Triple's JSON mapping (3.3's default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_modes_are_seen_by_the_matching_watchers() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let zk = shared_zk().await?;
    let group = "modes";
    let url = format!("{}?group={group}", zk.registry_url());
    let providers = start_providers(vec![
        provider_options(&url, "zk-modes-iface", "interface", &[]),
        provider_options(
            &url,
            "zk-modes-inst",
            "instance",
            &["--metadata-protocol", "dubbo"],
        ),
        provider_options(&url, "zk-modes-all", "all", &[]),
    ])
    .await?;
    let [iface, inst, all] = providers.as_slice() else {
        bail!("three providers expected")
    };
    eprintln!("providers up after {:?}", started.elapsed());

    let cases: [(RegistryMode, Vec<_>, Vec<_>); 3] = [
        (RegistryMode::Interface, vec![iface, all], vec![inst]),
        (RegistryMode::Application, vec![inst, all], vec![iface]),
        (RegistryMode::All, vec![iface, inst, all], vec![]),
    ];
    for (mode, present, absent) in cases {
        let t = Instant::now();
        let zkd = discover(&zk.connect_string(), group, mode)?;
        let mut watch = zkd.watch(&user_key());
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
        assert!(watch.status().is_connected());
        eprintln!(
            "{mode:?} watcher: {} instances in {:?}",
            list.len(),
            t.elapsed()
        );
    }

    // Group selection on the merged view: g2 only, then any group.
    let zkd = discover(&zk.connect_string(), group, RegistryMode::All)?;
    for (key, per_provider) in [
        (user_key().with_group("g2"), 2usize),
        (user_key().with_group("*"), 4),
        (ServiceKey::new(USER).with_version("2.0.0"), 0),
        (ServiceKey::new(TYPES), 2),
    ] {
        let mut watch = zkd.watch(&key);
        let mut set = InstanceSet::new();
        let first = tokio::time::timeout(Duration::from_secs(30), watch.next())
            .await
            .with_context(|| format!("no first change for {key}"))?
            .context("watch ended")?;
        set.apply(first);
        let expected = per_provider * 3;
        let (list, _) = wait_for(
            &mut watch,
            &mut set,
            Duration::from_secs(30),
            &format!("{key}"),
            |l| l.len() == expected,
        )
        .await?;
        if key.group.as_deref() == Some("g2") {
            ensure!(
                list.iter().all(|i| i.group.as_deref() == Some("g2")),
                "{}",
                describe(&list)
            );
        }
        if per_provider == 0 {
            // An empty first answer is a real answer (nothing registered under 2.0.0).
            assert_quiet(&mut watch, Duration::from_millis(500), "2.0.0").await?;
        }
    }
    eprintln!("register_modes: {:?}", started.elapsed());
    Ok(())
}

/// Polls the provider nodes of `path` with an independent client and records, per port, when
/// a node for it first appeared and when the last one went.
fn observe(zk_addr: String, path: String) -> Seen {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    tokio::spawn(async move {
        let Ok(client) = zookeeper_client::Client::connect(&zk_addr).await else {
            return;
        };
        loop {
            let children = client.list_children(&path).await.unwrap_or_default();
            let now = Instant::now();
            let present: Vec<u16> = children
                .iter()
                .filter_map(|c| tianlu_registry::ProviderUrl::parse(c).ok())
                .map(|u| u.port)
                .collect();
            {
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
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    seen
}

/// (b): a second and third provider join and one leaves (clean stop): each change reaches the
/// watcher within 1 s of the node change in ZooKeeper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_joining_and_leaving_are_seen_within_a_second() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let zk = shared_zk().await?;
    let group = "churn";
    let url = format!("{}?group={group}", zk.registry_url());
    let seen = observe(
        zk.connect_string(),
        format!("/{group}/{}/providers", form_encode(USER)),
    );
    let zkd = discover(&zk.connect_string(), group, RegistryMode::Interface)?;
    let mut watch = zkd.watch(&user_key());
    let mut set = InstanceSet::new();
    let mut providers = Vec::new();
    let mut report = Vec::new();
    for n in 1..=3 {
        let p = start_provider(provider_options(
            &url,
            &format!("zk-churn-{n}"),
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
        let node_at = {
            let map = seen.lock().unwrap();
            let a = map.get(&d).and_then(|e| e.0);
            let b = map.get(&t).and_then(|e| e.0);
            a.into_iter().chain(b).max()
        }
        .context("the observer never saw the nodes")?;
        let lag = at.saturating_duration_since(node_at);
        report.push(format!("join {n}: {lag:?}"));
        ensure!(
            lag < Duration::from_secs(1),
            "provider {n} seen {lag:?} after its nodes"
        );
        ensure!(set.len() == 2 * n, "{}", describe(&set.to_vec()));
        providers.push(p);
    }

    // Clean stop of the second one: Dubbo's shutdown hook deletes its nodes.
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
    let gone_at = {
        let map = seen.lock().unwrap();
        let a = map.get(&d).and_then(|e| e.1);
        let b = map.get(&t).and_then(|e| e.1);
        a.into_iter().chain(b).max()
    }
    .context("the observer never saw the nodes go")?;
    let lag = at.saturating_duration_since(gone_at);
    report.push(format!("leave: {lag:?}"));
    ensure!(
        lag < Duration::from_secs(1),
        "removal seen {lag:?} after the nodes went"
    );
    ensure!(set.len() == 4, "{}", describe(&set.to_vec()));
    drop(leaving);
    eprintln!(
        "churn lags: {}; total {:?}",
        report.join(", "),
        started.elapsed()
    );
    Ok(())
}

/// A killed JVM's nodes go when its session expires (provider session 2 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_provider_goes_when_its_session_expires() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let zk = shared_zk().await?;
    let group = "killed";
    let url = format!("{}?group={group}&session=2000", zk.registry_url());
    let zkd = discover(&zk.connect_string(), group, RegistryMode::Interface)?;
    let mut watch = zkd.watch(&user_key());
    let mut set = InstanceSet::new();
    let mut p = start_provider(provider_options(&url, "zk-killed", "interface", &[])).await?;
    let (d, _) = provider_ports(&p);
    wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(10),
        "provider",
        |l| ports(l).contains(&d),
    )
    .await?;
    let killed_at = Instant::now();
    p.stop();
    let (list, at) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(15),
        "expiry",
        |l| l.is_empty(),
    )
    .await?;
    let took = at - killed_at;
    ensure!(list.is_empty());
    ensure!(
        took < Duration::from_secs(8),
        "removal took {took:?} with a 2 s session"
    );
    eprintln!(
        "killed provider removed after {took:?}; total {:?}",
        started.elapsed()
    );
    Ok(())
}

/// (c): ZooKeeper stops → the watcher keeps its instances and reports the outage; ZooKeeper is
/// back → connected again, and new changes are seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_keeps_the_last_instances_and_resubscribes() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let zk = tokio::task::spawn_blocking(ZooKeeper::start).await??;
    let zk = Arc::new(Mutex::new(zk));
    let (addr, url) = {
        let z = zk.lock().unwrap();
        (
            z.connect_string(),
            format!("{}?group=outage", z.registry_url()),
        )
    };
    let zkd = discover(&addr, "outage", RegistryMode::Interface)?;
    let mut watch = zkd.watch(&user_key());
    let mut set = InstanceSet::new();
    let p = start_provider(provider_options(&url, "zk-outage", "interface", &[])).await?;
    let (d, t) = provider_ports(&p);
    wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(10),
        "provider",
        |l| ports(l).contains(&d) && ports(l).contains(&t),
    )
    .await?;

    let z = Arc::clone(&zk);
    tokio::task::spawn_blocking(move || z.lock().unwrap().stop()).await?;
    let stopped = Instant::now();
    let mut status = watch.status_receiver();
    tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| matches!(s, RegistryStatus::Disconnected { .. })),
    )
    .await
    .context("no Disconnected status after ZooKeeper stopped")??;
    let noticed = stopped.elapsed();
    assert_quiet(&mut watch, Duration::from_secs(3), "during the outage").await?;
    ensure!(set.len() == 2, "kept: {}", describe(&set.to_vec()));

    let z = Arc::clone(&zk);
    tokio::task::spawn_blocking(move || z.lock().unwrap().restart()).await??;
    tokio::time::timeout(
        Duration::from_secs(20),
        status.wait_for(RegistryStatus::is_connected),
    )
    .await
    .context("not connected again after the restart")??;
    let back = stopped.elapsed();

    // A new provider node (written by an independent client) shows up within a second.
    let client = zookeeper_client::Client::connect(&addr).await?;
    let node = format!(
        "/outage/{}/providers/{}",
        form_encode(USER),
        form_encode(&format!(
            "dubbo://127.0.0.1:1/{USER}?interface={USER}&version=1.0.0&side=provider&weight=3"
        ))
    );
    let opts =
        zookeeper_client::CreateMode::Ephemeral.with_acls(zookeeper_client::Acls::anyone_all());
    let created = Instant::now();
    client.create(&node, b"", &opts).await?;
    let (list, at) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(5),
        "the new node",
        |l| ports(l).contains(&1),
    )
    .await?;
    ensure!(
        at - created < Duration::from_secs(1),
        "seen after {:?}",
        at - created
    );
    ensure!(
        ports(&list).contains(&d),
        "the Java provider is still there"
    );
    let one = on_port(&list, 1)[0];
    ensure!(one.weight == 3 && one.protocol == Protocol::Dubbo);
    client.delete(&node, None).await?;
    wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(5),
        "the node to go",
        |l| !ports(l).contains(&1),
    )
    .await?;
    eprintln!(
        "outage noticed after {noticed:?}, reconnected {back:?} after the stop; total {:?}",
        started.elapsed()
    );
    drop(p);
    Ok(())
}

/// (e): application level with `storage-type=remote`, the mapping, and where parameter types
/// come from: the metadata report's service definition and
/// `MetadataService.getServiceDefinition` over Dubbo2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_metadata_and_parameter_types() -> anyhow::Result<()> {
    init_logs();
    let started = Instant::now();
    let zk = shared_zk().await?;
    let group = "meta";
    let app = "zk-meta-remote";
    let url = format!("{}?group={group}", zk.registry_url());
    let p = start_provider(provider_options(
        &url,
        app,
        "instance",
        &["--metadata-type", "remote", "--metadata-protocol", "dubbo"],
    ))
    .await?;
    let zkd = discover(&zk.connect_string(), group, RegistryMode::Application)?;
    zkd.wait_connected(Duration::from_secs(10)).await?;
    let mut watch = zkd.watch(&user_key());
    let mut set = InstanceSet::new();
    let (d, t) = provider_ports(&p);
    let (list, _) = wait_for(
        &mut watch,
        &mut set,
        Duration::from_secs(20),
        "app-level instances",
        |l| ports(l).contains(&d) && ports(l).contains(&t),
    )
    .await?;
    check_user_service(&list, &p)?;
    ensure!(zkd.applications(USER).await? == [app]);

    let def = zkd
        .service_definition(USER, Some("1.0.0"), None, app)
        .await?
        .context("no service definition in the metadata report")?;
    let types: BTreeMap<&str, Vec<&str>> = def
        .methods
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.parameter_types.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    ensure!(types["getUser"] == ["long"], "{types:?}");
    ensure!(
        types["updateUser"] == ["long", "org.tianlu.interop.User"],
        "{types:?}"
    );
    ensure!(
        types["listUsers"] == ["java.lang.String", "int"],
        "{types:?}"
    );
    ensure!(types["whoAmI"].is_empty(), "{types:?}");
    let g2 = zkd
        .service_definition(USER, Some("1.0.0"), Some("g2"), app)
        .await?;
    ensure!(g2.is_some(), "the g2 export has its own definition");
    ensure!(zkd
        .service_definition(USER, Some("9"), None, app)
        .await?
        .is_none());

    // The same provider in local mode (MetadataService exported over dubbo): getMetadataInfo
    // works, getServiceDefinition answers an empty string in Dubbo 3.3.6.
    let local_app = "zk-meta-local";
    let local = start_provider(provider_options(
        &url,
        local_app,
        "instance",
        &["--metadata-protocol", "dubbo"],
    ))
    .await?;
    let over_dubbo = fetch_definition_dubbo(
        local.dubbo_addr(),
        local_app,
        USER,
        Some("1.0.0"),
        None,
        Duration::from_secs(5),
    )
    .await
    .with_context(|| format!("{METADATA_SERVICE}.getServiceDefinition over dubbo"))?;
    ensure!(
        over_dubbo.is_none(),
        "Dubbo now answers getServiceDefinition: {over_dubbo:?}"
    );
    let local_def = zkd
        .service_definition(USER, Some("1.0.0"), None, local_app)
        .await?;
    ensure!(
        local_def.is_some_and(|d| d.methods.len() == def.methods.len()),
        "local-mode providers report their definitions too"
    );
    eprintln!("application metadata: {:?}", started.elapsed());
    Ok(())
}

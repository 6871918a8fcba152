//! Helpers shared by the registry integration tests: starting Java providers off the async
//! runtime, following a watch until a condition holds, stopping a JVM gracefully by PID.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tianlu_registry::{Change, Instance, InstanceSet, Protocol, Watch};
use tianlu_testkit::{JavaProvider, ProviderOptions};

/// Per port: when an observer first saw it registered, and when it saw it go.
pub type Seen = Arc<Mutex<BTreeMap<u16, (Option<Instant>, Option<Instant>)>>>;

/// Logs of the crate under test when `RUST_LOG` is set (e.g. `RUST_LOG=tianlu_registry=debug`).
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_none() {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Options for one provider JVM registered in `registry`.
pub fn provider_options(registry: &str, app: &str, mode: &str, extra: &[&str]) -> ProviderOptions {
    let mut opts = ProviderOptions::default()
        .with_tri()
        .app(app)
        .registry(registry);
    opts.args = ["--register-mode", mode, "--weight", "7"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    opts.ready_timeout = Duration::from_secs(180);
    opts
}

/// Starts a provider on a blocking thread.
pub async fn start_provider(opts: ProviderOptions) -> anyhow::Result<JavaProvider> {
    tokio::task::spawn_blocking(move || JavaProvider::start(opts))
        .await
        .context("provider start task")?
}

/// Starts several providers one after the other (2 cores: starting them together is no faster).
pub async fn start_providers(all: Vec<ProviderOptions>) -> anyhow::Result<Vec<JavaProvider>> {
    let mut out = Vec::new();
    for opts in all {
        out.push(start_provider(opts).await?);
    }
    Ok(out)
}

/// Asks the JVM to shut down (SIGTERM, by PID): Dubbo's shutdown hook unregisters first.
pub fn sigterm(pid: u32) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("running kill -TERM")?;
    if !status.success() {
        bail!("kill -TERM {pid} failed: {status}");
    }
    Ok(())
}

/// Follows `watch` until `done` holds for the current set; returns the set and when it held.
pub async fn wait_for<F>(
    watch: &mut Watch,
    set: &mut InstanceSet,
    timeout: Duration,
    what: &str,
    mut done: F,
) -> anyhow::Result<(Vec<Instance>, Instant)>
where
    F: FnMut(&[Instance]) -> bool,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let now = set.to_vec();
        if done(&now) {
            return Ok((now, Instant::now()));
        }
        match tokio::time::timeout_at(deadline, watch.next()).await {
            Ok(Some(change)) => set.apply(change),
            Ok(None) => bail!("watch ended while waiting for {what}"),
            Err(_) => bail!(
                "timed out after {timeout:?} waiting for {what}; current set: {}",
                describe(&now)
            ),
        }
    }
}

/// Asserts that no change arrives for `quiet`.
pub async fn assert_quiet(watch: &mut Watch, quiet: Duration, what: &str) -> anyhow::Result<()> {
    match tokio::time::timeout(quiet, watch.next()).await {
        Err(_) => Ok(()),
        Ok(Some(Change::Reset(list))) => bail!("{what}: unexpected reset {}", describe(&list)),
        Ok(other) => bail!("{what}: unexpected {other:?}"),
    }
}

/// `protocol://addr[group/version]` per instance, for messages.
pub fn describe(list: &[Instance]) -> String {
    let parts: Vec<String> = list.iter().map(|i| i.id().to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// The ports of the instances.
pub fn ports(list: &[Instance]) -> BTreeSet<u16> {
    list.iter().map(|i| i.addr.port()).collect()
}

/// The instances on `port`.
pub fn on_port(list: &[Instance], port: u16) -> Vec<&Instance> {
    list.iter().filter(|i| i.addr.port() == port).collect()
}

/// The dubbo and Triple ports of a provider.
pub fn provider_ports(p: &JavaProvider) -> (u16, u16) {
    (
        p.dubbo_addr().port(),
        p.tri_addr().map(|a| a.port()).unwrap_or(0),
    )
}

/// Checks the instances a UserService 1.0.0 (default group) watch should see for provider `p`:
/// one dubbo and one tri instance on 127.0.0.1, weight 7, version 1.0.0, no group.
pub fn check_user_service(list: &[Instance], p: &JavaProvider) -> anyhow::Result<()> {
    let (dubbo, tri) = provider_ports(p);
    let mut seen = Vec::new();
    for (port, protocol) in [(dubbo, Protocol::Dubbo), (tri, Protocol::Tri)] {
        let found = on_port(list, port);
        let [one] = found.as_slice() else {
            bail!(
                "expected one instance on port {port}, got {}",
                describe(list)
            );
        };
        if one.protocol != protocol
            || one.addr.ip().to_string() != "127.0.0.1"
            || one.weight != 7
            || one.version.as_deref() != Some("1.0.0")
            || one.group.is_some()
        {
            bail!("unexpected instance {one:?}");
        }
        let methods = one.methods();
        for m in ["getUser", "createUser", "listUsers", "whoAmI"] {
            if !methods.contains(&m) {
                bail!("method {m} missing from {methods:?} on {}", one.id());
            }
        }
        seen.push(one.id());
    }
    Ok(())
}

//! Hot reload: read → validate → build a new runtime → swap it in atomically. Any error keeps
//! the last good runtime and is reported (log, admin `/config`). Triggers: a change of
//! conf.yaml or any api_config file (polled once a second), SIGHUP, and the admin `POST /reload`.
//! Listener changes (addresses, protocols, certificates) need a restart and are refused.

use crate::nacos::remote_config::RemoteConfigs;
use crate::runtime::Runtime;
use crate::server::Shared;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tianlu_api_config::{Config, Listener};
use tokio::sync::Mutex as AsyncMutex;

/// The outcome of the last reload attempt.
#[derive(Debug, Clone, Default)]
pub struct ReloadStatus {
    /// Reloads that were applied.
    pub applied: u64,
    /// Reloads that were refused (the old runtime kept serving).
    pub failed: u64,
    /// The last error, if the last attempt failed.
    pub last_error: Option<String>,
    /// The summary of the runtime in force.
    pub summary: String,
    /// Changed settings the last applied reload could not take over (they are read at start-up).
    pub restart_needed: Vec<String>,
}

/// Reloads the configuration of a running gateway.
pub struct Reloader {
    shared: Arc<Shared>,
    path: PathBuf,
    listeners: Vec<Listener>,
    /// The start-up bootstrap, for settings only a restart applies.
    started: tianlu_api_config::Bootstrap,
    /// Files whose change triggers a reload, with their last seen stamps.
    watched: Mutex<Vec<(PathBuf, Option<Stamp>)>>,
    status: Mutex<ReloadStatus>,
    /// One reload at a time.
    running: AsyncMutex<()>,
    /// api_configs kept in Nacos.
    remote: Arc<RemoteConfigs>,
    /// The configuration in force (the last that loaded and built).
    current: Mutex<Config>,
    me: std::sync::Weak<Reloader>,
}

/// A file's modification time and length, compared to notice changes.
type Stamp = (SystemTime, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn files_of(config: &Config) -> Vec<PathBuf> {
    let mut files = vec![config.file.clone()];
    // api_configs kept in Nacos are followed by listeners, not polled.
    files.extend(
        config
            .apis
            .iter()
            .map(|a| a.file.clone())
            .filter(|f| !f.to_string_lossy().starts_with("nacos://")),
    );
    files.extend(crate::call::idl::protoset_files(config));
    files
}

impl Reloader {
    /// A reloader for the gateway started from `config`.
    pub fn new(shared: Arc<Shared>, config: &Config, remote: Arc<RemoteConfigs>) -> Arc<Self> {
        let watched = files_of(config)
            .into_iter()
            .map(|f| {
                let s = stamp(&f);
                (f, s)
            })
            .collect();
        let summary = shared.runtime.load().summary.clone();
        Arc::new_cyclic(|me| Reloader {
            me: me.clone(),
            shared,
            path: config.file.clone(),
            listeners: config.bootstrap.listeners.clone(),
            started: config.bootstrap.clone(),
            watched: Mutex::new(watched),
            status: Mutex::new(ReloadStatus {
                summary,
                ..ReloadStatus::default()
            }),
            running: AsyncMutex::new(()),
            remote,
            current: Mutex::new(config.clone()),
        })
    }

    /// Builds the runtime again from the configuration in force (files are not read again):
    /// used when routes generated from a registry changed. A failure keeps the runtime in force.
    pub async fn rebuild(&self) -> Result<String, String> {
        let _one = self.running.lock().await;
        let config = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match Runtime::build(
            &config,
            &self.shared.pool,
            &self.shared.metrics,
            &self.shared.discovery,
        )
        .await
        {
            Ok(runtime) => {
                let summary = runtime.summary.clone();
                self.shared.runtime.store(Arc::new(runtime));
                tracing::info!("routes from the registry applied: {summary}");
                Ok(summary)
            }
            Err(e) => {
                tracing::error!(
                    "routes from the registry refused; the previous ones keep serving: {e}"
                );
                Err(e.to_string())
            }
        }
    }

    /// A callback that rebuilds the runtime (for registry route changes).
    pub fn rebuild_trigger(&self) -> Arc<dyn Fn() + Send + Sync> {
        let me = self.me.clone();
        Arc::new(move || {
            if let Some(me) = me.upgrade() {
                tokio::spawn(async move {
                    let _ = me.rebuild().await;
                });
            }
        })
    }

    /// Follows the api_configs of `config` kept in Nacos: a change reloads.
    pub async fn follow_remote(&self, config: &Config) {
        self.remote.follow(config, self.remote_trigger()).await;
    }

    fn remote_trigger(&self) -> Arc<dyn Fn() + Send + Sync> {
        let me = self.me.clone();
        Arc::new(move || {
            if let Some(me) = me.upgrade() {
                tokio::spawn(async move {
                    let _ = me.reload().await;
                });
            }
        })
    }

    /// The last outcome.
    pub fn status(&self) -> ReloadStatus {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The status as JSON (for the admin API).
    pub fn status_json(&self) -> Json {
        let s = self.status();
        json!({
            "applied": s.applied,
            "failed": s.failed,
            "last_error": s.last_error,
            "summary": s.summary,
            "restart_needed": s.restart_needed,
        })
    }

    /// Reloads now. On success the new runtime serves every request that starts afterwards;
    /// requests already running finish on the old one.
    pub async fn reload(&self) -> Result<String, String> {
        let _one = self.running.lock().await;
        let outcome = self.try_reload().await;
        let outcome = outcome.map(|(summary, restart_needed)| {
            for what in &restart_needed {
                tracing::warn!("{what} changed; it takes effect after a restart");
            }
            self.status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .restart_needed = restart_needed;
            summary
        });
        let mut status = self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &outcome {
            Ok(summary) => {
                self.shared
                    .metrics
                    .reloads_applied
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                status.applied += 1;
                status.last_error = None;
                status.summary = summary.clone();
                tracing::info!("configuration reloaded: {summary}");
            }
            Err(e) => {
                self.shared
                    .metrics
                    .reloads_failed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                status.failed += 1;
                status.last_error = Some(e.clone());
                tracing::error!(
                    "configuration reload refused; the previous one keeps serving:\n{e}"
                );
            }
        }
        outcome
    }

    /// Settings that differ from start-up but are only read at start-up.
    fn restart_needed(&self, next: &tianlu_api_config::Bootstrap) -> Vec<String> {
        let mut out = Vec::new();
        if next.admin != self.started.admin {
            out.push("admin".to_string());
        }
        if next.registration != self.started.registration {
            out.push("registration".to_string());
        }
        if next.shutdown != self.started.shutdown {
            out.push("static_resources.shutdown_config".to_string());
        }
        for (a, b) in next.listeners.iter().zip(&self.started.listeners) {
            if a.hcm.generate_request_id != b.hcm.generate_request_id {
                out.push(format!("listener {}: generate_request_id", a.name));
            }
            if a.hcm.idle_timeout != b.hcm.idle_timeout {
                out.push(format!("listener {}: idle_timeout", a.name));
            }
            if a.hcm.dubbo_proxy().connect_timeout != b.hcm.dubbo_proxy().connect_timeout {
                out.push(format!(
                    "listener {}: timeout_config.connect_timeout",
                    a.name
                ));
            }
            if a.hcm.dubbo_proxy().max_concurrent_streams
                != b.hcm.dubbo_proxy().max_concurrent_streams
            {
                out.push(format!(
                    "listener {}: dubboProxyConfig.max_concurrent_streams",
                    a.name
                ));
            }
        }
        out
    }

    async fn try_reload(&self) -> Result<(String, Vec<String>), String> {
        let (config, warnings) = self
            .remote
            .load(&self.path)
            .await
            .map_err(|e| e.to_string())?;
        for w in &warnings {
            tracing::warn!("{w}");
        }
        let binding = |l: &Listener| (l.name.clone(), l.protocol, l.address.clone(), l.tls.clone());
        let now: Vec<_> = config.bootstrap.listeners.iter().map(binding).collect();
        let before: Vec<_> = self.listeners.iter().map(binding).collect();
        if now != before {
            return Err(format!(
                "{}: listeners changed (names, addresses, protocols or certificates); \
                 those changes need a restart",
                self.path.display()
            ));
        }
        let runtime = Runtime::build(
            &config,
            &self.shared.pool,
            &self.shared.metrics,
            &self.shared.discovery,
        )
        .await
        .map_err(|e| e.to_string())?;
        let summary = runtime.summary.clone();
        let restart_needed = self.restart_needed(&config.bootstrap);
        self.shared.runtime.store(Arc::new(runtime));
        *self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config.clone();
        // Follow the files the new configuration references.
        {
            let mut watched = self
                .watched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *watched = files_of(&config)
                .into_iter()
                .map(|f| {
                    let s = stamp(&f);
                    (f, s)
                })
                .collect();
        }
        self.remote.follow(&config, self.remote_trigger()).await;
        Ok((summary, restart_needed))
    }

    /// True when a watched file changed since the last look (and remembers the new stamps).
    fn files_changed(&self) -> bool {
        let mut watched = self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut changed = false;
        for (path, seen) in watched.iter_mut() {
            let now = stamp(path);
            if now != *seen {
                *seen = now;
                changed = true;
            }
        }
        changed
    }

    /// Polls the configuration files every `every` and reloads on change, until `stop` fires.
    pub fn watch_files(
        self: &Arc<Self>,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
                if me.files_changed() {
                    // Let an editor finish writing before reading.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    me.files_changed();
                    let _ = me.reload().await;
                }
            }
        });
    }

    /// Reloads on SIGHUP until `stop` fires.
    #[cfg(unix)]
    pub fn watch_sighup(self: &Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        use tokio::signal::unix::{signal, SignalKind};
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP; reload by file change or admin call");
                return;
            };
            loop {
                tokio::select! {
                    _ = hup.recv() => {
                        tracing::info!("SIGHUP: reloading the configuration");
                        let _ = me.reload().await;
                    }
                    _ = stop.changed() => return,
                }
            }
        });
    }
}

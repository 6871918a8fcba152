//! Running the gateway: load and validate the configuration, build the runtime, bind every
//! listener (and the admin listener), serve until SIGINT/SIGTERM, then stop accepting and drain
//! in-flight requests up to the shutdown timeout.

use crate::admin::Admin;
use crate::discovery::Discovery;
use crate::metrics::Metrics;
use crate::nacos::registration::SelfRegistration;
use crate::nacos::remote_config::RemoteConfigs;
use crate::reload::Reloader;
use crate::runtime::Runtime;
use crate::server::{self, ListenerSpec, Shared, Transport};
use crate::upstream::ConnectionPool;
use anyhow::{anyhow, Context, Result};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tianlu_api_config::{Config, ListenerProtocol};
use tianlu_protocol::dubbo::ClientConfig;
use tokio::sync::watch;

/// A running gateway, as tests and embedders see it.
pub struct Running {
    /// Bound listener addresses, in configuration order.
    pub listeners: Vec<(String, SocketAddr)>,
    /// The admin address, when configured.
    pub admin: Option<SocketAddr>,
    /// Shared state (runtime, pool).
    pub shared: Arc<Shared>,
    /// Hot reload.
    pub reloader: Arc<Reloader>,
    /// The gateway's own instance in Nacos, when `registration` is configured.
    pub registration: Option<SelfRegistration>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, drains, and waits for every listener task.
    pub async fn shutdown(self) {
        // Leave the registry first, so clients stop picking this gateway while it drains.
        if let Some(r) = self.registration {
            r.deregister().await;
        }
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn resolve_listen(address: &str, port: u16) -> Result<SocketAddr> {
    crate::runtime::resolve(address, port)
        .await
        .map_err(|e| anyhow!(e))
}

/// Loads `config`, binds everything and starts serving in background tasks.
pub async fn start(config_path: &Path) -> Result<Running> {
    let remote = Arc::new(RemoteConfigs::new());
    let (config, warnings) = remote.load(config_path).await.map_err(|e| anyhow!("{e}"))?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    start_with_remote(&config, remote).await
}

/// Starts serving an already loaded configuration.
pub async fn start_with(config: &Config) -> Result<Running> {
    start_with_remote(config, Arc::new(RemoteConfigs::new())).await
}

/// Starts serving `config`, whose Nacos api_configs (if any) `remote` fetched.
pub async fn start_with_remote(config: &Config, remote: Arc<RemoteConfigs>) -> Result<Running> {
    let connect_timeout = config
        .bootstrap
        .listeners
        .first()
        .map(|l| l.hcm.dubbo_proxy().connect_timeout);
    let mut client = ClientConfig::default();
    if let Some(t) = connect_timeout {
        client.connect_timeout = t;
    }
    let triple_streams = config
        .bootstrap
        .listeners
        .first()
        .map_or(tianlu_protocol::triple::DEFAULT_MAX_STREAMS, |l| {
            l.hcm.dubbo_proxy().max_concurrent_streams
        });
    let pool = Arc::new(ConnectionPool::new(client).with_triple_max_streams(triple_streams));
    let metrics = Arc::new(Metrics::default());
    let discovery = Arc::new(Discovery::new(Arc::clone(&pool), Arc::clone(&metrics)));
    let runtime = Runtime::build(config, &pool, &metrics, &discovery).await?;
    let summary = runtime.summary.clone();
    let shared = Shared::new(runtime, pool, metrics, discovery);
    let (stop_tx, stop_rx) = watch::channel(false);
    let reloader = Reloader::new(Arc::clone(&shared), config, remote);
    reloader.follow_remote(config).await;
    shared
        .discovery
        .on_routes_changed(reloader.rebuild_trigger());
    reloader.watch_files(Duration::from_secs(1), stop_rx.clone());
    #[cfg(unix)]
    reloader.watch_sighup(stop_rx.clone());
    let drain = config.bootstrap.shutdown.timeout;
    let mut tasks = Vec::new();
    let mut bound = Vec::new();
    for (i, l) in config.bootstrap.listeners.iter().enumerate() {
        let transport = match (&l.protocol, &l.tls) {
            (ListenerProtocol::Http, _) => Transport::Http,
            (ListenerProtocol::Http2, _) => Transport::Http2,
            (ListenerProtocol::Https, Some(t)) => Transport::Https {
                cert: t.cert.clone(),
                key: t.key.clone(),
            },
            (ListenerProtocol::Https, None) => {
                return Err(anyhow!("listener {}: HTTPS needs config.tls", l.name))
            }
        };
        let spec = ListenerSpec {
            name: l.name.clone(),
            addr: resolve_listen(&l.address.address, l.address.port).await?,
            transport,
            idle_timeout: l.hcm.idle_timeout,
        };
        let listener = server::bind(spec).await.map_err(|e| anyhow!(e))?;
        tracing::info!(listener = %l.name, addr = %listener.local_addr, "listening");
        bound.push((l.name.clone(), listener.local_addr));
        let app = server::app(Arc::clone(&shared), i, l.hcm.generate_request_id);
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            listener
                .serve(
                    app,
                    async move {
                        let _ = rx.wait_for(|s| *s).await;
                    },
                    drain,
                )
                .await;
        }));
    }
    let ready = Arc::new(AtomicBool::new(false));
    let mut admin_addr = None;
    if let Some(a) = &config.bootstrap.admin {
        let addr = resolve_listen(&a.address, a.port).await?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("admin: cannot bind {addr}"))?;
        let local = listener.local_addr()?;
        tracing::info!(addr = %local, "admin listening");
        admin_addr = Some(local);
        let router = Admin::new(
            Arc::clone(&shared),
            Arc::clone(&reloader),
            Arc::clone(&ready),
            a.token.clone(),
        )
        .router();
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
        }));
    }
    let registration = match &config.bootstrap.registration {
        Some(r) => Some(SelfRegistration::start(r, &bound).await),
        None => None,
    };
    ready.store(true, Ordering::Relaxed);
    tracing::info!("tianlu started: {summary}");
    Ok(Running {
        listeners: bound,
        admin: admin_addr,
        shared,
        reloader,
        registration,
        stop: stop_tx,
        tasks,
    })
}

/// Runs until SIGINT or SIGTERM, then drains and returns.
pub async fn run(config_path: &Path) -> Result<()> {
    let running = start(config_path).await?;
    shutdown_signal().await;
    tracing::info!("shutting down: no new connections; draining in-flight requests");
    running.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

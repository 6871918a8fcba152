//! Test support for the gateway's end-to-end tests: the real gateway started in-process on
//! 127.0.0.1:0 from YAML text, Rust sample providers that can be crashed (their own tokio
//! runtime is torn down, closing every socket at once), and an HTTP client.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tianlu::gateway::Running;
use tianlu_protocol::dubbo::{serve, ServerConfig};
use tianlu_sample_provider::SampleProvider;

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A scratch directory for one test's config files.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tianlu-it-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A gateway started from a conf.yaml whose single listener binds 127.0.0.1:0.
pub struct Gateway {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The running gateway.
    pub running: Option<Running>,
    /// Where its configuration files are.
    pub dir: PathBuf,
}

impl Gateway {
    /// Writes `conf` (conf.yaml) and `api` (api_config.yaml, referenced as `api_config.yaml`)
    /// and starts the gateway.
    pub async fn start(tag: &str, conf: &str, api: &str) -> Result<Gateway> {
        let dir = scratch_dir(tag);
        std::fs::write(dir.join("conf.yaml"), conf)?;
        std::fs::write(dir.join("api_config.yaml"), api)?;
        let running = tianlu::gateway::start(&dir.join("conf.yaml"))
            .await
            .context("starting the gateway")?;
        let addr = running.listeners[0].1;
        Ok(Gateway {
            base: format!("http://{addr}"),
            running: Some(running),
            dir,
        })
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the gateway and drains.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// The opening of the conf.yaml most tests write: one HTTP listener `test` on 127.0.0.1:0, up
/// to its `http_filters:` key. Filter items follow (indented by 16 spaces), then other
/// connection-manager keys (14) and `  clusters:` (2).
pub const LISTENER_HEAD: &str = "static_resources:
  listeners:
    - name: test
      protocol_type: HTTP
      address:
        socket_address: { address: 127.0.0.1, port: 0 }
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
";

/// The apiconfig filter item, reading `api_config.yaml` beside the conf.yaml.
pub const API_CONFIG_FILTER: &str = "                - name: dgp.filter.http.apiconfig
                  config: { path: api_config.yaml }
";

/// A conf.yaml with one listener named `name` on 127.0.0.1:0 whose connection manager has the
/// given `http_filters` items (YAML list items, indented by 16 spaces); `static_extra` goes
/// into `static_resources` before the listeners (indented by 2), `top_extra` after them at the
/// top level.
pub fn one_listener(name: &str, http_filters: &str, static_extra: &str, top_extra: &str) -> String {
    format!(
        r#"static_resources:
{static_extra}  listeners:
    - name: {name}
      address:
        socket_address: {{ address: 127.0.0.1, port: 0 }}
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
{http_filters}
{top_extra}"#
    )
}

/// A conf.yaml with one HTTP listener on 127.0.0.1:0, the apiconfig and dubboproxy filters,
/// and the given clusters block (YAML list items, indented by 4 spaces).
pub fn conf_yaml(clusters: &str, hcm_timeout: &str) -> String {
    format!(
        r#"{LISTENER_HEAD}                - name: tianlu.filter.http.bodylimit
                  config: {{ max_bytes: 65536 }}
                - name: dgp.filter.http.apiconfig
                  config: {{ path: api_config.yaml }}
                - name: dgp.filter.http.dubboproxy
                  config:
                    dubboProxyConfig:
                      timeout_config: {{ connect_timeout: 1s, request_timeout: 5s }}
                      retries: 2
              timeout: {hcm_timeout}
  clusters:
{clusters}
"#
    )
}

/// A Rust sample provider on its own tokio runtime (so it can be crashed).
pub struct RustProvider {
    /// Its address.
    pub addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RustProvider {
    /// Starts a provider named `name` on 127.0.0.1:0 (or on `addr` when given).
    pub fn start(name: &str, addr: Option<SocketAddr>) -> Result<RustProvider> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let bind = addr.unwrap_or_else(|| "127.0.0.1:0".parse().expect("addr"));
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let handler = Arc::new(SampleProvider::new(name, Duration::ZERO));
        runtime.spawn(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => {
                    let _ = serve(l, handler, ServerConfig::default()).await;
                }
                Err(e) => eprintln!("sample provider cannot listen: {e}"),
            }
        });
        Ok(RustProvider {
            addr,
            runtime: Some(runtime),
        })
    }

    /// Crashes the provider: every task and socket goes at once, like a killed process.
    pub fn kill(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for RustProvider {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP client for the tests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// An endpoint line for `conf_yaml` clusters.
pub fn endpoint(addr: SocketAddr, weight: u32) -> String {
    format!(
        "        - socket_address: {{ address: {}, port: {} }}\n          meta: {{ weight: \"{weight}\" }}\n",
        addr.ip(),
        addr.port()
    )
}

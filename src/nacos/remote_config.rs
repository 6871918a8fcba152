//! api_configs kept in Nacos (`dgp.filter.http.apiconfig` with `nacos: {address, data_id,
//! group, …}`): fetched before every load, so a load or reload sees the texts of that moment,
//! and followed with Nacos config listeners that trigger a reload on change. A change that
//! does not validate is refused by the reload like a bad file: the last good routes keep
//! serving and the error is reported (log, admin `/config`, `tianlu_reloads_total`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tianlu_api_config::bootstrap::filter::{HttpFilterConfig, NacosApiSource};
use tianlu_api_config::{Config, ConfigError, RegistryConfig, RemoteTexts, Warning};
use tianlu_registry::NacosConfigSource;

/// How often a followed api_config is read besides the change pushes.
const POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The Nacos config clients and listeners of one gateway process.
pub struct RemoteConfigs {
    /// Clients that hold the change listeners (gRPC). Texts are read through the open API
    /// instead: a nacos-sdk client may keep answering reads from its cache.
    listeners: tokio::sync::Mutex<HashMap<RegistryConfig, NacosConfigSource>>,
    http: reqwest::Client,
    follows: Mutex<HashMap<NacosApiSource, tokio::task::JoinHandle<()>>>,
}

impl Drop for RemoteConfigs {
    fn drop(&mut self) {
        let follows = self
            .follows
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, task) in follows.drain() {
            task.abort();
        }
    }
}

impl Default for RemoteConfigs {
    fn default() -> Self {
        RemoteConfigs {
            listeners: tokio::sync::Mutex::new(HashMap::new()),
            http: reqwest::Client::new(),
            follows: Mutex::new(HashMap::new()),
        }
    }
}

impl RemoteConfigs {
    /// No clients yet.
    pub fn new() -> Self {
        Self::default()
    }

    async fn client_in(
        map: &tokio::sync::Mutex<HashMap<RegistryConfig, NacosConfigSource>>,
        server: &RegistryConfig,
    ) -> Result<NacosConfigSource, String> {
        let mut clients = map.lock().await;
        if let Some(c) = clients.get(server) {
            return Ok(c.clone());
        }
        let cfg = crate::discovery::nacos_config(server);
        let c = tokio::time::timeout(server.timeout, NacosConfigSource::new(&cfg))
            .await
            .map_err(|_| {
                format!(
                    "the Nacos config client did not start within {:?}",
                    server.timeout
                )
            })?
            .map_err(|e| e.to_string())?;
        clients.insert(server.clone(), c.clone());
        Ok(c)
    }

    async fn fetch(&self, src: &NacosApiSource) -> Result<String, String> {
        match read_http(&self.http, src).await? {
            Some(text) => Ok(text),
            None => Err(format!(
                "no config with data_id {:?} in group {:?}",
                src.data_id, src.group
            )),
        }
    }

    /// The current texts of the Nacos api_configs `path` names.
    pub async fn texts(&self, path: &Path) -> RemoteTexts {
        let mut texts = RemoteTexts::new();
        for src in Config::nacos_sources(path) {
            let text = self.fetch(&src).await;
            texts.insert(src, text);
        }
        texts
    }

    /// Loads `path` with the current texts of its Nacos api_configs.
    pub async fn load(&self, path: &Path) -> Result<(Config, Vec<Warning>), ConfigError> {
        Config::load_with(path, &self.texts(path).await)
    }

    /// Follows the Nacos api_configs of `config`: `on_change` runs after each change (the
    /// listeners of sources the configuration no longer names are removed).
    pub async fn follow(&self, config: &Config, on_change: Arc<dyn Fn() + Send + Sync>) {
        let wanted: Vec<NacosApiSource> = config
            .bootstrap
            .listeners
            .iter()
            .flat_map(|l| &l.hcm.http_filters)
            .filter_map(|f| match &f.config {
                HttpFilterConfig::ApiConfig(a) => a.nacos.clone(),
                _ => None,
            })
            .collect();
        {
            let mut follows = self
                .follows
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            follows.retain(|src, task| {
                let keep = wanted.contains(src);
                if !keep {
                    task.abort();
                }
                keep
            });
        }
        for src in wanted {
            let known = self
                .follows
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains_key(&src);
            if known {
                continue;
            }
            let watch = match Self::client_in(&self.listeners, &src.server).await {
                Ok(c) => c
                    .listen(&src.data_id, &src.group)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            let mut watch = match watch {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(data_id = %src.data_id, group = %src.group, error = %e, "cannot follow the api_config in Nacos; changes need a reload");
                    continue;
                }
            };
            let on_change = Arc::clone(&on_change);
            let http = self.http.clone();
            let source = src.clone();
            let task = tokio::spawn(async move {
                // Pushes are the fast path; a periodic read catches changes whose push was
                // lost (a reconnection, or a server that pushes only some writes).
                let mut last = read_http(&http, &source).await.ok().flatten();
                let mut poll = tokio::time::interval(POLL);
                poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                poll.tick().await;
                loop {
                    let pushed = tokio::select! {
                        next = watch.next() => match next {
                            Some(_) => true,
                            None => break,
                        },
                        _ = poll.tick() => false,
                    };
                    let now = match read_http(&http, &source).await {
                        Ok(text) => {
                            tracing::trace!(data_id = %source.data_id, pushed, same = (text == last), "api_config read from Nacos");
                            text
                        }
                        Err(e) => {
                            tracing::debug!(data_id = %source.data_id, error = %e, "cannot read the api_config from Nacos; keeping the routes in force");
                            continue;
                        }
                    };
                    if now != last || (pushed && now.is_none()) {
                        last = now;
                        tracing::info!(data_id = %source.data_id, group = %source.group, "api_config changed in Nacos; reloading");
                        on_change();
                    }
                }
            });
            self.follows
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(src, task);
        }
    }
}

/// Reads a config through the Nacos open API (`GET /nacos/v1/cs/configs`), logging in first
/// when credentials are set. `None` when the config does not exist.
async fn read_http(http: &reqwest::Client, src: &NacosApiSource) -> Result<Option<String>, String> {
    let server = &src.server;
    let address = crate::discovery::nacos_config(server).server_addr;
    let mut last_error = String::from("no Nacos address");
    for host in address.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        let base = format!("http://{host}/nacos/v1");
        let mut query: Vec<(&str, String)> = vec![
            ("dataId", src.data_id.clone()),
            ("group", src.group.clone()),
        ];
        if let Some(ns) = &server.namespace {
            query.push(("tenant", ns.clone()));
        }
        let attempt = async {
            if let (Some(user), Some(pass)) = (&server.username, &server.password) {
                let text = http
                    .post(format!("{base}/auth/login"))
                    .form(&[("username", user.as_str()), ("password", pass.as_str())])
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .error_for_status()
                    .map_err(|e| format!("login: {e}"))?
                    .text()
                    .await
                    .map_err(|e| format!("login: {e}"))?;
                let login: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| format!("login: {e}"))?;
                let token = login["accessToken"]
                    .as_str()
                    .ok_or("login: no accessToken in the answer")?;
                query.push(("accessToken", token.to_owned()));
            }
            let resp = http
                .get(format!("{base}/cs/configs"))
                .query(&query)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match resp.status().as_u16() {
                200 => Ok(Some(resp.text().await.map_err(|e| e.to_string())?)),
                404 => Ok(None),
                s => Err(format!(
                    "HTTP {s}: {}",
                    resp.text().await.unwrap_or_default().trim()
                )),
            }
        };
        match tokio::time::timeout(server.timeout, attempt).await {
            Ok(Ok(text)) => return Ok(text),
            Ok(Err(e)) => last_error = format!("{host}: {e}"),
            Err(_) => last_error = format!("{host}: no answer within {:?}", server.timeout),
        }
    }
    Err(last_error)
}

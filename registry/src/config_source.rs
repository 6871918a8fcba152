//! A text config kept in Nacos (e.g. the gateway's `api_config` YAML): read it once, then
//! receive its new content on every change. nacos-sdk long-polls/streams the change over gRPC;
//! [`ConfigWatch`] turns its callbacks into a stream of texts.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use nacos_sdk::api::config::{ConfigChangeListener, ConfigResponse, ConfigService};
use tokio::sync::mpsc;

use crate::error::RegistryError;
use crate::nacos::{nacos_error, read_config, NacosConfig};

/// Changes that may wait for a slow consumer; older ones are dropped beyond that (only the
/// latest text matters).
const CHANGE_BUFFER: usize = 16;

/// A Nacos config client.
#[derive(Clone)]
pub struct NacosConfigSource {
    config: ConfigService,
    timeout: Duration,
}

impl std::fmt::Debug for NacosConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NacosConfigSource")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl NacosConfigSource {
    /// Connects to Nacos (server, namespace and credentials from `cfg`).
    pub async fn new(cfg: &NacosConfig) -> Result<Self, RegistryError> {
        Ok(NacosConfigSource {
            config: cfg.config_service().await?,
            timeout: cfg.metadata_timeout,
        })
    }

    /// The current text of `data_id`/`group`; `None` when there is no such config.
    pub async fn get(&self, data_id: &str, group: &str) -> Result<Option<String>, RegistryError> {
        read_config(&self.config, data_id, group, self.timeout).await
    }

    /// Publishes a text (creates or replaces the config).
    pub async fn publish(
        &self,
        data_id: &str,
        group: &str,
        content: &str,
    ) -> Result<(), RegistryError> {
        let done = self
            .config
            .publish_config(
                data_id.to_string(),
                group.to_string(),
                content.to_string(),
                None,
            )
            .await
            .map_err(|e| nacos_error(&format!("publish config {data_id}/{group}"), e))?;
        if done {
            Ok(())
        } else {
            Err(RegistryError::Nacos {
                op: format!("publish config {data_id}/{group}"),
                reason: "the server refused it".into(),
            })
        }
    }

    /// Starts listening: every change of `data_id`/`group` yields its new text (an empty text
    /// when the config was removed).
    pub async fn listen(&self, data_id: &str, group: &str) -> Result<ConfigWatch, RegistryError> {
        let (tx, rx) = mpsc::channel(CHANGE_BUFFER);
        let listener = Arc::new(Forward(tx));
        let as_dyn: Arc<dyn ConfigChangeListener> = listener.clone();
        self.config
            .add_listener(data_id.to_string(), group.to_string(), as_dyn)
            .await
            .map_err(|e| nacos_error(&format!("listen to config {data_id}/{group}"), e))?;
        Ok(ConfigWatch {
            rx,
            config: self.config.clone(),
            data_id: data_id.to_string(),
            group: group.to_string(),
            listener,
        })
    }
}

struct Forward(mpsc::Sender<String>);

impl ConfigChangeListener for Forward {
    fn notify(&self, config: ConfigResponse) {
        // A full buffer means the consumer is behind: it will read newer texts anyway.
        let _ = self.0.try_send(config.content().clone());
    }
}

/// Changes of one config. Dropping it removes the listener.
pub struct ConfigWatch {
    rx: mpsc::Receiver<String>,
    config: ConfigService,
    data_id: String,
    group: String,
    listener: Arc<Forward>,
}

impl std::fmt::Debug for ConfigWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigWatch")
            .field("data_id", &self.data_id)
            .field("group", &self.group)
            .finish()
    }
}

impl ConfigWatch {
    /// The next text; `None` when the client is gone.
    pub async fn next(&mut self) -> Option<String> {
        self.rx.recv().await
    }
}

impl Stream for ConfigWatch {
    type Item = String;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for ConfigWatch {
    fn drop(&mut self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let config = self.config.clone();
        let data_id = std::mem::take(&mut self.data_id);
        let group = std::mem::take(&mut self.group);
        let listener: Arc<dyn ConfigChangeListener> = self.listener.clone();
        handle.spawn(async move {
            let _ = config.remove_listener(data_id, group, listener).await;
        });
    }
}

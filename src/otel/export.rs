//! The OTLP/HTTP exporter: a background task that takes finished spans from a bounded queue,
//! sends them in batches (`batch_size`, or whatever arrived within `flush_interval`) as one
//! protobuf `ExportTraceServiceRequest` per POST, with a timeout per request. A failed export
//! drops its batch (counted, logged once per outage); the task ends with a last flush when
//! every sender is gone.

use super::proto::{
    ExportTraceServiceRequest, InstrumentationScope, KeyValue, Resource, ResourceSpans, ScopeSpans,
    Span,
};
use crate::metrics::Metrics;
use prost::Message;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tianlu_api_config::bootstrap::otlp::TracingConfig;
use tokio::sync::mpsc;

struct Exporter {
    client: reqwest::Client,
    url: String,
    resource: Resource,
    metrics: Arc<Metrics>,
    failing: bool,
}

impl Exporter {
    async fn send(&mut self, spans: Vec<Span>) {
        let n = spans.len() as u64;
        let body = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tianlu".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                    }),
                    spans,
                }],
            }],
        }
        .encode_to_vec();
        let result = self
            .client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        match result {
            Ok(_) => {
                self.metrics.spans_exported.fetch_add(n, Ordering::Relaxed);
                if self.failing {
                    tracing::info!(url = %self.url, "trace export works again");
                    self.failing = false;
                }
            }
            Err(e) => {
                self.metrics.spans_failed.fetch_add(n, Ordering::Relaxed);
                if !self.failing {
                    tracing::warn!(url = %self.url, error = %e, "trace export failed; spans are dropped until the collector answers");
                    self.failing = true;
                }
            }
        }
    }
}

/// Starts the exporter task; spans sent to the returned queue are exported.
pub(super) fn spawn(
    cfg: &TracingConfig,
    metrics: Arc<Metrics>,
) -> Result<mpsc::Sender<Span>, String> {
    let client = reqwest::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout.min(Duration::from_secs(2)))
        .build()
        .map_err(|e| format!("tracing: cannot build the OTLP client: {e}"))?;
    let (tx, mut rx) = mpsc::channel::<Span>(cfg.queue_size);
    let mut exporter = Exporter {
        client,
        url: cfg.url.clone(),
        resource: Resource {
            attributes: vec![
                KeyValue::string("service.name", cfg.service_name.clone()),
                KeyValue::string("telemetry.sdk.name", "tianlu"),
            ],
        },
        metrics,
        failing: false,
    };
    let (batch_size, every) = (cfg.batch_size, cfg.flush_interval);
    tokio::spawn(async move {
        let mut batch: Vec<Span> = Vec::with_capacity(batch_size);
        loop {
            // Wait for the first span of a batch, then fill it until full or the interval ends.
            let Some(first) = rx.recv().await else { break };
            batch.push(first);
            let deadline = tokio::time::Instant::now() + every;
            let mut closed = false;
            while batch.len() < batch_size {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(s)) => batch.push(s),
                    Ok(None) => {
                        closed = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
            exporter.send(std::mem::take(&mut batch)).await;
            if closed {
                break;
            }
        }
    });
    Ok(tx)
}

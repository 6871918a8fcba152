//! Application level in Nacos: the mapping config (`dataId={interface}, group=mapping`), the
//! application services, and `MetadataInfo` per revision (remote config or MetadataService).

use super::*;

/// Application level.
pub(super) async fn application_loop(inner: &Arc<Inner>, key: &ServiceKey, mut out: Publisher) {
    let (poke_tx, mut poke_rx) = mpsc::unbounded_channel();
    let mut subs = Subscriptions::new(
        inner.naming.clone(),
        inner.cfg.group.clone(),
        poke_tx.clone(),
    );
    let mapping_listener = Arc::new(Poke(poke_tx));
    let mut mapping_listening = false;
    let mut lists = Lists::default();
    let mut epoch = inner.epoch.clone();
    let mut status = inner.status.clone();
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut first = true;
    loop {
        let next = if !status.borrow_and_update().is_connected() && !first {
            Next { retry: None }
        } else {
            first = false;
            let round = async {
                let config = inner.config().await?;
                if !mapping_listening {
                    let listener: Arc<dyn ConfigChangeListener> = mapping_listener.clone();
                    config
                        .add_listener(key.interface.clone(), MAPPING_GROUP.into(), listener)
                        .await
                        .map_err(|e| nacos_error("listen to the mapping", e))?;
                    mapping_listening = true;
                }
                application_round(inner, config, key, &mut subs, &mut lists).await
            };
            match round.await {
                Ok((all, poll, retry)) => {
                    if !out.publish(all).await {
                        break;
                    }
                    let retry = if retry {
                        Some(backoff.next_delay())
                    } else {
                        backoff.reset();
                        None
                    };
                    Next {
                        retry: [poll, retry].into_iter().flatten().min(),
                    }
                }
                Err(e) => {
                    debug!(interface = %key.interface, error = %e, "Nacos read failed; keeping the last providers");
                    Next {
                        retry: Some(backoff.next_delay()),
                    }
                }
            }
        };
        if !wait(&mut poke_rx, &mut epoch, &mut status, &out, next.retry).await {
            break;
        }
    }
    if mapping_listening {
        if let Ok(config) = inner.config().await {
            let listener: Arc<dyn ConfigChangeListener> = mapping_listener;
            let _ = config
                .remove_listener(key.interface.clone(), MAPPING_GROUP.into(), listener)
                .await;
        }
    }
}

/// Returns the union, when to read again (grace period), and whether some metadata is still
/// missing.
async fn application_round(
    inner: &Inner,
    config: &ConfigService,
    key: &ServiceKey,
    subs: &mut Subscriptions,
    lists: &mut Lists,
) -> Result<(Vec<Instance>, Option<Duration>, bool), RegistryError> {
    let apps = read_config(
        config,
        &key.interface,
        MAPPING_GROUP,
        inner.cfg.metadata_timeout,
    )
    .await?
    .map(|t| parse_apps(t.as_bytes()))
    .unwrap_or_default();
    let in_grace = inner.in_grace();
    let mut missing = false;
    let services: BTreeSet<String> = apps.iter().cloned().collect();
    for app in &apps {
        subs.ensure(app).await?;
        let raw = inner
            .naming
            .get_all_instances(
                app.clone(),
                Some(inner.cfg.group.clone()),
                Vec::new(),
                in_grace.is_none(),
            )
            .await
            .map_err(|e| nacos_error(&format!("list {app}"), e))?;
        let mut fresh = Vec::new();
        for record in raw.iter().filter(|r| r.enabled && r.healthy) {
            let Ok(host) = record.ip.parse() else {
                continue;
            };
            let Ok(port) = u16::try_from(record.port) else {
                continue;
            };
            let instance = AppInstance {
                app: app.clone(),
                host,
                port,
                metadata: record
                    .metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let Some(revision) = instance.revision().map(str::to_string) else {
                continue;
            };
            match metadata_for(inner, config, &instance, &revision).await {
                Ok(info) => fresh.extend(info.instances(key, &instance)),
                Err(e) => {
                    warn!(%app, %revision, error = %e, "no metadata for instance yet; will retry");
                    missing = true;
                }
            }
        }
        if lists.update(app, fresh, in_grace.is_some()) {
            debug!(%app, "empty list right after reconnection held back");
        }
    }
    lists.retain(&services);
    // The mapping's change listener is the fast path; a periodic re-read is the safety net for
    // notifications lost while the config connection was re-established after an outage.
    let poll =
        grace_poll(in_grace).map_or(inner.cfg.scan_interval, |g| g.min(inner.cfg.scan_interval));
    Ok((lists.all(), Some(poll), missing))
}

async fn metadata_for(
    inner: &Inner,
    config: &ConfigService,
    instance: &AppInstance,
    revision: &str,
) -> Result<Arc<MetadataInfo>, MetadataError> {
    if let Some(hit) = inner.cache.get(&instance.app, revision) {
        return Ok(hit);
    }
    let timeout = inner.cfg.metadata_timeout;
    let remote = || async {
        match read_config(config, &instance.app, revision, timeout).await {
            Ok(Some(text)) => MetadataInfo::from_json_bytes(text.as_bytes()),
            Ok(None) => Err(MetadataError::Report(format!(
                "no config {}/{revision}",
                instance.app
            ))),
            Err(e) => Err(MetadataError::Report(e.to_string())),
        }
    };
    let info = match instance.storage_type() {
        StorageType::Remote => match remote().await {
            Ok(info) => info,
            Err(first) => fetch_metadata(instance, revision, timeout)
                .await
                .map_err(|_| first)?,
        },
        StorageType::Local => match fetch_metadata(instance, revision, timeout).await {
            Ok(info) => info,
            Err(first) => remote().await.map_err(|_| first)?,
        },
    };
    let info = Arc::new(info);
    inner.cache.put(&instance.app, revision, Arc::clone(&info));
    Ok(info)
}

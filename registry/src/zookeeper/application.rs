//! Application level in ZooKeeper: `/{root}/mapping/{interface}` → applications →
//! `/{services}/{app}/{ip:port}` instance records → `MetadataInfo` per revision.

use super::*;

/// One read of the application-level layout.
struct AppRound {
    instances: Vec<Instance>,
    waiters: Vec<Waiter>,
    retry: bool,
}

/// Application level: mapping → applications → instances → metadata → full list.
pub(super) async fn application_loop(inner: &Inner, key: &ServiceKey, mut out: Publisher) {
    let mut conn = inner.conn.clone();
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        let client = tokio::select! {
            c = current_client(&mut conn) => c,
            _ = out.closed() => None,
        };
        let Some(client) = client else { return };
        let wake = match app_round(inner, &client, key).await {
            Ok(round) => {
                if !out.publish(round.instances).await {
                    return;
                }
                let retry = if round.retry {
                    Some(backoff.next_delay())
                } else {
                    backoff.reset();
                    None
                };
                wait(round.waiters, &mut conn, &out, retry).await
            }
            Err(e) => {
                debug!(interface = %key.interface, error = %e, "ZooKeeper read failed; keeping the last providers");
                wait(Vec::new(), &mut conn, &out, Some(backoff.next_delay())).await
            }
        };
        if let Wake::Stop = wake {
            return;
        }
    }
}

async fn app_round(
    inner: &Inner,
    client: &zk::Client,
    key: &ServiceKey,
) -> Result<AppRound, zk::Error> {
    let mut round = AppRound {
        instances: Vec::new(),
        waiters: Vec::new(),
        retry: false,
    };
    let mapping = format!("{}/mapping/{}", inner.root, key.interface);
    let (data, w) = data_watch(client, &mapping).await?;
    round.waiters.push(w);
    let apps = data.map(|d| parse_apps(&d)).unwrap_or_default();
    for app in apps {
        let app_path = format!("{}/{app}", inner.services_root);
        let (children, w) = children_watch(client, &app_path).await?;
        round.waiters.push(w);
        for child in children {
            let node = format!("{app_path}/{child}");
            let (data, w) = data_watch(client, &node).await?;
            round.waiters.push(w);
            let Some(data) = data else { continue };
            let instance = match AppInstance::from_curator_json(&app, &data) {
                Ok(i) => i,
                Err(e) => {
                    debug!(%node, error = %e, "skipping an instance record");
                    continue;
                }
            };
            let Some(revision) = instance.revision().map(str::to_string) else {
                debug!(%node, "instance has no metadata revision");
                continue;
            };
            match metadata_for(inner, client, &instance, &revision).await {
                Ok(info) => round.instances.extend(info.instances(key, &instance)),
                Err(e) => {
                    warn!(%node, %revision, error = %e, "no metadata for instance yet; will retry");
                    round.retry = true;
                }
            }
        }
    }
    Ok(round)
}

/// `MetadataInfo` of an instance's revision: cache, then the source its storage type names,
/// then the other one.
async fn metadata_for(
    inner: &Inner,
    client: &zk::Client,
    instance: &AppInstance,
    revision: &str,
) -> Result<Arc<MetadataInfo>, MetadataError> {
    if let Some(hit) = inner.cache.get(&instance.app, revision) {
        return Ok(hit);
    }
    let report = format!("{}/metadata/{}/{revision}", inner.root, instance.app);
    let remote = || async {
        match client.get_data(&report).await {
            Ok((data, _)) => MetadataInfo::from_json_bytes(&data),
            Err(e) => Err(MetadataError::Report(format!("get {report}: {e}"))),
        }
    };
    let timeout = inner.cfg.metadata_timeout;
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

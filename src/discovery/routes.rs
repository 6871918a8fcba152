//! Routes from a registry (`dgp.adapter.dubboregistrycenter`): for every allowed interface the
//! adapter's registries list, each provider application, group and version becomes a service
//! and each of its methods a `POST` route:
//!
//! - `/{application}/{interface}/{method}` (pixiu's path) for the default-group variant with
//!   the highest version, and
//! - `/{application}/{group|-}/{interface}/{version|-}/{method}` for every variant.
//!
//! Parameter types come from the service definitions the providers reported to the registry's
//! metadata report; the call step ([`crate::call::invoke`]) accepts pixiu's `{"types", "values"}` body
//! or a typed body (a JSON array of the arguments, or the only argument itself) and checks
//! either against those signatures. The route set is republished whenever providers change it.

use super::Source;
use futures_util::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tianlu_api_config::bootstrap::adapter::Adapter;
use tianlu_api_config::{ApiConfig, Route};
use tianlu_registry::{InstanceSet, ServiceDefinition, ServiceKey};
use tokio::sync::watch;

/// One generated route and what its call needs.
#[derive(Debug, Clone)]
pub struct GeneratedRoute {
    /// The route (no mapping: the body is read by the signatures).
    pub route: Route,
    /// The method's declared signatures (several when overloaded; empty when the provider
    /// reported no service definition).
    pub signatures: Vec<Vec<String>>,
    /// The exact service: interface, group and version.
    pub service: ServiceKey,
}

/// The routes of one adapter, kept current by a task.
pub struct AdapterFeed {
    /// The adapter.
    pub adapter: Adapter,
    routes: watch::Receiver<Arc<Vec<GeneratedRoute>>>,
    ready: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AdapterFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AdapterFeed {
    /// Starts following the adapter's registries; `changed` runs after each new route set.
    pub(super) fn start(
        adapter: Adapter,
        sources: Vec<Source>,
        changed: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (tx, routes) = watch::channel(Arc::new(Vec::new()));
        let (ready_tx, ready) = watch::channel(false);
        let task = tokio::spawn(run(adapter.clone(), sources, tx, ready_tx, changed));
        AdapterFeed {
            adapter,
            routes,
            ready,
            task,
        }
    }

    /// The routes now.
    pub fn routes(&self) -> Arc<Vec<GeneratedRoute>> {
        Arc::clone(&self.routes.borrow())
    }

    /// Waits until every registry answered for every interface, or `timeout`.
    pub async fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        let mut r = self.ready.clone();
        let _ = tokio::time::timeout(timeout, r.wait_for(|v| *v)).await;
        *self.ready.borrow()
    }
}

/// A service variant: (application, interface, group, version).
type Variant = (String, String, Option<String>, Option<String>);

async fn run(
    adapter: Adapter,
    sources: Vec<Source>,
    tx: watch::Sender<Arc<Vec<GeneratedRoute>>>,
    ready: watch::Sender<bool>,
    changed: Arc<dyn Fn() + Send + Sync>,
) {
    let mut keys = Vec::new();
    let mut watches = Vec::new();
    for (si, s) in sources.iter().enumerate() {
        for iface in &adapter.interfaces {
            let key = ServiceKey::new(iface.clone())
                .with_group("*")
                .with_version("*");
            let i = keys.len();
            keys.push((si, iface.clone()));
            watches.push(s.watch(&key).map(move |c| (i, c)));
        }
    }
    let mut sets: Vec<Option<InstanceSet>> = keys.iter().map(|_| None).collect();
    let mut merged = futures_util::stream::select_all(watches);
    let mut definitions: HashMap<Variant, Option<ServiceDefinition>> = HashMap::new();
    let mut last: Option<Vec<(String, Vec<Vec<String>>)>> = None;
    while let Some((i, change)) = merged.next().await {
        sets[i].get_or_insert_with(InstanceSet::new).apply(change);
        // Services and their method names, and which registry reported each.
        let mut variants: BTreeMap<Variant, (usize, BTreeSet<String>)> = BTreeMap::new();
        for (k, set) in sets.iter().enumerate() {
            let Some(set) = set else { continue };
            let (si, iface) = &keys[k];
            for inst in set.instances() {
                let Some(app) = inst.application() else {
                    continue;
                };
                let v = (
                    app.to_owned(),
                    iface.clone(),
                    inst.group.clone(),
                    inst.version.clone(),
                );
                let entry = variants.entry(v).or_insert((*si, BTreeSet::new()));
                entry
                    .1
                    .extend(inst.methods().into_iter().map(str::to_owned));
            }
        }
        for (v, (si, _)) in &variants {
            if definitions.get(v).is_some_and(Option::is_some) {
                continue;
            }
            let (app, iface, group, version) = v;
            match sources[*si]
                .definition(iface, version.as_deref(), group.as_deref(), app)
                .await
            {
                Ok(d) => {
                    definitions.insert(v.clone(), d);
                }
                Err(e) => {
                    tracing::warn!(interface = %iface, application = %app, error = %e, "no service definition yet; its routes take client-given types");
                }
            }
        }
        let routes = build(&adapter.id, &variants, &definitions);
        let summary: Vec<(String, Vec<Vec<String>>)> = routes
            .iter()
            .map(|g| (g.route.label(), g.signatures.clone()))
            .collect();
        if last.as_ref() != Some(&summary) {
            tracing::info!(adapter = %adapter.id, routes = routes.len(), "routes from the registry changed");
            let _ = tx.send(Arc::new(routes));
            last = Some(summary);
            changed();
        }
        if !*ready.borrow() && sets.iter().all(Option::is_some) {
            let _ = ready.send(true);
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn path_safe(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '$'))
}

/// The routes for `variants` (methods from the registry, signatures from the definitions).
fn build(
    adapter_id: &str,
    variants: &BTreeMap<Variant, (usize, BTreeSet<String>)>,
    definitions: &HashMap<Variant, Option<ServiceDefinition>>,
) -> Vec<GeneratedRoute> {
    // The default-group variant with the highest version gets pixiu's short path.
    let mut short: BTreeMap<(String, String), &Variant> = BTreeMap::new();
    for v in variants.keys().filter(|v| v.2.is_none()) {
        let k = (v.0.clone(), v.1.clone());
        match short.get(&k) {
            Some(other) if other.3 >= v.3 => {}
            _ => {
                short.insert(k, v);
            }
        }
    }
    let mut yaml = String::from("name: registry\nresources:\n");
    let mut meta: Vec<(String, Vec<Vec<String>>, ServiceKey)> = Vec::new();
    for (v, (_, methods)) in variants {
        let (app, iface, group, version) = v;
        if !path_safe(app) || group.as_deref().is_some_and(|g| !path_safe(g)) {
            tracing::warn!(application = %app, "application or group name cannot be a path segment; no routes");
            continue;
        }
        let definition = definitions.get(v).cloned().flatten();
        let mut names: BTreeSet<String> = methods.clone();
        if let Some(d) = &definition {
            names.extend(d.methods.iter().map(|m| m.name.clone()));
        }
        let mut service = ServiceKey::new(iface.clone());
        if let Some(g) = group {
            service = service.with_group(g.clone());
        }
        if let Some(ver) = version {
            service = service.with_version(ver.clone());
        }
        for method in names.iter().filter(|m| path_safe(m)) {
            let signatures: Vec<Vec<String>> = definition
                .as_ref()
                .map(|d| {
                    d.methods_named(method)
                        .map(|m| m.parameter_types.clone())
                        .collect()
                })
                .unwrap_or_default();
            let mut paths = vec![format!(
                "/{app}/{}/{iface}/{}/{method}",
                group.as_deref().unwrap_or("-"),
                version.as_deref().filter(|s| path_safe(s)).unwrap_or("-")
            )];
            if short.get(&(app.clone(), iface.clone())) == Some(&v) {
                paths.push(format!("/{app}/{iface}/{method}"));
            }
            for path in paths {
                yaml.push_str(&format!(
                    "  - path: {}\n    methods:\n      - httpVerb: POST\n        integrationRequest:\n          interface: {}\n          method: {}\n          applicationName: {}\n",
                    quote(&path),
                    quote(iface),
                    quote(method),
                    quote(app)
                ));
                if let Some(g) = group {
                    yaml.push_str(&format!("          group: {}\n", quote(g)));
                }
                if let Some(ver) = version {
                    yaml.push_str(&format!("          version: {}\n", quote(ver)));
                }
                meta.push((path, signatures.clone(), service.clone()));
            }
        }
    }
    if meta.is_empty() {
        return Vec::new();
    }
    match ApiConfig::from_yaml_str(&yaml, format!("adapter://{adapter_id}")) {
        Ok((api, _)) => api
            .routes
            .into_iter()
            .zip(meta)
            .map(|(route, (_, signatures, service))| GeneratedRoute {
                route,
                signatures,
                service,
            })
            .collect(),
        Err(e) => {
            tracing::error!(adapter = %adapter_id, "generated routes do not validate: {e}");
            Vec::new()
        }
    }
}

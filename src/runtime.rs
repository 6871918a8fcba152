//! The runtime snapshot a request is served from: per listener, the filter chain, the route
//! table and each route's compiled call plan (Java types, class policy, response shaping,
//! upstream, deadline, retries); plus the clusters. Built from a validated [`Config`] and
//! swapped in whole, so a request never sees half of a reload.

use crate::discovery::{AdapterFeed, Discovery, Feed, FeedKey, GeneratedRoute};
use crate::filter::{self, Chain};
use crate::metrics::{Metrics, RouteStats};
use crate::upstream::balance::{HashTuning, Policy};
use crate::upstream::{
    Cluster, ClusterSettings, ConnectionPool, EndpointSpec, HealthCheck, OutlierConfig, RetryBudget,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tianlu_api_config::{
    Backend, Config, DubboProxyConfig, HashKey, HttpConnectionManager, LbPolicy, Protocol, Route,
    RouteTable,
};
use tianlu_protocol::generic::{InputPolicy, JavaType, OutputOptions};
use tianlu_registry::ServiceKey;

/// Largest request body accepted when no filter sets a lower limit.
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// Everything a request needs, for every listener.
pub struct Runtime {
    /// One entry per configured listener, in configuration order.
    pub listeners: Vec<ListenerSite>,
    /// Clusters by name (static clusters and one per direct `url`).
    pub clusters: HashMap<String, Arc<Cluster>>,
    /// `1 listener, 7 routes, 2 clusters`.
    pub summary: String,
    /// The discovered clusters this runtime uses (their feeds stop when no runtime holds them).
    pub discovered: Vec<Arc<Feed>>,
    /// The adapters whose routes this runtime serves.
    pub adapters: Vec<Arc<AdapterFeed>>,
    /// OpenTelemetry spans, when `tracing` is configured.
    pub tracer: Option<Arc<crate::otel::Tracer>>,
}

/// One listener's routing and filters.
pub struct ListenerSite {
    /// Listener name.
    pub name: String,
    /// The HTTP filter chain (listener level).
    pub chain: Chain,
    /// The connection manager (route rules, timeout).
    pub hcm: HttpConnectionManager,
    /// Largest request body.
    pub max_body: usize,
    /// The api_config routes.
    pub routes: RouteTable,
    /// Call plans, index-aligned with `routes.routes()`.
    pub plans: Vec<Arc<CallPlan>>,
    /// The `Server` response header (`server_name`).
    pub server_header: Option<http::HeaderValue>,
    /// Counters for requests that matched no route.
    pub unmatched: Arc<RouteStats>,
}

/// What the terminal step needs to call a route's provider, compiled at load time.
pub struct CallPlan {
    /// `GET /api/users/:id`.
    pub label: String,
    /// Declared parameter types (`parameterTypes`), parsed.
    pub declared_types: Option<Vec<JavaType>>,
    /// The class policy for client-supplied `class` keys and client-supplied types.
    pub policy: InputPolicy,
    /// Response shaping.
    pub output: OutputOptions,
    /// The cluster serving the route.
    pub cluster: Arc<Cluster>,
    /// The call deadline (whole request, retries included).
    pub deadline: Duration,
    /// Extra attempts on other endpoints when an attempt certainly did not reach a provider.
    pub retries: u32,
    /// What consistent-hash policies hash.
    pub hash_key: Option<HashKey>,
    /// The cluster's retry budget (shared by every route of the cluster).
    pub retry_budget: Arc<RetryBudget>,
    /// Canary / weighted routing to other clusters, groups or versions.
    pub split: crate::call::split::Split,
    /// Request counters of the route.
    pub stats: Arc<RouteStats>,
    /// The route's own filters (run after the listener's).
    pub chain: Chain,
    /// For routes generated from a registry: the method's declared signatures (the body is
    /// read against them instead of a mapping).
    pub signatures: Option<Vec<Vec<String>>>,
    /// Set when the whole body is the only argument: read in one pass (see [`WholeBody`]).
    pub whole_body: Option<crate::call::invoke::WholeBody>,
    /// `requestType: grpc`: the protobuf IDL call (descriptors from protosets or reflection).
    pub idl: Option<Arc<crate::call::idl::IdlPlan>>,
    /// For `requestType: http` / `triple-json` routes: the request is forwarded, not invoked.
    pub forward: Option<crate::call::forward::ForwardPlan>,
}

/// A failure to build a runtime from an otherwise valid configuration (DNS, TLS, filters).
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct BuildError {
    /// The configuration file.
    pub file: String,
    /// What went wrong, naming the key path or route.
    pub message: String,
}

fn policy_of(p: LbPolicy) -> Policy {
    match p {
        LbPolicy::Random | LbPolicy::WeightedRandom => Policy::Random,
        LbPolicy::RoundRobin | LbPolicy::WeightedRoundRobin => Policy::RoundRobin,
        LbPolicy::LeastActive => Policy::LeastActive,
        LbPolicy::P2c => Policy::PowerOfTwo,
        LbPolicy::RingHash => Policy::RingHash,
        LbPolicy::Maglev => Policy::Maglev,
    }
}

/// The settings of a discovered cluster: the dubboproxy filter's `load_balance` (default
/// weighted random) with default outlier ejection.
fn discovered_settings(proxy: &DubboProxyConfig) -> (ClusterSettings, String) {
    let lb = proxy.load_balance.unwrap_or(LbPolicy::WeightedRandom);
    (
        ClusterSettings {
            policy: policy_of(lb),
            tuning: HashTuning::default(),
            uniform: matches!(lb, LbPolicy::Random | LbPolicy::RoundRobin),
            outlier: OutlierConfig::default(),
        },
        lb.name().to_owned(),
    )
}

/// The longest first-answer wait among `registries`.
fn registry_wait(registries: &[tianlu_api_config::RegistryConfig]) -> Duration {
    registries
        .iter()
        .map(|r| r.timeout)
        .max()
        .unwrap_or(tianlu_api_config::bootstrap::registry::DEFAULT_REGISTRY_TIMEOUT)
}

/// The discovered cluster of a route: `registries`, the exact `service`, the route's protocol
/// and the proxy's balancing.
fn feed_key(
    proxy: &DubboProxyConfig,
    route: &Route,
    registries: Vec<tianlu_api_config::RegistryConfig>,
    service: ServiceKey,
) -> FeedKey {
    FeedKey {
        registries,
        service,
        protocol: route.target.protocol,
        settings: discovered_settings(proxy).1,
    }
}

/// The discovered cluster of a route without `clusterName` or `url`: its interface, group and
/// version in the listener's registries.
fn route_feed_key(proxy: &DubboProxyConfig, route: &Route) -> Result<FeedKey, String> {
    let interface = route
        .target
        .interface
        .clone()
        .ok_or("a route found through the registries needs interface")?;
    let mut service = ServiceKey::new(interface);
    if let Some(g) = &route.target.group {
        service = service.with_group(g.clone());
    }
    if let Some(v) = &route.target.version {
        service = service.with_version(v.clone());
    }
    Ok(feed_key(proxy, route, proxy.registries.clone(), service))
}

/// Resolves `host:port` (an IP literal or a name) to its first address.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port} resolved to no address"))
}

impl Runtime {
    /// Builds the runtime for `config`, reusing connections from `pool` and discovered
    /// clusters from `discovery`.
    pub async fn build(
        config: &Config,
        pool: &Arc<ConnectionPool>,
        metrics: &Arc<Metrics>,
        discovery: &Discovery,
    ) -> Result<Runtime, BuildError> {
        let file = config.file.display().to_string();
        let err = |message: String| BuildError {
            file: file.clone(),
            message,
        };
        let mut clusters: HashMap<String, Arc<Cluster>> = HashMap::new();
        let mut hash_keys: HashMap<String, HashKey> = HashMap::new();
        let mut budgets: HashMap<String, Arc<RetryBudget>> = HashMap::new();
        for (ci, c) in config.bootstrap.clusters.iter().enumerate() {
            let mut specs = Vec::new();
            for (ei, e) in c.endpoints.iter().enumerate() {
                let addr = resolve(&e.address.address, e.address.port)
                    .await
                    .map_err(|m| {
                        err(format!(
                            "static_resources.clusters[{ci}].endpoints[{ei}]: {m}"
                        ))
                    })?;
                specs.push(EndpointSpec {
                    addr,
                    weight: e.weight,
                    protocol: e.protocol,
                });
            }
            let settings = ClusterSettings {
                policy: policy_of(c.lb_policy),
                tuning: HashTuning {
                    ring_replicas: c.consistent.replica_num,
                    maglev_table_size: u32::try_from(c.consistent.maglev_table_size)
                        .unwrap_or(65_537),
                    ring_max_nodes: c.consistent.max_vnode_num,
                },
                uniform: matches!(c.lb_policy, LbPolicy::Random | LbPolicy::RoundRobin),
                outlier: c
                    .outlier_detection
                    .as_ref()
                    .map(|o| OutlierConfig {
                        consecutive_errors: o.consecutive_errors,
                        base_ejection_time: o.base_ejection_time,
                        max_ejection_percent: o.max_ejection_percent,
                    })
                    .unwrap_or_default(),
            };
            let cluster = Arc::new(Cluster::new(&c.name, settings, &specs, pool, metrics));
            if let Some(h) = &c.health_check {
                HealthCheck {
                    timeout: h.timeout,
                    interval: h.interval,
                    healthy_threshold: h.healthy_threshold,
                    unhealthy_threshold: h.unhealthy_threshold,
                }
                .spawn(Arc::downgrade(&cluster));
            }
            if c.lb_policy.is_hash() {
                hash_keys.insert(c.name.clone(), c.consistent.hash_key.clone());
            }
            budgets.insert(
                c.name.clone(),
                Arc::new(RetryBudget::new(&c.retry_budget, metrics.retries(&c.name))),
            );
            clusters.insert(c.name.clone(), cluster);
        }

        let mut discovered: Vec<Arc<Feed>> = Vec::new();
        let mut adapters: Vec<Arc<AdapterFeed>> = Vec::new();
        let mut waits: Vec<(Arc<Feed>, Duration)> = Vec::new();
        let mut listeners = Vec::new();
        let reflection = crate::call::idl::ReflectionCache::default();
        for l in &config.bootstrap.listeners {
            let chain = filter::build_chain(&l.hcm.http_filters)
                .map_err(|m| err(format!("listener {}: {m}", l.name)))?;
            let l_chain_reads_headers = chain.reads_request_headers_on_response();
            let max_body = l
                .hcm
                .http_filters
                .iter()
                .find_map(|f| match &f.config {
                    tianlu_api_config::HttpFilterConfig::BodyLimit(b) => {
                        Some(usize::try_from(b.max_bytes).unwrap_or(usize::MAX))
                    }
                    _ => None,
                })
                .unwrap_or(DEFAULT_MAX_BODY);
            let proxy = l.hcm.dubbo_proxy();
            let mut routes: Vec<Route> = config
                .api_for(&l.hcm)
                .map(|a| a.routes.clone())
                .unwrap_or_default();
            // Routes generated from a registry adapter (`dynamic_adapter`).
            let mut generated: HashMap<String, (GeneratedRoute, Arc<AdapterFeed>)> = HashMap::new();
            if let Some(id) = l.hcm.api_config_adapter() {
                let adapter = config
                    .bootstrap
                    .adapters
                    .iter()
                    .find(|a| a.id == id)
                    .ok_or_else(|| err(format!("listener {}: no adapter {id:?}", l.name)))?;
                let feed = discovery
                    .adapter(adapter)
                    .await
                    .map_err(|m| err(format!("adapter {id}: {m}")))?;
                let wait = registry_wait(&adapter.registries);
                if !feed.wait_ready(wait).await {
                    tracing::warn!(adapter = %id, "the registries did not answer within {wait:?}; its routes appear when they do");
                }
                for g in feed.routes().iter() {
                    routes.push(g.route.clone());
                    generated.insert(g.route.label(), (g.clone(), Arc::clone(&feed)));
                }
                if !adapters.iter().any(|a| Arc::ptr_eq(a, &feed)) {
                    adapters.push(feed);
                }
            }
            let table = RouteTable::new(routes).map_err(|e| err(e.to_string()))?;
            let mut plans = Vec::with_capacity(table.len());
            for route in table.routes() {
                let label = route.label();
                let declared_types = match &route.target.parameter_types {
                    Some(names) => Some(
                        names
                            .iter()
                            .map(|n| JavaType::parse(n))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(|e| err(format!("route {label}: parameterTypes: {e}")))?,
                    ),
                    None => None,
                };
                let mut policy = InputPolicy::for_types(declared_types.as_deref().unwrap_or(&[]));
                // The same semantics as allowInterfaces: `pkg.*` is the package and everything
                // below it, `*` anything.
                for entry in route.allow_classes.entries() {
                    if entry == "*" {
                        policy.allow_any();
                    } else if let Some(pkg) = entry.strip_suffix(".*") {
                        policy.allow_package_tree(pkg);
                    } else {
                        policy.allow_class(entry.clone());
                    }
                }
                let from_adapter = generated.get(&label);
                let cluster = match &route.target.backend {
                    Backend::Registry => {
                        let key = match from_adapter {
                            Some((g, feed)) => feed_key(
                                &proxy,
                                route,
                                feed.adapter.registries.clone(),
                                g.service.clone(),
                            ),
                            None => route_feed_key(&proxy, route)
                                .map_err(|m| err(format!("route {label}: {m}")))?,
                        };
                        let feed = discovery
                            .cluster(&key, discovered_settings(&proxy).0)
                            .await
                            .map_err(|m| err(format!("route {label}: {m}")))?;
                        let cluster = Arc::clone(&feed.cluster);
                        // Listed with the others for the admin `/config` and the metrics.
                        clusters
                            .entry(cluster.name.clone())
                            .or_insert_with(|| Arc::clone(&cluster));
                        if !discovered.iter().any(|f| Arc::ptr_eq(f, &feed)) {
                            waits.push((Arc::clone(&feed), registry_wait(&key.registries)));
                            discovered.push(feed);
                        }
                        cluster
                    }
                    Backend::Cluster(name) => clusters.get(name).cloned().ok_or_else(|| {
                        err(format!("route {label}: cluster {name} is not defined"))
                    })?,
                    Backend::Direct {
                        host,
                        port,
                        protocol,
                    } => {
                        let scheme = match protocol {
                            Protocol::Dubbo => "dubbo",
                            Protocol::Triple => "tri",
                            Protocol::Http => "http",
                        };
                        let key = format!("{scheme}://{host}:{port}");
                        match clusters.get(&key) {
                            Some(c) => Arc::clone(c),
                            None => {
                                let addr = resolve(host, *port)
                                    .await
                                    .map_err(|m| err(format!("route {label}: url: {m}")))?;
                                let settings = ClusterSettings {
                                    policy: Policy::Random,
                                    tuning: HashTuning::default(),
                                    outlier: OutlierConfig {
                                        consecutive_errors: 0,
                                        ..OutlierConfig::default()
                                    },
                                    uniform: true,
                                };
                                let c = Arc::new(Cluster::new(
                                    &key,
                                    settings,
                                    &[EndpointSpec {
                                        addr,
                                        weight: 100,
                                        protocol: *protocol,
                                    }],
                                    pool,
                                    metrics,
                                ));
                                clusters.insert(key, Arc::clone(&c));
                                c
                            }
                        }
                    }
                };
                let signatures = from_adapter.map(|(g, _)| g.signatures.clone());
                if let Some(sigs) = &signatures {
                    // Classes a generated route may be sent: those of its declared signatures.
                    let declared: Vec<JavaType> = sigs
                        .iter()
                        .flatten()
                        .filter_map(|t| JavaType::parse(t).ok())
                        .collect();
                    policy = InputPolicy::for_types(&declared);
                }
                let cluster_name = cluster.name.clone();
                let retry_budget =
                    Arc::clone(budgets.entry(cluster_name.clone()).or_insert_with(|| {
                        Arc::new(RetryBudget::new(
                            &Default::default(),
                            metrics.retries(&cluster_name),
                        ))
                    }));
                let split = crate::call::split::Split::compile(
                    &route.target.split,
                    crate::call::split::lookup(&clusters, &budgets),
                )
                .map_err(|m| err(format!("route {label}: {m}")))?;
                let chain = filter::build_chain(&route.filters)
                    .map_err(|m| err(format!("route {label}: {m}")))?;
                let idl =
                    crate::call::idl::IdlPlan::build(route, &l.hcm, &cluster_name, &reflection)
                        .map_err(|m| err(format!("route {label}: {m}")))?;
                let https = l.protocol == tianlu_api_config::ListenerProtocol::Https;
                // A response phase that reads the request headers needs them kept.
                let keep_headers =
                    l_chain_reads_headers || chain.reads_request_headers_on_response();
                let forward =
                    crate::call::forward::ForwardPlan::of(route, https, pool, keep_headers)
                        .map_err(|m| err(format!("route {label}: {m}")))?;
                let hash_key = hash_keys.get(&cluster_name).cloned();
                let whole_body = crate::call::invoke::WholeBody::of(
                    route,
                    declared_types.as_deref(),
                    signatures.is_some(),
                    hash_key.as_ref(),
                );
                plans.push(Arc::new(CallPlan {
                    whole_body,
                    idl,
                    forward,
                    chain,
                    stats: metrics.route(&l.name, &label),
                    label,
                    declared_types,
                    policy,
                    output: OutputOptions {
                        keep_class: route.response.keep_class,
                        keep_null: route.response.keep_null,
                        flatten_big_numbers: route.response.flatten_big_numbers,
                    },
                    cluster,
                    deadline: route.effective_timeout(l.hcm.timeout, Some(proxy.request_timeout)),
                    retries: route.target.retries.unwrap_or(proxy.retries),
                    hash_key,
                    signatures,
                    retry_budget,
                    split,
                }));
            }
            let server_header = match &l.hcm.server_name {
                Some(name) => Some(http::HeaderValue::from_str(name).map_err(|_| {
                    err(format!(
                        "listener {}: server_name {name:?} cannot be sent as a header",
                        l.name
                    ))
                })?),
                None => None,
            };
            listeners.push(ListenerSite {
                unmatched: metrics.route(&l.name, "<unmatched>"),
                server_header,
                name: l.name.clone(),
                chain,
                hcm: l.hcm.clone(),
                max_body,
                routes: table,
                plans,
            });
        }
        // Give new discovered clusters their registries' first answer before serving from them
        // (bounded by each registry's `timeout`; a registry that is down does not stop the
        // gateway: its routes answer 503 until providers appear).
        futures_util::future::join_all(waits.iter().map(|(feed, timeout)| async move {
            if !feed.wait_ready(*timeout).await {
                tracing::warn!(
                    cluster = %feed.cluster.name,
                    "no answer from the registry within {timeout:?}; the cluster stays empty until providers are found"
                );
            }
        }))
        .await;
        let mut in_use: Vec<(SocketAddr, Protocol)> =
            clusters.values().flat_map(|c| c.pool_keys()).collect();
        in_use.extend(discovered.iter().flat_map(|f| f.cluster.pool_keys()));
        pool.retain(&in_use);
        let tracer = match &config.bootstrap.tracing {
            Some(t) => Some(Arc::new(
                crate::otel::Tracer::start(t, metrics).map_err(err)?,
            )),
            None => None,
        };
        Ok(Runtime {
            listeners,
            clusters,
            summary: config.summary(),
            discovered,
            adapters,
            tracer,
        })
    }
}

//! HTTP filters of the connection manager (`http_filters[]`), read into the typed
//! [`HttpFilterConfig`] the gateway matches on. Unknown names are errors that list the known ones.
//! The request-policy filters (rate limit, authority, API key, JWT, headers, fault injection,
//! mock, circuit breaker, concurrency limit) each read their config in a submodule of this one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cluster::LbPolicy;
use crate::yaml::reader::{Ctx, MapView};
use crate::yaml::{Kind, Node};

mod apikey;
mod authority;
mod circuit_breaker;
mod common;
mod concurrency;
mod fault;
mod headers;
mod jwt;
mod mock;
mod ratelimit;

pub use apikey::{
    parse_keys_file, ApiKey, ApiKeyConfig, DEFAULT_API_KEY_ATTACHMENT, DEFAULT_API_KEY_HEADER,
};
pub use authority::{AuthorityConfig, AuthorityRule, IpNet, Strategy};
pub use circuit_breaker::{
    CircuitBreakerConfig, DEFAULT_CB_ERROR_RATE, DEFAULT_CB_HALF_OPEN_PROBES,
    DEFAULT_CB_MIN_REQUESTS, DEFAULT_CB_OPEN_FOR, DEFAULT_CB_SLOW_CALL_RATE, DEFAULT_CB_WINDOW,
    MIN_CB_WINDOW,
};
pub use common::{PathMatch, Secret};
pub use concurrency::{ConcurrencyConfig, MAX_CONCURRENCY};
pub use fault::{FaultAction, FaultConfig, FaultRule};
pub use headers::{HeaderOps, HeadersConfig};
pub use jwt::{
    JwtConfig, JwtKeys, JwtProvider, JwtRequires, JwtRule, TokenHeader, DEFAULT_JWKS_REFRESH,
    DEFAULT_JWKS_TIMEOUT, DEFAULT_JWT_LEEWAY, JWT_ALGORITHMS,
};
pub use mock::{MockConfig, MockRule};
pub use ratelimit::{
    parse_redis_url, OnRedisFailure, RateLimitConfig, RateLimitKey, RateLimitRule, RedisLimit,
    DEFAULT_MAX_KEYS, DEFAULT_REDIS_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT,
};

/// `dgp.filter.http.apiconfig`.
pub const API_CONFIG_FILTER: &str = "dgp.filter.http.apiconfig";
/// `dgp.filter.http.dubboproxy`.
pub const DUBBO_PROXY_FILTER: &str = "dgp.filter.http.dubboproxy";
/// `dgp.filter.http.cors`.
pub const CORS_FILTER: &str = "dgp.filter.http.cors";
/// `dgp.filter.http.accesslog`.
pub const ACCESS_LOG_FILTER: &str = "dgp.filter.http.accesslog";
/// `tianlu.filter.http.bodylimit`.
pub const BODY_LIMIT_FILTER: &str = "tianlu.filter.http.bodylimit";
/// `dgp.filter.http.ratelimit`.
pub const RATE_LIMIT_FILTER: &str = "dgp.filter.http.ratelimit";
/// `dgp.filter.http.authority`.
pub const AUTHORITY_FILTER: &str = "dgp.filter.http.authority";
/// `tianlu.filter.http.apikey`.
pub const API_KEY_FILTER: &str = "tianlu.filter.http.apikey";
/// `dgp.filter.http.auth.jwt`.
pub const JWT_FILTER: &str = "dgp.filter.http.auth.jwt";
/// `tianlu.filter.http.headers`.
pub const HEADERS_FILTER: &str = "tianlu.filter.http.headers";
/// `dgp.filter.http.header`: pixiu's name for [`HEADERS_FILTER`] (a no-op in pixiu, real here).
pub const PIXIU_HEADER_FILTER: &str = "dgp.filter.http.header";
/// `dgp.filter.http.faultinjection`.
pub const FAULT_INJECTION_FILTER: &str = "dgp.filter.http.faultinjection";
/// `tianlu.filter.http.mock`.
pub const MOCK_FILTER: &str = "tianlu.filter.http.mock";
/// `tianlu.filter.http.circuitbreaker`.
pub const CIRCUIT_BREAKER_FILTER: &str = "tianlu.filter.http.circuitbreaker";
/// `dgp.filter.http.circuitbreaker`: pixiu's name for [`CIRCUIT_BREAKER_FILTER`] (its sentinel
/// rule keys are refused).
pub const PIXIU_CIRCUIT_BREAKER_FILTER: &str = "dgp.filter.http.circuitbreaker";
/// `tianlu.filter.http.concurrency`.
pub const CONCURRENCY_FILTER: &str = "tianlu.filter.http.concurrency";

/// Every HTTP filter name tianlu knows.
pub const KNOWN_HTTP_FILTERS: [&str; 16] = [
    API_CONFIG_FILTER,
    DUBBO_PROXY_FILTER,
    CORS_FILTER,
    ACCESS_LOG_FILTER,
    BODY_LIMIT_FILTER,
    RATE_LIMIT_FILTER,
    AUTHORITY_FILTER,
    API_KEY_FILTER,
    JWT_FILTER,
    HEADERS_FILTER,
    PIXIU_HEADER_FILTER,
    FAULT_INJECTION_FILTER,
    MOCK_FILTER,
    CIRCUIT_BREAKER_FILTER,
    PIXIU_CIRCUIT_BREAKER_FILTER,
    CONCURRENCY_FILTER,
];

/// Default `timeout_config.connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default `timeout_config.request_timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `retries` (Dubbo's default: up to 2 more attempts, only when nothing reached the provider).
pub const DEFAULT_RETRIES: u32 = 2;
/// Default `dubboProxyConfig.max_concurrent_streams`.
pub const DEFAULT_MAX_STREAMS: usize = tianlu_protocol::triple::DEFAULT_MAX_STREAMS;

/// One `http_filters[]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpFilter {
    /// The filter name as written.
    pub name: String,
    /// Its typed configuration.
    pub config: HttpFilterConfig,
}

/// The configuration of a known HTTP filter.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpFilterConfig {
    /// `dgp.filter.http.apiconfig`.
    ApiConfig(ApiConfigFilter),
    /// `dgp.filter.http.dubboproxy`.
    DubboProxy(DubboProxyConfig),
    /// `dgp.filter.http.cors`.
    Cors(CorsConfig),
    /// `dgp.filter.http.accesslog`.
    AccessLog(AccessLogConfig),
    /// `tianlu.filter.http.bodylimit`.
    BodyLimit(BodyLimitConfig),
    /// `dgp.filter.http.ratelimit`.
    RateLimit(RateLimitConfig),
    /// `dgp.filter.http.authority`.
    Authority(AuthorityConfig),
    /// `tianlu.filter.http.apikey`.
    ApiKey(ApiKeyConfig),
    /// `dgp.filter.http.auth.jwt`.
    Jwt(Box<JwtConfig>),
    /// `tianlu.filter.http.headers` and `dgp.filter.http.header`.
    Headers(HeadersConfig),
    /// `dgp.filter.http.faultinjection`.
    FaultInjection(FaultConfig),
    /// `tianlu.filter.http.mock`.
    Mock(MockConfig),
    /// `tianlu.filter.http.circuitbreaker` and `dgp.filter.http.circuitbreaker`.
    CircuitBreaker(CircuitBreakerConfig),
    /// `tianlu.filter.http.concurrency`.
    Concurrency(ConcurrencyConfig),
}

/// `dgp.filter.http.apiconfig` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfigFilter {
    /// `path`, resolved against the conf file's folder; for an api_config read from Nacos, a
    /// name for it (`nacos://{address}/{namespace}/{group}/{data_id}`) used in messages.
    pub path: PathBuf,
    /// `nacos`: the api_config is the content of a Nacos config (tianlu extension).
    pub nacos: Option<NacosApiSource>,
    /// `dynamic_adapter` (with `dynamic: true`): routes generated by that adapter are added.
    pub adapter: Option<String>,
    /// Line and key path of `path` in conf.yaml, for problems reading the file.
    pub(crate) site: (usize, String),
}

/// Where an api_config is read from Nacos: the server (the registry keys, `group` excluded)
/// and the config's `data_id` and `group`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NacosApiSource {
    /// The Nacos server.
    pub server: super::registry::RegistryConfig,
    /// `data_id`.
    pub data_id: String,
    /// `group` (default `DEFAULT_GROUP`).
    pub group: String,
}

/// `dgp.filter.http.dubboproxy` config (`dubboProxyConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DubboProxyConfig {
    /// `timeout_config.connect_timeout` (default 3s).
    pub connect_timeout: Duration,
    /// `timeout_config.request_timeout` (default 10s): the route timeout when a route sets none.
    pub request_timeout: Duration,
    /// `load_balance`: the policy for clusters that set no `lb_policy` (already applied to them).
    pub load_balance: Option<LbPolicy>,
    /// `retries` (default 2); a route's `retries` overrides it.
    pub retries: u32,
    /// `registries`: where routes without `clusterName` or `url` find their providers.
    pub registries: Vec<super::registry::RegistryConfig>,
    /// `protoset`: descriptor sets for this listener's `requestType: grpc` routes (added to each
    /// route's own `protoset`), relative to conf.yaml.
    pub protoset: Vec<crate::idl::Protoset>,
    /// `max_concurrent_streams` (default 256): most calls in flight on one Triple connection;
    /// more wait for a free stream within their deadline. The first listener's value applies to
    /// every Triple connection, read at start.
    pub max_concurrent_streams: usize,
}

/// `dgp.filter.http.cors` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    /// `allow_origin`: origins, or `*`.
    pub allow_origin: Vec<String>,
    /// `allow_methods` (comma-separated string or list).
    pub allow_methods: Vec<String>,
    /// `allow_headers`.
    pub allow_headers: Vec<String>,
    /// `expose_headers`.
    pub expose_headers: Vec<String>,
    /// `max_age` in seconds.
    pub max_age: Option<u64>,
    /// `allow_credentials` (not allowed together with origin `*`).
    pub allow_credentials: bool,
}

/// `dgp.filter.http.accesslog` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogConfig {
    /// `outPutPath`, resolved against the conf file's folder; `None` = standard output.
    pub output_path: Option<PathBuf>,
}

/// `tianlu.filter.http.bodylimit` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLimitConfig {
    /// `max_bytes`: largest accepted request body (413 above).
    pub max_bytes: u64,
}

/// pixiu filters tianlu does not have (a clearer message than "unknown").
const PIXIU_ONLY: [&str; 14] = [
    "dgp.filter.http.directdubboproxy",
    "dgp.filter.http.httpproxy",
    "dgp.filter.http.grpcproxy",
    "dgp.filter.http.loadbalance",
    "dgp.filter.http.proxyrewrite",
    "dgp.filter.http.webassembly",
    "dgp.filter.http.auth.mcp",
    "dgp.filter.http.auth.saml",
    "dgp.filter.http.csrf",
    "dgp.filter.http.event",
    "dgp.filter.http.host",
    "dgp.filter.http.metric",
    "dgp.filter.http.prometheusmetric",
    "dgp.filters.tracing",
];

/// Resolves `p` against `base` unless absolute.
pub(crate) fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// A comma-separated string or a list of strings, trimmed, empties dropped.
fn csv_list(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str) -> Vec<String> {
    let items = m.string_list(cx, key).unwrap_or_default();
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads one `http_filters[]` entry; `None` after recording a problem.
pub(crate) fn read(cx: &mut Ctx, node: &Node, path: &str, base: &Path) -> Option<HttpFilter> {
    let mut m = MapView::new(cx, node, path);
    let name = m.req_string(cx, "name");
    let empty = Node {
        line: m.line(),
        kind: Kind::Null,
    };
    let config_node = m.get("config").unwrap_or(&empty);
    let mut c = MapView::new(cx, config_node, m.child("config"));
    let name_line = m.key_line("name");
    m.finish(cx);
    let name = name?;
    let config = match name.as_str() {
        API_CONFIG_FILTER => {
            let dynamic = c.bool(cx, "dynamic").unwrap_or(false);
            let adapter = c
                .string(cx, "dynamic_adapter")
                .filter(|a| !a.trim().is_empty());
            if dynamic && adapter.is_none() {
                cx.problem(
                    c.key_line("dynamic"),
                    &c.child("dynamic_adapter"),
                    "dynamic: true needs dynamic_adapter (the id of a dgp.adapter.dubboregistrycenter adapter)",
                );
            }
            if !dynamic && adapter.is_some() {
                cx.problem(
                    c.key_line("dynamic_adapter"),
                    &c.child("dynamic"),
                    "dynamic_adapter takes effect with dynamic: true",
                );
            }
            let adapter = adapter.filter(|_| dynamic);
            for key in [
                "api_meta_config",
                "openapi_path",
                "enable_openapi_validation",
            ] {
                c.reject(cx, key, "not supported yet");
            }
            if let (Some(id), None, None) = (&adapter, c.get("path"), c.get("nacos")) {
                let site = (c.key_line("dynamic_adapter"), c.child("dynamic_adapter"));
                Some(HttpFilterConfig::ApiConfig(ApiConfigFilter {
                    path: PathBuf::from(format!("adapter://{id}")),
                    nacos: None,
                    adapter: adapter.clone(),
                    site,
                }))
            } else {
                let site = (c.key_line("path"), c.child("path"));
                if let Some(mut n) = c.map(cx, "nacos") {
                    let data_id = n.req_string(cx, "data_id");
                    let group = n
                        .string(cx, "group")
                        .filter(|g| !g.trim().is_empty())
                        .unwrap_or_else(|| "DEFAULT_GROUP".to_owned());
                    let server = super::registry::read_server_keys(cx, &mut n, "api_config");
                    let site = (n.line(), n.path().to_owned());
                    n.finish(cx);
                    if c.get("path").is_some() {
                        cx.problem(
                            c.key_line("path"),
                            &c.child("path"),
                            "set path or nacos, not both",
                        );
                    }
                    match (server, data_id) {
                        (Some(server), Some(data_id)) => {
                            Some(HttpFilterConfig::ApiConfig(ApiConfigFilter {
                                path: PathBuf::from(format!(
                                    "nacos://{}/{}/{group}/{data_id}",
                                    server.address,
                                    server.namespace.as_deref().unwrap_or("public")
                                )),
                                nacos: Some(NacosApiSource {
                                    server,
                                    data_id,
                                    group,
                                }),
                                adapter: adapter.clone(),
                                site,
                            }))
                        }
                        _ => None,
                    }
                } else {
                    let p = c.req_string(cx, "path");
                    p.map(|p| {
                        HttpFilterConfig::ApiConfig(ApiConfigFilter {
                            path: resolve(base, &p),
                            nacos: None,
                            adapter: adapter.clone(),
                            site,
                        })
                    })
                }
            }
        }
        DUBBO_PROXY_FILTER => read_dubbo_proxy(cx, &mut c, base).map(HttpFilterConfig::DubboProxy),
        CORS_FILTER => {
            let cors = CorsConfig {
                allow_origin: m_list(cx, &mut c, "allow_origin"),
                allow_methods: csv_list(cx, &mut c, "allow_methods")
                    .into_iter()
                    .map(|s| s.to_ascii_uppercase())
                    .collect(),
                allow_headers: csv_list(cx, &mut c, "allow_headers"),
                expose_headers: csv_list(cx, &mut c, "expose_headers"),
                max_age: c.uint(cx, "max_age", u64::from(u32::MAX)),
                allow_credentials: c.bool(cx, "allow_credentials").unwrap_or(false),
            };
            if cors.allow_origin.is_empty() {
                cx.problem(
                    c.key_line("allow_origin"),
                    &c.child("allow_origin"),
                    "list at least one origin (or \"*\")",
                );
            }
            if cors.allow_credentials && cors.allow_origin.iter().any(|o| o == "*") {
                cx.problem(c.key_line("allow_credentials"), &c.child("allow_credentials"), "allow_credentials cannot be used with allow_origin \"*\" (browsers reject it); list the origins");
            }
            Some(HttpFilterConfig::Cors(cors))
        }
        ACCESS_LOG_FILTER => {
            let output_path = c
                .string(cx, "outPutPath")
                .filter(|s| !s.trim().is_empty())
                .map(|p| resolve(base, &p));
            Some(HttpFilterConfig::AccessLog(AccessLogConfig { output_path }))
        }
        BODY_LIMIT_FILTER => match c.uint(cx, "max_bytes", u64::MAX) {
            Some(0) => {
                cx.problem(
                    c.key_line("max_bytes"),
                    &c.child("max_bytes"),
                    "must be greater than 0",
                );
                None
            }
            Some(max_bytes) => Some(HttpFilterConfig::BodyLimit(BodyLimitConfig { max_bytes })),
            None => {
                if c.get("max_bytes").is_none() {
                    c.missing(cx, "max_bytes");
                }
                None
            }
        },
        RATE_LIMIT_FILTER => ratelimit::read(cx, &mut c).map(HttpFilterConfig::RateLimit),
        AUTHORITY_FILTER => authority::read(cx, &mut c).map(HttpFilterConfig::Authority),
        API_KEY_FILTER => apikey::read(cx, &mut c, base).map(HttpFilterConfig::ApiKey),
        JWT_FILTER => jwt::read(cx, &mut c).map(|j| HttpFilterConfig::Jwt(Box::new(j))),
        HEADERS_FILTER | PIXIU_HEADER_FILTER => {
            headers::read(cx, &mut c).map(HttpFilterConfig::Headers)
        }
        FAULT_INJECTION_FILTER => fault::read(cx, &mut c).map(HttpFilterConfig::FaultInjection),
        MOCK_FILTER => mock::read(cx, &mut c).map(HttpFilterConfig::Mock),
        CIRCUIT_BREAKER_FILTER | PIXIU_CIRCUIT_BREAKER_FILTER => {
            circuit_breaker::read(cx, &mut c).map(HttpFilterConfig::CircuitBreaker)
        }
        CONCURRENCY_FILTER => concurrency::read(cx, &mut c).map(HttpFilterConfig::Concurrency),
        "dgp.filter.http.traffic" => {
            cx.problem(
                name_line,
                &format!("{path}.name"),
                "pixiu's traffic filter is not read; write integrationRequest.split on the route (by header or weight, to a cluster, group or version)",
            );
            return None;
        }
        "dgp.filters.tracing" => {
            cx.problem(
                name_line,
                &format!("{path}.name"),
                "tracing is not a filter here; configure the top-level tracing block of conf.yaml",
            );
            return None;
        }
        other => {
            let what = if PIXIU_ONLY.contains(&other) {
                "is a pixiu filter that tianlu does not support yet"
            } else {
                "is not a known filter"
            };
            cx.problem(
                name_line,
                &format!("{path}.name"),
                format!(
                    "http filter {other:?} {what}; known filters: {}",
                    KNOWN_HTTP_FILTERS.join(", ")
                ),
            );
            return None;
        }
    };
    c.finish(cx);
    config.map(|config| HttpFilter { name, config })
}

fn m_list(cx: &mut Ctx, m: &mut MapView<'_>, key: &'static str) -> Vec<String> {
    m.string_list(cx, key)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn read_dubbo_proxy(cx: &mut Ctx, c: &mut MapView<'_>, base: &Path) -> Option<DubboProxyConfig> {
    let mut out = DubboProxyConfig {
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        request_timeout: DEFAULT_REQUEST_TIMEOUT,
        load_balance: None,
        retries: DEFAULT_RETRIES,
        registries: Vec::new(),
        protoset: Vec::new(),
        max_concurrent_streams: DEFAULT_MAX_STREAMS,
    };
    c.reject(cx, "auto_resolve", "auto_resolve is not supported");
    let Some(mut d) = c.map(cx, "dubboProxyConfig") else {
        return Some(out);
    };
    if let Some(reg) = d.get("registries") {
        out.registries = super::registry::read_registries(cx, reg, &d.child("registries"));
    }
    out.protoset = crate::idl::read_protosets(cx, &mut d, "protoset", base);
    if let Some(n) = d.uint(cx, "max_concurrent_streams", 1_000_000) {
        if n == 0 {
            cx.problem(
                d.key_line("max_concurrent_streams"),
                &d.child("max_concurrent_streams"),
                "must be at least 1",
            );
        } else {
            out.max_concurrent_streams = usize::try_from(n).unwrap_or(DEFAULT_MAX_STREAMS);
        }
    }
    if let Some(mut t) = d.map(cx, "timeout_config") {
        out.connect_timeout = t
            .duration(cx, "connect_timeout")
            .unwrap_or(out.connect_timeout);
        out.request_timeout = t
            .duration(cx, "request_timeout")
            .unwrap_or(out.request_timeout);
        t.finish(cx);
    }
    if let Some(lb) = d.string(cx, "load_balance") {
        match LbPolicy::parse(&lb) {
            Some(p) => out.load_balance = Some(p),
            None => cx.problem(
                d.key_line("load_balance"),
                &d.child("load_balance"),
                LbPolicy::unknown_message(&lb),
            ),
        }
    }
    if let Some(r) = d.uint(cx, "retries", 100) {
        out.retries = u32::try_from(r).unwrap_or(DEFAULT_RETRIES);
    }
    d.finish(cx);
    Some(out)
}

//! tianlu's configuration crate: pixiu-compatible `conf.yaml` (bootstrap) and `api_config`
//! files, validated into typed values the gateway serves from.
//!
//! ```text
//! Config::load(conf.yaml) ─┬─ Bootstrap: listeners (HCM: route rules, http_filters), clusters,
//!                          │             shutdown, admin
//!                          └─ ApiConfig per apiconfig filter: Vec<Route>
//! RouteTable::new(routes) ── lookup(method, path) ─> Found { route, params } | 405 | 404
//! route.check_inbound(..) ── route.mapping.extract(RequestView) ─> Extracted { args, opt }
//! ```
//!
//! Every loader collects all problems (file, line, key path, route) into one [`ConfigError`];
//! documented pixiu no-op keys are accepted and returned as [`Warning`]s. YAML is read with
//! `serde-saphyr` into a positioned node tree (see `yaml`); YAML 1.2 booleans only.
//!
//! # Decisions (where tianlu differs from pixiu or pixiu is silent)
//! - Unknown keys are errors (with a "did you mean" hint). Accepted no-ops (warnings): top-level
//!   `log`, `node`; `static_resources.pprofConf`; `shutdown_config.step_timeout`/`reject_policy`;
//!   route `cluster_not_found_response_code`; api_config `definitions`, resource `id`, method
//!   `resourcePath`, `inboundRequest.requestBody`/`uri`, inbound parameter `type`.
//!   `description`, `applicationName` and resource `type: restful` are kept as data, no warning.
//! - api_config extensions, all under `integrationRequest`: `response: {keepClass: false,
//!   keepNull: false, flattenBigNumbers: true}`, `allowInterfaces: [..]` (required when
//!   `opt.interface` is mapped; entries `a.B`, `a.*`, `*`), `allowClasses: [..]`.
//! - `enable` defaults to true (pixiu: false). Disabled routes stay in the table (gateway: 406).
//! - Timeouts: method, else nearest resource, else none; the call deadline is
//!   [`Route::effective_timeout`] = min(HCM `timeout` (default 10s), route timeout, which
//!   defaults to dubboproxy `request_timeout` (default 10s)). pixiu's 1s API default is dropped.
//!   Durations are Go-style strings; bare integers are milliseconds.
//! - Routing: literal segments are case-sensitive (pixiu lowercases); `:id` and `{id}`; `*` one
//!   segment; `**` zero or more; no implicit HEAD for GET; `ANY` verb matches every method.
//! - Mapping sources for `opt.group/version/types/values` are optional (missing = unset; no
//!   `values` = no arguments); all others are required. `MappingErrorKind`: Missing/Invalid →
//!   400, NotAllowed → 403.
//! - Clusters: `lb_policy` unknown = error; default `weighted_random` (endpoint weight default
//!   100), or the dubboproxy `load_balance` when set. Only `Static` clusters, one TCP health
//!   check. `retries` default 2 (route `retries` overrides). Registries are not supported yet.
//! - `admin` absent = no admin endpoint; when present, defaults `127.0.0.1:9901`; a
//!   non-loopback address requires `token`.

pub mod allow;
pub mod api;
pub mod bootstrap;
pub mod config;
pub mod duration;
pub mod error;
pub mod idl;
pub mod mapping;
pub mod params;
pub(crate) mod path;
pub mod router;
pub(crate) mod yaml;

pub use allow::AllowList;
pub use api::forward::{Forward, ForwardKind, PathPart};
pub use api::route::{Backend, Inbound, InboundParam, ResponseOptions, Route, RouteSource, Target};
pub use api::ApiConfig;
pub use bootstrap::cluster::{
    Cluster, ConsistentConfig, Endpoint, HashKey, HealthCheck, LbPolicy, OutlierDetection, Protocol,
};
pub use bootstrap::filter::{
    AccessLogConfig, ApiConfigFilter, BodyLimitConfig, CorsConfig, DubboProxyConfig, HttpFilter,
    HttpFilterConfig,
};
pub use bootstrap::registry::{RegistryConfig, RegistryProtocol, RegistryType};
pub use bootstrap::{
    AdminConfig, Bootstrap, HeaderMatch, HttpConnectionManager, Listener, ListenerProtocol,
    RouteRule, ShutdownConfig, SocketAddress, TlsFiles,
};
pub use config::{Config, RemoteTexts};
pub use duration::{format_duration, parse_duration, DurationError};
pub use error::{ConfigError, Problem, Warning};
pub use mapping::{
    Extracted, ExtractedArg, MapSource, MapTarget, Mapping, MappingError, MappingErrorKind,
    MappingParam, OptValues, RequestView,
};
pub use params::{percent_decode, query_param, Params};
pub use path::MAX_PARAMS;
pub use router::{Lookup, RouteTable};

//! [`Route`]: one validated api_config method (verb + full path) with everything the gateway
//! needs to serve it: the Dubbo [`Target`], the compiled [`Mapping`], inbound checks, response
//! options and allow-lists.

use std::path::PathBuf;
use std::time::Duration;

use crate::allow::AllowList;
use crate::mapping::{Mapping, MappingError, MappingErrorKind};
use crate::params::query_param;
use crate::path::PathPattern;

/// Where a route was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSource {
    /// The api_config file.
    pub file: PathBuf,
    /// Line of the method's `httpVerb`.
    pub line: usize,
    /// Key path of the method, e.g. `resources[0].methods[1]`.
    pub key_path: String,
}

/// A required inbound header or query parameter (`inboundRequest.headers[]` / `queryStrings[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundParam {
    /// Header or query parameter name.
    pub name: String,
    /// When true, a request without it is rejected with 400.
    pub required: bool,
}

/// `inboundRequest`: what the client must send (checked by [`Route::check_inbound`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inbound {
    /// `inboundRequest.headers`.
    pub headers: Vec<InboundParam>,
    /// `inboundRequest.queryStrings`.
    pub query_strings: Vec<InboundParam>,
}

/// Where calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `clusterName`: a static cluster of the bootstrap (checked by `Config::load`).
    Cluster(String),
    /// `url: dubbo://host:port` (or bare `host:port`): one provider, no cluster.
    Direct {
        /// Host name or IP (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
        /// From the url scheme (`dubbo://`, `tri://`), else the route's `protocol` /
        /// `requestType`, else Dubbo.
        protocol: crate::bootstrap::cluster::Protocol,
    },
    /// Neither `clusterName` nor `url`: the providers of `interface` (with the route's group
    /// and version) found in the registries of the listener's `dubboProxyConfig.registries`.
    Registry,
}

/// The Dubbo side of a route (`integrationRequest`). `opt.*` values from the request override
/// `interface`, `method`, `group` and `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `interface`, e.g. `com.example.UserService`.
    pub interface: Option<String>,
    /// `method`.
    pub method: Option<String>,
    /// `group`.
    pub group: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `applicationName` (informational: logs and metrics labels).
    pub application: Option<String>,
    /// Cluster or direct provider.
    pub backend: Backend,
    /// The protocol the route asks for (`requestType: triple` or `protocol: tri`); cluster
    /// endpoints must speak it. `None` when the route leaves it to the endpoints.
    pub protocol: Option<crate::bootstrap::cluster::Protocol>,
    /// `parameterTypes`: the declared Java signature, if given.
    pub parameter_types: Option<Vec<String>>,
    /// `retries`: overrides the dubboproxy filter's `retries` for this route.
    pub retries: Option<u32>,
    /// `split` (tianlu extension): canary and weighted routing to other clusters, groups or
    /// versions.
    pub split: Vec<crate::api::split::SplitRule>,
    /// `requestType: grpc`: a protobuf IDL call (`interface` = the protobuf service, `method` =
    /// the rpc), with the route's `protoset` files.
    pub idl: Option<crate::idl::IdlTarget>,
}

/// `integrationRequest.response` (tianlu extension): how the result is turned into JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseOptions {
    /// `keepClass` (default false): keep the `"class"` key of Java objects.
    pub keep_class: bool,
    /// `keepNull` (default false): keep keys whose value is null.
    pub keep_null: bool,
    /// `flattenBigNumbers` (default true): write BigDecimal/BigInteger as plain JSON values.
    pub flatten_big_numbers: bool,
}

impl Default for ResponseOptions {
    fn default() -> Self {
        ResponseOptions {
            keep_class: false,
            keep_null: false,
            flatten_big_numbers: true,
        }
    }
}

/// One validated route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The method's `id`, if given.
    pub id: Option<String>,
    /// Upper-case HTTP method (`GET`), or `ANY` for every method.
    pub method: String,
    /// Full path pattern as written, parents joined (`/api/users/:id`).
    pub path: String,
    /// `enable` (default true). A disabled route still matches; the gateway answers 406.
    pub enabled: bool,
    /// Method `timeout`, else the nearest resource `timeout`; `None` = use the HCM timeout.
    pub timeout: Option<Duration>,
    /// `description` of the method (or its resource).
    pub description: Option<String>,
    /// Resource `headers`, inherited from parents: each must be present with this value (an
    /// empty value only requires presence).
    pub headers: Vec<(String, String)>,
    /// Required inbound headers and query parameters.
    pub inbound: Inbound,
    /// Where and what to call.
    pub target: Target,
    /// Compiled `mappingParams`.
    pub mapping: Mapping,
    /// Response shaping options.
    pub response: ResponseOptions,
    /// `allowInterfaces`: interfaces a client may name through `opt.interface`.
    pub allow_interfaces: AllowList,
    /// `allowClasses`: extra classes a client may name in `"class"` fields of arguments.
    pub allow_classes: AllowList,
    /// Where the route was defined.
    pub source: RouteSource,
    /// Route filters (resource `filters`, then method `filters`; a method's filter replaces an
    /// enclosing one of the same name), run after the listener's chain.
    pub filters: Vec<crate::bootstrap::filter::HttpFilter>,
    /// For `requestType: http` / `triple-json`: the request is forwarded, not turned into a
    /// Dubbo call (`target` then only holds the backend, protocol, retries and, for
    /// triple-json, interface/method/group/version).
    pub forward: Option<crate::api::forward::Forward>,
    pub(crate) pattern: PathPattern,
    pub(crate) cluster_site: Option<(usize, String)>,
}

impl Route {
    /// `GET /api/users/:id`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Names of the path parameters, in path order.
    pub fn param_names(&self) -> &[String] {
        &self.pattern.param_names
    }

    /// The call deadline: `min(hcm_timeout, route timeout)`, where the route timeout defaults to
    /// the dubboproxy `request_timeout` and then to `hcm_timeout`.
    pub fn effective_timeout(
        &self,
        hcm_timeout: Duration,
        request_timeout: Option<Duration>,
    ) -> Duration {
        self.timeout
            .or(request_timeout)
            .map_or(hcm_timeout, |t| t.min(hcm_timeout))
    }

    /// Checks resource `headers` and required `inboundRequest` headers/query parameters.
    /// `headers` must look names up case-insensitively.
    pub fn check_inbound<'h>(
        &self,
        query: &str,
        headers: &dyn Fn(&str) -> Option<&'h str>,
    ) -> Result<(), MappingError> {
        for (name, want) in &self.headers {
            let field = format!("headers.{name}");
            match headers(name) {
                None => {
                    return Err(MappingError::new(
                        &field,
                        MappingErrorKind::Missing,
                        "required header is missing",
                    ))
                }
                Some(got) if !want.is_empty() && got != want => {
                    return Err(MappingError::new(
                        &field,
                        MappingErrorKind::Invalid,
                        format!("must be {want:?}"),
                    ))
                }
                Some(_) => {}
            }
        }
        for p in self.inbound.headers.iter().filter(|p| p.required) {
            if headers(&p.name).is_none() {
                let field = format!("headers.{}", p.name);
                return Err(MappingError::new(
                    &field,
                    MappingErrorKind::Missing,
                    "required header is missing",
                ));
            }
        }
        for p in self.inbound.query_strings.iter().filter(|p| p.required) {
            if query_param(query, &p.name).is_none() {
                let field = format!("queryStrings.{}", p.name);
                return Err(MappingError::new(
                    &field,
                    MappingErrorKind::Missing,
                    "required query parameter is missing",
                ));
            }
        }
        Ok(())
    }
}

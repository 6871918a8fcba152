//! Application-level (Dubbo 3) discovery data: the instance records registries keep per
//! application ([`AppInstance`]), the `MetadataInfo` a revision stands for ([`MetadataInfo`]),
//! how to fetch it from the provider's built-in `MetadataService`, and service definitions with
//! parameter types ([`ServiceDefinition`]).
//!
//! Where `MetadataInfo` comes from (`dubbo.metadata.storage-type` in the instance metadata):
//! - `local` (Dubbo's default): the provider's `org.apache.dubbo.metadata.MetadataService`
//!   (group = application, version `1.0.0`), `getMetadataInfo(String revision)`, on the protocol
//!   and port of `dubbo.metadata-service.url-params`: over Dubbo2 a plain call (the service
//!   is exported without GenericFilter) ([`fetch_metadata_dubbo`]), over Triple the HTTP/1.1 JSON mapping of Dubbo 3.3
//!   ([`fetch_metadata_tri`]);
//! - `remote`: the registry's metadata report (ZooKeeper `/dubbo/metadata/{app}/{revision}`,
//!   Nacos config `dataId={app}, group={revision}`), read by the registry modules.
//!
//! All of it is untrusted JSON: missing or odd fields are errors or defaults, never panics.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value as Json;
use tianlu_protocol::dubbo::{ClientConfig, Endpoint, RpcOutcome};
use tianlu_protocol::generic::{hessian_to_json, OutputOptions};
use tianlu_protocol::hessian2::Value;
use tianlu_protocol::invocation::Invocation;

use crate::http1;
use crate::instance::{Instance, Protocol, ServiceKey};
use crate::url::{parse_timestamp, DEFAULT_WARMUP, DEFAULT_WEIGHT};

/// The built-in metadata service interface.
pub const METADATA_SERVICE: &str = "org.apache.dubbo.metadata.MetadataService";
/// Its version (V1; Dubbo 3.3 also exports a protobuf `MetadataServiceV2` 2.0.0 on Triple).
pub const METADATA_SERVICE_VERSION: &str = "1.0.0";

/// Instance metadata key: the revision of the application's `MetadataInfo`.
pub const KEY_REVISION: &str = "dubbo.metadata.revision";
/// Instance metadata key: `local` or `remote`.
pub const KEY_STORAGE_TYPE: &str = "dubbo.metadata.storage-type";
/// Instance metadata key: JSON list of `{port, protocol}`.
pub const KEY_ENDPOINTS: &str = "dubbo.endpoints";
/// Instance metadata key: JSON of the MetadataService URL parameters (`port`, `protocol`).
pub const KEY_METADATA_SERVICE: &str = "dubbo.metadata-service.url-params";

/// Why metadata could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("bad metadata JSON: {0}")]
    Json(String),
    /// A required field is missing.
    #[error("metadata lacks {0}")]
    Missing(String),
    /// The call to the provider's MetadataService failed.
    #[error("MetadataService call to {addr} failed: {reason}")]
    Call {
        /// The provider address called.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// The MetadataService is exported on a protocol we cannot call.
    #[error("MetadataService protocol {0:?} is not supported")]
    Unsupported(String),
    /// The metadata report in the registry could not be read.
    #[error("metadata report: {0}")]
    Report(String),
}

/// Where an application keeps its `MetadataInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    /// Served by the provider's MetadataService (Dubbo's default).
    Local,
    /// Stored in the registry's metadata report.
    Remote,
}

/// One protocol endpoint of an application instance (`dubbo.endpoints`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEndpoint {
    /// `dubbo`, `tri`, …
    pub protocol: String,
    /// Its port.
    pub port: u16,
}

/// One instance of an application as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInstance {
    /// The application name.
    pub app: String,
    /// Its IP address.
    pub host: IpAddr,
    /// The instance port (the first protocol's).
    pub port: u16,
    /// Instance metadata (`dubbo.metadata.revision`, `dubbo.endpoints`, …).
    pub metadata: BTreeMap<String, String>,
}

impl AppInstance {
    /// Parses Curator's `ServiceInstance` JSON (ZooKeeper `/services/{app}/{ip:port}`):
    /// `{"name", "id", "address", "port", "payload": {"metadata": {…}}}`.
    pub fn from_curator_json(app: &str, data: &[u8]) -> Result<AppInstance, MetadataError> {
        let json: Json =
            serde_json::from_slice(data).map_err(|e| MetadataError::Json(e.to_string()))?;
        let address = json
            .get("address")
            .and_then(text)
            .ok_or_else(|| MetadataError::Missing("address".into()))?;
        let host: IpAddr = address
            .parse()
            .map_err(|_| MetadataError::Json(format!("address {address:?} is not an IP")))?;
        let port = json
            .get("port")
            .and_then(port_of)
            .ok_or_else(|| MetadataError::Missing("port".into()))?;
        let metadata = json
            .get("payload")
            .and_then(|p| p.get("metadata"))
            .map(string_map)
            .unwrap_or_default();
        let name = json.get("name").and_then(text);
        Ok(AppInstance {
            app: name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| app.to_string()),
            host,
            port,
            metadata,
        })
    }

    /// A metadata value, `None` when absent or empty.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `dubbo.metadata.revision`.
    pub fn revision(&self) -> Option<&str> {
        self.meta(KEY_REVISION)
    }

    /// `dubbo.metadata.storage-type` (`local` unless it says `remote`).
    pub fn storage_type(&self) -> StorageType {
        match self.meta(KEY_STORAGE_TYPE) {
            Some(t) if t.eq_ignore_ascii_case("remote") => StorageType::Remote,
            _ => StorageType::Local,
        }
    }

    /// `dubbo.endpoints` (malformed entries skipped).
    pub fn endpoints(&self) -> Vec<AppEndpoint> {
        let Some(raw) = self.meta(KEY_ENDPOINTS) else {
            return Vec::new();
        };
        let Ok(Json::Array(items)) = serde_json::from_str::<Json>(raw) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                Some(AppEndpoint {
                    protocol: item.get("protocol").and_then(text)?,
                    port: item.get("port").and_then(port_of)?,
                })
            })
            .collect()
    }

    /// The port of `protocol` from `dubbo.endpoints`.
    pub fn endpoint_port(&self, protocol: &str) -> Option<u16> {
        self.endpoints()
            .into_iter()
            .find(|e| e.protocol.eq_ignore_ascii_case(protocol))
            .map(|e| e.port)
    }

    /// Protocol and address of the MetadataService (`dubbo.metadata-service.url-params`).
    pub fn metadata_service(&self) -> Option<(String, SocketAddr)> {
        let raw = self.meta(KEY_METADATA_SERVICE)?;
        let json: Json = serde_json::from_str(raw).ok()?;
        let protocol = json.get("protocol").and_then(text)?;
        let port = json.get("port").and_then(port_of)?;
        Some((protocol, SocketAddr::new(self.host, port)))
    }

    /// `timestamp` (instance start).
    pub fn timestamp(&self) -> Option<SystemTime> {
        parse_timestamp(self.meta("timestamp")?)
    }
}

/// What one revision of an application exports (`org.apache.dubbo.metadata.MetadataInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataInfo {
    /// The application.
    pub app: String,
    /// The revision.
    pub revision: String,
    /// Services by match key (`{group/}{interface}{:version}:{protocol}`).
    pub services: BTreeMap<String, ServiceInfo>,
}

/// One exported service of a [`MetadataInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The interface name.
    pub name: String,
    /// The group.
    pub group: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// `dubbo`, `tri`, …
    pub protocol: String,
    /// The port (0 when not recorded: use the endpoint of the protocol).
    pub port: u16,
    /// The path (defaults to the name).
    pub path: Option<String>,
    /// Service parameters (`methods`, `weight`, `timeout`, …).
    pub params: BTreeMap<String, String>,
}

impl MetadataInfo {
    /// Parses the JSON form (plain, as stored in a metadata report or returned by the Triple
    /// JSON mapping, or generalized with `"class"` keys, as a Dubbo2 generic call returns it).
    pub fn from_json(json: &Json) -> Result<MetadataInfo, MetadataError> {
        let app = json
            .get("app")
            .and_then(text)
            .ok_or_else(|| MetadataError::Missing("app".into()))?;
        let revision = json.get("revision").and_then(text).unwrap_or_default();
        let mut services = BTreeMap::new();
        if let Some(Json::Object(map)) = json.get("services") {
            for (key, svc) in map {
                if let Some(info) = ServiceInfo::from_json(svc) {
                    services.insert(key.clone(), info);
                }
            }
        }
        Ok(MetadataInfo {
            app,
            revision,
            services,
        })
    }

    /// Parses JSON bytes.
    pub fn from_json_bytes(data: &[u8]) -> Result<MetadataInfo, MetadataError> {
        let json: Json =
            serde_json::from_slice(data).map_err(|e| MetadataError::Json(e.to_string()))?;
        Self::from_json(&json)
    }

    /// The routable instances of `inst` that `key` selects (interface, group, version; only the
    /// `dubbo` and `tri` protocols).
    pub fn instances(&self, key: &ServiceKey, inst: &AppInstance) -> Vec<Instance> {
        self.services
            .values()
            .filter(|s| s.name == key.interface)
            .filter(|s| key.matches(s.group.as_deref(), s.version.as_deref()))
            .filter_map(|s| s.to_instance(inst))
            .collect()
    }
}

impl ServiceInfo {
    fn from_json(json: &Json) -> Option<ServiceInfo> {
        let params = json.get("params").map(string_map).unwrap_or_default();
        let name = json
            .get("name")
            .and_then(text)
            .or_else(|| params.get("interface").cloned())?;
        let field = |k: &str| {
            json.get(k)
                .and_then(text)
                .or_else(|| params.get(k).cloned())
                .filter(|v| !v.is_empty())
        };
        Some(ServiceInfo {
            group: field("group"),
            version: field("version"),
            protocol: field("protocol").unwrap_or_else(|| "dubbo".into()),
            port: json.get("port").and_then(port_of).unwrap_or(0),
            path: field("path"),
            name,
            params,
        })
    }

    /// The instance of this service on `inst`, when the protocol is callable and a port known.
    pub fn to_instance(&self, inst: &AppInstance) -> Option<Instance> {
        let protocol = Protocol::from_name(&self.protocol)?;
        let port = match self.port {
            0 => inst.endpoint_port(&self.protocol).unwrap_or(inst.port),
            p => p,
        };
        if port == 0 {
            return None;
        }
        let mut params = self.params.clone();
        params
            .entry("interface".into())
            .or_insert_with(|| self.name.clone());
        params
            .entry("path".into())
            .or_insert_with(|| self.path.clone().unwrap_or_else(|| self.name.clone()));
        params
            .entry("application".into())
            .or_insert_with(|| inst.app.clone());
        params
            .entry("protocol".into())
            .or_insert_with(|| protocol.as_str().into());
        let param = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let weight = match param("weight").map(|w| w.trim().parse::<i64>()) {
            Some(Ok(w)) => u32::try_from(w.max(0)).unwrap_or(u32::MAX),
            _ => DEFAULT_WEIGHT,
        };
        let warmup = match param("warmup").map(|w| w.trim().parse::<u64>()) {
            Some(Ok(ms)) => Duration::from_millis(ms),
            _ => DEFAULT_WARMUP,
        };
        let started_at = inst
            .timestamp()
            .or_else(|| param("timestamp").and_then(parse_timestamp));
        let enabled = !param("enabled").is_some_and(|v| v.eq_ignore_ascii_case("false"))
            && !param("disabled").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if !enabled {
            return None;
        }
        Some(Instance {
            addr: SocketAddr::new(inst.host, port),
            protocol,
            weight,
            warmup,
            started_at,
            group: self.group.clone(),
            version: self.version.clone(),
            params,
        })
    }

    /// The `methods` parameter as a list.
    pub fn methods(&self) -> Vec<&str> {
        crate::url::split_list(self.params.get("methods").map(String::as_str).unwrap_or(""))
    }
}

/// A service definition with parameter types (Dubbo's `FullServiceDefinition`), as the metadata
/// report stores it (ZooKeeper `/dubbo/metadata/{interface}[/{version}][/{group}]/provider/{app}`)
/// and `MetadataService.getServiceDefinition` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDefinition {
    /// The interface name.
    pub canonical_name: String,
    /// The methods, in declaration order.
    pub methods: Vec<MethodDefinition>,
    /// Types referenced by the methods.
    pub types: Vec<TypeDefinition>,
    /// The service parameters recorded with it (may be empty).
    pub parameters: BTreeMap<String, String>,
}

/// One method of a [`ServiceDefinition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodDefinition {
    /// The name.
    pub name: String,
    /// Java parameter types (`long`, `java.lang.String`, `org.example.User`, `int[]`, …).
    pub parameter_types: Vec<String>,
    /// The return type (generic form, e.g. `java.util.List<org.example.User>`).
    pub return_type: String,
}

/// One type of a [`ServiceDefinition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDefinition {
    /// The type name.
    pub type_name: String,
    /// Bean properties and their types.
    pub properties: BTreeMap<String, String>,
    /// Element types of collections / arrays.
    pub items: Vec<String>,
    /// Enum constants.
    pub enums: Vec<String>,
}

impl ServiceDefinition {
    /// Parses the JSON form.
    pub fn from_json(json: &Json) -> Result<ServiceDefinition, MetadataError> {
        let canonical_name = json
            .get("canonicalName")
            .and_then(text)
            .ok_or_else(|| MetadataError::Missing("canonicalName".into()))?;
        let list = |v: Option<&Json>| -> Vec<String> {
            match v {
                Some(Json::Array(items)) => items.iter().filter_map(text).collect(),
                _ => Vec::new(),
            }
        };
        let methods = match json.get("methods") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|m| {
                    Some(MethodDefinition {
                        name: m.get("name").and_then(text)?,
                        parameter_types: list(m.get("parameterTypes")),
                        return_type: m.get("returnType").and_then(text).unwrap_or_default(),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        let types = match json.get("types") {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|t| {
                    Some(TypeDefinition {
                        type_name: t.get("type").and_then(text)?,
                        properties: t.get("properties").map(string_map).unwrap_or_default(),
                        items: list(t.get("items")),
                        enums: list(t.get("enums")),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(ServiceDefinition {
            canonical_name,
            methods,
            types,
            parameters: json.get("parameters").map(string_map).unwrap_or_default(),
        })
    }

    /// Parses JSON bytes.
    pub fn from_json_bytes(data: &[u8]) -> Result<ServiceDefinition, MetadataError> {
        let json: Json =
            serde_json::from_slice(data).map_err(|e| MetadataError::Json(e.to_string()))?;
        Self::from_json(&json)
    }

    /// The methods named `name` (several when overloaded).
    pub fn methods_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a MethodDefinition> {
        self.methods.iter().filter(move |m| m.name == name)
    }
}

/// The metadata report path of a service definition in ZooKeeper (without the root):
/// `metadata/{interface}[/{version}][/{group}]/provider/{app}`.
pub fn definition_report_path(
    interface: &str,
    version: Option<&str>,
    group: Option<&str>,
    app: &str,
) -> String {
    let mut path = format!("metadata/{interface}");
    for part in [version, group]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
    {
        path.push('/');
        path.push_str(part);
    }
    path.push_str("/provider/");
    path.push_str(app);
    path
}

/// Fetches `MetadataInfo` for `revision` from the provider's MetadataService, on the protocol
/// its instance metadata names (Dubbo2 or Triple), falling back to the other known endpoint.
pub async fn fetch_metadata(
    inst: &AppInstance,
    revision: &str,
    timeout: Duration,
) -> Result<MetadataInfo, MetadataError> {
    let (protocol, addr) = match inst.metadata_service() {
        Some(found) => found,
        None => {
            // No url-params: try the dubbo endpoint, then tri, then the instance port.
            match (inst.endpoint_port("dubbo"), inst.endpoint_port("tri")) {
                (Some(p), _) => ("dubbo".to_string(), SocketAddr::new(inst.host, p)),
                (None, Some(p)) => ("tri".to_string(), SocketAddr::new(inst.host, p)),
                (None, None) => ("dubbo".to_string(), SocketAddr::new(inst.host, inst.port)),
            }
        }
    };
    match Protocol::from_name(&protocol) {
        Some(Protocol::Dubbo) => fetch_metadata_dubbo(addr, &inst.app, revision, timeout).await,
        Some(Protocol::Tri) => fetch_metadata_tri(addr, &inst.app, revision, timeout).await,
        None => Err(MetadataError::Unsupported(protocol)),
    }
}

/// `MetadataService.getMetadataInfo(revision)` over Dubbo2 (a plain call: the service has no
/// GenericFilter); the hessian2 `MetadataInfo` object is read through its JSON form.
pub async fn fetch_metadata_dubbo(
    addr: SocketAddr,
    app: &str,
    revision: &str,
    timeout: Duration,
) -> Result<MetadataInfo, MetadataError> {
    let json = invoke_metadata_service(
        addr,
        app,
        "getMetadataInfo",
        vec!["java.lang.String".into()],
        vec![Value::string(revision)],
        timeout,
    )
    .await?;
    MetadataInfo::from_json(&json)
}

/// `MetadataService.getMetadataInfo(revision)` over Triple's HTTP/1.1 JSON mapping (Dubbo 3.3).
pub async fn fetch_metadata_tri(
    addr: SocketAddr,
    app: &str,
    revision: &str,
    timeout: Duration,
) -> Result<MetadataInfo, MetadataError> {
    let body = Json::String(revision.to_string()).to_string();
    let path = format!("/{METADATA_SERVICE}/getMetadataInfo");
    let resp = http1::post_json(
        addr,
        &path,
        &[
            ("tri-service-group", app),
            ("tri-service-version", METADATA_SERVICE_VERSION),
        ],
        &body,
        timeout,
    )
    .await
    .map_err(|e| MetadataError::Call {
        addr,
        reason: e.to_string(),
    })?;
    if resp.status != 200 {
        return Err(MetadataError::Call {
            addr,
            reason: format!(
                "HTTP {}: {}",
                resp.status,
                String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)])
            ),
        });
    }
    MetadataInfo::from_json_bytes(&resp.body)
}

/// `MetadataService.getServiceDefinition(interface, version, group)` over Dubbo2 (the method
/// is overloaded, so Triple's JSON mapping cannot reach it). Only providers whose
/// MetadataService is exported (`storage-type=local`) answer, and Dubbo 3.3.6 answers an empty
/// string (`None` here): there the metadata report is the only source of parameter types.
pub async fn fetch_definition_dubbo(
    addr: SocketAddr,
    app: &str,
    interface: &str,
    version: Option<&str>,
    group: Option<&str>,
    timeout: Duration,
) -> Result<Option<ServiceDefinition>, MetadataError> {
    let arg = |s: Option<&str>| s.map_or(Value::Null, Value::string);
    let json = invoke_metadata_service(
        addr,
        app,
        "getServiceDefinition",
        vec![
            "java.lang.String".into(),
            "java.lang.String".into(),
            "java.lang.String".into(),
        ],
        vec![Value::string(interface), arg(version), arg(group)],
        timeout,
    )
    .await?;
    match json {
        Json::String(text) if text.trim().is_empty() => Ok(None),
        Json::String(text) => ServiceDefinition::from_json_bytes(text.as_bytes()).map(Some),
        Json::Null => Ok(None),
        other => ServiceDefinition::from_json(&other).map(Some),
    }
}

async fn invoke_metadata_service(
    addr: SocketAddr,
    app: &str,
    method: &str,
    types: Vec<String>,
    args: Vec<Value>,
    timeout: Duration,
) -> Result<Json, MetadataError> {
    // A plain (not generic) call: the MetadataService is exported with `service.filter=-default`,
    // so there is no GenericFilter to turn `$invoke` into a call.
    let call = Invocation {
        service: METADATA_SERVICE.to_string(),
        version: Some(METADATA_SERVICE_VERSION.to_string()),
        group: Some(app.to_string()),
        method: method.to_string(),
        parameter_types: types,
        args,
        attachments: Vec::new(),
    };
    let cfg = ClientConfig {
        connect_timeout: timeout,
        ..ClientConfig::default()
    };
    let endpoint = Endpoint::new(addr, cfg);
    let result = endpoint.call(&call, timeout).await;
    endpoint.close();
    let response = result.map_err(|e| MetadataError::Call {
        addr,
        reason: e.to_string(),
    })?;
    match response.outcome {
        RpcOutcome::Value(v) => {
            hessian_to_json(&v, &OutputOptions::full()).map_err(|e| MetadataError::Call {
                addr,
                reason: e.to_string(),
            })
        }
        RpcOutcome::Null => Ok(Json::Null),
        RpcOutcome::Exception(e) => Err(MetadataError::Call {
            addr,
            reason: format!(
                "provider threw {}",
                hessian_to_json(&e, &OutputOptions::pixiu())
                    .map(|j| j.to_string())
                    .unwrap_or_else(|_| "an exception".into())
            ),
        }),
    }
}

/// A cache of `MetadataInfo` by (application, revision): a revision never changes content.
#[derive(Debug, Default)]
pub struct MetadataCache {
    map: Mutex<HashMap<(String, String), Arc<MetadataInfo>>>,
}

/// How many revisions the cache keeps before it starts over.
const CACHE_LIMIT: usize = 4096;

impl MetadataCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached info.
    pub fn get(&self, app: &str, revision: &str) -> Option<Arc<MetadataInfo>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(app.to_string(), revision.to_string())).cloned()
    }

    /// Stores info.
    pub fn put(&self, app: &str, revision: &str, info: Arc<MetadataInfo>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert((app.to_string(), revision.to_string()), info);
    }
}

/// A JSON scalar as text (strings as they are, numbers and booleans printed); `None` for null,
/// arrays and objects.
pub(crate) fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A port from a JSON number or numeric string.
fn port_of(v: &Json) -> Option<u16> {
    match v {
        Json::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON object's scalar entries as strings (the `"class"` key of generalized maps dropped).
pub(crate) fn string_map(v: &Json) -> BTreeMap<String, String> {
    match v {
        Json::Object(map) => map
            .iter()
            .filter(|(k, _)| k.as_str() != "class")
            .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;

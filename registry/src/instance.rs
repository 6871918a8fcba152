//! What discovery produces: [`Instance`]s of a service, identified by [`InstanceId`], selected by
//! a [`ServiceKey`] with Dubbo's group/version matching, delivered as [`Change`]s, plus the
//! registry connection state ([`RegistryStatus`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::url::split_list;

/// The wire protocol of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// Dubbo2 TCP (`dubbo://`).
    Dubbo,
    /// Triple (`tri://`), gRPC-compatible over HTTP/2.
    Tri,
}

impl Protocol {
    /// `dubbo` → [`Protocol::Dubbo`], `tri` → [`Protocol::Tri`] (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Protocol> {
        if name.eq_ignore_ascii_case("dubbo") {
            Some(Protocol::Dubbo)
        } else if name.eq_ignore_ascii_case("tri") {
            Some(Protocol::Tri)
        } else {
            None
        }
    }

    /// The URL scheme: `dubbo` or `tri`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Dubbo => "dubbo",
            Protocol::Tri => "tri",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One routable provider of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Where to connect.
    pub addr: SocketAddr,
    /// How to talk to it.
    pub protocol: Protocol,
    /// Load-balancing weight (Dubbo default 100; 0 = take no traffic unless all are 0).
    pub weight: u32,
    /// Warm-up period during which the effective weight ramps up (Dubbo default 10 min).
    pub warmup: Duration,
    /// When the provider started (`timestamp`), for warm-up.
    pub started_at: Option<SystemTime>,
    /// The service group, `None` for the default group.
    pub group: Option<String>,
    /// The service version, `None` when the service has none.
    pub version: Option<String>,
    /// Every parameter the registry carried (`application`, `methods`, `serialization`,
    /// `timeout`, `path`, …).
    pub params: BTreeMap<String, String>,
}

impl Instance {
    /// The identity of this instance within one watch.
    pub fn id(&self) -> InstanceId {
        InstanceId {
            protocol: self.protocol,
            addr: self.addr,
            group: self.group.clone(),
            version: self.version.clone(),
        }
    }

    /// A parameter, `None` when absent or empty.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The `methods` parameter as a list.
    pub fn methods(&self) -> Vec<&str> {
        split_list(self.param("methods").unwrap_or(""))
    }

    /// The `application` parameter.
    pub fn application(&self) -> Option<&str> {
        self.param("application")
    }

    /// The service path to call (`path` parameter, else `interface`).
    pub fn path(&self) -> Option<&str> {
        self.param("path").or_else(|| self.param("interface"))
    }

    /// The `serialization` parameter, else the first of `prefer.serialization`.
    pub fn serialization(&self) -> Option<&str> {
        self.param("serialization").or_else(|| {
            self.param("prefer.serialization")
                .and_then(|list| split_list(list).into_iter().next())
        })
    }
}

/// Identity of an instance inside one watch: protocol, address, group and version (one port may
/// serve the same interface in several groups).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId {
    /// Protocol.
    pub protocol: Protocol,
    /// Address.
    pub addr: SocketAddr,
    /// Group.
    pub group: Option<String>,
    /// Version.
    pub version: Option<String>,
}

impl std::fmt::Display for InstanceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.protocol, self.addr)?;
        match (&self.group, &self.version) {
            (None, None) => Ok(()),
            (g, v) => write!(
                f,
                "?group={}&version={}",
                g.as_deref().unwrap_or(""),
                v.as_deref().unwrap_or("")
            ),
        }
    }
}

/// Which providers a watch wants: an interface plus Dubbo's group and version selectors.
///
/// Matching follows Dubbo's `UrlUtils.isMatch`: group `*` matches any group, `a,b` matches
/// either; version `*` matches any version; otherwise both must be equal, where absent and
/// empty both mean "default".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKey {
    /// The Java interface name.
    pub interface: String,
    /// Group selector (`None` = default group).
    pub group: Option<String>,
    /// Version selector (`None` = no version).
    pub version: Option<String>,
}

impl ServiceKey {
    /// A key for `interface`, default group, no version.
    pub fn new(interface: impl Into<String>) -> Self {
        ServiceKey {
            interface: interface.into(),
            group: None,
            version: None,
        }
    }

    /// Sets the group selector (empty = default group).
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into()).filter(|g: &String| !g.is_empty());
        self
    }

    /// Sets the version selector (empty = none).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into()).filter(|v: &String| !v.is_empty());
        self
    }

    /// True when a provider of this interface with `group` / `version` is selected.
    pub fn matches(&self, group: Option<&str>, version: Option<&str>) -> bool {
        self.matches_group(group) && self.matches_version(version)
    }

    /// Dubbo's `isMatchGroup`.
    pub fn matches_group(&self, group: Option<&str>) -> bool {
        let provider = group.unwrap_or("");
        match self.group.as_deref().unwrap_or("") {
            "*" => true,
            wanted if wanted.contains(',') => split_list(wanted).contains(&provider),
            wanted => wanted == provider,
        }
    }

    /// Dubbo's version rule (`*` or equal).
    pub fn matches_version(&self, version: Option<&str>) -> bool {
        match self.version.as_deref().unwrap_or("") {
            "*" => true,
            wanted => wanted == version.unwrap_or(""),
        }
    }

    /// True when group or version select more than one value (`*` or a list).
    pub fn is_wildcard(&self) -> bool {
        let g = self.group.as_deref().unwrap_or("");
        let v = self.version.as_deref().unwrap_or("");
        g == "*" || g.contains(',') || v == "*"
    }
}

impl std::fmt::Display for ServiceKey {
    /// Dubbo's service key form `group/interface:version`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(g) = &self.group {
            write!(f, "{g}/")?;
        }
        write!(f, "{}", self.interface)?;
        if let Some(v) = &self.version {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// One step of a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The complete current set (sorted by [`InstanceId`]); replaces everything seen before.
    Reset(Vec<Instance>),
    /// One instance joined (or changed: same id, new data).
    Add(Instance),
    /// One instance left.
    Remove(InstanceId),
}

/// The registry connection as a watch sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryStatus {
    /// Not connected yet.
    Connecting,
    /// Connected; changes flow.
    Connected,
    /// Connection lost: the last known instances stay in force until it comes back.
    Disconnected {
        /// When the loss was noticed.
        since: Instant,
        /// Why (client error text).
        reason: String,
    },
}

impl RegistryStatus {
    /// True for [`RegistryStatus::Connected`].
    pub fn is_connected(&self) -> bool {
        matches!(self, RegistryStatus::Connected)
    }
}

/// Applies changes to a current set; what a consumer of a [`Change`] stream keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceSet {
    instances: BTreeMap<InstanceId, Instance>,
}

impl InstanceSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one change.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Reset(all) => {
                self.instances = all.into_iter().map(|i| (i.id(), i)).collect();
            }
            Change::Add(instance) => {
                self.instances.insert(instance.id(), instance);
            }
            Change::Remove(id) => {
                self.instances.remove(&id);
            }
        }
    }

    /// The instances, sorted by id.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.values()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// The instances as a sorted vector.
    pub fn to_vec(&self) -> Vec<Instance> {
        self.instances.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(port: u16, group: Option<&str>) -> Instance {
        Instance {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            protocol: Protocol::Dubbo,
            weight: 100,
            warmup: Duration::ZERO,
            started_at: None,
            group: group.map(str::to_string),
            version: None,
            params: BTreeMap::new(),
        }
    }

    #[test]
    fn group_and_version_matching_follows_dubbo() {
        // (key group, key version, provider group, provider version, expected)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            bool,
        );
        let cases: &[Case] = &[
            (None, None, None, None, true),
            (None, None, Some("g"), None, false),
            (Some("g"), None, Some("g"), None, true),
            (Some("g"), None, None, None, false),
            (Some("*"), None, Some("g"), None, true),
            (Some("*"), None, None, None, true),
            (Some("a,b"), None, Some("b"), None, true),
            (Some("a, b"), None, Some("b"), None, true),
            (Some("a,b"), None, Some("c"), None, false),
            (Some("a,b"), None, None, None, false),
            (None, Some("1.0.0"), None, Some("1.0.0"), true),
            (None, Some("1.0.0"), None, Some("2.0.0"), false),
            (None, Some("1.0.0"), None, None, false),
            (None, None, None, Some("1.0.0"), false),
            (None, Some("*"), None, Some("1.0.0"), true),
            (None, Some("*"), None, None, true),
            (Some("*"), Some("*"), Some("x"), Some("y"), true),
        ];
        for &(kg, kv, pg, pv, want) in cases {
            let mut key = ServiceKey::new("I");
            if let Some(g) = kg {
                key = key.with_group(g);
            }
            if let Some(v) = kv {
                key = key.with_version(v);
            }
            assert_eq!(key.matches(pg, pv), want, "{kg:?} {kv:?} vs {pg:?} {pv:?}");
        }
    }

    #[test]
    fn empty_selectors_mean_default() {
        let key = ServiceKey::new("I").with_group("").with_version("");
        assert_eq!(key, ServiceKey::new("I"));
        assert!(key.matches(None, None));
    }

    #[test]
    fn wildcard_detection() {
        for (g, v, want) in [
            ("", "", false),
            ("g", "1", false),
            ("*", "", true),
            ("a,b", "", true),
            ("", "*", true),
        ] {
            let key = ServiceKey::new("I").with_group(g).with_version(v);
            assert_eq!(key.is_wildcard(), want, "{g:?} {v:?}");
        }
    }

    #[test]
    fn service_key_display() {
        let key = ServiceKey::new("org.A").with_group("g").with_version("1");
        assert_eq!(key.to_string(), "g/org.A:1");
        assert_eq!(ServiceKey::new("org.A").to_string(), "org.A");
    }

    #[test]
    fn instance_set_applies_changes() {
        let mut set = InstanceSet::new();
        set.apply(Change::Reset(vec![inst(1, None), inst(2, None)]));
        assert_eq!(set.len(), 2);
        set.apply(Change::Add(inst(3, None)));
        set.apply(Change::Add(inst(1, Some("g"))));
        assert_eq!(set.len(), 4, "same addr, other group is another instance");
        set.apply(Change::Remove(inst(2, None).id()));
        let ports: Vec<u16> = set.instances().map(|i| i.addr.port()).collect();
        assert_eq!(ports, [1, 1, 3]);
        set.apply(Change::Reset(Vec::new()));
        assert!(set.is_empty());
    }

    #[test]
    fn instance_id_display() {
        let mut i = inst(20880, Some("g2"));
        i.version = Some("1.0.0".into());
        assert_eq!(
            i.id().to_string(),
            "dubbo://127.0.0.1:20880?group=g2&version=1.0.0"
        );
        assert_eq!(inst(1, None).id().to_string(), "dubbo://127.0.0.1:1");
    }

    #[test]
    fn protocol_names() {
        for (name, want) in [
            ("dubbo", Some(Protocol::Dubbo)),
            ("DUBBO", Some(Protocol::Dubbo)),
            ("tri", Some(Protocol::Tri)),
            ("triple", None),
            ("rest", None),
            ("", None),
        ] {
            assert_eq!(Protocol::from_name(name), want, "{name}");
        }
    }
}

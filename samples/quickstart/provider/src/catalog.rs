//! The exported services and their Java method signatures: what the provider matches service
//! keys (interface, version, group) and methods (name and parameter types) against, and what the
//! gateway's sample configuration is written against.

/// One Java method: its name, parameter types (as `Class.getName()` prints them) and return type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodSig {
    /// The method name.
    pub name: &'static str,
    /// Parameter types, e.g. `long`, `java.lang.String`, `org.tianlu.sample.User`.
    pub params: &'static [&'static str],
    /// The declared return type (documentation only).
    pub returns: &'static str,
}

impl MethodSig {
    /// `name(type, type)`, as Java prints a method in `NoSuchMethodException`.
    pub fn signature(&self) -> String {
        format!("{}({})", self.name, self.params.join(", "))
    }
}

/// Which service a request addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceId {
    /// `org.tianlu.sample.UserService`.
    User,
    /// `org.tianlu.sample.OrderService`.
    Order,
    /// `org.tianlu.sample.EchoService`.
    Echo,
}

/// One exported service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceDef {
    /// Which one.
    pub id: ServiceId,
    /// The interface name (also the service path).
    pub interface: &'static str,
    /// The exported version, `None` for none.
    pub version: Option<&'static str>,
    /// The methods, no overloads.
    pub methods: &'static [MethodSig],
}

impl ServiceDef {
    /// The method called `name`.
    pub fn method(&self, name: &str) -> Option<&'static MethodSig> {
        self.methods.iter().find(|m| m.name == name)
    }
}

const fn sig(
    name: &'static str,
    params: &'static [&'static str],
    returns: &'static str,
) -> MethodSig {
    MethodSig {
        name,
        params,
        returns,
    }
}

const LONG: &str = "long";
const INT: &str = "int";
const STRING: &str = "java.lang.String";
const USER: &str = "org.tianlu.sample.User";
const ORDER: &str = "org.tianlu.sample.Order";

/// `org.tianlu.sample.UserService`, version `1.0.0`.
pub const USER_SERVICE: ServiceDef = ServiceDef {
    id: ServiceId::User,
    interface: "org.tianlu.sample.UserService",
    version: Some("1.0.0"),
    methods: &[
        sig("getUser", &[LONG], USER),
        sig("createUser", &[USER], USER),
        sig("updateUser", &[LONG, USER], USER),
        sig(
            "listUsers",
            &[STRING, INT],
            "java.util.List<org.tianlu.sample.User>",
        ),
        sig("deleteUser", &[LONG], "boolean"),
        sig("whoAmI", &[], STRING),
        sig("slow", &[INT], STRING),
    ],
};

/// `org.tianlu.sample.OrderService`, version `1.0.0`.
pub const ORDER_SERVICE: ServiceDef = ServiceDef {
    id: ServiceId::Order,
    interface: "org.tianlu.sample.OrderService",
    version: Some("1.0.0"),
    methods: &[
        sig("getOrder", &[LONG], ORDER),
        sig("createOrder", &[ORDER], ORDER),
        sig("payOrder", &[LONG], ORDER),
    ],
};

/// `org.tianlu.sample.EchoService`, no version.
pub const ECHO_SERVICE: ServiceDef = ServiceDef {
    id: ServiceId::Echo,
    interface: "org.tianlu.sample.EchoService",
    version: None,
    methods: &[
        sig("echo", &[STRING], STRING),
        sig("echoObject", &["java.lang.Object"], "java.lang.Object"),
        sig("add", &[INT, INT], INT),
        sig("attachment", &[STRING], STRING),
    ],
};

/// Every exported service.
pub const SERVICES: [ServiceDef; 3] = [USER_SERVICE, ORDER_SERVICE, ECHO_SERVICE];

/// A version as Dubbo keys services by it: `null`, `""` and `"0.0.0"` mean none.
fn normalize_version(version: Option<&str>) -> Option<&str> {
    version.filter(|v| !v.is_empty() && *v != "0.0.0")
}

/// The service exported under exactly this path, version and group (no wildcards, as on a Java
/// provider: a wrong version or any group is "not found").
pub fn find_service(
    path: &str,
    version: Option<&str>,
    group: Option<&str>,
) -> Option<&'static ServiceDef> {
    if group.is_some_and(|g| !g.is_empty()) {
        return None;
    }
    let version = normalize_version(version);
    SERVICES
        .iter()
        .find(|s| s.interface == path && s.version == version)
}

/// The service key Java prints in "Not found exported service": `group/path:version`.
pub fn service_key(path: &str, version: Option<&str>, group: Option<&str>) -> String {
    let mut key = String::new();
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        key.push_str(g);
        key.push('/');
    }
    key.push_str(path);
    if let Some(v) = normalize_version(version) {
        key.push(':');
        key.push_str(v);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_keyed_by_path_version_and_group() {
        let user = "org.tianlu.sample.UserService";
        let echo = "org.tianlu.sample.EchoService";
        assert_eq!(
            find_service(user, Some("1.0.0"), None).unwrap().id,
            ServiceId::User
        );
        assert!(find_service(user, None, None).is_none());
        assert!(find_service(user, Some("2.0.0"), None).is_none());
        assert!(find_service(user, Some("1.0.0"), Some("g")).is_none());
        assert_eq!(find_service(echo, None, None).unwrap().id, ServiceId::Echo);
        assert_eq!(
            find_service(echo, Some("0.0.0"), Some("")).unwrap().id,
            ServiceId::Echo
        );
        assert!(find_service(echo, Some("1.0.0"), None).is_none());
        assert!(find_service("org.tianlu.sample.Nope", None, None).is_none());
        assert_eq!(
            service_key(user, Some("2.0.0"), Some("g")),
            "g/org.tianlu.sample.UserService:2.0.0"
        );
        assert_eq!(service_key(echo, None, None), echo);
    }

    #[test]
    fn signatures_print_like_java() {
        let m = USER_SERVICE.method("listUsers").unwrap();
        assert_eq!(m.signature(), "listUsers(java.lang.String, int)");
        assert!(USER_SERVICE.method("nope").is_none());
    }
}

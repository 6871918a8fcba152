//! Tests for application-level metadata parsing; the JSON texts are real ones written by the
//! Java Dubbo 3.3.6 provider of `tests/interop` (ZooKeeper node data, MetadataService answers),
//! shortened where marked.

use super::*;

/// `/services/demo-app/192.0.2.2:21880` (storage-type local).
const CURATOR_LOCAL: &str = r#"{"name":"demo-app","id":"192.0.2.2:21880","address":"192.0.2.2","port":21880,"sslPort":null,"payload":{"@class":"org.apache.dubbo.registry.zookeeper.ZookeeperInstance","id":"192.0.2.2:21880","name":"demo-app","metadata":{"dubbo.endpoints":"[{\"port\":21880,\"protocol\":\"dubbo\"},{\"port\":21881,\"protocol\":\"tri\"}]","dubbo.metadata-service.url-params":"{\"prefer.serialization\":\"hessian2,fastjson2\",\"version\":\"2.0.0\",\"dubbo\":\"2.0.2\",\"release\":\"3.3.6\",\"side\":\"provider\",\"port\":\"21881\",\"protocol\":\"tri\"}","dubbo.metadata.revision":"58c929fc2e09af6439cce706b7e3afad","dubbo.metadata.storage-type":"local","meta-v":"2.0.0","timestamp":"1795555484519"}},"registrationTimeUTC":1795555484716,"serviceType":"DYNAMIC","uriSpec":null}"#;

/// `/services/demo-app/127.0.0.1:21880` (storage-type remote, no MetadataService params).
const CURATOR_REMOTE: &str = r#"{"name":"demo-app","id":"127.0.0.1:21880","address":"127.0.0.1","port":21880,"sslPort":null,"payload":{"@class":"org.apache.dubbo.registry.zookeeper.ZookeeperInstance","id":"127.0.0.1:21880","name":"demo-app","metadata":{"dubbo.endpoints":"[{\"port\":21880,\"protocol\":\"dubbo\"},{\"port\":21881,\"protocol\":\"tri\"}]","dubbo.metadata.revision":"61763c202175504e862cf5bcaa5d106e","dubbo.metadata.storage-type":"remote","meta-v":"2.0.0","timestamp":"1795555563734"}},"registrationTimeUTC":1795555563964,"serviceType":"DYNAMIC","uriSpec":null}"#;

/// `getMetadataInfo` over Triple's JSON mapping (two of the five services kept, params cut).
const METADATA_INFO: &str = r#"{"app":"demo-app","revision":"58c929fc2e09af6439cce706b7e3afad","services":{"org.tianlu.interop.UserService:1.0.0:dubbo":{"name":"org.tianlu.interop.UserService","params":{"side":"provider","release":"3.3.6","methods":"createUser,deleteUser,getUser,listUsers,updateUser,whoAmI","weight":"7","interface":"org.tianlu.interop.UserService","version":"1.0.0","application":"demo-app","prefer.serialization":"hessian2,fastjson2"},"path":"org.tianlu.interop.UserService","port":21880,"protocol":"dubbo","version":"1.0.0"},"g2/org.tianlu.interop.UserService:1.0.0:tri":{"group":"g2","name":"org.tianlu.interop.UserService","params":{"side":"provider","methods":"createUser,deleteUser,getUser,listUsers,updateUser,whoAmI","weight":"7","interface":"org.tianlu.interop.UserService","version":"1.0.0","application":"demo-app","group":"g2"},"path":"org.tianlu.interop.UserService","port":21881,"protocol":"tri","version":"1.0.0"}}}"#;

/// `/dubbo/metadata/org.tianlu.interop.UserService/1.0.0/provider/demo-app` (types cut).
const DEFINITION: &str = r#"{"annotations":[],"canonicalName":"org.tianlu.interop.UserService","codeSource":"file:/work/main/tests/interop/target/classes/","methods":[{"annotations":[],"name":"getUser","parameterTypes":["long"],"parameters":[],"returnType":"org.tianlu.interop.User"},{"annotations":[],"name":"updateUser","parameterTypes":["long","org.tianlu.interop.User"],"parameters":[],"returnType":"org.tianlu.interop.User"},{"annotations":[],"name":"listUsers","parameterTypes":["java.lang.String","int"],"parameters":[],"returnType":"java.util.List<org.tianlu.interop.User>"},{"annotations":[],"name":"whoAmI","parameterTypes":[],"parameters":[],"returnType":"java.lang.String"}],"parameters":{"application":"demo-app","version":"1.0.0","weight":"7"},"types":[{"enums":["RED","GREEN","BLUE"],"items":[],"properties":{},"type":"org.tianlu.interop.Color"},{"enums":[],"items":[],"properties":{"zip":"java.lang.String","city":"java.lang.String"},"type":"org.tianlu.interop.Address"},{"enums":[],"items":["org.tianlu.interop.User"],"properties":{},"type":"java.util.List<org.tianlu.interop.User>"}],"uniqueId":"org.tianlu.interop.UserService@file:/work/main/tests/interop/target/classes/"}"#;

#[test]
fn curator_instances() {
    let local = AppInstance::from_curator_json("x", CURATOR_LOCAL.as_bytes()).unwrap();
    assert_eq!(local.app, "demo-app", "the record's own name wins");
    assert_eq!(local.host, "192.0.2.2".parse::<IpAddr>().unwrap());
    assert_eq!(local.port, 21880);
    assert_eq!(local.revision(), Some("58c929fc2e09af6439cce706b7e3afad"));
    assert_eq!(local.storage_type(), StorageType::Local);
    assert_eq!(
        local.endpoints(),
        [
            AppEndpoint {
                protocol: "dubbo".into(),
                port: 21880
            },
            AppEndpoint {
                protocol: "tri".into(),
                port: 21881
            }
        ]
    );
    assert_eq!(
        local.metadata_service(),
        Some(("tri".to_string(), "192.0.2.2:21881".parse().unwrap()))
    );
    assert!(local.timestamp().is_some());

    let remote = AppInstance::from_curator_json("demo-app", CURATOR_REMOTE.as_bytes()).unwrap();
    assert_eq!(remote.storage_type(), StorageType::Remote);
    assert_eq!(remote.metadata_service(), None);
    assert_eq!(remote.endpoint_port("tri"), Some(21881));
}

#[test]
fn curator_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "bad metadata JSON"),
        ("[]", "metadata lacks address"),
        (r#"{"address":"h.local","port":1}"#, "is not an IP"),
        (r#"{"address":"1.1.1.1"}"#, "metadata lacks port"),
        (
            r#"{"address":"1.1.1.1","port":70000}"#,
            "metadata lacks port",
        ),
        (r#"{"address":"1.1.1.1","port":"x"}"#, "metadata lacks port"),
    ];
    for (input, want) in cases {
        let err = AppInstance::from_curator_json("a", input.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{input}: {err}");
    }
    // Odd metadata is tolerated: non-string values printed, nested ones dropped.
    let odd = AppInstance::from_curator_json(
        "a",
        br#"{"address":"1.1.1.1","port":"5","payload":{"metadata":{"n":1,"b":true,"o":{},"dubbo.endpoints":"not json"}}}"#,
    )
    .unwrap();
    assert_eq!(odd.app, "a");
    assert_eq!(odd.port, 5);
    assert_eq!(odd.meta("n"), Some("1"));
    assert_eq!(odd.meta("b"), Some("true"));
    assert_eq!(odd.meta("o"), None);
    assert!(odd.endpoints().is_empty());
    assert_eq!(odd.metadata_service(), None);
}

#[test]
fn metadata_info_to_instances() {
    let info = MetadataInfo::from_json_bytes(METADATA_INFO.as_bytes()).unwrap();
    assert_eq!(info.app, "demo-app");
    assert_eq!(info.services.len(), 2);
    let inst = AppInstance::from_curator_json("demo-app", CURATOR_LOCAL.as_bytes()).unwrap();
    // (group, version, expected (protocol, port, group) list)
    type Case<'a> = (&'a str, &'a str, &'a [(Protocol, u16, Option<&'a str>)]);
    let cases: &[Case] = &[
        ("", "1.0.0", &[(Protocol::Dubbo, 21880, None)]),
        ("g2", "1.0.0", &[(Protocol::Tri, 21881, Some("g2"))]),
        (
            "*",
            "1.0.0",
            &[
                (Protocol::Dubbo, 21880, None),
                (Protocol::Tri, 21881, Some("g2")),
            ],
        ),
        ("", "2.0.0", &[]),
        ("", "", &[]),
    ];
    for (group, version, want) in cases {
        let key = ServiceKey::new("org.tianlu.interop.UserService")
            .with_group(*group)
            .with_version(*version);
        let got: Vec<(Protocol, u16, Option<String>)> = info
            .instances(&key, &inst)
            .iter()
            .map(|i| (i.protocol, i.addr.port(), i.group.clone()))
            .collect();
        let mut got = got;
        got.sort();
        let want: Vec<(Protocol, u16, Option<String>)> = want
            .iter()
            .map(|(p, port, g)| (*p, *port, g.map(str::to_string)))
            .collect();
        assert_eq!(got, want, "{group:?} {version:?}");
    }
    let key = ServiceKey::new("org.tianlu.interop.UserService").with_version("1.0.0");
    let one = &info.instances(&key, &inst)[0];
    assert_eq!(one.weight, 7);
    assert_eq!(one.addr, "192.0.2.2:21880".parse().unwrap());
    assert_eq!(one.application(), Some("demo-app"));
    assert_eq!(one.methods().len(), 6);
    assert_eq!(one.started_at, inst.timestamp());
    assert!(info.instances(&ServiceKey::new("other"), &inst).is_empty());
}

#[test]
fn generalized_metadata_info() {
    // The shape a Dubbo2 generic call returns: "class" keys, numbers as numbers.
    let json = serde_json::json!({
        "class": "org.apache.dubbo.metadata.MetadataInfo",
        "app": "a",
        "revision": "r",
        "services": {
            "org.A:dubbo": {
                "class": "org.apache.dubbo.metadata.MetadataInfo$ServiceInfo",
                "name": "org.A", "protocol": "dubbo", "port": 20880, "group": null,
                "params": {"class": "java.util.HashMap", "weight": "3", "timeout": 1000}
            },
            "bad": "not an object",
            "org.B:rest": {"name": "org.B", "protocol": "rest", "port": 80, "params": {}}
        }
    });
    let info = MetadataInfo::from_json(&json).unwrap();
    assert_eq!(info.services.len(), 2, "the non-object entry is skipped");
    let a = &info.services["org.A:dubbo"];
    assert_eq!(a.group, None);
    assert_eq!(a.params.get("timeout").map(String::as_str), Some("1000"));
    assert!(!a.params.contains_key("class"));
    let inst = AppInstance {
        app: "a".into(),
        host: "10.0.0.1".parse().unwrap(),
        port: 1,
        metadata: BTreeMap::new(),
    };
    assert_eq!(info.instances(&ServiceKey::new("org.A"), &inst).len(), 1);
    assert!(
        info.instances(&ServiceKey::new("org.B"), &inst).is_empty(),
        "rest is not callable"
    );
}

#[test]
fn disabled_and_portless_services_are_not_instances() {
    let inst = AppInstance {
        app: "a".into(),
        host: "10.0.0.1".parse().unwrap(),
        port: 0,
        metadata: BTreeMap::from([(
            KEY_ENDPOINTS.to_string(),
            r#"[{"port":50051,"protocol":"tri"}]"#.to_string(),
        )]),
    };
    let svc = |protocol: &str, params: &[(&str, &str)]| ServiceInfo {
        name: "org.A".into(),
        group: None,
        version: None,
        protocol: protocol.into(),
        port: 0,
        path: None,
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    assert_eq!(
        svc("tri", &[]).to_instance(&inst).map(|i| i.addr.port()),
        Some(50051),
        "port from dubbo.endpoints"
    );
    assert_eq!(
        svc("dubbo", &[]).to_instance(&inst),
        None,
        "no port anywhere"
    );
    assert_eq!(svc("tri", &[("enabled", "false")]).to_instance(&inst), None);
    assert_eq!(svc("tri", &[("disabled", "true")]).to_instance(&inst), None);
}

#[test]
fn metadata_info_errors() {
    for (input, want) in [
        ("{", "bad metadata JSON"),
        ("{}", "metadata lacks app"),
        ("[1]", "metadata lacks app"),
    ] {
        let err = MetadataInfo::from_json_bytes(input.as_bytes()).unwrap_err();
        assert!(err.to_string().contains(want), "{input}: {err}");
    }
}

#[test]
fn service_definitions() {
    let def = ServiceDefinition::from_json_bytes(DEFINITION.as_bytes()).unwrap();
    assert_eq!(def.canonical_name, "org.tianlu.interop.UserService");
    let table: Vec<(&str, Vec<&str>, &str)> = def
        .methods
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.parameter_types.iter().map(String::as_str).collect(),
                m.return_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            ("getUser", vec!["long"], "org.tianlu.interop.User"),
            (
                "updateUser",
                vec!["long", "org.tianlu.interop.User"],
                "org.tianlu.interop.User"
            ),
            (
                "listUsers",
                vec!["java.lang.String", "int"],
                "java.util.List<org.tianlu.interop.User>"
            ),
            ("whoAmI", vec![], "java.lang.String"),
        ]
    );
    assert_eq!(def.methods_named("listUsers").count(), 1);
    assert_eq!(def.types.len(), 3);
    assert_eq!(def.types[0].enums, ["RED", "GREEN", "BLUE"]);
    assert_eq!(
        def.types[1].properties.get("zip").map(String::as_str),
        Some("java.lang.String")
    );
    assert_eq!(def.types[2].items, ["org.tianlu.interop.User"]);
    assert_eq!(def.parameters.get("weight").map(String::as_str), Some("7"));
    assert!(ServiceDefinition::from_json_bytes(b"{}").is_err());
    assert!(ServiceDefinition::from_json_bytes(b"nope").is_err());
}

#[test]
fn definition_paths() {
    for (iface, version, group, want) in [
        ("org.A", None, None, "metadata/org.A/provider/app"),
        (
            "org.A",
            Some("1.0.0"),
            None,
            "metadata/org.A/1.0.0/provider/app",
        ),
        (
            "org.A",
            Some("1.0.0"),
            Some("g2"),
            "metadata/org.A/1.0.0/g2/provider/app",
        ),
        ("org.A", None, Some("g2"), "metadata/org.A/g2/provider/app"),
        ("org.A", Some(""), Some(""), "metadata/org.A/provider/app"),
    ] {
        assert_eq!(definition_report_path(iface, version, group, "app"), want);
    }
}

#[test]
fn cache_round_trip() {
    let cache = MetadataCache::new();
    assert!(cache.get("a", "r").is_none());
    let info = Arc::new(MetadataInfo {
        app: "a".into(),
        revision: "r".into(),
        services: BTreeMap::new(),
    });
    cache.put("a", "r", Arc::clone(&info));
    assert_eq!(cache.get("a", "r"), Some(info));
    assert!(cache.get("a", "other").is_none());
}

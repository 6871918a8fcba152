//! Unit tests of [`super`] (no server needed).

use super::*;

fn raw(ip: &str, port: i32, meta: &[(&str, &str)]) -> ServiceInstance {
    ServiceInstance {
        ip: ip.into(),
        port,
        metadata: meta
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ServiceInstance::default()
    }
}

#[test]
fn service_names_round_trip() {
    for (iface, version, group, name) in [
        ("org.A", None, None, "providers:org.A::"),
        ("org.A", Some("1.0.0"), None, "providers:org.A:1.0.0:"),
        (
            "org.A",
            Some("1.0.0"),
            Some("g2"),
            "providers:org.A:1.0.0:g2",
        ),
        ("org.A", None, Some("g2"), "providers:org.A::g2"),
    ] {
        assert_eq!(provider_service_name(iface, version, group), name);
        assert_eq!(
            parse_provider_service_name(name),
            Some((
                iface.to_string(),
                version.map(str::to_string),
                group.map(str::to_string)
            ))
        );
    }
    for bad in [
        "demo-app",
        "providers:",
        "providers::1:g",
        "providers:a:b:c:d",
        "consumers:a::",
    ] {
        assert_eq!(parse_provider_service_name(bad), None, "{bad}");
    }
    assert_eq!(
        parse_provider_service_name("providers:org.A"),
        Some(("org.A".into(), None, None)),
        "the legacy short name"
    );
}

#[test]
fn nacos_instances_table() {
    let base = [
        ("interface", "org.A"),
        ("protocol", "dubbo"),
        ("category", "providers"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        base.iter().chain(extra.iter()).copied().collect()
    };
    let cases: Vec<(ServiceInstance, Option<&str>)> = vec![
        (
            raw("10.0.0.1", 20880, &with(&[("version", "1.0.0")])),
            Some("dubbo://10.0.0.1:20880?group=&version=1.0.0"),
        ),
        (
            raw("10.0.0.1", 50051, &with(&[("protocol", "tri")])),
            Some("tri://10.0.0.1:50051"),
        ),
        (raw("10.0.0.1", 20880, &[]), Some("dubbo://10.0.0.1:20880")),
        (raw("10.0.0.1", 20880, &with(&[("enabled", "false")])), None),
        (raw("10.0.0.1", 20880, &[("interface", "org.B")]), None),
        (
            raw("10.0.0.1", 20880, &with(&[("category", "consumers")])),
            None,
        ),
        (raw("10.0.0.1", 70000, &base), None),
        (raw("10.0.0.1", -1, &base), None),
        (raw("not-an-ip", 20880, &base), None),
        (raw("10.0.0.1", 20880, &[("protocol", "rest")]), None),
        (
            ServiceInstance {
                healthy: false,
                ..raw("10.0.0.1", 20880, &base)
            },
            None,
        ),
        (
            ServiceInstance {
                enabled: false,
                ..raw("10.0.0.1", 20880, &base)
            },
            None,
        ),
    ];
    for (input, want) in cases {
        let got = provider_instance("org.A", &input).map(|i| i.id().to_string());
        assert_eq!(got.as_deref(), want, "{input:?}");
    }
    let weighted =
        provider_instance("org.A", &raw("10.0.0.1", 1, &with(&[("weight", "7")]))).unwrap();
    assert_eq!(weighted.weight, 7);
    assert_eq!(weighted.path(), Some("org.A"));
}

#[test]
fn keep_last_good_lists() {
    let inst = provider_instance("org.A", &raw("10.0.0.1", 1, &[])).unwrap();
    let mut lists = Lists::default();
    assert!(!lists.update("s", vec![inst.clone()], false));
    assert!(lists.update("s", Vec::new(), true), "held in grace");
    assert_eq!(lists.all().len(), 1);
    assert!(!lists.update("s", Vec::new(), false), "taken after grace");
    assert!(lists.all().is_empty());
    assert!(!lists.update("t", Vec::new(), true), "nothing to keep");
    lists.update("s", vec![inst], false);
    lists.retain(&BTreeSet::from(["t".to_string()]));
    assert!(lists.all().is_empty());
}

#[test]
fn grace_polling() {
    let ms = Duration::from_millis;
    for (left, want) in [
        (None, None),
        (Some(ms(10_000)), Some(GRACE_POLL)),
        (Some(ms(200)), Some(ms(200))),
        (Some(Duration::ZERO), Some(Duration::ZERO)),
    ] {
        assert_eq!(grace_poll(left), want, "{left:?}");
    }
}

#[test]
fn config_validation() {
    assert!(NacosConfig::new("127.0.0.1:8848").validate().is_ok());
    assert!(NacosConfig::new("").validate().is_err());
    let mut cfg = NacosConfig::new("h:1");
    cfg.group = " ".into();
    assert!(cfg.validate().is_err());
    let mut cfg = NacosConfig::new("h:1");
    cfg.probe_interval = Duration::ZERO;
    assert!(cfg.validate().is_err());
}

#[test]
fn exact_names() {
    let key = ServiceKey::new("org.A")
        .with_version("1.0.0")
        .with_group("g2");
    assert_eq!(exact_service_names(&key), ["providers:org.A:1.0.0:g2"]);
}

//! Unit tests of [`super`] (no server needed).

use super::*;

#[test]
fn provider_nodes_table() {
    let node = |url: &str| form_encode(url);
    let children = vec![
        node("dubbo://10.0.0.1:20880/org.A?interface=org.A&version=1.0.0&side=provider"),
        node("tri://10.0.0.1:50051/org.A?interface=org.A&weight=3"),
        node("dubbo://10.0.0.2:20880/org.A?interface=org.A&enabled=false"),
        node("dubbo://10.0.0.3:20880/org.A?interface=org.A&disabled=true"),
        node("dubbo://10.0.0.4:20880/org.B?interface=org.B"),
        node("rest://10.0.0.5:80/org.A?interface=org.A"),
        node("dubbo://10.0.0.6:20880/org.A?interface=org.A&category=configurators"),
        node("consumer://10.0.0.7/org.A?interface=org.A&side=consumer"),
        node("dubbo://host.name:20880/org.A"),
        "not%ZZa url".to_string(),
        String::new(),
        node("dubbo://10.0.0.8:20880/org.A"),
    ];
    let got: Vec<String> = provider_instances("org.A", &children)
        .iter()
        .map(|i| i.id().to_string())
        .collect();
    assert_eq!(
        got,
        [
            "dubbo://10.0.0.1:20880?group=&version=1.0.0",
            "tri://10.0.0.1:50051",
            "dubbo://10.0.0.8:20880",
        ]
    );
}

#[test]
fn mapping_content_table() {
    for (data, want) in [
        (&b"demo-app"[..], vec!["demo-app"]),
        (b"b,a, a ,", vec!["a", "b"]),
        (b"", vec![]),
        (b"bad/name,..,ok", vec!["ok"]),
        (b"\xff\xfe,x", vec!["x"]),
    ] {
        assert_eq!(parse_apps(data), want, "{data:?}");
    }
}

#[test]
fn config_validation() {
    assert!(ZkConfig::new("127.0.0.1:2181").validate().is_ok());
    let mut bad = ZkConfig::new(" ");
    assert!(bad.validate().is_err());
    bad = ZkConfig::new("h:1");
    bad.root = "a//b".into();
    assert!(bad.validate().is_err());
    bad.root = "/nested/root/".into();
    assert!(bad.validate().is_ok());
    bad.session_timeout = Duration::ZERO;
    assert!(bad.validate().is_err());
}

#[test]
fn needs_a_runtime() {
    let err = ZkDiscover::new(ZkConfig::new("127.0.0.1:1")).unwrap_err();
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

#[tokio::test]
async fn unreachable_zookeeper_is_reported_not_fatal() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let zk = ZkDiscover::new(ZkConfig::new(format!("127.0.0.1:{port}"))).unwrap();
    let mut watch = zk.watch(&ServiceKey::new("org.A"));
    let mut status = zk.status_receiver();
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| matches!(s, RegistryStatus::Disconnected { .. })),
    )
    .await
    .expect("disconnected status")
    .unwrap();
    assert!(matches!(
        watch.status(),
        RegistryStatus::Disconnected { .. }
    ));
    let nothing = tokio::time::timeout(Duration::from_millis(300), watch.next()).await;
    assert!(nothing.is_err(), "no change while unreachable");
    assert!(zk.applications("org.A").await.is_err());
    assert!(zk.wait_connected(Duration::from_millis(50)).await.is_err());
}

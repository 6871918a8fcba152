//! Table tests for provider URL parsing; the encoded node names are real ones written by the
//! Java Dubbo 3.3.6 provider of `tests/interop` into ZooKeeper 3.8.

use super::*;

/// `/dubbo/org.tianlu.interop.UserService/providers/<this>` (group g2, version 1.0.0, weight 7).
const ZK_NODE_G2: &str = "dubbo%3A%2F%2F192.0.2.2%3A21880%2Forg.tianlu.interop.UserService%3Fapplication%3Ddemo-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26group%3Dg2%26interface%3Dorg.tianlu.interop.UserService%26logger%3Dslf4j%26methods%3DcreateUser%2CdeleteUser%2CgetUser%2ClistUsers%2CupdateUser%2CwhoAmI%26prefer.serialization%3Dhessian2%2Cfastjson2%26release%3D3.3.6%26revision%3D1.0.0%26service-name-mapping%3Dtrue%26side%3Dprovider%26timestamp%3D1795555484258%26version%3D1.0.0%26weight%3D7";

/// A Triple provider without group or version.
const ZK_NODE_TRI: &str = "tri%3A%2F%2F192.0.2.2%3A21881%2Forg.tianlu.interop.idl.CatalogService%3Fapplication%3Ddemo-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26interface%3Dorg.tianlu.interop.idl.CatalogService%26logger%3Dslf4j%26methods%3DechoItem%2CgetItem%2Csearch%26prefer.serialization%3Dhessian2%2Cfastjson2%26release%3D3.3.6%26service-name-mapping%3Dtrue%26side%3Dprovider%26timestamp%3D1795555484307%26weight%3D7";

#[test]
fn real_zookeeper_node_names() {
    let url = ProviderUrl::parse(ZK_NODE_G2).unwrap();
    assert_eq!(url.protocol, "dubbo");
    assert_eq!(url.host, "192.0.2.2");
    assert_eq!(url.port, 21880);
    assert_eq!(url.path, "org.tianlu.interop.UserService");
    assert_eq!(url.interface(), "org.tianlu.interop.UserService");
    assert_eq!(url.group(), Some("g2"));
    assert_eq!(url.version(), Some("1.0.0"));
    assert_eq!(url.weight(), 7);
    assert_eq!(url.application(), Some("demo-app"));
    assert_eq!(url.side(), Some("provider"));
    assert_eq!(
        url.methods(),
        [
            "createUser",
            "deleteUser",
            "getUser",
            "listUsers",
            "updateUser",
            "whoAmI"
        ]
    );
    assert_eq!(url.prefer_serialization(), ["hessian2", "fastjson2"]);
    assert_eq!(url.serialization(), None);
    assert!(url.is_enabled());
    assert_eq!(
        url.timestamp(),
        UNIX_EPOCH.checked_add(Duration::from_millis(1_795_555_484_258))
    );
    let inst = url.to_instance().unwrap();
    assert_eq!(inst.addr, "192.0.2.2:21880".parse().unwrap());
    assert_eq!(inst.protocol, Protocol::Dubbo);
    assert_eq!(inst.weight, 7);
    assert_eq!(inst.warmup, DEFAULT_WARMUP);
    assert_eq!(inst.group.as_deref(), Some("g2"));
    assert_eq!(inst.version.as_deref(), Some("1.0.0"));
    assert_eq!(inst.path(), Some("org.tianlu.interop.UserService"));
    assert_eq!(inst.serialization(), Some("hessian2"));

    let tri = ProviderUrl::parse(ZK_NODE_TRI)
        .unwrap()
        .to_instance()
        .unwrap();
    assert_eq!(tri.protocol, Protocol::Tri);
    assert_eq!(tri.addr.port(), 21881);
    assert_eq!(tri.group, None);
    assert_eq!(tri.version, None);
    assert_eq!(tri.methods(), ["echoItem", "getItem", "search"]);
}

#[test]
fn encoded_and_raw_forms_agree() {
    let raw = form_decode(ZK_NODE_G2).unwrap();
    assert!(raw.starts_with("dubbo://192.0.2.2:21880/org.tianlu.interop.UserService?"));
    assert_eq!(
        ProviderUrl::parse(&raw).unwrap(),
        ProviderUrl::parse(ZK_NODE_G2).unwrap()
    );
    // Round trip through Java-style encoding.
    assert_eq!(form_encode(&raw), ZK_NODE_G2);
}

#[test]
fn fields_table() {
    // (input, protocol, host, port, path, interface, group, version, weight, enabled)
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        u16,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        u32,
        bool,
    );
    let rows: &[Row] = &[
        (
            "dubbo://10.0.0.1:20880/org.A?version=1.0.0&group=g",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            Some("g"),
            Some("1.0.0"),
            100,
            true,
        ),
        (
            "tri://10.0.0.1:50051/path.B?interface=org.B&weight=5",
            "tri",
            "10.0.0.1",
            50051,
            "path.B",
            "org.B",
            None,
            None,
            5,
            true,
        ),
        (
            "dubbo://[::1]:20880/org.A?enabled=false",
            "dubbo",
            "::1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            100,
            false,
        ),
        (
            "dubbo://10.0.0.1:20880/org.A?disabled=true&weight=-3",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            0,
            false,
        ),
        (
            "dubbo://10.0.0.1:20880/org.A?disabled=false&enabled=true&weight=abc",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            100,
            true,
        ),
        (
            "dubbo://user:pw@10.0.0.1:20880/org.A?group=&version=",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            100,
            true,
        ),
        (
            "dubbo://10.0.0.1/org.A",
            "dubbo",
            "10.0.0.1",
            0,
            "org.A",
            "org.A",
            None,
            None,
            100,
            true,
        ),
        (
            "dubbo://10.0.0.1:20880",
            "dubbo",
            "10.0.0.1",
            20880,
            "",
            "",
            None,
            None,
            100,
            true,
        ),
        (
            "dubbo://10.0.0.1:20880/org.A?default.weight=9",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            9,
            true,
        ),
        (
            "dubbo://10.0.0.1:20880/org.A?weight=3&default.weight=9",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            3,
            true,
        ),
        (
            "dubbo://10.0.0.1:20880/org.A?weight=99999999999",
            "dubbo",
            "10.0.0.1",
            20880,
            "org.A",
            "org.A",
            None,
            None,
            u32::MAX,
            true,
        ),
    ];
    for &(input, protocol, host, port, path, interface, group, version, weight, enabled) in rows {
        let url = ProviderUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.protocol, protocol, "{input}");
        assert_eq!(url.host, host, "{input}");
        assert_eq!(url.port, port, "{input}");
        assert_eq!(url.path, path, "{input}");
        assert_eq!(url.interface(), interface, "{input}");
        assert_eq!(url.group(), group, "{input}");
        assert_eq!(url.version(), version, "{input}");
        assert_eq!(url.weight(), weight, "{input}");
        assert_eq!(url.is_enabled(), enabled, "{input}");
    }
}

#[test]
fn userinfo_and_bare_keys() {
    let url = ProviderUrl::parse("dubbo://admin:secret@10.0.0.1:1/p?anyhost&a=1&&=x&b").unwrap();
    assert_eq!(url.username.as_deref(), Some("admin"));
    assert_eq!(url.password.as_deref(), Some("secret"));
    assert_eq!(
        url.params.get("anyhost").map(String::as_str),
        Some("anyhost")
    );
    assert_eq!(url.params.get("b").map(String::as_str), Some("b"));
    assert_eq!(url.params.get("a").map(String::as_str), Some("1"));
    assert!(!url.params.contains_key(""));
}

#[test]
fn warmup_and_timestamp() {
    for (input, warmup, ts) in [
        ("dubbo://1.1.1.1:1/p", DEFAULT_WARMUP, None),
        (
            "dubbo://1.1.1.1:1/p?warmup=5000&timestamp=1000",
            Duration::from_secs(5),
            Some(1000u64),
        ),
        (
            "dubbo://1.1.1.1:1/p?warmup=x&timestamp=-5",
            DEFAULT_WARMUP,
            None,
        ),
        (
            "dubbo://1.1.1.1:1/p?timestamp=12.5&warmup=-1",
            DEFAULT_WARMUP,
            None,
        ),
    ] {
        let url = ProviderUrl::parse(input).unwrap();
        assert_eq!(url.warmup(), warmup, "{input}");
        assert_eq!(
            url.timestamp(),
            ts.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
            "{input}"
        );
    }
}

#[test]
fn errors_table() {
    let cases: &[(&str, UrlError)] = &[
        ("", UrlError::Empty),
        ("   ", UrlError::Empty),
        (
            "10.0.0.1:20880/org.A",
            UrlError::NoProtocol("10.0.0.1:20880/org.A".into()),
        ),
        (
            "://10.0.0.1:1/a",
            UrlError::NoProtocol("://10.0.0.1:1/a".into()),
        ),
        (
            "dubbo://10.0.0.1:99999/a",
            UrlError::BadPort("99999".into()),
        ),
        ("dubbo://10.0.0.1:x/a", UrlError::BadPort("x".into())),
        (
            "dubbo://:20880/a",
            UrlError::NoHost("dubbo://:20880/a".into()),
        ),
        ("dubbo://[::1/a", UrlError::NoHost("[::1".into())),
        ("dubbo://[::1]x/a", UrlError::BadPort("x".into())),
        (
            "dubbo%3A%2F%2F1.1.1.1%3A1%2Fa%3Fx%3D%ZZ",
            UrlError::Encoding("bad escape at byte 36".into()),
        ),
        (
            "dubbo%3A%2F%2F1.1.1.1%3A1%2Fa%3Fx%3D%E",
            UrlError::Encoding("truncated escape at byte 36".into()),
        ),
        (
            "dubbo%3A%2F%2F1.1.1.1%3A1%2Fa%3Fx%3D%FF",
            UrlError::Encoding("decoded bytes are not UTF-8".into()),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(ProviderUrl::parse(input).unwrap_err(), *want, "{input:?}");
    }
    let long = format!("dubbo://1.1.1.1:1/{}", "a".repeat(MAX_URL_LEN));
    assert!(matches!(
        ProviderUrl::parse(&long),
        Err(UrlError::TooLong(_))
    ));
}

#[test]
fn instance_conversion_errors() {
    let cases: &[(&str, UrlError)] = &[
        (
            "rest://10.0.0.1:80/a",
            UrlError::UnsupportedProtocol("rest".into()),
        ),
        (
            "empty://10.0.0.1:80/a",
            UrlError::UnsupportedProtocol("empty".into()),
        ),
        (
            "dubbo://provider.local:20880/a",
            UrlError::HostNotIp("provider.local".into()),
        ),
        ("dubbo://10.0.0.1/a", UrlError::NoPort("10.0.0.1:0".into())),
    ];
    for (input, want) in cases {
        let url = ProviderUrl::parse(input).unwrap();
        assert_eq!(url.to_instance().unwrap_err(), *want, "{input}");
    }
}

#[test]
fn form_decoding_table() {
    for (input, want) in [
        ("a+b", "a b"),
        ("a%2Bb", "a+b"),
        ("%E4%B8%AD", "中"),
        ("%e4%b8%ad", "中"),
        ("plain", "plain"),
        ("", ""),
    ] {
        assert_eq!(form_decode(input).unwrap(), want, "{input}");
    }
}

#[test]
fn display_is_parseable() {
    for input in [
        "dubbo://10.0.0.1:20880/org.A?group=g&version=1",
        "tri://[::1]:5/x",
        "dubbo://u:p@10.0.0.1:1/p?a=1",
    ] {
        let url = ProviderUrl::parse(input).unwrap();
        assert_eq!(
            ProviderUrl::parse(&url.to_string()).unwrap(),
            url,
            "{input}"
        );
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: every prefix and suffix of the real node names, plus noise.
    let noise = [
        "%",
        "%%",
        "[",
        "]",
        "@",
        "?&=",
        ":",
        "://",
        "[:",
        "%3A%2F%2F",
    ];
    for base in [ZK_NODE_G2, ZK_NODE_TRI] {
        for cut in (0..base.len()).step_by(7) {
            let _ = ProviderUrl::parse(&base[..cut]);
            let _ = ProviderUrl::parse(&base[cut..]);
            for n in noise {
                let _ = ProviderUrl::parse(&format!("{}{n}{}", &base[..cut], &base[cut..]));
            }
        }
    }
}

//! Loading the realistic fixtures end to end, and cross-file problems.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tianlu_api_config::{
    Backend, Config, HashKey, HttpFilterConfig, LbPolicy, ListenerProtocol, ResponseOptions,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fresh directory under the system temp dir for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tianlu-api-config-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[test]
fn loads_the_sample_configuration() {
    let (config, warnings) = Config::load(&fixture("conf.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.summary(), "1 listener, 6 routes, 2 clusters");
    let w: Vec<String> = warnings.iter().map(|w| w.key_path.clone()).collect();
    assert_eq!(
        w,
        [
            "static_resources.shutdown_config.step_timeout",
            "log",
            "definitions"
        ]
    );

    let b = &config.bootstrap;
    let l = &b.listeners[0];
    assert_eq!(
        (l.name.as_str(), l.protocol, l.address.port),
        ("net/http", ListenerProtocol::Http, 8881)
    );
    assert_eq!(l.hcm.timeout, Duration::from_secs(8));
    assert_eq!(l.hcm.idle_timeout, Some(Duration::from_secs(60)));
    assert_eq!(
        (l.hcm.server_name.as_deref(), l.hcm.generate_request_id),
        (Some("tianlu"), true)
    );
    let names: Vec<&str> = l.hcm.http_filters.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dgp.filter.http.cors",
            "tianlu.filter.http.bodylimit",
            "dgp.filter.http.accesslog",
            "dgp.filter.http.apiconfig",
            "dgp.filter.http.dubboproxy"
        ]
    );
    match &l.hcm.http_filters[0].config {
        HttpFilterConfig::Cors(c) => {
            assert_eq!(c.allow_methods, ["GET", "POST", "PUT"]);
            assert_eq!(c.allow_headers, ["Content-Type", "X-Token"]);
            assert_eq!((c.max_age, c.allow_credentials), (Some(3600), true));
        }
        other => panic!("not cors: {other:?}"),
    }
    match &l.hcm.http_filters[2].config {
        HttpFilterConfig::AccessLog(a) => assert_eq!(
            a.output_path.as_deref(),
            Some(fixture("logs/access.log").as_path())
        ),
        other => panic!("not accesslog: {other:?}"),
    }
    let d = l.hcm.dubbo_proxy();
    assert_eq!(
        (
            d.connect_timeout,
            d.request_timeout,
            d.retries,
            d.load_balance
        ),
        (
            Duration::from_secs(2),
            Duration::from_secs(5),
            1,
            Some(LbPolicy::RoundRobin)
        )
    );
    let get = |n: &str| n.eq_ignore_ascii_case("x").then_some("1");
    assert!(l.hcm.admits("GET", "/api/v1/users", &get));
    assert!(!l.hcm.admits("PATCH", "/api/v1/users", &get));
    assert!(!l.hcm.admits("GET", "/api/v2", &get));
    assert_eq!(
        l.hcm
            .match_route("POST", "/api/v1", &get)
            .and_then(|r| r.cluster.as_deref()),
        Some("user")
    );

    let user = &b.clusters[0];
    assert_eq!(
        (user.lb_policy, user.endpoints.len()),
        (LbPolicy::WeightedRandom, 2)
    );
    assert_eq!(
        (user.endpoints[0].weight, user.endpoints[1].weight),
        (10, 100)
    );
    let hc = user.health_check.expect("health check");
    assert_eq!(
        (
            hc.timeout,
            hc.interval,
            hc.healthy_threshold,
            hc.unhealthy_threshold
        ),
        (Duration::from_millis(500), Duration::from_secs(2), 2, 3)
    );
    assert_eq!(
        user.outlier_detection.map(|o| o.consecutive_errors),
        Some(3)
    );
    let order = &b.clusters[1];
    assert_eq!(order.lb_policy, LbPolicy::Maglev);
    assert_eq!(order.consistent.hash_key, HashKey::Header("X-User".into()));
    assert_eq!(b.shutdown.timeout, Duration::from_secs(20));
    let admin = b.admin.as_ref().expect("admin");
    assert_eq!(
        (admin.address.as_str(), admin.port, admin.token.as_deref()),
        ("127.0.0.1", 9902, Some("secret"))
    );

    let api = config.api_for(&l.hcm).expect("api for listener");
    assert_eq!(api.name.as_deref(), Some("pixiu"));
    let labels: Vec<String> = api.routes.iter().map(|r| r.label()).collect();
    assert_eq!(
        labels,
        [
            "GET /api/v1/users",
            "POST /api/v1/users",
            "GET /api/v1/users/:id",
            "PUT /api/v1/users/:id",
            "GET /api/v1/orders/{orderId}/items/*",
            "POST /api/v1/generic/:interface",
        ]
    );
    let r = &api.routes;
    assert_eq!(r[0].id.as_deref(), Some("listUsers"));
    assert_eq!(r[0].timeout, Some(Duration::from_secs(3)));
    assert_eq!(r[1].timeout, Some(Duration::from_millis(1500)));
    assert_eq!(r[1].target.retries, Some(0));
    assert_eq!(
        r[1].response,
        ResponseOptions {
            keep_class: true,
            keep_null: false,
            flatten_big_numbers: true
        }
    );
    assert!(r[1].allow_classes.allows("com.example.user.Address"));
    assert_eq!(
        r[2].headers,
        [
            ("X-Tenant".to_owned(), "acme".to_owned()),
            ("X-Region".to_owned(), String::new())
        ]
    );
    assert_eq!(
        r[2].timeout,
        Some(Duration::from_secs(3)),
        "inherited from the parent resource"
    );
    assert_eq!(r[2].description.as_deref(), Some("user resource"));
    assert!(!r[3].enabled);
    assert_eq!(
        r[4].target.backend,
        Backend::Direct {
            host: "127.0.0.1".into(),
            port: 20890,
            protocol: tianlu_api_config::Protocol::Dubbo,
        }
    );
    assert_eq!(r[4].timeout, None);
    assert_eq!(
        r[4].effective_timeout(l.hcm.timeout, Some(d.request_timeout)),
        Duration::from_secs(5)
    );
    assert_eq!(
        r[0].effective_timeout(l.hcm.timeout, Some(d.request_timeout)),
        Duration::from_secs(3)
    );
    assert_eq!(
        r[0].effective_timeout(Duration::from_secs(1), None),
        Duration::from_secs(1)
    );
    assert_eq!(r[5].target.backend, Backend::Cluster("order".into()));
    assert_eq!(r[5].param_names(), ["interface"]);
    assert_eq!(r[0].source.line, 13);
    assert_eq!(r[0].source.key_path, "resources[0].methods[0]");
}

#[test]
fn reports_problems_across_files() {
    let dir = scratch("across");
    let conf = std::fs::read_to_string(fixture("conf.yaml")).expect("fixture");
    let conf = conf.replace("cluster: user\n", "cluster: users\n");
    std::fs::write(dir.join("conf.yaml"), conf).expect("write");
    let api = std::fs::read_to_string(fixture("api_config.yaml")).expect("fixture");
    std::fs::write(
        dir.join("api_config.yaml"),
        api.replacen("clusterName: order", "clusterName: orders", 1),
    )
    .expect("write");

    let err = Config::load(&dir.join("conf.yaml")).expect_err("two problems");
    let got: Vec<(String, Option<usize>, String)> = err
        .problems
        .iter()
        .map(|p| {
            (
                p.file
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                p.line,
                p.key_path.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("conf.yaml".to_owned(), Some(20), "static_resources.listeners[0].filter_chains.filters[0].config.route_config.routes[0].route.cluster".to_owned()),
            ("api_config.yaml".to_owned(), Some(88), "resources[2].methods[0].integrationRequest.clusterName".to_owned()),
        ]
    );
    assert_eq!(
        err.problems[1].route.as_deref(),
        Some("POST /api/v1/generic/:interface")
    );
    assert!(
        err.problems[1]
            .message
            .contains("no cluster named \"orders\""),
        "{}",
        err.problems[1].message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_files_are_problems() {
    let dir = scratch("missing");
    let err = Config::load(&dir.join("conf.yaml")).expect_err("no conf");
    assert!(err.problems[0]
        .message
        .starts_with("cannot read config file"));

    let conf = std::fs::read_to_string(fixture("conf.yaml")).expect("fixture");
    std::fs::write(dir.join("conf.yaml"), conf).expect("write");
    let err = Config::load(&dir.join("conf.yaml")).expect_err("no api file");
    assert_eq!(err.problems.len(), 1);
    let p = &err.problems[0];
    assert_eq!((p.line, p.key_path.as_str()), (Some(37), "static_resources.listeners[0].filter_chains.filters[0].config.http_filters[3].config.path"));
    assert!(
        p.message.starts_with("cannot read api_config file"),
        "{}",
        p.message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

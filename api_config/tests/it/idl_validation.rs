//! Protobuf IDL routes (`requestType: grpc`): `protoset` on the route (relative to the
//! api_config file) and on the dubboproxy filter (relative to conf.yaml), checked at load time:
//! readable and decodable files, the service and the unary method present, and the keys that do
//! not fit such routes. Protosets are written by the test from hand-built descriptors.

use std::path::{Path, PathBuf};

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
    MethodDescriptorProto, ServiceDescriptorProto,
};
use tianlu_api_config::{Config, ConfigError, HttpFilterConfig};

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tianlu-api-config-idl-{test}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("protos")).expect("create scratch dir");
    dir
}

/// `package t.v1; message Req { string name = 1; } service Svc { rpc Get(Req) returns (Req);
/// rpc Watch(Req) returns (stream Req); }`
fn protoset() -> Vec<u8> {
    let method = |name: &str, streaming: bool| MethodDescriptorProto {
        name: Some(name.into()),
        input_type: Some(".t.v1.Req".into()),
        output_type: Some(".t.v1.Req".into()),
        server_streaming: Some(streaming),
        ..Default::default()
    };
    FileDescriptorSet {
        file: vec![FileDescriptorProto {
            name: Some("t/v1/t.proto".into()),
            package: Some("t.v1".into()),
            syntax: Some("proto3".into()),
            message_type: vec![DescriptorProto {
                name: Some("Req".into()),
                field: vec![FieldDescriptorProto {
                    name: Some("name".into()),
                    number: Some(1),
                    label: Some(Label::Optional as i32),
                    r#type: Some(Type::String as i32),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            service: vec![ServiceDescriptorProto {
                name: Some("Svc".into()),
                method: vec![method("Get", false), method("Watch", true)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn conf(dubbo_proxy: &str) -> String {
    format!(
        r#"static_resources:
  listeners:
    - name: l
      address:
        socket_address: {{ address: 127.0.0.1, port: 8080 }}
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.apiconfig
                  config: {{ path: api/api_config.yaml }}
                - name: dgp.filter.http.dubboproxy
                  config:
{dubbo_proxy}
  clusters:
    - name: tri
      endpoints:
        - socket_address: {{ address: 127.0.0.1, port: 50051 }}
          protocol: tri
"#
    )
}

fn route(path: &str, body: &str) -> String {
    format!(
        "  - path: {path}\n    methods:\n      - httpVerb: POST\n        integrationRequest:\n{body}"
    )
}

fn grpc(service: &str, method: &str, extra: &str) -> String {
    format!(
        "          requestType: grpc\n          clusterName: tri\n          interface: {service}\n          method: {method}\n{extra}"
    )
}

/// Writes conf.yaml, api/api_config.yaml (with `routes`) and the protosets, then loads.
fn load(dir: &Path, dubbo_proxy: &str, routes: &[String]) -> Result<Config, ConfigError> {
    std::fs::write(dir.join("protos/t.protoset"), protoset()).expect("write");
    std::fs::write(dir.join("protos/garbage.protoset"), b"\x0a\x03abc").expect("write");
    std::fs::create_dir_all(dir.join("api")).expect("mkdir");
    std::fs::write(dir.join("conf.yaml"), conf(dubbo_proxy)).expect("write");
    let mut api = String::from("name: idl\nresources:\n");
    for r in routes {
        api += r;
    }
    std::fs::write(dir.join("api/api_config.yaml"), api).expect("write");
    Config::load(&dir.join("conf.yaml")).map(|(c, _)| c)
}

fn problems(err: &ConfigError) -> Vec<(String, String, Option<String>, String)> {
    err.problems
        .iter()
        .map(|p| {
            (
                p.file
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                p.key_path.clone(),
                p.route.clone(),
                p.message.clone(),
            )
        })
        .collect()
}

#[test]
fn route_and_listener_protosets_load() {
    let dir = scratch("ok");
    let config = load(
        &dir,
        "                    dubboProxyConfig: { protoset: [protos/t.protoset], max_concurrent_streams: 64 }",
        &[
            // Relative to the api_config file (api/), and a method named in lowerCamel.
            route("/own", &grpc("t.v1.Svc", "get", "          protoset: ../protos/t.protoset\n")),
            // The listener's protoset only, and JSON options.
            route(
                "/listener",
                &grpc(
                    "t.v1.Svc",
                    "Get",
                    "          protobufJson: { emitDefaults: true, int64AsNumbers: true }\n",
                ),
            ),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let routes = &config.apis[0].routes;
    let own = routes[0].target.idl.as_ref().expect("an IDL route");
    assert_eq!(own.protosets.len(), 1);
    assert!(
        own.protosets[0].path.ends_with("api/../protos/t.protoset"),
        "{:?}",
        own.protosets[0].path
    );
    let listener = routes[1].target.idl.as_ref().expect("IDL");
    assert!(listener.protosets.is_empty());
    assert_eq!(
        listener.json,
        tianlu_api_config::idl::ProtobufJson {
            emit_defaults: true,
            int64_as_numbers: true,
            ..Default::default()
        }
    );
    assert_eq!(own.json, Default::default());
    assert_eq!(
        routes[1].target.protocol,
        Some(tianlu_api_config::Protocol::Triple)
    );
    let proxy = config.bootstrap.listeners[0].hcm.dubbo_proxy();
    assert_eq!(proxy.protoset.len(), 1);
    assert!(proxy.protoset[0].path.ends_with("protos/t.protoset"));
    assert_eq!(proxy.max_concurrent_streams, 64);
    assert!(config.bootstrap.listeners[0]
        .hcm
        .http_filters
        .iter()
        .any(|f| matches!(f.config, HttpFilterConfig::DubboProxy(_))));
}

#[test]
fn no_protoset_anywhere_means_reflection() {
    let dir = scratch("reflection");
    let config = load(
        &dir,
        "                    dubboProxyConfig: {}",
        // Not checked at load: the provider's reflection answers at first use.
        &[route("/r", &grpc("t.v1.Unknown", "Anything", ""))],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let idl = config.apis[0].routes[0].target.idl.as_ref().expect("IDL");
    assert!(idl.protosets.is_empty());
    assert_eq!(
        config.bootstrap.listeners[0]
            .hcm
            .dubbo_proxy()
            .max_concurrent_streams,
        256
    );
}

#[test]
fn bad_protosets_services_methods_and_keys_are_problems() {
    let dir = scratch("bad");
    let own = |f: &str| format!("          protoset: {f}\n");
    let err = load(
        &dir,
        "                    dubboProxyConfig: {}",
        &[
            route("/missing-file", &grpc("t.v1.Svc", "Get", &own("../protos/missing.protoset"))),
            route("/garbage", &grpc("t.v1.Svc", "Get", &own("[../protos/t.protoset, ../protos/garbage.protoset]"))),
            route("/types", &grpc("t.v1.Svc", "Get", "          parameterTypes: [java.lang.String]\n")),
            route(
                "/mapping",
                &grpc("t.v1.Svc", "Get", "          mappingParams:\n            - { name: requestBody.a, mapTo: 0 }\n            - { name: requestBody.b, mapTo: 1 }\n"),
            ),
            route(
                "/dubbo-url",
                "          requestType: grpc\n          url: dubbo://127.0.0.1:20880\n          interface: t.v1.Svc\n          method: Get\n",
            ),
            route(
                "/json-options",
                &grpc("t.v1.Svc", "Get", "          protobufJson: { emitDefault: true }\n"),
            ),
            route(
                "/dubbo-route",
                "          clusterName: tri\n          interface: a.B\n          method: c\n          protoset: ../protos/t.protoset\n",
            ),
        ],
    )
    .expect_err("problems");
    let got = problems(&err);
    let want: [(&str, &str, &str); 7] = [
        (
            "resources[0].methods[0].integrationRequest.protoset[0]",
            "POST /missing-file",
            "cannot read protoset",
        ),
        (
            "resources[1].methods[0].integrationRequest.protoset[1]",
            "POST /garbage",
            "is not usable: invalid descriptor set",
        ),
        (
            "resources[2].methods[0].integrationRequest.parameterTypes",
            "POST /types",
            "take their types from the protobuf descriptors",
        ),
        (
            "resources[3].methods[0].integrationRequest.mappingParams",
            "POST /mapping",
            "mapTo 1: an rpc takes one message",
        ),
        (
            "resources[4].methods[0].integrationRequest.url",
            "POST /dubbo-url",
            "disagree",
        ),
        (
            "resources[5].methods[0].integrationRequest.protobufJson.emitDefault",
            "POST /json-options",
            "unknown key",
        ),
        (
            "resources[6].methods[0].integrationRequest.protoset",
            "POST /dubbo-route",
            "applies to protobuf IDL routes only",
        ),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.0, "api_config.yaml", "{g:?}");
        assert_eq!((g.1.as_str(), g.2.as_deref()), (w.0, Some(w.1)), "{got:#?}");
        assert!(g.3.contains(w.2), "{g:?} should contain {:?}", w.2);
    }
}

#[test]
fn dubbo_proxy_protoset_problems_name_conf_yaml() {
    let dir = scratch("proxy");
    let err = load(
        &dir,
        "                    dubboProxyConfig: { protoset: protos/none.protoset, max_concurrent_streams: 0 }",
        &[route("/r", &grpc("t.v1.Svc", "Get", ""))],
    )
    .expect_err("problems");
    let got = problems(&err);
    let base = "static_resources.listeners[0].filter_chains.filters[0].config.http_filters[1].config.dubboProxyConfig";
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.clone()),
        ("conf.yaml", format!("{base}.protoset[0]"))
    );
    assert!(
        got[0].3.contains("cannot read protoset") && got[0].3.contains("none.protoset"),
        "{got:?}"
    );
    assert_eq!(got[1].1, format!("{base}.max_concurrent_streams"));
    assert!(got[1].3.contains("at least 1"), "{got:?}");
}

#[test]
fn services_and_methods_are_checked_against_the_protosets() {
    let dir = scratch("names");
    let own = "          protoset: ../protos/t.protoset\n";
    let err = load(
        &dir,
        "                    dubboProxyConfig: {}",
        &[
            route("/service", &grpc("t.v1.Nope", "Get", own)),
            route("/method", &grpc("t.v1.Svc", "Put", own)),
            route("/streaming", &grpc("t.v1.Svc", "Watch", own)),
            route("/ok", &grpc("Svc", "Get", own)),
        ],
    )
    .expect_err("problems");
    let got = problems(&err);
    let want = [
        (
            "resources[0].methods[0].integrationRequest.interface",
            "POST /service",
            "unknown service \"t.v1.Nope\" in the protosets (services: t.v1.Svc)",
        ),
        (
            "resources[1].methods[0].integrationRequest.method",
            "POST /method",
            "has no method \"Put\" (methods: Get, Watch)",
        ),
        (
            "resources[2].methods[0].integrationRequest.method",
            "POST /streaming",
            "is streaming; only unary methods can be called: IDL routes are unary",
        ),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.0, "api_config.yaml", "{g:?}");
        assert_eq!((g.1.as_str(), g.2.as_deref()), (w.0, Some(w.1)), "{got:#?}");
        assert!(g.3.contains(w.2), "{g:?} should contain {:?}", w.2);
    }
}

//! The `tianlu` binary's subcommands: `hessian decode` and `validate` exit codes and output.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tianlu"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tianlu");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn hessian_decode_hex_prints_default_json() {
    // A generalized POJO as a Java provider returns it: H { "class": "org.example.User",
    // "id": 9007199254740993L, "at": date 0 } Z
    let hex = "48 05 636c617373 10 6f72672e6578616d706c652e55736572 \
               02 6964 4c 0020000000000001 \
               02 6174 4a 0000000000000000 5a";
    let (ok, out, err) = run(&["hessian", "decode", "--hex"], hex.as_bytes());
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["class"], "org.example.User");
    assert_eq!(
        v["id"], "9007199254740993",
        "longs beyond 2^53 become strings"
    );
    assert_eq!(v["at"], "1970-01-01T00:00:00.000Z");
    let first_key = out.lines().nth(1).expect("second line").trim().to_string();
    assert!(first_key.starts_with("\"class\""), "class first: {out}");
}

#[test]
fn hessian_decode_raw_bytes() {
    let (ok, out, _) = run(&["hessian", "decode"], &[0x5f, 0x00, 0x00, 0x27, 0x8b]);
    assert!(ok);
    assert_eq!(out.trim(), "10.123");
}

#[test]
fn hessian_decode_rejects_malformed_and_cyclic_input() {
    let (ok, out, err) = run(&["hessian", "decode", "--hex"], b"05 41");
    assert!(!ok, "truncated string must fail: {out}");
    assert!(err.contains("hessian2"), "{err}");
    // A map whose value is a reference to itself.
    let (ok, _, err) = run(&["hessian", "decode", "--hex"], b"48 01 61 51 90 5a");
    assert!(!ok, "a cycle must fail");
    assert!(err.contains("cycl") || err.contains("reference"), "{err}");
    let (ok, _, err) = run(&["hessian", "decode", "--hex"], b"zz");
    assert!(!ok);
    assert!(err.contains("hex"), "{err}");
}

#[test]
fn validate_lists_every_problem_with_key_paths() {
    let dir = super::support::scratch_dir("validate");
    std::fs::write(
        dir.join("conf.yaml"),
        r#"static_resources:
  listeners:
    - name: l
      protocol_type: HTTP
      address: { socket_address: { address: 127.0.0.1, port: 0 } }
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.apiconfig
                  config: { path: api_config.yaml }
                - name: dgp.filter.http.dubboproxy
                  config: {}
  clusters:
    - name: c
      lb_policy: fastest
      endpoints:
        - socket_address: { address: 127.0.0.1, port: 20880 }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("api_config.yaml"),
        r#"name: t
resources:
  - path: /a/:id
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.example.A
          method: get
          clusterName: missing
          mappingParams:
            - { name: uri.nope, mapTo: 0 }
"#,
    )
    .unwrap();
    let conf = dir.join("conf.yaml");
    let (ok, out, err) = run(&["validate", "-c", conf.to_str().unwrap()], b"");
    assert!(!ok, "{out}");
    assert!(err.contains("lb_policy"), "{err}");
    assert!(
        err.contains("resources[0].methods[0].integrationRequest.mappingParams[0]"),
        "{err}"
    );
    assert!(err.contains("GET /a/:id"), "route named: {err}");
    assert!(err.contains("conf.yaml:17"), "file and line: {err}");

    // A valid api_config whose route names a cluster the bootstrap lacks.
    let api = std::fs::read_to_string(dir.join("api_config.yaml"))
        .unwrap()
        .replace("uri.nope", "uri.id");
    std::fs::write(dir.join("api_config.yaml"), api).unwrap();
    let conf_text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("fastest", "maglev");
    std::fs::write(&conf, conf_text).unwrap();
    let (ok, _, err) = run(&["validate", "-c", conf.to_str().unwrap()], b"");
    assert!(!ok);
    assert!(err.contains("clusterName"), "{err}");
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn validate_builds_filters_like_run_does() {
    let dir = super::support::scratch_dir("validate-filters");
    std::fs::write(
        dir.join("conf.yaml"),
        r#"static_resources:
  listeners:
    - name: l
      protocol_type: HTTP
      address: { socket_address: { address: 127.0.0.1, port: 0 } }
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.apiconfig
                  config: { path: api_config.yaml }
  clusters:
    - name: c
      endpoints:
        - socket_address: { address: 127.0.0.1, port: 20880 }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("api_config.yaml"),
        r#"name: t
resources:
  - path: /secure
    methods:
      - httpVerb: GET
        filters:
          - name: dgp.filter.http.auth.jwt
            config:
              providers:
                - name: idp
                  public_key: "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"
              rules:
                - match: { prefix: / }
                  requires: { requires_any: [{ provider_name: idp }] }
        integrationRequest:
          interface: org.example.A
          method: get
          clusterName: c
"#,
    )
    .unwrap();
    let conf = dir.join("conf.yaml");
    let (ok, out, err) = run(&["validate", "-c", conf.to_str().unwrap()], b"");
    assert!(
        !ok,
        "a bad key must fail validation as it fails start-up: {out}"
    );
    assert!(err.contains("route GET /secure"), "{err}");
    assert!(err.contains("api_config.yaml:5"), "{err}");
    assert!(err.contains("public_key"), "{err}");
}

#[test]
fn validate_accepts_tracing_shared_limits_budgets_and_splits() {
    let dir = super::support::scratch_dir("validate-obs");
    std::fs::write(
        dir.join("conf.yaml"),
        r#"tracing:
  name: otlp
  serviceName: edge
  sampler: { type: ratio, param: 0.5 }
  config: { url: "http://127.0.0.1:4318" }
static_resources:
  listeners:
    - name: l
      protocol_type: HTTP
      address: { socket_address: { address: 127.0.0.1, port: 0 } }
      filter_chains:
        filters:
          - name: dgp.filter.httpconnectionmanager
            config:
              http_filters:
                - name: dgp.filter.http.ratelimit
                  config:
                    redis: { url: "redis://127.0.0.1:1/0", on_failure: deny }
                    rules: [{ rate: 10 }]
                - name: dgp.filter.http.apiconfig
                  config: { path: api_config.yaml }
  clusters:
    - name: c
      retry_budget: { ratio: 0.1, min_retries_per_second: 1, ttl: 5s }
      endpoints:
        - socket_address: { address: 127.0.0.1, port: 20880 }
    - name: canary
      endpoints:
        - socket_address: { address: 127.0.0.1, port: 20881 }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("api_config.yaml"),
        r#"name: t
resources:
  - path: /a
    methods:
      - httpVerb: GET
        integrationRequest:
          interface: org.example.A
          method: get
          clusterName: c
          split:
            - { header: x-canary, cluster: canary }
            - { weight: 10, version: 2.0.0 }
"#,
    )
    .unwrap();
    let conf = dir.join("conf.yaml");
    let (ok, out, err) = run(&["validate", "-c", conf.to_str().unwrap()], b"");
    assert!(ok, "{out}\n{err}");
}

//! Connection-manager settings through the real gateway: `server_name`, `generate_request_id`
//! and `idle_timeout`.

use crate::support::{client, Gateway, RustProvider, API_CONFIG_FILTER, LISTENER_HEAD};
use anyhow::Result;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const API: &str = r#"name: l
resources:
  - path: /whoami
    methods:
      - httpVerb: GET
        integrationRequest:
          requestType: dubbo
          interface: org.tianlu.sample.UserService
          version: 1.0.0
          method: whoAmI
          clusterName: one
          parameterTypes: []
"#;

fn conf(p: &RustProvider, extra: &str) -> String {
    format!(
        r#"{LISTENER_HEAD}{API_CONFIG_FILTER}{extra}
  clusters:
    - name: one
      endpoints:
        - socket_address: {{ address: {}, port: {} }}
"#,
        p.addr.ip(),
        p.addr.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_name_request_ids_and_idle_timeout() -> Result<()> {
    let p = RustProvider::start("solo", None)?;
    let extra = "              server_name: tianlu-test\n              generate_request_id: false\n              idle_timeout: 300ms";
    let g = Gateway::start("listener", &conf(&p, extra), API).await?;
    let c = client();

    let resp = c.get(g.url("/whoami")).send().await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["server"], "tianlu-test");
    assert!(
        resp.headers().get("x-request-id").is_none(),
        "generate_request_id: false adds no id"
    );
    let resp = c
        .get(g.url("/whoami"))
        .header("x-request-id", "client-7")
        .send()
        .await?;
    assert_eq!(
        resp.headers()["x-request-id"],
        "client-7",
        "a client id is kept"
    );

    // An idle keep-alive connection is closed by the gateway after idle_timeout.
    let addr = g.base.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await?;
    s.write_all(b"GET /whoami HTTP/1.1\r\nhost: x\r\n\r\n")
        .await?;
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await?;
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the idle connection must be closed");
    g.stop().await;

    // Defaults: ids are generated, no Server header.
    let g = Gateway::start("listener-default", &conf(&p, ""), API).await?;
    let resp = c.get(g.url("/whoami")).send().await?;
    assert!(resp.headers().get("x-request-id").is_some());
    assert!(resp.headers().get("server").is_none());
    g.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_and_tls_listeners_serve_the_same_routes() -> Result<()> {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::ServerName};

    let p = RustProvider::start("tls", None)?;

    // HTTP/2 with prior knowledge on a plain HTTP listener.
    let g = Gateway::start("h2c", &conf(&p, ""), API).await?;
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build()?;
    let resp = h2.get(g.url("/whoami")).send().await?;
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.text().await?, "\"tls\"");
    g.stop().await;

    // HTTPS with a static certificate; ALPN picks HTTP/1.1 here.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let dir = crate::support::scratch_dir("tls-files");
    std::fs::write(dir.join("cert.pem"), cert.cert.pem())?;
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem())?;
    let https = conf(&p, "").replace(
        "      protocol_type: HTTP\n",
        &format!(
            "      protocol_type: HTTPS\n      config:\n        tls: {{ cert: {}, key: {} }}\n",
            dir.join("cert.pem").display(),
            dir.join("key.pem").display()
        ),
    );
    let g = Gateway::start("https", &https, API).await?;
    let addr = g.base.trim_start_matches("http://").to_string();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let tcp = tokio::net::TcpStream::connect(&addr).await?;
    let mut tls = connector
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    tls.write_all(b"GET /whoami HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await?;
    let mut out = Vec::new();
    tls.read_to_end(&mut out).await.ok();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("\"tls\""), "{text}");
    g.stop().await;
    Ok(())
}

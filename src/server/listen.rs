//! Binding listeners and serving connections: HTTP/1.1 and h2c (prior knowledge) on one port,
//! HTTP/2 only, or TLS (rustls, static certificate) with ALPN h2/http1.1. Each connection is
//! tracked by a graceful-shutdown watcher so in-flight requests can drain.

use super::envelope::App;
use super::tls;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// How a listener speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// HTTP/1.1, and HTTP/2 with prior knowledge (h2c), detected per connection.
    Http,
    /// HTTP/2 only (h2c).
    Http2,
    /// TLS with the given PEM certificate chain and key; ALPN offers h2 and http/1.1.
    Https { cert: PathBuf, key: PathBuf },
}

/// A listener to bind.
#[derive(Debug, Clone)]
pub struct ListenerSpec {
    /// Listener name from the configuration.
    pub name: String,
    /// Address to bind.
    pub addr: SocketAddr,
    /// Protocol.
    pub transport: Transport,
    /// Close HTTP/1.1 connections that send no request headers for this long.
    pub idle_timeout: Option<Duration>,
}

/// A bound listener, ready to serve.
pub struct BoundListener {
    /// The spec it was bound from.
    pub spec: ListenerSpec,
    /// The socket.
    pub listener: TcpListener,
    /// The actual local address (useful with port 0).
    pub local_addr: SocketAddr,
    tls: Option<TlsAcceptor>,
}

/// Binds a listener (and loads its TLS material).
pub async fn bind(spec: ListenerSpec) -> Result<BoundListener, String> {
    let tls = match &spec.transport {
        Transport::Https { cert, key } => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(spec.addr)
        .await
        .map_err(|e| format!("listener {}: cannot bind {}: {e}", spec.name, spec.addr))?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| format!("listener {}: {e}", spec.name))?;
    Ok(BoundListener {
        spec,
        listener,
        local_addr,
        tls,
    })
}

impl BoundListener {
    /// Serves connections until `stop` resolves, then stops accepting and waits up to `drain`
    /// for in-flight requests to finish.
    pub async fn serve(
        self,
        app: App,
        stop: impl std::future::Future<Output = ()>,
        drain: Duration,
    ) {
        let graceful = GracefulShutdown::new();
        let mut builder = Builder::new(TokioExecutor::new());
        if self.spec.transport == Transport::Http2 {
            builder = builder.http2_only();
        }
        builder.http1().keep_alive(true);
        if let Some(idle) = self.spec.idle_timeout {
            // hyper's header-read timer also runs while a keep-alive connection waits for its
            // next request, so it closes idle HTTP/1.1 connections.
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(idle);
        }
        tokio::pin!(stop);
        loop {
            let (stream, remote) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            let _ = stream.set_nodelay(true);
            let svc = app.connection(remote);
            match &self.tls {
                None => {
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                        .into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    tokio::spawn(async move {
                        let tls_stream = match tokio::time::timeout(
                            Duration::from_secs(10),
                            acceptor.accept(stream),
                        )
                        .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(tls_stream), svc)
                            .into_owned();
                        if let Err(e) = watcher.watch(conn).await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
            }
        }
        drop(self.listener);
        tokio::select! {
            () = graceful.shutdown() => tracing::info!(listener = %self.spec.name, "drained"),
            () = tokio::time::sleep(drain) => tracing::warn!(listener = %self.spec.name, "drain deadline passed; closing remaining connections"),
        }
    }
}

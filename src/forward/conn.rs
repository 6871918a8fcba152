//! Pooled keep-alive HTTP/1.1 connections to one upstream address ([`HttpEndpoint`]): idle
//! connections are reused most-recent first, a connection goes back to the pool once its
//! response body has been read to the end, and a request that a reused connection refused
//! before sending anything is handed back to the caller so it can be sent elsewhere.

use axum::body::Body;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most idle connections kept per endpoint.
pub const MAX_IDLE: usize = 512;
/// Idle connections older than this are closed rather than reused (servers commonly close
/// keep-alive connections after 60-75 s; reusing one they are closing fails the request).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Why a request did not get a response.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No connection could be made; nothing was sent.
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    /// The connection failed after the request may have been (partly) sent.
    #[error("connection to {addr} failed: {reason}")]
    Broken { addr: SocketAddr, reason: String },
}

/// A failed attempt, with the request when it was certainly not sent.
pub struct Failed {
    /// What went wrong.
    pub error: SendError,
    /// The untouched request, when the failure happened before anything was written.
    pub request: Option<http::Request<Body>>,
}

struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

struct Inner {
    addr: SocketAddr,
    connect_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
    in_flight: AtomicUsize,
}

/// Keep-alive connections to one HTTP upstream address. Cheap to clone.
#[derive(Clone)]
pub struct HttpEndpoint {
    inner: Arc<Inner>,
}

/// Decrements the in-flight count when the exchange ends, however it ends.
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HttpEndpoint {
    /// An endpoint with no connection yet.
    pub fn new(addr: SocketAddr, connect_timeout: Duration) -> Self {
        HttpEndpoint {
            inner: Arc::new(Inner {
                addr,
                connect_timeout,
                idle: Mutex::new(Vec::new()),
                in_flight: AtomicUsize::new(0),
            }),
        }
    }

    /// The upstream address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// How many handles share this endpoint (clones, and requests in flight).
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Requests waiting for their response headers.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Relaxed)
    }

    /// Whether an idle keep-alive connection is pooled.
    pub fn is_connected(&self) -> bool {
        !self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.inner
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A ready idle connection, if one is pooled.
    fn take_idle(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.lock();
        while let Some(c) = idle.pop() {
            if c.since.elapsed() < IDLE_TIMEOUT && c.sender.is_ready() {
                return Some(c.sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: SendRequest<Body>) {
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, SendError> {
        let addr = self.inner.addr;
        let fail = |reason: String| SendError::Connect { addr, reason };
        let stream = match tokio::time::timeout(
            self.inner.connect_timeout,
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(fail(e.to_string())),
            Err(_) => {
                return Err(fail(format!(
                    "connect timed out after {}ms",
                    self.inner.connect_timeout.as_millis()
                )))
            }
        };
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| fail(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%addr, error = %e, "upstream HTTP connection ended");
            }
        });
        Ok(sender)
    }

    /// Sends `req` on a pooled or new connection and waits for the response headers. The
    /// connection returns to the pool when the response body has been read.
    pub async fn send(
        &self,
        mut req: http::Request<Body>,
    ) -> Result<http::Response<Incoming>, Failed> {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        let _guard = InFlight(Arc::clone(&self.inner));
        // A pooled connection the server closed meanwhile refuses the request unsent: try the
        // next one, then a fresh connection.
        loop {
            let (mut sender, reused) = match self.take_idle() {
                Some(s) => (s, true),
                None => match self.connect().await {
                    Ok(s) => (s, false),
                    Err(error) => {
                        return Err(Failed {
                            error,
                            request: Some(req),
                        })
                    }
                },
            };
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    let me = self.clone();
                    tokio::spawn(async move {
                        // Ready again once this response's body has been read to the end.
                        if sender.ready().await.is_ok() {
                            me.put_idle(sender);
                        }
                    });
                    return Ok(resp);
                }
                Err(mut e) => {
                    let unsent = e.take_message();
                    let reason = e.error().to_string();
                    match unsent {
                        Some(r) if reused => {
                            req = r;
                            continue;
                        }
                        Some(r) => {
                            return Err(Failed {
                                error: SendError::Connect {
                                    addr: self.inner.addr,
                                    reason,
                                },
                                request: Some(r),
                            })
                        }
                        None => {
                            return Err(Failed {
                                error: SendError::Broken {
                                    addr: self.inner.addr,
                                    reason,
                                },
                                request: None,
                            })
                        }
                    }
                }
            }
        }
    }
}

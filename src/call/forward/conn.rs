//! Pooled keep-alive HTTP/1.1 connections to one upstream address ([`HttpEndpoint`]): idle
//! connections are reused most-recent first, a connection goes back to the pool when its
//! response body has been read to the end ([`PooledBody`]), and a request that a reused
//! connection refused before sending anything is handed back to the caller so it can be sent
//! elsewhere.

use axum::body::Body;
use bytes::Bytes;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
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

    /// A pooled connection that is still open, if any. It was put back when its last response
    /// ended, so it is ready or about to be (see [`HttpEndpoint::send`]).
    fn take_idle(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.lock();
        while let Some(c) = idle.pop() {
            if c.since.elapsed() < IDLE_TIMEOUT && !c.sender.is_closed() {
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
    /// connection returns to the pool when the response body has been read to the end.
    pub async fn send(
        &self,
        mut req: http::Request<Body>,
    ) -> Result<http::Response<PooledBody>, Failed> {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        let _guard = InFlight(Arc::clone(&self.inner));
        // A pooled connection the server closed meanwhile refuses the request unsent: try the
        // next one, then a fresh connection.
        loop {
            let (mut sender, reused) = match self.take_idle() {
                // Its previous response has ended; the connection takes the next request as
                // soon as its task has seen that (or reports that it closed).
                Some(mut s) => match s.ready().await {
                    Ok(()) => (s, true),
                    Err(_) => continue,
                },
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
                    let (parts, incoming) = resp.into_parts();
                    let mut body = PooledBody {
                        inner: incoming,
                        home: Some((self.clone(), sender)),
                    };
                    if body.inner.is_end_stream() {
                        // No body to read (HEAD, 204, 304, `Content-Length: 0`).
                        body.release();
                    }
                    return Ok(http::Response::from_parts(parts, body));
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

/// An upstream response body that puts its connection back into the pool when it has been read
/// to the end. Dropped earlier (the client went away), the connection is closed instead.
pub struct PooledBody {
    inner: Incoming,
    home: Option<(HttpEndpoint, SendRequest<Body>)>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some((endpoint, sender)) = self.home.take() {
            endpoint.put_idle(sender);
        }
    }
}

impl hyper::body::Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.release(),
            Poll::Ready(Some(Err(_))) => self.home = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

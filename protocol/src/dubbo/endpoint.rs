//! [`Endpoint`]: the long-lived handle of one provider address. It connects lazily on the first
//! call, shares one multiplexed [`Connection`] among all callers, reconnects after the connection
//! is lost, and backs off exponentially after failed connects (failing calls fast, with nothing
//! sent, while it waits).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::invocation::Invocation;
use crate::reconnect::{Link, Reconnect};

use super::client::{ClientConfig, Connection};
use super::error::CallError;
use super::response::{decode_response_body, RpcResponse};
use super::status::Status;

impl Link for Connection {
    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }

    fn refusal(&self, addr: SocketAddr) -> Option<CallError> {
        self.is_readonly().then_some(CallError::Unavailable {
            addr,
            reason: "provider is read-only (shutting down)",
        })
    }
}

struct Inner {
    addr: SocketAddr,
    cfg: ClientConfig,
    link: Reconnect<Connection>,
}

/// A provider address with a lazily (re)connected, shared [`Connection`]. Clones share state.
#[derive(Clone)]
pub struct Endpoint {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("addr", &self.inner.addr)
            .field("connected", &self.is_connected())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl Endpoint {
    /// An endpoint for `addr`; nothing is connected until the first call.
    pub fn new(addr: SocketAddr, cfg: ClientConfig) -> Self {
        let link = Reconnect::new(addr, cfg.backoff_initial, cfg.backoff_max);
        Endpoint {
            inner: Arc::new(Inner { addr, cfg, link }),
        }
    }

    /// The provider address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The client settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// Calls `inv`; `timeout` bounds the whole call, connecting included.
    ///
    /// Fails with [`CallError::Connect`] (nothing sent) when no connection can be had, or
    /// [`CallError::Unavailable`] when the provider announced it is shutting down.
    pub async fn call(
        &self,
        inv: &Invocation,
        timeout: Duration,
    ) -> Result<RpcResponse, CallError> {
        self.call_with(inv, timeout, decode_response_body).await
    }

    /// Like [`Endpoint::call`], with the caller reading the response (see
    /// [`Connection::call_with`]).
    pub async fn call_with<T>(
        &self,
        inv: &Invocation,
        timeout: Duration,
        read: impl FnOnce(Status, &[u8]) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let _active = self.inner.link.enter();
        let start = Instant::now();
        let conn = match tokio::time::timeout(timeout, self.connection()).await {
            Ok(conn) => conn?,
            Err(_) => {
                return Err(CallError::Connect {
                    addr: self.inner.addr,
                    reason: format!("not connected within the call deadline of {timeout:?}"),
                })
            }
        };
        let remaining = timeout.saturating_sub(start.elapsed());
        conn.call_with(inv, remaining, read).await
    }

    /// The shared connection, connecting if there is none (or the last one was lost).
    pub async fn connection(&self) -> Result<Connection, CallError> {
        let inner = &self.inner;
        inner
            .link
            .get(|| Connection::connect(inner.addr, &inner.cfg))
            .await
    }

    /// True when a connection is open and accepts calls.
    pub fn is_connected(&self) -> bool {
        self.inner
            .link
            .peek()
            .as_ref()
            .is_some_and(Connection::is_usable)
    }

    /// Calls in progress through this endpoint (connecting or waiting for a response); the
    /// measure least-active balancing uses.
    pub fn in_flight(&self) -> usize {
        self.inner.link.in_flight()
    }

    /// How many handles share this endpoint (clones of it), so an owner can tell whether
    /// anything else still uses it.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Closes the current connection (calls in flight fail with
    /// [`CallError::ConnectionClosed`]); the next call reconnects.
    pub fn close(&self) {
        if let Some(conn) = self.inner.link.take() {
            conn.close();
        }
    }
}

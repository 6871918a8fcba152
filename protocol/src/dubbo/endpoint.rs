//! [`Endpoint`]: the long-lived handle of one provider address. It connects lazily on the first
//! call, shares one multiplexed [`Connection`] among all callers, reconnects after the connection
//! is lost, and backs off exponentially after failed connects (failing calls fast, with nothing
//! sent, while it waits).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::invocation::Invocation;

use super::client::{ClientConfig, Connection};
use super::error::CallError;
use super::response::RpcResponse;
use super::writer::later;

struct Slot {
    conn: Option<Connection>,
    backoff: Duration,
    retry_at: Option<Instant>,
    last_error: String,
}

struct Inner {
    addr: SocketAddr,
    cfg: ClientConfig,
    slot: Mutex<Slot>,
    connecting: tokio::sync::Mutex<()>,
    active: AtomicUsize,
}

/// Counts a call as active for its whole duration, connect included.
struct Active<'a>(&'a AtomicUsize);

impl<'a> Active<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Active(counter)
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
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
        let backoff = cfg.backoff_initial;
        Endpoint {
            inner: Arc::new(Inner {
                addr,
                cfg,
                slot: Mutex::new(Slot {
                    conn: None,
                    backoff,
                    retry_at: None,
                    last_error: String::new(),
                }),
                connecting: tokio::sync::Mutex::new(()),
                active: AtomicUsize::new(0),
            }),
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
        let _active = Active::enter(&self.inner.active);
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
        conn.call(inv, remaining).await
    }

    /// The shared connection, connecting if there is none (or the last one was lost).
    pub async fn connection(&self) -> Result<Connection, CallError> {
        if let Some(conn) = self.current()? {
            return Ok(conn);
        }
        let _connecting = self.inner.connecting.lock().await;
        // Another caller may have connected, or failed, while we waited.
        if let Some(conn) = self.current()? {
            return Ok(conn);
        }
        match Connection::connect(self.inner.addr, &self.inner.cfg).await {
            Ok(conn) => {
                let mut slot = self.slot();
                slot.conn = Some(conn.clone());
                slot.backoff = self.inner.cfg.backoff_initial;
                slot.retry_at = None;
                Ok(conn)
            }
            Err(e) => {
                let mut slot = self.slot();
                slot.retry_at = Some(later(Instant::now(), slot.backoff));
                slot.backoff = slot
                    .backoff
                    .saturating_mul(2)
                    .min(self.inner.cfg.backoff_max);
                slot.last_error = e.to_string();
                Err(e)
            }
        }
    }

    /// A usable connection, `None` when a new one should be made, or an error while backing off
    /// or while the provider is read-only.
    fn current(&self) -> Result<Option<Connection>, CallError> {
        let mut slot = self.slot();
        if let Some(conn) = &slot.conn {
            if !conn.is_closed() {
                if conn.is_readonly() {
                    return Err(CallError::Unavailable {
                        addr: self.inner.addr,
                        reason: "provider is read-only (shutting down)",
                    });
                }
                return Ok(Some(conn.clone()));
            }
            slot.conn = None;
        }
        if let Some(at) = slot.retry_at {
            if Instant::now() < at {
                return Err(CallError::Connect {
                    addr: self.inner.addr,
                    reason: format!("backing off after: {}", slot.last_error),
                });
            }
        }
        Ok(None)
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.inner.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True when a connection is open and accepts calls.
    pub fn is_connected(&self) -> bool {
        self.slot().conn.as_ref().is_some_and(Connection::is_usable)
    }

    /// Calls in progress through this endpoint (connecting or waiting for a response); the
    /// measure least-active balancing uses.
    pub fn in_flight(&self) -> usize {
        self.inner.active.load(Ordering::Relaxed)
    }

    /// Closes the current connection (calls in flight fail with
    /// [`CallError::ConnectionClosed`]); the next call reconnects.
    pub fn close(&self) {
        if let Some(conn) = self.slot().conn.take() {
            conn.close();
        }
    }
}

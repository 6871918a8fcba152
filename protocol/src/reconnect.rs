//! The reconnecting connection slot shared by the Dubbo2 and Triple endpoints: one lazily made,
//! shared connection per provider address, one connect attempt at a time, exponential backoff
//! after failed connects (failing calls fast, with nothing sent, while it waits), and the count
//! of calls in progress that least-active balancing reads.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::dubbo::writer::later;
use crate::dubbo::CallError;

/// A connection the slot can hold.
pub(crate) trait Link: Clone {
    /// True once the connection is gone; the slot then makes a new one.
    fn is_closed(&self) -> bool;

    /// An open connection that must not take new calls (e.g. a Dubbo provider that announced
    /// its shutdown) gives the error those calls fail with.
    fn refusal(&self, _addr: SocketAddr) -> Option<CallError> {
        None
    }
}

struct Slot<C> {
    conn: Option<C>,
    backoff: Duration,
    retry_at: Option<Instant>,
    last_error: String,
}

/// One provider address's connection slot.
pub(crate) struct Reconnect<C> {
    addr: SocketAddr,
    backoff_initial: Duration,
    backoff_max: Duration,
    slot: Mutex<Slot<C>>,
    connecting: tokio::sync::Mutex<()>,
    active: AtomicUsize,
}

/// Counts a call as active for its whole duration, connect included.
pub(crate) struct Active<'a>(&'a AtomicUsize);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<C: Link> Reconnect<C> {
    /// An empty slot for `addr` with the given backoff bounds.
    pub(crate) fn new(addr: SocketAddr, backoff_initial: Duration, backoff_max: Duration) -> Self {
        Reconnect {
            addr,
            backoff_initial,
            backoff_max,
            slot: Mutex::new(Slot {
                conn: None,
                backoff: backoff_initial,
                retry_at: None,
                last_error: String::new(),
            }),
            connecting: tokio::sync::Mutex::new(()),
            active: AtomicUsize::new(0),
        }
    }

    /// Marks a call as in progress until the guard drops.
    pub(crate) fn enter(&self) -> Active<'_> {
        self.active.fetch_add(1, Ordering::Relaxed);
        Active(&self.active)
    }

    /// Calls in progress (connecting or waiting for a response).
    pub(crate) fn in_flight(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// The current connection, if any (open or not).
    pub(crate) fn peek(&self) -> Option<C> {
        self.slot().conn.clone()
    }

    /// Removes and returns the current connection; the next call reconnects.
    pub(crate) fn take(&self) -> Option<C> {
        self.slot().conn.take()
    }

    /// Forgets `conn` if it is still the current one (as told by `same`), recording why.
    pub(crate) fn forget(&self, conn: &C, same: impl Fn(&C, &C) -> bool, why: &str) {
        let mut slot = self.slot();
        if slot.conn.as_ref().is_some_and(|c| same(c, conn)) {
            slot.conn = None;
            slot.last_error = why.to_string();
        }
    }

    /// The shared connection, made with `connect` if there is none (or the last one was
    /// lost). Only one caller connects at a time; the others wait and share its result.
    pub(crate) async fn get<F, Fut>(&self, connect: F) -> Result<C, CallError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<C, CallError>>,
    {
        if let Some(conn) = self.current()? {
            return Ok(conn);
        }
        let _connecting = self.connecting.lock().await;
        // Another caller may have connected, or failed, while we waited.
        if let Some(conn) = self.current()? {
            return Ok(conn);
        }
        match connect().await {
            Ok(conn) => {
                let mut slot = self.slot();
                slot.conn = Some(conn.clone());
                slot.backoff = self.backoff_initial;
                slot.retry_at = None;
                Ok(conn)
            }
            Err(e) => {
                let mut slot = self.slot();
                slot.retry_at = Some(later(Instant::now(), slot.backoff));
                slot.backoff = slot.backoff.saturating_mul(2).min(self.backoff_max);
                slot.last_error = e.to_string();
                Err(e)
            }
        }
    }

    /// A usable connection, `None` when a new one should be made, or an error while backing
    /// off or while the connection refuses new calls.
    fn current(&self) -> Result<Option<C>, CallError> {
        let mut slot = self.slot();
        if let Some(conn) = &slot.conn {
            if !conn.is_closed() {
                if let Some(refusal) = conn.refusal(self.addr) {
                    return Err(refusal);
                }
                return Ok(Some(conn.clone()));
            }
            slot.conn = None;
        }
        if let Some(at) = slot.retry_at {
            if Instant::now() < at {
                return Err(CallError::Connect {
                    addr: self.addr,
                    reason: format!("backing off after: {}", slot.last_error),
                });
            }
        }
        Ok(None)
    }

    fn slot(&self) -> MutexGuard<'_, Slot<C>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

//! The consumer side of one Dubbo2 TCP connection: [`Connection`] multiplexes many calls by
//! request id. Callers encode their request frame on their own task and hand it to a writer task
//! (which batches whatever is queued, then flushes); a reader task decodes frames, completes the
//! waiting callers, answers heartbeats, sends its own when the connection is read-idle and closes
//! it when the provider stays silent for three heartbeat intervals.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::invocation::Invocation;

use super::body::encode_request_body;
use super::error::CallError;
use super::frame::{
    begin_frame, finish_frame, Frame, FrameCodec, Inbound, DEFAULT_MAX_PAYLOAD, FLAG_REQUEST,
    FLAG_TWO_WAY, HESSIAN2_SERIALIZATION_ID,
};
use super::response::{decode_response_body, RpcResponse};
use super::status::Status;
use super::writer::{later, queue_capacity, write_frames};

/// Settings of consumer connections and [`Endpoint`](super::Endpoint)s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// How long a TCP connect may take (default 3 s).
    pub connect_timeout: Duration,
    /// Read-idle time after which a heartbeat is sent (default 60 s, as Java); the connection is
    /// closed after three intervals without any frame from the provider.
    pub heartbeat_interval: Duration,
    /// Largest request or response body (default 8 MiB, Dubbo's `payload`).
    pub max_payload: usize,
    /// Frames that may wait for the writer before callers wait too (default 1024).
    pub write_queue: usize,
    /// First reconnect delay of an [`Endpoint`](super::Endpoint) after a failed connect
    /// (default 50 ms); doubles per failure.
    pub backoff_initial: Duration,
    /// Largest reconnect delay (default 5 s).
    pub backoff_max: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(3),
            heartbeat_interval: Duration::from_secs(60),
            max_payload: DEFAULT_MAX_PAYLOAD,
            write_queue: 1024,
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
        }
    }
}

type Reply = Result<Frame, CallError>;

#[derive(Default)]
struct Pending {
    calls: HashMap<i64, oneshot::Sender<Reply>>,
    closed: bool,
}

struct Shared {
    addr: SocketAddr,
    next_id: AtomicI64,
    pending: Mutex<Pending>,
    tx: mpsc::Sender<Bytes>,
    readonly: AtomicBool,
    cancel: CancellationToken,
    max_payload: usize,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, id: i64) -> Option<oneshot::Sender<Reply>> {
        self.pending().calls.remove(&id)
    }

    /// Closes the connection and fails every waiting call with `ConnectionClosed`.
    fn shut(&self) {
        self.cancel.cancel();
        let drained = {
            let mut p = self.pending();
            p.closed = true;
            std::mem::take(&mut p.calls)
        };
        for (_, tx) in drained {
            let _ = tx.send(Err(CallError::ConnectionClosed));
        }
    }

    fn on_inbound(&self, inbound: Inbound) {
        match inbound {
            Inbound::Frame(f) if f.is_request() => self.on_request(&f),
            Inbound::Frame(f) => {
                if f.is_heartbeat() {
                    return; // the reply to one of our heartbeats
                }
                if let Some(tx) = self.take(f.id) {
                    let _ = tx.send(Ok(f));
                }
            }
            Inbound::Oversized(h) => {
                if h.is_request() {
                    tracing::debug!(addr = %self.addr, size = h.body_len, "oversized request from provider skipped");
                } else if let Some(tx) = self.take(h.id) {
                    let _ = tx.send(Err(CallError::ResponseTooLarge {
                        size: h.body_len,
                        limit: self.max_payload,
                    }));
                }
            }
        }
    }

    fn on_request(&self, f: &Frame) {
        if f.is_heartbeat() {
            if f.is_two_way() {
                // A full queue means we are writing anyway; the provider is not idle.
                let _ = self.tx.try_send(Frame::heartbeat_response(f.id).to_bytes());
            }
        } else if f.is_readonly_event() {
            tracing::info!(addr = %self.addr, "provider announced read-only (shutting down)");
            self.readonly.store(true, Ordering::Release);
        } else if f.is_writeable_event() {
            self.readonly.store(false, Ordering::Release);
        } else {
            tracing::debug!(addr = %self.addr, id = f.id, "ignoring a request sent to a consumer");
        }
    }
}

/// Removes a call's pending entry when the call ends in any way but a reply (timeout, caller
/// dropped), so late responses find nothing and are dropped.
struct PendingGuard<'a> {
    shared: &'a Shared,
    id: i64,
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.take(self.id);
        }
    }
}

/// One multiplexed TCP connection to a provider. Cheap to clone; the connection closes when the
/// last clone is dropped, on [`Connection::close`], on an I/O or framing error, or after three
/// silent heartbeat intervals.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    _guard: Arc<DropGuard>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.shared.addr)
            .field("closed", &self.is_closed())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl Connection {
    /// Connects to `addr` within `cfg.connect_timeout` and starts the reader and writer tasks.
    pub async fn connect(addr: SocketAddr, cfg: &ClientConfig) -> Result<Connection, CallError> {
        let stream = match tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(addr)).await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(CallError::Connect {
                    addr,
                    reason: e.to_string(),
                })
            }
            Err(_) => {
                return Err(CallError::Connect {
                    addr,
                    reason: format!("timed out after {:?}", cfg.connect_timeout),
                })
            }
        };
        let _ = stream.set_nodelay(true);
        Ok(Connection::start(addr, stream, cfg))
    }

    fn start(addr: SocketAddr, stream: TcpStream, cfg: &ClientConfig) -> Connection {
        let (read, write) = stream.into_split();
        let (tx, rx) = mpsc::channel(queue_capacity(cfg.write_queue));
        let cancel = CancellationToken::new();
        let shared = Arc::new(Shared {
            addr,
            next_id: AtomicI64::new(1),
            pending: Mutex::new(Pending::default()),
            tx,
            readonly: AtomicBool::new(false),
            cancel: cancel.clone(),
            max_payload: cfg.max_payload,
        });
        tokio::spawn(write_loop(rx, write, shared.clone()));
        tokio::spawn(read_loop(read, shared.clone(), cfg.heartbeat_interval));
        Connection {
            shared,
            _guard: Arc::new(cancel.drop_guard()),
        }
    }

    /// Calls `inv` and waits at most `timeout` for the response.
    ///
    /// The request body is encoded on the calling task. A status-20 response is returned as
    /// [`RpcResponse`] (which may hold a Java exception); other statuses become
    /// [`CallError::Status`].
    pub async fn call(
        &self,
        inv: &Invocation,
        timeout: Duration,
    ) -> Result<RpcResponse, CallError> {
        let frame = self.send_and_wait(inv, timeout).await?;
        decode_response_body(frame.status, &frame.body)
    }

    /// Like [`Connection::call`], with the caller reading the response: `read` gets the
    /// header's status and the body (e.g. to write a result straight to another format, falling
    /// back to [`decode_response_body`]).
    pub async fn call_with<T>(
        &self,
        inv: &Invocation,
        timeout: Duration,
        read: impl FnOnce(Status, &[u8]) -> Result<T, CallError>,
    ) -> Result<T, CallError> {
        let frame = self.send_and_wait(inv, timeout).await?;
        read(frame.status, &frame.body)
    }

    async fn send_and_wait(&self, inv: &Invocation, timeout: Duration) -> Result<Frame, CallError> {
        let s = &*self.shared;
        if self.is_closed() {
            return Err(self.unavailable("connection closed"));
        }
        if s.readonly.load(Ordering::Acquire) {
            return Err(self.unavailable("provider is read-only (shutting down)"));
        }
        let id = s.next_id.fetch_add(1, Ordering::Relaxed);
        let mut buf = Vec::with_capacity(256);
        let start = begin_frame(&mut buf);
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        encode_request_body(inv, Some(timeout_ms), &mut buf);
        let flags = FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2_SERIALIZATION_ID;
        finish_frame(
            &mut buf,
            start,
            flags,
            Status::Unknown(0),
            id,
            s.max_payload,
        )
        .map_err(|_| CallError::PayloadTooLarge {
            size: buf.len() - start - super::frame::HEADER_LEN,
            limit: s.max_payload,
        })?;

        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut p = s.pending();
            if p.closed {
                return Err(self.unavailable("connection closed"));
            }
            p.calls.insert(id, reply_tx);
        }
        let mut guard = PendingGuard {
            shared: s,
            id,
            armed: true,
        };
        let exchange = async {
            if s.tx.send(Bytes::from(buf)).await.is_err() {
                return Err(self.unavailable("connection closed"));
            }
            reply_rx.await.unwrap_or(Err(CallError::ConnectionClosed))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(reply) => {
                guard.armed = matches!(reply, Err(CallError::Unavailable { .. }));
                reply
            }
            Err(_) => Err(CallError::Timeout { after: timeout }),
        }
    }

    fn unavailable(&self, reason: &'static str) -> CallError {
        CallError::Unavailable {
            addr: self.shared.addr,
            reason,
        }
    }

    /// The provider address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// True once the connection is closed; it never reopens.
    pub fn is_closed(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    /// True when the provider announced that it is shutting down (read-only event).
    pub fn is_readonly(&self) -> bool {
        self.shared.readonly.load(Ordering::Acquire)
    }

    /// True when new calls may be sent: open and not read-only.
    pub fn is_usable(&self) -> bool {
        !self.is_closed() && !self.is_readonly()
    }

    /// Calls waiting for their response.
    pub fn in_flight(&self) -> usize {
        self.shared.pending().calls.len()
    }

    /// Closes the connection; calls in flight fail with [`CallError::ConnectionClosed`].
    pub fn close(&self) {
        self.shared.shut();
    }
}

/// Runs the writer; a write failure closes the connection.
async fn write_loop(rx: mpsc::Receiver<Bytes>, write: OwnedWriteHalf, shared: Arc<Shared>) {
    tokio::select! {
        _ = shared.cancel.cancelled() => {}
        result = write_frames(rx, write) => {
            if let Err(e) = result {
                tracing::debug!(addr = %shared.addr, error = %e, "write failed; closing connection");
            }
        }
    }
    shared.shut();
}

/// Reads frames, dispatches them and keeps the connection alive with heartbeats.
async fn read_loop(read: OwnedReadHalf, shared: Arc<Shared>, interval: Duration) {
    let mut frames = FramedRead::new(read, FrameCodec::new(shared.max_payload));
    let interval = interval.max(Duration::from_millis(1));
    let mut last_read = Instant::now();
    let mut last_ping = last_read;
    let tick = tokio::time::sleep_until(later(last_read, interval));
    tokio::pin!(tick);
    loop {
        tokio::select! {
            _ = shared.cancel.cancelled() => break,
            item = frames.next() => match item {
                Some(Ok(inbound)) => {
                    last_read = Instant::now();
                    shared.on_inbound(inbound);
                }
                Some(Err(e)) => {
                    tracing::debug!(addr = %shared.addr, error = %e, "bad frame; closing connection");
                    break;
                }
                None => break,
            },
            _ = &mut tick => {
                let now = Instant::now();
                if now.duration_since(last_read) >= interval.saturating_mul(3) {
                    tracing::info!(addr = %shared.addr, "provider silent for 3 heartbeat intervals; closing");
                    break;
                }
                let due = later(last_read.max(last_ping), interval);
                if now >= due {
                    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
                    let _ = shared.tx.try_send(Frame::heartbeat_request(id).to_bytes());
                    last_ping = now;
                    tick.as_mut().reset(later(now, interval));
                } else {
                    tick.as_mut().reset(due);
                }
            }
        }
    }
    shared.shut();
}

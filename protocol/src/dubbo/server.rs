//! A Dubbo2 server for providers written in Rust (samples, tests, benchmarks): accepts
//! connections, answers heartbeats, runs every request concurrently on its own task through a
//! [`Handler`], writes responses through one writer task per connection, and on shutdown announces
//! read-only to every consumer and lets in-flight requests finish.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::body::decode_request;
use super::frame::{Frame, FrameCodec, Inbound, DEFAULT_MAX_PAYLOAD, HESSIAN2_SERIALIZATION_ID};
use super::provider::{Handler, ServerError};
use super::response::{
    encode_error_response, encode_response, supports_response_attachments, RpcResponse,
};
use super::status::Status;
use super::writer::{later, queue_capacity, write_frames};

/// Settings of [`serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest request and response body (default 8 MiB).
    pub max_payload: usize,
    /// A connection with nothing read for this long is closed (default 180 s, 3 × Java's
    /// heartbeat).
    pub idle_timeout: Duration,
    /// Responses that may wait for a connection's writer (default 1024).
    pub write_queue: usize,
    /// How long a graceful shutdown waits for in-flight requests (default 10 s).
    pub drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_payload: DEFAULT_MAX_PAYLOAD,
            idle_timeout: Duration::from_secs(180),
            write_queue: 1024,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves Dubbo2 on `listener` until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    cfg: ServerConfig,
) -> io::Result<()> {
    serve_with_shutdown(listener, handler, cfg, std::future::pending()).await
}

/// Serves Dubbo2 on `listener` until `shutdown` completes, then stops accepting, sends a
/// read-only event on every connection, stops reading new requests, waits up to
/// `cfg.drain_timeout` for in-flight ones to be answered and closes the connections.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    cfg: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let stop = CancellationToken::new();
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let conn = serve_connection(stream, peer, handler.clone(), cfg.clone(), stop.clone());
                    conns.spawn(conn);
                }
                Err(e) => {
                    // Typically out of file descriptors; do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    stop.cancel();
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(cfg.drain_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!("drain timeout reached; closing remaining connections");
    }
    conns.shutdown().await;
    Ok(())
}

/// Everything a request task needs.
struct ConnCtx {
    handler: Arc<dyn Handler>,
    tx: mpsc::Sender<Bytes>,
    max_payload: usize,
    abort: CancellationToken,
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<dyn Handler>,
    cfg: ServerConfig,
    stop: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let (tx, rx) = mpsc::channel(queue_capacity(cfg.write_queue));
    // Cancelled when the writer fails or when this task is dropped (server aborted): the writer
    // and every request task of the connection stop with it, which closes the socket.
    let abort = CancellationToken::new();
    let _abort_on_drop = abort.clone().drop_guard();
    let writer = {
        let abort = abort.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = abort.cancelled() => {}
                result = write_frames(rx, write) => if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "write failed");
                    abort.cancel();
                }
            }
        })
    };
    let ctx = Arc::new(ConnCtx {
        handler,
        tx,
        max_payload: cfg.max_payload,
        abort: abort.clone(),
    });
    let event_ids = AtomicI64::new(0);
    let mut frames = FramedRead::new(read, FrameCodec::new(cfg.max_payload));
    let idle_timeout = cfg.idle_timeout.max(Duration::from_millis(1));
    let mut last_read = Instant::now();
    let idle = tokio::time::sleep_until(later(last_read, idle_timeout));
    tokio::pin!(idle);
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                let id = event_ids.fetch_add(1, Ordering::Relaxed);
                let _ = ctx.tx.send(Frame::readonly_event(id).to_bytes()).await;
                break;
            }
            _ = abort.cancelled() => break,
            item = frames.next() => match item {
                Some(Ok(Inbound::Frame(frame))) => {
                    last_read = Instant::now();
                    on_frame(&ctx, frame);
                }
                Some(Ok(Inbound::Oversized(h))) => {
                    last_read = Instant::now();
                    if h.is_request() && h.is_two_way() && !h.is_event() {
                        let msg = format!(
                            "Fail to decode request due to: request of {} bytes exceeds the payload limit of {} bytes",
                            h.body_len, ctx.max_payload
                        );
                        let reply = encode_error_response(h.id, Status::BadRequest, &msg);
                        let _ = ctx.tx.send(Bytes::from(reply)).await;
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "bad frame; closing connection");
                    break;
                }
                None => break,
            },
            _ = &mut idle => {
                let deadline = later(last_read, idle_timeout);
                if Instant::now() >= deadline {
                    tracing::debug!(%peer, "idle; closing connection");
                    break;
                }
                idle.as_mut().reset(deadline);
            }
        }
    }
    // The writer ends once every in-flight request task has sent its response and dropped its
    // sender; then it shuts the socket's write side down.
    drop(ctx);
    let _ = writer.await;
}

fn on_frame(ctx: &Arc<ConnCtx>, frame: Frame) {
    if !frame.is_request() {
        return; // a response, e.g. to a heartbeat we never send
    }
    if frame.is_event() {
        if frame.is_heartbeat() && frame.is_two_way() {
            let _ = ctx
                .tx
                .try_send(Frame::heartbeat_response(frame.id).to_bytes());
        }
        return;
    }
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let work = async {
            let reply = respond(&ctx, &frame).await;
            if frame.is_two_way() {
                let _ = ctx.tx.send(Bytes::from(reply)).await;
            }
        };
        tokio::select! {
            _ = ctx.abort.cancelled() => {}
            _ = work => {}
        }
    });
}

/// Decodes one request, runs the handler and encodes the response frame.
async fn respond(ctx: &ConnCtx, frame: &Frame) -> Vec<u8> {
    let id = frame.id;
    let serialization = frame.header().serialization_id();
    if serialization != HESSIAN2_SERIALIZATION_ID {
        let msg =
            format!("Fail to decode request due to: unsupported serialization id {serialization}");
        return encode_error_response(id, Status::BadRequest, &msg);
    }
    let request = match decode_request(&frame.body) {
        Ok(r) => r,
        Err(e) => {
            let msg = format!("Fail to decode request due to: {e}");
            return encode_error_response(id, Status::BadRequest, &msg);
        }
    };
    let with_attachments = supports_response_attachments(&request.dubbo_version);
    let call = AssertUnwindSafe(ctx.handler.call(request.invocation)).catch_unwind();
    let response = match call.await {
        Ok(Ok(Some(value))) => RpcResponse::value(value),
        Ok(Ok(None)) => RpcResponse::null(),
        Ok(Err(ServerError::Exception(e))) => RpcResponse::exception(e.to_value()),
        Ok(Err(ServerError::Status { status, message })) => {
            return encode_error_response(id, status, &message)
        }
        Err(_) => {
            return encode_error_response(id, Status::ServerError, "provider handler panicked")
        }
    };
    encode_response(id, &response, with_attachments, ctx.max_payload)
}

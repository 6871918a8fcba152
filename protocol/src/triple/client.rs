//! [`TripleEndpoint`]: the Triple (gRPC over HTTP/2, h2c with prior knowledge) counterpart of
//! [`dubbo::Endpoint`](crate::dubbo::Endpoint). One multiplexed HTTP/2 connection per provider
//! address, made on the first call, remade after it is lost, with exponential backoff after
//! failed connects (calls fail fast, nothing sent, while it waits).
//!
//! A call is one HTTP/2 stream: `POST /{service}/{method}`, `content-type:
//! application/grpc+proto`, `te: trailers`, `grpc-timeout`, `tri-service-version`,
//! `tri-service-group`, `tri-consumer-appname` and the attachments as lower-case headers; one
//! gRPC-framed message; then the response headers, message(s) and `grpc-status` trailers. The
//! deadline covers the whole call, connecting included; when it expires the stream is reset
//! (`CANCEL`) and the call fails with [`CallError::Timeout`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use h2::{RecvStream, SendStream};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Version};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::dubbo::{CallError, ClientConfig, ProtocolError, RpcOutcome, RpcResponse};
use crate::hessian2::Value;
use crate::invocation::Invocation;
use crate::reconnect::{Link, Reconnect};

use super::frame::{encode_frame, FrameDecoder, FrameError, DEFAULT_MAX_MESSAGE};
use super::status::{decode_grpc_message, status_error, GrpcCode};
use super::wrapper;

/// The content type of every request (Java's Triple client writes the same).
pub const CONTENT_TYPE: &str = "application/grpc+proto";
/// The response header that flags a serialized Throwable in the body (`TripleHeaderEnum`).
pub const TRI_EXCEPTION_CODE: &str = "tri-exception-code";

/// Headers tianlu writes itself, or that HTTP/2 forbids; attachments with these names are not
/// sent.
const RESERVED_REQUEST_HEADERS: [&str; 17] = [
    "content-type",
    "content-length",
    "te",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "grpc-timeout",
    "grpc-encoding",
    "grpc-accept-encoding",
    "tri-service-version",
    "tri-service-group",
    "tri-consumer-appname",
    "tri-service-timeout",
];

/// Response headers and trailers that are transport, not attachments.
const RESERVED_RESPONSE_HEADERS: [&str; 7] = [
    "content-type",
    "content-length",
    "date",
    "server",
    "te",
    TRI_EXCEPTION_CODE,
    "http-status",
];

/// Longest error text kept from a non-gRPC HTTP error body.
const MAX_ERROR_BODY: usize = 4096;

/// Settings of [`TripleEndpoint`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TripleConfig {
    /// How long a TCP connect plus the HTTP/2 handshake may take (default 3 s).
    pub connect_timeout: Duration,
    /// Largest gRPC message in either direction (default 8 MiB, like Dubbo's `payload`).
    pub max_message: usize,
    /// First reconnect delay after a failed connect (default 50 ms); doubles per failure.
    pub backoff_initial: Duration,
    /// Largest reconnect delay (default 5 s).
    pub backoff_max: Duration,
    /// `tri-consumer-appname` (default `tianlu`).
    pub app_name: String,
    /// HTTP/2 receive window of each stream (default 1 MiB).
    pub stream_window: u32,
    /// HTTP/2 receive window of the connection (default 8 MiB).
    pub connection_window: u32,
    /// Interval of HTTP/2 PINGs on an open connection (default 60 s, like Dubbo's heartbeat);
    /// a PING not answered within another interval closes the connection (calls in flight fail
    /// with [`CallError::ConnectionClosed`]) and the next call reconnects. `None` disables them.
    /// Plain gRPC servers may answer frequent PINGs with a GOAWAY (grpc-java and grpc-go permit
    /// one per 5 minutes by default); the connection is then simply remade.
    pub keepalive: Option<Duration>,
    /// Most streams (calls, reflection sessions) open at once on the connection (default
    /// [`DEFAULT_MAX_STREAMS`]; at least 1). Further calls wait for a stream to finish, within
    /// their own deadline, before anything is sent. The provider's own
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` applies too, when lower: HTTP/2 holds streams over it
    /// back until one closes.
    pub max_concurrent_streams: usize,
}

/// Default of [`TripleConfig::max_concurrent_streams`]: Dubbo 3.3 providers have been seen to
/// send corrupt HTTP/2 headers with around a thousand concurrent streams on one connection.
pub const DEFAULT_MAX_STREAMS: usize = 256;

impl Default for TripleConfig {
    fn default() -> Self {
        TripleConfig {
            connect_timeout: Duration::from_secs(3),
            max_message: DEFAULT_MAX_MESSAGE,
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
            app_name: "tianlu".to_string(),
            stream_window: 1024 * 1024,
            connection_window: 8 * 1024 * 1024,
            keepalive: Some(Duration::from_secs(60)),
            max_concurrent_streams: DEFAULT_MAX_STREAMS,
        }
    }
}

impl From<&ClientConfig> for TripleConfig {
    /// The Triple settings matching a Dubbo2 client configuration (connect timeout, payload
    /// limit, backoff); the rest are defaults.
    fn from(cfg: &ClientConfig) -> Self {
        TripleConfig {
            connect_timeout: cfg.connect_timeout,
            max_message: cfg.max_payload,
            backoff_initial: cfg.backoff_initial,
            backoff_max: cfg.backoff_max,
            ..TripleConfig::default()
        }
    }
}

/// Where a call goes and what travels with it, besides the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallMeta {
    /// `tri-service-version`, when the service has a version.
    pub version: Option<String>,
    /// `tri-service-group`, when the service has a group.
    pub group: Option<String>,
    /// Attachments, sent as headers with lower-case names. Names that are not valid header
    /// names, values that are not valid header values and the headers tianlu writes itself
    /// (`content-type`, `te`, `grpc-*` it sets, `tri-service-*`, connection headers) are skipped.
    pub attachments: Vec<(String, String)>,
}

/// One unary call with an already serialized message (a wrapper or an IDL message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCall {
    /// The service path: the interface name, or the protobuf `package.Service`.
    pub service: String,
    /// The method name (`$invoke`, `GetItem`).
    pub method: String,
    /// Version, group, attachments.
    pub meta: CallMeta,
    /// The serialized request message, not yet gRPC-framed.
    pub message: Bytes,
}

/// What a unary call returned when the provider answered with `grpc-status` 0, or with a body
/// flagged by `tri-exception-code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReply {
    /// The response message, `None` when the provider sent none.
    pub message: Option<Bytes>,
    /// The non-zero `tri-exception-code`: `message` holds a serialized Throwable.
    pub exception_code: Option<u32>,
    /// Response headers and trailers other than transport ones (`grpc-*`, `content-type`, …),
    /// header fields first, in arrival order.
    pub attachments: Vec<(String, String)>,
}

/// A provider address with a lazily (re)connected, shared HTTP/2 connection. Clones share state.
#[derive(Clone)]
pub struct TripleEndpoint {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    cfg: TripleConfig,
    link: Reconnect<Conn>,
    /// One permit per stream allowed open at once (`max_concurrent_streams`).
    streams: Arc<Semaphore>,
}

/// One HTTP/2 connection: the request handle, and the driver task's liveness.
#[derive(Clone)]
struct Conn {
    send: SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
    driver: AbortHandle,
}

impl Link for Conn {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl Conn {
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.driver.abort();
    }
}

impl std::fmt::Debug for TripleEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TripleEndpoint")
            .field("addr", &self.inner.addr)
            .field("connected", &self.is_connected())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl TripleEndpoint {
    /// An endpoint for `addr`; nothing is connected until the first call.
    pub fn new(addr: SocketAddr, cfg: TripleConfig) -> Self {
        let link = Reconnect::new(addr, cfg.backoff_initial, cfg.backoff_max);
        let streams = Arc::new(Semaphore::new(cfg.max_concurrent_streams.max(1)));
        TripleEndpoint {
            inner: Arc::new(Inner {
                addr,
                cfg,
                link,
                streams,
            }),
        }
    }

    /// The provider address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The client settings.
    pub fn config(&self) -> &TripleConfig {
        &self.inner.cfg
    }

    /// True when a connection is open.
    pub fn is_connected(&self) -> bool {
        self.inner.link.peek().is_some_and(|c| !c.is_closed())
    }

    /// Calls in progress through this endpoint (connecting or waiting for a response).
    pub fn in_flight(&self) -> usize {
        self.inner.link.in_flight()
    }

    /// How many handles share this endpoint (clones of it), so an owner can tell whether
    /// anything else still uses it.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// Streams open (or being opened) right now, at most
    /// [`TripleConfig::max_concurrent_streams`].
    pub fn open_streams(&self) -> usize {
        self.inner.cfg.max_concurrent_streams.max(1) - self.inner.streams.available_permits()
    }

    /// Waits, at most `wait`, for a stream slot (`max_concurrent_streams`).
    async fn stream_permit(
        &self,
        wait: Duration,
        deadline: Duration,
    ) -> Result<OwnedSemaphorePermit, CallError> {
        match tokio::time::timeout(wait, Arc::clone(&self.inner.streams).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(CallError::Unavailable {
                addr: self.inner.addr,
                reason: "the endpoint is shutting down",
            }),
            Err(_) => Err(CallError::Timeout { after: deadline }),
        }
    }

    /// Closes the current connection (calls in flight fail with
    /// [`CallError::ConnectionClosed`]); the next call reconnects.
    pub fn close(&self) {
        if let Some(conn) = self.inner.link.take() {
            conn.close();
        }
    }

    /// Calls `inv` through the Triple wrapper: each argument a standalone hessian2 stream in a
    /// `TripleRequestWrapper` (serialization `hessian4`), the result read from the
    /// `TripleResponseWrapper`. Generic calls (`$invoke`) also send the header `generic: true`
    /// unless the attachments carry their own. `timeout` bounds the whole call.
    ///
    /// A body flagged with `tri-exception-code` becomes [`RpcOutcome::Exception`]; a non-OK
    /// `grpc-status` becomes the error of the [status table](super::status).
    pub async fn call(
        &self,
        inv: &Invocation,
        timeout: Duration,
    ) -> Result<RpcResponse, CallError> {
        let mut attachments = inv.attachments.clone();
        if inv.is_generic() && !attachments.iter().any(|(k, _)| k == "generic") {
            attachments.push(("generic".to_string(), "true".to_string()));
        }
        let raw = RawCall {
            service: inv.service.clone(),
            method: inv.method.clone(),
            meta: CallMeta {
                version: inv.version.clone(),
                group: inv.group.clone(),
                attachments,
            },
            message: Bytes::from(wrapper::encode_request(inv)),
        };
        let reply = self.call_raw(&raw, timeout).await?;
        let Some(message) = reply.message else {
            return Err(CallError::Decode(ProtocolError::Unexpected {
                expected: "a response message",
                found: "no message",
            }));
        };
        let value = wrapper::decode_response(&message).map_err(CallError::Decode)?;
        let outcome = match (reply.exception_code, value) {
            (Some(_), value) => RpcOutcome::Exception(value),
            (None, Value::Null) => RpcOutcome::Null,
            (None, value) => RpcOutcome::Value(value),
        };
        Ok(RpcResponse {
            outcome,
            attachments: reply.attachments,
        })
    }

    /// One unary call with a serialized message. `Ok` when the provider answered with
    /// `grpc-status` 0, or sent a message flagged by a non-zero `tri-exception-code` (whatever
    /// the status); otherwise the error of the [status table](super::status).
    pub async fn call_raw(&self, call: &RawCall, timeout: Duration) -> Result<RawReply, CallError> {
        let _active = self.inner.link.enter();
        let framed =
            encode_frame(&call.message, self.inner.cfg.max_message).map_err(|e| match e {
                FrameError::TooLarge { size, limit } => CallError::PayloadTooLarge { size, limit },
                _ => CallError::PayloadTooLarge {
                    size: call.message.len(),
                    limit: self.inner.cfg.max_message,
                },
            })?;
        let head = self.request_head(&call.service, &call.method, &call.meta, Some(timeout))?;
        // Connecting is bounded by the deadline too; running out of time there is a connect
        // failure (nothing sent), as with the Dubbo2 endpoint.
        let start = Instant::now();
        match tokio::time::timeout(timeout, self.connection()).await {
            Ok(conn) => drop(conn?),
            Err(_) => {
                return Err(CallError::Connect {
                    addr: self.inner.addr,
                    reason: format!("not connected within the call deadline of {timeout:?}"),
                })
            }
        }
        // Wait for a stream slot within the deadline; nothing is sent while waiting.
        let _permit = self
            .stream_permit(timeout.saturating_sub(start.elapsed()), timeout)
            .await?;
        let remaining = timeout.saturating_sub(start.elapsed());
        let work = async {
            let (response, _send) = self.start_stream(head, Some(framed)).await?;
            read_unary(
                response,
                self.inner.addr,
                self.inner.cfg.max_message,
                timeout,
            )
            .await
        };
        match tokio::time::timeout(remaining, work).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout { after: timeout }),
        }
    }

    /// Opens a bidirectional stream to `/{service}/{method}` (no deadline header); used by the
    /// reflection client. The caller bounds it with its own timeout.
    pub(crate) async fn open_stream(
        &self,
        service: &str,
        method: &str,
        meta: &CallMeta,
    ) -> Result<GrpcStream, CallError> {
        let head = self.request_head(service, method, meta, None)?;
        // The caller bounds the whole session; the slot wait is bounded the same way.
        let permit = self.stream_permit(Duration::MAX, Duration::MAX).await?;
        let (response, send) = self.start_stream(head, None).await?;
        Ok(GrpcStream {
            _permit: permit,
            addr: self.inner.addr,
            max: self.inner.cfg.max_message,
            send,
            response: Some(response),
            recv: None,
            decoder: FrameDecoder::new(self.inner.cfg.max_message),
            data_done: false,
            head: HeaderMap::new(),
        })
    }

    /// Sends the request head (and `body` with END_STREAM, when given) on a fresh stream of the
    /// shared connection. A connection found dead before anything was sent is replaced once.
    async fn start_stream(
        &self,
        head: Request<()>,
        body: Option<Bytes>,
    ) -> Result<(ResponseFuture, SendStream<Bytes>), CallError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let conn = self.connection().await?;
            let ready = conn.send.clone().ready().await;
            let mut send = match ready {
                Ok(send) => send,
                Err(e) => {
                    self.drop_conn(&conn, &e.to_string());
                    if attempts < 2 {
                        continue;
                    }
                    return Err(CallError::Unavailable {
                        addr: self.inner.addr,
                        reason: "the HTTP/2 connection closed before the request was sent",
                    });
                }
            };
            let (response, mut stream) = match send.send_request(head.clone(), false) {
                Ok(pair) => pair,
                Err(e) => {
                    // Neither I/O, GOAWAY nor a reset: h2 refused the request itself.
                    if !e.is_io() && !e.is_go_away() && e.reason().is_none() {
                        return Err(CallError::Unavailable {
                            addr: self.inner.addr,
                            reason: "the request headers were refused by the HTTP/2 layer",
                        });
                    }
                    self.drop_conn(&conn, &e.to_string());
                    if attempts < 2 {
                        continue;
                    }
                    return Err(CallError::Unavailable {
                        addr: self.inner.addr,
                        reason: "the HTTP/2 connection closed before the request was sent",
                    });
                }
            };
            if let Some(body) = body {
                // The headers may be on the wire: from here on the call may have reached the
                // provider.
                stream
                    .send_data(body, true)
                    .map_err(|e| stream_error(e, self.inner.addr))?;
            }
            return Ok((response, stream));
        }
    }

    fn drop_conn(&self, conn: &Conn, why: &str) {
        conn.close();
        self.inner
            .link
            .forget(conn, |a, b| Arc::ptr_eq(&a.closed, &b.closed), why);
    }

    /// The request head: method, path, gRPC and Triple headers, attachments.
    fn request_head(
        &self,
        service: &str,
        method: &str,
        meta: &CallMeta,
        timeout: Option<Duration>,
    ) -> Result<Request<()>, CallError> {
        let uri = format!(
            "http://{}/{}/{}",
            self.inner.addr,
            encode_path_segment(service),
            encode_path_segment(method)
        );
        let mut req = Request::builder()
            .method(Method::POST)
            .version(Version::HTTP_2)
            .uri(uri)
            .body(())
            .map_err(|_| CallError::Unavailable {
                addr: self.inner.addr,
                reason: "the request path is not a valid URI",
            })?;
        let headers = req.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static(CONTENT_TYPE),
        );
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(concat!("tianlu/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(
            HeaderName::from_static("grpc-accept-encoding"),
            HeaderValue::from_static("identity"),
        );
        if let Some(t) = timeout {
            if let Ok(v) = HeaderValue::from_str(&grpc_timeout(t)) {
                headers.insert(HeaderName::from_static("grpc-timeout"), v);
            }
        }
        let mut put = |name: &'static str, value: &str| match HeaderValue::from_str(value) {
            Ok(v) => {
                headers.insert(HeaderName::from_static(name), v);
            }
            Err(_) => tracing::debug!(header = name, "skipping a header value that is not valid"),
        };
        if let Some(v) = meta.version.as_deref().filter(|v| !v.is_empty()) {
            put("tri-service-version", v);
        }
        if let Some(g) = meta.group.as_deref().filter(|g| !g.is_empty()) {
            put("tri-service-group", g);
        }
        put("tri-consumer-appname", &self.inner.cfg.app_name);
        for (key, value) in &meta.attachments {
            let lower = key.to_ascii_lowercase();
            if RESERVED_REQUEST_HEADERS.contains(&lower.as_str()) || lower.starts_with(':') {
                continue;
            }
            match (
                HeaderName::from_bytes(lower.as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                (Ok(name), Ok(value)) => {
                    headers.append(name, value);
                }
                _ => {
                    tracing::debug!(attachment = %key, "skipping an attachment that is not a valid header")
                }
            }
        }
        Ok(req)
    }

    /// The shared connection, connecting if there is none (or the last one was lost).
    async fn connection(&self) -> Result<Conn, CallError> {
        let inner = &self.inner;
        inner.link.get(|| connect(inner.addr, &inner.cfg)).await
    }
}

/// TCP connect plus the HTTP/2 handshake (prior knowledge), within the connect timeout; the
/// connection is driven by a spawned task.
async fn connect(addr: SocketAddr, cfg: &TripleConfig) -> Result<Conn, CallError> {
    let fail = |reason: String| CallError::Connect { addr, reason };
    let handshake = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        h2::client::Builder::new()
            .initial_window_size(cfg.stream_window)
            .initial_connection_window_size(cfg.connection_window)
            .handshake::<_, Bytes>(tcp)
            .await
            .map_err(|e| fail(format!("HTTP/2 handshake: {e}")))
    };
    let (send, mut connection) = match tokio::time::timeout(cfg.connect_timeout, handshake).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(fail(format!(
                "not connected within {:?}",
                cfg.connect_timeout
            )))
        }
    };
    let closed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&closed);
    let pings = cfg.keepalive.zip(connection.ping_pong());
    let driver = tokio::spawn(async move {
        let keepalive = async move {
            let Some((interval, mut pings)) = pings else {
                return std::future::pending::<()>().await;
            };
            loop {
                tokio::time::sleep(interval).await;
                match tokio::time::timeout(interval, pings.ping(h2::Ping::opaque())).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(%addr, error = %e, "triple keepalive PING failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%addr, "triple keepalive PING unanswered; closing");
                        return;
                    }
                }
            }
        };
        tokio::select! {
            ended = connection => {
                if let Err(e) = ended {
                    tracing::debug!(%addr, error = %e, "triple connection ended");
                }
            }
            () = keepalive => {}
        }
        flag.store(true, Ordering::Release);
    });
    Ok(Conn {
        send,
        closed,
        driver: driver.abort_handle(),
    })
}

/// A response being read: the head, then messages, then trailers.
pub(crate) struct GrpcStream {
    _permit: OwnedSemaphorePermit,
    addr: SocketAddr,
    max: usize,
    send: SendStream<Bytes>,
    response: Option<ResponseFuture>,
    recv: Option<RecvStream>,
    decoder: FrameDecoder,
    data_done: bool,
    head: HeaderMap,
}

impl GrpcStream {
    /// Sends one message (framed); `end` closes our side.
    pub(crate) fn send(&mut self, message: &[u8], end: bool) -> Result<(), CallError> {
        let framed = encode_frame(message, self.max).map_err(|e| match e {
            FrameError::TooLarge { size, limit } => CallError::PayloadTooLarge { size, limit },
            _ => CallError::PayloadTooLarge {
                size: message.len(),
                limit: self.max,
            },
        })?;
        self.send
            .send_data(framed, end)
            .map_err(|e| stream_error(e, self.addr))
    }

    /// Closes our side of the stream.
    pub(crate) fn finish(&mut self) -> Result<(), CallError> {
        self.send
            .send_data(Bytes::new(), true)
            .map_err(|e| stream_error(e, self.addr))
    }

    /// The next message; `Ok(None)` once the provider ended the stream with `grpc-status` 0.
    /// A non-OK status is the error of the status table (`deadline` reported for
    /// `DEADLINE_EXCEEDED`).
    pub(crate) async fn message(&mut self, deadline: Duration) -> Result<Option<Bytes>, CallError> {
        if self.recv.is_none() {
            let Some(response) = self.response.take() else {
                return Ok(None);
            };
            let response = response.await.map_err(|e| stream_error(e, self.addr))?;
            let (parts, body) = response.into_parts();
            if let Some(err) = head_error(&parts, deadline) {
                return Err(err);
            }
            self.head = parts.headers;
            self.recv = Some(body);
        }
        let Some(recv) = self.recv.as_mut() else {
            return Ok(None);
        };
        loop {
            if let Some(m) = self
                .decoder
                .next_message()
                .map_err(|e| frame_error(e, self.max))?
            {
                return Ok(Some(m));
            }
            if self.data_done {
                return Ok(None);
            }
            match recv.data().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| stream_error(e, self.addr))?;
                    let _ = recv.flow_control().release_capacity(chunk.len());
                    self.decoder.push(&chunk);
                }
                None => {
                    self.data_done = true;
                    self.decoder
                        .finish()
                        .map_err(|e| frame_error(e, self.max))?;
                    let trailers = recv
                        .trailers()
                        .await
                        .map_err(|e| stream_error(e, self.addr))?
                        .unwrap_or_default();
                    // Trailers-only responses carry the status in the head.
                    let (code, message) = grpc_status(&trailers)
                        .or_else(|| grpc_status(&self.head))
                        .ok_or(CallError::Decode(ProtocolError::Unexpected {
                            expected: "a grpc-status trailer",
                            found: "none",
                        }))?;
                    if code != GrpcCode::Ok {
                        return Err(status_error(code, &message, deadline));
                    }
                    return Ok(None);
                }
            }
        }
    }
}

/// The error a response head announces by itself: a non-200 HTTP status, or a trailers-only
/// response with a non-OK `grpc-status` (the exception-flagged case is left to the caller).
fn head_error(parts: &http::response::Parts, deadline: Duration) -> Option<CallError> {
    if let Some((code, message)) = grpc_status(&parts.headers) {
        if code != GrpcCode::Ok && exception_code(&parts.headers).is_none() {
            return Some(status_error(code, &message, deadline));
        }
    }
    if parts.status != http::StatusCode::OK {
        let code = GrpcCode::from_http_status(parts.status.as_u16());
        return Some(status_error(
            code,
            &format!("HTTP {}", parts.status),
            deadline,
        ));
    }
    None
}

/// Reads a unary response: head, at most one message, trailers.
async fn read_unary(
    response: ResponseFuture,
    addr: SocketAddr,
    max: usize,
    deadline: Duration,
) -> Result<RawReply, CallError> {
    let response = response.await.map_err(|e| stream_error(e, addr))?;
    let (parts, mut body) = response.into_parts();
    let mut attachments = Vec::new();
    collect_attachments(&parts.headers, &mut attachments);
    let flagged = exception_code(&parts.headers);

    if parts.status != http::StatusCode::OK && grpc_status(&parts.headers).is_none() {
        // Not a gRPC answer (a proxy, or an HTTP error page): keep a bounded piece of its body.
        let code = GrpcCode::from_http_status(parts.status.as_u16());
        let text = read_error_body(&mut body).await;
        let message = if text.is_empty() {
            format!("HTTP {}", parts.status)
        } else {
            format!("HTTP {}: {text}", parts.status)
        };
        return Err(status_error(code, &message, deadline));
    }

    let mut decoder = FrameDecoder::new(max);
    let mut message: Option<Bytes> = None;
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| stream_error(e, addr))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        decoder.push(&chunk);
        while let Some(m) = decoder.next_message().map_err(|e| frame_error(e, max))? {
            if message.is_some() {
                return Err(CallError::Decode(ProtocolError::Unexpected {
                    expected: "one response message",
                    found: "several messages",
                }));
            }
            message = Some(m);
        }
    }
    decoder.finish().map_err(|e| frame_error(e, max))?;
    let trailers = body
        .trailers()
        .await
        .map_err(|e| stream_error(e, addr))?
        .unwrap_or_default();
    collect_attachments(&trailers, &mut attachments);
    let flagged = flagged.or_else(|| exception_code(&trailers));

    // Trailers-only responses carry the status in the head.
    let status = grpc_status(&trailers).or_else(|| grpc_status(&parts.headers));
    if let (Some(code), Some(_)) = (flagged, message.as_ref()) {
        return Ok(RawReply {
            message,
            exception_code: Some(code),
            attachments,
        });
    }
    match status {
        Some((GrpcCode::Ok, _)) => Ok(RawReply {
            message,
            exception_code: None,
            attachments,
        }),
        Some((code, text)) => Err(status_error(code, &text, deadline)),
        None => Err(CallError::Decode(ProtocolError::Unexpected {
            expected: "a grpc-status trailer",
            found: "none",
        })),
    }
}

async fn read_error_body(body: &mut RecvStream) -> String {
    let mut text = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        let room = MAX_ERROR_BODY.saturating_sub(text.len());
        text.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if text.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    String::from_utf8_lossy(&text).trim().to_string()
}

/// `grpc-status` and the decoded `grpc-message` of a header map.
fn grpc_status(headers: &HeaderMap) -> Option<(GrpcCode, String)> {
    let code = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(GrpcCode::parse)?;
    let message = headers
        .get("grpc-message")
        .map(|v| decode_grpc_message(v.as_bytes()))
        .unwrap_or_default();
    Some((code, message))
}

/// A non-zero `tri-exception-code`.
fn exception_code(headers: &HeaderMap) -> Option<u32> {
    headers
        .get(TRI_EXCEPTION_CODE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|code| *code != 0)
}

fn collect_attachments(headers: &HeaderMap, out: &mut Vec<(String, String)>) {
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("grpc-") || RESERVED_RESPONSE_HEADERS.contains(&name) {
            continue;
        }
        if let Ok(value) = value.to_str() {
            out.push((name.to_string(), value.to_string()));
        }
    }
}

/// Maps an h2 failure after the request may have been sent.
fn stream_error(e: h2::Error, addr: SocketAddr) -> CallError {
    match e.reason() {
        // The provider refused the stream before processing it: safe to send elsewhere.
        Some(reason) if reason == h2::Reason::REFUSED_STREAM && e.is_remote() => {
            CallError::Unavailable {
                addr,
                reason: "the provider refused the HTTP/2 stream (not processed)",
            }
        }
        Some(reason) if e.is_reset() && e.is_remote() => status_error(
            GrpcCode::from_h2_reason(reason),
            &format!("stream reset by the provider ({reason})"),
            Duration::ZERO,
        ),
        _ => CallError::ConnectionClosed,
    }
}

fn frame_error(e: FrameError, limit: usize) -> CallError {
    match e {
        FrameError::TooLarge { size, .. } => CallError::ResponseTooLarge { size, limit },
        FrameError::Compressed(_) => CallError::Decode(ProtocolError::Unexpected {
            expected: "an uncompressed gRPC message",
            found: "a compressed message",
        }),
        FrameError::Truncated { .. } => CallError::Decode(ProtocolError::Unexpected {
            expected: "a complete gRPC message",
            found: "the end of the stream",
        }),
    }
}

/// `grpc-timeout` for a deadline: milliseconds (`m`) while they fit the 8 digits gRPC allows,
/// otherwise seconds (`S`), otherwise hours (`H`); at least `1m`.
pub fn grpc_timeout(timeout: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let ms = timeout.as_millis().max(1);
    if ms <= MAX {
        return format!("{ms}m");
    }
    let secs = timeout.as_secs();
    if u128::from(secs) <= MAX {
        return format!("{secs}S");
    }
    format!("{}H", (secs / 3600).min(99_999_999))
}

/// Percent-encodes what may not appear raw in a URL path segment (RFC 3986 `pchar`s stay).
pub fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'$'
                    | b'!'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(grpc_timeout(Duration::from_millis(3000)), "3000m");
        assert_eq!(grpc_timeout(Duration::ZERO), "1m");
        assert_eq!(grpc_timeout(Duration::from_micros(10)), "1m");
        assert_eq!(grpc_timeout(Duration::from_millis(99_999_999)), "99999999m");
        assert_eq!(grpc_timeout(Duration::from_millis(100_000_000)), "100000S");
        assert!(grpc_timeout(Duration::MAX).len() <= 9);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(encode_path_segment("$invoke"), "$invoke");
        assert_eq!(encode_path_segment("org.example.Svc"), "org.example.Svc");
        assert_eq!(encode_path_segment("a b/c?"), "a%20b%2Fc%3F");
        assert_eq!(encode_path_segment("中"), "%E4%B8%AD");
    }

    #[test]
    fn request_head_carries_triple_headers_and_filters_attachments() {
        let ep = TripleEndpoint::new("127.0.0.1:50051".parse().unwrap(), TripleConfig::default());
        let meta = CallMeta {
            version: Some("1.0.0".into()),
            group: Some(String::new()),
            attachments: vec![
                ("Trace-Id".into(), "abc".into()),
                ("te".into(), "gzip".into()),
                ("connection".into(), "close".into()),
                ("bad name".into(), "x".into()),
                ("bad-value".into(), "line\nbreak".into()),
                ("generic".into(), "true".into()),
            ],
        };
        let req = ep
            .request_head(
                "org.example.Svc",
                "$invoke",
                &meta,
                Some(Duration::from_millis(1500)),
            )
            .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().path(), "/org.example.Svc/$invoke");
        let h = req.headers();
        assert_eq!(h["content-type"], "application/grpc+proto");
        assert_eq!(h["te"], "trailers");
        assert_eq!(h["grpc-timeout"], "1500m");
        assert_eq!(h["tri-service-version"], "1.0.0");
        assert!(h.get("tri-service-group").is_none());
        assert_eq!(h["tri-consumer-appname"], "tianlu");
        assert_eq!(h["trace-id"], "abc");
        assert_eq!(h["generic"], "true");
        assert!(h.get("connection").is_none());
        assert!(h.get("bad-value").is_none());
        assert_eq!(h.get_all("te").iter().count(), 1);
    }

    #[test]
    fn exception_codes_and_statuses_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(exception_code(&h), None);
        h.insert(TRI_EXCEPTION_CODE, HeaderValue::from_static("0"));
        assert_eq!(exception_code(&h), None);
        h.insert(TRI_EXCEPTION_CODE, HeaderValue::from_static("3"));
        assert_eq!(exception_code(&h), Some(3));
        h.insert("grpc-status", HeaderValue::from_static("5"));
        h.insert("grpc-message", HeaderValue::from_static("no%20item"));
        assert_eq!(
            grpc_status(&h),
            Some((GrpcCode::NotFound, "no item".to_string()))
        );
        h.insert("x-extra", HeaderValue::from_static("1"));
        let mut out = Vec::new();
        collect_attachments(&h, &mut out);
        assert_eq!(out, vec![("x-extra".to_string(), "1".to_string())]);
    }

    #[tokio::test]
    async fn refused_connect_is_not_sent_and_backs_off() {
        // A port nobody listens on: bind, learn the port, close.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let ep = TripleEndpoint::new(
            SocketAddr::from(([127, 0, 0, 1], port)),
            TripleConfig {
                backoff_initial: Duration::from_secs(60),
                ..TripleConfig::default()
            },
        );
        let inv = Invocation::generic("S", "m", vec![], vec![]);
        let first = ep.call(&inv, Duration::from_secs(5)).await.unwrap_err();
        assert!(matches!(first, CallError::Connect { .. }), "{first:?}");
        assert!(!first.reached_provider());
        let second = ep.call(&inv, Duration::from_secs(5)).await.unwrap_err();
        match second {
            CallError::Connect { reason, .. } => {
                assert!(reason.contains("backing off"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(!ep.is_connected());
        assert_eq!(ep.in_flight(), 0);
    }

    #[tokio::test]
    async fn unanswered_pings_close_the_connection() {
        // A peer that accepts TCP and never speaks HTTP/2: the call cannot complete, and the
        // keepalive notices long before the call's own deadline.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        let ep = TripleEndpoint::new(
            addr,
            TripleConfig {
                keepalive: Some(Duration::from_millis(100)),
                ..TripleConfig::default()
            },
        );
        let inv = Invocation::generic("S", "m", vec![], vec![]);
        let err = ep.call(&inv, Duration::from_secs(30)).await.unwrap_err();
        assert!(matches!(err, CallError::ConnectionClosed), "{err:?}");
        assert!(!ep.is_connected());
        silent.abort();
    }

    #[tokio::test]
    async fn oversized_requests_are_not_sent() {
        let ep = TripleEndpoint::new(
            "127.0.0.1:9".parse().unwrap(),
            TripleConfig {
                max_message: 16,
                ..TripleConfig::default()
            },
        );
        let inv = Invocation::generic(
            "S",
            "m",
            vec!["java.lang.String".into()],
            vec![Value::String("x".repeat(64))],
        );
        let err = ep.call(&inv, Duration::from_secs(1)).await.unwrap_err();
        assert!(
            matches!(err, CallError::PayloadTooLarge { limit: 16, .. }),
            "{err:?}"
        );
        assert!(!err.reached_provider());
    }
}

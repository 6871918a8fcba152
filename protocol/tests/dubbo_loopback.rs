//! Client ↔ server over real loopback TCP: calls, 1,000 concurrent calls on one connection,
//! deadlines, provider loss and reconnection, heartbeats and read-only events (checked with raw
//! sockets), payload limits, provider exceptions and graceful shutdown.

mod dubbo {
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use tianlu_protocol::dubbo::frame::HEADER_LEN;
    use tianlu_protocol::dubbo::{
        encode_request_body, serve, serve_with_shutdown, unpack_generic, CallError, ClientConfig,
        Connection, Endpoint, Frame, Handler, HandlerFuture, Header, ProviderError, RpcOutcome,
        RpcResponse, ServerConfig, ServerError, Status,
    };
    use tianlu_protocol::hessian2::Value;
    use tianlu_protocol::invocation::Invocation;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;

    const SERVICE: &str = "org.example.Test";
    /// Upper bound for waiting on something that should happen promptly; never a measurement.
    const PATIENCE: Duration = Duration::from_secs(10);
    /// Calls of `drain_me` that reached the provider (used by the graceful-shutdown test only).
    static DRAIN_CALLS_STARTED: AtomicUsize = AtomicUsize::new(0);
    /// Calls of `hang` that reached the provider (used by the provider-loss test only).
    static HANG_CALLS_STARTED: AtomicUsize = AtomicUsize::new(0);

    /// A provider implementing `$invoke` for a few test methods.
    struct TestProvider;

    fn int_arg(args: &[Value]) -> i64 {
        match args.first() {
            Some(Value::Int(i)) => i64::from(*i),
            Some(Value::Long(l)) => *l,
            _ => 0,
        }
    }

    /// A deterministic pseudo-random number from `seed` (xorshift).
    fn scramble(seed: u64) -> u64 {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }

    impl Handler for TestProvider {
        fn call(&self, inv: Invocation) -> HandlerFuture<'_> {
            Box::pin(async move {
                if inv.service != SERVICE {
                    return Err(ServerError::service_not_found(&inv.service));
                }
                let Some((method, _types, args)) = unpack_generic(&inv) else {
                    return Err(ServerError::method_not_found(&inv.service, &inv.method));
                };
                let n = int_arg(args);
                match method {
                    "echo" => Ok(args.first().cloned()),
                    "double" => {
                        let delay = scramble(n as u64) % 5;
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        Ok(Some(Value::Long(n * 2)))
                    }
                    "drain_me" => {
                        DRAIN_CALLS_STARTED.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(n as u64)).await;
                        Ok(Some(Value::string("done")))
                    }
                    "sleep" => {
                        tokio::time::sleep(Duration::from_millis(n as u64)).await;
                        Ok(Some(Value::string("done")))
                    }
                    "big" => Ok(Some(Value::string("x".repeat(n as usize)))),
                    "void" => Ok(None),
                    "hang" => {
                        HANG_CALLS_STARTED.fetch_add(1, Ordering::SeqCst);
                        std::future::pending().await
                    }
                    "fail" => Err(
                        ProviderError::new("org.example.BizException", "no such user")
                            .with_field("code", Value::Int(404))
                            .into(),
                    ),
                    other => Err(ServerError::method_not_found(SERVICE, other)),
                }
            })
        }
    }

    fn call(method: &str, args: Vec<Value>) -> Invocation {
        let types = args
            .iter()
            .map(|_| "java.lang.Object".to_string())
            .collect();
        Invocation::generic(SERVICE, method, types, args)
    }

    async fn start_on(listener: TcpListener, cfg: ServerConfig) -> JoinHandle<()> {
        tokio::spawn(async move {
            let _ = serve(listener, Arc::new(TestProvider), cfg).await;
        })
    }

    async fn start(cfg: ServerConfig) -> (SocketAddr, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (addr, start_on(listener, cfg).await)
    }

    fn value(resp: RpcResponse) -> Value {
        match resp.outcome {
            RpcOutcome::Value(v) => v,
            other => panic!("expected a value, got {other:?}"),
        }
    }

    async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !cond() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never happened: {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn read_frame(stream: &mut TcpStream) -> Frame {
        let mut head = [0u8; HEADER_LEN];
        tokio::time::timeout(PATIENCE, stream.read_exact(&mut head))
            .await
            .expect("no frame")
            .unwrap();
        let h = Header::parse(&head).unwrap();
        let mut body = vec![0u8; h.body_len];
        stream.read_exact(&mut body).await.unwrap();
        Frame {
            flags: h.flags,
            status: h.status,
            id: h.id,
            body: body.into(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn simple_call_void_and_attachments() {
        let (addr, server) = start(ServerConfig::default()).await;
        let conn = Connection::connect(addr, &ClientConfig::default())
            .await
            .unwrap();
        let resp = conn
            .call(&call("echo", vec![Value::string("world")]), PATIENCE)
            .await
            .unwrap();
        // The request said "2.0.2", so the response uses flag 4 with an (empty) attachments map.
        assert!(resp.attachments.is_empty());
        assert_eq!(value(resp), Value::string("world"));
        let resp = conn.call(&call("void", vec![]), PATIENCE).await.unwrap();
        assert_eq!(resp.outcome, RpcOutcome::Null);
        assert_eq!(conn.in_flight(), 0);
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn thousand_concurrent_calls_share_one_connection() {
        let (addr, server) = start(ServerConfig::default()).await;
        let conn = Connection::connect(addr, &ClientConfig::default())
            .await
            .unwrap();
        let calls = (0..1000i32).map(|i| {
            let conn = conn.clone();
            tokio::spawn(async move {
                let resp = conn
                    .call(&call("double", vec![Value::Int(i)]), PATIENCE)
                    .await;
                (i, resp)
            })
        });
        let results = futures_util::future::join_all(calls).await;
        for r in results {
            let (i, resp) = r.unwrap();
            assert_eq!(
                value(resp.unwrap()),
                Value::Long(i64::from(i) * 2),
                "call {i}"
            );
        }
        assert_eq!(conn.in_flight(), 0);
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deadline_exceeded_then_late_response_is_dropped() {
        let (addr, server) = start(ServerConfig::default()).await;
        let conn = Connection::connect(addr, &ClientConfig::default())
            .await
            .unwrap();
        let err = conn
            .call(
                &call("sleep", vec![Value::Int(300)]),
                Duration::from_millis(20),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Timeout { after } if after == Duration::from_millis(20)));
        assert!(err.reached_provider());
        assert_eq!(conn.in_flight(), 0);
        // Let the late response arrive, then the connection must still work.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!conn.is_closed());
        let resp = conn
            .call(&call("echo", vec![Value::Int(5)]), PATIENCE)
            .await
            .unwrap();
        assert_eq!(value(resp), Value::Int(5));
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn provider_loss_fails_pending_calls_and_endpoint_reconnects() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = start_on(listener, ServerConfig::default()).await;
        let cfg = ClientConfig {
            backoff_max: Duration::from_millis(200),
            ..ClientConfig::default()
        };
        let endpoint = Endpoint::new(addr, cfg);
        assert!(!endpoint.is_connected());
        let resp = endpoint
            .call(&call("echo", vec![Value::Int(1)]), PATIENCE)
            .await
            .unwrap();
        assert_eq!(value(resp), Value::Int(1));
        assert!(endpoint.is_connected());

        let pending: Vec<_> = (0..3)
            .map(|_| {
                let endpoint = endpoint.clone();
                tokio::spawn(async move { endpoint.call(&call("hang", vec![]), PATIENCE).await })
            })
            .collect();
        eventually("calls reached the provider", || {
            HANG_CALLS_STARTED.load(Ordering::SeqCst) == 3
        })
        .await;
        assert_eq!(endpoint.in_flight(), 3);
        server.abort();
        for p in pending {
            let err = p.await.unwrap().unwrap_err();
            assert!(matches!(err, CallError::ConnectionClosed), "{err}");
            assert!(err.reached_provider());
        }

        // While the provider is down, calls fail without sending anything.
        let err = endpoint
            .call(&call("echo", vec![]), PATIENCE)
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Connect { .. }), "{err}");
        assert!(!err.reached_provider());

        let listener = TcpListener::bind(addr).await.unwrap();
        let server = start_on(listener, ServerConfig::default()).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let resp = loop {
            match endpoint
                .call(&call("echo", vec![Value::Int(2)]), PATIENCE)
                .await
            {
                Ok(resp) => break resp,
                Err(e) => {
                    assert!(matches!(e, CallError::Connect { .. }), "{e}");
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "never reconnected: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        assert_eq!(value(resp), Value::Int(2));
        assert!(endpoint.is_connected());
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_answers_heartbeats() {
        let (addr, server) = start(ServerConfig::default()).await;
        let mut raw = TcpStream::connect(addr).await.unwrap();
        raw.write_all(&Frame::heartbeat_request(0x1234).to_bytes())
            .await
            .unwrap();
        let reply = read_frame(&mut raw).await;
        assert_eq!(
            reply.to_bytes(),
            Frame::heartbeat_response(0x1234).to_bytes()
        );
        assert_eq!(reply.flags, 0x22);
        assert_eq!(reply.status, Status::Ok);
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn client_answers_and_sends_heartbeats_and_honours_read_only() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cfg = ClientConfig {
            heartbeat_interval: Duration::from_millis(100),
            ..ClientConfig::default()
        };
        let (conn, accepted) = tokio::join!(Connection::connect(addr, &cfg), listener.accept());
        let conn = conn.unwrap();
        let (mut raw, _) = accepted.unwrap();

        // The provider pings; the client answers with 0x22, status 20, same id.
        raw.write_all(&Frame::heartbeat_request(77).to_bytes())
            .await
            .unwrap();
        let reply = read_frame(&mut raw).await;
        assert_eq!(reply, Frame::heartbeat_response(77));

        // Idle: the client pings on its own; answer it.
        let ping = read_frame(&mut raw).await;
        assert!(
            ping.is_heartbeat() && ping.is_request() && ping.is_two_way(),
            "{ping:?}"
        );
        raw.write_all(&Frame::heartbeat_response(ping.id).to_bytes())
            .await
            .unwrap();

        // Read-only event: no new calls, and nothing is sent for them.
        raw.write_all(&Frame::readonly_event(1).to_bytes())
            .await
            .unwrap();
        eventually("read-only noticed", || conn.is_readonly()).await;
        assert!(!conn.is_usable());
        let err = conn
            .call(&call("echo", vec![]), PATIENCE)
            .await
            .unwrap_err();
        assert!(matches!(err, CallError::Unavailable { .. }), "{err}");
        assert!(!err.reached_provider());

        // A provider that stays silent gets the connection closed after 3 intervals.
        eventually("closed after silence", || conn.is_closed()).await;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(PATIENCE, raw.read_to_end(&mut rest)).await;
        let frames = rest.len() / (HEADER_LEN + 1);
        assert!(frames >= 1, "expected more heartbeats before closing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn payload_limits_fail_only_the_call() {
        let (addr, server) = start(ServerConfig::default()).await;
        let cfg = ClientConfig {
            max_payload: 2048,
            ..ClientConfig::default()
        };
        let conn = Connection::connect(addr, &cfg).await.unwrap();

        let err = conn
            .call(
                &call("echo", vec![Value::string("y".repeat(4096))]),
                PATIENCE,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::PayloadTooLarge { limit: 2048, .. }),
            "{err}"
        );
        assert!(!err.reached_provider());

        let err = conn
            .call(&call("big", vec![Value::Int(100_000)]), PATIENCE)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CallError::ResponseTooLarge { limit: 2048, .. }),
            "{err}"
        );
        assert!(err.reached_provider());

        // The oversized response was skipped; the connection still works.
        assert!(!conn.is_closed());
        let resp = conn
            .call(&call("big", vec![Value::Int(10)]), PATIENCE)
            .await
            .unwrap();
        assert_eq!(value(resp), Value::string("x".repeat(10)));
        server.abort();

        // A server with a small limit answers an oversized request with status 40.
        let (addr, server) = start(ServerConfig {
            max_payload: 1024,
            ..ServerConfig::default()
        })
        .await;
        let conn = Connection::connect(addr, &ClientConfig::default())
            .await
            .unwrap();
        let err = conn
            .call(
                &call("echo", vec![Value::string("z".repeat(4096))]),
                PATIENCE,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, CallError::Status { status: Status::BadRequest, message } if message.contains("payload")),
            "{err}"
        );
        let resp = conn
            .call(&call("echo", vec![Value::Int(3)]), PATIENCE)
            .await
            .unwrap();
        assert_eq!(value(resp), Value::Int(3));
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn provider_exceptions_and_dispatch_errors() {
        let (addr, server) = start(ServerConfig::default()).await;
        let conn = Connection::connect(addr, &ClientConfig::default())
            .await
            .unwrap();

        let resp = conn.call(&call("fail", vec![]), PATIENCE).await.unwrap();
        let RpcOutcome::Exception(Value::Object(e)) = resp.outcome else {
            panic!("expected an exception object, got {:?}", resp.outcome)
        };
        assert_eq!(e.class.name, "org.example.BizException");
        assert_eq!(
            e.field("detailMessage"),
            Some(&Value::string("no such user"))
        );
        assert_eq!(e.field("code"), Some(&Value::Int(404)));
        assert_eq!(e.field("cause"), Some(&Value::Ref(0)));

        let err = conn
            .call(&call("nope", vec![]), PATIENCE)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, CallError::Status { status: Status::ServiceError, message } if message.contains("nope")),
            "{err}"
        );
        let mut other = call("echo", vec![]);
        other.service = "org.example.Missing".into();
        let err = conn.call(&other, PATIENCE).await.unwrap_err();
        assert!(
            matches!(&err, CallError::Status { status: Status::ServiceError, message } if message.contains("Missing")),
            "{err}"
        );
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn old_protocol_versions_get_responses_without_attachments() {
        let (addr, server) = start(ServerConfig::default()).await;
        let mut raw = TcpStream::connect(addr).await.unwrap();
        for (version_digit, expected_flag) in [(b'2', 0x94u8), (b'0', 0x91)] {
            let mut body = Vec::new();
            encode_request_body(&call("echo", vec![Value::Int(1)]), None, &mut body);
            // The body starts with the string "2.0.2": 05 '2' '.' '0' '.' '2'.
            assert_eq!(&body[..6], b"\x052.0.2");
            body[5] = version_digit;
            raw.write_all(&Frame::request(9, body).to_bytes())
                .await
                .unwrap();
            let reply = read_frame(&mut raw).await;
            assert_eq!((reply.id, reply.status), (9, Status::Ok));
            assert_eq!(reply.body[0], expected_flag);
        }
        // A body that is not a request: status 40 with the reason.
        raw.write_all(&Frame::request(10, vec![0x91]).to_bytes())
            .await
            .unwrap();
        let reply = read_frame(&mut raw).await;
        assert_eq!((reply.id, reply.status), (10, Status::BadRequest));
        server.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn graceful_shutdown_finishes_in_flight_calls() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with_shutdown(
            listener,
            Arc::new(TestProvider),
            ServerConfig::default(),
            async {
                let _ = stop_rx.await;
            },
        ));
        let conn = Connection::connect(addr, &ClientConfig::default())
            .await
            .unwrap();
        let slow = {
            let conn = conn.clone();
            tokio::spawn(async move {
                conn.call(&call("drain_me", vec![Value::Int(200)]), PATIENCE)
                    .await
            })
        };
        eventually("call reached the provider", || {
            DRAIN_CALLS_STARTED.load(Ordering::SeqCst) == 1
        })
        .await;
        stop_tx.send(()).unwrap();
        let resp = slow.await.unwrap().unwrap();
        assert_eq!(value(resp), Value::string("done"));
        tokio::time::timeout(PATIENCE, server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        eventually("connection closed", || conn.is_closed()).await;
        let err = conn
            .call(&call("echo", vec![]), PATIENCE)
            .await
            .unwrap_err();
        assert!(!err.reached_provider(), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn endpoint_fails_fast_while_backing_off() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let cfg = ClientConfig {
            backoff_initial: Duration::from_secs(60),
            ..ClientConfig::default()
        };
        let endpoint = Endpoint::new(addr, cfg);
        let first = endpoint
            .call(&call("echo", vec![]), PATIENCE)
            .await
            .unwrap_err();
        assert!(matches!(first, CallError::Connect { .. }), "{first}");
        // Even with a provider listening now, the endpoint waits out its backoff.
        let listener = TcpListener::bind(addr).await.unwrap();
        let server = start_on(listener, ServerConfig::default()).await;
        let second = endpoint
            .call(&call("echo", vec![]), PATIENCE)
            .await
            .unwrap_err();
        match &second {
            CallError::Connect { reason, .. } => {
                assert!(reason.contains("backing off"), "{reason}")
            }
            other => panic!("expected a fast Connect failure, got {other}"),
        }
        assert!(!second.reached_provider());
        assert_eq!(endpoint.in_flight(), 0);
        assert!(!endpoint.is_connected());
        server.abort();
    }
}

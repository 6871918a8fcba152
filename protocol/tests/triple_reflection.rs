//! IDL calls with descriptors from gRPC server reflection, against a tonic server in this
//! process: a small hand-described `echo.v1.Echo` service (nested message, repeated, map, enum,
//! `google.protobuf.Timestamp`) plus tonic-reflection, v1alpha on one server and v1 on another.
//! No protoset: everything the client knows comes from reflection. The same server checks what
//! the Triple client sends (headers, deadlines) and the gRPC status table end to end.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail};
use bytes::{Buf, BufMut, Bytes};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, Value as PValue};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto, FieldDescriptorProto,
    FileDescriptorProto, FileDescriptorSet, MessageOptions, MethodDescriptorProto,
    ServiceDescriptorProto,
};
use serde_json::{json, Value as Json};
use tianlu_protocol::dubbo::{CallError, Status};
use tianlu_protocol::triple::{
    fetch_descriptor_pool, list_services, CallMeta, IdlCall, IdlCallError, ReflectionError,
    TripleConfig, TripleEndpoint,
};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{http, BoxFuture, Context, Poll, Service};
use tonic::server::{Grpc, NamedService, UnaryService};

const TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- descriptors, by hand

fn field(name: &str, number: i32, ty: Type, type_name: Option<&str>) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(ty as i32),
        type_name: type_name.map(String::from),
        ..Default::default()
    }
}

fn repeated(mut f: FieldDescriptorProto) -> FieldDescriptorProto {
    f.label = Some(Label::Repeated as i32);
    f
}

fn message(name: &str, fields: Vec<FieldDescriptorProto>) -> DescriptorProto {
    DescriptorProto {
        name: Some(name.into()),
        field: fields,
        ..Default::default()
    }
}

fn map_entry(name: &str, key: Type, value: Type) -> DescriptorProto {
    DescriptorProto {
        options: Some(MessageOptions {
            map_entry: Some(true),
            ..Default::default()
        }),
        ..message(
            name,
            vec![field("key", 1, key, None), field("value", 2, value, None)],
        )
    }
}

/// `google/protobuf/timestamp.proto` (its two fields) and `echo/v1/echo.proto`:
///
/// ```proto
/// enum Mood { MOOD_UNSPECIFIED = 0; HAPPY = 1; SAD = 2; }
/// message Note {
///   message Inner { int32 n = 1; }
///   string text = 1; repeated string tags = 2; map<string, int64> counts = 3;
///   Mood mood = 4; google.protobuf.Timestamp at = 5; Inner inner = 6;
/// }
/// message EchoRequest { Note note = 1; int32 repeat = 2; int32 fail_code = 3; int32 sleep_ms = 4; }
/// message EchoReply { repeated Note notes = 1; int32 total = 2; map<string, string> headers = 3; }
/// service Echo { rpc Echo(EchoRequest) returns (EchoReply); }
/// ```
fn descriptor_set() -> FileDescriptorSet {
    let timestamp = FileDescriptorProto {
        name: Some("google/protobuf/timestamp.proto".into()),
        package: Some("google.protobuf".into()),
        syntax: Some("proto3".into()),
        message_type: vec![message(
            "Timestamp",
            vec![
                field("seconds", 1, Type::Int64, None),
                field("nanos", 2, Type::Int32, None),
            ],
        )],
        ..Default::default()
    };
    let mut note = message(
        "Note",
        vec![
            field("text", 1, Type::String, None),
            repeated(field("tags", 2, Type::String, None)),
            repeated(field(
                "counts",
                3,
                Type::Message,
                Some(".echo.v1.Note.CountsEntry"),
            )),
            field("mood", 4, Type::Enum, Some(".echo.v1.Mood")),
            field("at", 5, Type::Message, Some(".google.protobuf.Timestamp")),
            field("inner", 6, Type::Message, Some(".echo.v1.Note.Inner")),
        ],
    );
    note.nested_type = vec![
        map_entry("CountsEntry", Type::String, Type::Int64),
        message("Inner", vec![field("n", 1, Type::Int32, None)]),
    ];
    let mut reply = message(
        "EchoReply",
        vec![
            repeated(field("notes", 1, Type::Message, Some(".echo.v1.Note"))),
            field("total", 2, Type::Int32, None),
            repeated(field(
                "headers",
                3,
                Type::Message,
                Some(".echo.v1.EchoReply.HeadersEntry"),
            )),
        ],
    );
    reply.nested_type = vec![map_entry("HeadersEntry", Type::String, Type::String)];
    let echo = FileDescriptorProto {
        name: Some("echo/v1/echo.proto".into()),
        package: Some("echo.v1".into()),
        dependency: vec!["google/protobuf/timestamp.proto".into()],
        syntax: Some("proto3".into()),
        enum_type: vec![EnumDescriptorProto {
            name: Some("Mood".into()),
            value: ["MOOD_UNSPECIFIED", "HAPPY", "SAD"]
                .iter()
                .enumerate()
                .map(|(n, name)| EnumValueDescriptorProto {
                    name: Some((*name).into()),
                    number: Some(n as i32),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        message_type: vec![
            note,
            message(
                "EchoRequest",
                vec![
                    field("note", 1, Type::Message, Some(".echo.v1.Note")),
                    field("repeat", 2, Type::Int32, None),
                    field("fail_code", 3, Type::Int32, None),
                    field("sleep_ms", 4, Type::Int32, None),
                ],
            ),
            reply,
        ],
        service: vec![ServiceDescriptorProto {
            name: Some("Echo".into()),
            method: vec![MethodDescriptorProto {
                name: Some("Echo".into()),
                input_type: Some(".echo.v1.EchoRequest".into()),
                output_type: Some(".echo.v1.EchoReply".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    FileDescriptorSet {
        file: vec![timestamp, echo],
    }
}

// ---------------------------------------------------------------- the tonic server

/// Passes message bytes through; the handler decodes them with prost-reflect.
#[derive(Clone, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `echo.v1.Echo`: repeats the note `repeat` times, reports selected request headers, fails
/// with `fail_code` when set, sleeps `sleep_ms` first.
#[derive(Clone)]
struct EchoService {
    pool: DescriptorPool,
}

impl NamedService for EchoService {
    const NAME: &'static str = "echo.v1.Echo";
}

struct EchoHandler {
    pool: DescriptorPool,
}

/// Request headers the reply reports back.
const REPORTED: [&str; 6] = [
    "grpc-timeout",
    "tri-service-version",
    "tri-service-group",
    "tri-consumer-appname",
    "x-trace",
    "content-type",
];

impl UnaryService<Bytes> for EchoHandler {
    type Response = Bytes;
    type Future = BoxFuture<tonic::Response<Bytes>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let pool = self.pool.clone();
        Box::pin(async move {
            let desc = |name: &str| {
                pool.get_message_by_name(name)
                    .ok_or_else(|| tonic::Status::internal(format!("no {name}")))
            };
            let input =
                DynamicMessage::decode(desc("echo.v1.EchoRequest")?, request.get_ref().clone())
                    .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?;
            let int = |name: &str| {
                input
                    .get_field_by_name(name)
                    .and_then(|v| v.as_i32())
                    .unwrap_or(0)
            };
            if int("sleep_ms") > 0 {
                tokio::time::sleep(Duration::from_millis(int("sleep_ms") as u64)).await;
            }
            if int("fail_code") != 0 {
                return Err(tonic::Status::new(
                    tonic::Code::from(int("fail_code")),
                    format!("failing with {} 中", int("fail_code")),
                ));
            }
            let mut reply = DynamicMessage::new(desc("echo.v1.EchoReply")?);
            let note = input
                .has_field_by_name("note")
                .then(|| input.get_field_by_name("note").map(|v| v.into_owned()))
                .flatten();
            let notes: Vec<PValue> = match note {
                Some(n) => (0..int("repeat").max(1)).map(|_| n.clone()).collect(),
                None => Vec::new(),
            };
            reply.set_field_by_name("total", PValue::I32(notes.len() as i32));
            reply.set_field_by_name("notes", PValue::List(notes));
            let headers = REPORTED
                .iter()
                .filter_map(|h| {
                    let v = request.metadata().get(*h)?.to_str().ok()?;
                    Some((
                        MapKey::String((*h).to_string()),
                        PValue::String(v.to_string()),
                    ))
                })
                .collect();
            reply.set_field_by_name("headers", PValue::Map(headers));
            Ok(tonic::Response::new(Bytes::from(reply.encode_to_vec())))
        })
    }
}

impl Service<http::Request<tonic::body::Body>> for EchoService {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let pool = self.pool.clone();
        Box::pin(async move {
            if req.uri().path() == "/echo.v1.Echo/Echo" {
                let mut grpc = Grpc::new(RawCodec);
                Ok(grpc.unary(EchoHandler { pool }, req).await)
            } else {
                Ok(tonic::Status::unimplemented("no such method").into_http())
            }
        })
    }
}

enum Reflection {
    V1,
    V1Alpha,
    None,
}

/// Starts a tonic server on 127.0.0.1:0 with the echo service and the given reflection.
async fn start_server(reflection: Reflection) -> anyhow::Result<SocketAddr> {
    let set = descriptor_set();
    let pool = DescriptorPool::from_file_descriptor_set(set.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(Box::leak(set.encode_to_vec().into_boxed_slice()));
    let mut server = tonic::transport::Server::builder();
    let router = match reflection {
        Reflection::V1 => server
            .add_service(builder.build_v1()?)
            .add_service(EchoService { pool }),
        Reflection::V1Alpha => server
            .add_service(builder.build_v1alpha()?)
            .add_service(EchoService { pool }),
        Reflection::None => server.add_service(EchoService { pool }),
    };
    tokio::spawn(async move {
        if let Err(e) = router.serve_with_incoming(incoming).await {
            eprintln!("tonic test server stopped: {e}");
        }
    });
    Ok(addr)
}

fn note_json() -> Json {
    json!({
        "text": "hi 中文",
        "tags": ["a", "b"],
        "counts": {"x": "9007199254740993", "y": "-1"},
        "mood": "SAD",
        "at": "2024-02-29T12:34:56.789Z",
        "inner": {"n": 7}
    })
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn reflection_v1alpha_builds_a_pool_and_idl_calls_work() -> anyhow::Result<()> {
    let addr = start_server(Reflection::V1Alpha).await?;
    let ep = TripleEndpoint::new(addr, TripleConfig::default());

    let mut services = list_services(&ep, TIMEOUT).await?;
    services.sort();
    assert_eq!(
        services,
        ["echo.v1.Echo", "grpc.reflection.v1alpha.ServerReflection"]
    );

    let pool = fetch_descriptor_pool(&ep, &["echo.v1.Echo"], TIMEOUT).await?;
    let call = IdlCall::new(&pool, "echo.v1.Echo", "Echo")?;
    assert_eq!(call.path(), "/echo.v1.Echo/Echo");
    assert_eq!(call.input().full_name(), "echo.v1.EchoRequest");

    let meta = CallMeta {
        version: Some("2.0".into()),
        group: Some("blue".into()),
        attachments: vec![("X-Trace".into(), "t-1".into())],
    };
    let reply = ep
        .call_idl(
            &call,
            &json!({"note": note_json(), "repeat": 2}),
            &meta,
            TIMEOUT,
        )
        .await?;
    assert_eq!(reply.json["total"], json!(2), "{}", reply.json);
    assert_eq!(reply.json["notes"], json!([note_json(), note_json()]));
    let headers = &reply.json["headers"];
    assert_eq!(headers["tri-service-version"], json!("2.0"), "{headers}");
    assert_eq!(headers["tri-service-group"], json!("blue"), "{headers}");
    assert_eq!(
        headers["tri-consumer-appname"],
        json!("tianlu"),
        "{headers}"
    );
    assert_eq!(headers["x-trace"], json!("t-1"), "{headers}");
    assert_eq!(
        headers["content-type"],
        json!("application/grpc+proto"),
        "{headers}"
    );
    let timeout = headers["grpc-timeout"]
        .as_str()
        .ok_or_else(|| anyhow!("no grpc-timeout in {headers}"))?;
    assert_eq!(timeout, "10000m");

    // An empty request is a valid message; the reply's defaults are omitted.
    let reply = ep
        .call_idl(&call, &json!({}), &CallMeta::default(), TIMEOUT)
        .await?;
    assert_eq!(reply.json["total"], json!(null), "{}", reply.json);
    Ok(())
}

#[tokio::test]
async fn reflection_v1_is_used_when_the_server_has_it() -> anyhow::Result<()> {
    let addr = start_server(Reflection::V1).await?;
    let ep = TripleEndpoint::new(addr, TripleConfig::default());
    let services = list_services(&ep, TIMEOUT).await?;
    assert!(
        services
            .iter()
            .any(|s| s == "grpc.reflection.v1.ServerReflection"),
        "{services:?}"
    );
    let pool = fetch_descriptor_pool(&ep, &["echo.v1.Echo", "echo.v1.Note"], TIMEOUT).await?;
    assert!(pool
        .get_file_by_name("google/protobuf/timestamp.proto")
        .is_some());
    let call = IdlCall::new(&pool, "Echo", "echo")?;
    let reply = ep
        .call_idl(
            &call,
            &json!({"note": {"mood": 1}}),
            &CallMeta::default(),
            TIMEOUT,
        )
        .await?;
    assert_eq!(reply.json["notes"], json!([{"mood": "HAPPY"}]));
    Ok(())
}

#[tokio::test]
async fn reflection_errors() -> anyhow::Result<()> {
    let addr = start_server(Reflection::V1Alpha).await?;
    let ep = TripleEndpoint::new(addr, TripleConfig::default());
    // tonic ends the stream with NOT_FOUND (other servers answer with an ErrorResponse, which
    // is ReflectionError::Server).
    match fetch_descriptor_pool(&ep, &["echo.v1.Missing"], TIMEOUT).await {
        Err(ReflectionError::Call(CallError::Status { status, message })) => {
            assert_eq!(status, Status::ServiceNotFound, "{message}");
            assert!(message.contains("echo.v1.Missing"), "{message}");
        }
        other => bail!("an unknown symbol gave {other:?}"),
    }
    // No reflection service at all: UNIMPLEMENTED for both versions.
    let bare = start_server(Reflection::None).await?;
    let ep = TripleEndpoint::new(bare, TripleConfig::default());
    match fetch_descriptor_pool(&ep, &["echo.v1.Echo"], TIMEOUT).await {
        Err(ReflectionError::Call(CallError::Status { status, message })) => {
            assert_eq!(status, Status::ServiceNotFound, "{message}");
        }
        other => bail!("a server without reflection gave {other:?}"),
    }
    // Nobody listening: a connect error (nothing sent).
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let ep = TripleEndpoint::new(dead, TripleConfig::default());
    match list_services(&ep, TIMEOUT).await {
        Err(ReflectionError::Call(e @ CallError::Connect { .. })) => assert!(!e.reached_provider()),
        other => bail!("a dead address gave {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn grpc_statuses_map_through_the_table_end_to_end() -> anyhow::Result<()> {
    let addr = start_server(Reflection::V1Alpha).await?;
    let ep = TripleEndpoint::new(addr, TripleConfig::default());
    let pool = fetch_descriptor_pool(&ep, &["echo.v1.Echo"], TIMEOUT).await?;
    let call = IdlCall::new(&pool, "echo.v1.Echo", "Echo")?;
    let table = [
        (3, Status::BadRequest),
        (5, Status::ServiceNotFound),
        (7, Status::ServiceError),
        (8, Status::ServerThreadpoolExhausted),
        (12, Status::ServiceNotFound),
        (13, Status::ServerError),
        (14, Status::ChannelInactive),
        (16, Status::ServiceError),
    ];
    for (code, expected) in table {
        match ep
            .call_idl(
                &call,
                &json!({"failCode": code}),
                &CallMeta::default(),
                TIMEOUT,
            )
            .await
        {
            Err(IdlCallError::Call(CallError::Status { status, message })) => {
                assert_eq!(status, expected, "code {code}: {message}");
                // grpc-message is percent-encoded by tonic and decoded by us.
                assert!(
                    message.ends_with(&format!("failing with {code} 中")),
                    "{message}"
                );
                assert!(
                    message.starts_with(&format!("grpc-status {code} ")),
                    "{message}"
                );
            }
            other => bail!("fail_code {code} gave {other:?}"),
        }
    }
    // DEADLINE_EXCEEDED from the server is a Timeout with the call's deadline.
    match ep
        .call_idl(
            &call,
            &json!({"failCode": 4}),
            &CallMeta::default(),
            TIMEOUT,
        )
        .await
    {
        Err(IdlCallError::Call(CallError::Timeout { after })) => assert_eq!(after, TIMEOUT),
        other => bail!("fail_code 4 gave {other:?}"),
    }
    // Our own deadline: the server sleeps longer than the call may take.
    let deadline = Duration::from_millis(200);
    match ep
        .call_idl(
            &call,
            &json!({"sleepMs": 3000}),
            &CallMeta::default(),
            deadline,
        )
        .await
    {
        Err(IdlCallError::Call(CallError::Timeout { after })) => assert_eq!(after, deadline),
        other => bail!("a slow call gave {other:?}"),
    }
    // An unknown method on the service: tonic answers UNIMPLEMENTED.
    let raw = tianlu_protocol::triple::RawCall {
        service: "echo.v1.Echo".into(),
        method: "Nope".into(),
        meta: CallMeta::default(),
        message: Bytes::new(),
    };
    match ep.call_raw(&raw, TIMEOUT).await {
        Err(CallError::Status { status, message }) => {
            assert_eq!(status, Status::ServiceNotFound, "{message}");
            assert!(message.contains("UNIMPLEMENTED"), "{message}");
        }
        other => bail!("an unknown method gave {other:?}"),
    }
    // The connection survived all of it.
    let reply = ep
        .call_idl(
            &call,
            &json!({"repeat": 3, "note": {}}),
            &CallMeta::default(),
            TIMEOUT,
        )
        .await?;
    assert_eq!(reply.json["total"], json!(3));
    assert!(ep.is_connected());
    assert_eq!(ep.in_flight(), 0);
    Ok(())
}

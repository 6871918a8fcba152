//! A gRPC server reflection client: builds a [`DescriptorPool`] from what a server says about
//! its services (`grpc.reflection.v1.ServerReflection/ServerReflectionInfo`, falling back to
//! `grpc.reflection.v1alpha` when the server does not implement v1), so IDL services can be
//! called without a protoset.
//!
//! The reflection messages are written by hand as prost messages (the fields both versions
//! share); one bidirectional stream carries the whole conversation: `file_containing_symbol` for
//! each service asked for, then `file_by_filename` for every import not yet received.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use prost::Message;
use prost_reflect::DescriptorPool;
use prost_types::FileDescriptorProto;

use crate::dubbo::{CallError, Status};

use super::client::{CallMeta, GrpcStream, TripleEndpoint};

/// The reflection service of the current gRPC spec.
pub const REFLECTION_V1: &str = "grpc.reflection.v1.ServerReflection";
/// The older reflection service (Dubbo's and most servers').
pub const REFLECTION_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";
/// The (only) method of both.
const METHOD: &str = "ServerReflectionInfo";

/// Most files one conversation may fetch (a guard against servers that never stop).
const MAX_FILES: usize = 10_000;

/// `ServerReflectionRequest` (the variants tianlu sends).
#[derive(Clone, PartialEq, Message)]
pub struct ServerReflectionRequest {
    /// Unused by servers; empty.
    #[prost(string, tag = "1")]
    pub host: String,
    /// What is asked.
    #[prost(oneof = "ReflectionRequestKind", tags = "3, 4, 7")]
    pub message_request: Option<ReflectionRequestKind>,
}

/// The question of a [`ServerReflectionRequest`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ReflectionRequestKind {
    /// The file with this name (`google/protobuf/timestamp.proto`).
    #[prost(string, tag = "3")]
    FileByFilename(String),
    /// The file defining this fully-qualified symbol (`package.Service`).
    #[prost(string, tag = "4")]
    FileContainingSymbol(String),
    /// The names of all services (the value is ignored).
    #[prost(string, tag = "7")]
    ListServices(String),
}

/// `ServerReflectionResponse` (the variants tianlu reads; others are skipped).
#[derive(Clone, PartialEq, Message)]
pub struct ServerReflectionResponse {
    /// Echo of the host.
    #[prost(string, tag = "1")]
    pub valid_host: String,
    /// Echo of the request.
    #[prost(message, optional, tag = "2")]
    pub original_request: Option<ServerReflectionRequest>,
    /// The answer.
    #[prost(oneof = "ReflectionResponseKind", tags = "4, 6, 7")]
    pub message_response: Option<ReflectionResponseKind>,
}

/// The answer of a [`ServerReflectionResponse`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ReflectionResponseKind {
    /// Serialized `FileDescriptorProto`s.
    #[prost(message, tag = "4")]
    Files(FileDescriptorResponse),
    /// Service names.
    #[prost(message, tag = "6")]
    Services(ListServiceResponse),
    /// The server could not answer.
    #[prost(message, tag = "7")]
    Error(ErrorResponse),
}

/// `FileDescriptorResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct FileDescriptorResponse {
    /// Each a serialized `FileDescriptorProto`.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub file_descriptor_proto: Vec<Vec<u8>>,
}

/// `ListServiceResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ListServiceResponse {
    /// The services.
    #[prost(message, repeated, tag = "1")]
    pub service: Vec<ServiceResponse>,
}

/// `ServiceResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ServiceResponse {
    /// Fully-qualified service name.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `ErrorResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ErrorResponse {
    /// A gRPC status code.
    #[prost(int32, tag = "1")]
    pub error_code: i32,
    /// Why.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// Why reflection failed.
#[derive(Debug, thiserror::Error)]
pub enum ReflectionError {
    /// The reflection stream failed (unreachable provider, no reflection service, deadline).
    #[error("reflection call failed: {0}")]
    Call(#[from] CallError),
    /// The server answered a question with an error (e.g. an unknown symbol).
    #[error("reflection server error {code} for {request}: {message}")]
    Server {
        /// The gRPC status code it gave.
        code: i32,
        /// The question (`symbol org.example.Svc`, `file a.proto`).
        request: String,
        /// Its message.
        message: String,
    },
    /// The server's answers do not follow the reflection protocol.
    #[error("reflection protocol: {0}")]
    Protocol(String),
    /// The files received do not form a valid descriptor pool.
    #[error("reflected descriptors do not link: {0}")]
    Descriptors(String),
}

/// The service names the server lists.
pub async fn list_services(
    endpoint: &TripleEndpoint,
    timeout: Duration,
) -> Result<Vec<String>, ReflectionError> {
    let work = async {
        let mut session = Session::open(endpoint, timeout).await?;
        let answer = session
            .ask(ReflectionRequestKind::ListServices(String::new()))
            .await?;
        session.close().await;
        match answer {
            ReflectionResponseKind::Services(list) => {
                Ok(list.service.into_iter().map(|s| s.name).collect())
            }
            other => Err(unexpected_answer(&other, "a service list")),
        }
    };
    within(timeout, work).await
}

/// A descriptor pool holding the files that define `symbols` (fully-qualified service or
/// message names) and everything they import, fetched over one reflection stream. The
/// well-known types are always in the pool, so servers that do not serve
/// `google/protobuf/*.proto` still work.
pub async fn fetch_descriptor_pool(
    endpoint: &TripleEndpoint,
    symbols: &[&str],
    timeout: Duration,
) -> Result<DescriptorPool, ReflectionError> {
    let work = async {
        let mut session = Session::open(endpoint, timeout).await?;
        let mut files: BTreeMap<String, FileDescriptorProto> = BTreeMap::new();
        let mut wanted: VecDeque<String> = VecDeque::new();
        let base = DescriptorPool::global();
        for symbol in symbols {
            let answer = session
                .ask(ReflectionRequestKind::FileContainingSymbol(
                    symbol.to_string(),
                ))
                .await?;
            ingest(answer, &format!("symbol {symbol}"), &mut files, &mut wanted)?;
        }
        while let Some(name) = wanted.pop_front() {
            // Well-known types come from the base pool: some servers do not serve them (and
            // tonic ends the whole stream when asked for a file it lacks).
            if files.contains_key(&name) || base.get_file_by_name(&name).is_some() {
                continue;
            }
            if files.len() >= MAX_FILES {
                return Err(ReflectionError::Protocol(format!(
                    "more than {MAX_FILES} files"
                )));
            }
            let answer = session
                .ask(ReflectionRequestKind::FileByFilename(name.clone()))
                .await?;
            ingest(answer, &format!("file {name}"), &mut files, &mut wanted)?;
        }
        session.close().await;
        let mut pool = base;
        pool.add_file_descriptor_protos(files.into_values())
            .map_err(|e| ReflectionError::Descriptors(e.to_string()))?;
        Ok(pool)
    };
    within(timeout, work).await
}

async fn within<T>(
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, ReflectionError>>,
) -> Result<T, ReflectionError> {
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(ReflectionError::Call(CallError::Timeout { after: timeout })),
    }
}

/// Adds the files of a `FileDescriptorResponse` and queues their imports.
fn ingest(
    answer: ReflectionResponseKind,
    request: &str,
    files: &mut BTreeMap<String, FileDescriptorProto>,
    wanted: &mut VecDeque<String>,
) -> Result<(), ReflectionError> {
    let ReflectionResponseKind::Files(found) = answer else {
        return Err(unexpected_answer(&answer, "file descriptors"));
    };
    if found.file_descriptor_proto.is_empty() {
        return Err(ReflectionError::Protocol(format!(
            "no file descriptors for {request}"
        )));
    }
    for bytes in found.file_descriptor_proto {
        let file = FileDescriptorProto::decode(bytes.as_slice()).map_err(|e| {
            ReflectionError::Protocol(format!("bad FileDescriptorProto for {request}: {e}"))
        })?;
        let name = file.name().to_string();
        let imports: BTreeSet<String> = file.dependency.iter().cloned().collect();
        files.entry(name).or_insert(file);
        wanted.extend(imports.into_iter().filter(|d| !files.contains_key(d)));
    }
    Ok(())
}

fn unexpected_answer(answer: &ReflectionResponseKind, wanted: &str) -> ReflectionError {
    let got = match answer {
        ReflectionResponseKind::Files(_) => "file descriptors",
        ReflectionResponseKind::Services(_) => "a service list",
        ReflectionResponseKind::Error(_) => "an error",
    };
    ReflectionError::Protocol(format!("expected {wanted}, got {got}"))
}

/// One reflection stream.
struct Session {
    stream: GrpcStream,
    deadline: Duration,
}

impl Session {
    /// Opens the v1 stream, or v1alpha when the server does not implement v1.
    async fn open(
        endpoint: &TripleEndpoint,
        deadline: Duration,
    ) -> Result<Session, ReflectionError> {
        let meta = CallMeta::default();
        let mut stream = endpoint.open_stream(REFLECTION_V1, METHOD, &meta).await?;
        // Ask something harmless to learn whether v1 exists: the first real question is sent
        // by the caller, so probe with a service listing and discard it.
        let probe = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(ReflectionRequestKind::ListServices(String::new())),
        };
        stream.send(&probe.encode_to_vec(), false)?;
        match stream.message(deadline).await {
            Ok(Some(_)) => Ok(Session { stream, deadline }),
            Err(CallError::Status {
                status: Status::ServiceNotFound,
                ..
            })
            | Ok(None) => {
                let stream = endpoint
                    .open_stream(REFLECTION_V1ALPHA, METHOD, &meta)
                    .await?;
                Ok(Session { stream, deadline })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends one question and reads its answer; an `ErrorResponse` becomes
    /// [`ReflectionError::Server`].
    async fn ask(
        &mut self,
        question: ReflectionRequestKind,
    ) -> Result<ReflectionResponseKind, ReflectionError> {
        let described = match &question {
            ReflectionRequestKind::FileByFilename(f) => format!("file {f}"),
            ReflectionRequestKind::FileContainingSymbol(s) => format!("symbol {s}"),
            ReflectionRequestKind::ListServices(_) => "the service list".to_string(),
        };
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(question),
        };
        self.stream.send(&request.encode_to_vec(), false)?;
        let Some(bytes) = self.stream.message(self.deadline).await? else {
            return Err(ReflectionError::Protocol(format!(
                "the server ended the stream instead of answering {described}"
            )));
        };
        let response = ServerReflectionResponse::decode(bytes)
            .map_err(|e| ReflectionError::Protocol(format!("bad ServerReflectionResponse: {e}")))?;
        match response.message_response {
            Some(ReflectionResponseKind::Error(err)) => Err(ReflectionError::Server {
                code: err.error_code,
                request: described,
                message: err.error_message,
            }),
            Some(answer) => Ok(answer),
            None => Err(ReflectionError::Protocol(format!(
                "empty answer to {described}"
            ))),
        }
    }

    /// Half-closes the stream and reads it to its end (errors there no longer matter).
    async fn close(mut self) {
        if self.stream.finish().is_ok() {
            while let Ok(Some(_)) = self.stream.message(self.deadline).await {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_are_hand_computed() {
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(ReflectionRequestKind::FileContainingSymbol("a.B".into())),
        };
        assert_eq!(req.encode_to_vec(), [0x22, 0x03, b'a', b'.', b'B']);
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(ReflectionRequestKind::ListServices(String::new())),
        };
        assert_eq!(req.encode_to_vec(), [0x3a, 0x00]);
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(ReflectionRequestKind::FileByFilename("x".into())),
        };
        assert_eq!(req.encode_to_vec(), [0x1a, 0x01, b'x']);
    }

    #[test]
    fn responses_decode_and_skip_unknown_variants() {
        // list_services_response { service { name: "a.S" } }
        let bytes = [0x32, 0x07, 0x0a, 0x05, 0x0a, 0x03, b'a', b'.', b'S'];
        let resp = ServerReflectionResponse::decode(&bytes[..]).unwrap();
        assert_eq!(
            resp.message_response,
            Some(ReflectionResponseKind::Services(ListServiceResponse {
                service: vec![ServiceResponse { name: "a.S".into() }]
            }))
        );
        // error_response { error_code: 5, error_message: "no" }
        let bytes = [0x3a, 0x06, 0x08, 0x05, 0x12, 0x02, b'n', b'o'];
        let resp = ServerReflectionResponse::decode(&bytes[..]).unwrap();
        assert_eq!(
            resp.message_response,
            Some(ReflectionResponseKind::Error(ErrorResponse {
                error_code: 5,
                error_message: "no".into()
            }))
        );
        // all_extension_numbers_response (5) is not modelled: skipped, no answer.
        let bytes = [0x2a, 0x00];
        let resp = ServerReflectionResponse::decode(&bytes[..]).unwrap();
        assert_eq!(resp.message_response, None);
    }

    #[test]
    fn ingest_queues_missing_imports() {
        let file = FileDescriptorProto {
            name: Some("a.proto".into()),
            dependency: vec!["b.proto".into(), "google/protobuf/timestamp.proto".into()],
            ..Default::default()
        };
        let mut files = BTreeMap::new();
        let mut wanted = VecDeque::new();
        ingest(
            ReflectionResponseKind::Files(FileDescriptorResponse {
                file_descriptor_proto: vec![file.encode_to_vec()],
            }),
            "symbol a.S",
            &mut files,
            &mut wanted,
        )
        .unwrap();
        assert!(files.contains_key("a.proto"));
        assert_eq!(wanted, ["b.proto", "google/protobuf/timestamp.proto"]);
        let err = ingest(
            ReflectionResponseKind::Services(ListServiceResponse::default()),
            "x",
            &mut files,
            &mut wanted,
        )
        .unwrap_err();
        assert!(matches!(err, ReflectionError::Protocol(_)));
    }
}

//! Calls to protobuf IDL services (Dubbo IDL services over Triple, or any gRPC server) with JSON
//! in and out: [`IdlCall`] resolves a unary method in a [`DescriptorPool`] (from a protoset via
//! [`load_protoset`], or from server reflection via
//! [`fetch_descriptor_pool`](super::reflection::fetch_descriptor_pool)), maps the request JSON
//! to a dynamic message with the protobuf JSON mapping (well-known types included: `Timestamp`
//! as RFC 3339, `Duration` as `"1.5s"`, `Struct`/`Value` as plain JSON, wrappers as their
//! value, 64-bit integers as strings or numbers), and maps the reply back.

use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MessageDescriptor, MethodDescriptor,
    SerializeOptions,
};
use serde_json::Value as Json;

use crate::dubbo::{CallError, Status};

use super::client::{CallMeta, RawCall, TripleEndpoint};

/// Why an IDL call could not be prepared, or its reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdlError {
    /// The descriptor set bytes are not a valid `FileDescriptorSet`, or its files do not link.
    #[error("invalid descriptor set: {0}")]
    Descriptors(String),
    /// No service with that name in the pool.
    #[error("unknown service {0:?}")]
    UnknownService(String),
    /// The service has no method with that name.
    #[error("service {service} has no method {method:?}")]
    UnknownMethod {
        /// The service's full name.
        service: String,
        /// The method asked for.
        method: String,
    },
    /// A client-, server- or bidi-streaming method: only unary calls are supported.
    #[error("method {0} is streaming; only unary methods can be called")]
    Streaming(String),
    /// The request JSON does not fit the input message.
    #[error("invalid request for {message} at {field:?}: {reason}")]
    InvalidJson {
        /// The input message type.
        message: String,
        /// The JSON path of the offending value (`items[0].price.units`; empty for the root).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The reply is not a valid encoding of the output message, or cannot be written as JSON.
    #[error("undecodable reply of type {message}: {reason}")]
    BadReply {
        /// The output message type.
        message: String,
        /// What went wrong.
        reason: String,
    },
}

/// How JSON maps to and from protobuf. `Default` is the canonical proto3 JSON mapping: lowerCamel
/// names, enum names, 64-bit integers as strings, default values omitted, unknown fields
/// rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JsonOptions {
    /// Write fields that hold their default value (`0`, `""`, `[]`, …).
    pub emit_defaults: bool,
    /// Write the `.proto` field names (`created_at`) instead of lowerCamel (`createdAt`).
    pub proto_field_names: bool,
    /// Write enums as numbers instead of names.
    pub enums_as_numbers: bool,
    /// Write 64-bit integers as JSON numbers (may lose precision above 2^53 in JavaScript).
    pub int64_as_numbers: bool,
    /// Ignore request fields the message does not have instead of rejecting them.
    pub ignore_unknown_fields: bool,
}

impl JsonOptions {
    fn serialize(&self) -> SerializeOptions {
        SerializeOptions::new()
            .skip_default_fields(!self.emit_defaults)
            .use_proto_field_name(self.proto_field_names)
            .use_enum_numbers(self.enums_as_numbers)
            .stringify_64_bit_integers(!self.int64_as_numbers)
    }

    fn deserialize(&self) -> DeserializeOptions {
        DeserializeOptions::new().deny_unknown_fields(!self.ignore_unknown_fields)
    }
}

/// Decodes a protoset (`FileDescriptorSet` bytes, as `protoc --descriptor_set_out` writes them,
/// with or without `--include_imports`). The well-known types are always available, so a set
/// written without its `google/protobuf/*` imports still links.
pub fn load_protoset(bytes: &[u8]) -> Result<DescriptorPool, IdlError> {
    let mut pool = DescriptorPool::global();
    pool.decode_file_descriptor_set(bytes)
        .map_err(|e| IdlError::Descriptors(e.to_string()))?;
    Ok(pool)
}

/// Decodes several protosets into one pool. A file (by name) already in the pool is kept: the
/// first set that has it wins.
pub fn load_protosets<B: AsRef<[u8]>>(sets: &[B]) -> Result<DescriptorPool, IdlError> {
    let mut pool = DescriptorPool::global();
    for set in sets {
        pool.decode_file_descriptor_set(set.as_ref())
            .map_err(|e| IdlError::Descriptors(e.to_string()))?;
    }
    Ok(pool)
}

/// One unary method of a protobuf service, ready to turn JSON into requests and replies into
/// JSON.
#[derive(Debug, Clone)]
pub struct IdlCall {
    method: MethodDescriptor,
    json: JsonOptions,
}

impl IdlCall {
    /// Resolves `service` (full name `package.Service`; a bare `Service` works when exactly one
    /// service of the pool has that name) and `method` (exact name, or with the first letter's
    /// case swapped: `getItem` finds `GetItem`).
    pub fn new(pool: &DescriptorPool, service: &str, method: &str) -> Result<Self, IdlError> {
        let svc = match pool.get_service_by_name(service) {
            Some(svc) => svc,
            None => {
                let mut matches = pool.services().filter(|s| s.name() == service);
                match (matches.next(), matches.next()) {
                    (Some(svc), None) => svc,
                    _ => return Err(IdlError::UnknownService(service.to_string())),
                }
            }
        };
        let found = svc
            .methods()
            .find(|m| m.name() == method)
            .or_else(|| {
                svc.methods()
                    .find(|m| same_but_first_case(m.name(), method))
            })
            .ok_or_else(|| IdlError::UnknownMethod {
                service: svc.full_name().to_string(),
                method: method.to_string(),
            })?;
        if found.is_client_streaming() || found.is_server_streaming() {
            return Err(IdlError::Streaming(found.full_name().to_string()));
        }
        Ok(IdlCall {
            method: found,
            json: JsonOptions::default(),
        })
    }

    /// The same call with other JSON options.
    pub fn with_json_options(mut self, json: JsonOptions) -> Self {
        self.json = json;
        self
    }

    /// The JSON options in force.
    pub fn json_options(&self) -> JsonOptions {
        self.json
    }

    /// The service's full name (`package.Service`): the Triple/gRPC service path.
    pub fn service_name(&self) -> &str {
        self.method.parent_service().full_name()
    }

    /// The method's name as declared (`GetItem`).
    pub fn method_name(&self) -> &str {
        self.method.name()
    }

    /// The HTTP/2 path `/package.Service/Method`.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.service_name(), self.method_name())
    }

    /// The request message type.
    pub fn input(&self) -> MessageDescriptor {
        self.method.input()
    }

    /// The reply message type.
    pub fn output(&self) -> MessageDescriptor {
        self.method.output()
    }

    /// Sets top-level fields of the request JSON from text values, such as path parameters:
    /// each `(name, value)` whose name is a singular field of the input message (`.proto` name
    /// or JSON name) replaces that field in `request` (a `null` request becomes an object).
    /// Values stay strings, which the protobuf JSON mapping accepts for numbers, 64-bit integers,
    /// enums, bytes and the string-shaped well-known types; `true` / `false` become booleans for
    /// bool fields. Returns, per bound value, its name and the field's JSON name. A request that
    /// is not an object is left alone.
    pub fn bind_fields<'a>(
        &self,
        request: &mut Json,
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<(String, String)> {
        let input = self.input();
        if request.is_null() {
            *request = Json::Object(serde_json::Map::new());
        }
        let Json::Object(map) = request else {
            return Vec::new();
        };
        let mut bound = Vec::new();
        for (name, value) in values {
            let Some(field) = input
                .get_field_by_name(name)
                .or_else(|| input.get_field_by_json_name(name))
            else {
                continue;
            };
            if field.is_list() || field.is_map() {
                continue;
            }
            let json = match (field.kind(), value) {
                (prost_reflect::Kind::Bool, "true") => Json::Bool(true),
                (prost_reflect::Kind::Bool, "false") => Json::Bool(false),
                _ => Json::String(value.to_string()),
            };
            map.remove(field.name());
            map.insert(field.json_name().to_string(), json);
            bound.push((name.to_string(), field.json_name().to_string()));
        }
        bound
    }

    /// The protobuf encoding of the request given as JSON. `null` means an empty message.
    pub fn encode_request(&self, request: &Json) -> Result<Vec<u8>, IdlError> {
        let input = self.input();
        if request.is_null() {
            return Ok(Vec::new());
        }
        let mut track = serde_path_to_error::Track::new();
        let de = serde_path_to_error::Deserializer::new(request, &mut track);
        match DynamicMessage::deserialize_with_options(input.clone(), de, &self.json.deserialize())
        {
            Ok(msg) => Ok(msg.encode_to_vec()),
            Err(e) => {
                let path = track.path().to_string();
                Err(IdlError::InvalidJson {
                    message: input.full_name().to_string(),
                    field: if path == "." { String::new() } else { path },
                    reason: e.to_string(),
                })
            }
        }
    }

    /// The reply (protobuf bytes) as JSON.
    pub fn decode_reply(&self, reply: &[u8]) -> Result<Json, IdlError> {
        let output = self.output();
        let bad = |reason: String| IdlError::BadReply {
            message: output.full_name().to_string(),
            reason,
        };
        let msg = DynamicMessage::decode(output.clone(), reply).map_err(|e| bad(e.to_string()))?;
        msg.serialize_with_options(serde_json::value::Serializer, &self.json.serialize())
            .map_err(|e| bad(e.to_string()))
    }
}

/// `a` and `b` differ at most in the case of their first character.
fn same_but_first_case(a: &str, b: &str) -> bool {
    let mut ca = a.chars();
    let mut cb = b.chars();
    match (ca.next(), cb.next()) {
        (Some(x), Some(y)) => x.to_lowercase().eq(y.to_lowercase()) && ca.as_str() == cb.as_str(),
        _ => false,
    }
}

/// Why [`TripleEndpoint::call_idl`] failed.
#[derive(Debug, thiserror::Error)]
pub enum IdlCallError {
    /// The request JSON does not fit the input message. Nothing was sent.
    #[error(transparent)]
    Request(IdlError),
    /// The call failed (transport, deadline, or a non-OK gRPC status).
    #[error(transparent)]
    Call(#[from] CallError),
    /// The provider answered OK but the reply could not be read.
    #[error(transparent)]
    Reply(IdlError),
}

impl IdlCallError {
    /// False only when the request certainly never left this process (see
    /// [`CallError::reached_provider`]).
    pub fn reached_provider(&self) -> bool {
        match self {
            IdlCallError::Request(_) => false,
            IdlCallError::Call(e) => e.reached_provider(),
            IdlCallError::Reply(_) => true,
        }
    }
}

/// What an IDL call returned.
#[derive(Debug, Clone, PartialEq)]
pub struct IdlReply {
    /// The reply message as JSON.
    pub json: Json,
    /// Response headers and trailers other than transport ones.
    pub attachments: Vec<(String, String)>,
}

impl TripleEndpoint {
    /// Calls the unary IDL method `call` with the JSON `request`
    /// (`content-type: application/grpc+proto`, plain protobuf, no wrapper), and returns the
    /// reply as JSON. `timeout` bounds the whole call.
    pub async fn call_idl(
        &self,
        call: &IdlCall,
        request: &Json,
        meta: &CallMeta,
        timeout: std::time::Duration,
    ) -> Result<IdlReply, IdlCallError> {
        let message = call
            .encode_request(request)
            .map_err(IdlCallError::Request)?;
        let raw = RawCall {
            service: call.service_name().to_string(),
            method: call.method_name().to_string(),
            meta: meta.clone(),
            message: message.into(),
        };
        let reply = self.call_raw(&raw, timeout).await?;
        if let Some(code) = reply.exception_code {
            // Only wrapper (non-IDL) methods send serialized Throwables.
            return Err(IdlCallError::Call(CallError::Status {
                status: Status::ServiceError,
                message: format!("the provider flagged an exception body (tri-exception-code {code}) on a protobuf method"),
            }));
        }
        let json = call
            .decode_reply(reply.message.as_deref().unwrap_or_default())
            .map_err(IdlCallError::Reply)?;
        Ok(IdlReply {
            json,
            attachments: reply.attachments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::{
        field_descriptor_proto::{Label, Type},
        DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet,
        MethodDescriptorProto, ServiceDescriptorProto,
    };
    use serde_json::json;

    fn field(name: &str, number: i32, ty: Type, type_name: Option<&str>) -> FieldDescriptorProto {
        FieldDescriptorProto {
            name: Some(name.into()),
            number: Some(number),
            label: Some(Label::Optional as i32),
            r#type: Some(ty as i32),
            type_name: type_name.map(String::from),
            json_name: None,
            ..Default::default()
        }
    }

    /// package t; message Req { string user_name = 1; int64 id = 2;
    /// google.protobuf.Timestamp at = 3; } service S { rpc GetThing(Req) returns (Req);
    /// rpc Stream(stream Req) returns (Req); }
    fn pool() -> DescriptorPool {
        let file = FileDescriptorProto {
            name: Some("t.proto".into()),
            package: Some("t".into()),
            dependency: vec!["google/protobuf/timestamp.proto".into()],
            syntax: Some("proto3".into()),
            message_type: vec![DescriptorProto {
                name: Some("Req".into()),
                field: vec![
                    field("user_name", 1, Type::String, None),
                    field("id", 2, Type::Int64, None),
                    field("at", 3, Type::Message, Some(".google.protobuf.Timestamp")),
                ],
                ..Default::default()
            }],
            service: vec![ServiceDescriptorProto {
                name: Some("S".into()),
                method: vec![
                    MethodDescriptorProto {
                        name: Some("GetThing".into()),
                        input_type: Some(".t.Req".into()),
                        output_type: Some(".t.Req".into()),
                        ..Default::default()
                    },
                    MethodDescriptorProto {
                        name: Some("Stream".into()),
                        input_type: Some(".t.Req".into()),
                        output_type: Some(".t.Req".into()),
                        client_streaming: Some(true),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let set = FileDescriptorSet { file: vec![file] };
        load_protoset(&set.encode_to_vec()).unwrap()
    }

    #[test]
    fn resolves_services_and_methods() {
        let pool = pool();
        let call = IdlCall::new(&pool, "t.S", "GetThing").unwrap();
        assert_eq!(call.path(), "/t.S/GetThing");
        assert_eq!(
            IdlCall::new(&pool, "S", "getThing").unwrap().path(),
            "/t.S/GetThing"
        );
        assert_eq!(
            IdlCall::new(&pool, "t.Nope", "GetThing").unwrap_err(),
            IdlError::UnknownService("t.Nope".into())
        );
        assert!(matches!(
            IdlCall::new(&pool, "t.S", "Missing"),
            Err(IdlError::UnknownMethod { .. })
        ));
        assert_eq!(
            IdlCall::new(&pool, "t.S", "Stream").unwrap_err(),
            IdlError::Streaming("t.S.Stream".into())
        );
        assert!(matches!(
            load_protoset(b"\x0a\x03abc"),
            Err(IdlError::Descriptors(_))
        ));
    }

    #[test]
    fn json_round_trip_with_hand_computed_bytes() {
        let call = IdlCall::new(&pool(), "t.S", "GetThing").unwrap();
        let bytes = call
            .encode_request(&json!({"userName": "a", "id": "300", "at": "1970-01-01T00:00:01.5Z"}))
            .unwrap();
        // 0a 01 "a" | 10 ac 02 (300) | 1a 08 [08 01 10 80 ca b5 ee 01] (1 s, 500000000 ns)
        let mut expected = vec![0x0a, 0x01, b'a', 0x10, 0xac, 0x02, 0x1a, 0x08, 0x08, 0x01];
        expected.extend_from_slice(&[0x10, 0x80, 0xca, 0xb5, 0xee, 0x01]);
        assert_eq!(bytes, expected);
        let back = call.decode_reply(&bytes).unwrap();
        assert_eq!(
            back,
            json!({"userName": "a", "id": "300", "at": "1970-01-01T00:00:01.500Z"})
        );
        let call = call.with_json_options(JsonOptions {
            emit_defaults: true,
            proto_field_names: true,
            int64_as_numbers: true,
            ..JsonOptions::default()
        });
        assert_eq!(
            call.decode_reply(&[]).unwrap(),
            json!({"user_name": "", "id": 0})
        );
        assert_eq!(call.encode_request(&Json::Null).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn text_values_bind_to_fields() {
        let call = IdlCall::new(&pool(), "t.S", "GetThing").unwrap();
        let mut request = json!({"user_name": "body", "id": "1"});
        let bound = call.bind_fields(
            &mut request,
            [
                ("userName", "path"),
                ("id", "42"),
                ("nope", "x"),
                ("at", "1970-01-01T00:00:01Z"),
            ],
        );
        assert_eq!(
            bound,
            [
                ("userName".to_string(), "userName".to_string()),
                ("id".to_string(), "id".to_string()),
                ("at".to_string(), "at".to_string())
            ]
        );
        assert_eq!(
            request,
            json!({"id": "42", "userName": "path", "at": "1970-01-01T00:00:01Z"})
        );
        let bytes = call.encode_request(&request).unwrap();
        assert_eq!(
            call.decode_reply(&bytes).unwrap(),
            json!({"userName": "path", "id": "42", "at": "1970-01-01T00:00:01Z"})
        );
        let mut null = Json::Null;
        call.bind_fields(&mut null, [("id", "7")]);
        assert_eq!(null, json!({"id": "7"}));
        let mut list = json!([1]);
        assert!(call.bind_fields(&mut list, [("id", "7")]).is_empty());
    }

    #[test]
    fn bad_json_names_the_field() {
        let call = IdlCall::new(&pool(), "t.S", "GetThing").unwrap();
        match call.encode_request(&json!({"id": "x"})) {
            Err(IdlError::InvalidJson { field, message, .. }) => {
                assert_eq!(field, "id");
                assert_eq!(message, "t.Req");
            }
            other => panic!("{other:?}"),
        }
        match call.encode_request(&json!({"at": "yesterday"})) {
            Err(IdlError::InvalidJson { field, .. }) => assert_eq!(field, "at"),
            other => panic!("{other:?}"),
        }
        match call.encode_request(&json!({"nope": 1})) {
            Err(IdlError::InvalidJson { reason, .. }) => {
                assert!(reason.contains("nope"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let lenient = call.clone().with_json_options(JsonOptions {
            ignore_unknown_fields: true,
            ..JsonOptions::default()
        });
        assert!(lenient.encode_request(&json!({"nope": 1})).is_ok());
        assert!(matches!(
            call.encode_request(&json!([1])),
            Err(IdlError::InvalidJson { .. })
        ));
        assert!(matches!(
            call.decode_reply(&[0x0a, 0x05, b'a']),
            Err(IdlError::BadReply { .. })
        ));
    }
}

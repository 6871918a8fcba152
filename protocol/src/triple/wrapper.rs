//! The protobuf wrappers Triple puts around non-IDL (interface) calls
//! (`triple_wrapper.proto`, package `org.apache.dubbo.triple`), written by hand as prost
//! messages, and the hessian2 payloads inside them.
//!
//! Every argument is its own standalone hessian2 stream (a fresh [`Encoder`] per argument, so no
//! class definition or reference crosses arguments), as Java's `WrapRequestPack` writes them.

use prost::Message;

use crate::dubbo::ProtocolError;
use crate::hessian2::{Decoder, Encoder, Value};
use crate::invocation::{parse_descriptor, push_descriptor, Invocation};

/// The serialization name Java's Triple client writes for hessian2 (`TripleConstants.HESSIAN4`).
pub const HESSIAN4: &str = "hessian4";
/// The Dubbo SPI name of hessian2, which providers accept in wrappers as well.
pub const HESSIAN2: &str = "hessian2";

/// `TripleRequestWrapper { 1: serializeType, 2: repeated args, 3: repeated argTypes }`.
#[derive(Clone, PartialEq, Message)]
pub struct TripleRequestWrapper {
    /// The serialization of every argument (`hessian4` = hessian2).
    #[prost(string, tag = "1")]
    pub serialize_type: String,
    /// Each argument, serialized on its own.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub args: Vec<Vec<u8>>,
    /// `Class.getName()` of each declared parameter type (`int`, `[Ljava.lang.String;`).
    #[prost(string, repeated, tag = "3")]
    pub arg_types: Vec<String>,
}

/// `TripleResponseWrapper { 1: serializeType, 2: data, 3: type }`.
#[derive(Clone, PartialEq, Message)]
pub struct TripleResponseWrapper {
    /// The serialization of `data` (the one the request used).
    #[prost(string, tag = "1")]
    pub serialize_type: String,
    /// The serialized return value (or Throwable, when the response is flagged as an exception).
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
    /// `Class.getName()` of the declared return type.
    #[prost(string, tag = "3")]
    pub r#type: String,
}

/// `TripleExceptionWrapper { 1: language, 2: serialization, 3: className, 4: data }`.
#[derive(Clone, PartialEq, Message)]
pub struct TripleExceptionWrapper {
    /// The provider's language (`java`).
    #[prost(string, tag = "1")]
    pub language: String,
    /// The serialization of `data`.
    #[prost(string, tag = "2")]
    pub serialization: String,
    /// The exception class name.
    #[prost(string, tag = "3")]
    pub class_name: String,
    /// The serialized exception.
    #[prost(bytes = "vec", tag = "4")]
    pub data: Vec<u8>,
}

/// `Class.getName()` of a Java type name as [`Invocation::parameter_types`] holds it:
/// `int[]` → `[I`, `java.lang.String[]` → `[Ljava.lang.String;`; other names unchanged.
pub fn class_get_name(java_type: &str) -> String {
    let mut desc = String::new();
    push_descriptor(&mut desc, java_type);
    match parse_descriptor(&desc).as_deref() {
        Some([one]) => one.clone(),
        _ => java_type.trim().to_string(),
    }
}

/// The wrapper of `inv`: one standalone hessian2 stream per argument, the parameter types as
/// `Class.getName()`, serialization [`HESSIAN4`].
pub fn request_wrapper(inv: &Invocation) -> TripleRequestWrapper {
    let args = inv
        .args
        .iter()
        .map(|arg| {
            let mut enc = Encoder::new();
            enc.write_value(arg);
            enc.into_bytes()
        })
        .collect();
    TripleRequestWrapper {
        serialize_type: HESSIAN4.to_string(),
        args,
        arg_types: inv
            .parameter_types
            .iter()
            .map(|t| class_get_name(t))
            .collect(),
    }
}

/// The protobuf bytes of [`request_wrapper`] (not yet gRPC-framed).
pub fn encode_request(inv: &Invocation) -> Vec<u8> {
    request_wrapper(inv).encode_to_vec()
}

/// Decodes a `TripleResponseWrapper` and its hessian2 payload. An empty `data` reads as null.
pub fn decode_response(message: &[u8]) -> Result<Value, ProtocolError> {
    let wrapper =
        TripleResponseWrapper::decode(message).map_err(|_| ProtocolError::Unexpected {
            expected: "a TripleResponseWrapper message",
            found: "malformed protobuf",
        })?;
    if wrapper.serialize_type != HESSIAN4
        && wrapper.serialize_type != HESSIAN2
        && !wrapper.serialize_type.is_empty()
    {
        return Err(ProtocolError::Unexpected {
            expected: "hessian2 (hessian4) serialization",
            found: "another serialization",
        });
    }
    if wrapper.data.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Decoder::new(&wrapper.data).read_value()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_wrapper_bytes_are_hand_computed_protobuf() {
        let inv = Invocation {
            service: "S".into(),
            version: None,
            group: None,
            method: "m".into(),
            parameter_types: vec!["int".into(), "java.lang.String[]".into()],
            args: vec![Value::Int(1), Value::Null],
            attachments: vec![],
        };
        let bytes = encode_request(&inv);
        let mut expected = vec![0x0a, 0x08];
        expected.extend_from_slice(b"hessian4");
        // args: hessian2 int 1 = 0x91; null = 'N'
        expected.extend_from_slice(&[0x12, 0x01, 0x91, 0x12, 0x01, b'N']);
        expected.extend_from_slice(&[0x1a, 0x03]);
        expected.extend_from_slice(b"int");
        expected.extend_from_slice(&[0x1a, 0x13]);
        expected.extend_from_slice(b"[Ljava.lang.String;");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn each_argument_is_a_standalone_hessian_stream() {
        // The same string twice: one shared encoder could write a back-reference; fresh encoders
        // must repeat the full value.
        let text = Value::String("abc".into());
        let inv = Invocation::generic("S", "m", vec!["java.lang.String".into()], vec![text]);
        let wrapper = request_wrapper(&inv);
        assert_eq!(wrapper.args.len(), 3);
        assert_eq!(wrapper.args[0], vec![0x01, b'm']);
        assert_eq!(
            wrapper.arg_types,
            [
                "java.lang.String",
                "[Ljava.lang.String;",
                "[Ljava.lang.Object;"
            ]
        );
        for arg in &wrapper.args {
            let mut dec = Decoder::new(arg);
            dec.read_value().unwrap();
            assert_eq!(dec.remaining(), 0);
        }
    }

    #[test]
    fn response_wrapper_decodes_value_null_and_rejects_garbage() {
        // serializeType "hessian4", data 0x91 (int 1), type "int".
        let mut msg = vec![0x0a, 0x08];
        msg.extend_from_slice(b"hessian4");
        msg.extend_from_slice(&[0x12, 0x01, 0x91, 0x1a, 0x03]);
        msg.extend_from_slice(b"int");
        assert_eq!(decode_response(&msg).unwrap(), Value::Int(1));
        let decoded = TripleResponseWrapper::decode(&msg[..]).unwrap();
        assert_eq!(decoded.r#type, "int");

        let null = TripleResponseWrapper {
            serialize_type: HESSIAN2.into(),
            data: vec![b'N'],
            r#type: "java.lang.Object".into(),
        };
        assert_eq!(decode_response(&null.encode_to_vec()).unwrap(), Value::Null);
        assert_eq!(decode_response(&[]).unwrap(), Value::Null);

        let json = TripleResponseWrapper {
            serialize_type: "fastjson2".into(),
            data: vec![b'1'],
            r#type: "int".into(),
        };
        assert!(matches!(
            decode_response(&json.encode_to_vec()),
            Err(ProtocolError::Unexpected { .. })
        ));
        // A length running past the end is not protobuf.
        assert!(decode_response(&[0x12, 0x05, 0x91]).is_err());
    }

    #[test]
    fn exception_wrapper_tags() {
        let w = TripleExceptionWrapper {
            language: "java".into(),
            serialization: "hessian2".into(),
            class_name: "E".into(),
            data: vec![1],
        };
        let mut expected = vec![0x0a, 0x04];
        expected.extend_from_slice(b"java");
        expected.extend_from_slice(&[0x12, 0x08]);
        expected.extend_from_slice(b"hessian2");
        expected.extend_from_slice(&[0x1a, 0x01, b'E', 0x22, 0x01, 0x01]);
        assert_eq!(w.encode_to_vec(), expected);
    }

    #[test]
    fn class_names_follow_class_get_name() {
        assert_eq!(class_get_name("int"), "int");
        assert_eq!(class_get_name("int[]"), "[I");
        assert_eq!(
            class_get_name("java.lang.String[][]"),
            "[[Ljava.lang.String;"
        );
        assert_eq!(class_get_name("[Ljava.lang.Object;"), "[Ljava.lang.Object;");
        assert_eq!(class_get_name("org.example.User"), "org.example.User");
    }
}

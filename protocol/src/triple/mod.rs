//! Triple, Dubbo 3's gRPC-compatible protocol over HTTP/2 (h2c, prior knowledge).
//!
//! - [`frame`]: gRPC length-prefixed messages with a size limit (identity encoding only: a
//!   compressed message is an error).
//! - [`wrapper`]: `TripleRequestWrapper` / `TripleResponseWrapper` / `TripleExceptionWrapper`,
//!   the protobuf envelopes of non-IDL calls, with each hessian2 argument a standalone stream.
//! - [`TripleEndpoint`]: one provider address with a lazily (re)connected, multiplexed HTTP/2
//!   connection; [`TripleEndpoint::call`] takes the same [`Invocation`](crate::invocation::Invocation)
//!   and returns the same [`RpcResponse`](crate::dubbo::RpcResponse) /
//!   [`CallError`](crate::dubbo::CallError) as [`dubbo::Endpoint`](crate::dubbo::Endpoint), so a
//!   gateway can hold either.
//! - [`status`]: gRPC status codes and the table mapping them to `CallError`s.
//! - [`IdlCall`]: protobuf IDL methods with JSON in and out (prost-reflect, protobuf JSON
//!   mapping), over descriptors from a protoset ([`load_protoset`]) or from server reflection
//!   ([`fetch_descriptor_pool`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use tianlu_protocol::hessian2::Value;
//! use tianlu_protocol::invocation::Invocation;
//! use tianlu_protocol::triple::{CallMeta, IdlCall, TripleConfig, TripleEndpoint};
//!
//! let endpoint = TripleEndpoint::new("127.0.0.1:50051".parse()?, TripleConfig::default());
//! // A generic call through the wrapper, exactly as over Dubbo2.
//! let call = Invocation::generic(
//!     "org.example.Greeter",
//!     "sayHello",
//!     vec!["java.lang.String".into()],
//!     vec![Value::string("world")],
//! );
//! let response = endpoint.call(&call, Duration::from_secs(3)).await?;
//!
//! // An IDL call with JSON, descriptors from server reflection.
//! let pool = tianlu_protocol::triple::fetch_descriptor_pool(
//!     &endpoint,
//!     &["helloworld.Greeter"],
//!     Duration::from_secs(3),
//! )
//! .await?;
//! let idl = IdlCall::new(&pool, "helloworld.Greeter", "SayHello")?;
//! let reply = endpoint
//!     .call_idl(&idl, &serde_json::json!({"name": "world"}), &CallMeta::default(), Duration::from_secs(3))
//!     .await?;
//! println!("{:?} {}", response.outcome, reply.json);
//! # Ok(())
//! # }
//! ```

mod client;
pub mod frame;
mod idl;
mod reflection;
pub mod status;
pub mod wrapper;

pub use client::{
    encode_path_segment, grpc_timeout, CallMeta, RawCall, RawReply, TripleConfig, TripleEndpoint,
    CONTENT_TYPE, DEFAULT_MAX_STREAMS, TRI_EXCEPTION_CODE,
};
pub use frame::{FrameDecoder, FrameError, DEFAULT_MAX_MESSAGE};
pub use idl::{
    load_protoset, load_protosets, IdlCall, IdlCallError, IdlError, IdlReply, JsonOptions,
};
/// Descriptor types of the JSON mapping, re-exported so callers need no direct dependency.
pub use prost_reflect::{DescriptorPool, MessageDescriptor};
pub use reflection::{
    fetch_descriptor_pool, list_services, ReflectionError, REFLECTION_V1, REFLECTION_V1ALPHA,
};
pub use status::{status_error, GrpcCode};

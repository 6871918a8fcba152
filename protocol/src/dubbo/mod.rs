//! The Dubbo2 TCP transport ("dubbo" protocol, hessian2 serialization).
//!
//! - [`frame`]: the 16-byte header and [`FrameCodec`] (payload limit, over-limit bodies skipped).
//! - [`Status`]: the response status byte.
//! - request bodies ([`encode_request_body`], [`decode_request`]) and response bodies
//!   ([`decode_response_body`], [`encode_response`]) as Java writes them.
//! - [`Connection`]: one multiplexed consumer connection with deadlines and heartbeats;
//!   [`Endpoint`]: a provider address that (re)connects lazily with backoff.
//! - [`serve`]: a server for providers written in Rust, driven by a [`Handler`].
//! - [`CallError`]: why a call failed, and whether it may have reached the provider.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tianlu_protocol::dubbo::CallError> {
//! use std::time::Duration;
//! use tianlu_protocol::dubbo::{ClientConfig, Endpoint, RpcOutcome};
//! use tianlu_protocol::hessian2::Value;
//! use tianlu_protocol::invocation::Invocation;
//!
//! let endpoint = Endpoint::new("127.0.0.1:20880".parse().unwrap(), ClientConfig::default());
//! let call = Invocation::generic(
//!     "org.example.Greeter",
//!     "sayHello",
//!     vec!["java.lang.String".into()],
//!     vec![Value::string("world")],
//! );
//! let response = endpoint.call(&call, Duration::from_secs(3)).await?;
//! if let RpcOutcome::Value(v) = response.outcome {
//!     println!("{v:?}");
//! }
//! # Ok(())
//! # }
//! ```

mod body;
mod client;
mod endpoint;
mod error;
pub mod frame;
mod provider;
mod response;
mod server;
mod status;
pub(crate) mod writer;

pub use body::{decode_request, decode_request_body, encode_request_body, RequestBody};
pub use client::{ClientConfig, Connection};
pub use endpoint::Endpoint;
pub use error::{CallError, ProtocolError};
pub use frame::{Frame, FrameCodec, Header, Inbound};
pub use provider::{unpack_generic, FnHandler, Handler, HandlerFuture, ProviderError, ServerError};
pub use response::{
    decode_error_message, decode_response_body, encode_error_body, encode_error_response,
    encode_response, encode_response_body, read_response_value, supports_response_attachments,
    RpcOutcome, RpcResponse, RESPONSE_NULL_VALUE, RESPONSE_NULL_VALUE_WITH_ATTACHMENTS,
    RESPONSE_VALUE, RESPONSE_VALUE_WITH_ATTACHMENTS, RESPONSE_WITH_EXCEPTION,
    RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS,
};
pub use server::{serve, serve_with_shutdown, ServerConfig};
pub use status::Status;

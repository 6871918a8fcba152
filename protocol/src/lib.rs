//! tianlu's wire protocols.
//!
//! - [`hessian2`]: the Hessian 2.0 value model, encoder and decoder, byte-compatible with the
//!   `hessian-lite` fork that Apache Dubbo ships.
//! - [`generic`]: JSON ⇄ hessian2 with Java type hints, the bridge an HTTP/JSON gateway needs.
//! - [`invocation`]: what one Dubbo call is (service, method, types, arguments, attachments), and
//!   the generic `$invoke` form of it.
//! - [`dubbo`]: the Dubbo2 TCP protocol: 16-byte framing, request/response bodies, a multiplexed
//!   client with heartbeats and deadlines, and a server for providers written in Rust.
//! - [`triple`]: Dubbo 3's Triple (gRPC over HTTP/2): wrapper calls with the same invocation and
//!   response model as [`dubbo`], and protobuf IDL calls with JSON via descriptors.

pub mod dubbo;
pub mod generic;
pub mod hessian2;
pub mod invocation;
mod reconnect;
pub mod triple;

//! tianlu: an HTTP/JSON gateway for Apache Dubbo services.
//!
//! ```text
//!  HTTP request
//!    │  server/     listeners (HTTP/1.1, h2c, TLS), fixed envelope: request id, trace span,
//!    │              panic catch; one fallback handler over the current Runtime
//!    ▼
//!  filter/          listener filter chain, request phase in order (may answer locally)
//!    ▼
//!  runtime.rs       route lookup (api_config route table) → 404 / 405 / 406
//!    ▼
//!  call/            by requestType — invoke.rs: parameter mapping → Java-typed hessian
//!    │              arguments → Invocation; idl.rs: JSON → protobuf (grpc); forward/: the
//!    │              request itself (http, triple-json) over pooled HTTP/1.1 connections
//!    ▼
//!  upstream/        cluster snapshot (static, or fed by discovery/ from ZooKeeper/Nacos)
//!    │              → balancer → multiplexed Dubbo/Triple connection, failover, ejection
//!    ▼
//!  provider (Dubbo2 generic $invoke over hessian2)
//!    ▼
//!  call/invoke.rs   result → JSON shaping; Java exception → error.rs structured error
//!    ▼
//!  filter/          response phase in reverse order → HTTP response
//! ```

pub mod admin;
pub mod call;
pub mod cli;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod gateway;
pub mod metrics;
pub mod nacos;
pub mod otel;
pub mod reload;
pub mod runtime;
pub mod server;
pub mod telemetry;
pub mod upstream;

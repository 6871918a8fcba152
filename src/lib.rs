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
//!  invoke.rs        parameter mapping → Java-typed hessian arguments → Invocation
//!    │  (forward/   requestType http / triple-json: the request itself, streamed over
//!    │              pooled HTTP/1.1 keep-alive connections to the picked endpoint)
//!    ▼
//!  upstream/        cluster snapshot → balancer → multiplexed Dubbo connection, failover,
//!    │              outlier ejection, health checks
//!    ▼
//!  provider (Dubbo2 generic $invoke over hessian2)
//!    ▼
//!  invoke.rs        result → JSON shaping; Java exception → error.rs structured error
//!    ▼
//!  filter/          response phase in reverse order → HTTP response
//! ```

pub mod admin;
pub mod cli;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod forward;
pub mod gateway;
pub mod idl;
pub mod invoke;
pub mod metrics;
pub mod otel;
pub mod registration;
pub mod reload;
pub mod remote_config;
pub mod runtime;
pub mod server;
pub mod signature;
pub mod split;
pub mod telemetry;
pub mod upstream;

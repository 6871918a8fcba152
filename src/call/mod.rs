//! The terminal steps: what a matched route does with the request once the filters let it
//! through, by the route's `requestType`.
//!
//! - [`invoke`]: Dubbo generic `$invoke` (Dubbo2 or Triple): mapping, JSON → Java-typed hessian
//!   arguments, the cluster pick loop with deadline, failover and retry budget, result shaping;
//!   with [`split`] (canary / traffic split) and [`signature`] (arguments of routes generated
//!   from registry metadata).
//! - [`idl`]: protobuf IDL calls over Triple (`requestType: grpc`).
//! - [`forward`]: HTTP forwarding (`requestType: http`) and Triple JSON passthrough
//!   (`requestType: triple-json`).

pub mod forward;
pub mod idl;
pub mod invoke;
pub mod signature;
pub mod split;

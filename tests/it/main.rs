//! The gateway's integration tests, one binary to save link time: the real gateway on
//! 127.0.0.1:0 in front of real providers (the Rust sample provider, the Java Dubbo 3.3
//! provider from tests/interop), the CLI, and every sample configuration.

mod balancing;
mod cli;
mod discovery;
mod filters;
mod gateway_http;
mod gateway_idl;
mod gateway_java;
mod gateway_triple;
mod listener;
mod operations;
mod retry_budget;
mod samples;
mod shared_ratelimit;
mod split;
mod support;
mod tracing;

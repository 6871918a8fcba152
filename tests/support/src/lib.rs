//! Test support for tianlu: starts the real peers the interop and gateway tests talk to.
//!
//! - [`java`]: the Java Dubbo 3.3 provider from `tests/interop` ([`JavaProvider`]), built once
//!   per machine state and started per test or shared per test binary.
//! - [`ports`]: free TCP ports on 127.0.0.1.
//! - [`process`]: running a command with a timeout, and a child process killed on drop.
//! - [`zookeeper`]: a real ZooKeeper 3.8 (Debian) on a free port ([`ZooKeeper`]), stoppable and
//!   restartable for outage tests.
//! - [`redis`]: a real Redis (Debian's `redis-server`) on a free port ([`Redis`]).
//! - [`nacos`]: a real Nacos-compatible server (rnacos, installed into `.cache/rnacos` when
//!   missing) on free ports ([`Nacos`]), stoppable and restartable.
//!
//! A missing peer tool (java, mvn, ...) is an error that says how to install it, never a skip:
//! tests that need a peer fail loudly when it is absent.

pub mod java;
pub mod nacos;
pub mod ports;
pub mod process;
pub mod redis;
pub mod zookeeper;

pub use java::{GenericExceptionMode, JavaProvider, ProviderOptions};
pub use nacos::Nacos;
pub use ports::free_port;
pub use process::{run_with_timeout, CommandOutput};
pub use redis::Redis;
pub use zookeeper::ZooKeeper;

use std::path::PathBuf;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // tests/support -> tests -> workspace root
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

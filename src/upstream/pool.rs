//! The pool of Dubbo provider connections, keyed by address: one multiplexed, self-reconnecting
//! [`Endpoint`] per provider, shared by every cluster that lists it and kept across reloads.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use tianlu_protocol::dubbo::{ClientConfig, Endpoint};

/// Shared Dubbo connections.
pub struct ConnectionPool {
    config: ClientConfig,
    endpoints: Mutex<HashMap<SocketAddr, Endpoint>>,
}

impl ConnectionPool {
    /// A pool whose connections use `config`.
    pub fn new(config: ClientConfig) -> Self {
        ConnectionPool {
            config,
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    /// The endpoint for `addr`, created on first use. Called when snapshots are built, never
    /// per request.
    pub fn endpoint(&self, addr: SocketAddr) -> Endpoint {
        let mut map = self
            .endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(addr)
            .or_insert_with(|| Endpoint::new(addr, self.config.clone()))
            .clone()
    }

    /// Drops pooled endpoints that no cluster uses any more (`in_use` lists the live ones).
    pub fn retain(&self, in_use: &[SocketAddr]) {
        let mut map = self
            .endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|addr, _| in_use.contains(addr));
    }
}

//! The pool of provider connections, keyed by address and protocol: one multiplexed,
//! self-reconnecting [`Client`] per provider, shared by every cluster that lists it and kept
//! across reloads. Plain HTTP keep-alive pools (for `http` endpoints and for Triple JSON
//! passthrough to `tri` endpoints) are kept per address beside them.

use super::client::Client;
use crate::call::forward::HttpEndpoint;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use tianlu_api_config::Protocol;
use tianlu_protocol::dubbo::{ClientConfig, Endpoint};
use tianlu_protocol::triple::{TripleConfig, TripleEndpoint};

/// Shared provider connections.
pub struct ConnectionPool {
    config: ClientConfig,
    triple_max_streams: usize,
    clients: Mutex<HashMap<(SocketAddr, Protocol), Client>>,
    http: Mutex<HashMap<SocketAddr, HttpEndpoint>>,
}

impl ConnectionPool {
    /// A pool whose connections use `config` (Triple takes its timeouts, payload limit and
    /// backoff from it too).
    pub fn new(config: ClientConfig) -> Self {
        ConnectionPool {
            config,
            triple_max_streams: tianlu_protocol::triple::DEFAULT_MAX_STREAMS,
            clients: Mutex::new(HashMap::new()),
            http: Mutex::new(HashMap::new()),
        }
    }

    /// The same pool with at most `n` streams open at once on each Triple connection
    /// (`dubboProxyConfig.max_concurrent_streams`).
    pub fn with_triple_max_streams(mut self, n: usize) -> Self {
        self.triple_max_streams = n.max(1);
        self
    }

    /// The client for `addr` speaking `protocol`, created on first use. Called when snapshots
    /// are built, never per request.
    pub fn client(&self, addr: SocketAddr, protocol: Protocol) -> Client {
        let mut map = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry((addr, protocol))
            .or_insert_with(|| match protocol {
                Protocol::Dubbo => Client::Dubbo(Endpoint::new(addr, self.config.clone())),
                Protocol::Triple => Client::Triple(TripleEndpoint::new(
                    addr,
                    TripleConfig {
                        max_concurrent_streams: self.triple_max_streams,
                        ..TripleConfig::from(&self.config)
                    },
                )),
                Protocol::Http => Client::Http(self.http(addr)),
            })
            .clone()
    }

    /// Drops pooled clients that nothing but the pool holds (after discovery removed their
    /// provider and the last request through them finished). Closing them ends their
    /// connections.
    pub fn sweep(&self) {
        let mut map = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, c| {
            let keep = c.handles() > 1;
            if !keep {
                c.close();
            }
            keep
        });
    }

    /// The HTTP/1.1 keep-alive pool for `addr` (an `http` endpoint, or a `tri` endpoint's
    /// HTTP/JSON side), created on first use.
    pub fn http(&self, addr: SocketAddr) -> HttpEndpoint {
        let mut map = self
            .http
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(addr)
            .or_insert_with(|| HttpEndpoint::new(addr, self.config.connect_timeout))
            .clone()
    }

    /// Drops pooled clients that no cluster uses any more (`in_use` lists the live ones).
    pub fn retain(&self, in_use: &[(SocketAddr, Protocol)]) {
        let mut map = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|key, _| in_use.contains(key));
        drop(map);
        self.http
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|addr, _| {
                in_use
                    .iter()
                    .any(|(a, p)| a == addr && matches!(p, Protocol::Http | Protocol::Triple))
            });
    }
}

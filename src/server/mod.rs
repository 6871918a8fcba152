//! Listeners and the request entry point: binding (HTTP/1.1 and h2c on one port, HTTP/2-only,
//! or TLS with a static certificate), the fixed envelope (request id, span, panic catcher), one fallback handler over
//! the current [`Runtime`](crate::runtime::Runtime), and graceful draining on shutdown.

mod envelope;
mod handler;
mod listen;
mod tls;

pub use envelope::{app, App, ConnService};
pub use handler::handle;
pub use listen::{bind, BoundListener, ListenerSpec, Transport};

use crate::discovery::Discovery;
use crate::metrics::Metrics;
use crate::runtime::Runtime;
use crate::upstream::ConnectionPool;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// State shared by every request: the current runtime (swapped whole on reload) and the
/// provider connection pool (kept across reloads).
pub struct Shared {
    /// The runtime in force.
    pub runtime: ArcSwap<Runtime>,
    /// Provider connections.
    pub pool: Arc<ConnectionPool>,
    /// Metrics (kept across reloads).
    pub metrics: Arc<Metrics>,
    /// Registries and discovered clusters (kept across reloads).
    pub discovery: Arc<Discovery>,
}

impl Shared {
    /// Shared state around an initial runtime.
    pub fn new(
        runtime: Runtime,
        pool: Arc<ConnectionPool>,
        metrics: Arc<Metrics>,
        discovery: Arc<Discovery>,
    ) -> Arc<Self> {
        Arc::new(Shared {
            runtime: ArcSwap::from_pointee(runtime),
            pool,
            metrics,
            discovery,
        })
    }
}

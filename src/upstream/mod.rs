//! The provider side of the gateway: clusters of endpoints, their balancing policies, passive
//! outlier ejection, active TCP health checks, and the shared pool of multiplexed Dubbo
//! connections (one per provider address, reused across clusters and reloads), and retry budgets.

pub mod balance;
mod client;
mod cluster;
mod health;
mod outlier;
mod pool;
mod retry_budget;

pub use client::{Client, Reply};
pub use cluster::{Cluster, ClusterSettings, EndpointSpec, Snapshot, UpstreamEndpoint};
pub use health::HealthCheck;
pub use outlier::{Outlier, OutlierConfig};
pub use pool::ConnectionPool;
pub use retry_budget::RetryBudget;

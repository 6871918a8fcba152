//! [`RegistryError`]: why a registry operation (connect, read, register, config) failed.

use std::time::Duration;

use crate::metadata::MetadataError;
use crate::url::UrlError;

/// A registry operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The configuration cannot work (empty address, bad name, …).
    #[error("invalid registry configuration: {0}")]
    Config(String),
    /// ZooKeeper refused or failed an operation.
    #[error("ZooKeeper {op}: {reason}")]
    ZooKeeper {
        /// What was attempted (`connect`, `get /dubbo/…`).
        op: String,
        /// The client's error text.
        reason: String,
    },
    /// Nacos refused or failed an operation.
    #[error("Nacos {op}: {reason}")]
    Nacos {
        /// What was attempted.
        op: String,
        /// The client's error text.
        reason: String,
    },
    /// Not connected (yet, or any more).
    #[error("registry not connected: {0}")]
    NotConnected(String),
    /// No answer in time.
    #[error("{op} timed out after {after:?}")]
    Timeout {
        /// What was attempted.
        op: String,
        /// The deadline.
        after: Duration,
    },
    /// Metadata could not be had.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// A provider URL was malformed.
    #[error(transparent)]
    Url(#[from] UrlError),
}

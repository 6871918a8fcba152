//! Errors of the Dubbo2 transport: [`ProtocolError`] for malformed frames and bodies, and
//! [`CallError`] for everything that can end one client call, with
//! [`CallError::reached_provider`] telling whether a failover is safe.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::status::Status;
use crate::hessian2::DecodeError;

/// A frame or message body that does not follow the Dubbo2 protocol.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The first two bytes of a frame were not `0xdabb`.
    #[error("bad magic 0x{0:04x} (expected 0xdabb)")]
    BadMagic(u16),
    /// The header declared a negative body length.
    #[error("negative body length {0}")]
    NegativeLength(i32),
    /// A body larger than the configured payload limit.
    #[error("body of {size} bytes exceeds the payload limit of {limit} bytes")]
    BodyTooLarge {
        /// The body length.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The hessian2 content of a body could not be decoded.
    #[error("hessian2 body: {0}")]
    Hessian(#[from] DecodeError),
    /// The parameter-types descriptor of a request is malformed.
    #[error("malformed parameter descriptor {0:?}")]
    BadDescriptor(String),
    /// A response carried a result flag outside 0..=5.
    #[error("unknown response flag {0}")]
    BadResponseFlag(i32),
    /// A value of the wrong kind where the protocol expects a specific one.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the protocol requires here.
        expected: &'static str,
        /// The kind of value found.
        found: &'static str,
    },
    /// Reading or writing the socket failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
}

/// Why a call through a [`Connection`](super::Connection) or [`Endpoint`](super::Endpoint) failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No connection to the provider could be made (or the endpoint is backing off after failed
    /// attempts). Nothing was sent.
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The provider address.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// The connection could not take the call (already closed, or the provider announced that it
    /// is shutting down with a read-only event). Nothing was sent.
    #[error("connection to {addr} unavailable: {reason}")]
    Unavailable {
        /// The provider address.
        addr: SocketAddr,
        /// Why the connection refused the call.
        reason: &'static str,
    },
    /// The encoded request is larger than the payload limit. Nothing was sent.
    #[error("request of {size} bytes exceeds the payload limit of {limit} bytes")]
    PayloadTooLarge {
        /// The encoded body length.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// No response within the call's deadline. The request may have been processed.
    #[error("no response within {after:?}")]
    Timeout {
        /// The deadline that expired.
        after: Duration,
    },
    /// The connection was lost while the call was in flight. The request may have reached the
    /// provider.
    #[error("connection closed before the response arrived")]
    ConnectionClosed,
    /// The provider answered with a status other than 20 and this error text.
    #[error("provider status {status}: {message}")]
    Status {
        /// The response status.
        status: Status,
        /// The error text from the body.
        message: String,
    },
    /// The response was larger than the payload limit; its body was skipped.
    #[error("response of {size} bytes exceeds the payload limit of {limit} bytes")]
    ResponseTooLarge {
        /// The declared body length.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The response body could not be decoded.
    #[error("undecodable response: {0}")]
    Decode(#[source] ProtocolError),
}

impl CallError {
    /// False only when the request certainly never left this process (connect failures, an
    /// unavailable connection, an oversized request): such calls can be retried on another provider
    /// without risking a second execution.
    pub fn reached_provider(&self) -> bool {
        !matches!(
            self,
            CallError::Connect { .. }
                | CallError::Unavailable { .. }
                | CallError::PayloadTooLarge { .. }
        )
    }

    /// True for [`CallError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Timeout { .. })
    }
}

impl From<DecodeError> for CallError {
    fn from(e: DecodeError) -> Self {
        CallError::Decode(ProtocolError::Hessian(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unsent_errors_are_safe_to_fail_over() {
        let addr: SocketAddr = "127.0.0.1:20880".parse().unwrap();
        let not_sent = [
            CallError::Connect {
                addr,
                reason: "refused".into(),
            },
            CallError::Unavailable {
                addr,
                reason: "read-only",
            },
            CallError::PayloadTooLarge { size: 10, limit: 5 },
        ];
        for e in &not_sent {
            assert!(!e.reached_provider(), "{e}");
        }
        let maybe_sent = [
            CallError::Timeout {
                after: Duration::from_millis(5),
            },
            CallError::ConnectionClosed,
            CallError::Status {
                status: Status::ServiceError,
                message: "boom".into(),
            },
            CallError::ResponseTooLarge { size: 10, limit: 5 },
            CallError::Decode(ProtocolError::BadResponseFlag(9)),
        ];
        for e in &maybe_sent {
            assert!(e.reached_provider(), "{e}");
        }
        assert!(maybe_sent[0].is_timeout());
        assert!(!maybe_sent[1].is_timeout());
    }
}

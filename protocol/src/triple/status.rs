//! gRPC status codes and the table that turns a non-OK status into a [`CallError`], so that the
//! gateway's error handling (HTTP status, error code, failover) applies to Triple unchanged.
//!
//! | gRPC status | [`CallError`] |
//! | --- | --- |
//! | 4 `DEADLINE_EXCEEDED` | [`CallError::Timeout`] with the call's deadline |
//! | 5 `NOT_FOUND`, 12 `UNIMPLEMENTED` | [`CallError::Status`] 60 `SERVICE_NOT_FOUND` |
//! | 3 `INVALID_ARGUMENT` | [`CallError::Status`] 40 `BAD_REQUEST` |
//! | 8 `RESOURCE_EXHAUSTED` | [`CallError::Status`] 100 `SERVER_THREADPOOL_EXHAUSTED_ERROR` |
//! | 14 `UNAVAILABLE` | [`CallError::Status`] 35 `CHANNEL_INACTIVE` |
//! | 13 `INTERNAL`, 15 `DATA_LOSS` | [`CallError::Status`] 80 `SERVER_ERROR` |
//! | every other code | [`CallError::Status`] 70 `SERVICE_ERROR` |
//!
//! The message of a [`CallError::Status`] is `grpc-status <code> <NAME>: <grpc-message>`. A
//! status the provider sent always means the request reached it, so none of these errors is
//! retryable by [`CallError::reached_provider`]; only transport failures where nothing was sent
//! (connect errors, a stream the provider refused with `REFUSED_STREAM`) map to
//! [`CallError::Connect`] / [`CallError::Unavailable`] (see the client).

use std::fmt;
use std::time::Duration;

use crate::dubbo::{CallError, Status};

/// A gRPC status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrpcCode {
    /// 0
    Ok,
    /// 1
    Cancelled,
    /// 2
    Unknown,
    /// 3
    InvalidArgument,
    /// 4
    DeadlineExceeded,
    /// 5
    NotFound,
    /// 6
    AlreadyExists,
    /// 7
    PermissionDenied,
    /// 8
    ResourceExhausted,
    /// 9
    FailedPrecondition,
    /// 10
    Aborted,
    /// 11
    OutOfRange,
    /// 12
    Unimplemented,
    /// 13
    Internal,
    /// 14
    Unavailable,
    /// 15
    DataLoss,
    /// 16
    Unauthenticated,
    /// A code outside 0..=16, kept verbatim.
    Other(u32),
}

impl GrpcCode {
    /// The code for a wire number.
    pub const fn from_u32(code: u32) -> Self {
        match code {
            0 => GrpcCode::Ok,
            1 => GrpcCode::Cancelled,
            2 => GrpcCode::Unknown,
            3 => GrpcCode::InvalidArgument,
            4 => GrpcCode::DeadlineExceeded,
            5 => GrpcCode::NotFound,
            6 => GrpcCode::AlreadyExists,
            7 => GrpcCode::PermissionDenied,
            8 => GrpcCode::ResourceExhausted,
            9 => GrpcCode::FailedPrecondition,
            10 => GrpcCode::Aborted,
            11 => GrpcCode::OutOfRange,
            12 => GrpcCode::Unimplemented,
            13 => GrpcCode::Internal,
            14 => GrpcCode::Unavailable,
            15 => GrpcCode::DataLoss,
            16 => GrpcCode::Unauthenticated,
            other => GrpcCode::Other(other),
        }
    }

    /// The wire number.
    pub const fn code(self) -> u32 {
        match self {
            GrpcCode::Ok => 0,
            GrpcCode::Cancelled => 1,
            GrpcCode::Unknown => 2,
            GrpcCode::InvalidArgument => 3,
            GrpcCode::DeadlineExceeded => 4,
            GrpcCode::NotFound => 5,
            GrpcCode::AlreadyExists => 6,
            GrpcCode::PermissionDenied => 7,
            GrpcCode::ResourceExhausted => 8,
            GrpcCode::FailedPrecondition => 9,
            GrpcCode::Aborted => 10,
            GrpcCode::OutOfRange => 11,
            GrpcCode::Unimplemented => 12,
            GrpcCode::Internal => 13,
            GrpcCode::Unavailable => 14,
            GrpcCode::DataLoss => 15,
            GrpcCode::Unauthenticated => 16,
            GrpcCode::Other(code) => code,
        }
    }

    /// The canonical name (`DEADLINE_EXCEEDED`), `UNKNOWN_CODE` for codes outside 0..=16.
    pub const fn name(self) -> &'static str {
        match self {
            GrpcCode::Ok => "OK",
            GrpcCode::Cancelled => "CANCELLED",
            GrpcCode::Unknown => "UNKNOWN",
            GrpcCode::InvalidArgument => "INVALID_ARGUMENT",
            GrpcCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            GrpcCode::NotFound => "NOT_FOUND",
            GrpcCode::AlreadyExists => "ALREADY_EXISTS",
            GrpcCode::PermissionDenied => "PERMISSION_DENIED",
            GrpcCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            GrpcCode::FailedPrecondition => "FAILED_PRECONDITION",
            GrpcCode::Aborted => "ABORTED",
            GrpcCode::OutOfRange => "OUT_OF_RANGE",
            GrpcCode::Unimplemented => "UNIMPLEMENTED",
            GrpcCode::Internal => "INTERNAL",
            GrpcCode::Unavailable => "UNAVAILABLE",
            GrpcCode::DataLoss => "DATA_LOSS",
            GrpcCode::Unauthenticated => "UNAUTHENTICATED",
            GrpcCode::Other(_) => "UNKNOWN_CODE",
        }
    }

    /// Parses a `grpc-status` header value (decimal digits only).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse::<u32>().ok().map(GrpcCode::from_u32)
    }

    /// The code a gRPC client derives from a non-200 HTTP status when the response carries no
    /// `grpc-status` (the mapping of the gRPC HTTP/2 protocol spec).
    pub const fn from_http_status(status: u16) -> Self {
        match status {
            400 | 431 => GrpcCode::Internal,
            401 => GrpcCode::Unauthenticated,
            403 => GrpcCode::PermissionDenied,
            404 => GrpcCode::Unimplemented,
            429 | 502 | 503 | 504 => GrpcCode::Unavailable,
            100..=199 => GrpcCode::Internal,
            _ => GrpcCode::Unknown,
        }
    }

    /// The code for an HTTP/2 `RST_STREAM` error code (gRPC spec); `REFUSED_STREAM` is handled
    /// by the client as "not processed" before this table is consulted.
    pub fn from_h2_reason(reason: h2::Reason) -> Self {
        if reason == h2::Reason::CANCEL {
            GrpcCode::Cancelled
        } else if reason == h2::Reason::ENHANCE_YOUR_CALM {
            GrpcCode::ResourceExhausted
        } else if reason == h2::Reason::INADEQUATE_SECURITY {
            GrpcCode::PermissionDenied
        } else if reason == h2::Reason::REFUSED_STREAM {
            GrpcCode::Unavailable
        } else {
            GrpcCode::Internal
        }
    }
}

impl fmt::Display for GrpcCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

/// The Dubbo status a non-OK gRPC code is reported as (see the module table); `None` for `OK`
/// and `DEADLINE_EXCEEDED`, which are not [`CallError::Status`].
pub const fn dubbo_status_for(code: GrpcCode) -> Option<Status> {
    Some(match code {
        GrpcCode::Ok | GrpcCode::DeadlineExceeded => return None,
        GrpcCode::NotFound | GrpcCode::Unimplemented => Status::ServiceNotFound,
        GrpcCode::InvalidArgument => Status::BadRequest,
        GrpcCode::ResourceExhausted => Status::ServerThreadpoolExhausted,
        GrpcCode::Unavailable => Status::ChannelInactive,
        GrpcCode::Internal | GrpcCode::DataLoss => Status::ServerError,
        _ => Status::ServiceError,
    })
}

/// The [`CallError`] for a non-OK status the provider sent (the module table). `deadline` is
/// the call's timeout, reported by [`CallError::Timeout`]. `OK` is not an error; it is reported
/// as a protocol error here because a caller should never ask.
pub fn status_error(code: GrpcCode, message: &str, deadline: Duration) -> CallError {
    match dubbo_status_for(code) {
        None if code == GrpcCode::DeadlineExceeded => CallError::Timeout { after: deadline },
        None => CallError::Decode(crate::dubbo::ProtocolError::Unexpected {
            expected: "a non-OK grpc-status",
            found: "OK",
        }),
        Some(status) => CallError::Status {
            status,
            message: if message.is_empty() {
                format!("grpc-status {code}")
            } else {
                format!("grpc-status {code}: {message}")
            },
        },
    }
}

/// Decodes a `grpc-message` value: percent-encoded UTF-8 (`%XX`); invalid escapes are kept as
/// they are and invalid UTF-8 is replaced, never an error.
pub fn decode_grpc_message(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 2 < raw.len() {
            if let (Some(h), Some(l)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_with_names() {
        let names = [
            "OK",
            "CANCELLED",
            "UNKNOWN",
            "INVALID_ARGUMENT",
            "DEADLINE_EXCEEDED",
            "NOT_FOUND",
            "ALREADY_EXISTS",
            "PERMISSION_DENIED",
            "RESOURCE_EXHAUSTED",
            "FAILED_PRECONDITION",
            "ABORTED",
            "OUT_OF_RANGE",
            "UNIMPLEMENTED",
            "INTERNAL",
            "UNAVAILABLE",
            "DATA_LOSS",
            "UNAUTHENTICATED",
        ];
        for (n, name) in names.iter().enumerate() {
            let code = GrpcCode::from_u32(n as u32);
            assert_eq!(code.code(), n as u32);
            assert_eq!(code.name(), *name);
        }
        assert_eq!(GrpcCode::from_u32(99), GrpcCode::Other(99));
        assert_eq!(GrpcCode::Other(99).code(), 99);
        assert_eq!(GrpcCode::NotFound.to_string(), "5 NOT_FOUND");
        assert_eq!(GrpcCode::parse(" 14 "), Some(GrpcCode::Unavailable));
        assert_eq!(GrpcCode::parse("-1"), None);
        assert_eq!(GrpcCode::parse(""), None);
        assert_eq!(GrpcCode::parse("99999999999"), None);
    }

    #[test]
    fn the_error_table() {
        let deadline = Duration::from_millis(250);
        match status_error(GrpcCode::DeadlineExceeded, "late", deadline) {
            CallError::Timeout { after } => assert_eq!(after, deadline),
            other => panic!("{other:?}"),
        }
        let table = [
            (GrpcCode::NotFound, Status::ServiceNotFound),
            (GrpcCode::Unimplemented, Status::ServiceNotFound),
            (GrpcCode::InvalidArgument, Status::BadRequest),
            (
                GrpcCode::ResourceExhausted,
                Status::ServerThreadpoolExhausted,
            ),
            (GrpcCode::Unavailable, Status::ChannelInactive),
            (GrpcCode::Internal, Status::ServerError),
            (GrpcCode::DataLoss, Status::ServerError),
            (GrpcCode::Unknown, Status::ServiceError),
            (GrpcCode::Cancelled, Status::ServiceError),
            (GrpcCode::PermissionDenied, Status::ServiceError),
            (GrpcCode::Unauthenticated, Status::ServiceError),
            (GrpcCode::Other(42), Status::ServiceError),
        ];
        for (code, expected) in table {
            match status_error(code, "why", deadline) {
                CallError::Status { status, message } => {
                    assert_eq!(status, expected, "{code}");
                    assert_eq!(message, format!("grpc-status {code}: why"));
                }
                other => panic!("{code}: {other:?}"),
            }
            // A status from the provider means the request reached it.
            assert!(status_error(code, "", deadline).reached_provider());
        }
        match status_error(GrpcCode::Unknown, "", deadline) {
            CallError::Status { message, .. } => assert_eq!(message, "grpc-status 2 UNKNOWN"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status_error(GrpcCode::Ok, "", deadline),
            CallError::Decode(_)
        ));
    }

    #[test]
    fn http_statuses_map_like_the_grpc_spec() {
        assert_eq!(GrpcCode::from_http_status(400), GrpcCode::Internal);
        assert_eq!(GrpcCode::from_http_status(401), GrpcCode::Unauthenticated);
        assert_eq!(GrpcCode::from_http_status(403), GrpcCode::PermissionDenied);
        assert_eq!(GrpcCode::from_http_status(404), GrpcCode::Unimplemented);
        for s in [429, 502, 503, 504] {
            assert_eq!(GrpcCode::from_http_status(s), GrpcCode::Unavailable);
        }
        assert_eq!(GrpcCode::from_http_status(500), GrpcCode::Unknown);
        assert_eq!(
            GrpcCode::from_h2_reason(h2::Reason::CANCEL),
            GrpcCode::Cancelled
        );
        assert_eq!(
            GrpcCode::from_h2_reason(h2::Reason::INTERNAL_ERROR),
            GrpcCode::Internal
        );
    }

    #[test]
    fn grpc_messages_are_percent_decoded() {
        assert_eq!(decode_grpc_message(b"no%20item%203"), "no item 3");
        assert_eq!(decode_grpc_message("%E4%B8%AD".as_bytes()), "中");
        assert_eq!(decode_grpc_message(b"100%"), "100%");
        assert_eq!(decode_grpc_message(b"%zz%4"), "%zz%4");
        assert_eq!(decode_grpc_message(b"%FF"), "\u{fffd}");
        assert_eq!(decode_grpc_message(b""), "");
    }
}

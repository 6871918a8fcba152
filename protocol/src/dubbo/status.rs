//! The Dubbo2 response status byte (`org.apache.dubbo.remoting.exchange.Response`): the known
//! codes with their Java constant names, and unknown codes kept as they arrived.

use std::fmt;

/// The status byte of a Dubbo2 response header.
///
/// Only [`Status::Ok`] carries a result body (§2.3); every other status carries one hessian string
/// with the error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 20: the call completed (its result may still be an exception).
    Ok,
    /// 25: the provider could not serialize the response (e.g. over its payload limit).
    SerializationError,
    /// 30: client-side timeout (never sent by providers).
    ClientTimeout,
    /// 31: the provider timed out.
    ServerTimeout,
    /// 35: the channel closed with the call unfinished (client side).
    ChannelInactive,
    /// 40: the provider could not decode the request.
    BadRequest,
    /// 50: the provider failed while sending the response.
    BadResponse,
    /// 60: no such service.
    ServiceNotFound,
    /// 70: an exception escaped the provider's dispatch (unknown service/method, filter failure).
    ServiceError,
    /// 80: an internal provider failure.
    ServerError,
    /// 90: a client-side failure (e.g. a response over the payload limit).
    ClientError,
    /// 100: the provider's thread pool is exhausted.
    ServerThreadpoolExhausted,
    /// Any other code, kept verbatim.
    Unknown(u8),
}

impl Status {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            Status::Ok => 20,
            Status::SerializationError => 25,
            Status::ClientTimeout => 30,
            Status::ServerTimeout => 31,
            Status::ChannelInactive => 35,
            Status::BadRequest => 40,
            Status::BadResponse => 50,
            Status::ServiceNotFound => 60,
            Status::ServiceError => 70,
            Status::ServerError => 80,
            Status::ClientError => 90,
            Status::ServerThreadpoolExhausted => 100,
            Status::Unknown(code) => code,
        }
    }

    /// The status for a wire code; codes Dubbo does not define become [`Status::Unknown`].
    pub const fn from_code(code: u8) -> Self {
        match code {
            20 => Status::Ok,
            25 => Status::SerializationError,
            30 => Status::ClientTimeout,
            31 => Status::ServerTimeout,
            35 => Status::ChannelInactive,
            40 => Status::BadRequest,
            50 => Status::BadResponse,
            60 => Status::ServiceNotFound,
            70 => Status::ServiceError,
            80 => Status::ServerError,
            90 => Status::ClientError,
            100 => Status::ServerThreadpoolExhausted,
            other => Status::Unknown(other),
        }
    }

    /// The Java constant name (`OK`, `SERVICE_ERROR`, …), or `UNKNOWN` for undefined codes.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::SerializationError => "SERIALIZATION_ERROR",
            Status::ClientTimeout => "CLIENT_TIMEOUT",
            Status::ServerTimeout => "SERVER_TIMEOUT",
            Status::ChannelInactive => "CHANNEL_INACTIVE",
            Status::BadRequest => "BAD_REQUEST",
            Status::BadResponse => "BAD_RESPONSE",
            Status::ServiceNotFound => "SERVICE_NOT_FOUND",
            Status::ServiceError => "SERVICE_ERROR",
            Status::ServerError => "SERVER_ERROR",
            Status::ClientError => "CLIENT_ERROR",
            Status::ServerThreadpoolExhausted => "SERVER_THREADPOOL_EXHAUSTED_ERROR",
            Status::Unknown(_) => "UNKNOWN",
        }
    }

    /// True for [`Status::Ok`].
    pub const fn is_ok(self) -> bool {
        matches!(self, Status::Ok)
    }
}

impl From<u8> for Status {
    fn from(code: u8) -> Self {
        Status::from_code(code)
    }
}

impl From<Status> for u8 {
    fn from(status: Status) -> Self {
        status.code()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_round_trip_with_names() {
        let table = [
            (20, "OK"),
            (25, "SERIALIZATION_ERROR"),
            (30, "CLIENT_TIMEOUT"),
            (31, "SERVER_TIMEOUT"),
            (35, "CHANNEL_INACTIVE"),
            (40, "BAD_REQUEST"),
            (50, "BAD_RESPONSE"),
            (60, "SERVICE_NOT_FOUND"),
            (70, "SERVICE_ERROR"),
            (80, "SERVER_ERROR"),
            (90, "CLIENT_ERROR"),
            (100, "SERVER_THREADPOOL_EXHAUSTED_ERROR"),
        ];
        for (code, name) in table {
            let status = Status::from_code(code);
            assert!(!matches!(status, Status::Unknown(_)), "{code}");
            assert_eq!(status.code(), code);
            assert_eq!(status.name(), name);
        }
    }

    #[test]
    fn every_byte_survives() {
        for code in 0..=u8::MAX {
            assert_eq!(Status::from(code).code(), code);
        }
        assert_eq!(Status::from_code(21), Status::Unknown(21));
        assert_eq!(Status::from_code(21).name(), "UNKNOWN");
    }

    #[test]
    fn display_shows_code_and_name() {
        assert_eq!(Status::ServiceError.to_string(), "70 SERVICE_ERROR");
        assert!(Status::Ok.is_ok());
        assert!(!Status::BadRequest.is_ok());
    }
}

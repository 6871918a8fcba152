//! The Dubbo2 response body (§2.3): the result flag (0–5) followed by an exception, a value or
//! nothing, plus an attachments map for flags 3–5; the single error string of a non-20 status;
//! and the provider-side encoding of both into complete frames.

use crate::hessian2::{Decoder, Encoder, Events, Value};

use super::body::string_entries;
use super::error::{CallError, ProtocolError};
use super::frame::{begin_frame, finish_frame, HESSIAN2_SERIALIZATION_ID};
use super::status::Status;

/// Result flag: an exception follows.
pub const RESPONSE_WITH_EXCEPTION: i32 = 0;
/// Result flag: a value follows.
pub const RESPONSE_VALUE: i32 = 1;
/// Result flag: the result is `null` (or `void`).
pub const RESPONSE_NULL_VALUE: i32 = 2;
/// Result flag: an exception and an attachments map follow.
pub const RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS: i32 = 3;
/// Result flag: a value and an attachments map follow.
pub const RESPONSE_VALUE_WITH_ATTACHMENTS: i32 = 4;
/// Result flag: an attachments map follows.
pub const RESPONSE_NULL_VALUE_WITH_ATTACHMENTS: i32 = 5;

/// Longest error text put into a non-20 response, in bytes.
const MAX_ERROR_MESSAGE: usize = 64 * 1024;

/// What a completed call returned.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcOutcome {
    /// A value (flags 1 and 4).
    Value(Value),
    /// `null` or `void` (flags 2 and 5).
    Null,
    /// A Java exception object (flags 0 and 3).
    Exception(Value),
}

/// A status-20 response: the outcome and the provider's attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcResponse {
    /// The result.
    pub outcome: RpcOutcome,
    /// Response attachments with string values (others are dropped), in wire order.
    pub attachments: Vec<(String, String)>,
}

impl RpcResponse {
    /// A response carrying `value`, without attachments.
    pub fn value(value: Value) -> Self {
        RpcResponse {
            outcome: RpcOutcome::Value(value),
            attachments: Vec::new(),
        }
    }

    /// A `null` response, without attachments.
    pub fn null() -> Self {
        RpcResponse {
            outcome: RpcOutcome::Null,
            attachments: Vec::new(),
        }
    }

    /// A response carrying the exception object `exception`, without attachments.
    pub fn exception(exception: Value) -> Self {
        RpcResponse {
            outcome: RpcOutcome::Exception(exception),
            attachments: Vec::new(),
        }
    }
}

/// Decodes a response body given the header's status.
///
/// Status 20: reads the result flag and what it announces; bytes after that are ignored (dubbo-go
/// appends one). Any other status: the body is the provider's error text and the result is
/// [`CallError::Status`].
pub fn decode_response_body(status: Status, body: &[u8]) -> Result<RpcResponse, CallError> {
    if !status.is_ok() {
        return Err(CallError::Status {
            status,
            message: decode_error_message(body),
        });
    }
    decode_ok_body(body).map_err(CallError::Decode)
}

fn decode_ok_body(body: &[u8]) -> Result<RpcResponse, ProtocolError> {
    let mut dec = Decoder::new(body);
    let flag = dec.read_int()?;
    let outcome = match flag {
        RESPONSE_WITH_EXCEPTION | RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS => {
            RpcOutcome::Exception(dec.read_value()?)
        }
        RESPONSE_VALUE | RESPONSE_VALUE_WITH_ATTACHMENTS => RpcOutcome::Value(dec.read_value()?),
        RESPONSE_NULL_VALUE | RESPONSE_NULL_VALUE_WITH_ATTACHMENTS => RpcOutcome::Null,
        other => return Err(ProtocolError::BadResponseFlag(other)),
    };
    Ok(RpcResponse {
        outcome,
        attachments: read_attachments(&mut dec, flag)?,
    })
}

/// The attachments map that flags 3–5 announce after the result (none for the others).
fn read_attachments(
    dec: &mut Decoder<'_>,
    flag: i32,
) -> Result<Vec<(String, String)>, ProtocolError> {
    if flag >= RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS {
        string_entries(dec.read_value()?)
    } else {
        Ok(Vec::new())
    }
}

/// Reads a status-20 body that carries a value (flags 1 and 4) through `read`, which gets the
/// value's events and must consume them all, then reads the attachments after it as
/// [`decode_response_body`] does (and drops them). `None` when the body carries anything else,
/// when anything in it fails, or when `read` gives up: [`decode_response_body`] on the same
/// body then gives the answer.
pub fn read_response_value<T>(
    body: &[u8],
    read: impl FnOnce(&mut Events<'_, '_>) -> Option<T>,
) -> Option<T> {
    let mut dec = Decoder::new(body);
    let flag = dec.read_int().ok()?;
    if flag != RESPONSE_VALUE && flag != RESPONSE_VALUE_WITH_ATTACHMENTS {
        return None;
    }
    let mut events = dec.events();
    let out = read(&mut events)?;
    if !events.is_done() {
        return None;
    }
    read_attachments(&mut dec, flag).ok()?;
    Some(out)
}

/// The error text of a non-20 response: the body's hessian string, or a description of the body
/// when it is not one.
pub fn decode_error_message(body: &[u8]) -> String {
    match Decoder::new(body).read_nullable_string() {
        Ok(Some(text)) => text,
        Ok(None) => String::new(),
        Err(_) => format!(
            "<{} byte error body that is not a hessian2 string>",
            body.len()
        ),
    }
}

/// True when a consumer that wrote this Dubbo protocol version accepts response attachments
/// (flags 3–5): versions 2.0.2 through 2.0.99, compared the way Java's `Version.getIntVersion`
/// does.
pub fn supports_response_attachments(dubbo_version: &str) -> bool {
    matches!(int_version(dubbo_version), Some(v) if (2_000_200..=2_009_900).contains(&v))
}

/// `Version.getIntVersion`: each dot-separated part's leading digits as a two-digit group;
/// three-part versions are scaled to four parts.
fn int_version(version: &str) -> Option<u64> {
    let parts: Vec<&str> = version.split('.').collect();
    let mut v: u64 = 0;
    for part in &parts {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        let n: u64 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        v = v.checked_mul(100)?.checked_add(n)?;
    }
    if parts.len() == 3 {
        v = v.checked_mul(100)?;
    }
    Some(v)
}

/// Appends a status-20 response body: flags 3/4/5 with an attachments map when
/// `with_attachments`, else flags 0/1/2 (attachments are then not sent).
pub fn encode_response_body(response: &RpcResponse, with_attachments: bool, out: &mut Vec<u8>) {
    let mut enc = Encoder::with_buffer(std::mem::take(out));
    let base = match &response.outcome {
        RpcOutcome::Exception(_) => RESPONSE_WITH_EXCEPTION,
        RpcOutcome::Value(_) => RESPONSE_VALUE,
        RpcOutcome::Null => RESPONSE_NULL_VALUE,
    };
    enc.write_int(if with_attachments { base + 3 } else { base });
    match &response.outcome {
        RpcOutcome::Exception(v) | RpcOutcome::Value(v) => enc.write_value(v),
        RpcOutcome::Null => {}
    }
    if with_attachments {
        enc.write_map_begin(None);
        for (k, v) in &response.attachments {
            enc.write_str(k);
            enc.write_str(v);
        }
        enc.write_map_end();
    }
    *out = enc.into_bytes();
}

/// Appends the body of a non-20 response: the error text as one hessian string (cut to 64 KiB).
pub fn encode_error_body(message: &str, out: &mut Vec<u8>) {
    let mut end = message.len().min(MAX_ERROR_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut enc = Encoder::with_buffer(std::mem::take(out));
    enc.write_str(&message[..end]);
    *out = enc.into_bytes();
}

/// A complete status-20 response frame for request `id`.
///
/// A body over `max_payload` is replaced by a status-25 (`SERIALIZATION_ERROR`) frame, as Java
/// does.
pub fn encode_response(
    id: i64,
    response: &RpcResponse,
    with_attachments: bool,
    max_payload: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    let start = begin_frame(&mut out);
    encode_response_body(response, with_attachments, &mut out);
    let flags = HESSIAN2_SERIALIZATION_ID;
    match finish_frame(&mut out, start, flags, Status::Ok, id, max_payload) {
        Ok(_) => out,
        Err(e) => encode_error_response(
            id,
            Status::SerializationError,
            &format!("Failed to send response: {e}"),
        ),
    }
}

/// A complete error-response frame for request `id`: `status` and the error text.
pub fn encode_error_response(id: i64, status: Status, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let start = begin_frame(&mut out);
    encode_error_body(message, &mut out);
    let flags = HESSIAN2_SERIALIZATION_ID;
    // The body is at most 64 KiB plus a few bytes, far below any sane limit.
    let _ = finish_frame(&mut out, start, flags, status, id, usize::MAX);
    out
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;

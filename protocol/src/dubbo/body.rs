//! The Dubbo2 request body (§2.1): protocol version, service path, service version, method,
//! parameter descriptor, arguments and the attachments map, all written with one hessian2
//! [`Encoder`] so the whole body shares one set of reference tables; and its decoding on the
//! provider side.

use crate::hessian2::{Decoder, Encoder, Value};
use crate::invocation::{parse_descriptor, Invocation, DUBBO_PROTOCOL_VERSION};

use super::error::ProtocolError;

/// Attachment keys the codec writes from [`Invocation`] fields; the same keys in
/// `Invocation::attachments` are ignored when encoding and consumed when decoding.
const RESERVED_KEYS: [&str; 5] = ["path", "interface", "version", "group", "timeout"];
/// The attachment that marks a generic call.
const GENERIC_KEY: &str = "generic";

/// Appends the hessian2 request body for `inv` to `out`.
///
/// Attachments written, in this order: `path` and `interface` (the service), `version` and
/// `group` when set, `generic` = `"true"` for a generic call (unless `inv.attachments` carries its
/// own `generic`), `timeout` in milliseconds when given, then `inv.attachments` without the
/// reserved keys `path`, `interface`, `version`, `group` and `timeout`, whose values come from the
/// invocation's fields.
pub fn encode_request_body(inv: &Invocation, timeout_ms: Option<u64>, out: &mut Vec<u8>) {
    let mut enc = Encoder::with_buffer(std::mem::take(out));
    enc.write_str(DUBBO_PROTOCOL_VERSION);
    enc.write_str(&inv.service);
    match &inv.version {
        Some(v) => enc.write_str(v),
        None => enc.write_null(),
    }
    enc.write_str(&inv.method);
    enc.write_str(&inv.descriptor());
    for arg in &inv.args {
        enc.write_value(arg);
    }

    enc.write_map_begin(None);
    let mut pair = |k: &str, v: &str| {
        enc.write_str(k);
        enc.write_str(v);
    };
    pair("path", &inv.service);
    pair("interface", &inv.service);
    if let Some(v) = &inv.version {
        pair("version", v);
    }
    if let Some(g) = &inv.group {
        pair("group", g);
    }
    let own_generic = inv.attachments.iter().any(|(k, _)| k == GENERIC_KEY);
    if inv.is_generic() && !own_generic {
        pair(GENERIC_KEY, "true");
    }
    if let Some(t) = timeout_ms {
        pair("timeout", &t.to_string());
    }
    for (k, v) in &inv.attachments {
        if !RESERVED_KEYS.contains(&k.as_str()) {
            pair(k, v);
        }
    }
    enc.write_map_end();
    *out = enc.into_bytes();
}

/// A decoded request body with the fields that [`Invocation`] does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestBody {
    /// The Dubbo protocol version the consumer wrote (`"2.0.2"` for current Java consumers); it
    /// decides whether the response may carry attachments.
    pub dubbo_version: String,
    /// The call.
    pub invocation: Invocation,
    /// The consumer's timeout from the `timeout` attachment, in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// Decodes a request body (provider side). See [`decode_request`].
pub fn decode_request_body(body: &[u8]) -> Result<Invocation, ProtocolError> {
    decode_request(body).map(|r| r.invocation)
}

/// Decodes a request body (provider side).
///
/// The parameter types come from the descriptor and exactly one argument is read per type. Of
/// the attachments only string values are kept; `path`, `version` and `group` override the body's
/// fields as in Java; `path`, `interface`, `version`, `group`, `timeout` and a `generic` of
/// `"true"` on a generic call are consumed (they are what [`encode_request_body`] adds), the rest
/// end up in `Invocation::attachments` in wire order.
pub fn decode_request(body: &[u8]) -> Result<RequestBody, ProtocolError> {
    let mut dec = Decoder::new(body);
    let dubbo_version = dec.read_nullable_string()?.unwrap_or_default();
    let path = dec.read_nullable_string()?.unwrap_or_default();
    let version = dec.read_nullable_string()?;
    let method = dec.read_string()?;
    let descriptor = dec.read_nullable_string()?.unwrap_or_default();
    let parameter_types =
        parse_descriptor(&descriptor).ok_or(ProtocolError::BadDescriptor(descriptor))?;
    let args = parameter_types
        .iter()
        .map(|_| dec.read_value())
        .collect::<Result<Vec<_>, _>>()?;
    let raw_attachments = if dec.is_at_end() {
        Vec::new()
    } else {
        string_entries(dec.read_value()?)?
    };

    let mut invocation = Invocation {
        service: path,
        version: version.filter(|v| !v.is_empty()),
        group: None,
        method,
        parameter_types,
        args,
        attachments: Vec::new(),
    };
    let mut timeout_ms = None;
    let implicit_generic = invocation.is_generic();
    for (k, v) in raw_attachments {
        match k.as_str() {
            "path" if !v.is_empty() => invocation.service = v,
            "version" => invocation.version = Some(v).filter(|v| !v.is_empty()),
            "group" => invocation.group = Some(v).filter(|g| !g.is_empty()),
            "timeout" => timeout_ms = v.trim().parse().ok(),
            "path" | "interface" => {}
            GENERIC_KEY if implicit_generic && v == "true" => {}
            _ => invocation.attachments.push((k, v)),
        }
    }
    Ok(RequestBody {
        dubbo_version,
        invocation,
        timeout_ms,
    })
}

/// The string→string entries of an attachments map (`null` = none); other entries are dropped.
pub(crate) fn string_entries(value: Value) -> Result<Vec<(String, String)>, ProtocolError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Map(map) => Ok(map
            .entries
            .into_iter()
            .filter_map(|(k, v)| match (k, v) {
                (Value::String(k), Value::String(v)) => Some((k, v)),
                _ => None,
            })
            .collect()),
        other => Err(ProtocolError::Unexpected {
            expected: "attachments map",
            found: other.kind(),
        }),
    }
}

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;

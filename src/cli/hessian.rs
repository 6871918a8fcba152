//! `tianlu hessian decode [--hex]`: reads one hessian2 value from raw bytes or hex text and
//! renders it as JSON under the gateway's documented default convention.

use std::fmt;
use tianlu_protocol::generic::{hessian_to_json, OutputOptions};
use tianlu_protocol::hessian2::Decoder;

/// Why input could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum HessianCliError {
    /// The hex text is malformed.
    #[error("invalid hex input: {0}")]
    Hex(String),
    /// The bytes are not one valid hessian2 value.
    #[error("{0}")]
    Decode(String),
    /// The value cannot be rendered as JSON (a cycle, too large).
    #[error("{0}")]
    Json(String),
}

/// Parses hex text: pairs of hex digits, with any whitespace, optional `0x` prefixes and `:`/`,`
/// separators ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, HessianCliError> {
    let mut digits = Vec::with_capacity(text.len());
    let cleaned = text.replace("0x", " ").replace("0X", " ");
    for (i, c) in cleaned.chars().enumerate() {
        if c.is_whitespace() || c == ':' || c == ',' {
            continue;
        }
        let d = c
            .to_digit(16)
            .ok_or_else(|| HessianCliError::Hex(format!("character {c:?} at position {i}")))?;
        digits.push(d as u8);
    }
    if digits.len() % 2 != 0 {
        return Err(HessianCliError::Hex("odd number of hex digits".into()));
    }
    Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Decodes exactly one value from `bytes` and renders it as pretty JSON.
pub fn decode_to_json(bytes: &[u8]) -> Result<String, HessianCliError> {
    let mut dec = Decoder::new(bytes);
    let value = dec
        .read_value()
        .map_err(|e| HessianCliError::Decode(e.to_string()))?;
    if !dec.is_at_end() {
        return Err(HessianCliError::Decode(format!(
            "hessian2: {} trailing bytes after the value at byte {}",
            dec.remaining(),
            dec.position()
        )));
    }
    let json = hessian_to_json(&value, &OutputOptions::full())
        .map_err(|e| HessianCliError::Json(e.to_string()))?;
    serde_json::to_string_pretty(&json).map_err(|e| HessianCliError::Json(e.to_string()))
}

/// Hex dump helper for messages.
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parsing() {
        assert_eq!(parse_hex("90 c8 30").unwrap(), vec![0x90, 0xc8, 0x30]);
        assert_eq!(parse_hex("0x4e").unwrap(), vec![0x4e]);
        assert!(parse_hex("9").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn decodes_to_json() {
        assert_eq!(decode_to_json(&[0x91]).unwrap(), "1");
        assert_eq!(
            decode_to_json(&parse_hex("05 776f726c64").unwrap()).unwrap(),
            "\"world\""
        );
        assert!(decode_to_json(&[0x91, 0x91]).is_err(), "trailing bytes");
        assert!(decode_to_json(&[0x05, 0x41]).is_err(), "truncated");
    }
}

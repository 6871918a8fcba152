//! Unit tests of the hessian2 codec: byte vectors from docs/protocol.md (§2.2, §2.3, §4.2–4.6),
//! boundary forms, hand-made decoder inputs and hostile inputs. Property tests live in
//! `protocol/tests/hessian2_roundtrip.rs`.

mod boundaries;
mod decoding;
mod hostile;
mod vectors;

use super::{DecodeError, Decoder, Encoder, Value};

/// Parses a test vector: hex byte pairs, whitespace ignored, and `"text"` copied as raw bytes.
fn h(spec: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '"' => {
                for t in chars.by_ref() {
                    if t == '"' {
                        break;
                    }
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(t.encode_utf8(&mut buf).as_bytes());
                }
            }
            hi => {
                let lo = chars.next().expect("odd number of hex digits");
                let pair: String = [hi, lo].into_iter().collect();
                out.push(u8::from_str_radix(&pair, 16).expect("bad hex digit"));
            }
        }
    }
    out
}

/// Encodes one value with a fresh encoder.
fn enc(v: &Value) -> Vec<u8> {
    let mut e = Encoder::new();
    e.write_value(v);
    e.into_bytes()
}

/// Decodes exactly one value that must span the whole input.
fn dec(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut d = Decoder::new(bytes);
    let v = d.read_value()?;
    assert!(d.is_at_end(), "{} trailing bytes", d.remaining());
    Ok(v)
}

/// Asserts that `v` encodes to `expected` and that those bytes decode back to `v`.
fn both_ways(v: &Value, expected: &[u8]) {
    assert_eq!(hex(&enc(v)), hex(expected), "encoding {v:?}");
    let back = dec(expected).unwrap();
    assert!(back.bitwise_eq(v), "decoded {back:?}, want {v:?}");
}

/// Lower-case hex for readable assertion failures.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn helper_parses_hex_and_text() {
    assert_eq!(h("01 ab\"Hi\" ff"), vec![0x01, 0xab, b'H', b'i', 0xff]);
}

//! String and binary writing: UTF-16 unit counting, CESU-8 output and chunking exactly as
//! `Hessian2Output.writeString` / `printString` do it, written straight from a `&str`.
//!
//! Java measures strings in UTF-16 code units and writes every unit as a 1-, 2- or 3-byte
//! sequence, so a supplementary character (4 bytes in UTF-8) becomes two 3-byte surrogate
//! sequences. For every other character the bytes equal UTF-8, which lets the common case copy the
//! `&str` bytes unchanged.

/// Units per non-final `R` chunk (and bytes per non-final `A` chunk).
const CHUNK: usize = 0x8000;

/// Compact string header limit (`00`–`1f`).
const STRING_DIRECT_MAX: usize = 0x1f;
/// Two-byte string header limit (`30`–`33`).
const STRING_SHORT_MAX: usize = 0x3ff;
/// Compact binary header limit (`20`–`2f`).
const BINARY_DIRECT_MAX: usize = 0x0f;
/// Two-byte binary header limit (`34`–`37`).
const BINARY_SHORT_MAX: usize = 0x3ff;

/// Counts UTF-16 code units: every UTF-8 lead byte is one unit, a 4-byte lead two.
#[inline]
pub(super) fn utf16_len(s: &str) -> usize {
    s.as_bytes()
        .iter()
        .map(|&b| match b {
            0x80..=0xbf => 0,
            0xf0..=0xff => 2,
            _ => 1,
        })
        .sum()
}

/// Writes `s` as a hessian2 string (header, chunks and CESU-8 data).
pub(super) fn write_str(buf: &mut Vec<u8>, s: &str) {
    // ASCII: one unit per byte, bytes as they are (checked a word at a time).
    if s.len() <= CHUNK && s.is_ascii() {
        put_string_header(buf, s.len());
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    let mut units = utf16_len(s);
    let mut rest = s;
    // Java chunks only while more than 0x8000 units remain; the final piece may be exactly 0x8000.
    while units > CHUNK {
        let (split, taken) = split_at_units(rest, CHUNK);
        let (head, tail) = rest.split_at(split);
        buf.push(b'R');
        buf.extend_from_slice(&(taken as u16).to_be_bytes());
        put_cesu8(buf, head);
        units -= taken;
        rest = tail;
    }
    put_string_header(buf, units);
    put_cesu8(buf, rest);
}

/// Writes the final-chunk header for a string of `units` (≤ 0xffff) units.
#[inline]
fn put_string_header(buf: &mut Vec<u8>, units: usize) {
    if units <= STRING_DIRECT_MAX {
        buf.push(units as u8);
    } else if units <= STRING_SHORT_MAX {
        buf.extend_from_slice(&[0x30 + (units >> 8) as u8, units as u8]);
    } else {
        buf.extend_from_slice(&[b'S', (units >> 8) as u8, units as u8]);
    }
}

/// The byte index and unit count of the longest prefix of `s` with at most `max` units that does
/// not split a surrogate pair (so `max - 1` units when a supplementary character straddles).
fn split_at_units(s: &str, max: usize) -> (usize, usize) {
    let mut units = 0;
    for (idx, ch) in s.char_indices() {
        let n = ch.len_utf16();
        if units + n > max {
            return (idx, units);
        }
        units += n;
    }
    (s.len(), units)
}

/// Appends `s` in CESU-8.
#[inline]
fn put_cesu8(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Without 4-byte sequences the UTF-8 bytes are already CESU-8.
    if !bytes.iter().any(|&b| b >= 0xf0) {
        buf.extend_from_slice(bytes);
        return;
    }
    // Each 4-byte sequence becomes 6 bytes.
    buf.reserve(bytes.len() + bytes.len() / 2);
    let mut run_start = 0;
    for (idx, ch) in s.char_indices() {
        if ch.len_utf8() == 4 {
            buf.extend_from_slice(&bytes[run_start..idx]);
            let mut pair = [0u16; 2];
            for &unit in ch.encode_utf16(&mut pair).iter() {
                buf.extend_from_slice(&[
                    0xe0 | (unit >> 12) as u8,
                    0x80 | ((unit >> 6) & 0x3f) as u8,
                    0x80 | (unit & 0x3f) as u8,
                ]);
            }
            run_start = idx + 4;
        }
    }
    buf.extend_from_slice(&bytes[run_start..]);
}

/// Writes `data` as hessian2 binary: `A` chunks of 0x8000 bytes while more than that remains,
/// then a compact, two-byte or `B` final chunk.
pub(super) fn write_binary(buf: &mut Vec<u8>, data: &[u8]) {
    buf.reserve(data.len() + 3 * (data.len() / CHUNK + 1));
    let mut rest = data;
    while rest.len() > CHUNK {
        let (head, tail) = rest.split_at(CHUNK);
        buf.push(b'A');
        buf.extend_from_slice(&(CHUNK as u16).to_be_bytes());
        buf.extend_from_slice(head);
        rest = tail;
    }
    let len = rest.len();
    if len <= BINARY_DIRECT_MAX {
        buf.push(0x20 + len as u8);
    } else if len <= BINARY_SHORT_MAX {
        buf.extend_from_slice(&[0x34 + (len >> 8) as u8, len as u8]);
    } else {
        buf.extend_from_slice(&[b'B', (len >> 8) as u8, len as u8]);
    }
    buf.extend_from_slice(rest);
}

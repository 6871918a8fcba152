//! Reading strings and binary: chunk sequences of any sizes (`R`…/`A`… followed by any final
//! form), lengths in UTF-16 units, CESU-8 surrogate pairs re-joined into Rust chars (also across
//! chunk boundaries), and real 4-byte UTF-8 sequences accepted as two units.
//!
//! ASCII data (one byte per unit) is recognised a word at a time; other valid UTF-8 without
//! surrogates is measured by lead bytes and validated with `std::str::from_utf8` in one go; only
//! strings with surrogates take the per-character path.

use super::{is_string_code, unexpected, DecodeError, DecodeErrorKind, Decoder};

impl<'a> Decoder<'a> {
    /// A one-chunk ASCII string whose first code byte `code` was consumed, borrowed from the
    /// input; `None` (nothing more consumed) for any other string or code.
    pub(super) fn ascii_string_after(&mut self, code: u8) -> Option<&'a str> {
        let (units, header) = match code {
            0x00..=0x1f => (usize::from(code), 0),
            0x30..=0x33 => {
                let low = *self.input.get(self.pos)?;
                ((usize::from(code - 0x30) << 8) | usize::from(low), 1)
            }
            b'S' => {
                let len = self.input.get(self.pos..self.pos + 2)?;
                (usize::from(u16::from_be_bytes([len[0], len[1]])), 2)
            }
            _ => return None,
        };
        let start = self.pos + header;
        let input: &'a [u8] = self.input;
        let bytes = input.get(start..start + units)?;
        if !bytes.is_ascii() {
            return None;
        }
        let s = std::str::from_utf8(bytes).ok()?;
        self.pos = start + units;
        Some(s)
    }

    /// Reads the rest of a string whose first code byte `code` was consumed.
    pub(super) fn string_after(&mut self, mut code: u8) -> Result<String, DecodeError> {
        let mut out = String::new();
        let mut high: Option<u16> = None;
        loop {
            let (units, last) = match code {
                0x00..=0x1f => (usize::from(code), true),
                0x30..=0x33 => (
                    (usize::from(code - 0x30) << 8) | usize::from(self.byte()?),
                    true,
                ),
                b'R' | b'S' => (usize::from(u16::from_be_bytes(self.array()?)), code == b'S'),
                _ => return self.fail(unexpected("string chunk", code)),
            };
            out.reserve(units.min(self.remaining()));
            self.read_units(units, &mut out, &mut high)?;
            if last {
                break;
            }
            let at = self.pos;
            code = self.byte()?;
            if !is_string_code(code) {
                self.pos = at;
                return self.fail(unexpected("string chunk", code));
            }
        }
        if high.is_some() {
            return self.fail(DecodeErrorKind::UnpairedSurrogate);
        }
        Ok(out)
    }

    /// Appends `units` UTF-16 units of string data to `out`. `high` carries a high surrogate
    /// that ended the previous chunk.
    fn read_units(
        &mut self,
        units: usize,
        out: &mut String,
        high: &mut Option<u16>,
    ) -> Result<(), DecodeError> {
        if high.is_none() {
            // ASCII: one byte per unit, checked a word at a time.
            if let Some(bytes) = self.input.get(self.pos..self.pos + units) {
                if bytes.is_ascii() {
                    if let Ok(s) = std::str::from_utf8(bytes) {
                        out.push_str(s);
                        self.pos += units;
                        return Ok(());
                    }
                }
            }
            if let Some(end) = self.plain_extent(units) {
                let bytes = self.input.get(self.pos..end).unwrap_or_default();
                if let Ok(s) = std::str::from_utf8(bytes) {
                    out.push_str(s);
                    self.pos = end;
                    return Ok(());
                }
            }
        }
        let mut done = 0;
        while done < units {
            let start = self.pos;
            let (cp, n) = self.utf8_sequence()?;
            done += n;
            if done > units {
                // A 4-byte sequence where only one unit was left.
                self.pos = start;
                return self.fail(DecodeErrorKind::InvalidUtf8);
            }
            let ch = match cp {
                0xd800..=0xdbff if n == 1 => {
                    if high.replace(cp as u16).is_some() {
                        self.pos = start;
                        return self.fail(DecodeErrorKind::UnpairedSurrogate);
                    }
                    continue;
                }
                0xdc00..=0xdfff if n == 1 => match high.take() {
                    Some(hi) => {
                        let joined = 0x10000 + ((u32::from(hi) - 0xd800) << 10) + (cp - 0xdc00);
                        char::from_u32(joined)
                    }
                    None => {
                        self.pos = start;
                        return self.fail(DecodeErrorKind::UnpairedSurrogate);
                    }
                },
                _ if high.is_some() => {
                    self.pos = start;
                    return self.fail(DecodeErrorKind::UnpairedSurrogate);
                }
                _ => char::from_u32(cp),
            };
            match ch {
                Some(ch) => out.push(ch),
                None => {
                    self.pos = start;
                    return self.fail(DecodeErrorKind::InvalidUtf8);
                }
            }
        }
        Ok(())
    }

    /// The end offset of `units` units of string data if it is measurable by lead bytes alone
    /// (no stray or unknown lead byte, no 4-byte sequence straddling the unit count); `None` sends
    /// the caller to the careful path. CESU-8 surrogates pass here but fail UTF-8 validation.
    fn plain_extent(&self, units: usize) -> Option<usize> {
        let mut at = self.pos;
        let mut done = 0;
        while done < units {
            let (len, n) = match *self.input.get(at)? {
                0x00..=0x7f => (1, 1),
                0xc0..=0xdf => (2, 1),
                0xe0..=0xef => (3, 1),
                0xf0..=0xf7 => (4, 2),
                _ => return None,
            };
            at += len;
            done += n;
        }
        (done == units && at <= self.input.len()).then_some(at)
    }

    /// Decodes one 1–4 byte sequence, returning the code point (surrogates included) and how
    /// many UTF-16 units it stands for. Overlong forms are tolerated like Java's reader does (some
    /// writers use modified UTF-8 `c0 80` for NUL); continuation bytes must be `10xxxxxx`.
    fn utf8_sequence(&mut self) -> Result<(u32, usize), DecodeError> {
        let start = self.pos;
        let b0 = u32::from(self.byte()?);
        let (extra, init) = match b0 {
            0x00..=0x7f => return Ok((b0, 1)),
            0xc0..=0xdf => (1, b0 & 0x1f),
            0xe0..=0xef => (2, b0 & 0x0f),
            0xf0..=0xf7 => (3, b0 & 0x07),
            _ => {
                self.pos = start;
                return self.fail(DecodeErrorKind::InvalidUtf8);
            }
        };
        let mut cp = init;
        for _ in 0..extra {
            let b = self.byte()?;
            if b & 0xc0 != 0x80 {
                self.pos -= 1;
                return self.fail(DecodeErrorKind::InvalidUtf8);
            }
            cp = (cp << 6) | u32::from(b & 0x3f);
        }
        if extra == 3 {
            if !(0x10000..=0x10ffff).contains(&cp) {
                self.pos = start;
                return self.fail(DecodeErrorKind::InvalidUtf8);
            }
            return Ok((cp, 2));
        }
        Ok((cp, 1))
    }

    /// Reads the rest of a binary value whose first code byte `code` was consumed.
    pub(super) fn binary_after(&mut self, mut code: u8) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        loop {
            let (len, last) = match code {
                0x20..=0x2f => (usize::from(code - 0x20), true),
                0x34..=0x37 => (
                    (usize::from(code - 0x34) << 8) | usize::from(self.byte()?),
                    true,
                ),
                b'A' | b'B' => (usize::from(u16::from_be_bytes(self.array()?)), code == b'B'),
                _ => return self.fail(unexpected("binary chunk", code)),
            };
            out.extend_from_slice(self.take(len)?);
            if last {
                return Ok(out);
            }
            let at = self.pos;
            code = self.byte()?;
            if !matches!(code, 0x20..=0x2f | 0x34..=0x37 | b'A' | b'B') {
                self.pos = at;
                return self.fail(unexpected("binary chunk", code));
            }
        }
    }
}

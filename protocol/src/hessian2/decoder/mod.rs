//! The hessian2 reader: [`Decoder`] reads every byte code of the Hessian 2.0 grammar as Java
//! (hessian-lite) and other peers write it, with [`Limits`] on nesting depth and on the number of
//! values produced.
//!
//! This module owns the public API, the byte-level helpers and the scalar codes; `strings` reads
//! chunked strings and binary, `tree` reads containers (iteratively, never recursing per level),
//! class definitions and types, `events` reads a value as a stream of events instead, `refs`
//! resolves back references, and `error` defines [`DecodeError`].

mod error;
mod events;
mod refs;
mod strings;
mod tree;

use std::sync::Arc;

pub use error::{DecodeError, DecodeErrorKind};
pub use events::{Event, Events};

use super::value::{ClassDef, Value};
use refs::RefLoc;
use tree::Frame;

/// Resource limits for one [`Decoder`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum nesting depth of maps, lists and objects (default 128). Values repeated through a
    /// back reference count with their own depth at the place they are repeated.
    pub max_depth: usize,
    /// Maximum number of values the decoder produces over its lifetime (default 1 000 000).
    /// Values repeated by a back reference count again, each repeated string or binary also one
    /// more per 16 bytes it copies; this stops reference bombs.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 128,
            max_nodes: 1_000_000,
        }
    }
}

/// Upper bound on any capacity reserved from a declared length (lists, objects, class defs).
const PREALLOC_CAP: usize = 4096;

/// Reads hessian2 values from a byte slice.
///
/// Class definitions, type names and back references live for the whole decoder (one Dubbo
/// message body), so several values can be read in sequence. After an error the decoder's state
/// is unspecified (but using it further is still safe).
///
/// ```
/// use tianlu_protocol::hessian2::{Decoder, Value};
/// let mut dec = Decoder::new(&[0x91, 0x05, b'h', b'e', b'l', b'l', b'o']);
/// assert_eq!(dec.read_int().unwrap(), 1);
/// assert_eq!(dec.read_value().unwrap(), Value::string("hello"));
/// assert!(dec.is_at_end());
/// ```
#[derive(Debug)]
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    limits: Limits,
    /// Values produced so far (see [`Limits::max_nodes`]).
    nodes: usize,
    classes: Vec<Arc<ClassDef>>,
    types: Vec<String>,
    /// Where each map/list/object (by reference index) lives.
    refs: Vec<RefLoc>,
    /// Containers being decoded, outermost first.
    stack: Vec<Frame>,
    /// Copies of completed top-level containers that a later `Q` may still reference.
    history: Vec<Value>,
    /// Position of the last `Q` byte in the input (computed on first use).
    last_q: Option<Option<usize>>,
}

impl<'a> Decoder<'a> {
    /// A decoder over `input` with default [`Limits`].
    pub fn new(input: &'a [u8]) -> Self {
        Self::with_limits(input, Limits::default())
    }

    /// A decoder over `input` with the given limits.
    pub fn with_limits(input: &'a [u8], limits: Limits) -> Self {
        Self {
            input,
            pos: 0,
            limits,
            nodes: 0,
            classes: Vec::new(),
            types: Vec::new(),
            refs: Vec::new(),
            stack: Vec::new(),
            history: Vec::new(),
            last_q: None,
        }
    }

    /// Reads the next complete value (class definitions before it are absorbed).
    pub fn read_value(&mut self) -> Result<Value, DecodeError> {
        self.read_tree()
    }

    /// Reads a string; any other code is an error and is not consumed.
    pub fn read_string(&mut self) -> Result<String, DecodeError> {
        let s = self.expect_string()?;
        self.count_node()?;
        Ok(s)
    }

    /// Reads a string, or `None` for `N`; any other code is an error and is not consumed.
    pub fn read_nullable_string(&mut self) -> Result<Option<String>, DecodeError> {
        if self.peek()? == b'N' {
            self.pos += 1;
            self.count_node()?;
            return Ok(None);
        }
        self.read_string().map(Some)
    }

    /// Reads an int (int codes only: `80`–`d7` and `I`); any other code is an error and is not
    /// consumed.
    pub fn read_int(&mut self) -> Result<i32, DecodeError> {
        let i = self.expect_int()?;
        self.count_node()?;
        Ok(i)
    }

    /// Byte offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Number of unread bytes.
    pub fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// Whether all input has been read.
    pub fn is_at_end(&self) -> bool {
        self.remaining() == 0
    }

    // ----- byte helpers -------------------------------------------------------------------

    /// An error of `kind` at the current position.
    fn fail<T>(&self, kind: DecodeErrorKind) -> Result<T, DecodeError> {
        Err(DecodeError {
            kind,
            offset: self.pos,
        })
    }

    /// The next byte without consuming it.
    fn peek(&self) -> Result<u8, DecodeError> {
        match self.input.get(self.pos) {
            Some(&b) => Ok(b),
            None => self.fail(DecodeErrorKind::UnexpectedEof),
        }
    }

    /// Consumes one byte.
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    /// Consumes `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let input = self.input;
        match self
            .pos
            .checked_add(n)
            .and_then(|end| input.get(self.pos..end))
        {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => self.fail(DecodeErrorKind::UnexpectedEof),
        }
    }

    /// Consumes `N` bytes as an array.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        match rest.split_first_chunk::<N>() {
            Some((head, _)) => {
                self.pos += N;
                Ok(*head)
            }
            None => self.fail(DecodeErrorKind::UnexpectedEof),
        }
    }

    /// Counts `n` produced values against [`Limits::max_nodes`].
    fn count_nodes(&mut self, n: usize) -> Result<(), DecodeError> {
        match self.nodes.checked_add(n) {
            Some(total) if total <= self.limits.max_nodes => {
                self.nodes = total;
                Ok(())
            }
            _ => self.fail(DecodeErrorKind::NodeLimit(self.limits.max_nodes)),
        }
    }

    /// Counts one produced value.
    fn count_node(&mut self) -> Result<(), DecodeError> {
        self.count_nodes(1)
    }

    /// A capacity to reserve for `declared` elements of at least one byte each.
    fn capacity_for(&self, declared: usize) -> usize {
        declared.min(self.remaining()).min(PREALLOC_CAP)
    }

    // ----- scalars ------------------------------------------------------------------------

    /// The int after its first byte `code` (which must be an int code).
    fn int_after(&mut self, code: u8) -> Result<i32, DecodeError> {
        Ok(match code {
            0x80..=0xbf => i32::from(code) - 0x90,
            0xc0..=0xcf => ((i32::from(code) - 0xc8) << 8) | i32::from(self.byte()?),
            0xd0..=0xd7 => {
                let [b1, b2] = self.array()?;
                ((i32::from(code) - 0xd4) << 16) | (i32::from(b1) << 8) | i32::from(b2)
            }
            b'I' => i32::from_be_bytes(self.array()?),
            _ => return self.fail(unexpected("int", code)),
        })
    }

    /// The long after its first byte `code` (which must be a long code).
    fn long_after(&mut self, code: u8) -> Result<i64, DecodeError> {
        Ok(match code {
            0xd8..=0xef => i64::from(code) - 0xe0,
            0xf0..=0xff => ((i64::from(code) - 0xf8) << 8) | i64::from(self.byte()?),
            0x38..=0x3f => {
                let [b1, b2] = self.array()?;
                ((i64::from(code) - 0x3c) << 16) | (i64::from(b1) << 8) | i64::from(b2)
            }
            b'Y' => i64::from(i32::from_be_bytes(self.array()?)),
            b'L' => i64::from_be_bytes(self.array()?),
            _ => return self.fail(unexpected("long", code)),
        })
    }

    /// The double after its first byte `code`; `5f` is an int32 of thousandths, as every Java,
    /// Go and JS implementation writes it.
    fn double_after(&mut self, code: u8) -> Result<f64, DecodeError> {
        Ok(match code {
            0x5b => 0.0,
            0x5c => 1.0,
            0x5d => f64::from(i8::from_be_bytes(self.array()?)),
            0x5e => f64::from(i16::from_be_bytes(self.array()?)),
            0x5f => 0.001 * f64::from(i32::from_be_bytes(self.array()?)),
            b'D' => f64::from_bits(u64::from_be_bytes(self.array()?)),
            _ => return self.fail(unexpected("double", code)),
        })
    }

    /// The date (milliseconds since the epoch) after `4a` (ms) or `4b` (minutes).
    fn date_after(&mut self, code: u8) -> Result<i64, DecodeError> {
        Ok(match code {
            0x4a => i64::from_be_bytes(self.array()?),
            0x4b => i64::from(i32::from_be_bytes(self.array()?)) * 60_000,
            _ => return self.fail(unexpected("date", code)),
        })
    }

    /// Reads a string (string codes only; nothing is consumed on a mismatch).
    fn expect_string(&mut self) -> Result<String, DecodeError> {
        let code = self.peek()?;
        if !is_string_code(code) {
            return self.fail(unexpected("string", code));
        }
        self.pos += 1;
        self.string_after(code)
    }

    /// Reads an int (int codes only; nothing is consumed on a mismatch).
    fn expect_int(&mut self) -> Result<i32, DecodeError> {
        let code = self.peek()?;
        if !is_int_code(code) {
            return self.fail(unexpected("int", code));
        }
        self.pos += 1;
        self.int_after(code)
    }

    /// Reads a non-negative int used as a length, count or index.
    fn expect_count(&mut self) -> Result<usize, DecodeError> {
        let at = self.pos;
        let n = self.expect_int()?;
        usize::try_from(n).map_err(|_| DecodeError {
            kind: DecodeErrorKind::BadLength(i64::from(n)),
            offset: at,
        })
    }
}

/// Whether `code` starts a string (compact, two-byte, `R` or `S`).
fn is_string_code(code: u8) -> bool {
    matches!(code, 0x00..=0x1f | 0x30..=0x33 | b'R' | b'S')
}

/// Whether `code` starts an int.
fn is_int_code(code: u8) -> bool {
    matches!(code, 0x80..=0xd7 | b'I')
}

/// An `Unexpected` error kind for byte code `code`.
fn unexpected(expected: &'static str, code: u8) -> DecodeErrorKind {
    DecodeErrorKind::Unexpected {
        expected,
        found: describe(code),
    }
}

/// What a byte code starts, for error messages.
fn describe(code: u8) -> String {
    let what = match code {
        0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => "string",
        0x20..=0x2f | 0x34..=0x37 | b'A' | b'B' => "binary",
        0x38..=0x3f | 0xd8..=0xff | b'L' | b'Y' => "long",
        0x80..=0xd7 | b'I' => "int",
        0x5b..=0x5f | b'D' => "double",
        0x4a | 0x4b => "date",
        b'C' => "class definition",
        b'F' | b'T' => "boolean",
        b'H' | b'M' => "map",
        b'N' => "null",
        b'O' | 0x60..=0x6f => "object",
        b'Q' => "reference",
        b'U' | b'V' | b'W' | b'X' | 0x70..=0x7f => "list",
        b'Z' => "end marker 'Z'",
        _ => return format!("unknown byte code 0x{code:02x}"),
    };
    format!("{what} (code 0x{code:02x})")
}

/// A [`DecodeError`] at `offset`.
fn error_at(offset: usize, kind: DecodeErrorKind) -> DecodeError {
    DecodeError { kind, offset }
}

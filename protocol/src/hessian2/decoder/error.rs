//! Decode errors: what went wrong and at which byte offset.

/// A decoding failure with the byte offset where it was detected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("hessian2: {kind} at byte {offset}")]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset in the input where the problem was detected.
    pub offset: usize,
}

/// The kinds of decoding failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input ended inside a value.
    #[error("unexpected end of input")]
    UnexpectedEof,
    /// A byte code that does not start any value in this position.
    #[error("unknown byte code 0x{0:02x}")]
    UnknownCode(u8),
    /// String data that is not valid (modified) UTF-8.
    #[error("invalid utf-8 in string")]
    InvalidUtf8,
    /// A UTF-16 surrogate without its partner.
    #[error("unpaired utf-16 surrogate in string")]
    UnpairedSurrogate,
    /// Containers nested deeper than the limit.
    #[error("nesting deeper than {0} levels")]
    DepthLimit(usize),
    /// More values than the limit (counting repeated back references).
    #[error("more than {0} values")]
    NodeLimit(usize),
    /// An object instance naming a class definition that does not exist.
    #[error("class definition #{0} not defined")]
    BadClassRef(usize),
    /// An int type reference to a type not in the type table.
    #[error("type reference #{0} not defined")]
    BadTypeRef(usize),
    /// A back reference to a container that does not exist.
    #[error("back reference #{0} not defined")]
    BadRef(usize),
    /// A negative length, count or index.
    #[error("negative length or index {0}")]
    BadLength(i64),
    /// A value of the wrong kind.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the caller asked for.
        expected: &'static str,
        /// What the input held.
        found: String,
    },
}

//! Reading one value as a stream of [`Event`]s instead of a tree: scalars come whole (plain
//! ASCII strings borrowed from the input), containers as a start event, their contents and
//! [`Event::End`]. Consumers that only pass a value on (the
//! JSON writer of generic-call results) use it to skip building and dropping the tree.
//!
//! Codes, class definitions, types, depth and node limits are handled exactly as by
//! [`Decoder::read_value`]. Back references are not resolved: `Q` yields [`Event::Ref`] and a
//! consumer that needs the referenced value reads the input again as a tree. Containers still
//! take their reference numbers, so a value read as a tree afterwards numbers its own the same
//! way (a reference into the streamed value is then an error, never a wrong value).

use std::sync::Arc;

use super::refs::RefLoc;
use super::tree::Opening;
use super::{describe, error_at, unexpected, DecodeError, DecodeErrorKind, Decoder, Value};
use crate::hessian2::ClassDef;

/// One step of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// A string borrowed from the input (one-chunk ASCII strings).
    Str(&'a str),
    /// A complete scalar (never a list, map, object or reference).
    Scalar(Value),
    /// A list starts; its items follow, then [`Event::End`].
    List,
    /// A map starts; key and value events alternate, then [`Event::End`]. `typed` for `M`.
    Map {
        /// Whether the map carries a Java type (`M`), as opposed to an untyped `H` map.
        typed: bool,
    },
    /// An object starts; one value per field of the class follows, then [`Event::End`].
    Object(Arc<ClassDef>),
    /// The innermost open list, map or object is complete.
    End,
    /// A back reference (`Q`) in place of a value; its index is neither checked nor resolved
    /// here (the tree reader does both).
    Ref,
}

/// An open container: values still expected, or open until `Z`.
enum Open {
    Counted(usize),
    UntilZ,
    Map { key_pending: bool },
}

/// The events of one value; see the module docs.
pub struct Events<'d, 'a> {
    dec: &'d mut Decoder<'a>,
    open: Vec<Open>,
    done: bool,
}

impl<'a> Decoder<'a> {
    /// Reads the next value as events (class definitions before it are absorbed).
    pub fn events(&mut self) -> Events<'_, 'a> {
        Events {
            dec: self,
            open: Vec::new(),
            done: false,
        }
    }
}

impl<'a> Events<'_, 'a> {
    /// Whether the whole value has been read.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next event, or `None` once the value is complete.
    pub fn next_event(&mut self) -> Result<Option<Event<'a>>, DecodeError> {
        if self.done {
            return Ok(None);
        }
        loop {
            if let Some(Open::Counted(0)) = self.open.last() {
                return Ok(Some(self.close()));
            }
            let code = self.dec.byte()?;
            if code == b'Z' {
                match self.open.last() {
                    Some(Open::UntilZ | Open::Map { key_pending: false }) => {
                        return Ok(Some(self.close()))
                    }
                    Some(Open::Map { key_pending: true }) => {
                        self.dec.pos -= 1;
                        return self.dec.fail(unexpected("map value", code));
                    }
                    _ => {}
                }
            }
            if let Some(s) = self.dec.ascii_string_after(code) {
                self.dec.count_node()?;
                self.completed();
                return Ok(Some(Event::Str(s)));
            }
            if let Some(value) = self.dec.scalar_after(code)? {
                self.completed();
                return Ok(Some(Event::Scalar(value)));
            }
            let at = self.dec.pos - 1;
            if let Some(opening) = self.dec.opening_after(code, at)? {
                let (open, event) = match opening {
                    Opening::Map { type_name } => (
                        Open::Map { key_pending: false },
                        Event::Map {
                            typed: type_name.is_some(),
                        },
                    ),
                    Opening::List { remaining, .. } => {
                        (remaining.map_or(Open::UntilZ, Open::Counted), Event::List)
                    }
                    Opening::Object(class) => {
                        (Open::Counted(class.fields.len()), Event::Object(class))
                    }
                };
                // Numbered like the tree reader's containers; not resolvable from here on.
                self.dec.admit(at, self.open.len(), RefLoc::Top(None))?;
                self.open.push(open);
                return Ok(Some(event));
            }
            match code {
                b'C' => self.dec.class_def()?,
                b'Q' => {
                    self.dec.expect_count()?;
                    self.dec.count_node()?;
                    self.completed();
                    return Ok(Some(Event::Ref));
                }
                b'Z' => {
                    let kind = DecodeErrorKind::Unexpected {
                        expected: "value",
                        found: describe(code),
                    };
                    return Err(error_at(at, kind));
                }
                _ => return Err(error_at(at, DecodeErrorKind::UnknownCode(code))),
            }
        }
    }

    /// Closes the innermost container.
    fn close(&mut self) -> Event<'a> {
        self.open.pop();
        self.completed();
        Event::End
    }

    /// A value was completed inside the innermost container (or at the top).
    fn completed(&mut self) {
        match self.open.last_mut() {
            None => self.done = true,
            Some(Open::Counted(n)) => *n = n.saturating_sub(1),
            Some(Open::Map { key_pending }) => *key_pending = !*key_pending,
            Some(Open::UntilZ) => {}
        }
    }
}

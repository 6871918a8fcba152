//! Reading value trees: maps, lists and objects with an explicit frame stack (no recursion per
//! nesting level), class definitions and type names. The scalar codes, container openings and
//! the admission of a container (depth, node, reference number) are shared with `events`.
//!
//! Every map, list and object gets a reference index when it *starts* (so self-references work)
//! and, when it completes, its [`RefLoc`] records where it was stored; `refs` resolves `Q`.

use std::sync::Arc;

use super::refs::{RefLoc, BYTES_PER_NODE};
use super::{describe, is_int_code, is_string_code, unexpected, DecodeError, DecodeErrorKind};
use super::{error_at, Decoder, Value};
use crate::hessian2::value::{ClassDef, List, Map, Object};

/// A container being decoded.
#[derive(Debug)]
pub(super) struct Frame {
    ref_idx: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// `remaining` is `None` for a variable-length list ended by `Z`.
    List {
        type_name: Option<String>,
        items: Vec<Value>,
        remaining: Option<usize>,
    },
    Map {
        type_name: Option<String>,
        entries: Vec<(Value, Value)>,
        key: Option<Value>,
    },
    Object {
        class: Arc<ClassDef>,
        values: Vec<Value>,
    },
}

impl Frame {
    /// Whether a fixed-size container has all its values.
    fn is_complete(&self) -> bool {
        match &self.kind {
            Kind::List { remaining, .. } => *remaining == Some(0),
            Kind::Map { .. } => false,
            Kind::Object { class, values } => values.len() >= class.fields.len(),
        }
    }

    /// Whether `Z` ends this container (variable-length lists and maps).
    fn ends_with_z(&self) -> bool {
        matches!(
            self.kind,
            Kind::List {
                remaining: None,
                ..
            } | Kind::Map { .. }
        )
    }

    /// The slot the next value will occupy.
    fn next_slot(&self) -> usize {
        match &self.kind {
            Kind::List { items, .. } => items.len(),
            Kind::Map { entries, key, .. } => 2 * entries.len() + usize::from(key.is_some()),
            Kind::Object { values, .. } => values.len(),
        }
    }

    /// The value at `slot`.
    pub(super) fn child(&self, slot: usize) -> Option<&Value> {
        match &self.kind {
            Kind::List { items, .. } => items.get(slot),
            Kind::Object { values, .. } => values.get(slot),
            Kind::Map { entries, key, .. } => match entries.get(slot / 2) {
                Some((k, v)) => Some(if slot.is_multiple_of(2) { k } else { v }),
                None if slot == 2 * entries.len() => key.as_ref(),
                None => None,
            },
        }
    }

    /// Adds the next value.
    fn push(&mut self, value: Value) {
        match &mut self.kind {
            Kind::List {
                items, remaining, ..
            } => {
                items.push(value);
                if let Some(r) = remaining {
                    *r = r.saturating_sub(1);
                }
            }
            Kind::Map { entries, key, .. } => match key.take() {
                Some(k) => entries.push((k, value)),
                None => *key = Some(value),
            },
            Kind::Object { values, .. } => values.push(value),
        }
    }

    fn into_value(self) -> Value {
        match self.kind {
            Kind::List {
                type_name, items, ..
            } => Value::List(List { type_name, items }),
            Kind::Map {
                type_name, entries, ..
            } => Value::Map(Map { type_name, entries }),
            Kind::Object { class, values } => Value::Object(Object { class, values }),
        }
    }
}

/// A container start: what its code and the bytes after it announce.
pub(super) enum Opening {
    /// `H` (no type) or `M` (typed).
    Map { type_name: Option<String> },
    /// Typed or untyped, counted or ended by `Z` (`remaining: None`).
    List {
        type_name: Option<String>,
        remaining: Option<usize>,
    },
    /// An instance of a defined class.
    Object(Arc<ClassDef>),
}

/// What one code at a value position produced.
enum Step {
    /// A complete value.
    Value(Value),
    /// A container was opened (its values follow).
    Opened,
    /// A class definition was read (the value follows).
    Defined,
}

impl Decoder<'_> {
    /// Reads one complete value with the frame stack.
    pub(super) fn read_tree(&mut self) -> Result<Value, DecodeError> {
        if !self.stack.is_empty() {
            // An earlier read failed midway: its open containers can no longer be referenced.
            for loc in &mut self.refs {
                if let RefLoc::Open(_) = loc {
                    *loc = RefLoc::Top(None);
                }
            }
            self.stack.clear();
        }
        loop {
            let (complete, ends_with_z, key_pending) = match self.stack.last() {
                Some(top) => (
                    top.is_complete(),
                    top.ends_with_z(),
                    matches!(top.kind, Kind::Map { key: Some(_), .. }),
                ),
                None => (false, false, false),
            };
            let value = if complete {
                self.close()?
            } else {
                let code = self.byte()?;
                if code == b'Z' && ends_with_z {
                    if key_pending {
                        self.pos -= 1;
                        return self.fail(unexpected("map value", code));
                    }
                    self.close()?
                } else {
                    match self.step(code)? {
                        Step::Value(v) => v,
                        Step::Opened | Step::Defined => continue,
                    }
                }
            };
            match self.stack.last_mut() {
                Some(top) => top.push(value),
                None => return Ok(value),
            }
        }
    }

    /// Pops the innermost container and records where it is stored.
    fn close(&mut self) -> Result<Value, DecodeError> {
        let Some(frame) = self.stack.pop() else {
            return self.fail(DecodeErrorKind::UnknownCode(b'Z'));
        };
        let idx = frame.ref_idx;
        let value = frame.into_value();
        let parent = self.stack.last().map(|p| (p.ref_idx, p.next_slot()));
        let loc = match parent {
            Some((parent, slot)) => RefLoc::Child { parent, slot },
            None if self.q_ahead() => {
                self.history.push(value.clone());
                RefLoc::Top(Some(self.history.len() - 1))
            }
            None => RefLoc::Top(None),
        };
        if let Some(slot) = self.refs.get_mut(idx) {
            *slot = loc;
        }
        Ok(value)
    }

    /// The scalar whose first byte `code` was consumed, counted as a node; `None` (nothing
    /// consumed) when `code` starts no scalar.
    pub(super) fn scalar_after(&mut self, code: u8) -> Result<Option<Value>, DecodeError> {
        let value = match code {
            0x00..=0x1f | 0x30..=0x33 | b'R' | b'S' => Value::String(self.string_after(code)?),
            0x20..=0x2f | 0x34..=0x37 | b'A' | b'B' => Value::Binary(self.binary_after(code)?),
            0x80..=0xd7 | b'I' => Value::Int(self.int_after(code)?),
            0x38..=0x3f | 0xd8..=0xff | b'L' | b'Y' => Value::Long(self.long_after(code)?),
            0x5b..=0x5f | b'D' => Value::Double(self.double_after(code)?),
            0x4a | 0x4b => Value::Date(self.date_after(code)?),
            b'N' => Value::Null,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            _ => return Ok(None),
        };
        self.count_node()?;
        Ok(Some(value))
    }

    /// The container that `code` (consumed, at offset `at`) starts, with its type, count or
    /// class read; `None` (nothing more consumed) when `code` starts no container.
    pub(super) fn opening_after(
        &mut self,
        code: u8,
        at: usize,
    ) -> Result<Option<Opening>, DecodeError> {
        Ok(Some(match code {
            b'H' => Opening::Map { type_name: None },
            b'M' => Opening::Map {
                type_name: Some(self.read_type()?),
            },
            b'U' | b'V' | 0x70..=0x77 => {
                let type_name = Some(self.read_type()?);
                let remaining = match code {
                    b'U' => None,
                    b'V' => Some(self.expect_count()?),
                    _ => Some(usize::from(code - 0x70)),
                };
                Opening::List {
                    type_name,
                    remaining,
                }
            }
            b'W' => Opening::List {
                type_name: None,
                remaining: None,
            },
            b'X' => Opening::List {
                type_name: None,
                remaining: Some(self.expect_count()?),
            },
            0x78..=0x7f => Opening::List {
                type_name: None,
                remaining: Some(usize::from(code - 0x78)),
            },
            b'O' | 0x60..=0x6f => {
                let idx = match code {
                    b'O' => self.expect_count()?,
                    _ => usize::from(code - 0x60),
                };
                let Some(class) = self.classes.get(idx).cloned() else {
                    return Err(error_at(at, DecodeErrorKind::BadClassRef(idx)));
                };
                Opening::Object(class)
            }
            _ => return Ok(None),
        }))
    }

    /// Admits a container opened at offset `at` with `open` containers already around it: the
    /// depth limit, its node, and its reference number (stored at `loc`).
    pub(super) fn admit(&mut self, at: usize, open: usize, loc: RefLoc) -> Result<(), DecodeError> {
        if open >= self.limits.max_depth {
            return Err(error_at(
                at,
                DecodeErrorKind::DepthLimit(self.limits.max_depth),
            ));
        }
        self.count_node()?;
        self.refs.push(loc);
        Ok(())
    }

    /// Handles the code at a value position.
    fn step(&mut self, code: u8) -> Result<Step, DecodeError> {
        let at = self.pos - 1;
        if let Some(value) = self.scalar_after(code)? {
            return Ok(Step::Value(value));
        }
        if let Some(opening) = self.opening_after(code, at)? {
            let kind = match opening {
                Opening::Map { type_name } => Kind::Map {
                    type_name,
                    entries: Vec::new(),
                    key: None,
                },
                Opening::List {
                    type_name,
                    remaining,
                } => Kind::List {
                    type_name,
                    items: Vec::with_capacity(self.capacity_for(remaining.unwrap_or(0))),
                    remaining,
                },
                Opening::Object(class) => Kind::Object {
                    values: Vec::with_capacity(self.capacity_for(class.fields.len())),
                    class,
                },
            };
            let ref_idx = self.refs.len();
            self.admit(at, self.stack.len(), RefLoc::Open(self.stack.len()))?;
            self.stack.push(Frame { ref_idx, kind });
            return Ok(Step::Opened);
        }
        match code {
            b'C' => {
                self.class_def()?;
                Ok(Step::Defined)
            }
            b'Q' => {
                let idx = self.expect_count()?;
                self.resolve(idx, at).map(Step::Value)
            }
            b'Z' => {
                let kind = DecodeErrorKind::Unexpected {
                    expected: "value",
                    found: describe(code),
                };
                Err(error_at(at, kind))
            }
            _ => Err(error_at(at, DecodeErrorKind::UnknownCode(code))),
        }
    }

    /// Reads a class definition: name, field count, field names.
    pub(super) fn class_def(&mut self) -> Result<(), DecodeError> {
        let name = self.expect_string()?;
        let n = self.expect_count()?;
        let mut fields = Vec::with_capacity(self.capacity_for(n));
        for _ in 0..n {
            fields.push(self.expect_string()?);
        }
        self.classes.push(Arc::new(ClassDef { name, fields }));
        Ok(())
    }

    /// Reads a type: a string (added to the type table) or an int index into the table.
    pub(super) fn read_type(&mut self) -> Result<String, DecodeError> {
        let at = self.pos;
        let code = self.peek()?;
        if is_string_code(code) {
            let name = self.expect_string()?;
            self.types.push(name.clone());
            Ok(name)
        } else if is_int_code(code) {
            let idx = self.expect_count()?;
            let Some(name) = self.types.get(idx).cloned() else {
                return Err(error_at(at, DecodeErrorKind::BadTypeRef(idx)));
            };
            // A repeated type name is a copy: count it like repeated string data.
            self.count_nodes(name.len() / BYTES_PER_NODE)?;
            Ok(name)
        } else {
            self.fail(unexpected("type name or type reference", code))
        }
    }
}

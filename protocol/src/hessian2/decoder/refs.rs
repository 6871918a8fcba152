//! Back references: where every map, list and object lives ([`RefLoc`]) and how a `Q` is
//! resolved. A `Q` to a container that is still open becomes [`Value::Ref`]; a `Q` to a complete
//! one walks the parent chain from the nearest open frame (or from the kept copy of an earlier
//! top-level value) down to it and clones it, after counting its nodes and depth against the
//! limits. Nothing is copied unless a `Q` asks for it.

use super::{error_at, DecodeError, DecodeErrorKind, Decoder, Value};

/// Bytes of string, binary or type-name data that count as one more value when copied.
pub(super) const BYTES_PER_NODE: usize = 16;

/// Where a container (by reference index) lives.
#[derive(Debug, Clone, Copy)]
pub(super) enum RefLoc {
    /// Still being decoded, at this index of the frame stack.
    Open(usize),
    /// Complete and stored in the container with reference index `parent`, at `slot` (list item
    /// or object field index; for maps `2 * entry` for a key and `2 * entry + 1` for a value).
    Child { parent: usize, slot: usize },
    /// A complete top-level value, with the index of its copy in `history` if one was kept.
    Top(Option<usize>),
}

/// The value at `slot` of a complete container value.
fn value_child(value: &Value, slot: usize) -> Option<&Value> {
    match value {
        Value::List(l) => l.items.get(slot),
        Value::Object(o) => o.values.get(slot),
        Value::Map(m) => m
            .entries
            .get(slot / 2)
            .map(|(k, v)| if slot.is_multiple_of(2) { k } else { v }),
        _ => None,
    }
}

/// How many nodes a copied value costs.
fn weight(value: &Value) -> usize {
    1 + match value {
        Value::String(s) => s.len() / BYTES_PER_NODE,
        Value::Binary(b) => b.len() / BYTES_PER_NODE,
        _ => 0,
    }
}

/// Counts the nodes of `root` (see [`weight`]), failing as soon as more than `budget` nodes or a
/// container nesting deeper than `max_height` levels is found, before anything is copied.
fn measure<'v>(root: &'v Value, budget: usize, max_height: usize) -> Result<usize, Overrun> {
    let mut count = weight(root);
    let mut stack: Vec<(&'v Value, usize)> = vec![(root, 1)];
    while let Some((value, height)) = stack.pop() {
        if count > budget {
            return Err(Overrun::Nodes);
        }
        if height > max_height {
            return Err(Overrun::Depth);
        }
        let mut visit = |child: &'v Value| {
            count = count.saturating_add(weight(child));
            if matches!(child, Value::List(_) | Value::Map(_) | Value::Object(_)) {
                stack.push((child, height + 1));
            }
        };
        match value {
            Value::List(l) => l.items.iter().for_each(visit),
            Value::Object(o) => o.values.iter().for_each(visit),
            Value::Map(m) => m.entries.iter().for_each(|(k, v)| {
                visit(k);
                visit(v);
            }),
            _ => {}
        }
    }
    if count > budget {
        return Err(Overrun::Nodes);
    }
    Ok(count)
}

/// Which limit a copy would break.
enum Overrun {
    Nodes,
    Depth,
}

impl Decoder<'_> {
    /// Whether a `Q` byte occurs at or after the current position (if not, no back reference
    /// can follow and completed top-level values need no copy).
    pub(super) fn q_ahead(&mut self) -> bool {
        let input = self.input;
        let last = *self
            .last_q
            .get_or_insert_with(|| input.iter().rposition(|&b| b == b'Q'));
        last.is_some_and(|q| q >= self.pos)
    }

    /// Resolves back reference `idx` (the `Q` was at `at`).
    pub(super) fn resolve(&mut self, idx: usize, at: usize) -> Result<Value, DecodeError> {
        let bad = || error_at(at, DecodeErrorKind::BadRef(idx));
        let mut path = Vec::new();
        let mut cur = idx;
        let base = loop {
            match self.refs.get(cur).copied().ok_or_else(bad)? {
                RefLoc::Open(_) if cur == idx => {
                    self.count_node()?;
                    return u32::try_from(idx).map(Value::Ref).map_err(|_| bad());
                }
                RefLoc::Open(frame) => {
                    let slot = path.pop().ok_or_else(bad)?;
                    let frame = self.stack.get(frame).ok_or_else(bad)?;
                    break frame.child(slot).ok_or_else(bad)?;
                }
                RefLoc::Child { parent, slot } if parent < cur => {
                    path.push(slot);
                    cur = parent;
                }
                RefLoc::Top(Some(h)) => break self.history.get(h).ok_or_else(bad)?,
                RefLoc::Child { .. } | RefLoc::Top(None) => return Err(bad()),
            }
        };
        let mut node = base;
        while let Some(slot) = path.pop() {
            node = value_child(node, slot).ok_or_else(bad)?;
        }
        let budget = self.limits.max_nodes.saturating_sub(self.nodes);
        let max_height = self.limits.max_depth.saturating_sub(self.stack.len());
        match measure(node, budget, max_height) {
            Ok(count) => {
                let copy = node.clone();
                self.nodes += count;
                Ok(copy)
            }
            Err(Overrun::Nodes) => Err(error_at(
                at,
                DecodeErrorKind::NodeLimit(self.limits.max_nodes),
            )),
            Err(Overrun::Depth) => Err(error_at(
                at,
                DecodeErrorKind::DepthLimit(self.limits.max_depth),
            )),
        }
    }
}

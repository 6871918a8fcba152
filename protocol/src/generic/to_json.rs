//! hessian2 → JSON for generic-call results, in two conventions chosen by [`OutputOptions`].
//!
//! Default ([`OutputOptions::full`]): objects and generalized POJO maps become JSON objects with
//! `"class"` first; ints/doubles are numbers; longs beyond ±(2^53−1) become digit strings; NaN and
//! infinities become `"NaN"`/`"Infinity"`/`"-Infinity"`; binary is base64 (standard, padded);
//! dates are `1970-01-01T00:00:00.000Z`; `BigDecimal`/`BigInteger` stay objects.
//! [`OutputOptions::pixiu`] drops `"class"` keys and null entries (as dubbo-go-pixiu does) and
//! flattens `BigDecimal`/`BigInteger` to their exact decimal strings.
//!
//! A cycle ([`Value::Ref`]) cannot be written as JSON and is an error naming its path; output is
//! bounded by [`MAX_JSON_DEPTH`] and [`MAX_JSON_NODES`] so that a tree that repeats shared
//! references cannot explode.
//!
//! One traversal feeds either a `serde_json::Value` ([`hessian_to_json`]) or compact JSON text
//! ([`write_json_text`], what response bodies use: no intermediate tree). Paths for errors are
//! assembled only when an error travels up, so the common case does no path bookkeeping.

use std::borrow::Cow;
use std::collections::HashSet;

use base64::Engine as _;
use serde_json::{Number, Value as Json};
use thiserror::Error;

use sink::{Sink, TextSink, TreeSink};

use super::number::big_integer_text;
use super::time::format_date_millis;
use super::{prepend_index, prepend_key};
use crate::hessian2::{List, Value};

mod sink;
mod transcode;

pub use transcode::transcode_json_text;

/// Maximum JSON nesting produced.
pub const MAX_JSON_DEPTH: usize = 256;
/// Maximum number of JSON values produced for one result.
pub const MAX_JSON_NODES: usize = 2_000_000;
/// Longest text a map key that is itself a list, map or object may have. Each level of such
/// keys escapes the text of the one inside it again, so without a bound a few bytes of nested
/// keys per level would double the text per level.
pub const MAX_KEY_TEXT: usize = 64 * 1024;
/// Largest magnitude a long may have to be written as a JSON number (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

const BIG_DECIMAL: &str = "java.math.BigDecimal";
const BIG_INTEGER: &str = "java.math.BigInteger";

/// How results are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputOptions {
    /// Keep `"class"` keys (written first in each object).
    pub keep_class: bool,
    /// Keep map entries and object fields whose value is null.
    pub keep_null: bool,
    /// Write `BigDecimal`/`BigInteger` as their exact decimal strings instead of objects.
    pub flatten_big_numbers: bool,
}

impl OutputOptions {
    /// The documented default: everything kept, big numbers as objects.
    pub fn full() -> Self {
        OutputOptions {
            keep_class: true,
            keep_null: true,
            flatten_big_numbers: false,
        }
    }

    /// dubbo-go-pixiu's shape: no `"class"` keys, no null entries, big numbers as strings.
    pub fn pixiu() -> Self {
        OutputOptions {
            keep_class: false,
            keep_null: false,
            flatten_big_numbers: true,
        }
    }
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self::full()
    }
}

/// A result that cannot be written as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// A back reference to an enclosing container.
    #[error("{path}: cyclic reference (#{index}) cannot be written as JSON")]
    Cycle {
        /// Where the cycle closes, e.g. `$.cause.cause`.
        path: String,
        /// The hessian reference index.
        index: u32,
    },
    /// Nesting beyond [`MAX_JSON_DEPTH`].
    #[error("{path}: nested deeper than {limit} levels")]
    TooDeep {
        /// Where the limit was hit.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// A map key that is a container and whose JSON text is longer than [`MAX_KEY_TEXT`].
    #[error("{path}: a map key's JSON text is longer than {limit} bytes")]
    KeyTooLong {
        /// The map whose key it is.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// More than [`MAX_JSON_NODES`] values.
    #[error("result too large: more than {limit} JSON values")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
}

/// Converts a decoded hessian value to JSON.
pub fn hessian_to_json(v: &Value, opts: &OutputOptions) -> Result<Json, JsonError> {
    hessian_to_json_limited(v, opts, MAX_JSON_NODES)
}

/// Appends a decoded hessian value to `out` as compact JSON text: byte for byte what
/// `serde_json::to_vec` writes for [`hessian_to_json`]'s result, without building that tree.
/// On error `out` holds a partial document.
pub fn write_json_text(
    v: &Value,
    opts: &OutputOptions,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    write_json_text_limited(v, opts, MAX_JSON_NODES, out)
}

/// [`hessian_to_json`] with another node limit (tests use small ones).
pub(crate) fn hessian_to_json_limited(
    v: &Value,
    opts: &OutputOptions,
    max_nodes: usize,
) -> Result<Json, JsonError> {
    let mut sink = TreeSink::default();
    Writer::new(opts, max_nodes).run(v, &mut sink)?;
    Ok(sink.finish())
}

/// [`write_json_text`] with another node limit (tests use small ones).
pub(crate) fn write_json_text_limited(
    v: &Value,
    opts: &OutputOptions,
    max_nodes: usize,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    Writer::new(opts, max_nodes).run(v, &mut TextSink::new(out))
}

/// A failure on its way up: the path below the frame it has reached, built as it climbs.
struct Fail {
    kind: FailKind,
    path: String,
}

enum FailKind {
    Cycle(u32),
    TooDeep,
    KeyTooLong,
    TooLarge,
}

impl Fail {
    fn new(kind: FailKind) -> Self {
        Fail {
            kind,
            path: String::new(),
        }
    }

    /// The same failure seen from the parent that reached the child through `seg`.
    fn under(mut self, seg: Seg<'_>) -> Self {
        match seg {
            Seg::Index(i) => prepend_index(&mut self.path, i),
            Seg::Key(k) => prepend_key(&mut self.path, k),
            Seg::MapKey => self.path.insert_str(0, "{key}"),
        }
        self
    }

    fn into_error(self, max_nodes: usize) -> JsonError {
        let path = format!("${}", self.path);
        match self.kind {
            FailKind::Cycle(index) => JsonError::Cycle { path, index },
            FailKind::TooDeep => JsonError::TooDeep {
                path,
                limit: MAX_JSON_DEPTH,
            },
            FailKind::KeyTooLong => JsonError::KeyTooLong {
                path,
                limit: MAX_KEY_TEXT,
            },
            FailKind::TooLarge => JsonError::TooLarge { limit: max_nodes },
        }
    }
}

/// How a child is reached from its parent.
#[derive(Clone, Copy)]
enum Seg<'k> {
    Index(usize),
    Key(&'k str),
    /// A map key that is itself a container, written as JSON text.
    MapKey,
}

/// An object member: its value, or the class name written as the `"class"` member.
#[derive(Clone, Copy)]
enum Member<'v> {
    Class(&'v str),
    Value(&'v Value),
}

struct Writer {
    opts: OutputOptions,
    depth: usize,
    nodes: usize,
    max_nodes: usize,
}

impl Writer {
    fn new(opts: &OutputOptions, max_nodes: usize) -> Self {
        Writer {
            opts: *opts,
            depth: 0,
            nodes: 0,
            max_nodes,
        }
    }

    fn run<S: Sink>(mut self, v: &Value, out: &mut S) -> Result<(), JsonError> {
        let max = self.max_nodes;
        self.write(v, out).map_err(|f| f.into_error(max))
    }

    fn write<S: Sink>(&mut self, v: &Value, out: &mut S) -> Result<(), Fail> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(Fail::new(FailKind::TooLarge));
        }
        if write_scalar(v, out) {
            return Ok(());
        }
        match v {
            Value::List(list) => {
                out.begin_array(list.items.len());
                for (i, item) in list.items.iter().enumerate() {
                    self.enter(item, Seg::Index(i), out)?;
                }
                out.end_array();
            }
            Value::Map(map) => {
                let class = map
                    .get_str("class")
                    .and_then(Value::as_str)
                    .filter(|_| map.type_name.is_none());
                if let Some(flat) = class.and_then(|c| self.flatten(c, |f| map.get_str(f))) {
                    out.string(&flat);
                    return Ok(());
                }
                let mut fields = Vec::with_capacity(map.entries.len());
                for (k, val) in &map.entries {
                    if class.is_some() && k.as_str() == Some("class") {
                        continue;
                    }
                    fields.push((self.key_text(k)?, val));
                }
                self.object(class, fields, out)?;
            }
            Value::Object(obj) => {
                let class = obj.class.name.as_str();
                if let Some(flat) = self.flatten(class, |f| obj.field(f)) {
                    out.string(&flat);
                    return Ok(());
                }
                let fields = obj
                    .fields()
                    .filter(|(name, _)| *name != "class")
                    .map(|(name, val)| (Cow::Borrowed(name), val))
                    .collect();
                self.object(Some(class), fields, out)?;
            }
            Value::Ref(index) => return Err(Fail::new(FailKind::Cycle(*index))),
            _ => {}
        }
        Ok(())
    }

    /// Writes a child one level deeper.
    fn enter<S: Sink>(&mut self, v: &Value, seg: Seg<'_>, out: &mut S) -> Result<(), Fail> {
        self.depth += 1;
        let done = if self.depth > MAX_JSON_DEPTH {
            Err(Fail::new(FailKind::TooDeep))
        } else {
            self.write(v, out)
        };
        self.depth -= 1;
        done.map_err(|f| f.under(seg))
    }

    /// A JSON object: `"class"` first (if kept), then the fields in order. Null fields are left
    /// out unless kept; a key that repeats keeps its first position and takes its last value.
    fn object<S: Sink>(
        &mut self,
        class: Option<&str>,
        fields: Vec<(Cow<'_, str>, &Value)>,
        out: &mut S,
    ) -> Result<(), Fail> {
        let mut members: Vec<(&str, Member<'_>)> = Vec::with_capacity(fields.len() + 1);
        if let (true, Some(c)) = (self.opts.keep_class, class) {
            members.push(("class", Member::Class(c)));
        }
        for (key, val) in &fields {
            if !self.opts.keep_class && key == "class" {
                continue;
            }
            if !self.opts.keep_null && matches!(val, Value::Null) {
                continue;
            }
            members.push((key, Member::Value(val)));
        }
        if has_repeats(&members) {
            members = merge_repeats(&members);
        }
        out.begin_object(members.len());
        for (key, member) in members {
            out.key(key);
            match member {
                Member::Class(c) => out.string(c),
                Member::Value(val) => self.enter(val, Seg::Key(key), out)?,
            }
        }
        out.end_object();
        Ok(())
    }

    /// The text of a map key: strings as they are, scalars via their JSON text, anything else
    /// as compact JSON.
    fn key_text<'v>(&mut self, k: &'v Value) -> Result<Cow<'v, str>, Fail> {
        if let Some(text) = scalar_key_text(k) {
            return Ok(text);
        }
        let mut text = Vec::new();
        self.enter(k, Seg::MapKey, &mut TextSink::new(&mut text))?;
        if text.len() > MAX_KEY_TEXT {
            return Err(Fail::new(FailKind::KeyTooLong));
        }
        Ok(Cow::Owned(String::from_utf8_lossy(&text).into_owned()))
    }

    /// `BigDecimal`/`BigInteger` as their decimal text, if flattening and the value has the
    /// expected shape (`value` string, or `signum` + `mag` for a field-by-field BigInteger).
    fn flatten<'v>(
        &self,
        class: &str,
        field: impl Fn(&str) -> Option<&'v Value>,
    ) -> Option<String> {
        if !self.opts.flatten_big_numbers || (class != BIG_DECIMAL && class != BIG_INTEGER) {
            return None;
        }
        if let Some(Value::String(s)) = field("value") {
            return Some(s.clone());
        }
        if class != BIG_INTEGER {
            return None;
        }
        let signum = match field("signum")? {
            Value::Int(s) => *s,
            _ => return None,
        };
        let words = match field("mag")? {
            Value::List(List { items, .. }) => items
                .iter()
                .map(|w| match w {
                    Value::Int(i) => Some(u32::from_be_bytes(i.to_be_bytes())),
                    _ => None,
                })
                .collect::<Option<Vec<u32>>>()?,
            _ => return None,
        };
        big_integer_text(signum, &words)
    }
}

/// Writes `v` if it is a scalar (anything but a list, map, object or reference).
fn write_scalar<S: Sink>(v: &Value, out: &mut S) -> bool {
    match v {
        Value::Null => out.null(),
        Value::Bool(b) => out.bool(*b),
        Value::Int(i) => out.int(i64::from(*i)),
        Value::Long(l) if l.unsigned_abs() <= MAX_SAFE_INTEGER.unsigned_abs() => out.int(*l),
        Value::Long(l) => out.string(&l.to_string()),
        Value::Double(d) => match special_double(*d) {
            Some(text) => out.string(text),
            None => out.float(*d),
        },
        Value::Date(ms) => out.string(&format_date_millis(*ms)),
        Value::String(s) => out.string(s),
        Value::Binary(b) => out.string(&base64::engine::general_purpose::STANDARD.encode(b)),
        Value::List(_) | Value::Map(_) | Value::Object(_) | Value::Ref(_) => return false,
    }
    true
}

/// The text of a scalar map key (what `Writer::key_text` gives), `None` for other keys.
fn scalar_key_text(k: &Value) -> Option<Cow<'_, str>> {
    Some(match k {
        Value::String(s) => Cow::Borrowed(s),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Long(l) => Cow::Owned(l.to_string()),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Null => Cow::Borrowed("null"),
        Value::Date(ms) => Cow::Owned(format_date_millis(*ms)),
        Value::Double(d) => match special_double(*d) {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(Number::from_f64(*d).map_or_else(String::new, |n| n.to_string())),
        },
        _ => return None,
    })
}

/// Whether two members may share a key (a fingerprint collision only costs a merge that
/// changes nothing).
fn has_repeats(members: &[(&str, Member<'_>)]) -> bool {
    let mut seen = Seen::default();
    !members.iter().all(|(k, _)| seen.insert(k))
}

/// One member per key, at the key's first position with its last value (what inserting the
/// members into a `serde_json::Map` one by one gives).
fn merge_repeats<'k, 'v>(members: &[(&'k str, Member<'v>)]) -> Vec<(&'k str, Member<'v>)> {
    let mut merged: Vec<(&'k str, Member<'v>)> = Vec::with_capacity(members.len());
    let mut at: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(members.len());
    for (key, member) in members {
        match at.get(key) {
            Some(&i) => merged[i].1 = *member,
            None => {
                at.insert(key, merged.len());
                merged.push((key, *member));
            }
        }
    }
    merged
}

/// Java's text for the doubles JSON cannot hold as numbers.
fn special_double(d: f64) -> Option<&'static str> {
    if d.is_nan() {
        Some("NaN")
    } else if d == f64::INFINITY {
        Some("Infinity")
    } else if d == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// Keys an object may have before repeats are looked up in a set instead of a list.
const PAIRWISE: usize = 32;

/// The keys of one object so far, as 64-bit fingerprints: two keys with the same fingerprint
/// count as a repeat, which at worst sends an object to the tree path for nothing.
#[derive(Default)]
struct Seen {
    few: Vec<u64>,
    many: HashSet<u64>,
}

impl Seen {
    /// Adds `key`; `false` if it (or a key with its fingerprint) was there already.
    fn insert(&mut self, key: &str) -> bool {
        let print = fingerprint(key);
        if self.many.is_empty() {
            if self.few.contains(&print) {
                return false;
            }
            self.few.push(print);
            if self.few.len() > PAIRWISE {
                self.many.extend(self.few.drain(..));
            }
            true
        } else {
            self.many.insert(print)
        }
    }
}

/// FNV-1a over the key's bytes.
fn fingerprint(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

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

use base64::Engine as _;
use serde_json::{Map as JsonMap, Number, Value as Json};
use thiserror::Error;

use super::number::big_integer_text;
use super::push_key;
use super::time::format_date_millis;
use crate::hessian2::{List, Value};

/// Maximum JSON nesting produced.
pub const MAX_JSON_DEPTH: usize = 256;
/// Maximum number of JSON values produced for one result.
pub const MAX_JSON_NODES: usize = 2_000_000;
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

/// [`hessian_to_json`] with another node limit (tests use small ones).
pub(crate) fn hessian_to_json_limited(
    v: &Value,
    opts: &OutputOptions,
    max_nodes: usize,
) -> Result<Json, JsonError> {
    Writer {
        opts: *opts,
        path: "$".to_string(),
        depth: 0,
        nodes: 0,
        max_nodes,
    }
    .write(v)
}

struct Writer {
    opts: OutputOptions,
    path: String,
    depth: usize,
    nodes: usize,
    max_nodes: usize,
}

impl Writer {
    fn write(&mut self, v: &Value) -> Result<Json, JsonError> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(JsonError::TooLarge {
                limit: self.max_nodes,
            });
        }
        Ok(match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Long(l) if l.unsigned_abs() <= MAX_SAFE_INTEGER.unsigned_abs() => Json::from(*l),
            Value::Long(l) => Json::String(l.to_string()),
            Value::Double(d) => double(*d),
            Value::Date(ms) => Json::String(format_date_millis(*ms)),
            Value::String(s) => Json::String(s.clone()),
            Value::Binary(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::List(list) => {
                let mut out = Vec::with_capacity(list.items.len());
                for (i, item) in list.items.iter().enumerate() {
                    let len = self.path.len();
                    self.path.push_str(&format!("[{i}]"));
                    out.push(self.enter(item)?);
                    self.path.truncate(len);
                }
                Json::Array(out)
            }
            Value::Map(map) => {
                let class = map
                    .get_str("class")
                    .and_then(Value::as_str)
                    .filter(|_| map.type_name.is_none());
                if let Some(flat) = class.and_then(|c| self.flatten(c, |f| map.get_str(f))) {
                    return Ok(flat);
                }
                let mut fields = Vec::with_capacity(map.entries.len());
                for (k, val) in &map.entries {
                    if class.is_some() && k.as_str() == Some("class") {
                        continue;
                    }
                    fields.push((self.key_text(k)?, val));
                }
                self.object(class, fields)?
            }
            Value::Object(obj) => {
                let class = obj.class.name.as_str();
                if let Some(flat) = self.flatten(class, |f| obj.field(f)) {
                    return Ok(flat);
                }
                let fields = obj
                    .fields()
                    .filter(|(name, _)| *name != "class")
                    .map(|(name, val)| (name.to_string(), val))
                    .collect();
                self.object(Some(class), fields)?
            }
            Value::Ref(index) => {
                return Err(JsonError::Cycle {
                    path: self.path.clone(),
                    index: *index,
                })
            }
        })
    }

    /// Writes a child one level deeper.
    fn enter(&mut self, v: &Value) -> Result<Json, JsonError> {
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return Err(JsonError::TooDeep {
                path: self.path.clone(),
                limit: MAX_JSON_DEPTH,
            });
        }
        let out = self.write(v);
        self.depth -= 1;
        out
    }

    /// A JSON object: `"class"` first (if kept), then the fields in order.
    fn object(
        &mut self,
        class: Option<&str>,
        fields: Vec<(String, &Value)>,
    ) -> Result<Json, JsonError> {
        let mut out = JsonMap::new();
        if let (true, Some(c)) = (self.opts.keep_class, class) {
            out.insert("class".into(), Json::String(c.to_string()));
        }
        for (key, val) in fields {
            if !self.opts.keep_class && key == "class" {
                continue;
            }
            if !self.opts.keep_null && matches!(val, Value::Null) {
                continue;
            }
            let len = self.path.len();
            push_key(&mut self.path, &key);
            let json = self.enter(val)?;
            self.path.truncate(len);
            out.insert(key, json);
        }
        Ok(Json::Object(out))
    }

    /// The text of a map key: strings as they are, scalars via their JSON text, anything else
    /// as compact JSON.
    fn key_text(&mut self, k: &Value) -> Result<String, JsonError> {
        Ok(match k {
            Value::String(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Long(l) => l.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::Date(ms) => format_date_millis(*ms),
            Value::Double(d) => match double(*d) {
                Json::String(s) => s,
                other => other.to_string(),
            },
            other => {
                let len = self.path.len();
                self.path.push_str("{key}");
                let json = self.enter(other)?;
                self.path.truncate(len);
                json.to_string()
            }
        })
    }

    /// `BigDecimal`/`BigInteger` as their decimal text, if flattening and the value has the
    /// expected shape (`value` string, or `signum` + `mag` for a field-by-field BigInteger).
    fn flatten<'v>(&self, class: &str, field: impl Fn(&str) -> Option<&'v Value>) -> Option<Json> {
        if !self.opts.flatten_big_numbers || (class != BIG_DECIMAL && class != BIG_INTEGER) {
            return None;
        }
        if let Some(Value::String(s)) = field("value") {
            return Some(Json::String(s.clone()));
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
        big_integer_text(signum, &words).map(Json::String)
    }
}

/// A double as a JSON number, or Java's text for the values JSON cannot hold.
fn double(d: f64) -> Json {
    if d.is_nan() {
        Json::String("NaN".into())
    } else if d == f64::INFINITY {
        Json::String("Infinity".into())
    } else if d == f64::NEG_INFINITY {
        Json::String("-Infinity".into())
    } else {
        Number::from_f64(d).map_or(Json::Null, Json::Number)
    }
}

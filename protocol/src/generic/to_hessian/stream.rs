//! JSON text → hessian2 in one pass for `Object` and POJO parameters, the common shape of a
//! request body mapped whole (`requestBody._all`): serde_json's parser drives a visitor that
//! builds the hessian value directly, with no `serde_json::Value` in between.
//!
//! The result, and the error when there is one, are exactly those of parsing the text and then
//! calling [`json_to_hessian`]: a syntax error anywhere wins over a conversion error; a repeated
//! key keeps its first position and its last value; within an object the `"class"` check comes
//! before the members' own errors, and members report in order. Other parameter types take
//! that two-step path.

use std::collections::HashMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use thiserror::Error;

use super::{json_to_hessian, rooted, under, ArgError, Converter, Seg, MAX_INPUT_DEPTH};
use crate::generic::java_type::JavaType;
use crate::generic::policy::InputPolicy;
use crate::hessian2::{List, Map, Value};

/// Objects up to this many members find repeated keys by comparing pairwise.
const PAIRWISE: usize = 32;

/// Why a JSON text could not be converted.
#[derive(Debug, Error)]
pub enum TextArgError {
    /// The text is not JSON.
    #[error("{0}")]
    Syntax(serde_json::Error),
    /// The JSON does not fit the declared type, or names a class outside the policy.
    #[error("{0}")]
    Arg(ArgError),
}

/// Parses `text` as JSON and converts it for a parameter of type `ty`, as [`json_to_hessian`]
/// does for the parsed value (`path` names the value in errors).
pub fn json_text_to_hessian(
    text: &[u8],
    ty: &JavaType,
    path: &str,
    policy: &InputPolicy,
) -> Result<Value, TextArgError> {
    let pojo = match ty {
        JavaType::Object => None,
        JavaType::Class(class) => Some(class.as_str()),
        _ => {
            let json = serde_json::from_slice(text).map_err(TextArgError::Syntax)?;
            return json_to_hessian(json, ty, path, policy).map_err(TextArgError::Arg);
        }
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    let seed = Seed {
        conv: Converter { policy, depth: 0 },
        pojo: pojo.map(|class| (class, ty)),
    };
    let done = seed.deserialize(&mut de).map_err(TextArgError::Syntax)?;
    de.end().map_err(TextArgError::Syntax)?;
    done.value.map_err(|e| TextArgError::Arg(rooted(e, path)))
}

/// One converted JSON value: its JSON kind (for messages) and the result. A conversion error
/// does not stop the parse, so that a later syntax error still wins.
struct Done {
    kind: &'static str,
    value: Result<Value, ArgError>,
}

impl Done {
    fn ok(kind: &'static str, value: Value) -> Self {
        Done {
            kind,
            value: Ok(value),
        }
    }
}

/// Converts one value at `conv.depth`: by inference, or (the root of a POJO parameter) as the
/// declared class.
struct Seed<'a, 't> {
    conv: Converter<'a>,
    pojo: Option<(&'t str, &'t JavaType)>,
}

impl<'a> Seed<'a, '_> {
    /// The seed for a child, which is always converted by inference.
    fn child(&self) -> Seed<'a, 'static> {
        Seed {
            conv: Converter {
                policy: self.conv.policy,
                depth: self.conv.depth + 1,
            },
            pojo: None,
        }
    }

    /// A child's result, with the depth limit applied and its error placed under `seg`.
    fn place(&self, done: Done, seg: Seg<'_>) -> Done {
        let value = if self.conv.depth + 1 > MAX_INPUT_DEPTH {
            Err(self.conv.too_deep())
        } else {
            done.value
        };
        Done {
            kind: done.kind,
            value: value.map_err(|e| under(e, seg)),
        }
    }

    /// A scalar or array where a POJO was declared: only a string (an enum constant) fits.
    fn not_a_pojo(&self, done: Done) -> Done {
        match self.pojo {
            Some((_, ty)) if done.kind != "string" => Done {
                kind: done.kind,
                value: Err(self.conv.expected_kind(
                    "a JSON object (or a string for an enum)",
                    ty,
                    done.kind,
                )),
            },
            _ => done,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Done;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Done, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Done;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Done, E> {
        Ok(Done::ok("null", Value::Null))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Done, E> {
        Ok(self.not_a_pojo(Done::ok("boolean", Value::Bool(b))))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Done, E> {
        let value = i32::try_from(v).map_or(Value::Long(v), Value::Int);
        Ok(self.not_a_pojo(Done::ok("number", value)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Done, E> {
        let done = match i64::try_from(v) {
            Ok(v) => Done::ok("number", i32::try_from(v).map_or(Value::Long(v), Value::Int)),
            Err(_) => Done {
                kind: "number",
                value: Err(self.conv.err(format!(
                    "{v} is out of range for java.lang.Long; declare java.math.BigInteger and send a string"
                ))),
            },
        };
        Ok(self.not_a_pojo(done))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Done, E> {
        Ok(self.not_a_pojo(Done::ok("number", Value::Double(v))))
    }

    fn visit_str<E>(self, s: &str) -> Result<Done, E> {
        Ok(Done::ok("string", Value::String(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Done, E> {
        Ok(Done::ok("string", Value::String(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Done, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut first_err = None;
        let mut i = 0;
        while let Some(done) = seq.next_element_seed(self.child())? {
            match self.place(done, Seg::Index(i)).value {
                Ok(v) => items.push(v),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
            i += 1;
        }
        let value = match first_err {
            Some(e) => Err(e),
            None => Ok(Value::List(List {
                type_name: None,
                items,
            })),
        };
        Ok(self.not_a_pojo(Done {
            kind: "array",
            value,
        }))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Done, A::Error> {
        let mut members: Vec<(String, Done)> = Vec::with_capacity(8);
        // Positions by key once an object is too large to search pairwise.
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let done = map.next_value_seed(self.child())?;
            let done = self.place(done, Seg::Key(&key));
            // A repeated key keeps its first position and takes the later value.
            let at = if members.len() < PAIRWISE {
                members.iter().position(|(k, _)| *k == key)
            } else {
                if index.is_empty() {
                    index.extend(members.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)));
                }
                index.get(&key).copied()
            };
            match at {
                Some(at) => members[at].1 = done,
                None => {
                    if !index.is_empty() {
                        index.insert(key.clone(), members.len());
                    }
                    members.push((key, done));
                }
            }
        }
        let value = self.object(members);
        Ok(Done {
            kind: "object",
            value,
        })
    }
}

impl Seed<'_, '_> {
    /// An object's members, in the shape `Converter::infer` (or `pojo`, for the root of a POJO
    /// parameter) gives: `"class"` first when it names a class, else an untyped map.
    fn object(&self, mut members: Vec<(String, Done)>) -> Result<Value, ArgError> {
        let class_at = members.iter().position(|(k, _)| k == "class");
        let class = match (self.pojo, class_at) {
            (Some((declared, _)), None) => Some(declared.to_string()),
            (_, Some(at)) => match &members[at].1 {
                Done {
                    value: Ok(Value::String(c)),
                    ..
                } => {
                    if self.pojo.is_none_or(|(declared, _)| c != declared) {
                        self.conv
                            .check_class(c)
                            .map_err(|e| under(e, Seg::Key("class")))?;
                    }
                    let (_, done) = members.remove(at);
                    match done.value {
                        Ok(Value::String(c)) => Some(c),
                        _ => None,
                    }
                }
                other if self.pojo.is_some() => {
                    let reason = format!("\"class\" must be a string, found {}", other.kind);
                    return Err(under(self.conv.err(reason), Seg::Key("class")));
                }
                _ => None,
            },
            (None, None) => None,
        };
        let mut entries = Vec::with_capacity(members.len() + 1);
        if let Some(class) = class {
            entries.push((Value::string("class"), Value::String(class)));
        }
        for (k, done) in members {
            entries.push((Value::String(k), done.value?));
        }
        Ok(Value::Map(Map {
            type_name: None,
            entries,
        }))
    }
}

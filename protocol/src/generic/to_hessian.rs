//! JSON → hessian2 for generic-call arguments, guided by the declared [`JavaType`].
//!
//! The output is what a Java generic consumer would send and what `PojoUtils.realize` on the
//! provider turns into the real parameter: numbers in the box Java expects (range-checked),
//! dates as hessian dates, `BigDecimal`/`BigInteger`/`java.time` values as validated strings,
//! arrays as typed lists, POJOs as maps with `"class"` first. Every client-supplied `"class"`
//! is checked against an [`InputPolicy`]. Errors name the offending path (`args[1].address.zip`).

use serde_json::Value as Json;
use thiserror::Error;

use super::java_type::{JavaType, Primitive};
use super::policy::InputPolicy;
use super::time;
use super::{prepend_index, prepend_key};
use crate::hessian2::{List, Map, Value};

mod scalars;
mod stream;

pub use stream::{json_text_to_hessian, TextArgError};

/// Maximum JSON nesting converted (serde_json's own parser stops at 128 as well).
pub const MAX_INPUT_DEPTH: usize = 128;

/// Why an argument was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgErrorKind {
    /// The value does not fit its declared type (a client error, HTTP 400).
    Invalid,
    /// A client-supplied `class` is outside the allowlist (a security refusal, HTTP 403).
    ClassNotAllowed,
}

/// An argument that cannot be converted to its declared type.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {reason}")]
pub struct ArgError {
    /// Where in the arguments, e.g. `args[1].address.zip`.
    pub path: String,
    /// What is wrong, e.g. `3000000000 is out of range for int (-2147483648..=2147483647)`.
    pub reason: String,
    /// The kind of refusal.
    pub kind: ArgErrorKind,
}

/// Converts one JSON value to hessian for a parameter (or field) of type `ty`. `path` names the
/// value in errors (`args[0]`); nested paths are appended to it. The value is consumed: its
/// strings move into the result.
pub fn json_to_hessian(
    json: Json,
    ty: &JavaType,
    path: &str,
    policy: &InputPolicy,
) -> Result<Value, ArgError> {
    Converter { policy, depth: 0 }
        .convert(json, ty)
        .map_err(|e| rooted(e, path))
}

/// An error whose path is relative to the converted value, placed under `root`.
fn rooted(mut e: ArgError, root: &str) -> ArgError {
    // Relative paths are built below a non-empty placeholder, so a key directly under an empty
    // root carries a dot that push_key would not have written.
    let below = if root.is_empty() {
        e.path.strip_prefix('.').unwrap_or(&e.path)
    } else {
        &e.path
    };
    e.path = format!("{root}{below}");
    e
}

/// An error from one level down, seen from the level that reached it through `seg`.
fn under(mut e: ArgError, seg: Seg<'_>) -> ArgError {
    match seg {
        Seg::Index(i) => prepend_index(&mut e.path, i),
        Seg::Key(k) => prepend_key(&mut e.path, k),
    }
    e
}

/// Converts a whole argument list, naming the values `args[0]`, `args[1]`, …
pub fn json_args_to_hessian(
    args: &[Json],
    types: &[JavaType],
    policy: &InputPolicy,
) -> Result<Vec<Value>, ArgError> {
    if args.len() != types.len() {
        return Err(ArgError {
            path: "args".into(),
            reason: format!("expected {} argument(s), found {}", types.len(), args.len()),
            kind: ArgErrorKind::Invalid,
        });
    }
    args.iter()
        .zip(types)
        .enumerate()
        .map(|(i, (a, t))| json_to_hessian(a.clone(), t, &format!("args[{i}]"), policy))
        .collect()
}

/// The JSON kind for messages.
pub(crate) fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Errors carry the path below the value being converted; each level prepends its segment as
/// an error travels up, so a successful conversion does no path bookkeeping.
struct Converter<'a> {
    policy: &'a InputPolicy,
    depth: usize,
}

impl Converter<'_> {
    fn err(&self, reason: impl Into<String>) -> ArgError {
        ArgError {
            path: String::new(),
            reason: reason.into(),
            kind: ArgErrorKind::Invalid,
        }
    }

    fn too_deep(&self) -> ArgError {
        self.err(format!("nested deeper than {MAX_INPUT_DEPTH} levels"))
    }

    fn expected(&self, what: &str, ty: &JavaType, json: &Json) -> ArgError {
        self.expected_kind(what, ty, kind(json))
    }

    fn expected_kind(&self, what: &str, ty: &JavaType, found: &str) -> ArgError {
        self.err(format!("expected {what} for {ty}, found {found}"))
    }

    /// Runs `f` one level down, below `seg` (`[3]` or a key).
    fn nested<T>(
        &mut self,
        seg: Seg<'_>,
        f: impl FnOnce(&mut Self) -> Result<T, ArgError>,
    ) -> Result<T, ArgError> {
        self.depth += 1;
        let out = if self.depth > MAX_INPUT_DEPTH {
            Err(self.too_deep())
        } else {
            f(self)
        };
        self.depth -= 1;
        out.map_err(|e| under(e, seg))
    }

    fn convert(&mut self, json: Json, ty: &JavaType) -> Result<Value, ArgError> {
        if json.is_null() {
            return match ty {
                JavaType::Primitive(p) => Err(self.err(format!(
                    "null is not allowed for primitive {} (use {})",
                    p.name(),
                    p.boxed_name()
                ))),
                _ => Ok(Value::Null),
            };
        }
        match ty {
            JavaType::Primitive(p) | JavaType::Boxed(p) => self.primitive(&json, *p, ty),
            JavaType::String => match json {
                Json::String(s) => Ok(Value::String(s)),
                _ => Err(self.err(format!(
                    "expected a JSON string for java.lang.String, found {} (numbers and booleans are not converted)",
                    kind(&json)
                ))),
            },
            JavaType::Object => self.infer(json),
            JavaType::BigDecimal => self.big_decimal(&json, ty),
            JavaType::BigInteger => self.big_integer(&json, ty),
            JavaType::Date => self.date(&json, ty),
            JavaType::LocalDate => self.local(&json, ty, time::check_local_date),
            JavaType::LocalDateTime => self.local(&json, ty, time::check_local_date_time),
            JavaType::LocalTime => self.local(&json, ty, time::check_local_time),
            JavaType::ByteArray => self.bytes(&json, ty),
            JavaType::CharArray => match json {
                Json::String(s) => Ok(Value::String(s)),
                _ => Err(self.expected("a JSON string", ty, &json)),
            },
            // Only reachable for hand-built types: `JavaType::parse` folds these two already.
            JavaType::Array(element) if **element == JavaType::Primitive(Primitive::Byte) => {
                self.bytes(&json, ty)
            }
            JavaType::Array(element) if **element == JavaType::Primitive(Primitive::Char) => {
                self.convert(json, &JavaType::CharArray)
            }
            JavaType::Array(element) => {
                let items = self.items(json, element, ty)?;
                Ok(Value::typed_list(array_type_name(element), items))
            }
            JavaType::List { element, .. } => Ok(Value::list(self.items(json, element, ty)?)),
            JavaType::Set { element, .. } => Ok(Value::typed_list(
                "java.util.HashSet",
                self.items(json, element, ty)?,
            )),
            JavaType::Map { key, value, .. } => self.map(json, key, value, ty),
            JavaType::Class(class) => match json {
                Json::Object(obj) => self.pojo(obj, class),
                // An enum constant's name (PojoUtils: Enum.valueOf), or any text the provider
                // converts itself (e.g. java.sql.Timestamp).
                Json::String(s) => Ok(Value::String(s)),
                _ => Err(self.expected("a JSON object (or a string for an enum)", ty, &json)),
            },
        }
    }

    fn items(
        &mut self,
        json: Json,
        element: &JavaType,
        ty: &JavaType,
    ) -> Result<Vec<Value>, ArgError> {
        let Json::Array(items) = json else {
            return Err(self.expected("a JSON array", ty, &json));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| self.nested(Seg::Index(i), |c| c.convert(item, element)))
            .collect()
    }

    fn map(
        &mut self,
        json: Json,
        key_ty: &JavaType,
        value_ty: &JavaType,
        ty: &JavaType,
    ) -> Result<Value, ArgError> {
        let Json::Object(obj) = json else {
            return Err(self.expected("a JSON object", ty, &json));
        };
        // PojoUtils loads a String "class" entry even for Map-typed parameters.
        if let Some(Json::String(class)) = obj.get("class") {
            self.nested(Seg::Key("class"), |c| c.check_class(class))?;
        }
        let mut entries = Vec::with_capacity(obj.len());
        for (k, v) in obj {
            let entry = self.nested(Seg::Key(&k), |c| {
                let key = match key_ty {
                    JavaType::Object | JavaType::String => Value::String(k.clone()),
                    other => c
                        .convert(Json::String(k.clone()), other)
                        .map_err(|e| c.err(format!("map key: {}", e.reason)))?,
                };
                Ok((key, c.convert(v, value_ty)?))
            })?;
            entries.push(entry);
        }
        Ok(Value::map(entries))
    }

    /// A POJO as Dubbo's generalized form: `H` map, `"class"` first, fields by inference.
    fn pojo(
        &mut self,
        mut obj: serde_json::Map<String, Json>,
        declared: &str,
    ) -> Result<Value, ArgError> {
        let class = match obj.shift_remove("class") {
            None => declared.to_string(),
            Some(Json::String(c)) if c == declared => c,
            Some(Json::String(c)) => {
                self.nested(Seg::Key("class"), |conv| conv.check_class(&c))?;
                c
            }
            Some(other) => {
                return self.nested(Seg::Key("class"), |c| {
                    Err(c.err(format!(
                        "\"class\" must be a string, found {}",
                        kind(&other)
                    )))
                })
            }
        };
        self.class_map(class, obj)
    }

    /// `"class"` first, then the other members (the caller took `"class"` out of `obj`).
    fn class_map(
        &mut self,
        class: String,
        obj: serde_json::Map<String, Json>,
    ) -> Result<Value, ArgError> {
        let mut entries = Vec::with_capacity(obj.len() + 1);
        entries.push((Value::string("class"), Value::String(class)));
        for (k, v) in obj {
            let value = self.nested(Seg::Key(&k), |c| c.infer(v))?;
            entries.push((Value::String(k), value));
        }
        Ok(Value::Map(Map {
            type_name: None,
            entries,
        }))
    }

    fn check_class(&self, class: &str) -> Result<(), ArgError> {
        if self.policy.check_class(class) {
            Ok(())
        } else {
            Err(ArgError {
                kind: ArgErrorKind::ClassNotAllowed,
                ..self.err(format!(
                    "class {class:?} is not allowed (allowlist: {})",
                    self.policy.describe()
                ))
            })
        }
    }

    /// `Object` slots and POJO fields: the JSON value's own shape decides.
    fn infer(&mut self, json: Json) -> Result<Value, ArgError> {
        match json {
            Json::Null => Ok(Value::Null),
            Json::Bool(b) => Ok(Value::Bool(b)),
            Json::Number(n) => {
                if let Some(v) = n.as_i64() {
                    Ok(i32::try_from(v).map_or(Value::Long(v), Value::Int))
                } else if n.is_u64() {
                    Err(self.err(format!(
                        "{n} is out of range for java.lang.Long; declare java.math.BigInteger and send a string"
                    )))
                } else {
                    Ok(Value::Double(n.as_f64().unwrap_or(f64::NAN)))
                }
            }
            Json::String(s) => Ok(Value::String(s)),
            Json::Array(items) => {
                let values = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| self.nested(Seg::Index(i), |c| c.infer(item)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::List(List {
                    type_name: None,
                    items: values,
                }))
            }
            Json::Object(mut obj) => {
                if matches!(obj.get("class"), Some(Json::String(_))) {
                    if let Some(Json::String(class)) = obj.shift_remove("class") {
                        self.nested(Seg::Key("class"), |c| c.check_class(&class))?;
                        return self.class_map(class, obj);
                    }
                }
                let mut entries = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    let value = self.nested(Seg::Key(&k), |c| c.infer(v))?;
                    entries.push((Value::String(k), value));
                }
                Ok(Value::map(entries))
            }
        }
    }
}

/// A path segment.
#[derive(Clone, Copy)]
enum Seg<'k> {
    Index(usize),
    Key(&'k str),
}

/// A JSON value for messages: short scalars verbatim, otherwise the kind.
fn describe(json: &Json) -> String {
    match json {
        Json::String(s) if s.chars().count() <= 32 => format!("{s:?}"),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        other => kind(other).to_string(),
    }
}

/// The hessian list type of an array with elements `element`, as hessian-lite's array
/// serializers name it (`[int`, `[string`, `[[int`, `[java.lang.Integer`). Element types that
/// travel as strings or maps (BigDecimal, java.time, POJOs, enums, collections) use `[object`: a
/// typed `[org.example.User` array of maps would fail on the provider with an
/// `ArrayStoreException`, while `PojoUtils` converts an `Object[]` to the declared array.
pub(crate) fn array_type_name(element: &JavaType) -> String {
    match element {
        JavaType::Primitive(p) => format!("[{}", p.name()),
        JavaType::Boxed(Primitive::Char) => "[object".into(),
        JavaType::Boxed(p) => format!("[{}", p.boxed_name()),
        JavaType::String => "[string".into(),
        JavaType::Date => "[date".into(),
        JavaType::ByteArray => "[[byte".into(),
        JavaType::CharArray => "[[char".into(),
        JavaType::Array(inner) => format!("[{}", array_type_name(inner)),
        _ => "[object".into(),
    }
}

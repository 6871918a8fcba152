//! Scalar conversions for [`Converter`]: Java primitives and boxes (range-checked, numeric
//! strings accepted), `BigDecimal`/`BigInteger` (exact strings), `java.util.Date`, the
//! `java.time` local types and `byte[]`.

use base64::Engine as _;
use serde_json::Value as Json;

use super::{describe, kind, ArgError, Converter, Seg};
use crate::generic::java_type::{JavaType, Primitive};
use crate::generic::{number, time};
use crate::hessian2::Value;

impl Converter<'_> {
    pub(super) fn primitive(
        &self,
        json: &Json,
        p: Primitive,
        ty: &JavaType,
    ) -> Result<Value, ArgError> {
        let java = ty.to_string();
        let int = |min: i64, max: i64| -> Result<i64, String> {
            match json {
                Json::Number(n) => number::integer_from_number(n, min, max, &java),
                Json::String(s) => number::integer_from_str(s, min, max, &java),
                _ => Err(format!(
                    "expected a JSON number or numeric string for {java}, found {}",
                    kind(json)
                )),
            }
        };
        let narrow = |v: i64| i32::try_from(v).map(Value::Int).map_err(|e| e.to_string());
        let result = match p {
            Primitive::Byte => int(i8::MIN.into(), i8::MAX.into()).and_then(narrow),
            Primitive::Short => int(i16::MIN.into(), i16::MAX.into()).and_then(narrow),
            Primitive::Int => int(i32::MIN.into(), i32::MAX.into()).and_then(narrow),
            Primitive::Long => int(i64::MIN, i64::MAX).map(Value::Long),
            Primitive::Float | Primitive::Double => self.double(json, p, &java),
            Primitive::Boolean => match json {
                Json::Bool(b) => Ok(Value::Bool(*b)),
                Json::String(s) if s == "true" => Ok(Value::Bool(true)),
                Json::String(s) if s == "false" => Ok(Value::Bool(false)),
                _ => Err(format!(
                    "expected true/false (or the strings \"true\"/\"false\") for {java}, found {}",
                    describe(json)
                )),
            },
            Primitive::Char => match json {
                Json::String(s) if s.encode_utf16().count() == 1 => Ok(Value::String(s.clone())),
                _ => Err(format!(
                    "expected a string of exactly one UTF-16 character for {java}, found {}",
                    describe(json)
                )),
            },
        };
        result.map_err(|reason| self.err(reason))
    }

    pub(super) fn double(&self, json: &Json, p: Primitive, java: &str) -> Result<Value, String> {
        let v = match json {
            Json::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Json::String(s) => number::double_from_str(s, java)?,
            _ => {
                return Err(format!(
                    "expected a JSON number or numeric string for {java}, found {}",
                    kind(json)
                ))
            }
        };
        if p == Primitive::Float && v.is_finite() && v.abs() > f64::from(f32::MAX) {
            return Err(format!("{} is out of range for {java}", describe(json)));
        }
        Ok(Value::Double(v))
    }

    pub(super) fn big_decimal(&self, json: &Json, ty: &JavaType) -> Result<Value, ArgError> {
        match json {
            // serde_json prints the shortest text that reads back as the same double.
            Json::Number(n) => Ok(Value::String(n.to_string())),
            Json::String(s) if number::is_decimal_syntax(s) => Ok(Value::String(s.clone())),
            Json::String(s) => Err(self.err(format!(
                "{} is not a decimal number ({ty})",
                number::shown(s)
            ))),
            _ => Err(self.expected("a JSON number or decimal string", ty, json)),
        }
    }

    pub(super) fn big_integer(&self, json: &Json, ty: &JavaType) -> Result<Value, ArgError> {
        match json {
            Json::Number(n) => {
                number::integer_from_number(n, i64::MIN, i64::MAX, "java.math.BigInteger")
                    .map(|v| Value::String(v.to_string()))
                    .or_else(|e| match n.as_u64() {
                        Some(u) => Ok(Value::String(u.to_string())),
                        None => Err(self.err(e)),
                    })
            }
            Json::String(s) if number::is_integer_syntax(s) => Ok(Value::String(s.clone())),
            Json::String(s) => {
                Err(self.err(format!("{} is not an integer ({ty})", number::shown(s))))
            }
            _ => Err(self.expected("a JSON integer or integer string", ty, json)),
        }
    }

    pub(super) fn date(&self, json: &Json, ty: &JavaType) -> Result<Value, ArgError> {
        match json {
            Json::Number(n) => {
                number::integer_from_number(n, i64::MIN, i64::MAX, "epoch milliseconds")
                    .map(Value::Date)
                    .map_err(|e| self.err(e))
            }
            Json::String(s) => time::parse_date_millis(s)
                .map(Value::Date)
                .map_err(|e| self.err(e)),
            _ => Err(self.expected("an ISO-8601 string or epoch milliseconds", ty, json)),
        }
    }

    pub(super) fn local(
        &self,
        json: &Json,
        ty: &JavaType,
        check: fn(&str) -> Result<(), String>,
    ) -> Result<Value, ArgError> {
        match json {
            Json::String(s) => check(s)
                .map(|()| Value::String(s.clone()))
                .map_err(|e| self.err(e)),
            _ => Err(self.expected("an ISO-8601 string", ty, json)),
        }
    }

    pub(super) fn bytes(&mut self, json: &Json, ty: &JavaType) -> Result<Value, ArgError> {
        match json {
            Json::String(s) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
                .map(Value::Binary)
                .map_err(|e| self.err(format!("invalid base64 for byte[]: {e}"))),
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let b = self.nested(Seg::Index(i), |c| {
                        let v = match item {
                            Json::Number(n) => number::integer_from_number(n, -128, 255, "byte"),
                            _ => Err(format!(
                                "expected a number -128..=255, found {}",
                                kind(item)
                            )),
                        };
                        v.map_err(|e| c.err(e))
                    })?;
                    // -128..=255: negative values are Java's signed bytes.
                    out.push(b.to_le_bytes()[0]);
                }
                Ok(Value::Binary(out))
            }
            _ => Err(self.expected("a base64 string or an array of bytes", ty, json)),
        }
    }
}

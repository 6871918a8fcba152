//! Argument conversion, the provider's side of `PojoUtils.realize`: hessian2 values in the forms a
//! generic consumer sends (numbers of any width, numeric strings, maps with or without `"class"`
//! for POJOs, enum names) and in the forms a direct Java consumer sends (typed objects, enum
//! objects, `BigDecimal` objects), converted to the Java parameter and field types of the sample
//! services. Failures carry the path of the offending value (`args[1].items[0].price`).

use tianlu_protocol::generic::parse_date_millis;
use tianlu_protocol::hessian2::{Map, Object, Value};

use crate::decimal::Decimal;

/// A value that cannot be converted to the declared Java type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert {path} to {expected}: {reason}")]
pub struct ConvertError {
    /// Where the value sits in the arguments, e.g. `args[0].address.zip`.
    pub path: String,
    /// The Java type it should have become.
    pub expected: String,
    /// What was wrong with it.
    pub reason: String,
}

impl ConvertError {
    /// A conversion error at `path`.
    pub fn new(path: &str, expected: &str, reason: impl Into<String>) -> Self {
        ConvertError {
            path: path.to_string(),
            expected: expected.to_string(),
            reason: reason.into(),
        }
    }

    fn found(path: &str, expected: &str, v: &Value) -> Self {
        ConvertError::new(path, expected, format!("found {}", describe(v)))
    }
}

/// A short description of a value for error messages: its kind, plus the text of short strings.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() <= 40 => format!("string {s:?}"),
        Value::Object(o) => format!("object of class {}", o.class.name),
        other => other.kind().to_string(),
    }
}

/// Java `long` / `Long`: ints and longs as they are, doubles truncated (`longValue()`), decimal
/// strings parsed. `null` is `None`.
pub fn long(v: &Value, path: &str) -> Result<Option<i64>, ConvertError> {
    const T: &str = "long";
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Int(i) => i64::from(*i),
        Value::Long(l) => *l,
        // Java's (long) cast of a double: truncation, saturating, NaN → 0; Rust's `as` matches.
        Value::Double(d) => *d as i64,
        Value::String(s) => s.parse().map_err(|_| ConvertError::found(path, T, v))?,
        other => return Err(ConvertError::found(path, T, other)),
    }))
}

/// Java `int` / `Integer`: narrowing like `Number.intValue()` (longs wrap, doubles truncate),
/// decimal strings parsed. `null` is `None`.
pub fn int(v: &Value, path: &str) -> Result<Option<i32>, ConvertError> {
    const T: &str = "int";
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Int(i) => *i,
        // Java's Long.intValue() keeps the low 32 bits.
        Value::Long(l) => *l as i32,
        Value::Double(d) => *d as i32,
        Value::String(s) => s.parse().map_err(|_| ConvertError::found(path, T, v))?,
        other => return Err(ConvertError::found(path, T, other)),
    }))
}

/// A primitive parameter: `null` is refused (Java cannot unbox it).
pub fn required<T>(v: Option<T>, path: &str, java_type: &str) -> Result<T, ConvertError> {
    v.ok_or_else(|| ConvertError::new(path, java_type, "null for a primitive parameter"))
}

/// `java.lang.String`: strings only. `null` is `None`.
pub fn string(v: &Value, path: &str) -> Result<Option<String>, ConvertError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(ConvertError::found(path, "java.lang.String", other)),
    }
}

/// `java.util.Date` as epoch milliseconds: a hessian date, a number of milliseconds, or text
/// (`yyyy-MM-dd HH:mm:ss` or ISO-8601, UTC unless it has an offset). `null` is `None`.
pub fn date(v: &Value, path: &str) -> Result<Option<i64>, ConvertError> {
    const T: &str = "java.util.Date";
    match v {
        Value::Null => Ok(None),
        Value::Date(ms) => Ok(Some(*ms)),
        Value::Int(i) => Ok(Some(i64::from(*i))),
        Value::Long(l) => Ok(Some(*l)),
        Value::String(s) => parse_date_millis(s)
            .map(Some)
            .map_err(|e| ConvertError::new(path, T, e)),
        other => Err(ConvertError::found(path, T, other)),
    }
}

/// `java.math.BigDecimal`: a decimal string, an int or long, a double (through
/// `Double.toString`), or the `{value: "…"}` object/map hessian-lite writes. `null` is `None`.
pub fn decimal(v: &Value, path: &str) -> Result<Option<Decimal>, ConvertError> {
    const T: &str = "java.math.BigDecimal";
    let bad = |e: crate::decimal::DecimalError| ConvertError::new(path, T, e.to_string());
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Decimal::parse(s).map(Some).map_err(bad),
        Value::Int(i) => Ok(Some(Decimal::from_i64(i64::from(*i)))),
        Value::Long(l) => Ok(Some(Decimal::from_i64(*l))),
        Value::Double(d) => Decimal::from_f64(*d).map(Some).map_err(bad),
        Value::Object(_) | Value::Map(_) => match bean(v, T, path)? {
            Some(b) => match b.get("value") {
                Value::String(s) => Decimal::parse(s).map(Some).map_err(bad),
                other => Err(ConvertError::found(&format!("{path}.value"), T, other)),
            },
            None => Ok(None),
        },
        other => Err(ConvertError::found(path, T, other)),
    }
}

/// A `java.util.List` (or array) whose elements are converted with `item`. `null` is `None`.
pub fn list<T>(
    v: &Value,
    path: &str,
    mut item: impl FnMut(&Value, &str) -> Result<T, ConvertError>,
) -> Result<Option<Vec<T>>, ConvertError> {
    match v {
        Value::Null => Ok(None),
        Value::List(l) => l
            .items
            .iter()
            .enumerate()
            .map(|(i, x)| item(x, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(ConvertError::found(path, "java.util.List", other)),
    }
}

/// An enum constant by name: a string (`Enum.valueOf`), a map with a `"name"` entry (the generic
/// form `PojoUtils` accepts) or the `{name}` object hessian-lite writes. `null` is `None`.
pub fn enum_name<'a>(
    v: &'a Value,
    class: &str,
    path: &str,
) -> Result<Option<&'a str>, ConvertError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Map(_) | Value::Object(_) => match bean(v, class, path)? {
            Some(b) => match b.get("name") {
                Value::String(s) => Ok(Some(s)),
                other => Err(ConvertError::found(&format!("{path}.name"), class, other)),
            },
            None => Ok(None),
        },
        other => Err(ConvertError::found(path, class, other)),
    }
}

/// The properties of a POJO argument, whichever form it came in.
#[derive(Debug, Clone, Copy)]
pub enum Bean<'a> {
    /// A generic map (`"class"` optional).
    Map(&'a Map),
    /// A typed hessian object.
    Object(&'a Object),
}

impl<'a> Bean<'a> {
    /// The property `name`, `null` when absent (Java leaves the field at its default).
    pub fn get(&self, name: &str) -> &'a Value {
        const NULL: &Value = &Value::Null;
        match self {
            Bean::Map(m) => m.get_str(name).unwrap_or(NULL),
            Bean::Object(o) => o.field(name).unwrap_or(NULL),
        }
    }
}

/// A POJO of `class`: a map whose `"class"` entry is absent, `null` or `class`, or a hessian
/// object of that class. `null` is `None`. A map naming another class is refused, as
/// `PojoUtils` would realize it as that class and the call would fail on the argument type.
pub fn bean<'a>(v: &'a Value, class: &str, path: &str) -> Result<Option<Bean<'a>>, ConvertError> {
    match v {
        Value::Null => Ok(None),
        Value::Map(m) => match m.get_str("class") {
            None | Some(Value::Null) => Ok(Some(Bean::Map(m))),
            Some(Value::String(c)) if c == class => Ok(Some(Bean::Map(m))),
            Some(other) => Err(ConvertError::new(
                path,
                class,
                format!("the map names class {}", describe(other)),
            )),
        },
        Value::Object(o) if o.class.name == class => Ok(Some(Bean::Object(o))),
        other => Err(ConvertError::found(path, class, other)),
    }
}

/// The path of a property below `path`.
pub fn field_path(path: &str, name: &str) -> String {
    format!("{path}.{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_widen_and_narrow_like_java() {
        assert_eq!(long(&Value::Int(7), "a"), Ok(Some(7)));
        assert_eq!(long(&Value::Long(1 << 40), "a"), Ok(Some(1 << 40)));
        assert_eq!(long(&Value::Double(2.9), "a"), Ok(Some(2)));
        assert_eq!(long(&Value::string("42"), "a"), Ok(Some(42)));
        assert_eq!(long(&Value::Null, "a"), Ok(None));
        assert!(long(&Value::string("4x"), "a").is_err());
        assert!(long(&Value::Bool(true), "a").is_err());
        assert_eq!(int(&Value::Long(1 << 32 | 5), "a"), Ok(Some(5)));
        assert_eq!(int(&Value::Double(-3.7), "a"), Ok(Some(-3)));
        let e = int(&Value::list(vec![]), "args[1]").unwrap_err();
        assert_eq!(e.to_string(), "cannot convert args[1] to int: found list");
    }

    #[test]
    fn beans_accept_maps_and_objects_of_the_class() {
        let with = Value::map(vec![
            (Value::string("class"), Value::string("a.B")),
            (Value::string("x"), Value::Int(1)),
        ]);
        let without = Value::map(vec![(Value::string("x"), Value::Int(1))]);
        for v in [&with, &without] {
            let b = bean(v, "a.B", "p").unwrap().unwrap();
            assert_eq!(b.get("x"), &Value::Int(1));
            assert_eq!(b.get("missing"), &Value::Null);
        }
        let e = bean(&with, "a.C", "p").unwrap_err();
        assert!(e.to_string().contains("a.B"), "{e}");
        assert!(bean(&Value::Int(1), "a.B", "p").is_err());
        assert!(bean(&Value::Null, "a.B", "p").unwrap().is_none());
    }

    #[test]
    fn decimals_from_every_form() {
        let obj = Value::map(vec![(Value::string("value"), Value::string("1.25"))]);
        for (v, shown) in [
            (Value::string("19.99"), "19.99"),
            (Value::Int(3), "3"),
            (Value::Long(4), "4"),
            (Value::Double(0.5), "0.5"),
            (obj, "1.25"),
        ] {
            assert_eq!(decimal(&v, "p").unwrap().unwrap().to_string(), shown);
        }
        assert!(decimal(&Value::string("1.2.3"), "p").is_err());
        assert!(decimal(&Value::Bool(false), "p").is_err());
    }

    #[test]
    fn dates_and_lists() {
        assert_eq!(date(&Value::Date(5), "p"), Ok(Some(5)));
        assert_eq!(
            date(&Value::string("1970-01-01 00:00:01"), "p"),
            Ok(Some(1000))
        );
        assert!(date(&Value::string("yesterday"), "p").is_err());
        let l = Value::list(vec![Value::string("a"), Value::Int(1)]);
        let e = list(&l, "p", string).unwrap_err();
        assert_eq!(e.path, "p[1]");
    }
}

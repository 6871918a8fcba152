//! The hessian2 value model: one enum that keeps every distinction Java makes on the wire
//! (int vs long vs double, date, binary, typed vs untyped list and map, objects with their class).
//!
//! Decoded values are trees. A back reference (`Q`) to a container that is already complete is
//! resolved by repeating that container; a back reference to a container that is still being
//! decoded (a cycle, e.g. a `Throwable` whose `cause` is itself) is kept as [`Value::Ref`] with the
//! reference index, so a cycle can never make a consumer loop.

use std::sync::Arc;

/// A Java class definition as carried by hessian2's `C` record: the class name and its field names
/// in wire order. Shared by every instance of the class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClassDef {
    /// Java class name, e.g. `org.example.User`.
    pub name: String,
    /// Field names in the order their values follow each instance.
    pub fields: Vec<String>,
}

impl ClassDef {
    /// Builds a class definition from a name and field names.
    pub fn new(
        name: impl Into<String>,
        fields: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            name: name.into(),
            fields: fields.into_iter().map(Into::into).collect(),
        }
    }
}

/// A hessian2 list: Java arrays and collections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    /// The type name (`[int`, `[string`, `[object`, `java.util.HashSet`, …) or `None` for an untyped list.
    pub type_name: Option<String>,
    /// The elements.
    pub items: Vec<Value>,
}

/// A hessian2 map: `H` (untyped, Java `HashMap`) or `M` (typed, e.g. `java.util.LinkedHashMap`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    /// The map's Java type, `None` for an untyped (`H`) map.
    pub type_name: Option<String>,
    /// Entries in wire order. Keys may be any value, although Dubbo's generic form uses strings.
    pub entries: Vec<(Value, Value)>,
}

impl Map {
    /// The value of the first entry whose key is the string `key`.
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| matches!(k, Value::String(s) if s == key))
            .map(|(_, v)| v)
    }
}

/// A hessian2 object instance: a class definition plus one value per field, in definition order.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The shared class definition.
    pub class: Arc<ClassDef>,
    /// Field values, `values.len() == class.fields.len()`.
    pub values: Vec<Value>,
}

impl Object {
    /// The value of field `name`, if the class has such a field.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.class
            .fields
            .iter()
            .position(|f| f == name)
            .and_then(|i| self.values.get(i))
    }

    /// Iterates over `(field name, value)` pairs in definition order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.class
            .fields
            .iter()
            .map(String::as_str)
            .zip(self.values.iter())
    }
}

/// One hessian2 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `N`.
    Null,
    /// `T` / `F`.
    Bool(bool),
    /// A 32-bit int (Java `int`, `Integer`, and also `byte`/`short`, which Java writes as int).
    Int(i32),
    /// A 64-bit long (Java `long`/`Long`).
    Long(i64),
    /// A double (Java `double`/`Double`, and `float`, which Java writes as double).
    Double(f64),
    /// A `java.util.Date`: milliseconds since the Unix epoch, UTC.
    Date(i64),
    /// A string (Java `String`, `char`, `char[]`).
    String(String),
    /// Binary data (Java `byte[]`).
    Binary(Vec<u8>),
    /// A list or array.
    List(List),
    /// A map.
    Map(Map),
    /// An object instance.
    Object(Object),
    /// A back reference to a container that encloses this value (a cycle). The index counts maps,
    /// lists and objects in the order they were started in the stream.
    Ref(u32),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// An untyped list.
    pub fn list(items: Vec<Value>) -> Self {
        Value::List(List {
            type_name: None,
            items,
        })
    }

    /// A typed list such as `[string` or `java.util.HashSet`.
    pub fn typed_list(type_name: impl Into<String>, items: Vec<Value>) -> Self {
        Value::List(List {
            type_name: Some(type_name.into()),
            items,
        })
    }

    /// An untyped (`H`) map.
    pub fn map(entries: Vec<(Value, Value)>) -> Self {
        Value::Map(Map {
            type_name: None,
            entries,
        })
    }

    /// An object of class `class` with the given fields (convenience for tests and providers; hot
    /// paths should share one `Arc<ClassDef>`).
    pub fn object(class: Arc<ClassDef>, values: Vec<Value>) -> Self {
        Value::Object(Object { class, values })
    }

    /// The string content, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Structural equality in which doubles compare by bit pattern (so `0.0` and `-0.0` differ)
    /// except that any NaN equals any NaN. Useful to check that a value survives an
    /// encode/decode round trip exactly. Iterative, so deep trees are fine.
    pub fn bitwise_eq(&self, other: &Value) -> bool {
        let mut pending = vec![(self, other)];
        while let Some((a, b)) = pending.pop() {
            match (a, b) {
                (Value::Double(x), Value::Double(y)) => {
                    if !(x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())) {
                        return false;
                    }
                }
                (Value::List(x), Value::List(y)) => {
                    if x.type_name != y.type_name || x.items.len() != y.items.len() {
                        return false;
                    }
                    pending.extend(x.items.iter().zip(&y.items));
                }
                (Value::Map(x), Value::Map(y)) => {
                    if x.type_name != y.type_name || x.entries.len() != y.entries.len() {
                        return false;
                    }
                    for ((xk, xv), (yk, yv)) in x.entries.iter().zip(&y.entries) {
                        pending.push((xk, yk));
                        pending.push((xv, yv));
                    }
                }
                (Value::Object(x), Value::Object(y)) => {
                    if x.class != y.class || x.values.len() != y.values.len() {
                        return false;
                    }
                    pending.extend(x.values.iter().zip(&y.values));
                }
                (a, b) => {
                    if a != b {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Whether a [`Value::Ref`] occurs anywhere in this value. Iterative.
    pub fn contains_ref(&self) -> bool {
        let mut pending = vec![self];
        while let Some(v) = pending.pop() {
            match v {
                Value::Ref(_) => return true,
                Value::List(l) => pending.extend(&l.items),
                Value::Map(m) => pending.extend(m.entries.iter().flat_map(|(k, v)| [k, v])),
                Value::Object(o) => pending.extend(&o.values),
                _ => {}
            }
        }
        false
    }

    /// A short name of the variant for error messages (`int`, `long`, `string`, `map`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Double(_) => "double",
            Value::Date(_) => "date",
            Value::String(_) => "string",
            Value::Binary(_) => "binary",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Ref(_) => "reference",
        }
    }
}

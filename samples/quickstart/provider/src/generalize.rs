//! Result generalization, the provider's side of `PojoUtils.generalize` as Java's
//! `GenericFilter` applies it to the result of a generic call: POJOs become untyped maps with
//! `"class"` first and then every bean property (nulls included), enums become their names,
//! `BigDecimal`/`BigInteger` objects and dates stay as they are, `List`s become untyped lists,
//! arrays of non-primitive elements become `[object` arrays, and maps keep their type.

use tianlu_protocol::hessian2::{List, Map, Value};

/// Classes that `PojoUtils` treats as numbers and leaves alone.
const NUMBER_CLASSES: [&str; 2] = ["java.math.BigDecimal", "java.math.BigInteger"];

/// Array types whose elements are primitives, boxes, strings or dates: kept unchanged.
const PLAIN_ARRAYS: [&str; 10] = [
    "[boolean", "[byte", "[short", "[int", "[long", "[float", "[double", "[string", "[date",
    "[char",
];

/// Generalizes `value`; `enums` names the enum classes, whose hessian objects (`{name}`) become
/// their constant names.
pub fn generalize(value: Value, enums: &[&str]) -> Value {
    match value {
        Value::Object(obj) => {
            let class = obj.class.name.as_str();
            if NUMBER_CLASSES.contains(&class) {
                return Value::Object(obj);
            }
            if enums.contains(&class) {
                return obj.field("name").cloned().unwrap_or(Value::Null);
            }
            let mut entries = Vec::with_capacity(obj.values.len() + 1);
            entries.push((Value::string("class"), Value::string(class)));
            let names = obj.class.fields.iter();
            for (name, v) in names.zip(obj.values) {
                entries.push((Value::string(name.clone()), generalize(v, enums)));
            }
            Value::map(entries)
        }
        Value::List(list) => {
            let type_name = match list.type_name.as_deref() {
                Some(t) if PLAIN_ARRAYS.contains(&t) => return Value::List(list),
                Some(t) if t.starts_with('[') => Some("[object".to_string()),
                Some(t) if t.ends_with("Set") => Some("java.util.HashSet".to_string()),
                _ => None,
            };
            let items = list
                .items
                .into_iter()
                .map(|v| generalize(v, enums))
                .collect();
            Value::List(List { type_name, items })
        }
        Value::Map(map) => Value::Map(Map {
            type_name: map.type_name,
            entries: map
                .entries
                .into_iter()
                .map(|(k, v)| (generalize(k, enums), generalize(v, enums)))
                .collect(),
        }),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tianlu_protocol::hessian2::ClassDef;

    use super::*;

    fn obj(class: &str, fields: &[(&str, Value)]) -> Value {
        let def = ClassDef::new(class, fields.iter().map(|(n, _)| *n));
        Value::object(
            Arc::new(def),
            fields.iter().map(|(_, v)| v.clone()).collect(),
        )
    }

    #[test]
    fn pojos_become_maps_with_class_first_and_nulls_kept() {
        let status = obj("x.Status", &[("name", Value::string("PAID"))]);
        let price = obj("java.math.BigDecimal", &[("value", Value::string("1.50"))]);
        let inner = obj("x.Inner", &[("price", price.clone()), ("status", status)]);
        let pojo = obj(
            "x.Outer",
            &[
                ("id", Value::Long(1)),
                ("note", Value::Null),
                ("inner", inner),
                ("when", Value::Date(9)),
            ],
        );
        let Value::Map(m) = generalize(pojo, &["x.Status"]) else {
            panic!("not a map")
        };
        assert_eq!(m.type_name, None);
        let keys: Vec<_> = m.entries.iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["class", "id", "note", "inner", "when"]);
        assert_eq!(m.get_str("class"), Some(&Value::string("x.Outer")));
        assert_eq!(m.get_str("note"), Some(&Value::Null));
        assert_eq!(m.get_str("when"), Some(&Value::Date(9)));
        let Some(Value::Map(inner)) = m.get_str("inner") else {
            panic!("inner not a map")
        };
        assert_eq!(inner.get_str("price"), Some(&price));
        assert_eq!(inner.get_str("status"), Some(&Value::string("PAID")));
    }

    #[test]
    fn collections_follow_java() {
        let typed = Value::typed_list("java.util.ArrayList", vec![Value::Int(1)]);
        assert_eq!(generalize(typed, &[]), Value::list(vec![Value::Int(1)]));
        let ints = Value::typed_list("[int", vec![Value::Int(1)]);
        assert_eq!(generalize(ints.clone(), &[]), ints);
        let pojos = Value::typed_list("[x.P", vec![obj("x.P", &[])]);
        let Value::List(l) = generalize(pojos, &[]) else {
            panic!("not a list")
        };
        assert_eq!(l.type_name.as_deref(), Some("[object"));
        assert!(matches!(&l.items[0], Value::Map(_)));
        let set = Value::typed_list("java.util.TreeSet", vec![]);
        let Value::List(s) = generalize(set, &[]) else {
            panic!("not a list")
        };
        assert_eq!(s.type_name.as_deref(), Some("java.util.HashSet"));
        let typed_map = Value::Map(Map {
            type_name: Some("java.util.TreeMap".into()),
            entries: vec![(Value::string("k"), obj("x.P", &[]))],
        });
        let Value::Map(m) = generalize(typed_map, &[]) else {
            panic!("not a map")
        };
        assert_eq!(m.type_name.as_deref(), Some("java.util.TreeMap"));
        assert!(matches!(m.get_str("k"), Some(Value::Map(_))));
    }
}

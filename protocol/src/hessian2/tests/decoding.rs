//! Decoder tests on hand-made inputs: chunked strings and binary with odd chunk sizes, variable
//! lists, type references, `O` instances, back references (shared, nested, across values).

use std::sync::Arc;

use super::{dec, h};
use crate::hessian2::{ClassDef, DecodeErrorKind, Decoder, Map, Value};

fn s(v: &str) -> Value {
    Value::string(v)
}

#[test]
fn chunked_strings_with_any_chunk_sizes() {
    let cases: &[(&str, &str)] = &[
        (r#"52 00 03 "abc" 52 00 01 "d" 02 "ef""#, "abcdef"),
        (r#"52 00 00 53 00 02 "hi""#, "hi"),
        (
            r#"52 00 01 "x" 30 20 "0123456789012345678901234567890X""#,
            "x0123456789012345678901234567890X",
        ),
        (r#"52 00 02 "ab" 52 00 01 "c" 00"#, "abc"),
        // A surrogate pair split across two chunks (a 4096-unit writer can do that).
        ("52 00 01 ed a0 bd 01 ed b8 80", "😀"),
        // Real 4-byte UTF-8 counts as two units.
        ("02 f0 9f 98 80", "😀"),
        ("03 61 f0 9f 98 80", "a😀"),
        // Overlong NUL (modified UTF-8) is tolerated.
        ("01 c0 80", "\0"),
        ("53 00 01 e4 b8 ad", "中"),
    ];
    for (input, want) in cases {
        assert_eq!(dec(&h(input)).unwrap(), s(want), "{input}");
    }
}

#[test]
fn chunked_binary_with_any_chunk_sizes() {
    let cases: &[(&str, &[u8])] = &[
        (
            "41 00 01 aa 41 00 02 bb cc 21 dd",
            &[0xaa, 0xbb, 0xcc, 0xdd],
        ),
        ("41 00 00 42 00 00", &[]),
        ("41 00 01 01 34 02 0203", &[1, 2, 3]),
        ("42 00 03 010203", &[1, 2, 3]),
    ];
    for (input, want) in cases {
        assert_eq!(
            dec(&h(input)).unwrap(),
            Value::Binary(want.to_vec()),
            "{input}"
        );
    }
}

#[test]
fn all_list_forms() {
    let ints = |t: Option<&str>, n: i32| {
        let items = (1..=n).map(Value::Int).collect();
        match t {
            Some(t) => Value::typed_list(t, items),
            None => Value::list(items),
        }
    };
    assert_eq!(
        dec(&h(r#"55 04 "[int" 91 92 5a"#)).unwrap(),
        ints(Some("[int"), 2)
    );
    assert_eq!(dec(&h("57 91 92 93 5a")).unwrap(), ints(None, 3));
    assert_eq!(dec(&h("57 5a")).unwrap(), ints(None, 0));
    assert_eq!(
        dec(&h(r#"56 04 "[int" 92 91 92"#)).unwrap(),
        ints(Some("[int"), 2)
    );
    assert_eq!(dec(&h("58 91 91")).unwrap(), ints(None, 1));
    assert_eq!(dec(&h("7b 91 92 93")).unwrap(), ints(None, 3));
}

#[test]
fn int_type_references() {
    let input = h(r#"72 04 "[int" 91 92 71 90 93 55 90 5a 4d 0b "java.util.X" 5a 4d 91 5a"#);
    let mut d = Decoder::new(&input);
    assert_eq!(
        d.read_value().unwrap(),
        Value::typed_list("[int", vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        d.read_value().unwrap(),
        Value::typed_list("[int", vec![Value::Int(3)])
    );
    assert_eq!(d.read_value().unwrap(), Value::typed_list("[int", vec![]));
    let typed_map = Value::Map(Map {
        type_name: Some("java.util.X".into()),
        entries: vec![],
    });
    assert_eq!(d.read_value().unwrap(), typed_map);
    assert_eq!(d.read_value().unwrap(), typed_map);
    assert!(d.is_at_end());
}

#[test]
fn o_instances_and_shared_class_defs() {
    let input = h(r#"7a 43 01 "P" 92 01 "x" 01 "y" 4f 90 91 92 60 93 94"#);
    let Value::List(list) = dec(&input).unwrap() else {
        panic!("not a list")
    };
    let (Value::Object(a), Value::Object(b)) = (&list.items[0], &list.items[1]) else {
        panic!("not objects: {list:?}")
    };
    assert!(
        Arc::ptr_eq(&a.class, &b.class),
        "one Arc per class definition"
    );
    assert_eq!(*a.class, ClassDef::new("P", ["x", "y"]));
    assert_eq!(a.values, vec![Value::Int(1), Value::Int(2)]);
    assert_eq!(b.field("y"), Some(&Value::Int(4)));
}

#[test]
fn class_def_before_top_level_value_and_empty_class() {
    let input = h(r#"43 01 "E" 90 60 43 01 "F" 91 01 "a" 61 4e"#);
    let mut d = Decoder::new(&input);
    let e = d.read_value().unwrap();
    assert!(matches!(&e, Value::Object(o) if o.class.name == "E" && o.values.is_empty()));
    let f = d.read_value().unwrap();
    assert!(matches!(&f, Value::Object(o) if o.values == vec![Value::Null]));
}

#[test]
fn shared_reference_is_repeated() {
    // [ {k: 1}, Q 1 ]: ref 0 is the list, ref 1 the map.
    let map = Value::map(vec![(s("k"), Value::Int(1))]);
    let got = dec(&h(r#"7a 48 01 "k" 91 5a 51 91"#)).unwrap();
    assert_eq!(got, Value::list(vec![map.clone(), map]));
}

#[test]
fn reference_into_completed_nested_container() {
    // [ [ {a: 1} ], Q 2 ]: the map sits inside a completed list inside the open outer list.
    let map = Value::map(vec![(s("a"), Value::Int(1))]);
    let got = dec(&h(r#"7a 79 48 01 "a" 91 5a 51 92"#)).unwrap();
    assert_eq!(got, Value::list(vec![Value::list(vec![map.clone()]), map]));
}

#[test]
fn reference_to_a_pending_map_key() {
    // { [1] : Q 1 } — the key list is complete but its entry is not.
    let key = Value::list(vec![Value::Int(1)]);
    let got = dec(&h("48 79 91 51 91 5a")).unwrap();
    assert_eq!(got, Value::map(vec![(key.clone(), key)]));
}

#[test]
fn reference_to_map_value_and_to_enclosing_containers() {
    // { "a": [N], "b": Q 1, "self": Q 0 }
    let got = dec(&h(r#"48 01 "a" 79 4e 01 "b" 51 91 04 "self" 51 90 5a"#)).unwrap();
    let list = Value::list(vec![Value::Null]);
    let want = Value::map(vec![
        (s("a"), list.clone()),
        (s("b"), list),
        (s("self"), Value::Ref(0)),
    ]);
    assert_eq!(got, want);
}

#[test]
fn reference_across_top_level_values() {
    // Refs continue from one value to the next in one body (e.g. argument → attachments).
    let input = h(r#"48 01 "k" 91 5a 79 51 90 51 91"#);
    let mut d = Decoder::new(&input);
    let map = Value::map(vec![(s("k"), Value::Int(1))]);
    assert_eq!(d.read_value().unwrap(), map);
    // [Q 0] is ref 1; the next top-level Q 1 repeats that list.
    let list = Value::list(vec![map]);
    assert_eq!(d.read_value().unwrap(), list);
    assert_eq!(d.read_value().unwrap(), list);
    assert!(d.is_at_end());
}

#[test]
fn object_self_reference_in_nested_field() {
    // An object whose field is a list containing a reference to the object.
    let input = h(r#"43 01 "T" 91 01 "l" 60 79 51 90"#);
    let class = Arc::new(ClassDef::new("T", ["l"]));
    let want = Value::object(class, vec![Value::list(vec![Value::Ref(0)])]);
    assert_eq!(dec(&input).unwrap(), want);
}

#[test]
fn typed_read_helpers() {
    let input = h(r#"4e 05 "hello" e1 91"#);
    let mut d = Decoder::new(&input);
    assert_eq!(d.read_nullable_string().unwrap(), None);
    assert_eq!(d.read_nullable_string().unwrap().as_deref(), Some("hello"));
    let err = d.read_int().unwrap_err();
    assert_eq!(err.offset, 7);
    assert!(
        matches!(&err.kind, DecodeErrorKind::Unexpected { expected: "int", found } if found.contains("long"))
    );
    assert_eq!(d.position(), 7, "a mismatched code is not consumed");
    assert_eq!(d.read_value().unwrap(), Value::Long(1));
    assert!(d.read_string().is_err());
    assert_eq!(d.read_int().unwrap(), 1);
    assert!(d.is_at_end());
    assert_eq!(
        d.read_value().unwrap_err().kind,
        DecodeErrorKind::UnexpectedEof
    );
}

#[test]
fn scalars_of_every_form() {
    let cases: &[(&str, Value)] = &[
        ("4e", Value::Null),
        ("54", Value::Bool(true)),
        ("46", Value::Bool(false)),
        ("59 80 00 00 00", Value::Long(i64::from(i32::MIN))),
        ("38 00 00", Value::Long(-262_144)),
        ("5d 80", Value::Double(-128.0)),
        ("5e 80 00", Value::Double(-32768.0)),
        ("5f 80 00 00 00", Value::Double(0.001 * f64::from(i32::MIN))),
        ("44 3f f0 00 00 00 00 00 00", Value::Double(1.0)),
        ("4b 80 00 00 00", Value::Date(i64::from(i32::MIN) * 60_000)),
        ("4a 80 00 00 00 00 00 00 00", Value::Date(i64::MIN)),
        ("c0 00", Value::Int(-2048)),
        ("d0 00 00", Value::Int(-262_144)),
    ];
    for (input, want) in cases {
        assert_eq!(&dec(&h(input)).unwrap(), want, "{input}");
    }
}

//! Byte vectors from docs/protocol.md: the complete generic request body (§2.2), a response body
//! (§2.3) and the writer choices of §4.2–4.6.

use std::sync::Arc;

use super::{both_ways, dec, enc, h, hex};
use crate::hessian2::{ClassDef, Decoder, Encoder, Map, Value};

const GENERIC_DESC: &str = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;";

/// The 245-byte body of §2.2, byte for byte.
fn generic_body() -> Vec<u8> {
    h(r#"05 "2.0.2"
        13 "org.example.Greeter"
        05 "1.0.0"
        07 "$invoke"
        30 38 "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;"
        08 "sayHello"
        71 07 "[string" 10 "java.lang.String"
        71 07 "[object" 05 "world"
        48 04 "path" 13 "org.example.Greeter"
           09 "interface" 13 "org.example.Greeter"
           07 "version" 05 "1.0.0"
           07 "generic" 04 "true"
           07 "timeout" 04 "3000" 5a"#)
}

fn attachments() -> Value {
    let s = Value::string;
    Value::map(vec![
        (s("path"), s("org.example.Greeter")),
        (s("interface"), s("org.example.Greeter")),
        (s("version"), s("1.0.0")),
        (s("generic"), s("true")),
        (s("timeout"), s("3000")),
    ])
}

#[test]
fn generic_request_body_with_primitive_calls() {
    let mut e = Encoder::new();
    for s in [
        "2.0.2",
        "org.example.Greeter",
        "1.0.0",
        "$invoke",
        GENERIC_DESC,
    ] {
        e.write_str(s);
    }
    e.write_str("sayHello");
    e.write_list_begin(1, Some("[string"));
    e.write_str("java.lang.String");
    e.write_list_begin(1, Some("[object"));
    e.write_str("world");
    e.write_map_begin(None);
    if let Value::Map(m) = attachments() {
        for (k, v) in &m.entries {
            e.write_value(k);
            e.write_value(v);
        }
    }
    e.write_map_end();
    assert_eq!(e.len(), 245);
    assert_eq!(hex(e.as_bytes()), hex(&generic_body()));
}

#[test]
fn generic_request_body_with_values_and_decoded_back() {
    let values = vec![
        Value::string("2.0.2"),
        Value::string("org.example.Greeter"),
        Value::string("1.0.0"),
        Value::string("$invoke"),
        Value::string(GENERIC_DESC),
        Value::string("sayHello"),
        Value::typed_list("[string", vec![Value::string("java.lang.String")]),
        Value::typed_list("[object", vec![Value::string("world")]),
        attachments(),
    ];
    let mut e = Encoder::new();
    values.iter().for_each(|v| e.write_value(v));
    let body = generic_body();
    assert_eq!(hex(e.as_bytes()), hex(&body));

    let mut d = Decoder::new(&body);
    assert_eq!(d.read_string().unwrap(), "2.0.2");
    assert_eq!(d.read_string().unwrap(), "org.example.Greeter");
    assert_eq!(d.read_nullable_string().unwrap().as_deref(), Some("1.0.0"));
    for want in &values[3..] {
        assert_eq!(&d.read_value().unwrap(), want);
    }
    assert!(d.is_at_end());
}

#[test]
fn response_value_with_attachments() {
    let body = h(r#"94 48 05 "class" 10 "org.example.User" 5a 48 05 "dubbo" 05 "2.0.2" 5a"#);
    let user = Value::map(vec![(
        Value::string("class"),
        Value::string("org.example.User"),
    )]);
    let atts = Value::map(vec![(Value::string("dubbo"), Value::string("2.0.2"))]);
    let mut e = Encoder::new();
    e.write_int(4);
    e.write_value(&user);
    e.write_value(&atts);
    assert_eq!(hex(e.as_bytes()), hex(&body));

    let mut d = Decoder::new(&body);
    assert_eq!(d.read_int().unwrap(), 4);
    assert_eq!(d.read_value().unwrap(), user);
    assert_eq!(d.read_value().unwrap(), atts);
    assert!(d.is_at_end());
}

#[test]
fn int_vectors() {
    for (v, bytes) in [
        (0, "90"),
        (-16, "80"),
        (47, "bf"),
        (48, "c8 30"),
        (-2048, "c0 00"),
        (2047, "cf ff"),
        (2048, "d4 08 00"),
        (262143, "d7 ff ff"),
        (262144, "49 00 04 00 00"),
    ] {
        both_ways(&Value::Int(v), &h(bytes));
    }
}

#[test]
fn long_vectors() {
    for (v, bytes) in [
        (0, "e0"),
        (15, "ef"),
        (-8, "d8"),
        (16, "f8 10"),
        (262143, "3f ff ff"),
        (262144, "59 00 04 00 00"),
        (1 << 31, "4c 00 00 00 00 80 00 00 00"),
    ] {
        both_ways(&Value::Long(v), &h(bytes));
    }
}

#[test]
fn double_vectors() {
    for (v, bytes) in [
        (10.123, "5f 00 00 27 8b"),
        (1.5, "5f 00 00 05 dc"),
        (0.1, "5f 00 00 00 64"),
        (127.0, "5d 7f"),
        (-128.0, "5d 80"),
        (32767.0, "5e 7f ff"),
        (0.0, "5b"),
        (1.0, "5c"),
        (-1.0, "5d ff"),
        (128.0, "5e 00 80"),
        (-32768.0, "5e 80 00"),
        (-0.5, "5f ff ff fe 0c"),
    ] {
        both_ways(&Value::Double(v), &h(bytes));
    }
    // Not a whole number of thousandths, or out of range: 8-byte IEEE.
    for v in [0.1234, 1e300, f64::INFINITY, f64::MIN_POSITIVE, -0.0] {
        let mut want = vec![b'D'];
        want.extend_from_slice(&v.to_bits().to_be_bytes());
        both_ways(&Value::Double(v), &want);
    }
    let nan = enc(&Value::Double(f64::NAN));
    assert_eq!(nan[0], b'D');
    assert!(matches!(dec(&nan).unwrap(), Value::Double(d) if d.is_nan()));
}

#[test]
fn date_vectors() {
    both_ways(&Value::Date(894_621_060_000), &h("4b 00 e3 83 8f"));
    both_ways(
        &Value::Date(894_621_091_000),
        &h("4a 00 00 00 d0 4b 92 84 b8"),
    );
    both_ways(&Value::Date(0), &h("4b 00 00 00 00"));
    both_ways(&Value::Date(-60_000), &h("4b ff ff ff ff"));
    // Whole minutes beyond i32 minutes fall back to milliseconds.
    let big = (i64::from(i32::MAX) + 1) * 60_000;
    let mut want = vec![0x4a];
    want.extend_from_slice(&big.to_be_bytes());
    both_ways(&Value::Date(big), &want);
}

#[test]
fn string_vectors() {
    both_ways(&Value::string("😀"), &h("02 ed a0 bd ed b8 80"));
    both_ways(&Value::string("c"), &h("01 63"));
    both_ways(&Value::string(""), &h("00"));
    both_ways(&Value::string("é中"), &h("02 c3 a9 e4 b8 ad"));
    both_ways(&Value::string("\0"), &h("01 00"));
}

#[test]
fn list_vectors() {
    let ints = Value::typed_list("[int", vec![Value::Int(1), Value::Int(2)]);
    both_ways(&ints, &h(r#"72 04 "[int" 91 92"#));
    let set = Value::typed_list("java.util.HashSet", vec![Value::string("a")]);
    both_ways(&set, &h(r#"71 11 "java.util.HashSet" 01 "a""#));
    both_ways(&Value::list(vec![]), &h("78"));
    let eight: Vec<Value> = (0..8).map(Value::Int).collect();
    both_ways(
        &Value::list(eight.clone()),
        &h("58 98 90 91 92 93 94 95 96 97"),
    );
    both_ways(
        &Value::typed_list("[int", eight),
        &h(r#"56 04 "[int" 98 90 91 92 93 94 95 96 97"#),
    );
    // A repeated type is written as its index in the type table.
    let twice = Value::list(vec![ints.clone(), ints]);
    both_ways(&twice, &h(r#"7a 72 04 "[int" 91 92 72 90 91 92"#));
}

#[test]
fn map_vectors() {
    let linked = Value::Map(Map {
        type_name: Some("java.util.LinkedHashMap".into()),
        entries: vec![(Value::string("k"), Value::string("v"))],
    });
    both_ways(
        &linked,
        &h(r#"4d 17 "java.util.LinkedHashMap" 01 "k" 01 "v" 5a"#),
    );
    both_ways(&Value::map(vec![]), &h("48 5a"));
    let int_keys = Value::map(vec![
        (Value::Int(1), Value::Null),
        (Value::Long(1), Value::Bool(true)),
    ]);
    both_ways(&int_keys, &h("48 91 4e e1 54 5a"));
}

#[test]
fn object_vectors() {
    let class = Arc::new(ClassDef::new("com.foo.Bar", ["a", "b"]));
    let one = Value::object(class.clone(), vec![Value::Int(1), Value::Int(2)]);
    let two = Value::object(class, vec![Value::Int(3), Value::Null]);
    both_ways(&one, &h(r#"43 0b "com.foo.Bar" 92 01 "a" 01 "b" 60 91 92"#));
    // The class definition is written once per encoder.
    both_ways(
        &Value::list(vec![one, two]),
        &h(r#"7a 43 0b "com.foo.Bar" 92 01 "a" 01 "b" 60 91 92 60 93 4e"#),
    );
}

#[test]
fn object_classes_beyond_sixteen_use_o() {
    let mut e = Encoder::new();
    for i in 0..17 {
        e.write_object_begin(&ClassDef::new(format!("C{i}"), Vec::<String>::new()));
    }
    let bytes = e.into_bytes();
    // The 17th class: its definition, then 'O' + int 16.
    assert_eq!(
        hex(&bytes[bytes.len() - 8..]),
        hex(&h(r#"43 03 "C16" 90 4f a0"#))
    );
    let mut d = Decoder::new(&bytes);
    for i in 0..17 {
        match d.read_value().unwrap() {
            Value::Object(o) => assert_eq!(o.class.name, format!("C{i}")),
            other => panic!("expected object, got {other:?}"),
        }
    }
    assert!(d.is_at_end());
}

#[test]
fn exception_with_self_reference_round_trips() {
    // hessian.js fixture shape: IOException whose cause is itself (Q 0).
    let bytes = h(
        r#"43 13 "java.io.IOException" 93 0d "detailMessage" 05 "cause" 0a "stackTrace"
                     60 05 "hello" 51 90 70 1c "[java.lang.StackTraceElement""#,
    );
    let v = dec(&bytes).unwrap();
    let Value::Object(o) = &v else {
        panic!("expected object, got {v:?}")
    };
    assert_eq!(o.class.name, "java.io.IOException");
    assert_eq!(o.field("detailMessage"), Some(&Value::string("hello")));
    assert_eq!(o.field("cause"), Some(&Value::Ref(0)));
    assert_eq!(
        o.field("stackTrace"),
        Some(&Value::typed_list("[java.lang.StackTraceElement", vec![]))
    );
    assert_eq!(hex(&enc(&v)), hex(&bytes));
}

#[test]
fn object_with_wrong_value_count_stays_well_formed() {
    let class = Arc::new(ClassDef::new("P", ["x", "y"]));
    let short = Value::object(class.clone(), vec![Value::Int(1)]);
    let long = Value::object(class, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
    let mut e = Encoder::new();
    e.write_value(&short);
    e.write_value(&long);
    let bytes = e.into_bytes();
    assert_eq!(
        hex(&bytes),
        hex(&h(r#"43 01 "P" 92 01 "x" 01 "y" 60 91 4e 60 91 92"#))
    );
}

#[test]
fn reset_clears_tables_and_buffer() {
    let class = ClassDef::new("P", ["x"]);
    let mut e = Encoder::with_buffer(vec![0xaa]);
    e.write_list_begin(0, Some("[int"));
    e.write_object_begin(&class);
    e.write_null();
    assert_eq!(e.as_bytes()[0], 0xaa);
    e.reset();
    assert!(e.is_empty());
    e.write_list_begin(0, Some("[int"));
    e.write_object_begin(&class);
    e.write_null();
    assert_eq!(
        hex(e.as_bytes()),
        hex(&h(r#"70 04 "[int" 43 01 "P" 91 01 "x" 60 4e"#))
    );
    e.write_ref(3);
    e.write_map_begin(Some("[int"));
    e.write_map_end();
    assert_eq!(hex(&e.as_bytes()[e.len() - 5..]), "51 93 4d 90 5a");
}

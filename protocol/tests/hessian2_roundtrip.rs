//! Property tests of the hessian2 codec: arbitrary value trees (without back references) survive
//! encode → decode exactly (doubles by bit pattern, any NaN for NaN), sequences of values share
//! one encoder/decoder's tables, and no input bytes make the decoder panic.

use std::sync::Arc;

use proptest::prelude::*;
use tianlu_protocol::hessian2::{ClassDef, Decoder, Encoder, Limits, List, Map, Value};

/// A few class definitions, so instances share and repeat them (0, 1 and 3 fields).
fn classes() -> Vec<Arc<ClassDef>> {
    vec![
        Arc::new(ClassDef::new("org.example.Empty", Vec::<String>::new())),
        Arc::new(ClassDef::new("org.example.One", ["v"])),
        Arc::new(ClassDef::new("org.example.User", ["id", "name", "tags"])),
    ]
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (-2_000_000i32..2_000_000).prop_map(|m| f64::from(m) * 0.001),
        (-40_000i32..40_000).prop_map(f64::from),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z😀中é]{0,40}", "[a😀]{1000,1100}",]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            any::<i32>(),
            -300_000i32..300_000,
            -3000i32..3000,
            -20i32..50
        ]
        .prop_map(Value::Int),
        prop_oneof![
            any::<i64>(),
            -300_000i64..300_000,
            -3000i64..3000,
            -10i64..20
        ]
        .prop_map(Value::Long),
        double().prop_map(Value::Double),
        any::<i64>().prop_map(Value::Date),
        (-1_000_000i64..1_000_000).prop_map(|m| Value::Date(m * 60_000)),
        string().prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..1100).prop_map(Value::Binary),
    ]
}

fn type_name() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("[int".to_owned())),
        Just(Some("[object".to_owned())),
        Just(Some("java.util.HashSet".to_owned())),
        "[a-z.]{1,20}".prop_map(Some),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let classes = classes();
    leaf().prop_recursive(5, 64, 10, move |inner| {
        let classes = classes.clone();
        prop_oneof![
            (type_name(), prop::collection::vec(inner.clone(), 0..10))
                .prop_map(|(type_name, items)| Value::List(List { type_name, items })),
            (
                type_name(),
                prop::collection::vec((inner.clone(), inner.clone()), 0..6)
            )
                .prop_map(|(type_name, entries)| Value::Map(Map { type_name, entries })),
            (0..classes.len(), prop::collection::vec(inner, 3)).prop_map(move |(i, values)| {
                let class = classes[i].clone();
                let values = values.into_iter().take(class.fields.len()).collect();
                Value::object(class, values)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hessian2_value_round_trips(v in value()) {
        let mut enc = Encoder::new();
        enc.write_value(&v);
        let bytes = enc.into_bytes();
        let mut dec = Decoder::new(&bytes);
        let back = dec.read_value().expect("decode");
        prop_assert!(back.bitwise_eq(&v), "{:?} decoded as {:?}", v, back);
        prop_assert!(dec.is_at_end());
    }

    #[test]
    fn hessian2_value_sequences_share_tables(values in prop::collection::vec(value(), 1..6)) {
        let mut enc = Encoder::new();
        values.iter().for_each(|v| enc.write_value(v));
        let bytes = enc.into_bytes();
        let mut dec = Decoder::new(&bytes);
        for v in &values {
            let back = dec.read_value().expect("decode");
            prop_assert!(back.bitwise_eq(v), "{:?} decoded as {:?}", v, back);
        }
        prop_assert!(dec.is_at_end());
    }

    #[test]
    fn hessian2_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check_bytes(&bytes);
    }

    #[test]
    fn hessian2_mutated_encodings_never_panic(
        v in value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut enc = Encoder::new();
        enc.write_value(&v);
        let mut bytes = enc.into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let keep = cut.index(bytes.len() + 1);
        check_bytes(&bytes);
        check_bytes(&bytes[..keep]);
    }
}

/// Decodes values until the end or an error (which must not panic); every value decoded without
/// back references must survive a re-encode exactly.
fn check_bytes(bytes: &[u8]) {
    let limits = Limits {
        max_depth: 64,
        max_nodes: 100_000,
    };
    let mut dec = Decoder::with_limits(bytes, limits);
    while !dec.is_at_end() {
        let Ok(v) = dec.read_value() else { break };
        if v.contains_ref() {
            continue;
        }
        let mut enc = Encoder::new();
        enc.write_value(&v);
        let again = Decoder::new(enc.as_bytes())
            .read_value()
            .expect("re-decode");
        assert!(again.bitwise_eq(&v), "{v:?} re-decoded as {again:?}");
    }
}

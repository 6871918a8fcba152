//! `hessian_to_json` and `write_json_text`: both conventions, big numbers, repeated keys,
//! cycles and limits; the text is always serde_json's text for the tree.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{json, Value as Json};

use crate::generic::to_json::{hessian_to_json_limited, write_json_text_limited};
use crate::generic::{
    hessian_to_json, transcode_json_text, write_json_text, JsonError, OutputOptions, MAX_JSON_DEPTH,
};
use crate::hessian2::{ClassDef, List, Map, Value};

fn s(text: &str) -> Value {
    Value::string(text)
}

fn obj(class: &str, fields: Vec<(&str, Value)>) -> Value {
    let (names, values): (Vec<&str>, Vec<Value>) = fields.into_iter().unzip();
    Value::object(Arc::new(ClassDef::new(class, names)), values)
}

/// The tree, after checking that the text writer gives the same result (the tree's serde_json
/// text, or the same error).
fn convert(v: &Value, opts: &OutputOptions) -> Result<Json, JsonError> {
    let tree = hessian_to_json(v, opts);
    let mut text = Vec::new();
    let written = write_json_text(v, opts, &mut text);
    match &tree {
        Ok(json) => {
            assert_eq!(written, Ok(()));
            assert_eq!(
                String::from_utf8(text).unwrap(),
                serde_json::to_string(json).unwrap()
            );
        }
        Err(e) => assert_eq!(written.as_ref(), Err(e)),
    }
    tree
}

fn full(v: &Value) -> Result<Json, JsonError> {
    convert(v, &OutputOptions::full())
}

fn pixiu(v: &Value) -> Result<Json, JsonError> {
    convert(v, &OutputOptions::pixiu())
}

/// Keys in output order (serde_json is built with `preserve_order`).
fn keys(json: &Json) -> Vec<&str> {
    json.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn scalars() {
    let safe = 9_007_199_254_740_991_i64;
    let cases: Vec<(Value, Json)> = vec![
        (Value::Null, Json::Null),
        (Value::Bool(true), json!(true)),
        (Value::Int(-5), json!(-5)),
        (Value::Long(safe), json!(safe)),
        (Value::Long(-safe), json!(-safe)),
        (Value::Long(safe + 1), json!("9007199254740992")),
        (Value::Long(-safe - 1), json!("-9007199254740992")),
        (Value::Long(i64::MIN), json!("-9223372036854775808")),
        (Value::Double(1.5), json!(1.5)),
        (Value::Double(f64::NAN), json!("NaN")),
        (Value::Double(f64::INFINITY), json!("Infinity")),
        (Value::Double(f64::NEG_INFINITY), json!("-Infinity")),
        (Value::Date(0), json!("1970-01-01T00:00:00.000Z")),
        (
            Value::Date(1_709_208_000_007),
            json!("2024-02-29T12:00:00.007Z"),
        ),
        (s("hé"), json!("hé")),
        (Value::Binary(vec![1, 2, 3]), json!("AQID")),
        (Value::Binary(vec![0xff, 0xfe]), json!("//4=")),
        (Value::Binary(vec![]), json!("")),
        (
            Value::typed_list("[int", vec![Value::Int(1), Value::Int(2)]),
            json!([1, 2]),
        ),
    ];
    for (v, expected) in cases {
        assert_eq!(full(&v), Ok(expected.clone()), "{v:?}");
        assert_eq!(pixiu(&v), Ok(expected), "{v:?}");
    }
}

#[test]
fn objects_put_class_first_and_pixiu_drops_class_and_nulls() {
    let user = obj(
        "org.example.User",
        vec![
            ("name", s("a")),
            ("nick", Value::Null),
            ("age", Value::Int(3)),
        ],
    );
    let f = full(&user).unwrap();
    assert_eq!(
        f,
        json!({"class": "org.example.User", "name": "a", "nick": null, "age": 3})
    );
    assert_eq!(keys(&f), ["class", "name", "nick", "age"]);
    assert_eq!(pixiu(&user).unwrap(), json!({"name": "a", "age": 3}));

    // Dubbo's generalized POJO: a HashMap whose "class" entry may come anywhere.
    let generalized = Value::map(vec![
        (s("id"), Value::Long(1)),
        (s("class"), s("org.example.User")),
        (s("tags"), Value::list(vec![s("x")])),
        (s("gone"), Value::Null),
    ]);
    let f = full(&generalized).unwrap();
    assert_eq!(keys(&f), ["class", "id", "tags", "gone"]);
    assert_eq!(
        pixiu(&generalized).unwrap(),
        json!({"id": 1, "tags": ["x"]})
    );
    let custom = OutputOptions {
        keep_class: true,
        keep_null: false,
        flatten_big_numbers: false,
    };
    let kept = convert(&generalized, &custom).unwrap();
    assert_eq!(keys(&kept), ["class", "id", "tags"]);
}

#[test]
fn map_keys_become_text() {
    let m = Value::map(vec![
        (Value::Int(1), s("int")),
        (Value::Long(2), s("long")),
        (Value::Bool(true), s("bool")),
        (Value::Double(1.5), s("double")),
        (Value::Null, s("null")),
        (Value::Date(0), s("date")),
        (Value::list(vec![Value::Int(1), s("a")]), s("list")),
    ]);
    let j = full(&m).unwrap();
    assert_eq!(
        keys(&j),
        [
            "1",
            "2",
            "true",
            "1.5",
            "null",
            "1970-01-01T00:00:00.000Z",
            "[1,\"a\"]"
        ]
    );
}

#[test]
fn big_numbers_flatten_only_in_pixiu_mode() {
    let dec = obj("java.math.BigDecimal", vec![("value", s("1.50"))]);
    assert_eq!(
        full(&dec),
        Ok(json!({"class": "java.math.BigDecimal", "value": "1.50"}))
    );
    assert_eq!(pixiu(&dec), Ok(json!("1.50")));
    let dec_map = Value::map(vec![
        (s("class"), s("java.math.BigDecimal")),
        (s("value"), s("-0.001")),
    ]);
    assert_eq!(pixiu(&dec_map), Ok(json!("-0.001")));

    let mag =
        |words: &[i32]| Value::typed_list("[int", words.iter().map(|w| Value::Int(*w)).collect());
    let cases: Vec<(i32, Vec<i32>, &str)> = vec![
        (0, vec![], "0"),
        (1, vec![5], "5"),
        (-1, vec![5], "-5"),
        (1, vec![-1], "4294967295"),
        (1, vec![1, 0], "4294967296"),
        (1, vec![0, 1, 0, 0], "18446744073709551616"),
        (
            1,
            vec![12, -1_624_466_224, 1_182_068_202, 1_073_741_824],
            "1000000000000000000000000000000",
        ),
        (
            -1,
            vec![i32::MAX, -1, -1, -1],
            "-170141183460469231731687303715884105727",
        ),
    ];
    for (signum, words, text) in cases {
        let big = obj(
            "java.math.BigInteger",
            vec![
                ("signum", Value::Int(signum)),
                ("mag", mag(&words)),
                ("bitLength", Value::Int(0)),
            ],
        );
        assert_eq!(pixiu(&big), Ok(json!(text)), "{words:?}");
        assert!(full(&big).unwrap().is_object());
    }
    // Inconsistent data is kept as an object instead of guessed.
    let bad = obj(
        "java.math.BigInteger",
        vec![("signum", Value::Int(0)), ("mag", mag(&[1]))],
    );
    assert!(pixiu(&bad).unwrap().is_object());
}

#[test]
fn big_integer_text_matches_u128() {
    use crate::generic::number::big_integer_text;
    let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834;
    for _ in 0..2000 {
        x = x
            .wrapping_mul(0x2545_f491_4f6c_dd1d)
            .wrapping_add(0x1405_7b7e_f767_814f);
        let v = x >> (x % 127);
        let words: Vec<u32> = (0..4).rev().map(|i| (v >> (32 * i)) as u32).collect();
        let signum = i32::from(v != 0);
        assert_eq!(
            big_integer_text(signum, &words).as_deref(),
            Some(v.to_string().as_str())
        );
        if v != 0 {
            assert_eq!(big_integer_text(-1, &words), Some(format!("-{v}")));
        }
    }
    assert_eq!(big_integer_text(2, &[1]), None);
    assert_eq!(big_integer_text(1, &[]), None);
    assert_eq!(big_integer_text(0, &[0, 0]).as_deref(), Some("0"));
}

#[test]
fn cycles_are_errors_with_paths() {
    let inner = obj(
        "java.lang.RuntimeException",
        vec![("detailMessage", s("b")), ("cause", Value::Ref(0))],
    );
    let outer = obj(
        "java.lang.RuntimeException",
        vec![("detailMessage", s("a")), ("cause", inner)],
    );
    assert_eq!(
        full(&outer),
        Err(JsonError::Cycle {
            path: "$.cause.cause".into(),
            index: 0
        })
    );
    let list = Value::list(vec![
        Value::Int(1),
        Value::map(vec![(s("a b"), Value::Ref(3))]),
    ]);
    let err = full(&list).unwrap_err();
    assert_eq!(
        err.to_string(),
        "$[1][\"a b\"]: cyclic reference (#3) cannot be written as JSON"
    );
}

#[test]
fn size_and_depth_limits() {
    let wide = Value::list(vec![Value::list(vec![Value::Int(1); 10]); 10]);
    assert!(hessian_to_json_limited(&wide, &OutputOptions::full(), 111).is_ok());
    assert_eq!(
        hessian_to_json_limited(&wide, &OutputOptions::full(), 110),
        Err(JsonError::TooLarge { limit: 110 })
    );
    let mut deep = Value::Null;
    for _ in 0..MAX_JSON_DEPTH + 5 {
        deep = Value::list(vec![deep]);
    }
    match full(&deep) {
        Err(JsonError::TooDeep { limit, path }) => {
            assert_eq!(limit, MAX_JSON_DEPTH);
            assert!(path.starts_with("$[0][0]"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
    // A subclass field that hides a superclass field of the same name: hessian writes both.
    let shadowed = obj(
        "org.example.Child",
        vec![
            ("id", Value::Int(1)),
            ("name", s("x")),
            ("id", Value::Int(2)),
        ],
    );
    let j = full(&shadowed).unwrap();
    assert_eq!(keys(&j), ["class", "id", "name"]);
    assert_eq!(j["id"], json!(2));
    // Keys of other types whose text collides with a string key.
    let m = Value::map(vec![
        (Value::Int(1), s("int")),
        (s("b"), Value::Null),
        (s("1"), s("string")),
        (s("b"), s("later")),
    ]);
    let mut text = Vec::new();
    write_json_text(&m, &OutputOptions::full(), &mut text).unwrap();
    assert_eq!(text, br#"{"1":"string","b":"later"}"#);
    // A dropped null does not replace an earlier value.
    let m = Value::map(vec![(s("b"), s("kept")), (s("b"), Value::Null)]);
    assert_eq!(pixiu(&m), Ok(json!({"b": "kept"})));
    assert_eq!(full(&m), Ok(json!({"b": null})));
}

fn arb_double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (-2_000_000i32..2_000_000).prop_map(|m| f64::from(m) * 0.001),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
}

/// Strings that are keys, class names and escapes: few enough that keys repeat.
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("class".to_string()),
        Just("value".to_string()),
        Just("a".to_string()),
        Just("java.math.BigDecimal".to_string()),
        Just("java.math.BigInteger".to_string()),
        Just("q\"\\\u{1}\u{7f}\n\té😀".to_string()),
        any::<String>(),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::Int),
        any::<i64>().prop_map(Value::Long),
        (-100i64..100).prop_map(Value::Long),
        arb_double().prop_map(Value::Double),
        (-10_000_000_000_000i64..10_000_000_000_000).prop_map(Value::Date),
        arb_text().prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Value::Binary),
        (0u32..4).prop_map(Value::Ref),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let classes = vec![
        Arc::new(ClassDef::new("org.example.User", ["id", "class", "id"])),
        Arc::new(ClassDef::new("org.example.Item", ["id", "class", "name"])),
        Arc::new(ClassDef::new("java.math.BigDecimal", ["value"])),
        Arc::new(ClassDef::new("java.math.BigInteger", ["signum", "mag"])),
    ];
    arb_leaf().prop_recursive(5, 64, 8, move |inner| {
        let classes = classes.clone();
        let type_name = prop_oneof![Just(None), Just(Some("[int".to_string()))];
        prop_oneof![
            (
                type_name.clone(),
                prop::collection::vec(inner.clone(), 0..8)
            )
                .prop_map(|(type_name, items)| Value::List(List { type_name, items })),
            (
                type_name,
                prop::collection::vec(
                    (
                        prop_oneof![arb_text().prop_map(Value::String), inner.clone()],
                        inner.clone()
                    ),
                    0..6
                )
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
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_is_the_trees_serde_json_text(v in arb_value(), limit in 1usize..200) {
        let custom = OutputOptions { keep_class: true, keep_null: false, flatten_big_numbers: true };
        for opts in [OutputOptions::full(), OutputOptions::pixiu(), custom] {
            for max in [limit, usize::MAX] {
                let tree = hessian_to_json_limited(&v, &opts, max);
                let mut text = Vec::new();
                let written = write_json_text_limited(&v, &opts, max, &mut text);
                match tree {
                    Ok(json) => {
                        prop_assert_eq!(written, Ok(()));
                        prop_assert_eq!(text, serde_json::to_vec(&json).unwrap());
                    }
                    Err(e) => prop_assert_eq!(written, Err(e)),
                }
            }
        }
    }
}

/// The bytes Java would send for `v`.
fn encoded(v: &Value) -> Vec<u8> {
    let mut enc = crate::hessian2::Encoder::new();
    enc.write_value(v);
    enc.into_bytes()
}

/// `transcode_json_text` over `bytes`: the text, or `None` when it leaves the value to the tree.
fn transcoded(bytes: &[u8], opts: &OutputOptions) -> Option<Vec<u8>> {
    let mut dec = crate::hessian2::Decoder::new(bytes);
    let mut out = Vec::new();
    transcode_json_text(&mut dec.events(), opts, &mut out).then_some(out)
}

#[test]
fn generic_results_are_transcoded_without_a_tree() {
    let address = Value::map(vec![
        (s("zip"), s("710000")),
        (s("class"), s("org.example.Address")),
        (s("city"), s("西安 \"x\"")),
    ]);
    let user = Value::map(vec![
        (s("id"), Value::Long(1 << 40)),
        (s("nick"), Value::Null),
        (s("class"), s("org.example.User")),
        (s("address"), address),
        (
            s("tags"),
            Value::typed_list("java.util.ArrayList", vec![s("a"), Value::Int(2)]),
        ),
        (
            s("scores"),
            Value::typed_list("[double", vec![Value::Double(0.5), Value::Double(f64::NAN)]),
        ),
        (s("born"), Value::Date(86_400_000)),
    ]);
    let listed = Value::list(vec![user.clone(), Value::map(vec![]), user]);
    let object = obj(
        "org.example.Order",
        vec![
            ("id", Value::Int(7)),
            ("class", s("dropped")),
            ("memo", Value::Null),
        ],
    );
    let typed = Value::Map(Map {
        type_name: Some("java.util.TreeMap".into()),
        entries: vec![(Value::Int(1), s("one")), (s("class"), s("kept as data"))],
    });
    for v in [listed, object, typed] {
        for opts in [OutputOptions::full(), OutputOptions::pixiu()] {
            let text = transcoded(&encoded(&v), &opts).expect("transcoded");
            let mut expected = Vec::new();
            write_json_text(&v, &opts, &mut expected).unwrap();
            assert_eq!(
                String::from_utf8(text).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
    // What needs the tree: a repeated key, a back reference, a big number to flatten.
    let repeated = Value::map(vec![(s("a"), Value::Int(1)), (s("a"), Value::Int(2))]);
    assert_eq!(
        transcoded(&encoded(&repeated), &OutputOptions::full()),
        None
    );
    assert_eq!(transcoded(&[b'Q', 0x90], &OutputOptions::full()), None);
    let dec = obj("java.math.BigDecimal", vec![("value", s("1.5"))]);
    assert_eq!(transcoded(&encoded(&dec), &OutputOptions::pixiu()), None);
    assert!(transcoded(&encoded(&dec), &OutputOptions::full()).is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn transcoded_text_is_the_trees_text(v in arb_value()) {
        let bytes = encoded(&v);
        let custom = OutputOptions { keep_class: true, keep_null: false, flatten_big_numbers: true };
        for opts in [OutputOptions::full(), OutputOptions::pixiu(), custom] {
            // (Back references to nothing do not decode: then neither may the transcoder.)
            let tree = crate::hessian2::Decoder::new(&bytes).read_value();
            match (transcoded(&bytes, &opts), tree) {
                (Some(text), Ok(tree)) => {
                let mut expected = Vec::new();
                prop_assert_eq!(write_json_text(&tree, &opts, &mut expected), Ok(()));
                prop_assert_eq!(text, expected);
                }
                (Some(text), Err(e)) => prop_assert!(false, "{e} but transcoded {text:?}"),
                (None, _) => {}
            }
        }
    }
}

#[test]
fn container_keys_cannot_double_the_text_per_level() {
    // Each level's key is the map below it, so its text is escaped once more per level.
    let mut v = Value::map(vec![(s("k\"\\"), Value::Int(1))]);
    for _ in 0..60 {
        v = Value::map(vec![(v, Value::Int(1))]);
    }
    match full(&v) {
        Err(JsonError::KeyTooLong { path, limit }) => {
            assert_eq!(limit, crate::generic::MAX_KEY_TEXT);
            assert!(path.starts_with("${key}"), "{path}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn large_objects_find_repeats_with_a_set() {
    let entries = |repeat: bool| {
        let mut e: Vec<(Value, Value)> = (0..40)
            .map(|i| (s(&format!("k{i}")), Value::Int(i)))
            .collect();
        if repeat {
            e.push((s("k3"), s("last")));
        }
        Value::map(e)
    };
    for opts in [OutputOptions::full(), OutputOptions::pixiu()] {
        let plain = entries(false);
        let text = transcoded(&encoded(&plain), &opts).expect("transcoded");
        let mut expected = Vec::new();
        write_json_text(&plain, &opts, &mut expected).unwrap();
        assert_eq!(text, expected);
        let repeated = entries(true);
        assert_eq!(transcoded(&encoded(&repeated), &opts), None);
        let j = convert(&repeated, &opts).unwrap();
        assert_eq!(j.as_object().unwrap().len(), 40);
        assert_eq!(j["k3"], json!("last"));
        assert_eq!(keys(&j)[3], "k3");
    }
}

#[test]
fn a_late_class_moves_only_a_bounded_amount_of_text() {
    let big = |filler: usize| {
        Value::map(vec![
            (s("a"), s(&"x".repeat(filler))),
            (s("class"), s("org.example.Late")),
        ])
    };
    let opts = OutputOptions::full();
    let small = transcoded(&encoded(&big(100)), &opts).expect("transcoded");
    assert!(small.starts_with(br#"{"class":"org.example.Late","a":"xx"#));
    assert_eq!(transcoded(&encoded(&big(70_000)), &opts), None);
    // The tree path writes it all the same.
    assert!(full(&big(70_000)).is_ok());
    // Without classes kept nothing moves, whatever the size.
    assert!(transcoded(&encoded(&big(70_000)), &OutputOptions::pixiu()).is_some());
}

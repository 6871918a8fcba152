//! Hostile inputs: truncation anywhere, bad codes and references, invalid strings, nesting and
//! reference bombs, huge declared lengths with tiny inputs.

use std::time::{Duration, Instant};

use super::{dec, enc, h};
use crate::hessian2::{ClassDef, DecodeErrorKind, Decoder, Limits, Value};

/// Decodes values until the input ends or an error occurs; returns how many and whether it failed.
fn drain(bytes: &[u8], limits: Limits) -> (usize, Option<DecodeErrorKind>) {
    let mut d = Decoder::with_limits(bytes, limits);
    let mut n = 0;
    while !d.is_at_end() {
        match d.read_value() {
            Ok(_) => n += 1,
            Err(e) => {
                assert!(e.offset <= bytes.len(), "offset {} beyond input", e.offset);
                return (n, Some(e.kind));
            }
        }
    }
    (n, None)
}

fn kind(bytes: &[u8]) -> DecodeErrorKind {
    dec(bytes).unwrap_err().kind
}

/// A stream using most codes: nested containers, classes, refs, chunked data.
fn rich_stream() -> Vec<u8> {
    let class = std::sync::Arc::new(ClassDef::new("x.Y", ["a", "b", "c"]));
    let v = Value::list(vec![
        Value::object(
            class.clone(),
            vec![
                Value::Int(300_000),
                Value::Double(1.25),
                Value::Date(60_000),
            ],
        ),
        Value::typed_list(
            "[string",
            vec![Value::string("中😀"), Value::string("a".repeat(40))],
        ),
        Value::map(vec![
            (Value::Long(1 << 40), Value::Binary(vec![7; 20])),
            (Value::Null, Value::Ref(0)),
        ]),
        Value::object(
            class,
            vec![Value::Bool(true), Value::Double(0.1234), Value::Long(-3)],
        ),
    ]);
    let mut bytes = enc(&v);
    bytes.extend(h(r#"52 00 02 "ab" 01 "c" 41 00 01 ff 21 ee 57 51 91 5a"#));
    bytes
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let full = rich_stream();
    let (count, err) = drain(&full, Limits::default());
    assert_eq!((count, err), (4, None));
    for cut in 0..full.len() {
        let (n, err) = drain(&full[..cut], Limits::default());
        assert!(
            n < count && (err.is_some() || n > 0 || cut == 0),
            "prefix {cut} decoded {n} values, err {err:?}"
        );
    }
}

#[test]
fn garbage_codes_and_references() {
    assert_eq!(kind(&h("40")), DecodeErrorKind::UnknownCode(0x40));
    assert_eq!(kind(&h("45")), DecodeErrorKind::UnknownCode(0x45));
    assert!(matches!(
        kind(&h("5a")),
        DecodeErrorKind::Unexpected {
            expected: "value",
            ..
        }
    ));
    assert!(matches!(
        kind(&h("79 5a")),
        DecodeErrorKind::Unexpected {
            expected: "value",
            ..
        }
    ));
    assert!(matches!(
        kind(&h("48 91 5a")),
        DecodeErrorKind::Unexpected {
            expected: "map value",
            ..
        }
    ));
    assert_eq!(kind(&h("60")), DecodeErrorKind::BadClassRef(0));
    assert_eq!(kind(&h("4f 9f")), DecodeErrorKind::BadClassRef(15));
    assert_eq!(kind(&h("71 91 90")), DecodeErrorKind::BadTypeRef(1));
    assert_eq!(kind(&h("51 90")), DecodeErrorKind::BadRef(0));
    assert_eq!(kind(&h("79 51 93")), DecodeErrorKind::BadRef(3));
    assert_eq!(kind(&h("51 8f")), DecodeErrorKind::BadLength(-1));
    assert_eq!(kind(&h("58 8f")), DecodeErrorKind::BadLength(-1));
    assert!(matches!(
        kind(&h("71 4e")),
        DecodeErrorKind::Unexpected { .. }
    ));
    assert!(matches!(
        kind(&h("52 00 01 61 91")),
        DecodeErrorKind::Unexpected { .. }
    ));
    assert!(matches!(
        kind(&h("41 00 01 61 01 61")),
        DecodeErrorKind::Unexpected { .. }
    ));
    assert!(matches!(
        kind(&h("43 91")),
        DecodeErrorKind::Unexpected {
            expected: "string",
            ..
        }
    ));
}

#[test]
fn invalid_strings() {
    assert_eq!(kind(&h("01 ed a0 bd")), DecodeErrorKind::UnpairedSurrogate);
    assert_eq!(kind(&h("01 ed b8 80")), DecodeErrorKind::UnpairedSurrogate);
    assert_eq!(
        kind(&h("02 ed a0 bd 41")),
        DecodeErrorKind::UnpairedSurrogate
    );
    assert_eq!(
        kind(&h("02 ed a0 bd ed a0 bd")),
        DecodeErrorKind::UnpairedSurrogate
    );
    assert_eq!(
        kind(&h("52 00 01 ed a0 bd 00")),
        DecodeErrorKind::UnpairedSurrogate
    );
    assert_eq!(kind(&h("01 80")), DecodeErrorKind::InvalidUtf8);
    assert_eq!(kind(&h("01 ff")), DecodeErrorKind::InvalidUtf8);
    assert_eq!(kind(&h("01 c3 41")), DecodeErrorKind::InvalidUtf8);
    assert_eq!(kind(&h("01 f0 9f 98 80")), DecodeErrorKind::InvalidUtf8);
    assert_eq!(kind(&h("02 f4 90 80 80")), DecodeErrorKind::InvalidUtf8);
    assert_eq!(kind(&h("02 61")), DecodeErrorKind::UnexpectedEof);
}

#[test]
fn deep_nesting_hits_depth_limit() {
    let deep = vec![0x57; 200];
    let err = dec(&deep).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::DepthLimit(128));
    assert_eq!(err.offset, 128);
    // Exactly at the limit is fine.
    let mut ok = vec![0x57; 128];
    ok.extend(vec![0x5a; 128]);
    assert!(dec(&ok).is_ok());
    // A million nested maps: fails fast, no stack overflow.
    assert!(matches!(
        kind(&vec![0x48; 1_000_000]),
        DecodeErrorKind::DepthLimit(_)
    ));
}

#[test]
fn repeated_reference_respects_depth() {
    // [ [ [] ], [ [ Q 1 ] ] ] repeats a 2-level list at depth 3: 5 levels.
    let input = h("7a 79 78 79 79 51 91");
    let strict = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    assert_eq!(
        drain(&input, strict).1,
        Some(DecodeErrorKind::DepthLimit(4))
    );
    let loose = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    assert_eq!(drain(&input, loose), (1, None));
}

#[test]
fn reference_bomb_hits_node_limit_quickly() {
    // Item k+1 is a list holding two references to item k: 2^k values after 60 bytes of input.
    let mut input = h("58 c8 40 7a 91 91");
    for k in 1..64 {
        input.extend(h("7a 51"));
        input.extend(enc(&Value::Int(k)));
        input.push(0x51);
        input.extend(enc(&Value::Int(k)));
    }
    let start = Instant::now();
    assert_eq!(kind(&input), DecodeErrorKind::NodeLimit(1_000_000));
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn repeated_big_strings_count_by_size() {
    // A 64 KiB string repeated 100 times costs > 100 × 4096 nodes.
    let mut input = h("58 c8 65 79");
    input.extend(enc(&Value::string("x".repeat(65536))));
    for _ in 0..100 {
        input.extend(h("51 91"));
    }
    let limits = Limits {
        max_nodes: 200_000,
        ..Limits::default()
    };
    assert_eq!(
        drain(&input, limits).1,
        Some(DecodeErrorKind::NodeLimit(200_000))
    );
    assert_eq!(drain(&input, Limits::default()), (1, None));
}

#[test]
fn repeated_type_names_count_by_size() {
    let mut input = h("58 c8 65 70");
    input.extend(enc(&Value::string("T".repeat(32768))));
    input.extend(std::iter::repeat_n([0x70, 0x90], 100).flatten());
    let limits = Limits {
        max_nodes: 100_000,
        ..Limits::default()
    };
    assert_eq!(
        drain(&input, limits).1,
        Some(DecodeErrorKind::NodeLimit(100_000))
    );
}

#[test]
fn huge_declared_lengths_fail_fast() {
    let start = Instant::now();
    let cases = [
        h("58 49 7f ff ff ff 91"),
        h(r#"56 04 "[int" 49 7f ff ff ff"#),
        h("53 ff ff 61"),
        h("42 ff ff 00"),
        h("41 ff ff"),
        h(r#"43 01 "C" 49 7f ff ff ff 00"#),
        h("34 ff"),
    ];
    for input in &cases {
        assert_eq!(kind(input), DecodeErrorKind::UnexpectedEof, "{input:?}");
    }
    // Nested maximal lists: each level may only reserve what the remaining input could hold.
    let nested: Vec<u8> = std::iter::repeat_n([0x58, 0x49, 0x7f, 0xff, 0xff, 0xff], 120)
        .flatten()
        .collect();
    assert_eq!(kind(&nested), DecodeErrorKind::UnexpectedEof);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn node_limit_counts_plain_values() {
    let input = h("7a 91 92");
    let limits = Limits {
        max_nodes: 2,
        ..Limits::default()
    };
    assert_eq!(drain(&input, limits).1, Some(DecodeErrorKind::NodeLimit(2)));
    let limits = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    assert_eq!(drain(&input, limits), (1, None));
}

#[test]
fn decoder_is_usable_after_an_error() {
    let input = h("79 40 91 51 90");
    let mut d = Decoder::new(&input);
    assert_eq!(
        d.read_value().unwrap_err().kind,
        DecodeErrorKind::UnknownCode(0x40)
    );
    assert_eq!(d.read_value().unwrap(), Value::Int(1));
    // The list left open by the failed read cannot be referenced any more.
    assert_eq!(d.read_value().unwrap_err().kind, DecodeErrorKind::BadRef(0));
}

//! Boundary tests: the edges of every compact int/long form, string lengths around each header
//! form and the chunk size (BMP and supplementary characters), binary lengths around each form.

use super::{dec, enc, hex};
use crate::hessian2::{Encoder, Value};

/// Encodes and checks the first byte, the total length and the round trip.
fn check(v: &Value, first: u8, len: usize) {
    let bytes = enc(v);
    assert_eq!(
        bytes[0],
        first,
        "first byte of {v:?}: {}",
        hex(&bytes[..bytes.len().min(8)])
    );
    assert_eq!(bytes.len(), len, "length of {v:?}");
    assert!(dec(&bytes).unwrap().bitwise_eq(v));
}

#[test]
fn int_form_edges() {
    let cases: &[(i32, u8, usize)] = &[
        (-17, 0xc7, 2),
        (-16, 0x80, 1),
        (47, 0xbf, 1),
        (48, 0xc8, 2),
        (-2048, 0xc0, 2),
        (-2049, 0xd3, 3),
        (2047, 0xcf, 2),
        (2048, 0xd4, 3),
        (-262_144, 0xd0, 3),
        (-262_145, b'I', 5),
        (262_143, 0xd7, 3),
        (262_144, b'I', 5),
        (i32::MIN, b'I', 5),
        (i32::MAX, b'I', 5),
    ];
    for &(v, first, len) in cases {
        check(&Value::Int(v), first, len);
    }
}

#[test]
fn long_form_edges() {
    let cases: &[(i64, u8, usize)] = &[
        (-9, 0xf7, 2),
        (-8, 0xd8, 1),
        (15, 0xef, 1),
        (16, 0xf8, 2),
        (-2048, 0xf0, 2),
        (-2049, 0x3b, 3),
        (2047, 0xff, 2),
        (2048, 0x3c, 3),
        (-262_144, 0x38, 3),
        (-262_145, 0x59, 5),
        (262_143, 0x3f, 3),
        (262_144, 0x59, 5),
        (i64::from(i32::MIN), 0x59, 5),
        (i64::from(i32::MAX), 0x59, 5),
        (i64::from(i32::MIN) - 1, b'L', 9),
        (i64::from(i32::MAX) + 1, b'L', 9),
        (i64::MIN, b'L', 9),
        (i64::MAX, b'L', 9),
    ];
    for &(v, first, len) in cases {
        check(&Value::Long(v), first, len);
    }
}

/// The expected final-chunk header of a string of `units` units (≤ 0x8000).
fn string_header(units: usize) -> Vec<u8> {
    match units {
        0..=31 => vec![units as u8],
        32..=1023 => vec![0x30 + (units >> 8) as u8, units as u8],
        _ => vec![b'S', (units >> 8) as u8, units as u8],
    }
}

#[test]
fn string_lengths_ascii_and_bmp() {
    for units in [0, 1, 31, 32, 1023, 1024, 32767, 32768] {
        for (unit, width) in [("a", 1), ("é", 2), ("中", 3)] {
            let s = unit.repeat(units);
            let bytes = enc(&Value::string(s.clone()));
            let mut want = string_header(units);
            want.extend_from_slice(s.as_bytes());
            assert_eq!(bytes.len(), want.len(), "{units} × {unit}");
            assert_eq!(bytes, want, "{units} × {unit}");
            assert_eq!(bytes.len() - string_header(units).len(), units * width);
            assert_eq!(dec(&bytes).unwrap(), Value::string(s));
        }
    }
}

#[test]
fn string_lengths_chunked() {
    for units in [32769, 65535, 65536, 65537, 100_000] {
        let s = "中".repeat(units);
        let bytes = enc(&Value::string(s.clone()));
        let mut want = Vec::new();
        let mut left = units;
        while left > 0x8000 {
            want.extend_from_slice(&[b'R', 0x80, 0x00]);
            want.extend_from_slice("中".repeat(0x8000).as_bytes());
            left -= 0x8000;
        }
        want.extend(string_header(left));
        want.extend_from_slice("中".repeat(left).as_bytes());
        assert!(bytes == want, "chunking of {units} units");
        assert_eq!(dec(&bytes).unwrap(), Value::string(s));
    }
}

#[test]
fn supplementary_strings_count_two_units() {
    for chars in [15, 16, 511, 512, 16383, 16384, 16385, 32768, 40000] {
        let s = "😀".repeat(chars);
        let bytes = enc(&Value::string(s.clone()));
        let units = chars * 2;
        if units <= 0x8000 {
            assert_eq!(
                bytes[..string_header(units).len()],
                string_header(units)[..]
            );
            assert_eq!(bytes.len(), string_header(units).len() + chars * 6);
        } else {
            assert_eq!(bytes[..3], [b'R', 0x80, 0x00], "{chars} emoji");
        }
        // Every emoji is two 3-byte surrogate sequences (lead byte ed), never 4-byte UTF-8.
        assert_eq!(
            bytes.iter().filter(|&&b| b == 0xed).count(),
            chars * 2,
            "{chars} emoji"
        );
        assert_eq!(dec(&bytes).unwrap(), Value::string(s));
    }
}

#[test]
fn chunk_never_splits_a_surrogate_pair() {
    // 1 + 2k units: the pair that would straddle unit 0x8000 moves to the next chunk.
    let s = format!("a{}", "😀".repeat(20000));
    let bytes = enc(&Value::string(s.clone()));
    assert_eq!(bytes[..3], [b'R', 0x7f, 0xff]);
    // 'R' 7fff, then 1 + 16383*6 bytes, then the final chunk header for 40001 - 32767 units.
    let final_at = 3 + 1 + 16383 * 6;
    assert_eq!(bytes[final_at..final_at + 3], [b'S', 0x1c, 0x42]);
    assert_eq!(dec(&bytes).unwrap(), Value::string(s));
}

#[test]
fn mixed_string_is_cesu8() {
    let s = "a😀é中𝄞z";
    let bytes = enc(&Value::string(s));
    assert_eq!(
        hex(&bytes),
        "08 61 ed a0 bd ed b8 80 c3 a9 e4 b8 ad ed a0 b4 ed b4 9e 7a"
    );
    assert_eq!(dec(&bytes).unwrap(), Value::string(s));
}

#[test]
fn binary_lengths() {
    let cases: &[(usize, &[u8])] = &[
        (0, &[0x20]),
        (15, &[0x2f]),
        (16, &[0x34, 0x10]),
        (1023, &[0x37, 0xff]),
        (1024, &[b'B', 0x04, 0x00]),
        (32768, &[b'B', 0x80, 0x00]),
    ];
    for &(len, header) in cases {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let bytes = enc(&Value::Binary(data.clone()));
        assert_eq!(&bytes[..header.len()], header, "binary {len}");
        assert_eq!(bytes.len(), header.len() + len);
        assert_eq!(dec(&bytes).unwrap(), Value::Binary(data));
    }
}

#[test]
fn big_binary_is_chunked() {
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut e = Encoder::new();
    e.write_binary(&data);
    let bytes = e.into_bytes();
    // Three 'A' chunks of 0x8000 and a final 'B' of 100000 - 98304 = 1696 bytes.
    for i in 0..3 {
        let at = i * (3 + 0x8000);
        assert_eq!(bytes[at..at + 3], [b'A', 0x80, 0x00]);
    }
    let at = 3 * (3 + 0x8000);
    assert_eq!(bytes[at..at + 3], [b'B', 0x06, 0xa0]);
    assert_eq!(bytes.len(), at + 3 + 1696);
    assert_eq!(dec(&bytes).unwrap(), Value::Binary(data));
}

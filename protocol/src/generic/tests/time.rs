//! Calendar arithmetic and date text: format/parse vectors and cross-checks.

use crate::generic::time::{civil_from_days, days_from_civil};
use crate::generic::{format_date_millis, parse_date_millis};

#[test]
fn format_vectors() {
    let cases = [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-86_400_000, "1969-12-31T00:00:00.000Z"),
        (-14_182_940_000, "1969-07-20T20:17:40.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_709_208_000_000, "2024-02-29T12:00:00.000Z"),
        (1_704_164_645_123, "2024-01-02T03:04:05.123Z"),
        (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (253_402_300_800_000, "+10000-01-01T00:00:00.000Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
        (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        (-62_198_755_200_000, "-0001-01-01T00:00:00.000Z"),
    ];
    for (ms, text) in cases {
        assert_eq!(format_date_millis(ms), text, "{ms}");
        assert_eq!(parse_date_millis(text), Ok(ms), "{text}");
    }
}

#[test]
fn extremes_format_and_round_trip() {
    for ms in [i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1] {
        let text = format_date_millis(ms);
        assert_eq!(parse_date_millis(&text), Ok(ms), "{text}");
    }
    assert!(format_date_millis(i64::MAX).starts_with("+292278994-08-17T07:12:55.807Z"));
}

#[test]
fn round_trip_sweep() {
    // A prime step visits every time of day, leap days and negative years.
    let step = 7_919_000_003_i64;
    let mut ms = -80_000_000_000_000_i64;
    while ms < 80_000_000_000_000 {
        assert_eq!(parse_date_millis(&format_date_millis(ms)), Ok(ms), "{ms}");
        ms += step;
    }
}

#[test]
fn civil_conversion_matches_day_by_day_counting() {
    // Independent reference: walk the calendar one day at a time from 1970 in both directions.
    fn month_len(y: i64, m: u32) -> u32 {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][m as usize - 1]
    }
    let (mut y, mut m, mut d) = (1970_i64, 1_u32, 1_u32);
    for days in 0..200_000_i64 {
        assert_eq!(civil_from_days(days), (y, m, d), "{days}");
        assert_eq!(days_from_civil(y, m, d), days);
        d += 1;
        if d > month_len(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    let (mut y, mut m, mut d) = (1969_i64, 12_u32, 31_u32);
    for days in (-800_000..0_i64).rev() {
        assert_eq!(civil_from_days(days), (y, m, d), "{days}");
        assert_eq!(days_from_civil(y, m, d), days);
        d -= 1;
        if d == 0 {
            if m == 1 {
                m = 12;
                y -= 1;
            } else {
                m -= 1;
            }
            d = month_len(y, m);
        }
    }
}

#[test]
fn parse_rejects() {
    let bad = [
        "",
        "2024",
        "2024-1-02",
        "2024-13-01",
        "2024-00-10",
        "1900-02-29",
        "2024-01-02T",
        "2024-01-02T3:04",
        "2024-01-02T03:60",
        "2024-01-02T03:04:60",
        "2024-01-02T03:04:05.",
        "2024-01-02T03:04:05+8",
        "2024-01-02T03:04:05+18:01",
        "20240-01-02",
        "+1234567890-01-01",
        "2024-01-02T03:04:05 Z",
    ];
    for text in bad {
        assert!(parse_date_millis(text).is_err(), "{text}");
    }
    assert_eq!(parse_date_millis("2000-02-29T00:00Z"), Ok(951_782_400_000));
    assert_eq!(
        parse_date_millis("2024-01-02t03:04:05,5z"),
        Ok(1_704_164_645_500)
    );
    assert_eq!(
        parse_date_millis("2024-01-02T03:04:05+18:00"),
        Ok(1_704_164_645_000 - 18 * 3_600_000)
    );
}

//! Duration values in configuration files: Go-style strings (`"3s"`, `"500ms"`, `"1m30s"`,
//! `"1.5h"`, units `ns us µs ms s m h`) and bare integers, which are milliseconds (`3000`).

use std::time::Duration;

/// Why a duration value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The value is empty.
    #[error("empty duration")]
    Empty,
    /// The value is negative.
    #[error("duration {0:?} is negative")]
    Negative(String),
    /// A number is missing or malformed.
    #[error("invalid duration {0:?}: expected a number followed by a unit (ns, us, ms, s, m, h), e.g. \"3s\" or \"500ms\"")]
    Invalid(String),
    /// The unit is not one of `ns us µs ms s m h`.
    #[error("invalid duration {value:?}: unknown unit {unit:?} (use ns, us, ms, s, m or h)")]
    UnknownUnit {
        /// The whole value.
        value: String,
        /// The unit found.
        unit: String,
    },
    /// The value does not fit in a `Duration`.
    #[error("duration {0:?} is too large")]
    Overflow(String),
}

/// Parses a Go-style duration; a bare non-negative integer is milliseconds.
///
/// Accepted: `"0"`, `"1500"` (ms), `"3s"`, `"500ms"`, `"1m30s"`, `"1.5h"`, `"+2s"`, `"10us"`.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let s = match s.strip_prefix('-') {
        Some(rest) if rest.trim_start_matches(['0', '.']).is_empty() => rest,
        Some(_) => return Err(DurationError::Negative(input.to_owned())),
        None => s.strip_prefix('+').unwrap_or(s),
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = s
            .parse()
            .map_err(|_| DurationError::Overflow(input.to_owned()))?;
        return Ok(Duration::from_millis(ms));
    }
    let mut total_ns: u128 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(DurationError::Invalid(input.to_owned()));
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 || unit.is_empty() {
            return Err(DurationError::Invalid(input.to_owned()));
        }
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            other => {
                return Err(DurationError::UnknownUnit {
                    value: input.to_owned(),
                    unit: other.to_owned(),
                })
            }
        };
        total_ns = total_ns
            .checked_add(
                scaled(num, unit_ns).ok_or_else(|| DurationError::Overflow(input.to_owned()))?,
            )
            .ok_or_else(|| DurationError::Overflow(input.to_owned()))?;
        rest = next;
    }
    let secs = u64::try_from(total_ns / 1_000_000_000)
        .map_err(|_| DurationError::Overflow(input.to_owned()))?;
    let nanos = u32::try_from(total_ns % 1_000_000_000).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

/// `num` (digits with at most one dot) times `unit_ns`, truncated to whole nanoseconds.
fn scaled(num: &str, unit_ns: u128) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int.checked_mul(unit_ns)?;
    let mut scale = unit_ns;
    for d in frac.bytes().take(30) {
        scale /= 10;
        if scale == 0 {
            break;
        }
        total = total.checked_add(u128::from(d - b'0') * scale)?;
    }
    Some(total)
}

/// Formats a duration the way it is written in config files (`"1.5s"`, `"250ms"`, `"0s"`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let (value, unit) = if ns == 0 {
        return "0s".to_owned();
    } else if ns.is_multiple_of(1_000_000_000) {
        (ns / 1_000_000_000, "s")
    } else if ns.is_multiple_of(1_000_000) {
        (ns / 1_000_000, "ms")
    } else if ns.is_multiple_of(1_000) {
        (ns / 1_000, "us")
    } else {
        (ns, "ns")
    };
    format!("{value}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_durations() {
        let ms = Duration::from_millis;
        let cases = [
            ("3s", ms(3000)),
            ("500ms", ms(500)),
            ("1m", ms(60_000)),
            ("1m30s", ms(90_000)),
            ("1.5h", ms(5_400_000)),
            ("1500", ms(1500)),
            ("0", ms(0)),
            ("0s", ms(0)),
            ("-0", ms(0)),
            ("+2s", ms(2000)),
            (" 2s ", ms(2000)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            (".5s", ms(500)),
            ("2h45m", ms(9_900_000)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_duration(input), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn rejects_invalid_durations() {
        type Check = fn(&DurationError) -> bool;
        let cases: [(&str, Check); 11] = [
            ("", |e| matches!(e, DurationError::Empty)),
            ("  ", |e| matches!(e, DurationError::Empty)),
            ("-3s", |e| matches!(e, DurationError::Negative(_))),
            ("s", |e| matches!(e, DurationError::Invalid(_))),
            ("3", |_| false),
            ("1.2.3s", |e| matches!(e, DurationError::Invalid(_))),
            ("3 s", |e| matches!(e, DurationError::UnknownUnit { .. })),
            ("3sec", |e| matches!(e, DurationError::UnknownUnit { .. })),
            ("3d", |e| matches!(e, DurationError::UnknownUnit { .. })),
            ("99999999999999999999", |e| {
                matches!(e, DurationError::Overflow(_))
            }),
            ("999999999999999999999h", |e| {
                matches!(e, DurationError::Overflow(_))
            }),
        ];
        for (input, ok) in cases {
            match parse_duration(input) {
                Err(e) => assert!(ok(&e), "{input:?}: unexpected {e:?}"),
                Ok(d) => assert_eq!((input, d), ("3", Duration::from_millis(3))),
            }
        }
    }

    #[test]
    fn formats_round_trip() {
        for input in ["0s", "3s", "250ms", "10us", "7ns", "90s"] {
            let d = parse_duration(input).expect(input);
            assert_eq!(format_duration(d), input);
        }
    }
}

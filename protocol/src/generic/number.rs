//! Number handling shared by both directions: strict integer/decimal syntax checks for JSON
//! numbers and numeric strings, and the decimal text of a `java.math.BigInteger` given as
//! `signum` + big-endian `mag` words.
//!
//! Error results are plain reason strings; the callers add the path.

use serde_json::Number;

/// Longest accepted numeric string (digits, sign, point and exponent).
pub(crate) const MAX_NUMBER_CHARS: usize = 10_000;

/// A client value as shown in an error message: quoted, and cut after 40 characters so a
/// hostile megabyte string is never echoed back.
pub(crate) fn shown(s: &str) -> String {
    const KEEP: usize = 40;
    match s.char_indices().nth(KEEP) {
        None => format!("{s:?}"),
        Some((cut, _)) => format!("{:?}… ({} characters)", &s[..cut], s.chars().count()),
    }
}
/// Longest `mag` array converted to decimal (4096 words = 131 072 bits).
pub(crate) const MAX_MAG_WORDS: usize = 4096;
/// 2^53: beyond this a JSON double no longer holds every integer exactly.
const EXACT_DOUBLE_LIMIT: f64 = 9_007_199_254_740_992.0;

/// An integer from a JSON number within `min..=max`; `java` names the type in messages.
pub(crate) fn integer_from_number(
    n: &Number,
    min: i64,
    max: i64,
    java: &str,
) -> Result<i64, String> {
    if let Some(v) = n.as_i64() {
        return in_range(i128::from(v), min, max, java);
    }
    if let Some(v) = n.as_u64() {
        return in_range(i128::from(v), min, max, java);
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() != 0.0 || !f.is_finite() {
        return Err(format!("{n} is not an integer ({java})"));
    }
    if f.abs() > EXACT_DOUBLE_LIMIT {
        return Err(format!(
            "{n} is too large to be exact as a JSON number; send it as a string ({java})"
        ));
    }
    // Exact: |f| ≤ 2^53 and integral.
    in_range(f as i128, min, max, java)
}

/// An integer from a numeric string (`[+-]?[0-9]+`) within `min..=max`.
pub(crate) fn integer_from_str(s: &str, min: i64, max: i64, java: &str) -> Result<i64, String> {
    if !is_integer_syntax(s) {
        return Err(format!("{} is not an integer ({java})", shown(s)));
    }
    let digits = s.trim_start_matches(['+', '-']).trim_start_matches('0');
    if digits.len() > 20 {
        return Err(format!("{s} is out of range for {java} ({min}..={max})"));
    }
    let v: i128 = s
        .parse()
        .map_err(|_| format!("{} is not an integer ({java})", shown(s)))?;
    in_range(v, min, max, java)
}

fn in_range(v: i128, min: i64, max: i64, java: &str) -> Result<i64, String> {
    if v < i128::from(min) || v > i128::from(max) {
        return Err(format!("{v} is out of range for {java} ({min}..={max})"));
    }
    i64::try_from(v).map_err(|_| format!("{v} is out of range for {java}"))
}

/// `[+-]?[0-9]+`, as `Long.parseLong` and `new BigInteger(String)` accept it.
pub(crate) fn is_integer_syntax(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && s.len() <= MAX_NUMBER_CHARS && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The syntax `new BigDecimal(String)` accepts: `[+-]? (d+ ('.' d*)? | '.' d+) ([eE] [+-]? d+)?`,
/// with an exponent that fits a Java `int`.
pub(crate) fn is_decimal_syntax(s: &str) -> bool {
    if s.len() > MAX_NUMBER_CHARS {
        return false;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() && frac_part.is_empty()
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return false;
    }
    match exponent {
        None => true,
        Some(e) => is_integer_syntax(e) && e.parse::<i32>().is_ok(),
    }
}

/// A finite double from a decimal string, or Java's `NaN` / `Infinity` / `-Infinity`.
pub(crate) fn double_from_str(s: &str, java: &str) -> Result<f64, String> {
    match s {
        "NaN" => return Ok(f64::NAN),
        "Infinity" | "+Infinity" => return Ok(f64::INFINITY),
        "-Infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    if !is_decimal_syntax(s) {
        return Err(format!("{} is not a number ({java})", shown(s)));
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("{s} is out of range for {java}")),
    }
}

/// The decimal text of `signum × mag` where `mag` holds big-endian 32-bit words, as
/// `java.math.BigInteger` stores it. `None` for an inconsistent or oversized input.
pub(crate) fn big_integer_text(signum: i32, mag: &[u32]) -> Option<String> {
    if mag.len() > MAX_MAG_WORDS || !(-1..=1).contains(&signum) {
        return None;
    }
    let mut words: Vec<u32> = mag.iter().copied().skip_while(|&w| w == 0).collect();
    if words.is_empty() {
        return (signum == 0).then(|| "0".to_string());
    }
    if signum == 0 {
        return None;
    }
    // Repeated division by 10^9; each remainder is 9 decimal digits, least significant first.
    const CHUNK: u64 = 1_000_000_000;
    let mut chunks: Vec<u32> = Vec::new();
    while !words.is_empty() {
        let mut rem: u64 = 0;
        for w in words.iter_mut() {
            let cur = (rem << 32) | u64::from(*w);
            // cur < CHUNK * 2^32, so the quotient fits in u32.
            *w = u32::try_from(cur / CHUNK).ok()?;
            rem = cur % CHUNK;
        }
        chunks.push(u32::try_from(rem).ok()?);
        let lead = words.iter().take_while(|&&w| w == 0).count();
        words.drain(..lead);
    }
    let mut out = String::with_capacity(chunks.len() * 9 + 1);
    if signum < 0 {
        out.push('-');
    }
    let mut iter = chunks.iter().rev();
    if let Some(first) = iter.next() {
        out.push_str(&first.to_string());
    }
    for c in iter {
        out.push_str(&format!("{c:09}"));
    }
    Some(out)
}

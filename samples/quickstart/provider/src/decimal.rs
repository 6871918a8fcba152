//! A small exact fixed-point decimal, enough for `java.math.BigDecimal` prices and totals:
//! an `i128` unscaled value and a decimal scale, parsed with the syntax of
//! `new BigDecimal(String)`, added and multiplied exactly (the scale of a product is the sum of
//! the scales, the scale of a sum the larger one, as in Java), printed in plain notation.

use std::fmt;
use std::str::FromStr;

/// The largest scale kept (digits after the point); larger inputs are rejected.
pub const MAX_SCALE: u32 = 30;

/// Why a decimal could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text is not a number in `BigDecimal` syntax.
    #[error("not a decimal number: {0:?}")]
    Syntax(String),
    /// The value or its scale does not fit this fixed-point representation.
    #[error("decimal out of range")]
    Overflow,
}

/// An exact decimal number: `unscaled × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    unscaled: i128,
    scale: u32,
}

impl Decimal {
    /// Zero with scale 0 (`BigDecimal.ZERO`).
    pub const ZERO: Decimal = Decimal {
        unscaled: 0,
        scale: 0,
    };

    /// An integer with scale 0 (`BigDecimal.valueOf(long)`).
    pub fn from_i64(v: i64) -> Self {
        Decimal {
            unscaled: i128::from(v),
            scale: 0,
        }
    }

    /// The digits after the decimal point.
    pub fn scale(self) -> u32 {
        self.scale
    }

    /// The exact sum; the scale is the larger of the two. `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = self.rescale(scale)?;
        let b = other.rescale(scale)?;
        Some(Decimal {
            unscaled: a.checked_add(b)?,
            scale,
        })
    }

    /// The exact product; the scale is the sum of the two. `None` on overflow.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.checked_add(other.scale)?;
        if scale > MAX_SCALE {
            return None;
        }
        Some(Decimal {
            unscaled: self.unscaled.checked_mul(other.unscaled)?,
            scale,
        })
    }

    /// The unscaled value at a scale not smaller than the current one.
    fn rescale(self, scale: u32) -> Option<i128> {
        let factor = 10i128.checked_pow(scale.checked_sub(self.scale)?)?;
        self.unscaled.checked_mul(factor)
    }

    /// Parses `[+-]? (d+ ('.' d*)? | '.' d+) ([eE] [+-]? d+)?`, the syntax of
    /// `new BigDecimal(String)`. A negative resulting scale is normalised to scale 0.
    pub fn parse(text: &str) -> Result<Decimal, DecimalError> {
        let syntax = || DecimalError::Syntax(text.to_string());
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return Err(syntax());
        }
        let exponent: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) {
                    return Err(syntax());
                }
                e.parse().map_err(|_| DecimalError::Overflow)?
            }
        };
        let mut unscaled: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            unscaled = unscaled
                .checked_mul(10)
                .and_then(|u| u.checked_add(i128::from(b - b'0')))
                .ok_or(DecimalError::Overflow)?;
        }
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| DecimalError::Overflow)?;
        let mut scale = frac_len
            .checked_sub(exponent)
            .ok_or(DecimalError::Overflow)?;
        if scale < 0 {
            let shift = u32::try_from(-scale).map_err(|_| DecimalError::Overflow)?;
            unscaled = 10i128
                .checked_pow(shift)
                .and_then(|f| unscaled.checked_mul(f))
                .ok_or(DecimalError::Overflow)?;
            scale = 0;
        }
        let scale = u32::try_from(scale).map_err(|_| DecimalError::Overflow)?;
        if scale > MAX_SCALE {
            return Err(DecimalError::Overflow);
        }
        Ok(Decimal {
            unscaled: if negative { -unscaled } else { unscaled },
            scale,
        })
    }

    /// The decimal of a Java `double` as `new BigDecimal(Double.toString(d))` makes it
    /// (`19.99` → `19.99`, `5.0` → `5.0`). NaN and infinities are rejected.
    pub fn from_f64(d: f64) -> Result<Decimal, DecimalError> {
        if !d.is_finite() {
            return Err(DecimalError::Syntax(d.to_string()));
        }
        // `{:?}` prints the shortest round-tripping digits and keeps a `.0` on integral values,
        // like Java's Double.toString (exponent notation differs, but parses to the same value).
        Decimal::parse(&format!("{d:?}"))
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl fmt::Display for Decimal {
    /// Plain notation with exactly `scale` fraction digits (`BigDecimal.toPlainString`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.unscaled.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let sign = if self.unscaled < 0 { "-" } else { "" };
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int_part, frac_part) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int_part}.{frac_part}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_plain() {
        for (input, shown) in [
            ("19.99", "19.99"),
            ("0.01", "0.01"),
            ("-0.05", "-0.05"),
            ("+7", "7"),
            ("5.", "5"),
            (".5", "0.5"),
            ("1.50", "1.50"),
            ("1e3", "1000"),
            ("1.5E-3", "0.0015"),
            ("12.5e1", "125"),
            ("0", "0"),
        ] {
            assert_eq!(d(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn rejects_bad_syntax_and_range() {
        for bad in [
            "", "-", ".", "1.2.3", "abc", "1e", "1e+", "1,5", " 1", "0x10", "1e5x",
        ] {
            assert!(
                matches!(Decimal::parse(bad), Err(DecimalError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(Decimal::parse("1e99"), Err(DecimalError::Overflow));
        assert_eq!(Decimal::parse("1e-99"), Err(DecimalError::Overflow));
        assert_eq!(Decimal::parse(&"9".repeat(50)), Err(DecimalError::Overflow));
        assert_eq!(
            Decimal::parse("1e99999999999999999999"),
            Err(DecimalError::Overflow)
        );
    }

    #[test]
    fn arithmetic_is_exact() {
        let total = d("19.99")
            .checked_mul(Decimal::from_i64(3))
            .and_then(|t| t.checked_add(d("0.01").checked_mul(Decimal::from_i64(1))?))
            .unwrap();
        assert_eq!(total.to_string(), "59.98");
        // 0.1 + 0.2 is exactly 0.3, unlike with doubles.
        assert_eq!(d("0.1").checked_add(d("0.2")).unwrap().to_string(), "0.3");
        // Scales follow Java: sum → max scale, product → sum of scales.
        assert_eq!(d("1.5").checked_add(d("2.25")).unwrap().to_string(), "3.75");
        assert_eq!(
            d("1.10").checked_mul(d("1.1")).unwrap().to_string(),
            "1.210"
        );
        assert_eq!(Decimal::ZERO.checked_add(d("2.50")).unwrap().scale(), 2);
        let big = Decimal::parse(&"9".repeat(38)).unwrap();
        assert_eq!(big.checked_mul(Decimal::from_i64(10)), None);
        assert_eq!(big.checked_add(big), None);
    }

    #[test]
    fn doubles_convert_like_java_double_to_string() {
        assert_eq!(Decimal::from_f64(19.99).unwrap().to_string(), "19.99");
        assert_eq!(Decimal::from_f64(5.0).unwrap().to_string(), "5.0");
        assert_eq!(Decimal::from_f64(-0.25).unwrap().to_string(), "-0.25");
        assert!(Decimal::from_f64(f64::NAN).is_err());
        assert!(Decimal::from_f64(f64::INFINITY).is_err());
    }
}

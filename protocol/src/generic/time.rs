//! Calendar arithmetic and the date/time text formats of the JSON bridge.
//!
//! - [`format_date_millis`]: epoch milliseconds → `2024-02-29T12:00:00.000Z` (proleptic
//!   Gregorian, UTC, any `i64`, negative and far years included).
//! - [`parse_date_millis`]: the `java.util.Date` inputs a JSON client may send: ISO-8601
//!   (`2024-01-02T03:04:05Z`, fractions, offsets `+08:00`/`+0800`/`+08`, date-only
//!   `2024-01-02`) and `yyyy-MM-dd HH:mm:ss`. **Text without an offset is UTC**, never the
//!   gateway's or the provider's local zone.
//! - [`check_local_date`], [`check_local_time`], [`check_local_date_time`]: validation of the ISO
//!   strings `java.time.Local*.parse` accepts (the provider parses them itself).

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1–12, day 1–31).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year to start in March so the leap day is the last day of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let shifted_month = i64::from((month + 9) % 12); // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // 0..=146096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (year, month as u32, day as u32)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats epoch milliseconds as ISO-8601 UTC with milliseconds, the way `Instant.toString`
/// writes years: four digits for 0000–9999, a `+` before larger years, `-` before negative ones.
pub fn format_date_millis(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let year_text = if year > 9999 {
        format!("+{year}")
    } else if year < 0 {
        format!("-{:04}", year.unsigned_abs())
    } else {
        format!("{year:04}")
    };
    format!(
        "{year_text}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// A cursor over ASCII text for the small fixed-format grammars below.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            s: s.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, set: &[u8]) -> Option<u8> {
        let c = self.peek().filter(|c| set.contains(c))?;
        self.pos += 1;
        Some(c)
    }

    fn at_end(&self) -> bool {
        self.pos == self.s.len()
    }

    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = self.peek().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(d - b'0');
            self.pos += 1;
        }
        Some(v)
    }

    /// `HH:MM` with range checks.
    fn hour_minute(&mut self) -> Option<(u32, u32)> {
        let h = self.digits(2).filter(|&h| h < 24)?;
        self.eat(b":")?;
        let m = self.digits(2).filter(|&m| m < 60)?;
        Some((h, m))
    }

    /// `YYYY-MM-DD` (or a signed year of 4–9 digits), validated against the calendar.
    fn date(&mut self) -> Option<(i64, u32, u32)> {
        let sign = self.eat(b"+-");
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let len = self.pos - start;
        if !(4..=9).contains(&len) || (sign.is_none() && len != 4) {
            return None;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        let mut year: i64 = text.parse().ok()?;
        if sign == Some(b'-') {
            year = -year;
        }
        self.eat(b"-")?;
        let month = self.digits(2).filter(|m| (1..=12).contains(m))?;
        self.eat(b"-")?;
        let day = self
            .digits(2)
            .filter(|d| (1..=days_in_month(year, month)).contains(d))?;
        Some((year, month, day))
    }

    /// `HH:MM[:SS[.f{1,9}]]` → milliseconds of the day (fraction truncated to millis).
    fn time(&mut self, fraction_comma: bool) -> Option<i64> {
        let (h, m) = self.hour_minute()?;
        let mut ms = (i64::from(h) * 60 + i64::from(m)) * 60_000;
        if self.eat(b":").is_some() {
            ms += i64::from(self.digits(2).filter(|&s| s < 60)?) * 1000;
            let separators: &[u8] = if fraction_comma { b".," } else { b"." };
            if self.eat(separators).is_some() {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits = &self.s[start..self.pos];
                if digits.is_empty() || digits.len() > 9 {
                    return None;
                }
                let millis = digits
                    .iter()
                    .chain(b"00".iter())
                    .take(3)
                    .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
                ms += millis;
            }
        }
        Some(ms)
    }
}

/// Parses the `java.util.Date` text forms (see the module docs) into epoch milliseconds.
pub fn parse_date_millis(s: &str) -> Result<i64, String> {
    parse_date_inner(s).ok_or_else(|| {
        format!(
            "{} is not a date (expected ISO-8601 such as 2024-01-02T03:04:05Z, \
             yyyy-MM-dd HH:mm:ss (UTC) or epoch milliseconds)",
            super::number::shown(s)
        )
    })
}

fn parse_date_inner(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let (year, month, day) = c.date()?;
    let days = days_from_civil(year, month, day);
    let mut ms_of_day = 0;
    let mut offset_minutes = 0i64;
    if !c.at_end() {
        c.eat(b"Tt ")?;
        ms_of_day = c.time(true)?;
        match c.eat(b"Zz+-") {
            None => {}
            Some(b'Z' | b'z') => {}
            Some(sign) => {
                let h = c.digits(2)?;
                let has_colon = c.eat(b":").is_some();
                let m = if has_colon || !c.at_end() {
                    c.digits(2)?
                } else {
                    0
                };
                if h > 18 || m > 59 || h * 60 + m > 18 * 60 {
                    return None;
                }
                let total = i64::from(h * 60 + m);
                offset_minutes = if sign == b'-' { -total } else { total };
            }
        }
        if !c.at_end() {
            return None;
        }
    }
    // i128: the day count of a 9-digit year times 86 400 000 can leave the i64 range.
    let total = i128::from(days) * i128::from(MS_PER_DAY) + i128::from(ms_of_day)
        - i128::from(offset_minutes) * 60_000;
    i64::try_from(total).ok()
}

/// Checks `java.time.LocalDate` ISO text (`2024-01-02`).
pub fn check_local_date(s: &str) -> Result<(), String> {
    let mut c = Cursor::new(s);
    match c.date() {
        Some(_) if c.at_end() => Ok(()),
        _ => Err(format!(
            "{} is not an ISO local date (yyyy-MM-dd)",
            super::number::shown(s)
        )),
    }
}

/// Checks `java.time.LocalTime` ISO text (`03:04`, `03:04:05`, `03:04:05.123456789`).
pub fn check_local_time(s: &str) -> Result<(), String> {
    let mut c = Cursor::new(s);
    match c.time(false) {
        Some(_) if c.at_end() => Ok(()),
        _ => Err(format!(
            "{} is not an ISO local time (HH:mm[:ss[.fffffffff]])",
            super::number::shown(s)
        )),
    }
}

/// Checks `java.time.LocalDateTime` ISO text (`2024-01-02T03:04:05`).
pub fn check_local_date_time(s: &str) -> Result<(), String> {
    let mut c = Cursor::new(s);
    let ok = c.date().is_some() && c.eat(b"Tt").is_some() && c.time(false).is_some() && c.at_end();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not an ISO local date-time (yyyy-MM-ddTHH:mm[:ss[.fffffffff]])",
            super::number::shown(s)
        ))
    }
}

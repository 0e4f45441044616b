//! Domain values that parse themselves: dates, HS codes, countries, transport
//! modes, consignee types, ECCNs, licence codes and inspection budgets. Each
//! `parse` rejects a bad value with a message that says what is accepted.

use std::fmt;
use std::str::FromStr;

use crate::tables::Tables;

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` when the
/// date does not exist.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i32> {
    if !(1..=12).contains(&m) || d == 0 || !(1000..=9999).contains(&y) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mdays = [
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
    ];
    if d > mdays[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146097 + doe - 719468)
}

/// (year, month, day) of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A calendar date, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

impl Date {
    /// Parses `YYYY-MM-DD` (exactly).
    pub fn parse_iso(s: &str) -> Option<Date> {
        Date::parse_with(s, "%Y-%m-%d")
    }

    /// Parses with a small strftime subset: `%Y` (4 digits), `%m`, `%d`
    /// (1-2 digits), `%y` (2 digits, 20xx), `%%`; other characters must match.
    pub fn parse_with(s: &str, format: &str) -> Option<Date> {
        let s = s.trim();
        let (mut y, mut m, mut d) = (None, None, None);
        let sb = s.as_bytes();
        let mut i = 0;
        let mut f = format.chars().peekable();
        let take_digits = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
            let start = *i;
            while *i < sb.len() && *i - start < max && sb[*i].is_ascii_digit() {
                *i += 1;
            }
            if *i - start < min {
                return None;
            }
            s[start..*i].parse().ok()
        };
        while let Some(c) = f.next() {
            if c == '%' {
                match f.next()? {
                    'Y' => y = Some(take_digits(&mut i, 4, 4)? as i32),
                    'y' => y = Some(2000 + take_digits(&mut i, 2, 2)? as i32),
                    'm' => m = Some(take_digits(&mut i, 1, 2)?),
                    'd' => d = Some(take_digits(&mut i, 1, 2)?),
                    '%' => {
                        if sb.get(i) != Some(&b'%') {
                            return None;
                        }
                        i += 1;
                    }
                    _ => return None,
                }
            } else {
                let mut buf = [0u8; 4];
                let enc = c.encode_utf8(&mut buf).as_bytes();
                if !sb[i..].starts_with(enc) {
                    return None;
                }
                i += enc.len();
            }
        }
        if i != sb.len() {
            return None;
        }
        days_from_civil(y?, m?, d?).map(Date)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        Date::parse_iso(s).ok_or_else(|| format!("`{s}` is not a real date in the form YYYY-MM-DD"))
    }
}

/// A Schedule B / HTS code: 6 to 10 digits, dots and spaces ignored.
pub fn parse_hs(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| *c != '.' && *c != ' ').collect();
    if (6..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Some(digits)
    } else {
        None
    }
}

/// An ISO 3166-1 alpha-2 code that exists (case-insensitive), upper-cased.
pub fn parse_country(s: &str) -> Option<String> {
    let t = s.trim();
    if t.len() != 2 {
        return None;
    }
    let up = t.to_ascii_uppercase();
    Tables::get().country(&up).map(|_| up)
}

/// The same as [`parse_country`], without allocating: the table's own code.
pub fn country_code(s: &str) -> Option<&'static str> {
    let b = s.trim().as_bytes();
    if b.len() != 2 {
        return None;
    }
    let up = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
    let key = std::str::from_utf8(&up).ok()?;
    Tables::get()
        .countries
        .get_key_value(key)
        .map(|(k, _)| k.as_str())
}

pub const TRANSPORT_MODES: &[&str] = &["air", "vessel", "truck", "rail", "mail"];

/// A transport mode of the spec (case-insensitive), lower-cased.
pub fn parse_mode(s: &str) -> Option<String> {
    let l = s.trim().to_ascii_lowercase();
    TRANSPORT_MODES.contains(&l.as_str()).then_some(l)
}

/// The same as [`parse_mode`], without allocating.
pub fn mode(s: &str) -> Option<&'static str> {
    let t = s.trim();
    TRANSPORT_MODES
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(t))
}

/// The same as [`parse_consignee_type`], without allocating.
pub fn consignee_type(s: &str) -> Option<&'static str> {
    let t = s.trim();
    ["D", "G", "R", "O"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(t))
}

/// Ultimate consignee type D, G, R or O (case-insensitive).
pub fn parse_consignee_type(s: &str) -> Option<String> {
    let u = s.trim().to_ascii_uppercase();
    matches!(u.as_str(), "D" | "G" | "R" | "O").then_some(u)
}

/// An ECCN as filed: `EAR99`, or a digit, a letter A-E, three digits and an
/// optional dotted suffix (`3A090.a`, `5A992.c`). Case of the suffix kept.
pub fn parse_eccn(s: &str) -> Option<String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("EAR99") {
        return Some("EAR99".into());
    }
    let b = t.as_bytes();
    if b.len() < 5 || b.len() > 16 {
        return None;
    }
    let head_ok = b[0].is_ascii_digit()
        && matches!(b[1].to_ascii_uppercase(), b'A'..=b'E')
        && b[2..5].iter().all(u8::is_ascii_digit);
    let tail_ok = b.len() == 5
        || (b[5] == b'.' && b.len() > 6 && b[6..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.'));
    (head_ok && tail_ok).then(|| {
        let mut out = t[..5].to_ascii_uppercase();
        out.push_str(&t[5..]);
        out
    })
}

/// An AES licence code: a letter and two digits (`C30`, `C33`, `C40`).
pub fn parse_license(s: &str) -> Option<String> {
    let u = s.trim().to_ascii_uppercase();
    let b = u.as_bytes();
    (b.len() == 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_digit() && b[2].is_ascii_digit())
        .then_some(u)
}

/// A finite number (plain decimal or exponent notation).
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    // Rust accepts "inf", "NaN" and "infinity": all are refused here.
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// How many of a batch's rows an analyst can inspect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// A share of the batch, in percent (0 < p <= 100).
    Percent(f64),
    /// A fixed number of rows.
    Top(usize),
}

impl Budget {
    /// Rows flagged in a batch of `n` rows: rounded up, at least one (when n > 0).
    pub fn rows(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let k = match *self {
            Budget::Percent(p) => (p / 100.0 * n as f64 - 1e-9).ceil() as usize,
            Budget::Top(k) => k,
        };
        k.clamp(1, n)
    }
}

impl FromStr for Budget {
    type Err = String;
    fn from_str(s: &str) -> Result<Budget, String> {
        let t = s.trim();
        let bad = || {
            format!("budget `{s}` is not valid: use a share like `1%` or `0.5%`, or a count like `top:500`")
        };
        if let Some(k) = t.strip_prefix("top:") {
            let k: usize = k.trim().parse().map_err(|_| bad())?;
            if k == 0 {
                return Err(bad());
            }
            return Ok(Budget::Top(k));
        }
        let p = t.strip_suffix('%').ok_or_else(bad)?;
        let p: f64 = p.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(bad());
        }
        Ok(Budget::Percent(p))
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Percent(p) => write!(f, "{p}%"),
            Budget::Top(k) => write!(f, "top:{k}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for s in ["1970-01-01", "2024-02-29", "2025-12-31", "2000-03-01"] {
            assert_eq!(Date::parse_iso(s).unwrap().to_string(), s);
        }
        assert_eq!(Date::parse_iso("1970-01-02").unwrap().0, 1);
        for s in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-1-1x",
            "20250101",
            "",
            "2025-04-31",
        ] {
            assert!(Date::parse_iso(s).is_none(), "{s}");
        }
        assert_eq!(
            Date::parse_with("31/12/2024", "%d/%m/%Y").unwrap().to_string(),
            "2024-12-31"
        );
    }

    #[test]
    fn hs_codes_keep_leading_zeros_and_ignore_dots() {
        assert_eq!(parse_hs("0101.21.0000").as_deref(), Some("0101210000"));
        assert_eq!(parse_hs("8504 40").as_deref(), Some("850440"));
        assert!(parse_hs("85044").is_none());
        assert!(parse_hs("85044000001").is_none());
        assert!(parse_hs("8504a0").is_none());
    }

    #[test]
    fn eccn_licence_country_mode() {
        assert_eq!(parse_eccn("3a090.a").as_deref(), Some("3A090.a"));
        assert_eq!(parse_eccn("ear99").as_deref(), Some("EAR99"));
        assert!(parse_eccn("3F090").is_none());
        assert_eq!(parse_license("c33").as_deref(), Some("C33"));
        assert!(parse_license("C3").is_none());
        assert_eq!(parse_country(" sg ").as_deref(), Some("SG"));
        assert!(parse_country("Singapore").is_none());
        assert!(parse_country("XX").is_none());
        assert_eq!(parse_mode("Air").as_deref(), Some("air"));
        assert!(parse_mode("camel").is_none());
    }

    #[test]
    fn numbers_must_be_finite() {
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
        for s in ["NaN", "inf", "-inf", "1e400", "", "1,000", "abc"] {
            assert!(parse_number(s).is_none(), "{s}");
        }
    }

    #[test]
    fn budgets() {
        assert_eq!("1%".parse::<Budget>().unwrap(), Budget::Percent(1.0));
        assert_eq!("top:500".parse::<Budget>().unwrap(), Budget::Top(500));
        for s in ["0%", "101%", "top:0", "1", "abc%"] {
            assert!(s.parse::<Budget>().is_err(), "{s}");
        }
        assert_eq!(Budget::Percent(1.0).rows(1000), 10);
        assert_eq!(Budget::Percent(1.0).rows(1001), 11);
        assert_eq!(Budget::Percent(1.0).rows(5), 1);
        assert_eq!(Budget::Top(500).rows(100), 100);
        assert_eq!(Budget::Top(5).rows(0), 0);
    }
}

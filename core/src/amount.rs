//! Strict decimal strings → exact integers in base units.
//!
//! Grammar (nothing else is accepted): `-?INTEGER(.DIGITS)?` where `INTEGER` is `0` or a digit
//! string without leading zeros; at most `scale` fraction digits (trailing zeros allowed up to
//! that); no sign on unsigned quantities and no `-` on a zero value (`-0`, `-0.00`); no `+`, no
//! exponent, no whitespace, no `NaN`/`inf`, no empty integer or fraction part (`.5` and `5.` are
//! rejected), no leading zeros (`01.5`, `007`). So a sign and a magnitude have one spelling each
//! (up to fraction padding). The value is `integer part · 10^scale + fraction padded to scale
//! digits`.

use std::fmt;

/// Why a decimal string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("empty value")]
    /// The field is empty.
    Empty,
    #[error("`{0}` is not a decimal number (digits with an optional `.` fraction; no exponent, sign `+`, or spaces)")]
    /// Not a plain decimal number.
    Syntax(String),
    #[error("`{0}` is negative; this field must be zero or positive")]
    /// A negative value where only non-negative ones are allowed.
    Negative(String),
    #[error(
        "`{0}` is not canonical: no leading zeros (write `1.5`, not `01.5`) and no `-` on zero"
    )]
    /// A second spelling of a number (leading zeros, `-0`).
    NotCanonical(String),
    #[error("`{value}` has {digits} fraction digits; at most {scale} allowed")]
    /// More fraction digits than the field's scale.
    TooManyDecimals {
        /// The value as written.
        value: String,
        /// Its fraction digits.
        digits: usize,
        /// The most allowed.
        scale: u32,
    },
    #[error("`{value}` is out of range: the scaled value must be below {bound}")]
    /// The scaled value is not below the field's bound.
    OutOfRange {
        /// The value as written.
        value: String,
        /// The bound, as a decimal.
        bound: String,
    },
}

/// Shortens an offending input for error messages (CSV cells can be arbitrarily long).
fn shown(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// Parses the magnitude of a decimal string into base units (`value · 10^scale`), rejecting
/// values `>= limit`. Returns `(negative, magnitude)`.
fn parse_magnitude(raw: &[u8], scale: u32, limit: u128) -> Result<(bool, u128), AmountError> {
    if raw.is_empty() {
        return Err(AmountError::Empty);
    }
    let (negative, body) = match raw[0] {
        b'-' => (true, &raw[1..]),
        _ => (false, raw),
    };
    let (int_part, frac_part) = match body.iter().position(|&b| b == b'.') {
        Some(dot) => (&body[..dot], Some(&body[dot + 1..])),
        None => (body, None),
    };
    let digits_ok = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    if !digits_ok(int_part) || frac_part.is_some_and(|f| !digits_ok(f)) {
        return Err(AmountError::Syntax(shown(raw)));
    }
    if int_part.len() > 1 && int_part[0] == b'0' {
        return Err(AmountError::NotCanonical(shown(raw)));
    }
    let frac = frac_part.unwrap_or(&[]);
    if frac.len() > scale as usize {
        return Err(AmountError::TooManyDecimals {
            value: shown(raw),
            digits: frac.len(),
            scale,
        });
    }
    let out_of_range = || AmountError::OutOfRange {
        value: shown(raw),
        bound: limit.to_string(),
    };
    let mut acc: u128 = 0;
    let push = |acc: u128, d: u8| -> Option<u128> {
        acc.checked_mul(10)?.checked_add(u128::from(d - b'0'))
    };
    for &d in int_part.iter().chain(frac.iter()) {
        acc = push(acc, d).ok_or_else(out_of_range)?;
    }
    for _ in frac.len()..scale as usize {
        acc = acc.checked_mul(10).ok_or_else(out_of_range)?;
    }
    if acc >= limit {
        return Err(out_of_range());
    }
    if negative && acc == 0 {
        return Err(AmountError::NotCanonical(shown(raw)));
    }
    Ok((negative, acc))
}

/// Parses a non-negative amount with `scale` fraction digits into base units `< limit`.
/// A negative value is rejected as [`AmountError::Negative`] (`-0` as not canonical).
pub fn parse_unsigned(raw: &[u8], scale: u32, limit: u128) -> Result<u128, AmountError> {
    let (negative, magnitude) = parse_magnitude(raw, scale, limit)?;
    if negative {
        return Err(AmountError::Negative(shown(raw)));
    }
    Ok(magnitude)
}

/// Parses a signed amount with `scale` fraction digits into base units with `|value| < limit`.
/// `limit` must be at most `2^127` so the result fits an `i128`.
pub fn parse_signed(raw: &[u8], scale: u32, limit: u128) -> Result<i128, AmountError> {
    debug_assert!(limit <= 1u128 << 127);
    let (negative, magnitude) = parse_magnitude(raw, scale, limit)?;
    // magnitude < limit <= 2^127, so the cast cannot wrap.
    let value = magnitude as i128;
    Ok(if negative { -value } else { value })
}

/// Parses a plain unsigned integer (timestamps, counts): digits only, value `< limit`.
pub fn parse_integer(raw: &[u8], limit: u128) -> Result<u128, AmountError> {
    if raw.contains(&b'.') {
        return Err(AmountError::Syntax(shown(raw)));
    }
    parse_unsigned(raw, 0, limit)
}

/// Largest scale [`format_units`] pads out in full (any `I256` has fewer digits).
const MAX_FORMAT_SCALE: u32 = 96;

/// Renders `units / 10^scale` exactly as a decimal string (no trailing zeros beyond what the
/// fraction needs; integers print without a dot).
pub fn format_units<T: fmt::Display>(units: T, scale: u32) -> String {
    let s = units.to_string();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest.to_string()),
        None => ("", s),
    };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    // No configured quantity has more than `MAX_DECIMALS` digits and no fine unit more than a
    // few dozen; a larger scale comes from a hostile file and is shown in exponent form rather
    // than padded to its width.
    if scale > MAX_FORMAT_SCALE {
        return format!("{sign}{digits}e-{scale}");
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U64: u128 = 1 << 64;

    #[test]
    fn accepts_plain_decimals() {
        assert_eq!(parse_unsigned(b"0", 6, U64), Ok(0));
        assert_eq!(parse_unsigned(b"1.5", 6, U64), Ok(1_500_000));
        assert_eq!(parse_unsigned(b"7.000001", 6, U64), Ok(7_000_001));
        assert_eq!(parse_unsigned(b"0.000001", 6, U64), Ok(1));
        assert_eq!(parse_unsigned(b"7.500000", 6, U64), Ok(7_500_000));
        assert_eq!(parse_signed(b"-12.25", 2, 1 << 63), Ok(-1225));
        assert_eq!(parse_signed(b"12", 0, 1 << 63), Ok(12));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            &b"1e5"[..],
            b"1E5",
            b"NaN",
            b"inf",
            b"+1",
            b".5",
            b"5.",
            b" 1",
            b"1 ",
            b"1,5",
            b"--1",
            b"0x10",
            b"1.2.3",
            b"-",
            b"\xff",
            b"\xd9\xa3",
        ] {
            assert!(
                matches!(parse_signed(bad, 6, 1 << 63), Err(AmountError::Syntax(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_unsigned(b"", 6, U64), Err(AmountError::Empty));
        assert!(matches!(
            parse_unsigned(b"-1", 6, U64),
            Err(AmountError::Negative(_))
        ));
        assert!(matches!(
            parse_unsigned(b"1.1234567", 6, U64),
            Err(AmountError::TooManyDecimals { digits: 7, .. })
        ));
    }

    #[test]
    fn every_value_has_one_spelling() {
        for bad in [
            &b"-0"[..],
            b"-0.0",
            b"-0.000000",
            b"01.5",
            b"007",
            b"00",
            b"-01",
            b"00.5",
        ] {
            for result in [
                parse_signed(bad, 6, 1 << 63).map(|_| ()),
                parse_unsigned(bad, 6, U64).map(|_| ()),
            ] {
                assert!(
                    matches!(result, Err(AmountError::NotCanonical(_))),
                    "{:?}: {result:?}",
                    String::from_utf8_lossy(bad)
                );
            }
        }
        assert!(parse_integer(b"0170", U64).is_err());
        assert_eq!(parse_signed(b"-0.5", 6, 1 << 63), Ok(-500_000));
        assert_eq!(parse_signed(b"0", 6, 1 << 63), Ok(0));
    }

    #[test]
    fn bounds_are_exclusive_and_overflow_safe() {
        // 2^64 - 1 base units is the largest balance; 2^64 is rejected.
        assert_eq!(
            parse_unsigned(b"18446744073709551615", 0, U64),
            Ok(u64::MAX as u128)
        );
        assert!(matches!(
            parse_unsigned(b"18446744073709551616", 0, U64),
            Err(AmountError::OutOfRange { .. })
        ));
        assert!(matches!(
            parse_unsigned(b"18446744073709.551616", 6, U64),
            Err(AmountError::OutOfRange { .. })
        ));
        // Far past u128 must not wrap.
        let huge = "9".repeat(80);
        assert!(matches!(
            parse_unsigned(huge.as_bytes(), 0, U64),
            Err(AmountError::OutOfRange { .. })
        ));
        assert_eq!(
            parse_signed(b"-9223372036854775807", 0, 1 << 63),
            Ok(-(i64::MAX as i128))
        );
        assert!(parse_signed(b"-9223372036854775808", 0, 1 << 63).is_err());
    }

    #[test]
    fn integers_have_no_fraction() {
        assert_eq!(parse_integer(b"1700000000", U64), Ok(1_700_000_000));
        assert!(parse_integer(b"1.0", U64).is_err());
        assert!(parse_integer(b"-1", U64).is_err());
    }

    #[test]
    fn formats_exactly() {
        assert_eq!(format_units(1_500_000u64, 6), "1.5");
        assert_eq!(format_units(-5i64, 3), "-0.005");
        assert_eq!(format_units(100u64, 2), "1");
        assert_eq!(format_units(7u64, 0), "7");
        // A hostile scale is shown, not padded to billions of digits.
        assert_eq!(format_units(5u64, u32::MAX), "5e-4294967295");
    }
}

//! Kubernetes resource quantities (`500m`, `1.5`, `512Mi`, `1G`, `1e3`).
//!
//! Follows the grammar of apimachinery's `pkg/api/resource/quantity.go` (`ParseQuantity`):
//! a signed decimal number followed by a binary-SI suffix (`Ki`..`Ei`), a decimal-SI suffix
//! (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`) or a decimal exponent (`e3`, `E-2`).
//! Conversions round **up** to the next integer unit, as `Quantity.Value()` and
//! `Quantity.MilliValue()` do, so `0.1m` of CPU is 1 milli-core, never 0.
//! One deliberate difference: a value beyond 64 bits of base units is an error here, where
//! upstream saturates it (`9Ei` becomes the maximum), because such a number in a scenario
//! is always a typo. Kept hand-written: the crates found give poor errors and no milli
//! accessor.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Why a quantity string was rejected; the message states what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not follow the quantity grammar.
    #[error(
        "`{0}` is not a Kubernetes quantity (expected a number with an optional suffix such as 500m, 2, 1.5, 512Mi, 1G, 1e3)"
    )]
    Syntax(String),
    /// The value does not fit in 64 bits of base units.
    #[error("`{0}` is too large")]
    TooLarge(String),
    /// A resource amount that must not be negative was.
    #[error("`{0}` is negative; a resource amount must be 0 or more")]
    Negative(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// value = mantissa · 10^exp
    Decimal(i32),
    /// value = mantissa · 2^exp
    Binary(u32),
}

/// A parsed quantity, kept exact (digits and scale) until converted to integer units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantity {
    text: String,
    negative: bool,
    /// All digits of the number with the decimal point removed.
    mantissa: u128,
    /// Digits after the decimal point in `mantissa`.
    fraction_digits: u32,
    scale: Scale,
}

impl Quantity {
    /// Parses `text` with upstream's grammar.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let syntax = || QuantityError::Syntax(text.to_string());
        let s = text.trim();
        if s.is_empty() || s != text {
            return Err(syntax());
        }
        let (negative, rest) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(syntax());
        }
        let digits = int_part.trim_start_matches('0').len() + frac_part.len();
        if digits > 36 {
            return Err(QuantityError::TooLarge(text.to_string()));
        }
        let mut mantissa: u128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa * 10 + u128::from(b - b'0');
        }
        let scale = parse_suffix(suffix).ok_or_else(syntax)?;
        Ok(Quantity {
            text: text.to_string(),
            negative,
            mantissa,
            fraction_digits: frac_part.len() as u32,
            scale,
        })
    }

    /// The text as the user wrote it, for messages.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value in base units (bytes, cores), rounded up — `Quantity.Value()`.
    pub fn value(&self) -> Result<i64, QuantityError> {
        self.scaled(0)
    }

    /// The value in thousandths (milli-cores), rounded up — `Quantity.MilliValue()`.
    pub fn milli_value(&self) -> Result<i64, QuantityError> {
        self.scaled(3)
    }

    /// A non-negative value in base units, for memory and counts.
    pub fn non_negative_value(&self) -> Result<u64, QuantityError> {
        self.non_negative(self.value()?)
    }

    /// A non-negative value in thousandths, for CPU.
    pub fn non_negative_milli_value(&self) -> Result<u64, QuantityError> {
        self.non_negative(self.milli_value()?)
    }

    fn non_negative(&self, v: i64) -> Result<u64, QuantityError> {
        if self.negative && self.mantissa != 0 {
            return Err(QuantityError::Negative(self.text.clone()));
        }
        Ok(v as u64)
    }

    /// value · 10^k rounded toward +∞, checked against i64.
    fn scaled(&self, k: i32) -> Result<i64, QuantityError> {
        let too_large = || QuantityError::TooLarge(self.text.clone());
        let (exp10, pow2) = match self.scale {
            Scale::Decimal(e) => (e, 0),
            Scale::Binary(p) => (0, p),
        };
        let exp = exp10 + k - self.fraction_digits as i32;
        let mut magnitude = self
            .mantissa
            .checked_mul(1u128.checked_shl(pow2).ok_or_else(too_large)?)
            .ok_or_else(too_large)?;
        let mut inexact = false;
        if exp >= 0 {
            let factor = 10u128.checked_pow(exp as u32).ok_or_else(too_large)?;
            if magnitude != 0 {
                magnitude = magnitude.checked_mul(factor).ok_or_else(too_large)?;
            }
        } else {
            let divisor = 10u128.checked_pow((-exp) as u32);
            match divisor {
                Some(d) => {
                    inexact = magnitude % d != 0;
                    magnitude /= d;
                }
                None => {
                    inexact = magnitude != 0;
                    magnitude = 0;
                }
            }
        }
        let mut signed = i128::try_from(magnitude).map_err(|_| too_large())?;
        if self.negative {
            signed = -signed;
        } else if inexact {
            signed += 1; // round up toward +inf, as upstream's ScaledValue does
        }
        i64::try_from(signed).map_err(|_| too_large())
    }
}

fn parse_suffix(suffix: &str) -> Option<Scale> {
    Some(match suffix {
        "" => Scale::Decimal(0),
        "n" => Scale::Decimal(-9),
        "u" => Scale::Decimal(-6),
        "m" => Scale::Decimal(-3),
        "k" => Scale::Decimal(3),
        "M" => Scale::Decimal(6),
        "G" => Scale::Decimal(9),
        "T" => Scale::Decimal(12),
        "P" => Scale::Decimal(15),
        "E" => Scale::Decimal(18),
        "Ki" => Scale::Binary(10),
        "Mi" => Scale::Binary(20),
        "Gi" => Scale::Binary(30),
        "Ti" => Scale::Binary(40),
        "Pi" => Scale::Binary(50),
        "Ei" => Scale::Binary(60),
        _ => {
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4
            {
                return None;
            }
            Scale::Decimal(exp.parse().ok()?)
        }
    })
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;
        impl Visitor<'_> for QuantityVisitor {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as 500m, 2, 1.5, 512Mi or 1G")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("`{v}` is not a quantity")));
                }
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(QuantityVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(s: &str) -> i64 {
        Quantity::parse(s)
            .and_then(|q| q.milli_value())
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn value(s: &str) -> i64 {
        Quantity::parse(s)
            .and_then(|q| q.value())
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn decimal_si_suffixes() {
        assert_eq!(milli("500m"), 500);
        assert_eq!(milli("1"), 1000);
        assert_eq!(milli("1.5"), 1500);
        assert_eq!(milli("0.1"), 100);
        assert_eq!(value("1k"), 1000);
        assert_eq!(value("1M"), 1_000_000);
        assert_eq!(value("1G"), 1_000_000_000);
        assert_eq!(value("1T"), 1_000_000_000_000);
        assert_eq!(value("1P"), 1_000_000_000_000_000);
        assert_eq!(value("1E"), 1_000_000_000_000_000_000);
        assert_eq!(value("100.035k"), 100_035);
    }

    #[test]
    fn binary_si_suffixes() {
        assert_eq!(value("1Ki"), 1024);
        assert_eq!(value("512Mi"), 512 * 1024 * 1024);
        assert_eq!(value("1Gi"), 1 << 30);
        assert_eq!(value("1.5Gi"), 3 << 29);
        assert_eq!(value("1Ti"), 1 << 40);
        assert_eq!(value("1Pi"), 1 << 50);
        assert_eq!(value("1Ei"), 1 << 60);
    }

    #[test]
    fn exponents() {
        assert_eq!(value("1e3"), 1000);
        assert_eq!(value("1E3"), 1000);
        assert_eq!(milli("1e-3"), 1);
        assert_eq!(value("12e+2"), 1200);
    }

    #[test]
    fn conversions_round_up_like_upstream() {
        // Sub-milli CPU becomes 1m, sub-byte memory becomes 1 byte.
        assert_eq!(milli("0.1m"), 1);
        assert_eq!(milli("1n"), 1);
        assert_eq!(value("100m"), 1);
        assert_eq!(value("1001m"), 2);
        assert_eq!(milli("0"), 0);
        assert_eq!(value("0.0"), 0);
    }

    #[test]
    fn leading_dot_and_sign_forms() {
        assert_eq!(milli(".5"), 500);
        assert_eq!(milli("+2"), 2000);
        assert_eq!(milli("5."), 5000);
        assert_eq!(milli("-1"), -1000);
        assert!(matches!(
            Quantity::parse("-1").and_then(|q| q.non_negative_milli_value()),
            Err(QuantityError::Negative(_))
        ));
    }

    /// Cases from apimachinery `pkg/api/resource/quantity_test.go` `TestQuantityParse`, as
    /// the base-unit and milli values `Value()` and `MilliValue()` return (rounded up).
    #[test]
    fn upstream_parse_table() {
        let cases: [(&str, i64, i64); 30] = [
            ("0", 0, 0),
            ("0Ki", 0, 0),
            ("8Ki", 8 * 1024, 8 * 1024 * 1000),
            ("7Mi", 7 << 20, (7 << 20) * 1000),
            ("6Gi", 6 << 30, (6i64 << 30) * 1000),
            ("5Ti", 5 << 40, (5i64 << 40) * 1000),
            ("5n", 1, 1),
            ("4u", 1, 1),
            ("3m", 1, 3),
            ("50k", 50_000, 50_000_000),
            ("40T", 40_000_000_000_000, 40_000_000_000_000_000),
            ("1E-3", 1, 1),
            ("1E18", 1_000_000_000_000_000_000, i64::MAX),
            ("100.035k", 100_035, 100_035_000),
            ("0.0005k", 1, 500),
            ("0.5e-1", 1, 50),
            ("10.035M", 10_035_000, 10_035_000_000),
            ("1.3E+6", 1_300_000, 1_300_000_000),
            ("1.53E12", 1_530_000_000_000, 1_530_000_000_000_000),
            ("7.123456M", 7_123_456, 7_123_456_000),
            ("8.1k", 8_100, 8_100_000),
            ("3.001n", 1, 1),
            ("0.00000012345", 1, 1),
            ("100.035Ki", 102_436, 102_435_840),
            ("0.5Mi", 524_288, 524_288_000),
            ("0.05Gi", 53_687_092, 53_687_091_200),
            ("0.025Ti", 27_487_790_695, 27_487_790_694_400),
            (".0001k", 1, 100),
            ("1.", 1, 1000),
            ("1.G", 1_000_000_000, 1_000_000_000_000),
        ];
        for (text, value, milli) in cases {
            let q = Quantity::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(q.value(), Ok(value), "{text} value");
            if milli == i64::MAX {
                assert!(
                    matches!(q.milli_value(), Err(QuantityError::TooLarge(_))),
                    "{text} milli"
                );
            } else {
                assert_eq!(q.milli_value(), Ok(milli), "{text} milli");
            }
        }
    }

    #[test]
    fn rejects_what_upstream_rejects() {
        // The invalid list of upstream's TestQuantityParse, then our own extra cases.
        for bad in [
            "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1",
            "1 ", "", "5x", "1.1.1", "1Kb", "1kk", "m", "1e", "1e+", "1.5.Gi", "1 Gi", "Gi", "e3",
        ] {
            assert!(
                matches!(Quantity::parse(bad), Err(QuantityError::Syntax(_))),
                "`{bad}` should be a syntax error"
            );
        }
    }

    #[test]
    fn too_large_is_an_error_not_a_wrap() {
        assert!(matches!(
            Quantity::parse("100Ei").and_then(|q| q.value()),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(matches!(
            Quantity::parse("1e30").and_then(|q| q.value()),
            Err(QuantityError::TooLarge(_))
        ));
    }
}

//! Durations as users write them: `90s`, `15m`, `24h`, `1h30m`, `250ms`, `1.5h`, `2d`.
//!
//! The syntax is Go's `time.ParseDuration` (what kubectl and Kubernetes flags use) plus `d`
//! for days. A unit is required: a bare `90` could mean seconds or milliseconds, and guessing
//! wrong silently changes a run by a factor of a thousand.

use crate::engine::SimTime;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Why a duration was rejected; the message states what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a duration: {why} (expected a number with a unit, e.g. 250ms, 90s, 15m, 1h30m, 24h, 2d)"
)]
pub struct DurationError {
    text: String,
    why: &'static str,
}

/// A parsed duration, in whole milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub SimTime);

impl Duration {
    /// Parses Go duration syntax with an extra `d` (24 h) unit.
    pub fn parse(text: &str) -> Result<Duration, DurationError> {
        let err = |why| DurationError {
            text: text.to_string(),
            why,
        };
        let s = text.trim();
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if s == "0" {
            return Ok(Duration(SimTime::ZERO));
        }
        if s.starts_with('-') {
            return Err(err("it is negative"));
        }
        let mut rest = s.strip_prefix('+').unwrap_or(s);
        let mut total_ms: f64 = 0.0;
        while !rest.is_empty() {
            let num_end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let (num, after) = rest.split_at(num_end);
            if num.is_empty() || num == "." {
                return Err(err("a number is missing before a unit"));
            }
            let value: f64 = num.parse().map_err(|_| err("a number is malformed"))?;
            let unit_end = after
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(after.len());
            let (unit, next) = after.split_at(unit_end);
            let unit_ms = match unit {
                "ms" => 1.0,
                "s" => 1_000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                "d" => 86_400_000.0,
                "" => return Err(err("a unit is missing")),
                "us" | "µs" | "ns" => return Err(err("the finest unit is ms")),
                _ => return Err(err("the unit is unknown")),
            };
            total_ms += value * unit_ms;
            rest = next;
        }
        // Ten years is far beyond any run; it also keeps the f64 → u64 conversion exact.
        if total_ms > 10.0 * 365.0 * 86_400_000.0 {
            return Err(err("it is longer than ten years"));
        }
        Ok(Duration(SimTime(total_ms.round() as u64)))
    }

    /// The duration as simulated time.
    pub fn time(self) -> SimTime {
        self.0
    }
}

impl fmt::Display for Duration {
    /// Formats in the largest unit that divides evenly, so messages echo what users wrote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
        ] {
            if ms != 0 && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit such as 90s, 15m or 24h")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Duration::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Duration::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Duration::parse(&v.to_string()).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> u64 {
        Duration::parse(s)
            .map(|d| d.0.as_millis())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn units_and_combinations() {
        assert_eq!(ms("90s"), 90_000);
        assert_eq!(ms("15m"), 900_000);
        assert_eq!(ms("24h"), 86_400_000);
        assert_eq!(ms("1h30m"), 5_400_000);
        assert_eq!(ms("250ms"), 250);
        assert_eq!(ms("1.5h"), 5_400_000);
        assert_eq!(ms("2d"), 172_800_000);
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("1m0.5s"), 60_500);
    }

    #[test]
    fn rejects_bare_numbers_unknown_units_and_negatives() {
        for bad in [
            "",
            "90",
            "5x",
            "-1s",
            "1y",
            "s",
            "1.2.3s",
            "10us",
            "99999999d",
        ] {
            assert!(Duration::parse(bad).is_err(), "`{bad}` should be rejected");
        }
    }

    #[test]
    fn display_round_trips() {
        assert_eq!(
            Duration::parse("24h").map(|d| d.to_string()).as_deref(),
            Ok("1d")
        );
        for s in ["90s", "15m", "36h", "2d", "250ms"] {
            assert_eq!(Duration::parse(s).map(|d| d.to_string()).as_deref(), Ok(s));
        }
    }
}

//! Simulated time as an integer count of milliseconds.
//!
//! Integer time makes event order exact and reproducible: two events 0.1 s apart stay
//! 100 ms apart whatever the run length, which a floating-point clock cannot promise.

use std::fmt;

/// A point in (or span of) simulated time, in milliseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time no run reaches; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }

    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * 1000)
    }

    /// Milliseconds since the start.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Seconds as a float, for reports and rate arithmetic only (never for ordering).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Adds without overflowing past [`SimTime::MAX`].
    pub const fn saturating_add(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(other.0))
    }

    /// `self − other`, or None when that would be before the start of time (a window
    /// reaching back past t = 0 has no cutoff).
    pub const fn checked_sub(self, other: SimTime) -> Option<SimTime> {
        match self.0.checked_sub(other.0) {
            Some(ms) => Some(SimTime(ms)),
            None => None,
        }
    }

    /// Subtracts, stopping at zero.
    pub const fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let s = self.0 / 1000;
        if ms == 0 {
            write!(f, "{s}")
        } else {
            write!(f, "{s}.{ms:03}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_seconds_with_millis_only_when_needed() {
        assert_eq!(SimTime::from_secs(90).to_string(), "90");
        assert_eq!(SimTime::from_millis(1500).to_string(), "1.500");
        assert_eq!(SimTime::from_millis(7).to_string(), "0.007");
    }

    #[test]
    fn saturating_arithmetic_never_wraps() {
        assert_eq!(SimTime::MAX.saturating_add(SimTime(1)), SimTime::MAX);
        assert_eq!(SimTime(3).saturating_sub(SimTime(5)), SimTime::ZERO);
    }
}

//! Standard five-field cron schedules for disruption budget windows (Karpenter parses them
//! with robfig/cron's `ParseStandard`, in UTC).
//!
//! Simulated time 0 is Monday 2024-01-01 00:00 UTC, the same "a run starts on a Monday at
//! midnight" convention as the weekly traffic pattern, on a real calendar so day-of-month
//! and month fields mean what they say.

use crate::engine::SimTime;

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    /// Both day fields restricted: either may match (cron's historical OR rule).
    day_or: bool,
}

const DESCRIPTORS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

fn field(text: &str, min: u32, max: u32, name: &str) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| format!("{name} step `{s}` is not a positive number"))?;
                (r, step)
            }
            None => (part, 1),
        };
        let number = |s: &str| -> Result<u32, String> {
            s.parse::<u32>()
                .ok()
                .filter(|v| (min..=max).contains(v))
                .ok_or_else(|| format!("{name} `{s}` is not a number from {min} to {max}"))
        };
        let (lo, hi) = if range == "*" || range == "?" {
            star = step == 1;
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a)?, number(b)?)
        } else if step > 1 {
            (number(range)?, max)
        } else {
            let v = number(range)?;
            (v, v)
        };
        if lo > hi {
            return Err(format!("{name} range `{range}` runs backwards"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// 2024-01-01 (a Monday) in days since 1970-01-01.
const EPOCH_DAYS: i64 = 19_723;

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week` (with `*`, lists, ranges and
    /// steps) or a descriptor such as `@daily`.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let text = text.trim();
        let expanded = DESCRIPTORS
            .iter()
            .find(|(d, _)| *d == text)
            .map_or(text, |(_, e)| e);
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let [m, h, dom, mon, dow] = fields.as_slice() else {
            return Err(format!(
                "`{text}` has {} fields (expected 5: minute hour day-of-month month day-of-week, or @daily, @hourly, @weekly, @monthly, @yearly)",
                fields.len()
            ));
        };
        let (minutes, _) = field(m, 0, 59, "minute")?;
        let (hours, _) = field(h, 0, 23, "hour")?;
        let (days_of_month, dom_star) = field(dom, 1, 31, "day-of-month")?;
        let (months, _) = field(mon, 1, 12, "month")?;
        let (mut days_of_week, dow_star) = field(dow, 0, 7, "day-of-week")?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week |= 1; // 7 is Sunday too
        }
        Ok(Cron {
            minutes,
            hours: hours as u32,
            days_of_month: days_of_month as u32,
            months: months as u16,
            days_of_week: (days_of_week & 0x7f) as u8,
            day_or: !dom_star && !dow_star,
        })
    }

    fn day_matches(&self, day: i64) -> bool {
        let (_, month, dom) = civil(EPOCH_DAYS + day);
        // 2024-01-01 is a Monday (1); cron counts Sunday as 0.
        let dow = (day + 1).rem_euclid(7) as u32;
        if self.months & (1 << month) == 0 {
            return false;
        }
        let by_dom = self.days_of_month & (1 << dom) != 0;
        let by_dow = self.days_of_week & (1 << dow) != 0;
        if self.day_or {
            by_dom || by_dow
        } else {
            by_dom && by_dow
        }
    }

    /// Whether a window of `duration` opened by this schedule covers `now`: the schedule
    /// fired at some minute in `(now − duration, now]`.
    pub fn active(&self, now: SimTime, duration: SimTime) -> bool {
        let now_min = (now.as_millis() / 60_000) as i64;
        let earliest = now_min - duration.as_millis().div_ceil(60_000) as i64 + 1;
        let mut t = now_min;
        while t >= earliest && t >= 0 {
            let (day, hour, minute) = (t / 1440, (t / 60) % 24, t % 60);
            if !self.day_matches(day) {
                t = day * 1440 - 1; // the previous day's last minute
            } else if self.hours & (1 << hour) == 0 {
                t = t - minute - 1; // the previous hour's last minute
            } else if self.minutes & (1 << minute) == 0 {
                t -= 1;
            } else {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u64, h: u64, m: u64) -> SimTime {
        SimTime::from_secs(day * 86_400 + h * 3600 + m * 60)
    }

    #[test]
    fn business_hours_window_is_active_only_on_weekdays_nine_to_five() {
        // "No consolidation during business hours": 0 9 * * mon-fri, 8 h.
        let c = Cron::parse("0 9 * * 1-5").unwrap();
        let eight = SimTime::from_secs(8 * 3600);
        assert!(!c.active(at(0, 8, 59), eight)); // Monday before nine
        assert!(c.active(at(0, 9, 0), eight));
        assert!(c.active(at(0, 16, 59), eight));
        assert!(!c.active(at(0, 17, 0), eight));
        assert!(!c.active(at(5, 12, 0), eight)); // Saturday
        assert!(c.active(at(7, 12, 0), eight)); // next Monday
    }

    #[test]
    fn calendar_fields_follow_the_2024_calendar() {
        assert_eq!(civil(EPOCH_DAYS), (2024, 1, 1));
        assert_eq!(civil(EPOCH_DAYS + 59), (2024, 2, 29)); // leap day
        let first_of_march = Cron::parse("@monthly").unwrap();
        let hour = SimTime::from_secs(3600);
        assert!(first_of_march.active(at(60, 0, 30), hour)); // 2024-03-01
        assert!(!first_of_march.active(at(59, 0, 30), hour));
        // Both day fields set: either matches (the 15th, or any Sunday).
        let c = Cron::parse("0 0 15 * 0").unwrap();
        assert!(c.active(at(6, 0, 0), hour)); // Sunday 2024-01-07
        assert!(c.active(at(14, 0, 0), hour)); // Monday 2024-01-15
        assert!(!c.active(at(15, 0, 0), hour));
    }

    #[test]
    fn bad_schedules_say_which_field() {
        assert!(Cron::parse("0 25 * * *").unwrap_err().contains("hour `25`"));
        assert!(Cron::parse("0 9 * *").unwrap_err().contains("4 fields"));
        assert!(Cron::parse("*/0 * * * *").unwrap_err().contains("step"));
        let steps = Cron::parse("*/15 * * * *").unwrap();
        assert!(steps.active(at(0, 3, 45), SimTime::from_secs(60)));
        assert!(!steps.active(at(0, 3, 46), SimTime::from_secs(60)));
    }
}

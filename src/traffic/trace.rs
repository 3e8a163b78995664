//! Recorded traffic replayed from a CSV file.
//!
//! A trace is a step function of (time, rate) rows: each row's rate holds until the next
//! row. Times are seconds (`0`, `60`, `3600.5`) or timestamps (`2010-11-26 12:00`,
//! `2010-11-26T12:00:00`), read relative to the first row. Values are either rates (requests
//! per second) or counts per row interval (orders per hour), which the loader divides by
//! the interval. Every rejected row is reported with its line number.

use crate::scenario::InputError;
use std::sync::Arc;

/// How the value column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceValues {
    /// Requests per second.
    Rate,
    /// Requests per row interval.
    Count,
}

/// How to read and play a trace file.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// Time column name; None = first column.
    pub time_column: Option<String>,
    /// Value column name; None = second column.
    pub value_column: Option<String>,
    /// Rate or count.
    pub values: TraceValues,
    /// Trace seconds per simulated second.
    pub speedup: f64,
    /// Rate multiplier.
    pub scale: f64,
    /// When set, the scale that makes the trace's peak equal this rate.
    pub peak_rps: Option<f64>,
    /// Trace seconds skipped at the start.
    pub skip_s: f64,
    /// Replay from the start when the end is reached.
    pub repeat: bool,
}

/// A parsed trace file: rates per row, before any play option. Shared (behind an `Arc`)
/// by every workload replaying the same file, however each scales or shifts it.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceData {
    /// Row start times in trace seconds, from 0, strictly increasing.
    times_s: Vec<f64>,
    /// Rate in requests per second from each row's time to the next.
    rates: Vec<f64>,
    /// `area_before[i]` = ∫ rate over trace time `[0, times_s[i]]`; one more entry for the
    /// whole trace. Makes a tick's mean rate O(log rows), however many rows it spans.
    area_before: Vec<f64>,
    /// Length of the trace in trace seconds (last row's end).
    length_s: f64,
    /// Highest rate of any row.
    max_rate: f64,
    /// The row interval when every row is exactly that far from the previous one (per
    /// second counts, hourly CSVs): rows are then found by division, not search.
    uniform_step_s: Option<f64>,
}

/// A trace as one workload plays it: shared data plus scale, speed-up, skip and loop.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSeries {
    data: Arc<TraceData>,
    scale: f64,
    speedup: f64,
    skip_s: f64,
    repeat: bool,
}

impl TraceData {
    /// Parses CSV text (columns and value kind from `opts`); `file` names it in errors.
    pub fn parse_csv(file: &str, text: &str, opts: &TraceOptions) -> Result<TraceData, InputError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i as u32 + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let (header_line, header) = lines.next().ok_or_else(|| {
            InputError::file(
                file,
                "the trace is empty (expected a header row and data rows)",
            )
        })?;
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        let find =
            |wanted: &Option<String>, default: usize, what: &str| -> Result<usize, InputError> {
                match wanted {
                    None if default < columns.len() => Ok(default),
                    None => Err(InputError::at_line(
                        file,
                        header_line,
                        "",
                        format!(
                            "the header has {} column(s); a trace needs a time and a {what} column",
                            columns.len()
                        ),
                    )),
                    Some(name) => columns.iter().position(|c| c == name).ok_or_else(|| {
                        InputError::at_line(
                            file,
                            header_line,
                            "",
                            format!(
                                "no column `{name}` in the header (columns: {})",
                                columns.join(", ")
                            ),
                        )
                    }),
                }
            };
        let time_col = find(&opts.time_column, 0, "value")?;
        let value_col = find(&opts.value_column, 1, "value")?;
        let mut times: Vec<f64> = Vec::new();
        let mut values: Vec<f64> = Vec::new();
        for (line_no, line) in lines {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let field = |col: usize| -> Result<&str, InputError> {
                fields.get(col).copied().ok_or_else(|| {
                    InputError::at_line(
                        file,
                        line_no,
                        columns[col],
                        format!(
                            "the row has {} field(s), the header {}",
                            fields.len(),
                            columns.len()
                        ),
                    )
                })
            };
            let time_text = field(time_col)?;
            let t = parse_time(time_text).ok_or_else(|| {
                InputError::at_line(
                    file,
                    line_no,
                    columns[time_col],
                    format!("`{time_text}` is not a time (expected seconds such as 3600 or a timestamp such as 2010-11-26 12:00)"),
                )
            })?;
            let value_text = field(value_col)?;
            let v: f64 = value_text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    InputError::at_line(
                        file,
                        line_no,
                        columns[value_col],
                        format!("`{value_text}` is not a rate (expected a number, 0 or more)"),
                    )
                })?;
            if let Some(&prev) = times.last()
                && t <= prev
            {
                return Err(InputError::at_line(
                    file,
                    line_no,
                    columns[time_col],
                    format!(
                        "`{time_text}` is not after the previous row's time (rows must be in increasing time order)"
                    ),
                ));
            }
            times.push(t);
            values.push(v);
        }
        if times.is_empty() {
            return Err(InputError::file(
                file,
                "the trace has a header but no data rows",
            ));
        }
        let origin = times[0];
        for t in &mut times {
            *t -= origin;
        }
        let last_interval = if times.len() >= 2 {
            times[times.len() - 1] - times[times.len() - 2]
        } else {
            1.0
        };
        let length_s = times[times.len() - 1] + last_interval;
        let mut rates = values;
        if opts.values == TraceValues::Count {
            for i in 0..rates.len() {
                let end = times.get(i + 1).copied().unwrap_or(length_s);
                rates[i] /= end - times[i];
            }
        }
        Ok(TraceData::new(times, rates, length_s))
    }

    /// Reads a web server access log in Common Log Format (or Combined, which only adds
    /// fields after it): one request per line, `host ident user [10/Oct/2000:13:55:36 -0700]
    /// "GET / HTTP/1.1" 200 2326`. Requests are counted per second of their timestamp, from
    /// the first second of the log to the last; lines may be out of order, as they are
    /// when several workers write one file. Empty lines and `#` comments are skipped.
    pub fn from_access_log(file: &str, text: &str) -> Result<TraceData, InputError> {
        let mut stamps: Vec<i64> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let stamp = access_log_time(line).ok_or_else(|| {
                InputError::at_line(
                    file,
                    i as u32 + 1,
                    "timestamp",
                    "no Common Log Format timestamp such as [10/Oct/2000:13:55:36 -0700] on this line",
                )
            })?;
            stamps.push(stamp);
        }
        let (Some(&first), Some(&last)) = (stamps.iter().min(), stamps.iter().max()) else {
            return Err(InputError::file(
                file,
                "the access log has no request lines",
            ));
        };
        const MAX_SPAN_S: i64 = 400 * 86_400;
        if last - first >= MAX_SPAN_S {
            return Err(InputError::file(
                file,
                format!(
                    "the log spans {} days; at most 400 days of per-second counts are replayed",
                    (last - first) / 86_400
                ),
            ));
        }
        let seconds = (last - first + 1) as usize;
        let mut counts = vec![0.0f64; seconds];
        for s in stamps {
            counts[(s - first) as usize] += 1.0;
        }
        let times = (0..seconds).map(|s| s as f64).collect();
        Ok(TraceData::new(times, counts, seconds as f64))
    }

    fn new(times_s: Vec<f64>, rates: Vec<f64>, length_s: f64) -> TraceData {
        let mut area_before = Vec::with_capacity(rates.len() + 1);
        let mut area = 0.0;
        for i in 0..rates.len() {
            area_before.push(area);
            let end = times_s.get(i + 1).copied().unwrap_or(length_s);
            area += rates[i] * (end - times_s[i]);
        }
        area_before.push(area);
        let max_rate = rates.iter().copied().fold(0.0, f64::max);
        let step = times_s.get(1).copied().unwrap_or(length_s);
        let uniform_step_s = (step > 0.0
            && times_s
                .iter()
                .enumerate()
                .all(|(i, &t)| t == i as f64 * step)
            && length_s == times_s.len() as f64 * step)
            .then_some(step);
        TraceData {
            uniform_step_s,
            times_s,
            rates,
            area_before,
            length_s,
            max_rate,
        }
    }
}

impl TraceSeries {
    /// Parses CSV text and plays it with `opts`; `file` names it in errors.
    pub fn parse(file: &str, text: &str, opts: &TraceOptions) -> Result<TraceSeries, InputError> {
        TraceSeries::play(
            file,
            Arc::new(TraceData::parse_csv(file, text, opts)?),
            opts,
        )
    }

    /// Reads an access log and plays it with `opts`.
    pub fn from_access_log(
        file: &str,
        text: &str,
        opts: &TraceOptions,
    ) -> Result<TraceSeries, InputError> {
        TraceSeries::play(
            file,
            Arc::new(TraceData::from_access_log(file, text)?),
            opts,
        )
    }

    /// Applies the play options (scale or peak, skip, speed-up, loop) to shared data.
    pub fn play(
        file: &str,
        data: Arc<TraceData>,
        opts: &TraceOptions,
    ) -> Result<TraceSeries, InputError> {
        let scale = match opts.peak_rps {
            Some(peak) => {
                if data.max_rate <= 0.0 {
                    return Err(InputError::file(
                        file,
                        "peakRps cannot rescale a trace whose rates are all 0",
                    ));
                }
                peak / data.max_rate
            }
            None => opts.scale,
        };
        if opts.skip_s >= data.length_s {
            return Err(InputError::file(
                file,
                format!(
                    "skip ({} s) is not shorter than the trace ({} s)",
                    opts.skip_s, data.length_s
                ),
            ));
        }
        Ok(TraceSeries {
            data,
            scale,
            speedup: opts.speedup,
            skip_s: opts.skip_s,
            repeat: opts.repeat,
        })
    }

    /// Rate at simulated second `t_s` (0 after the end unless repeating).
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let d = &self.data;
        let mut tt = self.skip_s + t_s * self.speedup;
        if tt >= d.length_s {
            if !self.repeat {
                return 0.0;
            }
            tt %= d.length_s;
        }
        let idx = d.times_s.partition_point(|&x| x <= tt);
        if idx == 0 {
            0.0
        } else {
            d.rates[idx - 1] * self.scale
        }
    }

    /// The exact mean rate over simulated `[t0_s, t1_s]` (the area under the step
    /// function), so a tick longer than the trace's rows sees every row in full.
    pub fn mean_rate(&self, t0_s: f64, t1_s: f64) -> f64 {
        if t1_s <= t0_s {
            return self.rate_at(t0_s);
        }
        let to_trace = |t: f64| self.skip_s + t * self.speedup;
        let area = self.area_to(to_trace(t1_s)) - self.area_to(to_trace(t0_s));
        area * self.scale / (self.speedup * (t1_s - t0_s))
    }

    /// The mean rates between consecutive `edges` (increasing, simulated seconds), each
    /// [`Self::mean_rate`] of its span to the bit: the area up to each edge is computed
    /// once, not once for the span that ends there and again for the one it starts.
    pub fn mean_rates_between(&self, edges: &[f64], out: &mut Vec<f64>) {
        let to_trace = |t: f64| self.skip_s + t * self.speedup;
        let Some(&first) = edges.first() else {
            return;
        };
        let mut area0 = self.area_to(to_trace(first));
        for pair in edges.windows(2) {
            let (t0_s, t1_s) = (pair[0], pair[1]);
            if t1_s <= t0_s {
                out.push(self.mean_rate(t0_s, t1_s));
                area0 = self.area_to(to_trace(t1_s));
                continue;
            }
            let area1 = self.area_to(to_trace(t1_s));
            out.push((area1 - area0) * self.scale / (self.speedup * (t1_s - t0_s)));
            area0 = area1;
        }
    }

    /// ∫ rate du over trace time `[0, u]`, looping or ending as the trace does.
    fn area_to(&self, u: f64) -> f64 {
        let d = &self.data;
        let total = d.area_before[d.rates.len()];
        if u >= d.length_s {
            if !self.repeat {
                return total;
            }
            // Below 2^52 laps, truncating is the floor, without the libm call.
            let q = u / d.length_s;
            let laps = if q < 4.0e15 {
                q as u64 as f64
            } else {
                q.floor()
            };
            return laps * total + self.area_within(u - laps * d.length_s);
        }
        self.area_within(u)
    }

    /// ∫ rate du over `[0, u]` for `u` within one pass of the trace.
    fn area_within(&self, u: f64) -> f64 {
        let d = &self.data;
        let row = match d.uniform_step_s {
            // u ≥ 0: the cast truncates, which is the floor (and no libm call).
            Some(step) => ((u / step) as usize).min(d.rates.len() - 1),
            None => {
                let idx = d.times_s.partition_point(|&x| x <= u);
                if idx == 0 {
                    return 0.0;
                }
                idx - 1
            }
        };
        d.area_before[row] + d.rates[row] * (u - d.times_s[row])
    }

    /// Trace length in simulated seconds after speed-up and skip.
    pub fn playable_s(&self) -> f64 {
        (self.data.length_s - self.skip_s) / self.speedup
    }
}

/// Seconds since 1970 of a Common Log Format timestamp `[dd/Mon/yyyy:HH:MM:SS ±hhmm]`.
fn access_log_time(line: &str) -> Option<i64> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let stamp = &line[open + 1..close];
    let (date_time, zone) = stamp.split_once(' ')?;
    let mut parts = date_time.split(':');
    let date = parts.next()?;
    let (hh, mm, ss): (i64, i64, i64) = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    if parts.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut d = date.split('/');
    let day: u32 = d.next()?.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month_name = d.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
    let year: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=31).contains(&day) {
        return None;
    }
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let offset_min: i64 =
        digits[..2].parse::<i64>().ok()? * 60 + digits[2..].parse::<i64>().ok()?;
    let local = days_from_civil(year, month, day) * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(local - sign * offset_min * 60)
}

/// Seconds as a number, or a `YYYY-MM-DD[ T]HH:MM[:SS]` timestamp as seconds since 1970.
fn parse_time(text: &str) -> Option<f64> {
    if let Ok(v) = text.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let (date, time) = text.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, u32, u32) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let time = time.trim_end_matches('Z');
    let mut t = time.split(':');
    let hh: u32 = t.next()?.parse().ok()?;
    let mm: u32 = t.next()?.parse().ok()?;
    let ss: f64 = match t.next() {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    if t.next().is_some() || hh > 23 || mm > 59 || !(0.0..61.0).contains(&ss) {
        return None;
    }
    let days = days_from_civil(y, m, day);
    Some(days as f64 * 86_400.0 + f64::from(hh * 3600 + mm * 60) + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> TraceOptions {
        TraceOptions {
            time_column: None,
            value_column: None,
            values: TraceValues::Rate,
            speedup: 1.0,
            scale: 1.0,
            peak_rps: None,
            skip_s: 0.0,
            repeat: true,
        }
    }

    #[test]
    fn step_function_with_loop() {
        let s =
            TraceSeries::parse("t.csv", "t,rps\n0,10\n60,20\n120,30\n", &opts()).expect("valid");
        assert_eq!(s.rate_at(0.0), 10.0);
        assert_eq!(s.rate_at(59.9), 10.0);
        assert_eq!(s.rate_at(60.0), 20.0);
        assert_eq!(s.rate_at(179.0), 30.0);
        assert_eq!(s.rate_at(180.0), 10.0); // looped
        let no_loop = TraceOptions {
            repeat: false,
            ..opts()
        };
        let s = TraceSeries::parse("t.csv", "t,rps\n0,10\n60,20\n", &no_loop).expect("valid");
        assert_eq!(s.rate_at(130.0), 0.0);
    }

    #[test]
    fn counts_per_hour_become_rates_and_timestamps_are_relative() {
        let o = TraceOptions {
            values: TraceValues::Count,
            value_column: Some("orders".into()),
            ..opts()
        };
        let text = "hour_start_local,orders,order_lines\n2010-12-31 23:00,3600,1\n2011-01-01 00:00,7200,1\n";
        let s = TraceSeries::parse("r.csv", text, &o).expect("valid");
        assert_eq!(s.rate_at(0.0), 1.0);
        assert_eq!(s.rate_at(3600.0), 2.0);
        assert_eq!(s.playable_s(), 7200.0);
    }

    #[test]
    fn speedup_peak_and_skip() {
        let o = TraceOptions {
            speedup: 60.0,
            peak_rps: Some(100.0),
            skip_s: 60.0,
            ..opts()
        };
        let s = TraceSeries::parse("t.csv", "t,rps\n0,5\n60,10\n120,20\n", &o).expect("valid");
        assert_eq!(s.rate_at(0.0), 50.0); // skip 60 trace-s → row 2, scaled ×5
        assert_eq!(s.rate_at(1.0), 100.0); // +60 trace-s
    }

    #[test]
    fn bad_rows_name_their_line_and_column() {
        let err =
            TraceSeries::parse("t.csv", "t,rps\n0,10\n# note\n60,abc\n", &opts()).expect_err("bad");
        assert_eq!(err.line, Some(4));
        assert_eq!(err.field.as_deref(), Some("rps"));
        let err = TraceSeries::parse("t.csv", "t,rps\n60,1\n30,1\n", &opts()).expect_err("order");
        assert_eq!(err.line, Some(3));
        let err = TraceSeries::parse("t.csv", "t,rps\n0,-1\n", &opts()).expect_err("negative");
        assert!(err.message.contains("0 or more"));
        let missing = TraceOptions {
            value_column: Some("qps".into()),
            ..opts()
        };
        let err = TraceSeries::parse("t.csv", "t,rps\n0,1\n", &missing).expect_err("no column");
        assert!(err.message.contains("no column `qps`"), "{err}");
    }

    #[test]
    fn mean_rate_is_the_exact_area_across_rows_and_loops() {
        let s = TraceSeries::parse("t.csv", "t,rps\n0,1\n1,2\n2,3\n3,4\n", &opts()).expect("ok");
        assert!((s.mean_rate(0.0, 5.0) - 11.0 / 5.0).abs() < 1e-12); // 1+2+3+4, then 1 again
        assert!((s.mean_rate(0.5, 1.5) - 1.5).abs() < 1e-12);
        assert!((s.mean_rate(0.0, 12.0) - 2.5).abs() < 1e-12); // three whole laps
        let once = TraceOptions {
            repeat: false,
            speedup: 2.0,
            ..opts()
        };
        let s = TraceSeries::parse("t.csv", "t,rps\n0,1\n1,2\n2,3\n3,4\n", &once).expect("ok");
        // Sim [0, 4] covers trace [0, 8]: the area 10 lies in sim [0, 2], then silence.
        assert!((s.mean_rate(0.0, 4.0) - 1.25).abs() < 1e-12);
        assert!((s.mean_rate(0.0, 2.0) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn access_log_lines_are_counted_per_second_in_utc() {
        let log = "\
127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326
10.0.0.2 - - [10/Oct/2000:13:55:38 -0700] \"GET / HTTP/1.1\" 200 10 \"-\" \"curl/8\"

# rotated here
10.0.0.3 - - [10/Oct/2000:20:55:36 +0000] \"POST /cart HTTP/1.1\" 201 5
10.0.0.4 - - [10/Oct/2000:22:55:38 +0200] \"GET / HTTP/1.1\" 304 0
";
        let s = TraceSeries::from_access_log("access.log", log, &opts()).expect("valid");
        // 13:55:36 -0700 is 20:55:36 UTC: the first and third lines share a second.
        assert_eq!(s.rate_at(0.0), 2.0);
        assert_eq!(s.rate_at(1.0), 0.0);
        assert_eq!(s.rate_at(2.0), 2.0);
        assert_eq!(s.playable_s(), 3.0);
        assert_eq!(
            access_log_time("x [10/Oct/2000:13:55:36 -0700] y"),
            Some(971_211_336)
        );
    }

    #[test]
    fn access_log_errors_name_the_line() {
        let log = "a - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1\nnot a log line\n";
        let err = TraceSeries::from_access_log("a.log", log, &opts()).expect_err("bad");
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("Common Log Format"), "{err}");
        for bad in [
            "[10/Foo/2000:13:55:36 -0700]",
            "[10/Oct/2000:25:55:36 -0700]",
            "[10/Oct/2000:13:55:36 0700]",
            "[10/Oct/2000:13:55:36]",
        ] {
            assert_eq!(access_log_time(bad), None, "{bad}");
        }
        let err = TraceSeries::from_access_log("a.log", "\n# only\n", &opts()).expect_err("empty");
        assert!(err.message.contains("no request lines"));
    }

    #[test]
    fn civil_dates_match_known_epochs() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_time("2011-12-09 12:50"), Some(1_323_435_000.0));
        assert_eq!(parse_time("2011-12-09T12:50:00Z"), Some(1_323_435_000.0));
        assert_eq!(parse_time("2011-13-09 12:50"), None);
    }
}

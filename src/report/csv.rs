//! A minimal CSV writer: comma-separated, header row, `.` decimals, RFC 4180 quoting.
//! Small enough that the csv crate would add more than it saves.

use crate::engine::SimTime;
use std::io::Write;

/// Builds CSV text row by row.
#[derive(Debug, Default)]
pub struct CsvBuilder {
    /// The text so far: ASCII and whole `&str`s only, so always UTF-8. Bytes, so a number's
    /// digits append without a UTF-8 check (tens of millions of fields in a big run).
    out: Vec<u8>,
    fields_in_row: usize,
}

impl CsvBuilder {
    /// A builder that starts with `header`.
    pub fn with_header(header: &[&str]) -> CsvBuilder {
        let mut b = CsvBuilder::default();
        for h in header {
            b.field(h);
        }
        b.end_row();
        b
    }

    fn sep(&mut self) {
        if self.fields_in_row > 0 {
            self.out.push(b',');
        }
        self.fields_in_row += 1;
    }

    /// A text field, quoted when it holds a comma, quote or line break.
    pub fn field(&mut self, s: &str) -> &mut Self {
        self.sep();
        if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.out.push(b'"');
            for b in s.bytes() {
                if b == b'"' {
                    self.out.push(b'"');
                }
                self.out.push(b);
            }
            self.out.push(b'"');
        } else {
            self.out.extend_from_slice(s.as_bytes());
        }
        self
    }

    /// An integer field.
    pub fn int(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.display(v)
    }

    /// A count, written without the formatting machinery (the big tables write one or two
    /// per row, millions of rows).
    pub fn uint(&mut self, v: impl Into<u64>) -> &mut Self {
        self.sep();
        push_u64(&mut self.out, v.into());
        self
    }

    /// A simulated time as [`SimTime`]'s `Display` writes it (seconds, and milliseconds
    /// when there are any), without the formatting machinery: the first field of every
    /// time-series row.
    pub fn time(&mut self, t: SimTime) -> &mut Self {
        self.sep();
        let ms = t.as_millis();
        push_u64(&mut self.out, ms / 1000);
        let frac = ms % 1000;
        if frac != 0 {
            let mut buf = [0u8; 4];
            buf[0] = b'.';
            digits_exactly(&mut buf, 4, frac, 3);
            self.out.extend_from_slice(&buf);
        }
        self
    }

    /// A field in the value's own display form (times, counts), written without a
    /// temporary string: report writers call this once per row.
    pub fn display(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }

    /// A float with a fixed number of decimals (fixed text keeps outputs byte-stable).
    pub fn float(&mut self, v: f64, decimals: usize) -> &mut Self {
        self.sep();
        let v = if v == 0.0 { 0.0 } else { v }; // no "-0.000"
        if !push_fixed_fast(&mut self.out, v, decimals) {
            let _ = write!(self.out, "{v:.decimals$}");
        }
        self
    }

    /// An optional float in its shortest text that reads back to the same bits (run
    /// caches and shards, where merged results must equal unsharded ones); empty when
    /// absent.
    pub fn exact(&mut self, v: Option<f64>) -> &mut Self {
        self.sep();
        if let Some(v) = v.filter(|v| v.is_finite()) {
            let v = if v == 0.0 { 0.0 } else { v };
            let _ = write!(self.out, "{v}");
        }
        self
    }

    /// An optional float; empty when absent.
    pub fn opt_float(&mut self, v: Option<f64>, decimals: usize) -> &mut Self {
        match v {
            Some(v) => self.float(v, decimals),
            None => {
                self.sep();
                self
            }
        }
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.out.push(b'\n');
        self.fields_in_row = 0;
    }

    /// The text.
    pub fn finish(self) -> String {
        // Always UTF-8 (see `out`); the lossy path is never taken.
        String::from_utf8(self.out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Passes the text built so far to `w` once it passes 64 KiB, so a long file streams
    /// through a small buffer. Call between rows.
    pub fn spill(&mut self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.out.len() >= 1 << 16 {
            w.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Passes the rest of the text to `w`.
    pub fn finish_into(self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(&self.out)
    }
}

/// Writes `v` with `decimals` decimals by integer arithmetic, the same text as `{v:.d$}`,
/// and returns false (writing nothing) where that cannot be guaranteed: a value too large
/// for exact scaling, or one so near a rounding tie that the scaled product's own rounding
/// could pick the other side. `core::fmt`'s exact float formatting costs about a
/// microsecond per number; a 24 h run of 1,000 workloads writes tens of millions of them.
fn push_fixed_fast(out: &mut Vec<u8>, v: f64, decimals: usize) -> bool {
    let Some(units) = fixed_units(v, decimals) else {
        return false;
    };
    let (whole, fraction) = split_units(units, decimals);
    // Digits right to left into a buffer, then one append: at most 16 whole digits (units
    // < 4e15), the point, 6 decimals and a sign.
    let mut buf = [0u8; 32];
    let mut i = buf.len();
    if decimals > 0 {
        i = digits_exactly(&mut buf, i, fraction, decimals);
        i -= 1;
        buf[i] = b'.';
    }
    i = digits_before(&mut buf, i, whole);
    // Like core::fmt, a negative value keeps its sign even when it rounds to zero.
    if v < 0.0 {
        i -= 1;
        buf[i] = b'-';
    }
    out.extend_from_slice(&buf[i..]);
    true
}

/// `units` of 10^-`decimals` split into whole units and the rest, each divisor a constant
/// the compiler turns into a multiplication (a 64-bit division by a variable costs tens
/// of cycles, twice per field of a 300 MB CSV).
fn split_units(units: u64, decimals: usize) -> (u64, u64) {
    match decimals {
        0 => (units, 0),
        1 => (units / 10, units % 10),
        2 => (units / 100, units % 100),
        3 => (units / 1_000, units % 1_000),
        4 => (units / 10_000, units % 10_000),
        5 => (units / 100_000, units % 100_000),
        _ => (units / 1_000_000, units % 1_000_000),
    }
}

/// Powers of ten exact in a double, for the decimals [`CsvBuilder::float`] writes fast.
const POW10: [f64; 7] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];

/// `|v|` in units of the last written decimal, rounded half away from zero, when integer
/// arithmetic is sure to give what `{v:.d$}` does (see [`push_fixed_fast`]).
fn fixed_units(v: f64, decimals: usize) -> Option<u64> {
    let &scale = POW10.get(decimals)?;
    let scaled = v.abs() * scale;
    // Beyond 2^52 the product's rounding error reaches a whole unit.
    if !scaled.is_finite() || scaled >= 4.0e15 {
        return None;
    }
    // 0 ≤ scaled < 2^52: truncating is the floor, exactly, and costs no libm call (a
    // baseline x86-64 build has no `roundsd`; this runs once per field of a 300 MB CSV).
    let floor = scaled as u64 as f64;
    let frac = scaled - floor;
    // The product is within one ulp (relative 2^-52) of the exact decimal value.
    if (frac - 0.5).abs() <= scaled * 1e-15 + 1e-300 {
        return None;
    }
    Some(if frac > 0.5 { floor + 1.0 } else { floor } as u64)
}

/// The number a reader gets back from the text [`CsvBuilder::float`] writes for `v`
/// (None when that text is not a finite number), without writing it in the common case:
/// units ÷ 10^d, both exact doubles, is the correctly rounded quotient, which is what
/// parsing the decimal text gives too. A run renders its charts from these instead of
/// reading hundreds of megabytes of CSV back, and gets the same bytes as a later
/// `kubesim report` that does read them.
#[inline]
pub fn float_as_written(v: f64, decimals: usize) -> Option<f64> {
    let v = if v == 0.0 { 0.0 } else { v };
    if let Some(units) = fixed_units(v, decimals) {
        let x = units as f64 / POW10[decimals];
        return Some(if v < 0.0 { -x } else { x });
    }
    written_and_read_back(v, decimals)
}

/// [`float_as_written`] the long way, for the rare value the fast path cannot vouch for:
/// kept out of line so the fast path inlines into a loop over millions of rows.
#[cold]
fn written_and_read_back(v: f64, decimals: usize) -> Option<f64> {
    format!("{v:.decimals$}")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

/// Writes the decimal digits of `n`.
fn push_u64(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let i = digits_before(&mut digits, 20, n);
    out.extend_from_slice(&digits[i..]);
}

/// "00", "01", … "99" back to back: digits written two at a time halve the chain of
/// dependent divisions a number's digits are (each waits for the previous quotient).
const DIGIT_PAIRS: [u8; 200] = {
    let mut table = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        table[2 * i] = b'0' + (i / 10) as u8;
        table[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    table
};

/// Puts `pair` (< 100) as two digits at `buf[at..at + 2]`.
fn put_pair(buf: &mut [u8], at: usize, pair: u64) {
    let p = 2 * pair as usize;
    buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[p..p + 2]);
}

/// Puts the decimal digits of `n` in `buf` just before index `end` (right to left, at
/// least one) and returns where they start; `buf` must have room (20 digits at most).
fn digits_before(buf: &mut [u8], end: usize, mut n: u64) -> usize {
    let mut i = end;
    while n >= 100 {
        i -= 2;
        put_pair(buf, i, n % 100);
        n /= 100;
    }
    if n >= 10 {
        i -= 2;
        put_pair(buf, i, n);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    i
}

/// Puts exactly `count` digits of `n` (< 10^count, zero-padded) in `buf` just before
/// index `end` and returns where they start: the decimals of a fixed-point field.
fn digits_exactly(buf: &mut [u8], end: usize, mut n: u64, count: usize) -> usize {
    let mut i = end;
    let mut left = count;
    while left >= 2 {
        i -= 2;
        put_pair(buf, i, n % 100);
        n /= 100;
        left -= 2;
    }
    if left == 1 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed_and_formats_numbers_fixed() {
        let mut b = CsvBuilder::with_header(&["a", "b", "c", "d"]);
        b.field("x, y")
            .float(-0.0, 2)
            .opt_float(None, 1)
            .field("say \"hi\"");
        b.end_row();
        assert_eq!(b.finish(), "a,b,c,d\n\"x, y\",0.00,,\"say \"\"hi\"\"\"\n");
    }

    #[test]
    fn times_and_counts_are_written_as_display_writes_them() {
        for ms in [
            0,
            1,
            9,
            10,
            99,
            100,
            999,
            1000,
            1001,
            15_000,
            86_399_999,
            u64::MAX,
        ] {
            let mut fast = CsvBuilder::default();
            fast.time(SimTime::from_millis(ms));
            let mut slow = CsvBuilder::default();
            slow.display(SimTime::from_millis(ms));
            assert_eq!(fast.finish(), slow.finish(), "{ms} ms");
        }
        for n in [
            0u64,
            7,
            10,
            99,
            100,
            101,
            999,
            1000,
            4_294_967_295,
            u64::MAX,
        ] {
            let mut fast = CsvBuilder::default();
            fast.uint(n);
            assert_eq!(fast.finish(), n.to_string());
        }
    }

    #[test]
    fn fast_fixed_formatting_matches_core_fmt() {
        // Ties, near-ties, negatives that round to zero, large and tiny values, and a
        // deterministic sweep of awkward mantissas.
        let mut values = vec![
            0.0,
            0.0005,
            0.0015,
            0.0025,
            1.0005,
            2.5,
            -2.5,
            -0.0004,
            -0.0006,
            0.1,
            0.7,
            123456.789,
            9.9995,
            9.99949999,
            1e-9,
            3.9e15,
            5e15,
            1e300,
            f64::MAX,
            0.125,
            0.375,
            1.00049999999,
            26.3335,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64;
            let magnitude = 10f64.powi((x % 15) as i32 - 5);
            values.push(if x.is_multiple_of(3) { -1.0 } else { 1.0 } * mantissa * magnitude);
            // Exact decimal ties at every precision.
            values.push(((x % 100_000) as f64 + 0.5) / 1000.0);
        }
        for v in values {
            for d in 0..=6 {
                let mut fast = CsvBuilder::default();
                fast.float(v, d);
                let v0 = if v == 0.0 { 0.0 } else { v };
                let text = fast.finish();
                assert_eq!(text, format!("{v0:.d$}"), "{v:e} at {d} decimals");
                // What a reader gets back, to the bit (the sign of a negative zero too).
                let back = text.parse::<f64>().ok().filter(|x| x.is_finite());
                assert_eq!(
                    float_as_written(v, d).map(f64::to_bits),
                    back.map(f64::to_bits),
                    "{v:e} at {d} decimals"
                );
            }
        }
        assert_eq!(float_as_written(f64::NAN, 3), None);
        assert_eq!(float_as_written(f64::INFINITY, 3), None);
    }
}

//! A minimal CSV writer: comma-separated, header row, `.` decimals, RFC 4180 quoting.
//! Small enough that the csv crate would add more than it saves.

use std::fmt::Write;

/// Builds CSV text row by row.
#[derive(Debug, Default)]
pub struct CsvBuilder {
    out: String,
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
            self.out.push(',');
        }
        self.fields_in_row += 1;
    }

    /// A text field, quoted when it holds a comma, quote or line break.
    pub fn field(&mut self, s: &str) -> &mut Self {
        self.sep();
        if s.contains([',', '"', '\n', '\r']) {
            self.out.push('"');
            self.out.push_str(&s.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(s);
        }
        self
    }

    /// An integer field.
    pub fn int(&mut self, v: impl std::fmt::Display) -> &mut Self {
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }

    /// A float with a fixed number of decimals (fixed text keeps outputs byte-stable).
    pub fn float(&mut self, v: f64, decimals: usize) -> &mut Self {
        self.sep();
        let v = if v == 0.0 { 0.0 } else { v }; // no "-0.000"
        let _ = write!(self.out, "{v:.decimals$}");
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
        self.out.push('\n');
        self.fields_in_row = 0;
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
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
}

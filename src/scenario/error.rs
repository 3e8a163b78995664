//! Errors about user input, carrying where the problem is and what was expected.
//!
//! Every message a user sees for bad input is one of these, so the format is uniform:
//! `file:line:column: field: message`. The CLI maps them to exit code 2.

use serde_saphyr::Location;
use std::fmt;

/// A problem in a file the user gave us (scenario, trace, manifest) or in a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Path as the user gave it, or `<embedded quickstart>` / `--set`.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// Dotted field path such as `workloads[0].replicas`, when known.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// The offending source line, shown under the message with a caret.
    pub source_line: Option<String>,
}

impl InputError {
    /// An error about a whole file (unreadable, empty).
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_string(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// An error about a field, with the YAML location when the parser recorded one.
    pub fn at(
        file: &str,
        location: Option<Location>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        let known = location.filter(|l| l.line() > 0);
        InputError {
            file: file.to_string(),
            line: known.map(|l| l.line() as u32),
            column: known.map(|l| l.column() as u32),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
            source_line: None,
        }
    }

    /// An error at a known line of a non-YAML file (a trace CSV).
    pub fn at_line(file: &str, line: u32, field: &str, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_string(),
            line: Some(line),
            column: None,
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
            source_line: None,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let (Some(src), Some(line)) = (&self.source_line, self.line) {
            let gutter = line.to_string().len();
            write!(f, "\n {line} | {src}")?;
            if let Some(col) = self.column {
                let pad = " ".repeat(col.saturating_sub(1) as usize);
                write!(f, "\n {:gutter$} | {pad}^", "")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

impl InputError {
    /// Attaches the source line this error points at, taken from `text`.
    pub fn with_source_from(mut self, text: &str) -> Self {
        if let Some(line) = self.line {
            self.source_line = text
                .lines()
                .nth(line.saturating_sub(1) as usize)
                .map(|l| l.trim_end().to_string());
        }
        self
    }
}

/// Several input errors found in one pass, so users fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputErrors(pub Vec<InputError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

impl From<InputError> for InputErrors {
    fn from(e: InputError) -> Self {
        InputErrors(vec![e])
    }
}

//! Errors of the sources: an input that could not be read, parsed or understood.

use netdoctor_model::Span;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Messages of problems that concern a whole file and so carry no line.
const WHOLE_FILE_REASONS: &[&str] = &[
    "compose file not found",
    "empty compose file",
    "env file not found",
    "no compose file found",
    "cannot derive a project name",
    "is not a valid project name",
    "reading ",
];

/// An input problem, located as precisely as the source allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no line (a missing file).
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl LoadError {
    /// An error at a position.
    pub fn at(span: &Span, message: impl Into<String>) -> Self {
        LoadError { file: span.file.to_path_buf(), line: span.line, column: span.column, message: message.into() }
    }

    /// An error about a whole file.
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        LoadError { file: file.to_path_buf(), line: 0, column: 0, message: message.into() }
    }

    /// Whether a reader can find the problem: it has a line, or it is about a whole
    /// file (missing, empty, unreadable, unnamed), where no line applies.
    pub fn is_located(&self) -> bool {
        self.line > 0 || WHOLE_FILE_REASONS.iter().any(|r| self.message.contains(r))
    }

    /// The position as a span, when the error has one.
    pub fn span(&self) -> Option<Span> {
        (self.line > 0).then(|| Span::new(Arc::from(self.file.as_path()), self.line, self.column))
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

pub type Result<T, E = LoadError> = std::result::Result<T, E>;

/// An error with its causes, for messages: hyper and rustls keep the useful part
/// ("Connection refused", "UnknownIssuer") in `source()`.
#[cfg(any(feature = "docker-live", feature = "kube-live"))]
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cur = s.source();
    }
    text
}

/// A snapshot as pretty JSON with a trailing newline.
pub(crate) fn pretty_json_line<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Values that came from JSON always serialize back.
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}

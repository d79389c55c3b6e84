//! Where a fact came from: a position in a file, or a logical address for live data.

use serde::{Serialize, Serializer};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A 1-based line and column in a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: Arc<Path>,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: Arc<Path>, line: u32, column: u32) -> Self {
        Span { file, line, column }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a model object came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Origin {
    /// A position in an input file.
    File(Span),
    /// A logical address such as `docker://container/web` (live data has no file).
    Logical(String),
}

impl Origin {
    /// The file position, if the fact came from a file.
    pub fn span(&self) -> Option<&Span> {
        match self {
            Origin::File(s) => Some(s),
            Origin::Logical(_) => None,
        }
    }
}

impl From<Span> for Origin {
    fn from(s: Span) -> Self {
        Origin::File(s)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(s) => s.fmt(f),
            Origin::Logical(l) => f.write_str(l),
        }
    }
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Located<T> {
    pub fn new(value: T, origin: impl Into<Origin>) -> Self {
        Located { value, origin: origin.into() }
    }
}

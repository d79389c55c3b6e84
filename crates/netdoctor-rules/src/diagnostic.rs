//! Findings: the one thing rules produce and renderers consume.

use netdoctor_model::Origin;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!("unknown severity `{other}` (expected error, warning or info)")),
        }
    }
}

/// A second location that helps explain a finding (the other side of an overlap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    pub origin: Origin,
    pub message: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The rule ID, `ND101`.
    pub id: &'static str,
    /// The rule's stable name, `default-bridge`.
    pub name: String,
    pub severity: Severity,
    /// What is wrong, naming the workloads and networks involved. Never a secret value.
    pub message: String,
    /// Where the culprit is written; `None` for live data without a file.
    pub origin: Option<Origin>,
    pub related: Vec<Related>,
    /// The workloads (and networks) the finding is about.
    pub subjects: Vec<String>,
    /// What to change to fix it.
    pub help: String,
    /// The text the finding is about inside the line `origin` points at (the host inside
    /// a URL value), when that is narrower than the origin: the excerpt underlines it and
    /// shows it, masked values around it or not, as the message names it anyway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focus: Option<String>,
}

impl Diagnostic {
    /// Sets the workloads/networks the finding is about.
    pub fn subjects<I, S>(&mut self, subjects: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subjects = subjects.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the text inside the origin's line the finding is about (see `focus`).
    pub fn focus(&mut self, text: impl Into<String>) -> &mut Self {
        self.focus = Some(text.into());
        self
    }

    /// Sets the fix.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = help.into();
        self
    }

    /// Adds a related location.
    pub fn related(&mut self, origin: &Origin, message: impl Into<String>) -> &mut Self {
        self.related.push(Related { origin: origin.clone(), message: message.into() });
        self
    }

    /// Lowers (or raises) this finding's severity, for weaker (or stronger) evidence.
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }

    /// The sort key: file, line, column, then rule ID; findings without a file last.
    pub fn sort_key(&self) -> (u8, String, u32, u32, &'static str, &str) {
        match self.origin.as_ref() {
            Some(Origin::File(s)) => (0, s.file.display().to_string(), s.line, s.column, self.id, &self.message),
            Some(Origin::Logical(l)) => (1, l.clone(), 0, 0, self.id, &self.message),
            None => (2, String::new(), 0, 0, self.id, &self.message),
        }
    }
}

/// Sorts findings into the stable output order (file, line, column, rule).
pub fn sort(findings: &mut [Diagnostic]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

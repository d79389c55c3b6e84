//! Renderers over one list of findings: a compiler-style text view, the stable JSON
//! shape of RULES.md, and SARIF 2.1.0. Renderers read rule metadata from the registry
//! but never rule internals, and never print secret values (see `Report::sensitive`).
//! They do no I/O: the CLI reads the input files into `Report::sources` and prints
//! the returned string. `exit_code` turns a report into the process exit code.

pub mod catalog;
pub mod diff;
mod excerpt;
pub mod grouped;
pub mod json;
pub mod matrix;
pub mod probe;
pub mod sarif;
pub mod text;
pub mod why;

use netdoctor_model::{redact_url_userinfo, Span};
use netdoctor_rules::{Diagnostic, Severity};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use catalog::{render_catalog, render_rule_page, CatalogFormat};
pub use diff::{render_diff, DiffFormat};
pub use excerpt::place_focus;
pub use grouped::{write_grouped, GroupedTable};
pub use json::render_json;
pub use matrix::{render_matrix, write_matrix, MatrixFormat, MatrixTable};
pub use sarif::{render_sarif, render_sarif_with_rules};
pub use text::{render_input_errors, render_text};
pub use why::{render_why_json, render_why_text, WhyFormat};

/// The version netdoctor reports about itself (SARIF `tool.driver.version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where netdoctor lives; rule pages are `docs/rules/<ID>.md` under it.
pub const REPOSITORY_URL: &str = "https://github.com/netdoctor-dev/netdoctor";

/// An input that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub file: PathBuf,
    /// 0 when the error concerns the whole file.
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// Where in the document, when the reader knows (`services.web.ports[0]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl std::fmt::Display for InputError {
    /// `file:line:column: message`, or `file: message` for the whole file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

/// Everything one run has to say.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Findings, already sorted (file, line, rule).
    pub findings: Vec<Diagnostic>,
    pub errors: Vec<InputError>,
    /// Positions whose rest of line holds a secret-bearing value: excerpts mask it.
    pub sensitive: Vec<Span>,
    /// The text of input files, for source excerpts (the CLI reads them; renderers do no I/O).
    pub sources: HashMap<PathBuf, String>,
    /// Where each line of each source starts, built on first use: excerpts of many
    /// findings in one big file look lines up instead of scanning the file each time.
    line_starts: std::sync::OnceLock<HashMap<PathBuf, Vec<usize>>>,
}

impl Report {
    /// Line `line` (1-based) of source `file`, without its line break.
    pub fn source_line(&self, file: &std::path::Path, line: u32) -> Option<&str> {
        let text = self.sources.get(file)?;
        let index = self.line_starts.get_or_init(|| {
            self.sources
                .iter()
                .map(|(path, text)| {
                    let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
                    (path.clone(), starts)
                })
                .collect()
        });
        let starts = index.get(file)?;
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *starts.get(i)?;
        let end = starts.get(i + 1).map_or(text.len(), |next| next - 1);
        let raw = text.get(start..end)?;
        // `str::lines` leaves out a final empty line and strips `\r` too.
        if start == text.len() {
            return None;
        }
        Some(raw.strip_suffix('\r').unwrap_or(raw))
    }
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    Text,
    Json,
    Sarif,
}

impl Format {
    /// The name used on the command line: `text`, `json`, `sarif`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            other => Err(format!("unknown format `{other}` (expected text, json or sarif)")),
        }
    }
}

/// Options for the text view.
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// ANSI colours (only on a terminal, never with NO_COLOR).
    pub color: bool,
}

/// Renders the report in the chosen format. Every format ends with a newline.
pub fn render(report: &Report, format: Format, opts: &TextOptions) -> String {
    match format {
        Format::Text => render_text(report, opts),
        Format::Json => render_json(report),
        Format::Sarif => render_sarif(report),
    }
}

/// How many findings there are of each severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Counts {
    /// All findings together.
    pub fn total(&self) -> usize {
        self.error + self.warning + self.info
    }
}

/// Counts findings by severity.
pub fn summary_counts(findings: &[Diagnostic]) -> Counts {
    let mut counts = Counts::default();
    for d in findings {
        match d.severity {
            Severity::Error => counts.error += 1,
            Severity::Warning => counts.warning += 1,
            Severity::Info => counts.info += 1,
        }
    }
    counts
}

/// The process exit code of RULES.md: 2 when any input could not be read or parsed
/// (this wins), else 1 when a finding is at or above `fail_on`, else 0. `None` means
/// findings never fail the run (`--fail-on none`).
pub fn exit_code(report: &Report, fail_on: Option<Severity>) -> i32 {
    if !report.errors.is_empty() {
        2
    } else if fail_on.is_some_and(|f| report.findings.iter().any(|d| d.severity >= f)) {
        1
    } else {
        0
    }
}

/// Findings in the stable output order, whatever order the caller built them in.
fn ordered(report: &Report) -> Vec<&Diagnostic> {
    let mut findings: Vec<&Diagnostic> = report.findings.iter().collect();
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// Input errors in a stable order (file, line, column).
fn ordered_errors(report: &Report) -> Vec<&InputError> {
    let mut errors: Vec<&InputError> = report.errors.iter().collect();
    errors.sort_by(|a, b| (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message)));
    errors
}

/// The fix to show for a finding: its own help, else the first paragraph of the rule's `## Fix`.
fn fix_text(d: &Diagnostic) -> String {
    let own = d.help.trim();
    let fix = if own.is_empty() {
        netdoctor_rules::meta::find(d.id)
            .map(|m| m.fix.split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    } else {
        own.to_string()
    };
    safe_message(&fix)
}

/// A message safe to print: rules never put secrets in messages, but a URL with
/// credentials that slipped through is masked here as a last line of defence.
fn safe_message(text: &str) -> String {
    redact_url_userinfo(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as `str::lines` gives them: `\r\n` and a final line break handled.
    #[test]
    fn source_lines_match_str_lines() {
        for text in ["a\nb\n", "a\r\nb", "", "\n\nc", "only"] {
            let mut r = Report::default();
            r.sources.insert(PathBuf::from("f"), text.to_string());
            let got: Vec<&str> = (1..=5).map_while(|n| r.source_line(std::path::Path::new("f"), n)).collect();
            assert_eq!(got, text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }
    use netdoctor_model::Origin;
    use std::path::Path;
    use std::sync::Arc;

    fn finding(severity: Severity) -> Diagnostic {
        Diagnostic {
            id: "ND101",
            name: "default-bridge".into(),
            severity,
            message: "m".into(),
            origin: Some(Origin::File(Span::new(Arc::from(Path::new("c.yaml")), 1, 1))),
            related: Vec::new(),
            subjects: Vec::new(),
            help: String::new(),
            focus: None,
        }
    }

    #[test]
    fn counts_by_severity() {
        let findings = [finding(Severity::Error), finding(Severity::Info), finding(Severity::Info)];
        let counts = summary_counts(&findings);
        assert_eq!(counts, Counts { error: 1, warning: 0, info: 2 });
        assert_eq!(counts.total(), 3);
    }

    #[test]
    fn exit_code_follows_rules_md() {
        let mut report = Report::default();
        assert_eq!(exit_code(&report, Some(Severity::Warning)), 0);
        report.findings.push(finding(Severity::Info));
        assert_eq!(exit_code(&report, Some(Severity::Warning)), 0);
        assert_eq!(exit_code(&report, Some(Severity::Info)), 1);
        report.findings.push(finding(Severity::Warning));
        assert_eq!(exit_code(&report, Some(Severity::Warning)), 1);
        assert_eq!(exit_code(&report, Some(Severity::Error)), 0);
        assert_eq!(exit_code(&report, None), 0, "--fail-on none");
        report.errors.push(InputError { file: "x.yaml".into(), line: 0, column: 0, message: "unreadable".into(), path: None });
        assert_eq!(exit_code(&report, Some(Severity::Warning)), 2, "input errors win over findings");
        report.findings.clear();
        assert_eq!(exit_code(&report, Some(Severity::Error)), 2);
        assert_eq!(exit_code(&report, None), 2);
    }

    #[test]
    fn format_round_trips_through_its_name() {
        for f in [Format::Text, Format::Json, Format::Sarif] {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn empty_help_falls_back_to_the_rule_fix() {
        let d = finding(Severity::Error);
        let fix = fix_text(&d);
        assert!(!fix.is_empty());
        assert!(!fix.contains('\n'));
        let mut own = finding(Severity::Error);
        own.help = "connect via postgres://u:secret@db:5432".into();
        assert_eq!(fix_text(&own), "connect via postgres://***@db:5432");
    }
}

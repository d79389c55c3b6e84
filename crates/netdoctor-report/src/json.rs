//! The JSON view of `check --format json`. Its shape and field names are the public
//! contract of RULES.md; change them only with a new `version`.

use crate::{fix_text, ordered, ordered_errors, safe_message, summary_counts, Counts, Report};
use netdoctor_model::Origin;
use netdoctor_rules::{Diagnostic, Severity};
use serde::Serialize;

/// The version of the JSON shape, not of netdoctor.
const SHAPE_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<Finding<'a>>,
    summary: Counts,
    errors: Vec<Error>,
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: Severity,
    message: String,
    /// A file position, or for findings from live data the object's URI
    /// (`docker://container/web`, `kube://…`); absent when there is neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location>,
    subjects: &'a [String],
    fix: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Location {
    File { file: String, line: u32, column: u32 },
    Live { uri: String },
}

/// An input that could not be read or parsed. `line` and `column` are omitted (not
/// `null`) when unknown: an error about the whole file (line 0) has neither, and an
/// error with a line but no column has only `line`.
#[derive(Serialize)]
struct Error {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    message: String,
    /// Where in the document, when known: `services.web.ports[0]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

/// Renders the report as the pretty-printed JSON object of RULES.md, with a trailing newline.
///
/// Findings come in output order (file, line, rule). `location` is omitted for a
/// finding without a file position; see RULES.md for the whole shape.
pub fn render_json(report: &Report) -> String {
    let document = Document {
        version: SHAPE_VERSION,
        findings: ordered(report).into_iter().map(finding).collect(),
        summary: summary_counts(&report.findings),
        errors: ordered_errors(report)
            .into_iter()
            .map(|e| {
                let line = (e.line > 0).then_some(e.line);
                Error {
                    file: e.file.display().to_string(),
                    line,
                    column: line.and((e.column > 0).then_some(e.column)),
                    message: safe_message(&e.message),
                    path: e.path.clone(),
                }
            })
            .collect(),
    };
    to_pretty_json(&document)
}

fn finding(d: &Diagnostic) -> Finding<'_> {
    let location = match d.origin.as_ref() {
        Some(Origin::File(span)) => Some(Location::File { file: span.file.display().to_string(), line: span.line, column: span.column }),
        Some(Origin::Logical(uri)) if uri.contains("://") => Some(Location::Live { uri: safe_message(uri) }),
        Some(Origin::Logical(_)) | None => None,
    };
    Finding {
        rule: d.id,
        name: &d.name,
        severity: d.severity,
        message: safe_message(&d.message),
        location,
        subjects: &d.subjects,
        fix: fix_text(d),
    }
}

/// Pretty JSON with a trailing newline.
pub(crate) fn to_pretty_json<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Plain structs with string keys cannot fail to serialize; if that ever
        // changes, say so in valid JSON rather than panic.
        Err(e) => format!("{}\n", serde_json::json!({ "error": format!("rendering the report as JSON: {e}") })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InputError;
    use netdoctor_model::Span;
    use serde_json::{json, Value};
    use std::path::Path;
    use std::sync::Arc;

    fn diag(origin: Option<Origin>) -> Diagnostic {
        Diagnostic {
            id: "ND101",
            name: "default-bridge".into(),
            severity: Severity::Warning,
            message: "`web` uses postgres://app:s3cret@db:5432/app".into(),
            origin,
            related: Vec::new(),
            subjects: vec!["web".into(), "db".into()],
            help: "fix it".into(),
            focus: None,
        }
    }

    #[test]
    fn shape_matches_rules_md() {
        let mut r = Report::default();
        r.findings.push(diag(Some(Origin::File(Span::new(Arc::from(Path::new("compose.yaml")), 12, 5)))));
        r.findings.push(diag(Some(Origin::Logical("docker://container/web".into()))));
        r.errors.push(InputError { file: "a.yaml".into(), line: 3, column: 1, message: "bad".into(), path: None });
        r.errors.push(InputError { file: "b.yaml".into(), line: 0, column: 0, message: "unreadable".into(), path: None });
        r.errors.push(InputError { file: "c.yaml".into(), line: 4, column: 0, message: "odd".into(), path: None });
        let out = render_json(&r);
        assert!(out.ends_with("}\n"));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(
            v["findings"][0],
            json!({
                "rule": "ND101", "name": "default-bridge", "severity": "warning",
                "message": "`web` uses postgres://***@db:5432/app",
                "location": {"file": "compose.yaml", "line": 12, "column": 5},
                "subjects": ["web", "db"], "fix": "fix it"
            })
        );
        assert_eq!(v["findings"][1]["location"], json!({"uri": "docker://container/web"}), "live findings point at their object");
        assert_eq!(v["summary"], json!({"error": 0, "warning": 2, "info": 0}));
        assert_eq!(
            v["errors"],
            json!([
                {"file": "a.yaml", "line": 3, "column": 1, "message": "bad"},
                {"file": "b.yaml", "message": "unreadable"},
                {"file": "c.yaml", "line": 4, "message": "odd"}
            ])
        );
    }

    #[test]
    fn empty_report_has_empty_lists() {
        let v: Value = serde_json::from_str(&render_json(&Report::default())).unwrap();
        assert_eq!(v, json!({"version": 1, "findings": [], "summary": {"error": 0, "warning": 0, "info": 0}, "errors": []}));
    }
}

//! SARIF 2.1.0 output for code-scanning dashboards: one run, every rule described from
//! the registry (doc as `help`, docs page as `helpUri`), one result per finding, and
//! input errors as tool execution notifications.

use crate::json::to_pretty_json;
use crate::{fix_text, ordered, ordered_errors, safe_message, Report, REPOSITORY_URL, VERSION};
use netdoctor_model::{Origin, Span};
use netdoctor_rules::{meta, Diagnostic, RuleMeta, Severity};
use serde::Serialize;
use std::path::Path;

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    /// Our columns count characters (code points), not UTF-16 units.
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: Message,
    full_description: Message,
    help: MultiformatMessage,
    help_uri: String,
    default_configuration: Configuration,
    properties: Properties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Properties {
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    /// Absent when the finding's rule is not among the described rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

/// Renders the report as a SARIF 2.1.0 log describing every registered rule.
pub fn render_sarif(report: &Report) -> String {
    render_sarif_with_rules(report, &meta::all())
}

/// Renders the report as a SARIF 2.1.0 log describing only `rules` (for example the
/// rules a run selected). A finding whose rule is not among them keeps its `ruleId`
/// but has no `ruleIndex`.
pub fn render_sarif_with_rules(report: &Report, rules: &[RuleMeta]) -> String {
    let results = ordered(report).into_iter().map(|d| result(d, rules)).collect();
    let notifications: Vec<Notification> = ordered_errors(report)
        .into_iter()
        .map(|e| Notification {
            level: "error",
            message: Message { text: safe_message(&e.message) },
            locations: vec![physical(&e.file, e.line, e.column)],
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "netdoctor",
                    version: VERSION,
                    information_uri: REPOSITORY_URL,
                    rules: rules.iter().map(descriptor).collect(),
                },
            },
            invocations: vec![Invocation { execution_successful: notifications.is_empty(), tool_execution_notifications: notifications }],
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    to_pretty_json(&log)
}

fn descriptor(m: &RuleMeta) -> ReportingDescriptor {
    // What it checks and why it matters: enough to judge a result without the full doc.
    let full = ["What it checks", "Why it matters"]
        .iter()
        .map(|heading| meta::section(&m.doc, heading).split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    ReportingDescriptor {
        id: m.id,
        name: m.name.clone(),
        short_description: Message { text: m.summary.clone() },
        full_description: Message { text: if full.is_empty() { m.summary.clone() } else { full } },
        help: MultiformatMessage { text: m.doc.clone(), markdown: m.doc.clone() },
        help_uri: format!("{REPOSITORY_URL}/blob/main/{}", m.doc_path()),
        default_configuration: Configuration { level: level(m.severity) },
        properties: Properties { tags: vec![m.family.as_str()] },
    }
}

fn result(d: &Diagnostic, rules: &[RuleMeta]) -> SarifResult {
    let fix = fix_text(d);
    let message = safe_message(&d.message);
    let text = if fix.is_empty() { message } else { format!("{message}\nhelp: {fix}") };
    SarifResult {
        rule_id: d.id,
        rule_index: rules.iter().position(|m| m.id == d.id),
        level: level(d.severity),
        message: Message { text },
        locations: d.origin.iter().map(location).collect(),
        related_locations: d
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| Location { id: Some(i), message: Some(Message { text: safe_message(&r.message) }), ..location(&r.origin) })
            .collect(),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn location(origin: &Origin) -> Location {
    match origin {
        Origin::File(Span { file, line, column }) => physical(file, *line, *column),
        Origin::Logical(address) => Location {
            id: None,
            physical_location: None,
            logical_locations: vec![LogicalLocation { fully_qualified_name: address.clone(), kind: "resource" }],
            message: None,
        },
    }
}

/// A file position; line or column 0 means unknown and is left out (SARIF counts from 1).
fn physical(file: &Path, line: u32, column: u32) -> Location {
    let region = (line > 0).then(|| Region { start_line: line, start_column: (column > 0).then_some(column) });
    Location {
        id: None,
        physical_location: Some(PhysicalLocation { artifact_location: ArtifactLocation { uri: artifact_uri(file) }, region }),
        logical_locations: Vec::new(),
        message: None,
    }
}

/// The path as a URI reference: relative paths stay relative (viewers resolve them
/// against the checkout), absolute ones become `file://` URIs, and separators are `/`.
fn artifact_uri(path: &Path) -> String {
    let slashed = path.to_string_lossy().replace('\\', "/");
    let encoded = percent_encode(&slashed);
    let bytes = slashed.as_bytes();
    let windows_drive = matches!(bytes, [letter, b':', b'/', ..] if letter.is_ascii_alphabetic());
    if slashed.starts_with('/') {
        format!("file://{encoded}")
    } else if windows_drive {
        format!("file:///{encoded}")
    } else if slashed.split('/').next().is_some_and(|first| first.contains(':')) {
        // `a:b/c.yaml` would read as a URI with scheme `a`.
        format!("./{encoded}")
    } else {
        encoded
    }
}

/// Percent-encodes everything but the characters RFC 3986 allows in a path.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn artifact_uris() {
        assert_eq!(artifact_uri(Path::new("examples/compose.yaml")), "examples/compose.yaml");
        assert_eq!(artifact_uri(Path::new("my dir/compose.yaml")), "my%20dir/compose.yaml");
        assert_eq!(artifact_uri(Path::new("/srv/app/compose.yaml")), "file:///srv/app/compose.yaml");
        assert_eq!(artifact_uri(Path::new("C:\\app\\compose.yaml")), "file:///C:/app/compose.yaml");
        assert_eq!(artifact_uri(Path::new("a:b/c.yaml")), "./a:b/c.yaml");
        assert_eq!(artifact_uri(Path::new("svc:web/c.yaml")), "./svc:web/c.yaml");
        assert_eq!(artifact_uri(Path::new("100%/ü.yaml")), "100%25/%C3%BC.yaml");
    }

    #[test]
    fn every_registered_rule_is_described() {
        let v: Value = serde_json::from_str(&render_sarif(&Report::default())).unwrap();
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let all = meta::all();
        assert_eq!(rules.len(), all.len());
        for (rule, m) in rules.iter().zip(&all) {
            assert_eq!(rule["id"], m.id);
            assert_eq!(rule["name"], m.name.as_str());
            assert_eq!(rule["help"]["markdown"], m.doc.as_str());
            assert_eq!(rule["helpUri"], format!("{REPOSITORY_URL}/blob/main/docs/rules/{}.md", m.id));
            assert_eq!(rule["properties"]["tags"][0], m.family.as_str());
            assert!(!rule["shortDescription"]["text"].as_str().unwrap().is_empty());
            assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        }
        assert_eq!(v["runs"][0]["tool"]["driver"]["version"], VERSION);
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
        assert_eq!(v["runs"][0]["results"], Value::Array(Vec::new()));
    }

    #[test]
    fn levels() {
        assert_eq!(level(Severity::Error), "error");
        assert_eq!(level(Severity::Warning), "warning");
        assert_eq!(level(Severity::Info), "note");
    }
}

//! Snapshot tests of the three renderings of one small hand-built report, the SARIF
//! schema check, and the promise that no secret value reaches any output.

use netdoctor_model::{Origin, Span};
use netdoctor_report::{render, render_json, render_sarif, render_sarif_with_rules, Format, InputError, Report, TextOptions, VERSION};
use netdoctor_rules::{meta, Diagnostic, Family, Related, RuleMeta, Severity};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Two services on the predefined bridge that look each other up by name. Line 7
/// carries a database URL with a password: every rendering must mask it.
const COMPOSE: &str = r#"services:
  web:
    image: nginx
    network_mode: bridge
    environment:
      API_URL: "http://api:8080"
      DATABASE_URL: postgres://user:pw@db:5432/app
  api:
    image: example/api
    network_mode: bridge
  db:
    image: postgres:16
"#;

fn at(line: u32, column: u32) -> Span {
    Span::new(Arc::from(Path::new("compose.yaml")), line, column)
}

fn finding(severity: Severity, origin: Origin, message: &str, subjects: &[&str], help: &str) -> Diagnostic {
    Diagnostic {
        id: "ND101",
        name: "default-bridge".into(),
        severity,
        message: message.into(),
        origin: Some(origin),
        related: Vec::new(),
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        help: help.into(),
        focus: None,
    }
}

/// An error with a related location, a warning on the line with the secret (its
/// severity lowered by config), a finding from live data, and two unreadable inputs
/// (one with a position, one without). Every finding has its own help, so rule doc
/// edits do not churn these snapshots.
fn sample() -> Report {
    let mut error = finding(
        Severity::Error,
        Origin::File(at(6, 7)),
        "`web` looks up `api` (env API_URL), but both sit on the predefined `bridge` network, which has no DNS",
        &["web", "api"],
        "remove `network_mode: bridge` from `web` and `api` so they share the project network, where `api` resolves",
    );
    error.related.push(Related { origin: Origin::File(at(10, 5)), message: "`api` is put on the predefined `bridge` network here".into() });
    let warning = finding(
        Severity::Warning,
        Origin::File(at(7, 7)),
        "`web` looks up `db` (env DATABASE_URL), but `web` sits on the predefined `bridge` network, which has no DNS",
        &["web", "db"],
        "attach `web` to a user-defined network it shares with `db`",
    );
    let live = finding(
        Severity::Info,
        Origin::Logical("docker://container/legacy".into()),
        "container `legacy` sits on the predefined `bridge` network, so no peer can reach it by name",
        &["legacy"],
        "connect it to a user-defined network: `docker network connect app_default legacy`",
    );
    let mut report = Report::default();
    // Deliberately out of order: renderers sort.
    report.findings = vec![live, warning, error];
    report.errors = vec![
        InputError {
            file: "missing.yaml".into(),
            line: 0,
            column: 0,
            message: "reading file: No such file or directory (os error 2)".into(),
            path: None,
        },
        InputError {
            file: "compose.override.yaml".into(),
            line: 3,
            column: 1,
            message: "did not find expected key while parsing a block mapping".into(),
            path: None,
        },
    ];
    report.sensitive = vec![at(6, 16), at(7, 21)];
    report.sources.insert(PathBuf::from("compose.yaml"), COMPOSE.to_string());
    report
}

/// The SARIF log with the netdoctor version replaced, so a release does not churn the snapshot.
fn without_version(sarif: &str) -> String {
    let needle = format!("\"version\": \"{VERSION}\"");
    assert_eq!(sarif.matches(&needle).count(), 1, "exactly one driver version in {sarif}");
    sarif.replace(&needle, "\"version\": \"[version]\"")
}

#[test]
fn text() {
    insta::assert_snapshot!("text", render(&sample(), Format::Text, &TextOptions { color: false }));
}

#[test]
fn json() {
    insta::assert_snapshot!("json", render(&sample(), Format::Json, &TextOptions::default()));
}

/// A stand-in for ND101's metadata, so that editing the rule's doc or registering new
/// rules does not churn the SARIF snapshot; `sarif_describes_every_registered_rule`
/// covers the real catalogue.
fn nd101() -> RuleMeta {
    let doc = "## What it checks\nA workload on the predefined `bridge` network that refers to a peer by name.\n\n\
               ## Why it matters\nThe predefined bridge has no embedded DNS.\n\n\
               ## Example\n```yaml\nservices:\n  web: { network_mode: bridge }\n```\n\n\
               ## Fix\nRemove `network_mode: bridge`.";
    RuleMeta {
        id: "ND101",
        name: "default-bridge".into(),
        family: Family::Attachment,
        severity: Severity::Error,
        doc: doc.into(),
        summary: "A workload on the predefined `bridge` network that refers to a peer by name.".into(),
        fix: "Remove `network_mode: bridge`.".into(),
    }
}

#[test]
fn sarif() {
    insta::assert_snapshot!("sarif", without_version(&render_sarif_with_rules(&sample(), &[nd101()])));
}

#[test]
fn sarif_describes_every_registered_rule() {
    let v: serde_json::Value = serde_json::from_str(&render_sarif(&sample())).unwrap();
    let ids: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let registered: Vec<&str> = meta::all().iter().map(|m| m.id).collect();
    assert_eq!(ids, registered);
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let schema: serde_json::Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::options().should_validate_formats(true).build(&schema).unwrap();

    let mut clean = sample();
    clean.errors.clear();
    let mut unreadable_only = Report::default();
    unreadable_only.errors = sample().errors;
    for report in [sample(), clean, unreadable_only, Report::default()] {
        let log: serde_json::Value = serde_json::from_str(&render_sarif(&report)).unwrap();
        let errors: Vec<String> = validator.iter_errors(&log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "SARIF does not match the schema:\n{}", errors.join("\n"));
    }
}

#[test]
fn the_schema_check_catches_a_broken_log() {
    // Guards against a validator that accepts everything (e.g. a schema that failed to load).
    let schema: serde_json::Value = serde_json::from_str(include_str!("data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft4::options().should_validate_formats(true).build(&schema).unwrap();
    let mut log: serde_json::Value = serde_json::from_str(&render_sarif(&sample())).unwrap();
    assert!(validator.is_valid(&log));
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&log));
    log["runs"][0]["results"][0]["level"] = "error".into();
    log["runs"][0]["invocations"][0]["executionSuccessful"] = serde_json::Value::Null;
    assert!(!validator.is_valid(&log));
}

#[test]
fn sarif_reports_input_errors_as_failed_execution() {
    let v: serde_json::Value = serde_json::from_str(&render_sarif(&sample())).unwrap();
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(invocation["toolExecutionNotifications"].as_array().unwrap().len(), 2);
    let mut clean = sample();
    clean.errors.clear();
    let v: serde_json::Value = serde_json::from_str(&render_sarif(&clean)).unwrap();
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
    assert!(v["runs"][0]["invocations"][0].get("toolExecutionNotifications").is_none());
}

#[test]
fn no_secret_reaches_any_output() {
    let mut report = sample();
    // A message that (wrongly) carries credentials is masked too.
    report.findings[0].message.push_str(" (redis://:hunter2@cache:6379)");
    for format in [Format::Text, Format::Json, Format::Sarif] {
        for color in [false, true] {
            let out = render(&report, format, &TextOptions { color });
            assert!(!out.contains("user:pw") && !out.contains(":pw@"), "{format} leaks the password:\n{out}");
            assert!(!out.contains("hunter2"), "{format} leaks the redis password:\n{out}");
        }
    }
    let text = render(&report, Format::Text, &TextOptions::default());
    assert!(text.contains("      DATABASE_URL: postgres://***@db:5432/***\n"), "{text}");
    assert!(text.contains("      API_URL: http://api:8080\n"), "{text}");
    assert!(text.contains("redis://***@cache:6379"), "{text}");
}

#[test]
fn json_is_what_render_json_returns() {
    let report = sample();
    assert_eq!(render(&report, Format::Json, &TextOptions::default()), render_json(&report));
}

//! Runs each rule on its fixtures (`tests/fixtures/<ID>/*.yaml` Compose files or
//! Kubernetes manifests (a file with a top-level `apiVersion:` line), and
//! `*.json` Docker snapshots for rules that need live state), with every other rule off,
//! and snapshots the findings with their source lines. A fixture `<name>.yaml` may
//! come with host facts in `<name>.host/` (the layout of `--host-facts`), applied to the
//! project as `check --host-facts` does.
#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a failure should stop loudly

use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_model::{redact_value, Origin};
use netdoctor_rules::{ExternalRange, RuleConfig, RuleContext, Selection};
use netdoctor_sources::compose::{self, LoadOptions};
use std::path::Path;

/// External ranges every fixture is checked against (ND202's fixtures rely on them).
fn config() -> RuleConfig {
    let range = |name: &str, cidr: &str| ExternalRange { name: name.into(), cidr: cidr.parse().expect("valid test CIDR") };
    RuleConfig { external_ranges: vec![range("office-vpn", "10.8.0.0/16"), range("lab", "172.19.0.0/16")], ..RuleConfig::default() }
}

fn render(path: &Path) -> String {
    let id = path.parent().and_then(Path::file_name).and_then(|n| n.to_str()).expect("fixture folder is a rule ID");
    let stem = path.file_stem().and_then(|s| s.to_str()).expect("fixture name");
    let opts = LoadOptions {
        files: vec![path.to_path_buf()],
        working_dir: path.parent().expect("fixture folder").to_path_buf(),
        project_name: Some(stem.to_string()),
        ..LoadOptions::default()
    };
    let text = std::fs::read_to_string(path).expect("fixture text");
    let mut model = if text.lines().any(|l| l.starts_with("apiVersion:")) {
        // Kubernetes manifests.
        let loaded = netdoctor_sources::k8s::load(path);
        assert!(loaded.errors.is_empty(), "{}: {:?}", path.display(), loaded.errors);
        netdoctor_model::Model { k8s: loaded.cluster, ..netdoctor_model::Model::default() }
    } else {
        let doc = compose::load(&opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compose::lower(&doc).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
    };
    let host_dir = path.with_extension("host");
    if host_dir.is_dir() {
        let (facts, errors) = netdoctor_sources::host::load_path(&host_dir);
        assert!(errors.is_empty(), "{}: {errors:?}", host_dir.display());
        model.host = Some(facts);
    }
    let analysis = Analysis::new(&model, &EngineConfig::default());
    let config = config();
    let cx = RuleContext { model: &model, analysis: &analysis, config: &config };
    let findings = netdoctor_rules::run(&cx, &Selection { select: vec![id.to_string()], ..Selection::default() });
    let folder = path.parent().expect("fixture folder");
    let mut out = String::new();
    for f in &findings {
        assert_eq!(f.id, id, "only the rule under test runs");
        let Some(Origin::File(span)) = &f.origin else {
            out.push_str(&format!("{} {} (no location) {}\n", f.id, f.severity, f.message));
            continue;
        };
        // Findings point into the fixture or into its host facts (`fires.host/iptables-save.txt`).
        let file_name = span.file.strip_prefix(folder).unwrap_or(&span.file).display().to_string();
        let text = std::fs::read_to_string(&span.file).expect("fixture text");
        let lines: Vec<&str> = text.lines().collect();
        out.push_str(&format!("{} {} {file_name}:{}:{} {}\n", f.id, f.severity, span.line, span.column, f.message));
        let mut line = lines.get(span.line as usize - 1).copied().unwrap_or_default().to_string();
        if let Some(s) = model.sensitive.iter().find(|s| s.line == span.line && s.file == span.file) {
            let cut = line.char_indices().nth(s.column as usize - 1).map_or(line.len(), |(i, _)| i);
            let value = line[cut..].trim().trim_matches(['"', '\'']).to_string();
            line = format!("{}{}", &line[..cut], redact_value(&value));
        }
        out.push_str(&format!("{:>4} | {line}\n", span.line));
        out.push_str(&format!("     = help: {}\n", f.help));
    }
    if findings.is_empty() {
        out.push_str("(no findings)\n");
    }
    out
}

#[test]
fn rule_fixtures() {
    insta::glob!("fixtures/*/*.yaml", |path| {
        let rendered = render(path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("quiet") {
            assert_eq!(rendered, "(no findings)\n", "{} must stay quiet", path.display());
        } else {
            assert_ne!(rendered, "(no findings)\n", "{} must fire", path.display());
        }
        insta::assert_snapshot!(rendered);
    });
}

/// Runs the fixture's rule on a Docker snapshot; findings of live data have no line.
fn render_snapshot(path: &Path) -> String {
    let id = path.parent().and_then(Path::file_name).and_then(|n| n.to_str()).expect("fixture folder is a rule ID");
    let text = std::fs::read_to_string(path).expect("fixture text");
    let snapshot = netdoctor_sources::docker::DockerSnapshot::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lowered = netdoctor_sources::docker::lower(&snapshot, &netdoctor_sources::docker::LowerOptions::default());
    assert!(lowered.errors.is_empty(), "{}: {:?}", path.display(), lowered.errors);
    let model = lowered.model;
    let analysis = Analysis::new(&model, &EngineConfig::default());
    let config = config();
    let cx = RuleContext { model: &model, analysis: &analysis, config: &config };
    let findings = netdoctor_rules::run(&cx, &Selection { select: vec![id.to_string()], ..Selection::default() });
    let mut out = String::new();
    for f in &findings {
        assert_eq!(f.id, id, "only the rule under test runs");
        let at = f.origin.as_ref().map_or_else(|| "(no location)".to_string(), ToString::to_string);
        out.push_str(&format!("{} {} {at} {}\n     = help: {}\n", f.id, f.severity, f.message, f.help));
    }
    if findings.is_empty() {
        out.push_str("(no findings)\n");
    }
    out
}

#[test]
fn rule_snapshot_fixtures() {
    insta::glob!("fixtures", "*/*.json", |path| {
        let rendered = render_snapshot(path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("quiet") {
            assert_eq!(rendered, "(no findings)\n", "{} must stay quiet", path.display());
        } else {
            assert_ne!(rendered, "(no findings)\n", "{} must fire", path.display());
        }
        insta::assert_snapshot!(rendered);
    });
}

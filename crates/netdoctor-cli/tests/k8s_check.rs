//! End-to-end: `netdoctor check` on a directory of Kubernetes manifests
//! (`tests/k8s/broken/`: typos in a Service selector, a targetPort name and a policy peer).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::path::Path;
use std::process::Command;

#[test]
fn check_reads_a_manifest_tree_and_points_at_file_and_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["check", "tests/k8s/broken", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run netdoctor");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let found: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["location"]["file"].as_str().unwrap_or_default();
            let name = Path::new(file).file_name().unwrap().to_string_lossy().into_owned();
            (f["rule"].as_str().unwrap().to_string(), name, f["location"]["line"].as_u64().unwrap_or(0))
        })
        .collect();
    let want = [("ND111", "app.yaml", 40), ("ND112", "app.yaml", 58), ("ND402", "policy.yaml", 13)];
    let want: Vec<(String, String, u64)> = want.iter().map(|(r, f, l)| (r.to_string(), f.to_string(), *l)).collect();
    assert_eq!(found, want, "{report:#}");
    let api = &report["findings"][0];
    assert_eq!(api["subjects"], serde_json::json!(["shop/api"]));
    assert!(api["message"].as_str().unwrap().contains("pods carry `app=api`"), "{api:#}");
    assert!(api["fix"].as_str().unwrap().contains("`app=api`"), "{api:#}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn compose_examples_stay_silent_for_kubernetes_rules() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for example in std::fs::read_dir(repo.join("examples")).unwrap() {
        let dir = example.unwrap().path();
        if dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with("k8s")) {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
            .args([
                "check",
                dir.to_str().unwrap(),
                "--format",
                "json",
                "--select",
                "ND111,ND112,ND304,ND306,ND402,ND403,ND404,ND405,ND406,ND407,ND408,ND602",
            ])
            .current_dir(&repo)
            .output()
            .expect("run netdoctor");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{}", dir.display());
    }
}

/// Weave Net's password is read only as "encryption on": no output format prints it.
#[test]
fn weave_password_is_never_printed() {
    let fixture = "../netdoctor-rules/tests/fixtures/ND508/fires-weave.yaml";
    let secret = "hunter2-weave-fixture-secret";
    assert!(std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture)).unwrap().contains(secret));
    for format in ["json", "text", "sarif"] {
        let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
            .args(["check", fixture, "--format", format])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .output()
            .expect("run netdoctor");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains("ND508"), "{format}: {stdout}{stderr}");
        assert!(!stdout.contains(secret) && !stderr.contains(secret), "{format} prints the password: {stdout}{stderr}");
    }
}

//! End-to-end tests of `netdoctor matrix`: output formats, warnings for files that are
//! not manifests, and located errors with exit code 2 for broken ones.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::path::Path;
use std::process::{Command, Output};

const MANIFESTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
"#;

fn netdoctor(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(args).current_dir(dir).env("NO_COLOR", "1").output().expect("run netdoctor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn prints_the_connlist() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), MANIFESTS).unwrap();
    std::fs::write(dir.path().join("README.md"), "# notes").unwrap();
    let out = netdoctor(&["matrix", ".", "--format", "connlist"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "0.0.0.0-255.255.255.255[External] => shop/client[Pod] : All Connections\n\
         shop/client[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
         shop/client[Pod] => shop/web[Deployment] : TCP 8080\n\
         shop/web[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
         shop/web[Deployment] => shop/client[Pod] : All Connections\n"
    );
    assert!(text(&out.stderr).contains("warning: ./README.md: skipped: not a YAML or JSON file"), "{}", text(&out.stderr));
}

/// Calico rules by ICMP type: every format but connlist shows ICMP; connlist (which
/// spells TCP, UDP and SCTP only, as netpol-analyzer does) says so in a comment line.
#[test]
fn icmp_rules_show_in_every_format_and_connlist_says_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let ping_only = r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: ping-only}
spec:
  selector: app == 'web'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: ICMP, icmp: {type: 8}}
  - {action: Allow, protocol: TCP, destination: {ports: [8080]}}
"#;
    std::fs::write(dir.path().join("app.yaml"), MANIFESTS.replace("ports: [{port: http}]", "ports: [{port: 9999}]")).unwrap();
    std::fs::write(dir.path().join("calico.yaml"), ping_only).unwrap();
    let text_out = netdoctor(&["matrix", "."], dir.path());
    assert_eq!(text_out.status.code(), Some(0), "{}", text(&text_out.stderr));
    // The NetworkPolicy (order 1000) allows 9999 from the client; the GlobalNetworkPolicy
    // after it allows 8080 and ping from anywhere.
    assert!(text(&text_out.stdout).contains("TCP 8080,9999,ICMP type 8"), "{}", text(&text_out.stdout));
    let out = netdoctor(&["matrix", ".", "--format", "connlist"], dir.path());
    let connlist = text(&out.stdout);
    assert!(connlist.starts_with("# icmp: policies here match ICMP by type"), "{connlist}");
    assert!(connlist.contains("shop/client[Pod] => shop/web[Deployment] : TCP 8080,9999\n"), "{connlist}");
    for format in ["json", "csv", "md", "dot"] {
        let out = netdoctor(&["matrix", ".", "--format", format], dir.path());
        assert!(text(&out.stdout).contains("TCP 8080,ICMP type 8"), "{format}: {}", text(&out.stdout));
    }
}

/// A malformed field is left out with a located warning, not the whole object: the
/// Deployment with `ports: {}` still backs its Service, in `check` and in `matrix`.
#[test]
fn a_malformed_field_drops_the_field_not_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: c\n        ports: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
    std::fs::write(dir.path().join("app.yaml"), manifest).unwrap();
    let check = netdoctor(&["check", "app.yaml"], dir.path());
    assert_eq!(check.status.code(), Some(0), "{}{}", text(&check.stdout), text(&check.stderr));
    assert!(
        text(&check.stderr).contains("warning: app.yaml:10:16: `ports` must be a list, found a mapping; its container ports are left out"),
        "{}",
        text(&check.stderr)
    );
    assert!(!text(&check.stdout).contains("ND111"), "the Service still selects the Deployment: {}", text(&check.stdout));
    let matrix = netdoctor(&["matrix", "app.yaml"], dir.path());
    assert_eq!(matrix.status.code(), Some(0));
    assert!(text(&matrix.stdout).contains("a/web[Deployment]"), "{}", text(&matrix.stdout));
}

#[test]
fn every_format_renders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), MANIFESTS).unwrap();
    for (format, needle) in [
        ("text", "shop/client[Pod]"),
        ("json", "\"conn\": \"TCP 8080\""),
        ("csv", "shop/client[Pod],shop/web[Deployment],TCP 8080"),
        ("md", "| shop/client[Pod] | shop/web[Deployment] | TCP 8080 |"),
        ("dot", "\"shop/client[Pod]\" -> \"shop/web[Deployment]\" [label=\"TCP 8080\"]"),
    ] {
        let out = netdoctor(&["matrix", "app.yaml", "--format", format], dir.path());
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(needle), "{format}: {}", text(&out.stdout));
    }
}

#[test]
fn broken_manifests_give_located_errors_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), MANIFESTS).unwrap();
    let broken = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/40}\n";
    std::fs::write(dir.path().join("bad.yaml"), broken).unwrap();
    std::fs::write(dir.path().join("worse.yaml"), "a: [1,\n").unwrap();
    let out = netdoctor(&["matrix", ".", "--format", "connlist"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error: ./bad.yaml:7:"), "{err}");
    assert!(err.contains("must be a CIDR"), "{err}");
    // The line itself, with a caret under the value.
    assert!(err.contains("7 |     - ipBlock: {cidr: 10.0.0.0/40}\n  |                       ^^^^^^^^^^^"), "{err}");
    assert!(err.contains("error: ./worse.yaml:2:"), "{err}");
    // Nothing on stdout reads as the answer: the matrix of the good file alone would.
    assert_eq!(text(&out.stdout), "", "{err}");
    assert!(err.contains("no matrix printed"), "{err}");
    // JSON lists the errors, with no connections.
    let json = netdoctor(&["matrix", ".", "--format", "json"], dir.path());
    assert_eq!(json.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["connections"], serde_json::json!([]), "{doc:#}");
    assert!(doc["errors"].as_array().is_some_and(|e| e.len() == 2), "{doc:#}");
    let missing = netdoctor(&["matrix", "nope"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nope: cannot read: "), "{}", text(&missing.stderr));
}

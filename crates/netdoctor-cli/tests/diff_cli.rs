//! End-to-end tests of `netdoctor diff`: two hand-made versions of a small app where a
//! policy change adds one flow and removes another, ipBlock changes compared on the
//! common split of the address space, and the exit codes 0, 1 and 2.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::path::Path;
use std::process::{Command, Output};

const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
"#;

/// Version 1 lets `client` reach `web`; version 2 swaps `client` for `api`.
const POLICY_V1: &str = r#"
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

/// Writes `old/` and `new/` with the app and one policy each.
fn versions(old_policy: &str, new_policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, policy) in [("old", old_policy), ("new", new_policy)] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("app.yaml"), APP).unwrap();
        std::fs::write(sub.join("policy.yaml"), policy).unwrap();
    }
    dir
}

#[test]
fn a_policy_change_adds_and_removes_a_flow() {
    let dir = versions(POLICY_V1, &POLICY_V1.replace("app: client}", "app: api}"));
    let out = netdoctor(&["diff", "old", "new"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "+ shop/api[Pod] => shop/web[Deployment] : TCP 8080\n\
         - shop/client[Pod] => shop/web[Deployment] : TCP 8080\n\
         \n1 pair(s) gain connections, 1 pair(s) lose connections\n"
    );
    let out = netdoctor(&["diff", "old", "new", "--format", "connlist"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "Connectivity diff:\n\
         diff-type: added, source: shop/api[Pod], destination: shop/web[Deployment], ref1: No Connections, ref2: TCP 8080\n\
         diff-type: removed, source: shop/client[Pod], destination: shop/web[Deployment], ref1: TCP 8080, ref2: No Connections\n"
    );
    let out = netdoctor(&["diff", "old/policy.yaml", "new/policy.yaml", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Without the app there are no pods, so a policy alone changes no pair, and the
    // peers it names are said to be unseen.
    assert_eq!(json["changes"], serde_json::json!([]));
    assert_eq!(out.status.code(), Some(0));
    let unseen = json["not_evaluated"].as_array().unwrap();
    assert!(unseen.iter().any(|n| n.as_str().unwrap().contains("ingress peer podSelector {app=api} selects no pod")), "{json:#}");
}

/// A policy edit that only concerns cluster DNS, whose pods are not in the manifests,
/// changes no pair between the pods read: `diff` says the DNS peer was not evaluated,
/// and with the DNS pods in both versions shows the change itself.
#[test]
fn a_change_towards_an_absent_peer_is_said_not_evaluated() {
    let egress = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"#;
    let dir = versions(egress, &egress.replace("port: 53, protocol: UDP", "port: 5353, protocol: UDP"));
    let out = netdoctor(&["diff", "old", "new"], dir.path());
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.starts_with("no changes in allowed connections between the pods in the manifests\n"), "{said}");
    assert!(
        said.contains("note: NetworkPolicy shop/web-egress (changed): its egress peer namespaceSelector {kubernetes.io/metadata.name=kube-system}, podSelector {k8s-app=kube-dns} selects no pod in the manifests"),
        "{said}"
    );
    let out = netdoctor(&["diff", "old", "new", "--format", "connlist"], dir.path());
    assert!(text(&out.stderr).contains("note: NetworkPolicy shop/web-egress (changed)"), "{}", text(&out.stderr));
    let dns = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}\n";
    for version in ["old", "new"] {
        std::fs::write(dir.path().join(version).join("dns.yaml"), dns).unwrap();
    }
    let out = netdoctor(&["diff", "old", "new"], dir.path());
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("+ shop/web[Deployment] => kube-system/coredns[Pod] : UDP 5353\n"), "{said}");
    assert!(!said.contains("note:"), "{said}");
}

#[test]
fn same_versions_exit_0() {
    let dir = versions(POLICY_V1, POLICY_V1);
    let out = netdoctor(&["diff", "old", "new"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no changes in allowed connections\n");
}

#[test]
fn ip_blocks_compare_on_the_common_split() {
    let old = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: out, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: client}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n";
    let new = old.replace("10.0.0.0/8, except: [10.1.0.0/16]", "10.0.0.0/16");
    let dir = versions(old, &new);
    let out = netdoctor(&["diff", "old", "new", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["changes"],
        serde_json::json!([{
            "src": "shop/client[Pod]", "dst": "10.2.0.0-10.255.255.255[External]", "kind": "removed",
            "old": "All Connections", "new": "No Connections", "added": "No Connections", "removed": "All Connections",
        }])
    );
}

#[test]
fn broken_input_gives_located_errors_and_exit_2() {
    let dir = versions(POLICY_V1, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/40}\n");
    let out = netdoctor(&["diff", "old", "new"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error: new/policy.yaml:7:"), "{err}");
    assert!(err.contains("must be a CIDR"), "{err}");
    // No change list that would read as the answer.
    assert_eq!(text(&out.stdout), "", "{err}");
    assert!(err.contains("no diff printed"), "{err}");
    let missing = netdoctor(&["diff", "old", "nope"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nope: cannot read: "), "{}", text(&missing.stderr));
}

#[test]
fn a_label_change_is_compared_in_full() {
    // Here the pods differ, not the policies: every pair is compared, not only the rows
    // and columns of changed policies.
    let dir = versions(POLICY_V1, POLICY_V1);
    std::fs::write(dir.path().join("new/app.yaml"), APP.replace("labels: {app: api}", "labels: {app: client}")).unwrap();
    let out = netdoctor(&["diff", "old", "new", "--format", "connlist"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "Connectivity diff:\n\
         diff-type: added, source: shop/api[Pod], destination: shop/web[Deployment], ref1: No Connections, ref2: TCP 8080\n"
    );
}

#[test]
fn connlist_orders_changed_added_removed_and_names_added_workloads() {
    // As netpol-analyzer's diff output: changed pairs first, then added, then removed;
    // outside ranges without `[External]`; a pair with a new workload says so.
    let old = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: client}}}]\n    ports: [{port: 8080}]\n  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n";
    let new = old.replace("ports: [{port: 8080}]", "ports: [{port: 9090}]").replace("10.0.0.0/8", "10.0.0.0/16");
    let dir = versions(old, &new);
    std::fs::write(
        dir.path().join("new/extra.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: newcomer, namespace: shop, labels: {app: client}}\n",
    )
    .unwrap();
    let out = netdoctor(&["diff", "old", "new", "--format", "connlist"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"Connectivity diff:"), "{stdout}");
    let kinds: Vec<&str> = lines.iter().skip(1).map(|l| l.split(',').next().unwrap_or_default()).collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| ["diff-type: changed", "diff-type: added", "diff-type: removed"].iter().position(|x| x == k));
    assert_eq!(kinds, sorted, "{stdout}");
    assert!(
        stdout
            .contains("diff-type: changed, source: shop/client[Pod], destination: shop/web[Deployment], ref1: TCP 8080, ref2: TCP 9090\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("diff-type: added, source: shop/newcomer[Pod], destination: shop/web[Deployment], ref1: No Connections, ref2: TCP 9090, workloads-diff-info: workload shop/newcomer[Pod] added\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("diff-type: removed, source: 10.1.0.0-10.255.255.255, destination: shop/web[Deployment], ref1: All Connections, ref2: No Connections\n"),
        "{stdout}"
    );
}

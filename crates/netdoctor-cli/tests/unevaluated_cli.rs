//! End-to-end: policies netdoctor does not evaluate (a service mesh's, another CNI's own)
//! never leave a flow they could change reported as allowed, by `why` or `matrix`, and
//! `check` names each of them (ND409).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/k8s/unevaluated.yaml")
}

fn netdoctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(args).arg(fixture()).output().expect("run netdoctor")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn why(from: &str, to: &str) -> Value {
    json(&netdoctor(&["why", from, to, "--port", "tcp/80", "--format", "json"]))
}

#[test]
fn why_is_unknown_where_an_unevaluated_policy_can_change_the_flow() {
    // NetworkPolicies allow it; the Istio policy in `shop` may refuse it.
    let doc = why("shop/web", "shop/api");
    assert_eq!(doc["verdict"], "unknown", "{doc:#}");
    let policy = &doc["steps"][3];
    assert_eq!(policy["status"], "unknown", "{doc:#}");
    let evidence = policy["evidence"].to_string();
    assert!(
        evidence.contains("security.istio.io/v1 AuthorizationPolicy shop/deny-all") && evidence.contains("unevaluated.yaml:46"),
        "{evidence}"
    );
    // NetworkPolicies deny it; Antrea's policy in `billing` may allow it.
    let doc = why("ops/mon", "billing/invoicer");
    assert_eq!(doc["verdict"], "unknown", "{doc:#}");
    assert!(doc["steps"][3]["evidence"].to_string().contains("crd.antrea.io/v1beta1 NetworkPolicy billing/allow-invoicer"), "{doc:#}");
    // A mesh policy can only refuse: a flow NetworkPolicies deny stays denied.
    let doc = why("ops/mon", "shop/api");
    assert_eq!(doc["verdict"], "denied", "{doc:#}");
    // Flows neither touches keep a certain verdict.
    let doc = why("ops/mon", "ops/log");
    assert_eq!(doc["verdict"], "denied", "{doc:#}");
}

#[test]
fn matrix_marks_every_connection_an_unevaluated_policy_can_change() {
    let out = netdoctor(&["matrix", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let connections = doc["connections"].as_array().unwrap();
    assert!(!connections.is_empty());
    for c in connections {
        let (src, dst) = (c["src"].as_str().unwrap(), c["dst"].as_str().unwrap());
        let touched = [src, dst].iter().any(|p| p.starts_with("shop/") || p.starts_with("billing/"));
        assert_eq!(c["unknown"] == true, touched, "{c}");
    }
    let unknown: Vec<&str> = doc["unknown"].as_array().unwrap().iter().map(|u| u["resource"].as_str().unwrap()).collect();
    assert_eq!(
        unknown,
        ["security.istio.io/v1 AuthorizationPolicy shop/deny-all", "crd.antrea.io/v1beta1 NetworkPolicy billing/allow-invoicer"]
    );
    // Every format says so.
    let text = String::from_utf8(netdoctor(&["matrix"]).stdout).unwrap();
    assert!(text.contains("shop/web[Pod]                      shop/api[Pod]") && text.contains("(unknown)"), "{text}");
    assert!(text.contains("may be decided otherwise"), "{text}");
    let csv = String::from_utf8(netdoctor(&["matrix", "--format", "csv"]).stdout).unwrap();
    assert!(csv.starts_with("src,dst,conn,unknown\n") && csv.contains("shop/web[Pod],shop/api[Pod],All Connections,true"), "{csv}");
    let md = String::from_utf8(netdoctor(&["matrix", "--format", "md"]).stdout).unwrap();
    assert!(md.contains("| shop/web[Pod] | shop/api[Pod] | All Connections (unknown) |"), "{md}");
    let out = netdoctor(&["matrix", "--format", "connlist"]);
    let connlist = String::from_utf8(out.stdout).unwrap();
    assert!(connlist.starts_with("# unknown: "), "{connlist}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("AuthorizationPolicy shop/deny-all is not evaluated"));
}

#[test]
fn check_names_each_unevaluated_policy() {
    let out = netdoctor(&["check", "--format", "json", "--select", "ND409"]);
    let doc = json(&out);
    let findings = doc["findings"].as_array().unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(findings.len(), 2, "{doc:#}");
    assert!(findings.iter().all(|f| f["rule"] == "ND409"), "{doc:#}");
}

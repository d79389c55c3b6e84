//! `why` over a recorded Docker snapshot (see netdoctor-sources' tests/docker): each
//! broken flow fails at the layer a person would find it, citing the rule.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_explain::{explain, PortSpec, Status, Verdict, Why};
use netdoctor_model::Model;
use netdoctor_rules::{RuleConfig, RuleContext, Selection};
use netdoctor_sources::docker::{lower, DockerSnapshot, LowerOptions};
use std::path::Path;

fn model() -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../netdoctor-sources/tests/docker/recorded.json");
    lower(&DockerSnapshot::read(&path).unwrap(), &LowerOptions::default()).model
}

/// The full name of the workload whose name ends with `-suffix` (or is `suffix`).
fn name(m: &Model, suffix: &str) -> String {
    m.workloads.iter().map(|w| w.name.clone()).find(|n| n == suffix || n.ends_with(&format!("-{suffix}"))).unwrap()
}

fn why(m: &Model, from: &str, to: &str, port: Option<&str>) -> Why {
    let analysis = Analysis::new(m, &EngineConfig::default());
    let config = RuleConfig::default();
    let cx = RuleContext { model: m, analysis: &analysis, config: &config };
    let findings = netdoctor_rules::run(&cx, &Selection::default());
    explain(&cx, &findings, &name(m, from), &name(m, to), port.map(|p| p.parse::<PortSpec>().unwrap())).unwrap()
}

fn failing(w: &Why) -> (u8, Vec<&'static str>) {
    let s = w.first_failure().unwrap_or_else(|| panic!("no failing layer: {w:#?}"));
    (s.layer, s.rules.clone())
}

#[test]
fn split_networks_fail_at_attachment() {
    let m = model();
    let w = why(&m, "web", "db", Some("tcp/5432"));
    assert_eq!(w.verdict, Verdict::Denied);
    assert_eq!(failing(&w), (1, vec!["ND102"]));
    assert!(w.steps[0].fix.as_ref().unwrap().contains("docker network connect"));
}

#[test]
fn default_bridge_fails_at_dns() {
    let m = model();
    let w = why(&m, "old1", "old2", Some("80"));
    assert_eq!(w.verdict, Verdict::Denied);
    assert_eq!(failing(&w).0, 3);
    assert_eq!(w.steps[0].status, Status::Pass);
    assert!(w.steps[0].rules.contains(&"ND101"));
}

#[test]
fn icc_off_fails_at_the_firewall() {
    let m = model();
    let w = why(&m, "app", "pg", Some("tcp/5432"));
    assert_eq!(failing(&w), (5, vec!["ND511"]));
    assert_eq!(w.steps[2].status, Status::Pass, "the name resolves: {:#?}", w.steps[2]);
}

#[test]
fn a_stopped_peer_fails_at_attachment() {
    let m = model();
    let w = why(&m, "cli", "stopped", Some("tcp/8080"));
    assert_eq!(failing(&w), (1, vec!["ND113"]));
    assert!(w.steps[0].evidence[0].contains("exited"));
}

#[test]
fn a_shared_namespace_is_localhost() {
    let m = model();
    let w = why(&m, "side", "cli", None);
    assert_eq!(w.verdict, Verdict::Allowed, "{w:#?}");
    assert!(w.steps[0].evidence.iter().any(|e| e.contains("localhost")));
}

#[test]
fn json_has_the_five_layers_of_rules_md() {
    let m = model();
    let w = why(&m, "web", "db", Some("tcp/5432"));
    let v = serde_json::to_value(&w).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["port"], "tcp/5432");
    assert_eq!(v["verdict"], "denied");
    let layers: Vec<(u64, &str)> =
        v["steps"].as_array().unwrap().iter().map(|s| (s["layer"].as_u64().unwrap(), s["name"].as_str().unwrap())).collect();
    assert_eq!(layers, vec![(1, "attachment"), (2, "ip"), (3, "dns"), (4, "policy"), (5, "firewall")]);
    for s in v["steps"].as_array().unwrap() {
        assert!(["pass", "fail", "skip", "unknown"].contains(&s["status"].as_str().unwrap()));
        assert!(s["evidence"].is_array() && s["rules"].is_array());
    }
}

#[test]
fn probes_override_the_configuration_and_say_so() {
    let m = model();
    let mut w = why(&m, "old1", "old2", Some("tcp/80"));
    w.steps[2].status = Status::Pass; // pretend the name resolved, to reach the listener
    w.confirm(5, Status::Pass, "tcp: refused: the path is open", None);
    w.confirm(6, Status::Fail, "nothing listens on tcp/80", Some("start the server".into()));
    assert_eq!(w.verdict, Verdict::Denied);
    assert_eq!(w.listener.status, Status::Fail);
    assert!(w.steps[4].evidence.iter().any(|e| e.starts_with("probe: ")));
    let mut v = why(&m, "app", "pg", Some("tcp/5432"));
    v.confirm(5, Status::Pass, "connected", None);
    assert!(v.steps[4].evidence.iter().any(|e| e.contains("differs from the configuration")));
}

/// A host whose native nftables forward chain drops one container: `why cli web` fails
/// at layer 5 naming the table, chain and rule handle, and the fix deletes that rule
/// rather than pointing at DOCKER-USER.
#[test]
fn a_native_nftables_drop_fails_at_the_firewall_naming_the_rule_handle() {
    let mut m = model();
    let dir = std::env::temp_dir().join(format!("ndt-why-nft-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sysctl.txt"), "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\n").unwrap();
    std::fs::write(
        dir.join("nft.json"),
        r#"{"nftables": [{"table": {"family": "inet", "name": "filter", "handle": 1}},
 {"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
 {"rule": {"family": "inet", "table": "filter", "chain": "forward", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "172.19.0.4"}}, {"drop": null}]}}]}"#,
    )
    .unwrap();
    let (facts, errors) = netdoctor_sources::host::load_path(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(errors.is_empty(), "{errors:?}");
    m.host = Some(facts);
    let w = why(&m, "cli", "web", Some("tcp/80"));
    let step = w.first_failure().unwrap_or_else(|| panic!("{w:#?}"));
    assert_eq!(step.layer, 5, "{w:#?}");
    assert!(
        step.evidence
            .iter()
            .any(|e| e.ends_with("dropped by nftables inet filter chain forward rule handle 7 (`ip saddr 172.19.0.4 drop`)")),
        "{:?}",
        step.evidence
    );
    assert_eq!(step.fix.as_deref(), Some("the drop is in native nftables, not iptables: `nft delete rule inet filter forward handle 7`"));
}

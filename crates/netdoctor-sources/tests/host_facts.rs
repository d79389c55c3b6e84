//! Host captures recorded from real engines (`tests/host/<name>/`, see its README),
//! lowered into the model and snapshotted; and the snapshot bundle round trip.
#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a failure should stop loudly

use netdoctor_model::host::{Backend, IpFamily, Policy, Target};
use netdoctor_sources::host::{self, capture, Bundle};
use std::path::Path;

fn load(name: &str) -> netdoctor_model::host::HostFacts {
    let (facts, errors) = host::load_path(&Path::new("tests/host").join(name));
    assert!(errors.is_empty(), "{name}: {errors:?}");
    facts
}

#[test]
fn recorded_docker_host() {
    let facts = load("docker-20.10");
    let set = facts.rulesets_of(IpFamily::V4).find(|s| s.backend == Backend::Nft).expect("the nft dump");
    let dnat = set.table("nat").and_then(|t| t.chain("DOCKER")).map(|c| c.rules[2].target.clone());
    assert!(matches!(dnat, Some(Target::Dnat(_))), "{dnat:?}");
    assert_eq!(facts.sysctls.bridge_nf_call_iptables.as_ref().map(|s| s.value), Some(true));
    assert!(facts.interfaces.iter().any(|i| i.name == "br-c6b54d859bd2" && i.kind.as_deref() == Some("bridge")));
    insta::assert_yaml_snapshot!("docker-20.10", facts);
}

#[test]
fn recorded_idle_host_with_both_backends() {
    let facts = load("docker-20.10-idle");
    let legacy = facts.rulesets_of(IpFamily::V4).find(|s| s.backend == Backend::Legacy).expect("the legacy dump");
    assert!(!legacy.has_effect(), "the legacy tables exist but hold nothing");
    let nft = facts.rulesets_of(IpFamily::V4).find(|s| s.backend == Backend::Nft).expect("the nft dump");
    assert_eq!(nft.table("filter").and_then(|t| t.chain("FORWARD")).and_then(|c| c.policy), Some(Policy::Drop));
    assert!(facts.daemon.as_ref().and_then(|d| d.mtu.as_ref()).is_some_and(|m| m.value == 1400));
    insta::assert_yaml_snapshot!("docker-20.10-idle", facts);
}

#[test]
fn recorded_cni_node() {
    let facts = load("cni-bridge-portmap");
    let set = facts.rulesets_of(IpFamily::V4).find(|s| s.backend == Backend::Nft).expect("the nft dump");
    let dnat = set.table("nat").and_then(|t| t.chains.iter().find(|c| c.name.starts_with("CNI-DN-"))).map(|c| c.rules[2].target.clone());
    assert!(matches!(dnat, Some(Target::Dnat(_))), "{dnat:?}");
    assert!(facts.interfaces.iter().any(|i| i.name == "cni0" && i.kind.as_deref() == Some("bridge")));
    let cni: Vec<(&str, Vec<String>)> = facts.cni_configs.iter().map(|c| (c.file.as_str(), c.plugins.clone())).collect();
    assert_eq!(cni, [("10-k8s-pod-network.conflist", vec!["bridge".to_string(), "firewall".to_string(), "portmap".to_string()])]);
    assert!(facts.cni_configs.iter().all(|c| c.problem.is_none()));
    insta::assert_yaml_snapshot!("cni-bridge-portmap", facts);
}

#[test]
fn a_bundle_reads_back_like_its_directory() {
    let dir = Path::new("tests/host/docker-20.10");
    let captured = capture::from_dir(dir).expect("capture");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("host.json");
    std::fs::write(&path, Bundle::of(&captured, &[]).to_json()).expect("write");
    let (from_bundle, errors) = host::load_path(&path);
    assert!(errors.is_empty(), "{errors:?}");
    let from_dir = load("docker-20.10");
    assert_eq!(from_bundle.rulesets.len(), from_dir.rulesets.len());
    let rule = |f: &netdoctor_model::host::HostFacts| f.rulesets[0].tables[0].chains[1].rules[0].clone();
    assert_eq!(rule(&from_bundle).text, rule(&from_dir).text);
    assert_eq!(rule(&from_dir).origin.to_string(), "tests/host/docker-20.10/iptables-nft-save.txt:10:1");
    assert_eq!(rule(&from_bundle).origin.to_string(), format!("{}#iptables-nft-save.txt:10", path.display()));
}

#[test]
fn bad_inputs_are_located_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("iptables-save.txt"), "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.0/8 -j FORWARDD\nCOMMIT\n")
        .expect("write");
    std::fs::write(tmp.path().join("ip-route.json"), "[{\"dst\": \"default\"},\n {\"dst\": 12}]").expect("write");
    std::fs::write(tmp.path().join("daemon.json"), "{\n  \"iptables\": \"off\"\n}\n").expect("write");
    let (_, errors) = host::load_path(tmp.path());
    let found: Vec<String> =
        errors.iter().map(|e| format!("{}:{}:{}", e.file.file_name().and_then(|n| n.to_str()).unwrap_or(""), e.line, e.column)).collect();
    assert_eq!(found, ["iptables-save.txt:3:27", "ip-route.json:2:2", "daemon.json:2:3"], "{errors:?}");
    let (_, errors) = host::load_path(&tmp.path().join("missing"));
    assert!(errors[0].message.contains("cannot read"), "{errors:?}");
    let empty = tempfile::tempdir().expect("tempdir");
    let (_, errors) = host::load_path(empty.path());
    assert!(errors[0].message.contains("no host facts found"), "{errors:?}");
}

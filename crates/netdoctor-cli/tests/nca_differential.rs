//! Differential test against Network Config Analyzer (`nca`, PyPI package
//! `network-config-analyzer`), an independent implementation of NetworkPolicy semantics.
//!
//! Clusters of several shapes come from the benchmark generator
//! (`benches/k8s_generate.rs`: every policy shape it makes, Deployments and bare pods, one
//! to twelve namespaces). Each is written to a file, `nca --connectivity -r FILE -o
//! txt_no_fw_rules` lists what it allows, and netdoctor's engine reads the same file.
//! Then, exactly:
//! - every ordered pair of workloads: the allowed set (protocol and port ranges) must be
//!   the same, so every port verdict agrees;
//! - addresses outside the cluster: both tools split the address space differently, so
//!   the verdicts are compared at every address where either tool's split starts a new
//!   range (all verdicts are constant between those), in both directions, per workload;
//! - every peer `nca` names must be one netdoctor knows.
//!
//! Where the tools knowingly differ, the case goes in `KNOWN_DIFFERENCES` with the reason,
//! and the generated documents that have it are left out of both tools' input.
//!
//! Without `nca` on PATH the test is skipped with the reason; under CI=true it fails.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../benches/k8s_generate.rs"]
#[allow(dead_code)] // the benches use the rest
mod k8s_generate;

mod nca;
#[path = "../../../test-support/skip.rs"]
mod skip;

use k8s_generate::Options;
use nca::{parse_conns, parse_nca, parse_peer, run_nca, NcaPeer};
use netdoctor_engine::policy::{ConnSet, Ipv4Range, PolicyEngine, PolicyOptions, PortSet};
use netdoctor_model::Protocol;
use netdoctor_sources::k8s;
use std::path::Path;

/// Cases where netdoctor and `nca` knowingly differ: a marker (text of the generated
/// policy documents that have the case) and the reason. Documents containing a marker
/// are removed from the input of both tools. Each marker must still remove something.
/// Empty: on every shape the generator makes, the two agree exactly.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// Differences shown per failing case.
const SHOWN: usize = 10;

/// The clusters compared: name and generator options.
fn cases() -> Vec<(&'static str, Options, bool)> {
    let with =
        |pods, deployments, policies, namespaces, bare_pods| Options { namespaces, bare_pods, ..Options::new(pods, deployments, policies) };
    vec![
        // All eight policy shapes twice, one namespace (namespace selectors see only it).
        ("one-namespace", with(30, 12, 17, 1, false), false),
        // Selectors across five namespaces with three env labels.
        ("five-namespaces", with(60, 30, 40, 5, false), false),
        // The `--changed` variant: a named port turned into a numeric one.
        ("three-namespaces-changed", with(45, 21, 24, 3, false), true),
        // Bare pods, each its own workload, several sharing labels.
        ("bare-pods", with(50, 25, 33, 4, true), false),
        // More policies per target, and namespaces whose team labels repeat (t0..t9).
        ("twelve-namespaces", with(96, 48, 64, 12, false), false),
    ]
}

/// `text` without the documents that have a known difference's marker; how many each
/// marker removed.
fn without_known_differences(text: &str) -> (String, Vec<usize>) {
    nca::without_known_differences(text, KNOWN_DIFFERENCES)
}

/// Compares one cluster; `Err` lists the differences.
fn compare(name: &str, text: &str, dir: &Path) -> Result<String, String> {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, text).map_err(|e| format!("writing {}: {e}", file.display()))?;
    let loaded = k8s::load(&file);
    if let Some(e) = loaded.errors.first() {
        return Err(format!("netdoctor cannot read the generated cluster: {e}"));
    }
    let engine = PolicyEngine::new(&loaded.cluster, PolicyOptions::default());
    if let Some(w) = engine.warnings.first() {
        return Err(format!("the engine skipped part of the generated cluster: {}", w.message));
    }
    let nca = parse_nca(&run_nca(&file, dir).stdout)?;
    let mut cmp = nca::compare_with_engine(&engine, &nca);
    if cmp.tells_nothing() {
        cmp.problems
            .push(format!("{} of {} pairs allowed, {} fully open: the case tells nothing", cmp.allowed_pairs, cmp.pairs, cmp.open_pairs));
    }
    if cmp.problems.is_empty() {
        Ok(cmp.summary(nca.len()))
    } else {
        let total = cmp.problems.len();
        cmp.problems.truncate(SHOWN);
        Err(format!("{total} difference(s), e.g.:\n    {}", cmp.problems.join("\n    ")))
    }
}

#[test]
fn nca_parsing() {
    let got = parse_conns("{protocols:TCP, UDP,dst_ports:53},{protocols:TCP,dst_ports:8000-8002,9090},{protocols:SCTP}");
    let mut want = ConnSet::of(Protocol::Udp, PortSet::single(53));
    want.add(Protocol::Tcp, &PortSet::single(53).union(&PortSet::range(8000, 8002)).union(&PortSet::single(9090)));
    want.add(Protocol::Sctp, &PortSet::all());
    assert_eq!(got, Ok(want));
    assert_eq!(parse_conns("All connections"), Ok(ConnSet::all()));
    assert_eq!(
        parse_conns("All but {protocols:TCP,dst_ports:1-79,81-65535}"),
        Ok(ConnSet::all().subtract(&ConnSet::of(Protocol::Tcp, PortSet::range(1, 79).union(&PortSet::range(81, 65535)))))
    );
    assert!(parse_conns("{protocols:ICMP}").is_err());
    assert!(parse_conns("some connections").is_err());
    assert_eq!(
        parse_peer("10.0.0.0-10.0.0.255,10.1.0.0/16"),
        Ok(NcaPeer::Addresses(vec![
            Ipv4Range { start: 0x0a00_0000, end: 0x0a00_00ff },
            Ipv4Range { start: 0x0a01_0000, end: 0x0a01_ffff }
        ]))
    );
    assert_eq!(parse_peer("ns0/app1[Deployment]"), Ok(NcaPeer::Workload("ns0/app1[Deployment]".into())));
    let lines = "ns/a[Pod] => ns/b[Pod] : {protocols:SCTP,dst_ports:3868}\nns/a[Pod] => ns/b[Pod] : {protocols:TCP,dst_ports:80}\n";
    let parsed = parse_nca(lines).unwrap_or_default();
    let key = (NcaPeer::Workload("ns/a[Pod]".into()), NcaPeer::Workload("ns/b[Pod]".into()));
    let mut want = ConnSet::of(Protocol::Sctp, PortSet::single(3868));
    want.add(Protocol::Tcp, &PortSet::single(80));
    assert_eq!(parsed.get(&key), Some(&want));
}

#[test]
fn agrees_with_network_config_analyzer() {
    if !nca::require_nca() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let mut removed_total = vec![0; KNOWN_DIFFERENCES.len()];
    let mut failures = Vec::new();
    for (name, opts, changed) in cases() {
        let text = k8s_generate::cluster_with(&opts);
        let text = if changed { k8s_generate::changed(&text) } else { text };
        let (text, removed) = without_known_differences(&text);
        for (total, n) in removed_total.iter_mut().zip(removed) {
            *total += n;
        }
        match compare(name, &text, dir.path()) {
            Ok(summary) => println!("{name}: agree: {summary}"),
            Err(problems) => failures.push(format!("{name}: {problems}")),
        }
    }
    for ((marker, reason), removed) in KNOWN_DIFFERENCES.iter().zip(&removed_total) {
        if *removed == 0 {
            failures.push(format!("known difference {marker:?} ({reason}) no longer occurs in the input: remove it"));
        }
    }
    assert!(failures.is_empty(), "netdoctor and nca disagree:\n{}", failures.join("\n"));
}

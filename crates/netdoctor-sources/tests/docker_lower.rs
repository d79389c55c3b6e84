//! Lowering a recorded Docker snapshot (taken by `netdoctor snapshot --docker` from
//! containers made for it: Compose-labelled services on split networks, two
//! containers on the default bridge, a stopped peer, `--network container:X`, a network
//! with ICC off and a port published on every interface) into the model.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use netdoctor_model::docker::ContainerState;
use netdoctor_model::{NetworkMode, WorkloadKind};
use netdoctor_sources::docker::{lower, DockerSnapshot, LowerOptions, Selection};
use std::path::Path;

fn recorded() -> DockerSnapshot {
    DockerSnapshot::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker/recorded.json")).expect("recorded snapshot")
}

#[test]
fn recorded_snapshot_lowers_into_the_model() {
    let lowered = lower(&recorded(), &LowerOptions::default());
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    let m = &lowered.model;
    // Compose-labelled containers become their services, inside their project.
    let web = m.workloads.iter().find(|w| w.name == "web").unwrap();
    assert_eq!(web.kind, WorkloadKind::ComposeService);
    assert!(web.project.as_deref().is_some_and(|p| p.starts_with("ndt-")));
    assert_eq!(web.attachments.len(), 1);
    assert!(web.references.iter().any(|r| r.host == "db" && r.port == Some(5432)));
    // Others are containers outside any project; a stopped one keeps its membership.
    let stopped = m.workloads.iter().find(|w| w.name.ends_with("-stopped")).unwrap();
    assert_eq!(stopped.kind, WorkloadKind::Container);
    let live = stopped.live.as_ref().unwrap();
    assert_eq!(live.containers[0].state, ContainerState::Exited);
    assert!(!live.any_running());
    // `container:<id>` is resolved to the owner's name.
    let side = m.workloads.iter().find(|w| w.name.ends_with("-side")).unwrap();
    assert!(matches!(&side.network_mode.as_ref().unwrap().value, NetworkMode::Container(n) if n.ends_with("-cli")));
    // Networks carry their options and the subnets the daemon allocated.
    let noicc = m.networks.iter().find(|n| n.name.ends_with("-noicc")).unwrap();
    assert!(!noicc.icc_enabled());
    assert!(!noicc.live.as_ref().unwrap().subnets.is_empty());
    let bridge = m.networks.iter().find(|n| n.name == "bridge").unwrap();
    assert!(bridge.external && !bridge.has_embedded_dns());
    // The published port keeps its all-interfaces binding (once, not per family).
    let pg = m.workloads.iter().find(|w| w.name.ends_with("-pg")).unwrap();
    assert_eq!(pg.ports.len(), 1);
    assert!(pg.ports[0].host_ip.is_some_and(|ip| ip.is_unspecified()));
    assert!(m.engine.as_ref().is_some_and(|e| e.version.starts_with("20.10")));
    insta::assert_yaml_snapshot!(m, { ".engine.kernel_version" => "[kernel]" });
}

#[test]
fn a_selection_keeps_its_containers_and_the_owners_of_shared_namespaces() {
    let snapshot = recorded();
    let side =
        snapshot.containers.iter().filter_map(|c| c["Name"].as_str()).find(|n| n.ends_with("-side")).unwrap().trim_start_matches('/');
    let selection = Selection { containers: vec![side.to_string()], ..Selection::default() };
    let lowered = lower(&snapshot, &LowerOptions { selection, ..LowerOptions::default() });
    let names: Vec<&str> = lowered.model.workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-cli")));
}

#[test]
fn secrets_never_reach_the_snapshot() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docker/recorded.json")).unwrap();
    assert!(text.contains("PASSWORD=***"));
    assert!(text.contains("postgres://***@db:5432/***"));
}

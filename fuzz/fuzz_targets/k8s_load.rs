//! Fuzzes the Kubernetes manifest reader on one file: `k8s::load` (byte decoding,
//! multi-document YAML and JSON, `List`s, lowering to the cluster model), then the
//! policy engine and the full matrix on what was read, as `netdoctor matrix` runs them,
//! and every rule, as `netdoctor check` runs them on manifests.
//! A panic, a hang or an error that is neither at a line nor about a whole file is a bug.

#![no_main]

#[path = "common.rs"]
mod common;

use common::{check_located, run_rules, write_input};
use libfuzzer_sys::fuzz_target;
use netdoctor_engine::policy::{PolicyEngine, PolicyOptions};
use netdoctor_sources::k8s;

fuzz_target!(|data: &[u8]| {
    let path = write_input("manifest.yaml", data);
    let loaded = k8s::load(&path);
    loaded.errors.iter().for_each(check_located);
    let engine = PolicyEngine::new(&loaded.cluster, PolicyOptions::default());
    let matrix = engine.matrix();
    for c in &matrix.connections {
        drop(engine.peer_name(&c.src));
        std::hint::black_box(matrix.conns(c));
    }
    drop(engine.exposures());
    run_rules(&netdoctor_model::Model { k8s: loaded.cluster, ..netdoctor_model::Model::default() });
});

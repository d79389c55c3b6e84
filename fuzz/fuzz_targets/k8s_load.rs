//! Fuzzes the Kubernetes manifest reader on one file: `k8s::load` (byte decoding,
//! multi-document YAML and JSON, `List`s, lowering to the cluster model), then the
//! policy engine and the full matrix on what was read, as `netdoctor matrix` runs them,
//! and every rule, as `netdoctor check` runs them on manifests.
//! A panic, a hang or an error that is neither at a line nor about a whole file is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netdoctor_engine::policy::{PolicyEngine, PolicyOptions};
use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_rules::{RuleConfig, RuleContext, Selection};
use netdoctor_sources::k8s;
use netdoctor_sources::LoadError;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One file in one temporary directory serves every input: the reader only reads it.
fn manifest_path() -> &'static PathBuf {
    static FILE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = FILE.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temporary directory: {e}"));
        let path = tmp.path().join("manifest.yaml");
        (tmp, path)
    });
    path
}

fn check_located(e: &LoadError) {
    let located = e.is_located();
    assert!(located, "error neither at a line nor about a whole file: {e}");
}

fuzz_target!(|data: &[u8]| {
    let path = manifest_path();
    std::fs::write(path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    let loaded = k8s::load(path);
    loaded.errors.iter().for_each(check_located);
    let engine = PolicyEngine::new(&loaded.cluster, PolicyOptions::default());
    let matrix = engine.matrix();
    for c in &matrix.connections {
        drop(engine.peer_name(&c.src));
        drop(matrix.conns(c));
    }
    drop(engine.exposures());
    let model = netdoctor_model::Model { k8s: loaded.cluster, ..netdoctor_model::Model::default() };
    let analysis = Analysis::new(&model, &EngineConfig::default());
    let cx = RuleContext { model: &model, analysis: &analysis, config: &RuleConfig::default() };
    drop(netdoctor_rules::run(&cx, &Selection::default()));
});

//! What the fuzz targets share: one scratch directory, the located-error check, and
//! running every rule on a model as `netdoctor check` does.

use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_model::Model;
use netdoctor_rules::{RuleConfig, RuleContext, Selection};
use netdoctor_sources::LoadError;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The loaders only read files, so one directory serves every input; writing the input
/// there is much cheaper than a fresh temporary directory per run. It is named `fuzz` so
/// a project name derived from it is the same on every run.
pub fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temporary directory: {e}"));
        let path = tmp.path().join("fuzz");
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        (tmp, path)
    });
    path
}

/// Writes the input as `name` in the scratch directory.
pub fn write_input(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch_dir().join(name);
    std::fs::write(&path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

pub fn check_located(e: &LoadError) {
    let located = e.is_located();
    assert!(located, "error neither at a line nor about a whole file: {e}");
}

/// The engine's analysis and every rule.
pub fn run_rules(model: &Model) {
    let analysis = Analysis::new(model, &EngineConfig::default());
    let cx = RuleContext { model, analysis: &analysis, config: &RuleConfig::default() };
    drop(netdoctor_rules::run(&cx, &Selection::default()));
}

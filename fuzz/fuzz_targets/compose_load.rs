//! Fuzzes the whole static pipeline on one compose file: `compose::load` (interpolation,
//! `extends`, `include`, merging, profiles), `compose::lower`, the engine's analysis and
//! every rule, as `netdoctor check` runs them. A panic, a hang or an error that is
//! neither at a line nor about a whole file is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_rules::{RuleConfig, RuleContext, Selection};
use netdoctor_sources::compose::{self, LoadOptions};
use netdoctor_sources::LoadError;
use std::path::PathBuf;
use std::sync::OnceLock;


/// The loader only reads files, so one project directory serves every input; writing
/// the input there is much cheaper than a fresh temporary directory per run. The
/// directory is named `fuzz` so the derived project name is the same on every run.
fn project_dir() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temporary directory: {e}"));
        let path = tmp.path().join("fuzz");
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        (tmp, path)
    });
    path
}

fn check_located(e: &LoadError) {
    let located = e.is_located();
    assert!(located, "error neither at a line nor about a whole file: {e}");
}

fuzz_target!(|data: &[u8]| {
    let dir = project_dir();
    let path = dir.join("compose.yaml");
    std::fs::write(&path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    let opts = LoadOptions { working_dir: dir.clone(), ..LoadOptions::default() };
    let doc = match compose::load(&opts) {
        Ok(doc) => doc,
        Err(e) => return check_located(&e),
    };
    let model = match compose::lower(&doc) {
        Ok(model) => model,
        Err(errors) => return errors.iter().for_each(check_located),
    };
    let analysis = Analysis::new(&model, &EngineConfig::default());
    let cx = RuleContext { model: &model, analysis: &analysis, config: &RuleConfig::default() };
    drop(netdoctor_rules::run(&cx, &Selection::default()));
});

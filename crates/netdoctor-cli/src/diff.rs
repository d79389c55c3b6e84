//! `netdoctor diff OLD NEW`: reads both versions, and has the engine compare them.

use netdoctor_engine::policy::{PolicyDiff, PolicyOptions};
use netdoctor_model::k8s::Cluster;
use netdoctor_report::InputError;
use netdoctor_sources::k8s;
use std::path::Path;

/// The outcome of a run: what changed, and what was skipped or failed while reading
/// either version.
#[derive(Debug, Clone, Default)]
pub struct DiffRun {
    pub diff: PolicyDiff,
    /// Reading problems of either version, then the engines' warnings.
    pub warnings: Vec<String>,
    pub errors: Vec<InputError>,
}

fn load(path: &Path, out: &mut DiffRun) -> Cluster {
    let loaded = k8s::load(path);
    out.warnings.extend(loaded.warnings.iter().map(ToString::to_string));
    out.errors.extend(loaded.errors.into_iter().map(crate::input_error));
    loaded.cluster
}

/// Reads both versions and computes what changed.
pub fn run(old_path: &Path, new_path: &Path, options: PolicyOptions) -> DiffRun {
    let mut out = DiffRun::default();
    let old = load(old_path, &mut out);
    let new = load(new_path, &mut out);
    out.diff = netdoctor_engine::policy::diff(&old, &new, options);
    out.warnings.append(&mut out.diff.warnings);
    out
}

//! `netdoctor matrix`: reads Kubernetes manifests (and a live cluster or a snapshot of
//! one), and has the engine compute which workloads may connect to which.

use netdoctor_engine::policy::{PolicyEngine, PolicyOptions};
use netdoctor_model::k8s::Cluster;
use netdoctor_report::matrix::{MatrixProblems, MatrixTable};
use netdoctor_report::GroupedTable;
use netdoctor_report::InputError;
use netdoctor_sources::k8s;
use std::path::PathBuf;

/// The outcome of a run: the matrix, and what was skipped or failed while reading.
#[derive(Debug, Clone, Default)]
pub struct MatrixRun {
    pub table: MatrixTable,
    /// The matrix between behaviour groups, when asked for (`--group classes`) instead
    /// of `table`.
    pub grouped: Option<GroupedTable>,
    pub warnings: Vec<String>,
    pub errors: Vec<InputError>,
    /// A live cluster or snapshot could not be read at all: there is no matrix to show.
    pub read_failed: bool,
}

impl MatrixRun {
    /// The warnings and errors, as renderers take them.
    pub fn problems(&self) -> MatrixProblems<'_> {
        MatrixProblems { warnings: &self.warnings, errors: &self.errors }
    }
}

/// Reads every path and computes the matrix.
pub fn run(paths: &[PathBuf], options: PolicyOptions) -> MatrixRun {
    run_with(paths, None, false, options, false)
}

/// Reads every path and, when given, a live cluster or a snapshot of one
/// (`--kube`, `--snapshot`), and computes the matrix over all of them: per workload
/// pair, or per pair of behaviour groups with `grouped`.
pub fn run_with(
    paths: &[PathBuf],
    kube: Option<&crate::kube::KubeInput>,
    verbose: bool,
    options: PolicyOptions,
    grouped: bool,
) -> MatrixRun {
    let mut cluster = Cluster::default();
    let mut out = MatrixRun::default();
    if let Some(input) = kube {
        let loaded = crate::kube::load(input, verbose);
        out.read_failed = loaded.failed;
        cluster.extend(loaded.cluster);
        out.warnings.extend(loaded.warnings);
        out.errors.extend(loaded.errors.into_iter().map(crate::input_error));
    }
    for path in paths {
        let loaded = k8s::load(path);
        cluster.extend(loaded.cluster);
        out.warnings.extend(loaded.warnings.iter().map(ToString::to_string));
        out.errors.extend(loaded.errors.into_iter().map(crate::input_error));
    }
    let engine = PolicyEngine::new(&cluster, options);
    out.warnings.extend(engine.warnings.iter().map(|w| format!("{}: {}", w.origin, w.message)));
    if grouped {
        out.grouped = Some(GroupedTable::of(&engine));
    } else {
        out.table = MatrixTable::of(&engine);
    }
    out
}

/// Prints warnings and located errors to standard error.
pub fn report_problems(run: &MatrixRun) {
    for w in &run.warnings {
        eprintln!("warning: {w}");
    }
    crate::print_input_errors(&run.errors);
}

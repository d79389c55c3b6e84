//! Kubernetes manifests: a file or a directory tree of YAML/JSON files (multi-document,
//! `kind: List` and typed `*List`s, `kubectl get -o yaml|json` dumps). Reading is two
//! steps, as for every source: `raw` splits files into located resource objects, then
//! `lower` turns those into `netdoctor_model::k8s::Cluster`.
//!
//! Files that are not Kubernetes resources are skipped with a warning; malformed ones
//! give located errors, and the other files are still read.
//!
//! A live cluster (`live`, feature `kube-live`) is read with LIST calls into an
//! `api::KubeSnapshot` of the server's JSON objects, which `api::lower_snapshot` feeds
//! through the same lowering, with `kube:<context>/<kind>/...` origins.

pub mod api;
mod calico;
pub mod calico_selector;
mod cilium;
mod config_refs;
mod detect;
mod files;
mod kinds;
#[cfg(feature = "kube-live")]
pub mod live;
mod lower;
pub mod ranges;
mod raw;
mod value;

pub use detect::is_manifest_input;
pub use raw::{RawObject, RawObjects};

use crate::error::LoadError;
use crate::tree;
use netdoctor_model::k8s::Cluster;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Something skipped that the user may want to know about (not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: PathBuf,
    /// 1-based; 0 when the warning is about a whole file.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

/// What reading manifests gave: the cluster, plus what was skipped and what failed.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub cluster: Cluster,
    pub warnings: Vec<Warning>,
    /// Inputs (files or single objects) that could not be read; the rest was loaded.
    pub errors: Vec<LoadError>,
}

/// Reads every manifest under `path` (a file, or a directory walked recursively).
pub fn load(path: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let found = files::discover(path, &mut loaded.warnings, &mut loaded.errors);
    let mut objects = RawObjects::default();
    for file in found {
        match raw::read_file(&file) {
            Ok(read) => {
                loaded.warnings.extend(read.warnings);
                objects.objects.extend(read.objects.objects);
            }
            Err(e) => loaded.errors.push(e),
        }
    }
    let lowered = lower::lower(&objects);
    loaded.cluster = lowered.cluster;
    loaded.errors.extend(located(lowered.errors, &objects));
    loaded.warnings.extend(lowered.warnings);
    loaded
}

/// An object's node with the (line, column) where it starts.
type Starting<'a> = ((u32, u32), &'a tree::Node);

/// The errors with the path inside the object each is in (`spec.ingress[0].ports`).
fn located(mut errors: Vec<LoadError>, objects: &RawObjects) -> Vec<LoadError> {
    if errors.iter().all(|e| e.line == 0) {
        return errors;
    }
    // Each file's objects by where they start, so an error looks in one object only.
    let mut by_file: HashMap<&Path, Vec<Starting>> = HashMap::new();
    for o in &objects.objects {
        by_file.entry(&o.node.span.file).or_default().push(((o.node.span.line, o.node.span.column), &o.node));
    }
    for starts in by_file.values_mut() {
        starts.sort_by_key(|(start, _)| *start);
    }
    for e in &mut errors {
        let Some(starts) = by_file.get(e.file.as_path()) else { continue };
        let holding = starts.partition_point(|(start, _)| *start <= (e.line, e.column));
        if let Some((_, node)) = holding.checked_sub(1).and_then(|i| starts.get(i)) {
            e.locate_in([*node]);
        }
    }
    errors
}

/// Reads manifests from text already in memory (tests, fuzzing, API replies); `file`
/// names it in locations.
pub fn load_text(text: &str, file: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    match raw::read_text(text, file) {
        Ok(read) => {
            loaded.warnings = read.warnings;
            let lowered = lower::lower(&read.objects);
            loaded.cluster = lowered.cluster;
            loaded.errors = located(lowered.errors, &read.objects);
            loaded.warnings.extend(lowered.warnings);
        }
        Err(e) => loaded.errors.push(e),
    }
    loaded
}

#[cfg(test)]
mod tests;

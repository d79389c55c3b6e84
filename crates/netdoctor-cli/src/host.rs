//! The host inputs of `check` and `snapshot`: `--host` reads this host live (in the
//! current network namespace), `--host-facts PATH` reads a directory of captured files
//! or a bundle written by `netdoctor snapshot --host`. `check` also reads several nodes
//! (`--host-facts` once per node, or a directory holding `nodes/<node-name>/`) and checks
//! the project against each.

use netdoctor_model::host::HostFacts;
use netdoctor_report::InputError;
use netdoctor_sources::host::{self, Bundle, LiveOptions};
use netdoctor_sources::LoadError;
use std::path::{Path, PathBuf};

/// Where the host facts come from.
#[derive(Debug, Clone)]
pub enum HostInput {
    /// This host, now.
    Live(LiveOptions),
    /// A directory in the host facts layout, or a snapshot bundle.
    Path(PathBuf),
    /// Several nodes' facts, one path each.
    Nodes(Vec<PathBuf>),
}

impl HostInput {
    /// The input for `--host` / `--host-facts PATH` (the path wins).
    pub fn from_flags(live: bool, path: Option<PathBuf>) -> Option<HostInput> {
        match (path, live) {
            (Some(p), _) => Some(HostInput::Path(p)),
            (None, true) => Some(HostInput::Live(LiveOptions::default())),
            (None, false) => None,
        }
    }

    /// The input for `check`'s `--host` / `--host-facts PATH…` (the paths win).
    pub fn from_node_flags(live: bool, mut paths: Vec<PathBuf>) -> Option<HostInput> {
        match paths.len() {
            0 | 1 => HostInput::from_flags(live, paths.pop()),
            _ => Some(HostInput::Nodes(paths)),
        }
    }
}

/// Reads every node of the input: one host, or each node of a multi-node input (each
/// with every node's CNI configurations); each problem is an input error.
pub fn load_nodes(input: &HostInput) -> (Vec<HostFacts>, Vec<InputError>) {
    let (nodes, errors) = match input {
        HostInput::Nodes(paths) => host::load_nodes(paths),
        HostInput::Path(path) if host::is_multi_node(path) => host::load_nodes(std::slice::from_ref(path)),
        _ => {
            let (facts, errors) = load(input);
            return (vec![facts], errors);
        }
    };
    (nodes, errors.into_iter().map(crate::input_error).collect())
}

/// Reads and lowers the host facts (of the first node, for several); each problem is an
/// input error.
pub fn load(input: &HostInput) -> (HostFacts, Vec<InputError>) {
    let (facts, errors) = match input {
        HostInput::Live(options) => {
            let (capture, mut errors) = host::read_live(options);
            let (facts, lower_errors) = host::lower(&capture);
            errors.extend(lower_errors);
            (facts, errors)
        }
        HostInput::Path(path) => host::load_path(path),
        HostInput::Nodes(paths) => {
            let (nodes, errors) = host::load_nodes(paths);
            (nodes.into_iter().next().unwrap_or_default(), errors)
        }
    };
    (facts, errors.into_iter().map(crate::input_error).collect())
}

/// `netdoctor snapshot --host -o FILE`: captures this host into one bundle. Problems are
/// printed and make the exit code 2, but what could be captured is still written.
pub fn snapshot(output: Option<&Path>) -> u8 {
    let (capture, errors) = host::read_live(&LiveOptions::default());
    // Parse once so that a capture netdoctor cannot read is reported now, not later.
    let (facts, lower_errors) = host::lower(&capture);
    let all: Vec<LoadError> = errors.iter().chain(&lower_errors).cloned().collect();
    crate::print_input_errors(&all.iter().cloned().map(crate::input_error).collect::<Vec<_>>());
    let code = if all.is_empty() { 0 } else { 2 };
    let text = Bundle::of(&capture, &errors).to_json();
    crate::emit_snapshot(&text, output, code, || {
        let rules: usize = facts.rulesets.iter().map(|s| s.rule_count()).sum();
        format!(
            "{} files: {} rule sets with {rules} rules, {} routes, {} interfaces",
            capture.texts.len(),
            facts.rulesets.len(),
            facts.routes.len(),
            facts.interfaces.len()
        )
    })
}

//! Several nodes' host facts read together, for the rules that compare nodes (ND506): a
//! directory holding `nodes/<node-name>/`, each in the layout of one host, or several
//! `--host-facts` paths, each one node (a directory or a snapshot bundle). A node is named
//! after its directory (a bundle after its file name without `.json`); the layout has no
//! hostname fact to name it by.

use super::{capture, lower, read_bundle};
use crate::error::LoadError;
use netdoctor_model::host::{HostFacts, NodeCni};
use std::path::{Path, PathBuf};

/// The folder of the multi-node layout holding one directory per node.
pub const NODES_DIR: &str = "nodes";

/// Most nodes read from one `nodes/` directory.
pub const MAX_NODES: usize = 1024;

/// Whether `path` is a directory in the multi-node layout (it holds `nodes/`).
pub fn is_multi_node(path: &Path) -> bool {
    path.join(NODES_DIR).is_dir()
}

/// Reads every node of the given paths: a multi-node directory gives its nodes, any other
/// path is one node. Each node's facts name the node and carry every node's CNI
/// configurations (`cluster_cni`); a node that could not be read is reported and left
/// out of the comparison, and so is a node whose capture holds no CNI files (unless it
/// has an empty `cni/` directory).
pub fn load_nodes(paths: &[PathBuf]) -> (Vec<HostFacts>, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut bundles: Vec<(String, PathBuf)> = Vec::new();
    for path in paths {
        let found = if is_multi_node(path) { node_dirs(path, &mut errors) } else { vec![(node_name(path), path.clone())] };
        for (name, dir) in found {
            if bundles.iter().any(|(n, _)| *n == name) {
                errors.push(LoadError::whole_input(&dir, format!("node `{name}` is given twice (nodes are named after their directory)")));
            } else {
                bundles.push((name, dir));
            }
        }
    }
    let mut nodes = Vec::new();
    let mut cluster = Vec::new();
    for (name, path) in bundles {
        let capture = if path.is_dir() { capture::from_dir(&path) } else { read_bundle(&path) };
        match capture {
            Ok(capture) => {
                let (mut facts, node_errors) = lower(&capture);
                errors.extend(node_errors);
                // A node without CNI files is compared only when its `cni/` directory was
                // captured empty: files left out of a capture are not an empty directory.
                if !facts.cni_configs.is_empty() || path.join(capture::CNI_DIR).is_dir() {
                    let origin = facts.origin.clone().unwrap_or_else(|| capture.origin.clone());
                    cluster.push(NodeCni { node: name.clone(), configs: facts.cni_configs.clone(), origin });
                }
                facts.node = Some(name);
                nodes.push(facts);
            }
            Err(e) => errors.push(e),
        }
    }
    for facts in &mut nodes {
        facts.cluster_cni = cluster.clone();
    }
    (nodes, errors)
}

/// The name of the node whose facts are at `path`.
fn node_name(path: &Path) -> String {
    let named = |p: &Path| {
        let name = if p.is_dir() { p.file_name() } else { p.file_stem() };
        name.and_then(|n| n.to_str()).map(str::to_string)
    };
    named(path).or_else(|| path.canonicalize().ok().as_deref().and_then(named)).unwrap_or_else(|| path.display().to_string())
}

/// The node directories of a multi-node directory, by name. Files beside `nodes/` and
/// entries of `nodes/` that are not directories are errors: they would be silently unread.
fn node_dirs(path: &Path, errors: &mut Vec<LoadError>) -> Vec<(String, PathBuf)> {
    let beside = capture::LAYOUT.iter().copied().chain([capture::CNI_DIR]).find(|name| path.join(name).exists());
    if let Some(name) = beside {
        errors.push(LoadError::whole_input(
            &path.join(name),
            format!("host facts beside `{NODES_DIR}/` are not read: move them into `{NODES_DIR}/<node-name>/`"),
        ));
    }
    let dir = path.join(NODES_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(LoadError::unreadable(&dir, format!("cannot read the nodes directory: {e}")));
            return Vec::new();
        }
    };
    let mut nodes = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            nodes.push((name, entry.path()));
        } else {
            errors.push(LoadError::whole_input(&entry.path(), "not a node directory: `nodes/` holds one directory per node"));
        }
    }
    nodes.sort();
    if nodes.is_empty() {
        errors.push(LoadError::empty(&dir, "no node directories in it (expected `nodes/<node-name>/` in the host facts layout)"));
    }
    if nodes.len() > MAX_NODES {
        errors.push(LoadError::whole_input(&dir, format!("more than {MAX_NODES} nodes; only the first {MAX_NODES} by name are read")));
        nodes.truncate(MAX_NODES);
    }
    nodes
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code
    use super::*;

    const CONFLIST: &str = r#"{"name": "pods", "cniVersion": "1.0.0", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}"#;

    fn node(root: &Path, name: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join(capture::CNI_DIR)).unwrap();
        std::fs::write(dir.join("cni/10-pods.conflist"), CONFLIST).unwrap();
        dir
    }

    fn names(nodes: &[HostFacts]) -> Vec<&str> {
        nodes.iter().filter_map(|n| n.node.as_deref()).collect()
    }

    #[test]
    fn a_nodes_directory_gives_every_node_with_all_cni_configs() {
        let root = tempfile::tempdir().unwrap();
        let nodes_dir = root.path().join(NODES_DIR);
        for name in ["worker-2", "worker-1", ".hidden"] {
            node(&nodes_dir, name);
        }
        assert!(is_multi_node(root.path()) && !is_multi_node(&nodes_dir));
        let (nodes, errors) = load_nodes(&[root.path().to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(&nodes), ["worker-1", "worker-2"]);
        for facts in &nodes {
            let cluster: Vec<(&str, usize)> = facts.cluster_cni.iter().map(|n| (n.node.as_str(), n.configs.len())).collect();
            assert_eq!(cluster, [("worker-1", 1), ("worker-2", 1)]);
        }
        assert_eq!(nodes[0].cluster_cni[0].in_effect().map(|c| c.plugins.clone()), Some(vec!["bridge".into(), "portmap".into()]));
        // `load_path` gives the first node, which still sees every node's configurations.
        let (first, errors) = super::super::load_path(root.path());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((first.node.as_deref(), first.cluster_cni.len()), (Some("worker-1"), 2));
    }

    #[test]
    fn several_paths_are_one_node_each_named_after_their_directory() {
        let root = tempfile::tempdir().unwrap();
        let a = node(root.path(), "node-a");
        let b = node(root.path(), "node-b");
        let (nodes, errors) = load_nodes(&[b.clone(), a.clone()]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(&nodes), ["node-b", "node-a"]);
        assert_eq!(nodes[1].cluster_cni.len(), 2);
        // The same node twice is an error at the second path, and read once.
        let (nodes, errors) = load_nodes(&[a.clone(), a.clone()]);
        assert_eq!(names(&nodes), ["node-a"]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("node `node-a` is given twice"), "{errors:?}");
        // A single host read alone is not named and compares with nobody.
        let (single, errors) = super::super::load_path(&a);
        assert!(errors.is_empty());
        assert_eq!((single.node, single.cluster_cni.len()), (None, 0));
    }

    #[test]
    fn broken_nodes_are_located_errors_and_left_out() {
        let root = tempfile::tempdir().unwrap();
        let nodes_dir = root.path().join(NODES_DIR);
        node(&nodes_dir, "good");
        let bad = node(&nodes_dir, "bad");
        std::fs::write(bad.join("cni/20-broken.conf"), [0xff_u8, 0xfe, b'{']).unwrap();
        std::fs::write(nodes_dir.join("stray.txt"), "").unwrap();
        std::fs::write(root.path().join("sysctl.txt"), "net.ipv4.ip_forward = 1\n").unwrap();
        let (nodes, errors) = load_nodes(&[root.path().to_path_buf()]);
        assert_eq!(names(&nodes), ["good"]);
        assert_eq!(nodes[0].cluster_cni.len(), 1, "the unreadable node is not compared");
        let found: Vec<(String, &str)> = errors
            .iter()
            .map(|e| (e.file.strip_prefix(root.path()).unwrap().display().to_string(), e.message.split(':').next().unwrap_or_default()))
            .collect();
        assert_eq!(
            found,
            [
                ("sysctl.txt".to_string(), "host facts beside `nodes/` are not read"),
                ("nodes/stray.txt".to_string(), "not a node directory"),
                ("nodes/bad/cni/20-broken.conf".to_string(), "not UTF-8 text"),
            ]
        );
        // A node captured without `cni/` is not compared; one with an empty `cni/` is.
        let partial = tempfile::tempdir().unwrap();
        let dir = partial.path().join(NODES_DIR);
        node(&dir, "full");
        for name in ["no-cni", "empty-cni"] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            std::fs::write(dir.join(name).join("sysctl.txt"), "net.ipv4.ip_forward = 1\n").unwrap();
        }
        std::fs::create_dir(dir.join("empty-cni/cni")).unwrap();
        let (nodes, errors) = load_nodes(&[partial.path().to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(&nodes), ["empty-cni", "full", "no-cni"]);
        let compared: Vec<&str> = nodes[0].cluster_cni.iter().map(|n| n.node.as_str()).collect();
        assert_eq!(compared, ["empty-cni", "full"]);
        // An empty `nodes/` says so.
        let empty = tempfile::tempdir().unwrap();
        std::fs::create_dir(empty.path().join(NODES_DIR)).unwrap();
        let (nodes, errors) = load_nodes(&[empty.path().to_path_buf()]);
        assert!(nodes.is_empty());
        assert!(errors.iter().any(|e| e.message.starts_with("no node directories")), "{errors:?}");
    }
}

//! `check --host-facts` with several nodes, end to end: the `nodes/<node-name>/` layout and
//! `--host-facts` given once per node (ND506 compares their CNI configurations), and nodes
//! whose facts cannot be read.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::path::{Path, PathBuf};
use std::process::Output;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn netdoctor(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run netdoctor")
}

const FIXTURES: &str = "crates/netdoctor-rules/tests/fixtures/ND506";

/// `(rule, file name relative to the nodes' root, line, message)` of each finding.
fn findings(out: &Output) -> Vec<(String, String, u64, String)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["location"]["file"].as_str().unwrap_or_default();
            let file = file.rsplit_once("nodes/").map_or(file, |(_, rest)| rest).to_string();
            (
                f["rule"].as_str().unwrap().to_string(),
                file,
                f["location"]["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_nodes_directory_is_compared_node_by_node() {
    let out =
        netdoctor(&["check", &format!("{FIXTURES}/fires.yaml"), "--host-facts", &format!("{FIXTURES}/fires.host"), "--select", "ND5"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!("check-host-facts-nodes-ND506", String::from_utf8_lossy(&out.stdout));
    let out =
        netdoctor(&["check", &format!("{FIXTURES}/quiet.yaml"), "--host-facts", &format!("{FIXTURES}/quiet.host"), "--select", "ND5"]);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).trim()), (Some(0), "no findings"));
}

#[test]
fn host_facts_given_once_per_node_is_the_same_as_a_nodes_directory() {
    let layout = netdoctor(&[
        "check",
        &format!("{FIXTURES}/fires.yaml"),
        "--host-facts",
        &format!("{FIXTURES}/fires.host"),
        "--select",
        "ND506",
        "--format",
        "json",
    ]);
    let mut args: Vec<String> =
        ["check", &format!("{FIXTURES}/fires.yaml"), "--select", "ND506", "--format", "json"].map(String::from).to_vec();
    for node in ["worker-3", "worker-1", "worker-2"] {
        args.extend(["--host-facts".to_string(), format!("{FIXTURES}/fires.host/nodes/{node}")]);
    }
    let flags = netdoctor(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(flags.status.code(), Some(1), "{}", String::from_utf8_lossy(&flags.stderr));
    assert_eq!(findings(&flags), findings(&layout));
    assert_eq!(
        findings(&flags).iter().map(|(rule, file, line, _)| (rule.as_str(), file.as_str(), *line)).collect::<Vec<_>>(),
        [("ND506", "worker-2/cni/10-calico.conflist", 13), ("ND506", "worker-3/cni/10-calico.conflist", 8)]
    );
}

const CONFLIST: &str = r#"{
  "name": "pods",
  "cniVersion": "1.0.0",
  "plugins": [{"type": "bridge", "ipam": {"type": "host-local", "subnet": "usePodCidr"}}, {"type": "portmap"}]
}
"#;

fn nodes(root: &Path, names: &[&str]) {
    for name in names {
        let cni = root.join("nodes").join(name).join("cni");
        std::fs::create_dir_all(&cni).unwrap();
        std::fs::write(cni.join("10-pods.conflist"), CONFLIST).unwrap();
    }
}

#[test]
fn an_unreadable_node_config_is_a_located_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    nodes(dir.path(), &["node-a", "node-b", "node-c"]);
    // Not UTF-8: the node cannot be read; the others are still compared.
    std::fs::write(dir.path().join("nodes/node-c/cni/20-extra.conf"), [0xff_u8, 0xfe, b'{']).unwrap();
    std::fs::write(dir.path().join("nodes/README"), "one directory per node\n").unwrap();
    let out = netdoctor(&["check", &format!("{FIXTURES}/quiet.yaml"), "--host-facts", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = Path::new(e["file"].as_str().unwrap()).strip_prefix(dir.path()).unwrap().display().to_string();
            (file, e["message"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(errors.len(), 2, "{report:#}");
    assert_eq!(errors[0].0, "nodes/README");
    assert!(errors[0].1.starts_with("not a node directory"), "{errors:?}");
    assert_eq!(errors[1].0, "nodes/node-c/cni/20-extra.conf");
    assert!(errors[1].1.starts_with("not UTF-8 text"), "{errors:?}");
    assert!(findings(&out).is_empty(), "{report:#}");
    // The text report names the file too.
    let out = netdoctor(&["check", &format!("{FIXTURES}/quiet.yaml"), "--host-facts", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("20-extra.conf"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_invalid_node_config_is_a_finding_on_that_node() {
    // A config the runtime cannot load is what the node holds, not an input error: ND507
    // reports it on its node (each node is checked), ND506 the directory that differs.
    let dir = tempfile::tempdir().unwrap();
    nodes(dir.path(), &["node-a", "node-b", "node-c"]);
    std::fs::write(
        dir.path().join("nodes/node-b/cni/05-old.conf"),
        "{\n  \"type\": \"bridge\",\n  \"name\": \"x\"\n  \"bridge\": \"cni0\"\n}\n",
    )
    .unwrap();
    let out = netdoctor(&[
        "check",
        &format!("{FIXTURES}/quiet.yaml"),
        "--host-facts",
        dir.path().to_str().unwrap(),
        "--select",
        "ND506,ND507",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let found = findings(&out);
    let at: Vec<(&str, &str, u64)> = found.iter().map(|(rule, file, line, _)| (rule.as_str(), file.as_str(), *line)).collect();
    assert_eq!(at, [("ND506", "node-b/cni/05-old.conf", 4), ("ND507", "node-b/cni/05-old.conf", 4)], "{found:#?}");
    assert!(
        found[0].3.starts_with("node node-b's CNI directory holds 05-old.conf, 10-pods.conflist; 2 other nodes hold 10-pods.conflist"),
        "{found:#?}"
    );
}

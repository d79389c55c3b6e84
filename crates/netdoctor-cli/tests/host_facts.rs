//! `check --host-facts` end to end, without root: captured host facts (the rule
//! fixtures' `*.host/` directories) applied to a project, broken facts, and usage errors.
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

const FIXTURES: &str = "crates/netdoctor-rules/tests/fixtures";

#[test]
fn host_facts_directory_applies_to_the_project() {
    let out = netdoctor(&[
        "check",
        &format!("{FIXTURES}/ND502/fires.yaml"),
        "--host-facts",
        &format!("{FIXTURES}/ND502/fires.host"),
        "--select",
        "ND5",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!("check-host-facts-ND502", String::from_utf8_lossy(&out.stdout));
    // Without host facts the same project has nothing to say about the host.
    let out = netdoctor(&["check", &format!("{FIXTURES}/ND502/fires.yaml"), "--select", "ND501,ND502,ND503,ND504,ND505,ND509"]);
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).trim()), (Some(0), "no findings"));
}

#[test]
fn broken_host_facts_exit_2_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("iptables-save.txt"),
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 80:x -j ACCEPT\nCOMMIT\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("sysctl.txt"), "net.ipv4.ip_forward = yes\n").unwrap();
    let out =
        netdoctor(&["check", &format!("{FIXTURES}/ND501/fires.yaml"), "--host-facts", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, u64, u64)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = Path::new(e["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
            (file, e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(errors, [("iptables-save.txt".to_string(), 3, 27), ("sysctl.txt".to_string(), 1, 23)], "{report:#}");
    let out = netdoctor(&["check", &format!("{FIXTURES}/ND501/fires.yaml"), "--host-facts", "/nonexistent/host.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/nonexistent/host.json"));
}

#[test]
fn usage_errors() {
    let out = netdoctor(&["check", "--host", "--host-facts", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = netdoctor(&["snapshot"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("snapshot --host"));
}

#[test]
fn broken_nft_json_and_ip_rules_exit_2_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Pretty-printed as `nft -j list ruleset | jq` would: the bad address is in the rule on line 5.
    std::fs::write(
        dir.path().join("nft.json"),
        "{\"nftables\": [\n {\"table\": {\"family\": \"inet\", \"name\": \"f\"}},\n {\"chain\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"forward\", \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}},\n\n {\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"forward\", \"handle\": 4, \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"172.30.0.300\"}}, {\"accept\": null}]}}\n]}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ip-rule.json"),
        "[{\"priority\": 0, \"src\": \"all\", \"table\": \"local\"},\n {\"src\": \"all\", \"table\": \"main\"}]",
    )
    .unwrap();
    let out =
        netdoctor(&["check", &format!("{FIXTURES}/ND501/fires.yaml"), "--host-facts", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, u64, u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let file = Path::new(e["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
            (file, e["line"].as_u64().unwrap(), e["column"].as_u64().unwrap(), e["message"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("ip-rule.json".to_string(), 2, 2, "rule without a numeric `priority`".to_string()),
            ("nft.json".to_string(), 5, 2, "`172.30.0.300` is not an address, prefix or range (in `ip saddr 172.30.0.300`)".to_string()),
        ],
        "{report:#}"
    );
    // Not JSON at all: the parser's position.
    std::fs::write(dir.path().join("nft.json"), "{\"nftables\": [\n  {\"table\": }\n]}").unwrap();
    std::fs::remove_file(dir.path().join("ip-rule.json")).unwrap();
    let out =
        netdoctor(&["check", &format!("{FIXTURES}/ND501/fires.yaml"), "--host-facts", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["errors"][0]["line"].as_u64(), report["errors"][0]["column"].as_u64()), (Some(2), Some(13)), "{report:#}");
}

/// Messages of the findings of one rule, as `(severity, message)`.
fn findings_of(report: &serde_json::Value, rule: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| (f["severity"].as_str().unwrap().to_string(), f["message"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn a_kubernetes_node_is_checked_against_its_routes() {
    let out = netdoctor(&["check", "examples/k8s-vpn-node", "--host-facts", "examples/k8s-vpn-node/host", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
    let pod = "pod range 10.244.0.0/16 (kubeadm-config networking.podSubnet)";
    let service = "service range 10.96.0.0/12 (kubeadm-config networking.serviceSubnet)";
    assert_eq!(
        findings_of(&report, "ND202"),
        [
            ("error".to_string(), format!("{pod} overlaps VPN route `10.0.0.0/8 dev tun0`")),
            ("error".to_string(), format!("{pod} overlaps external range `build-farm` (10.244.200.0/24)")),
            ("warning".to_string(), format!("{service} overlaps VPN route `10.0.0.0/8 dev tun0`")),
        ],
        "{report:#}"
    );
    // The pod network's own routes (cni0, flannel.1 to node-b) are not reported.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("cni0") && !text.contains("flannel.1"), "{text}");
}

#[test]
fn cluster_ranges_can_be_declared_in_netdoctor_toml() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDR: 10.42.0.0/24}\nstatus: {addresses: [{type: InternalIP, address: 10.43.0.7}]}\n";
    std::fs::write(dir.path().join("nodes.yaml"), manifest).unwrap();
    std::fs::write(dir.path().join("netdoctor.toml"), "pod_cidrs = [\"10.42.0.0/16\"]\nservice_cidrs = [\"10.43.0.0/16\"]\n").unwrap();
    let out = netdoctor(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        findings_of(&report, "ND201"),
        [(
            "error".to_string(),
            "service range 10.43.0.0/16 (netdoctor.toml service_cidrs) holds node addresses: 10.43.0.7 of node n1".to_string()
        )],
        "{report:#}"
    );
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "ND201").unwrap();
    assert!(finding["location"]["file"].as_str().unwrap().ends_with("netdoctor.toml"), "{finding:#}");
    assert_eq!(finding["location"]["line"], 2);

    // A range that is not a CIDR is an error in the file, exit 2.
    std::fs::write(dir.path().join("netdoctor.toml"), "pod_cidrs = [\"10.42.0.0/16\", \"ten-forty-two\"]\n").unwrap();
    let out = netdoctor(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("netdoctor.toml:1:") && text.contains("`ten-forty-two` is not a CIDR such as 10.244.0.0/16"), "{text}");
}

/// A node recorded from the reference CNI plugins (crates/netdoctor-sources/tests/host/
/// cni-bridge-portmap): a clean host for a kubeadm cluster with that pod range, so every
/// host and range rule stays quiet.
#[test]
fn a_recorded_cni_node_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: kube-system}\ndata:\n  ClusterConfiguration: |\n    networking:\n      podSubnet: 10.244.0.0/16\n      serviceSubnet: 10.96.0.0/12\n---\napiVersion: v1\nkind: Node\nmetadata: {name: node-b}\nspec: {podCIDR: 10.244.1.0/24}\nstatus: {addresses: [{type: InternalIP, address: 192.0.2.11}]}\n";
    std::fs::write(dir.path().join("cluster.yaml"), manifest).unwrap();
    let out = netdoctor(&[
        "check",
        dir.path().to_str().unwrap(),
        "--host-facts",
        "crates/netdoctor-sources/tests/host/cni-bridge-portmap",
        "--select",
        "ND2,ND5,ND6",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["errors"].clone(), report["findings"].clone()), (serde_json::json!([]), serde_json::json!([])), "{report:#}");
    assert_eq!(out.status.code(), Some(0));
}

/// The recorded CNI node with Docker's FORWARD DROP policy: the firewall plugin accepts
/// each pod it set up by address, so a pod read with its address (a `kubectl get -o yaml`
/// dump) is judged by its own rule: 10.244.0.2 passes, an address the plugin never
/// accepted is dropped by the policy, named.
#[test]
fn a_pod_read_with_its_address_is_traced_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("host");
    std::fs::create_dir_all(facts.join("cni")).unwrap();
    let recorded = repo().join("crates/netdoctor-sources/tests/host/cni-bridge-portmap");
    for entry in std::fs::read_dir(&recorded).unwrap().chain(std::fs::read_dir(recorded.join("cni")).unwrap()) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let relative = path.strip_prefix(&recorded).unwrap();
            let text = std::fs::read_to_string(&path).unwrap().replace(":FORWARD ACCEPT", ":FORWARD DROP");
            std::fs::write(facts.join(relative), text).unwrap();
        }
    }
    let cluster = |pod_ip: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kubeadm-config, namespace: kube-system}}\ndata:\n  ClusterConfiguration: |\n    networking:\n      podSubnet: 10.244.0.0/16\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web-1, namespace: shop}}\nspec: {{containers: [{{name: web, image: nginx}}]}}\nstatus: {{podIP: {pod_ip}}}\n"
        )
    };
    let nd501 = |pod_ip: &str| {
        std::fs::write(dir.path().join("cluster.yaml"), cluster(pod_ip)).unwrap();
        let out = netdoctor(&[
            "check",
            dir.path().join("cluster.yaml").to_str().unwrap(),
            "--host-facts",
            facts.to_str().unwrap(),
            "--select",
            "ND501",
            "--format",
            "json",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
        findings_of(&report, "ND501")
    };
    assert_eq!(nd501("10.244.0.2"), Vec::<(String, String)>::new());
    assert_eq!(
        nd501("10.244.0.9"),
        [(
            "error".to_string(),
            "pod shop/web-1 (10.244.0.9) on `cni0` reaching outside (tcp/443): dropped by the DROP policy of filter FORWARD".to_string()
        )]
    );
}

/// `why` between a container and an address outside the project: an outside client to a
/// published port (loopback-only and unpublished ports fail at layer 1; DOCKER-USER's
/// reject of the port at layer 5), and a container to an outside address (DOCKER-USER's
/// drop of the VPN range at layer 5; an address inside another Docker network's subnet
/// at layer 2).
#[test]
fn why_between_a_container_and_an_outside_address() {
    let why = |args: &[&str]| {
        let mut all = vec!["why"];
        all.extend_from_slice(args);
        all.extend(["--format", "json"]);
        let out = netdoctor(&all);
        let doc: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), doc)
    };
    let failing = |doc: &serde_json::Value| {
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["status"] == "fail")
            .map(|s| (s["layer"].as_u64().unwrap(), s["evidence"][0].as_str().unwrap().to_string()))
    };
    let exposed = "examples/exposed-database/compose.yaml";
    let (code, doc) = why(&["203.0.113.10", "postgres", "--port", "tcp/5432", "-f", exposed]);
    assert_eq!((code, doc["steps"][0]["status"].as_str(), doc["verdict"].as_str()), (Some(0), Some("pass"), Some("unknown")), "{doc:#}");
    let (code, doc) = why(&["203.0.113.10", "app", "--port", "tcp/3000", "-f", exposed]);
    assert_eq!(code, Some(1), "{doc:#}");
    let (layer, evidence) = failing(&doc).unwrap();
    assert_eq!(layer, 1);
    assert!(evidence.contains("publishes tcp/3000 on 127.0.0.1 only"), "{evidence}");
    let (_, doc) = why(&["203.0.113.10", "redis", "--port", "tcp/5432", "-f", exposed]);
    assert!(failing(&doc).unwrap().1.contains("publishes no tcp/5432 on the host (it publishes 6379->6379/tcp)"), "{doc:#}");

    let project = format!("{FIXTURES}/ND502/fires.yaml");
    let facts = format!("{FIXTURES}/ND502/fires.host");
    let (code, doc) = why(&["203.0.113.10", "web", "--port", "tcp/8080", "-f", &project, "--host-facts", &facts]);
    assert_eq!(code, Some(1), "{doc:#}");
    let (layer, evidence) = failing(&doc).unwrap();
    assert_eq!(layer, 5);
    assert!(evidence.contains("rejected by filter DOCKER-USER rule 1 (line 27"), "{evidence}");
    let (_, doc) = why(&["api", "172.16.5.5", "--port", "tcp/443", "-f", &project, "--host-facts", &facts]);
    let (layer, evidence) = failing(&doc).unwrap();
    assert_eq!(layer, 5);
    assert!(evidence.contains("dropped by filter DOCKER-USER rule 2 (line 28"), "{evidence}");
    assert_eq!(doc["steps"][1]["evidence"][0], "the host routes 172.16.5.5 out of `eth0`", "{doc:#}");
    let (_, doc) = why(&["web", "172.31.0.9", "--port", "tcp/443", "-f", &project, "--host-facts", &facts]);
    let (layer, evidence) = failing(&doc).unwrap();
    assert_eq!(layer, 2);
    assert!(evidence.contains("inside the subnet of Docker network `nd502_back`"), "{evidence}");
    // Without host facts, the host's layers are unknown, not passed.
    let (_, doc) = why(&["api", "172.16.5.5", "--port", "tcp/443", "-f", &project]);
    assert_eq!((doc["steps"][4]["status"].as_str(), doc["verdict"].as_str()), (Some("unknown"), Some("unknown")), "{doc:#}");
}

/// An end given by a workload's own address (a static `ipv4_address`) is that workload,
/// reached by address, not an outside host.
#[test]
fn a_workload_address_is_that_workload() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  web:\n    image: nginx\n    networks: {app: {ipv4_address: 172.30.9.5}}\n  db:\n    image: postgres\n    networks: {app: {ipv4_address: 172.30.9.6}}\nnetworks:\n  app:\n    ipam: {config: [{subnet: 172.30.9.0/24}]}\n",
    )
    .unwrap();
    let out = netdoctor(&["why", "web", "172.30.9.6", "--port", "tcp/5432", "-f", file.to_str().unwrap(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["steps"][0]["evidence"][0], "`172.30.9.6` is the address of `db`", "{doc:#}");
    assert_eq!(doc["steps"][2]["status"], "skip", "{doc:#}");
}

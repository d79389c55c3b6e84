//! End-to-end tests of `netdoctor why` over Kubernetes manifests, on the hand-made
//! broken cluster in `examples/k8s-shop`: each of its breakages fails at the layer it
//! belongs to, names the policy rule involved, and proposes the smallest change.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/k8s-shop")
}

/// Runs `why FROM TO --port PORT examples/k8s-shop --format json`: (exit code, document).
fn why(from: &str, to: &str, port: &str) -> (i32, Value) {
    json_of(Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(["why", from, to, "--port", port, "--format", "json"]).arg(example()))
}

/// Runs a `--format json` command: (exit code, document).
fn json_of(command: &mut Command) -> (i32, Value) {
    let out = command.output().expect("run netdoctor");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: not JSON:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

/// The failing step: (layer, its evidence joined, its rules, its fix).
fn failure(doc: &Value) -> (u64, String, Vec<String>, String) {
    let steps = doc["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 5, "one step per layer: {doc:#}");
    let step = steps.iter().find(|s| s["status"] == "fail").unwrap_or_else(|| panic!("no failing layer: {doc:#}"));
    let evidence: Vec<&str> = step["evidence"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let rules = step["rules"].as_array().unwrap().iter().filter_map(|r| r.as_str().map(String::from)).collect();
    (step["layer"].as_u64().unwrap(), evidence.join("\n"), rules, step["fix"].as_str().unwrap_or_default().to_string())
}

#[test]
fn egress_default_deny_that_forgets_dns_fails_at_layer_3() {
    let (code, doc) = why("shop/web", "api", "tcp/80");
    assert_eq!((code, doc["verdict"].as_str()), (1, Some("denied")), "{doc:#}");
    let (layer, evidence, rules, fix) = failure(&doc);
    assert_eq!(layer, 3, "{doc:#}");
    assert!(evidence.contains("shop/web-egress") && evidence.contains("UDP 53"), "{evidence}");
    assert!(rules.contains(&"ND303".to_string()), "{rules:?}");
    assert!(fix.contains("k8s-app: kube-dns") && fix.contains("{protocol: TCP, port: 53}"), "{fix}");
    // The policy layer itself allows web -> api on the container port the Service maps to.
    assert_eq!(doc["steps"][3]["status"], "pass", "{doc:#}");
    assert!(doc["steps"][0]["evidence"].to_string().contains("container port 8080"), "{doc:#}");
}

#[test]
fn label_typo_on_the_source_names_the_label_and_the_rule() {
    let (code, doc) = why("billing/invoicer", "db.data", "tcp/5432");
    assert_eq!(code, 1);
    let (layer, evidence, rules, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("data/db-ingress") && evidence.contains("role=client (has role=clinet)"), "{evidence}");
    assert!(rules.contains(&"ND401".to_string()), "{rules:?}");
    assert!(fix.contains("role: client") && fix.contains("billing/invoicer"), "{fix}");
}

#[test]
fn namespace_selector_on_a_label_the_namespace_lacks() {
    let (code, doc) = why("reporting/nightly-report", "db.data", "tcp/5432");
    assert_eq!(code, 1);
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("name=reporting (no `name` label)"), "{evidence}");
    assert!(fix.contains("kubectl label namespace reporting name=reporting"), "{fix}");
}

#[test]
fn named_port_the_destination_does_not_declare() {
    let (code, doc) = why("shop/api", "cache.data", "tcp/6379");
    assert_eq!(code, 1);
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("`redis-port`") && evidence.contains("redis=6379/tcp"), "{evidence}");
    assert!(fix.contains("name: redis-port") && fix.contains("6379"), "{fix}");
}

#[test]
fn ip_block_except_covering_the_destination() {
    let (code, doc) = why("payments/gateway", "10.20.5.7", "tcp/443");
    assert_eq!(code, 1);
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("except 10.20.0.0/16 covers 10.20.5.7"), "{evidence}");
    assert!(fix.contains("10.20.5.7/32"), "{fix}");
    // DNS is allowed there (the policy allows UDP and TCP 53 to kube-dns), and an
    // address needs no lookup anyway.
    assert_eq!(doc["steps"][2]["status"], "skip", "{doc:#}");
    // Outside the except the same rule allows.
    let (code, doc) = why("payments/gateway", "10.30.0.1", "tcp/443");
    assert_eq!((code, doc["verdict"].as_str()), (0, Some("unknown")), "no listener is known for an address: {doc:#}");
    assert_eq!(doc["steps"][3]["status"], "pass", "{doc:#}");
}

#[test]
fn allowed_flow_and_a_bare_name_from_another_namespace() {
    let (code, doc) = why("shop/api", "db.data.svc.cluster.local", "tcp/5432");
    assert_eq!((code, doc["verdict"].as_str()), (0, Some("allowed")), "{doc:#}");
    let policy = doc["steps"][3]["evidence"].to_string();
    assert!(policy.contains("data/db-ingress") && policy.contains("ingress rule 1"), "{policy}");
    // `db` from namespace shop means db.shop: layer 3 says which name to use.
    let (code, doc) = why("shop/api", "db", "tcp/5432");
    assert_eq!(code, 1);
    let (layer, _, _, fix) = failure(&doc);
    assert_eq!(layer, 3);
    assert!(fix.contains("db.data"), "{fix}");
}

/// ICMP (`--port icmp`): NetworkPolicy can allow it only through a rule without ports,
/// and a Service's ClusterIP forwards only its ports.
#[test]
fn icmp_is_judged_by_the_rules_that_can_allow_it() {
    let (code, doc) = why("shop/web", "payments/gateway", "icmp");
    assert_eq!((code, doc["port"].as_str()), (1, Some("icmp/8/0")), "{doc:#}");
    let (layer, evidence, rules, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("shop/web-egress") && evidence.contains("icmp/8/0"), "{evidence}");
    assert!(rules.contains(&"ND401".to_string()), "{rules:?}");
    assert!(fix.contains("NetworkPolicy cannot name ICMP") && !fix.contains("ports:"), "{fix}");
    assert_eq!(doc["listener"]["status"], "skip", "{doc:#}");
    // A rule with ports is the nearest miss: it can never allow ICMP.
    let (_, doc) = why("shop/api", "data/db", "icmp");
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("names ports, and NetworkPolicy allows ICMP only in a rule without `ports`"), "{evidence}");
    assert!(fix.contains("no `ports`"), "{fix}");
    // Through the Service: layer 1 says ICMP does not go through a ClusterIP.
    let (code, doc) = why("shop/web", "api", "icmp/8");
    assert_eq!(code, 1);
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 1, "{doc:#}");
    assert!(evidence.contains("forwards only its ports"), "{evidence}");
    assert!(fix.contains("shop/api[Deployment]"), "{fix}");
}

/// `why` from a client outside the cluster (`examples/k8s-edge`): through a LoadBalancer
/// to the pods, judged by the ipBlock and its `except`; a ClusterIP is not reachable from
/// outside; a bare name has no namespace to resolve in.
#[test]
fn a_client_outside_the_cluster_is_judged_by_ip_blocks_and_exposure() {
    let edge = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/k8s-edge");
    let run = |from: &str, to: &str, port: &str| {
        json_of(Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(["why", from, to, "--port", port, "--format", "json"]).arg(&edge))
    };
    let (code, doc) = run("203.0.113.10", "shop/web-public", "tcp/80");
    assert_eq!((code, doc["verdict"].as_str()), (0, Some("allowed")), "{doc:#}");
    assert!(doc["steps"][0]["evidence"].to_string().contains("is a LoadBalancer"), "{doc:#}");
    assert!(doc["steps"][3]["evidence"].to_string().contains("shop/web-from-partner"), "{doc:#}");
    // The except covers the upper half of the partner's range: the nearest rule says so.
    let (code, doc) = run("203.0.113.200", "shop/web-public", "tcp/80");
    assert_eq!(code, 1, "{doc:#}");
    let (layer, evidence, rules, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(evidence.contains("its except 203.0.113.128/25 covers 203.0.113.200"), "{evidence}");
    assert!(rules.contains(&"ND401".to_string()), "{rules:?}");
    assert!(fix.contains("203.0.113.200/32"), "{fix}");
    // A whole network: the except splits it, and the walk shown is the denied half's.
    let (code, doc) = run("203.0.113.0/24", "shop/web-public", "tcp/80");
    assert_eq!((code, doc["verdict"].as_str()), (1, Some("denied")), "{doc:#}");
    assert_eq!(
        doc["steps"][0]["evidence"][0],
        "203.0.113.0/24 gets different answers: 203.0.113.0–203.0.113.127 allowed, 203.0.113.128–203.0.113.255 denied; the layers below are for 203.0.113.128–203.0.113.255",
        "{doc:#}"
    );
    let (code, doc) = run("203.0.113.0/25", "shop/web-public", "tcp/80");
    assert_eq!((code, doc["verdict"].as_str()), (0, Some("allowed")), "{doc:#}");
    // Outside the ipBlock altogether: the fix adds the client's address.
    let (_, doc) = run("198.51.100.7", "shop/web", "tcp/8080");
    let (layer, _, _, fix) = failure(&doc);
    assert_eq!(layer, 4, "{doc:#}");
    assert!(fix.contains("- ipBlock: {cidr: 198.51.100.7/32}"), "{fix}");
    // A ClusterIP Service is not reachable from outside.
    let (code, doc) = run("203.0.113.10", "shop/web-internal", "tcp/80");
    assert_eq!(code, 1);
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 1, "{doc:#}");
    assert!(evidence.contains("reachable only inside the cluster") && fix.contains("type: LoadBalancer"), "{evidence} / {fix}");
    // A bare name: no namespace to look it up in.
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["why", "203.0.113.10", "web-public", "--port", "tcp/80"])
        .arg(&edge)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name it as namespace/name"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Named as a workload, reached through its Service: layer 3 checks the lookup the
/// client makes (here cut by the client's egress default-deny, ND303), not "skip".
#[test]
fn a_workload_reached_through_its_service_is_looked_up() {
    let (code, doc) = why("shop/web", "shop/api", "tcp/8080");
    assert_eq!(code, 1, "{doc:#}");
    let (layer, evidence, rules, _) = failure(&doc);
    assert_eq!(layer, 3, "{doc:#}");
    assert!(evidence.contains("the client looks up api.shop.svc.cluster.local"), "{evidence}");
    assert!(rules.contains(&"ND303".to_string()), "{rules:?}");
    // Through its Service, with DNS allowed: the lookup passes.
    let (_, doc) = why("shop/api", "data/db", "tcp/5432");
    assert_eq!(doc["steps"][2]["status"], "pass", "{doc:#}");
    assert!(doc["steps"][2]["evidence"].to_string().contains("db.data.svc.cluster.local"), "{doc:#}");
}

#[test]
fn unknown_names_and_missing_manifests_exit_2_with_a_suggestion() {
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["why", "shop/wbe", "api", "--port", "80"])
        .arg(example())
        .output()
        .expect("run netdoctor");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean shop/web?"), "{stderr}");
    let empty = tempfile::tempdir().expect("tempdir");
    std::fs::write(empty.path().join("notes.txt"), "not yaml").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["why", "a", "b", "--port", "80"])
        .arg(empty.path())
        .output()
        .expect("run netdoctor");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no Kubernetes objects"));
}

/// `why` over examples/k8s-shop plus `extra` (a manifest giving the pod range and node-b),
/// with the host facts of a node: (exit code, document).
fn why_on_node(extra: &str, host_facts: &std::path::Path, from: &str, to: &str, port: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(example()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(extra, dir.path().join("node.yaml")).unwrap();
    json_of(
        Command::new(env!("CARGO_BIN_EXE_netdoctor"))
            .args(["why", from, to, "--port", port, "--format", "json", "--host-facts"])
            .arg(host_facts)
            .arg(dir.path()),
    )
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../netdoctor-rules/tests/fixtures")
}

#[test]
fn on_a_node_layers_2_and_5_use_its_routes_and_firewall() {
    let nd501 = fixtures().join("ND501");
    let manifest = nd501.join("fires-k8s-node.yaml");
    // Docker's FORWARD DROP on the node: layer 5 names the policy.
    let (code, doc) =
        why_on_node(manifest.to_str().unwrap(), &nd501.join("fires-k8s-node.host"), "shop/api", "db.data.svc.cluster.local", "tcp/5432");
    assert_eq!((code, doc["verdict"].as_str()), (1, Some("denied")), "{doc:#}");
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 5, "{doc:#}");
    assert!(evidence.contains("dropped by the DROP policy of filter FORWARD"), "{evidence}");
    assert!(fix.contains("iptables -I FORWARD -s 10.244.0.0/16 -j ACCEPT"), "{fix}");
    let ip = doc["steps"][1]["evidence"].to_string();
    assert_eq!(doc["steps"][1]["status"], "pass", "{doc:#}");
    assert!(ip.contains("pods on `cni0` (10.244.0.0/24)") && ip.contains("via `flannel.1`"), "{ip}");
    // flannel's own accepts: allowed, and layer 5 names the rule that accepts.
    let (code, doc) =
        why_on_node(manifest.to_str().unwrap(), &nd501.join("quiet-k8s-node.host"), "shop/api", "db.data.svc.cluster.local", "tcp/5432");
    assert_eq!((code, doc["verdict"].as_str()), (0, Some("allowed")), "{doc:#}");
    assert!(doc["steps"][4]["evidence"].to_string().contains("accepted by filter FLANNEL-FWD rule 1"), "{doc:#}");
}

#[test]
fn on_a_node_whose_vpn_takes_the_pod_range_layer_2_names_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixtures().join("ND501/quiet-k8s-node.host");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    // No route to node-b's pods through flannel.1: a VPN's 10.0.0.0/8 catches them.
    let routes = r#"[
  {"dst": "default", "gateway": "10.0.1.1", "dev": "eth0", "protocol": "dhcp", "flags": []},
  {"dst": "10.0.0.0/8", "dev": "tun0", "scope": "link", "flags": []},
  {"dst": "10.0.1.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.1.5", "flags": []},
  {"dst": "10.244.0.0/24", "dev": "cni0", "protocol": "kernel", "scope": "link", "prefsrc": "10.244.0.1", "flags": []}
]
"#;
    std::fs::write(dir.path().join("ip-route.json"), routes).unwrap();
    let manifest = fixtures().join("ND501/fires-k8s-node.yaml");
    let (code, doc) = why_on_node(manifest.to_str().unwrap(), dir.path(), "shop/api", "db.data.svc.cluster.local", "tcp/5432");
    assert_eq!(code, 1, "{doc:#}");
    let (layer, evidence, _, fix) = failure(&doc);
    assert_eq!(layer, 2, "{doc:#}");
    assert!(evidence.contains("out of `tun0` by route `10.0.0.0/8 dev tun0`, not into the pod network"), "{evidence}");
    assert!(fix.contains("exclude the pod range 10.244.0.0/16"), "{fix}");
    // Without host facts, layers 2 and 5 say how to check them.
    let (_, doc) = why("shop/api", "db.data.svc.cluster.local", "tcp/5432");
    assert!(doc["steps"][1]["evidence"].to_string().contains("`--host` on a node checks them"), "{doc:#}");
}

#[test]
fn with_several_nodes_src_runs_on_the_node_named_by_node() {
    // node-a drops forwarded pod traffic, node-b's flannel accepts it.
    let facts = tempfile::tempdir().unwrap();
    for (node, source) in [("node-a", "fires-k8s-node.host"), ("node-b", "quiet-k8s-node.host")] {
        let to = facts.path().join("nodes").join(node);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(fixtures().join("ND501").join(source)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    let manifests = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(example()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, manifests.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(fixtures().join("ND501/fires-k8s-node.yaml"), manifests.path().join("node.yaml")).unwrap();
    let run = |node: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_netdoctor"));
        command.args(["why", "shop/api", "db.data.svc.cluster.local", "--port", "tcp/5432", "--format", "json", "--host-facts"]);
        command.arg(facts.path()).arg(manifests.path());
        if let Some(node) = node {
            command.args(["--node", node]);
        }
        command.output().expect("run netdoctor")
    };
    let verdict = |out: &std::process::Output| {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        doc["verdict"].as_str().map(str::to_string)
    };
    // The first node by name, and a note saying so.
    let out = run(None);
    assert_eq!(verdict(&out).as_deref(), Some("denied"), "{}", String::from_utf8_lossy(&out.stderr));
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("nodes `node-a`, `node-b`: SRC is taken to run on `node-a`") && note.contains("--node"), "{note}");
    let out = run(Some("node-b"));
    assert_eq!(verdict(&out).as_deref(), Some("allowed"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("note:"));
    let out = run(Some("node-c"));
    assert_eq!(out.status.code(), Some(2));
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("--node node-c: the host facts hold no node of that name (nodes: node-a, node-b)"), "{error}");
}

/// DST as a network (`examples/k8s-shop`): the gateway's egress ipBlock 10.0.0.0/8 with
/// `except: [10.20.0.0/16]` splits 10.0.0.0/8 into three ranges; the lab range is denied
/// and shown, the others listed with their answers.
#[test]
fn a_destination_network_is_walked_range_by_range() {
    let (code, doc) = why("payments/gateway", "10.0.0.0/8", "tcp/443");
    assert_eq!((code, doc["verdict"].as_str()), (1, Some("denied")), "{doc:#}");
    assert_eq!(
        doc["steps"][0]["evidence"][0],
        "10.0.0.0/8 gets different answers: 10.0.0.0–10.19.255.255 unknown, 10.20.0.0–10.20.255.255 denied, 10.21.0.0–10.255.255.255 unknown; the layers below are for 10.20.0.0–10.20.255.255",
        "{doc:#}"
    );
    let (code, doc) = why("payments/gateway", "10.21.0.0/16", "tcp/443");
    assert_eq!((code, doc["steps"][3]["status"].as_str()), (0, Some("pass")), "{doc:#}");
}

//! The policy examples of Calico's and Cilium's own documentation
//! (`tests/fixtures/cni-docs/`, see its README), with the verdicts the documentation
//! states, through the policy engine as `why` and `matrix` use it.
//!
//! Every verdict must be the documented one, except flows listed with the reason:
//! `CALICO_DIFFERENCES`, and `CILIUM_UNKNOWN` where the verdict depends on what the
//! analysis cannot see (DNS answers, L7 requests, which node runs a pod) and netdoctor
//! says `unknown`. A listed flow must still need its listing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use netdoctor_engine::policy::{Conn, Endpoint, Ipv4Range, PolicyEngine, PolicyOptions};
use netdoctor_model::Protocol;
use netdoctor_sources::k8s;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Flows where netdoctor knowingly answers otherwise: case, from, to, port, and why.
const CALICO_DIFFERENCES: &[(&str, &str, &str, &str, &str)] = &[
    // The page protects hosts: its policies set `doNotTrack`, which Calico's
    // GlobalNetworkPolicy reference limits to host endpoints. The fixture applies them to a
    // pod; netdoctor reads them as host-endpoint policies (with a warning) that select no pod.
    ("globalnetworkset-deny-list", "203.0.113.9", "default/protected", "tcp/80", "doNotTrack policies select host endpoints only"),
    ("globalnetworkset-deny-list", "192.0.2.55", "default/protected", "tcp/80", "doNotTrack policies select host endpoints only"),
];

/// Cilium flows netdoctor answers `unknown`: case, from, to, port, and why.
const CILIUM_UNKNOWN: &[(&str, &str, &str, &str, &str)] = &[
    ("enable-default-deny-false", "default/app", "kube-system/coredns", "udp/53", "a DNS L7 rule decides which queries pass"),
    ("from-requires", "default/prod-frontend", "default/prod-api", "tcp/8080", "fromRequires is not evaluated"),
    ("from-requires", "default/dev-frontend", "default/prod-api", "tcp/8080", "fromRequires is not evaluated"),
    ("from-requires", "default/prod-worker", "default/prod-api", "tcp/8080", "fromRequires is not evaluated"),
    ("to-entities-host", "default/dev-app", "172.18.0.2", "tcp/10250", "which node runs the pod (host or remote-node) is not known"),
    ("to-entities-host", "default/dev-app", "172.18.0.3", "tcp/10250", "which node runs the pod (host or remote-node) is not known"),
    ("to-fqdns", "default/test-app", "kube-system/coredns", "udp/53", "a DNS L7 rule decides which queries pass"),
    ("to-fqdns", "default/test-app", "kube-system/coredns", "tcp/53", "a DNS L7 rule decides which queries pass"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cni-docs")
}

#[derive(Debug)]
struct Flow {
    from: String,
    to: String,
    port: String,
    verdict: String,
}

/// The flows of `expect.yaml` (a list of flat mappings; read line by line, as the file is
/// written in one shape).
fn flows(path: &Path) -> Vec<Flow> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<Flow> = Vec::new();
    let value = |line: &str| line.split_once(':').map(|(_, v)| v.trim().trim_matches('"').to_string()).unwrap_or_default();
    for line in text.lines() {
        let t = line.trim_start_matches("- ").trim();
        if line.starts_with("- from:") {
            out.push(Flow { from: value(t), to: String::new(), port: String::new(), verdict: String::new() });
        } else if let Some(f) = out.last_mut() {
            if t.starts_with("to:") {
                f.to = value(t);
            } else if t.starts_with("port:") {
                f.port = value(t);
            } else if t.starts_with("verdict:") {
                f.verdict = value(t).split_whitespace().next().unwrap_or_default().to_string();
            }
        }
    }
    assert!(!out.is_empty() && out.iter().all(|f| !f.to.is_empty() && !f.port.is_empty()), "{}: {out:?}", path.display());
    out
}

/// netdoctor's verdict on one flow: `unknown` where something not evaluated can change it.
fn verdict(engine: &PolicyEngine<'_>, flow: &Flow) -> String {
    let end = |name: &str, ingress_side: bool| -> Endpoint {
        if let Ok(ip) = name.parse::<Ipv4Addr>() {
            let parts = if ingress_side { &engine.ingress_ips } else { &engine.egress_ips };
            return Endpoint::External(parts.part_of(ip).unwrap_or_else(|| Ipv4Range::single(ip)));
        }
        let w = engine.find_workload(name).unwrap_or_else(|| panic!("no workload {name}"));
        Endpoint::Class(engine.workloads[w].class)
    };
    let (src, dst) = (end(&flow.from, true), end(&flow.to, false));
    let conn: Conn = flow.port.parse().unwrap();
    if !engine.uncertain_on(src, dst, conn).is_empty() {
        return "unknown".into();
    }
    if engine.allowed(src, dst).allows(conn) { "allowed" } else { "denied" }.into()
}

fn cases(cni: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(cni)).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    dirs
}

/// Loads a case (both manifests) and answers every flow: (flow, documented, netdoctor's).
fn run(dir: &Path) -> Vec<(Flow, String)> {
    let mut cluster = netdoctor_model::k8s::Cluster::default();
    for file in ["cluster.yaml", "policy.yaml"] {
        let loaded = k8s::load(&dir.join(file));
        assert!(loaded.errors.is_empty(), "{}: {:?}", dir.display(), loaded.errors);
        cluster.extend(loaded.cluster);
    }
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    flows(&dir.join("expect.yaml")).into_iter().map(|f| (verdict(&engine, &f), f)).map(|(v, f)| (f, v)).collect()
}

#[test]
fn calico_documentation_examples_give_the_documented_verdicts() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for dir in cases("calico") {
        let case = dir.file_name().unwrap().to_string_lossy().to_string();
        for (flow, got) in run(&dir) {
            checked += 1;
            let listed = CALICO_DIFFERENCES.iter().any(|d| d.0 == case && d.1 == flow.from && d.2 == flow.to && d.3 == flow.port);
            // A listed difference must still differ.
            if (got == flow.verdict) == listed {
                wrong.push(format!("{case}: {} -> {} {}: documented {}, netdoctor {got}", flow.from, flow.to, flow.port, flow.verdict));
            }
        }
    }
    eprintln!("Calico documentation examples: {checked} flows, {} wrong", wrong.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn cilium_documentation_examples_give_the_documented_verdicts() {
    let mut wrong = Vec::new();
    let (mut exact, mut unknown) = (0, 0);
    for dir in cases("cilium") {
        let case = dir.file_name().unwrap().to_string_lossy().to_string();
        for (flow, got) in run(&dir) {
            let listed = CILIUM_UNKNOWN.iter().any(|d| d.0 == case && d.1 == flow.from && d.2 == flow.to && d.3 == flow.port);
            match (got.as_str(), listed) {
                (g, false) if g == flow.verdict => exact += 1,
                ("unknown", true) => unknown += 1,
                _ => wrong.push(format!(
                    "{case}: {} -> {} {}: documented {}, netdoctor {got}{}",
                    flow.from,
                    flow.to,
                    flow.port,
                    flow.verdict,
                    if listed { " (listed as unknown)" } else { "" }
                )),
            }
        }
    }
    eprintln!("Cilium documentation examples: {exact} as documented, {unknown} unknown as listed, {} wrong", wrong.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `netdoctor why FROM TO --port P CASE --format json`: the policy layer's evidence and fix.
fn why_policy(case: &str, from: &str, to: &str, port: &str) -> (String, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["why", from, to, "--port", port, "--format", "json"])
        .arg(root().join(case))
        .output()
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let step = &doc["steps"][3];
    (
        doc["verdict"].as_str().unwrap_or_default().to_string(),
        step["evidence"].to_string(),
        step["fix"].as_str().unwrap_or_default().to_string(),
    )
}

/// `why` names the deciding rule of each kind (kind, name, file:line) and proposes the
/// change in that kind's syntax.
#[test]
fn why_names_the_deciding_rule_of_every_kind() {
    // A Calico Deny rule decides.
    let (verdict, evidence, fix) = why_policy("calico/gnp-deny-blue", "app1/blue", "app1/red", "tcp/80");
    assert_eq!(verdict, "denied");
    assert!(
        evidence.contains("Calico GlobalNetworkPolicy deny-blue (tier default)")
            && evidence.contains("rule 1 (")
            && evidence.contains("policy.yaml:"),
        "{evidence}"
    );
    assert!(fix.contains("put this rule before rule 1") && fix.contains("action: Allow, protocol: TCP"), "{fix}");
    // No rule of the tier allows: its default action denies; the fix is a Calico rule.
    let (verdict, evidence, fix) = why_policy("calico/same-namespace-6379", "production/blue", "production/red", "tcp/80");
    assert_eq!(verdict, "denied");
    assert!(
        evidence.contains("Calico NetworkPolicy production/allow-tcp-6379") && evidence.contains("no rule of Calico tier `default` allows"),
        "{evidence}"
    );
    assert!(fix.contains("selector: \"color == 'blue'\"") && fix.contains("destination: {ports: [80]}"), "{fix}");
    // A Cilium deny rule wins.
    let (verdict, evidence, fix) = why_policy("cilium/egress-deny-wins", "default/frontend", "default/backend", "tcp/80");
    assert_eq!(verdict, "denied");
    assert!(evidence.contains("CiliumNetworkPolicy default/deny-egress-example") && evidence.contains("rule 1 ("), "{evidence}");
    assert!(fix.contains("deny rules win"), "{fix}");
    // Selection brings default deny; the fix is a Cilium rule.
    let (verdict, evidence, fix) = why_policy("cilium/l3-ingress-simple", "default/other", "default/backend", "tcp/80");
    assert_eq!(verdict, "denied");
    assert!(evidence.contains("CiliumNetworkPolicy default/l3-rule") && evidence.contains("default deny"), "{evidence}");
    assert!(fix.contains("fromEndpoints: [{matchLabels: {role: other, io.kubernetes.pod.namespace: default}}]"), "{fix}");
    // An L7 rule makes its port unknown, with the rule's reason.
    let (verdict, evidence, _) = why_policy("cilium/l7-http-get-public", "default/prod-client", "default/service", "tcp/80");
    assert_eq!(verdict, "unknown", "{evidence}");
    assert!(evidence.contains("L7 rule (http)"), "{evidence}");
}

/// `examples/k8s-calico-tiers`: a security tier denies what the team's NetworkPolicy
/// allows, and a Linkerd policy makes the reporting namespace's flows unknown.
#[test]
fn the_calico_tiers_example_tells_its_story() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/k8s-calico-tiers");
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(args).arg(&example).output().unwrap();
    let out = run(&["why", "shop/api", "shop/db", "--port", "tcp/5432", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let evidence = doc["steps"][3]["evidence"].to_string();
    assert!(
        evidence.contains("Calico GlobalNetworkPolicy security.pci-isolation (tier security)") && evidence.contains("rule 2"),
        "{evidence}"
    );
    let out = run(&["matrix", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(String, bool)> = doc["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (format!("{} => {}", c["src"].as_str().unwrap(), c["dst"].as_str().unwrap()), c["unknown"] == true))
        .collect();
    assert!(!rows.iter().any(|(r, _)| r.ends_with("=> shop/db[StatefulSet]")), "nothing may reach the database: {rows:?}");
    assert!(rows.iter().all(|(r, unknown)| *unknown == r.contains("reports/")), "{rows:?}");
    let out = run(&["check", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = doc["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert_eq!(rules, ["ND409"], "{doc:#}");
}

/// In a Calico cluster, admin and baseline policies sit in Calico's `kube-admin` (order
/// 1,000) and `kube-baseline` (10,000,000) tiers: a tier ordered before 1,000 decides
/// before an AdminNetworkPolicy, one after it only for what the admin tier passes.
#[test]
fn admin_policies_take_their_place_among_calico_tiers() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a, labels: {app: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: a, labels: {app: db}}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-db}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - {name: no-5432, action: Deny, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 5432}}]}
  - {name: pass-6379, action: Pass, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 6379}}]}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: early}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: early.allow-5432}
spec:
  tier: early
  selector: app == 'db'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [5432]}}, {action: Pass}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-6379}
spec:
  selector: app == 'db'
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [6379]}}, {action: Allow}]
"#;
    let loaded = k8s::load_text(text, Path::new("tiers.yaml"));
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let engine = PolicyEngine::new(&loaded.cluster, PolicyOptions::default());
    let class = |name: &str| Endpoint::Class(engine.workloads[engine.find_workload(name).unwrap()].class);
    let allowed = engine.allowed(class("a/client"), class("a/db"));
    // The `early` tier (order 100) allows 5432 before the AdminNetworkPolicy denies it.
    assert!(allowed.contains(Protocol::Tcp, 5432), "{allowed}");
    // The admin tier passes 6379 on to `default`, whose policy denies it.
    assert!(!allowed.contains(Protocol::Tcp, 6379), "{allowed}");
    // The rest passes both tiers that have a say and `default` allows it.
    assert!(allowed.contains(Protocol::Tcp, 80), "{allowed}");
    // why names the tier policy that decided 5432.
    let trace = engine.trace(
        engine.workloads[engine.find_workload("a/db").unwrap()].class,
        class("a/client"),
        netdoctor_model::k8s::PolicyType::Ingress,
        Some(engine.workloads[engine.find_workload("a/db").unwrap()].class),
        Conn::Port(Protocol::Tcp, 6379),
    );
    assert!(!trace.allowed);
    let tiers: Vec<_> = trace.deciding.iter().map(|r| r.policy.tier).collect();
    use netdoctor_engine::policy::PolicyTier;
    assert_eq!(
        tiers,
        [PolicyTier::Calico, PolicyTier::Admin, PolicyTier::Calico],
        "Pass in `early`, Pass in the admin tier, Deny in `default`"
    );
}

/// The trace `why` shows decides as the evaluator does, on every documentation case,
/// every ordered pod pair and a spread of ports (the invariant that keeps a `why` step
/// and a rule from disagreeing, in tiered clusters).
#[test]
fn traces_agree_with_evaluation_in_tiered_clusters() {
    use netdoctor_model::k8s::PolicyType;
    let mut checked = 0;
    for dir in cases("calico").into_iter().chain(cases("cilium")) {
        let mut cluster = netdoctor_model::k8s::Cluster::default();
        for file in ["cluster.yaml", "policy.yaml"] {
            cluster.extend(k8s::load(&dir.join(file)).cluster);
        }
        let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
        let classes: Vec<usize> = engine.workloads.iter().map(|w| w.class).collect();
        for &src in &classes {
            for &dst in &classes {
                let allowed = engine.allowed(Endpoint::Class(src), Endpoint::Class(dst));
                let ports = [Protocol::Tcp, Protocol::Udp]
                    .into_iter()
                    .flat_map(|p| [53, 80, 443, 5432, 6379, 8080, 9090].map(|n| Conn::Port(p, n)));
                let icmp = [(8, 0), (0, 0), (3, 1), (13, 0)].map(|(icmp_type, code)| Conn::Icmp { icmp_type, code });
                {
                    for conn in ports.chain(icmp) {
                        let egress = engine.trace(src, Endpoint::Class(dst), PolicyType::Egress, Some(dst), conn);
                        let ingress = engine.trace(dst, Endpoint::Class(src), PolicyType::Ingress, Some(dst), conn);
                        assert_eq!(
                            egress.allowed && ingress.allowed,
                            allowed.allows(conn),
                            "{}: {src} -> {dst} {conn}: trace {egress:?} {ingress:?}",
                            dir.display()
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

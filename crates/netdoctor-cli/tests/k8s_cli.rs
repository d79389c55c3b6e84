//! End-to-end tests of Kubernetes inputs beyond NetworkPolicy: ClusterNetworkPolicy
//! tiers through `netdoctor matrix`, and `--host-network` on `matrix`, `diff` and
//! `check`. Manifests are in `tests/k8s/`.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/k8s").join(name)
}

fn netdoctor(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(args).current_dir(dir).env("NO_COLOR", "1").output().expect("run netdoctor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `why FROM TO --port PORT MANIFEST --format json` in `dir`: (exit code, document).
fn why_json(dir: &Path, manifest: &str, [from, to, port]: [&str; 3]) -> (Option<i32>, serde_json::Value) {
    let out = netdoctor(&["why", from, to, "--port", port, manifest, "--format", "json"], dir);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    (out.status.code(), doc)
}

/// Copies a fixture into a fresh directory, so paths in messages are short and stable.
fn staged(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(name), dir.path().join(name)).unwrap();
    dir
}

#[test]
fn cluster_network_policy_tiers_in_the_matrix() {
    let dir = staged("cluster-network-policy.yaml");
    let out = netdoctor(&["matrix", "cluster-network-policy.yaml", "--format", "connlist"], dir.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        text(&out.stdout),
        "# unknown: ClusterNetworkPolicy `ops-access` (cluster-network-policy.yaml:35:1): rule `api` has `domainNames` peers (api.example.com; matched by DNS answers), which are not evaluated; flows from the policy's pods to addresses outside the cluster are unknown\n\
         0.0.0.0-255.255.255.255[External] => ops/monitor[Pod] : All Connections\n\
         0.0.0.0-255.255.255.255[External] => shop/db[Deployment] : All Connections\n\
         0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080\n\
         ops/monitor[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
         ops/monitor[Pod] => shop/db[Deployment] : TCP 9090\n\
         ops/monitor[Pod] => shop/web[Deployment] : TCP 8080,9090\n\
         shop/db[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
         shop/db[Deployment] => ops/monitor[Pod] : All Connections\n\
         shop/db[Deployment] => shop/web[Deployment] : TCP 8080\n\
         shop/web[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
         shop/web[Deployment] => ops/monitor[Pod] : All Connections\n\
         shop/web[Deployment] => shop/db[Deployment] : TCP 5432\n"
    );
    // The domain-name peer is not guessed at: a warning at its rule, and the flows it can
    // change (ops/monitor to outside addresses) marked unknown.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("warning: cluster-network-policy.yaml:55:5: rule `api` has `domainNames` peers (api.example.com;"), "{err}");
    let json = text(&netdoctor(&["matrix", "cluster-network-policy.yaml", "--format", "json"], dir.path()).stdout);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let unknown: Vec<String> = doc["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["unknown"] == true)
        .map(|c| format!("{} => {}", c["src"].as_str().unwrap(), c["dst"].as_str().unwrap()))
        .collect();
    // Its subject is shop: shop's pods to outside addresses.
    assert_eq!(
        unknown,
        ["shop/db[Deployment] => 0.0.0.0-255.255.255.255[External]", "shop/web[Deployment] => 0.0.0.0-255.255.255.255[External]"]
    );
}

#[test]
fn broken_cluster_network_policy_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let cnp = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: c}\nspec:\n  tier: Admin\n  priority: 5\n  subject: {namespaces: {}}\n  ingress:\n  - {action: Allow, from: [{namespaces: {}}]}\n";
    std::fs::write(dir.path().join("cnp.yaml"), cnp).unwrap();
    let out = netdoctor(&["matrix", "cnp.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("error: cnp.yaml:9:") && err.contains("`Accept`"), "{err}");
}

const AS_PODS: &str = "0.0.0.0-255.255.255.255[External] => kube-system/node-agent[DaemonSet] : All Connections\n\
    kube-system/node-agent[DaemonSet] => shop/api[Pod] : All Connections\n\
    shop/api[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
    shop/api[Pod] => kube-system/node-agent[DaemonSet] : All Connections\n";

/// Neither policy selects the agent nor matches it as a peer: its egress is open and
/// the api's ingress rule no longer lets it in.
const BYPASS: &str = "0.0.0.0-255.255.255.255[External] => kube-system/node-agent[DaemonSet] : All Connections\n\
    kube-system/node-agent[DaemonSet] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
    shop/api[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections\n\
    shop/api[Pod] => kube-system/node-agent[DaemonSet] : All Connections\n";

#[test]
fn host_network_flag_on_matrix() {
    let dir = staged("host-network.yaml");
    for (args, want) in [(&[][..], AS_PODS), (&["--host-network", "as-pods"][..], AS_PODS), (&["--host-network", "bypass"][..], BYPASS)] {
        let mut full = vec!["matrix", "host-network.yaml", "--format", "connlist"];
        full.extend_from_slice(args);
        let out = netdoctor(&full, dir.path());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), want, "{args:?}");
    }
    let bad = netdoctor(&["matrix", "host-network.yaml", "--host-network", "host"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("possible values: as-pods, bypass"), "{}", text(&bad.stderr));
}

#[test]
fn host_network_flag_on_diff_and_check() {
    let dir = staged("host-network.yaml");
    let off = std::fs::read_to_string(dir.path().join("host-network.yaml")).unwrap().replace("hostNetwork: true", "hostNetwork: false");
    std::fs::write(dir.path().join("off.yaml"), off).unwrap();
    // As pods, turning hostNetwork off changes nothing; with bypass it changes both flows.
    let same = netdoctor(&["diff", "host-network.yaml", "off.yaml"], dir.path());
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stdout));
    let changed = netdoctor(&["diff", "host-network.yaml", "off.yaml", "--host-network", "bypass", "--format", "connlist"], dir.path());
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed.stderr));
    let lines = text(&changed.stdout);
    assert_eq!(lines.lines().count(), 3, "a header and two changes: {lines}");
    assert!(lines.contains("diff-type: added, source: kube-system/node-agent[DaemonSet], destination: shop/api[Pod]"), "{lines}");
    assert!(
        lines.contains("diff-type: removed, source: kube-system/node-agent[DaemonSet], destination: 0.0.0.0-255.255.255.255,"),
        "{lines}"
    );

    // `check` takes the flag and the `host_network` config key, and rejects unknown values.
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("compose.yaml"), "services:\n  web:\n    image: nginx\n").unwrap();
    let ok = netdoctor(&["check", ".", "--host-network", "bypass"], project.path());
    assert_eq!(ok.status.code(), Some(0), "{}{}", text(&ok.stdout), text(&ok.stderr));
    let bad = netdoctor(&["check", ".", "--host-network", "nope"], project.path());
    assert_eq!(bad.status.code(), Some(2));
    std::fs::write(project.path().join("netdoctor.toml"), "host_network = \"nope\"\n").unwrap();
    let bad_config = netdoctor(&["check", "."], project.path());
    assert_eq!(bad_config.status.code(), Some(2));
    assert!(text(&bad_config.stdout).contains("netdoctor.toml:1:"), "{}", text(&bad_config.stdout));
}

/// `why` checks the name the client's own configuration uses (a ConfigMap read through
/// `envFrom`, an env value), even when asked by `namespace/name`: a bare Service name
/// from another namespace, and a workload name with no Service, fail at layer 3 with
/// the place to change; the fully qualified name passes.
#[test]
fn why_checks_the_name_the_client_is_configured_with() {
    let dir = staged("config-names.yaml");
    let why = |from: &str, to: &str, port: &str| why_json(dir.path(), "config-names.yaml", [from, to, port]);
    let (code, doc) = why("web/frontend", "backend/api", "tcp/8080");
    let dns = &doc["steps"][2];
    assert_eq!((code, dns["status"].as_str()), (Some(1), Some("fail")), "{doc:#}");
    assert!(dns["evidence"][0].as_str().unwrap().contains("means api.web.svc.cluster.local, which does not exist"), "{doc:#}");
    assert!(
        dns["evidence"].to_string().contains("names it `api` (ConfigMap frontend-config key API_URL) (config-names.yaml:16)"),
        "{doc:#}"
    );
    assert_eq!(
        dns["fix"], "write `api.backend` instead of `api` in ConfigMap frontend-config key API_URL (config-names.yaml:16)",
        "{doc:#}"
    );
    let (code, doc) = why("backend/api", "backend/postgres", "tcp/5432");
    let dns = &doc["steps"][2];
    assert_eq!((code, dns["status"].as_str()), (Some(1), Some("fail")), "{doc:#}");
    assert!(dns["evidence"][0].as_str().unwrap().starts_with("no Service is called `postgres` in namespace backend"), "{doc:#}");
    // Qualified, the name resolves: layer 3 passes and the flow is allowed.
    let fixed =
        std::fs::read_to_string(dir.path().join("config-names.yaml")).unwrap().replace("http://api:8080", "http://api.backend:8080");
    std::fs::write(dir.path().join("config-names.yaml"), fixed).unwrap();
    let (code, doc) = why("web/frontend", "backend/api", "tcp/8080");
    assert_eq!((code, doc["steps"][2]["status"].as_str(), doc["verdict"].as_str()), (Some(0), Some("pass"), Some("allowed")), "{doc:#}");
}

/// kube-prometheus's policies for pods its operator makes (Grafana's ingress from
/// Prometheus, Prometheus's own policy) are healthy: `check` informs and exits 0.
#[test]
fn policies_for_operator_made_pods_only_inform() {
    let dir = tempfile::tempdir().unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../netdoctor-rules/tests/fixtures");
    for (fixture, name) in [("ND402/fires-operator.yaml", "grafana.yaml"), ("ND602/fires-operator.yaml", "prometheus.yaml")] {
        std::fs::copy(rules.join(fixture), dir.path().join(name)).unwrap();
    }
    let out = netdoctor(&["check", ".", "--format", "json"], dir.path());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    assert!(found.contains(&("ND402".into(), "info".into())) && found.contains(&("ND602".into(), "info".into())), "{report:#}");
    assert!(found.iter().all(|(_, severity)| severity == "info"), "{report:#}");
}

/// Pods of one owner that policies see differently (one was labelled `quarantine=true`
/// by hand, and a policy isolates quarantined pods) are reported per behaviour: the
/// owner's name, and the variant with the labels that set it apart. Labels a controller
/// sets per pod (`pod-template-hash`, StatefulSet pod names) make no variant.
#[test]
fn pods_of_one_owner_are_reported_per_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str, ip: &str, extra: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: web, pod-template-hash: 5d8f7{extra}}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f7, controller: true, uid: u1}}]\nspec: {{containers: [{{name: web, image: nginx}}]}}\nstatus: {{podIP: {ip}}}\n"
        )
    };
    let db = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: db-0, namespace: shop, labels: {app: db, statefulset.kubernetes.io/pod-name: db-0}, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, controller: true, uid: u2}]}\nstatus: {podIP: 10.1.0.9}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: db-1, namespace: shop, labels: {app: db, statefulset.kubernetes.io/pod-name: db-1}, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, controller: true, uid: u2}]}\nstatus: {podIP: 10.1.0.10}\n";
    let policy = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: quarantine, namespace: shop}\nspec:\n  podSelector: {matchLabels: {quarantine: 'true'}}\n  policyTypes: [Egress]\n";
    let text_in = format!("{}{}{db}{policy}", pod("web-5d8f7-a", "10.1.0.2", ""), pod("web-5d8f7-b", "10.1.0.3", ", quarantine: 'true'"));
    std::fs::write(dir.path().join("pods.yaml"), text_in).unwrap();
    let out = netdoctor(&["matrix", "pods.yaml", "--format", "connlist"], dir.path());
    let lines = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(lines.contains("shop/web-5d8f7[ReplicaSet] => shop/db[StatefulSet] : All Connections\n"), "{lines}");
    // The quarantined variant may not go out at all (connlist lists allowed pairs only).
    assert!(lines.contains("shop/db[StatefulSet] => shop/web-5d8f7[ReplicaSet]{quarantine=true} : All Connections\n"), "{lines}");
    assert!(!lines.contains("shop/web-5d8f7[ReplicaSet]{quarantine=true} =>"), "{lines}");
    assert!(!lines.contains("db[StatefulSet]{"), "per-pod labels make no variant: {lines}");
}

/// `why` from the peers users name: the ingress controller (published workloads only;
/// unknown where a rule admits some namespaces, as the controller's is not in the
/// manifests; denied with a fix where no rule could admit it), a node by name, and the
/// API server found by a control-plane node's address. Node traffic a policy would deny
/// is unknown: NetworkPolicy never blocks a pod's own node, and CNIs differ on others.
#[test]
fn why_from_the_ingress_controller_a_node_and_the_api_server() {
    let dir = staged("ingress.yaml");
    let why = |from: &str, to: &str, port: &str| why_json(dir.path(), "ingress.yaml", [from, to, port]);
    let step = |doc: &serde_json::Value, layer: usize| doc["steps"][layer - 1].clone();
    let (code, doc) = why("{ingress-controller}", "shop/web", "tcp/8080");
    assert_eq!((code, doc["verdict"].as_str()), (Some(0), Some("unknown")), "{doc:#}");
    assert_eq!(step(&doc, 1)["evidence"][0], "Ingress shop/shop send to shop/web[Deployment] on TCP 8080", "{doc:#}");
    assert!(
        step(&doc, 4)["evidence"]
            .to_string()
            .contains("depends on where the ingress controller runs: NetworkPolicy shop/web-from-ingress (ingress.yaml:49)"),
        "{doc:#}"
    );
    let (code, doc) = why("{ingress-controller}", "shop/api", "tcp/9000");
    assert_eq!((code, step(&doc, 1)["status"].as_str()), (Some(1), Some("fail")), "{doc:#}");
    assert_eq!(step(&doc, 1)["evidence"][0], "no Ingress or Route sends traffic to shop/api[Deployment]", "{doc:#}");
    // Only same-namespace pods admitted: the controller, in a namespace of its own, is denied.
    let edited = std::fs::read_to_string(dir.path().join("ingress.yaml")).unwrap().replace(
        "from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]",
        "from: [{podSelector: {matchLabels: {app: gateway}}}]",
    );
    std::fs::write(dir.path().join("ingress.yaml"), edited).unwrap();
    let (code, doc) = why("{ingress-controller}", "shop/web", "tcp/8080");
    assert_eq!((code, step(&doc, 4)["status"].as_str()), (Some(1), Some("fail")), "{doc:#}");
    assert!(step(&doc, 4)["fix"].as_str().unwrap().contains("add to NetworkPolicy shop/web-from-ingress"), "{doc:#}");
    let (code, doc) = why("node-a", "shop/web", "tcp/8080");
    assert_eq!((code, step(&doc, 4)["status"].as_str()), (Some(0), Some("unknown")), "{doc:#}");
    assert!(step(&doc, 1)["evidence"][0].as_str().unwrap().starts_with("node node-a (10.0.0.5) is outside the pod network"), "{doc:#}");
    let (_, doc) = why("kube-apiserver", "shop/api", "tcp/9000");
    assert!(
        step(&doc, 1)["evidence"][0].as_str().unwrap().starts_with("the API server (10.0.0.5, the address of control-plane node node-a)"),
        "{doc:#}"
    );
    // As DST, a node or the API server is the address it is reached at.
    let (_, doc) = why("shop/api", "kube-apiserver", "tcp/6443");
    assert_eq!(
        step(&doc, 1)["evidence"][0],
        "kube-apiserver is the API server (10.0.0.5, the address of control-plane node node-a)",
        "{doc:#}"
    );
    let out = netdoctor(&["why", "node-z", "shop/web", "ingress.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

/// An unknown name gets the five closest names, the closest first, and a count of the rest.
#[test]
fn suggestions_are_the_closest_few() {
    let dir = tempfile::tempdir().unwrap();
    let pods: String =
        (1..=8).map(|i| format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: web{i}, namespace: ns{}}}\n", i % 3)).collect();
    std::fs::write(dir.path().join("pods.yaml"), pods).unwrap();
    let out = netdoctor(&["why", "ns1/web1", "ns2/web", "pods.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains("did you mean ns2/web2, ns2/web5, ns2/web8, ns0/web3, ns0/web6? (3 other names are close too)"), "{said}");
}

/// `matrix --group classes` (`examples/k8s-shop`): workloads no policy tells apart share a
/// group, listed once; its rows expanded to the members are the full matrix's rows.
#[test]
fn grouped_matrix_lists_each_group_once_and_expands_to_the_full_matrix() {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/k8s-shop");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_netdoctor")).arg("matrix").arg(&shop).args(args).output().expect("run netdoctor");
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, grouped, err) = run(&["--group", "classes", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&grouped).unwrap();
    let members = |id: &str| -> Vec<String> {
        match doc["groups"].as_array().unwrap().iter().find(|g| g["id"] == id) {
            Some(g) => g["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect(),
            None => vec![id.to_string()],
        }
    };
    let mut expanded = std::collections::BTreeSet::new();
    for row in doc["connections"].as_array().unwrap() {
        for a in members(row["src"].as_str().unwrap()) {
            for b in members(row["dst"].as_str().unwrap()) {
                if a != b {
                    expanded.insert(format!("{a} => {b} : {}", row["conn"].as_str().unwrap()));
                }
            }
        }
    }
    let (_, full, _) = run(&["--format", "connlist"]);
    let full: std::collections::BTreeSet<String> = full.lines().filter(|l| !l.starts_with('#')).map(String::from).collect();
    assert_eq!(expanded, full);
    assert!(doc["groups"].as_array().unwrap().len() < 7, "billing/invoicer and reporting/nightly-report behave alike: {doc:#}");
    let (code, _, err) = run(&["--group", "classes", "--format", "csv"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--group classes prints text or JSON"), "{err}");
}

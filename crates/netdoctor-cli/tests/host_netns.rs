//! Host facts from real kernel objects. Each test makes a throwaway network namespace
//! (`ndt…`) with a bridge, veth pairs and a Docker-shaped iptables rule set loaded with
//! `iptables-restore`, runs `netdoctor check --host` (and `snapshot --host`) inside it
//! with `ip netns exec`, and checks that the trace names the dropping rule. Nothing
//! touches the host's own namespace, and no packet is sent. Needs root, `ip` (iproute2)
//! and `iptables-restore`/`iptables-save` (iptables); without them the tests skip with a
//! printed reason, except under `CI=true`, where that is a failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../../../test-support/skip.rs"]
mod skip;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Skips the test (or fails it under CI=true) unless it can make namespaces and rules.
fn can_run() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false);
    let missing: Vec<&str> = ["ip", "iptables-restore", "iptables-save"].into_iter().filter(|t| !tool_exists(t)).collect();
    let reason = if !root {
        Some("not running as root".to_string())
    } else if !missing.is_empty() {
        Some(format!("missing {} (apt-get install iproute2 iptables)", missing.join(", ")))
    } else {
        None
    };
    match reason {
        None => true,
        Some(reason) => {
            skip::skip("network namespace tests", &reason);
            false
        }
    }
}

fn tool_exists(name: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]).any(|d| d.join(name).is_file())
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace that is deleted when the test ends, however it ends.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        // Interface and namespace names stay short and carry the `ndt` prefix.
        let name = format!("ndt{tag}{}", std::process::id() % 100_000);
        ok(&["ip", "netns", "add", &name], None);
        Netns(name)
    }

    fn exec(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut all = vec!["ip", "netns", "exec", self.0.as_str()];
        all.extend_from_slice(args);
        run(&all, stdin)
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.exec(args, stdin);
        assert!(out.status.success(), "{args:?} in {} failed: {}", self.0, String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs each command line (words split on spaces) in the namespace, in order.
    fn run_all(&self, commands: &[&str]) {
        for command in commands {
            let args: Vec<&str> = command.split(' ').collect();
            self.ok(&args, None);
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run(&["ip", "netns", "del", &self.0], None);
    }
}

/// A host inside the namespace: uplink `ndte0` (192.0.2.10/24, default route via
/// 192.0.2.1), bridge `ndtbr0` (172.30.0.1/24) with a container-side veth attached.
fn build_host(ns: &Netns) {
    ns.run_all(&[
        "ip link set lo up",
        "ip link add ndte0 type veth peer name ndte1",
        "ip addr add 192.0.2.10/24 dev ndte0",
        "ip link set ndte1 up",
        "ip link set ndte0 up",
        "ip route add default via 192.0.2.1 dev ndte0",
        "ip link add ndtbr0 type bridge",
        "ip addr add 172.30.0.1/24 dev ndtbr0",
        "ip link add ndtv0 type veth peer name ndtv1",
        "ip link set ndtv1 master ndtbr0",
        "ip link set ndtv1 up",
        "ip link set ndtv0 up",
        "ip link set ndtbr0 up",
    ]);
    set_sysctl(ns, "net/ipv4/ip_forward", "1");
}

/// Writes a sysctl of the namespace (no `sysctl` binary needed).
fn set_sysctl(ns: &Netns, key: &str, value: &str) {
    ns.ok(&["sh", "-c", &format!("echo {value} > /proc/sys/{key}")], None);
}

#[path = "../../../test-support/rules.rs"]
mod recorded;

/// Docker 20.10's rules for bridge ndtbr0 with `web` (172.30.0.2) publishing 8080:80,
/// as a real engine writes them (test-support/recordings), and a DOCKER-USER rule that
/// rejects the published port from the uplink.
fn rules() -> String {
    let reject = "-A DOCKER-USER -i ndte0 -p tcp -m conntrack --ctorigdstport 8080 -m comment --comment \"no public 8080\" -j REJECT --reject-with icmp-port-unreachable\n";
    recorded::docker_20_rules("ndtbr0", "172.30.0.2", "172.30.0.0/24", reject)
}

const COMPOSE: &str = "services:
  web:
    image: nginx
    networks: [app]
    ports: [\"8080:80\"]
networks:
  app:
    ipam:
      config:
        - subnet: 172.30.0.0/24
";

/// The 1-based line of the rule containing `needle` in the namespace's own `iptables-save`.
fn saved_line(ns: &Netns, needle: &str) -> usize {
    let saved = ns.ok(&["iptables-save"], None);
    saved.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap_or_else(|| panic!("`{needle}` not in:\n{saved}"))
}

#[test]
fn check_host_names_the_docker_user_rule_that_drops_a_published_port() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("h");
    build_host(&ns);
    ns.ok(&["iptables-restore"], Some(&rules()));
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("compose.yaml");
    std::fs::write(&compose, COMPOSE).unwrap();
    let bin = env!("CARGO_BIN_EXE_netdoctor");
    let compose_arg = compose.to_str().unwrap();

    let out = ns.exec(&[bin, "check", compose_arg, "--host", "--select", "ND5", "--format", "json"], None);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], serde_json::json!([]), "reading the namespace live must work");
    let line = saved_line(&ns, "no public 8080");
    let found = messages(&report, "ND502");
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(
        found[0].starts_with(&format!(
            "tcp/8080 published by `web`: rejected by filter DOCKER-USER rule 1 (line {line}: `-A DOCKER-USER -i ndte0"
        )),
        "{}",
        found[0]
    );
    assert_eq!(out.status.code(), Some(1));

    // The same host captured into a bundle and checked offline, outside the namespace.
    let bundle = dir.path().join("host.json");
    let snap = ns.exec(&[bin, "snapshot", "--host", "-o", bundle.to_str().unwrap()], None);
    assert_eq!(snap.status.code(), Some(0), "{}", String::from_utf8_lossy(&snap.stderr));
    let offline = run(&[bin, "check", compose_arg, "--host-facts", bundle.to_str().unwrap(), "--select", "ND5", "--format", "json"], None);
    let offline: serde_json::Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(messages(&offline, "ND502"), found);

    // Take the rule out: the published port passes and the finding goes away.
    ns.ok(&["iptables", "-D", "DOCKER-USER", "1"], None);
    let out = ns.exec(&[bin, "check", compose_arg, "--host", "--select", "ND5", "--format", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(messages(&report, "ND502"), Vec::<String>::new(), "{report:#}");
}

#[test]
fn check_host_reports_a_forward_drop_when_nothing_accepts_the_bridge() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("f");
    build_host(&ns);
    // A hardened host without Docker's rules: FORWARD drops everything.
    ns.ok(
        &["iptables-restore"],
        Some("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -i ndte0 -o ndte0 -j ACCEPT\nCOMMIT\n"),
    );
    let compose = TempFile::new("compose.yaml", COMPOSE);
    let report = host_report(&ns, &compose, Some("shop"), "ND501");
    assert_eq!(
        messages(&report, "ND501"),
        ["containers on `shop_app` reaching outside (tcp/443): dropped by the DROP policy of filter FORWARD"],
        "{report:#}"
    );
    // Live facts have no file position: the location names what was read.
    let location = &report["findings"][0]["location"];
    assert!(location.get("file").is_none() && location["uri"].as_str().is_some_and(|u| u.contains("://")), "{report:#}");
}

#[test]
fn the_namespace_is_read_not_the_host() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("r");
    build_host(&ns);
    // Forwarding off in the namespace only: the host's own setting must not show through.
    set_sysctl(&ns, "net/ipv4/ip_forward", "0");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("host.json");
    let out = ns.exec(&[env!("CARGO_BIN_EXE_netdoctor"), "snapshot", "--host", "-o", bundle.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let bundle: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let links = bundle["files"]["ip-link.json"].as_str().unwrap();
    assert!(links.contains("ndtbr0") && links.contains("ndte0"), "{links}");
    assert!(!links.contains("\"docker0\""), "the host's docker0 must not show inside the namespace");
    let sysctl = bundle["files"]["sysctl.txt"].as_str().unwrap();
    assert!(sysctl.contains("net.ipv4.ip_forward = 0"), "{sysctl}");
    assert!(Path::new("/run/netns").join(&ns.0).exists());
}

/// The rule set a real Docker Engine wrote (recorded in
/// crates/netdoctor-sources/tests/host/docker-20.10), loaded into a namespace with its
/// bridge names mapped to the namespace's devices, then a DOCKER-USER drop inserted on top.
#[test]
fn recorded_docker_rules_traced_live() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("d");
    build_host(&ns);
    let recorded = include_str!("../../netdoctor-sources/tests/host/docker-20.10/iptables-nft-save.txt")
        .replace("br-c6b54d859bd2", "ndtbr0")
        .replace("br-5609df62fb74", "ndtbr1")
        .replace("docker0", "ndtd0");
    ns.ok(&["iptables-restore"], Some(&recorded));
    let compose = TempFile::new("compose.yaml", COMPOSE);
    let check = || host_report(&ns, &compose, Some("ndtapp"), "ND5");
    // As Docker left it: the published port is DNATed to web and accepted.
    let report = check();
    assert_eq!(messages(&report, "ND502"), Vec::<String>::new(), "{report:#}");
    // DNAT has rewritten the port to 80 by the time DOCKER-USER sees the packet.
    ns.ok(&["iptables", "-I", "DOCKER-USER", "-p", "tcp", "--dport", "80", "-j", "DROP"], None);
    let line = saved_line(&ns, "-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP");
    assert_eq!(
        messages(&check(), "ND502"),
        [format!("tcp/8080 published by `web`: dropped by filter DOCKER-USER rule 1 (line {line}: `-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP`)")]
    );
}

/// Skips (or fails under CI=true) unless `nft` exists as well.
fn can_run_nft() -> bool {
    if !can_run() {
        return false;
    }
    if tool_exists("nft") {
        return true;
    }
    skip::skip("nftables tests", "missing nft (apt-get install nftables)");
    false
}

/// The handle `nft -a` prints for the rule containing `needle`.
fn nft_handle(ns: &Netns, needle: &str) -> u64 {
    let listed = ns.ok(&["nft", "-a", "list", "ruleset"], None);
    listed
        .lines()
        .find(|l| l.contains(needle))
        .and_then(|l| l.rsplit("# handle ").next())
        .and_then(|h| h.trim().parse().ok())
        .unwrap_or_else(|| panic!("`{needle}` not in:\n{listed}"))
}

/// A file in a temporary directory that lives as long as the value.
struct TempFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        TempFile { _dir: dir, path }
    }
}

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// `check INPUT --host [-p PROJECT] --select SELECT --format json` inside the namespace;
/// the namespace must read without errors.
fn host_report(ns: &Netns, input: &Path, project: Option<&str>, select: &str) -> serde_json::Value {
    let mut args = vec![env!("CARGO_BIN_EXE_netdoctor"), "check", input.to_str().unwrap()];
    if let Some(project) = project {
        args.extend(["-p", project]);
    }
    args.extend(["--host", "--select", select, "--format", "json"]);
    let out = ns.exec(&args, None);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["errors"], serde_json::json!([]), "reading the namespace live must work: {report:#}");
    report
}

fn messages(report: &serde_json::Value, rule: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

/// A host firewalled with native nftables only: a forward chain with a drop policy, then
/// a drop rule for the containers' HTTPS. ND501 names the policy, then the rule's handle.
#[test]
fn native_nftables_forward_drop_is_traced_live() {
    if !can_run_nft() {
        return;
    }
    let ns = Netns::new("n");
    build_host(&ns);
    ns.ok(
        &["nft", "-f", "-"],
        Some(
            "table inet ndtfw {\n chain forward {\n  type filter hook forward priority filter; policy drop;\n  iifname \"ndte0\" oifname \"ndte0\" accept\n }\n}\n",
        ),
    );
    let compose = TempFile::new("compose.yaml", COMPOSE);
    let report = host_report(&ns, &compose, Some("shop"), "ND501");
    assert_eq!(
        messages(&report, "ND501"),
        ["containers on `shop_app` reaching outside (tcp/443): dropped by the drop policy of nftables inet ndtfw chain forward"],
        "{report:#}"
    );

    // Accept the bridge, but drop its HTTPS: the rule is named by table, chain and handle.
    ns.ok(&["nft", "insert", "rule", "inet", "ndtfw", "forward", "iifname", "ndtbr0", "accept"], None);
    ns.ok(&["nft", "insert", "rule", "inet", "ndtfw", "forward", "iifname", "ndtbr0", "tcp", "dport", "443", "drop"], None);
    let handle = nft_handle(&ns, "tcp dport 443 drop");
    let report = host_report(&ns, &compose, Some("shop"), "ND501");
    assert_eq!(
        messages(&report, "ND501"),
        [format!(
            "containers on `shop_app` reaching outside (tcp/443): dropped by nftables inet ndtfw chain forward rule handle {handle} (`iifname \"ndtbr0\" tcp dport 443 drop`)"
        )],
        "{report:#}"
    );

    // The same host from a bundle, read offline: the bundle carries nft.json.
    let bundle = compose.with_file_name("host.json");
    let bin = env!("CARGO_BIN_EXE_netdoctor");
    let snap = ns.exec(&[bin, "snapshot", "--host", "-o", bundle.to_str().unwrap()], None);
    assert_eq!(snap.status.code(), Some(0), "{}", String::from_utf8_lossy(&snap.stderr));
    let offline = run(
        &[
            bin,
            "check",
            compose.to_str().unwrap(),
            "-p",
            "shop",
            "--host-facts",
            bundle.to_str().unwrap(),
            "--select",
            "ND501",
            "--format",
            "json",
        ],
        None,
    );
    let offline: serde_json::Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(messages(&offline, "ND501"), messages(&report, "ND501"));

    // Delete the drop: nothing left to report.
    ns.ok(&["nft", "delete", "rule", "inet", "ndtfw", "forward", "handle", &handle.to_string()], None);
    assert_eq!(messages(&host_report(&ns, &compose, Some("shop"), "ND501"), "ND501"), Vec::<String>::new());
}

/// Docker's iptables(-nft) rules publish 8080 → web:80, and an nftables table of the
/// administrator's, hooked into forward before iptables' filter chain, drops port 80 from
/// the uplink. ND502 names the nft rule; iptables-nft's own tables are not traced twice.
#[test]
fn native_nftables_drop_beside_dockers_rules_is_nd502() {
    if !can_run_nft() {
        return;
    }
    let ns = Netns::new("m");
    build_host(&ns);
    let rules: String = rules().lines().filter(|l| !l.contains("no public 8080")).map(|l| format!("{l}\n")).collect();
    ns.ok(&["iptables-restore"], Some(&rules));
    ns.ok(
        &["nft", "-f", "-"],
        Some("table inet ndtguard {\n chain early {\n  type filter hook forward priority filter - 5; policy accept;\n  iifname \"ndte0\" tcp dport 80 drop\n }\n}\n"),
    );
    let handle = nft_handle(&ns, "tcp dport 80 drop");
    let compose = TempFile::new("compose.yaml", COMPOSE);
    let report = host_report(&ns, &compose, Some("shop"), "ND5");
    assert_eq!(
        messages(&report, "ND502"),
        [format!(
            "tcp/8080 published by `web`: dropped by nftables inet ndtguard chain early rule handle {handle} (`iifname \"ndte0\" tcp dport 80 drop`)"
        )],
        "{report:#}"
    );
    // The native table beside iptables rules is ND504's business too.
    let nd504 = messages(&report, "ND504");
    assert!(nd504.iter().any(|m| m.starts_with("nftables table `inet ndtguard` (1 rule)")), "{nd504:?}");
    // Without the table, Docker's rules alone let the port through.
    ns.ok(&["nft", "delete", "table", "inet", "ndtguard"], None);
    let report = host_report(&ns, &compose, Some("shop"), "ND5");
    assert_eq!(messages(&report, "ND502"), Vec::<String>::new(), "{report:#}");
}

/// A VPN-style policy rule (`to 172.16.0.0/12 lookup 200`, priority 100, above `main`)
/// whose table routes the range out of a VPN device: the bridge subnet 172.30.0.0/24 is
/// captured, ND202 names the rule. An exemption for the subnet before it clears it, and
/// a forwarded flow to the containers follows the rules too.
#[test]
fn policy_routing_that_captures_a_container_subnet_is_nd202() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("p");
    build_host(&ns);
    ns.run_all(&[
        "ip link add ndtvpn0 type veth peer name ndtvpn1",
        "ip link set ndtvpn1 up",
        "ip link set ndtvpn0 up",
        "ip route add 172.16.0.0/12 dev ndtvpn0 table 200",
        "ip rule add to 172.16.0.0/12 lookup 200 priority 100",
    ]);
    let compose = TempFile::new("compose.yaml", COMPOSE);
    let report = host_report(&ns, &compose, Some("shop"), "ND202");
    assert_eq!(
        messages(&report, "ND202"),
        ["subnet 172.30.0.0/24 of network `shop_app` (bridge ndtbr0) is sent to `172.16.0.0/12 dev ndtvpn0` in table 200 by policy routing rule `100: from all to 172.16.0.0/12 lookup 200`: the containers' traffic back from the host never reaches the bridge"],
        "{report:#}"
    );
    // The exemption the finding suggests, before the VPN's rule: quiet again.
    ns.ok(&["ip", "rule", "add", "to", "172.30.0.0/24", "lookup", "main", "priority", "99"], None);
    assert_eq!(messages(&host_report(&ns, &compose, Some("shop"), "ND202"), "ND202"), Vec::<String>::new());
}

/// A kubeadm cluster's ranges and node `node-b` (192.0.2.11), for the node tests.
const KUBEADM: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: kubeadm-config, namespace: kube-system}
data:
  ClusterConfiguration: |
    kind: ClusterConfiguration
    networking:
      podSubnet: 10.244.0.0/16
      serviceSubnet: 10.96.0.0/12
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
spec: {podCIDRs: [10.244.1.0/24]}
status: {addresses: [{type: InternalIP, address: 192.0.2.11}]}
";

/// A Kubernetes node in a namespace: its pods on bridge `cni0` (10.244.0.1/24), node-b's
/// pods through node-b, and a VPN `tun0` device. A VPN route over 10.0.0.0/8 covers the
/// pod and service ranges (ND202 error and warning); the pod network's own routes are
/// not reported. Then a VPN-style policy rule that captures the pod range is named.
#[test]
fn a_kubernetes_node_with_a_vpn_over_the_pod_range_is_nd202() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("k");
    build_host(&ns);
    ns.run_all(&[
        "ip link add cni0 type bridge",
        "ip addr add 10.244.0.1/24 dev cni0",
        "ip link set cni0 up",
        "ip route add 10.244.1.0/24 via 192.0.2.11 dev ndte0",
        "ip tuntap add dev tun0 mode tun",
        "ip link set tun0 up",
        "ip route add 10.0.0.0/8 dev tun0",
    ]);
    let manifest = TempFile::new("cluster.yaml", KUBEADM);
    let report = host_report(&ns, &manifest, None, "ND201,ND202");
    let severities: Vec<&str> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "ND202").map(|f| f["severity"].as_str().unwrap()).collect();
    assert_eq!(
        messages(&report, "ND202"),
        [
            "pod range 10.244.0.0/16 (kubeadm-config networking.podSubnet) overlaps VPN route `10.0.0.0/8 dev tun0`",
            "service range 10.96.0.0/12 (kubeadm-config networking.serviceSubnet) overlaps VPN route `10.0.0.0/8 dev tun0`",
        ],
        "{report:#}"
    );
    assert_eq!(severities, ["error", "warning"]);
    assert_eq!(messages(&report, "ND201"), Vec::<String>::new(), "the ranges themselves are sound");

    // Split tunnelling: the VPN keeps only its own network. Quiet.
    ns.ok(&["ip", "route", "del", "10.0.0.0/8", "dev", "tun0"], None);
    ns.ok(&["ip", "route", "add", "10.20.0.0/16", "dev", "tun0"], None);
    assert_eq!(messages(&host_report(&ns, &manifest, None, "ND201,ND202"), "ND202"), Vec::<String>::new());

    // A VPN client that captures the range with a policy rule above `main` instead.
    ns.run_all(&["ip route add 10.0.0.0/8 dev tun0 table 200", "ip rule add to 10.0.0.0/8 lookup 200 priority 100"]);
    assert_eq!(
        messages(&host_report(&ns, &manifest, None, "ND201,ND202"), "ND202"),
        ["pod range 10.244.0.0/16 (kubeadm-config networking.podSubnet) is sent to `10.0.0.0/8 dev tun0` in table 200 by policy routing rule `100: from all to 10.0.0.0/8 lookup 200`: the node's replies to pods leave by the wrong device"]
    );
    ns.ok(&["ip", "rule", "add", "to", "10.244.0.0/16", "lookup", "main", "priority", "99"], None);
    assert_eq!(messages(&host_report(&ns, &manifest, None, "ND201,ND202"), "ND202"), Vec::<String>::new());
}

/// Real VXLAN and bridge devices of a flannel-style node: `flannel.1` forced to MTU 1500
/// over the 1500-byte uplink, and `cni0` at 1500 above the tunnel's 1450 once that is fixed.
/// ND206 reads their MTUs from the kernel; with flannel's own values it is quiet.
#[test]
fn tunnel_and_pod_bridge_mtus_are_read_from_the_kernel() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("u");
    build_host(&ns);
    ns.run_all(&[
        // Not bound to the uplink (`dev`), or the kernel itself refuses an MTU that does not fit.
        "ip link add flannel.1 type vxlan id 1 dstport 8472 local 192.0.2.10",
        "ip link set flannel.1 mtu 1500",
        "ip link set flannel.1 up",
        "ip link add cni0 type bridge",
        "ip link set cni0 up",
    ]);
    let manifest = TempFile::new("cluster.yaml", KUBEADM);
    let nd206 = |ns: &Netns| messages(&host_report(ns, &manifest, None, "ND206"), "ND206");
    assert_eq!(
        nd206(&ns),
        ["tunnel `flannel.1` (VXLAN) has MTU 1500, but the host's default route leaves through `ndte0` with MTU 1500, which carries 1450 after VXLAN's 50 bytes: larger packets are dropped or fragmented"]
    );
    ns.ok(&["ip", "link", "set", "flannel.1", "mtu", "1450"], None);
    assert_eq!(
        nd206(&ns),
        ["pod bridge `cni0` has MTU 1500, but the pod network's tunnel `flannel.1` carries 1450: large packets between pods on different nodes are dropped or fragmented"]
    );
    ns.ok(&["ip", "link", "set", "cni0", "mtu", "1450"], None);
    assert_eq!(nd206(&ns), Vec::<String>::new());
}

/// A flannel-style node (`cni0` 10.244.0.1/24, `flannel.1` with a route to node-b's pods)
/// with Docker's rule set loaded: the FORWARD policy DROP drops the pods' traffic (ND501,
/// named by its line in the namespace's own `iptables-save`); flannel's FLANNEL-FWD accepts
/// clear it.
#[test]
fn docker_forward_drop_on_a_kubernetes_node_is_nd501() {
    if !can_run() {
        return;
    }
    let ns = Netns::new("w");
    build_host(&ns);
    ns.run_all(&[
        "ip link add cni0 type bridge",
        "ip addr add 10.244.0.1/24 dev cni0",
        "ip link set cni0 up",
        "ip link add flannel.1 type vxlan id 1 dstport 8472 dev ndte0",
        "ip addr add 10.244.0.0/32 dev flannel.1",
        "ip link set flannel.1 up",
        "ip route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink",
    ]);
    ns.ok(&["iptables-restore"], Some(&rules()));
    let manifest = TempFile::new("cluster.yaml", KUBEADM);
    let nd501 = |ns: &Netns| host_report(ns, &manifest, None, "ND501");
    let report = nd501(&ns);
    assert_eq!(
        messages(&report, "ND501"),
        [
            "pods on `cni0` (10.244.0.0/24) reaching outside (tcp/443): dropped by the DROP policy of filter FORWARD",
            "pods on `cni0` (10.244.0.0/24) reaching pods on another node (10.244.1.0/24, tcp/443): dropped by the DROP policy of filter FORWARD",
        ],
        "{report:#}"
    );
    for rule in ["-s", "-d"] {
        ns.ok(
            &["iptables", "-I", "FORWARD", rule, "10.244.0.0/16", "-m", "comment", "--comment", "flanneld forward", "-j", "ACCEPT"],
            None,
        );
    }
    assert_eq!(messages(&nd501(&ns), "ND501"), Vec::<String>::new());
}

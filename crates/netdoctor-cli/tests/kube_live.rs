//! `netdoctor matrix|check|why|snapshot --kube` end to end, against a local HTTP server
//! on 127.0.0.1 that replays Kubernetes API list responses
//! (`crates/netdoctor-sources/tests/kube-api/`, see the README there): no API server
//! can run here, so this tests the live path against replayed responses, not a real
//! cluster. The kubeconfig carries a fake bearer token that must never be printed.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../../netdoctor-sources/tests/kube-api/replay.rs"]
mod replay;

use replay::{Behaviour, TOKEN};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn netdoctor(args: &[&str], kubeconfig: &Path, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", dir)
        .output()
        .expect("run netdoctor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn no_secrets(out: &Output) {
    for stream in [text(&out.stdout), text(&out.stderr)] {
        assert!(!stream.contains(TOKEN), "the token was printed: {stream}");
        assert!(!stream.contains("s3cr3t-pw"), "an environment value was printed: {stream}");
    }
}

/// The replayed cluster's connections between workloads and from the ingress controller
/// (the outside ranges, which every workload of `monitoring` and `default` may reach, are
/// checked apart).
const WORKLOAD_LINES: &[&str] = &[
    "monitoring/prometheus[Deployment] => shop/web[Deployment] : TCP 8080",
    "shop/db[StatefulSet] => monitoring/prometheus[Deployment] : All Connections",
    "shop/db[StatefulSet] => shop/web[Deployment] : TCP 8080",
    "shop/web[Deployment] => monitoring/prometheus[Deployment] : All Connections",
    "shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432",
    "{ingress-controller} => shop/web[Deployment] : TCP 8080",
];

#[test]
fn matrix_reads_the_cluster_through_its_api() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = replay::kubeconfig(dir.path(), &server.url());
    let out = netdoctor(&["matrix", "--kube", "--format", "connlist", "-v"], &kubeconfig, dir.path());
    no_secrets(&out);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout: {stdout}\nstderr: {stderr}");
    let workload_lines: Vec<&str> = stdout.lines().filter(|l| !l.contains("[External]")).collect();
    assert_eq!(workload_lines, WORKLOAD_LINES, "{stdout}");
    // The AdminNetworkPolicy denies monitoring into db although a NetworkPolicy allows it.
    assert!(!stdout.contains("monitoring/prometheus[Deployment] => shop/db"), "{stdout}");
    // The finished Job pod is no workload; each Deployment is one, whatever its replicas.
    assert!(!stdout.contains("migrate"), "{stdout}");
    // -v says what was skipped.
    assert!(stderr.contains("note: skipped route.openshift.io/v1 routes: the API server does not serve this group (404)"), "{stderr}");
    assert!(stderr.contains(&format!("note: read 25 objects from context ndt-replay at {}", server.url())), "{stderr}");
    // Pagination was followed.
    assert!(server.requests().iter().any(|r| r.target.ends_with(&format!("continue={}", replay::PODS_CONTINUE))));

    // Without -v the skipped groups are not mentioned.
    let quiet = netdoctor(&["matrix", "--kube", "--format", "connlist"], &kubeconfig, dir.path());
    assert_eq!(text(&quiet.stdout), stdout);
    assert!(text(&quiet.stderr).is_empty(), "{}", text(&quiet.stderr));
}

#[test]
fn a_snapshot_of_the_cluster_answers_offline() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = replay::kubeconfig(dir.path(), &server.url());
    let live = netdoctor(&["matrix", "--kube", "--format", "connlist"], &kubeconfig, dir.path());
    let snap = netdoctor(&["snapshot", "--kube", "-o", "cluster.json"], &kubeconfig, dir.path());
    no_secrets(&snap);
    assert_eq!(snap.status.code(), Some(0), "{}", text(&snap.stderr));
    assert!(
        text(&snap.stderr).starts_with("wrote cluster.json (25 objects of context ndt-replay: 5 pods, 3 network policies"),
        "{}",
        text(&snap.stderr)
    );
    let stored = std::fs::read_to_string(dir.path().join("cluster.json")).unwrap();
    assert!(!stored.contains(TOKEN) && !stored.contains("s3cr3t-pw") && !stored.contains("managedFields"));

    // Offline: no kubeconfig, no server.
    let nowhere = dir.path().join("no-kubeconfig");
    let offline = netdoctor(&["matrix", "--snapshot", "cluster.json", "--format", "connlist"], &nowhere, dir.path());
    assert_eq!(offline.status.code(), Some(0), "{}", text(&offline.stderr));
    assert_eq!(text(&offline.stdout), text(&live.stdout));

    let why = netdoctor(&["why", "shop/web", "shop/db", "--port", "tcp/5432", "--snapshot", "cluster.json"], &nowhere, dir.path());
    assert_eq!(why.status.code(), Some(0), "{}", text(&why.stderr));
    assert!(text(&why.stdout).starts_with("shop/web → shop/db on tcp/5432: ALLOWED\n"), "{}", text(&why.stdout));

    let check = netdoctor(&["check", "--snapshot", "cluster.json", "--format", "json"], &nowhere, dir.path());
    assert_eq!(check.status.code(), Some(0), "{}\n{}", text(&check.stdout), text(&check.stderr));
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn why_answers_from_the_policies() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = replay::kubeconfig(dir.path(), &server.url());
    let allowed = netdoctor(&["why", "shop/web", "shop/db", "--port", "tcp/5432", "--kube"], &kubeconfig, dir.path());
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stderr));
    let stdout = text(&allowed.stdout);
    assert!(stdout.starts_with("shop/web → shop/db on tcp/5432: ALLOWED\n"), "{stdout}");
    assert!(
        stdout.contains("ingress of shop/db[StatefulSet] on tcp/5432: allowed by NetworkPolicy shop/db-from-web ingress rule 1"),
        "{stdout}"
    );
    // A NetworkPolicy lets `team: platform` namespaces in; the AdminNetworkPolicy read from the cluster denies them first.
    let denied = netdoctor(&["why", "monitoring/prometheus", "shop/db", "--port", "5432", "--kube"], &kubeconfig, dir.path());
    assert_eq!(denied.status.code(), Some(1), "{}", text(&denied.stderr));
    let stdout = text(&denied.stdout);
    assert!(stdout.starts_with("monitoring/prometheus → shop/db on tcp/5432: DENIED\n"), "{stdout}");
    assert!(stdout.contains("denied by AdminNetworkPolicy no-monitoring-into-db rule `deny-monitoring`"), "{stdout}");
    let unknown = netdoctor(&["why", "shop/nope", "shop/db", "--kube"], &kubeconfig, dir.path());
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("`shop/nope`"), "{}", text(&unknown.stderr));
    let mixed = netdoctor(&["why", "shop/web", "shop/db", "--kube", "--docker"], &kubeconfig, dir.path());
    assert_eq!(mixed.status.code(), Some(2));
    no_secrets(&denied);
    no_secrets(&unknown);
}

#[test]
fn check_reads_the_cluster() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = replay::kubeconfig(dir.path(), &server.url());
    let out = netdoctor(&["check", "--kube", "--format", "json"], &kubeconfig, dir.path());
    no_secrets(&out);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn a_refused_list_stops_with_exit_2_and_says_which_permission() {
    let server = replay::start(Behaviour::Forbid("pods"));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = replay::kubeconfig(dir.path(), &server.url());
    let out = netdoctor(&["matrix", "--kube"], &kubeconfig, dir.path());
    no_secrets(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "", "no matrix is shown for a cluster that was not read");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: kube:ndt-replay: {} (context ndt-replay) refused to list pods in all namespaces (HTTP 403): pods is forbidden",
            server.url()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("grant the RBAC verb `list` on `pods` to this user (check with `kubectl auth can-i list pods -A`), or narrow the read with --namespace NS"), "{stderr}");

    let check = netdoctor(&["check", "--kube"], &kubeconfig, dir.path());
    no_secrets(&check);
    assert_eq!(check.status.code(), Some(2));
    assert!(text(&check.stdout).contains("refused to list pods"), "{}", text(&check.stdout));
}

#[test]
fn an_unreachable_or_silent_server_fails_fast_and_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let kubeconfig = replay::kubeconfig(dir.path(), &url);
    let out = netdoctor(&["matrix", "--kube", "--context", "ndt-other"], &kubeconfig, dir.path());
    no_secrets(&out);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with(&format!("error: kube:ndt-other: cannot reach {url} (context ndt-other): ")), "{stderr}");
    assert!(stderr.to_lowercase().contains("connection refused"), "{stderr}");
    assert!(stderr.contains("check KUBECONFIG / --context"), "{stderr}");

    let silent = replay::start(Behaviour::Silent);
    let kubeconfig = replay::kubeconfig(dir.path(), &silent.url());
    let started = Instant::now();
    let out = netdoctor(&["snapshot", "--kube", "--kube-timeout", "1", "-o", "x.json"], &kubeconfig, dir.path());
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: kube:ndt-replay: listing namespaces at {} (context ndt-replay): no answer within 1s; the API server is slow or unreachable: check the network path, or raise --kube-timeout\n",
            silent.url()
        )
    );
    assert!(!dir.path().join("x.json").exists());

    let missing = netdoctor(&["matrix", "--kube"], &dir.path().join("absent"), dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("reading the kubeconfig"), "{}", text(&missing.stderr));
    assert!(text(&missing.stderr).contains("set KUBECONFIG or pass --kubeconfig FILE"), "{}", text(&missing.stderr));
}

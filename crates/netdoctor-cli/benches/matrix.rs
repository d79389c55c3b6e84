//! `matrix` and `diff` on generated clusters, and a naive evaluation (every workload
//! pair against every policy, written as plainly as possible) for comparison. The
//! naive answer is checked against the engine's on the small input before timing.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // a benchmark that cannot set up should stop loudly

use criterion::{criterion_group, criterion_main, Criterion};
use netdoctor_cli::{diff, matrix};
use netdoctor_engine::policy::{matches, ConnSet, Peer, PolicyEngine, PolicyOptions, PortSet};
use netdoctor_model::k8s::{Cluster, NetworkPolicy, Pod, PolicyPeer, PolicyRule, PolicyType, PortRef};
use netdoctor_sources::k8s;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod k8s_generate;

/// Writes a generated cluster to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write generated cluster");
    path
}

fn load(text: &str) -> Cluster {
    let loaded = k8s::load_text(text, Path::new("generated.yaml"));
    assert!(loaded.errors.is_empty(), "generated cluster must load: {:?}", loaded.errors.first());
    loaded.cluster
}

/// Whether `peer` of a policy in `policy_ns` is the pod `other`.
fn peer_matches(cluster: &Cluster, policy_ns: &str, peer: &PolicyPeer, other: &Pod) -> bool {
    match peer {
        PolicyPeer::IpBlock { .. } => false,
        PolicyPeer::Pods { namespace_selector, pod_selector, .. } => {
            let ns_ok = match namespace_selector {
                None => other.namespace == policy_ns,
                Some(sel) => cluster.namespace(&other.namespace).is_some_and(|ns| matches(sel, &ns.labels)),
            };
            ns_ok && pod_selector.as_ref().is_none_or(|sel| matches(sel, &other.labels))
        }
    }
}

/// What one rule allows towards `dst` (named ports resolve on the destination).
fn rule_ports(rule: &PolicyRule, dst: &Pod) -> ConnSet {
    if rule.ports.is_empty() {
        return ConnSet::all();
    }
    let mut out = ConnSet::none();
    for spec in &rule.ports {
        let ports = match &spec.port {
            None => PortSet::all(),
            Some(PortRef::Number(n)) => PortSet::range(*n, spec.end_port.unwrap_or(*n)),
            Some(PortRef::Name(name)) => match dst.named_port(name) {
                Some(p) if p.protocol == spec.protocol => PortSet::single(p.port),
                _ => PortSet::empty(),
            },
        };
        out.add(spec.protocol, &ports);
    }
    out
}

/// One direction for `subject`: every policy is looked at; `None` when none isolates it.
fn direction(cluster: &Cluster, subject: &Pod, other: &Pod, dst: &Pod, dir: PolicyType) -> Option<ConnSet> {
    let mut isolated = false;
    let mut allowed = ConnSet::none();
    for policy in &cluster.network_policies {
        if !selects(policy, subject, dir) {
            continue;
        }
        isolated = true;
        let rules = if dir == PolicyType::Ingress { &policy.ingress } else { &policy.egress };
        for rule in rules {
            if rule.peers.is_empty() || rule.peers.iter().any(|p| peer_matches(cluster, &policy.namespace, p, other)) {
                allowed.add_all(&rule_ports(rule, dst));
            }
        }
    }
    isolated.then_some(allowed)
}

fn selects(policy: &NetworkPolicy, pod: &Pod, dir: PolicyType) -> bool {
    policy.namespace == pod.namespace && policy.affects(dir) && matches(&policy.pod_selector, &pod.labels)
}

/// Every workload pair against every policy; (src, dst) names to what is allowed.
fn naive(cluster: &Cluster) -> BTreeMap<(String, String), ConnSet> {
    let mut workloads: BTreeMap<String, &Pod> = BTreeMap::new();
    for pod in &cluster.pods {
        workloads.entry(pod.workload_name()).or_insert(pod);
    }
    let mut out = BTreeMap::new();
    for (s_name, src) in &workloads {
        for (d_name, dst) in &workloads {
            if s_name == d_name {
                continue;
            }
            let egress = direction(cluster, src, dst, dst, PolicyType::Egress).unwrap_or_else(ConnSet::all);
            let ingress = direction(cluster, dst, src, dst, PolicyType::Ingress).unwrap_or_else(ConnSet::all);
            let conns = egress.intersect(&ingress);
            if !conns.is_empty() {
                out.insert((s_name.clone(), d_name.clone()), conns);
            }
        }
    }
    out
}

/// The engine's workload-to-workload answers, for checking the naive one.
fn engine_pairs(cluster: &Cluster) -> BTreeMap<(String, String), ConnSet> {
    let engine = PolicyEngine::new(cluster, PolicyOptions::default());
    let m = engine.matrix();
    m.connections
        .iter()
        .filter(|c| matches!((c.src, c.dst), (Peer::Workload(_), Peer::Workload(_))))
        .map(|c| ((engine.peer_name(&c.src), engine.peer_name(&c.dst)), m.conns(c).clone()))
        .collect()
}

fn bench_matrix(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("netdoctor-matrix-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let mut group = c.benchmark_group("k8s");
    group.sample_size(10).measurement_time(Duration::from_secs(10));

    // 10,000 pods / 1,000 Deployments / 2,000 policies: load, engine, full workload
    // matrix rendered as connlist.
    let big = write(&dir, "10k.yaml", &k8s_generate::cluster(10_000, 1_000, 2_000));
    let run = matrix::run(std::slice::from_ref(&big), PolicyOptions::default());
    assert!(run.errors.is_empty(), "generated cluster must load");
    eprintln!("10k-pod matrix: {} allowed connections", run.rows.len());
    group.bench_function("matrix 10k pods / 1k deployments / 2k policies (load + matrix + connlist)", |b| {
        b.iter(|| {
            let run = matrix::run(std::slice::from_ref(&big), PolicyOptions::default());
            matrix::render(&run, matrix::MatrixFormat::Connlist).len()
        })
    });
    let cluster = load(&k8s_generate::cluster(10_000, 1_000, 2_000));
    group.bench_function("matrix 10k pods / 1k deployments / 2k policies (engine + matrix only)", |b| {
        b.iter(|| PolicyEngine::new(&cluster, PolicyOptions::default()).matrix().connections.len())
    });

    // The naive evaluation against the engine on a smaller input, same answers.
    let small = load(&k8s_generate::cluster(1_000, 100, 200));
    let expected = engine_pairs(&small);
    let plain = naive(&small);
    let differ: Vec<_> = expected.keys().chain(plain.keys()).filter(|k| expected.get(*k) != plain.get(*k)).take(5).collect();
    if !differ.is_empty() {
        let show = |k: &(String, String)| {
            format!("{k:?}: engine {:?}, naive {:?}", expected.get(k).map(ToString::to_string), plain.get(k).map(ToString::to_string))
        };
        panic!(
            "naive and engine disagree on {} pairs, e.g.\n{}",
            differ.len(),
            differ.iter().map(|k| show(k)).collect::<Vec<_>>().join("\n")
        );
    }
    eprintln!("1k-pod matrix: {} workload pairs allowed", expected.len());
    group.bench_function("naive 1k pods / 100 deployments / 200 policies (every pair x every policy)", |b| b.iter(|| naive(&small).len()));
    group.bench_function("engine 1k pods / 100 deployments / 200 policies (same answer)", |b| b.iter(|| engine_pairs(&small).len()));

    // 10k-pod diff of two versions differing in one policy.
    let old = big.clone();
    let new = write(&dir, "10k-changed.yaml", &k8s_generate::changed_cluster(10_000, 1_000, 2_000));
    let changes = diff::run(&old, &new, PolicyOptions::default()).changes.len();
    assert!(changes > 0, "the changed policy must change something");
    group.bench_function("diff 10k pods / 1k deployments / 2k policies, one policy changed", |b| {
        b.iter(|| diff::render(&diff::run(&old, &new, PolicyOptions::default()), diff::DiffFormat::Text).len())
    });
    group.finish();

    // 100,000 pods / 10,000 Deployments / 10,000 policies, one policy changed.
    let mut group = c.benchmark_group("k8s-100k");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    let versions: Vec<PathBuf> = [
        ("100k", k8s_generate::cluster(100_000, 10_000, 10_000)),
        ("100k-changed", k8s_generate::changed_cluster(100_000, 10_000, 10_000)),
    ]
    .iter()
    .map(|(name, text)| {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).expect("temp dir");
        for (i, part) in k8s_generate::split(text, 2_000).iter().enumerate() {
            write(&sub, &format!("part-{i:04}.yaml"), part);
        }
        sub
    })
    .collect();
    let (old, new) = (&versions[0], &versions[1]);
    let run = diff::run(old, new, PolicyOptions::default());
    assert!(run.errors.is_empty() && !run.changes.is_empty(), "the 100k versions must load and differ");
    group.bench_function("diff 100k pods / 10k deployments / 10k policies, one policy changed", |b| {
        b.iter(|| diff::render(&diff::run(old, new, PolicyOptions::default()), diff::DiffFormat::Text).len())
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_matrix);
criterion_main!(benches);

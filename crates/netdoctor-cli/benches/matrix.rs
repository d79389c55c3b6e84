//! `matrix` and `diff` on generated clusters, and a naive evaluation (every workload
//! pair against every policy, `k8s_naive.rs`) for comparison. The
//! naive answer is checked against the engine's on the small input before timing.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // a benchmark that cannot set up should stop loudly

use criterion::{criterion_group, criterion_main, Criterion};
use netdoctor_cli::{diff, matrix};
use netdoctor_engine::policy::{ConnSet, Peer, PolicyEngine, PolicyOptions};
use netdoctor_model::k8s::Cluster;
use netdoctor_sources::k8s;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod k8s_generate;
mod k8s_naive;

use k8s_naive::naive;

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
    eprintln!("10k-pod matrix: {} allowed connections", run.table.rows.len());
    group.bench_function("matrix 10k pods / 1k deployments / 2k policies (load + matrix + connlist)", |b| {
        b.iter(|| {
            let run = matrix::run(std::slice::from_ref(&big), PolicyOptions::default());
            netdoctor_report::render_matrix(&run.table, run.problems(), netdoctor_report::MatrixFormat::Connlist).len()
        })
    });
    // Every output format of the same matrix, rendered from the computed table.
    for format in [
        netdoctor_report::MatrixFormat::Text,
        netdoctor_report::MatrixFormat::Json,
        netdoctor_report::MatrixFormat::Csv,
        netdoctor_report::MatrixFormat::Md,
        netdoctor_report::MatrixFormat::Dot,
    ] {
        // Into a buffer kept across iterations (`io::sink` skips formatting altogether).
        let mut out: Vec<u8> = Vec::new();
        group.bench_function(format!("matrix 10k pods rendered as {format:?}"), |b| {
            b.iter(|| {
                out.clear();
                netdoctor_report::write_matrix(&run.table, run.problems(), format, &mut out).expect("render");
                out.len()
            })
        });
    }
    // `check` (every rule) and `why` (one pair) over the same manifests.
    let settings = netdoctor_cli::config::resolve(Default::default(), None, "", Default::default());
    let inputs = netdoctor_cli::check::Inputs { paths: vec![big.clone()], ..Default::default() };
    group.bench_function("check 10k pods / 1k deployments / 2k policies (load + every rule)", |b| {
        b.iter(|| netdoctor_cli::check::run(&inputs, &settings, Vec::new()).findings.len())
    });
    let (model, _) = netdoctor_cli::kube::load_manifests(std::slice::from_ref(&big));
    assert!(netdoctor_cli::why::explain(&model, "ns3/app3", "ns8/app8", "tcp/8080".parse().ok()).is_ok(), "the pair must exist");
    group.bench_function("why 10k pods / 1k deployments / 2k policies (load + one pair)", |b| {
        b.iter(|| {
            let (model, _) = netdoctor_cli::kube::load_manifests(std::slice::from_ref(&big));
            netdoctor_cli::why::explain(&model, "ns3/app3", "ns8/app8", "tcp/8080".parse().ok()).map(|w| w.steps.len()).unwrap_or(0)
        })
    });
    let cluster = load(&k8s_generate::cluster(10_000, 1_000, 2_000));
    group.bench_function("matrix 10k pods / 1k deployments / 2k policies (engine + matrix only)", |b| {
        b.iter(|| PolicyEngine::new(&cluster, PolicyOptions::default()).matrix().connections.len())
    });

    // The same cluster with 1,000 Calico and 1,000 Cilium policies beside its 1,000
    // NetworkPolicies: tiers, deny rules and selector expressions.
    let opts = k8s_generate::Options::new(10_000, 1_000, 1_000);
    let mut cni_text = k8s_generate::cluster_with(&opts);
    cni_text.push_str(&k8s_generate::cni_policies(1_000, 1_000, opts.deployments, opts.namespaces));
    let cni_files: Vec<PathBuf> =
        k8s_generate::split(&cni_text, 5_000).iter().enumerate().map(|(i, t)| write(&dir, &format!("cni-{i}.yaml"), t)).collect();
    let run = matrix::run(&cni_files, PolicyOptions::default());
    assert!(run.errors.is_empty(), "generated CNI cluster must load: {:?}", run.errors.first());
    eprintln!("10k-pod CNI matrix: {} allowed connections, {} warnings", run.table.rows.len(), run.warnings.len());
    group.bench_function("matrix 10k pods / 1k NetworkPolicies + 1k Calico + 1k Cilium (load + matrix + connlist)", |b| {
        b.iter(|| {
            let run = matrix::run(&cni_files, PolicyOptions::default());
            netdoctor_report::render_matrix(&run.table, run.problems(), netdoctor_report::MatrixFormat::Connlist).len()
        })
    });
    let cni_cluster = load(&cni_text);
    group.bench_function("matrix 10k pods / 1k NetworkPolicies + 1k Calico + 1k Cilium (engine + matrix only)", |b| {
        b.iter(|| PolicyEngine::new(&cni_cluster, PolicyOptions::default()).matrix().connections.len())
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
    let changes = diff::run(&old, &new, PolicyOptions::default()).diff.changes.len();
    assert!(changes > 0, "the changed policy must change something");
    group.bench_function("diff 10k pods / 1k deployments / 2k policies, one policy changed", |b| {
        b.iter(|| render_diff(&diff::run(&old, &new, PolicyOptions::default())))
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
    assert!(run.errors.is_empty() && !run.diff.changes.is_empty(), "the 100k versions must load and differ");
    group.bench_function("diff 100k pods / 10k deployments / 10k policies, one policy changed", |b| {
        b.iter(|| render_diff(&diff::run(old, new, PolicyOptions::default())))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole `diff` command's work after reading: compare, then render as text.
fn render_diff(run: &diff::DiffRun) -> usize {
    netdoctor_report::render_diff(&run.diff, &run.errors, netdoctor_report::DiffFormat::Text).len()
}

criterion_group!(benches, bench_matrix);
criterion_main!(benches);

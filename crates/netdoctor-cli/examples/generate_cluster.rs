//! Prints a synthetic Kubernetes cluster as multi-document YAML:
//! `cargo run --example generate_cluster -- PODS DEPLOYMENTS POLICIES [--changed]
//! [--bare-pods] [--namespaces N] [--calico N] [--cilium N] [--out DIR]`.
//! `--changed` prints the same cluster with one policy changed, for trying `diff`;
//! `--bare-pods` writes each pod as a `kind: Pod` of its own (DEPLOYMENTS is then the
//! number of distinct pod templates); `--namespaces N` spreads them over N namespaces
//! instead of one per 20; `--calico N` and `--cilium N` add N Calico and N Cilium
//! policies (for benchmarks: a real cluster runs one CNI); `--out DIR` writes files of 2,000 objects each into DIR
//! instead, since the manifest reader caps the number of YAML nodes per file.

#[path = "../benches/k8s_generate.rs"]
#[allow(dead_code)] // the benches use the rest
mod k8s_generate;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let changed = args.iter().any(|a| a == "--changed");
    let value_of = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let out_dir = value_of("--out");
    let namespaces = value_of("--namespaces").map(|n| n.parse::<usize>());
    let count = |flag: &str| value_of(flag).and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    let (calico, cilium) = (count("--calico"), count("--cilium"));
    // Sizes are the numbers that are not the value of a flag.
    let sizes: Vec<usize> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            *i == 0 || !matches!(args.get(i - 1).map(String::as_str), Some("--out" | "--namespaces" | "--calico" | "--cilium"))
        })
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    let ([pods, deployments, policies], None | Some(Ok(_))) = (sizes.as_slice(), &namespaces) else {
        eprintln!(
            "usage: generate_cluster PODS DEPLOYMENTS POLICIES [--changed] [--bare-pods] [--namespaces N] [--calico N] [--cilium N] [--out DIR]"
        );
        return ExitCode::from(2);
    };
    let mut opts = k8s_generate::Options::new(*pods, *deployments, *policies);
    opts.bare_pods = args.iter().any(|a| a == "--bare-pods");
    if let Some(Ok(n)) = namespaces {
        opts.namespaces = n;
    }
    let mut text = k8s_generate::cluster_with(&opts);
    text.push_str(&k8s_generate::cni_policies(calico, cilium, opts.deployments, opts.namespaces));
    let text = if changed { k8s_generate::changed(&text) } else { text };
    if let Some(dir) = out_dir {
        return match write_files(std::path::Path::new(dir), &text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write to {dir}: {e}; check the directory can be created");
                ExitCode::from(2)
            }
        };
    }
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes `text` as `part-NNNN.yaml` files of 2,000 objects each.
fn write_files(dir: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (i, part) in k8s_generate::split(text, 2000).iter().enumerate() {
        std::fs::write(dir.join(format!("part-{i:04}.yaml")), part)?;
    }
    Ok(())
}

//! Prints a synthetic Kubernetes cluster as multi-document YAML:
//! `cargo run --example generate_cluster -- PODS DEPLOYMENTS POLICIES [--changed] [--out DIR]`.
//! `--changed` prints the same cluster with one policy changed, for trying `diff`;
//! `--out DIR` writes files of 2,000 objects each into DIR instead, since the manifest
//! reader caps the number of YAML nodes per file.

#[path = "../benches/k8s_generate.rs"]
mod k8s_generate;

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let changed = args.iter().any(|a| a == "--changed");
    let out_dir = args.iter().position(|a| a == "--out").and_then(|i| args.get(i + 1));
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let [pods, deployments, policies] = sizes.as_slice() else {
        eprintln!("usage: generate_cluster PODS DEPLOYMENTS POLICIES [--changed] [--out DIR]");
        return ExitCode::from(2);
    };
    let text = if changed {
        k8s_generate::changed_cluster(*pods, *deployments, *policies)
    } else {
        k8s_generate::cluster(*pods, *deployments, *policies)
    };
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

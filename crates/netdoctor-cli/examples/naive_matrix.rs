//! The naive evaluation of the `matrix` bench (every workload pair against every
//! policy) as a program, for timing it on inputs too big for the bench:
//! `cargo run --release --example naive_matrix -- PATH [-o FILE]`. Reads manifests as
//! `netdoctor matrix` does and writes one line per allowed workload pair,
//! `SRC => DST : CONNECTIONS`, to FILE or standard output.

#[path = "../benches/k8s_naive.rs"]
mod k8s_naive;

use netdoctor_sources::k8s;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args.iter().position(|a| a == "-o").and_then(|i| args.get(i + 1));
    let Some(path) = args.first().filter(|a| a.as_str() != "-o") else {
        eprintln!("usage: naive_matrix PATH [-o FILE]");
        return ExitCode::from(2);
    };
    let loaded = k8s::load(Path::new(path));
    if let Some(e) = loaded.errors.first() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let mut text = String::new();
    for ((src, dst), conns) in k8s_naive::naive(&loaded.cluster) {
        text.push_str(&format!("{src} => {dst} : {conns}\n"));
    }
    let written = match out {
        Some(file) => std::fs::write(file, &text),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the matrix: {e}; check the output path");
            ExitCode::from(2)
        }
    }
}

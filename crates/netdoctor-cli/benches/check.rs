//! `check` on a generated 200-service, 50-network project: load, analyse, run every rule.
#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use criterion::{criterion_group, criterion_main, Criterion};
use netdoctor_cli::check::{self, Inputs};
use netdoctor_cli::config::{self, ConfigFile, Overrides};

mod generate;

fn bench_check(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("netdoctor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("compose.yaml");
    std::fs::write(&file, generate::project(200, 50)).expect("write generated project");
    let settings = config::resolve(ConfigFile::default(), None, "", Overrides::default());
    let inputs = Inputs { paths: vec![file.clone()], ..Inputs::default() };
    let report = check::run(&inputs, &settings, Vec::new());
    assert!(report.errors.is_empty(), "generated project must load: {:?}", report.errors);
    c.bench_function("check 200 services / 50 networks", |b| b.iter(|| check::run(&inputs, &settings, Vec::new())));
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_check);
criterion_main!(benches);

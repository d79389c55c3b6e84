//! Parsing and lowering a generated 20,000-rule `iptables-save` dump (the figure in the
//! README; the target is under 100 ms).
#![allow(clippy::expect_used, clippy::panic)] // a benchmark that cannot set up should stop loudly

use criterion::{criterion_group, criterion_main, Criterion};
use netdoctor_model::host::{Backend, IpFamily};
use netdoctor_sources::host::{iptables, InputSource};
use std::path::Path;
use std::sync::Arc;

#[path = "../tests/support/generate.rs"]
mod generate;

fn bench_parse(c: &mut Criterion) {
    let text = generate::iptables_save(20_000);
    let source = InputSource::File(Arc::from(Path::new("iptables-save.txt")));
    let (dump, mut errors) = iptables::parse(&text, &source);
    let set = iptables::lower(&dump, IpFamily::V4, Backend::Unknown, &source, &mut errors);
    assert!(errors.is_empty(), "generated dump must parse: {:?}", errors.first());
    assert_eq!(set.rule_count(), 20_000);
    c.bench_function("iptables-save 20k rules: parse + lower", |b| {
        b.iter(|| {
            let (dump, mut errors) = iptables::parse(&text, &source);
            iptables::lower(&dump, IpFamily::V4, Backend::Unknown, &source, &mut errors)
        })
    });
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);

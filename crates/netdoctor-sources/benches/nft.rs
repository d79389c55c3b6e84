//! Parsing and lowering a generated 20,000-rule `nft -j list ruleset` dump: one
//! `inet filter` table whose forward chain jumps into 100 chains of 200 rules each, every
//! rule with a source prefix, an interface, a port set and a counter.
#![allow(clippy::expect_used, clippy::panic)] // a benchmark that cannot set up should stop loudly

use criterion::{criterion_group, criterion_main, Criterion};
use netdoctor_sources::host::{nftjson, InputSource};
use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

fn generate(chains: usize, per_chain: usize) -> String {
    let mut items = vec![
        r#"{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}"#.to_string(),
        r#"{"table": {"family": "inet", "name": "filter", "handle": 1}}"#.to_string(),
        r#"{"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}"#.to_string(),
    ];
    for c in 0..chains {
        items.push(format!(r#"{{"chain": {{"family": "inet", "table": "filter", "name": "c{c}", "handle": {}}}}}"#, c + 2));
    }
    let mut handle = 1000;
    for c in 0..chains {
        handle += 1;
        items.push(format!(
            r#"{{"rule": {{"family": "inet", "table": "filter", "chain": "forward", "handle": {handle}, "expr": [{{"match": {{"op": "==", "left": {{"meta": {{"key": "iifname"}}}}, "right": "br-{c:04}*"}}}}, {{"jump": {{"target": "c{c}"}}}}]}}}}"#
        ));
        for r in 0..per_chain {
            handle += 1;
            let mut rule = String::new();
            let verdict = if r % 2 == 0 { r#"{"accept": null}"# } else { r#"{"drop": null}"# };
            let _ = write!(
                rule,
                r#"{{"rule": {{"family": "inet", "table": "filter", "chain": "c{c}", "handle": {handle}, "expr": [{{"match": {{"op": "==", "left": {{"payload": {{"protocol": "ip", "field": "saddr"}}}}, "right": {{"prefix": {{"addr": "10.{}.{}.0", "len": 24}}}}}}}}, {{"match": {{"op": "!=", "left": {{"meta": {{"key": "oifname"}}}}, "right": "eth0"}}}}, {{"match": {{"op": "==", "left": {{"payload": {{"protocol": "tcp", "field": "dport"}}}}, "right": {{"set": [80, 443, {{"range": [8000, 8100]}}]}}}}}}, {{"counter": {{"packets": 0, "bytes": 0}}}}, {verdict}]}}}}"#,
                c % 256,
                r % 256
            );
            items.push(rule);
        }
    }
    format!("{{\"nftables\": [{}]}}", items.join(", "))
}

fn bench_parse(c: &mut Criterion) {
    let text = generate(100, 200);
    let source = InputSource::File(Arc::from(Path::new("nft.json")));
    let mut errors = Vec::new();
    let parsed = nftjson::parse(&text, &source, &mut errors);
    assert!(errors.is_empty(), "generated dump must parse: {:?}", errors.first());
    let rules: usize = parsed.rulesets.first().map(|s| s.rule_count()).unwrap_or(0);
    assert_eq!(rules, 20_100);
    eprintln!("nft.json: {} bytes", text.len());
    c.bench_function("nft -j 20k rules: parse + lower (inet: both families)", |b| {
        b.iter(|| {
            let mut errors = Vec::new();
            nftjson::parse(&text, &source, &mut errors)
        })
    });
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);

//! Fuzzes the Calico selector parser on arbitrary text (lossily decoded, so every input
//! reaches it). A panic, an error offset that is not a character boundary of the text,
//! a parsed selector whose printed form does not parse back to the same tree, or a
//! panic while matching it against a few label sets is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netdoctor_engine::policy::matches_expr;
use netdoctor_model::k8s::Labels;
use netdoctor_sources::k8s::calico_selector::parse;
use std::sync::OnceLock;

/// Label sets that reach every branch of the evaluator: none, keys that seeds and the
/// fuzzer use, empty values, quotes and non-ASCII text.
fn label_sets() -> &'static [Labels] {
    static SETS: OnceLock<Vec<Labels>> = OnceLock::new();
    SETS.get_or_init(|| {
        let sets: &[&[(&str, &str)]] = &[
            &[],
            &[("a", ""), ("k", "prod")],
            &[("a", "b"), ("role", "frontend"), ("my-label", "prod-eu"), ("projectcalico.org/name", "foo")],
            &[("a", "'\""), ("b", "é"), ("c", "x"), ("app", "web"), ("tier", "a")],
        ];
        sets.iter().map(|pairs| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let expr = match parse(&text) {
        Ok(expr) => expr,
        Err(e) => {
            assert!(text.is_char_boundary(e.offset), "error offset {} is inside a character of {text:?}: {e}", e.offset);
            return;
        }
    };
    let printed = expr.to_string();
    match parse(&printed) {
        Ok(again) => assert_eq!(again, expr, "{text:?} printed as {printed:?}"),
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    }
    for labels in label_sets() {
        for namespaced in [true, false] {
            std::hint::black_box(matches_expr(&expr, labels, namespaced));
        }
    }
});

//! Calico selector semantics against the selectors as Calico's docs and its own parser
//! tests write them: the text is read by netdoctor-sources' parser, and matching and
//! printing are checked here, so each case stays the upstream text it cites.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use netdoctor_engine::policy::matches_expr;
use netdoctor_model::calico::SelectorExpr;
use netdoctor_model::k8s::Labels;
use netdoctor_sources::k8s::calico_selector::parse;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn sel(text: &str) -> SelectorExpr {
    parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// Asserts the selector matches every label set of `yes` and none of `no`, in a
/// namespace, and that its printed form matches the same.
fn check(text: &str, yes: &[&[(&str, &str)]], no: &[&[(&str, &str)]]) {
    let expr = sel(text);
    let reparsed = sel(&expr.to_string());
    for pairs in yes {
        assert!(matches_expr(&expr, &labels(pairs), true), "{text:?} should match {pairs:?}");
        assert!(matches_expr(&reparsed, &labels(pairs), true), "{expr} should match {pairs:?}");
    }
    for pairs in no {
        assert!(!matches_expr(&expr, &labels(pairs), true), "{text:?} should not match {pairs:?}");
        assert!(!matches_expr(&reparsed, &labels(pairs), true), "{expr} should not match {pairs:?}");
    }
}

#[test]
fn every_operator() {
    check("all()", &[&[], &[("a", "b")]], &[]);
    check("", &[&[], &[("a", "b")]], &[]);
    check("!all()", &[], &[&[], &[("a", "b")]]);
    check("has(a)", &[&[("a", "")], &[("a", "x")]], &[&[], &[("b", "a")]]);
    check("!has(a)", &[&[], &[("b", "a")]], &[&[("a", "")]]);
    check("a == 'x'", &[&[("a", "x")], &[("a", "x"), ("b", "y")]], &[&[], &[("a", "X")], &[("a", "xx")], &[("b", "x")]]);
    check("a == ''", &[&[("a", "")]], &[&[]]);
    // `!=` and `not in` hold when the key is absent.
    check("a != 'x'", &[&[], &[("a", "y")], &[("b", "x")]], &[&[("a", "x")]]);
    check("a in {'x', 'y'}", &[&[("a", "x")], &[("a", "y")]], &[&[], &[("a", "z")], &[("b", "x")]]);
    check("a in {}", &[], &[&[], &[("a", "")]]);
    check("a not in {'x', 'y'}", &[&[], &[("a", "z")], &[("b", "x")]], &[&[("a", "x")], &[("a", "y")]]);
    check("a not in {}", &[&[], &[("a", "")]], &[]);
    check("a starts with 'pr'", &[&[("a", "prod")], &[("a", "pr")]], &[&[], &[("a", "p")], &[("a", "xprod")]]);
    check("a ends with 'od'", &[&[("a", "prod")], &[("a", "od")]], &[&[], &[("a", "odd")]]);
    check("a contains 'ro'", &[&[("a", "prod")], &[("a", "ro")]], &[&[], &[("a", "r")], &[("b", "ro")]]);
    // The empty string starts, ends and is contained in every present value.
    check("a contains ''", &[&[("a", "")], &[("a", "x")]], &[&[]]);
    check("a starts with ''", &[&[("a", "x")]], &[&[]]);
    check("a == 'é'", &[&[("a", "é")]], &[&[("a", "e")]]);
}

#[test]
fn boolean_operators() {
    check("has(a) && has(b)", &[&[("a", ""), ("b", "")]], &[&[("a", "")], &[("b", "")], &[]]);
    check("has(a) || has(b)", &[&[("a", "")], &[("b", "")], &[("a", ""), ("b", "")]], &[&[], &[("c", "")]]);
    check("!(has(a) || has(b))", &[&[], &[("c", "")]], &[&[("a", "")], &[("b", "")]]);
    check("!!has(a)", &[&[("a", "")]], &[&[]]);
    check("!(!has(a))", &[&[("a", "")]], &[&[]]);
    // `&&` binds tighter: `a || (b && c)`, not `(a || b) && c`.
    check("has(a) || has(b) && has(c)", &[&[("a", "")], &[("b", ""), ("c", "")]], &[&[("b", "")], &[("c", "")]]);
}

/// Calico's own `selectorTests` (libcalico-go/lib/selector/parser/parser_test.go).
#[test]
fn calico_selector_tests() {
    check(
        r#"a == "b" && c == "d""#,
        &[&[("a", "b"), ("c", "d")]],
        &[&[], &[("a", "b"), ("c", "e")], &[("a", "c"), ("c", "d")], &[("a", "b")]],
    );
    check(r#"a == "b" || c == "d""#, &[&[("a", "b")], &[("c", "d")]], &[&[], &[("a", "e"), ("c", "e")]]);
    check(r#"a in {"'", '"', "c"}"#, &[&[("a", "c")], &[("a", "\"")], &[("a", "'")]], &[&[], &[("a", "e")]]);
    check(r#"a not in {"'", '"', "c"}"#, &[&[], &[("a", "e")]], &[&[("a", "c")], &[("a", "\"")], &[("a", "'")]]);
    check(r#"!a in {"a"}"#, &[&[("a", "b")]], &[]);
    check("!!! has(a)", &[], &[&[("a", "b")]]);
    check("! !!has(a)", &[], &[&[("a", "b")]]);
    check("a != 'a1' && !b == 'b1'", &[], &[&[("a", "a1"), ("b", "b1")]]);
    check("!(!has(a) || has(b))", &[&[("a", "a")]], &[]);
    check("!(has(b) || !has(a))", &[&[("a", "a")]], &[]);
    check("a == 'a1' || b != 'b1'", &[&[("a", "a1"), ("b", "b1")]], &[]);
    check("! a == 'a1' || ! b == 'b1'", &[], &[&[("a", "a1"), ("b", "b1")]]);
}

/// The docs' precedence example (docs.tigera.io, NetworkPolicy resource,
/// "Selectors"): `! has(my-label) || my-label starts with 'prod' && role in
/// {'frontend','business'}` "would match: any resource that did not have label
/// "my-label"; any resource that both has a value for `my-label` that starts with
/// "prod", and has a role label with value either "frontend", or "business"."
#[test]
fn docs_precedence_example() {
    check(
        "! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}",
        &[&[], &[("role", "db")], &[("my-label", "prod-eu"), ("role", "frontend")], &[("my-label", "production"), ("role", "business")]],
        &[&[("my-label", "prod")], &[("my-label", "dev"), ("role", "frontend")], &[("my-label", "prod"), ("role", "db")]],
    );
}

/// The docs' automatic-labels page: `namespaceSelector: projectcalico.org/name in
/// {"foo", "bar"}` selects the namespaces named "foo" and "bar"; `selector: color
/// == "red"` the workloads labelled `color: red`.
#[test]
fn docs_label_examples() {
    let name = |n: &str| labels(&[("projectcalico.org/name", n)]);
    let expr = sel(r#"projectcalico.org/name in {"foo", "bar"}"#);
    assert!(matches_expr(&expr, &name("foo"), true));
    assert!(matches_expr(&expr, &name("bar"), true));
    assert!(!matches_expr(&expr, &name("baz"), true));
    let red = sel(r#"color == "red""#);
    assert!(matches_expr(&red, &labels(&[("color", "red")]), true));
    assert!(!matches_expr(&red, &labels(&[("color", "blue")]), true));
}

/// The docs: "`global()`: Match all non-namespaced resources"; "`all()`: Match all
/// in-scope resources. To match no resources, combine this operator with `!`".
#[test]
fn global_matches_only_non_namespaced_objects() {
    let none = Labels::new();
    assert!(matches_expr(&sel("global()"), &none, false));
    assert!(!matches_expr(&sel("global()"), &none, true));
    assert!(matches_expr(&sel("!global()"), &none, true));
    assert!(matches_expr(&sel("all()"), &none, false));
    assert!(matches_expr(&sel("all()"), &none, true));
    assert!(!matches_expr(&sel("!all()"), &none, false));
    let expr = sel("global() || has(a)");
    assert!(matches_expr(&expr, &none, false));
    assert!(!matches_expr(&expr, &none, true));
    assert!(matches_expr(&expr, &labels(&[("a", "")]), true));
}

#[test]
fn chains_built_by_hand() {
    let none = Labels::new();
    assert!(matches_expr(&SelectorExpr::And(vec![]), &none, true));
    assert!(!matches_expr(&SelectorExpr::Or(vec![]), &none, true));
}

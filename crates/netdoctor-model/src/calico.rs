//! Calico selector expressions (`selector`, `namespaceSelector`, `notSelector` and the
//! other selector fields of projectcalico.org/v3 resources) as plain data. The parser is
//! `netdoctor_sources::k8s::calico_selector::parse`, the evaluator
//! `netdoctor_engine::policy::matches_expr`.

use serde::Serialize;
use std::fmt;

/// One Calico selector expression, as Calico's own parser builds it
/// (libcalico-go/lib/selector/parser): `&&` and `||` chains are flat lists, runs of
/// `!` are already collapsed, parentheses leave no node, and set literals are sorted
/// with duplicates removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "op", content = "args")]
pub enum SelectorExpr {
    /// `all()`, which is also what an empty selector means.
    All,
    /// `global()`: non-namespaced objects (host endpoints, global network sets).
    Global,
    /// `has(k)`.
    Has(String),
    /// `k == 'v'`.
    Equals(String, String),
    /// `k != 'v'`, which also holds when `k` is absent.
    NotEquals(String, String),
    /// `k in {'a', 'b'}`.
    In(String, Vec<String>),
    /// `k not in {'a', 'b'}`, which also holds when `k` is absent.
    NotIn(String, Vec<String>),
    /// `k starts with 'v'`.
    StartsWith(String, String),
    /// `k ends with 'v'`.
    EndsWith(String, String),
    /// `k contains 'v'`.
    Contains(String, String),
    /// `!e`.
    Not(Box<SelectorExpr>),
    /// `a && b && ...`.
    And(Vec<SelectorExpr>),
    /// `a || b || ...`.
    Or(Vec<SelectorExpr>),
}

/// Prints the text Calico's own `String()` gives (parser/ast.go: `"` quotes unless the
/// value holds a `"`, every `&&`/`||` chain in parentheses), so output can be compared
/// with what calicoctl shows. Two cases differ, so that the text always parses back
/// to the same tree: a negated negation keeps its parentheses (`!(!has(a))`, where
/// Calico prints `!!has(a)`, which parses as `has(a)`), and `And`/`Or` with fewer than
/// two operands, which the parser never builds, print as an equivalent expression
/// (`all()` for an empty `And`, `!all()` for an empty `Or`).
///
/// Calico strings have no escapes, so a value holding both `'` and `"`, or a key
/// outside `[A-Za-z0-9_./-]`, has no Calico spelling; such values only come from
/// trees built by hand, and print as is.
impl fmt::Display for SelectorExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorExpr::All => f.write_str("all()"),
            SelectorExpr::Global => f.write_str("global()"),
            SelectorExpr::Has(key) => write!(f, "has({key})"),
            SelectorExpr::Equals(key, value) => write!(f, "{key} == {}", Quoted(value)),
            SelectorExpr::NotEquals(key, value) => write!(f, "{key} != {}", Quoted(value)),
            SelectorExpr::In(key, values) => write!(f, "{key} in {}", Set(values)),
            SelectorExpr::NotIn(key, values) => write!(f, "{key} not in {}", Set(values)),
            SelectorExpr::StartsWith(key, value) => write!(f, "{key} starts with {}", Quoted(value)),
            SelectorExpr::EndsWith(key, value) => write!(f, "{key} ends with {}", Quoted(value)),
            SelectorExpr::Contains(key, value) => write!(f, "{key} contains {}", Quoted(value)),
            SelectorExpr::Not(inner) if matches!(**inner, SelectorExpr::Not(_)) => write!(f, "!({inner})"),
            SelectorExpr::Not(inner) => write!(f, "!{inner}"),
            SelectorExpr::And(operands) => chain(f, operands, " && ", "all()"),
            SelectorExpr::Or(operands) => chain(f, operands, " || ", "!all()"),
        }
    }
}

/// A `&&` or `||` chain in parentheses; `empty` is what a chain without operands means.
fn chain(f: &mut fmt::Formatter<'_>, operands: &[SelectorExpr], separator: &str, empty: &str) -> fmt::Result {
    if operands.is_empty() {
        return f.write_str(empty);
    }
    f.write_str("(")?;
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        write!(f, "{operand}")?;
    }
    f.write_str(")")
}

/// A value in the quotes Calico picks: `"`, or `'` when the value holds a `"`.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = if self.0.contains('"') { '\'' } else { '"' };
        write!(f, "{quote}{}{quote}", self.0)
    }
}

/// A set literal: `{"a", "b"}`.
struct Set<'a>(&'a [String]);

impl fmt::Display for Set<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, value) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Quoted(value))?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::SelectorExpr::{self, *};

    fn s(text: &str) -> String {
        text.to_string()
    }

    #[test]
    fn prints_calico_canonical_form() {
        let cases: Vec<(SelectorExpr, &str)> = vec![
            (All, "all()"),
            (Global, "global()"),
            (Has(s("app")), "has(app)"),
            (Equals(s("app"), s("web")), r#"app == "web""#),
            (NotEquals(s("a"), s(r#"say "hi""#)), r#"a != 'say "hi"'"#),
            (Equals(s("a"), s("it's")), r#"a == "it's""#),
            (In(s("tier"), vec![s("a"), s("b")]), r#"tier in {"a", "b"}"#),
            (NotIn(s("tier"), vec![]), "tier not in {}"),
            (StartsWith(s("k"), s("x")), r#"k starts with "x""#),
            (EndsWith(s("k"), s("x")), r#"k ends with "x""#),
            (Contains(s("k"), s("x")), r#"k contains "x""#),
            (Not(Box::new(Has(s("a")))), "!has(a)"),
            (Not(Box::new(Equals(s("a"), s("b")))), r#"!a == "b""#),
            (Not(Box::new(Not(Box::new(Has(s("a")))))), "!(!has(a))"),
            (And(vec![Has(s("a")), Has(s("b"))]), "(has(a) && has(b))"),
            (Or(vec![And(vec![Has(s("a")), Has(s("b"))]), Global]), "((has(a) && has(b)) || global())"),
            (Not(Box::new(Or(vec![Has(s("a")), Has(s("b"))]))), "!(has(a) || has(b))"),
            (And(vec![]), "all()"),
            (Or(vec![]), "!all()"),
            (And(vec![Has(s("a"))]), "(has(a))"),
        ];
        for (expr, text) in cases {
            assert_eq!(expr.to_string(), text, "{expr:?}");
        }
    }
}

//! Calico selector matching, as Calico's own evaluator does it
//! (libcalico-go/lib/selector/parser/ast.go in projectcalico/calico).

use netdoctor_model::calico::SelectorExpr;
use netdoctor_model::k8s::Labels;

/// Whether an object with `labels` matches `expr`; `namespaced` says whether the object
/// lives in a namespace (a pod) or not (a host endpoint, a GlobalNetworkSet).
///
/// `!=` and `not in` also match objects without the key, and every other comparison
/// needs it (the docs' selector table, and `Evaluate` in ast.go). Substring tests are
/// on bytes, as Go's `strings` functions are.
///
/// `global()` matches only objects outside namespaces. The docs define it as "Match
/// all non-namespaced resources. Useful in a `namespaceSelector`"; ast.go's
/// `GlobalNode` alone evaluates to true, because Calico gives it that meaning before
/// evaluation: libcalico-go/lib/backend/syncersv1/updateprocessors/rules.go rewrites a
/// rule's `namespaceSelector` text, `global()` to `!has(projectcalico.org/namespace)`.
/// The same rewrite turns a `namespaceSelector`'s `all()` into
/// `has(projectcalico.org/namespace)`, so that it leaves out non-namespaced objects;
/// that depends on which field the selector came from, not on the object, so it is
/// the caller's to apply, and `all()` here matches everything.
///
/// Recursion follows the depth of the tree, which `parse` bounds.
pub fn matches_expr(expr: &SelectorExpr, labels: &Labels, namespaced: bool) -> bool {
    let value = |key: &String| labels.get(key);
    match expr {
        SelectorExpr::All => true,
        SelectorExpr::Global => !namespaced,
        SelectorExpr::Has(key) => labels.contains_key(key),
        SelectorExpr::Equals(key, want) => value(key) == Some(want),
        SelectorExpr::NotEquals(key, want) => value(key) != Some(want),
        SelectorExpr::In(key, set) => value(key).is_some_and(|v| set.contains(v)),
        SelectorExpr::NotIn(key, set) => value(key).is_none_or(|v| !set.contains(v)),
        SelectorExpr::StartsWith(key, prefix) => value(key).is_some_and(|v| v.starts_with(prefix.as_str())),
        SelectorExpr::EndsWith(key, suffix) => value(key).is_some_and(|v| v.ends_with(suffix.as_str())),
        SelectorExpr::Contains(key, part) => value(key).is_some_and(|v| v.contains(part.as_str())),
        SelectorExpr::Not(inner) => !matches_expr(inner, labels, namespaced),
        SelectorExpr::And(operands) => operands.iter().all(|e| matches_expr(e, labels, namespaced)),
        SelectorExpr::Or(operands) => operands.iter().any(|e| matches_expr(e, labels, namespaced)),
    }
}

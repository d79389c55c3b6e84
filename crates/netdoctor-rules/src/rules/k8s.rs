//! What the Kubernetes rules share: which namespaces the manifests describe, and the
//! closest label to one a selector asks for (for "did you mean" fixes).

use netdoctor_model::k8s::{Cluster, LabelSelector, Labels, Pod};
use std::collections::BTreeSet;

/// The namespace CoreDNS/kube-dns and the node agents live in.
pub(crate) const KUBE_SYSTEM: &str = "kube-system";

/// Namespaces in which at least one pod or workload was read: only there can a
/// selector that matches nothing be told apart from a tree that leaves the pods out.
pub(crate) fn namespaces_with_pods(cluster: &Cluster) -> BTreeSet<&str> {
    cluster.pods.iter().map(|p| p.namespace.as_str()).collect()
}

/// Whether a namespace belongs to the platform rather than to an application:
/// `kube-system` and other `kube-*`, `*-system` (calico-system, ibm-system, …) and
/// `openshift-*` namespaces.
pub(crate) fn is_system_namespace(namespace: &str) -> bool {
    namespace.starts_with("kube-") || namespace.ends_with("-system") || namespace.starts_with("openshift")
}

/// One pod per workload: the first pod read of each (namespace, owner), so a dump of
/// live pods reports a DaemonSet once rather than once per node.
pub(crate) fn one_pod_per_workload(cluster: &Cluster) -> impl Iterator<Item = &Pod> {
    let mut seen = BTreeSet::new();
    cluster.pods.iter().filter(move |p| seen.insert((p.namespace.as_str(), &p.owner)))
}

/// A selector label nobody carries, and the closest one that somebody does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabelHint {
    /// `key=value` as the selector asks it.
    pub asked: String,
    /// `key=value` as the closest candidate carries it.
    pub closest: String,
    /// Edit distance between the two (one more when the keys differ).
    pub distance: usize,
    /// Whether the two read like a typo of one another rather than unrelated labels.
    typo: bool,
}

impl LabelHint {
    pub(crate) fn is_typo(&self) -> bool {
        self.typo
    }
}

/// Whether `b` reads like a misspelling of `a`: within a third of the longer one's
/// length (at least 2) when the keys agree, within 2 over the whole pair otherwise.
fn near(key_a: &str, value_a: &str, key_b: &str, value_b: &str) -> bool {
    if key_a == key_b {
        let longest = value_a.chars().count().max(value_b.chars().count());
        strsim::levenshtein(value_a, value_b) <= (longest / 3).max(2)
    } else {
        strsim::levenshtein(&format!("{key_a}={value_a}"), &format!("{key_b}={value_b}")) <= 2
    }
}

/// For a selector that matches none of `candidates`: the first `matchLabels` pair no
/// candidate carries, and the closest pair a candidate does carry. `None` when every
/// pair is carried by someone (only their combination is missing), for selectors of
/// expressions only, or when there are no candidates.
pub(crate) fn label_hint<'a>(selector: &LabelSelector, candidates: impl Iterator<Item = &'a Labels> + Clone) -> Option<LabelHint> {
    let (key, value) = selector.match_labels.iter().find(|(k, v)| !candidates.clone().any(|labels| labels.get(*k) == Some(*v)))?;
    let asked = format!("{key}={value}");
    let mut best: Option<LabelHint> = None;
    for labels in candidates {
        for (k, v) in labels {
            let pair = format!("{k}={v}");
            // Same key weighs more than a similar spelling of another key.
            let distance = strsim::levenshtein(&asked, &pair) + usize::from(k != key);
            if best.as_ref().is_none_or(|b| distance < b.distance || (distance == b.distance && pair < b.closest)) {
                best = Some(LabelHint { asked: asked.clone(), closest: pair, distance, typo: near(key, value, k, v) });
            }
        }
    }
    best
}

/// The candidate label set sharing the most `matchLabels` pairs with the selector, for
/// "pods carry ..." when each pair exists somewhere but never together.
pub(crate) fn closest_label_set<'a>(selector: &LabelSelector, candidates: impl Iterator<Item = &'a Labels>) -> Option<&'a Labels> {
    candidates.filter(|l| !l.is_empty()).max_by_key(|labels| {
        (selector.match_labels.iter().filter(|(k, v)| labels.get(*k) == Some(*v)).count(), std::cmp::Reverse(labels.len()))
    })
}

/// `{a=b, c=d}`.
pub(crate) fn show_labels(labels: &Labels) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// A list of names for a message, cut after `max` with a count of the rest.
pub(crate) fn list_names<I: IntoIterator<Item = String>>(names: I, max: usize) -> String {
    let all: Vec<String> = names.into_iter().collect();
    let shown: Vec<String> = all.iter().take(max).map(|n| format!("`{n}`")).collect();
    match all.len().saturating_sub(max) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// `ns/name` of a pod or workload.
pub(crate) fn pod_name(pod: &Pod) -> String {
    format!("{}/{}", pod.namespace, pod.owner.name)
}

/// What a selector asks, and what the candidates carry instead, as one sentence part:
/// `the selector asks app=apii; pods carry app=api`.
pub(crate) fn mismatch_hint<'a>(
    selector: &LabelSelector,
    candidates: impl Iterator<Item = &'a Labels> + Clone,
    carriers: &str,
) -> Option<String> {
    if selector.match_labels.is_empty() {
        // Expressions only: say which values of the first key are carried.
        let key = &selector.match_expressions.first()?.key;
        let values: BTreeSet<&str> = candidates.filter_map(|l| l.get(key)).map(String::as_str).collect();
        return Some(if values.is_empty() {
            format!("no {carriers} carry the label `{key}`")
        } else {
            format!("{carriers} carry `{key}` = {}", list_names(values.into_iter().map(str::to_string), 5))
        });
    }
    if let Some(h) = label_hint(selector, candidates.clone()) {
        return Some(format!("{carriers} carry `{}`, the selector asks `{}`", h.closest, h.asked));
    }
    closest_label_set(selector, candidates).map(|l| format!("{carriers} carry {} but never all of {selector} together", show_labels(l)))
}

/// The custom resource of `namespace` that probably makes the pods `selector` means: its
/// name, or its kind, is a key (its last part) or value of the selector (`prometheus: k8s`
/// for the Prometheus `k8s`, `app.kubernetes.io/instance: main` for the Alertmanager
/// `main`). Operators turn such resources into pods the manifests do not hold.
pub(crate) fn probable_maker<'c>(
    cluster: &'c Cluster,
    namespace: &str,
    selector: &Labels,
) -> Option<&'c netdoctor_model::k8s::CustomResource> {
    let words: Vec<String> =
        selector.iter().flat_map(|(k, v)| [k.rsplit('/').next().unwrap_or(k).to_ascii_lowercase(), v.to_ascii_lowercase()]).collect();
    cluster.custom_resources.iter().filter(|cr| cr.namespace == namespace).find(|cr| {
        let (name, kind) = (cr.name.to_ascii_lowercase(), cr.kind.to_ascii_lowercase());
        words.iter().any(|w| *w == name || *w == kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn hints_name_the_closest_label() {
        let pods = [labels(&[("app", "api"), ("tier", "be")]), labels(&[("app", "web")])];
        let sel = LabelSelector::from_labels([("app", "apii")]);
        let hint = label_hint(&sel, pods.iter()).unwrap_or_else(|| panic!("a hint"));
        assert_eq!((hint.closest.as_str(), hint.is_typo()), ("app=api", true));
        let far = LabelSelector::from_labels([("role", "payments-gateway")]);
        assert!(!label_hint(&far, pods.iter()).is_some_and(|h| h.is_typo()));
        let combo = LabelSelector::from_labels([("app", "web"), ("tier", "be")]);
        assert_eq!(label_hint(&combo, pods.iter()), None);
        assert_eq!(
            mismatch_hint(&combo, pods.iter(), "pods").as_deref(),
            Some("pods carry {app=web} but never all of {app=web, tier=be} together")
        );
        assert_eq!(list_names(["a".to_string(), "b".into(), "c".into()], 2), "`a`, `b` and 1 more");
        let expr = LabelSelector {
            match_labels: Labels::new(),
            match_expressions: vec![netdoctor_model::k8s::LabelRequirement {
                key: "tier".into(),
                operator: netdoctor_model::k8s::SelectorOperator::In,
                values: vec!["db".into()],
            }],
        };
        assert_eq!(mismatch_hint(&expr, pods.iter(), "pods").as_deref(), Some("pods carry `tier` = `be`"));
    }
}

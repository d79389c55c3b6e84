//! ND402: NetworkPolicy selectors that match no pod or namespace.

use crate::prelude::*;
use crate::rules::k8s::{label_hint, mismatch_hint, namespaces_with_pods, probable_maker};
use netdoctor_engine::policy::TieredSource;
use netdoctor_model::calico::SelectorExpr;
use netdoctor_model::k8s::{LabelSelector, Labels, NetworkPolicy, PolicyPeer, PolicyRule};
use std::collections::BTreeSet;
use std::collections::HashMap;

declare_rule! {
    /// ## What it checks
    /// Policy selectors that match nothing. In each NetworkPolicy: a peer's
    /// `namespaceSelector` that matches no namespace, a
    /// peer's `podSelector` that matches no pod of the namespaces it looks in (when the
    /// peer also has a `namespaceSelector`, only on a near miss of a present label), and a
    /// policy `podSelector` that matches no pod of its namespace while a pod there carries
    /// a label one typo away. A policy `podSelector` matching nothing without such a near
    /// miss is a stale policy, reported by ND602 instead. Only namespaces of which the
    /// manifests hold pods or workloads are judged, and the peers of a policy that selects
    /// no pod are not (the policy itself is the finding). A `namespaceSelector` that matches no
    /// namespace is reported only when the manifests declare Namespace objects and one of
    /// them carries a near miss of the label, or one of them is named by the selector's
    /// value under a label it lacks (`name: monitoring`, where Kubernetes labels namespace
    /// `monitoring` with `kubernetes.io/metadata.name`), in NetworkPolicy peers and in
    /// admin policies' subjects and peers alike; a namespace the manifests do not declare
    /// may carry the label, so it is never judged. Calico and Cilium policies whose own selector selects no pod
    /// while a pod in their scope carries a label one typo away from an equality the
    /// selector asks (`app == 'apii'`, `matchLabels: {app: apii}`) are reported too.
    /// A peer whose pods an operator makes from a custom resource of the namespace (the
    /// Prometheus `k8s` for `app.kubernetes.io/name: prometheus`: the resource's name or
    /// kind among the selector's labels) is no mistake: it is reported at info, naming the
    /// resource, since those pods are never in the manifests.
    ///
    /// ## Why it matters
    /// A peer that matches nothing allows nothing: the traffic the rule was written for is
    /// denied. A policy that selects nothing protects nothing. Both usually come from a label
    /// that was never applied or is spelled differently.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: { matchLabels: { app: db } }
    ///   ingress: [{ from: [{ podSelector: { matchLabels: { app: apii } } }] }]   # pods carry app=api
    /// ```
    ///
    /// ## Fix
    /// Use the label the pods or namespaces really carry (the finding names the closest one), or label them as the policy expects.
    pub struct SelectorMatchesNothing => Warning, "ND402";
}

impl Check for SelectorMatchesNothing {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let k8s = &cx.model.k8s;
        let with_pods = namespaces_with_pods(k8s);
        let namespaces_known = !k8s.namespaces.is_empty();
        for (i, policy) in k8s.network_policies.iter().enumerate() {
            let name = policy.full_name();
            let selects_nothing = with_pods.contains(policy.namespace.as_str()) && engine.policy_classes(i).is_empty();
            if selects_nothing && !policy.pod_selector.is_empty() {
                let candidates = engine.pods_in(&policy.namespace).map(|p| &p.labels);
                if let Some(hint) = label_hint(&policy.pod_selector, candidates).filter(|h| h.is_typo()) {
                    out.report(
                        &policy.origin,
                        format!(
                            "policy `{name}` selects {}, which no pod in `{}` carries (pods carry `{}`): the policy applies to nothing",
                            policy.pod_selector, policy.namespace, hint.closest
                        ),
                    )
                    .subjects([name.clone()])
                    .help(format!(
                        "change `{}` to `{}` in the podSelector of `{name}`, or label the pods it is meant for",
                        hint.asked, hint.closest
                    ));
                }
            }
            if selects_nothing {
                // The policy applies to nothing; its peers do not matter until it does.
                continue;
            }
            let rules = policy.ingress.iter().map(|r| ("ingress", r)).chain(policy.egress.iter().map(|r| ("egress", r)));
            for (direction, rule) in rules {
                let scope = Scope { cx, engine, namespaces_known, with_pods: &with_pods };
                check_rule(&scope, policy, direction, rule, out);
            }
        }
        cni_policies(cx, engine, &with_pods, out);
        admin_policies(cx, engine, out);
    }
}

/// A declared namespace a selector names by value under a label it does not carry: the
/// classic `namespaceSelector: {matchLabels: {name: monitoring}}`, where Kubernetes labels
/// namespace `monitoring` `kubernetes.io/metadata.name=monitoring` and nobody set `name`.
struct MeantNamespace {
    namespace: String,
    key: String,
    value: String,
    /// The label the namespace carries with its name, when it has one.
    carries: Option<String>,
}

impl MeantNamespace {
    /// The finding's message and fix, for `who` (which selector), ending in `consequence`.
    fn explain(&self, who: &str, consequence: &str) -> (String, String) {
        let MeantNamespace { namespace, key, value, carries } = self;
        let has = carries.as_ref().map_or_else(|| "no label with its name".to_string(), |k| format!("`{k}={value}`"));
        (
            format!("{who} selects namespaces `{key}={value}`, but namespace `{namespace}` carries {has} and no `{key}` label: {consequence}"),
            match carries {
                Some(k) => format!("select `{k}: {value}` instead (Kubernetes sets it on every namespace), or label namespace `{namespace}` `{key}={value}`"),
                None => format!("label namespace `{namespace}` `{key}={value}`, or select a label it carries"),
            },
        )
    }
}

/// The declared namespace `selector` means by name (see `MeantNamespace`), when it matches
/// no namespace. Namespaces the manifests do not declare may carry the label: never judged.
fn meant_namespace(selector: &LabelSelector, namespaces: &[netdoctor_engine::policy::NamespaceInfo]) -> Option<MeantNamespace> {
    selector.match_labels.iter().find_map(|(key, value)| {
        let ns = namespaces.iter().find(|n| n.declared && &n.name == value && !n.labels.contains_key(key))?;
        let carries = ns.labels.iter().find(|(k, v)| *v == value && *k != key).map(|(k, _)| k.clone());
        Some(MeantNamespace { namespace: ns.name.clone(), key: key.clone(), value: value.clone(), carries })
    })
}

/// Admin policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy)
/// whose subject or peers select namespaces by a name label the declared namespace lacks.
fn admin_policies(cx: &RuleContext<'_>, engine: &netdoctor_engine::policy::PolicyEngine<'_>, out: &mut Diagnostics) {
    use netdoctor_model::k8s::{AdminPeer, AdminSubject};
    for policy in &cx.model.k8s.admin_policies {
        let name = format!("{} {}", policy.kind, policy.name);
        let subject = match &policy.subject {
            AdminSubject::Namespaces(sel) => Some(sel),
            AdminSubject::Pods { namespace_selector, .. } => Some(namespace_selector),
        };
        let subject_miss = subject.filter(|s| engine.namespaces_matching(s).is_empty()).and_then(|s| meant_namespace(s, &engine.namespaces));
        if let Some(meant) = subject_miss {
            let (message, help) = meant.explain(&format!("the subject of {name}"), "the policy applies to nothing");
            out.report(&policy.origin, message).subjects([policy.name.clone()]).help(help);
            continue;
        }
        for rule in policy.ingress.iter().chain(&policy.egress) {
            for peer in &rule.peers {
                let sel = match peer {
                    AdminPeer::Namespaces(sel) | AdminPeer::Pods { namespace_selector: sel, .. } => sel,
                    _ => continue,
                };
                if !engine.namespaces_matching(sel).is_empty() {
                    continue;
                }
                if let Some(meant) = meant_namespace(sel, &engine.namespaces) {
                    let (message, help) = meant.explain(&format!("a peer of rule `{}` of {name}", rule.name), "the peer matches nothing");
                    out.report(&rule.origin, message).subjects([policy.name.clone()]).help(help);
                }
            }
        }
    }
}

/// The `key == 'value'` terms a Calico selector requires (all of them, when it is a
/// conjunction), as a label selector for the typo hint.
fn required_equalities(expr: &SelectorExpr) -> LabelSelector {
    let pairs: Vec<(String, String)> = match expr {
        SelectorExpr::Equals(k, v) => vec![(k.clone(), v.clone())],
        SelectorExpr::In(k, vs) if vs.len() == 1 => vs.iter().map(|v| (k.clone(), v.clone())).collect(),
        SelectorExpr::And(terms) => terms.iter().flat_map(|t| required_equalities(t).match_labels).collect(),
        _ => Vec::new(),
    };
    LabelSelector::from_labels(pairs)
}

/// Calico and Cilium policies that select no pod of their scope, where a pod there
/// carries a label one typo away from what the selector asks.
fn cni_policies(
    cx: &RuleContext<'_>,
    engine: &netdoctor_engine::policy::PolicyEngine<'_>,
    with_pods: &BTreeSet<&str>,
    out: &mut Diagnostics,
) {
    let k8s = &cx.model.k8s;
    let calico = k8s.calico_policies.iter().enumerate().map(|(i, p)| {
        (TieredSource::Calico(i), p.display_name(), p.namespace.as_deref(), required_equalities(&p.selector), &p.origin, "selector")
    });
    let cilium = k8s.cilium_policies.iter().enumerate().filter_map(|(i, p)| {
        let sel = p.rules.iter().find_map(|r| r.endpoint_selector.as_ref())?;
        let plain = LabelSelector::from_labels(sel.match_labels.iter().map(|(k, v)| (k.strip_prefix("k8s:").unwrap_or(k), v.as_str())));
        Some((TieredSource::Cilium(i), p.display_name(), p.namespace.as_deref(), plain, &p.origin, "endpointSelector"))
    });
    // The distinct label sets per namespace (one per pod class), looked up per policy.
    let mut labels_by_ns: HashMap<&str, Vec<&Labels>> = HashMap::new();
    for (c, class) in engine.classes.iter().enumerate() {
        labels_by_ns.entry(engine.class_namespace(c)).or_default().push(&class.labels);
    }
    let all_labels: Vec<&Labels> = engine.classes.iter().map(|c| &c.labels).collect();
    for (source, name, namespace, wanted, origin, field) in calico.chain(cilium) {
        if wanted.is_empty() || engine.cni_policy_selects_pods(source) {
            continue;
        }
        if namespace.is_some_and(|ns| !with_pods.contains(ns)) {
            continue;
        }
        let candidates: &[&Labels] = match namespace {
            Some(ns) => labels_by_ns.get(ns).map(Vec::as_slice).unwrap_or_default(),
            None => &all_labels,
        };
        let Some(hint) = label_hint(&wanted, candidates.iter().copied()).filter(|h| h.is_typo()) else { continue };
        let scope = namespace.map_or_else(|| "the cluster".to_string(), |ns| format!("`{ns}`"));
        // In the policy's own syntax: `app == 'api'` for Calico, `app: api` for Cilium.
        let written = |pair: &str| match pair.split_once('=') {
            Some((k, v)) if field == "selector" => format!("{k} == '{v}'"),
            Some((k, v)) => format!("{k}: {v}"),
            None => pair.to_string(),
        };
        let (asked, closest) = (written(&hint.asked), written(&hint.closest));
        out.report(
            origin,
            format!("{name} selects no pod: its `{field}` asks `{asked}`, which no pod in {scope} carries (pods carry `{}`)", hint.closest),
        )
        .subjects([name.clone()])
        .help(format!("change `{asked}` to `{closest}` in the `{field}` of {name}, or label the pods it is meant for"));
    }
}

/// What a NetworkPolicy peer is judged against: the cluster, its engine, whether the
/// manifests declare namespaces, and the namespaces that hold pods.
struct Scope<'a, 'c> {
    cx: &'a RuleContext<'c>,
    engine: &'a netdoctor_engine::policy::PolicyEngine<'c>,
    namespaces_known: bool,
    with_pods: &'a BTreeSet<&'a str>,
}

fn check_rule(scope: &Scope<'_, '_>, policy: &NetworkPolicy, direction: &str, rule: &PolicyRule, out: &mut Diagnostics) {
    let Scope { cx, engine, namespaces_known, with_pods } = *scope;
    let k8s = &cx.model.k8s;
    let name = policy.full_name();
    for peer in &rule.peers {
        let PolicyPeer::Pods { namespace_selector, pod_selector, origin } = peer else { continue };
        // The namespaces the pod selector looks in.
        let namespaces: Vec<String> = match namespace_selector {
            None => vec![policy.namespace.clone()],
            Some(sel) => {
                let matched: Vec<String> =
                    engine.namespaces_matching(sel).into_iter().filter_map(|n| engine.namespaces.get(n)).map(|n| n.name.clone()).collect();
                // A namespace outside the manifests may carry the label: only a near miss of a
                // label that is present tells a typo.
                let typo = matched.is_empty() && namespaces_known && !sel.is_empty();
                // The near miss is looked for only when nothing matched (a scan of every namespace).
                let hint = typo.then(|| label_hint(sel, engine.namespaces.iter().map(|n| &n.labels))).flatten();
                if let Some(hint) = hint.filter(|h| h.is_typo()) {
                    out.report(
                        origin,
                        format!("{direction} peer of policy `{name}` selects namespaces {sel}, which no namespace carries (namespaces carry `{}`, the selector asks `{}`): the peer matches nothing", hint.closest, hint.asked),
                    )
                    .subjects([name.clone()])
                    .help(format!("change `{}` to `{}` in the namespaceSelector, or label the namespace it is meant for", hint.asked, hint.closest));
                    continue;
                }
                if let Some(meant) = matched.is_empty().then(|| meant_namespace(sel, &engine.namespaces)).flatten() {
                    let (message, help) = meant.explain(&format!("{direction} peer of policy `{name}`"), "the peer matches nothing");
                    out.report(origin, message).subjects([name.clone()]).help(help);
                    continue;
                }
                matched
            }
        };
        let Some(pod_sel) = pod_selector.as_ref().filter(|s| !s.is_empty()) else { continue };
        let judged: Vec<&String> = namespaces.iter().filter(|n| with_pods.contains(n.as_str())).collect();
        if judged.is_empty() || !engine.peer_classes(&policy.namespace, peer).is_empty() {
            continue;
        }
        let candidates = judged.iter().flat_map(|ns| engine.pods_in(ns)).map(|p| &p.labels);
        // Across namespaces, the pods meant may live in one the manifests leave out (the
        // cluster DNS in kube-system, typically): only a near miss tells a typo there.
        if namespace_selector.is_some() && !label_hint(pod_sel, candidates.clone()).is_some_and(|h| h.is_typo()) {
            continue;
        }
        // Pods an operator makes from a custom resource are not in the manifests.
        if let Some(cr) = judged.iter().find_map(|ns| probable_maker(k8s, ns, &pod_sel.match_labels)) {
            out.report(
                origin,
                format!(
                    "{direction} peer of policy `{name}` selects pods {pod_sel}, which no pod of the manifests carries; {} probably creates them (an operator makes its pods)",
                    cr.display_name()
                ),
            )
            .severity(Severity::Info)
            .subjects([name.clone()])
            .help(format!("nothing to change if the operator for {}.{} runs in the cluster; otherwise install it", cr.kind, cr.group));
            continue;
        }
        let help = match label_hint(pod_sel, candidates.clone()).filter(|h| h.is_typo()) {
            Some(h) => {
                format!("change `{}` to `{}` in the peer's podSelector, or label the intended pods `{}`", h.asked, h.closest, h.asked)
            }
            None => format!("change the peer's podSelector to labels the intended pods carry, or add {pod_sel} to them"),
        };
        let hint = mismatch_hint(pod_sel, candidates, "pods").map(|h| format!(" ({h})")).unwrap_or_default();
        let place = match judged.as_slice() {
            [one] => format!("namespace `{one}`"),
            many => format!("namespaces {}", many.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
        };
        out.report(origin, format!("{direction} peer of policy `{name}` selects pods {pod_sel}, which no pod in {place} carries{hint}: the peer matches nothing and allows no traffic"))
            .subjects([name.clone()])
            .help(help);
    }
}

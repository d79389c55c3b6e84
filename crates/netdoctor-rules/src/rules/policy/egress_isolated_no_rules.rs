//! ND408: `policyTypes: [Egress]` without egress rules.

use crate::prelude::*;
use crate::rules::k8s::list_names;
use netdoctor_engine::policy::TieredSource;
use netdoctor_model::calico_policy::DEFAULT_TIER;
use netdoctor_model::k8s::PolicyType;

declare_rule! {
    /// ## What it checks
    /// NetworkPolicies whose `policyTypes` lists `Egress` while `egress` is absent or
    /// empty. The finding says whether other policies allow some egress to the same pods
    /// (a deliberate default-deny) or none do (the pods can open no connection at all).
    /// The same for Calico policies whose `types` list `Egress` without egress rules: at
    /// the end of their tier, every outbound connection of their pods that no other
    /// policy there decides is denied. And for Cilium policies whose `egress` holds only
    /// empty rules (`egress: [{}]`, Cilium's default-deny idiom) with default deny on.
    ///
    /// ## Why it matters
    /// Such a policy denies every outbound connection of the pods it selects, DNS lookups
    /// included, unless another policy allows them. It is often written to isolate ingress
    /// only, with `Egress` added to `policyTypes` by copy and paste.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: { matchLabels: { app: api } }
    ///   policyTypes: [Ingress, Egress]
    ///   ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }] }]
    /// ```
    ///
    /// ## Fix
    /// Remove `Egress` from `policyTypes` if only ingress was meant, or add the egress the pods need (`egress: [{}]` allows all); a deliberate default-deny must come with policies that allow DNS (UDP and TCP 53 to kube-dns) and the pods' real destinations.
    pub struct EgressIsolatedNoRules => Warning, "ND408";
}

impl Check for EgressIsolatedNoRules {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        calico_egress_without_rules(cx, out);
        cilium_egress_without_rules(cx, out);
        let policies = &cx.model.k8s.network_policies;
        for (i, policy) in policies.iter().enumerate() {
            let lists_egress = policy.policy_types.as_ref().is_some_and(|t| t.contains(&PolicyType::Egress));
            if !lists_egress || !policy.egress.is_empty() {
                continue;
            }
            let name = policy.full_name();
            let pods = if policy.pod_selector.is_empty() {
                format!("every pod of `{}`", policy.namespace)
            } else {
                format!("the pods it selects ({})", policy.pod_selector)
            };
            // Other policies that give some of the same pods egress rules.
            let mut helpers: Vec<String> = Vec::new();
            if let Some(engine) = cx.analysis.policy.as_ref() {
                for class in engine.policy_classes(i) {
                    for &p in engine.network_policies_for(class, PolicyType::Egress) {
                        let Some(other) = policies.get(p).filter(|o| p != i && !o.egress.is_empty()) else { continue };
                        if !helpers.contains(&other.full_name()) {
                            helpers.push(other.full_name());
                        }
                    }
                }
            }
            let message = if helpers.is_empty() {
                format!("policy `{name}` lists Egress in policyTypes with no egress rules, and no other policy gives its pods egress: every outbound connection of {pods} is denied, DNS included")
            } else {
                format!(
                    "policy `{name}` lists Egress in policyTypes with no egress rules: a default-deny for egress of {pods}; only egress that {} allow goes out",
                    list_names(helpers, 3)
                )
            };
            out.report(&policy.origin, message).subjects([name.clone()]).help(format!(
                "if `{name}` should only isolate ingress, remove `Egress` from its policyTypes; if the pods need egress, add rules (`egress: [{{}}]` allows all); a deliberate default-deny needs a policy allowing UDP and TCP 53 to kube-dns"
            ));
        }
    }
}

/// Calico policies whose `types` list `Egress` with no egress rules.
fn calico_egress_without_rules(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    let Some(engine) = cx.analysis.policy.as_ref() else { return };
    let k8s = &cx.model.k8s;
    for (i, policy) in k8s.calico_policies.iter().enumerate() {
        if !policy.types.contains(&PolicyType::Egress) || !policy.egress.is_empty() {
            continue;
        }
        let me = TieredSource::Calico(i);
        let classes = engine.cni_policy_classes(me, PolicyType::Egress);
        if classes.is_empty() {
            continue;
        }
        // Other policies of the same tier with egress rules for the same pods.
        let same_tier = |s: &TieredSource| match s {
            TieredSource::Calico(j) => {
                k8s.calico_policies.get(*j).filter(|p| p.tier == policy.tier && !p.egress.is_empty()).map(|p| p.display_name())
            }
            TieredSource::Kubernetes(j) => k8s
                .network_policies
                .get(*j)
                .filter(|p| policy.tier == DEFAULT_TIER && !p.egress.is_empty())
                .map(|p| format!("NetworkPolicy {}", p.full_name())),
            _ => None,
        };
        let helpers = other_egress(engine, classes, me, same_tier);
        let name = policy.display_name();
        let pods = list_names(classes.iter().flat_map(|&c| engine.class_workloads(c).map(|w| w.name())), 3);
        let message = if helpers.is_empty() {
            format!("{name} lists Egress in `types` with no egress rules, and no other policy of tier `{}` gives its pods egress rules: every outbound connection of {pods} that no earlier tier decides is denied, DNS included", policy.tier)
        } else {
            format!("{name} lists Egress in `types` with no egress rules: a default-deny for egress of {pods}; only egress that {} allow goes out", list_names(helpers, 3))
        };
        out.report(&policy.origin, message).subjects([name.clone()]).help(format!(
            "if {name} should only isolate ingress, remove `Egress` from its `types`; if the pods need egress, add rules (`- action: Allow` allows all); a deliberate default-deny needs an Allow for UDP and TCP 53 to kube-dns"
        ));
    }
}

/// Cilium policies whose egress rules are all empty (`egress: [{}]`): their pods are in
/// default deny for egress, and these rules allow nothing.
fn cilium_egress_without_rules(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    let Some(engine) = cx.analysis.policy.as_ref() else { return };
    let k8s = &cx.model.k8s;
    for (i, policy) in k8s.cilium_policies.iter().enumerate() {
        let pod_rules = || policy.rules.iter().filter(|r| r.endpoint_selector.is_some());
        let only_empty = |r: &netdoctor_model::cilium::CiliumRule| {
            r.egress.as_ref().is_some_and(|l| !l.is_empty() && l.iter().all(|e| e.matches_nothing()))
                && r.default_deny_egress != Some(false)
        };
        let allows_egress = |r: &netdoctor_model::cilium::CiliumRule| r.egress.iter().flatten().any(|e| !e.matches_nothing());
        let Some(rule) = pod_rules().find(|r| only_empty(r)) else { continue };
        if pod_rules().any(allows_egress) {
            continue;
        }
        let me = TieredSource::Cilium(i);
        let classes = engine.cni_policy_classes(me, PolicyType::Egress);
        if classes.is_empty() {
            continue;
        }
        // Other allow rules for the same pods: Cilium's, and the NetworkPolicies Cilium
        // enforces beside them.
        let allows = |s: &TieredSource| match s {
            TieredSource::Cilium(j) => k8s
                .cilium_policies
                .get(*j)
                .filter(|p| p.rules.iter().filter(|r| r.endpoint_selector.is_some()).any(allows_egress))
                .map(|p| p.display_name()),
            TieredSource::Kubernetes(j) => {
                k8s.network_policies.get(*j).filter(|p| !p.egress.is_empty()).map(|p| format!("NetworkPolicy {}", p.full_name()))
            }
            _ => None,
        };
        let helpers = other_egress(engine, classes, me, allows);
        let name = policy.display_name();
        let pods = list_names(classes.iter().flat_map(|&c| engine.class_workloads(c).map(|w| w.name())), 3);
        let message = if helpers.is_empty() {
            format!("{name} has only empty egress rules (`egress: [{{}}]`), which put {pods} in default deny for egress and allow nothing, and no other policy allows them egress: every outbound connection is denied, DNS included")
        } else {
            format!(
                "{name} has only empty egress rules (`egress: [{{}}]`): a default-deny for egress of {pods}; only egress that {} allow goes out",
                list_names(helpers, 3)
            )
        };
        out.report(&rule.origin, message).subjects([name.clone()]).help(format!(
            "if {name} should only restrict ingress, remove its `egress` section; if the pods need egress, add `toEndpoints`/`toEntities`/`toPorts` rules; a deliberate default-deny needs a rule allowing UDP and TCP 53 to kube-dns (`toEndpoints: [{{matchLabels: {{k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}}}]`)"
        ));
    }
}

/// The policies other than `me` that select some of `classes` for egress and that
/// `allows_egress` names (those giving the pods egress), each once, in order.
fn other_egress(
    engine: &netdoctor_engine::policy::PolicyEngine<'_>,
    classes: &[netdoctor_engine::policy::ClassId],
    me: TieredSource,
    allows_egress: impl Fn(&TieredSource) -> Option<String>,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for &c in classes {
        for other in engine.cni_policies_for(c, PolicyType::Egress).iter().filter(|s| **s != me) {
            if let Some(name) = allows_egress(other).filter(|n| !names.contains(n)) {
                names.push(name);
            }
        }
    }
    names
}

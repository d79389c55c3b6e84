//! ND602: too many policies per pod, too many rules per policy, and stale policies.

use crate::prelude::*;
use crate::rules::k8s::{label_hint, list_names, namespaces_with_pods, probable_maker};
use netdoctor_model::k8s::PolicyType;
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it checks
    /// Stale NetworkPolicies, policies with many rules, and pods selected by many policies.
    /// Reported: policies that select no pod of their namespace (stale: their podSelector
    /// matches nothing and no pod label is a near miss of it; a near miss is a typo,
    /// reported by ND402), policies with more rules than `max_rules_per_policy` (default
    /// 50), and pods selected by more policies than `max_policies_per_pod` (default 20),
    /// both settable in `netdoctor.toml`. Only namespaces of which the manifests hold pods
    /// are judged for staleness.
    /// A policy selecting pods that an operator makes from a custom resource of its
    /// namespace (a Prometheus, an Alertmanager) is not stale: it is reported at info with
    /// the resource that probably makes them.
    ///
    /// ## Why it matters
    /// Every policy and rule is compiled into the data path of each node (iptables chains,
    /// eBPF maps): the cost grows with their number, and so does the time a person needs to
    /// tell what a pod may do. Stale policies are left over from removed workloads and
    /// start applying again, unexpectedly, when a new pod happens to match them.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: { name: legacy-billing }
    /// spec: { podSelector: { matchLabels: { app: billing-v1 } } }   # no such pods any more
    /// ```
    ///
    /// ## Fix
    /// Delete stale policies, merge policies that select the same pods, and replace long rule lists by label-based peers.
    pub struct PolicyBloat => Info, "ND602";
}

impl Check for PolicyBloat {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let k8s = &cx.model.k8s;
        let with_pods = namespaces_with_pods(k8s);
        let max_rules = cx.config.max_rules_per_policy;
        let max_policies = cx.config.max_policies_per_pod;
        for (i, policy) in k8s.network_policies.iter().enumerate() {
            let name = policy.full_name();
            let stale = with_pods.contains(policy.namespace.as_str()) && engine.policy_classes(i).is_empty();
            // A near miss (ND402's) is looked for only in a policy that selects nothing.
            let typo = stale
                && label_hint(&policy.pod_selector, engine.pods_in(&policy.namespace).map(|p| &p.labels)).is_some_and(|h| h.is_typo());
            let made_by_operator = stale.then(|| probable_maker(k8s, &policy.namespace, &policy.pod_selector.match_labels)).flatten();
            if let Some(cr) = made_by_operator {
                out.report(
                    &policy.origin,
                    format!(
                        "policy `{name}` selects {}, which no pod of the manifests carries; {} probably creates them (an operator makes its pods)",
                        policy.pod_selector,
                        cr.display_name()
                    ),
                )
                .severity(Severity::Info)
                .subjects([name.clone()])
                .help(format!("nothing to change if the operator for {}.{} runs in the cluster; otherwise install it", cr.kind, cr.group));
            } else if stale && !typo {
                out.report(
                    &policy.origin,
                    format!(
                        "policy `{name}` selects {}, which no pod in `{}` carries: it applies to nothing (stale)",
                        policy.pod_selector, policy.namespace
                    ),
                )
                .subjects([name.clone()])
                .help(format!("delete `{name}` if the workload it protected is gone, or fix its podSelector to labels the pods carry"));
            }
            let rules = policy.ingress.len() + policy.egress.len();
            if rules > max_rules {
                out.report(
                    &policy.origin,
                    format!("policy `{name}` has {rules} rules, more than {max_rules}: it is costly to enforce and hard to review"),
                )
                .subjects([name.clone()])
                .help(format!(
                    "merge rules of `{name}` with label-based peers, or raise `max_rules_per_policy` in netdoctor.toml if this is intended"
                ));
            }
        }
        for (class, _) in engine.classes.iter().enumerate() {
            let mut selecting: BTreeSet<usize> = engine.network_policies_for(class, PolicyType::Ingress).iter().copied().collect();
            selecting.extend(engine.network_policies_for(class, PolicyType::Egress));
            if selecting.len() <= max_policies {
                continue;
            }
            let Some(workload) = engine.class_workloads(class).next() else { continue };
            let Some(pod) = workload.pods.first().and_then(|&p| k8s.pods.get(p)) else { continue };
            let names = list_names(selecting.iter().filter_map(|&p| k8s.network_policies.get(p)).map(|p| p.full_name()), 3);
            out.report(
                &pod.origin,
                format!("`{}` is selected by {} NetworkPolicies, more than {max_policies} ({names})", workload.name(), selecting.len()),
            )
            .subjects([format!("{}/{}", workload.namespace, workload.owner.name)])
            .help("merge the policies that select these pods, or raise `max_policies_per_pod` in netdoctor.toml if this is intended");
        }
    }
}

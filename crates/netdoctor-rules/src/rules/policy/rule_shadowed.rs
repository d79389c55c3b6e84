//! ND404: NetworkPolicy rules that allow nothing other rules do not already allow.

use crate::prelude::*;
use crate::rules::k8s::list_names;
use netdoctor_model::k8s::PolicyType;

declare_rule! {
    /// ## What it checks
    /// NetworkPolicy rules that allow nothing other rules for the same pods do not already
    /// allow. For every pod its policy selects, each rule is checked: whether every peer and
    /// port it allows is also allowed by other rules of the same direction, of this or any
    /// other policy selecting that pod. Of two identical rules the later one is reported.
    /// Rules whose peers match nothing are left to ND402. The comparison works on pod
    /// classes (pods with equal labels and ports) and stops after a fixed amount of work
    /// on very large clusters.
    ///
    /// ## Why it matters
    /// A shadowed rule changes nothing today, but it makes the policy set harder to read
    /// and review, and it silently starts to matter when the wider rule is narrowed.
    ///
    /// ## Example
    /// ```yaml
    /// ingress:
    ///   - from: [{ podSelector: {} }]                                  # every pod of the namespace
    ///   - from: [{ podSelector: { matchLabels: { app: web } } }]       # already allowed above
    ///     ports: [{ port: 5432 }]
    /// ```
    ///
    /// ## Fix
    /// Remove the shadowed rule, or narrow the wider rule if it allows more than intended.
    pub struct RuleShadowed => Info;
}

impl Check for RuleShadowed {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let policies = &cx.model.k8s.network_policies;
        for shadowed in engine.shadowed_rules() {
            let Some(policy) = policies.get(shadowed.policy) else { continue };
            let (direction, rules) = match shadowed.direction {
                PolicyType::Ingress => ("ingress", &policy.ingress),
                PolicyType::Egress => ("egress", &policy.egress),
            };
            let Some(rule) = rules.get(shadowed.rule) else { continue };
            let name = policy.full_name();
            let own = shadowed.by.contains(&shadowed.policy);
            let others: Vec<String> =
                shadowed.by.iter().filter(|&&i| i != shadowed.policy).filter_map(|&i| policies.get(i)).map(|p| p.full_name()).collect();
            let by_text = match (own, others.is_empty()) {
                (true, true) => " (covered by the policy's own other rules)".to_string(),
                (true, false) => format!(" (covered by its other rules and by {})", list_names(others, 3)),
                (false, _) => format!(" (covered by {})", list_names(others, 3)),
            };
            out.report(
                &rule.origin,
                format!("{direction} rule {} of policy `{name}` allows nothing that other {direction} rules for the same pods do not already allow{by_text}", shadowed.rule + 1),
            )
            .subjects([name.clone()])
            .help(format!("remove {direction} rule {} of `{name}`, or narrow the rule that covers it if that one allows more than intended", shadowed.rule + 1));
        }
    }
}

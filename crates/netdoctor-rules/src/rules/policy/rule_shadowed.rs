//! ND404: NetworkPolicy rules that allow nothing other rules do not already allow.

use crate::prelude::*;
use crate::rules::k8s::list_names;
use netdoctor_model::calico_policy::{CalicoAction, CalicoRule};
use netdoctor_model::k8s::PolicyType;

declare_rule! {
    /// ## What it checks
    /// NetworkPolicy rules that allow nothing other rules for the same pods do not already
    /// allow. For every pod its policy selects, each rule is checked: whether every peer and
    /// port it allows is also allowed by other rules of the same direction, of this or any
    /// other policy selecting that pod. Of two identical rules the later one is reported.
    /// Rules whose peers match nothing are left to ND402. The comparison works on pod
    /// classes (pods with equal labels and ports) and stops after a fixed amount of work
    /// on very large clusters. In a Calico policy, whose rules are read in order until one
    /// matches, every rule after a rule that matches every flow of its direction (no
    /// protocol, source or destination criteria; any action but Log) is never reached.
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
    pub struct RuleShadowed => Info, "ND404";
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
        unreachable_calico_rules(cx, out);
    }
}

/// Whether a Calico rule matches every flow of its direction.
fn matches_everything(rule: &CalicoRule) -> bool {
    rule.action != CalicoAction::Log
        && rule.protocol.is_none()
        && rule.not_protocol.is_none()
        && rule.icmp.is_none()
        && rule.not_icmp.is_none()
        && rule.ip_version.is_none()
        && rule.source.is_empty()
        && rule.destination.is_empty()
        && rule.unevaluated.is_empty()
}

/// Calico rules after one that matches every flow: never reached.
fn unreachable_calico_rules(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    for policy in &cx.model.k8s.calico_policies {
        let name = policy.display_name();
        for (direction, rules) in [("ingress", &policy.ingress), ("egress", &policy.egress)] {
            let Some(first) = rules.iter().position(matches_everything) else { continue };
            let action = rules.get(first).map_or("", |r| match r.action {
                CalicoAction::Allow => "Allow",
                CalicoAction::Deny => "Deny",
                CalicoAction::Pass => "Pass",
                CalicoAction::Log => "Log",
            });
            for (i, rule) in rules.iter().enumerate().skip(first + 1) {
                out.report(
                    &rule.origin,
                    format!(
                        "{direction} rule {} of {name} is never reached: {direction} rule {} before it ({action} with no criteria) matches every flow",
                        i + 1,
                        first + 1
                    ),
                )
                .subjects([policy.name.clone()])
                .help(format!("remove {direction} rule {} of {name}, or move it before rule {} if it was meant to decide first", i + 1, first + 1));
            }
        }
    }
}

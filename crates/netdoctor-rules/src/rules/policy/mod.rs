//! ND4xx: Kubernetes NetworkPolicy.

mod egress_isolated_no_rules;
mod flow_denied;
mod ipblock_matches_pods;
mod named_port_unresolved;
mod overly_permissive;
mod policy_not_enforced;
mod policy_not_evaluated;
mod rule_shadowed;
mod selector_matches_nothing;

pub use egress_isolated_no_rules::EgressIsolatedNoRules;
pub use flow_denied::FlowDenied;
pub use ipblock_matches_pods::IpblockMatchesPods;
pub use named_port_unresolved::NamedPortUnresolved;
pub use overly_permissive::OverlyPermissive;
pub use policy_not_enforced::PolicyNotEnforced;
pub use policy_not_evaluated::PolicyNotEvaluated;
pub use rule_shadowed::RuleShadowed;
pub use selector_matches_nothing::SelectorMatchesNothing;

//! ND5xx: CNI, overlay and host firewall. The host rules read `cx.analysis.host`, which
//! exists only when host facts were given (`--host`, `--host-facts`): without them they
//! stay quiet.

// The rule files of this folder (`mod`, and `pub use` of each rule), listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules_cni_firewall.rs"));

pub(crate) use exposed_on_all_interfaces::SENSITIVE_PORTS;

use netdoctor_engine::firewall::{Decider, PolicyRef, RuleRef, Trace};
use netdoctor_model::host::HostFacts;
use netdoctor_model::Origin;

/// Who is to blame for a blocked flow, in the terms of ND501 and ND502.
pub(crate) enum Blame<'t> {
    /// FORWARD's DROP policy.
    ForwardPolicy(&'t PolicyRef),
    /// A rule in DOCKER-USER, or one the packet meets before any of Docker's chains.
    BeforeDocker(&'t RuleRef),
    /// A rule of the administrator's (or a front end's) after Docker's chains, or on a
    /// host where Docker writes no rules.
    Host(&'t RuleRef),
    /// Docker's own isolation rules: intended.
    Docker,
    /// Something else decided (a sysctl, a route, an undecidable match): not these rules' business.
    Other,
}

/// Classifies the decider of a blocked trace.
pub(crate) fn blame<'t>(trace: &'t Trace, facts: &HostFacts) -> Blame<'t> {
    if !trace.verdict.kind.is_blocked() {
        return Blame::Other;
    }
    match &trace.verdict.decided_by {
        Some(Decider::Policy(p)) if p.forward_filter => Blame::ForwardPolicy(p),
        Some(Decider::Rule(r)) if r.in_docker_user() => Blame::BeforeDocker(r),
        Some(Decider::Rule(r)) if r.in_docker_chain() => Blame::Docker,
        Some(Decider::Rule(r)) if docker_chains_present(facts) && !r.after_docker() => Blame::BeforeDocker(r),
        Some(Decider::Rule(r)) => Blame::Host(r),
        _ => Blame::Other,
    }
}

/// Whether Docker's chains are in the rule sets (Docker manages iptables and has run).
pub(crate) fn docker_chains_present(facts: &HostFacts) -> bool {
    // `ip filter` when only `nft -j` showed iptables-nft's table.
    facts
        .rulesets
        .iter()
        .flat_map(|s| s.tables.iter().filter(|t| matches!(t.name.as_str(), "filter" | "ip filter" | "ip6 filter")))
        .any(|t| t.chain("DOCKER-USER").is_some() || t.chain("DOCKER").is_some())
}

/// Where the decider of a trace is written, when it is a rule or a policy.
pub(crate) fn decider_origin(trace: &Trace) -> Option<&Origin> {
    match trace.verdict.decided_by.as_ref()? {
        Decider::Rule(r) => Some(&r.origin),
        Decider::Policy(p) => Some(&p.origin),
        Decider::Sysctl { origin, .. } => Some(origin),
        _ => None,
    }
}

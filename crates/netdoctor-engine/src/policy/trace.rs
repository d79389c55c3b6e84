//! One connection on one port, traced rule by rule: which policies apply to the subject
//! in a direction, which of their rules match the other end, and which rule decided.
//! `why` builds its policy layer from this; the decision itself is the same as
//! `PolicyEngine::allowed` (the tests below hold the two together).

use super::engine::{ClassId, PolicyEngine};
use super::eval::Endpoint;
use super::ports::Conn;
use netdoctor_model::calico_policy::{CalicoAction, TierDefault};
use netdoctor_model::k8s::{AdminAction, PolicyType};

/// The tier a policy belongs to, in evaluation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyTier {
    /// AdminNetworkPolicy (or an Admin-tier ClusterNetworkPolicy).
    Admin,
    /// NetworkPolicy v1.
    Network,
    /// BaselineAdminNetworkPolicy (or a Baseline-tier ClusterNetworkPolicy).
    Baseline,
    /// A Calico NetworkPolicy or GlobalNetworkPolicy (in the tier it names).
    Calico,
    /// A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy.
    Cilium,
}

/// A policy: its tier and its index into the cluster's `network_policies` (Network),
/// `admin_policies` (Admin, Baseline) or `calico_policies` (Calico).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyRef {
    pub tier: PolicyTier,
    pub index: usize,
}

/// One rule of a policy, by its position in the policy's rule list for the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleRef {
    pub policy: PolicyRef,
    pub rule: usize,
    /// What the rule does (NetworkPolicy rules always allow).
    pub action: AdminAction,
    /// Whether the rule's ports (or ICMP messages) include the connection asked about
    /// (named ports resolved against the destination pod).
    pub port_matches: bool,
}

/// How one direction of one connection on one port was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectionTrace {
    pub direction: PolicyType,
    /// Every policy that selects the subject in this direction, in evaluation order.
    pub applying: Vec<PolicyRef>,
    /// Every rule of those policies whose peers match the other end, in evaluation
    /// order, whether or not its ports include the port.
    pub matching: Vec<RuleRef>,
    /// The rules that decided: the first matching admin or baseline rule, or every
    /// NetworkPolicy rule that allows. Empty when nothing matched.
    pub deciding: Vec<RuleRef>,
    /// The tier that decided; `None` when no policy applies (allowed by default).
    pub decided_in: Option<PolicyTier>,
    pub allowed: bool,
    /// The tier whose default action denied
    /// the port, when no rule decided it.
    pub denied_at_end_of: Option<String>,
}

impl PolicyEngine<'_> {
    /// The policies that select `class` in `direction`, in evaluation order.
    pub fn policies_selecting(&self, class: ClassId, direction: PolicyType) -> Vec<PolicyRef> {
        let Some(applies) = self.applies(class, direction) else { return Vec::new() };
        let mut refs: Vec<PolicyRef> = Vec::new();
        for policy in applies.tiered.iter().filter_map(|&i| self.tiered.get(i)) {
            // A Cilium policy's deny and allow parts are evaluated apart: named once.
            let named = policy.source.policy_ref();
            if !refs.contains(&named) {
                refs.push(named);
            }
        }
        refs
    }

    /// Traces `direction` for `subject` (the source for egress, the destination for
    /// ingress) against `other`, on one connection. `dst` is the destination pod class
    /// named ports resolve against (`None` for an address outside the cluster).
    pub fn trace(&self, subject: ClassId, other: Endpoint, direction: PolicyType, dst: Option<ClassId>, conn: Conn) -> DirectionTrace {
        let dst_class = dst.and_then(|d| self.classes.get(d));
        let mut out = DirectionTrace {
            direction,
            applying: self.policies_selecting(subject, direction),
            matching: Vec::new(),
            deciding: Vec::new(),
            decided_in: None,
            allowed: true,
            denied_at_end_of: None,
        };
        let Some(applies) = self.applies(subject, direction) else { return out };
        self.trace_tiers(&mut out, subject, &applies.tiered, (other, dst_class), conn);
        out
    }

    /// The tiers for one connection: in each tier that selects the pod, the first rule
    /// matching peer and connection decides (Pass skips to the next tier); a connection
    /// no rule decides meets the tier's default action. `ends` is the other end and the
    /// destination pod named ports resolve against.
    fn trace_tiers(
        &self,
        out: &mut DirectionTrace,
        subject: ClassId,
        list: &[usize],
        ends: (Endpoint, Option<&super::engine::PodClass>),
        conn: Conn,
    ) {
        let (other, dst_class) = ends;
        let direction = out.direction;
        for (tier, in_tier) in self.tier_groups(list) {
            let Some(first) = in_tier.first().and_then(|&i| self.tiered.get(i)) else { continue };
            let mut passed = false;
            let isolating = in_tier.iter().filter_map(|&i| self.tiered.get(i)).any(|p| p.isolates(direction));
            for policy in in_tier.iter().filter_map(|&i| self.tiered.get(i)) {
                let policy_ref = policy.source.policy_ref();
                for (i, rule) in policy.rules(direction).iter().enumerate() {
                    let action = match rule.action {
                        CalicoAction::Allow => AdminAction::Allow,
                        CalicoAction::Deny => AdminAction::Deny,
                        CalicoAction::Pass => AdminAction::Pass,
                        CalicoAction::Log => continue,
                    };
                    if !rule.applies_to(subject) || !rule.peers.matches(other) {
                        continue;
                    }
                    let port_matches = rule.ports.resolve(dst_class).allows(conn);
                    let found = RuleRef { policy: policy_ref, rule: i, action, port_matches };
                    out.matching.push(found);
                    if port_matches && out.decided_in.is_none() && !passed {
                        out.deciding.push(found);
                        match action {
                            AdminAction::Pass => passed = true,
                            _ => {
                                out.allowed = action == AdminAction::Allow;
                                out.decided_in = Some(policy_ref.tier);
                            }
                        }
                    }
                }
            }
            if out.decided_in.is_some() {
                return;
            }
            let info = self.tiers.get(tier);
            if isolating && !passed && info.is_none_or(|t| t.default_action == TierDefault::Deny) {
                out.allowed = false;
                out.decided_in = Some(first.source.policy_ref().tier);
                out.denied_at_end_of = Some(info.map_or_else(String::new, |t| t.name.clone()));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyOptions;
    use netdoctor_model::k8s::*;
    use netdoctor_model::{Origin, Protocol};

    fn o() -> Origin {
        Origin::Logical("test".into())
    }

    fn pod(ns: &str, app: &str, port: Option<(&str, u16)>) -> Pod {
        let mut p = Pod::new(ns, app, Labels::from([("app".to_string(), app.to_string())]), o());
        if let Some((name, number)) = port {
            p.ports.push(ContainerPort { name: Some(name.into()), port: number, protocol: Protocol::Tcp });
        }
        p
    }

    fn peer(app: &str) -> PolicyPeer {
        PolicyPeer::Pods { namespace_selector: None, pod_selector: Some(LabelSelector::from_labels([("app", app)])), origin: o() }
    }

    fn cluster() -> Cluster {
        let mut allow_web = NetworkPolicy::new("a", "db-ingress", LabelSelector::from_labels([("app", "db")]), o());
        allow_web.ingress.push(PolicyRule::new(
            vec![peer("web")],
            vec![PortSpec::new(Protocol::Tcp, Some(PortRef::Name("pg".into())), o())],
            o(),
        ));
        allow_web.ingress.push(PolicyRule::new(vec![peer("tool")], vec![], o()));
        let mut deny =
            AdminPolicy::new("no-tool", AdminTier::Admin { priority: 10 }, AdminSubject::Namespaces(LabelSelector::default()), o());
        deny.ingress.push(AdminRule::new(
            "deny-tool",
            AdminAction::Deny,
            vec![AdminPeer::Pods {
                namespace_selector: LabelSelector::default(),
                pod_selector: LabelSelector::from_labels([("app", "tool")]),
            }],
            Some(vec![AdminPort::Number { protocol: Protocol::Tcp, port: 5432 }]),
            o(),
        ));
        Cluster {
            pods: vec![pod("a", "web", None), pod("a", "db", Some(("pg", 5432))), pod("a", "tool", None), pod("a", "other", None)],
            network_policies: vec![allow_web],
            admin_policies: vec![deny],
            ..Cluster::default()
        }
    }

    fn class(engine: &PolicyEngine<'_>, name: &str) -> ClassId {
        let w = engine.find_workload(&format!("a/{name}")).and_then(|w| engine.workloads.get(w));
        w.map(|w| w.class).unwrap_or(usize::MAX)
    }

    #[test]
    fn trace_agrees_with_evaluation_and_names_the_deciding_rule() {
        let c = cluster();
        let engine = PolicyEngine::new(&c, PolicyOptions::default());
        let db = class(&engine, "db");
        for src in ["web", "tool", "other", "db"] {
            let s = class(&engine, src);
            for port in [5432, 8080] {
                let t = engine.trace(db, Endpoint::Class(s), PolicyType::Ingress, Some(db), Conn::Port(Protocol::Tcp, port));
                let expected = engine.ingress(Endpoint::Class(s), db).contains(Protocol::Tcp, port);
                assert_eq!(t.allowed, expected, "{src} -> db on {port}: {t:?}");
            }
        }
        let web = engine.trace(db, Endpoint::Class(class(&engine, "web")), PolicyType::Ingress, Some(db), Conn::Port(Protocol::Tcp, 5432));
        assert_eq!(web.decided_in, Some(PolicyTier::Network));
        assert_eq!(web.deciding.first().map(|r| (r.policy.index, r.rule)), Some((0, 0)));
        let tool =
            engine.trace(db, Endpoint::Class(class(&engine, "tool")), PolicyType::Ingress, Some(db), Conn::Port(Protocol::Tcp, 5432));
        assert_eq!((tool.allowed, tool.decided_in), (false, Some(PolicyTier::Admin)));
        assert_eq!(tool.applying.len(), 2, "the admin policy and the NetworkPolicy select db: {tool:?}");
        let other =
            engine.trace(db, Endpoint::Class(class(&engine, "other")), PolicyType::Ingress, Some(db), Conn::Port(Protocol::Tcp, 5432));
        assert!(!other.allowed && other.matching.is_empty() && other.deciding.is_empty(), "{other:?}");
        let egress =
            engine.trace(class(&engine, "web"), Endpoint::Class(db), PolicyType::Egress, Some(db), Conn::Port(Protocol::Tcp, 5432));
        assert!(egress.allowed && egress.applying.is_empty() && egress.decided_in.is_none(), "{egress:?}");
    }
}

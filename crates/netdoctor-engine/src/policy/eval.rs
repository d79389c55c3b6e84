//! Evaluating one connection: egress at the source, then ingress at the destination,
//! each through the three tiers.
//!
//! Per direction, AdminNetworkPolicies are read first, by priority and then rule
//! order: the first rule that matches a port decides it (Allow, Deny, or Pass). What
//! they leave undecided or pass goes to the NetworkPolicies when any selects the pod
//! (their rules' union is allowed, everything else denied), and otherwise to the
//! baseline tier (BaselineAdminNetworkPolicy and baseline ClusterNetworkPolicies, by
//! priority: the first matching rule decides, the rest is allowed). Admin-tier
//! policies are AdminNetworkPolicies and admin ClusterNetworkPolicies alike.
//! See <https://network-policy-api.sigs.k8s.io/api-overview/>.

use super::engine::{Applies, ClassId, Compiled, PeerMatch, PodClass, PolicyEngine, Rule};
use super::ip::Ipv4Range;
use super::ports::ConnSet;
use netdoctor_model::k8s::{AdminAction, PolicyType};

/// Which of a class's rule peers match another end (see `PolicyEngine::pattern`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PeerBits {
    Small(u128),
    Large(Box<[u64]>),
}

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// Any pod of a class.
    Class(ClassId),
    /// Addresses outside the cluster (one part of a partition, or any range inside one).
    External(Ipv4Range),
}

impl PeerMatch {
    /// Whether the rule's peers include `other`.
    pub(crate) fn matches(&self, other: Endpoint) -> bool {
        self.any
            || match other {
                Endpoint::Class(c) => self.classes.contains(c),
                Endpoint::External(range) => self.ips.contains_range(&range),
            }
    }
}

/// How one tier of one direction decided, for explanations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierResult {
    /// Connections the admin tier allowed.
    pub admin_allowed: ConnSet,
    /// Connections the admin tier denied.
    pub admin_denied: ConnSet,
    /// Whether NetworkPolicies selected the pod (and so decided the rest).
    pub network_isolated: bool,
    /// What the NetworkPolicies allow, when they decided.
    pub network_allowed: ConnSet,
    /// Connections the baseline policy denied, when it decided.
    pub baseline_denied: ConnSet,
    /// The outcome.
    pub allowed: ConnSet,
}

impl PolicyEngine<'_> {
    /// Everything `src` may open to `dst`: allowed by egress at the source and by
    /// ingress at the destination.
    pub fn allowed(&self, src: Endpoint, dst: Endpoint) -> ConnSet {
        let egress = match src {
            Endpoint::Class(s) => self.egress(s, dst).allowed,
            Endpoint::External(_) => ConnSet::all(),
        };
        if egress.is_empty() {
            return egress;
        }
        match dst {
            Endpoint::Class(d) => egress.intersect(&self.ingress(src, d).allowed),
            Endpoint::External(_) => egress,
        }
    }

    /// What the egress side of `src` allows towards `dst`.
    pub fn egress(&self, src: ClassId, dst: Endpoint) -> TierResult {
        let dst_class = match dst {
            Endpoint::Class(d) => self.classes.get(d),
            Endpoint::External(_) => None,
        };
        self.direction(src, self.egress_applies.get(src), dst, dst_class, PolicyType::Egress)
    }

    /// What the ingress side of `dst` allows from `src`.
    pub fn ingress(&self, src: Endpoint, dst: ClassId) -> TierResult {
        self.direction(dst, self.ingress_applies.get(dst), src, self.classes.get(dst), PolicyType::Ingress)
    }

    /// Whether any policy of any tier applies to `class` in `direction`.
    pub fn is_isolated(&self, class: ClassId, direction: PolicyType) -> bool {
        self.applies(class, direction).is_some()
    }

    /// Which of the distinct peers of the rules that apply match `other`, one bit per
    /// peer (`Applies::peers`), and whether a rule names ports. Two peers with the same
    /// bits get the same answer (given the same destination ports), which lets the
    /// matrix compute each answer once.
    pub(crate) fn pattern(&self, applies: &Applies, other: Endpoint) -> (PeerBits, bool) {
        let matched = |id: &u32| self.peer_table.get(*id as usize).is_some_and(|p| p.matches(other));
        if applies.peers.len() <= 128 {
            let mut bits = 0u128;
            for (bit, id) in applies.peers.iter().enumerate() {
                if matched(id) {
                    bits |= 1 << bit;
                }
            }
            return (PeerBits::Small(bits), applies.named);
        }
        let mut words = vec![0u64; applies.peers.len().div_ceil(64)];
        for (bit, id) in applies.peers.iter().enumerate() {
            if let (true, Some(w)) = (matched(id), words.get_mut(bit / 64)) {
                *w |= 1 << (bit % 64);
            }
        }
        (PeerBits::Large(words.into_boxed_slice()), applies.named)
    }

    /// The policies that apply to `class` in `direction`, if any does.
    pub(crate) fn applies(&self, class: ClassId, direction: PolicyType) -> Option<&Applies> {
        let applies = match direction {
            PolicyType::Ingress => self.ingress_applies.get(class),
            PolicyType::Egress => self.egress_applies.get(class),
        };
        applies.filter(|a| !a.network.is_empty() || !a.admin.is_empty() || !a.baseline.is_empty() || !a.tiered.is_empty())
    }

    /// One direction of one connection, for a subject class.
    pub(crate) fn evaluate(&self, subject: ClassId, other: Endpoint, direction: PolicyType) -> ConnSet {
        match direction {
            PolicyType::Egress => self.egress(subject, other).allowed,
            PolicyType::Ingress => self.ingress(other, subject).allowed,
        }
    }

    pub(crate) fn rules(compiled: &Compiled, direction: PolicyType) -> &[Rule] {
        match direction {
            PolicyType::Ingress => &compiled.ingress,
            PolicyType::Egress => &compiled.egress,
        }
    }

    /// One direction through the tiers for `subject`. `other` is the peer the rules must
    /// match, and `dst` the destination pod named ports resolve against.
    fn direction(
        &self,
        subject: ClassId,
        applies: Option<&Applies>,
        other: Endpoint,
        dst: Option<&PodClass>,
        direction: PolicyType,
    ) -> TierResult {
        let mut out = TierResult::default();
        let Some(applies) = applies else {
            out.allowed = ConnSet::all();
            return out;
        };
        // Admin tier: first match per port wins; `decided` includes passed ports. (In
        // Calico's tiers it is a tier of its own.)
        let mut decided = ConnSet::none();
        let admin: &[usize] = if self.admin_in_tiers() { &[] } else { &applies.admin };
        for compiled in admin.iter().filter_map(|&i| self.admin.get(i)) {
            for rule in Self::rules(compiled, direction) {
                if !rule.peers.matches(other) {
                    continue;
                }
                let conns = rule.ports.resolve(dst).subtract(&decided);
                if conns.is_empty() {
                    continue;
                }
                match rule.action {
                    AdminAction::Allow => out.admin_allowed.add_all(&conns),
                    AdminAction::Deny => out.admin_denied.add_all(&conns),
                    AdminAction::Pass => {}
                }
                decided.add_all(&conns);
            }
            if decided.is_all() {
                break;
            }
        }
        let rest = ConnSet::all().subtract(&out.admin_allowed).subtract(&out.admin_denied);
        if self.is_tiered() {
            // Calico's tiers (NetworkPolicies in `default`), then the baseline for what
            // every tier passed; the namespace's profile allows the rest.
            let (allowed, denied, open) = self.tiered_direction(subject, &applies.tiered, &rest, other, dst, direction);
            out.network_isolated = !applies.tiered.is_empty();
            out.network_allowed = allowed.clone();
            let _ = denied;
            out.baseline_denied = if open.is_empty() || applies.baseline.is_empty() || self.admin_in_tiers() {
                ConnSet::none()
            } else {
                self.baseline_denied(&applies.baseline, other, dst, direction).intersect(&open)
            };
            out.allowed = out.admin_allowed.union(&allowed).union(&open.subtract(&out.baseline_denied));
            return out;
        }
        let lower = if rest.is_empty() {
            ConnSet::none()
        } else if !applies.network.is_empty() {
            out.network_isolated = true;
            out.network_allowed = self.network_allowed(&applies.network, other, dst, direction);
            out.network_allowed.intersect(&rest)
        } else if !applies.baseline.is_empty() {
            out.baseline_denied = self.baseline_denied(&applies.baseline, other, dst, direction).intersect(&rest);
            rest.subtract(&out.baseline_denied)
        } else {
            rest
        };
        out.allowed = out.admin_allowed.union(&lower);
        out
    }

    /// The union of what the rules of `policies` allow to/from `other`.
    fn network_allowed(&self, policies: &[usize], other: Endpoint, dst: Option<&PodClass>, direction: PolicyType) -> ConnSet {
        let mut allowed = ConnSet::none();
        for compiled in policies.iter().filter_map(|&i| self.network.get(i)) {
            for rule in Self::rules(compiled, direction) {
                if rule.peers.matches(other) {
                    allowed.add_all(&rule.ports.resolve(dst));
                    if allowed.is_all() {
                        return allowed;
                    }
                }
            }
        }
        allowed
    }

    /// What the baseline policies deny: ports whose first matching rule, by policy order
    /// and then rule order, is Deny. Allow and Pass both leave the port allowed (Pass
    /// skips the rest of the tier, and after the baseline everything is allowed).
    fn baseline_denied(&self, policies: &[usize], other: Endpoint, dst: Option<&PodClass>, direction: PolicyType) -> ConnSet {
        let mut denied = ConnSet::none();
        let mut decided = ConnSet::none();
        for compiled in policies.iter().filter_map(|&i| self.baseline.get(i)) {
            for rule in Self::rules(compiled, direction) {
                if !rule.peers.matches(other) {
                    continue;
                }
                let conns = rule.ports.resolve(dst).subtract(&decided);
                if rule.action == AdminAction::Deny {
                    denied.add_all(&conns);
                }
                decided.add_all(&conns);
            }
            if decided.is_all() {
                break;
            }
        }
        denied
    }
}

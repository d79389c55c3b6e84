//! Evaluating one connection: egress at the source, then ingress at the destination,
//! each through the tiers every policy kind is lowered into (see `tiered.rs`).
//!
//! Per direction, AdminNetworkPolicies (and admin ClusterNetworkPolicies) come first, by
//! priority and then rule order: the first rule that matches a port decides it (Allow,
//! Deny, or Pass). What they leave undecided or pass goes to the NetworkPolicies when
//! any selects the pod (their rules' union is allowed, everything else denied), and
//! otherwise on to the baseline tier (BaselineAdminNetworkPolicy and baseline
//! ClusterNetworkPolicies, by priority: the first matching rule decides, the rest is
//! allowed). See <https://network-policy-api.sigs.k8s.io/api-overview/>.

use super::engine::{Applies, ClassId, PeerMatch, PodClass, PolicyEngine};
use super::ip::Ipv4Range;
use super::ports::ConnSet;
use netdoctor_model::k8s::PolicyType;

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

impl PolicyEngine<'_> {
    /// Everything `src` may open to `dst`: allowed by egress at the source and by
    /// ingress at the destination.
    pub fn allowed(&self, src: Endpoint, dst: Endpoint) -> ConnSet {
        let egress = match src {
            Endpoint::Class(s) => self.egress(s, dst),
            Endpoint::External(_) => ConnSet::all(),
        };
        if egress.is_empty() {
            return egress;
        }
        match dst {
            Endpoint::Class(d) => egress.intersect(&self.ingress(src, d)),
            Endpoint::External(_) => egress,
        }
    }

    /// What the egress side of `src` allows towards `dst`.
    pub fn egress(&self, src: ClassId, dst: Endpoint) -> ConnSet {
        let dst_class = match dst {
            Endpoint::Class(d) => self.classes.get(d),
            Endpoint::External(_) => None,
        };
        self.direction(src, self.egress_applies.get(src), dst, dst_class, PolicyType::Egress)
    }

    /// What the ingress side of `dst` allows from `src`.
    pub fn ingress(&self, src: Endpoint, dst: ClassId) -> ConnSet {
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
        applies.filter(|a| !a.tiered.is_empty())
    }

    /// One direction of one connection, for a subject class.
    pub(crate) fn evaluate(&self, subject: ClassId, other: Endpoint, direction: PolicyType) -> ConnSet {
        match direction {
            PolicyType::Egress => self.egress(subject, other),
            PolicyType::Ingress => self.ingress(other, subject),
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
    ) -> ConnSet {
        match applies.filter(|a| !a.tiered.is_empty()) {
            Some(applies) => self.tiered_direction(subject, &applies.tiered, other, dst, direction),
            None => ConnSet::all(),
        }
    }
}

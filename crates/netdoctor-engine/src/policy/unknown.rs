//! What the engine cannot evaluate, and which verdicts that makes unknown.
//!
//! A policy resource that is read but not evaluated (another CNI's, a mesh's, an unknown
//! kind) can change every flow to or from the pods it may select: those of its namespace,
//! or every pod when it is cluster-wide. A rule part that cannot be evaluated (peers by
//! node or DNS name) can change flows between its policy's pods and addresses outside
//! the cluster. Such flows are reported unknown, whichever way the evaluated policies
//! decide them: an unevaluated policy may deny what they allow, or allow what they deny.

use super::classset::ClassSet;
use super::engine::{ClassId, EngineWarning, PeerMatch, PolicyEngine};
use super::eval::Endpoint;
use super::ip::Ipv4Set;
use super::ports::{Conn, ConnSet};
use netdoctor_model::k8s::PolicyType;
use netdoctor_model::Origin;

/// Something that can change verdicts the engine gives.
#[derive(Debug, Clone)]
pub struct Uncertainty {
    /// What it is: `projectcalico.org/v3 NetworkPolicy shop/allow-web`, or a rule.
    pub what: String,
    /// Why it is not evaluated.
    pub reason: String,
    pub origin: Origin,
    /// Which flows it can change.
    pub scope: UncertainScope,
    /// It can only refuse flows the evaluated policies allow, never allow denied ones.
    pub restricts_only: bool,
    /// The connections it can change; `None` for all.
    pub conns: Option<ConnSet>,
    /// For one rule: its direction and peers; flows of the rule's pods with other peers
    /// are not affected.
    pub(crate) rule: Option<(PolicyType, PeerMatch)>,
    /// The outside addresses it concerns (node addresses, when known); `None` for all.
    pub(crate) outside: Option<Ipv4Set>,
}

impl Uncertainty {
    /// Something that can change every flow in `scope`.
    pub fn new(what: String, reason: String, origin: Origin, scope: UncertainScope) -> Uncertainty {
        Uncertainty { what, reason, origin, scope, restricts_only: false, conns: None, rule: None, outside: None }
    }
}

/// Which flows an uncertainty can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UncertainScope {
    /// Every flow.
    Cluster,
    /// Flows to or from pods of this namespace (by name).
    Namespace(String),
    /// Every flow to or from these pod classes.
    Classes(ClassSet),
    /// Flows from these pod classes to addresses outside the cluster.
    ClassesToOutside(ClassSet),
    /// Flows from addresses outside the cluster to these pod classes.
    OutsideToClasses(ClassSet),
}

impl Uncertainty {
    /// Which flows it affects, in words.
    pub fn scope_text(&self) -> String {
        match &self.scope {
            UncertainScope::Cluster => "flows of every pod".to_string(),
            UncertainScope::Namespace(ns) => format!("flows to or from pods in namespace `{ns}`"),
            UncertainScope::Classes(_) => "flows to or from the pods it may select".to_string(),
            UncertainScope::ClassesToOutside(_) => "flows from the policy's pods to addresses outside the cluster".to_string(),
            UncertainScope::OutsideToClasses(_) => "flows from addresses outside the cluster to the policy's pods".to_string(),
        }
    }
}

impl Uncertainty {
    /// Whether it can change the flow from `src` to `dst`.
    fn touches(&self, src: Endpoint, dst: Endpoint) -> bool {
        let in_outside = |e: Endpoint| match (e, &self.outside) {
            (Endpoint::External(r), Some(set)) => set.overlaps(&r),
            _ => true,
        };
        if !in_outside(src) || !in_outside(dst) {
            return false;
        }
        if let Some((direction, peers)) = &self.rule {
            let (subject, other) = match direction {
                PolicyType::Ingress => (dst, src),
                PolicyType::Egress => (src, dst),
            };
            let in_scope = match (&self.scope, subject) {
                (UncertainScope::Classes(set), Endpoint::Class(c)) => set.contains(c),
                _ => false,
            };
            return in_scope && peers.matches(other);
        }
        match (&self.scope, src, dst) {
            (UncertainScope::ClassesToOutside(set), Endpoint::Class(c), Endpoint::External(_)) => set.contains(c),
            (UncertainScope::ClassesToOutside(_), _, _) => false,
            (UncertainScope::OutsideToClasses(set), Endpoint::External(_), Endpoint::Class(c)) => set.contains(c),
            (UncertainScope::OutsideToClasses(_), _, _) => false,
            // The per-class index already limits the others to flows of their pods.
            _ => true,
        }
    }
}

impl PolicyEngine<'_> {
    /// Records what the cluster holds that is not evaluated, and which classes it touches.
    pub(crate) fn collect_unevaluated(&mut self) {
        for policy in &self.cluster.unevaluated {
            let scope = match &policy.namespace {
                Some(ns) => UncertainScope::Namespace(ns.clone()),
                None => UncertainScope::Cluster,
            };
            let mut u = Uncertainty::new(policy.display_name(), policy.reason.clone(), policy.origin.clone(), scope);
            u.restricts_only = policy.restricts_only;
            let message = format!("{} is not evaluated ({}); {} are reported unknown", u.what, u.reason, u.scope_text());
            self.warnings.push(EngineWarning { origin: u.origin.clone(), message });
            self.uncertainties.push(u);
        }
        self.index_uncertainties();
    }

    /// Per class, the uncertainties that touch it (indices into `uncertainties`).
    pub(crate) fn index_uncertainties(&mut self) {
        let mut by_class: Vec<Vec<u32>> = vec![Vec::new(); self.classes.len()];
        for (i, u) in self.uncertainties.iter().enumerate() {
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            for (c, class) in self.classes.iter().enumerate() {
                let touches = match &u.scope {
                    UncertainScope::Cluster => true,
                    UncertainScope::Namespace(ns) => self.namespaces.get(class.namespace).is_some_and(|n| &n.name == ns),
                    UncertainScope::Classes(set) | UncertainScope::ClassesToOutside(set) | UncertainScope::OutsideToClasses(set) => {
                        set.contains(c)
                    }
                };
                if let (true, Some(list)) = (touches, by_class.get_mut(c)) {
                    list.push(id);
                }
            }
        }
        self.uncertain_by_class = by_class;
    }

    /// The uncertainties that can change a flow from `src` to `dst` (empty when the
    /// engine's verdict is certain).
    pub fn uncertain(&self, src: Endpoint, dst: Endpoint) -> Vec<&Uncertainty> {
        let mut ids: Vec<u32> = Vec::new();
        for end in [src, dst] {
            if let Endpoint::Class(c) = end {
                ids.extend(self.uncertain_ids(c));
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().filter_map(|i| self.uncertainties.get(i as usize)).filter(|u| u.touches(src, dst)).collect()
    }

    /// The uncertainties that can change the flow from `src` to `dst` on one connection.
    pub fn uncertain_on(&self, src: Endpoint, dst: Endpoint, conn: Conn) -> Vec<&Uncertainty> {
        let mut out = self.uncertain(src, dst);
        out.retain(|u| u.conns.as_ref().is_none_or(|c| c.allows(conn)));
        out
    }

    /// Whether anything unevaluated can change the verdict from `src` to `dst` (what
    /// `uncertain` lists, without listing it).
    pub fn is_uncertain(&self, src: Endpoint, dst: Endpoint) -> bool {
        if self.uncertainties.is_empty() {
            return false;
        }
        [src, dst].into_iter().any(|end| match end {
            Endpoint::Class(c) => {
                self.uncertain_ids(c).iter().any(|&i| self.uncertainties.get(i as usize).is_some_and(|u| u.touches(src, dst)))
            }
            Endpoint::External(_) => false,
        })
    }

    fn uncertain_ids(&self, class: ClassId) -> &[u32] {
        self.uncertain_by_class.get(class).map(Vec::as_slice).unwrap_or_default()
    }
}

//! The one policy model every kind is lowered into, evaluated in tiers as Calico
//! enforces policy: admin policies in `kube-admin` (first of all without Calico),
//! Calico NetworkPolicies and GlobalNetworkPolicies in their tiers, Kubernetes
//! NetworkPolicies as policies of the `default` tier at order 1000 (beside Cilium's
//! allow rules on a Cilium cluster), Cilium's deny rules in a tier before its allow
//! rules, and baseline policies in `kube-baseline`.
//!
//! Per direction, after the admin tier (AdminNetworkPolicies), tiers are read by order
//! (lower first, unordered last, ties by name). In a tier that has a policy selecting the
//! pod, its policies are read by order (lower first, unordered last, ties by name) and
//! their rules in order; the first rule matching peer and port decides it: Allow, Deny,
//! or Pass (the rest of the tier is skipped for that port). Log rules go on. A port the
//! tier's policies leave undecided meets the tier's default action: Deny, or Pass to the
//! next tier. What every tier passes goes to the baseline tier, and is allowed after it
//! (the namespace's profile allows everything).
//! References: docs.tigera.io "Get started with Calico network policy", "Tier" and
//! "NetworkPolicy" resource pages.
//!
//! What Calico matches that the analysis cannot see is reported unknown (see
//! `unknown.rs`): pod addresses in `nets` of the policy's own side, source ports, HTTP
//! match criteria, service-account labels.

use super::calico_selector::matches_expr;
use super::classset::ClassSet;
use super::engine::{ClassId, EngineWarning, PeerMatch, PolicyEngine, RulePorts};
use super::ip::{Ipv4Range, Ipv4Set};
use super::ports::{ConnSet, IcmpSet, PortSet, PROTOCOLS};
use super::unknown::{UncertainScope, Uncertainty};
use netdoctor_model::calico::SelectorExpr;
use netdoctor_model::calico_policy::{
    CalicoAction, CalicoPolicy, CalicoPort, CalicoProtocol, CalicoRule, EntityRule, IcmpMatch, TierDefault, DEFAULT_TIER, K8S_POLICY_ORDER,
};
use netdoctor_model::k8s::{AdminAction, Labels, PolicyType};
use netdoctor_model::{Origin, Protocol};
use std::cmp::Ordering;
use std::collections::HashMap;

/// The order of the `default` tier when no Tier object says otherwise (Calico creates
/// it with this order).
pub const DEFAULT_TIER_ORDER: f64 = 1_000_000.0;

/// The tiers Calico evaluates the network policy API's admin and baseline policies in
/// (docs.tigera.io "Get started with policy tiers"), both passing what they leave.
pub const KUBE_ADMIN_TIER: &str = "kube-admin";
pub const KUBE_ADMIN_TIER_ORDER: f64 = 1_000.0;
pub const KUBE_BASELINE_TIER: &str = "kube-baseline";
pub const KUBE_BASELINE_TIER_ORDER: f64 = 10_000_000.0;

/// Cilium's deny rules, evaluated before its allow rules (deny wins).
pub const CILIUM_DENY_TIER: &str = "cilium deny rules";
/// Cilium's allow rules and the NetworkPolicies it enforces beside them.
pub const CILIUM_ALLOW_TIER: &str = "cilium allow rules";

/// The labels Calico gives every pod besides its own.
const NAMESPACE_LABEL: &str = "projectcalico.org/namespace";
const ORCHESTRATOR_LABEL: &str = "projectcalico.org/orchestrator";
const SERVICE_ACCOUNT_LABEL: &str = "projectcalico.org/serviceaccount";
/// The label Calico gives every namespace, holding its name.
const NAMESPACE_NAME_LABEL: &str = "projectcalico.org/name";

/// A tier, as evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    pub name: String,
    pub order: Option<f64>,
    pub default_action: TierDefault,
}

/// Where a tiered policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TieredSource {
    /// Index into the cluster's `calico_policies`.
    Calico(usize),
    /// Index into the cluster's `network_policies`.
    Kubernetes(usize),
    /// Index into the cluster's `cilium_policies`.
    Cilium(usize),
    /// Index into the cluster's `admin_policies`: an admin-tier policy in Calico's
    /// `kube-admin` tier.
    Admin(usize),
    /// Index into the cluster's `admin_policies`: a baseline policy in `kube-baseline`.
    Baseline(usize),
}

impl TieredSource {
    /// The policy as traces name it.
    pub fn policy_ref(self) -> super::trace::PolicyRef {
        use super::trace::{PolicyRef, PolicyTier};
        match self {
            TieredSource::Calico(index) => PolicyRef { tier: PolicyTier::Calico, index },
            TieredSource::Kubernetes(index) => PolicyRef { tier: PolicyTier::Network, index },
            TieredSource::Cilium(index) => PolicyRef { tier: PolicyTier::Cilium, index },
            TieredSource::Admin(index) => PolicyRef { tier: PolicyTier::Admin, index },
            TieredSource::Baseline(index) => PolicyRef { tier: PolicyTier::Baseline, index },
        }
    }
}

/// One compiled rule of a tiered policy.
#[derive(Debug, Clone)]
pub(crate) struct TieredRule {
    /// The other end: the source for ingress, the destination for egress.
    pub peers: PeerMatch,
    /// The pods of the policy's own side the rule is limited to (`None`: all it selects).
    pub local: Option<ClassSet>,
    pub ports: RulePorts,
    pub action: CalicoAction,
}

/// A policy compiled for tiered evaluation.
#[derive(Debug, Clone)]
pub(crate) struct TieredPolicy {
    pub source: TieredSource,
    /// Index into `PolicyEngine::tiers`.
    pub tier: usize,
    pub ingress: Vec<TieredRule>,
    pub egress: Vec<TieredRule>,
    /// Whether selecting a pod makes its tier's default action apply to it, per
    /// direction (a Cilium policy with `enableDefaultDeny: false` does not).
    pub isolates_ingress: bool,
    pub isolates_egress: bool,
}

/// Compares two orders: lower first, none last.
fn by_order(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// What compiling the tiered policies gave the engine.
pub(crate) struct TieredBuild {
    pub tiers: Vec<Tier>,
    pub policies: Vec<TieredPolicy>,
    /// Per class, per direction: indices into `policies` of those selecting it, in
    /// evaluation order.
    pub ingress: Vec<Vec<usize>>,
    pub egress: Vec<Vec<usize>>,
    pub ingress_sets: Vec<Ipv4Set>,
    pub egress_sets: Vec<Ipv4Set>,
    pub warnings: Vec<EngineWarning>,
    pub uncertainties: Vec<Uncertainty>,
}

impl PolicyEngine<'_> {
    /// Whether any Calico or Cilium rule matches ICMP by type or names it
    /// (`icmp`/`notICMP`, `protocol`/`notProtocol: ICMP`, `icmps`): formats that spell
    /// TCP, UDP and SCTP only cannot show what those rules decide.
    pub fn matches_icmp(&self) -> bool {
        let icmp = |p: Option<CalicoProtocol>| matches!(p, Some(CalicoProtocol::Icmp | CalicoProtocol::Number(1)));
        let mut calico = self.cluster.calico_policies.iter().flat_map(|p| p.ingress.iter().chain(&p.egress));
        let mut cilium = self
            .cluster
            .cilium_policies
            .iter()
            .flat_map(|p| p.rules.iter())
            .flat_map(|r| [&r.ingress, &r.ingress_deny, &r.egress, &r.egress_deny].into_iter().flatten().flatten());
        calico.any(|r| r.icmp.is_some() || r.not_icmp.is_some() || icmp(r.protocol) || icmp(r.not_protocol))
            || cilium.any(|r| !r.icmps.is_empty())
    }

    /// A pod class's labels as Calico selectors see them.
    fn calico_labels(&self, class: ClassId) -> Labels {
        let Some(c) = self.classes.get(class) else { return Labels::new() };
        let mut labels = c.labels.clone();
        if let Some(ns) = self.namespaces.get(c.namespace) {
            labels.insert(NAMESPACE_LABEL.into(), ns.name.clone());
            // The namespace's profile applies its labels to the pod, prefixed.
            for (k, v) in &ns.labels {
                labels.insert(format!("pcns.{k}"), v.clone());
            }
        }
        labels.insert(ORCHESTRATOR_LABEL.into(), "k8s".into());
        labels.insert(SERVICE_ACCOUNT_LABEL.into(), c.service_account.clone().unwrap_or_else(|| "default".into()));
        labels
    }

    fn namespace_calico_labels(&self, ns: usize) -> Labels {
        let Some(info) = self.namespaces.get(ns) else { return Labels::new() };
        let mut labels = info.labels.clone();
        labels.insert(NAMESPACE_NAME_LABEL.into(), info.name.clone());
        labels
    }

    /// Compiles Calico's policies and the cluster's NetworkPolicies into tiers.
    pub(crate) fn build_tiered(&self) -> TieredBuild {
        let mut b = TieredBuilder::new(self);
        b.tiers();
        let cluster = self.cluster;
        for (i, p) in cluster.calico_policies.iter().enumerate() {
            b.calico_policy(i, p);
        }
        for (i, p) in cluster.cilium_policies.iter().enumerate() {
            b.cilium_policy(i, p);
        }
        // Which classes each NetworkPolicy selects, per direction, as the engine found it.
        let selected = b.selections(self.network.len(), |a| &a.network);
        for (compiled, sel) in self.network.iter().zip(selected) {
            b.kubernetes_policy(compiled, sel);
        }
        b.admin_policies();
        b.finish()
    }

    /// One direction through the tiers of the policies in `list`: what a rule allows,
    /// plus what every tier passes or leaves undecided (Kubernetes' default allow, and
    /// Calico's profiles').
    pub(crate) fn tiered_direction(
        &self,
        subject: ClassId,
        list: &[usize],
        other: super::eval::Endpoint,
        dst: Option<&super::engine::PodClass>,
        direction: PolicyType,
    ) -> ConnSet {
        let mut allowed = ConnSet::none();
        let mut open = ConnSet::all();
        for (tier, in_tier) in self.tier_groups(list) {
            let mut passed = ConnSet::none();
            let isolating = in_tier.iter().filter_map(|&i| self.tiered.get(i)).any(|p| p.isolates(direction));
            for policy in in_tier.iter().filter_map(|&i| self.tiered.get(i)) {
                for rule in policy.rules(direction) {
                    if rule.action == CalicoAction::Log || !rule.applies_to(subject) || !rule.peers.matches(other) {
                        continue;
                    }
                    let conns = rule.ports.resolve(dst).intersect(&open).subtract(&passed);
                    if conns.is_empty() {
                        continue;
                    }
                    match rule.action {
                        CalicoAction::Allow => {
                            allowed.add_all(&conns);
                            open = open.subtract(&conns);
                        }
                        CalicoAction::Deny => open = open.subtract(&conns),
                        CalicoAction::Pass => passed.add_all(&conns),
                        CalicoAction::Log => {}
                    }
                }
            }
            if isolating && self.tiers.get(tier).is_none_or(|t| t.default_action == TierDefault::Deny) {
                open = open.intersect(&passed);
            }
            if open.is_empty() {
                break;
            }
        }
        allowed.union(&open)
    }
}

impl PolicyEngine<'_> {
    /// Per Calico or Cilium policy, the classes it selects for ingress and for egress:
    /// computed once, since rules ask it per policy.
    pub(crate) fn cni_selections(&self) -> HashMap<TieredSource, [Vec<ClassId>; 2]> {
        let mut out: HashMap<TieredSource, [Vec<ClassId>; 2]> = HashMap::new();
        for (slot, applies) in [(0, &self.ingress_applies), (1, &self.egress_applies)] {
            for (class, a) in applies.iter().enumerate() {
                let mut sources: Vec<TieredSource> = a.tiered.iter().filter_map(|&i| self.tiered.get(i)).map(|p| p.source).collect();
                // A Cilium policy has a deny and an allow part: one class entry each.
                sources.dedup();
                for source in sources {
                    if let Some(list) = out.entry(source).or_default().get_mut(slot) {
                        if list.last() != Some(&class) {
                            list.push(class);
                        }
                    }
                }
            }
        }
        out
    }

    /// The pod classes a Calico or Cilium policy selects in `direction`.
    pub fn cni_policy_classes(&self, source: TieredSource, direction: PolicyType) -> &[ClassId] {
        let slot = usize::from(direction == PolicyType::Egress);
        self.cni_selection.get(&source).and_then(|both| both.get(slot)).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether a Calico or Cilium policy selects any pod (in any direction).
    pub fn cni_policy_selects_pods(&self, source: TieredSource) -> bool {
        self.cni_selection.get(&source).is_some_and(|both| both.iter().any(|l| !l.is_empty()))
    }

    /// The Calico or Cilium policies selecting `class` in `direction`, in evaluation order.
    pub fn cni_policies_for(&self, class: ClassId, direction: PolicyType) -> Vec<TieredSource> {
        let applies = match direction {
            PolicyType::Ingress => self.ingress_applies.get(class),
            PolicyType::Egress => self.egress_applies.get(class),
        };
        applies.map(|a| a.tiered.iter().filter_map(|&i| self.tiered.get(i)).map(|p| p.source).collect()).unwrap_or_default()
    }

    /// For each egress Allow rule of a Calico or Cilium policy, in the order written
    /// (Cilium: the `egress` rules of its pod-selecting specs, spec after spec), the pod
    /// classes it may reach: its peers' pods, or every pod when it matches any peer or
    /// outside addresses.
    pub fn cni_egress_destinations(&self, source: TieredSource) -> Vec<Vec<ClassId>> {
        let every = || -> Vec<ClassId> {
            (0..self.classes.len())
                .filter(|&c| Some(c) != self.ingress_controller && self.classes.get(c).is_some_and(|class| self.selectable(class)))
                .collect()
        };
        let rules = self.tiered.iter().filter(|p| p.source == source).flat_map(|p| &p.egress);
        rules
            .filter(|r| r.action == CalicoAction::Allow)
            .map(|r| if r.peers.any || !r.peers.ips.is_empty() { every() } else { r.peers.classes.iter().collect() })
            .collect()
    }

    /// The policies of `list` (indices into `tiered`, in evaluation order) cut into runs
    /// of one tier each: (tier, its policies).
    pub(crate) fn tier_groups<'l>(&self, list: &'l [usize]) -> impl Iterator<Item = (usize, &'l [usize])> + use<'l, '_> {
        let mut rest = list;
        std::iter::from_fn(move || {
            let tier = rest.first().and_then(|&i| self.tiered.get(i))?.tier;
            let len = rest.iter().position(|&i| self.tiered.get(i).is_none_or(|p| p.tier != tier)).unwrap_or(rest.len());
            let (group, after) = rest.split_at(len);
            rest = after;
            Some((tier, group))
        })
    }
}

impl TieredPolicy {
    /// Whether selecting a pod in `direction` subjects it to the tier's default action.
    pub(crate) fn isolates(&self, direction: PolicyType) -> bool {
        match direction {
            PolicyType::Ingress => self.isolates_ingress,
            PolicyType::Egress => self.isolates_egress,
        }
    }

    pub(crate) fn rules(&self, direction: PolicyType) -> &[TieredRule] {
        match direction {
            PolicyType::Ingress => &self.ingress,
            PolicyType::Egress => &self.egress,
        }
    }
}

impl TieredRule {
    /// Whether the rule applies to pods of `class` on its own side.
    pub(crate) fn applies_to(&self, class: ClassId) -> bool {
        self.local.as_ref().is_none_or(|set| set.contains(class))
    }
}

/// A compiled policy waiting to be sorted: (tier, order, name) to sort by, and the
/// classes it selects for ingress and for egress.
pub(super) struct Pending {
    pub key: (usize, Option<f64>, String),
    pub policy: TieredPolicy,
    pub ingress: ClassSet,
    pub egress: ClassSet,
}

pub(super) struct TieredBuilder<'e, 'c> {
    pub engine: &'e PolicyEngine<'c>,
    /// Calico's view of each class's labels (empty without Calico policies).
    pub class_labels: Vec<Labels>,
    /// And of each namespace's (empty without Calico policies).
    pub ns_labels: Vec<Labels>,
    /// Cilium's view of each class's labels (empty without Cilium policies).
    pub cilium_labels: Vec<Labels>,
    /// Namespace indices by name.
    pub ns_index: HashMap<&'e str, usize>,
    /// Per namespace, its classes, so selectors scoped to namespaces look only there.
    pub by_ns: Vec<Vec<ClassId>>,
    pub tiers: Vec<Tier>,
    pub policies: Vec<Pending>,
    pub ingress_sets: Vec<Ipv4Set>,
    pub egress_sets: Vec<Ipv4Set>,
    pub warnings: Vec<EngineWarning>,
    pub uncertainties: Vec<Uncertainty>,
}

impl<'e, 'c> TieredBuilder<'e, 'c> {
    fn new(engine: &'e PolicyEngine<'c>) -> TieredBuilder<'e, 'c> {
        TieredBuilder {
            engine,
            class_labels: if engine.cluster.calico_policies.is_empty() {
                Vec::new()
            } else {
                (0..engine.classes.len()).map(|c| engine.calico_labels(c)).collect()
            },
            ns_labels: if engine.cluster.calico_policies.is_empty() {
                Vec::new()
            } else {
                (0..engine.namespaces.len()).map(|n| engine.namespace_calico_labels(n)).collect()
            },
            cilium_labels: if engine.cluster.cilium_policies.is_empty() {
                Vec::new()
            } else {
                (0..engine.classes.len()).map(|c| super::cilium::cilium_labels(engine, c)).collect()
            },
            ns_index: engine.namespaces.iter().enumerate().map(|(i, n)| (n.name.as_str(), i)).collect(),
            by_ns: {
                let mut by_ns = vec![Vec::new(); engine.namespaces.len()];
                for (id, class) in engine.classes.iter().enumerate() {
                    if let Some(list) = by_ns.get_mut(class.namespace) {
                        list.push(id);
                    }
                }
                by_ns
            },
            tiers: Vec::new(),
            policies: Vec::new(),
            ingress_sets: Vec::new(),
            egress_sets: Vec::new(),
            warnings: Vec::new(),
            uncertainties: Vec::new(),
        }
    }

    pub(super) fn warn(&mut self, origin: &Origin, message: String) {
        self.warnings.push(EngineWarning { origin: origin.clone(), message });
    }

    pub(super) fn no_classes(&self) -> ClassSet {
        ClassSet::with_len(self.engine.classes.len())
    }

    /// The declared tiers, plus `default` and any tier a policy names.
    fn tiers(&mut self) {
        for t in &self.engine.cluster.calico_tiers {
            if self.tiers.iter().any(|o| o.name == t.name) {
                self.warn(&t.origin, format!("Tier `{}` is declared twice; the first is used", t.name));
                continue;
            }
            self.tiers.push(Tier { name: t.name.clone(), order: t.order, default_action: t.default_action });
        }
        if self.engine.cluster.cilium_policies.is_empty() && !self.tiers.iter().any(|t| t.name == DEFAULT_TIER) {
            self.tiers.push(Tier { name: DEFAULT_TIER.into(), order: Some(DEFAULT_TIER_ORDER), default_action: TierDefault::Deny });
        }
        {
            // Without Calico, admin policies come before every other tier (Cilium's too).
            let admin_order = if self.engine.cluster.calico_policies.is_empty() { f64::NEG_INFINITY } else { KUBE_ADMIN_TIER_ORDER };
            for (name, order) in [(KUBE_ADMIN_TIER, admin_order), (KUBE_BASELINE_TIER, KUBE_BASELINE_TIER_ORDER)] {
                if !self.tiers.iter().any(|t| t.name == name) {
                    self.tiers.push(Tier { name: name.into(), order: Some(order), default_action: TierDefault::Pass });
                }
            }
        }
        if !self.engine.cluster.cilium_policies.is_empty() {
            // Deny wins over allow: every deny rule first (a port none denies goes on),
            // then every allow rule, with default deny for the pods a policy isolates.
            self.tiers.push(Tier { name: CILIUM_DENY_TIER.into(), order: Some(f64::MIN), default_action: TierDefault::Pass });
            self.tiers.push(Tier { name: CILIUM_ALLOW_TIER.into(), order: Some(f64::MIN / 2.0), default_action: TierDefault::Deny });
        }
        for p in &self.engine.cluster.calico_policies {
            if !self.tiers.iter().any(|t| t.name == p.tier) {
                let message = format!(
                    "{} is in tier `{}`, which no Tier object declares (Calico refuses such a policy); it is evaluated as if the tier had no order",
                    p.display_name(),
                    p.tier
                );
                self.warnings.push(EngineWarning { origin: p.origin.clone(), message });
                self.tiers.push(Tier { name: p.tier.clone(), order: None, default_action: TierDefault::Deny });
            }
        }
        self.tiers.sort_by(|a, b| by_order(a.order, b.order).then_with(|| a.name.cmp(&b.name)));
    }

    pub(super) fn tier_index(&self, name: &str) -> usize {
        self.tiers.iter().position(|t| t.name == name).unwrap_or(usize::MAX)
    }

    /// Namespaces (indices) a Calico namespace selector matches.
    fn namespaces_matching(&self, sel: &SelectorExpr) -> Vec<usize> {
        (0..self.ns_labels.len()).filter(|&n| self.ns_labels.get(n).is_some_and(|l| matches_expr(sel, l, true))).collect()
    }

    /// Selectable classes of `namespaces` (all when `None`) whose labels match `sel`.
    fn classes_matching(&self, namespaces: Option<&[usize]>, sel: &SelectorExpr) -> ClassSet {
        let mut set = self.no_classes();
        for id in self.candidates(namespaces) {
            let selectable = self.engine.classes.get(id).is_some_and(|c| self.engine.selectable(c));
            if selectable && self.class_labels.get(id).is_some_and(|l| matches_expr(sel, l, true)) {
                set.insert(id);
            }
        }
        set
    }

    /// The classes of `namespaces` (every class when `None`).
    pub(super) fn candidates<'a>(&'a self, namespaces: Option<&'a [usize]>) -> Box<dyn Iterator<Item = ClassId> + 'a> {
        match namespaces {
            Some(list) => Box::new(list.iter().flat_map(|&ns| self.by_ns.get(ns).into_iter().flatten().copied())),
            None => Box::new(0..self.engine.classes.len()),
        }
    }

    fn calico_policy(&mut self, index: usize, policy: &CalicoPolicy) {
        let own_ns = policy.namespace.as_deref().and_then(|n| self.ns_index.get(n).copied());
        if policy.namespace.is_some() && own_ns.is_none() {
            // A namespace with no pods: nothing to select.
            return;
        }
        if let Some(field) = policy.unevaluated.iter().find(|f| matches!(f.as_str(), "preDNAT" | "doNotTrack")) {
            let message = format!(
                "{} sets `{field}`, which applies only to host endpoints: it does not select pods and is not evaluated for host traffic",
                policy.display_name()
            );
            self.warn(&policy.origin, message);
            return;
        }
        // Whom it selects.
        let scope: Option<Vec<usize>> = match (own_ns, &policy.namespace_selector) {
            (Some(ns), _) => Some(vec![ns]),
            (None, Some(sel)) => Some(self.namespaces_matching(sel)),
            (None, None) => None,
        };
        let mut subject = self.classes_matching(scope.as_deref(), &policy.selector);
        if let Some(sel) = &policy.service_account_selector {
            if *sel != SelectorExpr::All {
                self.unknown_for(
                    &subject,
                    policy,
                    "its `serviceAccountSelector` matches service-account labels, which are not read: it is taken to select no pod".into(),
                );
                subject = self.no_classes();
            }
        }
        let tier = self.tier_index(&policy.tier);
        let ingress: Vec<TieredRule> = policy.ingress.iter().map(|r| self.rule(r, policy, own_ns, PolicyType::Ingress, &subject)).collect();
        let egress: Vec<TieredRule> = policy.egress.iter().map(|r| self.rule(r, policy, own_ns, PolicyType::Egress, &subject)).collect();
        let (ing, eg) = (
            if policy.affects(PolicyType::Ingress) { subject.clone() } else { self.no_classes() },
            if policy.affects(PolicyType::Egress) { subject } else { self.no_classes() },
        );
        let key = (tier, policy.order, policy.name.clone());
        let policy =
            TieredPolicy { source: TieredSource::Calico(index), tier, ingress, egress, isolates_ingress: true, isolates_egress: true };
        self.policies.push(Pending { key, policy, ingress: ing, egress: eg });
    }

    /// A NetworkPolicy in the tier its CNI enforces it in. `selected` holds the classes
    /// it selects for ingress and for egress.
    fn kubernetes_policy(&mut self, compiled: &super::engine::Compiled, selected: [ClassSet; 2]) {
        let index = compiled.source;
        let Some(policy) = self.engine.cluster.network_policies.get(index) else { return };
        let rule = |r: &super::engine::Rule| TieredRule {
            peers: r.peers.clone(),
            local: None,
            ports: r.ports.clone(),
            action: CalicoAction::Allow,
        };
        let ingress: Vec<TieredRule> = compiled.ingress.iter().map(rule).collect();
        let egress: Vec<TieredRule> = compiled.egress.iter().map(rule).collect();
        let [ing, eg] = selected;
        // Calico names the policies it makes of NetworkPolicies `knp.default.<name>`.
        // Calico enforces NetworkPolicies in its default tier; Cilium beside its own allows.
        let cluster = self.engine.cluster;
        let cilium_only = cluster.calico_policies.is_empty() && !cluster.cilium_policies.is_empty();
        let tier = if cilium_only { self.tier_index(CILIUM_ALLOW_TIER) } else { self.tier_index(DEFAULT_TIER) };
        let key = (tier, Some(K8S_POLICY_ORDER), format!("knp.default.{}", policy.name));
        let policy =
            TieredPolicy { source: TieredSource::Kubernetes(index), tier, ingress, egress, isolates_ingress: true, isolates_egress: true };
        self.policies.push(Pending { key, policy, ingress: ing, egress: eg });
    }

    /// Per compiled policy (`count` of them, as `list` indexes them in `Applies`), the
    /// classes it selects for ingress and for egress.
    fn selections(&self, count: usize, list: impl Fn(&super::engine::Applies) -> &Vec<usize>) -> Vec<[ClassSet; 2]> {
        let mut out: Vec<[ClassSet; 2]> = (0..count).map(|_| [self.no_classes(), self.no_classes()]).collect();
        for (slot, applies) in [(0, &self.engine.ingress_applies), (1, &self.engine.egress_applies)] {
            for (class, a) in applies.iter().enumerate() {
                for &policy in list(a) {
                    if let Some(set) = out.get_mut(policy).and_then(|sets| sets.get_mut(slot)) {
                        set.insert(class);
                    }
                }
            }
        }
        out
    }

    /// Admin-tier and baseline policies as policies of Calico's `kube-admin` and
    /// `kube-baseline` tiers, in their priority order, selecting what they select.
    fn admin_policies(&mut self) {
        let engine = self.engine;
        let admin_selected = self.selections(engine.admin.len(), |a| &a.admin);
        let baseline_selected = self.selections(engine.baseline.len(), |a| &a.baseline);
        let tiers = [
            (&engine.admin, admin_selected, self.tier_index(KUBE_ADMIN_TIER), true),
            (&engine.baseline, baseline_selected, self.tier_index(KUBE_BASELINE_TIER), false),
        ];
        for (compiled, selections, tier, admin) in tiers {
            for ((position, c), selected) in compiled.iter().enumerate().zip(selections) {
                let rule = |r: &super::engine::Rule| TieredRule {
                    peers: r.peers.clone(),
                    local: None,
                    ports: r.ports.clone(),
                    action: match r.action {
                        AdminAction::Allow => CalicoAction::Allow,
                        AdminAction::Deny => CalicoAction::Deny,
                        AdminAction::Pass => CalicoAction::Pass,
                    },
                };
                let policy = TieredPolicy {
                    source: if admin { TieredSource::Admin(c.source) } else { TieredSource::Baseline(c.source) },
                    tier,
                    ingress: c.ingress.iter().map(rule).collect(),
                    egress: c.egress.iter().map(rule).collect(),
                    isolates_ingress: true,
                    isolates_egress: true,
                };
                let [ingress, egress] = selected;
                // Their priority order is already the order of `compiled`.
                let key = (tier, Some(position as f64), String::new());
                self.policies.push(Pending { key, policy, ingress, egress });
            }
        }
    }

    /// Records that `subject`'s flows are unknown because of a part of `policy`.
    fn unknown_for(&mut self, subject: &ClassSet, policy: &CalicoPolicy, reason: String) {
        let message = format!("{}: {reason}; flows of the pods it may select are reported unknown", policy.display_name());
        self.warn(&policy.origin, message);
        self.uncertainties.push(Uncertainty::new(
            policy.display_name(),
            reason,
            policy.origin.clone(),
            UncertainScope::Classes(subject.clone()),
        ));
    }

    /// Compiles one rule. For ingress the peer is `source` and the pod's own side is
    /// `destination`; for egress the other way round. Ports are the destination's.
    fn rule(
        &mut self,
        rule: &CalicoRule,
        policy: &CalicoPolicy,
        own_ns: Option<usize>,
        direction: PolicyType,
        subject: &ClassSet,
    ) -> TieredRule {
        let (peer, local) = match direction {
            PolicyType::Ingress => (&rule.source, &rule.destination),
            PolicyType::Egress => (&rule.destination, &rule.source),
        };
        let mut unknown: Vec<String> =
            rule.unevaluated.iter().map(|f| format!("rule field `{f}` (match criteria beyond addresses and ports)")).collect();
        if !local.nets.is_empty() || !local.not_nets.is_empty() {
            unknown.push("`nets` on the pod's own side (pod addresses are not part of the analysis)".into());
        }
        let source_ports = match direction {
            PolicyType::Ingress => peer,
            PolicyType::Egress => local,
        };
        if !source_ports.ports.is_empty() || !source_ports.not_ports.is_empty() {
            unknown.push("source ports".into());
        }
        if peer.service_account_selector.is_some() || local.service_account_selector.is_some() {
            unknown.push("`serviceAccounts.selector` (service-account labels are not read)".into());
        }
        if peer.service.is_some() || local.service.is_some() {
            unknown.push("`services` peers".into());
        }
        if rule.ip_version == Some(6) {
            unknown.push("`ipVersion: 6` (IPv6 is not evaluated)".into());
        }
        if !unknown.is_empty() {
            self.unknown_for(
                subject,
                policy,
                format!(
                    "a rule at {} uses {}, which {} not evaluated",
                    rule.origin,
                    unknown.join(", "),
                    if unknown.len() == 1 { "is" } else { "are" }
                ),
            );
        }
        let peers = self.peer(peer, policy, own_ns, direction);
        let local_set = self.local(local, policy, own_ns);
        let ports = self.ports(
            rule,
            match direction {
                PolicyType::Ingress => local,
                PolicyType::Egress => peer,
            },
        );
        TieredRule { peers, local: local_set, ports, action: rule.action }
    }

    /// The namespaces a side's selectors look in: the namespace selector's, else the
    /// policy's own namespace (a GlobalNetworkPolicy's: all, `None`).
    fn side_scope(&self, side: &EntityRule, own_ns: Option<usize>) -> Option<Vec<usize>> {
        match (&side.namespace_selector, own_ns) {
            (Some(sel), _) => Some(self.namespaces_matching(sel)),
            (None, Some(ns)) => Some(vec![ns]),
            (None, None) => None,
        }
    }

    /// Pods a side's selectors and service-account names match (without nets).
    fn side_classes(&self, side: &EntityRule, own_ns: Option<usize>) -> ClassSet {
        let scope = self.side_scope(side, own_ns);
        let sel = side.selector.clone().unwrap_or(SelectorExpr::All);
        let mut set = self.classes_matching(scope.as_deref(), &sel);
        if !side.service_account_names.is_empty() {
            let mut kept = self.no_classes();
            for c in set.iter() {
                let sa = self.engine.classes.get(c).and_then(|k| k.service_account.clone()).unwrap_or_else(|| "default".into());
                if side.service_account_names.contains(&sa) {
                    kept.insert(c);
                }
            }
            set = kept;
        }
        if let Some(not) = &side.not_selector {
            let excluded = self.classes_matching(None, not);
            let mut kept = self.no_classes();
            for c in set.iter().filter(|&c| !excluded.contains(c)) {
                kept.insert(c);
            }
            set = kept;
        }
        set
    }

    /// Addresses of the network sets a selector matches, in the side's scope.
    fn network_set_ips(&self, sel: &SelectorExpr, scope: Option<&[usize]>, global_policy: bool) -> Ipv4Set {
        let mut ranges = Vec::new();
        for set in &self.engine.cluster.network_sets {
            let in_scope = match (&set.namespace, scope) {
                (None, _) => global_policy || scope.is_none(),
                (Some(ns), Some(list)) => self.ns_index.get(ns.as_str()).is_some_and(|i| list.contains(i)),
                (Some(_), None) => true,
            };
            if in_scope && matches_expr(sel, &set.labels, set.namespace.is_some()) {
                ranges.extend(set.nets.iter().filter_map(Ipv4Range::from_net));
            }
        }
        Ipv4Set::from_ranges(ranges)
    }

    pub(super) fn nets(&mut self, nets: &[ipnet::IpNet], origin: &Origin) -> Ipv4Set {
        let mut ranges = Vec::with_capacity(nets.len());
        for net in nets {
            match Ipv4Range::from_net(net) {
                Some(r) => ranges.push(r),
                None => self.warn(origin, format!("IPv6 range {net} is not evaluated yet; the rule is read as if it did not name it")),
            }
        }
        Ipv4Set::from_ranges(ranges)
    }

    /// The peer side of a rule: pods (by selectors) and outside addresses (by nets and
    /// network sets). All given criteria must hold.
    fn peer(&mut self, side: &EntityRule, policy: &CalicoPolicy, own_ns: Option<usize>, direction: PolicyType) -> PeerMatch {
        let mut out = PeerMatch { any: false, classes: self.no_classes(), ips: Ipv4Set::empty() };
        let selects = side.selector.is_some() || side.namespace_selector.is_some() || !side.service_account_names.is_empty();
        let nothing_named = !selects
            && side.nets.is_empty()
            && side.not_nets.is_empty()
            && side.not_selector.is_none()
            && side.service_account_selector.is_none();
        if nothing_named {
            out.any = true;
            return out;
        }
        let scope = self.side_scope(side, own_ns);
        let global_policy = policy.namespace.is_none();
        // Pods: addresses are not part of the analysis, so a side naming nets matches no
        // pod (as Network Config Analyzer reads it too).
        if side.nets.is_empty() {
            out.classes = self.side_classes(side, own_ns);
        }
        // Outside addresses.
        let mut ips = if side.nets.is_empty() { Ipv4Set::from_range(Ipv4Range::ALL) } else { self.nets(&side.nets, &policy.origin) };
        if selects {
            let sel = side.selector.clone().unwrap_or(SelectorExpr::All);
            let named = if side.service_account_names.is_empty() {
                self.network_set_ips(&sel, scope.as_deref(), global_policy)
            } else {
                Ipv4Set::empty()
            };
            ips = intersect(&ips, &named);
        }
        let not_nets = self.nets(&side.not_nets, &policy.origin);
        for r in not_nets.ranges() {
            ips = ips.subtract_range(*r);
        }
        if let Some(not) = &side.not_selector {
            let excluded = self.network_set_ips(not, None, true);
            for r in excluded.ranges() {
                ips = ips.subtract_range(*r);
            }
        }
        let sets = match direction {
            PolicyType::Ingress => &mut self.ingress_sets,
            PolicyType::Egress => &mut self.egress_sets,
        };
        for r in ips.ranges().iter().chain(not_nets.ranges()) {
            sets.push(Ipv4Set::from_range(*r));
        }
        out.ips = ips;
        out
    }

    /// The pod's own side: which of the selected pods the rule is limited to.
    fn local(&mut self, side: &EntityRule, _policy: &CalicoPolicy, own_ns: Option<usize>) -> Option<ClassSet> {
        let selects = side.selector.is_some()
            || side.namespace_selector.is_some()
            || !side.service_account_names.is_empty()
            || side.not_selector.is_some();
        if !selects {
            return None;
        }
        Some(self.side_classes(side, own_ns))
    }

    /// The connections a rule covers: its protocol (or all but `notProtocol`), its
    /// destination ports minus `notPorts`, and ICMP messages (`icmp` minus `notICMP`)
    /// when the protocol allows ICMP and no port is named. Other IP protocols (GRE, ESP,
    /// ICMPv6 for IPv4 flows) are outside the analysis.
    fn ports(&mut self, rule: &CalicoRule, side: &EntityRule) -> RulePorts {
        let modelled = |p: CalicoProtocol| match p {
            CalicoProtocol::Tcp => Some(Protocol::Tcp),
            CalicoProtocol::Udp => Some(Protocol::Udp),
            CalicoProtocol::Sctp => Some(Protocol::Sctp),
            CalicoProtocol::Number(6) => Some(Protocol::Tcp),
            CalicoProtocol::Number(17) => Some(Protocol::Udp),
            CalicoProtocol::Number(132) => Some(Protocol::Sctp),
            _ => None,
        };
        let is_icmp = |p: CalicoProtocol| matches!(p, CalicoProtocol::Icmp | CalicoProtocol::Number(1));
        let mut protocols: Vec<Protocol> = match rule.protocol {
            Some(p) => modelled(p).into_iter().collect(),
            None => PROTOCOLS.to_vec(),
        };
        if let Some(not) = rule.not_protocol.and_then(modelled) {
            protocols.retain(|p| *p != not);
        }
        let icmp_of = |m: &IcmpMatch| match (m.icmp_type, m.code) {
            (Some(t), Some(c)) => IcmpSet::message(t, c),
            (Some(t), None) => IcmpSet::of_type(t),
            (None, _) => IcmpSet::all(),
        };
        let mut icmp = match rule.protocol {
            None => IcmpSet::all(),
            Some(p) if is_icmp(p) => IcmpSet::all(),
            Some(_) => IcmpSet::empty(),
        };
        if let Some(m) = &rule.icmp {
            icmp = icmp.intersect(&icmp_of(m));
        }
        if let Some(m) = &rule.not_icmp {
            icmp = icmp.subtract(&icmp_of(m));
        }
        if rule.not_protocol.is_some_and(is_icmp) || !side.ports.is_empty() || !side.not_ports.is_empty() {
            icmp = IcmpSet::empty();
        }
        let mut ports = PortSet::empty();
        let mut named = Vec::new();
        let mut except_named = Vec::new();
        if side.ports.is_empty() {
            ports = PortSet::all();
        }
        for port in &side.ports {
            match port {
                CalicoPort::Range(a, b) => ports = ports.union(&PortSet::range(*a, *b)),
                CalicoPort::Named(name) => named.push(name.clone()),
            }
        }
        for port in &side.not_ports {
            match port {
                CalicoPort::Range(a, b) => ports = ports.subtract(&PortSet::range(*a, *b)),
                CalicoPort::Named(name) => except_named.push(name.clone()),
            }
        }
        let mut fixed = ConnSet::of_icmp(icmp);
        for p in &protocols {
            fixed.add(*p, &ports);
        }
        // A named port takes the container port's protocol, among the rule's.
        let single = if protocols.len() == 1 { protocols.first().copied() } else { None };
        let with_protocol = |names: Vec<String>| -> Vec<(Option<Protocol>, String)> {
            if protocols.is_empty() {
                Vec::new()
            } else {
                names.into_iter().map(|n| (single, n)).collect()
            }
        };
        RulePorts { fixed, named: with_protocol(named), except_named: with_protocol(except_named) }
    }

    fn finish(mut self) -> TieredBuild {
        // Stable: policies equal in tier, order and name keep input order.
        self.policies.sort_by(|a, b| {
            let (a, b) = (&a.key, &b.key);
            a.0.cmp(&b.0).then_with(|| by_order(a.1, b.1)).then_with(|| a.2.cmp(&b.2))
        });
        let n = self.engine.classes.len();
        let mut ingress = vec![Vec::new(); n];
        let mut egress = vec![Vec::new(); n];
        let mut policies = Vec::with_capacity(self.policies.len());
        for (i, Pending { policy, ingress: ing, egress: eg, .. }) in self.policies.into_iter().enumerate() {
            for (set, lists) in [(&ing, &mut ingress), (&eg, &mut egress)] {
                for c in set.iter() {
                    if let Some(list) = lists.get_mut(c) {
                        list.push(i);
                    }
                }
            }
            policies.push(policy);
        }
        TieredBuild {
            tiers: self.tiers,
            policies,
            ingress,
            egress,
            ingress_sets: self.ingress_sets,
            egress_sets: self.egress_sets,
            warnings: self.warnings,
            uncertainties: self.uncertainties,
        }
    }
}

/// Addresses in both sets.
fn intersect(a: &Ipv4Set, b: &Ipv4Set) -> Ipv4Set {
    let mut out = a.clone();
    let mut complement = Ipv4Set::from_range(Ipv4Range::ALL);
    for r in b.ranges() {
        complement = complement.subtract_range(*r);
    }
    for r in complement.ranges() {
        out = out.subtract_range(*r);
    }
    out
}

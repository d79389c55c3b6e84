//! Cilium's policies compiled into two tiers: every deny rule first (a match denies; what
//! no deny rule matches goes on), then every allow rule together with the Kubernetes
//! NetworkPolicies Cilium enforces beside them (a match allows; a pod a policy isolates
//! is denied the rest). That is Cilium's "deny wins, allows add up, selection brings
//! default deny" (docs.cilium.io: Policy Enforcement Modes, Deny Policies).
//!
//! Selectors: label keys may carry Cilium's source prefix (`k8s:`, `any:`); the pod's
//! namespace, service account and namespace labels are the labels
//! `io.kubernetes.pod.namespace`, `io.cilium.k8s.policy.serviceaccount` and
//! `io.cilium.k8s.namespace.labels.<key>`. In a CiliumNetworkPolicy, the endpoint
//! selector and every peer selector that does not name `io.kubernetes.pod.namespace`
//! are limited to the policy's namespace.
//!
//! What depends on more than labels, addresses and ports is reported unknown: L7 rules
//! (on their ports), `toFQDNs`, the `host`/`remote-node`/`kube-apiserver` entities (node
//! addresses are not part of the analysis), `fromRequires`/`toRequires`, `toServices`.

use super::classset::ClassSet;
use super::engine::{PeerMatch, PolicyEngine, RulePorts};
use super::ip::{Ipv4Range, Ipv4Set};
use super::ports::{ConnSet, IcmpSet, PortSet, PROTOCOLS};
use super::selector::matches;
use super::tiered::{Pending, TieredBuilder, TieredPolicy, TieredRule, TieredSource, CILIUM_ALLOW_TIER, CILIUM_DENY_TIER};
use super::unknown::{UncertainScope, Uncertainty};
use netdoctor_model::calico_policy::CalicoAction;
use netdoctor_model::cilium::{CiliumIcmp, CiliumPeerRule, CiliumPolicy, CiliumPortNumber, CiliumPortRule, CiliumProtocol, CiliumRule};
use netdoctor_model::k8s::{LabelRequirement, LabelSelector, Labels, PolicyType};
use netdoctor_model::Protocol;

/// The label Cilium gives every pod, holding its namespace.
pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
const SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";
const NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";

/// A label key as pods carry it: `k8s:app` and `any:app` are `app`; `None` for keys of
/// other sources (`reserved:host`, `cidr:...`), which no pod has.
fn pod_key(key: &str) -> Option<&str> {
    match key.split_once(':') {
        Some(("k8s" | "any", rest)) => Some(rest),
        Some(_) => None,
        None => Some(key),
    }
}

/// The selector with source prefixes taken off; `None` when it names a key no pod has
/// (and so matches no pod).
fn pod_selector(sel: &LabelSelector) -> Option<LabelSelector> {
    let mut out = LabelSelector::default();
    for (k, v) in &sel.match_labels {
        out.match_labels.insert(pod_key(k)?.to_string(), v.clone());
    }
    for e in &sel.match_expressions {
        out.match_expressions.push(LabelRequirement { key: pod_key(&e.key)?.to_string(), ..e.clone() });
    }
    Some(out)
}

/// Whether a selector says which namespace it means.
fn names_namespace(sel: &LabelSelector) -> bool {
    let is_ns = |k: &str| pod_key(k) == Some(POD_NAMESPACE_LABEL);
    sel.match_labels.keys().any(|k| is_ns(k)) || sel.match_expressions.iter().any(|e| is_ns(&e.key))
}

/// A pod class's labels as Cilium's selectors see them.
pub(super) fn cilium_labels(engine: &PolicyEngine<'_>, class: usize) -> Labels {
    let Some(c) = engine.classes.get(class) else { return Labels::new() };
    let mut labels = c.labels.clone();
    if let Some(ns) = engine.namespaces.get(c.namespace) {
        labels.insert(POD_NAMESPACE_LABEL.into(), ns.name.clone());
        for (k, v) in &ns.labels {
            labels.insert(format!("{NAMESPACE_LABELS_PREFIX}{k}"), v.clone());
        }
    }
    labels.insert(SERVICE_ACCOUNT_LABEL.into(), c.service_account.clone().unwrap_or_else(|| "default".into()));
    labels
}

impl TieredBuilder<'_, '_> {
    /// Selectable pod classes a Cilium selector matches, limited to `namespace` unless the
    /// selector names one.
    fn cilium_classes(&self, sel: &LabelSelector, namespace: Option<&str>) -> ClassSet {
        let mut set = self.no_classes();
        let Some(sel) = pod_selector(sel) else { return set };
        let limit: Option<Vec<usize>> =
            namespace.filter(|_| !names_namespace(&sel)).map(|ns| self.ns_index.get(ns).copied().into_iter().collect());
        for id in self.candidates(limit.as_deref()) {
            let selectable = self.engine.classes.get(id).is_some_and(|c| self.engine.selectable(c));
            if selectable && self.cilium_labels.get(id).is_some_and(|labels| matches(&sel, labels)) {
                set.insert(id);
            }
        }
        set
    }

    fn all_classes(&self) -> ClassSet {
        let mut set = self.no_classes();
        for (id, class) in self.engine.classes.iter().enumerate() {
            if self.engine.selectable(class) {
                set.insert(id);
            }
        }
        set
    }

    /// Records something of `policy` that is not evaluated, and returns it for the
    /// caller to narrow (ports, peers, addresses).
    fn cilium_unknown(&mut self, policy: &CiliumPolicy, scope: UncertainScope, reason: String) -> Option<&mut Uncertainty> {
        let message = format!("{}: {reason}; the flows it can change are reported unknown", policy.display_name());
        self.warn(&policy.origin, message);
        self.uncertainties.push(Uncertainty::new(policy.display_name(), reason, policy.origin.clone(), scope));
        self.uncertainties.last_mut()
    }

    /// The IPv4 addresses of the cluster's nodes, when Node objects give any.
    fn node_addresses(&self) -> Option<Ipv4Set> {
        let mut set = Ipv4Set::empty();
        for node in &self.engine.cluster.nodes {
            for addr in &node.addresses {
                if let std::net::IpAddr::V4(v4) = addr {
                    set = set.union_range(Ipv4Range::single(*v4));
                }
            }
        }
        (!set.is_empty()).then_some(set)
    }

    /// A rule with `nodeSelector` (a host policy) decides traffic to and from nodes, which
    /// is not evaluated: flows between pods and node addresses (every outside address,
    /// when Node objects give none) are unknown, both ways.
    fn host_policy(&mut self, policy: &CiliumPolicy) {
        let nodes = self.node_addresses();
        if let Some(set) = &nodes {
            for r in set.ranges() {
                self.ingress_sets.push(Ipv4Set::from_range(*r));
                self.egress_sets.push(Ipv4Set::from_range(*r));
            }
        }
        let reason = match &nodes {
            Some(_) => "a rule with `nodeSelector` is a host policy, which decides traffic to and from the nodes' addresses",
            None => {
                "a rule with `nodeSelector` is a host policy, and no Node object gives the nodes' addresses it decides traffic to and from"
            }
        };
        let all = self.all_classes();
        let outbound = self.cilium_unknown(policy, UncertainScope::ClassesToOutside(all.clone()), reason.to_string()).map(|u| {
            u.outside = nodes.clone();
            u.clone()
        });
        // The same resource, the other way: one warning is enough.
        if let Some(mut inbound) = outbound {
            inbound.scope = UncertainScope::OutsideToClasses(all);
            self.uncertainties.push(inbound);
        }
    }

    pub(super) fn cilium_policy(&mut self, index: usize, policy: &CiliumPolicy) {
        for rule in &policy.rules {
            self.cilium_rule(index, policy, rule);
        }
    }

    fn cilium_rule(&mut self, index: usize, policy: &CiliumPolicy, rule: &CiliumRule) {
        let ns = policy.namespace.as_deref();
        let Some(selector) = &rule.endpoint_selector else {
            self.host_policy(policy);
            return;
        };
        let subject = self.cilium_classes(selector, ns);
        let nonempty = |s: &Option<Vec<CiliumPeerRule>>| s.as_ref().is_some_and(|l| !l.is_empty());
        let has_ingress = nonempty(&rule.ingress) || nonempty(&rule.ingress_deny);
        let has_egress = nonempty(&rule.egress) || nonempty(&rule.egress_deny);
        let compile = |b: &mut Self, rules: &Option<Vec<CiliumPeerRule>>, direction: PolicyType, action: CalicoAction| -> Vec<TieredRule> {
            rules.iter().flatten().map(|r| b.cilium_peer_rule(policy, r, direction, action, &subject)).collect()
        };
        let allow_ingress = compile(self, &rule.ingress, PolicyType::Ingress, CalicoAction::Allow);
        let allow_egress = compile(self, &rule.egress, PolicyType::Egress, CalicoAction::Allow);
        let deny_ingress = compile(self, &rule.ingress_deny, PolicyType::Ingress, CalicoAction::Deny);
        let deny_egress = compile(self, &rule.egress_deny, PolicyType::Egress, CalicoAction::Deny);
        let pick = |b: &Self, yes: bool| if yes { subject.clone() } else { b.no_classes() };
        let name = policy.display_name();
        let deny_tier = self.tier_index(CILIUM_DENY_TIER);
        let (deny_in, deny_eg) = (pick(self, !deny_ingress.is_empty()), pick(self, !deny_egress.is_empty()));
        self.policies.push(Pending {
            key: (deny_tier, None, name.clone()),
            policy: TieredPolicy {
                source: TieredSource::Cilium(index),
                tier: deny_tier,
                ingress: deny_ingress,
                egress: deny_egress,
                isolates_ingress: false,
                isolates_egress: false,
            },
            ingress: deny_in,
            egress: deny_eg,
        });
        // Selection brings default deny in each direction the rule has rules for, unless
        // `enableDefaultDeny` says otherwise.
        let allow_tier = self.tier_index(CILIUM_ALLOW_TIER);
        let (allow_in, allow_eg) = (pick(self, has_ingress), pick(self, has_egress));
        self.policies.push(Pending {
            key: (allow_tier, None, name),
            policy: TieredPolicy {
                source: TieredSource::Cilium(index),
                tier: allow_tier,
                ingress: allow_ingress,
                egress: allow_egress,
                isolates_ingress: rule.default_deny_ingress != Some(false),
                isolates_egress: rule.default_deny_egress != Some(false),
            },
            ingress: allow_in,
            egress: allow_eg,
        });
    }

    /// One ingress/egress (or deny) rule: peers from endpoints, entities and CIDRs; ports
    /// from `toPorts`. No peer field means every peer when ports are given, and nothing
    /// at all for an empty rule (`{}`, Cilium's default-deny idiom).
    fn cilium_peer_rule(
        &mut self,
        policy: &CiliumPolicy,
        rule: &CiliumPeerRule,
        direction: PolicyType,
        action: CalicoAction,
        subject: &ClassSet,
    ) -> TieredRule {
        let ns = policy.namespace.as_deref();
        let mut peers = PeerMatch { any: false, classes: self.no_classes(), ips: Ipv4Set::empty() };
        let no_peer_field = rule.endpoints.is_none() && rule.cidrs.is_empty() && rule.entities.is_empty() && rule.fqdns.is_empty();
        let (ports, l7) = if rule.icmps.is_empty() {
            Self::cilium_ports(&rule.ports)
        } else {
            (RulePorts::fixed(ConnSet::of_icmp(Self::cilium_icmps(&rule.icmps))), Vec::new())
        };
        if rule.matches_nothing() {
            return TieredRule { peers, local: None, ports: RulePorts::fixed(ConnSet::none()), action };
        }
        if no_peer_field && rule.unevaluated.is_empty() {
            peers.any = true;
        }
        for sel in rule.endpoints.iter().flatten() {
            let found = self.cilium_classes(sel, ns);
            for c in found.iter() {
                peers.classes.insert(c);
            }
        }
        let outside = match direction {
            PolicyType::Ingress => UncertainScope::OutsideToClasses(subject.clone()),
            PolicyType::Egress => UncertainScope::ClassesToOutside(subject.clone()),
        };
        for entity in &rule.entities {
            match entity.as_str() {
                "all" => peers.any = true,
                "world" | "world-ipv4" => peers.ips = peers.ips.union_range(Ipv4Range::ALL),
                "cluster" | "host" | "remote-node" | "kube-apiserver" | "health" | "ingress" | "init" | "unmanaged" | "world-ipv6" => {
                    if entity == "cluster" {
                        for c in self.all_classes().iter() {
                            peers.classes.insert(c);
                        }
                    }
                    // Node addresses, when Node objects give them, are where these
                    // entities live; which node is a pod's own is not known.
                    let nodes = self.node_addresses().filter(|_| matches!(entity.as_str(), "cluster" | "host" | "remote-node"));
                    let reason = match &nodes {
                        Some(_) => format!(
                            "the `{entity}` entity matches node addresses, and which node runs which pod is not part of the analysis"
                        ),
                        None => format!("the `{entity}` entity matches addresses that are not part of the analysis"),
                    };
                    if let Some(set) = &nodes {
                        for r in set.ranges() {
                            self.ingress_sets.push(Ipv4Set::from_range(*r));
                            self.egress_sets.push(Ipv4Set::from_range(*r));
                        }
                    }
                    if let Some(u) = self.cilium_unknown(policy, outside.clone(), reason) {
                        u.outside = nodes;
                    }
                }
                _ => {}
            }
        }
        let mut cidr_ranges = Vec::new();
        for cidr in &rule.cidrs {
            let mut nets: Vec<ipnet::IpNet> = cidr.cidr.into_iter().collect();
            if let Some(group) = &cidr.group {
                match self.engine.cluster.cidr_groups.iter().find(|g| &g.name == group) {
                    Some(g) => nets.extend(g.cidrs.iter().copied()),
                    None => {
                        let reason = format!("`cidrGroupRef: {group}` names a CiliumCIDRGroup that was not read");
                        self.cilium_unknown(policy, outside.clone(), reason);
                    }
                }
            }
            let mut ips = self.nets(&nets, &policy.origin);
            for r in self.nets(&cidr.except, &policy.origin).ranges() {
                ips = ips.subtract_range(*r);
            }
            let sets = match direction {
                PolicyType::Ingress => &mut self.ingress_sets,
                PolicyType::Egress => &mut self.egress_sets,
            };
            for r in ips.ranges() {
                sets.push(Ipv4Set::from_range(*r));
            }
            cidr_ranges.extend_from_slice(ips.ranges());
        }
        peers.ips = peers.ips.union(&Ipv4Set::from_ranges(cidr_ranges));
        if !rule.fqdns.is_empty() {
            let reason = format!("`toFQDNs` ({}) matches the addresses DNS answers with", rule.fqdns.join(", "));
            self.cilium_unknown(policy, outside.clone(), reason);
        }
        if !rule.requires.is_empty() {
            let reason = "`fromRequires`/`toRequires` are not evaluated".to_string();
            self.cilium_unknown(policy, UncertainScope::Classes(subject.clone()), reason);
        }
        for field in &rule.unevaluated {
            let reason = format!("`{field}` is not evaluated");
            self.cilium_unknown(policy, UncertainScope::Classes(subject.clone()), reason);
        }
        for (conns, reason) in l7 {
            if let Some(u) = self.cilium_unknown(policy, UncertainScope::Classes(subject.clone()), reason) {
                u.conns = Some(conns);
                u.rule = Some((direction, peers.clone()));
            }
        }
        TieredRule { peers, local: None, ports, action }
    }

    /// The ICMP (IPv4) messages of `icmps`: every code of each IPv4 type named. ICMPv6
    /// fields match no IPv4 flow.
    fn cilium_icmps(icmps: &[CiliumIcmp]) -> IcmpSet {
        let mut out = IcmpSet::empty();
        for icmp in icmps.iter().filter(|i| !i.ipv6) {
            if let Some(t) = icmp.icmp_type {
                out = out.union(&IcmpSet::of_type(t));
            }
        }
        out
    }

    /// The connections of `toPorts` (all, ICMP included, when empty: an L3-only rule),
    /// and the ports L7 rules further limit, with why (the request decides: reported
    /// unknown). `protocol: ANY` stands for TCP, UDP and SCTP, never ICMP.
    fn cilium_ports(rules: &[CiliumPortRule]) -> (RulePorts, Vec<(ConnSet, String)>) {
        let mut l7 = Vec::new();
        if rules.is_empty() {
            return (RulePorts::fixed(ConnSet::all()), l7);
        }
        let mut out = RulePorts::fixed(ConnSet::none());
        for rule in rules {
            let mut these = ConnSet::none();
            if rule.ports.is_empty() {
                these = ConnSet::all_ports();
            }
            for p in &rule.ports {
                let protocols: Vec<Protocol> = match p.protocol {
                    CiliumProtocol::Tcp => vec![Protocol::Tcp],
                    CiliumProtocol::Udp => vec![Protocol::Udp],
                    CiliumProtocol::Sctp => vec![Protocol::Sctp],
                    CiliumProtocol::Any => PROTOCOLS.to_vec(),
                };
                match &p.port {
                    CiliumPortNumber::Number(0) => protocols.iter().for_each(|proto| these.add(*proto, &PortSet::all())),
                    CiliumPortNumber::Number(n) => {
                        let range = PortSet::range(*n, p.end_port.unwrap_or(*n).max(*n));
                        protocols.iter().for_each(|proto| these.add(*proto, &range));
                    }
                    CiliumPortNumber::Named(name) => {
                        let proto = (protocols.len() == 1).then(|| protocols.first().copied()).flatten();
                        out.named.push((proto, name.clone()));
                    }
                }
            }
            if !rule.l7.is_empty() {
                l7.push((these.clone(), format!("an L7 rule ({}) decides which requests on these ports pass", rule.l7.join(", "))));
            }
            out.fixed.add_all(&these);
        }
        (out, l7)
    }
}

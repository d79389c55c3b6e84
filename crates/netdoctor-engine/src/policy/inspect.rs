//! Questions rules ask about the policies themselves rather than about one connection:
//! which pods a policy or a peer selects, which policies select a pod, and which rules
//! allow nothing that other rules of the same pods do not already allow.

use super::engine::{ClassId, PodClass, PolicyEngine, Rule, Workload};
use super::eval::Endpoint;
use super::ports::ConnSet;
use super::selector::matches;
use netdoctor_model::k8s::{ContainerPort, LabelSelector, PolicyPeer, PolicyType};
use std::collections::{BTreeSet, HashSet};

/// How many (pod class, peer) pairs `shadowed_rules` looks at before it gives up on the
/// remaining rules, so a very large cluster cannot stall a check.
pub const SHADOW_BUDGET: usize = 2_000_000;

/// A NetworkPolicy rule that allows nothing the other rules for the same pods do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowedRule {
    /// Index into the cluster's `network_policies`.
    pub policy: usize,
    pub direction: PolicyType,
    /// Index into the policy's `ingress` or `egress`.
    pub rule: usize,
    /// The policies (indices) whose rules together cover it, this one included when
    /// its own other rules take part.
    pub by: Vec<usize>,
}

impl PolicyEngine<'_> {
    /// The namespace a class belongs to.
    pub fn class_namespace(&self, class: ClassId) -> &str {
        self.classes.get(class).and_then(|c| self.namespaces.get(c.namespace)).map_or("", |n| n.name.as_str())
    }

    /// The pods of namespace `namespace` (by name), in input order.
    pub fn pods_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a netdoctor_model::k8s::Pod> + Clone + 'a {
        let list = self.namespace_index.get(namespace).and_then(|&n| self.pods_by_namespace.get(n)).map(Vec::as_slice).unwrap_or_default();
        list.iter().filter_map(|&i| self.cluster.pods.get(i))
    }

    /// The workloads whose pods are of `class`.
    pub fn class_workloads(&self, class: ClassId) -> impl Iterator<Item = &Workload> + '_ {
        self.workloads.iter().filter(move |w| w.class == class)
    }

    /// Classes of namespace `namespace` (by name) whose labels `selector` matches, in
    /// the order the engine selects them (host-network classes only when selectable).
    pub fn classes_matching(&self, namespace: &str, selector: Option<&LabelSelector>) -> Vec<ClassId> {
        let Some(&ns) = self.namespace_index.get(namespace) else { return Vec::new() };
        self.by_namespace
            .get(ns)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&i| self.classes.get(i).is_some_and(|c| self.class_selectable(c) && selector.is_none_or(|s| matches(s, &c.labels))))
            .collect()
    }

    /// Indices into `namespaces` of the namespaces a selector matches.
    pub fn namespaces_matching(&self, selector: &LabelSelector) -> Vec<usize> {
        self.namespaces.iter().enumerate().filter(|(_, n)| matches(selector, &n.labels)).map(|(i, _)| i).collect()
    }

    /// The classes the NetworkPolicy `policy` (index into the cluster's list) selects.
    pub fn policy_classes(&self, policy: usize) -> Vec<ClassId> {
        let Some(p) = self.cluster.network_policies.get(policy) else { return Vec::new() };
        self.classes_matching(&p.namespace, Some(&p.pod_selector))
    }

    /// The classes a peer of a policy in `namespace` matches; none for an `ipBlock`.
    pub fn peer_classes(&self, namespace: &str, peer: &PolicyPeer) -> Vec<ClassId> {
        let PolicyPeer::Pods { namespace_selector, pod_selector, .. } = peer else { return Vec::new() };
        match namespace_selector {
            None => self.classes_matching(namespace, pod_selector.as_ref()),
            Some(sel) => self
                .namespaces_matching(sel)
                .into_iter()
                .filter_map(|n| self.namespaces.get(n))
                .flat_map(|n| self.classes_matching(&n.name, pod_selector.as_ref()))
                .collect(),
        }
    }

    /// The NetworkPolicies (indices into the cluster's list) that select `class` in `direction`.
    pub fn network_policies_for(&self, class: ClassId, direction: PolicyType) -> &[usize] {
        let applies = match direction {
            PolicyType::Ingress => self.ingress_applies.get(class),
            PolicyType::Egress => self.egress_applies.get(class),
        };
        applies.map_or(&[], |a| a.network.as_slice())
    }

    fn class_selectable(&self, class: &PodClass) -> bool {
        !(class.host_network && self.options.host_network == super::engine::HostNetwork::Bypass)
    }

    /// NetworkPolicy rules whose allowed connections, for every pod their policy
    /// selects, are already allowed by other rules (of any policy selecting that pod)
    /// of the same direction. Of two identical rules the later one is reported. Rules
    /// whose peers match nothing, or that allow nothing at all, are left out (another
    /// finding explains them); so are the rules left when `SHADOW_BUDGET` runs out.
    pub fn shadowed_rules(&self) -> Vec<ShadowedRule> {
        let mut out = Vec::new();
        let mut budget = SHADOW_BUDGET;
        for direction in [PolicyType::Ingress, PolicyType::Egress] {
            let mut selected: Vec<Vec<ClassId>> = vec![Vec::new(); self.network.len()];
            for class in 0..self.classes.len() {
                for &p in self.network_policies_for(class, direction) {
                    if let Some(list) = selected.get_mut(p) {
                        list.push(class);
                    }
                }
            }
            let mut dropped: HashSet<(usize, usize)> = HashSet::new();
            for (p, compiled) in self.network.iter().enumerate().rev() {
                let classes = selected.get(p).map(Vec::as_slice).unwrap_or_default();
                if classes.is_empty() {
                    continue;
                }
                let rules = match direction {
                    PolicyType::Ingress => &compiled.ingress,
                    PolicyType::Egress => &compiled.egress,
                };
                for (r, rule) in rules.iter().enumerate().rev() {
                    let matches_nothing = !rule.peers.any && rule.peers.classes.iter().next().is_none() && rule.peers.ips.is_empty();
                    if matches_nothing {
                        continue;
                    }
                    if let Some(by) = self.covered(Subject { policy: p, rule: r, body: rule, direction }, classes, &dropped, &mut budget) {
                        dropped.insert((p, r));
                        out.push(ShadowedRule { policy: compiled.source, direction, rule: r, by });
                    }
                    if budget == 0 {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// The peers a rule matches: pod classes and the parts of the outside address space.
    fn rule_peers(&self, rule: &Rule, direction: PolicyType) -> Vec<Endpoint> {
        let parts = match direction {
            PolicyType::Ingress => self.ingress_ips.parts(),
            PolicyType::Egress => self.egress_ips.parts(),
        };
        let mut peers: Vec<Endpoint> = if rule.peers.any {
            (0..self.classes.len()).map(Endpoint::Class).collect()
        } else {
            rule.peers.classes.iter().map(Endpoint::Class).collect()
        };
        peers.extend(
            parts.iter().filter(|part| rule.peers.any || rule.peers.ips.contains_range(part)).map(|part| Endpoint::External(*part)),
        );
        peers
    }

    /// The policies covering `subject` on every class it applies to, or `None` when some
    /// connection it allows is allowed by no other rule (or the budget ran out).
    fn covered(
        &self,
        subject: Subject<'_>,
        classes: &[ClassId],
        dropped: &HashSet<(usize, usize)>,
        budget: &mut usize,
    ) -> Option<Vec<usize>> {
        let peers = self.rule_peers(subject.body, subject.direction);
        let mut by = BTreeSet::new();
        let mut allows_something = false;
        for &class in classes {
            let others: Vec<(usize, &Rule)> = self
                .network_policies_for(class, subject.direction)
                .iter()
                .filter_map(|&q| self.network.get(q).map(|c| (q, c)))
                .flat_map(|(q, c)| {
                    let rules = match subject.direction {
                        PolicyType::Ingress => &c.ingress,
                        PolicyType::Egress => &c.egress,
                    };
                    rules.iter().enumerate().filter(move |(j, _)| !(q == subject.policy && *j == subject.rule)).map(move |(j, r)| (q, j, r))
                })
                .filter(|(q, j, _)| !dropped.contains(&(*q, *j)))
                .map(|(q, _, r)| (q, r))
                .collect();
            let named = subject.body.ports.named.len() + others.iter().map(|(_, r)| r.ports.named.len()).sum::<usize>() > 0;
            let mut seen: HashSet<(Vec<bool>, Option<Vec<ContainerPort>>)> = HashSet::new();
            for &peer in &peers {
                *budget = budget.checked_sub(1)?;
                let dst = match (subject.direction, peer) {
                    (PolicyType::Ingress, _) => self.classes.get(class),
                    (PolicyType::Egress, Endpoint::Class(d)) => self.classes.get(d),
                    (PolicyType::Egress, Endpoint::External(_)) => None,
                };
                let hits: Vec<bool> = others.iter().map(|(_, r)| r.peers.matches(peer)).collect();
                let key_ports =
                    (named && subject.direction == PolicyType::Egress).then(|| dst.map(|d| d.ports.clone()).unwrap_or_default());
                if !seen.insert((hits.clone(), key_ports)) {
                    continue;
                }
                let want = subject.body.ports.resolve(dst);
                if want.is_empty() {
                    continue;
                }
                allows_something = true;
                let mut have = ConnSet::none();
                for ((q, r), hit) in others.iter().zip(&hits) {
                    if !hit {
                        continue;
                    }
                    let got = r.ports.resolve(dst);
                    if !got.intersect(&want).is_empty() {
                        by.insert(*q);
                    }
                    have.add_all(&got);
                }
                if !want.subtract(&have).is_empty() {
                    return None;
                }
            }
        }
        allows_something.then(|| by.into_iter().collect())
    }
}

/// The rule `shadowed_rules` is checking.
#[derive(Clone, Copy)]
struct Subject<'r> {
    policy: usize,
    rule: usize,
    body: &'r Rule,
    direction: PolicyType,
}

//! The naive evaluation the engine is measured against: every workload pair against
//! every policy, written as plainly as possible. Used by the `matrix` bench (which checks
//! it against the engine before timing) and the `naive_matrix` example.

use netdoctor_engine::policy::{matches, ConnSet, PortSet};
use netdoctor_model::k8s::{Cluster, NetworkPolicy, Pod, PolicyPeer, PolicyRule, PolicyType, PortRef};
use std::collections::BTreeMap;

/// Whether `peer` of a policy in `policy_ns` is the pod `other`.
fn peer_matches(cluster: &Cluster, policy_ns: &str, peer: &PolicyPeer, other: &Pod) -> bool {
    match peer {
        PolicyPeer::IpBlock { .. } => false,
        PolicyPeer::Pods { namespace_selector, pod_selector, .. } => {
            let ns_ok = match namespace_selector {
                None => other.namespace == policy_ns,
                Some(sel) => cluster.namespace(&other.namespace).is_some_and(|ns| matches(sel, &ns.labels)),
            };
            ns_ok && pod_selector.as_ref().is_none_or(|sel| matches(sel, &other.labels))
        }
    }
}

/// What one rule allows towards `dst` (named ports resolve on the destination).
fn rule_ports(rule: &PolicyRule, dst: &Pod) -> ConnSet {
    if rule.ports.is_empty() {
        return ConnSet::all();
    }
    let mut out = ConnSet::none();
    for spec in &rule.ports {
        let ports = match &spec.port {
            None => PortSet::all(),
            Some(PortRef::Number(n)) => PortSet::range(*n, spec.end_port.unwrap_or(*n)),
            Some(PortRef::Name(name)) => match dst.named_port(name) {
                Some(p) if p.protocol == spec.protocol => PortSet::single(p.port),
                _ => PortSet::empty(),
            },
        };
        out.add(spec.protocol, &ports);
    }
    out
}

/// One direction for `subject`: every policy is looked at; `None` when none isolates it.
fn direction(cluster: &Cluster, subject: &Pod, other: &Pod, dst: &Pod, dir: PolicyType) -> Option<ConnSet> {
    let mut isolated = false;
    let mut allowed = ConnSet::none();
    for policy in &cluster.network_policies {
        if !selects(policy, subject, dir) {
            continue;
        }
        isolated = true;
        let rules = if dir == PolicyType::Ingress { &policy.ingress } else { &policy.egress };
        for rule in rules {
            if rule.peers.is_empty() || rule.peers.iter().any(|p| peer_matches(cluster, &policy.namespace, p, other)) {
                allowed.add_all(&rule_ports(rule, dst));
            }
        }
    }
    isolated.then_some(allowed)
}

fn selects(policy: &NetworkPolicy, pod: &Pod, dir: PolicyType) -> bool {
    policy.namespace == pod.namespace && policy.affects(dir) && matches(&policy.pod_selector, &pod.labels)
}

/// Every workload pair against every policy; (src, dst) names to what is allowed.
pub fn naive(cluster: &Cluster) -> BTreeMap<(String, String), ConnSet> {
    let mut workloads: BTreeMap<String, &Pod> = BTreeMap::new();
    for pod in &cluster.pods {
        workloads.entry(pod.workload_name()).or_insert(pod);
    }
    let mut out = BTreeMap::new();
    for (s_name, src) in &workloads {
        for (d_name, dst) in &workloads {
            if s_name == d_name {
                continue;
            }
            let egress = direction(cluster, src, dst, dst, PolicyType::Egress).unwrap_or_else(ConnSet::all);
            let ingress = direction(cluster, dst, src, dst, PolicyType::Ingress).unwrap_or_else(ConnSet::all);
            let conns = egress.intersect(&ingress);
            if !conns.is_empty() {
                out.insert((s_name.clone(), d_name.clone()), conns);
            }
        }
    }
    out
}

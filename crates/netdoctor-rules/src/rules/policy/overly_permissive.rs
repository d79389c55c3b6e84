//! ND406: policies open to everything on a sensitive port, and namespaces with no policy.

use crate::prelude::*;
use crate::rules::cni_firewall::SENSITIVE_PORTS;
use crate::rules::k8s::{is_system_namespace, list_names, one_pod_per_workload};
use netdoctor_engine::policy::{PolicyEngine, TieredSource};
use netdoctor_model::calico_policy::{CalicoAction, CalicoPort};
use netdoctor_model::cilium::CiliumPortNumber;
use netdoctor_model::k8s::{PolicyPeer, PolicyRule, PolicyType, PortRef};
use netdoctor_model::Protocol;
use std::collections::BTreeMap;

/// Admin ports beyond the datastores ND510 knows.
const ADMIN_PORTS: &[(u16, &str)] = &[(22, "SSH"), (2380, "etcd peer"), (10250, "kubelet")];

declare_rule! {
    /// ## What it checks
    /// Datastore and admin ports open to every source, and namespaces without any policy.
    /// Reported: ingress rules that allow every source (no `from`, a peer with
    /// `namespaceSelector: {}` and no narrower podSelector, or an ipBlock of `0.0.0.0/0` or
    /// `::/0`) to a datastore or admin port (SSH 22, etcd 2379, MySQL 3306, PostgreSQL 5432,
    /// Redis 6379, Elasticsearch 9200, MongoDB 27017, Memcached 11211, …) that the selected
    /// pods declare or the rule names; the same for Calico Allow rules with no source
    /// criteria (or `nets: [0.0.0.0/0]`) and Cilium rules from the `all` or `world` entity,
    /// `0.0.0.0/0`, or with ports and no peer at all. Also, at info level and only when the manifests hold
    /// at least one NetworkPolicy: namespaces with pods that no policy of any tier
    /// isolates (platform namespaces, `kube-*`, `*-system` and `openshift-*`, are left out).
    ///
    /// ## Why it matters
    /// A database reachable from every pod of every namespace, or from any address, turns
    /// one compromised workload into a data breach. A namespace without any policy accepts
    /// traffic from everywhere while the rest of the cluster looks locked down.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: { matchLabels: { app: postgres } }
    ///   ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 5432 }] }]
    /// ```
    ///
    /// ## Fix
    /// Allow only the clients that need the port (a `podSelector`, with a `namespaceSelector` naming their namespace), and give every application namespace a default-deny policy.
    pub struct OverlyPermissive => Warning, "ND406";
}

impl Check for OverlyPermissive {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let k8s = &cx.model.k8s;
        cni_rules_open_to_everyone(cx, engine, out);
        if k8s.network_policies.is_empty() {
            return;
        }
        for (i, policy) in k8s.network_policies.iter().enumerate() {
            let selected = engine.policy_classes(i);
            let declared: Vec<(Protocol, u16)> =
                selected.iter().filter_map(|&c| engine.classes.get(c)).flat_map(|c| &c.ports).map(|p| (p.protocol, p.port)).collect();
            for rule in &policy.ingress {
                let Some(who) = everyone(rule) else { continue };
                let ports = sensitive_ports(rule, &declared);
                let Some((port, what)) = ports.first() else { continue };
                let name = policy.full_name();
                let targets = list_names(selected.iter().flat_map(|&c| engine.class_workloads(c).map(|w| w.name())), 2);
                out.report(&rule.origin, format!("ingress rule of policy `{name}` lets {who} reach {what} port {port} of {targets}"))
                    .subjects([name.clone()])
                    .help(format!("narrow the `from` of `{name}` to the clients that need port {port} (a podSelector, with a namespaceSelector naming their namespace)"));
            }
        }
        unisolated_namespaces(cx, engine, out);
    }
}

/// Who a rule lets in when that is everyone, in words.
fn everyone(rule: &PolicyRule) -> Option<&'static str> {
    if rule.peers.is_empty() {
        return Some("every source");
    }
    rule.peers.iter().find_map(|peer| match peer {
        PolicyPeer::Pods { namespace_selector: Some(ns), pod_selector, .. }
            if ns.is_empty() && pod_selector.as_ref().is_none_or(|p| p.is_empty()) =>
        {
            Some("every pod of every namespace")
        }
        PolicyPeer::IpBlock { block, .. } if block.cidr.prefix_len() == 0 && block.except.is_empty() => Some("every address"),
        _ => None,
    })
}

fn known(port: u16) -> Option<&'static str> {
    SENSITIVE_PORTS.iter().chain(ADMIN_PORTS).find(|(p, _)| *p == port).map(|(_, what)| *what)
}

/// The sensitive ports the rule opens: named or numbered in it, or, for a rule without
/// ports, declared by the selected pods.
fn sensitive_ports(rule: &PolicyRule, declared: &[(Protocol, u16)]) -> Vec<(u16, &'static str)> {
    let mut found = BTreeMap::new();
    if rule.ports.is_empty() {
        for (_, port) in declared {
            if let Some(what) = known(*port) {
                found.insert(*port, what);
            }
        }
    }
    for spec in &rule.ports {
        match &spec.port {
            Some(PortRef::Number(start)) => {
                let end = spec.end_port.unwrap_or(*start);
                for (port, what) in SENSITIVE_PORTS.iter().chain(ADMIN_PORTS).filter(|(p, _)| (*start..=end).contains(p)) {
                    found.insert(*port, *what);
                }
            }
            // A name, or every port of the protocol: what the pods declare for it.
            _ => {
                for (_, port) in declared.iter().filter(|(p, _)| *p == spec.protocol) {
                    if let Some(what) = known(*port) {
                        found.insert(*port, what);
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

/// A port list as (first, last, name) entries: the sensitive ports it opens, given what
/// the selected pods declare (`None` for the list means every port).
fn sensitive_in(ranges: Option<&[(u16, u16)]>, names: &[&str], declared: &[(Option<&str>, u16)]) -> Vec<(u16, &'static str)> {
    let mut found = BTreeMap::new();
    match ranges {
        None => {
            for (_, port) in declared {
                if let Some(what) = known(*port) {
                    found.insert(*port, what);
                }
            }
        }
        Some(ranges) => {
            for (start, end) in ranges {
                for (port, what) in SENSITIVE_PORTS.iter().chain(ADMIN_PORTS).filter(|(p, _)| (*start..=*end).contains(p)) {
                    found.insert(*port, *what);
                }
            }
        }
    }
    for (name, port) in declared {
        if name.is_some_and(|n| names.contains(&n)) {
            if let Some(what) = known(*port) {
                found.insert(*port, what);
            }
        }
    }
    found.into_iter().collect()
}

/// Calico Allow rules and Cilium allow rules that let every source in on a sensitive port.
fn cni_rules_open_to_everyone(cx: &RuleContext<'_>, engine: &PolicyEngine<'_>, out: &mut Diagnostics) {
    let k8s = &cx.model.k8s;
    let declared_by = |classes: &[usize]| -> Vec<(Option<&str>, u16)> {
        classes.iter().filter_map(|&c| engine.classes.get(c)).flat_map(|c| &c.ports).map(|p| (p.name.as_deref(), p.port)).collect()
    };
    let all_v4 = |nets: &[ipnet::IpNet]| nets.iter().any(|n| n.prefix_len() == 0);
    let mut report =
        |origin: &netdoctor_model::Origin, name: String, who: &str, found: Vec<(u16, &'static str)>, classes: &[usize], field: &str| {
            let Some((port, what)) = found.first() else { return };
            let targets = list_names(classes.iter().flat_map(|&c| engine.class_workloads(c).map(|w| w.name())), 2);
            out.report(origin, format!("an ingress rule of {name} lets {who} reach {what} port {port} of {targets}"))
                .subjects([name.clone()])
                .help(format!("narrow the rule's {field} to the clients that need port {port}"));
        };
    for (i, policy) in k8s.calico_policies.iter().enumerate() {
        let classes = engine.cni_policy_classes(TieredSource::Calico(i), PolicyType::Ingress);
        let declared = declared_by(classes);
        for rule in policy.ingress.iter().filter(|r| r.action == CalicoAction::Allow) {
            let src = &rule.source;
            let open = src.selector.is_none()
                && src.namespace_selector.is_none()
                && src.service_account_names.is_empty()
                && src.not_selector.is_none();
            let who = if open && src.nets.is_empty() && src.not_nets.is_empty() {
                "every source"
            } else if open && all_v4(&src.nets) && src.not_nets.is_empty() {
                "every address"
            } else {
                continue;
            };
            let ranges: Vec<(u16, u16)> =
                rule.destination.ports.iter().filter_map(|p| if let CalicoPort::Range(a, b) = p { Some((*a, *b)) } else { None }).collect();
            let names: Vec<&str> =
                rule.destination.ports.iter().filter_map(|p| if let CalicoPort::Named(n) = p { Some(n.as_str()) } else { None }).collect();
            let found = sensitive_in((!rule.destination.ports.is_empty()).then_some(ranges.as_slice()), &names, &declared);
            report(&rule.origin, policy.display_name(), who, found, classes, "`source`");
        }
    }
    for (i, policy) in k8s.cilium_policies.iter().enumerate() {
        let classes = engine.cni_policy_classes(TieredSource::Cilium(i), PolicyType::Ingress);
        let declared = declared_by(classes);
        for rule in policy.rules.iter().flat_map(|r| r.ingress.iter().flatten()) {
            let no_peer = rule.endpoints.is_none() && rule.cidrs.is_empty() && rule.entities.is_empty();
            let who = if rule.entities.iter().any(|e| e == "all") || (no_peer && !rule.ports.is_empty()) {
                "every source"
            } else if rule.entities.iter().any(|e| e == "world")
                || rule.cidrs.iter().any(|c| c.except.is_empty() && c.cidr.is_some_and(|n| n.prefix_len() == 0))
            {
                "every address outside the cluster"
            } else {
                continue;
            };
            let mut ranges = Vec::new();
            let mut names = Vec::new();
            for port in rule.ports.iter().flat_map(|p| &p.ports) {
                match &port.port {
                    CiliumPortNumber::Number(0) => ranges.push((1, u16::MAX)),
                    CiliumPortNumber::Number(n) => ranges.push((*n, port.end_port.unwrap_or(*n).max(*n))),
                    CiliumPortNumber::Named(n) => names.push(n.as_str()),
                }
            }
            let every_port = rule.ports.is_empty() || rule.ports.iter().any(|p| p.ports.is_empty());
            let found = sensitive_in((!every_port).then_some(ranges.as_slice()), &names, &declared);
            report(&rule.origin, policy.display_name(), who, found, classes, "peers (`fromEndpoints`, `fromEntities`, `fromCIDR`)");
        }
    }
}

/// Namespaces with pods that no policy of any tier isolates for ingress.
fn unisolated_namespaces(cx: &RuleContext<'_>, engine: &PolicyEngine<'_>, out: &mut Diagnostics) {
    let k8s = &cx.model.k8s;
    let mut by_ns: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (class, c) in engine.classes.iter().enumerate() {
        if Some(class) == engine.ingress_controller || c.host_network {
            continue;
        }
        by_ns.entry(engine.class_namespace(class)).or_default().push(class);
    }
    for (ns, classes) in by_ns {
        if is_system_namespace(ns)
            || k8s.network_policies.iter().any(|p| p.namespace == ns)
            || classes.iter().any(|&c| engine.is_isolated(c, PolicyType::Ingress))
        {
            continue;
        }
        let pods: Vec<_> = one_pod_per_workload(k8s).filter(|p| p.namespace == ns && !p.host_network).collect();
        let Some(first) = pods.first() else { continue };
        let origin = k8s.namespace(ns).map_or(&first.origin, |n| &n.origin);
        out.report(
            origin,
            format!("namespace `{ns}` has workloads ({}) but no NetworkPolicy: every pod in it accepts connections from anywhere", list_names(pods.iter().map(|p| p.workload_name()), 3)),
        )
        .subjects([ns.to_string()])
        .severity(Severity::Info)
        .help(format!("add a default-deny policy to `{ns}` (`podSelector: {{}}`, `policyTypes: [Ingress]`) and policies allowing the traffic its pods need"));
    }
}

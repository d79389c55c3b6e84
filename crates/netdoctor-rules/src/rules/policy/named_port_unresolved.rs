//! ND403: a NetworkPolicy port name that no destination container declares.

use crate::prelude::*;
use crate::rules::k8s::list_names;
use netdoctor_engine::policy::{ClassId, PolicyEngine, TieredSource};
use netdoctor_model::calico_policy::{CalicoAction, CalicoPort};
use netdoctor_model::cilium::CiliumPortNumber;
use netdoctor_model::k8s::{ContainerPort, PolicyPeer, PolicyRule, PolicyType, PortRef};
use std::collections::BTreeSet;

declare_rule! {
    /// ## What it checks
    /// NetworkPolicy port names (`ports: [{ port: http }]`) that no destination container
    /// declares. For ingress, the pods
    /// the policy selects must declare a container port of that name and protocol; for
    /// egress, the pods the rule's peers match (every pod, when the rule has no peers or
    /// an `ipBlock`). Rules whose destinations are not in the manifests are not judged.
    /// Calico ingress rules (`destination: {ports: [http]}`) and Cilium ingress rules
    /// (`toPorts: [{ports: [{port: http}]}]`) are judged against the pods their policy
    /// selects; their egress Allow rules against the pods the rule's peers match (every
    /// pod, when it matches any peer or outside addresses).
    ///
    /// ## Why it matters
    /// A name resolves per destination pod, against its container ports. When no
    /// destination declares it, the port entry allows nothing, and the traffic the rule was
    /// written for is denied.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: { matchLabels: { app: web } }   # its container port is named "web"
    ///   ingress: [{ ports: [{ port: http }] }]
    /// ```
    ///
    /// ## Fix
    /// Use the port name the destination containers declare (the finding names the closest), or the port number.
    pub struct NamedPortUnresolved => Warning, "ND403";
}

impl Check for NamedPortUnresolved {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        for (i, policy) in cx.model.k8s.network_policies.iter().enumerate() {
            let selected = engine.policy_classes(i);
            for rule in &policy.ingress {
                report(engine, &policy.full_name(), "ingress", rule, &selected, "the pods it selects", out);
            }
            // Destinations are costly to list on a large cluster: only for rules naming a port.
            for rule in policy.egress.iter().filter(|r| r.ports.iter().any(|p| matches!(p.port, Some(PortRef::Name(_))))) {
                let destinations = egress_destinations(engine, &policy.namespace, rule);
                report(engine, &policy.full_name(), "egress", rule, &destinations, "the pods the rule's peers match", out);
            }
        }
        cni_ingress_names(cx, engine, out);
        cni_egress_names(cx, engine, out);
    }
}

/// One rule's port names and where it is written.
type NamedRule<'a> = (Vec<String>, &'a netdoctor_model::Origin);

/// Port names of Calico and Cilium egress Allow rules that none of the pods the rule
/// may reach declare.
fn cni_egress_names(cx: &RuleContext<'_>, engine: &PolicyEngine<'_>, out: &mut Diagnostics) {
    let k8s = &cx.model.k8s;
    let calico_names = |r: &netdoctor_model::calico_policy::CalicoRule| -> Vec<String> {
        r.destination
            .ports
            .iter()
            .filter_map(|port| match port {
                CalicoPort::Named(n) => Some(n.clone()),
                CalicoPort::Range(..) => None,
            })
            .collect()
    };
    let cilium_names = |r: &netdoctor_model::cilium::CiliumPeerRule| -> Vec<String> {
        r.ports
            .iter()
            .flat_map(|pr| &pr.ports)
            .filter_map(|port| match &port.port {
                CiliumPortNumber::Named(n) => Some(n.clone()),
                CiliumPortNumber::Number(_) => None,
            })
            .collect()
    };
    // Per policy naming a port in an egress Allow rule: its rules' names and locations, in
    // the order the engine lists their destinations.
    let mut wanted: Vec<(TieredSource, String, Vec<NamedRule<'_>>)> = Vec::new();
    for (i, p) in k8s.calico_policies.iter().enumerate() {
        let rules: Vec<_> = p.egress.iter().filter(|r| r.action == CalicoAction::Allow).map(|r| (calico_names(r), &r.origin)).collect();
        if rules.iter().any(|(names, _)| !names.is_empty()) {
            wanted.push((TieredSource::Calico(i), p.display_name(), rules));
        }
    }
    for (i, p) in k8s.cilium_policies.iter().enumerate() {
        let specs = p.rules.iter().filter(|r| r.endpoint_selector.is_some());
        let rules: Vec<_> = specs.flat_map(|r| r.egress.iter().flatten()).map(|r| (cilium_names(r), &r.origin)).collect();
        if rules.iter().any(|(names, _)| !names.is_empty()) {
            wanted.push((TieredSource::Cilium(i), p.display_name(), rules));
        }
    }
    for (source, name, rules) in wanted {
        let destinations = engine.cni_egress_destinations(source);
        for ((names, origin), classes) in rules.into_iter().zip(destinations) {
            let ports = || classes.iter().filter_map(|&c| engine.classes.get(c)).flat_map(|c| &c.ports);
            for wanted in names {
                if classes.is_empty() || ports().any(|cp| cp.name.as_deref() == Some(wanted.as_str())) {
                    continue;
                }
                let (declared, closest) = declared_and_closest(ports(), &wanted);
                out.report(origin, format!("an egress rule of {name} allows port `{wanted}`, but none of the pods the rule's peers match declares a port of that name ({declared}): the entry allows nothing"))
                    .subjects([name.clone()])
                    .help(format!("use a port name the destination containers declare{closest}, or the port number"));
            }
        }
    }
}

/// Port names of Calico and Cilium ingress rules that none of the selected pods declare.
fn cni_ingress_names(cx: &RuleContext<'_>, engine: &PolicyEngine<'_>, out: &mut Diagnostics) {
    let k8s = &cx.model.k8s;
    let calico = k8s.calico_policies.iter().enumerate().flat_map(|(i, p)| {
        p.ingress.iter().flat_map(move |r| {
            let names = r.destination.ports.iter().filter_map(|port| match port {
                CalicoPort::Named(n) => Some(n.clone()),
                CalicoPort::Range(..) => None,
            });
            names.map(move |n| (TieredSource::Calico(i), p.display_name(), n, &r.origin))
        })
    });
    let cilium = k8s.cilium_policies.iter().enumerate().flat_map(|(i, p)| {
        p.rules.iter().flat_map(|r| r.ingress.iter().flatten()).flat_map(move |r| {
            let names = r.ports.iter().flat_map(|pr| &pr.ports).filter_map(|port| match &port.port {
                CiliumPortNumber::Named(n) => Some(n.clone()),
                CiliumPortNumber::Number(_) => None,
            });
            names.map(move |n| (TieredSource::Cilium(i), p.display_name(), n, &r.origin))
        })
    });
    for (source, name, wanted, origin) in calico.chain(cilium) {
        let classes = engine.cni_policy_classes(source, PolicyType::Ingress);
        let ports = || classes.iter().filter_map(|&c| engine.classes.get(c)).flat_map(|c| &c.ports);
        if classes.is_empty() || ports().any(|cp| cp.name.as_deref() == Some(wanted.as_str())) {
            continue;
        }
        let (declared, closest) = declared_and_closest(ports(), &wanted);
        out.report(origin, format!("an ingress rule of {name} allows port `{wanted}`, but none of the pods it selects declares a port of that name ({declared}): the entry allows nothing"))
            .subjects([name.clone()])
            .help(format!("use a port name the selected containers declare{closest}, or the port number"));
    }
}

/// The classes an egress rule may reach: its peers' pods, or every pod.
fn egress_destinations(engine: &PolicyEngine<'_>, namespace: &str, rule: &PolicyRule) -> Vec<ClassId> {
    let open = rule.peers.is_empty() || rule.peers.iter().any(|p| matches!(p, PolicyPeer::IpBlock { .. }));
    if open {
        let controller = engine.ingress_controller;
        return (0..engine.classes.len()).filter(|c| Some(*c) != controller).collect();
    }
    let set: BTreeSet<ClassId> = rule.peers.iter().flat_map(|p| engine.peer_classes(namespace, p)).collect();
    set.into_iter().collect()
}

fn report(
    engine: &PolicyEngine<'_>,
    name: &str,
    direction: &str,
    rule: &PolicyRule,
    classes: &[ClassId],
    whom: &str,
    out: &mut Diagnostics,
) {
    if classes.is_empty() {
        return;
    }
    let ports = || classes.iter().filter_map(|&c| engine.classes.get(c)).flat_map(|c| &c.ports);
    for spec in &rule.ports {
        let Some(PortRef::Name(wanted)) = &spec.port else { continue };
        if ports().any(|cp| cp.name.as_deref() == Some(wanted.as_str()) && cp.protocol == spec.protocol) {
            continue;
        }
        let protocol = spec.protocol.to_string().to_uppercase();
        let other_protocol = ports().any(|cp| cp.name.as_deref() == Some(wanted.as_str()));
        let (declared, closest) = declared_and_closest(ports(), wanted);
        let message = if other_protocol {
            format!("{direction} rule of policy `{name}` allows {protocol} port `{wanted}`, but {whom} declare `{wanted}` for another protocol only: the entry allows nothing")
        } else {
            format!("{direction} rule of policy `{name}` allows port `{wanted}`, but none of {whom} declares a {protocol} port of that name ({declared}): the entry allows nothing")
        };
        out.report(&spec.origin, message)
            .subjects([name.to_string()])
            .help(format!("use a port name the destination containers declare{closest}, or the port number"));
    }
}

/// What the pods' container ports declare, for a message (`they declare `http``), and
/// the declared name closest to `wanted`, for the help (` (closest: `http`)`).
fn declared_and_closest<'p>(ports: impl Iterator<Item = &'p ContainerPort>, wanted: &str) -> (String, String) {
    let mut names: Vec<String> = ports.filter_map(|cp| cp.name.clone()).collect();
    names.sort();
    names.dedup();
    let closest = names.iter().min_by_key(|n| strsim::levenshtein(n, wanted)).map(|n| format!(" (closest: `{n}`)")).unwrap_or_default();
    let declared =
        if names.is_empty() { "they declare no named ports".to_string() } else { format!("they declare {}", list_names(names, 6)) };
    (declared, closest)
}

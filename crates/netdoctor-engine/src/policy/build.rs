//! Builders for the policy tests: clusters, pods, policies and their parts in code.

use netdoctor_model::k8s::*;
use netdoctor_model::{Origin, Protocol};

pub fn o() -> Origin {
    Origin::Logical("test".into())
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
    LabelSelector::from_labels(pairs.iter().copied())
}

pub fn port(name: &str, number: u16, protocol: Protocol) -> ContainerPort {
    ContainerPort { name: Some(name.into()), port: number, protocol }
}

pub fn pods(ns: Option<LabelSelector>, pod: Option<LabelSelector>) -> PolicyPeer {
    PolicyPeer::Pods { namespace_selector: ns, pod_selector: pod, origin: o() }
}

pub fn ip(cidr: &str, except: &[&str]) -> PolicyPeer {
    let net = |s: &str| s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    PolicyPeer::IpBlock { block: IpBlock { cidr: net(cidr), except: except.iter().map(|e| net(e)).collect() }, origin: o() }
}

pub fn on(protocol: Protocol, p: u16) -> PortSpec {
    PortSpec::new(protocol, Some(PortRef::Number(p)), o())
}

pub fn tcp(p: u16) -> PortSpec {
    on(Protocol::Tcp, p)
}

pub fn named(name: &str) -> PortSpec {
    PortSpec::new(Protocol::Tcp, Some(PortRef::Name(name.into())), o())
}

pub fn rule(peers: Vec<PolicyPeer>, ports: Vec<PortSpec>) -> PolicyRule {
    PolicyRule::new(peers, ports, o())
}

/// A policy in `ns` selecting `app=<app>` (all pods for `*`).
pub fn np(ns: &str, app: &str, ingress: Vec<PolicyRule>, egress: Vec<PolicyRule>, types: Option<&[PolicyType]>) -> NetworkPolicy {
    let selector = if app == "*" { LabelSelector::default() } else { sel(&[("app", app)]) };
    let mut p = NetworkPolicy::new(ns, format!("{ns}-{app}"), selector, o());
    p.ingress = ingress;
    p.egress = egress;
    p.policy_types = types.map(<[PolicyType]>::to_vec);
    p
}

//! Cilium's policy resources (`cilium.io/v2`): CiliumNetworkPolicy (namespaced),
//! CiliumClusterwideNetworkPolicy, and the CiliumCIDRGroups their CIDR rules can name.
//! Plain data, as written: label keys keep Cilium's source prefixes (`k8s:`, `any:`) and
//! special keys (`io.kubernetes.pod.namespace`); the engine interprets them.
//!
//! Cilium's semantics, which the engine applies: a pod selected by a policy that has a
//! section for a direction is default-deny in that direction (unless the policy sets
//! `enableDefaultDeny` false for it); what any allow rule of any policy selecting it (or
//! a Kubernetes NetworkPolicy) allows is allowed, unless a deny rule matches, which wins.

use crate::k8s::LabelSelector;
use crate::Origin;
use ipnet::IpNet;
use serde::Serialize;

/// A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiliumPolicy {
    /// `None` for a CiliumClusterwideNetworkPolicy.
    pub namespace: Option<String>,
    pub name: String,
    /// `spec`, then each of `specs`.
    pub rules: Vec<CiliumRule>,
    pub origin: Origin,
}

impl CiliumPolicy {
    /// `CiliumNetworkPolicy shop/allow-web`, `CiliumClusterwideNetworkPolicy deny-world`.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("CiliumNetworkPolicy {ns}/{}", self.name),
            None => format!("CiliumClusterwideNetworkPolicy {}", self.name),
        }
    }
}

/// One rule (a `spec` or an entry of `specs`): whom it selects and its sections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiliumRule {
    /// `endpointSelector`; `None` when the rule selects nodes instead.
    pub endpoint_selector: Option<LabelSelector>,
    /// `nodeSelector` (host policies).
    pub node_selector: Option<LabelSelector>,
    /// `ingress`; `None` when the section is absent (an empty list is present).
    pub ingress: Option<Vec<CiliumPeerRule>>,
    pub ingress_deny: Option<Vec<CiliumPeerRule>>,
    pub egress: Option<Vec<CiliumPeerRule>>,
    pub egress_deny: Option<Vec<CiliumPeerRule>>,
    /// `enableDefaultDeny.ingress`/`.egress`; `None` means true.
    pub default_deny_ingress: Option<bool>,
    pub default_deny_egress: Option<bool>,
    pub origin: Origin,
}

/// One entry of `ingress`, `ingressDeny`, `egress` or `egressDeny`. The peer fields are
/// the `from*` fields for ingress and the `to*` fields for egress. A rule with no peer
/// field and no ports matches nothing (`ingress: [{}]` is Cilium's default-deny idiom);
/// ports without a peer field match every peer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiliumPeerRule {
    /// `fromEndpoints`/`toEndpoints`: each selector is one alternative.
    pub endpoints: Option<Vec<LabelSelector>>,
    /// `fromRequires`/`toRequires`.
    pub requires: Vec<LabelSelector>,
    /// `fromCIDR`/`toCIDR` and `fromCIDRSet`/`toCIDRSet`.
    pub cidrs: Vec<CidrRule>,
    /// `fromEntities`/`toEntities`, as written (`world`, `cluster`, `host`, ...).
    pub entities: Vec<String>,
    /// `toPorts`: each entry is one alternative.
    pub ports: Vec<CiliumPortRule>,
    /// `icmps`: the ICMP types the rule allows (or denies), every field of every entry.
    pub icmps: Vec<CiliumIcmp>,
    /// `toFQDNs` patterns (`matchName`/`matchPattern`).
    pub fqdns: Vec<String>,
    /// Other peer fields that need state beyond the cluster's objects (`toServices`,
    /// `toGroups`, `fromNodes`/`toNodes`, ...): their names.
    pub unevaluated: Vec<String>,
    pub origin: Origin,
}

impl CiliumPeerRule {
    /// Whether the entry has no peer field and no port: it matches nothing (`- {}`).
    pub fn matches_nothing(&self) -> bool {
        self.endpoints.is_none()
            && self.requires.is_empty()
            && self.cidrs.is_empty()
            && self.entities.is_empty()
            && self.ports.is_empty()
            && self.icmps.is_empty()
            && self.fqdns.is_empty()
            && self.unevaluated.is_empty()
    }
}

/// One ICMP field of `icmps`: a type (every code of it) in one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CiliumIcmp {
    /// `family: IPv6` (ICMPv6); IPv4 is the default.
    pub ipv6: bool,
    /// The type; `None` for an ICMPv6 type given by a name (IPv6 is not evaluated).
    pub icmp_type: Option<u8>,
}

/// One CIDR peer: a prefix (or a CiliumCIDRGroup by name) minus exceptions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CidrRule {
    pub cidr: Option<IpNet>,
    /// `cidrGroupRef`.
    pub group: Option<String>,
    pub except: Vec<IpNet>,
}

/// One `toPorts` entry: ports, and the L7 rules that further limit them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CiliumPortRule {
    /// Empty means every port.
    pub ports: Vec<CiliumPort>,
    /// L7 rule kinds present (`http`, `kafka`, `dns`, `l7proto`), or `serverNames`.
    pub l7: Vec<String>,
}

/// One port of a `toPorts` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CiliumPort {
    /// The port number, 0 for every port, or a named port.
    pub port: CiliumPortNumber,
    pub end_port: Option<u16>,
    pub protocol: CiliumProtocol,
}

/// `port` of a `toPorts` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CiliumPortNumber {
    Number(u16),
    Named(String),
}

/// `protocol` of a `toPorts` port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CiliumProtocol {
    Tcp,
    Udp,
    Sctp,
    /// `ANY` (the default).
    Any,
}

/// A CiliumCIDRGroup: CIDRs a `cidrGroupRef` names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CidrGroup {
    pub name: String,
    pub cidrs: Vec<IpNet>,
    pub origin: Origin,
}

//! Calico's policy resources (`projectcalico.org/v3`, and `crd.projectcalico.org/v1` as
//! stored in the cluster's CRDs): NetworkPolicy and GlobalNetworkPolicy, Tiers, and the
//! NetworkSets and GlobalNetworkSets their selectors can name. Plain data: selectors are
//! `SelectorExpr`s, matched in the engine.
//!
//! Calico evaluates tiers by `order` (lower first); within a tier, policies by `order`
//! (lower first, none last, ties by name); within a policy, rules in order. The first
//! rule that matches decides (Allow, Deny, or Pass to the next tier; Log goes on). An
//! endpoint that a tier's policies select but whose traffic no rule decides meets the
//! tier's default action (Deny, or Pass). Kubernetes NetworkPolicies are policies of the
//! `default` tier at order 1000.

use crate::calico::SelectorExpr;
use crate::k8s::{Labels, PolicyType};
use crate::Origin;
use ipnet::IpNet;
use serde::Serialize;

/// The tier policies without a `tier` belong to, and Kubernetes NetworkPolicies too.
pub const DEFAULT_TIER: &str = "default";

/// Where Kubernetes NetworkPolicies sort among the `default` tier's Calico policies.
pub const K8S_POLICY_ORDER: f64 = 1000.0;

/// Which kind of Calico policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CalicoKind {
    /// Namespaced: selects endpoints of its namespace.
    NetworkPolicy,
    /// Cluster-wide: selects endpoints of every namespace (and host endpoints).
    GlobalNetworkPolicy,
}

impl CalicoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CalicoKind::NetworkPolicy => "NetworkPolicy",
            CalicoKind::GlobalNetworkPolicy => "GlobalNetworkPolicy",
        }
    }
}

/// A Calico NetworkPolicy or GlobalNetworkPolicy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalicoPolicy {
    pub kind: CalicoKind,
    /// `apiVersion` as written (`projectcalico.org/v3`), for messages.
    pub api_version: String,
    /// `None` for a GlobalNetworkPolicy.
    pub namespace: Option<String>,
    /// The name as written (a tier prefix such as `platform.` kept).
    pub name: String,
    /// `spec.tier`, `default` when absent.
    pub tier: String,
    /// `spec.order`; `None` sorts after every ordered policy.
    pub order: Option<f64>,
    /// `spec.selector`; `all()` when absent.
    pub selector: SelectorExpr,
    /// `spec.namespaceSelector` (GlobalNetworkPolicy).
    pub namespace_selector: Option<SelectorExpr>,
    /// `spec.serviceAccountSelector`.
    pub service_account_selector: Option<SelectorExpr>,
    /// `spec.types`, with Calico's default applied when absent: Ingress when there are no
    /// egress rules, Egress when there are egress rules but no ingress rules, else both.
    pub types: Vec<PolicyType>,
    pub ingress: Vec<CalicoRule>,
    pub egress: Vec<CalicoRule>,
    /// Fields read but not evaluated (`applyOnForward`, `preDNAT`, `doNotTrack`, ...),
    /// as the names of those fields.
    pub unevaluated: Vec<String>,
    pub origin: Origin,
}

impl CalicoPolicy {
    /// `NetworkPolicy shop/allow-web`, `GlobalNetworkPolicy deny-all`.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("Calico {} {ns}/{}", self.kind.as_str(), self.name),
            None => format!("Calico {} {}", self.kind.as_str(), self.name),
        }
    }

    /// Whether the policy applies in `direction`.
    pub fn affects(&self, direction: PolicyType) -> bool {
        self.types.contains(&direction)
    }
}

/// A rule's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CalicoAction {
    Allow,
    Deny,
    /// Skip the rest of the tier: the next tier decides.
    Pass,
    /// Log and go on to the next rule.
    Log,
}

/// A protocol as a Calico rule names it: by name, or by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CalicoProtocol {
    Tcp,
    Udp,
    Sctp,
    Icmp,
    IcmpV6,
    UdpLite,
    /// An IP protocol number (1-255).
    Number(u8),
}

impl CalicoProtocol {
    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            CalicoProtocol::Tcp => 6,
            CalicoProtocol::Udp => 17,
            CalicoProtocol::Sctp => 132,
            CalicoProtocol::Icmp => 1,
            CalicoProtocol::IcmpV6 => 58,
            CalicoProtocol::UdpLite => 136,
            CalicoProtocol::Number(n) => n,
        }
    }
}

/// `icmp`/`notICMP`: a type, and a code within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IcmpMatch {
    pub icmp_type: Option<u8>,
    pub code: Option<u8>,
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalicoRule {
    pub action: CalicoAction,
    pub protocol: Option<CalicoProtocol>,
    pub not_protocol: Option<CalicoProtocol>,
    pub icmp: Option<IcmpMatch>,
    pub not_icmp: Option<IcmpMatch>,
    /// `ipVersion`: 4 or 6.
    pub ip_version: Option<u8>,
    pub source: EntityRule,
    pub destination: EntityRule,
    /// Parts that depend on more than addresses and ports (`http` match criteria):
    /// field names, for messages.
    pub unevaluated: Vec<String>,
    pub origin: Origin,
}

/// `source` or `destination` of a rule: every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EntityRule {
    pub nets: Vec<IpNet>,
    pub not_nets: Vec<IpNet>,
    pub selector: Option<SelectorExpr>,
    pub not_selector: Option<SelectorExpr>,
    pub namespace_selector: Option<SelectorExpr>,
    /// `serviceAccounts.names`.
    pub service_account_names: Vec<String>,
    /// `serviceAccounts.selector`.
    pub service_account_selector: Option<SelectorExpr>,
    pub ports: Vec<CalicoPort>,
    pub not_ports: Vec<CalicoPort>,
    /// `services` (a Kubernetes Service as the peer): name and namespace.
    pub service: Option<(String, Option<String>)>,
}

impl EntityRule {
    /// Whether the rule names anything about this side (an empty side matches all).
    pub fn is_empty(&self) -> bool {
        *self == EntityRule::default()
    }
}

/// One entry of `ports`/`notPorts`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum CalicoPort {
    /// `80` or `"8000:8100"`.
    Range(u16, u16),
    /// A named port of the endpoint.
    Named(String),
}

/// What a tier does with traffic its policies select but do not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TierDefault {
    Deny,
    Pass,
}

/// A Calico Tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalicoTier {
    pub name: String,
    /// `None` sorts after every ordered tier.
    pub order: Option<f64>,
    pub default_action: TierDefault,
    pub origin: Origin,
}

/// A NetworkSet (namespaced) or GlobalNetworkSet: addresses with labels, which rule
/// selectors can name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkSet {
    /// `None` for a GlobalNetworkSet.
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
    pub nets: Vec<IpNet>,
    pub origin: Origin,
}

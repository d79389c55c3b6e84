//! Kubernetes policy evaluation: NetworkPolicy v1 with its full semantics, and the
//! admin and baseline tiers around it (AdminNetworkPolicy, BaselineAdminNetworkPolicy
//! and ClusterNetworkPolicy).
//!
//! `PolicyEngine::new` groups pods into classes (same namespace, labels, ports) and
//! compiles every rule into the classes and address ranges it matches; `allowed`
//! answers one connection and `matrix` all of them. Connections are sets of port
//! intervals per protocol (`ConnSet`).

mod calico_selector;
mod cilium;
mod classset;
mod diff;
mod dns;
mod engine;
mod eval;
mod exposure;
mod inspect;
mod ip;
mod matrix;
mod ports;
mod selector;
mod tiered;
mod trace;
mod unknown;

pub use calico_selector::matches_expr;
pub use cilium::POD_NAMESPACE_LABEL;
pub use diff::{diff, Change, PolicyDiff};
pub use dns::{is_cluster_dns, with_cluster_dns, DnsAccess, CLUSTER_DNS_LABEL, CLUSTER_DNS_NAMESPACE, STAND_IN_ORIGIN};
pub use engine::{
    ClassId, EngineWarning, HostNetwork, NamespaceInfo, PodClass, PolicyEngine, PolicyOptions, Workload, INGRESS_CONTROLLER,
    INGRESS_CONTROLLER_NAMESPACE,
};
pub use eval::Endpoint;
pub use exposure::Exposure;
pub use inspect::{ShadowedRule, SHADOW_BUDGET};
pub use ip::{Ipv4Partition, Ipv4Range, Ipv4Set};
pub use matrix::{BehaviourGroup, Connection, Evaluator, GroupPeer, Matrix, Peer};
pub use ports::{Conn, ConnSet, IcmpSet, Intervals, PortSet, ECHO_REQUEST, PROTOCOLS};
pub use selector::{matches, unmet_requirements};
pub use tiered::{Tier, TieredSource, CILIUM_ALLOW_TIER, CILIUM_DENY_TIER, DEFAULT_TIER_ORDER};
pub use trace::{DirectionTrace, PolicyRef, PolicyTier, RuleRef};
pub use unknown::{UncertainScope, Uncertainty};

#[cfg(test)]
mod build;
#[cfg(test)]
mod inspect_tests;
#[cfg(test)]
mod tests;

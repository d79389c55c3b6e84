//! Kubernetes policy evaluation: NetworkPolicy v1 with its full semantics, and the
//! AdminNetworkPolicy / BaselineAdminNetworkPolicy tiers around it.
//!
//! `PolicyEngine::new` groups pods into classes (same namespace, labels, ports) and
//! compiles every rule into the classes and address ranges it matches; `allowed`
//! answers one connection and `matrix` all of them. Connections are sets of port
//! intervals per protocol (`ConnSet`).

mod classset;
mod engine;
mod eval;
mod exposure;
mod ip;
mod matrix;
mod ports;
mod selector;

pub use engine::{
    ClassId, EngineWarning, HostNetwork, NamespaceInfo, PodClass, PolicyEngine, PolicyOptions, Workload, INGRESS_CONTROLLER,
    INGRESS_CONTROLLER_NAMESPACE,
};
pub use eval::{Endpoint, TierResult};
pub use exposure::Exposure;
pub use ip::{Ipv4Partition, Ipv4Range, Ipv4Set};
pub use matrix::{Connection, Evaluator, Matrix, Peer};
pub use ports::{ConnSet, PortSet, PROTOCOLS};
pub use selector::matches;

#[cfg(test)]
mod tests;

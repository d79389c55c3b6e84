//! Evaluation over the model: which networks each workload really sits on (after
//! `network_mode`), which names each network's DNS answers, how a name used by one
//! workload resolves, and which subnets the engine will hand out; in `policy`, what
//! Kubernetes NetworkPolicies and admin policies allow; in `firewall` and `host`, how
//! flows go through the host's iptables rules. Pure and deterministic: the same model
//! gives the same analysis.

mod address;
pub mod firewall;
pub mod host;
mod names;
pub mod policy;
mod topology;

pub use address::{AddressPlan, AddressPool, PlannedSubnet, SubnetSource, DEFAULT_ADDRESS_POOLS};
pub use names::{NameKind, Resolution};
pub use topology::{find_container, NetId, NetInfo, Stack, PREDEFINED_BRIDGE};

use netdoctor_model::Model;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The daemon's `default-address-pools`, in order.
    pub default_pools: Vec<AddressPool>,
    /// How Kubernetes policies are evaluated (hostNetwork pods).
    pub policy: policy::PolicyOptions,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            default_pools: DEFAULT_ADDRESS_POOLS.iter().map(|&(b, s)| AddressPool::new(b, s)).collect(),
            policy: policy::PolicyOptions::default(),
        }
    }
}

/// Everything the engine derives from one model.
pub struct Analysis<'m> {
    pub model: &'m Model,
    pub topology: topology::Topology,
    pub names: names::NameTable,
    pub addresses: AddressPlan,
    /// The model placed on the host, when host facts were read.
    pub host: Option<host::HostView<'m>>,
    /// What the Kubernetes policies allow, when Kubernetes objects were read.
    pub policy: Option<policy::PolicyEngine<'m>>,
}

impl<'m> Analysis<'m> {
    /// Whether any declaration of the network turns inter-container traffic off
    /// (`com.docker.network.bridge.enable_icc=false`).
    pub fn icc_off(&self, net: topology::NetId) -> bool {
        self.topology
            .info(net)
            .is_some_and(|info| info.declared.iter().filter_map(|&d| self.model.networks.get(d)).any(|n| !n.icc_enabled()))
    }

    pub fn new(model: &'m Model, config: &EngineConfig) -> Analysis<'m> {
        let topology = topology::Topology::build(model);
        let names = names::NameTable::build(model, &topology);
        let addresses = AddressPlan::build(model, &topology, &config.default_pools);
        let host = model.host.as_ref().map(|facts| host::HostView::build(model, facts, &topology, &addresses, &config.default_pools));
        let policy = (!model.k8s.is_empty()).then(|| policy::PolicyEngine::new(&model.k8s, config.policy));
        Analysis { model, topology, names, addresses, host, policy }
    }

    /// How `name`, used by workload `from`, resolves.
    pub fn resolve(&self, from: usize, name: &str) -> Resolution {
        self.names.resolve(self.model, &self.topology, from, name)
    }

    /// The networks workloads `a` and `b` both sit on.
    pub fn shared_networks(&self, a: usize, b: usize) -> Vec<NetId> {
        let nb = self.topology.networks_of(b);
        self.topology.networks_of(a).iter().copied().filter(|n| nb.contains(n)).collect()
    }
}

#[cfg(test)]
mod tests;

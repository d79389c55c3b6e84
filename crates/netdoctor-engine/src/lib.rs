//! Evaluation over the model: which networks each workload really sits on (after
//! `network_mode`), which names each network's DNS answers, how a name used by one
//! workload resolves, and which subnets the engine will hand out. Pure and
//! deterministic: the same model gives the same analysis.

mod address;
mod names;
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
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { default_pools: DEFAULT_ADDRESS_POOLS.iter().map(|&(b, s)| AddressPool::new(b, s)).collect() }
    }
}

/// Everything the engine derives from one model.
pub struct Analysis<'m> {
    pub model: &'m Model,
    pub topology: topology::Topology,
    pub names: names::NameTable,
    pub addresses: AddressPlan,
}

impl<'m> Analysis<'m> {
    pub fn new(model: &'m Model, config: &EngineConfig) -> Analysis<'m> {
        let topology = topology::Topology::build(model);
        let names = names::NameTable::build(model, &topology);
        let addresses = AddressPlan::build(model, &topology, &config.default_pools);
        Analysis { model, topology, names, addresses }
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

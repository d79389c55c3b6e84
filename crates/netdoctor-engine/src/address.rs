//! The subnets each network gets: declared in IPAM, or handed out by the daemon from
//! its default address pools in creation order.

use crate::topology::{NetId, Topology};
use ipnet::{IpNet, Ipv4Net};
use netdoctor_model::{Model, Origin};

/// Docker's built-in `default-address-pools` for local networks (base, prefix size).
/// The first /16 goes to the predefined `bridge` (docker0).
pub const DEFAULT_ADDRESS_POOLS: &[(&str, u8)] = &[
    ("172.17.0.0/16", 16),
    ("172.18.0.0/16", 16),
    ("172.19.0.0/16", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/14", 16),
    ("172.28.0.0/14", 16),
    ("192.168.0.0/16", 20),
];

/// One `default-address-pools` entry: a base range split into subnets of `size` bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPool {
    pub base: Ipv4Net,
    pub size: u8,
}

impl AddressPool {
    /// A pool from a CIDR and prefix size; a malformed base yields an empty pool.
    pub fn new(base: &str, size: u8) -> AddressPool {
        AddressPool { base: base.parse().unwrap_or_default(), size }
    }

    /// The subnets this pool hands out, in order.
    pub fn subnets(&self) -> impl Iterator<Item = Ipv4Net> + '_ {
        self.base.subnets(self.size.max(self.base.prefix_len())).into_iter().flatten()
    }
}

/// Where a network's subnet comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubnetSource {
    /// Written in the network's `ipam.config`.
    Declared(Origin),
    /// What the daemon would pick from its default pools (a prediction: the real
    /// choice also skips subnets other networks on the host already use).
    Predicted,
}

/// A subnet a network has or will get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSubnet {
    pub net: NetId,
    pub subnet: IpNet,
    pub source: SubnetSource,
}

/// The address plan of every network in the model.
#[derive(Debug, Clone, Default)]
pub struct AddressPlan {
    pub subnets: Vec<PlannedSubnet>,
    /// Networks that needed a subnet from the default pools.
    pub pool_demand: usize,
    /// Subnets the default pools hold for user networks (the first goes to docker0).
    pub pool_capacity: usize,
    /// Networks the pools could not serve.
    pub unserved: Vec<NetId>,
}

impl AddressPlan {
    pub fn build(model: &Model, topology: &Topology, pools: &[AddressPool]) -> AddressPlan {
        let mut plan = AddressPlan::default();
        let mut needs_pool = Vec::new();
        for (i, info) in topology.nets.iter().enumerate() {
            let net = NetId(i);
            let declarations: Vec<_> = info.declared.iter().filter_map(|&d| model.networks.get(d)).collect();
            let declared: Vec<PlannedSubnet> = declarations
                .iter()
                .flat_map(|n| n.ipam.configs.iter())
                .filter_map(|c| {
                    let origin = c.subnet.as_ref()?.origin.clone();
                    Some(PlannedSubnet { net, subnet: c.subnet_net()?, source: SubnetSource::Declared(origin) })
                })
                .collect();
            let has_v4 = declared.iter().any(|s| matches!(s.subnet, IpNet::V4(_)));
            plan.subnets.extend(declared);
            // The daemon allocates from the local pools for bridge networks it creates.
            let created_here = declarations.iter().any(|n| !n.external);
            let bridge_like = declarations.iter().all(|n| matches!(n.effective_driver(), "bridge" | "macvlan" | "ipvlan"));
            if created_here && bridge_like && !has_v4 {
                needs_pool.push(net);
            }
        }
        // Compose creates a project's networks in name order; predict in the same order.
        let sort_key = |net: &NetId| {
            let n = topology.info(*net).and_then(|i| i.declared.first()).and_then(|&d| model.networks.get(d));
            (n.and_then(|n| n.project.clone()), n.map(|n| n.key.clone()))
        };
        needs_pool.sort_by_key(sort_key);
        let taken: Vec<IpNet> = plan.subnets.iter().map(|s| s.subnet).collect();
        // The first subnet of the pools belongs to docker0 on every engine.
        let mut free = pools
            .iter()
            .flat_map(AddressPool::subnets)
            .skip(1)
            .filter(|s| !taken.iter().any(|t| t.contains(&IpNet::V4(*s)) || IpNet::V4(*s).contains(t)));
        plan.pool_capacity = pools.iter().map(|p| p.subnets().count()).sum::<usize>().saturating_sub(1);
        plan.pool_demand = needs_pool.len();
        for net in needs_pool {
            match free.next() {
                Some(subnet) => plan.subnets.push(PlannedSubnet { net, subnet: IpNet::V4(subnet), source: SubnetSource::Predicted }),
                None => plan.unserved.push(net),
            }
        }
        plan
    }

    /// The subnets of network `net`.
    pub fn of(&self, net: NetId) -> impl Iterator<Item = &PlannedSubnet> {
        self.subnets.iter().filter(move |s| s.net == net)
    }

    /// The predefined bridge's subnet with the built-in pools.
    pub fn docker0() -> IpNet {
        IpNet::V4(Ipv4Net::new(std::net::Ipv4Addr::new(172, 17, 0, 0), 16).unwrap_or_default())
    }
}

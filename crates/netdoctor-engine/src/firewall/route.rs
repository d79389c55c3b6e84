//! The host's routing decision as far as a trace needs it: is a destination one of the
//! host's own addresses, and which interface does the main table send it out of.
//! Policy routing (`ip rule`) is not evaluated: only the main table is used.

use super::flow::IfaceName;
use super::Tri;
use ipnet::IpNet;
use netdoctor_model::host::{HostFacts, Route};
use std::net::IpAddr;

/// Addresses and routes of one host.
#[derive(Debug, Clone, Default)]
pub struct Router {
    local: Vec<IpAddr>,
    routes: Vec<Route>,
    /// Interface names that exist (empty when links were not read).
    interfaces: Vec<String>,
}

/// Where the main table sends a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteLookup {
    /// Out of this interface.
    Via(IfaceName, Option<Route>),
    /// Dropped by a `blackhole`, `unreachable` or `prohibit` route.
    Refused(Route),
    /// No route covers the destination.
    NoRoute,
}

impl Router {
    pub fn new(facts: &HostFacts) -> Router {
        let mut local: Vec<IpAddr> = facts.addresses.iter().map(|a| a.address).collect();
        for route in facts.routes.iter().filter(|r| r.kind == "local") {
            if route.destination.prefix_len() == route.destination.max_prefix_len() && !local.contains(&route.destination.addr()) {
                local.push(route.destination.addr());
            }
        }
        let routes = facts.routes.iter().filter(|r| r.is_main()).cloned().collect();
        let interfaces = facts.interfaces.iter().map(|i| i.name.clone()).collect();
        Router { local, routes, interfaces }
    }

    /// Whether the addresses in `net` are the host's own.
    pub fn is_local(&self, net: &IpNet) -> Tri {
        let loopback: IpNet = match net {
            IpNet::V4(_) => IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(127, 0, 0, 0), 8).unwrap_or_default()),
            IpNet::V6(_) => IpNet::V6(ipnet::Ipv6Net::new(std::net::Ipv6Addr::LOCALHOST, 128).unwrap_or_default()),
        };
        if loopback.contains(net) {
            return Tri::Yes;
        }
        let single = net.prefix_len() == net.max_prefix_len();
        if single {
            return Tri::from(self.local.contains(&net.addr()));
        }
        if self.local.iter().any(|a| net.contains(a)) || net.contains(&loopback) {
            Tri::Maybe
        } else {
            Tri::No
        }
    }

    /// Whether an interface of this name exists; `None` when links were not read.
    pub fn interface_exists(&self, name: &str) -> Option<bool> {
        (!self.interfaces.is_empty()).then(|| self.interfaces.iter().any(|i| i == name))
    }

    /// The main table's choice for every address in `net`.
    pub fn lookup(&self, net: &IpNet) -> RouteLookup {
        let covering = self
            .routes
            .iter()
            .filter(|r| r.destination.contains(net))
            .max_by_key(|r| (r.destination.prefix_len(), std::cmp::Reverse(r.metric.unwrap_or(0))));
        let Some(best) = covering else {
            return RouteLookup::NoRoute;
        };
        if matches!(best.kind.as_str(), "blackhole" | "unreachable" | "prohibit") {
            return RouteLookup::Refused(best.clone());
        }
        // A more specific route inside the range sends part of it elsewhere.
        let split = self.routes.iter().any(|r| net.contains(&r.destination) && r.destination != *net && r.device != best.device);
        let iface = match (&best.device, split) {
            (Some(dev), false) => IfaceName::Named(dev.clone()),
            _ => IfaceName::Unknown,
        };
        RouteLookup::Via(iface, Some(best.clone()))
    }

    /// The route that `0.0.0.0/0` (or `::/0`) takes: the host's way out.
    pub fn default_route(&self, v6: bool) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.destination.prefix_len() == 0 && r.destination.addr().is_ipv6() == v6 && r.kind == "unicast")
            .min_by_key(|r| r.metric.unwrap_or(0))
    }

    /// The host's own addresses.
    pub fn local_addresses(&self) -> &[IpAddr] {
        &self.local
    }
}

//! The host's interfaces, addresses and routes, as `ip -j link/addr/route` report them.

use crate::Origin;
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// A network interface (`ip -j -d link`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub mtu: Option<u32>,
    /// `bridge`, `veth`, `vxlan`, `wireguard`, … (`None` for plain devices).
    pub kind: Option<String>,
    /// The bridge (or other master) it is enslaved to.
    pub master: Option<String>,
    /// Administratively up.
    pub up: bool,
    /// The UDP port of a VXLAN device.
    pub vxlan_port: Option<u16>,
    pub origin: Origin,
}

/// An address assigned to an interface (`ip -j addr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub interface: String,
    pub address: IpAddr,
    /// The address with its prefix length: the connected subnet.
    pub network: IpNet,
    pub origin: Origin,
}

/// A route (`ip -j route show table all`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// The destination; `0.0.0.0/0` for `default`.
    pub destination: IpNet,
    pub gateway: Option<IpAddr>,
    pub device: Option<String>,
    /// `unicast`, `local`, `broadcast`, `blackhole`, `unreachable`, `prohibit`, `throw`.
    pub kind: String,
    /// `main`, `local` or a number; `main` when not given.
    pub table: String,
    pub metric: Option<u32>,
    pub origin: Origin,
}

impl Route {
    /// Whether the route is in the main table, the one ordinary lookups use.
    pub fn is_main(&self) -> bool {
        self.table == "main" || self.table == "254"
    }
}

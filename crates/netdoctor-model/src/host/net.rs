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

impl Interface {
    /// An interface that is up, of no particular kind, with no master.
    pub fn new(name: &str, index: u32, origin: Origin) -> Self {
        Interface { name: name.into(), index, mtu: None, kind: None, master: None, up: true, vxlan_port: None, origin }
    }
}

impl Address {
    /// `cidr` as `ip addr` shows it: the address with its prefix length (`192.0.2.10/24`).
    pub fn new(interface: &str, cidr: IpNet, origin: Origin) -> Self {
        Address { interface: interface.into(), address: cidr.addr(), network: cidr.trunc(), origin }
    }
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
    /// Who installed it (`kernel`, `boot`, `static`, `dhcp`, `bird`, `bgp`, …), when told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    pub origin: Origin,
}

impl Route {
    /// A unicast route to `destination` out of `device` in the main table, as
    /// `ip route add DESTINATION dev DEVICE` makes it.
    pub fn new(destination: IpNet, device: Option<&str>, origin: Origin) -> Self {
        Route {
            destination,
            gateway: None,
            device: device.map(str::to_string),
            kind: "unicast".into(),
            table: "main".into(),
            metric: None,
            protocol: None,
            origin,
        }
    }

    /// The same route through a gateway (`via GATEWAY`).
    pub fn via(self, gateway: IpAddr) -> Self {
        Route { gateway: Some(gateway), ..self }
    }

    /// The same route in another table (`table TABLE`).
    pub fn in_table(self, table: &str) -> Self {
        Route { table: table.into(), ..self }
    }

    /// Whether the route is in the main table, the one ordinary lookups use.
    pub fn is_main(&self) -> bool {
        self.table == "main" || self.table == "254"
    }
}

/// A policy routing rule (`ip -j rule show`): packets that match its selectors are looked
/// up in its table (or refused), in priority order, before the next rule is tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutingRule {
    /// Which lookups it takes part in (`ip -4 rule` or `ip -6 rule`).
    pub family: super::IpFamily,
    /// Lower runs first (`0` local, `32766` main, `32767` default).
    pub priority: u32,
    /// `from`: `None` for `all`.
    pub src: Option<IpNet>,
    /// `to`.
    pub dst: Option<IpNet>,
    /// `iif` (`lo` matches packets the host sends).
    pub iif: Option<String>,
    /// `oif` (only set for sockets bound to a device; never matches a routed packet).
    pub oif: Option<String>,
    /// `fwmark value/mask`.
    pub fwmark: Option<(u32, u32)>,
    /// `not`: the selectors are inverted.
    pub invert: bool,
    /// The table looked up (`main`, `local`, `default` or a number); `None` for rules
    /// with another action.
    pub table: Option<String>,
    /// `blackhole`, `unreachable`, `prohibit`, `goto`, `nop`; `None` for a table lookup.
    pub action: Option<String>,
    /// `suppress_prefixlength N`: a route with a prefix this short or shorter is ignored.
    pub suppress_prefixlength: Option<u8>,
    /// `goto N` (action `goto`): matching packets go on at the first rule of priority N or more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goto: Option<u32>,
    pub origin: Origin,
}

impl RoutingRule {
    /// `PRIORITY: from all lookup TABLE` for IPv4; set the selectors on the result.
    pub fn lookup(priority: u32, table: &str, origin: Origin) -> Self {
        RoutingRule {
            family: super::IpFamily::V4,
            priority,
            src: None,
            dst: None,
            iif: None,
            oif: None,
            fwmark: None,
            invert: false,
            table: Some(table.into()),
            action: None,
            suppress_prefixlength: None,
            goto: None,
            origin,
        }
    }

    /// `PRIORITY: from all ACTION` (`blackhole`, `unreachable`, `prohibit`, `nop`) for IPv4.
    pub fn action(priority: u32, action: &str, origin: Origin) -> Self {
        RoutingRule { table: None, action: Some(action.into()), ..RoutingRule::lookup(priority, "main", origin) }
    }

    /// The rule as `ip rule` prints it: `100: from all to 172.16.0.0/12 lookup 200`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}:", self.priority);
        if self.invert {
            s.push_str(" not");
        }
        s.push_str(&format!(" from {}", self.src.map_or_else(|| "all".to_string(), |n| n.to_string())));
        if let Some(dst) = self.dst {
            s.push_str(&format!(" to {dst}"));
        }
        if let Some((value, mask)) = self.fwmark {
            s.push_str(&format!(" fwmark {value:#x}/{mask:#x}"));
        }
        if let Some(iif) = &self.iif {
            s.push_str(&format!(" iif {iif}"));
        }
        if let Some(oif) = &self.oif {
            s.push_str(&format!(" oif {oif}"));
        }
        match (&self.table, &self.action) {
            (_, Some(action)) if action == "goto" => {
                s.push_str(&format!(" goto {}", self.goto.map_or_else(|| "none".into(), |n| n.to_string())))
            }
            (_, Some(action)) => s.push_str(&format!(" {action}")),
            (Some(table), None) => s.push_str(&format!(" lookup {table}")),
            (None, None) => {}
        }
        if let Some(n) = self.suppress_prefixlength {
            s.push_str(&format!(" suppress_prefixlength {n}"));
        }
        s
    }
}

/// The canonical name of a routing table (`254` is `main`).
pub fn table_name(table: &str) -> &str {
    match table {
        "254" => "main",
        "255" => "local",
        "253" => "default",
        other => other,
    }
}

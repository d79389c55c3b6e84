//! ND202: container subnets over ranges that belong to something else.

use crate::prelude::*;
use netdoctor_engine::firewall::{IfaceName, RouteLookup, RouteQuery};
use netdoctor_engine::host::{is_runtime_device, HostView};
use netdoctor_engine::SubnetSource;
use netdoctor_model::host::{table_name, Route};

declare_rule! {
    /// ## What it checks
    /// A network subnet, declared or the one the engine would pick from its default address
    /// pools, that overlaps an external range declared in `netdoctor.toml` (a VPN, the office
    /// LAN, a cloud VPC). With host facts, also a bridge network's subnet that overlaps a host
    /// route the container runtime does not own (a VPN's `tun0`, a physical uplink), and
    /// Docker's next pool subnet when a VPN route covers it. Policy routing (`ip rule`) is
    /// followed: a rule that sends the subnet to another table (a VPN's, with a higher
    /// priority than `main`) whose route leaves by another device is reported with the rule.
    ///
    /// ## Why it matters
    /// The host then routes that range into the container bridge: hosts on the VPN or LAN
    /// become unreachable from the host and from every container, while everything looks up.
    ///
    /// ## Example
    /// ```toml
    /// # netdoctor.toml
    /// [[external_ranges]]
    /// name = "office-vpn"
    /// cidr = "172.16.0.0/12"
    /// ```
    ///
    /// ## Fix
    /// Give the network an explicit subnet outside the range, or move the engine's `default-address-pools` away from it.
    ///
    /// ## Known limits
    /// A VPN is recognised by its device (`tun*`, `wg*`, `ppp*`, WireGuard or tun links). Policy
    /// rules are checked for bridges that exist, for packets the host sends to the subnet; a
    /// rule that applies to some of those packets only (a source range, an input device) is not
    /// judged. IPv6 subnets are not compared with host routes, and the default bridge (docker0),
    /// which no project declares, is not checked.
    pub struct OverlapsExternalRange => Error;
}

impl Check for OverlapsExternalRange {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let topology = &cx.analysis.topology;
        for planned in &cx.analysis.addresses.subnets {
            let Some(info) = topology.info(planned.net) else { continue };
            for range in &cx.config.external_ranges {
                let r = range.cidr;
                if !(r.contains(&planned.subnet.network()) || planned.subnet.contains(&r.network())) {
                    continue;
                }
                match &planned.source {
                    SubnetSource::Declared(origin) => {
                        out.report(
                            origin,
                            format!("subnet {} of network `{}` overlaps external range `{}` ({r})", planned.subnet, info.name, range.name),
                        )
                        .subjects([info.name.as_str()])
                        .help(format!("choose a subnet for `{}` outside {r}", info.name));
                    }
                    SubnetSource::Predicted => {
                        let Some(origin) = info.declared.first().and_then(|&d| cx.model.networks.get(d)).map(|n| &n.origin) else {
                            continue;
                        };
                        out.report(
                            origin,
                            format!(
                                "network `{}` has no subnet, and the engine's default pools would give it {} which overlaps external range `{}` ({r})",
                                info.name, planned.subnet, range.name
                            ),
                        )
                        .subjects([info.name.as_str()])
                        .severity(Severity::Warning)
                        .help(format!("set `ipam: {{config: [{{subnet: ...}}]}}` on `{}` outside {r}, or set `default-address-pools` in daemon.json", info.name));
                    }
                }
            }
        }
        if let Some(host) = &cx.analysis.host {
            host_routes(cx, host, out);
        }
    }
}

/// `10.8.0.0/16 dev tun0` (or `via 192.0.2.1` when it has no device).
fn route_text(r: &Route) -> String {
    match (&r.device, r.gateway) {
        (Some(dev), _) => format!("{} dev {dev}", r.destination),
        (None, Some(gw)) => format!("{} via {gw}", r.destination),
        (None, None) => r.destination.to_string(),
    }
}

/// Bridge subnets over routes the runtime does not own, and Docker's next pool subnet over a VPN.
fn host_routes(cx: &RuleContext<'_>, host: &HostView<'_>, out: &mut Diagnostics) {
    let topology = &cx.analysis.topology;
    for bridge in &host.bridges {
        let Some(subnet) = bridge.subnet else { continue };
        let Some(info) = topology.info(bridge.net) else { continue };
        // The predefined `bridge` (docker0) is declared by no project: nothing to point at.
        let Some(network) = info.declared.first().and_then(|&d| cx.model.networks.get(d)) else { continue };
        let declared = cx.analysis.addresses.of(bridge.net).find_map(|s| match &s.source {
            SubnetSource::Declared(origin) if s.subnet == subnet => Some(origin),
            _ => None,
        });
        let foreign = host.facts.routes.iter().filter(|r| {
            r.is_main()
                && r.kind == "unicast"
                && r.destination.prefix_len() > 0
                && (r.destination.contains(&subnet.network()) || subnet.contains(&r.destination.network()))
                && r.device.as_deref().is_none_or(|d| !is_runtime_device(d, &host.bridges))
        });
        for route in foreign {
            let message = if declared.is_some() {
                format!("subnet {subnet} of network `{}` overlaps host route `{}`", info.name, route_text(route))
            } else {
                format!("network `{}` gets {subnet} from Docker's pools, which overlaps host route `{}`", info.name, route_text(route))
            };
            out.report(declared.unwrap_or(&network.origin), message)
                .subjects([info.name.as_str()])
                .related(&route.origin, "the host routes this range elsewhere")
                .help(format!(
                "choose a subnet for `{}` outside {} and recreate the network, or move `default-address-pools` in daemon.json away from it",
                info.name, route.destination
            ));
        }
    }
    policy_routes(cx, host, out);
    if let Some((next, route)) = host.next_pool_subnet_over_vpn() {
        out.report(
            &route.origin,
            format!(
                "Docker's default address pools would hand {next} to the next network created while the VPN is down, and VPN route `{}` overlaps it",
                route_text(route)
            ),
        )
        .severity(Severity::Warning)
        .help(format!("set `default-address-pools` in daemon.json to a range the VPN does not use, or give new networks explicit subnets outside {}", route.destination));
    }
}

/// Existing bridges whose subnet a policy routing rule sends to another table and device.
fn policy_routes(cx: &RuleContext<'_>, host: &HostView<'_>, out: &mut Diagnostics) {
    if host.facts.routing_rules.is_empty() {
        return;
    }
    let topology = &cx.analysis.topology;
    for bridge in host.bridges.iter().filter(|b| b.exists) {
        let (Some(subnet), IfaceName::Named(device)) = (bridge.subnet, &bridge.iface) else { continue };
        let Some(info) = topology.info(bridge.net) else { continue };
        let Some(network) = info.declared.first().and_then(|&d| cx.model.networks.get(d)) else { continue };
        // What the host does with a packet it sends to the containers (and with replies
        // it forwards to them): the source is the host's own address.
        let src = host.uplink.as_ref().map_or_else(|| ipnet::IpNet::from(subnet.network()), |u| ipnet::IpNet::from(u.address));
        let choice = host.firewall.router().choose(&RouteQuery { src: &src, dst: &subnet, iif: None, mark: 0 });
        let Some(rule) = choice.rule.filter(|r| r.table.as_deref().is_none_or(|t| table_name(t) != "main")) else { continue };
        let elsewhere = match &choice.lookup {
            RouteLookup::Via(IfaceName::Named(dev), Some(route)) if dev != device => {
                format!("`{}` in table {}", route_text(route), route.table)
            }
            RouteLookup::Refused(route) => format!("a {} route", route.kind),
            _ => continue,
        };
        let declared = cx.analysis.addresses.of(bridge.net).find_map(|s| match &s.source {
            SubnetSource::Declared(origin) if s.subnet == subnet => Some(origin),
            _ => None,
        });
        out.report(
            declared.unwrap_or(&network.origin),
            format!(
                "subnet {subnet} of network `{}` (bridge {device}) is sent to {elsewhere} by policy routing rule `{}`: the containers' traffic back from the host never reaches the bridge",
                info.name,
                rule.describe()
            ),
        )
        .subjects([info.name.as_str()])
        .related(&rule.origin, "this rule captures the subnet before the main table")
        .help(format!(
            "exempt the subnet before that rule (`ip rule add to {subnet} lookup main priority {}`), narrow the rule, or choose a subnet for `{}` outside what it captures",
            rule.priority.saturating_sub(1),
            info.name
        ));
    }
}

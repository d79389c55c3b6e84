//! ND202: container subnets over ranges that belong to something else.

use crate::prelude::*;
use netdoctor_engine::firewall::{IfaceName, RouteLookup, RouteQuery};
use netdoctor_engine::host::{is_pod_network_device, is_pod_network_route, is_runtime_device, is_vpn_device, HostView};
use netdoctor_engine::SubnetSource;
use netdoctor_model::host::{table_name, Route, RoutingRule};
use netdoctor_model::k8s::{AddressRange, RangeKind};

declare_rule! {
    /// ## What it checks
    /// A network subnet, declared or the one the engine would pick from its default address
    /// pools, that overlaps an external range declared in `netdoctor.toml` (a VPN, the office
    /// LAN, a cloud VPC). With host facts, also a bridge network's subnet that overlaps a host
    /// route the container runtime does not own (a VPN's `tun0`, a physical uplink), and
    /// Docker's next pool subnet when a VPN route covers it. Policy routing (`ip rule`) is
    /// followed: a rule that sends the subnet to another table (a VPN's, with a higher
    /// priority than `main`) whose route leaves by another device is reported with the rule.
    /// For Kubernetes, the cluster's pod and service ranges (and nodes' `podCIDRs`, see ND201
    /// for where ranges come from) against the external ranges, and with host facts (`--host`
    /// on a node) against the node's routes: a route over the pod range that is not the pod
    /// network's own (a CNI device, or a route to another node's pods through that node) is an
    /// error; one over the service range is a warning, since kube-proxy rewrites ClusterIPs
    /// before routing but the real hosts in the shared range become unreachable from pods.
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
    /// which no project declares, is not checked. A pod network's devices are known by name
    /// (`cni0`, `flannel.1`, `cali*`, `tunl0`, `cilium_*`, `weave`, `kube-*`, `vxlan*`, `lxc*`,
    /// `antrea-*`, `ovn-k8s-*`, `genev_sys_*`); routes to other nodes' pods are recognised by a
    /// node address as gateway, a BGP daemon's protocol (`bird`, `bgp`), or a gateway route inside
    /// the pod range.
    pub struct OverlapsExternalRange => Error, "ND202";
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
        cluster_external_ranges(cx, out);
        if let Some(host) = &cx.analysis.host {
            host_routes(cx, host, out);
            cluster_routes(cx, host, out);
        }
    }
}

/// The ranges worth reporting: a node's podCIDR inside a declared range of the same
/// kind is left out, since the declared range is reported for the same reason.
fn reportable_ranges<'a>(cx: &'a RuleContext<'_>) -> Vec<AddressRange<'a>> {
    let ranges = cx.model.k8s.address_ranges();
    let covered =
        |r: &AddressRange<'_>| r.node.is_some() && ranges.iter().any(|d| d.node.is_none() && d.kind == r.kind && d.cidr.contains(&r.cidr));
    ranges.iter().filter(|r| !covered(r)).cloned().collect()
}

/// `pod range 10.244.0.0/16 (kubeadm-config networking.podSubnet)`.
fn describe_range(r: &AddressRange<'_>) -> String {
    format!("{} range {} ({})", r.kind.noun(), r.cidr, r.what)
}

fn range_help(r: &AddressRange<'_>, other: &ipnet::IpNet) -> String {
    match r.node {
        Some(_) => format!("the controller manager hands out podCIDRs from its --cluster-cidr: move it outside {other}"),
        None => format!("choose a {} range outside {other} when the cluster is (re)created ({})", r.kind.noun(), r.what),
    }
}

/// What to do about a route over a cluster range: the route's side is usually the one
/// that can change without rebuilding the cluster.
fn route_help(r: &AddressRange<'_>, route: &Route, vpn: bool) -> String {
    let route_side = if vpn {
        format!("exclude {} from the VPN's routes (split tunnelling)", r.cidr)
    } else {
        format!("move the network behind `{}` off {}", route_text(route), r.cidr)
    };
    format!("{route_side}, or {}", range_help(r, &route.destination))
}

/// Pod and service ranges over the external ranges of `netdoctor.toml`.
fn cluster_external_ranges(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    for range in reportable_ranges(cx) {
        for external in cx.config.external_ranges.iter().filter(|e| range.overlaps(&e.cidr)) {
            out.report(range.origin, format!("{} overlaps external range `{}` ({})", describe_range(&range), external.name, external.cidr))
                .subjects([range.cidr.to_string(), external.name.clone()])
                .help(range_help(&range, &external.cidr));
        }
    }
}

/// Pod and service ranges over routes of this node that the pod network does not own,
/// and pod ranges that a policy routing rule sends away before the main table is asked.
fn cluster_routes(cx: &RuleContext<'_>, host: &HostView<'_>, out: &mut Diagnostics) {
    let node_addresses: Vec<std::net::IpAddr> = cx.model.k8s.nodes.iter().flat_map(|n| n.addresses.iter().copied()).collect();
    for range in reportable_ranges(cx) {
        if range.kind == RangeKind::Pods {
            if let Some((rule, elsewhere)) = captured_by_rule(host, range.cidr, is_pod_network_device) {
                out.report(
                    range.origin,
                    format!(
                        "{} is sent to {elsewhere} by policy routing rule `{}`: the node's replies to pods leave by the wrong device",
                        describe_range(&range),
                        rule.describe()
                    ),
                )
                .subjects([range.cidr.to_string()])
                .related(&rule.origin, "this rule captures the range before the main table")
                .help(format!("{}, or narrow the rule so it leaves the pod range alone", exemption(range.cidr, &rule)));
            }
        }
        let foreign = host.facts.routes.iter().filter(|r| {
            r.is_main()
                && r.kind == "unicast"
                && r.destination.prefix_len() > 0
                && range.overlaps(&r.destination)
                && !is_pod_network_route(r, &range.cidr, range.kind, &node_addresses)
        });
        for route in foreign {
            let vpn = route.device.as_deref().is_some_and(|d| is_vpn_device(d, host.facts));
            let what = if vpn { "VPN route" } else { "host route" };
            let diagnostic = out.report(range.origin, format!("{} overlaps {what} `{}`", describe_range(&range), route_text(route)));
            diagnostic
                .subjects([range.cidr.to_string(), route.destination.to_string()])
                .related(&route.origin, "the node routes this range elsewhere");
            if range.kind == RangeKind::Services {
                diagnostic.severity(Severity::Warning).help(format!(
                    "kube-proxy rewrites ClusterIPs before routing, but the hosts behind `{}` that share the range are unreachable from pods: {}",
                    route_text(route),
                    route_help(&range, route, vpn)
                ));
            } else {
                diagnostic.help(route_help(&range, route, vpn));
            }
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

/// The policy routing rule above `main` that sends what the host addresses to `subnet`
/// out of a device `owned` does not accept (or refuses it), and where it goes instead.
fn captured_by_rule(host: &HostView<'_>, subnet: ipnet::IpNet, owned: impl Fn(&str) -> bool) -> Option<(RoutingRule, String)> {
    if host.facts.routing_rules.is_empty() {
        return None;
    }
    // What the host does with a packet it sends to the subnet (and with replies it
    // forwards there): the source is the host's own address.
    let src = host.uplink.as_ref().map_or_else(|| ipnet::IpNet::from(subnet.network()), |u| ipnet::IpNet::from(u.address));
    let choice = host.firewall.router().choose(&RouteQuery { src: &src, dst: &subnet, iif: None, mark: 0 });
    let rule = choice.rule.filter(|r| r.table.as_deref().is_none_or(|t| table_name(t) != "main"))?;
    let elsewhere = match &choice.lookup {
        RouteLookup::Via(IfaceName::Named(dev), Some(route)) if !owned(dev) => format!("`{}` in table {}", route_text(route), route.table),
        RouteLookup::Refused(route) => format!("a {} route", route.kind),
        _ => return None,
    };
    Some((rule, elsewhere))
}

/// The exemption that puts `subnet` back on the main table before `rule`.
fn exemption(subnet: ipnet::IpNet, rule: &RoutingRule) -> String {
    format!("exempt the subnet before that rule (`ip rule add to {subnet} lookup main priority {}`)", rule.priority.saturating_sub(1))
}

/// Existing bridges whose subnet a policy routing rule sends to another table and device.
fn policy_routes(cx: &RuleContext<'_>, host: &HostView<'_>, out: &mut Diagnostics) {
    let topology = &cx.analysis.topology;
    for bridge in host.bridges.iter().filter(|b| b.exists) {
        let (Some(subnet), IfaceName::Named(device)) = (bridge.subnet, &bridge.iface) else { continue };
        let Some(info) = topology.info(bridge.net) else { continue };
        let Some(network) = info.declared.first().and_then(|&d| cx.model.networks.get(d)) else { continue };
        let Some((rule, elsewhere)) = captured_by_rule(host, subnet, |dev| dev == device) else { continue };
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
        .help(format!("{}, narrow the rule, or choose a subnet for `{}` outside what it captures", exemption(subnet, &rule), info.name));
    }
}

//! ND201: container networks whose subnets overlap.

use crate::prelude::*;
use netdoctor_engine::{AddressPlan, SubnetSource};
use netdoctor_model::k8s::{AddressRange, RangeKind};

declare_rule! {
    /// ## What it checks
    /// Two networks whose declared subnets overlap, or a declared subnet that overlaps the
    /// engine's own `bridge` network (172.17.0.0/16 by default). For Kubernetes: the pod range
    /// overlapping the service range, two nodes given overlapping `podCIDRs`, a node whose own
    /// address lies inside the pod or service range, and a container network over either.
    /// The ranges come from ServiceCIDR objects, kubeadm's `kubeadm-config`, kube-proxy's
    /// `clusterCIDR`, Calico IPPools and Installation, Cilium's and flannel's ConfigMaps, nodes' `podCIDRs`,
    /// and `pod_cidrs`/`service_cidrs` in `netdoctor.toml`.
    ///
    /// ## Why it matters
    /// The engine refuses to create the second network ("Pool overlaps with other one on this
    /// address space"); where it does not (different hosts, other tools), the host routes the
    /// shared range to only one of them and traffic to the other disappears. In a cluster,
    /// a pod range over the service range or the nodes' network sends traffic for those
    /// addresses to the wrong place: kube-proxy captures pod addresses as ClusterIPs, or a
    /// node's own neighbours become unreachable from pods.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   front: { ipam: { config: [{ subnet: 10.10.0.0/16 }] } }
    ///   back:  { ipam: { config: [{ subnet: 10.10.5.0/24 }] } }
    /// ```
    ///
    /// ## Fix
    /// Give each network its own, non-overlapping subnet. A cluster's pod and service ranges
    /// are chosen when it is created (`kubeadm init --pod-network-cidr --service-cidr`, the
    /// CNI's pool): pick ranges that no node network, VPN or container network uses.
    pub struct SubnetOverlap => Error, "ND201";
}

impl Check for SubnetOverlap {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let plan = &cx.analysis.addresses;
        let topology = &cx.analysis.topology;
        let declared: Vec<_> = plan
            .subnets
            .iter()
            .filter_map(|s| match &s.source {
                SubnetSource::Declared(o) => Some((s, o)),
                SubnetSource::Predicted => None,
            })
            .collect();
        let name = |s: &netdoctor_engine::PlannedSubnet| topology.info(s.net).map_or(String::new(), |i| i.name.clone());
        // A live engine tells docker0's real subnet (`bip` may have moved it), and lists
        // no `bridge` network at all when the daemon runs with `--bridge=none`.
        let live_bridge = cx.model.networks.iter().find(|n| n.name == netdoctor_engine::PREDEFINED_BRIDGE && n.live.is_some());
        let docker0 = match live_bridge {
            Some(n) => n.live.as_ref().and_then(|l| l.subnets.first().copied()),
            None if cx.model.engine.is_some() => None,
            None => Some(AddressPlan::docker0()),
        };
        for (i, (a, a_origin)) in declared.iter().enumerate() {
            let is_docker0 = name(a) == netdoctor_engine::PREDEFINED_BRIDGE;
            let overlaps_docker0 = docker0.filter(|d| a.subnet.contains(&d.network()) || d.contains(&a.subnet.network()));
            if let Some(docker0) = overlaps_docker0.filter(|_| !is_docker0) {
                out.report(
                    a_origin,
                    format!("subnet {} of network `{}` overlaps the engine's `bridge` network {docker0}", a.subnet, name(a)),
                )
                .subjects([name(a)])
                .help(format!("pick a subnet outside {docker0}, or move the engine's bridge with `bip` in daemon.json"));
            }
            for (b, b_origin) in declared.iter().skip(i + 1) {
                if a.net == b.net || !(a.subnet.contains(&b.subnet.network()) || b.subnet.contains(&a.subnet.network())) {
                    continue;
                }
                out.report(
                    b_origin,
                    format!("subnet {} of network `{}` overlaps subnet {} of network `{}`", b.subnet, name(b), a.subnet, name(a)),
                )
                .subjects([name(b), name(a)])
                .related(a_origin, format!("`{}` takes {} here", name(a), a.subnet))
                .help(format!("give `{}` a subnet that does not overlap {}", name(b), a.subnet));
            }
        }
        cluster_overlaps(cx, out);
    }
}

/// `10.96.0.0/12 (kubeadm-config networking.serviceSubnet)`.
fn describe(r: &AddressRange<'_>) -> String {
    format!("{} ({})", r.cidr, r.what)
}

/// Names of the first few nodes, and how many more.
fn node_list(names: &[&str]) -> String {
    const SHOWN: usize = 3;
    let shown = names.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    match names.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// Pod ranges over service ranges, nodes' podCIDRs over each other, node addresses inside
/// either range, and container networks over either.
fn cluster_overlaps(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    let ranges = cx.model.k8s.address_ranges();
    let declared = |kind: RangeKind| ranges.iter().filter(move |r| r.kind == kind && r.node.is_none());
    for service in declared(RangeKind::Services) {
        let pods: Vec<&AddressRange<'_>> = ranges.iter().filter(|r| r.kind == RangeKind::Pods && r.overlaps(&service.cidr)).collect();
        // A declared pod range is reported; nodes' podCIDRs only when no declared range says more.
        let declared_pods: Vec<_> = pods.iter().filter(|p| p.node.is_none()).collect();
        if !declared_pods.is_empty() {
            for pod in declared_pods {
                out.report(service.origin, format!("service range {} overlaps pod range {}", describe(service), describe(pod)))
                    .subjects([service.cidr.to_string(), pod.cidr.to_string()])
                    .related(pod.origin, "the pod range is declared here")
                    .help(format!(
                        "give pods and services separate ranges: move the pod range ({}) or the service range ({}) so they do not overlap; both are fixed when the cluster is created",
                        pod.what, service.what
                    ));
            }
        } else if let Some(first) = pods.first() {
            let nodes: Vec<&str> = pods.iter().filter_map(|p| p.node).collect();
            out.report(first.origin, format!("podCIDR {} of node {} overlaps service range {}", first.cidr, node_list(&nodes), describe(service)))
                .subjects([service.cidr.to_string(), first.cidr.to_string()])
                .related(service.origin, "the service range is declared here")
                .help(format!(
                    "the controller manager hands out node podCIDRs from its --cluster-cidr: set it to a range outside {} and recreate the nodes' podCIDRs",
                    service.cidr
                ));
        }
    }
    // Nodes' podCIDRs in address order: a range overlaps an earlier one only if that one
    // contains its first address, so only the ranges still open need comparing.
    let mut node_ranges: Vec<&AddressRange<'_>> = ranges.iter().filter(|r| r.node.is_some()).collect();
    node_ranges.sort_by_key(|r| (r.cidr.network(), r.cidr.prefix_len()));
    let mut open: Vec<&AddressRange<'_>> = Vec::new();
    for b in node_ranges {
        open.retain(|a| a.cidr.contains(&b.cidr.network()));
        for a in open.iter().filter(|a| a.node != b.node) {
            out.report(b.origin, format!("{} overlaps {}", describe(b), describe(a)))
                .subjects([b.cidr.to_string(), a.cidr.to_string()])
                .related(a.origin, format!("node {} has it here", a.node.unwrap_or_default()))
                .help("each node needs its own podCIDR: let the controller manager allocate them (--allocate-node-cidrs) or fix the one set by hand");
        }
        open.push(b);
    }
    node_addresses_in_ranges(cx, &ranges, out);
    container_networks_in_ranges(cx, &ranges, out);
}

/// Nodes whose own addresses lie inside the pod or service range: the node network and
/// the pod network claim the same addresses, so traffic to those nodes or pods goes astray.
fn node_addresses_in_ranges(cx: &RuleContext<'_>, ranges: &[AddressRange<'_>], out: &mut Diagnostics) {
    for range in ranges.iter().filter(|r| r.node.is_none()) {
        let inside: Vec<(&str, std::net::IpAddr)> = cx
            .model
            .k8s
            .nodes
            .iter()
            .filter_map(|n| n.addresses.iter().find(|a| range.cidr.contains(*a)).map(|a| (n.name.as_str(), *a)))
            .collect();
        let Some(&(first, address)) = inside.first() else { continue };
        let names: Vec<&str> = inside.iter().map(|(n, _)| *n).collect();
        out.report(range.origin, format!("{} range {} holds node addresses: {address} of node {}", range.kind.noun(), describe(range), node_list(&names)))
            .subjects([range.cidr.to_string(), first.to_string()])
            .help(match range.kind {
                RangeKind::Pods => "the node network and the pod range must not overlap: choose a pod range outside the nodes' network (the CNI's pool and the controller manager's --cluster-cidr)",
                RangeKind::Services => "the node network and the service range must not overlap: choose a service range outside the nodes' network (--service-cluster-ip-range, or add a ServiceCIDR and retire the old one)",
            });
    }
}

/// Container networks declared beside the cluster (Compose on a node) over its ranges.
fn container_networks_in_ranges(cx: &RuleContext<'_>, ranges: &[AddressRange<'_>], out: &mut Diagnostics) {
    let topology = &cx.analysis.topology;
    for planned in &cx.analysis.addresses.subnets {
        let SubnetSource::Declared(origin) = &planned.source else { continue };
        let Some(range) = ranges.iter().find(|r| r.overlaps(&planned.subnet)) else { continue };
        let name = topology.info(planned.net).map_or(String::new(), |i| i.name.clone());
        out.report(
            origin,
            format!("subnet {} of network `{name}` overlaps the cluster's {} range {}", planned.subnet, range.kind.noun(), describe(range)),
        )
        .subjects([name.clone(), range.cidr.to_string()])
        .related(range.origin, format!("the {} range is declared here", range.kind.noun()))
        .help(format!("choose a subnet for `{name}` outside {}", range.cidr));
    }
}

//! Layers 2 and 5 on a node (`--host`/`--host-facts`): the route from the client's
//! node to the destination, and the node's firewall on the way.

use super::*;

impl K8sWalk<'_, '_> {
    /// The first address of a workload's pods, when a live cluster or dump gave one.
    pub(super) fn pod_address(&self, w: usize) -> Option<IpAddr> {
        let pods = self.engine.workloads.get(w)?.pods.iter().filter_map(|&p| self.cluster.pods.get(p));
        pods.flat_map(|p| p.ips.iter().copied()).next()
    }

    /// Layers 2 and 5 on this node: SRC's packets to DST routed from the pod device, and
    /// traced through the node's firewall.
    pub(super) fn node(&self, cx: &RuleContext<'_>, [ip, fw]: [&mut Step; 2], src: usize, target: &Target<'_>, backends: &[Backend]) {
        let Some(host) = cx.analysis.host.as_ref() else { return };
        let Some(node) = host.pod_node(cx.model) else {
            let why = "the host facts show no pod network device (cni0, cali…, lxc…) with an address in the cluster's pod range: are they from a node of this cluster, and is the pod range known (kubeadm-config, a CNI's ConfigMap, `pod_cidrs`)?";
            ip.set(Status::Unknown, why);
            fw.set(Status::Unknown, "see layer 2: this host's pod network was not found");
            return;
        };
        let to_net = |a: IpAddr| IpNet::from(a);
        let src_net = self.pod_address(src).map(to_net).filter(|a| node.subnet.contains(a)).unwrap_or(node.subnet);
        let backend = backends.first();
        let (dst_net, dst_what) = match (target, backend.and_then(|b| self.pod_address(b.workload))) {
            (Target::Address(a), _) => (to_net(*a), a.to_string()),
            (_, Some(a)) => (to_net(a), format!("{a} ({})", backend.map(|b| self.workload_name(b.workload)).unwrap_or_default())),
            _ => match node.remote {
                Some(remote) => (remote, format!("{remote} (DST's pod address is not known: another node's pods stand for it)")),
                None => {
                    ip.set(Status::Unknown, "DST's pod address is not known and no other node's podCIDR was read: nothing to route");
                    fw.set(Status::Unknown, "see layer 2");
                    return;
                }
            },
        };
        ip.evidence.push(format!("SRC is taken to run on this node: pods on `{}` ({})", node.device, node.subnet));
        let in_iface = IfaceName::Named(node.device.clone());
        let choice = host.firewall.router().choose(&RouteQuery { src: &src_net, dst: &dst_net, iif: Some(&in_iface), mark: 0 });
        let ranges = cx.model.k8s.address_ranges();
        let in_pod_range = ranges.iter().any(|r| r.kind == RangeKind::Pods && r.cidr.contains(&dst_net));
        let node_addresses: Vec<IpAddr> = self.cluster.nodes.iter().flat_map(|n| n.addresses.iter().copied()).collect();
        let by_rule = choice.rule.as_ref().map_or_else(String::new, |r| format!(" (policy routing rule `{}`)", r.describe()));
        let out_iface = match &choice.lookup {
            RouteLookup::Via(IfaceName::Named(dev), route) => {
                let route_text = match route.as_ref() {
                    Some(r) => match r.gateway {
                        Some(gw) => format!("{} via {gw} dev {dev}", r.destination),
                        None => format!("{} dev {dev}", r.destination),
                    },
                    None => format!("dev {dev}"),
                };
                let foreign = in_pod_range
                    && route.as_ref().is_none_or(|r| !is_pod_network_route(r, &node.range, RangeKind::Pods, &node_addresses))
                    && !is_pod_network_device(dev);
                if foreign {
                    ip.fail(
                        format!("this node sends {dst_what} out of `{dev}` by route `{route_text}`{by_rule}, not into the pod network"),
                        format!("exclude the pod range {} from that route (a VPN's split tunnelling), or remove the route", node.range),
                    );
                    fw.set(Status::Skip, "see layer 2: the packets leave the pod network");
                    return;
                }
                ip.set(Status::Pass, format!("this node routes {dst_what} via `{dev}` (`{route_text}`){by_rule}"));
                IfaceName::Named(dev.clone())
            }
            RouteLookup::Refused(route) => {
                ip.fail(
                    format!("this node refuses {dst_what}: a {} route `{}`{by_rule}", route.kind, route.destination),
                    "remove the route that refuses it",
                );
                fw.set(Status::Skip, "see layer 2");
                return;
            }
            RouteLookup::NoRoute => {
                ip.fail(
                    format!("this node has no route to {dst_what}"),
                    "check the CNI plugin on this node: it installs the routes to other nodes' pods",
                );
                fw.set(Status::Skip, "see layer 2");
                return;
            }
            RouteLookup::Via(..) | RouteLookup::Unknown(_) => {
                let reason = match &choice.lookup {
                    RouteLookup::Unknown(r) => r.clone(),
                    _ => "the route's device is not known".into(),
                };
                ip.set(Status::Unknown, reason);
                fw.set(Status::Unknown, "see layer 2");
                return;
            }
        };
        let asked = self.port.map(|p| backend.and_then(|b| b.port).map_or(p, |n| p.on_port(n)));
        let (proto, port) = asked.map_or((IpProto::Tcp, None), |p| p.firewall_match());
        let mut flow = Flow::new(proto, FlowEndpoint::remote(src_net), FlowEndpoint::remote(dst_net), port)
            .entering(in_iface.clone())
            .leaving(out_iface.clone());
        if out_iface == in_iface {
            flow = flow.bridged();
        }
        if !host.firewall.has_rules(IpFamily::of(&src_net)) {
            fw.set(
                Status::Unknown,
                "the node's firewall rules were not read (iptables-save, nft -j list ruleset): `--host` reads them as root",
            );
            return;
        }
        let trace = host.trace(&flow);
        let decided = trace.verdict.decided_by.as_ref().map_or_else(|| "several rules".to_string(), ToString::to_string);
        let what = format!("node firewall: {} by {decided}", trace.verdict.kind.as_str());
        if trace.verdict.kind == VerdictKind::Accept {
            fw.set(Status::Pass, what);
        } else if trace.verdict.kind.is_blocked() {
            let fix = match &trace.verdict.decided_by {
                Some(Decider::Rule(r)) if r.handle.is_some() => {
                    format!("delete or narrow the nftables rule (`nft delete rule {} {} handle {}`)", r.table, r.chain, r.handle.unwrap_or_default())
                }
                Some(Decider::Policy(_)) => format!(
                    "accept the pod range before the drop: `iptables -I FORWARD -s {0} -j ACCEPT` and `iptables -I FORWARD -d {0} -j ACCEPT` (DOCKER-USER when Docker manages the node's firewall)",
                    node.range
                ),
                _ => "remove or narrow the rule that drops it".into(),
            };
            fw.fail(what, fix);
        } else {
            fw.set(Status::Unknown, what);
        }
    }
}

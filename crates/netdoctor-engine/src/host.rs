//! The model's workloads placed on the host whose facts were read: which bridge device
//! each network is (or will be), which addresses its workloads have, where the host's
//! way out is, and the flows the firewall rules check, traced through the host's
//! rule sets.
//!
//! A network that exists on the host is matched by its bridge name
//! (`com.docker.network.bridge.name`), by the device holding an address in its declared
//! subnet, or, for a predicted subnet, by a `br-*` device holding an address in it. A
//! network that does not exist yet gets a `br-…` device that matches no existing one
//! and the subnet Docker would pick, skipping ranges the host already routes.

use crate::address::{AddressPlan, AddressPool, SubnetSource};
use crate::firewall::{Endpoint, Firewall, Flow, IfaceName, Original, PathKind, RouteLookup, Trace};
use crate::names::Resolution;
use crate::topology::{NetId, Stack, Topology};
use ipnet::IpNet;
use netdoctor_model::host::{HostFacts, IpFamily, IpProto, Route};
use netdoctor_model::k8s::{EncapMode, RangeKind};
use netdoctor_model::{Model, Origin, PortRange, Protocol};
use std::net::IpAddr;

/// The Compose/Docker option that names a bridge device.
const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";

/// A bridge network of the model on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    pub net: NetId,
    /// The engine's network name.
    pub name: String,
    pub iface: IfaceName,
    /// Whether the device exists on the host now.
    pub exists: bool,
    /// The IPv4 subnet its containers get addresses from.
    pub subnet: Option<IpNet>,
    pub internal: bool,
}

/// The host's way out: the default route's device and its address there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uplink {
    pub iface: String,
    pub address: IpAddr,
    /// The subnet the address is in: where overlay peers usually are.
    pub subnet: IpNet,
}

/// What a flow stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Containers of a network reaching outside the host.
    Egress,
    /// A workload reaching a peer it refers to.
    Peer { from: usize, to: usize },
    /// A client outside reaching a published port (index into the workload's `ports`).
    Published { workload: usize, port: usize },
    /// Overlay/cluster peers reaching the host on an underlay port.
    Underlay { what: String },
    /// Pods on this Kubernetes node reaching pods on other nodes or outside.
    Pods { range: IpNet },
}

/// A flow the host is checked for, with what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFlow {
    pub purpose: Purpose,
    pub flow: Flow,
    /// The network it starts on, for workload flows.
    pub net: Option<NetId>,
    /// Where the need for the flow is written (a reference, a port, a network).
    pub origin: Origin,
    /// `"web → db tcp/5432"`, for messages.
    pub label: String,
    /// Built for a network or container Docker has not created yet: Docker's own rules
    /// for it are missing from the rule set and would be added at creation.
    pub predicted: bool,
}

/// This host seen as a Kubernetes node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodNode {
    /// The pods of this node get addresses here.
    pub subnet: IpNet,
    /// The device they hang off (`cni0`, or a pod's `cali…`/`lxc…` veth).
    pub device: String,
    /// The cluster's pod range holding `subnet`, and where it is declared.
    pub range: IpNet,
    pub range_origin: Origin,
    /// Another node's pods, when a node's podCIDR or a route says where they are.
    pub remote: Option<IpNet>,
    /// A pod read with an address in `subnet` (a live cluster or a dump), standing for this
    /// node's pods: its address and `namespace/name`.
    pub sample: Option<(IpNet, String)>,
}

impl PodNode {
    /// Where this node's pods' packets come from: a pod's own address when one is known
    /// (firewall rules are often per pod), else the whole pod subnet.
    pub fn source(&self) -> (IpNet, String) {
        match &self.sample {
            Some((address, name)) => (*address, format!("pod {name} ({}) on `{}`", address.addr(), self.device)),
            None => (self.subnet, format!("pods on `{}` ({})", self.device, self.subnet)),
        }
    }
}

/// The traces of a published port.
#[derive(Debug, Clone)]
pub struct PublishedTrace {
    /// The path a client's connection really takes (DNAT, then FORWARD).
    pub actual: Trace,
    /// The same connection as if the host served the port itself (INPUT): what the
    /// host's INPUT firewall says about the port.
    pub as_input: Trace,
    /// Docker's DNAT rule for the port does not exist yet; `actual` traces the flow
    /// after the DNAT Docker would add.
    pub predicted: bool,
}

/// The host's view of the model.
pub struct HostView<'m> {
    pub facts: &'m HostFacts,
    pub firewall: Firewall<'m>,
    pub bridges: Vec<Bridge>,
    pub uplink: Option<Uplink>,
    /// The pools Docker hands network subnets out of here: daemon.json's
    /// `default-address-pools`, or the configured defaults.
    pub pools: Vec<AddressPool>,
}

impl<'m> HostView<'m> {
    pub fn build(model: &'m Model, facts: &'m HostFacts, topology: &Topology, plan: &AddressPlan, pools: &[AddressPool]) -> HostView<'m> {
        let firewall = Firewall::new(facts);
        let uplink = uplink(facts, &firewall);
        let pools = effective_pools(facts, pools);
        let bridges = bridges(model, facts, topology, plan, &pools, &firewall);
        HostView { facts, firewall, bridges, uplink, pools }
    }

    /// The bridge of network `net`.
    pub fn bridge(&self, net: NetId) -> Option<&Bridge> {
        self.bridges.iter().find(|b| b.net == net)
    }

    /// The subnet Docker's pools would hand the next new network if the host's VPN routes
    /// were gone, and the VPN route it overlaps. Docker skips ranges the host routes only
    /// at the moment it creates a network, so a network created while the VPN is down takes
    /// this subnet and clashes once the VPN connects.
    pub fn next_pool_subnet_over_vpn(&self) -> Option<(IpNet, &'m Route)> {
        let facts: &'m HostFacts = self.facts;
        let main_v4 = |r: &&Route| r.is_main() && r.destination.prefix_len() > 0 && r.destination.addr().is_ipv4();
        let vpn = |r: &Route| r.device.as_deref().is_some_and(|d| is_vpn_device(d, facts));
        let mut taken: Vec<IpNet> = facts.routes.iter().filter(main_v4).filter(|r| !vpn(r)).map(|r| r.destination).collect();
        taken.extend(self.bridges.iter().filter_map(|b| b.subnet));
        let overlaps = |a: &IpNet, b: &IpNet| a.contains(b) || b.contains(a);
        // The first subnet of the pools belongs to docker0, as in `AddressPlan`.
        let next =
            self.pools.iter().flat_map(AddressPool::subnets).skip(1).map(IpNet::V4).find(|s| !taken.iter().any(|t| overlaps(t, s)))?;
        let route = facts.routes.iter().filter(main_v4).find(|r| vpn(r) && overlaps(&r.destination, &next))?;
        Some((next, route))
    }

    /// Traces one flow.
    pub fn trace(&self, flow: &Flow) -> Trace {
        self.firewall.trace(flow)
    }

    /// Containers of each bridge network (internal ones excepted) reaching outside:
    /// a new TCP connection to port 443 anywhere, out of the default route.
    pub fn egress_flows(&self, model: &Model, topology: &Topology) -> Vec<HostFlow> {
        let out_iface = self.uplink.as_ref().map_or(IfaceName::Unknown, |u| IfaceName::Named(u.iface.clone()));
        self.bridges
            .iter()
            .filter(|b| !b.internal && !topology.members(b.net).is_empty())
            .filter_map(|b| {
                let subnet = b.subnet?;
                let flow = Flow::tcp(Endpoint::remote(subnet), Endpoint::anywhere(IpFamily::V4), 443)
                    .entering(b.iface.clone())
                    .leaving(out_iface.clone());
                let origin = network_origin(model, topology, b.net)?;
                Some(HostFlow {
                    purpose: Purpose::Egress,
                    flow,
                    net: Some(b.net),
                    origin,
                    label: format!("containers on `{}` reaching outside (tcp/443)", b.name),
                    predicted: !b.exists,
                })
            })
            .collect()
    }

    /// This host as a Kubernetes node: its pod subnet (a pod network device's connected
    /// subnet, or its routes to single pods, inside a pod range of the model), the device
    /// its pods hang off, and a subnet of another node's pods.
    pub fn pod_node(&self, model: &Model) -> Option<PodNode> {
        let ranges: Vec<_> = model.k8s.address_ranges().into_iter().filter(|r| r.kind == RangeKind::Pods).collect();
        let (local, device) = self.local_pod_subnet(&ranges)?;
        let range = ranges.iter().find(|r| r.cidr.contains(&local))?;
        // Another node's pods: a node's podCIDR, else a route into the rest of the pod range.
        let elsewhere = |c: &IpNet| !c.contains(&local) && !local.contains(c) && range.cidr.contains(c);
        let remote = ranges.iter().map(|r| r.cidr).find(|c| elsewhere(c)).or_else(|| {
            self.facts.routes.iter().filter(|r| r.is_main() && r.kind == "unicast").map(|r| r.destination).find(|c| elsewhere(c))
        });
        let sample = model.k8s.pods.iter().filter(|p| !p.host_network).find_map(|p| {
            let address = p.ips.iter().map(|a| IpNet::from(*a)).find(|a| local.contains(a))?;
            Some((address, format!("{}/{}", p.namespace, p.name)))
        });
        Some(PodNode { subnet: local, device, range: range.cidr, range_origin: range.origin.clone(), remote, sample })
    }

    /// Pods on this node reaching pods on another node and reaching outside: new TCP
    /// connections to port 443, from the pod device out of the device the host routes them to.
    pub fn pod_flows(&self, model: &Model) -> Vec<HostFlow> {
        let Some(node) = self.pod_node(model) else { return Vec::new() };
        let device = &node.device;
        let (source, who) = node.source();
        let mut out = Vec::new();
        let mut flow_to = |dst: Endpoint, out_iface: IfaceName, label: String| {
            let flow = Flow::tcp(Endpoint::remote(source), dst, 443).entering(IfaceName::Named(device.clone())).leaving(out_iface);
            out.push(HostFlow {
                purpose: Purpose::Pods { range: node.range },
                flow,
                net: None,
                origin: node.range_origin.clone(),
                label,
                predicted: false,
            });
        };
        if let Some(remote) = node.remote {
            if let RouteLookup::Via(iface @ IfaceName::Named(_), _) = self.firewall.router().lookup(&remote) {
                flow_to(Endpoint::remote(remote), iface, format!("{who} reaching pods on another node ({remote}, tcp/443)"));
            }
        }
        if let Some(uplink) = &self.uplink {
            let label = format!("{who} reaching outside (tcp/443)");
            flow_to(Endpoint::anywhere(IpFamily::of(&source)), IfaceName::Named(uplink.iface.clone()), label);
        }
        out
    }

    /// This node's pod subnet and the device its pods hang off.
    fn local_pod_subnet(&self, ranges: &[netdoctor_model::k8s::AddressRange<'_>]) -> Option<(IpNet, String)> {
        let in_pod_range = |net: &IpNet| ranges.iter().any(|r| r.cidr.contains(net));
        let is_tunnel = |name: &str| self.facts.interface(name).and_then(|i| i.kind.as_deref()).and_then(encapsulation).is_some();
        // A pod bridge with an address in the pod range (flannel's cni0, kubenet's cbr0).
        let bridge = self.facts.addresses.iter().find(|a| {
            a.network.prefix_len() < a.network.max_prefix_len()
                && is_pod_network_device(&a.interface)
                && !is_tunnel(&a.interface)
                && in_pod_range(&a.network.trunc())
        });
        if let Some(a) = bridge {
            return Some((a.network.trunc(), a.interface.clone()));
        }
        // Routes to single pods through their veths (Calico's `cali*`, Cilium's `lxc*`).
        self.facts.routes.iter().find_map(|r| {
            let dev = r.device.as_deref()?;
            (r.is_main() && is_pod_network_device(dev) && !is_tunnel(dev) && in_pod_range(&r.destination))
                .then(|| (r.destination, dev.to_string()))
        })
    }

    /// Each workload reaching each peer it refers to, on the bridge networks they share.
    pub fn peer_flows(&self, model: &Model, topology: &Topology, resolve: impl Fn(usize, &str) -> Resolution) -> Vec<HostFlow> {
        let mut out = Vec::new();
        for (from, w) in model.workloads.iter().enumerate() {
            for r in w.references.iter().filter(|r| r.via.is_lookup()) {
                let (targets, network) = match resolve(from, &r.host) {
                    Resolution::Resolved { targets, network } => (targets, Some(network)),
                    Resolution::Link(t) => (vec![t], None),
                    _ => continue,
                };
                for to in targets {
                    let nets: Vec<NetId> = match network {
                        Some(n) => vec![n],
                        None => {
                            topology.networks_of(from).iter().copied().filter(|n| topology.networks_of(to).contains(n)).take(1).collect()
                        }
                    };
                    for net in nets {
                        let Some(bridge) = self.bridge(net) else { continue };
                        let (Some(src), Some(dst)) =
                            (address_on(model, topology, from, net, bridge), address_on(model, topology, to, net, bridge))
                        else {
                            continue;
                        };
                        let target = model.workloads.get(to);
                        let port = r.port.or_else(|| target.and_then(single_port));
                        let dport = port.map(PortRange::single);
                        let flow = Flow::new(IpProto::Tcp, Endpoint::remote(src), Endpoint::remote(dst), dport)
                            .entering(bridge.iface.clone())
                            .leaving(bridge.iface.clone())
                            .bridged();
                        let to_name = target.map_or("?", |t| t.name.as_str());
                        let port_text = port.map_or_else(|| "any port".to_string(), |p| format!("tcp/{p}"));
                        out.push(HostFlow {
                            purpose: Purpose::Peer { from, to },
                            flow,
                            net: Some(net),
                            origin: r.origin.clone(),
                            label: format!("`{}` → `{to_name}` {port_text}", w.name),
                            predicted: !bridge.exists,
                        });
                    }
                }
            }
        }
        out
    }

    /// A client outside the host reaching each published port (loopback-bound ones
    /// excepted), as it arrives on the host: to the host's address, before DNAT.
    pub fn published_flows(&self, model: &Model, topology: &Topology) -> Vec<HostFlow> {
        let mut out = Vec::new();
        let Some(uplink) = &self.uplink else { return out };
        for (wi, w) in model.workloads.iter().enumerate() {
            if !matches!(topology.stack(wi), Stack::Own) {
                continue;
            }
            let Some(bridge) = topology.networks_of(wi).iter().find_map(|n| self.bridge(*n)) else { continue };
            for (pi, p) in w.ports.iter().enumerate() {
                let Some(published) = p.published else { continue };
                let host_ip = match p.host_ip {
                    Some(ip) if ip.is_loopback() => continue,
                    Some(ip) if !ip.is_unspecified() => ip,
                    _ => uplink.address,
                };
                if host_ip.is_ipv6() {
                    continue;
                }
                let proto = protocol(p.protocol);
                let flow = Flow::new(
                    proto,
                    Endpoint::anywhere(IpFamily::V4),
                    Endpoint::host(IpNet::from(host_ip)),
                    Some(PortRange::single(published.start)),
                )
                .entering(IfaceName::Named(uplink.iface.clone()));
                out.push(HostFlow {
                    purpose: Purpose::Published { workload: wi, port: pi },
                    flow,
                    net: Some(bridge.net),
                    origin: p.origin.clone(),
                    label: format!("{}/{} published by `{}`", p.protocol, published.start, w.name),
                    predicted: !bridge.exists,
                });
            }
        }
        out
    }

    /// Traces a published-port flow both ways: as it really goes, and as the host's
    /// INPUT rules would treat it.
    pub fn trace_published(&self, model: &Model, topology: &Topology, hf: &HostFlow) -> Option<PublishedTrace> {
        let Purpose::Published { workload, port } = hf.purpose else { return None };
        let binding = model.workloads.get(workload)?.ports.get(port)?;
        let mut input = hf.flow.clone().on_path(PathKind::Input);
        input.skip_nat = true;
        let as_input = self.trace(&input);
        let actual = self.trace(&hf.flow);
        if actual.was_dnatted() || actual.path == Some(PathKind::Forward) {
            return Some(PublishedTrace { actual, as_input, predicted: false });
        }
        // No DNAT rule for the port yet: trace the connection as Docker will rewrite it.
        let net = hf.net?;
        let bridge = self.bridge(net)?;
        let dst = address_on(model, topology, workload, net, bridge)?;
        let mut flow = Flow::new(hf.flow.proto.clone(), hf.flow.src.clone(), Endpoint::remote(dst), Some(binding.target))
            .entering(hf.flow.in_iface.clone().unwrap_or(IfaceName::Unknown))
            .leaving(bridge.iface.clone())
            .on_path(PathKind::Forward);
        flow.original = Some(Original { dst: hf.flow.dst.clone(), dport: hf.flow.dport });
        Some(PublishedTrace { actual: self.trace(&flow), as_input, predicted: true })
    }

    /// Flows from overlay peers to the host for the underlay ports something on the host
    /// (or an overlay network, flannel backend or Cilium configuration of the model) needs.
    pub fn underlay_flows(&self, model: &Model) -> Vec<HostFlow> {
        let Some(uplink) = &self.uplink else { return Vec::new() };
        let mut needs = UnderlayNeeds::default();
        for n in model.networks.iter().filter(|n| n.effective_driver() == "overlay") {
            for (proto, port, what) in
                [(IpProto::Udp, 4789, "VXLAN data"), (IpProto::Tcp, 7946, "Swarm gossip"), (IpProto::Udp, 7946, "Swarm gossip")]
            {
                needs.add(proto, Some(port), format!("{what} of overlay network `{}`", n.name), &n.origin);
            }
        }
        // flannel's backend as kube-flannel-cfg configures it: checked even before the
        // device exists (a node that has not joined yet), and named where the port is set.
        if let Some(backend) = &model.k8s.flannel_backend {
            if let Some(port) = backend.udp_port() {
                let written = backend.port.as_ref().filter(|p| p.value != 0);
                let (what, origin) = match written {
                    Some(p) => (format!("`Port` of flannel's {} backend in kube-flannel-cfg", backend.kind), &p.origin),
                    None => (format!("default port of flannel's {} backend in kube-flannel-cfg", backend.kind), &backend.origin),
                };
                needs.add(IpProto::Udp, Some(port), what, origin);
            }
        }
        // Cilium as cilium-config configures it, likewise before its devices exist: the
        // tunnel port in tunnel mode (none in native routing), WireGuard's fixed port and
        // IPsec's ESP.
        if let Some(cilium) = &model.k8s.cilium_config {
            if let (Some(protocol), Some(port)) = (cilium.tunnel(), cilium.tunnel_udp_port()) {
                let written = cilium.tunnel_port.as_ref().filter(|p| p.value != 0);
                match written {
                    Some(p) => needs.add(
                        IpProto::Udp,
                        Some(port),
                        format!("`tunnel-port` of Cilium's {protocol} tunnel in cilium-config"),
                        &p.origin,
                    ),
                    // Pointed at the key that chose the tunnel, or the ConfigMap when the
                    // tunnel is Cilium's default.
                    None => {
                        let chosen_at =
                            cilium.tunnel_protocol.as_ref().map(|p| &p.origin).or(cilium.routing_mode.as_ref().map(|m| &m.origin));
                        let what = format!("default port of Cilium's {protocol} tunnel in cilium-config");
                        needs.add(IpProto::Udp, Some(port), what, chosen_at.unwrap_or(&cilium.origin));
                    }
                }
            }
            if let Some(w) = cilium.wireguard.as_ref().filter(|w| w.value) {
                let port = netdoctor_model::k8s::CiliumConfig::WIREGUARD_PORT;
                needs.add(IpProto::Udp, Some(port), "Cilium's WireGuard, `enable-wireguard` in cilium-config".into(), &w.origin);
            }
            if let Some(ipsec) = cilium.ipsec.as_ref().filter(|w| w.value) {
                needs.add(IpProto::Number(ESP), None, "Cilium's IPsec (ESP), `enable-ipsec` in cilium-config".into(), &ipsec.origin);
            }
        }
        // Calico's pools: IP-in-IP (IP protocol 4, with BGP to learn the routes) and VXLAN.
        for pool in model.k8s.calico_pools.iter().filter(|p| !p.disabled) {
            if pool.ipip_mode != EncapMode::Never {
                let what = format!("IP-in-IP of Calico IPPool `{}` (ipipMode {:?})", pool.name, pool.ipip_mode);
                needs.add(IpProto::Number(IPIP), None, what, &pool.origin);
                needs.add(
                    IpProto::Tcp,
                    Some(179),
                    format!("BGP peering for Calico IPPool `{}`'s IP-in-IP routes", pool.name),
                    &pool.origin,
                );
            }
            if pool.vxlan_mode != EncapMode::Never {
                let what = format!("VXLAN of Calico IPPool `{}` (vxlanMode {:?})", pool.name, pool.vxlan_mode);
                needs.add(IpProto::Udp, Some(4789), what, &pool.origin);
            }
        }
        // Weave Net: its control and data ports, and ESP when fast datapath encrypts.
        if let Some(weave) = &model.k8s.weave {
            needs.add(IpProto::Tcp, Some(6783), "Weave Net's control connections".into(), &weave.origin);
            needs.add(IpProto::Udp, Some(6783), "Weave Net's sleeve data".into(), &weave.origin);
            needs.add(IpProto::Udp, Some(6784), "Weave Net's fast datapath data".into(), &weave.origin);
            if weave.encryption.is_some() {
                needs.add(IpProto::Number(ESP), None, "Weave Net's encrypted fast datapath (ESP)".into(), &weave.origin);
            }
        }
        for i in &self.facts.interfaces {
            match (i.kind.as_deref(), i.name.as_str()) {
                (Some("vxlan"), name) => {
                    let port = i.vxlan_port.unwrap_or(if name == "flannel.1" || name.starts_with("cilium") { 8472 } else { 4789 });
                    needs.add(IpProto::Udp, Some(port), format!("VXLAN device `{name}`"), &i.origin);
                }
                (Some("geneve"), name) => needs.add(IpProto::Udp, Some(6081), format!("Geneve device `{name}`"), &i.origin),
                (Some("wireguard"), name) => {
                    let port = if name.starts_with("wireguard.cali") || name.starts_with("flannel-wg") { 51820 } else { 51871 };
                    needs.add(IpProto::Udp, Some(port), format!("WireGuard device `{name}`"), &i.origin);
                }
                (Some("ipip"), "tunl0") => {
                    needs.add(IpProto::Number(IPIP), None, "IP-in-IP of Calico's device `tunl0`".into(), &i.origin);
                    needs.add(IpProto::Tcp, Some(179), "BGP peering of Calico's IP-in-IP device `tunl0`".into(), &i.origin);
                }
                _ => {}
            }
        }
        needs
            .0
            .into_iter()
            .map(|(proto, port, what, origin)| {
                let flow = Flow::new(
                    proto.clone(),
                    Endpoint::remote(uplink.subnet),
                    Endpoint::host(IpNet::from(uplink.address)),
                    port.map(PortRange::single),
                )
                .entering(IfaceName::Named(uplink.iface.clone()));
                let traffic = match port {
                    Some(port) => format!("{proto}/{port}"),
                    None => format!("IP protocol {proto}"),
                };
                HostFlow {
                    purpose: Purpose::Underlay { what: what.clone() },
                    flow,
                    net: None,
                    origin,
                    label: format!("{traffic} from peers on {} ({what})", uplink.subnet),
                    predicted: false,
                }
            })
            .collect()
    }
}

/// IP protocol numbers of the encapsulations without ports.
const IPIP: u8 = 4;
const ESP: u8 = 50;

/// The underlay traffic a host must accept: protocol, port (none for IP-in-IP and ESP),
/// what needs it and where that is configured; the first reason for each is kept.
#[derive(Default)]
struct UnderlayNeeds(Vec<(IpProto, Option<u16>, String, Origin)>);

impl UnderlayNeeds {
    fn add(&mut self, proto: IpProto, port: Option<u16>, what: String, origin: &Origin) {
        if !self.0.iter().any(|(p, n, _, _)| *p == proto && *n == port) {
            self.0.push((proto, port, what, origin.clone()));
        }
    }
}

fn protocol(p: Protocol) -> IpProto {
    match p {
        Protocol::Tcp => IpProto::Tcp,
        Protocol::Udp => IpProto::Udp,
        Protocol::Sctp => IpProto::Sctp,
    }
}

/// The port a workload serves, when it exposes or publishes exactly one.
fn single_port(w: &netdoctor_model::Workload) -> Option<u16> {
    let mut ports: Vec<u16> = w.expose.iter().map(|e| e.value.start).chain(w.ports.iter().map(|p| p.target.start)).collect();
    ports.sort_unstable();
    ports.dedup();
    match ports.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Where a network is declared (its first declaration), or its engine name for the
/// predefined `bridge`, which no project declares.
fn network_origin(model: &Model, topology: &Topology, net: NetId) -> Option<Origin> {
    let info = topology.info(net)?;
    match info.declared.first().and_then(|&d| model.networks.get(d)) {
        Some(n) => Some(n.origin.clone()),
        None => Some(Origin::Logical(format!("docker://network/{}", info.name))),
    }
}

/// Where a workload's address on `net` lies: its static address, or the bridge subnet.
fn address_on(model: &Model, topology: &Topology, w: usize, net: NetId, bridge: &Bridge) -> Option<IpNet> {
    let workload = model.workloads.get(w)?;
    let info = topology.info(net)?;
    let key = info.declared.iter().filter_map(|&d| model.networks.get(d)).find(|n| n.project == workload.project).map(|n| n.key.as_str());
    let fixed = key
        .and_then(|k| workload.attachment(k))
        .and_then(|a| a.ipv4_address.as_ref())
        .and_then(|ip| ip.value.parse::<IpAddr>().ok())
        .filter(IpAddr::is_ipv4)
        .map(IpNet::from);
    fixed.or(bridge.subnet)
}

fn uplink(facts: &HostFacts, firewall: &Firewall<'_>) -> Option<Uplink> {
    let route = firewall.router().default_route(false)?;
    let iface = route.device.clone()?;
    let addr = facts.addresses.iter().find(|a| a.interface == iface && a.address.is_ipv4())?;
    Some(Uplink { iface, address: addr.address, subnet: addr.network })
}

/// daemon.json's `default-address-pools` when set, else `defaults`.
fn effective_pools(facts: &HostFacts, defaults: &[AddressPool]) -> Vec<AddressPool> {
    let daemon_pools: Vec<AddressPool> = facts
        .daemon
        .as_ref()
        .map(|d| d.default_address_pools.iter().map(|p| AddressPool::new(&p.value.base, p.value.size)).collect())
        .unwrap_or_default();
    if daemon_pools.is_empty() {
        defaults.to_vec()
    } else {
        daemon_pools
    }
}

/// Whether a route's device belongs to a container runtime or CNI plugin (its bridges,
/// veths, overlay and tunnel devices) rather than to the host's own networks.
pub fn is_runtime_device(device: &str, bridges: &[Bridge]) -> bool {
    const PREFIXES: &[&str] = &["docker", "br-", "podman", "virbr"];
    bridges.iter().any(|b| matches!(&b.iface, IfaceName::Named(n) if n == device))
        || PREFIXES.iter().any(|p| device.starts_with(p))
        || is_pod_network_device(device)
}

/// Whether a device belongs to a Kubernetes pod network: a CNI plugin's bridge, veths,
/// overlay, tunnel or encryption device (flannel, Calico, Cilium, Weave, kube-router,
/// Antrea, OVN-Kubernetes), or kube-proxy's IPVS dummy.
pub fn is_pod_network_device(device: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "cni",
        "cali",
        "flannel",
        "cilium",
        "weave",
        "kube-",
        "vxlan",
        "tunl0",
        "lxc",
        "veth",
        "genev_sys",
        "ovn-k8s",
        "antrea",
        "wireguard.cali",
        "nodelocaldns",
    ];
    PREFIXES.iter().any(|p| device.starts_with(p))
}

/// Whether a route over a pod range is the pod network's own: through a pod network
/// device, to another node's pods through that node (a node address as gateway), announced
/// by a BGP daemon, or, for pod ranges, a gateway route inside the range (host-gw).
pub fn is_pod_network_route(route: &Route, range: &IpNet, kind: RangeKind, node_addresses: &[IpAddr]) -> bool {
    if route.device.as_deref().is_some_and(is_pod_network_device) {
        return true;
    }
    let inside = range.contains(&route.destination);
    let through_node = route.gateway.is_some_and(|gw| node_addresses.contains(&gw));
    let announced = matches!(route.protocol.as_deref(), Some("bird" | "bgp" | "zebra" | "babel"));
    let per_node = kind == RangeKind::Pods && route.gateway.is_some() && route.destination.prefix_len() > range.prefix_len();
    inside && (through_node || announced || per_node)
}

/// For a link kind that carries packets to other hosts inside another packet: the bytes
/// it adds over an IPv4 underlay, and its name.
pub fn encapsulation(kind: &str) -> Option<(u32, &'static str)> {
    match kind {
        "vxlan" => Some((50, "VXLAN")),
        "geneve" => Some((50, "Geneve")),
        "ipip" => Some((20, "IPIP")),
        "gre" | "gretap" => Some((24, "GRE")),
        "wireguard" => Some((60, "WireGuard")),
        _ => None,
    }
}

/// Whether a device looks like a VPN tunnel: `tun`/`tap`, WireGuard, PPP, IPsec.
pub fn is_vpn_device(device: &str, facts: &HostFacts) -> bool {
    let kind = facts.interface(device).and_then(|i| i.kind.as_deref());
    matches!(kind, Some("tun" | "wireguard" | "ppp" | "xfrm" | "vti"))
        || ["tun", "tap", "wg", "ppp", "ipsec", "utun", "nordlynx", "tailscale", "zt"].iter().any(|p| device.starts_with(p))
}

fn bridges(
    model: &Model,
    facts: &HostFacts,
    topology: &Topology,
    plan: &AddressPlan,
    pools: &[AddressPool],
    firewall: &Firewall<'_>,
) -> Vec<Bridge> {
    let v4_addr = |iface: &str| facts.addresses.iter().find(|a| a.interface == iface && a.address.is_ipv4()).map(|a| a.network);
    let iface_in = |subnet: &IpNet, prefix: Option<&str>| {
        facts
            .addresses
            .iter()
            .find(|a| subnet.contains(&a.address) && prefix.is_none_or(|p| a.interface.starts_with(p)))
            .map(|a| (a.interface.clone(), a.network))
    };
    // Ranges Docker will not hand out again: what the host routes, and every declared subnet.
    let mut taken: Vec<IpNet> =
        facts.routes.iter().filter(|r| r.destination.prefix_len() > 0 && r.is_main()).map(|r| r.destination).collect();
    taken.extend(plan.subnets.iter().filter(|s| matches!(s.source, SubnetSource::Declared(_))).map(|s| s.subnet));
    // The first subnet of the pools belongs to docker0, as in `AddressPlan`.
    let mut free = pools.iter().flat_map(AddressPool::subnets).skip(1).map(IpNet::V4);
    let mut out = Vec::new();
    for (i, info) in topology.nets.iter().enumerate() {
        let net = NetId(i);
        let declarations: Vec<_> = info.declared.iter().filter_map(|&d| model.networks.get(d)).collect();
        let is_default_bridge = info.name == crate::topology::PREDEFINED_BRIDGE;
        if !is_default_bridge && (declarations.is_empty() || !declarations.iter().all(|n| n.effective_driver() == "bridge")) {
            continue;
        }
        let v4 = |s: &&crate::address::PlannedSubnet| matches!(s.subnet, IpNet::V4(_));
        let declared = plan.of(net).filter(v4).find(|s| matches!(s.source, SubnetSource::Declared(_))).map(|s| s.subnet);
        let predicted = plan.of(net).filter(v4).find(|s| s.source == SubnetSource::Predicted).map(|s| s.subnet);
        let named = declarations.iter().find_map(|n| n.driver_opts.get(BRIDGE_NAME_OPTION)).cloned();
        let (iface, exists, subnet) = if is_default_bridge {
            let subnet = v4_addr("docker0")
                .or_else(|| {
                    facts.daemon.as_ref().and_then(|d| d.bip.as_ref()).and_then(|b| b.value.parse::<IpNet>().ok()).map(|n| n.trunc())
                })
                .or(Some(AddressPlan::docker0()));
            (IfaceName::Named("docker0".into()), firewall.router().interface_exists("docker0") != Some(false), subnet)
        } else if let Some(name) = named {
            let exists = firewall.router().interface_exists(&name) == Some(true);
            (IfaceName::Named(name.clone()), exists, declared.or_else(|| v4_addr(&name)).or(predicted))
        } else if let Some(found) = declared.and_then(|d| iface_in(&d, None)) {
            (IfaceName::Named(found.0), true, declared)
        } else if let Some(found) = predicted.and_then(|p| iface_in(&p, Some("br-"))) {
            (IfaceName::Named(found.0), true, Some(found.1))
        } else {
            let subnet = declared.or_else(|| {
                let pick = free.by_ref().find(|s| !taken.iter().any(|t| t.contains(s) || s.contains(t)));
                if let Some(p) = pick {
                    taken.push(p);
                }
                pick
            });
            (IfaceName::Fresh { prefix: "br-".into() }, false, subnet)
        };
        out.push(Bridge { net, name: info.name.clone(), iface, exists, subnet, internal: info.internal });
    }
    out
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;

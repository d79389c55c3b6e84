//! `netdoctor why SRC DST --port P PATH` over Kubernetes objects: layer 1 (do both
//! exist, does the Service select pods, does its port lead to a container port), layer 3
//! (may SRC query cluster DNS on UDP and TCP 53, does the name resolve from SRC's
//! namespace), layer 4 (the policies and rules that decide, and the smallest change
//! that would allow the flow). Layers 2 and 5 are not in manifests: with host facts of
//! a node (`--host`, `--host-facts`), SRC is taken to run on that node, and its route to
//! DST and the node's firewall are checked.

use super::{NotFound, PortSpec, Status, Step, Why};
use ipnet::IpNet;
use netdoctor_engine::firewall::{Decider, Endpoint as FlowEndpoint, Flow, IfaceName, RouteLookup, RouteQuery, VerdictKind};
use netdoctor_engine::host::{is_pod_network_device, is_pod_network_route};
use netdoctor_engine::policy::Uncertainty;
use netdoctor_engine::policy::{
    unmet_requirements, with_cluster_dns, ClassId, DirectionTrace, Endpoint, PolicyEngine, PolicyRef, PolicyTier, CLUSTER_DNS_LABEL,
    CLUSTER_DNS_NAMESPACE,
};
use netdoctor_model::host::{IpFamily, IpProto};
use netdoctor_model::k8s::RangeKind;
use netdoctor_model::k8s::{
    AdminAction, Cluster, IpBlock, Labels, PolicyPeer, PolicyRule, PolicyType, PortRef, Service, ServiceType, NAMESPACE_NAME_LABEL,
};
use netdoctor_model::{Origin, Protocol};
use netdoctor_rules::{Diagnostic, RuleContext};
use std::net::IpAddr;

/// The suffix of cluster DNS names.
const CLUSTER_DOMAIN: &str = "svc.cluster.local";

/// What DST names.
#[derive(Debug, Clone)]
enum Target<'c> {
    /// A workload (index into `PolicyEngine::workloads`), named directly.
    Workload(usize),
    /// A Service; `other_namespace` when the name was bare and the Service lives in a
    /// namespace other than the client's (so the bare name does not resolve).
    Service { service: &'c Service, other_namespace: bool },
    /// An address outside the pods read.
    Address(IpAddr),
}

/// One leg of the flow the policy layer judges: from the source workload to one
/// destination (a pod class, or an outside range), on one port.
#[derive(Clone, Copy)]
struct Leg<'a> {
    src: usize,
    dst: Endpoint,
    dst_class: Option<ClassId>,
    dst_name: &'a str,
    /// The connection as it arrives at this destination (a Service port mapped to
    /// the container port).
    conn: PortSpec,
}

/// The end of a flow a policy's rules must match: its namespace (none outside the
/// cluster), labels and name.
#[derive(Clone, Copy)]
struct PeerSide<'a> {
    namespace: Option<&'a str>,
    labels: &'a Labels,
    name: &'a str,
}

/// One destination the flow may land on, with the port on that pod.
#[derive(Debug, Clone, Copy)]
struct Backend {
    workload: usize,
    port: Option<u16>,
}

/// Walks the layers for a flow between Kubernetes workloads.
pub fn explain(cx: &RuleContext<'_>, findings: &[Diagnostic], from: &str, to: &str, port: Option<PortSpec>) -> Result<Why, NotFound> {
    let Some(engine) = cx.analysis.policy.as_ref() else {
        return Err(NotFound { message: "no Kubernetes objects were read: give a manifest file or directory".into() });
    };
    let mut walk = K8sWalk { engine, cluster: &cx.model.k8s, port, address: None };
    let src = walk.find_source(from)?;
    let target = walk.find_target(to, src)?;
    if let Target::Address(IpAddr::V4(v4)) = target {
        walk.address = Some(v4);
    }
    let mut steps = Why::layers();
    let mut backends = Vec::new();
    if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
        backends = walk.attachment(s1, src, &target);
        walk.dns(s3, src, &target, to);
        walk.policy(s4, src, &target, &backends);
        match cx.analysis.host.as_ref() {
            Some(_) => walk.node(cx, [s2, s5], src, &target, &backends),
            None => {
                s2.set(
                    Status::Skip,
                    "every pod has an address in one flat pod network; routes are not part of manifests (`--host` on a node checks them)",
                );
                s5.set(Status::Skip, "the CNI and node firewalls are not part of manifests (`--host` on a node checks them)");
            }
        }
    }
    for step in &mut steps {
        cite(step, findings, &walk.subjects(src, &target));
    }
    let listener = walk.listener(&backends);
    Ok(Why::settled((from, to), port, steps, listener, None))
}

struct K8sWalk<'e, 'c> {
    engine: &'e PolicyEngine<'c>,
    cluster: &'c Cluster,
    port: Option<PortSpec>,
    /// DST, when it is an outside IPv4 address.
    address: Option<std::net::Ipv4Addr>,
}

/// ` (file:line)` for a position in a file, nothing for logical origins.
fn at(origin: &Origin) -> String {
    origin.span().map_or_else(String::new, |s| format!(" ({}:{})", s.file.display(), s.line))
}

fn show_labels(labels: &Labels) -> String {
    let shown: Vec<String> = labels.iter().filter(|(k, _)| k.as_str() != NAMESPACE_NAME_LABEL).map(|(k, v)| format!("{k}={v}")).collect();
    if shown.is_empty() {
        "no labels".into()
    } else {
        shown.join(", ")
    }
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Sctp => "SCTP",
    }
}

impl<'c> K8sWalk<'_, 'c> {
    /// The first address of a workload's pods, when a live cluster or dump gave one.
    fn pod_address(&self, w: usize) -> Option<IpAddr> {
        let pods = self.engine.workloads.get(w)?.pods.iter().filter_map(|&p| self.cluster.pods.get(p));
        pods.flat_map(|p| p.ips.iter().copied()).next()
    }

    /// Layers 2 and 5 on this node: SRC's packets to DST routed from the pod device, and
    /// traced through the node's firewall.
    fn node(&self, cx: &RuleContext<'_>, [ip, fw]: [&mut Step; 2], src: usize, target: &Target<'_>, backends: &[Backend]) {
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

    fn workload_name(&self, w: usize) -> String {
        self.engine.workloads.get(w).map(|w| w.name()).unwrap_or_default()
    }

    fn class_of(&self, w: usize) -> Option<ClassId> {
        self.engine.workloads.get(w).map(|w| w.class)
    }

    fn namespace_of(&self, w: usize) -> &str {
        self.engine.workloads.get(w).map_or("", |w| w.namespace.as_str())
    }

    fn labels_of(&self, w: usize) -> Labels {
        self.class_of(w).and_then(|c| self.engine.classes.get(c)).map(|c| c.labels.clone()).unwrap_or_default()
    }

    fn namespace_labels(&self, name: &str) -> Labels {
        self.engine.namespaces.iter().find(|n| n.name == name).map(|n| n.labels.clone()).unwrap_or_default()
    }

    /// Where the workload's pod (template) was written.
    fn workload_origin(&self, w: usize) -> String {
        let pod = self.engine.workloads.get(w).and_then(|w| w.pods.first()).and_then(|&p| self.cluster.pods.get(p));
        pod.map(|p| at(&p.origin)).unwrap_or_default()
    }

    /// Workloads whose name matches `pred`, for "did you mean".
    fn close_names(&self, wanted: &str) -> Vec<String> {
        let bare = wanted.rsplit('/').next().unwrap_or(wanted);
        let mut close: Vec<String> = self
            .engine
            .workloads
            .iter()
            .filter(|w| is_close(&w.owner.name, bare))
            .map(|w| format!("{}/{}", w.namespace, w.owner.name))
            .collect();
        close.extend(
            self.cluster.services.iter().filter(|s| is_close(&s.name, bare)).map(|s| format!("{}.{} (Service)", s.name, s.namespace)),
        );
        close.sort();
        close.dedup();
        close
    }

    fn not_found(&self, what: &str, name: &str) -> NotFound {
        let close = self.close_names(name);
        let message = if close.is_empty() {
            format!("no {what} is called `{name}` in the manifests; name it as namespace/name (e.g. prod/web), a pod name, or a pod IP")
        } else {
            format!("no {what} is called `{name}`; did you mean {}?", close.join(", "))
        };
        NotFound { message }
    }

    /// The workload a pod IP belongs to.
    fn workload_by_ip(&self, ip: IpAddr) -> Option<usize> {
        let pod = self.cluster.pods.iter().position(|p| p.ips.contains(&ip))?;
        self.engine.workloads.iter().position(|w| w.pods.contains(&pod))
    }

    /// The workload a pod name (`ns/pod` or `pod`) belongs to.
    fn workload_by_pod_name(&self, name: &str) -> Option<usize> {
        let (ns, pod) = name.split_once('/').map_or((None, name), |(n, p)| (Some(n), p));
        let index = self.cluster.pods.iter().position(|p| p.name == pod && ns.is_none_or(|n| p.namespace == n))?;
        self.engine.workloads.iter().position(|w| w.pods.contains(&index))
    }

    /// SRC: `ns/name[Kind]`, `ns/name`, a name unique across namespaces, a pod name or a pod IP.
    fn find_source(&self, from: &str) -> Result<usize, NotFound> {
        if let Ok(ip) = from.parse::<IpAddr>() {
            return self.workload_by_ip(ip).ok_or_else(|| NotFound { message: format!("no pod in the manifests has the address {ip}") });
        }
        if let Some(w) = self.engine.find_workload(from) {
            return Ok(w);
        }
        if !from.contains('/') {
            let all: Vec<usize> = self.engine.workloads.iter().enumerate().filter(|(_, w)| w.owner.name == from).map(|(i, _)| i).collect();
            match all.as_slice() {
                [one] => return Ok(*one),
                [] => {}
                many => {
                    let names: Vec<String> = many.iter().map(|&w| self.workload_name(w)).collect();
                    return Err(NotFound { message: format!("`{from}` is ambiguous: {}; name it as namespace/name", names.join(", ")) });
                }
            }
        }
        self.workload_by_pod_name(from).ok_or_else(|| self.not_found("workload or pod", from))
    }

    /// DST as the client would address it: a DNS name (`db`, `db.prod`,
    /// `db.prod.svc.cluster.local`) is a Service first; `ns/name` a workload first; an IP
    /// a pod or an outside address.
    fn find_target(&self, to: &str, src: usize) -> Result<Target<'c>, NotFound> {
        if let Ok(ip) = to.parse::<IpAddr>() {
            return Ok(self.workload_by_ip(ip).map_or(Target::Address(ip), Target::Workload));
        }
        let service = |ns: &str, name: &str| self.cluster.services.iter().find(|s| s.namespace == ns && s.name == name);
        if let Some((ns, name)) = to.split_once('/') {
            if let Some(w) = self.engine.find_workload(to).or_else(|| self.workload_by_pod_name(to)) {
                return Ok(Target::Workload(w));
            }
            let name = name.split('[').next().unwrap_or(name);
            return service(ns, name)
                .map(|service| Target::Service { service, other_namespace: false })
                .ok_or_else(|| self.not_found("workload or Service", to));
        }
        let trimmed = to.trim_end_matches('.');
        let trimmed = trimmed.strip_suffix(".cluster.local").unwrap_or(trimmed);
        let trimmed = trimmed.strip_suffix(".svc").unwrap_or(trimmed);
        let client_ns = self.namespace_of(src).to_string();
        let (name, ns) = trimmed.split_once('.').map_or((trimmed, None), |(n, ns)| (n, Some(ns)));
        if let Some(service) = service(ns.unwrap_or(&client_ns), name) {
            return Ok(Target::Service { service, other_namespace: false });
        }
        if ns.is_none() {
            if let Some(w) = self.engine.find_workload(&format!("{client_ns}/{name}")) {
                return Ok(Target::Workload(w));
            }
            let elsewhere: Vec<&Service> = self.cluster.services.iter().filter(|s| s.name == name).collect();
            if let [service] = elsewhere.as_slice() {
                return Ok(Target::Service { service, other_namespace: true });
            }
        }
        if let Some(w) = ns.and_then(|ns| self.engine.find_workload(&format!("{ns}/{name}"))) {
            return Ok(Target::Workload(w));
        }
        Err(self.not_found("Service or workload", to))
    }

    /// Workloads a Service's selector picks, in its namespace.
    fn selected(&self, service: &Service) -> Vec<usize> {
        let Some(selector) = &service.selector else { return Vec::new() };
        let wanted = netdoctor_model::k8s::LabelSelector { match_labels: selector.clone(), match_expressions: Vec::new() };
        (0..self.engine.workloads.len())
            .filter(|&w| self.namespace_of(w) == service.namespace && netdoctor_engine::policy::matches(&wanted, &self.labels_of(w)))
            .collect()
    }

    /// Services in the workload's namespace that select it.
    fn services_of(&self, w: usize) -> Vec<&'c Service> {
        self.cluster.services.iter().filter(|s| s.selector.is_some() && self.selected(s).contains(&w)).collect()
    }

    fn subjects(&self, src: usize, target: &Target<'_>) -> Vec<String> {
        let mut out = vec![self.workload_name(src)];
        match target {
            Target::Workload(w) => out.push(self.workload_name(*w)),
            Target::Service { service, .. } => out.push(format!("{}/{}", service.namespace, service.name)),
            Target::Address(ip) => out.push(ip.to_string()),
        }
        out
    }

    /// Layer 1: both ends exist; a Service selects pods and maps the port onto a
    /// container port. Returns the pods the flow lands on.
    fn attachment(&self, step: &mut Step, src: usize, target: &Target<'_>) -> Vec<Backend> {
        step.set(Status::Pass, format!("{} exists{}", self.workload_name(src), self.workload_origin(src)));
        let asked = self.port.and_then(|p| p.port());
        match target {
            Target::Address(ip) => {
                step.evidence.push(format!("{ip} is not the address of any pod read: treated as outside the cluster"));
                Vec::new()
            }
            Target::Workload(w) => {
                step.evidence.push(format!("{} exists{}", self.workload_name(*w), self.workload_origin(*w)));
                let services = self.services_of(*w);
                if services.is_empty() {
                    step.evidence.push(format!("no Service selects {}: it is reachable only by pod IP", self.workload_name(*w)));
                } else {
                    let names: Vec<String> = services.iter().map(|s| format!("{}.{}", s.name, s.namespace)).collect();
                    step.evidence.push(format!("selected by Service {}", names.join(", ")));
                }
                if let (Some((protocol, port)), Some(class)) = (asked, self.class_of(*w).and_then(|c| self.engine.classes.get(c))) {
                    if !class.ports.is_empty() && !class.ports.iter().any(|cp| cp.port == port && cp.protocol == protocol) {
                        step.evidence.push(format!("{} declares no container port {protocol}/{port}", self.workload_name(*w)));
                    }
                }
                vec![Backend { workload: *w, port: asked.map(|(_, port)| port) }]
            }
            Target::Service { service, .. } => self.service_backends(step, service),
        }
    }

    fn service_backends(&self, step: &mut Step, service: &Service) -> Vec<Backend> {
        let name = format!("{}/{}", service.namespace, service.name);
        if service.service_type == ServiceType::ExternalName {
            let alias = service.external_name.as_deref().unwrap_or("?");
            step.set(
                Status::Unknown,
                format!("Service {name} is an ExternalName alias of {alias}: the destination is outside the cluster"),
            );
            return Vec::new();
        }
        let Some(selector) = &service.selector else {
            step.set(Status::Unknown, format!("Service {name} has no selector: its endpoints are managed by hand and were not read"));
            return Vec::new();
        };
        let selected = self.selected(service);
        if selected.is_empty() {
            let wanted = show_labels(selector);
            let mut evidence =
                format!("Service {name}{} selects {wanted}, which no pod in namespace {} carries", at(&service.origin), service.namespace);
            let closest = self.closest_workload(&service.namespace, selector);
            let fix = match closest {
                Some((w, unmet)) => {
                    evidence.push_str(&format!("; closest: {} ({})", self.workload_name(w), unmet.join(", ")));
                    format!(
                        "make the selector of Service {name} match the pod labels of {}{}, or fix the labels on its pod template",
                        self.workload_name(w),
                        self.workload_origin(w)
                    )
                }
                None => format!("deploy the pods Service {name} is for, or fix its selector ({wanted})"),
            };
            step.fail(evidence, fix);
            return Vec::new();
        }
        let names: Vec<String> = selected.iter().map(|&w| self.workload_name(w)).collect();
        step.evidence.push(format!("Service {name}{} selects {}", at(&service.origin), names.join(", ")));
        let Some(conn) = self.port else {
            return selected.into_iter().map(|workload| Backend { workload, port: None }).collect();
        };
        let Some((protocol, asked)) = conn.port() else {
            step.fail(
                format!(
                    "Service {name} forwards only its ports: ICMP sent to its ClusterIP does not reach the pods (kube-proxy in iptables mode does not answer it; in IPVS mode the node answers, not a pod)"
                ),
                format!("ping a pod of the Service by its own address (`why` with {} as the destination), or ask about one of the Service's ports", names.join(" or ")),
            );
            return Vec::new();
        };
        let Some(sp) = service.ports.iter().find(|p| p.port == asked && p.protocol == protocol) else {
            let has: Vec<String> = service.ports.iter().map(|p| format!("{}/{}", p.protocol, p.port)).collect();
            step.fail(
                format!("Service {name} has no port {conn} (it has {})", if has.is_empty() { "none".into() } else { has.join(", ") }),
                format!("connect to one of the Service's ports, or add {conn} to Service {name}{}", at(&service.origin)),
            );
            return Vec::new();
        };
        let target = sp.target_port.clone().unwrap_or(PortRef::Number(sp.port));
        let mut backends = Vec::new();
        for w in selected {
            let class = self.class_of(w).and_then(|c| self.engine.classes.get(c));
            let port = match &target {
                PortRef::Number(n) => Some(*n),
                PortRef::Name(port_name) => class
                    .and_then(|c| c.ports.iter().find(|cp| cp.name.as_deref() == Some(port_name.as_str()) && cp.protocol == sp.protocol))
                    .map(|cp| cp.port),
            };
            match port {
                Some(p) => backends.push(Backend { workload: w, port: Some(p) }),
                None => {
                    let declared: Vec<String> = class
                        .map(|c| {
                            c.ports.iter().map(|cp| format!("{}={}/{}", cp.name.as_deref().unwrap_or("-"), cp.port, cp.protocol)).collect()
                        })
                        .unwrap_or_default();
                    step.fail(
                        format!(
                            "Service {name} port {} sends to targetPort `{target}`, which {} does not declare (it declares {})",
                            sp.port,
                            self.workload_name(w),
                            if declared.is_empty() { "no ports".into() } else { declared.join(", ") }
                        ),
                        format!(
                            "name the container port `{target}` in {}{}, or set the Service's targetPort to the number",
                            self.workload_name(w),
                            self.workload_origin(w)
                        ),
                    );
                }
            }
        }
        if let Some(b) = backends.first() {
            if let Some(p) = b.port.filter(|p| *p != asked) {
                step.evidence.push(format!("service port {asked} goes to container port {p}"));
            }
        }
        backends
    }

    /// The workload of `namespace` whose labels miss the fewest requirements of `selector`.
    fn closest_workload(&self, namespace: &str, selector: &Labels) -> Option<(usize, Vec<String>)> {
        let wanted = netdoctor_model::k8s::LabelSelector { match_labels: selector.clone(), match_expressions: Vec::new() };
        (0..self.engine.workloads.len())
            .filter(|&w| self.namespace_of(w) == namespace)
            .map(|w| (w, unmet_requirements(&wanted, &self.labels_of(w))))
            .filter(|(_, unmet)| unmet.len() < selector.len().max(1) || selector.len() == 1)
            .min_by_key(|(w, unmet)| (unmet.len(), *w))
    }

    /// Layer 3: the name resolves from the client's namespace, and the client may reach
    /// the cluster DNS on UDP (and TCP) 53.
    fn dns(&self, step: &mut Step, src: usize, target: &Target<'_>, to: &str) {
        let name = match target {
            Target::Address(_) => return step.set(Status::Skip, "the destination is an address: no lookup"),
            Target::Workload(w) => match self.services_of(*w).first() {
                Some(s) if to.contains('/') => {
                    return step.set(
                        Status::Skip,
                        format!(
                            "named as a workload; its DNS name would be {}.{}.{CLUSTER_DOMAIN} (Service {})",
                            s.name, s.namespace, s.name
                        ),
                    );
                }
                Some(s) => format!("{}.{}.{CLUSTER_DOMAIN}", s.name, s.namespace),
                None => return step.set(Status::Skip, "no Service selects the destination, so it has no DNS name to look up"),
            },
            Target::Service { service, other_namespace } => {
                if *other_namespace {
                    let client_ns = self.namespace_of(src);
                    step.fail(
                        format!(
                            "`{to}` looked up from namespace {client_ns} means {to}.{client_ns}.{CLUSTER_DOMAIN}, which does not exist; the Service is in namespace {}",
                            service.namespace
                        ),
                        format!("use the name {}.{} (or {}.{}.{CLUSTER_DOMAIN})", service.name, service.namespace, service.name, service.namespace),
                    );
                }
                format!("{}.{}.{CLUSTER_DOMAIN}", service.name, service.namespace)
            }
        };
        if step.status != Status::Fail {
            step.set(Status::Pass, format!("{name} is a Service name the cluster DNS answers"));
        }
        self.dns_reach(step, src);
    }

    /// Whether the client's policies (and the DNS pods') let it query cluster DNS.
    fn dns_reach(&self, step: &mut Step, src: usize) {
        let with_dns = with_cluster_dns(self.cluster);
        let stand_in = matches!(with_dns, std::borrow::Cow::Owned(_));
        let built;
        let engine = if stand_in {
            built = PolicyEngine::new(&with_dns, self.engine.options);
            &built
        } else {
            self.engine
        };
        let src_name = self.workload_name(src);
        let Some(src_class) = engine.find_workload(&src_name).and_then(|w| engine.workloads.get(w)).map(|w| w.class) else { return };
        let access = engine.dns_access(src_class);
        let dns_pods = format!("the cluster DNS pods ({CLUSTER_DNS_NAMESPACE}, {}={})", CLUSTER_DNS_LABEL.0, CLUSTER_DNS_LABEL.1);
        let assumed = if stand_in { " (not in the manifests; assumed as every distribution deploys them)" } else { "" };
        if access.complete() {
            step.evidence.push(format!("{src_name} may query {dns_pods}{assumed} on UDP and TCP 53"));
            return;
        }
        let egress = engine.policies_selecting(src_class, PolicyType::Egress);
        let isolating = self.policy_names(&egress);
        let snippet = format!(
            "add this egress rule to {}:\n  - to:\n    - namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {CLUSTER_DNS_NAMESPACE}}}}}\n      podSelector: {{matchLabels: {{{}: {}}}}}\n    ports:\n    - {{protocol: UDP, port: 53}}\n    - {{protocol: TCP, port: 53}}",
            isolating.first().map_or("a NetworkPolicy selecting the client", String::as_str),
            CLUSTER_DNS_LABEL.0,
            CLUSTER_DNS_LABEL.1
        );
        let side = if egress.is_empty() {
            format!("the ingress policies of {dns_pods}")
        } else {
            format!("egress policies {}", isolating.join(", "))
        };
        if !access.udp {
            step.fail(format!("{src_name} cannot query {dns_pods}{assumed}: {side} allow no UDP 53 to them, so no name resolves"), snippet);
            step.rules.push("ND303");
        } else {
            step.evidence.push(format!(
                "{src_name} may query DNS over UDP but not TCP 53 ({side}): answers too large for UDP (truncated) will fail"
            ));
            step.rules.push("ND303");
        }
    }

    /// `ns/name (file:line)` for NetworkPolicies, `AdminNetworkPolicy name (…)` for admin ones.
    fn policy_names(&self, policies: &[PolicyRef]) -> Vec<String> {
        policies.iter().map(|p| self.policy_name(*p)).collect()
    }

    fn policy_name(&self, p: PolicyRef) -> String {
        match p.tier {
            PolicyTier::Network => self
                .cluster
                .network_policies
                .get(p.index)
                .map(|np| format!("NetworkPolicy {}{}", np.full_name(), at(&np.origin)))
                .unwrap_or_default(),
            PolicyTier::Admin | PolicyTier::Baseline => self
                .cluster
                .admin_policies
                .get(p.index)
                .map(|ap| {
                    let kind = if p.tier == PolicyTier::Admin { "AdminNetworkPolicy" } else { "BaselineAdminNetworkPolicy" };
                    format!("{kind} {}{}", ap.name, at(&ap.origin))
                })
                .unwrap_or_default(),
            PolicyTier::Calico => self
                .cluster
                .calico_policies
                .get(p.index)
                .map(|cp| format!("{} (tier {}){}", cp.display_name(), cp.tier, at(&cp.origin)))
                .unwrap_or_default(),
            PolicyTier::Cilium => {
                self.cluster.cilium_policies.get(p.index).map(|cp| format!("{}{}", cp.display_name(), at(&cp.origin))).unwrap_or_default()
            }
        }
    }

    fn rule_origin(&self, p: PolicyRef, rule: usize, direction: PolicyType) -> String {
        self.rule_origin_of(p, rule, direction, AdminAction::Allow)
    }

    /// ` N (file:line)` of a rule; `action` tells a Cilium deny rule from an allow rule.
    fn rule_origin_of(&self, p: PolicyRef, rule: usize, direction: PolicyType, action: AdminAction) -> String {
        match p.tier {
            PolicyTier::Network => {
                let np = self.cluster.network_policies.get(p.index);
                let rules = np.map(|np| if direction == PolicyType::Ingress { &np.ingress } else { &np.egress });
                rules.and_then(|r| r.get(rule)).map(|r| at(&r.origin)).unwrap_or_default()
            }
            PolicyTier::Cilium => {
                // Rules are numbered within their section; a policy with several `specs`
                // is pointed at by the first section long enough.
                let Some(cp) = self.cluster.cilium_policies.get(p.index) else { return String::new() };
                let section = |r: &netdoctor_model::cilium::CiliumRule| match (direction, action) {
                    (PolicyType::Ingress, AdminAction::Deny) => r.ingress_deny.clone(),
                    (PolicyType::Ingress, _) => r.ingress.clone(),
                    (PolicyType::Egress, AdminAction::Deny) => r.egress_deny.clone(),
                    (PolicyType::Egress, _) => r.egress.clone(),
                };
                cp.rules.iter().find_map(|r| section(r).and_then(|list| list.get(rule).map(|x| at(&x.origin)))).unwrap_or_default()
            }
            PolicyTier::Calico => {
                let cp = self.cluster.calico_policies.get(p.index);
                let rules = cp.map(|cp| if direction == PolicyType::Ingress { &cp.ingress } else { &cp.egress });
                rules.and_then(|r| r.get(rule)).map(|r| at(&r.origin)).unwrap_or_default()
            }
            _ => {
                let ap = self.cluster.admin_policies.get(p.index);
                let rules = ap.map(|ap| if direction == PolicyType::Ingress { &ap.ingress } else { &ap.egress });
                rules.and_then(|r| r.get(rule)).map(|r| format!(" `{}`{}", r.name, at(&r.origin))).unwrap_or_default()
            }
        }
    }

    /// Layer 4: egress at the client and ingress at each backend, on the backend's port.
    fn policy(&self, step: &mut Step, src: usize, target: &Target<'_>, backends: &[Backend]) {
        let Some(src_class) = self.class_of(src) else {
            return step.set(Status::Unknown, "the source workload has no pod class (see layer 1)");
        };
        let Some(asked) = self.port else {
            return step.set(Status::Unknown, "no port given: policies decide per port; ask with --port tcp/N (or --port icmp)");
        };
        let ends: Vec<(Endpoint, Option<ClassId>, String, PortSpec)> = match target {
            Target::Address(ip) => match self.external(*ip) {
                Some(e) => vec![(e, None, ip.to_string(), asked)],
                None => return step.set(Status::Unknown, format!("{ip} is an IPv6 address; ipBlock evaluation covers IPv4")),
            },
            _ if backends.is_empty() => return step.set(Status::Skip, "no pod to reach (see layer 1)"),
            _ => backends
                .iter()
                .filter_map(|b| {
                    let class = self.class_of(b.workload)?;
                    Some((Endpoint::Class(class), Some(class), self.workload_name(b.workload), b.port.map_or(asked, |n| asked.on_port(n))))
                })
                .collect(),
        };
        step.status = Status::Pass;
        let mut uncertain: Vec<&Uncertainty> = Vec::new();
        for (dst, dst_class, dst_name, conn) in ends {
            uncertain.extend(self.engine.uncertain_on(Endpoint::Class(src_class), dst, conn));
            let egress = self.engine.trace(src_class, dst, PolicyType::Egress, dst_class, conn);
            let leg = Leg { src, dst, dst_class, dst_name: &dst_name, conn };
            self.direction(step, &egress, &leg);
            if let Some(d) = dst_class {
                let ingress = self.engine.trace(d, Endpoint::Class(src_class), PolicyType::Ingress, Some(d), conn);
                self.direction(step, &ingress, &leg);
            }
        }
        unevaluated(step, uncertain);
        if step.status == Status::Fail {
            step.rules.push("ND401");
        }
    }

    /// The outside range an address falls into, as the engine partitions them.
    fn external(&self, ip: IpAddr) -> Option<Endpoint> {
        let IpAddr::V4(v4) = ip else { return None };
        let range = self.engine.egress_ips.part_of(v4).unwrap_or_else(|| netdoctor_engine::policy::Ipv4Range::single(v4));
        Some(Endpoint::External(range))
    }

    fn direction(&self, step: &mut Step, trace: &DirectionTrace, leg: &Leg<'_>) {
        let Leg { src, dst_name, conn, .. } = *leg;
        let src_name = self.workload_name(src);
        let (side, subject) = match trace.direction {
            PolicyType::Egress => ("egress", src_name.clone()),
            PolicyType::Ingress => ("ingress", dst_name.to_string()),
        };
        let what = conn.to_string();
        if trace.applying.is_empty() {
            step.evidence.push(format!("{side} of {subject}: no policy selects it, so everything is allowed"));
            return;
        }
        if trace.allowed {
            let by: Vec<String> = trace
                .deciding
                .iter()
                .filter(|r| r.action != AdminAction::Pass)
                .map(|r| {
                    format!(
                        "{} {side} rule {}{}",
                        self.policy_name(r.policy),
                        r.rule + 1,
                        self.rule_origin(r.policy, r.rule, trace.direction)
                    )
                })
                .collect();
            let by = if by.is_empty() { "no rule denies it".to_string() } else { format!("allowed by {}", by.join("; ")) };
            step.evidence.push(format!("{side} of {subject} on {what}: {by}"));
            return;
        }
        let deciding = trace.deciding.iter().find(|r| r.action == AdminAction::Deny);
        if let Some(rule) = deciding {
            let tier_note = if rule.policy.tier == PolicyTier::Admin {
                "; AdminNetworkPolicies come before NetworkPolicies, which cannot override this"
            } else {
                ""
            };
            step.fail(
                format!(
                    "{side} of {subject} on {what} is denied by {} rule{}{tier_note}",
                    self.policy_name(rule.policy),
                    match rule.policy.tier {
                        // Calico's and Cilium's rules have no names: their number says which.
                        PolicyTier::Calico | PolicyTier::Cilium => {
                            format!(" {}{}", rule.rule + 1, self.rule_origin_of(rule.policy, rule.rule, trace.direction, rule.action))
                        }
                        _ => self.rule_origin_of(rule.policy, rule.rule, trace.direction, rule.action),
                    }
                ),
                match rule.policy.tier {
                    PolicyTier::Cilium => "Cilium deny rules win over every allow rule: narrow that deny rule (its peers or `toPorts`) so it leaves this flow out".to_string(),
                    PolicyTier::Admin => "ask a cluster admin to add an Allow (or Pass) rule for this flow ahead of that rule, with a lower priority number or earlier in the policy".to_string(),
                    PolicyTier::Calico => format!(
                        "in that policy, put this rule before rule {} (or give a policy with it a lower `order` in the same tier):\n  {}",
                        rule.rule + 1,
                        self.calico_allow_rule(trace.direction, leg)
                    ),
                    _ => format!("a NetworkPolicy selecting {subject} that allows this flow overrides the baseline's deny"),
                },
            );
            return;
        }
        if let Some(tier) = &trace.denied_at_end_of {
            let in_tier: Vec<PolicyRef> =
                trace.applying.iter().copied().filter(|p| self.policy_tier_name(*p) == Some(tier.as_str())).collect();
            // The first CNI policy of the tier takes the new rule, in its own syntax.
            let cni = in_tier.iter().copied().find(|p| matches!(p.tier, PolicyTier::Cilium | PolicyTier::Calico));
            if let Some(first) = cni {
                let peer = match trace.direction {
                    PolicyType::Egress => format!("traffic to {dst_name}"),
                    PolicyType::Ingress => format!("traffic from {src_name}"),
                };
                let (why, rule) = if first.tier == PolicyTier::Cilium {
                    (
                        "which puts it in default deny, and no allow rule (of those or of a NetworkPolicy) allows".to_string(),
                        self.cilium_allow_rule(trace.direction, leg).replace('\n', "\n  "),
                    )
                } else {
                    (format!("and no rule of Calico tier `{tier}` allows"), self.calico_allow_rule(trace.direction, leg))
                };
                let evidence = format!(
                    "{side} of {subject} on {what} is denied: {} {} it, {why} {peer} on {what}",
                    self.policy_names(&in_tier).join(", "),
                    if in_tier.len() == 1 { "selects" } else { "select" },
                );
                step.fail(evidence, format!("add this rule to {}:\n  {rule}", self.policy_name(first)));
                return;
            }
        }
        let isolating: Vec<PolicyRef> = trace.applying.iter().copied().filter(|p| p.tier == PolicyTier::Network).collect();
        let names = self.policy_names(&isolating);
        let evidence = format!(
            "{side} of {subject} on {what} is denied: it is isolated by {} and no rule allows {} on {what}",
            names.join(", "),
            match trace.direction {
                PolicyType::Egress => format!("traffic to {dst_name}"),
                PolicyType::Ingress => format!("traffic from {src_name}"),
            }
        );
        let (reason, fix) = self.smallest_change(trace.direction, &isolating, leg);
        step.fail(evidence, fix);
        if let Some(reason) = reason {
            step.evidence.insert(1, reason);
        }
    }

    /// The nearest miss among the rules of the isolating policies, and the change that
    /// would allow the flow: fix the one requirement that fails, or add a rule.
    fn smallest_change(&self, direction: PolicyType, isolating: &[PolicyRef], leg: &Leg<'_>) -> (Option<String>, String) {
        let Leg { src, dst, dst_class, dst_name, conn } = *leg;
        // The other end: who the rules must match.
        let (peer_ns, peer_labels, peer_name) = match direction {
            PolicyType::Egress => match dst {
                Endpoint::Class(_) => {
                    let w = self.engine.workloads.iter().position(|w| Some(w.class) == dst_class);
                    let (ns, labels) = w.map(|w| (self.namespace_of(w).to_string(), self.labels_of(w))).unwrap_or_default();
                    (Some(ns), labels, dst_name.to_string())
                }
                Endpoint::External(_) => (None, Labels::new(), dst_name.to_string()),
            },
            PolicyType::Ingress => (Some(self.namespace_of(src).to_string()), self.labels_of(src), self.workload_name(src)),
        };
        let dst_ports = dst_class.and_then(|c| self.engine.classes.get(c)).map(|c| c.ports.clone()).unwrap_or_default();
        let mut best: Option<(usize, String, String)> = None;
        for policy in isolating {
            let Some(np) = self.cluster.network_policies.get(policy.index) else { continue };
            let rules = if direction == PolicyType::Ingress { &np.ingress } else { &np.egress };
            for (i, rule) in rules.iter().enumerate() {
                let place = format!("{} {} rule {}{}", self.policy_name(*policy), direction_word(direction), i + 1, at(&rule.origin));
                let peer = PeerSide { namespace: peer_ns.as_deref(), labels: &peer_labels, name: &peer_name };
                let near = self.near_miss(rule, &np.namespace, &peer, leg, &dst_ports);
                if let Some((misses, reason, fix)) = near {
                    if best.as_ref().is_none_or(|(m, _, _)| misses < *m) {
                        best = Some((misses, format!("nearest rule: {place} {reason}"), fix));
                    }
                }
            }
        }
        if let Some((_, reason, fix)) = best {
            return (Some(reason), fix);
        }
        let Some(first) = isolating.first().and_then(|p| self.cluster.network_policies.get(p.index)) else {
            return (None, "add a NetworkPolicy rule allowing this flow".into());
        };
        let (key, peer) = match direction {
            PolicyType::Ingress => ("from", self.peer_snippet(peer_ns.as_deref(), &peer_labels, dst)),
            PolicyType::Egress => ("to", self.peer_snippet(peer_ns.as_deref(), &peer_labels, dst)),
        };
        let empty = if (direction == PolicyType::Ingress && first.ingress.is_empty())
            || (direction == PolicyType::Egress && first.egress.is_empty())
        {
            format!(" (it has no {} rules: it denies everything)", direction_word(direction))
        } else {
            String::new()
        };
        // NetworkPolicy has no ICMP: only a rule that names no ports allows it.
        let ports = match conn {
            PortSpec::Port(protocol, port) => format!("\n    ports:\n    - {{protocol: {}, port: {port}}}", protocol_name(protocol)),
            PortSpec::Icmp { .. } => String::new(),
        };
        let icmp_note =
            if ports.is_empty() { " (NetworkPolicy cannot name ICMP: a rule without `ports` allows it, and every port too)" } else { "" };
        let fix = format!(
            "add this {} rule to NetworkPolicy {}{}{empty}{icmp_note}:\n  - {key}:\n    - {peer}{ports}",
            direction_word(direction),
            first.full_name(),
            at(&first.origin),
        );
        (None, fix)
    }

    /// The tier a policy is evaluated in, in a cluster evaluated in tiers.
    fn policy_tier_name(&self, p: PolicyRef) -> Option<&str> {
        match p.tier {
            PolicyTier::Calico => self.cluster.calico_policies.get(p.index).map(|cp| cp.tier.as_str()),
            PolicyTier::Network if self.cluster.calico_policies.is_empty() => Some(netdoctor_engine::policy::CILIUM_ALLOW_TIER),
            PolicyTier::Network => Some(netdoctor_model::calico_policy::DEFAULT_TIER),
            PolicyTier::Cilium => Some(netdoctor_engine::policy::CILIUM_ALLOW_TIER),
            _ => None,
        }
    }

    /// The destination pod's labels and namespace, when DST is a pod.
    fn destination_pod(&self, dst: Endpoint, dst_class: Option<ClassId>) -> Option<(&Labels, &str)> {
        let class = dst_class.and_then(|c| self.engine.classes.get(c)).filter(|_| matches!(dst, Endpoint::Class(_)))?;
        Some((&class.labels, self.engine.namespaces.get(class.namespace).map_or("", |n| n.name.as_str())))
    }

    /// A Cilium rule allowing this flow: the peer by labels and namespace (or address),
    /// the destination port.
    fn cilium_allow_rule(&self, direction: PolicyType, leg: &Leg<'_>) -> String {
        let Leg { src, dst, dst_class, conn, .. } = *leg;
        let endpoints = |labels: &Labels, ns: &str| {
            let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            pairs.push(format!("{}: {ns}", netdoctor_engine::policy::POD_NAMESPACE_LABEL));
            format!("[{{matchLabels: {{{}}}}}]", pairs.join(", "))
        };
        let ports = match conn {
            PortSpec::Port(protocol, port) => {
                format!("toPorts: [{{ports: [{{port: \"{port}\", protocol: {}}}]}}]", protocol_name(protocol))
            }
            PortSpec::Icmp { icmp_type, .. } => format!("icmps: [{{fields: [{{type: {icmp_type}, family: IPv4}}]}}]"),
        };
        match direction {
            PolicyType::Ingress => {
                format!("ingress:\n  - fromEndpoints: {}\n    {ports}", endpoints(&self.labels_of(src), self.namespace_of(src)))
            }
            PolicyType::Egress => {
                let peer = match self.destination_pod(dst, dst_class) {
                    Some((labels, ns)) => format!("toEndpoints: {}", endpoints(labels, ns)),
                    None => format!("toCIDR: [{}/32]", self.address.map_or_else(|| "0.0.0.0".to_string(), |a| a.to_string())),
                };
                format!("egress:\n  - {peer}\n    {ports}")
            }
        }
    }

    /// A Calico rule allowing this flow, in the policy's own syntax: the peer by its
    /// labels and namespace (or by address), the destination port.
    fn calico_allow_rule(&self, direction: PolicyType, leg: &Leg<'_>) -> String {
        let Leg { src, dst, dst_class, conn, .. } = *leg;
        let selector = |labels: &Labels, ns: &str| {
            let terms: Vec<String> = labels.iter().map(|(k, v)| format!("{k} == '{v}'")).collect();
            let pods = if terms.is_empty() { "all()".to_string() } else { terms.join(" && ") };
            format!("selector: \"{pods}\", namespaceSelector: \"projectcalico.org/name == '{ns}'\"")
        };
        // What the rule matches besides the peer: the protocol and, on the destination
        // side, its port (ICMP: the type and code instead).
        let (what, dst_ports) = match conn {
            PortSpec::Port(protocol, port) => (format!("protocol: {}", protocol_name(protocol)), format!("ports: [{port}]")),
            PortSpec::Icmp { icmp_type, code } => (format!("protocol: ICMP, icmp: {{type: {icmp_type}, code: {code}}}"), String::new()),
        };
        match direction {
            PolicyType::Ingress => {
                let dst_ports = if dst_ports.is_empty() { dst_ports } else { format!(", destination: {{{dst_ports}}}") };
                format!("- {{action: Allow, {what}, source: {{{}}}{dst_ports}}}", selector(&self.labels_of(src), self.namespace_of(src)))
            }
            PolicyType::Egress => {
                let peer = match self.destination_pod(dst, dst_class) {
                    Some((labels, ns)) => selector(labels, ns),
                    None => match self.address {
                        Some(addr) => format!("nets: [{addr}/32]"),
                        None => "nets: [0.0.0.0/0]".into(),
                    },
                };
                let dst_ports = if dst_ports.is_empty() { dst_ports } else { format!(", {dst_ports}") };
                format!("- {{action: Allow, {what}, destination: {{{peer}{dst_ports}}}}}")
            }
        }
    }

    fn peer_snippet(&self, ns: Option<&str>, labels: &Labels, dst: Endpoint) -> String {
        match (ns, dst) {
            (Some(ns), _) => {
                let pod: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!(
                    "namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}}}\n      podSelector: {{matchLabels: {{{}}}}}",
                    pod.join(", ")
                )
            }
            (None, Endpoint::External(_)) => match self.address {
                Some(addr) => format!("ipBlock: {{cidr: {addr}/32}}"),
                None => "ipBlock: {cidr: 0.0.0.0/0}".into(),
            },
            (None, Endpoint::Class(_)) => "podSelector: {}".into(),
        }
    }

    /// How close one rule comes to allowing the flow: the number of things to change,
    /// what fails, and the fix. `None` when the rule is far off (several requirements).
    fn near_miss(
        &self,
        rule: &PolicyRule,
        policy_ns: &str,
        peer: &PeerSide<'_>,
        leg: &Leg<'_>,
        dst_ports: &[netdoctor_model::k8s::ContainerPort],
    ) -> Option<(usize, String, String)> {
        let PeerSide { namespace: peer_ns, labels: peer_labels, name: peer_name } = *peer;
        let Leg { dst, dst_name, conn, .. } = *leg;
        // Ports first: does any port entry cover the port on this destination?
        let port_miss = if rule.ports.is_empty() {
            None
        } else if let PortSpec::Icmp { .. } = conn {
            Some((
                "names ports, and NetworkPolicy allows ICMP only in a rule without `ports`".to_string(),
                "add a rule with the same peers and no `ports` (it allows ICMP, and every port too)".to_string(),
            ))
        } else if let Some((protocol, port)) = conn.port() {
            let covered = rule.ports.iter().any(|p| {
                p.protocol == protocol
                    && match &p.port {
                        None => true,
                        Some(PortRef::Number(n)) => (*n..=p.end_port.unwrap_or(*n)).contains(&port),
                        Some(PortRef::Name(name)) => dst_ports
                            .iter()
                            .any(|cp| cp.name.as_deref() == Some(name.as_str()) && cp.protocol == protocol && cp.port == port),
                    }
            });
            if covered {
                None
            } else {
                let named = rule.ports.iter().find_map(|p| match &p.port {
                    Some(PortRef::Name(name))
                        if p.protocol == protocol && !dst_ports.iter().any(|cp| cp.name.as_deref() == Some(name.as_str())) =>
                    {
                        Some(name.clone())
                    }
                    _ => None,
                });
                Some(match named {
                    Some(name) => {
                        let declared: Vec<String> = dst_ports
                            .iter()
                            .map(|cp| format!("{}={}/{}", cp.name.as_deref().unwrap_or("-"), cp.port, cp.protocol))
                            .collect();
                        (
                            format!(
                                "names port `{name}`, which {dst_name} does not declare (it declares {})",
                                if declared.is_empty() { "no ports".into() } else { declared.join(", ") }
                            ),
                            format!(
                                "declare the container port as `name: {name}` in {dst_name}, or use the number {port} in the rule's ports"
                            ),
                        )
                    }
                    None => {
                        let has: Vec<String> = rule
                            .ports
                            .iter()
                            .map(|p| format!("{}/{}", p.protocol, p.port.as_ref().map_or("*".into(), |p| p.to_string())))
                            .collect();
                        (
                            format!("allows only {}", has.join(", ")),
                            format!("add {{protocol: {}, port: {port}}} to the rule's ports", protocol_name(protocol)),
                        )
                    }
                })
            }
        } else {
            None
        };
        // Peers: the closest single peer entry.
        let mut peer_miss: Option<(usize, String, String)> = None;
        if !rule.peers.is_empty() {
            for peer in &rule.peers {
                let miss = self.peer_miss(peer, policy_ns, peer_ns, peer_labels, peer_name, dst);
                match miss {
                    None => {
                        peer_miss = None;
                        break;
                    }
                    Some(m) if peer_miss.as_ref().is_none_or(|p| m.0 < p.0) => peer_miss = Some(m),
                    Some(_) => {}
                }
            }
        }
        match (peer_miss, port_miss) {
            (None, None) => None,
            (None, Some((reason, fix))) => Some((1, reason, fix)),
            (Some((n, reason, fix)), None) => Some((n, reason, fix)),
            (Some((1, r1, f1)), Some((r2, f2))) => Some((2, format!("{r1}, and {r2}"), format!("{f1}, and {f2}"))),
            (Some(_), Some(_)) => None,
        }
    }

    fn peer_miss(
        &self,
        peer: &PolicyPeer,
        policy_ns: &str,
        peer_ns: Option<&str>,
        peer_labels: &Labels,
        peer_name: &str,
        dst: Endpoint,
    ) -> Option<(usize, String, String)> {
        match peer {
            PolicyPeer::IpBlock { block, origin } => {
                let (Endpoint::External(_), Some(addr)) = (dst, self.address) else {
                    return Some((3, "matches addresses only".into(), String::new()));
                };
                ip_block_miss(block, addr, origin)
            }
            PolicyPeer::Pods { namespace_selector, pod_selector, origin } => {
                let Some(ns) = peer_ns else {
                    return Some((3, "matches pods only".into(), String::new()));
                };
                let mut reasons = Vec::new();
                let mut fixes = Vec::new();
                let mut misses = 0;
                match namespace_selector {
                    None if ns != policy_ns => {
                        misses += 1;
                        reasons
                            .push(format!("matches pods of namespace {policy_ns} only (no namespaceSelector), but {peer_name} is in {ns}"));
                        fixes.push(format!(
                            "add `namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}}}` beside the podSelector{}",
                            at(origin)
                        ));
                    }
                    None => {}
                    Some(sel) => {
                        let unmet = unmet_requirements(sel, &self.namespace_labels(ns));
                        if !unmet.is_empty() {
                            misses += unmet.len();
                            reasons.push(format!("wants namespaces with {}; namespace {ns} does not match", unmet.join(", ")));
                            let labels: Vec<String> = sel.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                            fixes.push(if labels.is_empty() {
                                format!("change the namespaceSelector{} so it matches namespace {ns}", at(origin))
                            } else {
                                format!("label the namespace: `kubectl label namespace {ns} {}` (and in its manifest)", labels.join(" "))
                            });
                        }
                    }
                }
                if let Some(sel) = pod_selector {
                    let unmet = unmet_requirements(sel, peer_labels);
                    if !unmet.is_empty() {
                        misses += unmet.len();
                        reasons.push(format!("wants pods with {}; {peer_name} does not match", unmet.join(", ")));
                        let labels: Vec<String> = sel.match_labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                        fixes.push(if labels.is_empty() {
                            format!("change the podSelector{} so it matches {peer_name}", at(origin))
                        } else {
                            format!(
                                "set the labels {} on the pod template of {peer_name}, or change the rule's podSelector{} to its labels",
                                labels.join(", "),
                                at(origin)
                            )
                        });
                    }
                }
                (misses > 0).then(|| (misses, reasons.join("; "), fixes.join("; ")))
            }
        }
    }

    /// Layer 6: whether the destination declares the port (declarations are
    /// informational, so a missing one is unknown, not a failure).
    fn listener(&self, backends: &[Backend]) -> super::Listener {
        let Some(conn) = self.port else {
            return super::Listener { status: Status::Unknown, evidence: vec!["no port given".into()], fix: None };
        };
        let Some((protocol, _)) = conn.port() else {
            return super::Listener { status: Status::Skip, evidence: vec![super::icmp_listener_note(conn)], fix: None };
        };
        let mut evidence = Vec::new();
        let mut all = !backends.is_empty();
        for b in backends {
            let declared = self
                .class_of(b.workload)
                .and_then(|c| self.engine.classes.get(c))
                .is_some_and(|c| c.ports.iter().any(|cp| Some(cp.port) == b.port && cp.protocol == protocol));
            let port = b.port.map_or("?".into(), |p| p.to_string());
            if declared {
                evidence.push(format!("{} declares container port {port}/{protocol}", self.workload_name(b.workload)));
            } else {
                all = false;
                evidence.push(format!(
                    "{} does not declare container port {port}/{protocol}: whether it listens is not in the manifests",
                    self.workload_name(b.workload)
                ));
            }
        }
        if backends.is_empty() {
            evidence.push("no pod to listen (see the layers above)".into());
        }
        super::Listener { status: if all { Status::Pass } else { Status::Unknown }, evidence, fix: None }
    }
}

/// Names a typo away: one edit (a swap counts as one), two for longer names.
/// Policies that are not evaluated but can change the flow: an allowed flow becomes
/// unknown, and so does a denied one unless every such policy can only refuse traffic.
fn unevaluated(step: &mut Step, mut uncertain: Vec<&Uncertainty>) {
    uncertain.sort_by(|a, b| a.what.cmp(&b.what));
    uncertain.dedup_by(|a, b| a.what == b.what && a.reason == b.reason);
    if uncertain.is_empty() {
        return;
    }
    let can_allow = uncertain.iter().any(|u| !u.restricts_only);
    let names: Vec<String> = uncertain.iter().map(|u| format!("{}{}", u.what, at(&u.origin))).collect();
    let reasons = uncertain.iter().map(|u| format!("{}: {}", u.what, u.reason));
    let lead =
        |verdict: &str| format!("the evaluated policies {verdict} it, but what is not evaluated can change that: {}", names.join(", "));
    match step.status {
        Status::Pass => {
            step.status = Status::Unknown;
            step.evidence.insert(0, lead("allow"));
            let names: Vec<&str> = uncertain.iter().map(|u| u.what.as_str()).collect();
            step.fix = Some(format!("read {} to see whether it refuses this flow, or test it live with --probe", names.join(", ")));
        }
        Status::Fail if can_allow => {
            step.status = Status::Unknown;
            step.evidence.insert(0, lead("deny"));
        }
        _ => {}
    }
    step.evidence.extend(reasons);
}

fn is_close(candidate: &str, wanted: &str) -> bool {
    strsim::osa_distance(candidate, wanted) <= if wanted.len() >= 6 { 2 } else { 1 }
}

fn direction_word(d: PolicyType) -> &'static str {
    match d {
        PolicyType::Ingress => "ingress",
        PolicyType::Egress => "egress",
    }
}

/// Why an ipBlock misses an outside address: outside the CIDR, or in an `except`.
fn ip_block_miss(block: &IpBlock, addr: std::net::Ipv4Addr, origin: &Origin) -> Option<(usize, String, String)> {
    let ip = IpAddr::V4(addr);
    if !block.cidr.contains(&ip) {
        return Some((
            1,
            format!("allows ipBlock {}, which does not contain {addr}", block.cidr),
            format!("add `- ipBlock: {{cidr: {addr}/32}}` to the rule's peers{}", at(origin)),
        ));
    }
    let except = block.except.iter().find(|e| e.contains(&ip))?;
    Some((
        1,
        format!("allows ipBlock {} but its except {except} covers {addr}", block.cidr),
        format!(
            "narrow the except {except} of that ipBlock{} so it leaves out {addr}, or add `- ipBlock: {{cidr: {addr}/32}}` as another peer",
            at(origin)
        ),
    ))
}

/// Cites the findings about this pair (or either end alone) that belong to the step's layer.
fn cite(step: &mut Step, findings: &[Diagnostic], subjects: &[String]) {
    for f in findings {
        let Some(family) = f.id.as_bytes().get(2).map(|d| d - b'0') else { continue };
        if family != step.layer || step.rules.contains(&f.id) {
            continue;
        }
        if f.subjects.iter().any(|s| subjects.contains(s)) {
            step.rules.push(f.id);
        }
    }
}

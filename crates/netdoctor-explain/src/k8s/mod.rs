//! `netdoctor why SRC DST --port P PATH` over Kubernetes objects, one file per layer
//! (`attachment`, `node` for layers 2 and 5, `dns`, `policy`, `listener`): layer 1 (do both
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
mod attachment;
mod controller;
mod dns;
mod listener;
mod node;
mod outside;
mod policy;

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
    src: Source,
    dst: Endpoint,
    dst_class: Option<ClassId>,
    dst_name: &'a str,
    /// The connection as it arrives at this destination (a Service port mapped to
    /// the container port).
    conn: PortSpec,
}

/// Where a flow starts: a workload of the cluster, or a client outside it.
#[derive(Clone, Copy, Debug)]
enum Source {
    Workload(usize),
    Outside(std::net::Ipv4Addr),
}

/// The end of a flow a policy's rules must match: its namespace (none outside the
/// cluster), labels and name.
#[derive(Clone, Copy)]
struct PeerSide<'a> {
    namespace: Option<&'a str>,
    labels: &'a Labels,
    name: &'a str,
    /// That end as the engine sees it (a pod class, or the outside range of an address).
    end: Endpoint,
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
    let mut walk = K8sWalk { engine, cluster: &cx.model.k8s, port, address: None, client_name: None };
    if controller::is_ingress_controller(from) {
        return walk.walk_from_ingress_controller(findings, (from, to));
    }
    if let Some((client, name)) = controller::named_client(&walk, from)? {
        walk.client_name = Some(name);
        return walk.walk_from_outside(findings, (from, to), client);
    }
    if let Some(net) = outside::client_network(from) {
        return walk.walk_from_network(findings, (from, to), net);
    }
    if let Some(client) = outside::outside_client(&walk, from) {
        return walk.walk_from_outside(findings, (from, to), client);
    }
    let src = walk.find_source(from)?;
    if let Some(net) = outside::client_network(to) {
        return walk.walk_to_network(cx, findings, (from, to), src, net);
    }
    // A node or the API server as DST: the address it is reached at.
    let named_dst = controller::named_client(&walk, to)?;
    let target = match &named_dst {
        Some((ip, _)) => walk.find_target(&ip.to_string(), src)?,
        None => walk.find_target(to, src)?,
    };
    let mut why = walk.walk_pair(cx, findings, (from, to), src, target);
    if let (Some((_, name)), Some(first)) = (&named_dst, why.steps.first_mut()) {
        first.evidence.insert(0, format!("{to} is {name}"));
    }
    Ok(why)
}

impl<'c> K8sWalk<'_, 'c> {
    /// The layers from workload `src` to `target`.
    fn walk_pair(
        &mut self,
        cx: &RuleContext<'_>,
        findings: &[Diagnostic],
        (from, to): (&str, &str),
        src: usize,
        target: Target<'c>,
    ) -> Why {
        if let Target::Address(IpAddr::V4(v4)) = target {
            self.address = Some(v4);
        }
        let mut steps = Why::layers();
        let mut backends = Vec::new();
        if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
            backends = self.attachment(s1, src, &target);
            self.dns(s3, src, &target, to);
            self.policy(s4, src, &target, &backends);
            match cx.analysis.host.as_ref() {
                Some(_) => self.node(cx, [s2, s5], src, &target, &backends),
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
            cite(step, findings, &self.subjects(src, &target));
        }
        let listener = self.listener(&backends);
        Why::settled((from, to), self.port, steps, listener, None)
    }

    /// The layers from `src` to every address of `net`: the policies split the network
    /// into ranges that each get one answer; when they differ, the walk shown is a denied
    /// range's, and the first layer says which ranges get which answer.
    fn walk_to_network(
        &mut self,
        cx: &RuleContext<'_>,
        findings: &[Diagnostic],
        (from, to): (&str, &str),
        src: usize,
        net: ipnet::Ipv4Net,
    ) -> Result<Why, NotFound> {
        let ranges = outside::split(&self.engine.egress_ips, net);
        let mut walked = Vec::new();
        for r in &ranges {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(r.start));
            let target = self.find_target(&ip.to_string(), src)?;
            walked.push((*r, self.walk_pair(cx, findings, (from, to), src, target)));
        }
        outside::one_answer(walked, net)
    }
}

struct K8sWalk<'e, 'c> {
    engine: &'e PolicyEngine<'c>,
    cluster: &'c Cluster,
    port: Option<PortSpec>,
    /// DST, when it is an outside IPv4 address.
    address: Option<std::net::Ipv4Addr>,
    /// What FROM named, when a client outside the pod network was named rather than
    /// given by address: `node node-a (10.0.0.5)`.
    client_name: Option<String>,
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
    /// A flow's source as a person reads it: `ns/name[Kind]`, or the outside address.
    fn source_name(&self, src: Source) -> String {
        match src {
            Source::Workload(w) => self.workload_name(w),
            Source::Outside(ip) => ip.to_string(),
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
        // The closest first (the full name as typed against `ns/name`), five at most.
        close.sort_by_key(|c| (strsim::osa_distance(c, wanted), c.clone()));
        close.dedup();
        close
    }

    fn not_found(&self, what: &str, name: &str) -> NotFound {
        let mut close = self.close_names(name);
        let more = close.len().saturating_sub(MAX_SUGGESTIONS);
        close.truncate(MAX_SUGGESTIONS);
        let message = match (close.is_empty(), more) {
            (true, _) => {
                format!("no {what} is called `{name}` in the manifests; name it as namespace/name (e.g. prod/web), a pod name, or a pod IP")
            }
            (false, 0) => format!("no {what} is called `{name}`; did you mean {}?", close.join(", ")),
            (false, more) => format!("no {what} is called `{name}`; did you mean {}? ({more} other names are close too)", close.join(", ")),
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
}

/// Names a typo away: one edit (a swap counts as one), two for longer names.
/// Names offered for a name that matches nothing.
const MAX_SUGGESTIONS: usize = 5;

fn is_close(candidate: &str, wanted: &str) -> bool {
    strsim::osa_distance(candidate, wanted) <= if wanted.len() >= 6 { 2 } else { 1 }
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

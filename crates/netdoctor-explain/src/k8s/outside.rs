//! `why` from a client outside the cluster (an address on the internet, in the VPC, a
//! node): how it gets in (a pod address, or a Service exposed as NodePort or
//! LoadBalancer; a ClusterIP is not reachable from outside), and the ingress policies of
//! the pods it lands on, evaluated against the client's address (ipBlocks and their
//! `except`s, admin policies' networks, Calico nets, Cilium CIDRs and entities).

use super::policy::unevaluated;
use super::*;
use crate::Verdict;
use netdoctor_engine::policy::Ipv4Range;

/// The client, when FROM is an IPv4 address (or a /32) that no pod of the manifests has.
pub(super) fn outside_client(walk: &K8sWalk<'_, '_>, from: &str) -> Option<std::net::Ipv4Addr> {
    let ip = from.parse::<std::net::Ipv4Addr>().ok().or_else(|| from.parse::<ipnet::Ipv4Net>().ok().map(|n| n.network()))?;
    walk.workload_by_ip(IpAddr::V4(ip)).is_none().then_some(ip)
}

/// The most ranges of a CIDR client walked one by one.
const MAX_CLIENT_RANGES: usize = 64;

/// FROM as a network of several addresses (`203.0.113.0/24`).
pub(super) fn client_network(from: &str) -> Option<ipnet::Ipv4Net> {
    from.parse::<ipnet::Ipv4Net>().ok().filter(|n| n.prefix_len() < 32)
}

/// The ranges of `net` the policies' address partition splits it into (at most
/// `MAX_CLIENT_RANGES`).
pub(super) fn split(partition: &netdoctor_engine::policy::Ipv4Partition, net: ipnet::Ipv4Net) -> Vec<Ipv4Range> {
    let whole = Ipv4Range { start: u32::from(net.network()), end: u32::from(net.broadcast()) };
    partition
        .parts()
        .iter()
        .filter(|p| p.end >= whole.start && p.start <= whole.end)
        .map(|p| Ipv4Range { start: p.start.max(whole.start), end: p.end.min(whole.end) })
        .take(MAX_CLIENT_RANGES)
        .collect()
}

/// One answer for a network walked range by range: the first denied range's walk (or
/// the first's), with a note in layer 1 on which ranges get which answer.
pub(super) fn one_answer(mut walked: Vec<(Ipv4Range, Why)>, net: ipnet::Ipv4Net) -> Result<Why, NotFound> {
    let show = |r: &Ipv4Range| {
        let (a, b) = (std::net::Ipv4Addr::from(r.start), std::net::Ipv4Addr::from(r.end));
        if a == b {
            a.to_string()
        } else {
            format!("{a}–{b}")
        }
    };
    let shown = walked.iter().position(|(_, w)| w.verdict == Verdict::Denied).unwrap_or(0);
    let answers: Vec<String> = walked.iter().map(|(r, w)| format!("{} {}", show(r), w.verdict.as_str())).collect();
    let same = walked.iter().all(|(_, w)| walked.first().is_some_and(|(_, f)| f.verdict == w.verdict));
    let Some((range, mut why)) = (shown < walked.len()).then(|| walked.swap_remove(shown)) else {
        return Err(NotFound { message: format!("{net} holds no address to ask about") });
    };
    let note = if same {
        format!("every address of {net} gets the same answer (the policies split it into {} range(s), each walked)", answers.len())
    } else {
        format!("{net} gets different answers: {}; the layers below are for {}", answers.join(", "), show(&range))
    };
    if let Some(first) = why.steps.first_mut() {
        first.evidence.insert(0, note);
    }
    Ok(why)
}

impl<'c> K8sWalk<'_, 'c> {
    /// The layers for every client of `net` reaching `to`: the policies split the
    /// network into ranges that each get one answer; when they differ, the walk shown is
    /// a denied range's, and the first layer says which ranges get which answer.
    pub(super) fn walk_from_network(
        &mut self,
        findings: &[Diagnostic],
        (from, to): (&str, &str),
        net: ipnet::Ipv4Net,
    ) -> Result<Why, NotFound> {
        let mut walked = Vec::new();
        for r in split(&self.engine.ingress_ips, net) {
            walked.push((r, self.walk_from_outside(findings, (from, to), std::net::Ipv4Addr::from(r.start))?));
        }
        one_answer(walked, net)
    }

    /// The layers for `client` reaching `to`.
    pub(super) fn walk_from_outside(
        &mut self,
        findings: &[Diagnostic],
        (from, to): (&str, &str),
        client: std::net::Ipv4Addr,
    ) -> Result<Why, NotFound> {
        self.address = Some(client);
        let target = self.find_target_from_outside(to)?;
        let mut steps = Why::layers();
        let mut backends = Vec::new();
        if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
            let translated;
            (backends, translated) = self.entry(s1, client, &target);
            s2.set(Status::Skip, "routes from outside the cluster to it are not part of manifests");
            match &self.client_name {
                Some(name) => s3.set(
                    Status::Skip,
                    format!("{name} is asked about as a client by address: the lookup it makes, if any, is not in the manifests"),
                ),
                None => s3.set(
                    Status::Skip,
                    format!("{client} is asked about by address: a client outside the cluster looks up no cluster names"),
                ),
            }
            self.ingress_from_outside(s4, client, &backends, translated);
            s5.set(Status::Skip, "the nodes' firewalls are not part of manifests (`--host` on a node checks them)");
        }
        let subjects = match &target {
            Target::Workload(w) => vec![self.workload_name(*w)],
            Target::Service { service, .. } => vec![format!("{}/{}", service.namespace, service.name)],
            Target::Address(ip) => vec![ip.to_string()],
        };
        for step in &mut steps {
            cite(step, findings, &subjects);
        }
        let listener = self.listener(&backends);
        Ok(Why::settled((from, to), self.port, steps, listener, None))
    }

    /// DST for a client outside the cluster: `namespace/name` (a workload or a Service),
    /// `name.namespace` (a Service), or a pod's address. It has no namespace to resolve a
    /// bare name in.
    pub(super) fn find_target_from_outside(&self, to: &str) -> Result<Target<'c>, NotFound> {
        if let Ok(ip) = to.parse::<IpAddr>() {
            return match self.workload_by_ip(ip) {
                Some(w) => Ok(Target::Workload(w)),
                None => Err(NotFound {
                    message: format!("neither end is a pod of the manifests: `why` follows flows that reach the cluster; name DST as namespace/name or a pod's address (not {ip})"),
                }),
            };
        }
        if !to.contains('/') && !to.trim_end_matches('.').contains('.') {
            return Err(NotFound {
                message: format!(
                    "a client outside the cluster has no namespace to look `{to}` up in: name it as namespace/name (a workload or a Service) or name.namespace"
                ),
            });
        }
        if self.engine.workloads.is_empty() {
            return Err(self.not_found("workload or Service", to));
        }
        // A qualified name resolves the same from any namespace: the first workload's will do.
        self.find_target(to, 0)
    }

    /// Layer 1 from outside: a pod is reached at its own address; a Service only when it
    /// is exposed outside (NodePort, LoadBalancer). Returns the pods the flow lands on,
    /// and whether the client's address is replaced on the way (externalTrafficPolicy:
    /// Cluster).
    fn entry(&self, step: &mut Step, client: std::net::Ipv4Addr, target: &Target<'_>) -> (Vec<Backend>, bool) {
        match &self.client_name {
            Some(name) => step.set(Status::Pass, format!("{name} is outside the pod network: it reaches pods from its own address")),
            None => step.set(Status::Pass, format!("{client} is outside the cluster: no pod of the manifests has this address")),
        }
        match target {
            Target::Workload(w) => {
                step.evidence.push(format!("{} exists{}", self.workload_name(*w), self.workload_origin(*w)));
                step.evidence.push(if self.client_name.is_some() {
                    "reached at its pod address: nodes route to the pod network".into()
                } else {
                    "reached at its pod address: only where the pod network is routed to from outside (most clusters route it only inside)"
                        .into()
                });
                (vec![Backend { workload: *w, port: self.port.and_then(|p| p.port()).map(|(_, n)| n) }], false)
            }
            Target::Service { service, .. } => {
                let name = format!("{}/{}", service.namespace, service.name);
                match service.service_type {
                    ServiceType::NodePort | ServiceType::LoadBalancer => {
                        let how = if service.service_type == ServiceType::NodePort { "a NodePort" } else { "a LoadBalancer" };
                        step.evidence.push(format!("Service {name}{} is {how}: reachable from outside the cluster", at(&service.origin)));
                        let backends = self.service_backends(step, service);
                        (backends, !service.external_traffic_local)
                    }
                    ServiceType::ExternalName => {
                        step.fail(
                            format!(
                                "Service {name}{} is an ExternalName alias: nothing in the cluster answers for it",
                                at(&service.origin)
                            ),
                            "ask about the service it aliases directly",
                        );
                        (Vec::new(), false)
                    }
                    ServiceType::ClusterIP => {
                        step.fail(
                            format!(
                                "Service {name}{} is {}: its address is reachable only inside the cluster",
                                at(&service.origin),
                                if service.headless { "headless" } else { "a ClusterIP" }
                            ),
                            format!(
                                "expose it outside: `type: LoadBalancer` or `type: NodePort` in Service {name}, or route to it through an Ingress"
                            ),
                        );
                        (Vec::new(), false)
                    }
                }
            }
            Target::Address(_) => (Vec::new(), false),
        }
    }

    /// Layer 4 from outside: the ingress policies of each pod the flow lands on, with the
    /// client's address as the source. With `translated`, the pods see a node's address
    /// instead, which rules naming the client do not match.
    fn ingress_from_outside(&self, step: &mut Step, client: std::net::Ipv4Addr, backends: &[Backend], translated: bool) {
        let Some(asked) = self.port else {
            return step.set(Status::Unknown, "no port given: policies decide per port; ask with --port tcp/N (or --port icmp)");
        };
        if backends.is_empty() {
            return step.set(Status::Skip, "no pod to reach (see layer 1)");
        }
        let src = self.outside_source(client);
        step.status = Status::Pass;
        let mut uncertain: Vec<&Uncertainty> = Vec::new();
        let mut selected = false;
        for b in backends {
            let Some(d) = self.class_of(b.workload) else { continue };
            let conn = b.port.map_or(asked, |n| asked.on_port(n));
            let dst_name = self.workload_name(b.workload);
            uncertain.extend(self.engine.uncertain_on(src, Endpoint::Class(d), conn));
            let ingress = self.engine.trace(d, src, PolicyType::Ingress, Some(d), conn);
            selected |= !ingress.applying.is_empty();
            let leg = Leg { src: Source::Outside(client), dst: Endpoint::Class(d), dst_class: Some(d), dst_name: &dst_name, conn };
            self.direction(step, &ingress, &leg);
        }
        unevaluated(step, uncertain);
        if let Some(name) = self.client_name.as_ref().filter(|_| step.status == Status::Fail) {
            // Traffic from a node is the host's: how policies meet it is the CNI's choice.
            step.status = Status::Unknown;
            step.evidence.insert(
                0,
                format!("{name} sends from the host network: NetworkPolicy never blocks a pod's own node, and whether rules meet other nodes' addresses depends on the CNI (Calico matches them in ipBlocks; Cilium sees them as the `remote-node` entity unless `policy-cidr-match-mode` includes nodes), so the denial below holds only where the CNI matches node addresses"),
            );
        }
        if translated && selected && step.status != Status::Skip {
            step.status = Status::Unknown;
            step.evidence.insert(
                0,
                format!("the Service has externalTrafficPolicy: Cluster, so the pods see a node's address rather than {client}: the policies below meet that address, which the manifests do not give"),
            );
            step.fix = Some(
                "set `externalTrafficPolicy: Local` on the Service to keep the client's address (or allow the nodes' addresses)".into(),
            );
        }
        if step.status == Status::Fail {
            step.rules.push("ND401");
        }
    }
}

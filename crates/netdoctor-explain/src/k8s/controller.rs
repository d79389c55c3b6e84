//! `why` from the special peers users name: the ingress controller (`{ingress-controller}`),
//! a node (by its name), and the API server (`kube-apiserver`).
//!
//! The ingress controller reaches a workload when an Ingress or Route sends to it; its
//! pods' namespace and labels are not in the manifests unless the controller itself is,
//! so a policy rule that admits some namespaces or addresses makes the verdict unknown,
//! not denied. A node and the API server are clients outside the pod network, found by
//! their addresses (a Node's, the `kubernetes` Service's endpoints).

use super::*;

/// Whether FROM names the ingress controller.
pub(super) fn is_ingress_controller(from: &str) -> bool {
    matches!(from, "{ingress-controller}" | "ingress-controller")
}

/// The `app.kubernetes.io/name` (or `app`) of common ingress controllers' pods.
const CONTROLLER_NAMES: &[&str] =
    &["ingress-nginx", "nginx-ingress", "traefik", "haproxy-ingress", "kubernetes-ingress", "contour", "kong", "emissary-ingress"];

/// A client outside the pod network that FROM names: a node of the manifests (by name),
/// or `kube-apiserver`. `Ok(None)` when FROM names neither.
pub(super) fn named_client(walk: &K8sWalk<'_, '_>, from: &str) -> Result<Option<(std::net::Ipv4Addr, String)>, NotFound> {
    let v4 = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => Some(*v4),
        IpAddr::V6(_) => None,
    };
    if let Some(node) = walk.cluster.nodes.iter().find(|n| n.name == from) {
        return match node.addresses.iter().find_map(v4) {
            Some(ip) => Ok(Some((ip, format!("node {} ({ip})", node.name)))),
            None => Err(NotFound { message: format!("node {from} has no IPv4 address in the manifests: name it by its address instead") }),
        };
    }
    if from != "kube-apiserver" {
        return Ok(None);
    }
    let endpoint = walk
        .cluster
        .endpoints_of("default", "kubernetes")
        .flat_map(|e| e.ready_addresses())
        .find_map(|a| a.ip.as_ref().and_then(v4))
        .map(|ip| (ip, format!("the API server ({ip}, an endpoint of Service default/kubernetes)")));
    let control_plane = || {
        let node = walk.cluster.nodes.iter().find(|n| n.labels.contains_key("node-role.kubernetes.io/control-plane"))?;
        let ip = node.addresses.iter().find_map(v4)?;
        Some((ip, format!("the API server ({ip}, the address of control-plane node {})", node.name)))
    };
    match endpoint.or_else(control_plane) {
        Some(found) => Ok(Some(found)),
        None => Err(NotFound {
            message: "the API server's address is not in the manifests (no endpoints of Service default/kubernetes, no control-plane Node): name it by its address instead".into(),
        }),
    }
}

impl<'c> K8sWalk<'_, 'c> {
    /// The ingress controller's own workload, when the manifests hold it.
    fn controller_workload(&self) -> Option<usize> {
        (0..self.engine.workloads.len()).find(|&w| {
            let labels = self.labels_of(w);
            ["app.kubernetes.io/name", "app"].iter().any(|k| labels.get(*k).is_some_and(|v| CONTROLLER_NAMES.contains(&v.as_str())))
                && labels.get("app.kubernetes.io/component").is_none_or(|c| c == "controller")
        })
    }

    /// The layers for the ingress controller reaching `to`.
    pub(super) fn walk_from_ingress_controller(&mut self, findings: &[Diagnostic], (from, to): (&str, &str)) -> Result<Why, NotFound> {
        let target = self.find_target_from_outside(to)?;
        let controller = self.controller_workload();
        let mut steps = Why::layers();
        let mut backends = Vec::new();
        if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
            backends = self.exposed(s1, &target);
            s2.set(Status::Skip, "the controller sends to the pods' own addresses (the Service's endpoints) over the pod network");
            s3.set(Status::Skip, "the controller reads the Service's endpoints from the API: no DNS lookup");
            match controller {
                Some(w) => {
                    s4.evidence.push(format!(
                        "the ingress controller of the manifests is {}{}",
                        self.workload_name(w),
                        self.workload_origin(w)
                    ));
                    self.policy(s4, w, &target, &backends);
                }
                None => self.ingress_from_controller(s4, &backends),
            }
            s5.set(Status::Skip, "the CNI and node firewalls are not part of manifests (`--host` on a node checks them)");
        }
        let subjects: Vec<String> = backends.iter().map(|b| self.workload_name(b.workload)).collect();
        for step in &mut steps {
            cite(step, findings, &subjects);
        }
        let listener = self.listener(&backends);
        Ok(Why::settled((from, to), self.port, steps, listener, None))
    }

    /// Layer 1 from the controller: an Ingress or Route sends to the destination's pods,
    /// on the port asked.
    fn exposed(&self, step: &mut Step, target: &Target<'_>) -> Vec<Backend> {
        let wanted: Vec<usize> = match target {
            Target::Workload(w) => vec![*w],
            Target::Service { service, .. } => self.selected(service),
            Target::Address(_) => Vec::new(),
        };
        let (exposures, _) = self.engine.exposures();
        let mut backends = Vec::new();
        step.status = Status::Pass;
        for w in wanted {
            let name = self.workload_name(w);
            let Some(exposure) = exposures.iter().find(|e| e.workload == w) else {
                step.fail(
                    format!("no Ingress or Route sends traffic to {name}"),
                    format!("add an Ingress (or a Route) whose backend is a Service selecting {name}"),
                );
                continue;
            };
            let via: Vec<String> = exposure.via.iter().map(|(kind, n)| format!("{kind:?} {n}")).collect();
            match self.port {
                Some(asked) if !exposure.conns.allows(asked) => step.fail(
                    format!("{} send to {name} on {}, not on {}", via.join(", "), exposure.conns, asked),
                    format!("point the backend of {} at the Service port that leads to {asked}", via.join(", ")),
                ),
                _ => step.evidence.push(format!("{} send to {name} on {}", via.join(", "), exposure.conns)),
            }
            backends.push(Backend { workload: w, port: self.port.and_then(|p| p.port()).map(|(_, n)| n) });
        }
        if backends.is_empty() && step.status == Status::Pass {
            step.fail(format!("{} selects no pod of the manifests", show_target(target)), "see `netdoctor check` (ND111)");
        }
        backends
    }

    /// Layer 4 from an ingress controller the manifests do not hold: the destination's
    /// ingress policies against a stand-in with no labels in a namespace of its own. A
    /// rule that admits some namespaces or addresses might admit the real controller.
    fn ingress_from_controller(&self, step: &mut Step, backends: &[Backend]) {
        let Some(asked) = self.port else {
            return step.set(Status::Unknown, "no port given: policies decide per port; ask with --port tcp/N");
        };
        let Some(stand_in) = self.engine.ingress_controller else {
            return step.set(Status::Skip, "no Ingress or Route: nothing is sent by an ingress controller (see layer 1)");
        };
        if backends.is_empty() {
            return step.set(Status::Skip, "no pod to reach (see layer 1)");
        }
        step.status = Status::Pass;
        step.evidence.push(
            "the ingress controller's pods are not in the manifests: its namespace and labels are unknown, so only rules that admit every source, or none, decide".into(),
        );
        for b in backends {
            let Some(d) = self.class_of(b.workload) else { continue };
            let conn = b.port.map_or(asked, |n| asked.on_port(n));
            let name = self.workload_name(b.workload);
            let ingress = self.engine.trace(d, Endpoint::Class(stand_in), PolicyType::Ingress, Some(d), conn);
            let isolating = self.policy_names(&ingress.applying);
            if ingress.applying.is_empty() {
                step.evidence.push(format!("ingress of {name}: no policy selects it, so everything is allowed"));
                continue;
            }
            if ingress.allowed {
                step.evidence.push(format!("ingress of {name} on {conn}: a rule of {} admits every source", isolating.join(", ")));
                continue;
            }
            // Rules that admit pods of other namespaces, or addresses, may admit the controller.
            let maybe: Vec<String> = ingress
                .applying
                .iter()
                .filter(|p| p.tier == PolicyTier::Network)
                .filter_map(|p| self.cluster.network_policies.get(p.index))
                .flat_map(|np| np.ingress.iter().map(move |r| (np, r)))
                .filter(|(_, r)| {
                    r.peers.iter().any(|peer| match peer {
                        PolicyPeer::Pods { namespace_selector, .. } => namespace_selector.as_ref().is_some_and(|s| !s.is_empty()),
                        PolicyPeer::IpBlock { .. } => true,
                    })
                })
                .map(|(np, r)| format!("NetworkPolicy {}/{}{}", np.namespace, np.name, at(&r.origin)))
                .collect();
            let admin = ingress.applying.iter().any(|p| p.tier != PolicyTier::Network);
            if !maybe.is_empty() || admin {
                step.set(
                    Status::Unknown,
                    format!(
                        "ingress of {name} on {conn} depends on where the ingress controller runs: {} admit{} some namespaces or addresses, which its pods may be in",
                        if maybe.is_empty() { isolating.join(", ") } else { maybe.join(", ") },
                        if maybe.len() == 1 { "s" } else { "" }
                    ),
                );
                step.fix = Some(
                    "compare those rules with the controller's namespace labels (`kubectl get ns --show-labels`), or give the controller's manifests too".into(),
                );
                continue;
            }
            let port = match conn {
                PortSpec::Port(protocol, n) => format!("ports: [{{protocol: {}, port: {n}}}]", protocol_name(protocol)),
                PortSpec::Icmp { .. } => String::new(),
            };
            step.fail(
                format!("ingress of {name} on {conn} is denied: it is isolated by {} and no rule admits pods of another namespace", isolating.join(", ")),
                format!(
                    "add to {}: `- from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: <the controller's namespace, e.g. ingress-nginx>}}}}}}]` with {port}",
                    isolating.first().map_or("a NetworkPolicy selecting it", String::as_str)
                ),
            );
            step.rules.push("ND401");
        }
    }
}

/// DST as a person reads it.
fn show_target(target: &Target<'_>) -> String {
    match target {
        Target::Workload(_) => "the destination".into(),
        Target::Service { service, .. } => format!("Service {}/{}", service.namespace, service.name),
        Target::Address(ip) => ip.to_string(),
    }
}

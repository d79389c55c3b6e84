//! Layer 1: both ends exist; a Service selects pods and maps the port onto a container port.

use super::*;

impl K8sWalk<'_, '_> {
    /// Layer 1: both ends exist; a Service selects pods and maps the port onto a
    /// container port. Returns the pods the flow lands on.
    pub(super) fn attachment(&self, step: &mut Step, src: usize, target: &Target<'_>) -> Vec<Backend> {
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

    pub(super) fn service_backends(&self, step: &mut Step, service: &Service) -> Vec<Backend> {
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
    pub(super) fn closest_workload(&self, namespace: &str, selector: &Labels) -> Option<(usize, Vec<String>)> {
        let wanted = netdoctor_model::k8s::LabelSelector { match_labels: selector.clone(), match_expressions: Vec::new() };
        (0..self.engine.workloads.len())
            .filter(|&w| self.namespace_of(w) == namespace)
            .map(|w| (w, unmet_requirements(&wanted, &self.labels_of(w))))
            .filter(|(_, unmet)| unmet.len() < selector.len().max(1) || selector.len() == 1)
            .min_by_key(|(w, unmet)| (unmet.len(), *w))
    }
}

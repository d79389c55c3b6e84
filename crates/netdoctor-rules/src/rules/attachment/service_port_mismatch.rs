//! ND112: a Service `targetPort` that the selected pods do not declare.

use crate::prelude::*;
use crate::rules::k8s::{list_names, namespaces_with_pods};
use netdoctor_model::k8s::{LabelSelector, PortRef, ServiceType};

declare_rule! {
    /// ## What it checks
    /// Service `targetPort`s that the selected pods do not declare. Each port of a Service
    /// with a selector is compared with the container ports of the pods it selects: a named
    /// `targetPort` that no selected pod declares (with the port's protocol), and a numeric one that no selected pod declares when every selected pod
    /// lists its ports. A numeric `targetPort` on pods that list no ports is left alone:
    /// in Kubernetes the `ports` list of a container is informational, and a process may
    /// listen on any port.
    ///
    /// ## Why it matters
    /// A named `targetPort` that no pod declares gives the Service no endpoints for that
    /// port; a number the pods do not use sends traffic where nothing listens. Either way
    /// connections through the Service fail while the pods look healthy.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec: { selector: { app: web }, ports: [{ port: 80, targetPort: http }] }
    /// ---
    /// kind: Deployment
    /// spec: { template: { metadata: { labels: { app: web } },
    ///   spec: { containers: [{ name: web, ports: [{ name: web, containerPort: 8080 }] }] } } }
    /// ```
    ///
    /// ## Fix
    /// Set `targetPort` to a port name or number the selected containers declare, or name the container port as the Service expects.
    pub struct ServicePortMismatch => Error, "ND112";
}

impl Check for ServicePortMismatch {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        // The engine is built whenever Kubernetes objects were read.
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let k8s = &cx.model.k8s;
        let with_pods = namespaces_with_pods(k8s);
        for svc in &k8s.services {
            let Some(labels) = svc.selector.as_ref().filter(|s| !s.is_empty()) else { continue };
            if svc.service_type == ServiceType::ExternalName || !with_pods.contains(svc.namespace.as_str()) {
                continue;
            }
            let selector = LabelSelector::from_labels(labels.clone());
            let pods: Vec<_> = engine.pods_in(&svc.namespace).filter(|p| netdoctor_engine::policy::matches(&selector, &p.labels)).collect();
            if pods.is_empty() {
                continue; // ND111
            }
            let name = format!("{}/{}", svc.namespace, svc.name);
            let workloads = list_names(pods.iter().map(|p| p.workload_name()), 3);
            let mut declared: Vec<String> = pods
                .iter()
                .flat_map(|p| &p.ports)
                .map(|cp| cp.name.as_ref().map_or_else(|| cp.port.to_string(), |n| format!("{n} ({})", cp.port)))
                .collect();
            declared.sort();
            declared.dedup();
            let declared_text = if declared.is_empty() { "none".to_string() } else { declared.join(", ") };
            for port in &svc.ports {
                let target = port.target_port.clone().unwrap_or(PortRef::Number(port.port));
                match &target {
                    PortRef::Name(wanted) => {
                        let found =
                            pods.iter().flat_map(|p| &p.ports).any(|cp| cp.name.as_deref() == Some(wanted) && cp.protocol == port.protocol);
                        if found {
                            continue;
                        }
                        let names: Vec<&str> = pods.iter().flat_map(|p| &p.ports).filter_map(|cp| cp.name.as_deref()).collect();
                        let closest = names
                            .iter()
                            .min_by_key(|n| strsim::levenshtein(n, wanted))
                            .map(|n| format!(" (closest: `{n}`)"))
                            .unwrap_or_default();
                        out.report(
                            &port.origin,
                            format!("Service `{name}` port {} targets the port named `{wanted}`, which none of {workloads} declares for {}: the port has no endpoints (declared: {declared_text})", port.port, port.protocol.to_string().to_uppercase()),
                        )
                        .subjects([name.clone()])
                        .help(format!("set `targetPort` to a port the pods declare{closest}, or name their container port `{wanted}`"));
                    }
                    PortRef::Number(number) => {
                        let all_declare = pods.iter().all(|p| !p.ports.is_empty());
                        let found = pods.iter().flat_map(|p| &p.ports).any(|cp| cp.port == *number);
                        if !all_declare || found {
                            continue;
                        }
                        out.report(
                            &port.origin,
                            format!("Service `{name}` port {} sends traffic to port {number}, which none of {workloads} declares (declared: {declared_text}): most likely nothing listens there", port.port),
                        )
                        .subjects([name.clone()])
                        .help(format!("set `targetPort` to the port the container listens on (declared: {declared_text}), or declare {number} in the pod template if it is right"));
                    }
                }
            }
        }
    }
}

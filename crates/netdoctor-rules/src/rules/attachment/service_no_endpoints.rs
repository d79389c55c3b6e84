//! ND111: a Kubernetes Service whose selector matches no pod of its namespace.

use crate::prelude::*;
use crate::rules::dns::is_cluster_dns_service;
use crate::rules::k8s::{label_hint, list_names, mismatch_hint, namespaces_with_pods, pod_name, probable_maker};
use netdoctor_model::k8s::{LabelSelector, ServiceType};

declare_rule! {
    /// ## What it checks
    /// Services whose selector matches no pod of their namespace. Reported too: a selector
    /// matching only pods of other namespaces, or only workloads scaled to zero. Services without a selector (endpoints managed by hand) and `ExternalName` services
    /// are skipped, and so are namespaces of which the manifests hold no pod or workload
    /// at all (a tree of Services only says nothing about the pods), and Services whose
    /// Endpoints or EndpointSlices in the manifests list ready addresses. Where the
    /// namespace holds a custom resource whose name or kind the selector names (a
    /// Prometheus, an Alertmanager, a database cluster: an operator makes their pods), the
    /// finding is information, naming the resource.
    ///
    /// ## Why it matters
    /// The Service gets no endpoints: its name resolves and its ClusterIP exists, but every
    /// connection to it is refused or times out. A typo in a label is the usual cause.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// metadata: { name: api }
    /// spec: { selector: { app: apii }, ports: [{ port: 80 }] }
    /// ---
    /// kind: Deployment
    /// metadata: { name: api }
    /// spec: { template: { metadata: { labels: { app: api } } } }
    /// ```
    ///
    /// ## Fix
    /// Make the Service selector equal to labels the pod template carries (`app: api`), or label the pods.
    pub struct ServiceNoEndpoints => Error, "ND111";
}

impl Check for ServiceNoEndpoints {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        // The engine is built whenever Kubernetes objects were read.
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let k8s = &cx.model.k8s;
        let with_pods = namespaces_with_pods(k8s);
        for svc in &k8s.services {
            let Some(labels) = svc.selector.as_ref().filter(|s| !s.is_empty()) else { continue };
            // ND304 reports the cluster DNS Service.
            if svc.service_type == ServiceType::ExternalName || !with_pods.contains(svc.namespace.as_str()) || is_cluster_dns_service(svc) {
                continue;
            }
            // A dump that carries the Service's Endpoints/EndpointSlices with ready addresses
            // shows endpoints exist, whatever pods the manifests hold.
            if k8s.endpoints_of(&svc.namespace, &svc.name).any(|e| e.ready_addresses().next().is_some()) {
                continue;
            }
            let selector = LabelSelector::from_labels(labels.clone());
            let name = format!("{}/{}", svc.namespace, svc.name);
            let matched: Vec<_> =
                engine.pods_in(&svc.namespace).filter(|p| netdoctor_engine::policy::matches(&selector, &p.labels)).collect();
            if !matched.is_empty() {
                if matched.iter().all(|p| p.replicas == 0) {
                    let workloads = list_names(matched.iter().map(|p| p.workload_name()), 3);
                    out.report(
                        &svc.origin,
                        format!("Service `{name}` selects only {workloads}, scaled to 0 replicas: it has no endpoints"),
                    )
                    .subjects([name.clone()])
                    .help(format!("scale {workloads} up (`replicas: 1` or more), or remove the Service if it is no longer used"));
                }
                continue;
            }
            let elsewhere: Vec<String> = k8s
                .pods
                .iter()
                .filter(|p| p.namespace != svc.namespace && netdoctor_engine::policy::matches(&selector, &p.labels))
                .map(pod_name)
                .collect();
            if !elsewhere.is_empty() {
                let others = list_names(elsewhere, 3);
                out.report(
                    &svc.origin,
                    format!("Service `{name}` selects {selector}, which only pods of other namespaces carry ({others}): a Service selects pods of its own namespace only, so it has no endpoints"),
                )
                .subjects([name.clone()])
                .help(format!("create the Service in the namespace of {others}, or reach that Service as `<service>.<namespace>` from `{}`", svc.namespace));
                continue;
            }
            // Pods an operator makes from a custom resource are not in the manifests.
            if let Some(cr) = probable_maker(k8s, &svc.namespace, labels) {
                out.report(
                    &svc.origin,
                    format!(
                        "Service `{name}` selects {selector}, which no pod of the manifests carries; {} probably creates them (an operator makes its pods)",
                        cr.display_name()
                    ),
                )
                .severity(Severity::Info)
                .subjects([name.clone()])
                .help(format!(
                    "nothing to change if the operator for {}.{} runs in the cluster; otherwise install it, or deploy the pods the Service is for",
                    cr.kind, cr.group
                ));
                continue;
            }
            let candidates = engine.pods_in(&svc.namespace).map(|p| &p.labels);
            let hint = mismatch_hint(&selector, candidates.clone(), "pods").map(|h| format!(" ({h})")).unwrap_or_default();
            let help = match label_hint(&selector, candidates).filter(|h| h.is_typo()) {
                Some(h) => format!("change `{}` to `{}` in the selector of `{name}` (or label the pods `{}`)", h.asked, h.closest, h.asked),
                None => format!(
                    "change the selector of `{name}` to labels the pod template carries, or add {selector} to the pods it should reach"
                ),
            };
            out.report(
                &svc.origin,
                format!(
                    "Service `{name}` selects {selector}, which no pod in namespace `{}` carries: it has no endpoints{hint}",
                    svc.namespace
                ),
            )
            .subjects([name.clone()])
            .help(help);
        }
    }
}

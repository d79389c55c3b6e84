//! ND304: CoreDNS/kube-dns missing, scaled to zero, or its Service without endpoints.

use crate::prelude::*;
use crate::rules::k8s::{list_names, KUBE_SYSTEM};
use netdoctor_model::k8s::{LabelSelector, Pod, Service};

/// The label CoreDNS and kube-dns pods carry, and their Service selects.
const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// Whether `svc` is the cluster DNS Service (`kube-system/kube-dns`, or a kube-system
/// Service selecting the DNS pods' label).
pub(crate) fn is_cluster_dns_service(svc: &Service) -> bool {
    svc.namespace == KUBE_SYSTEM
        && (svc.name == "kube-dns" || svc.selector.as_ref().is_some_and(|s| s.get(DNS_LABEL.0).map(String::as_str) == Some(DNS_LABEL.1)))
}

fn is_dns_pod(pod: &Pod) -> bool {
    pod.namespace == KUBE_SYSTEM && pod.labels.get(DNS_LABEL.0).map(String::as_str) == Some(DNS_LABEL.1)
}

declare_rule! {
    /// ## What it checks
    /// Cluster DNS missing, scaled to zero or without endpoints, in manifests that look like
    /// a whole cluster (they hold workloads in `kube-system`). Reported: no CoreDNS/kube-dns workload (pods labelled `k8s-app: kube-dns`) nor `kube-dns`
    /// Service while other namespaces run workloads and kube-system Services were read
    /// (a dump of pods alone is not judged), a DNS Deployment scaled to `replicas: 0`, or a
    /// `kube-dns` Service whose selector matches none of the kube-system pods. Trees
    /// without kube-system workloads (an application's own manifests) are not judged.
    /// Readiness of a live cluster is not read yet.
    ///
    /// ## Why it matters
    /// Every pod with the default `dnsPolicy` sends its lookups to the `kube-dns`
    /// Service. Without endpoints behind it no service name resolves anywhere in the
    /// cluster, which looks like every application failing at once.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata: { name: coredns, namespace: kube-system }
    /// spec: { replicas: 0, template: { metadata: { labels: { k8s-app: kube-dns } } } }
    /// ```
    ///
    /// ## Fix
    /// Run CoreDNS with at least two replicas (`kubectl -n kube-system scale deployment coredns --replicas=2`) and keep the `kube-dns` Service selecting `k8s-app: kube-dns`.
    pub struct ClusterDnsUnhealthy => Error, "ND304";
}

impl Check for ClusterDnsUnhealthy {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let k8s = &cx.model.k8s;
        // Workloads in kube-system are the sign of a whole-cluster dump.
        let Some(first_system) = k8s.pods.iter().find(|p| p.namespace == KUBE_SYSTEM) else { return };
        // OpenShift runs its DNS in openshift-dns under another label.
        if k8s.pods.iter().any(|p| p.namespace == "openshift-dns") {
            return;
        }
        let dns_pods: Vec<&Pod> = k8s.pods.iter().filter(|p| is_dns_pod(p)).collect();
        let services: Vec<&Service> = k8s.services.iter().filter(|s| is_cluster_dns_service(s)).collect();
        let has_workloads = k8s.pods.iter().any(|p| p.namespace != KUBE_SYSTEM);
        // A dump of pods alone says nothing about DNS: only judge its absence when the
        // kube-system Services were read too (the kube-dns Service would be among them).
        let services_read = k8s.services.iter().any(|s| s.namespace == KUBE_SYSTEM);
        if dns_pods.is_empty() && services.is_empty() && has_workloads && services_read {
            out.report(
                &first_system.origin,
                "the manifests hold kube-system workloads but no CoreDNS/kube-dns (no pod labelled `k8s-app: kube-dns`): pods with the default dnsPolicy cannot resolve any name",
            )
            .subjects([KUBE_SYSTEM])
            .help("deploy CoreDNS in kube-system (the cluster installer's addon, e.g. `kubeadm init phase addon coredns`), labelled `k8s-app: kube-dns` and behind the `kube-dns` Service");
        }
        let scaled_down: Vec<&&Pod> = dns_pods.iter().filter(|p| p.replicas == 0).collect();
        for pod in &scaled_down {
            let name = pod.workload_name();
            out.report(&pod.origin, format!("cluster DNS `{name}` is scaled to 0 replicas: no name resolves in the cluster"))
                .subjects([format!("{}/{}", pod.namespace, pod.owner.name)])
                .help(format!(
                    "scale it up: `kubectl -n {} scale {} {} --replicas=2`",
                    pod.namespace,
                    pod.owner.kind.as_str().to_ascii_lowercase(),
                    pod.owner.name
                ));
        }
        for svc in services {
            let Some(labels) = svc.selector.as_ref().filter(|s| !s.is_empty()) else { continue };
            let selector = LabelSelector::from_labels(labels.clone());
            let selected: Vec<&Pod> =
                k8s.pods.iter().filter(|p| p.namespace == KUBE_SYSTEM && netdoctor_engine::policy::matches(&selector, &p.labels)).collect();
            let name = format!("{}/{}", svc.namespace, svc.name);
            if selected.is_empty() {
                let dns = list_names(dns_pods.iter().map(|p| p.workload_name()), 3);
                let why = if dns_pods.is_empty() {
                    "and no CoreDNS/kube-dns pod is in the manifests".to_string()
                } else {
                    format!("while the DNS pods of {dns} carry `{}={}`", DNS_LABEL.0, DNS_LABEL.1)
                };
                out.report(
                    &svc.origin,
                    format!(
                        "cluster DNS Service `{name}` selects {selector}, which no kube-system pod carries, {why}: DNS has no endpoints"
                    ),
                )
                .subjects([name.clone()])
                .help(format!(
                    "make the selector of `{name}` `{}: {}` and label the CoreDNS pod template the same",
                    DNS_LABEL.0, DNS_LABEL.1
                ));
            } else if selected.iter().all(|p| p.replicas == 0) && scaled_down.is_empty() {
                out.report(
                    &svc.origin,
                    format!("cluster DNS Service `{name}` selects only workloads scaled to 0 replicas: DNS has no endpoints"),
                )
                .subjects([name.clone()])
                .help("scale the CoreDNS Deployment up to at least two replicas");
            }
        }
    }
}

//! ND405: NetworkPolicies that the CNI (or the pod's network mode) does not enforce.

use crate::prelude::*;
use crate::rules::k8s::{list_names, one_pod_per_workload, pod_name};
use netdoctor_engine::policy::matches;
use netdoctor_model::k8s::Pod;

/// Network plugins that enforce NetworkPolicy, as their workloads are named.
const ENFORCING: &[&str] =
    &["calico", "canal", "cilium", "antrea", "weave", "kube-router", "kube-ovn", "ovnkube", "openshift-sdn", "romana"];

declare_rule! {
    /// ## What it checks
    /// NetworkPolicies that the network plugin, or the pod's network mode, does not enforce.
    /// When the manifests hold NetworkPolicies: a Flannel DaemonSet (or pods) without any
    /// policy-enforcing network plugin next to it (Calico, Canal, Cilium, Antrea, Weave,
    /// kube-router, OVN-Kubernetes), and pods with `hostNetwork: true` that a policy
    /// selects. The plugin is judged only from what the manifests show.
    ///
    /// ## Why it matters
    /// Flannel only connects pods; it implements no NetworkPolicy, so every policy is
    /// accepted by the API server and then ignored. Host-network pods use the node's
    /// interfaces, which most plugins do not filter: the policies that select them have no
    /// effect on them.
    ///
    /// ## Example
    /// ```yaml
    /// kind: DaemonSet
    /// metadata: { name: kube-flannel-ds, namespace: kube-flannel }
    /// ---
    /// kind: NetworkPolicy
    /// metadata: { name: default-deny }
    /// spec: { podSelector: {}, policyTypes: [Ingress] }
    /// ```
    ///
    /// ## Fix
    /// Add policy enforcement (Canal, i.e. Calico for policy on top of Flannel, or switch to Calico/Cilium), and keep policy-protected workloads off `hostNetwork`.
    pub struct PolicyNotEnforced => Warning, "ND405";
}

fn mentions(pod: &Pod, names: &[&str]) -> bool {
    let text =
        format!("{} {} {}", pod.namespace, pod.owner.name, pod.labels.values().cloned().collect::<Vec<_>>().join(" ")).to_ascii_lowercase();
    names.iter().any(|n| text.contains(n))
}

impl Check for PolicyNotEnforced {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let k8s = &cx.model.k8s;
        if k8s.network_policies.is_empty() {
            return;
        }
        let enforcing = k8s.pods.iter().any(|p| mentions(p, ENFORCING));
        if let Some(flannel) = k8s.pods.iter().find(|p| mentions(p, &["flannel"])).filter(|_| !enforcing) {
            out.report(
                &flannel.origin,
                format!(
                    "the manifests run Flannel (`{}`) and no network plugin that enforces NetworkPolicy: {} in them {} accepted and ignored",
                    flannel.workload_name(),
                    match k8s.network_policies.len() {
                        1 => "the NetworkPolicy".to_string(),
                        n => format!("the {n} NetworkPolicies"),
                    },
                    if k8s.network_policies.len() == 1 { "is" } else { "are" }
                ),
            )
            .subjects([pod_name(flannel)])
            .help("add policy enforcement next to Flannel (Canal: Calico's policy engine on Flannel), or move to a plugin that enforces policy (Calico, Cilium, Antrea)");
        }
        for pod in one_pod_per_workload(k8s).filter(|p| p.host_network) {
            let selecting: Vec<String> = k8s
                .network_policies
                .iter()
                .filter(|np| np.namespace == pod.namespace && matches(&np.pod_selector, &pod.labels))
                .map(|np| np.full_name())
                .collect();
            if selecting.is_empty() {
                continue;
            }
            let policies = list_names(selecting, 3);
            out.report(
                &pod.origin,
                format!("`{}` uses hostNetwork: true, so the policies selecting it ({policies}) do not apply to it on most network plugins: it is not isolated", pod.workload_name()),
            )
            .subjects([pod_name(pod)])
            .help(format!("run `{}` without hostNetwork if it must be isolated, or protect the node ports it uses with a host firewall", pod_name(pod)));
        }
    }
}

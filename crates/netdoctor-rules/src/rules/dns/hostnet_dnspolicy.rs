//! ND306: `hostNetwork: true` without `dnsPolicy: ClusterFirstWithHostNet`.

use crate::prelude::*;
use crate::rules::k8s::{is_system_namespace, one_pod_per_workload, pod_name};

declare_rule! {
    /// ## What it checks
    /// Host-network pods without `dnsPolicy: ClusterFirstWithHostNet`. Pods and workload
    /// templates with `hostNetwork: true` are reported when their `dnsPolicy` is absent or
    /// `ClusterFirst` (which the API server fills in when absent, so a dump of a live
    /// cluster shows it). An explicit `Default` or `None` is a stated choice and left
    /// alone, and so are platform namespaces (`kube-*`, `*-system`, `openshift-*`), whose
    /// node agents (kube-proxy, CNI and cloud daemons) use the node's resolver on purpose.
    /// A workload is reported once, however many of its pods a dump holds.
    ///
    /// ## Why it matters
    /// For a host-network pod, `ClusterFirst` silently falls back to the node's
    /// `/etc/resolv.conf`: cluster service names (`db.default.svc.cluster.local`) do not
    /// resolve from it, while the same image works in an ordinary pod.
    ///
    /// ## Example
    /// ```yaml
    /// kind: DaemonSet
    /// spec: { template: { spec: { hostNetwork: true, containers: [{ name: agent, image: agent }] } } }
    /// ```
    ///
    /// ## Fix
    /// Add `dnsPolicy: ClusterFirstWithHostNet` next to `hostNetwork: true`, or `dnsPolicy: Default` when only the node's resolver is wanted.
    pub struct HostnetDnspolicy => Warning, "ND306";
}

impl Check for HostnetDnspolicy {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for pod in one_pod_per_workload(&cx.model.k8s).filter(|p| p.host_network && !is_system_namespace(&p.namespace)) {
            if !matches!(pod.dns_policy.as_deref(), None | Some("ClusterFirst")) {
                continue;
            }
            let policy = pod.dns_policy.as_deref().map_or_else(|| "no dnsPolicy (ClusterFirst)".to_string(), |p| format!("dnsPolicy: {p}"));
            out.report(
                &pod.origin,
                format!("`{}` uses hostNetwork: true with {policy}: it resolves names with the node's resolv.conf, so cluster service names do not resolve from it", pod.workload_name()),
            )
            .subjects([pod_name(pod)])
            .help(format!("add `dnsPolicy: ClusterFirstWithHostNet` to the pod spec of `{}` (or `dnsPolicy: Default` if it only needs the node's resolver)", pod_name(pod)));
        }
    }
}

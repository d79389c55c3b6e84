//! Which resource an object is, by API group and kind (never by kind alone: Calico,
//! Antrea and Kubernetes each have a `NetworkPolicy`), and which policy resources are
//! read but not evaluated.
//!
//! Every kind that decides traffic and that netdoctor does not evaluate is named here
//! with what enforces it, so its effect is reported unknown. Beyond the list, any kind
//! of an unknown group whose name ends in `Policy` is taken as one too: a guess that
//! errs towards "unknown" rather than towards a confident "allowed". Groups whose
//! `*Policy` kinds are known not to decide traffic (admission, pod security, gateways'
//! load-balancing settings) are left out of that guess.

use netdoctor_model::calico_policy::CalicoKind;
use netdoctor_model::k8s::GroupVersionKind;

/// What an object is, as far as lowering cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Namespace,
    Pod,
    Workload,
    Service,
    Endpoints,
    EndpointSlice,
    Node,
    Ingress,
    Route,
    NetworkPolicy,
    AdminNetworkPolicy,
    BaselineAdminNetworkPolicy,
    ClusterNetworkPolicy,
    ServiceCidr,
    CalicoIpPool,
    TigeraInstallation,
    ConfigMap,
    CalicoPolicy(CalicoKind),
    CalicoTier,
    /// A NetworkSet (false) or GlobalNetworkSet (true).
    CalicoNetworkSet(bool),
    CiliumPolicy {
        clusterwide: bool,
    },
    CiliumCidrGroup,
    /// A policy that decides traffic but is not evaluated.
    Unevaluated(Unevaluated),
    /// A policy that is recorded but not enforced (Calico's staged policies).
    NotEnforced(&'static str),
    /// Says nothing about reachability (Secret, RBAC, CRDs of other projects).
    Other,
}

/// How an unevaluated policy is scoped, and why it is not evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unevaluated {
    pub scope: Scope,
    pub reason: &'static str,
    /// It can only refuse traffic that the evaluated policies allow.
    pub restricts_only: bool,
}

/// Whose flows an unevaluated policy can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Pods of its own namespace.
    Namespaced,
    /// Every pod.
    Cluster,
    /// Pods of its namespace, or every pod when it sits in the mesh's root namespace.
    MeshRoot(&'static str),
    /// Unknown scope: namespaced when a namespace is written, otherwise every pod.
    Guess,
}

/// Known policy kinds of other projects: group, kind, scope, what enforces it.
const UNEVALUATED: &[(&str, &str, Scope, &str)] = &[
    ("projectcalico.org", "Profile", Scope::Cluster, "Calico profiles are not evaluated yet"),
    ("projectcalico.org", "HostEndpoint", Scope::Cluster, "Calico host endpoint policies are not evaluated yet"),
    ("crd.projectcalico.org", "Profile", Scope::Cluster, "Calico profiles are not evaluated yet"),
    ("crd.projectcalico.org", "HostEndpoint", Scope::Cluster, "Calico host endpoint policies are not evaluated yet"),
    ("crd.antrea.io", "NetworkPolicy", Scope::Namespaced, "Antrea-native policies are not evaluated"),
    ("crd.antrea.io", "ClusterNetworkPolicy", Scope::Cluster, "Antrea-native policies are not evaluated"),
    ("security.antrea.tanzu.vmware.com", "NetworkPolicy", Scope::Namespaced, "Antrea-native policies are not evaluated"),
    ("security.antrea.tanzu.vmware.com", "ClusterNetworkPolicy", Scope::Cluster, "Antrea-native policies are not evaluated"),
    ("k8s.ovn.org", "EgressFirewall", Scope::Namespaced, "OVN-Kubernetes egress firewalls are not evaluated"),
    ("network.openshift.io", "EgressNetworkPolicy", Scope::Namespaced, "OpenShift SDN egress policies are not evaluated"),
    (
        "security.istio.io",
        "AuthorizationPolicy",
        Scope::MeshRoot("istio-system"),
        "Istio authorization is enforced by the mesh's proxies and is not evaluated",
    ),
    (
        "security.istio.io",
        "PeerAuthentication",
        Scope::MeshRoot("istio-system"),
        "Istio mTLS modes (STRICT refuses plain-text clients) are not evaluated",
    ),
    ("policy.linkerd.io", "Server", Scope::Namespaced, "Linkerd server policies are enforced by its proxies and are not evaluated"),
    (
        "policy.linkerd.io",
        "ServerAuthorization",
        Scope::Namespaced,
        "Linkerd authorization is enforced by its proxies and is not evaluated",
    ),
    (
        "policy.linkerd.io",
        "AuthorizationPolicy",
        Scope::Namespaced,
        "Linkerd authorization is enforced by its proxies and is not evaluated",
    ),
    ("kuma.io", "MeshTrafficPermission", Scope::MeshRoot("kuma-system"), "Kuma traffic permissions are not evaluated"),
    ("kuma.io", "TrafficPermission", Scope::Cluster, "Kuma traffic permissions are not evaluated"),
];

/// Calico's staged policies: previews of a policy, never enforced.
const STAGED: &[&str] = &["StagedNetworkPolicy", "StagedGlobalNetworkPolicy", "StagedKubernetesNetworkPolicy"];

/// Groups whose `*Policy` kinds do not decide which connections are allowed.
const NOT_TRAFFIC_GROUPS: &[&str] = &[
    "policy",
    "admissionregistration.k8s.io",
    "kyverno.io",
    "policies.kyverno.io",
    "wgpolicyk8s.io",
    "policy.cert-manager.io",
    "image.toolkit.fluxcd.io",
    "gateway.networking.k8s.io",
    "gateway.networking.x-k8s.io",
    "templates.gatekeeper.sh",
    "constraints.gatekeeper.sh",
    "networking.gke.io",
    "autoscaling.k8s.io",
    "velero.io",
];

/// Whether the group is one of Calico's (the API server's or the CRDs' as stored).
pub(crate) fn is_calico_group(group: &str) -> bool {
    matches!(group, "projectcalico.org" | "crd.projectcalico.org")
}

/// What `gvk` is.
pub(crate) fn classify(gvk: &GroupVersionKind) -> Kind {
    let (group, kind) = (gvk.group.as_str(), gvk.kind.as_str());
    match (group, kind) {
        ("", "Namespace") => Kind::Namespace,
        ("", "Pod") => Kind::Pod,
        ("", "ReplicationController") => Kind::Workload,
        ("apps" | "extensions", "Deployment" | "ReplicaSet" | "DaemonSet") | ("apps", "StatefulSet") => Kind::Workload,
        ("batch", "Job" | "CronJob") => Kind::Workload,
        ("", "Service") => Kind::Service,
        ("", "Endpoints") => Kind::Endpoints,
        ("discovery.k8s.io", "EndpointSlice") => Kind::EndpointSlice,
        ("", "Node") => Kind::Node,
        ("networking.k8s.io" | "extensions", "Ingress") => Kind::Ingress,
        ("route.openshift.io", "Route") => Kind::Route,
        // `extensions/v1beta1` served NetworkPolicy with the same shape before 1.16.
        ("networking.k8s.io" | "extensions", "NetworkPolicy") => Kind::NetworkPolicy,
        ("policy.networking.k8s.io", "AdminNetworkPolicy") => Kind::AdminNetworkPolicy,
        ("policy.networking.k8s.io", "BaselineAdminNetworkPolicy") => Kind::BaselineAdminNetworkPolicy,
        ("policy.networking.k8s.io", "ClusterNetworkPolicy") if matches!(gvk.version.as_str(), "v1alpha2" | "v1beta1") => {
            Kind::ClusterNetworkPolicy
        }
        ("policy.networking.k8s.io", _) if kind.ends_with("Policy") => Kind::Unevaluated(Unevaluated {
            scope: Scope::Cluster,
            restricts_only: false,
            reason: "this version of the network policy API is not evaluated (ClusterNetworkPolicy v1alpha2/v1beta1 and AdminNetworkPolicy v1alpha1 are)",
        }),
        ("networking.k8s.io", "ServiceCIDR") => Kind::ServiceCidr,
        (g, "IPPool") if is_calico_group(g) => Kind::CalicoIpPool,
        (g, "NetworkPolicy") if is_calico_group(g) => Kind::CalicoPolicy(CalicoKind::NetworkPolicy),
        (g, "GlobalNetworkPolicy") if is_calico_group(g) => Kind::CalicoPolicy(CalicoKind::GlobalNetworkPolicy),
        (g, "Tier") if is_calico_group(g) => Kind::CalicoTier,
        (g, "NetworkSet") if is_calico_group(g) => Kind::CalicoNetworkSet(false),
        (g, "GlobalNetworkSet") if is_calico_group(g) => Kind::CalicoNetworkSet(true),
        ("cilium.io", "CiliumNetworkPolicy") => Kind::CiliumPolicy { clusterwide: false },
        ("cilium.io", "CiliumClusterwideNetworkPolicy") => Kind::CiliumPolicy { clusterwide: true },
        ("cilium.io", "CiliumCIDRGroup") => Kind::CiliumCidrGroup,
        ("operator.tigera.io", "Installation") => Kind::TigeraInstallation,
        ("", "ConfigMap") => Kind::ConfigMap,
        (g, k) if is_calico_group(g) && STAGED.contains(&k) => Kind::NotEnforced("Calico staged policies are previews and are not enforced"),
        _ => unevaluated(group, kind),
    }
}

fn unevaluated(group: &str, kind: &str) -> Kind {
    if let Some((_, _, scope, reason)) = UNEVALUATED.iter().find(|(g, k, _, _)| *g == group && *k == kind) {
        // A mesh's proxies and an egress firewall sit behind the CNI's policies: they can
        // refuse what those allow, never allow what those deny.
        let restricts_only =
            matches!(group, "security.istio.io" | "policy.linkerd.io" | "kuma.io" | "k8s.ovn.org" | "network.openshift.io");
        return Kind::Unevaluated(Unevaluated { scope: *scope, reason, restricts_only });
    }
    let not_traffic = NOT_TRAFFIC_GROUPS.contains(&group) || group.ends_with(".kyverno.io") || group.ends_with(".gatekeeper.sh");
    if !group.is_empty() && kind.ends_with("Policy") && !not_traffic {
        return Kind::Unevaluated(Unevaluated {
            scope: Scope::Guess,
            restricts_only: false,
            reason: "an unknown policy kind: netdoctor cannot tell what it allows or denies",
        });
    }
    Kind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(api_version: &str, kind: &str) -> Kind {
        classify(&GroupVersionKind::new(api_version, kind))
    }

    #[test]
    fn kinds_are_told_apart_by_group() {
        assert_eq!(kind("networking.k8s.io/v1", "NetworkPolicy"), Kind::NetworkPolicy);
        assert_eq!(kind("extensions/v1beta1", "NetworkPolicy"), Kind::NetworkPolicy);
        for calico in ["projectcalico.org/v3", "crd.projectcalico.org/v1"] {
            assert_eq!(kind(calico, "NetworkPolicy"), Kind::CalicoPolicy(CalicoKind::NetworkPolicy), "{calico}");
        }
        assert!(matches!(kind("crd.antrea.io/v1beta1", "NetworkPolicy"), Kind::Unevaluated(_)));
        assert!(matches!(kind("crd.antrea.io/v1beta1", "ClusterNetworkPolicy"), Kind::Unevaluated(_)));
        assert_eq!(kind("policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy"), Kind::ClusterNetworkPolicy);
        assert_eq!(kind("v1", "Pod"), Kind::Pod);
        assert_eq!(kind("metrics.k8s.io/v1beta1", "Pod"), Kind::Other);
        assert_eq!(kind("apps/v1", "Deployment"), Kind::Workload);
        assert_eq!(kind("argoproj.io/v1alpha1", "Rollout"), Kind::Other);
    }

    #[test]
    fn scopes_of_known_policy_kinds() {
        let scope = |v, k| match kind(v, k) {
            Kind::Unevaluated(u) => Some(u.scope),
            _ => None,
        };
        assert_eq!(kind("cilium.io/v2", "CiliumNetworkPolicy"), Kind::CiliumPolicy { clusterwide: false });
        assert_eq!(kind("cilium.io/v2", "CiliumClusterwideNetworkPolicy"), Kind::CiliumPolicy { clusterwide: true });
        assert_eq!(scope("projectcalico.org/v3", "HostEndpoint"), Some(Scope::Cluster));
        assert_eq!(scope("security.istio.io/v1", "AuthorizationPolicy"), Some(Scope::MeshRoot("istio-system")));
        assert_eq!(scope("example.com/v1", "TrafficPolicy"), Some(Scope::Guess));
        // Policies that do not decide traffic.
        assert_eq!(scope("kyverno.io/v1", "ClusterPolicy"), None);
        assert_eq!(scope("policy/v1beta1", "PodSecurityPolicy"), None);
        assert_eq!(scope("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"), None);
        assert!(matches!(kind("projectcalico.org/v3", "StagedNetworkPolicy"), Kind::NotEnforced(_)));
    }
}

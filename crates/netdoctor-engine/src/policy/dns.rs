//! The cluster DNS as policies see it: pods in any namespace labelled
//! `k8s-app=kube-dns` (CoreDNS and kube-dns both carry it). Application manifests
//! rarely include them, so when none was read a stand-in CoreDNS pod is added in
//! `kube-system` with the ports and labels every distribution gives it; policy answers
//! about DNS are then about that stand-in, and say so.

use super::engine::{ClassId, PolicyEngine};
use super::eval::Endpoint;
use netdoctor_model::k8s::{Cluster, ContainerPort, Labels, Owner, Pod, WorkloadKind};
use netdoctor_model::{Origin, Protocol};
use std::borrow::Cow;

/// Where cluster DNS runs.
pub const CLUSTER_DNS_NAMESPACE: &str = "kube-system";
/// The label cluster DNS pods carry, key and value.
pub const CLUSTER_DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
/// The origin of the stand-in DNS pod.
pub const STAND_IN_ORIGIN: &str = "netdoctor://stand-in/kube-system/coredns";

/// Whether `pod` serves cluster DNS.
pub fn is_cluster_dns(pod: &Pod) -> bool {
    pod.labels.get(CLUSTER_DNS_LABEL.0).is_some_and(|v| v == CLUSTER_DNS_LABEL.1)
}

/// The cluster as read when it has DNS pods, otherwise a copy with a stand-in CoreDNS
/// pod (`kube-system/coredns`, ports `dns` 53/UDP and `dns-tcp` 53/TCP).
pub fn with_cluster_dns(cluster: &Cluster) -> Cow<'_, Cluster> {
    if cluster.pods.iter().any(is_cluster_dns) {
        return Cow::Borrowed(cluster);
    }
    let mut with = cluster.clone();
    let labels = Labels::from([(CLUSTER_DNS_LABEL.0.to_string(), CLUSTER_DNS_LABEL.1.to_string())]);
    let mut pod = Pod::new(CLUSTER_DNS_NAMESPACE, "coredns", labels, Origin::Logical(STAND_IN_ORIGIN.into()));
    pod.owner = Owner { kind: WorkloadKind::Deployment, name: "coredns".into() };
    pod.from_template = true;
    pod.ports = vec![
        ContainerPort { name: Some("dns".into()), port: 53, protocol: Protocol::Udp },
        ContainerPort { name: Some("dns-tcp".into()), port: 53, protocol: Protocol::Tcp },
        ContainerPort { name: Some("metrics".into()), port: 9153, protocol: Protocol::Tcp },
    ];
    with.pods.push(pod);
    Cow::Owned(with)
}

/// Whether a pod class may query cluster DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsAccess {
    /// UDP 53 to at least one DNS pod (ordinary queries).
    pub udp: bool,
    /// TCP 53 to at least one DNS pod (truncated answers retry over TCP).
    pub tcp: bool,
    /// A DNS pod class it was evaluated against (one that allows, when one does).
    pub dns_class: Option<ClassId>,
}

impl DnsAccess {
    /// Both protocols work.
    pub fn complete(&self) -> bool {
        self.udp && self.tcp
    }
}

impl PolicyEngine<'_> {
    /// The classes of the cluster DNS pods.
    pub fn cluster_dns_classes(&self) -> Vec<ClassId> {
        let dns = |labels: &Labels| labels.get(CLUSTER_DNS_LABEL.0).is_some_and(|v| v == CLUSTER_DNS_LABEL.1);
        self.classes.iter().enumerate().filter(|(_, c)| dns(&c.labels)).map(|(i, _)| i).collect()
    }

    /// Whether pods of `src` may query cluster DNS on UDP and TCP 53, through both their
    /// own egress and the DNS pods' ingress.
    pub fn dns_access(&self, src: ClassId) -> DnsAccess {
        self.dns_access_to(src, &self.cluster_dns_classes())
    }

    /// `dns_access` against DNS classes found once (`cluster_dns_classes`), for callers
    /// that ask for many sources.
    pub fn dns_access_to(&self, src: ClassId, dns_classes: &[ClassId]) -> DnsAccess {
        let mut out = DnsAccess { udp: false, tcp: false, dns_class: None };
        for &dns in dns_classes {
            let conns = self.allowed(Endpoint::Class(src), Endpoint::Class(dns));
            let (udp, tcp) = (conns.contains(Protocol::Udp, 53), conns.contains(Protocol::Tcp, 53));
            if out.dns_class.is_none() || (udp || tcp) && !(out.udp || out.tcp) {
                out.dns_class = Some(dns);
            }
            out.udp |= udp;
            out.tcp |= tcp;
            if out.complete() {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyOptions;
    use netdoctor_model::k8s::*;

    fn o() -> Origin {
        Origin::Logical("test".into())
    }

    #[test]
    fn stand_in_is_added_only_when_no_dns_pod_was_read_and_egress_rules_reach_it() {
        let web = Pod::new("shop", "web", Labels::from([("app".to_string(), "web".to_string())]), o());
        let mut deny = NetworkPolicy::new("shop", "deny-egress", LabelSelector::default(), o());
        deny.policy_types = Some(vec![PolicyType::Egress]);
        let mut cluster = Cluster { pods: vec![web], network_policies: vec![deny], ..Cluster::default() };
        let with = with_cluster_dns(&cluster);
        assert!(matches!(with, Cow::Owned(_)));
        let engine = PolicyEngine::new(&with, PolicyOptions::default());
        let web = engine.find_workload("shop/web").and_then(|w| engine.workloads.get(w)).map(|w| w.class).unwrap_or(usize::MAX);
        assert_eq!(engine.cluster_dns_classes().len(), 1);
        assert!(!engine.dns_access(web).udp && !engine.dns_access(web).tcp);

        // Allow UDP 53 to kube-dns pods in any namespace: TCP stays blocked.
        let peer = PolicyPeer::Pods {
            namespace_selector: Some(LabelSelector::default()),
            pod_selector: Some(LabelSelector::from_labels([CLUSTER_DNS_LABEL])),
            origin: o(),
        };
        let udp = PortSpec::new(Protocol::Udp, Some(PortRef::Number(53)), o());
        if let Some(p) = cluster.network_policies.first_mut() {
            p.egress.push(PolicyRule::new(vec![peer], vec![udp], o()));
        }
        let with = with_cluster_dns(&cluster);
        let engine = PolicyEngine::new(&with, PolicyOptions::default());
        let access = engine.dns_access(web);
        assert!(access.udp && !access.tcp && !access.complete(), "{access:?}");

        let dns_pods: Vec<Pod> = with.pods.iter().filter(|p| is_cluster_dns(p)).cloned().collect();
        drop(engine);
        cluster.pods.extend(dns_pods);
        assert!(matches!(with_cluster_dns(&cluster), Cow::Borrowed(_)));
    }
}

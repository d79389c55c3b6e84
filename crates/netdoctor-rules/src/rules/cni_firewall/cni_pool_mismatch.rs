//! ND508: the CNI plugin's address pools and the cluster's pod CIDR disagree.

use crate::prelude::*;
use ipnet::IpNet;
use netdoctor_model::k8s::{ClusterRange, RangeKind, RangeOwner};

declare_rule! {
    /// ## What it checks
    /// A CNI plugin's pool (a Calico IPPool or the Tigera operator's Installation pools, flannel's `Network`, Cilium's
    /// `cluster-pool-ipv4-cidr`, Weave Net's `IPALLOC_RANGE`) that does not lie inside the cluster's pod CIDR (kubeadm's
    /// `podSubnet`, kube-proxy's `clusterCIDR`, or `pod_cidrs` in `netdoctor.toml`), and a
    /// node's `podCIDR` outside the cluster's pod CIDR or outside flannel's `Network` (flannel
    /// gives each node's pods its node's podCIDR).
    ///
    /// ## Why it matters
    /// Pods then get addresses the rest of the cluster does not count as pods: kube-proxy
    /// masquerades or skips their traffic by `clusterCIDR`, policies and routes written for the
    /// pod CIDR miss them, and flannel cannot place a node whose podCIDR lies outside its
    /// network. It happens when `kubeadm init --pod-network-cidr` and the CNI manifest were not
    /// given the same range.
    ///
    /// ## Example
    /// ```yaml
    /// # kubeadm-config ClusterConfiguration
    /// networking: {podSubnet: 10.244.0.0/16}
    /// ---
    /// # Calico
    /// kind: IPPool
    /// spec: {cidr: 192.168.0.0/16}
    /// ```
    ///
    /// ## Fix
    /// Give the CNI plugin the cluster's pod CIDR (Calico: `CALICO_IPV4POOL_CIDR` or the IPPool's
    /// `cidr`; flannel: `Network` in `kube-flannel-cfg`; Cilium: `cluster-pool-ipv4-cidr`; Weave
    /// Net: `IPALLOC_RANGE` of the `weave` container, 10.32.0.0/12 when unset), or
    /// create the cluster with the CNI's range (`kubeadm init --pod-network-cidr`).
    ///
    /// ## Known limits
    /// Ranges are read from the objects named above (manifests or `--kube`); a CNI configured
    /// only on the nodes' disks (`/etc/cni/net.d`) is not compared. Calico, Weave Net and
    /// Cilium's cluster-pool mode do not use node podCIDRs, so nodes are not compared with their pools.
    pub struct CniPoolMismatch => Warning, "ND508";
}

impl Check for CniPoolMismatch {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let ranges = &cx.model.k8s.ranges;
        let pods = |owner: RangeOwner| ranges.iter().filter(move |r| r.kind == RangeKind::Pods && r.owner == owner);
        let cluster: Vec<&ClusterRange> = pods(RangeOwner::Cluster).collect();
        for plugin in [RangeOwner::Calico, RangeOwner::Flannel, RangeOwner::Cilium, RangeOwner::Weave] {
            for pool in pods(plugin) {
                let same_family: Vec<&&ClusterRange> = cluster.iter().filter(|c| same_family(&c.cidr, &pool.cidr)).collect();
                let Some(first) = same_family.first() else { continue };
                if same_family.iter().any(|c| c.cidr.contains(&pool.cidr)) {
                    continue;
                }
                out.report(
                    &pool.origin,
                    format!("{} ({}) is not inside the cluster's pod CIDR {} ({})", pool.cidr, pool.source, first.cidr, first.source),
                )
                .subjects([pool.cidr.to_string(), first.cidr.to_string()])
                .related(&first.origin, "the cluster's pod CIDR is declared here")
                .help(format!(
                    "give the CNI plugin the cluster's pod CIDR {} (change {}), or recreate the cluster with --pod-network-cidr {}",
                    first.cidr, pool.source, pool.cidr
                ));
            }
        }
        // The ranges a node's podCIDR must lie in: the cluster's pod CIDR, and flannel's
        // network; one finding per podCIDR.
        let flannel: Vec<&ClusterRange> = pods(RangeOwner::Flannel).collect();
        for node in &cx.model.k8s.nodes {
            for cidr in &node.pod_cidrs {
                let outside = [&cluster, &flannel].into_iter().find_map(|within| {
                    let same: Vec<&&ClusterRange> = within.iter().filter(|c| same_family(&c.cidr, cidr)).collect();
                    let first = **same.first()?;
                    (!same.iter().any(|c| c.cidr.contains(cidr))).then_some(first)
                });
                let Some(range) = outside else { continue };
                let at = node.pod_cidrs_origin.as_ref().unwrap_or(&node.origin);
                out.report(at, format!("podCIDR {cidr} of node {} is outside {} ({})", node.name, range.cidr, range.source))
                    .subjects([node.name.clone(), cidr.to_string()])
                    .related(&range.origin, "the range is declared here")
                    .help(format!(
                        "node podCIDRs come from the controller manager's --cluster-cidr: make it {} (kubeadm's podSubnet), then recreate the node objects so they get new podCIDRs",
                        range.cidr
                    ));
            }
        }
    }
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    a.addr().is_ipv4() == b.addr().is_ipv4()
}

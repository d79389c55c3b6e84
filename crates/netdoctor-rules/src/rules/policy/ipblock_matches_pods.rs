//! ND407: ipBlocks that cover pod, pod-CIDR or Service addresses.

use crate::prelude::*;
use crate::rules::k8s::{list_names, pod_name};
use ipnet::IpNet;
use netdoctor_model::k8s::{IpBlock, PolicyPeer};
use std::net::IpAddr;

declare_rule! {
    /// ## What it checks
    /// NetworkPolicy `ipBlock`s that cover pod IPs, node pod CIDRs or Service ClusterIPs.
    /// Each block (minus its `except` ranges) is compared with the in-cluster addresses the manifests carry: pod IPs (`status.podIPs`), node
    /// `podCIDR`s and Service ClusterIPs. Blocks of every address (`0.0.0.0/0`, `::/0`)
    /// are left out: they are the usual way to say "anywhere" (ND406 judges them).
    ///
    /// ## Why it matters
    /// ipBlocks are meant for addresses outside the cluster. Whether one matches traffic
    /// of pods is up to the network plugin (pod traffic may be seen after SNAT, or matched
    /// by pod IP that changes on every restart), and a ClusterIP is translated to a pod IP
    /// before policy is applied, so such a block allows or blocks something else than it
    /// appears to.
    ///
    /// ## Example
    /// ```yaml
    /// egress: [{ to: [{ ipBlock: { cidr: 10.244.0.0/16 } }] }]   # the cluster's pod CIDR
    /// ```
    ///
    /// ## Fix
    /// Select in-cluster peers with `podSelector`/`namespaceSelector`, and list pod and Service ranges under `except` when a block must be wide.
    pub struct IpblockMatchesPods => Warning, "ND407";
}

/// Whether `block` (minus its exceptions) covers `ip`.
fn covers_ip(block: &IpBlock, ip: &IpAddr) -> bool {
    block.cidr.contains(ip) && !block.except.iter().any(|e| e.contains(ip))
}

/// Whether `block` (minus its exceptions) overlaps `net`.
fn overlaps(block: &IpBlock, net: &IpNet) -> bool {
    let overlap = block.cidr.contains(&net.network()) || net.contains(&block.cidr.network());
    overlap && !block.except.iter().any(|e| e.contains(net))
}

impl Check for IpblockMatchesPods {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let k8s = &cx.model.k8s;
        for policy in &k8s.network_policies {
            let rules = policy.ingress.iter().map(|r| ("ingress", r)).chain(policy.egress.iter().map(|r| ("egress", r)));
            for (direction, rule) in rules {
                for peer in &rule.peers {
                    let PolicyPeer::IpBlock { block, origin } = peer else { continue };
                    if block.cidr.prefix_len() == 0 {
                        continue;
                    }
                    let mut covered: Vec<String> = Vec::new();
                    for pod in &k8s.pods {
                        if let Some(ip) = pod.ips.iter().find(|ip| covers_ip(block, ip)) {
                            covered.push(format!("pod {} ({ip})", pod_name(pod)));
                        }
                    }
                    for node in &k8s.nodes {
                        if let Some(net) = node.pod_cidrs.iter().find(|n| overlaps(block, n)) {
                            covered.push(format!("pod CIDR {net} of node {}", node.name));
                        }
                    }
                    for svc in &k8s.services {
                        if let Some(ip) = svc.cluster_ips.iter().find(|ip| covers_ip(block, ip)) {
                            covered.push(format!("ClusterIP {ip} of Service {}/{}", svc.namespace, svc.name));
                        }
                    }
                    if covered.is_empty() {
                        continue;
                    }
                    let name = policy.full_name();
                    let count = covered.len();
                    out.report(
                        origin,
                        format!("{direction} ipBlock {} of policy `{name}` covers {count} in-cluster address(es): {}; ipBlocks are meant for addresses outside the cluster and match pod traffic only as the network plugin decides", block.cidr, list_names(covered, 3)),
                    )
                    .subjects([name.clone()])
                    .help(format!("select in-cluster peers of `{name}` with podSelector/namespaceSelector, and add the pod and Service ranges to `except` of {}", block.cidr));
                }
            }
        }
    }
}

//! ND501: the host's FORWARD chain drops the containers' traffic.

use super::{blame, Blame};
use crate::prelude::*;
use netdoctor_engine::firewall::PathKind;
use netdoctor_engine::host::Purpose;
use netdoctor_model::host::Backend;

declare_rule! {
    /// ## What it checks
    /// Traffic of a Compose network's containers, leaving the host or crossing its bridge,
    /// traced through the host's iptables rules, that the FORWARD chain drops: by its DROP
    /// policy with no ACCEPT for the network, or by a catch-all DROP/REJECT rule after
    /// Docker's chains. Native nftables forward chains (`nft -j list ruleset`) count too: a
    /// drop policy or rule there is named by table, chain and rule handle. On a Kubernetes node
    /// (manifests or `--kube` with the node's host facts), the same for this node's pods
    /// reaching pods on another node and reaching outside. Needs host facts (`--host`,
    /// `--host-facts`).
    ///
    /// ## Why it matters
    /// Containers start and resolve names, but every connection out of the network times
    /// out. It happens when Docker's iptables management is off, when a firewall reload
    /// flushed Docker's rules, or when a hardening script set `iptables -P FORWARD DROP`. On a
    /// Kubernetes node, installing Docker sets the FORWARD policy to DROP and pods on different
    /// nodes stop reaching each other unless the CNI plugin accepts its own traffic.
    ///
    /// ## Example
    /// ```text
    /// daemon.json:   { "iptables": false }
    /// iptables-save: :FORWARD DROP [0:0]   (and no rule accepting 172.18.0.0/16)
    /// ```
    ///
    /// ## Fix
    /// Let Docker manage iptables again (remove `"iptables": false`, restart dockerd), or accept
    /// the network yourself: `iptables -I DOCKER-USER -s 172.18.0.0/16 -j ACCEPT` and the same
    /// for replies (`-m conntrack --ctstate RELATED,ESTABLISHED`).
    ///
    /// ## Known limits
    /// A network Docker has not created yet is judged as Docker would set it up: while Docker
    /// manages iptables its future ACCEPT rules are assumed (they cannot override a native
    /// nftables chain's drop). nftables maps, iptables-nft compat matches read only from `nft -j`
    /// and other matches netdoctor cannot decide make the verdict unknown, not a finding.
    pub struct ForwardDrop => Error, "ND501";
}

impl Check for ForwardDrop {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let docker_manages = host.facts.docker_manages_iptables();
        let topology = &cx.analysis.topology;
        let mut flows = host.egress_flows(cx.model, topology);
        flows.extend(host.peer_flows(cx.model, topology, |from, name| cx.analysis.resolve(from, name)));
        flows.extend(host.pod_flows(cx.model));
        for hf in flows {
            let trace = host.trace(&hf.flow);
            if trace.path != Some(PathKind::Forward) {
                continue;
            }
            // Docker adds ACCEPT rules for a network when it creates it.
            if hf.predicted && docker_manages {
                continue;
            }
            let (origin, what, native) = match blame(&trace, host.facts) {
                Blame::ForwardPolicy(p) => {
                    (&p.origin, p.to_string(), (p.backend == Backend::Nftables).then(|| (p.table.clone(), p.chain.clone(), None)))
                }
                Blame::Host(r) => (&r.origin, r.to_string(), r.handle.map(|h| (r.table.clone(), r.chain.clone(), Some(h)))),
                _ => continue,
            };
            let subnet = hf
                .net
                .and_then(|n| host.bridge(n))
                .and_then(|b| b.subnet)
                .map_or_else(|| "the network's subnet".to_string(), |s| s.to_string());
            let help = if let Purpose::Pods { range } = hf.purpose {
                pod_help(range, native.as_ref(), docker_manages)
            } else if let Some((table, chain, handle)) = native {
                let delete =
                    handle.map_or_else(String::new, |h| format!(", or delete the rule: `nft delete rule {table} {chain} handle {h}`"));
                format!("the nftables chain `{table} {chain}` decides it, not Docker's iptables rules: accept the network before the drop (`nft insert rule {table} {chain} ip saddr {subnet} accept` and `ip daddr {subnet} ct state established,related accept`){delete}")
            } else if docker_manages {
                format!("accept the network before the drop: `iptables -I DOCKER-USER -s {subnet} -j ACCEPT` (and the replies), or restart dockerd so it restores its rules")
            } else {
                format!("Docker's iptables management is off: enable it (remove `\"iptables\": false`) or add `iptables -I FORWARD -s {subnet} -j ACCEPT` and `-d {subnet} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`")
            };
            out.report(origin, format!("{}: {} by {what}", hf.label, trace.verdict.kind.as_str()))
                .related(&hf.origin, "the traffic is needed here")
                .help(help);
        }
    }
}

/// What to do when a node's firewall drops its pods' traffic.
fn pod_help(range: ipnet::IpNet, native: Option<&(String, String, Option<u64>)>, docker_manages: bool) -> String {
    match native {
        Some((table, chain, _)) => format!(
            "the nftables chain `{table} {chain}` drops it: accept the pod range before the drop (`nft insert rule {table} {chain} ip saddr {range} accept` and `ip daddr {range} accept`)"
        ),
        None if docker_manages => format!(
            "Docker's FORWARD policy DROP covers pods too: accept the pod range in DOCKER-USER (`iptables -I DOCKER-USER -s {range} -j ACCEPT` and `iptables -I DOCKER-USER -d {range} -j ACCEPT`), or let the CNI plugin add its own accept rules"
        ),
        None => format!(
            "accept the pod range before the drop: `iptables -I FORWARD -s {range} -j ACCEPT` and `iptables -I FORWARD -d {range} -j ACCEPT` (flannel and Calico add such rules themselves when their iptables handling is on)"
        ),
    }
}

//! ND505: the host firewall blocks an underlay port the overlay needs.

use super::decider_origin;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Underlay ports that overlay networking needs on this host, traced as a new connection
    /// from a peer on the host's own subnet through the INPUT rules: VXLAN (UDP 4789, or 8472
    /// for Flannel and Cilium), Swarm gossip (TCP/UDP 7946) for `driver: overlay` networks,
    /// Geneve (UDP 6081), WireGuard (UDP 51820/51871), IP-in-IP (IP protocol 4) and BGP
    /// (TCP 179) for the devices found on the host, and what the manifests configure even
    /// before the node has the device: flannel's backend port (`kube-flannel-cfg`; vxlan:
    /// `Port` or 8472, udp: 8285, wireguard: 51820); Cilium's (`cilium-config`: in tunnel
    /// mode `tunnel-port`, or 8472 for vxlan and 6081 for geneve; 51871 with
    /// `enable-wireguard`; ESP, IP protocol 50, with `enable-ipsec`; nothing for the tunnel
    /// in native routing); Calico IPPools' (`ipipMode` other than Never: IP protocol 4 and
    /// BGP; `vxlanMode` other than Never: UDP 4789); Weave Net's (TCP 6783, UDP 6783 and
    /// 6784, ESP when encryption is on). Needs host facts (`--host`, `--host-facts`).
    ///
    /// ## Why it matters
    /// Containers on the same host talk, containers on different hosts do not: the
    /// encapsulated packets never reach the peer. Nothing in the container network says so.
    ///
    /// ## Example
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -p tcp --dport 22 -j ACCEPT      # no rule for udp/4789
    /// ```
    ///
    /// ## Fix
    /// Accept the port from the peers' subnet: `iptables -I INPUT -s 10.0.0.0/24 -p udp --dport 4789 -j ACCEPT`
    /// (and the cloud security group or the firewall front end's equivalent).
    ///
    /// ## Known limits
    /// Cloud security groups are outside the host and not checked; peers are assumed on the
    /// subnet of the host's default route.
    pub struct OverlayPortBlocked => Error, "ND505";
}

impl Check for OverlayPortBlocked {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        for hf in host.underlay_flows(cx.model) {
            let trace = host.trace(&hf.flow);
            if !trace.verdict.kind.is_blocked() {
                continue;
            }
            let (Some(origin), Some(decider)) = (decider_origin(&trace), &trace.verdict.decided_by) else { continue };
            let port = hf.flow.dport.map(|p| format!(" --dport {}", p.start)).unwrap_or_default();
            let source = hf.flow.src.net;
            out.report(origin, format!("{}: {} by {decider}", hf.label, trace.verdict.kind.as_str()))
                .related(&hf.origin, "the traffic is needed for this")
                .help(format!("accept it from the peers: `iptables -I INPUT -s {source} -p {}{port} -j ACCEPT`", hf.flow.proto));
        }
    }
}

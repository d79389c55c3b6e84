//! ND502: a DOCKER-USER rule (or one that runs before Docker's) drops a flow the project needs.

use super::{blame, Blame};
use crate::prelude::*;
use netdoctor_engine::host::{HostFlow, Purpose};

declare_rule! {
    /// ## What it checks
    /// A flow between workloads of the project, or from outside to a published port, that a
    /// DROP or REJECT rule in DOCKER-USER (or any rule the packet meets before Docker's own
    /// chains, in raw, mangle or at the top of FORWARD) stops, traced through the host's
    /// iptables rules. A native nftables chain (`nft -j list ruleset`) that hooks in beside
    /// Docker's counts as such a rule, named by table, chain and handle. Needs host facts
    /// (`--host`, `--host-facts`).
    ///
    /// ## Why it matters
    /// DOCKER-USER runs before every rule Docker writes, so a broad DROP meant for outside
    /// traffic (`-j DROP` without `-i`, or a source list that includes a container subnet)
    /// also cuts the containers off from each other or hides a published port.
    ///
    /// ## Example
    /// ```text
    /// -A DOCKER-USER -s 172.16.0.0/12 -j DROP      # meant for a VPN, covers 172.18.0.0/16
    /// ```
    ///
    /// ## Fix
    /// Narrow the rule (`-i eth0`, an exact source range), or put an ACCEPT for the flow above it
    /// in DOCKER-USER.
    pub struct DockerUserDrop => Error, "ND502";
}

impl Check for DockerUserDrop {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let topology = &cx.analysis.topology;
        let mut traced: Vec<(HostFlow, netdoctor_engine::firewall::Trace)> = host
            .peer_flows(cx.model, topology, |from, name| cx.analysis.resolve(from, name))
            .into_iter()
            .map(|hf| {
                let t = host.trace(&hf.flow);
                (hf, t)
            })
            .collect();
        for hf in host.published_flows(cx.model, topology) {
            // Without Docker's iptables management nothing is published (ND503).
            if hf.predicted && !host.facts.docker_manages_iptables() {
                continue;
            }
            if let Some(pt) = host.trace_published(cx.model, topology, &hf) {
                traced.push((hf, pt.actual));
            }
        }
        for (hf, trace) in &traced {
            let Blame::BeforeDocker(rule) = blame(trace, host.facts) else { continue };
            let help = match rule.handle {
                Some(h) => format!(
                    "the nftables rule runs beside Docker's iptables rules, which cannot override its drop: narrow it (`iifname \"eth0\"`, an exact source range), or delete it (`nft delete rule {} {} handle {h}`)",
                    rule.table, rule.chain
                ),
                None => "narrow the rule (an input interface such as `-i eth0`, an exact source range), or insert an ACCEPT for this flow above it".to_string(),
            };
            let d = out
                .report(&rule.origin, format!("{}: {} by {rule}", hf.label, trace.verdict.kind.as_str()))
                .related(&hf.origin, "the flow is needed here")
                .help(help);
            // `why A B` cites a layer-5 finding only when it names both ends of the pair.
            if let Purpose::Peer { from, to } = hf.purpose {
                let name = |i: usize| cx.model.workloads.get(i).map(|w| w.name.as_str());
                if let (Some(a), Some(b)) = (name(from), name(to)) {
                    d.subjects([a, b]);
                }
            }
        }
    }
}

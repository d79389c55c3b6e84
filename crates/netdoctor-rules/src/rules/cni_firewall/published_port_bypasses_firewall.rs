//! ND509: a published port the host firewall front end seems to block, but Docker routes around it.

use super::decider_origin;
use crate::prelude::*;
use netdoctor_engine::firewall::{ChainOwner, Decider, VerdictKind};

declare_rule! {
    /// ## What it checks
    /// A port published on every interface (or a public address) while ufw or firewalld is
    /// active and the host's INPUT rules would drop a connection to it, but the connection
    /// is DNATed to the container and accepted in FORWARD, which the front end does not
    /// guard. Needs host facts (`--host`, `--host-facts`).
    ///
    /// ## Why it matters
    /// `ufw status` says the port is closed while anyone can connect: Docker's DNAT happens
    /// before INPUT, so the connection goes through FORWARD, where Docker accepts it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db: { image: postgres, ports: ["5432:5432"] }   # ufw default deny incoming
    /// ```
    ///
    /// ## Fix
    /// Bind the port to loopback or a private address (`"127.0.0.1:5432:5432"`), or filter it in
    /// DOCKER-USER (`iptables -I DOCKER-USER -i eth0 -p tcp --dport 5432 -j DROP`; match the
    /// container port, DNAT has already rewritten it).
    pub struct PublishedPortBypassesFirewall => Warning, "ND509";
}

impl Check for PublishedPortBypassesFirewall {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let Some(frontend) = host.facts.frontends.iter().find(|f| f.active) else { return };
        let topology = &cx.analysis.topology;
        for hf in host.published_flows(cx.model, topology) {
            let Some(pt) = host.trace_published(cx.model, topology, &hf) else { continue };
            if !pt.as_input.verdict.kind.is_blocked() {
                continue;
            }
            let reachable = match (pt.actual.verdict.kind, &pt.actual.verdict.decided_by) {
                (VerdictKind::Accept, _) => true,
                // Docker adds the ACCEPT for a container it has not started yet in front of
                // FORWARD's policy and the front end's chains.
                (kind, Some(Decider::Policy(p))) if kind.is_blocked() && pt.predicted => {
                    // Docker's rules go to iptables: they cannot override a native nftables chain.
                    p.forward_filter && p.backend != netdoctor_model::host::Backend::Nftables && host.facts.docker_manages_iptables()
                }
                (kind, Some(Decider::Rule(r))) if kind.is_blocked() && pt.predicted => {
                    host.facts.docker_manages_iptables()
                        && (r.in_docker_chain() || (r.after_docker() && ChainOwner::of(&r.chain) != ChainOwner::DockerUser))
                }
                _ => false,
            };
            if !reachable {
                continue;
            }
            let blocked_by = pt.as_input.verdict.decided_by.as_ref().map_or_else(|| "its INPUT rules".to_string(), ToString::to_string);
            let via = match (&pt.actual.verdict.decided_by, pt.predicted) {
                (_, true) => "the FORWARD rules Docker adds for the container".to_string(),
                (Some(d), false) => d.to_string(),
                (None, false) => "FORWARD".to_string(),
            };
            let port = hf.flow.dport.map(|p| p.start).unwrap_or_default();
            let d = out.report(
                &hf.origin,
                format!(
                    "{} is reachable from outside although {} would drop it ({blocked_by}): Docker's DNAT sends it through FORWARD, accepted by {via}",
                    hf.label,
                    frontend.kind.as_str()
                ),
            );
            if let Some(origin) = decider_origin(&pt.as_input) {
                d.related(origin, format!("{} drops the port here, for the host itself only", frontend.kind.as_str()));
            }
            d.help(format!(
                "bind it to loopback or a private address (\"127.0.0.1:{port}:…\"), or drop it in DOCKER-USER by the container port"
            ));
        }
    }
}

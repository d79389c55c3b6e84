//! ND503: Docker's iptables management or the host's forwarding is off.

use crate::prelude::*;
use netdoctor_engine::Stack;

declare_rule! {
    /// ## What it checks
    /// A host whose Docker daemon runs with `"iptables": false`, or whose `net.ipv4.ip_forward`
    /// is 0, while the project has containers with a network stack of their own. Needs host
    /// facts (`--host`, `--host-facts`).
    ///
    /// ## Why it matters
    /// Without its iptables rules Docker publishes no ports (no DNAT), masquerades nothing and
    /// isolates no networks; with forwarding off the kernel routes no container packet off the
    /// host. Both look like an application problem from inside the container.
    ///
    /// ## Example
    /// ```json
    /// { "iptables": false }
    /// ```
    ///
    /// ## Fix
    /// Remove `"iptables": false` from `/etc/docker/daemon.json` and restart dockerd; turn
    /// forwarding on with `sysctl -w net.ipv4.ip_forward=1` (and in `/etc/sysctl.d/`).
    pub struct RuntimeIptablesOff => Error, "ND503";
}

impl Check for RuntimeIptablesOff {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let containers: Vec<&str> = cx
            .model
            .workloads
            .iter()
            .enumerate()
            .filter(|(i, _)| matches!(cx.analysis.topology.stack(*i), Stack::Own) && !cx.analysis.topology.networks_of(*i).is_empty())
            .map(|(_, w)| w.name.as_str())
            .collect();
        if containers.is_empty() {
            return;
        }
        let publishing: Vec<&str> =
            cx.model.workloads.iter().filter(|w| !w.ports.is_empty() && !w.is_host_network()).map(|w| w.name.as_str()).collect();
        if let Some(iptables) = host.facts.daemon.as_ref().and_then(|d| d.iptables.as_ref()).filter(|v| !v.value) {
            let ports = if publishing.is_empty() {
                String::new()
            } else {
                format!(": the published ports of {} are unreachable", quoted(&publishing))
            };
            out.report(
                &iptables.origin,
                format!("Docker runs with `\"iptables\": false`, so it writes no NAT, publishing or isolation rules{ports}"),
            )
            .subjects(containers.iter().copied())
            .help("remove `\"iptables\": false` from daemon.json and restart dockerd, or write the NAT and FORWARD rules yourself");
        }
        if let Some(forward) = host.facts.sysctls.ip_forward.as_ref().filter(|v| !v.value) {
            out.report(
                &forward.origin,
                format!("`net.ipv4.ip_forward` is 0: the host routes no traffic of {} off its bridges", quoted(&containers)),
            )
            .subjects(containers.iter().copied())
            .help("set `net.ipv4.ip_forward = 1` (sysctl -w, and in /etc/sysctl.d/), and do not set Docker's `\"ip-forward\": false`");
        }
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

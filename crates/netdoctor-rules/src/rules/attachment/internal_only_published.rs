//! ND110: ports published by a service that sits only on internal networks.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// A service that publishes `ports:` while every network it is on is `internal: true`.
    ///
    /// ## Why it matters
    /// Internal networks have no route to or from the host: the engine sets up no port
    /// forwarding for them, so the published port is unreachable.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   admin: { image: admin, ports: ["8080:80"], networks: [private] }
    /// networks: { private: { internal: true } }
    /// ```
    ///
    /// ## Fix
    /// Also attach the service to a non-internal network, or stop publishing the port.
    pub struct InternalOnlyPublished => Error, "ND110";
}

impl Check for InternalOnlyPublished {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let topology = &cx.analysis.topology;
        for (i, w) in cx.model.workloads.iter().enumerate() {
            let nets = topology.networks_of(i);
            if w.ports.is_empty() || w.network_mode.is_some() || nets.is_empty() {
                continue;
            }
            if !nets.iter().all(|&n| topology.info(n).is_some_and(|info| info.internal)) {
                continue;
            }
            let names: Vec<&str> = nets.iter().filter_map(|&n| topology.info(n)).map(|i| i.name.as_str()).collect();
            for p in &w.ports {
                out.report(
                    &p.origin,
                    format!("`{}` publishes port {} but is only on internal networks ({})", w.name, p.target, names.join(", ")),
                )
                .subjects([w.name.as_str()])
                .help(format!("attach `{}` to a non-internal network as well, or remove the published port", w.name));
            }
        }
    }
}

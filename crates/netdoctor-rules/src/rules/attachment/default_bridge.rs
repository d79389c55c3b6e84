//! ND101: peers addressed by name on Docker's predefined `bridge` network.

use crate::prelude::*;
use netdoctor_engine::{Resolution, Stack};

declare_rule! {
    /// ## What it checks
    /// A workload that refers to a peer by name while one of them sits on Docker's predefined
    /// `bridge` network (`network_mode: bridge`).
    ///
    /// ## Why it matters
    /// The predefined bridge has no embedded DNS: containers on it reach each other only by
    /// IP address, and containers elsewhere cannot reach them by name at all.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: nginx, network_mode: bridge, environment: { API_URL: "http://api:8080" } }
    ///   api: { image: api, network_mode: bridge }
    /// ```
    ///
    /// ## Fix
    /// Remove `network_mode: bridge` so the services join the project's own network, which has DNS.
    pub struct DefaultBridge => Error, "ND101";
}

impl Check for DefaultBridge {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for (i, w) in cx.model.workloads.iter().enumerate() {
            for r in w.references.iter().filter(|r| r.via.is_lookup()) {
                let targets = match cx.analysis.resolve(i, &r.host) {
                    Resolution::NoEmbeddedDns { targets, .. } => targets,
                    Resolution::NotShared { targets }
                        if on_predefined_bridge(cx, i) || targets.iter().any(|&t| on_predefined_bridge(cx, t)) =>
                    {
                        targets
                    }
                    _ => continue,
                };
                let on_bridge: Vec<&str> = std::iter::once(i)
                    .chain(targets.iter().copied())
                    .filter(|&x| on_predefined_bridge(cx, x))
                    .filter_map(|x| cx.model.workloads.get(x).map(|w| w.name.as_str()))
                    .collect();
                let peer_w = targets.first().and_then(|&t| cx.model.workloads.get(t));
                let peer = peer_w.map_or(r.host.as_str(), |p| p.name.as_str());
                let live =
                    [Some(w), peer_w].into_iter().flatten().filter_map(netdoctor_model::Workload::live_only_container).collect::<Vec<_>>();
                let help = match live.as_slice() {
                    [a, b] => format!(
                        "put both on a user-defined network, which has DNS: `docker network create NET`, `docker network connect NET {a}`, `docker network connect NET {b}`"
                    ),
                    _ => format!(
                        "remove `network_mode: bridge` from `{}` so both join the project network, where `{}` resolves",
                        on_bridge.join("` and `"),
                        r.host
                    ),
                };
                out.report(
                    &r.origin,
                    format!(
                        "`{}` looks up `{}` ({}), but `{}` {} on the predefined `bridge` network, which has no DNS",
                        w.name,
                        r.host,
                        r.via.describe(),
                        on_bridge.join("` and `"),
                        if on_bridge.len() > 1 { "sit" } else { "sits" }
                    ),
                )
                .subjects([w.name.as_str(), peer])
                .help(help);
            }
        }
    }
}

/// Whether workload `w` sits on the engine's predefined bridge.
pub(crate) fn on_predefined_bridge(cx: &RuleContext<'_>, w: usize) -> bool {
    let t = &cx.analysis.topology;
    let owner = match t.stack(w) {
        Stack::Shared(o) => *o,
        _ => w,
    };
    t.networks_of(owner).iter().any(|&n| t.info(n).is_some_and(|i| i.name == netdoctor_engine::PREDEFINED_BRIDGE))
}

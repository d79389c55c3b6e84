//! ND104: `network_mode` that contradicts `networks:` or names nothing.

use crate::prelude::*;
use netdoctor_engine::Stack;

declare_rule! {
    /// ## What it checks
    /// A service with both `network_mode` and `networks:`, or whose `network_mode: service:X`
    /// names no service of the project, or whose `network_mode` chain loops back on itself.
    ///
    /// ## Why it matters
    /// Compose rejects `network_mode` together with `networks` ("mutually exclusive"), and a
    /// `service:` mode naming nothing fails at `up`. A plain network name in `network_mode` that
    /// no project declares only works if the network already exists on the engine.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   sidecar: { image: envoy, network_mode: "service:app", networks: [mesh] }
    /// ```
    ///
    /// ## Fix
    /// Keep either `network_mode` or `networks:`; point `service:` at an existing service.
    pub struct NetworkModeConflict => Error, "ND104";
}

impl Check for NetworkModeConflict {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for (i, w) in cx.model.workloads.iter().enumerate() {
            let Some(mode) = &w.network_mode else { continue };
            if w.declares_networks {
                out.report(&mode.origin, format!("service `{}` sets both `network_mode` and `networks`, which Compose rejects", w.name))
                    .subjects([w.name.as_str()])
                    .help("remove `networks:` (the mode decides the network stack) or remove `network_mode`");
            }
            match (&mode.value, cx.analysis.topology.stack(i)) {
                (NetworkMode::Service(target), Stack::Broken(why)) => {
                    out.report(&mode.origin, format!("`network_mode: service:{target}` of `{}` cannot work: {why}", w.name))
                        .subjects([w.name.as_str()])
                        .help(format!("name an existing service of the project in `service:`, or drop `network_mode` from `{}`", w.name));
                }
                (NetworkMode::Container(_), Stack::Broken(why)) => {
                    out.report(&mode.origin, format!("`network_mode` of `{}` cannot work: {why}", w.name)).subjects([w.name.as_str()]);
                }
                (NetworkMode::Network(name), _) if !cx.model.networks.iter().any(|n| &n.name == name) => {
                    out.report(
                        &mode.origin,
                        format!("`network_mode: {name}` of `{}` names a network no loaded project declares", w.name),
                    )
                    .subjects([w.name.as_str()])
                    .severity(Severity::Warning)
                    .help(format!("check the spelling; if `{name}` is created outside Compose, declare it as `external: true` and use `networks:` instead"));
                }
                _ => {}
            }
        }
    }
}

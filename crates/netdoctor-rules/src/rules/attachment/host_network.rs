//! ND108: `network_mode: host`.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Services that use the host's network stack (`network_mode: host`).
    ///
    /// ## Why it matters
    /// The container bypasses Docker's DNS (service names do not resolve from it, and it is not
    /// reachable by name), its ports are the host's ports, and no network isolation applies.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db: { image: postgres, network_mode: host }
    /// ```
    ///
    /// ## Fix
    /// Remove `network_mode: host` and publish the ports the host needs with `ports:`.
    pub struct HostNetwork => Warning, "ND108";
}

impl Check for HostNetwork {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for w in cx.model.workloads.iter().filter(|w| w.is_host_network()) {
            let Some(mode) = &w.network_mode else { continue };
            out.report(&mode.origin, format!("`{}` uses the host network: it has no container DNS and no isolation", w.name))
                .subjects([w.name.as_str()])
                .help(format!("remove `network_mode: host` from `{}` and publish the ports it needs with `ports:`", w.name));
        }
    }
}

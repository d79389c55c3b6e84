//! ND107: a declared network no service joins.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// A network declared under the top-level `networks:` that no service of the project joins.
    ///
    /// ## Why it matters
    /// Usually a service was meant to join it and still sits on `default` instead, so peers that
    /// expect it there cannot reach it. Otherwise it is dead configuration.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api: { image: api }        # joins `default`, not `backend`
    /// networks: { backend: {} }
    /// ```
    ///
    /// ## Fix
    /// Add the network to the `networks:` of the services that need it, or delete the declaration.
    pub struct UnusedNetwork => Warning, "ND107";
}

impl Check for UnusedNetwork {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for n in cx.model.networks.iter().filter(|n| !n.implicit) {
            let project = n.project.as_deref().unwrap_or_default();
            let used = cx.model.workloads_of(project).any(|w| {
                w.attachments.iter().any(|a| a.network == n.key)
                    || matches!(w.network_mode.as_ref().map(|m| &m.value), Some(NetworkMode::Network(name)) if *name == n.name)
            });
            if used {
                continue;
            }
            // The `default` network is only created when a service uses it.
            if n.key == "default" {
                continue;
            }
            out.report(&n.origin, format!("network `{}` is declared but no service joins it", n.key))
                .subjects([n.key.as_str()])
                .help(format!("add `{}` to the `networks:` of the services that should be on it, or remove it", n.key));
        }
    }
}

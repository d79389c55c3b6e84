//! ND106: an `external` network nothing creates.

use crate::prelude::*;

/// Networks every engine has, which need no declaration.
const PREDEFINED: &[&str] = &["bridge", "host", "none"];

declare_rule! {
    /// ## What it checks
    /// A network marked `external: true` whose name no loaded project creates (for example
    /// `frontend_default` when the other project is actually named `front`).
    ///
    /// ## Why it matters
    /// Compose does not create external networks: `up` fails with "network … declared as
    /// external, but could not be found" until someone runs `docker network create`, and a
    /// misspelt project prefix silently splits two projects that should share it.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   shared: { external: true, name: frontend_default }
    /// ```
    ///
    /// ## Fix
    /// Create the network (`docker network create NAME`) before `up`, or load the project that creates it and check the name matches.
    pub struct ExternalNetworkMissing => Warning, "ND106";
}

impl Check for ExternalNetworkMissing {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let several_projects = cx.model.projects.len() > 1;
        for n in cx.model.networks.iter().filter(|n| n.external && !PREDEFINED.contains(&n.name.as_str())) {
            if cx.model.networks.iter().any(|o| !o.external && o.name == n.name) {
                continue;
            }
            let d = out.report(&n.origin, format!("external network `{}` is not created by any loaded project", n.name));
            d.subjects([n.name.as_str()]).help(format!(
                "create it with `docker network create {}` before `docker compose up`, or check it against the name the owning project gives it (`<project>_<key>`)",
                n.name
            ));
            // With one project loaded, the network may well exist on the engine.
            if !several_projects {
                d.severity(Severity::Info);
            }
        }
    }
}

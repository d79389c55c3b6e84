//! ND103: a service lists a network the project does not declare.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// A service whose `networks:` names a network that the top-level `networks:` does not declare.
    ///
    /// ## Why it matters
    /// `docker compose up` refuses the whole project ("service refers to undefined network").
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api: { image: api, networks: [backnd] }
    /// networks: { backend: {} }
    /// ```
    ///
    /// ## Fix
    /// Declare the network under the top-level `networks:` key, or fix the name in the service.
    pub struct UndefinedNetwork => Error, "ND103";
}

impl Check for UndefinedNetwork {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for w in &cx.model.workloads {
            let project = w.project.as_deref().unwrap_or_default();
            for a in w.attachments.iter().filter(|a| !a.implicit && a.network != "default") {
                if cx.model.network(project, &a.network).is_some() {
                    continue;
                }
                let declared: Vec<&str> = cx.model.networks_of(project).filter(|n| !n.implicit).map(|n| n.key.as_str()).collect();
                let closest =
                    declared.iter().min_by_key(|d| strsim::levenshtein(d, &a.network)).filter(|d| strsim::levenshtein(d, &a.network) <= 2);
                let help = match closest {
                    Some(c) => format!("did you mean `{c}`? Otherwise declare `{}` under the top-level `networks:`", a.network),
                    None => format!("declare `{}` under the top-level `networks:` key", a.network),
                };
                out.report(&a.origin, format!("service `{}` joins network `{}`, which is not declared", w.name, a.network))
                    .subjects([w.name.as_str(), a.network.as_str()])
                    .help(help);
            }
        }
    }
}

//! ND105: `links`, the legacy way to connect containers.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Services that use `links:` (or `external_links:`).
    ///
    /// ## Why it matters
    /// Links neither create nor replace network membership: on user-defined networks every
    /// service already resolves every other by name, and a link to a service on another network
    /// still fails. They are a leftover of the default bridge era and mislead readers.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: web, links: ["db:database"] }
    /// ```
    ///
    /// ## Fix
    /// Delete `links:`; use the service name, or a network alias (`networks: {default: {aliases: [database]}}`) for another name.
    pub struct LegacyLinks => Info, "ND105";
}

impl Check for LegacyLinks {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for w in &cx.model.workloads {
            for (link, key) in w.links.iter().map(|l| (l, "links")).chain(w.external_links.iter().map(|l| (l, "external_links"))) {
                let help = match &link.alias {
                    Some(alias) => format!("drop the link and give `{}` the network alias `{alias}` instead", link.target),
                    None => format!("drop the link: `{}` resolves by its service name on a shared network", link.target),
                };
                out.report(
                    &link.origin,
                    format!("`{}` uses `{key}` to `{}`; links are legacy and add no network membership", w.name, link.target),
                )
                .subjects([w.name.as_str(), link.target.as_str()])
                .help(help);
            }
        }
    }
}

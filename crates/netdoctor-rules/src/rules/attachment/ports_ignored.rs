//! ND109: `ports` on a service whose network mode makes them meaningless.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `ports:` on a service with `network_mode` `host`, `none`, `service:X` or `container:X`.
    ///
    /// ## Why it matters
    /// With the host network the engine discards published ports (the process binds host ports
    /// directly); with `none` there is nothing to publish to; with a shared namespace the ports
    /// must be published on the service that owns it, and Compose rejects them here.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: nginx, network_mode: host, ports: ["8080:80"] }
    /// ```
    ///
    /// ## Fix
    /// Remove the `ports:` (or the `network_mode`); for `service:X`, publish the ports on `X`.
    pub struct PortsIgnored => Warning, "ND109";
}

impl Check for PortsIgnored {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for w in &cx.model.workloads {
            let Some(mode) = &w.network_mode else { continue };
            let (why, help) = match &mode.value {
                NetworkMode::Host => {
                    ("the host network discards published ports", "remove `ports:`: the process listens on host ports directly".to_string())
                }
                NetworkMode::None => {
                    ("`network_mode: none` has no network to publish on", "remove `ports:` or give the service a network".to_string())
                }
                NetworkMode::Service(owner) | NetworkMode::Container(owner) => {
                    ("ports of a shared network namespace must be published by its owner", format!("move these `ports:` to `{owner}`"))
                }
                _ => continue,
            };
            for p in &w.ports {
                out.report(&p.origin, format!("`{}` publishes port {} but {why}", w.name, p.target))
                    .subjects([w.name.as_str()])
                    .help(help.clone());
            }
        }
    }
}

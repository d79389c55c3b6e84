//! ND205: peers addressed by a container's IP instead of its name.

use crate::prelude::*;
use ipnet::IpNet;

declare_rule! {
    /// ## What it checks
    /// A reference (URL or `host:port` in environment, command or healthcheck) to a literal IP
    /// address inside a container network's subnet, or equal to another service's fixed address.
    ///
    /// ## Why it matters
    /// Container addresses change when containers are recreated or networks renumbered; the
    /// configuration then points at nothing, or at a different container.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: web, environment: { API_URL: "http://172.18.0.5:8080" } }
    /// ```
    ///
    /// ## Fix
    /// Refer to the peer by its service name (or a network alias); Docker's DNS keeps it current.
    pub struct HardcodedIp => Warning, "ND205";
}

impl Check for HardcodedIp {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let subnets: Vec<IpNet> =
            cx.analysis.addresses.subnets.iter().map(|s| s.subnet).chain([netdoctor_engine::AddressPlan::docker0()]).collect();
        for w in &cx.model.workloads {
            for r in &w.references {
                let Some(ip) = r.ip() else { continue };
                let owner = cx.model.workloads.iter().find(|o| {
                    o.attachments
                        .iter()
                        .any(|a| [&a.ipv4_address, &a.ipv6_address].into_iter().flatten().any(|f| f.value.parse().ok() == Some(ip)))
                });
                let in_container_range = subnets.iter().any(|s| s.contains(&ip));
                if owner.is_none() && !in_container_range {
                    continue;
                }
                let (message, help) = match owner {
                    Some(o) => (
                        format!("`{}` refers to `{}` by its fixed address {ip} ({})", w.name, o.name, r.via.describe()),
                        format!("use the name `{}` instead of {ip}", o.name),
                    ),
                    None => (
                        format!("`{}` refers to container address {ip} ({}) instead of a name", w.name, r.via.describe()),
                        "use the peer's service name; container addresses change when containers are recreated".to_string(),
                    ),
                };
                out.report(&r.origin, message).subjects([w.name.as_str()]).help(help);
            }
        }
    }
}

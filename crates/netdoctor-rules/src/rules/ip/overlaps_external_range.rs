//! ND202: container subnets over ranges that belong to something else.

use crate::prelude::*;
use netdoctor_engine::SubnetSource;

declare_rule! {
    /// ## What it checks
    /// A network subnet, declared or the one the engine would pick from its default address
    /// pools, that overlaps an external range declared in `netdoctor.toml` (a VPN, the office
    /// LAN, a cloud VPC).
    ///
    /// ## Why it matters
    /// The host then routes that range into the container bridge: hosts on the VPN or LAN
    /// become unreachable from the host and from every container, while everything looks up.
    ///
    /// ## Example
    /// ```toml
    /// # netdoctor.toml
    /// [[external_ranges]]
    /// name = "office-vpn"
    /// cidr = "172.16.0.0/12"
    /// ```
    ///
    /// ## Fix
    /// Give the network an explicit subnet outside the range, or move the engine's `default-address-pools` away from it.
    pub struct OverlapsExternalRange => Error;
}

impl Check for OverlapsExternalRange {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let topology = &cx.analysis.topology;
        for planned in &cx.analysis.addresses.subnets {
            let Some(info) = topology.info(planned.net) else { continue };
            for range in &cx.config.external_ranges {
                let r = range.cidr;
                if !(r.contains(&planned.subnet.network()) || planned.subnet.contains(&r.network())) {
                    continue;
                }
                match &planned.source {
                    SubnetSource::Declared(origin) => {
                        out.report(
                            origin,
                            format!("subnet {} of network `{}` overlaps external range `{}` ({r})", planned.subnet, info.name, range.name),
                        )
                        .subjects([info.name.as_str()])
                        .help(format!("choose a subnet for `{}` outside {r}", info.name));
                    }
                    SubnetSource::Predicted => {
                        let Some(origin) = info.declared.first().and_then(|&d| cx.model.networks.get(d)).map(|n| &n.origin) else {
                            continue;
                        };
                        out.report(
                            origin,
                            format!(
                                "network `{}` has no subnet, and the engine's default pools would give it {} which overlaps external range `{}` ({r})",
                                info.name, planned.subnet, range.name
                            ),
                        )
                        .subjects([info.name.as_str()])
                        .severity(Severity::Warning)
                        .help(format!("set `ipam: {{config: [{{subnet: ...}}]}}` on `{}` outside {r}, or set `default-address-pools` in daemon.json", info.name));
                    }
                }
            }
        }
    }
}

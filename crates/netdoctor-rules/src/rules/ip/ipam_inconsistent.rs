//! ND204: IPAM settings that contradict their own subnet.

use crate::prelude::*;
use ipnet::IpNet;
use netdoctor_model::Located;
use std::net::IpAddr;

declare_rule! {
    /// ## What it checks
    /// An `ipam.config` entry whose `subnet` is malformed or has host bits set, or whose
    /// `ip_range`, `gateway` or `aux_addresses` fall outside its `subnet`.
    ///
    /// ## Why it matters
    /// The engine rejects the network ("invalid subnet", "no matching subnet for range"), so
    /// `docker compose up` stops before any container starts.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   back: { ipam: { config: [{ subnet: 10.10.0.0/24, gateway: 10.10.1.1 }] } }
    /// ```
    ///
    /// ## Fix
    /// Write the subnet in canonical CIDR form and keep `ip_range`, `gateway` and `aux_addresses` inside it.
    pub struct IpamInconsistent => Error, "ND204";
}

impl Check for IpamInconsistent {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for n in &cx.model.networks {
            for config in &n.ipam.configs {
                let Some(subnet) = &config.subnet else { continue };
                let net = match subnet.value.parse::<IpNet>() {
                    Ok(net) if net.trunc() != net => {
                        out.report(&subnet.origin, format!("subnet `{}` of network `{}` has host bits set", subnet.value, n.key))
                            .subjects([n.key.as_str()])
                            .help(format!("write it as `{}`", net.trunc()));
                        net.trunc()
                    }
                    Ok(net) => net,
                    Err(_) => {
                        out.report(
                            &subnet.origin,
                            format!("subnet `{}` of network `{}` is not a CIDR like 10.10.0.0/24", subnet.value, n.key),
                        )
                        .subjects([n.key.as_str()]);
                        continue;
                    }
                };
                if let Some(range) = &config.ip_range {
                    match range.value.parse::<IpNet>() {
                        Ok(r) if net.contains(&r) => {}
                        Ok(_) => outside(out, n, range, "ip_range", &net),
                        Err(_) => malformed(out, n, range, "ip_range", "a CIDR"),
                    }
                }
                let addresses =
                    config.gateway.iter().map(|g| ("gateway", g)).chain(config.aux_addresses.iter().map(|(_, a)| ("aux_addresses", a)));
                for (field, addr) in addresses {
                    match addr.value.parse::<IpAddr>() {
                        Ok(ip) if net.contains(&ip) => {}
                        Ok(_) => outside(out, n, addr, field, &net),
                        Err(_) => malformed(out, n, addr, field, "an IP address"),
                    }
                }
            }
        }
    }
}

fn outside(out: &mut Diagnostics, n: &Network, value: &Located<String>, field: &str, subnet: &IpNet) {
    out.report(&value.origin, format!("{field} `{}` of network `{}` is outside its subnet {subnet}", value.value, n.key))
        .subjects([n.key.as_str()])
        .help(format!("move {field} inside {subnet}, or widen the subnet"));
}

fn malformed(out: &mut Diagnostics, n: &Network, value: &Located<String>, field: &str, expected: &str) {
    out.report(&value.origin, format!("{field} `{}` of network `{}` is not {expected}", value.value, n.key))
        .subjects([n.key.as_str()])
        .help(format!("write {field} as {expected}"));
}

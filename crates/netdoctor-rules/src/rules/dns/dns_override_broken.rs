//! ND302: `dns:` servers a container cannot use.

use crate::prelude::*;
use std::net::IpAddr;

declare_rule! {
    /// ## What it checks
    /// A `dns:` entry that is a loopback address (such as systemd-resolved's 127.0.0.53 copied
    /// from the host's resolv.conf) or not an IP address at all.
    ///
    /// ## Why it matters
    /// Inside a container, loopback is the container itself: nothing listens there, so every
    /// external lookup times out. Docker's embedded DNS forwards to these servers, so service
    /// names may still work while everything else fails, which hides the cause.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app: { image: app, dns: [127.0.0.53] }
    /// ```
    ///
    /// ## Fix
    /// Remove `dns:` to inherit the host's upstream servers, or list a resolver address reachable from the container network.
    pub struct DnsOverrideBroken => Error, "ND302";
}

impl Check for DnsOverrideBroken {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for w in &cx.model.workloads {
            for server in &w.dns {
                let message = match server.value.parse::<IpAddr>() {
                    Ok(ip) if ip.is_loopback() => {
                        format!("`{}` uses DNS server {ip}, a loopback address: inside the container nothing answers there", w.name)
                    }
                    Ok(_) => continue,
                    Err(_) => format!("`dns` entry `{}` of `{}` is not an IP address", server.value, w.name),
                };
                out.report(&server.origin, message).subjects([w.name.as_str()]).help(format!(
                    "remove this `dns:` entry from `{}`, or use the resolver's address on a network the container can reach",
                    w.name
                ));
            }
        }
    }
}

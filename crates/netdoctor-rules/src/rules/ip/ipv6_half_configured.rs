//! ND207: IPv6 switched on without the pieces it needs, or the reverse.

use crate::prelude::*;
use ipnet::IpNet;

declare_rule! {
    /// ## What it checks
    /// A network with `enable_ipv6: true` but no IPv6 subnet, an IPv6 subnet on a network
    /// without `enable_ipv6: true`, or a service's `ipv6_address` on a network without IPv6.
    ///
    /// ## Why it matters
    /// Without an IPv6 subnet the engine needs IPv6 default address pools, which most daemons
    /// lack, and network creation fails; without `enable_ipv6` the IPv6 subnet and addresses are
    /// ignored or rejected, and peers resolving AAAA records get no route.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   app: { enable_ipv6: true }
    /// ```
    ///
    /// ## Fix
    /// Declare an IPv6 subnet (a ULA such as fd00:db8:1::/64) together with `enable_ipv6: true`.
    pub struct Ipv6HalfConfigured => Warning, "ND207";
}

impl Check for Ipv6HalfConfigured {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for n in &cx.model.networks {
            let v6_subnet = n.ipam.configs.iter().find(|c| matches!(c.subnet_net(), Some(IpNet::V6(_))));
            match (n.enable_ipv6, v6_subnet) {
                (Some(true), None) if !n.external => {
                    out.report(&n.origin, format!("network `{}` enables IPv6 but declares no IPv6 subnet", n.key))
                        .subjects([n.key.as_str()])
                        .help(format!("add `- subnet: fd00:db8:1::/64` (any ULA /64) to the ipam config of `{}`", n.key));
                }
                (Some(true), _) | (_, None) => {}
                (_, Some(config)) => {
                    let origin = config.subnet.as_ref().map_or(&n.origin, |s| &s.origin);
                    out.report(origin, format!("network `{}` declares an IPv6 subnet but not `enable_ipv6: true`", n.key))
                        .subjects([n.key.as_str()])
                        .help(format!("add `enable_ipv6: true` to `{}`", n.key));
                }
            }
        }
        for w in &cx.model.workloads {
            let project = w.project.as_deref().unwrap_or_default();
            for a in &w.attachments {
                let (Some(addr), Some(n)) = (&a.ipv6_address, cx.model.network(project, &a.network)) else { continue };
                if n.enable_ipv6 != Some(true) {
                    out.report(&addr.origin, format!("`{}` has an ipv6_address on `{}`, which does not enable IPv6", w.name, a.network))
                        .subjects([w.name.as_str(), a.network.as_str()])
                        .help(format!("add `enable_ipv6: true` and an IPv6 subnet to `{}`", a.network));
                }
            }
        }
    }
}

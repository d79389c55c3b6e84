//! ND601: running out of addresses for networks or containers.

use crate::prelude::*;
use ipnet::IpNet;
use netdoctor_engine::SubnetSource;

declare_rule! {
    /// ## What it checks
    /// Projects that need more networks from the engine's default address pools than they hold
    /// (31 with the built-in pools, one taken by the `bridge` network), or close to it; and
    /// declared subnets too small for the containers that join them.
    ///
    /// ## Why it matters
    /// When the pools run out, `docker compose up` fails with "could not find an available,
    /// non-overlapping IPv4 address pool", typically on a busy CI host or a developer machine
    /// with many projects; a full subnet refuses the next container or replica.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   tiny: { ipam: { config: [{ subnet: 10.10.0.0/30 }] } }
    /// ```
    ///
    /// ## Fix
    /// Give networks explicit subnets, share networks between services, or set `default-address-pools` in daemon.json with smaller subnets (e.g. size 24).
    pub struct AddressPoolExhaustion => Warning;
}

impl Check for AddressPoolExhaustion {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let plan = &cx.analysis.addresses;
        let topology = &cx.analysis.topology;
        let origin_of = |net: netdoctor_engine::NetId| {
            topology.info(net).and_then(|i| i.declared.first()).and_then(|&d| cx.model.networks.get(d)).map(|n| n.origin.clone())
        };
        if let Some(origin) = plan.unserved.first().and_then(|&n| origin_of(n)) {
            out.report(
                &origin,
                format!("these projects need {} networks from the default address pools, which hold {}", plan.pool_demand, plan.pool_capacity),
            )
            .severity(Severity::Error)
            .help("declare explicit subnets for some networks, or set `default-address-pools` with smaller subnets (e.g. size 24) in daemon.json");
        } else if plan.pool_capacity > 0 && plan.pool_demand as f64 >= cx.config.pool_usage_threshold * plan.pool_capacity as f64 {
            if let Some(origin) = plan.subnets.iter().find(|s| s.source == SubnetSource::Predicted).and_then(|s| origin_of(s.net)) {
                out.report(
                    &origin,
                    format!(
                        "these projects use {} of the {} networks the default address pools hold",
                        plan.pool_demand, plan.pool_capacity
                    ),
                )
                .help(
                    "a few more projects on this host will fail to start: declare explicit subnets or set smaller `default-address-pools`",
                );
            }
        }
        for s in &plan.subnets {
            let SubnetSource::Declared(origin) = &s.source else { continue };
            let containers: u64 =
                topology.members(s.net).iter().filter_map(|&w| cx.model.workloads.get(w)).map(|w| u64::from(w.replicas.max(1))).sum();
            let usable = usable_hosts(&s.subnet);
            if containers == 0 || (containers as f64) < cx.config.pool_usage_threshold * usable as f64 {
                continue;
            }
            let name = topology.info(s.net).map_or("", |i| i.name.as_str());
            let d =
                out.report(origin, format!("subnet {} of `{name}` has {usable} usable addresses for {containers} containers", s.subnet));
            d.subjects([name]).help(format!("use a larger subnet for `{name}` (a /24 holds 253 containers)"));
            if containers > usable {
                d.severity(Severity::Error);
            }
        }
    }
}

/// Addresses left for containers: minus network, broadcast and gateway (IPv4).
fn usable_hosts(subnet: &IpNet) -> u64 {
    let host_bits = u32::from(subnet.max_prefix_len() - subnet.prefix_len()).min(63);
    match subnet {
        IpNet::V4(_) => (1u64 << host_bits).saturating_sub(3),
        IpNet::V6(_) => (1u64 << host_bits).saturating_sub(2),
    }
}

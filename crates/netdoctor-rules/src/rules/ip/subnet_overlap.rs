//! ND201: container networks whose subnets overlap.

use crate::prelude::*;
use netdoctor_engine::{AddressPlan, SubnetSource};

declare_rule! {
    /// ## What it checks
    /// Two networks whose declared subnets overlap, or a declared subnet that overlaps the
    /// engine's own `bridge` network (172.17.0.0/16 by default).
    ///
    /// ## Why it matters
    /// The engine refuses to create the second network ("Pool overlaps with other one on this
    /// address space"); where it does not (different hosts, other tools), the host routes the
    /// shared range to only one of them and traffic to the other disappears.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   front: { ipam: { config: [{ subnet: 10.10.0.0/16 }] } }
    ///   back:  { ipam: { config: [{ subnet: 10.10.5.0/24 }] } }
    /// ```
    ///
    /// ## Fix
    /// Give each network its own, non-overlapping subnet.
    pub struct SubnetOverlap => Error;
}

impl Check for SubnetOverlap {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let plan = &cx.analysis.addresses;
        let topology = &cx.analysis.topology;
        let declared: Vec<_> = plan
            .subnets
            .iter()
            .filter_map(|s| match &s.source {
                SubnetSource::Declared(o) => Some((s, o)),
                SubnetSource::Predicted => None,
            })
            .collect();
        let name = |s: &netdoctor_engine::PlannedSubnet| topology.info(s.net).map_or(String::new(), |i| i.name.clone());
        // A live engine tells docker0's real subnet (`bip` may have moved it), and lists
        // no `bridge` network at all when the daemon runs with `--bridge=none`.
        let live_bridge = cx.model.networks.iter().find(|n| n.name == netdoctor_engine::PREDEFINED_BRIDGE && n.live.is_some());
        let docker0 = match live_bridge {
            Some(n) => n.live.as_ref().and_then(|l| l.subnets.first().copied()),
            None if cx.model.engine.is_some() => None,
            None => Some(AddressPlan::docker0()),
        };
        for (i, (a, a_origin)) in declared.iter().enumerate() {
            let is_docker0 = name(a) == netdoctor_engine::PREDEFINED_BRIDGE;
            let overlaps_docker0 = docker0.filter(|d| a.subnet.contains(&d.network()) || d.contains(&a.subnet.network()));
            if let Some(docker0) = overlaps_docker0.filter(|_| !is_docker0) {
                out.report(
                    a_origin,
                    format!("subnet {} of network `{}` overlaps the engine's `bridge` network {docker0}", a.subnet, name(a)),
                )
                .subjects([name(a)])
                .help(format!("pick a subnet outside {docker0}, or move the engine's bridge with `bip` in daemon.json"));
            }
            for (b, b_origin) in declared.iter().skip(i + 1) {
                if a.net == b.net || !(a.subnet.contains(&b.subnet.network()) || b.subnet.contains(&a.subnet.network())) {
                    continue;
                }
                out.report(
                    b_origin,
                    format!("subnet {} of network `{}` overlaps subnet {} of network `{}`", b.subnet, name(b), a.subnet, name(a)),
                )
                .subjects([name(b), name(a)])
                .related(a_origin, format!("`{}` takes {} here", name(a), a.subnet))
                .help(format!("give `{}` a subnet that does not overlap {}", name(b), a.subnet));
            }
        }
    }
}

//! ND511: peers that only share networks on which inter-container traffic is off.

use crate::prelude::*;
use netdoctor_engine::Resolution;
use std::collections::HashSet;

declare_rule! {
    /// ## What it checks
    /// A workload that refers to a peer while every network they share has inter-container
    /// communication turned off (`com.docker.network.bridge.enable_icc=false`, or the daemon's
    /// `--icc=false` on the default bridge).
    ///
    /// ## Why it matters
    /// With ICC off, Docker drops forwarded traffic between two containers of the bridge. Names
    /// still resolve and addresses are right, so connections simply time out, and every check
    /// short of the firewall says the path is fine.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app: { image: app, environment: { DB_HOST: db } }
    ///   db: { image: postgres }
    /// networks:
    ///   default: { driver_opts: { com.docker.network.bridge.enable_icc: "false" } }
    /// ```
    ///
    /// ## Fix
    /// Remove the `enable_icc` option (the network must be recreated), or put the two on a network that allows inter-container traffic.
    pub struct IccDisabled => Error, "ND511";
}

impl Check for IccDisabled {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for (i, w) in cx.model.workloads.iter().enumerate() {
            let mut reported = HashSet::new();
            for r in &w.references {
                let targets = match cx.analysis.resolve(i, &r.host) {
                    Resolution::Resolved { targets, .. } | Resolution::NoEmbeddedDns { targets, .. } => targets,
                    Resolution::Link(t) => vec![t],
                    _ if r.via == ReferenceVia::DependsOn => {
                        cx.model.workloads.iter().position(|o| o.project == w.project && o.name == r.host).into_iter().collect()
                    }
                    _ => continue,
                };
                for t in targets.into_iter().filter(|&t| t != i) {
                    let shared = cx.analysis.shared_networks(i, t);
                    if shared.is_empty() || !shared.iter().all(|&n| cx.analysis.icc_off(n)) || !reported.insert(t) {
                        continue;
                    }
                    let Some(peer) = cx.model.workloads.get(t) else { continue };
                    let names: Vec<&str> = shared.iter().filter_map(|&n| cx.analysis.topology.info(n)).map(|n| n.name.as_str()).collect();
                    out.report(
                        &r.origin,
                        format!(
                            "`{}` refers to `{}` ({}), but inter-container traffic is disabled on `{}` (enable_icc=false), the only network they share",
                            w.name,
                            r.host,
                            r.via.describe(),
                            names.join("`, `")
                        ),
                    )
                    .subjects([w.name.as_str(), peer.name.as_str()])
                    .help(format!(
                        "remove `com.docker.network.bridge.enable_icc` from `{}` (recreate the network), or connect `{}` and `{}` to a network that allows it",
                        names.join("`, `"),
                        w.name,
                        peer.name
                    ));
                }
            }
        }
    }
}

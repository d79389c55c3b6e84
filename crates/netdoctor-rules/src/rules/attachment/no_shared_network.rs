//! ND102: a workload refers to a peer it shares no network with.

use super::on_predefined_bridge;
use crate::prelude::*;
use netdoctor_engine::{Resolution, Stack};
use netdoctor_model::ReferenceVia;
use std::collections::HashSet;

declare_rule! {
    /// ## What it checks
    /// A workload that refers to another (a host in a URL or `host:port` in its environment,
    /// command or healthcheck, `depends_on`, `links`) while the two share no network.
    ///
    /// ## Why it matters
    /// Containers on different networks cannot reach each other: the name does not resolve and
    /// there is no route. This is the most common reason a Compose service "cannot see" another,
    /// typically after a `networks:` list was added to one service but not the other.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: web, environment: { DB_URL: "postgres://db:5432/app" } }  # on `default`
    ///   db:  { image: postgres, networks: [backend] }
    /// networks: { backend: {} }
    /// ```
    ///
    /// ## Fix
    /// Attach one workload to a network the other is on (add it to its `networks:` list).
    pub struct NoSharedNetwork => Error, "ND102";
}

impl Check for NoSharedNetwork {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for (i, w) in cx.model.workloads.iter().enumerate() {
            let mut reported = HashSet::new();
            let mut refs: Vec<_> = w.references.iter().collect();
            // Lookups first: they are the stronger evidence, and win the per-peer slot.
            refs.sort_by_key(|r| r.via == ReferenceVia::DependsOn);
            for r in refs {
                let targets = if r.via.is_lookup() {
                    match cx.analysis.resolve(i, &r.host) {
                        Resolution::NotShared { targets } => targets,
                        _ => continue,
                    }
                } else {
                    match dependency_without_network(cx, i, &r.host) {
                        Some(t) => vec![t],
                        None => continue,
                    }
                };
                if on_predefined_bridge(cx, i) || targets.iter().any(|&t| on_predefined_bridge(cx, t)) {
                    continue; // ND101 explains this case better.
                }
                let Some(&t) = targets.first() else { continue };
                let Some(peer) = cx.model.workloads.get(t) else { continue };
                if !reported.insert(t) {
                    continue;
                }
                let d =
                    out.report(&r.origin, format!("`{}` refers to `{}` ({}) but they share no network", w.name, r.host, r.via.describe()));
                d.subjects([w.name.as_str(), peer.name.as_str()]).help(fix(cx, i, t));
                if !r.via.is_lookup() {
                    d.severity(Severity::Warning);
                }
                d.related(&peer.origin, format!("`{}` is defined here", peer.name));
            }
        }
    }
}

/// For `depends_on: [name]`: the dependency, when both have their own network stacks
/// but no network in common.
fn dependency_without_network(cx: &RuleContext<'_>, from: usize, name: &str) -> Option<usize> {
    let w = cx.model.workloads.get(from)?;
    let t = cx.model.workloads.iter().position(|o| o.project == w.project && o.name == name)?;
    let topology = &cx.analysis.topology;
    let own = |x: usize| matches!(topology.stack(x), Stack::Own | Stack::Shared(_)) && !topology.networks_of(x).is_empty();
    (own(from) && own(t) && cx.analysis.shared_networks(from, t).is_empty()).then_some(t)
}

/// Names a network of the peer that the referring workload could join.
fn fix(cx: &RuleContext<'_>, from: usize, to: usize) -> String {
    let (Some(w), Some(peer)) = (cx.model.workloads.get(from), cx.model.workloads.get(to)) else { return String::new() };
    let topology = &cx.analysis.topology;
    let peer_net = topology.networks_of(to).iter().find_map(|&n| {
        let name = &topology.info(n)?.name;
        cx.model.networks.iter().find(|m| &m.name == name && m.project == w.project).map(|m| m.key.clone())
    });
    if let (Some(container), Some(net)) = (w.live_only_container(), topology.networks_of(to).first().and_then(|&n| topology.info(n))) {
        return format!(
            "connect `{}` to `{}`, the network `{}` is on: `docker network connect {} {container}`",
            w.name, net.name, peer.name, net.name
        );
    }
    match peer_net {
        Some(key) => format!("add `{key}` to the `networks:` of `{}` (it is the network `{}` is on)", w.name, peer.name),
        None => format!("put `{}` and `{}` on a common network (an `external` network both projects join)", w.name, peer.name),
    }
}

//! ND307: one name, several unrelated workloads.

use crate::prelude::*;
use netdoctor_engine::NameKind;

declare_rule! {
    /// ## What it checks
    /// A name (service name, `container_name` or network alias) that two different services
    /// answer to on the same network, including services of two projects that share a network.
    ///
    /// ## Why it matters
    /// Docker's DNS returns both addresses and clients pick one at random: requests go to the
    /// wrong service part of the time, which looks like flakiness rather than misconfiguration.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db:      { image: postgres }
    ///   replica: { image: postgres, networks: { default: { aliases: [db] } } }
    /// ```
    ///
    /// ## Fix
    /// Give each service its own alias; on a network shared between projects, use project-specific aliases.
    pub struct AliasCollision => Warning, "ND307";
}

impl Check for AliasCollision {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let topology = &cx.analysis.topology;
        for (i, info) in topology.nets.iter().enumerate() {
            let net = netdoctor_engine::NetId(i);
            let mut served: Vec<_> = cx.analysis.names.served_on(net).filter(|(_, who)| who.len() > 1).collect();
            served.sort_by(|a, b| a.0.cmp(b.0));
            for (name, who) in served {
                let mut holders: Vec<_> = who.iter().filter_map(|&(w, kind)| Some((cx.model.workloads.get(w)?, kind))).collect();
                // Point at the most specific claim: an alias, then a container name.
                holders.sort_by_key(|(_, kind)| match kind {
                    NameKind::Alias => 0,
                    NameKind::ContainerName => 1,
                    NameKind::Service => 2,
                });
                let Some(&(first, kind)) = holders.first() else { continue };
                let origin = claim_origin(first, kind, name, &info.name, cx);
                let others: Vec<&str> = holders.iter().skip(1).map(|(w, _)| w.name.as_str()).collect();
                out.report(
                    &origin,
                    format!("`{name}` on network `{}` answers for `{}` and `{}`", info.name, first.name, others.join("`, `")),
                )
                .subjects(std::iter::once(first.name.as_str()).chain(others.iter().copied()))
                .help(format!("rename the alias or container name so `{name}` means one service on `{}`", info.name));
            }
        }
    }
}

/// Where `w` claims `name` on network `net_name`.
fn claim_origin(w: &Workload, kind: NameKind, name: &str, net_name: &str, cx: &RuleContext<'_>) -> Origin {
    let project = w.project.as_deref().unwrap_or_default();
    match kind {
        NameKind::Alias => w
            .attachments
            .iter()
            .filter(|a| cx.model.network(project, &a.network).is_some_and(|n| n.name == net_name))
            .flat_map(|a| a.aliases.iter())
            .find(|al| al.value.eq_ignore_ascii_case(name))
            .map_or_else(|| w.origin.clone(), |al| al.origin.clone()),
        NameKind::ContainerName => w.container_name.as_ref().map_or_else(|| w.origin.clone(), |c| c.origin.clone()),
        NameKind::Service => w.origin.clone(),
    }
}

//! Which names each network's DNS answers, and how a name one workload uses resolves.
//!
//! Docker's embedded DNS (127.0.0.11) answers, on each user-defined network, the
//! container names, the network-scoped aliases, and the service name (Compose adds it
//! as an alias). It does not answer `hostname:` values, and on the predefined
//! `bridge` network it answers nothing.

use crate::topology::{NetId, Stack, Topology};
use netdoctor_model::Model;
use std::collections::HashMap;
use std::net::IpAddr;

/// Replicas per workload whose default container names (`proj-web-7`) the table lists.
/// Nothing bounds `scale`, and listing a name for each of `scale: 4294967295` replicas
/// would exhaust memory; a name past this many is treated as unknown.
const MAX_NAMED_REPLICAS: u32 = 1000;

/// Why a workload answers to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    Service,
    ContainerName,
    Alias,
}

/// How a name used by a workload resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// `localhost`, a loopback address, or the workload's own name.
    Local,
    /// A literal IP address: nothing to resolve.
    Literal(IpAddr),
    /// An `extra_hosts` entry of the workload.
    ExtraHost,
    /// A `links` entry of the workload (an `/etc/hosts` line the engine writes).
    Link(usize),
    /// Served by the DNS of a network the workload shares with the targets.
    Resolved { targets: Vec<usize>, network: NetId },
    /// The targets share a network with the workload, but that network has no
    /// embedded DNS (the predefined `bridge`).
    NoEmbeddedDns { targets: Vec<usize>, network: NetId },
    /// Served only on networks the workload is not on.
    NotShared { targets: Vec<usize> },
    /// Only a `hostname:` of the target, which no DNS serves to peers.
    HostnameOnly(usize),
    /// The workload uses the host's (or no) network stack: container names never resolve.
    NoContainerDns { targets: Vec<usize> },
    /// A dotted name the model knows nothing about: presumably outside.
    External,
    /// A single-label name nothing answers to.
    Unknown { suggestion: Option<String> },
}

/// The names each network serves, and every known name for suggestions.
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    per_net: Vec<HashMap<String, Vec<(usize, NameKind)>>>,
    hostnames: HashMap<String, Vec<usize>>,
    /// Every name any network serves, with who answers it.
    everywhere: HashMap<String, Vec<usize>>,
}

impl NameTable {
    pub fn build(model: &Model, topology: &Topology) -> NameTable {
        let mut table = NameTable { per_net: vec![HashMap::new(); topology.nets.len()], ..Default::default() };
        for (w, workload) in model.workloads.iter().enumerate() {
            if let Some(h) = &workload.hostname {
                table.hostnames.entry(h.value.to_ascii_lowercase()).or_default().push(w);
            }
            // A workload sharing another's namespace gets no DNS entries of its own.
            if !matches!(topology.stack(w), Stack::Own) {
                continue;
            }
            for &net in topology.networks_of(w) {
                let dns = topology.info(net).is_some_and(|i| i.dns);
                let mut names: Vec<(String, NameKind)> = vec![(workload.name.clone(), NameKind::Service)];
                match &workload.container_name {
                    Some(c) => names.push((c.value.clone(), NameKind::ContainerName)),
                    None => {
                        let replicas = workload.replicas.clamp(1, MAX_NAMED_REPLICAS);
                        names.extend((1..=replicas).map(|n| (workload.default_container_name(n), NameKind::ContainerName)))
                    }
                }
                let key = topology.info(net).map(|i| i.name.as_str()).unwrap_or_default();
                if let Some(a) = workload
                    .attachments
                    .iter()
                    .find(|a| model.network(workload.project.as_deref().unwrap_or_default(), &a.network).is_some_and(|n| n.name == key))
                {
                    names.extend(a.aliases.iter().map(|al| (al.value.clone(), NameKind::Alias)));
                }
                for (name, kind) in names {
                    let name = name.to_ascii_lowercase();
                    table.everywhere.entry(name.clone()).or_default().push(w);
                    if dns {
                        if let Some(map) = table.per_net.get_mut(net.0) {
                            let entry = map.entry(name).or_default();
                            if !entry.iter().any(|(o, _)| *o == w) {
                                entry.push((w, kind));
                            }
                        }
                    }
                }
            }
        }
        for list in table.everywhere.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        table
    }

    /// The workloads answering `name` on network `net`, with why.
    pub fn on_network(&self, net: NetId, name: &str) -> &[(usize, NameKind)] {
        self.per_net.get(net.0).and_then(|m| m.get(&name.to_ascii_lowercase())).map_or(&[], Vec::as_slice)
    }

    /// Every name served on network `net`, with who answers it.
    pub fn served_on(&self, net: NetId) -> impl Iterator<Item = (&String, &Vec<(usize, NameKind)>)> {
        self.per_net.get(net.0).into_iter().flat_map(|m| m.iter())
    }

    pub fn resolve(&self, model: &Model, topology: &Topology, from: usize, name: &str) -> Resolution {
        let lower = name.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = lower.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return if ip.is_loopback() { Resolution::Local } else { Resolution::Literal(ip) };
        }
        let Some(workload) = model.workloads.get(from) else { return Resolution::External };
        if lower == "localhost" || self.is_own_name(model, from, &lower) {
            return Resolution::Local;
        }
        if workload.extra_hosts.iter().any(|h| h.name.eq_ignore_ascii_case(&lower)) {
            return Resolution::ExtraHost;
        }
        if let Some(target) = self.link_target(model, topology, from, &lower) {
            return Resolution::Link(target);
        }
        let everywhere = self.everywhere.get(&lower).cloned().unwrap_or_default();
        if matches!(topology.stack(from), Stack::Host | Stack::None) && !everywhere.is_empty() {
            return Resolution::NoContainerDns { targets: everywhere };
        }
        for &net in topology.networks_of(from) {
            let hits: Vec<usize> = self.on_network(net, &lower).iter().map(|(w, _)| *w).collect();
            if !hits.is_empty() {
                return Resolution::Resolved { targets: hits, network: net };
            }
        }
        if !everywhere.is_empty() {
            let mine = topology.networks_of(from);
            for &t in &everywhere {
                if let Some(&net) = topology.networks_of(t).iter().find(|n| mine.contains(n)) {
                    if topology.info(net).is_some_and(|i| !i.dns) {
                        return Resolution::NoEmbeddedDns { targets: everywhere, network: net };
                    }
                }
            }
            return Resolution::NotShared { targets: everywhere };
        }
        if let Some(&target) = self.hostnames.get(&lower).and_then(|v| v.first()) {
            return Resolution::HostnameOnly(target);
        }
        if lower.contains('.') {
            return Resolution::External;
        }
        Resolution::Unknown { suggestion: self.closest(&lower) }
    }

    fn is_own_name(&self, model: &Model, w: usize, name: &str) -> bool {
        let Some(workload) = model.workloads.get(w) else { return false };
        workload.hostname.as_ref().is_some_and(|h| h.value.eq_ignore_ascii_case(name))
    }

    /// The workload a `links:` entry of `from` names as `name`.
    fn link_target(&self, model: &Model, topology: &Topology, from: usize, name: &str) -> Option<usize> {
        let workload = model.workloads.get(from)?;
        let project = workload.project.as_deref();
        workload.links.iter().find_map(|l| {
            let alias = l.alias.as_deref().unwrap_or(&l.target);
            if !alias.eq_ignore_ascii_case(name) {
                return None;
            }
            let target = model.workloads.iter().position(|o| o.project.as_deref() == project && o.name == l.target)?;
            // A link only works between containers that share a network.
            let shared = topology.networks_of(from).iter().any(|n| topology.networks_of(target).contains(n));
            shared.then_some(target)
        })
    }

    /// The known name closest to `name`, if close enough to be a likely typo.
    pub fn closest(&self, name: &str) -> Option<String> {
        let limit = (name.len() / 3).clamp(1, 3);
        let mut best: Option<(usize, &String)> = None;
        for candidate in self.everywhere.keys().chain(self.hostnames.keys()) {
            let d = strsim::damerau_levenshtein(name, candidate);
            if d <= limit && best.is_none_or(|(bd, bn)| (d, candidate) < (bd, bn)) {
                best = Some((d, candidate));
            }
        }
        best.map(|(_, n)| n.clone())
    }
}

//! ND506: nodes whose CNI configuration directories differ.

use crate::prelude::*;
use ipnet::IpNet;
use netdoctor_model::host::{CniConfig, CniPlugin, NodeCni};
use netdoctor_model::Located;
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// The CNI configuration directories (`/etc/cni/net.d`) of several nodes read together
    /// (`--host-facts DIR` holding `nodes/<node-name>/`, or `--host-facts` given once per node):
    /// which configuration is in effect (the first by file name that loads), the files the
    /// directory holds, and in the configuration in effect its plugin chain (types in order),
    /// `cniVersion`, the versions plugins state, IPAM subnets and ranges, and MTUs. The nodes
    /// that differ from the most common configuration are reported at the differing value;
    /// with no majority (two nodes), the difference is reported once, naming every node.
    ///
    /// ## Why it matters
    /// Pods then get a different network depending on where they are scheduled: a missing
    /// `portmap` breaks `hostPort` on one node, a smaller MTU drops large packets between some
    /// pods only, an old plugin binary or `cniVersion` fails pod creation on one node. Such
    /// problems come and go with scheduling and are hard to trace to the node.
    ///
    /// ## Example
    /// ```text
    /// nodes/worker-1/cni/10-calico.conflist   # calico, portmap; mtu 1440
    /// nodes/worker-2/cni/10-calico.conflist   # calico, bandwidth, portmap
    /// nodes/worker-3/cni/10-calico.conflist   # calico, portmap; mtu 1400
    /// ```
    ///
    /// ## Fix
    /// Make the nodes' CNI configurations match. The usual cause is a CNI DaemonSet rollout
    /// that did not finish on some nodes (check `kubectl -n kube-system rollout status`, then
    /// restart its pod on the odd node) or a node provisioned by hand: copy the configuration
    /// the other nodes have, or rebuild the node from the same template.
    ///
    /// ## Known limits
    /// A `host-local` range is expected to differ per node when it is the node's own pod
    /// range: it counts as "per-node" when it equals the node's `podCIDR` (from the Node
    /// objects read), and, for a node whose podCIDR is unknown, when no other node has the
    /// same range; only its prefix length is then compared. Two nodes given the same range
    /// look alike here (ND201 reports overlapping podCIDRs). Files other than the one in effect
    /// are compared by name only, as runtimes ignore their content. Nodes whose facts could
    /// not be read are left out, and so are nodes captured without CNI files (an empty
    /// `cni/` directory counts as an empty `/etc/cni/net.d`; a bundle cannot say).
    pub struct CniConfigDrift => Warning, "ND506";
}

/// One node's value of one compared setting.
struct Entry<'a> {
    node: &'a str,
    /// What is compared: equal keys are the same configuration.
    key: String,
    /// The value for messages.
    shown: String,
    origin: Origin,
    /// The node's plugin chain, to point at the first plugin that differs.
    chain: &'a [CniPlugin],
    /// The node's configuration files, to point at the first one the common directory lacks.
    configs: &'a [CniConfig],
}

/// A setting compared across nodes, with its words for messages.
struct Aspect<'a> {
    /// Whose setting: `10-calico.conflist`, `CNI directory`.
    subject: String,
    /// The verb for one node and for several: `has`/`have`.
    verb: (&'static str, &'static str),
    /// What the value is, before it in messages: `plugin chain `, `calico MTU `.
    what: String,
    /// The setting as a noun, for a difference without majority: `10-calico.conflist's plugin chain`.
    noun: String,
    entries: Vec<Entry<'a>>,
}

impl Check for CniConfigDrift {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(facts) = &cx.model.host else { return };
        let nodes = &facts.cluster_cni;
        if nodes.len() < 2 {
            return;
        }
        let pod_cidrs: BTreeMap<&str, &[IpNet]> = cx.model.k8s.nodes.iter().map(|n| (n.name.as_str(), n.pod_cidrs.as_slice())).collect();

        // The configuration in effect first; the rest is compared only between the nodes
        // that use the most common file, since other files differ in everything.
        let in_effect = Aspect {
            subject: "runtime".into(),
            verb: ("uses", "use"),
            what: "CNI configuration ".into(),
            noun: "the CNI configuration in use".into(),
            entries: nodes
                .iter()
                .map(|n| match n.in_effect() {
                    Some(c) => {
                        Entry { node: &n.node, key: c.file.clone(), shown: describe(c), origin: c.origin.clone(), chain: &[], configs: &[] }
                    }
                    None => Entry {
                        node: &n.node,
                        key: String::new(),
                        shown: if n.configs.is_empty() { "none (the directory is empty)" } else { "none (no configuration loads)" }.into(),
                        origin: n.configs.first().map_or_else(|| n.origin.clone(), |c| c.origin.clone()),
                        chain: &[],
                        configs: &[],
                    },
                })
                .collect(),
        };
        let common = majority(&in_effect.entries).map(|i| i.key.clone());
        report(out, &in_effect);
        let Some(common) = common.filter(|k| !k.is_empty()) else { return };
        let same: Vec<(&NodeCni, &CniConfig)> =
            nodes.iter().filter_map(|n| n.in_effect().filter(|c| c.file == common).map(|c| (n, c))).collect();
        if same.len() < 2 {
            return;
        }
        for aspect in aspects(&common, &same, &pod_cidrs) {
            report(out, &aspect);
        }
    }
}

/// `10-calico.conflist (calico, portmap)`.
fn describe(c: &CniConfig) -> String {
    if c.plugins.is_empty() {
        c.file.clone()
    } else {
        format!("{} ({})", c.file, c.plugins.join(", "))
    }
}

/// The settings compared between nodes that use the same file.
fn aspects<'a>(file: &str, same: &[(&'a NodeCni, &'a CniConfig)], pod_cidrs: &BTreeMap<&str, &[IpNet]>) -> Vec<Aspect<'a>> {
    let aspect = |subject: &str, verb, what: &str| Aspect {
        subject: subject.into(),
        verb,
        what: what.into(),
        noun: format!("{subject}'s {}", what.trim_end()),
        entries: Vec::new(),
    };
    let mut files = aspect("CNI directory", ("holds", "hold"), "");
    files.noun = "the CNI directory's files".into();
    let mut version = aspect(file, ("has", "have"), "cniVersion ");
    let mut chain = aspect(file, ("has", "have"), "plugin chain ");
    for (n, c) in same {
        let names: Vec<&str> = n.configs.iter().map(|c| c.file.as_str()).collect();
        let (key, origin) = (names.join(", "), c.origin.clone());
        files.entries.push(Entry { node: &n.node, shown: key.clone(), key, origin, chain: &[], configs: &n.configs });
        let v = c.cni_version.clone().unwrap_or_else(|| "not set".into());
        let origin = c.cni_version_origin.clone().unwrap_or_else(|| c.origin.clone());
        version.entries.push(Entry { node: &n.node, key: v.clone(), shown: v, origin, chain: &[], configs: &[] });
        let kinds: Vec<&str> = c.chain.iter().map(|p| p.kind.as_str()).collect();
        let origin = c.chain.first().map_or_else(|| c.origin.clone(), |p| p.origin.clone());
        chain.entries.push(Entry { node: &n.node, key: kinds.join(", "), shown: kinds.join(", "), origin, chain: &c.chain, configs: &[] });
    }
    let mut out = vec![files, version, chain];
    // Per plugin type, between the nodes whose chain has it (the first of that type).
    let mut kinds: Vec<&str> = Vec::new();
    for (_, c) in same {
        for p in &c.chain {
            if !kinds.contains(&p.kind.as_str()) {
                kinds.push(&p.kind);
            }
        }
    }
    for kind in kinds {
        let with: Vec<(&str, &CniPlugin)> =
            same.iter().filter_map(|(n, c)| c.chain.iter().find(|p| p.kind == kind).map(|p| (n.node.as_str(), p))).collect();
        let mut version = aspect(file, ("has", "have"), &format!("{kind} version "));
        let mut mtu = aspect(file, ("has", "have"), &format!("{kind} MTU "));
        let mut ipam = aspect(file, ("has", "have"), &format!("{kind} IPAM "));
        for (node, plugin) in &with {
            let setting = |value: Option<&Located<String>>| match value {
                Some(v) => (v.value.clone(), v.origin.clone()),
                None => ("not set".to_string(), plugin.origin.clone()),
            };
            let (v, origin) = setting(plugin.version.as_ref());
            version.entries.push(Entry { node, key: v.clone(), shown: v, origin, chain: &[], configs: &[] });
            let (v, origin) = setting(plugin.mtu.as_ref());
            mtu.entries.push(Entry { node, key: v.clone(), shown: v, origin, chain: &[], configs: &[] });
        }
        // Ranges: a host-local range that is the node's own is shown by its size only.
        let raw: Vec<Vec<String>> = with
            .iter()
            .map(|(_, p)| p.ipam.as_ref().map(|i| i.ranges.iter().map(|r| r.value.clone()).collect()).unwrap_or_default())
            .collect();
        for ((node, plugin), ranges) in with.iter().zip(&raw) {
            let Some(section) = &plugin.ipam else {
                ipam.entries.push(Entry {
                    node,
                    key: "not set".into(),
                    shown: "not set".into(),
                    origin: plugin.origin.clone(),
                    chain: &[],
                    configs: &[],
                });
                continue;
            };
            let host_local = section.kind.as_deref() == Some("host-local");
            let known = pod_cidrs.get(node).copied().filter(|c| !c.is_empty());
            let shown: Vec<String> = ranges
                .iter()
                .map(|range| {
                    let subnet = range.split(' ').next().and_then(|s| s.parse::<IpNet>().ok());
                    let per_node = match (host_local, subnet, known) {
                        (true, Some(s), Some(cidrs)) => cidrs.contains(&s),
                        (true, Some(_), None) => raw.iter().filter(|other| other.contains(range)).count() == 1,
                        _ => false,
                    };
                    match subnet {
                        Some(s) if per_node => format!("per-node /{}", s.prefix_len()),
                        _ => range.clone(),
                    }
                })
                .collect();
            let kind = section.kind.clone().unwrap_or_else(|| "(no type)".into());
            let value = if shown.is_empty() { kind } else { format!("{kind} {}", shown.join(", ")) };
            // Point at the first range that is not per-node, where a difference is likeliest.
            let origin = section
                .ranges
                .iter()
                .zip(&shown)
                .find(|(_, s)| !s.starts_with("per-node"))
                .map_or_else(|| section.origin.clone(), |(r, _)| r.origin.clone());
            ipam.entries.push(Entry { node, key: value.clone(), shown: value, origin, chain: &[], configs: &[] });
        }
        out.extend([version, mtu, ipam]);
    }
    out
}

/// The entry of the most common value, when one value is held by more nodes than any other.
fn majority<'e, 'a>(entries: &'e [Entry<'a>]) -> Option<&'e Entry<'a>> {
    let groups = groups(entries);
    let mut sizes: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    match sizes.as_slice() {
        [top, second, ..] if top > second => groups.iter().find(|g| g.len() == *top).and_then(|g| g.first().copied()),
        [_] => entries.first(),
        _ => None,
    }
}

/// The entries grouped by value, in the order values first appear (nodes are sorted by name).
fn groups<'e, 'a>(entries: &'e [Entry<'a>]) -> Vec<Vec<&'e Entry<'a>>> {
    let mut out: Vec<Vec<&Entry<'a>>> = Vec::new();
    for e in entries {
        match out.iter_mut().find(|g| g.first().is_some_and(|f| f.key == e.key)) {
            Some(group) => group.push(e),
            None => out.push(vec![e]),
        }
    }
    out
}

/// Where a node's chain first differs from `common`'s: the first plugin out of place.
fn chain_origin(odd: &Entry<'_>, common: &Entry<'_>) -> Origin {
    odd.chain
        .iter()
        .enumerate()
        .find(|(i, p)| common.chain.get(*i).is_none_or(|c| c.kind != p.kind))
        .map_or_else(|| odd.origin.clone(), |(_, p)| p.origin.clone())
}

/// Where a node's directory first differs from `common`'s: the first file it lacks.
fn files_origin(odd: &Entry<'_>, common: &Entry<'_>) -> Origin {
    odd.configs
        .iter()
        .find(|c| !common.configs.iter().any(|other| other.file == c.file))
        .map_or_else(|| odd.origin.clone(), |c| c.origin.clone())
}

fn nodes_word(n: usize) -> &'static str {
    if n == 1 {
        "node"
    } else {
        "nodes"
    }
}

/// The help of a finding about `node`, or about every node when there is no majority.
fn fix(node: Option<&str>) -> String {
    let cause = "a CNI DaemonSet rollout that did not finish (restart the CNI pod there) or a node provisioned by hand \
                 (copy the configuration the other nodes have)";
    match node {
        Some(node) => format!("make node {node}'s CNI configuration match the other nodes'; the usual cause is {cause}"),
        None => format!("make the nodes' CNI configurations match (decide which one is right); the usual cause is {cause}"),
    }
}

/// Reports the nodes that differ from the most common value, or the difference once when
/// no value is the most common.
fn report(out: &mut Diagnostics, aspect: &Aspect<'_>) {
    let groups = groups(&aspect.entries);
    if groups.len() < 2 {
        return;
    }
    let (one, many) = aspect.verb;
    match majority(&aspect.entries) {
        Some(common) => {
            let count = groups.iter().find(|g| g.first().is_some_and(|f| f.key == common.key)).map_or(0, Vec::len);
            for odd in aspect.entries.iter().filter(|e| e.key != common.key) {
                let origin = if !odd.chain.is_empty() {
                    chain_origin(odd, common)
                } else if !odd.configs.is_empty() {
                    files_origin(odd, common)
                } else {
                    odd.origin.clone()
                };
                let verb = if count == 1 { one } else { many };
                out.report(
                    &origin,
                    format!(
                        "node {}'s {} {one} {}{}; {count} other {} {verb} {}",
                        odd.node,
                        aspect.subject,
                        aspect.what,
                        odd.shown,
                        nodes_word(count),
                        common.shown
                    ),
                )
                .related(&common.origin, format!("node {}: {}{}", common.node, aspect.what, common.shown))
                .help(fix(Some(odd.node)));
            }
        }
        None => {
            let Some(first) = aspect.entries.first() else { return };
            let parts: Vec<String> = groups
                .iter()
                .map(|g| {
                    let names: Vec<&str> = g.iter().map(|e| e.node).collect();
                    let shown = g.first().map_or("", |e| e.shown.as_str());
                    format!("{} {} {} {shown}", nodes_word(names.len()), names.join(", "), if names.len() == 1 { one } else { many })
                })
                .collect();
            let d = out.report(&first.origin, format!("{} differs between nodes: {}", aspect.noun, parts.join("; ")));
            for e in aspect.entries.iter().skip(1) {
                d.related(&e.origin, format!("node {}: {}{}", e.node, aspect.what, e.shown));
            }
            d.help(fix(None));
        }
    }
}

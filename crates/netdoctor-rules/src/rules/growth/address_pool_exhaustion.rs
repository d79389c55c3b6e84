//! ND601: running out of addresses for networks or containers.

use crate::prelude::*;
use ipnet::IpNet;
use netdoctor_engine::policy::matches_expr;
use netdoctor_engine::SubnetSource;
use netdoctor_model::k8s::{CalicoPool, RangeKind, RangeOwner};

declare_rule! {
    /// ## What it checks
    /// Projects that need more networks from the engine's default address pools than they hold
    /// (31 with the built-in pools, one taken by the `bridge` network), or close to it;
    /// declared subnets too small for the containers that join them; Calico IPPools with
    /// fewer blocks (2^(blockSize - prefix)) than the nodes their `nodeSelector` picks; and
    /// Cilium's cluster-pool ranges with fewer node ranges (2^(mask size - prefix), over all
    /// of `cluster-pool-ipv4-cidr`) than the cluster has nodes.
    ///
    /// ## Why it matters
    /// When the pools run out, `docker compose up` fails with "could not find an available,
    /// non-overlapping IPv4 address pool", typically on a busy CI host or a developer machine
    /// with many projects; a full subnet refuses the next container or replica. Calico hands
    /// each node at least one block: a node left without one borrows single addresses from
    /// other nodes' blocks, or gets none when IPAM's `strictAffinity` is on.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   tiny: { ipam: { config: [{ subnet: 10.10.0.0/30 }] } }
    /// ```
    ///
    /// ## Fix
    /// Give networks explicit subnets, share networks between services, or set `default-address-pools` in daemon.json with smaller subnets (e.g. size 24).
    /// For a Calico pool, use a larger `cidr` or a smaller block (a larger `blockSize`), chosen before the pool hands out addresses: `blockSize` cannot change afterwards.
    ///
    /// ## Known limits
    /// Each Calico pool is counted on its own: nodes that another enabled pool also selects may take their block there. Disabled pools are left out.
    pub struct AddressPoolExhaustion => Warning, "ND601";
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
        calico_blocks(cx, out);
        cilium_node_ranges(cx, out);
    }
}

/// Cilium's cluster-pool IPAM with fewer node ranges than nodes: a node without one gets
/// no pod address at all (the operator has nothing to hand it).
fn cilium_node_ranges(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    let k8s = &cx.model.k8s;
    let Some(config) = k8s.cilium_config.as_ref().filter(|c| c.ipam_mode() == "cluster-pool") else { return };
    let nodes = k8s.nodes.len();
    if nodes == 0 {
        return;
    }
    let mask = config.ipv4_mask_size();
    let pools: Vec<_> =
        k8s.ranges.iter().filter(|r| r.owner == RangeOwner::Cilium && r.kind == RangeKind::Pods && r.cidr.addr().is_ipv4()).collect();
    if pools.is_empty() {
        return;
    }
    let capacity: u128 = pools
        .iter()
        .map(|r| mask.checked_sub(r.cidr.prefix_len()).map_or(0, |bits| 1u128.checked_shl(u32::from(bits)).unwrap_or(u128::MAX)))
        .sum();
    let Ok(needed) = u128::try_from(nodes) else { return };
    if capacity >= needed {
        return;
    }
    let cidrs: Vec<String> = pools.iter().map(|r| r.cidr.to_string()).collect();
    let origin = config.cluster_pool_ipv4_mask_size.as_ref().map_or(&config.origin, |m| &m.origin);
    out.report(
        origin,
        format!(
            "Cilium's cluster pool ({}) holds {capacity} node range{} of /{mask} for {nodes} nodes: {} no pod range and no pod addresses",
            cidrs.join(", "),
            if capacity == 1 { "" } else { "s" },
            if needed - capacity == 1 { "1 node gets".to_string() } else { format!("{} nodes get", needed - capacity) }
        ),
    )
    .subjects(["cilium-config".to_string()])
    .help("add a range to `cluster-pool-ipv4-cidr` (ranges can be added, not changed), or create the cluster with a larger `cluster-pool-ipv4-mask-size` (a smaller range per node) before nodes take their ranges");
}

/// Calico pools with fewer blocks than the nodes they serve.
fn calico_blocks(cx: &RuleContext<'_>, out: &mut Diagnostics) {
    let nodes = &cx.model.k8s.nodes;
    if nodes.is_empty() {
        return;
    }
    for pool in cx.model.k8s.calico_pools.iter().filter(|p| !p.disabled) {
        // Nodes are not namespaced; an absent selector is `all()`.
        let served = nodes.iter().filter(|n| pool.node_selector.as_ref().is_none_or(|e| matches_expr(e, &n.labels, false))).count();
        let blocks = pool.blocks();
        let Ok(served_u) = u128::try_from(served) else { continue };
        if served == 0 || blocks >= served_u {
            continue;
        }
        let selected = match &pool.node_selector {
            Some(expr) => format!("{served} nodes its nodeSelector `{expr}` picks"),
            None => format!("{served} nodes"),
        };
        let origin = pool.block_size_origin.as_ref().unwrap_or(&pool.origin);
        let left = served_u - blocks;
        let message = format!(
            "Calico IPPool `{}` ({}, blockSize {}) holds {blocks} block{} for {selected}: {left} {} no block of {} own",
            pool.name,
            pool.cidr,
            pool.block_size,
            if blocks == 1 { "" } else { "s" },
            if left == 1 { "node gets" } else { "nodes get" },
            if left == 1 { "its" } else { "their" },
        );
        out.report(origin, message).subjects([pool.name.as_str()]).help(calico_fix(pool, served));
    }
}

/// A pool prefix and a block size that give every node a block; `blockSize` is fixed once
/// the pool hands out addresses, hence a new pool.
fn calico_fix(pool: &CalicoPool, nodes: usize) -> String {
    // Blocks needed, as a power of two: the bits between the pool's prefix and its blocks.
    let bits = u8::try_from(usize::BITS - nodes.saturating_sub(1).leading_zeros()).unwrap_or(u8::MAX);
    let mut ways = Vec::new();
    if let Some(prefix) = pool.block_size.checked_sub(bits) {
        ways.push(format!("`cidr` of /{prefix} (blockSize {})", pool.block_size));
    }
    let max = pool.cidr.max_prefix_len();
    if let Some(size) = pool.cidr.prefix_len().checked_add(bits).filter(|s| *s <= max) {
        ways.push(format!("`blockSize: {size}` (cidr /{})", pool.cidr.prefix_len()));
    }
    let ways = if ways.is_empty() { "a larger pool or a smaller block".to_string() } else { ways.join(" or ") };
    format!(
        "Calico gives each node at least one block: create a pool with {ways}, set before it hands out addresses (blockSize cannot change later), and disable this one"
    )
}

/// Addresses left for containers: minus network, broadcast and gateway (IPv4).
fn usable_hosts(subnet: &IpNet) -> u64 {
    let host_bits = u32::from(subnet.max_prefix_len() - subnet.prefix_len()).min(63);
    match subnet {
        IpNet::V4(_) => (1u64 << host_bits).saturating_sub(3),
        IpNet::V6(_) => (1u64 << host_bits).saturating_sub(2),
    }
}

//! ND203: fixed container addresses the engine will refuse or that collide.

use crate::prelude::*;
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;

declare_rule! {
    /// ## What it checks
    /// An `ipv4_address`/`ipv6_address` that is malformed, on a network without an IPAM subnet
    /// of its family, outside that subnet, equal to the gateway or the subnet's network address,
    /// or given to two services on one network.
    ///
    /// ## Why it matters
    /// The engine refuses the container ("user specified IP address is supported only when
    /// connecting to networks with user configured subnets", "Address already in use"), so the
    /// service never starts.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db: { image: postgres, networks: { back: { ipv4_address: 10.9.0.10 } } }
    /// networks:
    ///   back: { ipam: { config: [{ subnet: 10.10.0.0/24 }] } }
    /// ```
    ///
    /// ## Fix
    /// Use a free address inside the network's declared subnet, or drop the fixed address and use the service name.
    pub struct StaticIpInvalid => Error, "ND203";
}

impl Check for StaticIpInvalid {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let mut taken: HashMap<(String, IpAddr), &str> = HashMap::new();
        for w in &cx.model.workloads {
            let project = w.project.as_deref().unwrap_or_default();
            for a in &w.attachments {
                // An external network's subnet lives on the engine, not in the file.
                let Some(network) = cx.model.network(project, &a.network).filter(|n| !n.external) else { continue };
                for fixed in [&a.ipv4_address, &a.ipv6_address].into_iter().flatten() {
                    let Some(problem) = problem(network, &fixed.value) else {
                        if let Ok(ip) = fixed.value.parse::<IpAddr>() {
                            if let Some(first) = taken.insert((network.name.clone(), ip), w.name.as_str()) {
                                out.report(&fixed.origin, format!("`{}` and `{first}` both claim {ip} on network `{}`", w.name, a.network))
                                    .subjects([w.name.as_str(), first])
                                    .help("give each service its own address");
                            }
                        }
                        continue;
                    };
                    out.report(
                        &fixed.origin,
                        format!("fixed address `{}` of `{}` on network `{}`: {problem}", fixed.value, w.name, a.network),
                    )
                    .subjects([w.name.as_str(), a.network.as_str()])
                    .help(format!("use a free address inside the subnet declared for `{}`, or remove the fixed address", a.network));
                }
            }
        }
    }
}

/// What is wrong with fixed address `text` on `network`, if anything.
fn problem(network: &Network, text: &str) -> Option<String> {
    let Ok(ip) = text.parse::<IpAddr>() else { return Some("not an IP address".into()) };
    let subnets: Vec<(IpNet, Option<&str>)> = network
        .ipam
        .configs
        .iter()
        .filter_map(|c| Some((c.subnet_net()?, c.gateway.as_ref().map(|g| g.value.as_str()))))
        .filter(|(s, _)| matches!((s, ip), (IpNet::V4(_), IpAddr::V4(_)) | (IpNet::V6(_), IpAddr::V6(_))))
        .collect();
    if subnets.is_empty() {
        let family = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
        return Some(format!("the network declares no {family} subnet, and the engine only accepts fixed addresses inside a declared one"));
    }
    let Some((subnet, gateway)) = subnets.iter().find(|(s, _)| s.contains(&ip)) else {
        let list: Vec<String> = subnets.iter().map(|(s, _)| s.to_string()).collect();
        return Some(format!("outside the network's subnet {}", list.join(", ")));
    };
    if ip == subnet.network() {
        return Some(format!("it is the network address of {subnet}"));
    }
    if ip.is_ipv4() && ip == subnet.broadcast() {
        return Some(format!("it is the broadcast address of {subnet}"));
    }
    let default_gateway = subnet.hosts().next();
    let is_gateway = match gateway {
        Some(g) => g.parse::<IpAddr>().ok() == Some(ip),
        None => default_gateway == Some(ip),
    };
    is_gateway.then(|| "it is the network's gateway address".to_string())
}

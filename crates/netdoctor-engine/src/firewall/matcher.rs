//! Whether a rule's conditions hold for a flow, in three values: a range of addresses
//! or an interface not created yet can make a condition hold for some packets of the
//! flow and not others, and an undecidable match (ipset, rate limits) is `Maybe`.

use super::flow::{Endpoint, Flow, IfaceName};
use super::route::Router;
use super::Tri;
use ipnet::IpNet;
use netdoctor_model::host::{AddrKind, Condition, CtState, IfacePattern, Test};
use netdoctor_model::PortRange;

/// Whether every condition holds.
pub fn rule_matches(conditions: &[Condition], flow: &Flow, router: &Router) -> Tri {
    let mut result = Tri::Yes;
    for c in conditions {
        let t = test(&c.test, flow, router);
        let t = if c.negated { t.not() } else { t };
        match t {
            Tri::No => return Tri::No,
            Tri::Maybe => result = Tri::Maybe,
            Tri::Yes => {}
        }
    }
    result
}

fn test(t: &Test, flow: &Flow, router: &Router) -> Tri {
    match t {
        Test::Source(net) => within(&flow.src.net, net),
        Test::Destination(net) => within(&flow.dst.net, net),
        Test::InIface(p) => iface(p, flow.in_iface.as_ref(), router),
        Test::OutIface(p) => iface(p, flow.out_iface.as_ref(), router),
        Test::Protocol(p) => Tri::from(flow.proto == *p),
        // Traces follow a connection's first packet, never a later fragment.
        Test::Fragment => Tri::No,
        Test::DestPorts(ports) => ports_match(flow.dport, ports),
        Test::SourcePorts(ports) => ports_match(flow.sport, ports),
        Test::AnyPorts(ports) => ports_match(flow.sport, ports).or(ports_match(flow.dport, ports)),
        Test::CtState(states) => states.iter().fold(Tri::No, |acc, s| acc.or(state(*s, flow))),
        Test::CtOrigDst(net) => within(&flow.original.as_ref().map_or(&flow.dst, |o| &o.dst).net, net),
        Test::CtOrigDstPort(range) => {
            let port = flow.original.as_ref().map_or(flow.dport, |o| o.dport);
            ports_match(port, std::slice::from_ref(range))
        }
        Test::AddrType { destination, kinds } => {
            let ep = if *destination { &flow.dst } else { &flow.src };
            kinds.iter().fold(Tri::No, |acc, k| acc.or(addr_kind(*k, ep, router)))
        }
        Test::Mark { value, mask } => Tri::from(flow.mark & mask == *value),
        Test::Comment(_) => Tri::Yes,
        Test::AnyOf(tests) => tests.iter().fold(Tri::No, |acc, t| acc.or(test(t, flow, router))),
        Test::Undecidable { .. } => Tri::Maybe,
    }
}

/// Whether every address of `have` lies in `rule`.
pub fn within(have: &IpNet, rule: &IpNet) -> Tri {
    if rule.contains(have) {
        Tri::Yes
    } else if have.contains(rule) {
        Tri::Maybe
    } else {
        Tri::No
    }
}

fn iface(pattern: &IfacePattern, name: Option<&IfaceName>, router: &Router) -> Tri {
    match name {
        // No device (a locally generated packet has no input): the kernel compares
        // against an empty name, which only `+` matches.
        None => Tri::from(pattern.matches("")),
        Some(IfaceName::Named(n)) => Tri::from(pattern.matches(n)),
        Some(IfaceName::Fresh { prefix }) => {
            if pattern.wildcard {
                if prefix.starts_with(&pattern.name) {
                    Tri::Yes
                } else if pattern.name.starts_with(prefix.as_str()) {
                    Tri::Maybe
                } else {
                    Tri::No
                }
            } else if !pattern.name.starts_with(prefix.as_str()) || router.interface_exists(&pattern.name) == Some(true) {
                // A device that does not exist yet is not any device that does.
                Tri::No
            } else {
                Tri::Maybe
            }
        }
        Some(IfaceName::Unknown) => {
            if pattern.wildcard && pattern.name.is_empty() {
                Tri::Yes
            } else {
                Tri::Maybe
            }
        }
    }
}

fn ports_match(have: Option<PortRange>, rule: &[PortRange]) -> Tri {
    let Some(have) = have else { return Tri::No };
    let mut result = Tri::No;
    for r in rule {
        if r.start <= have.start && have.end <= r.end {
            return Tri::Yes;
        }
        if r.start <= have.end && have.start <= r.end {
            result = Tri::Maybe;
        }
    }
    result
}

fn state(s: CtState, flow: &Flow) -> Tri {
    match s {
        CtState::Dnat => Tri::from(flow.original.is_some()),
        CtState::Snat => Tri::No,
        other => Tri::from(flow.state == other),
    }
}

fn addr_kind(kind: AddrKind, ep: &Endpoint, router: &Router) -> Tri {
    let local = match ep.local {
        Some(l) => Tri::from(l),
        None => router.is_local(&ep.net),
    };
    let multicast = multicast(&ep.net);
    let broadcast = broadcast(&ep.net);
    match kind {
        AddrKind::Local => local,
        AddrKind::Multicast => multicast,
        AddrKind::Broadcast => broadcast,
        AddrKind::Unicast => local.not().and(multicast.not()).and(broadcast.not()),
        // Depends on routes of types netdoctor does not follow.
        _ => Tri::Maybe,
    }
}

fn multicast(net: &IpNet) -> Tri {
    let range: IpNet = match net {
        IpNet::V4(_) => IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(224, 0, 0, 0), 4).unwrap_or_default()),
        IpNet::V6(_) => IpNet::V6(ipnet::Ipv6Net::new(std::net::Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8).unwrap_or_default()),
    };
    within(net, &range)
}

fn broadcast(net: &IpNet) -> Tri {
    match net {
        IpNet::V4(v4) => {
            let all = IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::BROADCAST, 32).unwrap_or_default());
            match within(net, &all) {
                Tri::Yes => Tri::Yes,
                // A range may hold its own subnets' broadcast addresses.
                _ if v4.prefix_len() < 31 => Tri::Maybe,
                _ => Tri::No,
            }
        }
        IpNet::V6(_) => Tri::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn ranges_match_in_three_values() {
        assert_eq!(within(&net("172.18.0.5/32"), &net("172.18.0.0/16")), Tri::Yes);
        assert_eq!(within(&net("172.18.0.0/16"), &net("172.18.0.5/32")), Tri::Maybe);
        assert_eq!(within(&net("172.18.0.0/16"), &net("10.0.0.0/8")), Tri::No);
        assert_eq!(within(&net("fd00::/64"), &net("10.0.0.0/8")), Tri::No);
    }

    #[test]
    fn fresh_bridges_match_wildcards_but_no_existing_device() {
        let router = Router::default();
        let fresh = IfaceName::Fresh { prefix: "br-".into() };
        assert_eq!(iface(&IfacePattern::parse("br-+"), Some(&fresh), &router), Tri::Yes);
        assert_eq!(iface(&IfacePattern::parse("+"), Some(&fresh), &router), Tri::Yes);
        assert_eq!(iface(&IfacePattern::parse("docker0"), Some(&fresh), &router), Tri::No);
        assert_eq!(iface(&IfacePattern::parse("br-0123456789ab"), Some(&fresh), &router), Tri::Maybe);
        assert_eq!(iface(&IfacePattern::parse("eth0"), None, &router), Tri::No);
        assert_eq!(iface(&IfacePattern::parse("+"), None, &router), Tri::Yes);
    }

    #[test]
    fn port_ranges() {
        let p = |s: u16, e: u16| PortRange { start: s, end: e };
        assert_eq!(ports_match(Some(p(80, 80)), &[p(80, 80)]), Tri::Yes);
        assert_eq!(ports_match(Some(p(32768, 60999)), &[p(1024, 65535)]), Tri::Yes);
        assert_eq!(ports_match(Some(p(1, 65535)), &[p(22, 22)]), Tri::Maybe);
        assert_eq!(ports_match(Some(p(80, 80)), &[p(443, 443), p(8000, 8080)]), Tri::No);
        assert_eq!(ports_match(None, &[p(80, 80)]), Tri::No);
    }
}

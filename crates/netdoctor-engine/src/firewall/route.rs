//! The host's routing decision as far as a trace needs it: is a destination one of the
//! host's own addresses, and which interface does the routing send it out of. Policy
//! routing (`ip rule`) is followed: rules in priority order match on source, destination,
//! input interface and firewall mark, and name the table to look in (or refuse the
//! packet); a rule that may or may not match a range of addresses makes the choice
//! unknown. Without rules read, the kernel's defaults apply (main, then default).

use super::flow::IfaceName;
use super::matcher::within;
use super::Tri;
use ipnet::IpNet;
use netdoctor_model::host::{table_name, HostFacts, IpFamily, Route, RoutingRule};
use std::net::IpAddr;

/// Addresses and routes of one host.
#[derive(Debug, Clone, Default)]
pub struct Router {
    local: Vec<IpAddr>,
    /// The main table's routes.
    routes: Vec<Route>,
    /// Every table's routes (`local` left out: local destinations are decided apart).
    all_routes: Vec<Route>,
    /// Policy rules by priority; empty when not read.
    rules: Vec<RoutingRule>,
    /// Interface names that exist (empty when links were not read).
    interfaces: Vec<String>,
}

/// What a policy lookup is about: one packet (or a range of them).
#[derive(Debug, Clone, Copy)]
pub struct RouteQuery<'q> {
    pub src: &'q IpNet,
    pub dst: &'q IpNet,
    /// The input interface; `None` for packets the host sends (rules say `iif lo`).
    pub iif: Option<&'q IfaceName>,
    pub mark: u32,
}

/// The outcome of a policy lookup, with the rule that chose the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChoice {
    pub lookup: RouteLookup,
    /// The rule whose table (or action) decided; `None` when no rule was read or none
    /// decided.
    pub rule: Option<RoutingRule>,
}

/// Where the main table sends a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteLookup {
    /// Out of this interface.
    Via(IfaceName, Option<Route>),
    /// Dropped by a `blackhole`, `unreachable` or `prohibit` route.
    Refused(Route),
    /// No route covers the destination.
    NoRoute,
    /// The choice depends on something the lookup cannot tell (a policy rule that
    /// matches some packets of a range and not others).
    Unknown(String),
}

impl Router {
    pub fn new(facts: &HostFacts) -> Router {
        let mut local: Vec<IpAddr> = facts.addresses.iter().map(|a| a.address).collect();
        for route in facts.routes.iter().filter(|r| r.kind == "local") {
            if route.destination.prefix_len() == route.destination.max_prefix_len() && !local.contains(&route.destination.addr()) {
                local.push(route.destination.addr());
            }
        }
        let routes = facts.routes.iter().filter(|r| r.is_main()).cloned().collect();
        let all_routes = facts.routes.iter().filter(|r| table_name(&r.table) != "local").cloned().collect();
        let mut rules = facts.routing_rules.clone();
        rules.sort_by_key(|r| r.priority);
        let interfaces = facts.interfaces.iter().map(|i| i.name.clone()).collect();
        Router { local, routes, all_routes, rules, interfaces }
    }

    /// Whether the addresses in `net` are the host's own.
    pub fn is_local(&self, net: &IpNet) -> Tri {
        let loopback: IpNet = match net {
            IpNet::V4(_) => IpNet::V4(ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(127, 0, 0, 0), 8).unwrap_or_default()),
            IpNet::V6(_) => IpNet::V6(ipnet::Ipv6Net::new(std::net::Ipv6Addr::LOCALHOST, 128).unwrap_or_default()),
        };
        if loopback.contains(net) {
            return Tri::Yes;
        }
        let single = net.prefix_len() == net.max_prefix_len();
        if single {
            return Tri::from(self.local.contains(&net.addr()));
        }
        if self.local.iter().any(|a| net.contains(a)) || net.contains(&loopback) {
            Tri::Maybe
        } else {
            Tri::No
        }
    }

    /// Whether an interface of this name exists; `None` when links were not read.
    pub fn interface_exists(&self, name: &str) -> Option<bool> {
        (!self.interfaces.is_empty()).then(|| self.interfaces.iter().any(|i| i == name))
    }

    /// The main table's choice for every address in `net`.
    pub fn lookup(&self, net: &IpNet) -> RouteLookup {
        Self::lookup_among(&self.routes, net)
    }

    /// The policy rules' choice for a packet: each rule in priority order, its table's
    /// routes when it matches, the next rule when that table has no route.
    pub fn choose(&self, q: &RouteQuery<'_>) -> PolicyChoice {
        let family = IpFamily::of(q.dst);
        let rules: Vec<&RoutingRule> = self.rules.iter().filter(|r| r.family == family).collect();
        if rules.is_empty() {
            // The kernel's default rules: main, then default.
            let lookup = match self.lookup_table("main", q.dst) {
                Some(found) => found,
                None => self.lookup_table("default", q.dst).unwrap_or(RouteLookup::NoRoute),
            };
            return PolicyChoice { lookup, rule: None };
        }
        // A `goto` skips ahead to the first rule at or after its target priority.
        let mut resume_at: u32 = 0;
        for rule in rules {
            if rule.priority < resume_at {
                continue;
            }
            match self.rule_matches(rule, q) {
                Tri::No => continue,
                Tri::Maybe => {
                    let reason = format!("policy routing rule `{}` applies to some of these packets and not others", rule.describe());
                    return PolicyChoice { lookup: RouteLookup::Unknown(reason), rule: Some(rule.clone()) };
                }
                Tri::Yes => {}
            }
            match (rule.action.as_deref(), rule.table.as_deref()) {
                (Some(kind @ ("blackhole" | "unreachable" | "prohibit")), _) => {
                    let route = Route {
                        destination: rule.dst.unwrap_or(*q.dst),
                        gateway: None,
                        device: None,
                        kind: kind.to_string(),
                        table: format!("rule {}", rule.priority),
                        metric: None,
                        protocol: None,
                        origin: rule.origin.clone(),
                    };
                    return PolicyChoice { lookup: RouteLookup::Refused(route), rule: Some(rule.clone()) };
                }
                (Some("nop"), _) => continue,
                (Some("goto"), _) => match rule.goto {
                    // The kernel only accepts a goto to a later priority.
                    Some(target) if target > rule.priority => resume_at = target,
                    _ => {
                        let reason = format!("policy routing rule `{}` has no rule to go to", rule.describe());
                        return PolicyChoice { lookup: RouteLookup::Unknown(reason), rule: Some(rule.clone()) };
                    }
                },
                (Some(other), _) => {
                    let reason = format!("policy routing rule `{}` ({other}) is not followed", rule.describe());
                    return PolicyChoice { lookup: RouteLookup::Unknown(reason), rule: Some(rule.clone()) };
                }
                // Local destinations are decided before routes are looked at.
                (None, Some(table)) if table_name(table) == "local" => continue,
                (None, Some(table)) => {
                    let Some(found) = self.lookup_table(table, q.dst) else { continue };
                    let suppressed = match (&found, rule.suppress_prefixlength) {
                        (RouteLookup::Via(_, Some(route)) | RouteLookup::Refused(route), Some(n)) => route.destination.prefix_len() <= n,
                        _ => false,
                    };
                    if suppressed {
                        continue;
                    }
                    return PolicyChoice { lookup: found, rule: Some(rule.clone()) };
                }
                (None, None) => continue,
            }
        }
        PolicyChoice { lookup: RouteLookup::NoRoute, rule: None }
    }

    fn rule_matches(&self, rule: &RoutingRule, q: &RouteQuery<'_>) -> Tri {
        let mut t = Tri::Yes;
        if let Some(src) = &rule.src {
            t = t.and(within(q.src, src));
        }
        if let Some(dst) = &rule.dst {
            t = t.and(within(q.dst, dst));
        }
        if let Some(iif) = &rule.iif {
            t = t.and(match q.iif {
                None => Tri::from(iif == "lo"),
                Some(IfaceName::Named(n)) => Tri::from(n == iif),
                Some(IfaceName::Fresh { prefix }) if iif.starts_with(prefix.as_str()) && self.interface_exists(iif) != Some(true) => {
                    Tri::Maybe
                }
                Some(IfaceName::Fresh { .. }) => Tri::No,
                Some(IfaceName::Unknown) => Tri::Maybe,
            });
        }
        // Only sockets bound to a device match `oif`; traced packets are not such.
        if rule.oif.is_some() {
            t = t.and(Tri::No);
        }
        if let Some((value, mask)) = rule.fwmark {
            t = t.and(Tri::from(q.mark & mask == value & mask));
        }
        if rule.invert {
            t.not()
        } else {
            t
        }
    }

    /// One table's choice, or `None` when it has no route for the destination.
    fn lookup_table(&self, table: &str, net: &IpNet) -> Option<RouteLookup> {
        let wanted = table_name(table);
        let routes: Vec<Route> = self.all_routes.iter().filter(|r| table_name(&r.table) == wanted).cloned().collect();
        match Self::lookup_among(&routes, net) {
            RouteLookup::NoRoute => None,
            found => Some(found),
        }
    }

    fn lookup_among(routes: &[Route], net: &IpNet) -> RouteLookup {
        let covering = routes
            .iter()
            .filter(|r| r.destination.contains(net))
            .max_by_key(|r| (r.destination.prefix_len(), std::cmp::Reverse(r.metric.unwrap_or(0))));
        let Some(best) = covering else {
            return RouteLookup::NoRoute;
        };
        if matches!(best.kind.as_str(), "blackhole" | "unreachable" | "prohibit") {
            return RouteLookup::Refused(best.clone());
        }
        // A more specific route inside the range sends part of it elsewhere.
        let split = routes.iter().any(|r| net.contains(&r.destination) && r.destination != *net && r.device != best.device);
        let iface = match (&best.device, split) {
            (Some(dev), false) => IfaceName::Named(dev.clone()),
            _ => IfaceName::Unknown,
        };
        RouteLookup::Via(iface, Some(best.clone()))
    }

    /// The route that `0.0.0.0/0` (or `::/0`) takes: the host's way out.
    pub fn default_route(&self, v6: bool) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.destination.prefix_len() == 0 && r.destination.addr().is_ipv6() == v6 && r.kind == "unicast")
            .min_by_key(|r| r.metric.unwrap_or(0))
    }

    /// The host's own addresses.
    pub fn local_addresses(&self) -> &[IpAddr] {
        &self.local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netdoctor_model::Origin;

    fn o() -> Origin {
        Origin::Logical("test".into())
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    /// A route `(destination, device, table)`.
    fn route((dst, dev, table): (&str, &str, &str)) -> Route {
        Route::new(net(dst), Some(dev), o()).in_table(table)
    }

    /// eth0 (default route) and br-app 172.30.0.0/24 in main, the extra routes, and the
    /// policy routing rules (the kernel's defaults when `None`).
    fn router(extra_routes: &[(&str, &str, &str)], rules: Option<Vec<RoutingRule>>) -> Router {
        let mut routes = vec![
            Route::new(net("0.0.0.0/0"), Some("eth0"), o()).via([192, 0, 2, 1].into()),
            Route::new(net("192.0.2.0/24"), Some("eth0"), o()),
            Route::new(net("172.30.0.0/24"), Some("br-app"), o()),
        ];
        routes.extend(extra_routes.iter().copied().map(route));
        Router::new(&HostFacts { routes, routing_rules: rules.unwrap_or_default(), ..HostFacts::default() })
    }

    fn lookup(priority: u32, table: &str) -> RoutingRule {
        RoutingRule::lookup(priority, table, o())
    }

    fn via(r: &Router, src: &str, dst: &str, iif: Option<&IfaceName>, mark: u32) -> String {
        let (src, dst) = (net(src), net(dst));
        match r.choose(&RouteQuery { src: &src, dst: &dst, iif, mark }).lookup {
            RouteLookup::Via(i, _) => i.to_string(),
            RouteLookup::Refused(route) => format!("refused by {}", route.kind),
            RouteLookup::NoRoute => "no route".into(),
            RouteLookup::Unknown(reason) => format!("unknown: {reason}"),
        }
    }

    /// `wg-quick`'s rules: main without its default route first, then everything unmarked
    /// into the tunnel's table.
    fn wg_quick() -> Vec<RoutingRule> {
        vec![
            lookup(0, "local"),
            RoutingRule { suppress_prefixlength: Some(0), ..lookup(32764, "main") },
            RoutingRule { invert: true, fwmark: Some((0xca6c, u32::MAX)), ..lookup(32765, "51820") },
            lookup(32766, "main"),
            lookup(32767, "default"),
        ]
    }

    #[test]
    fn without_rules_the_main_table_decides() {
        let r = router(&[], None);
        assert_eq!(via(&r, "0.0.0.0/0", "172.30.0.5/32", None, 0), "br-app");
        assert_eq!(via(&r, "0.0.0.0/0", "198.51.100.1/32", None, 0), "eth0");
    }

    #[test]
    fn wg_quick_sends_unmarked_traffic_into_the_tunnel_but_keeps_specific_routes() {
        let r = router(&[("0.0.0.0/0", "wg0", "51820")], Some(wg_quick()));
        assert_eq!(via(&r, "172.30.0.5/32", "172.30.0.9/32", None, 0), "br-app");
        assert_eq!(via(&r, "172.30.0.5/32", "198.51.100.1/32", Some(&IfaceName::Named("br-app".into())), 0), "wg0");
        // The tunnel's own packets carry the mark and leave by the uplink.
        assert_eq!(via(&r, "192.0.2.10/32", "198.51.100.1/32", None, 0xca6c), "eth0");
    }

    #[test]
    fn a_higher_priority_table_captures_a_subnet() {
        let rules = vec![lookup(0, "local"), RoutingRule { dst: Some(net("172.16.0.0/12")), ..lookup(100, "200") }, lookup(32766, "main")];
        let r = router(&[("172.16.0.0/12", "tun0", "200")], Some(rules));
        let choice = r.choose(&RouteQuery { src: &net("192.0.2.10/32"), dst: &net("172.30.0.0/24"), iif: None, mark: 0 });
        assert_eq!(choice.rule.map(|r| r.describe()), Some("100: from all to 172.16.0.0/12 lookup 200".to_string()));
        assert!(matches!(choice.lookup, RouteLookup::Via(IfaceName::Named(ref d), _) if d == "tun0"));
        // Outside the rule's range, main still decides.
        assert_eq!(via(&r, "192.0.2.10/32", "198.51.100.1/32", None, 0), "eth0");
    }

    #[test]
    fn sources_devices_and_actions() {
        let rules = vec![
            RoutingRule { dst: Some(net("198.51.100.0/24")), ..RoutingRule::action(50, "blackhole", o()) },
            RoutingRule { src: Some(net("10.8.0.0/16")), ..lookup(60, "300") },
            RoutingRule { iif: Some("br-app".into()), ..lookup(70, "300") },
            lookup(32766, "main"),
        ];
        let r = router(&[("0.0.0.0/0", "tun1", "300")], Some(rules));
        assert_eq!(via(&r, "192.0.2.10/32", "198.51.100.7/32", None, 0), "refused by blackhole");
        assert_eq!(via(&r, "10.8.3.4/32", "203.0.113.1/32", Some(&IfaceName::Named("eth0".into())), 0), "tun1");
        // Part of the source range is in the rule's: it depends on the packet.
        assert!(via(&r, "10.0.0.0/8", "203.0.113.1/32", Some(&IfaceName::Named("eth0".into())), 0)
            .starts_with("unknown: policy routing rule `60: from 10.8.0.0/16 lookup 300`"));
        assert_eq!(via(&r, "172.30.0.5/32", "203.0.113.1/32", Some(&IfaceName::Named("br-app".into())), 0), "tun1");
        // The host's own packets match `iif lo` only.
        assert_eq!(via(&r, "192.0.2.10/32", "203.0.113.1/32", None, 0), "eth0");
    }

    /// A goto skips the rules between it and its target; a nop passes.
    #[test]
    fn goto_skips_ahead_and_nop_passes() {
        let rules = vec![
            lookup(0, "local"),
            RoutingRule { dst: Some(net("10.0.0.0/8")), goto: Some(200), ..RoutingRule::action(100, "goto", o()) },
            lookup(150, "300"),
            RoutingRule::action(160, "nop", o()),
            lookup(200, "main"),
        ];
        let r = router(&[("0.0.0.0/0", "tun1", "300"), ("10.0.0.0/8", "eth0", "main")], Some(rules));
        // 10/8 jumps over table 300 to main; everything else is caught by table 300.
        assert_eq!(via(&r, "192.0.2.10/32", "10.1.2.3/32", None, 0), "eth0");
        assert_eq!(via(&r, "192.0.2.10/32", "198.51.100.1/32", None, 0), "tun1");
        let choice = r.choose(&RouteQuery { src: &net("192.0.2.10/32"), dst: &net("10.1.2.3/32"), iif: None, mark: 0 });
        assert_eq!(choice.rule.map(|r| r.describe()), Some("200: from all lookup main".to_string()));
    }
}

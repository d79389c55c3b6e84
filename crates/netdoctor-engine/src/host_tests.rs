//! Placing model networks on a host: which bridge, which subnet, which flows.

use super::*;
use crate::{Analysis, EngineConfig};
use netdoctor_model::host::{Address, Backend, Chain, IpFamily, Policy, Route, RuleSet, Table};
use netdoctor_model::*;

fn origin() -> Origin {
    Origin::Logical("test".into())
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A host with eth0 192.0.2.10/24 (default route), the extra addresses (`(device, cidr)`)
/// and routes (`(destination, device)`), and an iptables filter table that accepts all.
fn facts(extra_addrs: &[(&str, &str)], extra_routes: &[(&str, &str)]) -> HostFacts {
    let mut addresses = vec![Address::new("eth0", net("192.0.2.10/24"), origin())];
    addresses.extend(extra_addrs.iter().map(|(dev, cidr)| Address::new(dev, net(cidr), origin())));
    let mut routes = vec![
        Route::new(net("0.0.0.0/0"), Some("eth0"), origin()).via([192, 0, 2, 1].into()),
        Route::new(net("192.0.2.0/24"), Some("eth0"), origin()),
    ];
    routes.extend(extra_routes.iter().map(|(dst, dev)| Route::new(net(dst), Some(dev), origin())));
    let chain =
        |name: &str| Chain { name: name.into(), policy: Some(Policy::Accept), base: None, counters: None, rules: vec![], origin: origin() };
    let filter = Table { name: "filter".into(), chains: vec![chain("INPUT"), chain("FORWARD"), chain("OUTPUT")], origin: origin() };
    let accept_all =
        RuleSet { family: IpFamily::V4, backend: Backend::Unknown, tables: vec![filter], origin: origin(), legacy_tables_warning: None };
    HostFacts { addresses, routes, rulesets: vec![accept_all], ..HostFacts::default() }
}

fn network(key: &str, subnet: Option<&str>) -> Network {
    let mut n = Network::new(key, format!("p_{key}"), Some("p".into()), origin());
    if let Some(s) = subnet {
        n.ipam.configs.push(IpamConfig {
            subnet: Some(Located::new(s.into(), origin())),
            ip_range: None,
            gateway: None,
            aux_addresses: vec![],
            origin: origin(),
        });
    }
    n
}

fn service(name: &str, nets: &[&str]) -> Workload {
    let attachments = nets.iter().map(|n| Attachment::new(*n, origin())).collect();
    Workload { declares_networks: true, attachments, ..Workload::new(name, Some("p".into()), WorkloadKind::ComposeService, origin()) }
}

fn model(networks: Vec<Network>, workloads: Vec<Workload>, host: HostFacts) -> Model {
    Model { networks, workloads, host: Some(host), ..Model::default() }
}

#[test]
fn networks_are_matched_to_their_bridges_or_predicted() {
    let host = facts(&[("br-decl", "10.10.0.1/24")], &[("10.10.0.0/24", "br-decl"), ("172.18.0.0/16", "tun0")]);
    let m = model(
        vec![network("declared", Some("10.10.0.0/24")), network("absent", Some("10.20.0.0/24")), network("predicted", None)],
        vec![service("a", &["declared"]), service("b", &["absent"]), service("c", &["predicted"])],
        host,
    );
    let analysis = Analysis::new(&m, &EngineConfig::default());
    let view = analysis.host.as_ref().expect("host view");
    let by_name = |n: &str| view.bridges.iter().find(|b| b.name == n).cloned().expect(n);
    let declared = by_name("p_declared");
    assert_eq!((declared.iface, declared.exists), (IfaceName::Named("br-decl".into()), true));
    let absent = by_name("p_absent");
    assert_eq!(
        (absent.iface, absent.exists, absent.subnet),
        (IfaceName::Fresh { prefix: "br-".into() }, false, "10.20.0.0/24".parse().ok())
    );
    // The plan predicts 172.18.0.0/16, which the host routes to a VPN: Docker skips it.
    let predicted = by_name("p_predicted");
    assert_eq!((predicted.exists, predicted.subnet), (false, "172.19.0.0/16".parse().ok()));
}

#[test]
fn a_predicted_subnet_held_by_a_bridge_is_that_bridge() {
    let host = facts(&[("br-0123456789ab", "172.18.0.1/16")], &[]);
    let m = model(vec![network("default", None)], vec![service("web", &["default"])], host);
    let analysis = Analysis::new(&m, &EngineConfig::default());
    let view = analysis.host.as_ref().expect("host view");
    assert_eq!(view.bridges[0].iface, IfaceName::Named("br-0123456789ab".into()));
    assert_eq!(view.uplink.as_ref().map(|u| u.iface.as_str()), Some("eth0"));
    let flows = view.egress_flows(&m, &analysis.topology);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].flow.src.net, "172.18.0.0/16".parse::<IpNet>().expect("net"));
    assert!(!flows[0].predicted);
}

#[test]
fn published_flows_skip_loopback_bindings() {
    let host = facts(&[], &[]);
    let mut web = service("web", &["default"]);
    let binding = |host_ip: Option<&str>, port: u16| PortBinding {
        host_ip: host_ip.and_then(|h| h.parse().ok()),
        published: Some(PortRange::single(port)),
        target: PortRange::single(80),
        protocol: Protocol::Tcp,
        origin: origin(),
    };
    web.ports = vec![binding(None, 8080), binding(Some("127.0.0.1"), 8081), binding(Some("192.0.2.10"), 8082)];
    let m = model(vec![network("default", None)], vec![web], host);
    let analysis = Analysis::new(&m, &EngineConfig::default());
    let view = analysis.host.as_ref().expect("host view");
    let flows = view.published_flows(&m, &analysis.topology);
    let ports: Vec<u16> = flows.iter().filter_map(|f| f.flow.dport.map(|p| p.start)).collect();
    assert_eq!(ports, [8080, 8082]);
    // No DNAT rule exists yet: the trace follows the DNAT Docker would add.
    let pt = view.trace_published(&m, &analysis.topology, &flows[0]).expect("traced");
    assert!(pt.predicted);
    assert_eq!(pt.actual.flow.dport, Some(PortRange::single(80)));
    assert_eq!(pt.as_input.path, Some(PathKind::Input));
}

#[test]
fn the_next_pool_subnet_is_judged_without_the_vpn_routes() {
    // `p_predicted` takes 172.18.0.0/16; the next one, 172.19.0.0/16, is tun0's.
    let host = facts(&[], &[("172.19.0.0/16", "tun0"), ("10.0.0.0/8", "eth0")]);
    let m = model(vec![network("predicted", None)], vec![service("c", &["predicted"])], host);
    let analysis = Analysis::new(&m, &EngineConfig::default());
    let view = analysis.host.as_ref().expect("host view");
    let (next, route) = view.next_pool_subnet_over_vpn().expect("clash");
    assert_eq!((next, route.device.as_deref()), ("172.19.0.0/16".parse().expect("net"), Some("tun0")));
    assert!(is_runtime_device("br-0123456789ab", &view.bridges) && !is_runtime_device("eth0", &view.bridges));
    assert!(is_vpn_device("wg0", view.facts) && !is_vpn_device("eth0", view.facts));
}

#[test]
fn no_vpn_route_over_the_pools_is_no_clash() {
    let host = facts(&[], &[("10.20.0.0/16", "tun0")]);
    let m = model(vec![network("predicted", None)], vec![service("c", &["predicted"])], host);
    let analysis = Analysis::new(&m, &EngineConfig::default());
    let view = analysis.host.as_ref().expect("host view");
    assert_eq!(view.next_pool_subnet_over_vpn(), None);
}

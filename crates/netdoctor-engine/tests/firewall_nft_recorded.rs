//! Traces through native nftables rule sets (`nft -j list ruleset`), alone and beside
//! iptables rules: every base chain of a hook runs in priority order, an accept ends only
//! its own chain, a drop ends the packet.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use ipnet::IpNet;
use netdoctor_engine::firewall::*;
use netdoctor_model::host::HostFacts;
use netdoctor_sources::host::{lower, Capture, CapturedText, InputSource};
use std::path::Path;
use std::sync::Arc;

const NATIVE: &str = include_str!("../../netdoctor-sources/tests/host/nft-native/nft.json");
const IPTABLES_NFT_JSON: &str = include_str!("../../netdoctor-sources/tests/host/iptables-nft-json/nft.json");
const IPTABLES_NFT_SAVE: &str = include_str!("../../netdoctor-sources/tests/host/iptables-nft-json/iptables-nft-save.txt");

/// eth0 192.0.2.2/24 with the default route, bridge ndtbr0 172.30.0.1/24, and `files`.
fn host(files: &[(&str, &str)]) -> HostFacts {
    let file = |name: &str, text: &str| CapturedText {
        name: name.into(),
        text: text.into(),
        source: InputSource::File(Arc::from(Path::new(name))),
    };
    let addrs = r#"[{"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24}]},
        {"ifname":"ndtbr0","addr_info":[{"family":"inet","local":"172.30.0.1","prefixlen":24}]}]"#;
    let routes = r#"[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"},{"dst":"192.0.2.0/24","dev":"eth0"},
        {"dst":"172.30.0.0/24","dev":"ndtbr0"}]"#;
    let mut texts = vec![file("ip-addr.json", addrs), file("ip-route.json", routes), file("sysctl.txt", "net.ipv4.ip_forward = 1\n")];
    // A file given replaces the default one of that name.
    texts.retain(|t| !files.iter().any(|(n, _)| *n == t.name));
    texts.extend(files.iter().map(|(n, t)| file(n, t)));
    let (facts, errors) = lower(&Capture { origin: netdoctor_model::Origin::Logical("test".into()), texts });
    assert!(errors.is_empty(), "{errors:?}");
    facts
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap_or_else(|_| panic!("{s}"))
}

/// A container on ndtbr0 to `dst`.
fn from_container(src: &str, dst: &str, port: u16) -> Flow {
    Flow::tcp(Endpoint::remote(net(src)), Endpoint::remote(net(dst)), port).entering(IfaceName::Named("ndtbr0".into()))
}

fn decided_by(trace: &Trace) -> String {
    trace.verdict.decided_by.as_ref().map_or_else(|| "-".into(), |d| d.to_string())
}

/// A dump of `tables`, each `(family, name, chain, hook, priority, policy, rules)` with
/// rules as JSON expression lists; handles count up from 1.
type TableSpec<'a> = (&'a str, &'a str, &'a str, &'a str, i32, &'a str, &'a [&'a str]);

fn dump(tables: &[TableSpec<'_>]) -> String {
    let mut items = Vec::new();
    let mut handle = 0;
    for (family, name, chain, hook, prio, policy, rules) in tables {
        items.push(format!(r#"{{"table": {{"family": "{family}", "name": "{name}", "handle": 1}}}}"#));
        items.push(format!(
            r#"{{"chain": {{"family": "{family}", "table": "{name}", "name": "{chain}", "handle": 1, "type": "filter", "hook": "{hook}", "prio": {prio}, "policy": "{policy}"}}}}"#
        ));
        for expr in *rules {
            handle += 1;
            items.push(format!(
                r#"{{"rule": {{"family": "{family}", "table": "{name}", "chain": "{chain}", "handle": {handle}, "expr": {expr}}}}}"#
            ));
        }
    }
    format!("{{\"nftables\": [{}]}}", items.join(", "))
}

const ACCEPT: &str = r#"[{"accept": null}]"#;
const DROP_TO_443: &str =
    r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"drop": null}]"#;

#[test]
fn an_accept_ends_only_its_own_base_chain() {
    // Table a accepts everything at priority 0; table b, later at priority 10, drops 443.
    let text = dump(&[("ip", "a", "fwd", "forward", 0, "accept", &[ACCEPT]), ("ip", "b", "fwd", "forward", 10, "accept", &[DROP_TO_443])]);
    let facts = host(&[("nft.json", &text)]);
    let fw = Firewall::new(&facts);
    let t = fw.trace(&from_container("172.30.0.5/32", "198.51.100.1/32", 443));
    assert_eq!(t.verdict.kind, VerdictKind::Drop);
    assert_eq!(decided_by(&t), "nftables ip b chain fwd rule handle 2 (`tcp dport 443 drop`)");
    let steps: Vec<String> = t.steps.iter().map(ToString::to_string).collect();
    assert_eq!(steps, ["ip a fwd handle 1: accept", "ip b fwd handle 2: tcp dport 443 drop"]);
    // Other ports pass both chains; the verdict names the last filter accept.
    let t = fw.trace(&from_container("172.30.0.5/32", "198.51.100.1/32", 80));
    assert_eq!(t.verdict.kind, VerdictKind::Accept);
}

#[test]
fn base_chains_run_in_priority_order_not_dump_order() {
    // The drop is listed last but hooks in first (-10): the accept at 10 never runs.
    let text = dump(&[
        ("ip", "late", "fwd", "forward", 10, "accept", &[ACCEPT]),
        ("inet", "early", "fwd", "forward", -10, "accept", &[DROP_TO_443]),
    ]);
    let facts = host(&[("nft.json", &text)]);
    let t = Firewall::new(&facts).trace(&from_container("172.30.0.5/32", "198.51.100.1/32", 443));
    assert_eq!(t.verdict.kind, VerdictKind::Drop);
    assert_eq!(decided_by(&t), "nftables inet early chain fwd rule handle 2 (`tcp dport 443 drop`)");
    assert_eq!(t.steps.len(), 1, "nothing after a drop runs: {:?}", t.steps);
}

#[test]
fn a_native_drop_policy_beside_dockers_iptables_accept_wins() {
    // iptables-nft accepts container egress (Docker's rules); a native forward chain with
    // a drop policy at the same priority still drops it.
    let text = dump(&[("inet", "fw", "forward", "forward", 0, "drop", &[])]);
    let facts = host(&[("nft.json", &text), ("iptables-nft-save.txt", IPTABLES_NFT_SAVE_NDTBR)]);
    let t = Firewall::new(&facts).trace(&from_container("172.30.0.5/32", "198.51.100.1/32", 443));
    assert_eq!(t.verdict.kind, VerdictKind::Drop);
    assert_eq!(decided_by(&t), "the drop policy of nftables inet fw chain forward");
    let Some(Decider::Policy(p)) = &t.verdict.decided_by else { panic!("a policy") };
    assert!(p.forward_filter);
    let steps: Vec<String> = t.steps.iter().map(ToString::to_string).collect();
    assert_eq!(steps, ["filter FORWARD #1: -A FORWARD -i ndtbr0 ! -o ndtbr0 -j ACCEPT", "inet fw forward: policy drop"]);
}

const IPTABLES_NFT_SAVE_NDTBR: &str = "# Generated by iptables-nft-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i ndtbr0 ! -o ndtbr0 -j ACCEPT
COMMIT
";

#[test]
fn the_recorded_native_ruleset() {
    let facts = host(&[("nft.json", NATIVE)]);
    let fw = Firewall::new(&facts);
    // The reject in the regular chain `containers`, reached by a jump.
    let t = fw.trace(&from_container("172.30.0.5/32", "10.99.1.1/32", 443));
    assert_eq!(t.verdict.kind, VerdictKind::Reject);
    let rule = t.blocking_rule().unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!((rule.table.as_str(), rule.chain.as_str(), rule.handle), ("inet filter", "containers", Some(14)));
    assert_eq!(rule.stack, ["forward", "containers"]);
    // One host dropped by `ip guard` (priority 10) after inet filter accepted it.
    let t = fw.trace(&from_container("172.30.0.66/32", "192.0.2.205/32", 80));
    assert_eq!(decided_by(&t), "nftables ip guard chain forward rule handle 2 (`ip saddr 172.30.0.66 drop`)");
    // The rest of the bridge reaches the range in guard's set, accepted by both tables.
    let t = fw.trace(&from_container("172.30.0.5/32", "192.0.2.205/32", 80));
    assert_eq!(t.verdict.kind, VerdictKind::Accept);
    // The named set: a blocked destination.
    let t = fw.trace(&from_container("172.30.0.5/32", "203.0.113.7/32", 80));
    assert_eq!(t.blocking_rule().and_then(|r| r.handle), Some(11));
    // The DNAT in `ip nat` sends the published port to the container: forwarded, and
    // accepted by the wildcard rule? No: it enters on eth0, so inet filter's policy drops it.
    let client = Flow::tcp(Endpoint::remote(net("192.0.2.50/32")), Endpoint::new(net("192.0.2.2/32")), 8080)
        .entering(IfaceName::Named("eth0".into()));
    let t = fw.trace(&client);
    assert!(t.was_dnatted());
    assert_eq!(t.path, Some(PathKind::Forward));
    assert_eq!(decided_by(&t), "the drop policy of nftables inet filter chain forward");
    // To the host itself: ssh is accepted by the input chain, 8200 falls to its drop policy.
    let to_host = |port| {
        Flow::tcp(Endpoint::remote(net("192.0.2.50/32")), Endpoint::new(net("192.0.2.2/32")), port)
            .entering(IfaceName::Named("eth0".into()))
    };
    assert_eq!(fw.trace(&to_host(22)).verdict.kind, VerdictKind::Accept);
    assert_eq!(fw.trace(&to_host(8050)).verdict.kind, VerdictKind::Accept);
    assert_eq!(decided_by(&fw.trace(&to_host(8200))), "the drop policy of nftables inet filter chain input");
}

#[test]
fn what_cannot_be_decided_is_unknown_and_named() {
    // udp/53 from the bridge meets `limit rate` with an accept; without it, the drop policy.
    let facts = host(&[("nft.json", NATIVE)]);
    let flow = Flow::new(
        netdoctor_model::host::IpProto::Udp,
        Endpoint::remote(net("172.30.0.5/32")),
        Endpoint::remote(net("172.30.0.9/32")),
        Some(netdoctor_model::PortRange::single(53)),
    )
    .entering(IfaceName::Named("ndtbr0".into()));
    let t = Firewall::new(&facts).trace(&flow);
    assert_eq!(t.verdict.kind, VerdictKind::Unknown);
    let Some(Decider::Undecidable { rule, .. }) = &t.verdict.decided_by else { panic!("{t:?}") };
    assert_eq!((rule.chain.as_str(), rule.handle), ("containers", Some(16)));
    // A set that is not in the dump.
    let text = dump(&[(
        "ip",
        "t",
        "fwd",
        "forward",
        0,
        "accept",
        &[r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@elsewhere"}}, {"drop": null}]"#],
    )]);
    let facts = host(&[("nft.json", &text)]);
    let t = Firewall::new(&facts).trace(&from_container("172.30.0.5/32", "198.51.100.1/32", 443));
    assert_eq!(t.verdict.kind, VerdictKind::Unknown);
    assert!(decided_by(&t).starts_with("nftables ip t chain fwd rule handle 1"), "{}", decided_by(&t));
}

#[test]
fn iptables_nft_tables_are_traced_once_from_the_iptables_dump() {
    let facts = host(&[("nft.json", IPTABLES_NFT_JSON), ("iptables-nft-save.txt", IPTABLES_NFT_SAVE)]);
    assert!(facts.rulesets.iter().all(|s| s.backend != netdoctor_model::host::Backend::Nftables), "duplicated: {:?}", facts.rulesets.len());
    assert_eq!(facts.nft_tables.len(), 2);
    // Without the iptables dump, the nft view of the same tables is traced: the compat
    // conntrack match is undecidable, so only what does not depend on it is decided.
    let facts = host(&[("nft.json", IPTABLES_NFT_JSON)]);
    let set = facts.rulesets.iter().find(|s| s.backend == netdoctor_model::host::Backend::Nftables);
    assert_eq!(set.map(|s| s.tables.len()), Some(2));
    let fw = Firewall::new(&facts);
    // The internal network's isolation drop (handle 21) needs no compat match.
    let flow = Flow::tcp(Endpoint::remote(net("192.0.2.50/32")), Endpoint::remote(net("172.31.0.5/32")), 80)
        .entering(IfaceName::Named("eth0".into()))
        .leaving(IfaceName::Named("br-5609df62fb74".into()));
    let t = fw.trace(&flow);
    assert_eq!(t.verdict.kind, VerdictKind::Drop, "{t:?}");
    assert_eq!(t.blocking_rule().and_then(|r| r.handle), Some(21));
}

/// IPv6: an `ip6tables-save` dump with IPv6 addresses and routes, and the IPv6 copy of
/// an `inet` nftables table, traced with IPv6 flows.
#[test]
fn ipv6_flows_trace_through_ip6tables_and_inet_tables() {
    let file = |name: &str, text: &str| CapturedText {
        name: name.into(),
        text: text.into(),
        source: InputSource::File(Arc::from(Path::new(name))),
    };
    let addrs = r#"[{"ifname":"eth0","addr_info":[{"family":"inet6","local":"2001:db8:1::2","prefixlen":64}]},
        {"ifname":"docker0","addr_info":[{"family":"inet6","local":"fd00:dead:beef::1","prefixlen":64}]}]"#;
    let routes = r#"[{"dst":"default","gateway":"2001:db8:1::1","dev":"eth0"},{"dst":"2001:db8:1::/64","dev":"eth0"},
        {"dst":"fd00:dead:beef::/64","dev":"docker0"}]"#;
    let dump = "# Generated by ip6tables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 2001:db8:99::/48 -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD -i docker0 ! -o docker0 -p tcp -m tcp --dport 443 -j ACCEPT
-A FORWARD -i docker0 ! -o docker0 -p ipv6-icmp -j ACCEPT
COMMIT
";
    // The inet table drops one IPv6 host and, in its IPv4 half only, everything to 443.
    let inet = dump_inet();
    let capture = |with_nft: bool| {
        let mut texts = vec![
            file("ip-addr.json", addrs),
            file("ip6-route.json", routes),
            file("sysctl.txt", "net.ipv6.conf.all.forwarding = 1\n"),
            file("ip6tables-nft-save.txt", dump),
        ];
        if with_nft {
            texts.push(file("nft.json", &inet));
        }
        let (facts, errors) = lower(&Capture { origin: netdoctor_model::Origin::Logical("test".into()), texts });
        assert!(errors.is_empty(), "{errors:?}");
        facts
    };
    let facts = capture(false);
    let fw = Firewall::new(&facts);
    let from_docker = |dst: &str, proto, port| {
        Flow::new(proto, Endpoint::remote(net("fd00:dead:beef::/64")), Endpoint::remote(net(dst)), port)
            .entering(IfaceName::Named("docker0".into()))
    };
    let https = Some(netdoctor_model::PortRange::single(443));
    let tcp = netdoctor_model::host::IpProto::Tcp;
    let t = fw.trace(&from_docker("2001:db8:42::1/128", tcp.clone(), https));
    assert_eq!((t.verdict.kind, t.path), (VerdictKind::Accept, Some(PathKind::Forward)));
    assert_eq!(t.flow.out_iface, Some(IfaceName::Named("eth0".into())), "the IPv6 default route");
    assert_eq!(decided_by(&t), "filter FORWARD rule 2 (line 7: `-A FORWARD -i docker0 ! -o docker0 -p tcp -m tcp --dport 443 -j ACCEPT`)");
    let t = fw.trace(&from_docker("2001:db8:99::5/128", tcp.clone(), https));
    assert_eq!(t.verdict.kind, VerdictKind::Reject);
    assert_eq!(t.blocking_rule().map(|r| r.line), Some(6));
    let icmp = fw.trace(&from_docker("2001:db8:42::1/128", netdoctor_model::host::IpProto::Icmpv6, None));
    assert_eq!(icmp.verdict.kind, VerdictKind::Accept);
    let udp =
        fw.trace(&from_docker("2001:db8:42::1/128", netdoctor_model::host::IpProto::Udp, Some(netdoctor_model::PortRange::single(53))));
    assert_eq!(decided_by(&udp), "the DROP policy of filter FORWARD");
    // To the host's own IPv6 address: the input path.
    let t = fw.trace(&Flow::tcp(Endpoint::remote(net("2001:db8:1::50/128")), Endpoint::new(net("2001:db8:1::2/128")), 22));
    assert_eq!((t.verdict.kind, t.path), (VerdictKind::Accept, Some(PathKind::Input)));

    // With the inet table: its IPv6 rule drops the host; its IPv4-only rule does not apply.
    let facts = capture(true);
    let fw = Firewall::new(&facts);
    let t = fw.trace(&from_docker("2001:db8:42::1/128", tcp.clone(), https));
    assert_eq!(decided_by(&t), "nftables inet guard chain fwd rule handle 2 (`ip6 daddr 2001:db8:42::1 drop`)");
    let t = fw.trace(&from_docker("2001:db8:42::2/128", tcp, https));
    assert_eq!(t.verdict.kind, VerdictKind::Accept, "{t:?}");
}

fn dump_inet() -> String {
    dump(&[(
        "inet",
        "guard",
        "fwd",
        "forward",
        -5,
        "accept",
        &[
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv4"}}, {"drop": null}]"#,
            r#"[{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "2001:db8:42::1"}}, {"drop": null}]"#,
        ],
    )])
}

/// Traces route through the policy rules: a blackhole rule refuses a destination, a
/// VPN table takes the bridge's traffic out of its device.
#[test]
fn traces_follow_policy_routing() {
    let rules = r#"[{"priority":0,"src":"all","table":"local"},
        {"priority":50,"src":"all","dst":"198.51.100.0","dstlen":24,"action":"blackhole"},
        {"priority":60,"src":"172.30.0.0","srclen":24,"iif":"ndtbr0","table":"200"},
        {"priority":32766,"src":"all","table":"main"}]"#;
    let routes = r#"[{"dst":"default","gateway":"192.0.2.1","dev":"eth0"},{"dst":"192.0.2.0/24","dev":"eth0"},
        {"dst":"172.30.0.0/24","dev":"ndtbr0"},{"dst":"default","dev":"tun0","table":"200"}]"#;
    let facts = host(&[
        ("ip-rule.json", rules),
        ("ip-route.json", routes),
        ("nft.json", &dump(&[("ip", "a", "fwd", "forward", 0, "accept", &[])])),
    ]);
    let fw = Firewall::new(&facts);
    let t = fw.trace(
        &Flow::tcp(Endpoint::remote(net("192.0.2.50/32")), Endpoint::remote(net("198.51.100.9/32")), 443)
            .entering(IfaceName::Named("eth0".into())),
    );
    assert_eq!(t.verdict.kind, VerdictKind::Drop);
    assert_eq!(decided_by(&t), "the blackhole route to 198.51.100.0/24");
    let t = fw.trace(&from_container("172.30.0.5/32", "203.0.113.1/32", 443));
    assert_eq!(t.flow.out_iface, Some(IfaceName::Named("tun0".into())));
    // A range of sources partly inside the rule's: the route depends on the packet.
    let t = fw.trace(&from_container("172.30.0.0/16", "203.0.113.1/32", 443));
    assert_eq!(t.verdict.kind, VerdictKind::Unknown);
    assert!(decided_by(&t).contains("60: from 172.30.0.0/24 iif ndtbr0 lookup 200"), "{}", decided_by(&t));
}

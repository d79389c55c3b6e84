//! `nft -j list ruleset` dumps recorded from a real kernel (see tests/host/README.md).

use super::*;
use std::path::Path;
use std::sync::Arc;

const NATIVE: &str = include_str!("../../../tests/host/nft-native/nft.json");
const IPTABLES_NFT: &str = include_str!("../../../tests/host/iptables-nft-json/nft.json");

fn read(text: &str) -> (NftRuleset, Vec<LoadError>) {
    let source = InputSource::File(Arc::from(Path::new("nft.json")));
    let mut errors = Vec::new();
    let parsed = parse(text, &source, &mut errors);
    (parsed, errors)
}

fn set(parsed: &NftRuleset, family: IpFamily) -> &RuleSet {
    parsed.rulesets.iter().find(|s| s.family == family).unwrap_or_else(|| panic!("no {family:?} set"))
}

fn chain<'s>(set: &'s RuleSet, table: &str, name: &str) -> &'s Chain {
    set.table(table).and_then(|t| t.chain(name)).unwrap_or_else(|| panic!("no {table} {name}"))
}

#[test]
fn native_tables_become_rule_sets_with_hooks_handles_and_text() {
    let (parsed, errors) = read(NATIVE);
    assert!(errors.is_empty(), "{errors:?}");
    let tables: Vec<String> = parsed.tables.iter().map(|t| format!("{} {}", t.family, t.name)).collect();
    assert_eq!(tables, ["inet filter", "ip nat", "ip guard"]);
    let v4 = set(&parsed, IpFamily::V4);
    assert_eq!(v4.backend, Backend::Nftables);
    assert_eq!(v4.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["inet filter", "ip nat", "ip guard"]);
    // The inet table is in the IPv6 set too; the ip tables are not.
    let v6 = set(&parsed, IpFamily::V6);
    assert_eq!(v6.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["inet filter"]);

    let forward = chain(v4, "inet filter", "forward");
    assert_eq!(forward.base, Some(BaseHook { hook: Hook::Forward, priority: 0, kind: ChainKind::Filter }));
    assert_eq!(forward.policy, Some(Policy::Drop));
    let guard = chain(v4, "ip guard", "forward");
    assert_eq!(guard.base.map(|b| b.priority), Some(10));
    let containers = chain(v4, "inet filter", "containers");
    assert_eq!((containers.base, containers.policy), (None, None));
    let nat = chain(v4, "ip nat", "prerouting");
    assert_eq!(nat.base, Some(BaseHook { hook: Hook::Prerouting, priority: -100, kind: ChainKind::Nat }));

    let texts: Vec<(Option<u64>, &str)> = forward.rules.iter().map(|r| (r.handle, r.text.as_str())).collect();
    assert_eq!(
        texts,
        [
            (Some(10), "ct state established,related accept"),
            (Some(11), "ip daddr @blocked drop"),
            (Some(12), "jump containers"),
            (Some(13), "iifname \"ndtbr*\" oifname != \"ndtbr*\" accept comment \"containers out\""),
        ]
    );
    // Located by the rule object's position in the one-line JSON.
    let origin = forward.rules.first().map(|r| r.origin.to_string()).unwrap_or_default();
    let column =
        NATIVE.find("{\"rule\": {\"family\": \"inet\", \"table\": \"filter\", \"chain\": \"forward\", \"handle\": 10").map(|i| i + 1);
    assert_eq!(origin, format!("nft.json:1:{}", column.unwrap_or(0)));
}

#[test]
fn matches_are_typed() {
    let (parsed, _) = read(NATIVE);
    let v4 = set(&parsed, IpFamily::V4);
    let forward = chain(v4, "inet filter", "forward");
    let rule = |c: &Chain, i: usize| c.rules.get(i).cloned().unwrap_or_else(|| panic!("rule {i}"));
    let net = |s: &str| s.parse::<IpNet>().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rule(forward, 0).conditions, [Condition::new(Test::CtState(vec![CtState::Established, CtState::Related]))]);
    // The named set, resolved.
    assert_eq!(
        rule(forward, 1).conditions,
        [Condition::new(Test::AnyOf(vec![Test::Destination(net("198.51.100.0/24")), Test::Destination(net("203.0.113.7/32"))]))]
    );
    assert_eq!(rule(forward, 2).target, Target::Jump("containers".into()));
    let wild = rule(forward, 3);
    assert_eq!(
        wild.conditions,
        [
            Condition::new(Test::InIface(IfacePattern { name: "ndtbr".into(), wildcard: true })),
            Condition { negated: true, test: Test::OutIface(IfacePattern { name: "ndtbr".into(), wildcard: true }) },
        ]
    );
    let input = chain(v4, "inet filter", "input");
    // A set of ports is one list of ranges.
    assert_eq!(
        rule(input, 2).conditions,
        [
            Condition::new(Test::Protocol(IpProto::Tcp)),
            Condition::new(Test::DestPorts(vec![PortRange::single(22), PortRange { start: 8000, end: 8100 }]))
        ]
    );
    let containers = chain(v4, "inet filter", "containers");
    assert_eq!(rule(containers, 0).target, Target::Reject(Some("admin-prohibited".into())));
    assert_eq!(rule(containers, 1).conditions, [Condition::new(Test::Mark { value: 0x42, mask: u32::MAX })]);
    // A rate limit cannot be decided.
    assert!(matches!(rule(containers, 2).conditions.last().map(|c| &c.test), Some(Test::Undecidable { module, .. }) if module == "limit"));
    let guard = chain(v4, "ip guard", "forward");
    let Some(Test::AnyOf(dests)) = rule(guard, 1).conditions.get(1).map(|c| c.test.clone()) else { panic!("a set") };
    // 192.0.2.200-192.0.2.210 is 200/29 and 208/31 and 210/32.
    assert_eq!(dests.len(), 4, "{dests:?}");
    let nat = chain(v4, "ip nat", "prerouting");
    assert_eq!(
        rule(nat, 0).conditions,
        [
            Condition::new(Test::AddrType { destination: true, kinds: vec![AddrKind::Local] }),
            Condition::new(Test::Protocol(IpProto::Tcp)),
            Condition::new(Test::DestPorts(vec![PortRange::single(8080)])),
        ]
    );
    assert_eq!(
        rule(nat, 0).target,
        Target::Dnat(NatTo { address: Some("172.30.0.2".parse().unwrap_or_else(|e| panic!("{e}"))), ports: Some(PortRange::single(80)) })
    );
    // In the IPv6 copy of the inet table, IPv4 matches never hold.
    let v6 = set(&parsed, IpFamily::V6);
    assert_eq!(rule(chain(v6, "inet filter", "forward"), 1).conditions, [Condition::new(Test::AnyOf(Vec::new()))]);
}

#[test]
fn iptables_nft_compat_expressions_are_undecidable_or_opaque() {
    let (parsed, errors) = read(IPTABLES_NFT);
    assert!(errors.is_empty(), "{errors:?}");
    let v4 = set(&parsed, IpFamily::V4);
    let forward = chain(v4, "ip filter", "FORWARD");
    let ct = forward.rules.iter().find(|r| r.text.contains("xt match conntrack")).unwrap_or_else(|| panic!("conntrack rule"));
    assert!(ct.conditions.iter().any(|c| matches!(&c.test, Test::Undecidable { module, .. } if module == "conntrack")));
    let dnat = chain(v4, "ip nat", "DOCKER");
    assert!(dnat.rules.iter().any(|r| matches!(&r.target, Target::Opaque(t) if t.contains("DNAT"))));
    let post = chain(v4, "ip nat", "POSTROUTING");
    assert!(post.rules.iter().all(|r| r.target == Target::Masquerade), "{:?}", post.rules);
}

#[test]
fn bad_input_is_located() {
    let (_, errors) = read("{\"nftables\": [\n  {\"table\": {\"family\": \"ip\", \"name\": \"t\"}},\n  {\"chain\": ");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.first().map(|e| e.line), Some(3));
    let text = "{\"nftables\": [\n {\"table\": {\"family\": \"ip\", \"name\": \"t\", \"handle\": 1}},\n {\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": \"nope\", \"handle\": 2, \"expr\": []}}\n]}";
    let (_, errors) = read(text);
    let e = errors.first().map(|e| (e.line, e.column, e.message.clone()));
    assert_eq!(e, Some((3, 2, "rule names chain `nope`, which table `ip t` does not list".to_string())));
    let (_, errors) = read("[1, 2]");
    assert!(errors.first().is_some_and(|e| e.message.contains("nft -j list ruleset")), "{errors:?}");
    let bad_addr = "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"t\"}}, {\"chain\": {\"family\": \"ip\", \"table\": \"t\", \"name\": \"c\"}},\n{\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": \"c\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\", \"field\": \"saddr\"}}, \"right\": \"10.0.0.300\"}}]}}]}";
    let (_, errors) = read(bad_addr);
    assert_eq!(errors.first().map(|e| (e.line, e.column)), Some((2, 1)), "{errors:?}");
}

#[test]
fn priorities_by_name() {
    let p = |v: Value| priority(Some(&v));
    assert_eq!(p(Value::from(-150)), Some(-150));
    assert_eq!(p(Value::from("filter")), Some(0));
    assert_eq!(p(Value::from("dstnat")), Some(-100));
    assert_eq!(p(Value::from("filter + 10")), Some(10));
    assert_eq!(p(Value::from("srcnat - 5")), Some(95));
    assert_eq!(p(Value::from("bogus")), None);
}

/// What one generated rule must lower to.
struct Expected {
    chain: String,
    handle: u64,
    text: String,
    target: Target,
    /// The IPv4 conditions; the IPv6 copy has `never` in place of an `ip saddr` match.
    conditions: Vec<Condition>,
    v4_only: bool,
    line: u32,
    column: u32,
}

/// A generated dump of a few thousand rules of varied shapes, split over lines with
/// multi-byte characters before some elements, and what each rule lowers to.
fn generated(chains: usize, per_chain: usize) -> (String, Vec<Expected>) {
    let net = |s: &str| s.parse::<IpNet>().unwrap_or_else(|e| panic!("{e}"));
    let mut text = String::from("{\"nftables\": [\n  {\"metainfo\": {\"json_schema_version\": 1}},\n  {\"table\": {\"family\": \"inet\", \"name\": \"filter\", \"handle\": 1}}");
    let mut items = vec![r#"{"set": {"family": "inet", "table": "filter", "name": "blocked", "type": "ipv4_addr", "handle": 2, "elem": ["192.0.2.1", {"prefix": {"addr": "198.51.100.0", "len": 24}}]}}"#.to_string()];
    for c in 0..chains {
        items.push(format!(r#"{{"chain": {{"family": "inet", "table": "filter", "name": "c{c}", "handle": {}}}}}"#, c + 10));
    }
    let mut rules = Vec::new();
    let mut handle = 1000u64;
    for c in 0..chains {
        for r in 0..per_chain {
            handle += 1;
            let n = c * per_chain + r;
            let (a, b) = (n % 250, n / 250 % 250);
            let (expr, text, target, conditions, v4_only): (String, String, Target, Vec<Condition>, bool) = match n % 6 {
                0 => (
                    format!(r#"{{"match": {{"op": "==", "left": {{"payload": {{"protocol": "ip", "field": "saddr"}}}}, "right": {{"prefix": {{"addr": "10.{a}.{b}.0", "len": 24}}}}}}}}, {{"match": {{"op": "!=", "left": {{"meta": {{"key": "oifname"}}}}, "right": "eth{a}"}}}}, {{"counter": {{"packets": {n}, "bytes": 0}}}}, {{"accept": null}}"#),
                    format!("ip saddr 10.{a}.{b}.0/24 oifname != \"eth{a}\" accept"),
                    Target::Accept,
                    vec![
                        Condition::new(Test::Source(net(&format!("10.{a}.{b}.0/24")))),
                        Condition { negated: true, test: Test::OutIface(IfacePattern { name: format!("eth{a}"), wildcard: false }) },
                    ],
                    true,
                ),
                1 => (
                    format!(r#"{{"match": {{"op": "==", "left": {{"payload": {{"protocol": "tcp", "field": "dport"}}}}, "right": {{"set": [{a}, {{"range": [8000, 8100]}}]}}}}}}, {{"drop": null}}"#),
                    format!("tcp dport {{ {a}, 8000-8100 }} drop"),
                    Target::Drop,
                    vec![
                        Condition::new(Test::Protocol(IpProto::Tcp)),
                        Condition::new(Test::DestPorts(vec![PortRange::single(u16::try_from(a).unwrap_or(0)), PortRange { start: 8000, end: 8100 }])),
                    ],
                    false,
                ),
                2 => (
                    format!(r#"{{"match": {{"op": "in", "left": {{"ct": {{"key": "state"}}}}, "right": ["established", "related"]}}}}, {{"jump": {{"target": "c{}"}}}}"#, (c + 1) % chains),
                    format!("ct state established,related jump c{}", (c + 1) % chains),
                    Target::Jump(format!("c{}", (c + 1) % chains)),
                    vec![Condition::new(Test::CtState(vec![CtState::Established, CtState::Related]))],
                    false,
                ),
                3 => (
                    format!(r#"{{"match": {{"op": "==", "left": {{"meta": {{"key": "iifname"}}}}, "right": "br-{a}*"}}}}, {{"limit": {{"rate": 10, "per": "second"}}}}, {{"accept": null}}"#),
                    format!("iifname \"br-{a}*\" limit accept"),
                    Target::Accept,
                    vec![
                        Condition::new(Test::InIface(IfacePattern { name: format!("br-{a}"), wildcard: true })),
                        Condition::new(Test::Undecidable { module: "limit".into(), text: "limit".into() }),
                    ],
                    false,
                ),
                4 => (
                    r#"{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@blocked"}}, {"reject": {"type": "icmp", "expr": "admin-prohibited"}}"#.to_string(),
                    "ip daddr @blocked reject with icmp admin-prohibited".to_string(),
                    Target::Reject(Some("admin-prohibited".into())),
                    vec![Condition::new(Test::AnyOf(vec![Test::Destination(net("192.0.2.1/32")), Test::Destination(net("198.51.100.0/24"))]))],
                    true,
                ),
                _ => (
                    format!(r#"{{"match": {{"op": "==", "left": {{"meta": {{"key": "mark"}}}}, "right": {n}}}}}, {{"return": null}}"#),
                    format!("meta mark {n} return comment \"règle {n} 日本\""),
                    Target::Return,
                    vec![Condition::new(Test::Mark { value: u32::try_from(n).unwrap_or(0), mask: u32::MAX })],
                    false,
                ),
            };
            let comment = if n % 6 == 5 { format!(r#""comment": "règle {n} 日本", "#) } else { String::new() };
            items.push(format!(
                r#"{{"rule": {{"family": "inet", "table": "filter", "chain": "c{c}", "handle": {handle}, {comment}"expr": [{expr}]}}}}"#
            ));
            rules.push((
                items.len() - 1,
                Expected { chain: format!("c{c}"), handle, text, target, conditions, v4_only, line: 0, column: 0 },
            ));
        }
    }
    // Elements two or three to a line; where each starts, counted in characters.
    let mut starts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        text.push_str(if i % 3 == 0 { ",\n    " } else { ", " });
        let line_start = text.rfind('\n').map_or(0, |p| p + 1);
        let line = text.matches('\n').count() + 1;
        let column = text.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        starts.push((u32::try_from(line).unwrap_or(0), u32::try_from(column).unwrap_or(0)));
        text.push_str(item);
    }
    text.push_str("\n]}\n");
    let expected = rules
        .into_iter()
        .map(|(i, mut e)| {
            (e.line, e.column) = starts.get(i).copied().unwrap_or_default();
            e
        })
        .collect();
    (text, expected)
}

#[test]
fn a_generated_dump_of_thousands_of_rules_lowers_rule_by_rule() {
    let (text, expected) = generated(40, 100);
    let (parsed, errors) = read(&text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(expected.len(), 4000);
    let v4 = set(&parsed, IpFamily::V4);
    let v6 = set(&parsed, IpFamily::V6);
    assert_eq!(v4.rule_count(), 4000);
    assert_eq!(v6.rule_count(), 4000);
    let mut next: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for e in &expected {
        let i = next.entry(e.chain.as_str()).or_insert(0);
        let r4 = chain(v4, "inet filter", &e.chain).rules.get(*i).unwrap_or_else(|| panic!("{} rule {i}", e.chain));
        let r6 = chain(v6, "inet filter", &e.chain).rules.get(*i).unwrap_or_else(|| panic!("{} rule {i}", e.chain));
        *i += 1;
        for r in [r4, r6] {
            assert_eq!(r.handle, Some(e.handle));
            assert_eq!(r.text, e.text, "handle {}", e.handle);
            assert_eq!(r.target, e.target, "handle {}", e.handle);
            assert_eq!((r.line, r.origin.to_string()), (e.line, format!("nft.json:{}:{}", e.line, e.column)), "handle {}", e.handle);
        }
        assert_eq!(r4.conditions, e.conditions, "handle {}", e.handle);
        if e.v4_only {
            assert_eq!(r6.conditions.first(), Some(&Condition::new(Test::AnyOf(Vec::new()))), "handle {}", e.handle);
        } else {
            assert_eq!(r6.conditions, e.conditions, "handle {}", e.handle);
        }
    }
}

#[test]
fn a_mark_set_before_a_verdict_is_kept_as_its_own_rule() {
    let dump = r#"{"nftables": [{"table": {"family": "inet", "name": "vpn", "handle": 1}},
      {"chain": {"family": "inet", "table": "vpn", "name": "out", "handle": 1, "type": "route", "hook": "output", "prio": -150, "policy": "accept"}},
      {"rule": {"family": "inet", "table": "vpn", "chain": "out", "handle": 2, "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}},
        {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 51820}}, {"accept": null}]}},
      {"rule": {"family": "inet", "table": "vpn", "chain": "out", "handle": 3, "expr": [
        {"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": 0}},
        {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}, {"drop": null}]}},
      {"rule": {"family": "inet", "table": "vpn", "chain": "out", "handle": 4, "expr": [
        {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 7}}]}}]}"#;
    let (parsed, errors) = read(dump);
    assert!(errors.is_empty(), "{errors:?}");
    let out = chain(set(&parsed, IpFamily::V4), "inet vpn", "out");
    let rules: Vec<(Option<u64>, &Target, usize)> = out.rules.iter().map(|r| (r.handle, &r.target, r.conditions.len())).collect();
    assert_eq!(
        rules,
        [
            (Some(2), &Target::SetMark { value: 51820, mask: u32::MAX }, 1),
            (Some(2), &Target::Accept, 1),
            (Some(3), &Target::SetMark { value: 1, mask: u32::MAX }, 1),
            // Its mark test ran before the mark changed: the verdict's reach is not decided.
            (Some(3), &Target::Drop, 2),
            (Some(4), &Target::SetMark { value: 7, mask: u32::MAX }, 0),
        ]
    );
    assert!(matches!(out.rules[3].conditions[1].test, Test::Undecidable { .. }));
    assert_eq!(out.rules[0].text, out.rules[1].text);
}

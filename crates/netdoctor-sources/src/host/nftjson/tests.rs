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

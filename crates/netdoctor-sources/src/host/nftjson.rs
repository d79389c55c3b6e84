//! `nft -j list ruleset`: native nftables tables lowered into the same rule model as
//! iptables dumps, so the trace engine walks both. `ip`, `ip6` and `inet` tables become
//! rule sets of backend `Nftables` (an `inet` table is in both families' sets); a table is
//! named `<family> <name>` (`inet filter`), base chains carry their hook, priority and
//! type, rules their handle and a text rebuilt in `nft` syntax.
//!
//! Matches netdoctor understands: `ip`/`ip6` `saddr`/`daddr` (addresses, prefixes,
//! ranges, anonymous and resolvable named sets), `iifname`/`oifname`/`iif`/`oif`
//! (with `*` wildcards), `meta l4proto`, `ip protocol`, `meta nfproto`, `th`/`tcp`/`udp`/
//! `sctp` ports (single, ranges, sets, comparisons), `ct state`, `ct status dnat`,
//! `fib daddr type`, `meta mark`. Anything else (maps, concatenations, other payloads,
//! `limit`, iptables-nft's `xt` compat matches) becomes an undecidable condition, so a
//! trace that depends on it says so instead of guessing.
//!
//! Every rule is located: its position in the JSON (line and column of the `{"rule": …}`
//! object; `nft -j` prints one line, so mostly the column) and its handle.

use super::capture::InputSource;
use crate::error::LoadError;
use ipnet::IpNet;
use netdoctor_model::host::{
    AddrKind, Backend, BaseHook, Chain, ChainKind, Condition, CtState, Hook, IfacePattern, IpFamily, IpProto, NatTo, NftTable, Policy,
    Rule, RuleSet, Table, Target, Test,
};
use netdoctor_model::PortRange;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;

/// What `nft -j list ruleset` holds, lowered.
#[derive(Debug, Clone, Default)]
pub struct NftRuleset {
    /// Every table, of every family.
    pub tables: Vec<NftTable>,
    /// The `ip`/`ip6`/`inet` tables as rule sets, one per address family (only families
    /// that have a table).
    pub rulesets: Vec<RuleSet>,
}

/// A position in the text.
#[derive(Debug, Clone, Copy, Default)]
struct Pos {
    line: u32,
    column: u32,
}

/// Parses and lowers a ruleset dump; problems go to `errors`, what could be read stays.
pub fn parse(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> NftRuleset {
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let line = u32::try_from(e.line()).unwrap_or(0);
            let column = u32::try_from(e.column()).unwrap_or(0);
            errors.push(source.error(line, column, format!("not `nft -j list ruleset` output: {e}")));
            return NftRuleset::default();
        }
    };
    let Some(items) = root.get("nftables").and_then(Value::as_array) else {
        errors.push(source.error(1, 1, "expected a JSON object `{\"nftables\": [...]}` as `nft -j list ruleset` prints it"));
        return NftRuleset::default();
    };
    let positions = element_positions(text);
    let pos = |i: usize| positions.get(i).copied().unwrap_or(Pos { line: 1, column: 1 });
    let mut reader = Reader { source, sets: HashMap::new(), tables: Vec::new(), list: Vec::new() };
    // Sets first: rules may name a set declared after them.
    for (i, item) in items.iter().enumerate() {
        if let Some(set) = item.get("set").or_else(|| item.get("map")) {
            reader.set(set, item.get("map").is_some(), pos(i));
        }
    }
    for (i, item) in items.iter().enumerate() {
        let Some((kind, body)) = item.as_object().and_then(|o| o.iter().next()) else {
            errors.push(source.error(pos(i).line, pos(i).column, "expected an object with one key (`table`, `chain`, `rule`, …)"));
            continue;
        };
        let at = pos(i);
        let result = match kind.as_str() {
            "table" => reader.table(body, at),
            "chain" => reader.chain(body, at),
            "rule" => reader.rule(body, i, at),
            // Sets were read above; the rest holds nothing a trace uses.
            _ => Ok(()),
        };
        if let Err(message) = result {
            errors.push(source.error(at.line, at.column, message));
        }
    }
    reader.finish(items, errors)
}

/// A named set's elements as written, or why they cannot be used.
type SetElems = Result<Vec<Value>, String>;

struct RawTable {
    family: String,
    name: String,
    pos: Pos,
    chains: Vec<RawChain>,
}

struct RawChain {
    name: String,
    base: Option<BaseHook>,
    policy: Option<Policy>,
    pos: Pos,
    /// Index into the dump's items, position, handle.
    rules: Vec<(usize, Pos, Option<u64>)>,
}

struct Reader<'s> {
    source: &'s InputSource,
    /// (family, table, name) → elements.
    sets: HashMap<(String, String, String), SetElems>,
    tables: Vec<RawTable>,
    list: Vec<NftTable>,
}

fn str_field<'v>(body: &'v Value, key: &str) -> Result<&'v str, String> {
    body.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing string field `{key}`"))
}

impl Reader<'_> {
    fn set(&mut self, body: &Value, is_map: bool, _at: Pos) {
        let (Ok(family), Ok(table), Ok(name)) = (str_field(body, "family"), str_field(body, "table"), str_field(body, "name")) else {
            return;
        };
        let elems = if is_map {
            Err(format!("`@{name}` is a map, which netdoctor does not follow"))
        } else if body.get("flags").and_then(Value::as_array).is_some_and(|f| f.iter().any(|x| x == "dynamic")) {
            Err(format!("set `@{name}` is filled at run time (dynamic)"))
        } else {
            match body.get("elem") {
                None => Ok(Vec::new()),
                Some(Value::Array(e)) => Ok(e.clone()),
                Some(_) => Err(format!("set `@{name}` has elements netdoctor cannot read")),
            }
        };
        self.sets.insert((family.into(), table.into(), name.into()), elems);
    }

    fn table(&mut self, body: &Value, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        let name = str_field(body, "name")?;
        self.list.push(NftTable { family: family.into(), name: name.into(), origin: self.source.origin(at.line, at.column) });
        if matches!(family, "ip" | "ip6" | "inet") {
            self.tables.push(RawTable { family: family.into(), name: name.into(), pos: at, chains: Vec::new() });
        }
        Ok(())
    }

    fn find_table(&mut self, family: &str, table: &str) -> Option<&mut RawTable> {
        self.tables.iter_mut().find(|t| t.family == family && t.name == table)
    }

    fn chain(&mut self, body: &Value, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        if !matches!(family, "ip" | "ip6" | "inet") {
            return Ok(());
        }
        let table = str_field(body, "table")?;
        let name = str_field(body, "name")?.to_string();
        let base = match body.get("hook").and_then(Value::as_str) {
            None => None,
            Some(hook) => {
                let kind = match body.get("type").and_then(Value::as_str).unwrap_or("filter") {
                    "filter" => ChainKind::Filter,
                    "nat" => ChainKind::Nat,
                    "route" => ChainKind::Route,
                    other => return Err(format!("chain `{name}` has unknown type `{other}`")),
                };
                let priority =
                    priority(body.get("prio")).ok_or_else(|| format!("chain `{name}` has no priority netdoctor understands (`prio`)"))?;
                // ingress/egress hooks run outside the paths traced: the chain is kept as a regular one.
                Hook::parse(hook).map(|hook| BaseHook { hook, priority, kind })
            }
        };
        let policy = match body.get("policy").and_then(Value::as_str) {
            None => base.map(|_| Policy::Accept),
            Some("accept") => Some(Policy::Accept),
            Some("drop") => Some(Policy::Drop),
            Some(other) => return Err(format!("chain `{name}` has unknown policy `{other}` (expected accept or drop)")),
        };
        let t =
            self.find_table(family, table).ok_or_else(|| format!("chain `{name}` names table `{family} {table}`, which is not listed"))?;
        t.chains.push(RawChain { name, base, policy: base.and(policy), pos: at, rules: Vec::new() });
        Ok(())
    }

    fn rule(&mut self, body: &Value, index: usize, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        if !matches!(family, "ip" | "ip6" | "inet") {
            return Ok(());
        }
        let table = str_field(body, "table")?;
        let chain = str_field(body, "chain")?;
        let handle = body.get("handle").and_then(Value::as_u64);
        let t = self.find_table(family, table).ok_or_else(|| format!("rule names table `{family} {table}`, which is not listed"))?;
        let c = t
            .chains
            .iter_mut()
            .find(|c| c.name == chain)
            .ok_or_else(|| format!("rule names chain `{chain}`, which table `{family} {table}` does not list"))?;
        c.rules.push((index, at, handle));
        Ok(())
    }

    fn finish(self, items: &[Value], errors: &mut Vec<LoadError>) -> NftRuleset {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut origin4 = None;
        let mut origin6 = None;
        for t in &self.tables {
            let families: &[IpFamily] = match t.family.as_str() {
                "ip" => &[IpFamily::V4],
                "ip6" => &[IpFamily::V6],
                _ => &[IpFamily::V4, IpFamily::V6],
            };
            for (family, table) in families.iter().zip(self.lower_table(items, t, families, errors)) {
                let origin = table.origin.clone();
                match family {
                    IpFamily::V4 => {
                        origin4.get_or_insert(origin);
                        v4.push(table)
                    }
                    IpFamily::V6 => {
                        origin6.get_or_insert(origin);
                        v6.push(table)
                    }
                }
            }
        }
        let mut rulesets = Vec::new();
        for (family, tables, origin) in [(IpFamily::V4, v4, origin4), (IpFamily::V6, v6, origin6)] {
            if let Some(origin) = origin {
                rulesets.push(RuleSet { family, backend: Backend::Nftables, tables, origin, legacy_tables_warning: None });
            }
        }
        NftRuleset { tables: self.list, rulesets }
    }

    /// The table once per family. A rule is lowered again for the second family (an
    /// `inet` table's IPv6 copy) only when something in it depends on the family;
    /// problems are reported once.
    fn lower_table(&self, items: &[Value], t: &RawTable, families: &[IpFamily], errors: &mut Vec<LoadError>) -> Vec<Table> {
        let mut per_family: Vec<Vec<Chain>> = families.iter().map(|_| Vec::new()).collect();
        for c in &t.chains {
            let mut rules: Vec<Vec<Rule>> = families.iter().map(|_| Vec::new()).collect();
            for (index, at, handle) in &c.rules {
                let Some(body) = items.get(*index).and_then(|item| item.get("rule")) else { continue };
                let mut previous: Option<(Rule, bool)> = None;
                for (i, family) in families.iter().enumerate() {
                    let rule = match &previous {
                        Some((rule, false)) => Some(rule.clone()),
                        _ => {
                            let mut lowering = RuleLowering { reader: self, family: *family, table: t, family_specific: false };
                            match lowering.lower(body) {
                                Ok((conditions, target, text)) => {
                                    let rule = Rule {
                                        conditions,
                                        target,
                                        counters: None,
                                        text,
                                        line: at.line,
                                        handle: *handle,
                                        origin: self.source.origin(at.line, at.column),
                                    };
                                    previous = Some((rule.clone(), lowering.family_specific));
                                    Some(rule)
                                }
                                Err(message) => {
                                    if i == 0 {
                                        errors.push(self.source.error(at.line, at.column, message));
                                    }
                                    None
                                }
                            }
                        }
                    };
                    if let (Some(rule), Some(list)) = (rule, rules.get_mut(i)) {
                        list.push(rule);
                    }
                }
            }
            for (chains, rules) in per_family.iter_mut().zip(rules) {
                chains.push(Chain {
                    name: c.name.clone(),
                    policy: c.policy,
                    base: c.base,
                    counters: None,
                    rules,
                    origin: self.source.origin(c.pos.line, c.pos.column),
                });
            }
        }
        per_family
            .into_iter()
            .map(|chains| Table { name: format!("{} {}", t.family, t.name), chains, origin: self.source.origin(t.pos.line, t.pos.column) })
            .collect()
    }
}

/// nft's priority: a number, or one of the standard names.
fn priority(v: Option<&Value>) -> Option<i32> {
    match v? {
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Value::String(s) => {
            let (name, offset) = match s.find(['+', '-']) {
                Some(i) if i > 0 => {
                    let (n, rest) = s.split_at(i);
                    (n.trim(), rest.replace(' ', "").parse::<i32>().ok()?)
                }
                _ => (s.trim(), 0),
            };
            let base = match name {
                "raw" => -300,
                "mangle" => -150,
                "dstnat" => -100,
                "filter" => 0,
                "security" => 50,
                "srcnat" => 100,
                other => other.parse().ok()?,
            };
            Some(base + offset)
        }
        _ => None,
    }
}

/// Lowers one rule for one address family.
struct RuleLowering<'r, 's> {
    reader: &'r Reader<'s>,
    family: IpFamily,
    table: &'r RawTable,
    /// Set when the rule lowers differently for the other family.
    family_specific: bool,
}

/// A condition that never holds: the rule is for the other address family.
fn never() -> Condition {
    Condition::new(Test::AnyOf(Vec::new()))
}

fn undecidable(module: &str, text: String) -> Condition {
    Condition::new(Test::Undecidable { module: module.into(), text })
}

impl RuleLowering<'_, '_> {
    fn lower(&mut self, body: &Value) -> Result<(Vec<Condition>, Target, String), String> {
        let exprs = body.get("expr").and_then(Value::as_array).ok_or("rule has no `expr` list")?;
        let mut conditions = Vec::new();
        let mut target: Option<Target> = None;
        let mut texts: Vec<String> = Vec::new();
        for e in exprs {
            let Some((key, val)) = e.as_object().and_then(|o| o.iter().next()) else {
                return Err("a rule statement is not an object".into());
            };
            let text = render_stmt(key, val);
            if !text.is_empty() {
                texts.push(text.clone());
            }
            if target.is_some() && !matches!(key.as_str(), "counter" | "comment") {
                // A statement after the verdict never runs.
                continue;
            }
            match key.as_str() {
                "match" => conditions.extend(self.matching(val, &text)?),
                "counter" | "log" | "notrack" | "set" | "comment" => {}
                "mangle" => {
                    let mark = val.get("key").and_then(|k| k.get("meta")).and_then(|m| m.get("key")).is_some_and(|k| k == "mark");
                    if let (true, Some(value)) = (mark, val.get("value").and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok())) {
                        target = Some(Target::SetMark { value, mask: u32::MAX });
                    }
                }
                "accept" => target = Some(Target::Accept),
                "drop" => target = Some(Target::Drop),
                "reject" => {
                    let with = val.get("expr").and_then(Value::as_str).map(str::to_string);
                    target = Some(Target::Reject(with))
                }
                "return" => target = Some(Target::Return),
                "continue" => target = Some(Target::None),
                "jump" | "goto" => {
                    let name = val.get("target").and_then(Value::as_str).ok_or_else(|| format!("`{key}` without a target chain"))?;
                    if !self.table.chains.iter().any(|c| c.name == name) {
                        return Err(format!("`{key} {name}`: table `{} {}` has no chain `{name}`", self.table.family, self.table.name));
                    }
                    target = Some(if key == "jump" { Target::Jump(name.into()) } else { Target::Goto(name.into()) });
                }
                "dnat" | "snat" => {
                    self.family_specific |= val.get("family").is_some();
                    if val.get("family").and_then(Value::as_str).is_some_and(|f| (f == "ip") != (self.family == IpFamily::V4)) {
                        conditions.push(never());
                    }
                    let address = val.get("addr").map(|a| scalar_text(a).parse::<IpAddr>());
                    let address = match address {
                        None => None,
                        Some(Ok(a)) => Some(a),
                        Some(Err(_)) => {
                            target = Some(Target::Opaque(format!("{key} to a computed address")));
                            continue;
                        }
                    };
                    let ports = match val.get("port") {
                        None => None,
                        Some(p) => match port_range(p) {
                            Some(r) => Some(r),
                            None => {
                                target = Some(Target::Opaque(format!("{key} to a computed port")));
                                continue;
                            }
                        },
                    };
                    let to = NatTo { address, ports };
                    target = Some(if key == "dnat" { Target::Dnat(to) } else { Target::Snat(to) });
                }
                "masquerade" => target = Some(Target::Masquerade),
                "redirect" => target = Some(Target::Redirect(val.get("port").and_then(port_range))),
                "queue" => target = Some(Target::Opaque("queue".into())),
                "vmap" => target = Some(Target::Opaque("a verdict map (vmap)".into())),
                "xt" => {
                    let kind = val.get("type").and_then(Value::as_str).unwrap_or("match");
                    let name = val.get("name").and_then(Value::as_str).unwrap_or("unknown");
                    match (kind, name) {
                        ("match", "comment") => {}
                        ("match", _) => conditions.push(undecidable(
                            name,
                            format!(
                                "iptables-nft compat match `{name}`: `nft -j` does not show its options (read iptables-nft-save for them)"
                            ),
                        )),
                        (_, "LOG" | "NFLOG" | "TCPMSS" | "CT" | "CONNMARK" | "TRACE" | "AUDIT" | "CHECKSUM" | "CLASSIFY") => {
                            target = Some(Target::Continue(name.into()))
                        }
                        (_, "MASQUERADE") => target = Some(Target::Masquerade),
                        (_, other) => target = Some(Target::Opaque(format!("iptables-nft compat target {other}"))),
                    }
                }
                "limit" | "quota" | "meter" | "ct count" => conditions.push(undecidable(key, text.clone())),
                other => conditions.push(undecidable(other, format!("statement `{text}`"))),
            }
        }
        let mut text = texts.join(" ");
        if let Some(comment) = body.get("comment").and_then(Value::as_str) {
            text.push_str(&format!(" comment \"{comment}\""));
        }
        Ok((conditions, target.unwrap_or(Target::None), text.trim().to_string()))
    }

    /// One `match` statement: `left op right`.
    fn matching(&mut self, m: &Value, text: &str) -> Result<Vec<Condition>, String> {
        let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
        let left = m.get("left").ok_or("match without `left`")?;
        let right = m.get("right").ok_or("match without `right`")?;
        let negated = op == "!=";
        let unknown = || Ok(vec![undecidable("nft", format!("match `{text}`"))]);
        let compare = !matches!(op, "==" | "!=" | "in");
        let payload_family = left.get("payload").and_then(|p| p.get("protocol")).is_some_and(|p| p == "ip" || p == "ip6");
        let nfproto = left.get("meta").and_then(|m| m.get("key")).is_some_and(|k| k == "nfproto");
        self.family_specific |= payload_family || nfproto;
        // Values of the right side, with named sets resolved.
        let values = match self.values(right) {
            Ok(v) => v,
            Err(reason) => return Ok(vec![undecidable("set", format!("{reason} (in `{text}`)"))]),
        };
        let build = |cond: Result<Option<Vec<Test>>, String>, deps: Vec<Condition>| -> Result<Vec<Condition>, String> {
            match cond? {
                None => unknown(),
                Some(tests) => {
                    let test = match <[Test; 1]>::try_from(tests) {
                        Ok([t]) => t,
                        Err(tests) => Test::AnyOf(tests),
                    };
                    let mut out = deps;
                    out.push(Condition { negated, test });
                    Ok(out)
                }
            }
        };
        if let Some(payload) = left.get("payload") {
            let proto = payload.get("protocol").and_then(Value::as_str).unwrap_or("");
            let field = payload.get("field").and_then(Value::as_str).unwrap_or("");
            match (proto, field) {
                ("ip" | "ip6", "saddr" | "daddr") => {
                    if (proto == "ip") != (self.family == IpFamily::V4) {
                        return Ok(vec![never()]);
                    }
                    if compare {
                        return unknown();
                    }
                    let source = field == "saddr";
                    return build(
                        values.iter().map(|v| nets(v, text)).collect::<Result<Vec<_>, _>>().map(|n| {
                            Some(
                                n.into_iter()
                                    .flatten()
                                    .map(|net| if source { Test::Source(net) } else { Test::Destination(net) })
                                    .collect(),
                            )
                        }),
                        Vec::new(),
                    );
                }
                ("ip", "protocol") | ("ip6", "nexthdr") => {
                    if (proto == "ip") != (self.family == IpFamily::V4) {
                        return Ok(vec![never()]);
                    }
                    if compare {
                        return unknown();
                    }
                    return build(protocols(&values), Vec::new());
                }
                ("tcp" | "udp" | "sctp" | "th", "dport" | "sport") => {
                    let deps = match proto {
                        "th" => Vec::new(),
                        p => vec![Condition::new(Test::Protocol(IpProto::parse(p).ok().flatten().ok_or("bad protocol")?))],
                    };
                    let ranges =
                        if compare { compare_range(op, &values) } else { values.iter().map(|v| port_range(v)).collect::<Option<Vec<_>>>() };
                    let Some(ranges) = ranges else { return unknown() };
                    let test = if field == "dport" { Test::DestPorts(ranges) } else { Test::SourcePorts(ranges) };
                    let mut out = deps;
                    out.push(Condition { negated: negated && !compare, test });
                    return Ok(out);
                }
                _ => return unknown(),
            }
        }
        if compare {
            return unknown();
        }
        if let Some(meta) = left.get("meta") {
            let key = meta.get("key").and_then(Value::as_str).unwrap_or("");
            return match key {
                "iifname" | "oifname" | "iif" | "oif" => {
                    let input = key.starts_with('i');
                    build(
                        Ok(values
                            .iter()
                            .map(|v| {
                                let name = v.as_str()?;
                                let pattern = match name.strip_suffix('*') {
                                    Some(prefix) if !prefix.ends_with('\\') => IfacePattern { name: prefix.into(), wildcard: true },
                                    _ => IfacePattern { name: name.replace("\\*", "*"), wildcard: false },
                                };
                                Some(if input { Test::InIface(pattern) } else { Test::OutIface(pattern) })
                            })
                            .collect::<Option<Vec<_>>>()),
                        Vec::new(),
                    )
                }
                "l4proto" => build(protocols(&values), Vec::new()),
                "nfproto" => {
                    let ours = if self.family == IpFamily::V4 { "ipv4" } else { "ipv6" };
                    let hit = values.iter().any(|v| v.as_str() == Some(ours));
                    Ok(if hit != negated { Vec::new() } else { vec![never()] })
                }
                "mark" => build(
                    Ok(values
                        .iter()
                        .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()).map(|value| Test::Mark { value, mask: u32::MAX }))
                        .collect()),
                    Vec::new(),
                ),
                _ => unknown(),
            };
        }
        if let Some(ct) = left.get("ct") {
            let key = ct.get("key").and_then(Value::as_str).unwrap_or("");
            if ct.get("dir").is_some() {
                return unknown();
            }
            return match key {
                "state" => {
                    let states: Option<Vec<CtState>> = flags(&values).iter().map(|s| CtState::parse(s)).collect();
                    // `ct state established,related` lists flags: any of them.
                    build(Ok(states.map(|s| vec![Test::CtState(s)])), Vec::new())
                }
                "status" => {
                    let f = flags(&values);
                    if f.len() == 1 && f.first().map(String::as_str) == Some("dnat") {
                        build(Ok(Some(vec![Test::CtState(vec![CtState::Dnat])])), Vec::new())
                    } else {
                        unknown()
                    }
                }
                _ => unknown(),
            };
        }
        if let Some(fib) = left.get("fib") {
            let result = fib.get("result").and_then(Value::as_str).unwrap_or("");
            let f: Vec<&str> =
                fib.get("flags").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            if result != "type" || f.len() != 1 {
                return unknown();
            }
            let destination = f.first() == Some(&"daddr");
            let kinds: Option<Vec<AddrKind>> = flags(&values).iter().map(|k| AddrKind::parse(k)).collect();
            return build(Ok(kinds.map(|kinds| vec![Test::AddrType { destination, kinds }])), Vec::new());
        }
        if let Some(and) = left.get("&").and_then(Value::as_array) {
            // `meta mark & 0xff == 0x1`
            let is_mark = and.first().and_then(|l| l.get("meta")).and_then(|m| m.get("key")).is_some_and(|k| k == "mark");
            let mask = and.get(1).and_then(Value::as_u64).and_then(|m| u32::try_from(m).ok());
            let value = values.first().and_then(|v| v.as_u64()).and_then(|v| u32::try_from(v).ok());
            if let (true, Some(mask), Some(value), 1) = (is_mark, mask, value, values.len()) {
                return build(Ok(Some(vec![Test::Mark { value, mask }])), Vec::new());
            }
        }
        unknown()
    }

    /// The right side as a list of values: a set's elements, or the one value.
    fn values<'v>(&'v self, right: &'v Value) -> Result<Vec<&'v Value>, String> {
        let unwrap = |v: &'v Value| v.get("elem").and_then(|e| e.get("val")).unwrap_or(v);
        match right {
            Value::Object(o) if o.contains_key("set") => match o.get("set") {
                Some(Value::Array(items)) => Ok(items.iter().map(unwrap).collect()),
                Some(other) => Ok(vec![unwrap(other)]),
                None => Ok(Vec::new()),
            },
            Value::String(s) if s.starts_with('@') => {
                let name = s.trim_start_matches('@');
                let key = (self.table.family.clone(), self.table.name.clone(), name.to_string());
                match self.reader.sets.get(&key) {
                    Some(Ok(elems)) => Ok(elems.iter().map(unwrap).collect()),
                    Some(Err(reason)) => Err(reason.clone()),
                    None => Err(format!("set `{s}` is not in the dump")),
                }
            }
            Value::Object(o) if o.contains_key("concat") || o.contains_key("map") => Err("a concatenation or map".into()),
            other => Ok(vec![other]),
        }
    }
}

/// Flag words of `ct state` and `fib type` values (`["established", "related"]`).
fn flags(values: &[&Value]) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        match *v {
            Value::String(s) => out.extend(s.split(',').map(|w| w.trim().to_string())),
            Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
            _ => out.push(String::new()),
        }
    }
    out
}

fn protocols(values: &[&Value]) -> Result<Option<Vec<Test>>, String> {
    let mut out = Vec::new();
    for v in values {
        let text = scalar_text(v);
        match IpProto::parse(&text) {
            Ok(Some(p)) => out.push(Test::Protocol(p)),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A port, a `{"range": [a, b]}`, or a service name nft printed.
fn port_range(v: &Value) -> Option<PortRange> {
    let one = |v: &Value| -> Option<u16> {
        match v {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.parse().ok().or(match s.as_str() {
                "ssh" => Some(22),
                "domain" => Some(53),
                "http" => Some(80),
                "https" => Some(443),
                _ => None,
            }),
            _ => None,
        }
    };
    if let Some(r) = v.get("range").and_then(Value::as_array) {
        let (a, b) = (one(r.first()?)?, one(r.get(1)?)?);
        return Some(PortRange { start: a.min(b), end: a.max(b) });
    }
    one(v).map(PortRange::single)
}

/// `tcp dport < 1024` as a range.
fn compare_range(op: &str, values: &[&Value]) -> Option<Vec<PortRange>> {
    let [v] = values else { return None };
    let p = port_range(v)?;
    let n = p.start;
    let range = match op {
        "<" => PortRange { start: 0, end: n.checked_sub(1)? },
        "<=" => PortRange { start: 0, end: n },
        ">" => PortRange { start: n.checked_add(1)?, end: u16::MAX },
        ">=" => PortRange { start: n, end: u16::MAX },
        _ => return None,
    };
    Some(vec![range])
}

/// An address, prefix or range as address ranges; an error for what is not an address.
fn nets(v: &Value, text: &str) -> Result<Vec<IpNet>, String> {
    let bad = || format!("`{}` is not an address, prefix or range (in `{text}`)", scalar_text(v));
    if let Some(p) = v.get("prefix") {
        let addr: IpAddr = p.get("addr").map(scalar_text).unwrap_or_default().parse().map_err(|_| bad())?;
        let len = p.get("len").and_then(Value::as_u64).and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?;
        return IpNet::new(addr, len).map(|n| vec![n.trunc()]).map_err(|_| bad());
    }
    if let Some(r) = v.get("range").and_then(Value::as_array) {
        let a: IpAddr = r.first().map(scalar_text).unwrap_or_default().parse().map_err(|_| bad())?;
        let b: IpAddr = r.get(1).map(scalar_text).unwrap_or_default().parse().map_err(|_| bad())?;
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Ok(ipnet::Ipv4Subnets::new(a.min(b), a.max(b), 0).map(IpNet::V4).collect()),
            (IpAddr::V6(a), IpAddr::V6(b)) => Ok(ipnet::Ipv6Subnets::new(a.min(b), a.max(b), 0).map(IpNet::V6).collect()),
            _ => Err(bad()),
        };
    }
    let addr: IpAddr = scalar_text(v).parse().map_err(|_| bad())?;
    Ok(vec![IpNet::from(addr)])
}

/// A statement in `nft` syntax, for traces and reports (counters are left out).
fn render_stmt(key: &str, val: &Value) -> String {
    match key {
        "match" => {
            let left = val.get("left").map(render_expr).unwrap_or_default();
            let quote = left.ends_with("ifname") || left.ends_with("iif") || left.ends_with("oif");
            let right = val.get("right").map(|r| render_value(r, quote)).unwrap_or_default();
            match val.get("op").and_then(Value::as_str).unwrap_or("==") {
                "==" | "in" => format!("{left} {right}"),
                op => format!("{left} {op} {right}"),
            }
        }
        "counter" | "comment" => String::new(),
        "accept" | "drop" | "return" | "continue" | "masquerade" | "notrack" => key.to_string(),
        "reject" => match val.get("expr").and_then(Value::as_str) {
            Some(with) => format!("reject with {} {with}", val.get("type").and_then(Value::as_str).unwrap_or("icmp")),
            None => "reject".into(),
        },
        "jump" | "goto" => format!("{key} {}", val.get("target").and_then(Value::as_str).unwrap_or("?")),
        "dnat" | "snat" => {
            let addr = val.get("addr").map(|a| render_value(a, false));
            let port = val.get("port").map(|p| render_value(p, false));
            match (addr, port) {
                (Some(a), Some(p)) => format!("{key} to {a}:{p}"),
                (Some(a), None) => format!("{key} to {a}"),
                (None, Some(p)) => format!("{key} to :{p}"),
                (None, None) => key.to_string(),
            }
        }
        "redirect" => match val.get("port") {
            Some(p) => format!("redirect to :{}", render_value(p, false)),
            None => "redirect".into(),
        },
        "log" => match val.get("prefix").and_then(Value::as_str) {
            Some(p) => format!("log prefix \"{p}\""),
            None => "log".into(),
        },
        "xt" => format!(
            "xt {} {}",
            val.get("type").and_then(Value::as_str).unwrap_or("match"),
            val.get("name").and_then(Value::as_str).unwrap_or("?")
        ),
        "mangle" => format!(
            "{} set {}",
            val.get("key").map(render_expr).unwrap_or_default(),
            val.get("value").map(|v| render_value(v, false)).unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

fn render_expr(v: &Value) -> String {
    if let Some(p) = v.get("payload") {
        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("?");
        let field = p.get("field").and_then(Value::as_str).unwrap_or("?");
        return format!("{proto} {field}");
    }
    if let Some(m) = v.get("meta") {
        let key = m.get("key").and_then(Value::as_str).unwrap_or("?");
        return match key {
            "iifname" | "oifname" | "iif" | "oif" => key.into(),
            other => format!("meta {other}"),
        };
    }
    if let Some(ct) = v.get("ct") {
        let key = ct.get("key").and_then(Value::as_str).unwrap_or("?");
        return match ct.get("dir").and_then(Value::as_str) {
            Some(dir) => format!("ct {dir} {key}"),
            None => format!("ct {key}"),
        };
    }
    if let Some(fib) = v.get("fib") {
        let flags: Vec<&str> =
            fib.get("flags").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        return format!("fib {} {}", flags.join(" . "), fib.get("result").and_then(Value::as_str).unwrap_or("?"));
    }
    if let Some(and) = v.get("&").and_then(Value::as_array) {
        return and.iter().map(render_expr).collect::<Vec<_>>().join(" & ");
    }
    render_value(v, false)
}

fn render_value(v: &Value, quote: bool) -> String {
    match v {
        Value::String(s) if quote => format!("\"{s}\""),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(|x| render_value(x, quote)).collect::<Vec<_>>().join(","),
        Value::Object(o) => {
            if let Some(p) = o.get("prefix") {
                format!("{}/{}", p.get("addr").map(scalar_text).unwrap_or_default(), p.get("len").map(scalar_text).unwrap_or_default())
            } else if let Some(Value::Array(r)) = o.get("range") {
                r.iter().map(|x| render_value(x, quote)).collect::<Vec<_>>().join("-")
            } else if let Some(set) = o.get("set") {
                let items = match set {
                    Value::Array(a) => a.iter().map(|x| render_value(x, quote)).collect::<Vec<_>>().join(", "),
                    other => render_value(other, quote),
                };
                format!("{{ {items} }}")
            } else if let Some(elem) = o.get("elem").and_then(|e| e.get("val")) {
                render_value(elem, quote)
            } else if o.contains_key("payload") || o.contains_key("meta") || o.contains_key("ct") {
                render_expr(v)
            } else {
                v.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// Line and column of each element of the top-level `nftables` array, by scanning the
/// text (serde_json does not report where values start).
fn element_positions(text: &str) -> Vec<Pos> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut line = 1u32;
    let mut column = 0u32;
    let mut expect_element = false;
    for ch in text.chars() {
        column += 1;
        if ch == '\n' {
            line += 1;
            column = 0;
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_string = false;
            }
            continue;
        }
        if expect_element && !ch.is_whitespace() && ch != ']' {
            out.push(Pos { line, column });
            expect_element = false;
        }
        match ch {
            '"' => in_string = true,
            '{' | '[' => {
                depth += 1;
                // The array of the root object: depth 2 once its `[` is open.
                if ch == '[' && depth == 2 {
                    expect_element = true;
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 2 => expect_element = true,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;

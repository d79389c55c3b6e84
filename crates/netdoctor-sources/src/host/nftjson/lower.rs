//! Lowering the dump's tables, chains, sets and rules into the rule model.

use super::*;

/// Lowers the elements of the `nftables` array, located by `positions`.
pub(super) fn lower<'t>(items: &[J<'t>], positions: &[Pos], source: &InputSource, errors: &mut Vec<LoadError>) -> NftRuleset {
    let pos = |i: usize| positions.get(i).copied().unwrap_or(Pos { line: 1, column: 1 });
    let mut reader = Reader { source, sets: HashMap::new(), tables: Vec::new(), list: Vec::new() };
    // Sets first: rules may name a set declared after them.
    for (i, item) in items.iter().enumerate() {
        if let Some(set) = item.get("set").or_else(|| item.get("map")) {
            reader.set(set, item.get("map").is_some(), pos(i));
        }
    }
    for (i, item) in items.iter().enumerate() {
        let Some((kind, body)) = item.first_entry() else {
            errors.push(source.error(pos(i).line, pos(i).column, "expected an object with one key (`table`, `chain`, `rule`, …)"));
            continue;
        };
        let at = pos(i);
        let result = match kind {
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
pub(super) type SetElems<'t> = Result<Arr<'t>, String>;

pub(super) struct RawTable<'t> {
    family: &'t str,
    name: &'t str,
    pos: Pos,
    chains: Vec<RawChain<'t>>,
    /// Chain name → index of the first chain of that name.
    by_name: HashMap<&'t str, usize>,
}

pub(super) struct RawChain<'t> {
    name: &'t str,
    base: Option<BaseHook>,
    policy: Option<Policy>,
    pos: Pos,
    /// Index into the dump's items, position, handle.
    rules: Vec<(usize, Pos, Option<u64>)>,
}

pub(super) struct Reader<'s, 't> {
    source: &'s InputSource,
    /// (family, table, name) → elements.
    sets: HashMap<(&'t str, &'t str, &'t str), SetElems<'t>>,
    tables: Vec<RawTable<'t>>,
    list: Vec<NftTable>,
}

pub(super) fn str_field<'t>(body: J<'t>, key: &str) -> Result<&'t str, String> {
    body.get(key).and_then(J::as_str).ok_or_else(|| format!("missing string field `{key}`"))
}

impl<'t> Reader<'_, 't> {
    pub(super) fn set(&mut self, body: J<'t>, is_map: bool, _at: Pos) {
        let (Ok(family), Ok(table), Ok(name)) = (str_field(body, "family"), str_field(body, "table"), str_field(body, "name")) else {
            return;
        };
        let elems = if is_map {
            Err(format!("`@{name}` is a map, which netdoctor does not follow"))
        } else if body.get("flags").and_then(J::as_array).is_some_and(|f| f.iter().any(|x| x.is("dynamic"))) {
            Err(format!("set `@{name}` is filled at run time (dynamic)"))
        } else {
            match body.get("elem").map(J::as_array) {
                None => Ok(Arr::EMPTY),
                Some(Some(e)) => Ok(e),
                Some(None) => Err(format!("set `@{name}` has elements netdoctor cannot read")),
            }
        };
        self.sets.insert((family, table, name), elems);
    }

    pub(super) fn table(&mut self, body: J<'t>, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        let name = str_field(body, "name")?;
        self.list.push(NftTable { family: family.into(), name: name.into(), origin: self.source.origin(at.line, at.column) });
        if matches!(family, "ip" | "ip6" | "inet") {
            self.tables.push(RawTable { family, name, pos: at, chains: Vec::new(), by_name: HashMap::new() });
        }
        Ok(())
    }

    pub(super) fn find_table(&mut self, family: &str, table: &str) -> Option<&mut RawTable<'t>> {
        self.tables.iter_mut().find(|t| t.family == family && t.name == table)
    }

    pub(super) fn chain(&mut self, body: J<'t>, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        if !matches!(family, "ip" | "ip6" | "inet") {
            return Ok(());
        }
        let table = str_field(body, "table")?;
        let name = str_field(body, "name")?;
        let base = match body.get("hook").and_then(J::as_str) {
            None => None,
            Some(hook) => {
                let kind = match body.get("type").and_then(J::as_str).unwrap_or("filter") {
                    "filter" => ChainKind::Filter,
                    "nat" => ChainKind::Nat,
                    "route" => ChainKind::Route,
                    other => return Err(format!("chain `{name}` has unknown type `{other}`")),
                };
                let priority = priority(body.get("prio").as_ref())
                    .ok_or_else(|| format!("chain `{name}` has no priority netdoctor understands (`prio`)"))?;
                // ingress/egress hooks run outside the paths traced: the chain is kept as a regular one.
                Hook::parse(hook).map(|hook| BaseHook { hook, priority, kind })
            }
        };
        let policy = match body.get("policy").and_then(J::as_str) {
            None => base.map(|_| Policy::Accept),
            Some("accept") => Some(Policy::Accept),
            Some("drop") => Some(Policy::Drop),
            Some(other) => return Err(format!("chain `{name}` has unknown policy `{other}` (expected accept or drop)")),
        };
        let t =
            self.find_table(family, table).ok_or_else(|| format!("chain `{name}` names table `{family} {table}`, which is not listed"))?;
        t.by_name.entry(name).or_insert(t.chains.len());
        t.chains.push(RawChain { name, base, policy: base.and(policy), pos: at, rules: Vec::new() });
        Ok(())
    }

    pub(super) fn rule(&mut self, body: J<'t>, index: usize, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        if !matches!(family, "ip" | "ip6" | "inet") {
            return Ok(());
        }
        let table = str_field(body, "table")?;
        let chain = str_field(body, "chain")?;
        let handle = body.get("handle").and_then(J::as_u64);
        let t = self.find_table(family, table).ok_or_else(|| format!("rule names table `{family} {table}`, which is not listed"))?;
        let c = t
            .by_name
            .get(chain)
            .and_then(|&i| t.chains.get_mut(i))
            .ok_or_else(|| format!("rule names chain `{chain}`, which table `{family} {table}` does not list"))?;
        c.rules.push((index, at, handle));
        Ok(())
    }

    pub(super) fn finish(self, items: &[J<'t>], errors: &mut Vec<LoadError>) -> NftRuleset {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut origin4 = None;
        let mut origin6 = None;
        for t in &self.tables {
            let families: &[IpFamily] = match t.family {
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
    pub(super) fn lower_table(&self, items: &[J<'t>], t: &RawTable<'t>, families: &[IpFamily], errors: &mut Vec<LoadError>) -> Vec<Table> {
        let mut per_family: Vec<Vec<Chain>> = families.iter().map(|_| Vec::new()).collect();
        for c in &t.chains {
            let mut rules: Vec<Vec<Rule>> = families.iter().map(|_| Vec::new()).collect();
            for (index, at, handle) in &c.rules {
                let Some(body) = items.get(*index).and_then(|item| item.get("rule")) else { continue };
                // Lowered for an earlier family and the same for this one.
                let mut shared: Option<Vec<Rule>> = None;
                for (i, family) in families.iter().enumerate() {
                    let more = i + 1 < families.len();
                    let lowered = match shared.take() {
                        Some(lowered) => {
                            if more {
                                shared = Some(lowered.clone());
                            }
                            Some(lowered)
                        }
                        None => {
                            let mut lowering = RuleLowering { reader: self, family: *family, table: t, family_specific: false };
                            match lowering.lower(body) {
                                Ok(lowered) => {
                                    let rule = |conditions: Vec<Condition>, target: Target| Rule {
                                        conditions,
                                        target,
                                        counters: None,
                                        text: lowered.text.clone(),
                                        line: at.line,
                                        handle: *handle,
                                        origin: self.source.origin(at.line, at.column),
                                    };
                                    // `meta mark set … accept`: the mark, then the verdict, as two
                                    // rules of the same handle (the verdict's conditions ran before
                                    // the mark changed, which a mark test in them cannot express).
                                    let rules = match lowered.mark {
                                        Some(mark) => {
                                            let mut after = lowered.conditions.clone();
                                            if after.iter().any(|c| matches!(c.test, Test::Mark { .. })) {
                                                after.push(undecidable(
                                                    "mark",
                                                    "the rule tests the mark it also sets: whether its verdict applies is not decided"
                                                        .into(),
                                                ));
                                            }
                                            vec![rule(lowered.conditions.clone(), mark), rule(after, lowered.target.clone())]
                                        }
                                        None => vec![rule(lowered.conditions.clone(), lowered.target.clone())],
                                    };
                                    if more && !lowering.family_specific {
                                        shared = Some(rules.clone());
                                    }
                                    Some(rules)
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
                    if let (Some(lowered), Some(list)) = (lowered, rules.get_mut(i)) {
                        list.extend(lowered);
                    }
                }
            }
            for (chains, rules) in per_family.iter_mut().zip(rules) {
                chains.push(Chain {
                    name: c.name.to_string(),
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

/// What [`priority`] reads of a JSON value, of a `Value` or a [`J`] alike.
pub(super) enum PrioValue<'v> {
    Number(Option<i64>),
    Text(&'v str),
    Other,
}

pub(super) trait AsPrio {
    fn as_prio(&self) -> PrioValue<'_>;
}

impl AsPrio for Value {
    fn as_prio(&self) -> PrioValue<'_> {
        match self {
            Value::Number(n) => PrioValue::Number(n.as_i64()),
            Value::String(s) => PrioValue::Text(s),
            _ => PrioValue::Other,
        }
    }
}

impl AsPrio for J<'_> {
    fn as_prio(&self) -> PrioValue<'_> {
        match self.node() {
            Some(Node::Number(n)) => PrioValue::Number(n.as_i64()),
            Some(Node::String(s)) => PrioValue::Text(s),
            _ => PrioValue::Other,
        }
    }
}

/// nft's priority: a number, or one of the standard names.
pub(super) fn priority<V: AsPrio>(v: Option<&V>) -> Option<i32> {
    match v?.as_prio() {
        PrioValue::Number(n) => n.and_then(|n| i32::try_from(n).ok()),
        PrioValue::Text(s) => {
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
        PrioValue::Other => None,
    }
}

/// Lowers one rule for one address family.
pub(super) struct RuleLowering<'r, 's, 't> {
    reader: &'r Reader<'s, 't>,
    family: IpFamily,
    table: &'r RawTable<'t>,
    /// Set when the rule lowers differently for the other family.
    family_specific: bool,
}

/// A condition that never holds: the rule is for the other address family.
pub(super) fn never() -> Condition {
    Condition::new(Test::AnyOf(Vec::new()))
}

pub(super) fn undecidable(module: &str, text: String) -> Condition {
    Condition::new(Test::Undecidable { module: module.into(), text })
}

/// A rule lowered: its conditions, a mark it sets before its verdict (if both), the
/// verdict or action, and its text in `nft` syntax.
pub(super) struct Lowered {
    conditions: Vec<Condition>,
    mark: Option<Target>,
    target: Target,
    text: String,
}

impl<'t> RuleLowering<'_, '_, 't> {
    pub(super) fn lower(&mut self, body: J<'t>) -> Result<Lowered, String> {
        let exprs = body.get("expr").and_then(J::as_array).ok_or("rule has no `expr` list")?;
        let mut conditions = Vec::new();
        let mut target: Option<Target> = None;
        // A mark set before the verdict: not a verdict itself, the rule goes on.
        let mut mark: Option<Target> = None;
        // The rule's text: the statements' texts, space-separated (empty ones left out).
        let mut rule_text = String::new();
        for e in exprs.iter() {
            let Some((key, val)) = e.first_entry() else {
                return Err("a rule statement is not an object".into());
            };
            let before = rule_text.len();
            if !rule_text.is_empty() {
                rule_text.push(' ');
            }
            let start = rule_text.len();
            render_stmt(&mut rule_text, key, val);
            if rule_text.len() == start {
                rule_text.truncate(before);
            }
            let text = rule_text.get(start..).unwrap_or_default();
            if target.is_some() && !matches!(key, "counter" | "comment") {
                // A statement after the verdict never runs.
                continue;
            }
            match key {
                "match" => conditions.extend(self.matching(val, text)?),
                "counter" | "log" | "notrack" | "set" | "comment" => {}
                "mangle" => {
                    let is_mark = val.get("key").and_then(|k| k.get("meta")).and_then(|m| m.get("key")).is_some_and(|k| k.is("mark"));
                    match (is_mark, val.get("value").and_then(J::as_u64).and_then(|v| u32::try_from(v).ok())) {
                        (true, Some(value)) => mark = Some(Target::SetMark { value, mask: u32::MAX }),
                        (true, None) => mark = Some(Target::Opaque(format!("`{text}`: a computed mark"))),
                        _ => {}
                    }
                }
                "accept" => target = Some(Target::Accept),
                "drop" => target = Some(Target::Drop),
                "reject" => {
                    let with = val.get("expr").and_then(J::as_str).map(str::to_string);
                    target = Some(Target::Reject(with))
                }
                "return" => target = Some(Target::Return),
                "continue" => target = Some(Target::None),
                "jump" | "goto" => {
                    let name = val.get("target").and_then(J::as_str).ok_or_else(|| format!("`{key}` without a target chain"))?;
                    if !self.table.by_name.contains_key(name) {
                        return Err(format!("`{key} {name}`: table `{} {}` has no chain `{name}`", self.table.family, self.table.name));
                    }
                    target = Some(if key == "jump" { Target::Jump(name.into()) } else { Target::Goto(name.into()) });
                }
                "dnat" | "snat" => {
                    self.family_specific |= val.get("family").is_some();
                    if val.get("family").and_then(J::as_str).is_some_and(|f| (f == "ip") != (self.family == IpFamily::V4)) {
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
                    let kind = val.get("type").and_then(J::as_str).unwrap_or("match");
                    let name = val.get("name").and_then(J::as_str).unwrap_or("unknown");
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
                "limit" | "quota" | "meter" | "ct count" => conditions.push(undecidable(key, text.to_string())),
                other => conditions.push(undecidable(other, format!("statement `{text}`"))),
            }
        }
        if let Some(comment) = body.get("comment").and_then(J::as_str) {
            rule_text.push_str(" comment \"");
            rule_text.push_str(comment);
            rule_text.push('"');
        }
        let trimmed = rule_text.trim();
        let text = if trimmed.len() == rule_text.len() { rule_text } else { trimmed.to_string() };
        // A mark alone is the rule's action; with a verdict it comes first.
        let (mark, target) = match (mark, target) {
            (Some(mark), None | Some(Target::None)) => (None, mark),
            (mark, target) => (mark, target.unwrap_or(Target::None)),
        };
        Ok(Lowered { conditions, mark, target, text })
    }

    /// One `match` statement: `left op right`.
    pub(super) fn matching(&mut self, m: J<'t>, text: &str) -> Result<Vec<Condition>, String> {
        let op = m.get("op").and_then(J::as_str).unwrap_or("==");
        let left = m.get("left").ok_or("match without `left`")?;
        let right = m.get("right").ok_or("match without `right`")?;
        let negated = op == "!=";
        let unknown = || Ok(vec![undecidable("nft", format!("match `{text}`"))]);
        let compare = !matches!(op, "==" | "!=" | "in");
        let payload_family = left.get("payload").and_then(|p| p.get("protocol")).is_some_and(|p| p.is("ip") || p.is("ip6"));
        let nfproto = left.get("meta").and_then(|m| m.get("key")).is_some_and(|k| k.is("nfproto"));
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
            let proto = payload.get("protocol").and_then(J::as_str).unwrap_or("");
            let field = payload.get("field").and_then(J::as_str).unwrap_or("");
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
                        values.iter().map(|&v| nets(v, text)).collect::<Result<Vec<_>, _>>().map(|n| {
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
                    let ranges = if compare {
                        compare_range(op, &values)
                    } else {
                        values.iter().map(|&v| port_range(v)).collect::<Option<Vec<_>>>()
                    };
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
            let key = meta.get("key").and_then(J::as_str).unwrap_or("");
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
                    let hit = values.iter().any(|v| v.is(ours));
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
            let key = ct.get("key").and_then(J::as_str).unwrap_or("");
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
                    if f.len() == 1 && f.first() == Some(&"dnat") {
                        build(Ok(Some(vec![Test::CtState(vec![CtState::Dnat])])), Vec::new())
                    } else {
                        unknown()
                    }
                }
                _ => unknown(),
            };
        }
        if let Some(fib) = left.get("fib") {
            let result = fib.get("result").and_then(J::as_str).unwrap_or("");
            let f: Vec<&str> = fib.get("flags").and_then(J::as_array).map(|a| a.iter().filter_map(J::as_str).collect()).unwrap_or_default();
            if result != "type" || f.len() != 1 {
                return unknown();
            }
            let destination = f.first() == Some(&"daddr");
            let kinds: Option<Vec<AddrKind>> = flags(&values).iter().map(|k| AddrKind::parse(k)).collect();
            return build(Ok(kinds.map(|kinds| vec![Test::AddrType { destination, kinds }])), Vec::new());
        }
        if let Some(and) = left.get("&").and_then(J::as_array) {
            // `meta mark & 0xff == 0x1`
            let is_mark = and.first().and_then(|l| l.get("meta")).and_then(|m| m.get("key")).is_some_and(|k| k.is("mark"));
            let mask = and.get(1).and_then(J::as_u64).and_then(|m| u32::try_from(m).ok());
            let value = values.first().and_then(|v| v.as_u64()).and_then(|v| u32::try_from(v).ok());
            if let (true, Some(mask), Some(value), 1) = (is_mark, mask, value, values.len()) {
                return build(Ok(Some(vec![Test::Mark { value, mask }])), Vec::new());
            }
        }
        unknown()
    }

    /// The right side as a list of values: a set's elements, or the one value.
    pub(super) fn values(&self, right: J<'t>) -> Result<Vec<J<'t>>, String> {
        let unwrap = |v: J<'t>| v.get("elem").and_then(|e| e.get("val")).unwrap_or(v);
        let named = right.as_str().filter(|s| s.starts_with('@'));
        if right.contains_key("set") {
            match right.get("set") {
                Some(set) => match set.as_array() {
                    Some(items) => Ok(items.iter().map(unwrap).collect()),
                    None => Ok(vec![unwrap(set)]),
                },
                None => Ok(Vec::new()),
            }
        } else if let Some(s) = named {
            let name = s.trim_start_matches('@');
            match self.reader.sets.get(&(self.table.family, self.table.name, name)) {
                Some(Ok(elems)) => Ok(elems.iter().map(unwrap).collect()),
                Some(Err(reason)) => Err(reason.clone()),
                None => Err(format!("set `{s}` is not in the dump")),
            }
        } else if right.contains_key("concat") || right.contains_key("map") {
            Err("a concatenation or map".into())
        } else {
            Ok(vec![right])
        }
    }
}

/// Flag words of `ct state` and `fib type` values (`["established", "related"]`).
pub(super) fn flags<'t>(values: &[J<'t>]) -> Vec<&'t str> {
    let mut out = Vec::new();
    for v in values {
        if let Some(s) = v.as_str() {
            out.extend(s.split(',').map(str::trim));
        } else if let Some(a) = v.as_array() {
            out.extend(a.iter().filter_map(J::as_str));
        } else {
            out.push("");
        }
    }
    out
}

pub(super) fn protocols(values: &[J<'_>]) -> Result<Option<Vec<Test>>, String> {
    let mut out = Vec::new();
    for v in values {
        let text = scalar_text(*v);
        match IpProto::parse(&text) {
            Ok(Some(p)) => out.push(Test::Protocol(p)),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// A string as it is, anything else as JSON.
pub(super) fn scalar_text(v: J<'_>) -> Cow<'_, str> {
    match v.as_str() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.to_string()),
    }
}

/// A port, a `{"range": [a, b]}`, or a service name nft printed.
pub(super) fn port_range(v: J<'_>) -> Option<PortRange> {
    let one = |v: J<'_>| -> Option<u16> {
        match v.node()? {
            Node::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Node::String(s) => s.parse().ok().or(match s.as_ref() {
                "ssh" => Some(22),
                "domain" => Some(53),
                "http" => Some(80),
                "https" => Some(443),
                _ => None,
            }),
            _ => None,
        }
    };
    if let Some(r) = v.get("range").and_then(J::as_array) {
        let (a, b) = (one(r.first()?)?, one(r.get(1)?)?);
        return Some(PortRange { start: a.min(b), end: a.max(b) });
    }
    one(v).map(PortRange::single)
}

/// `tcp dport < 1024` as a range.
pub(super) fn compare_range(op: &str, values: &[J<'_>]) -> Option<Vec<PortRange>> {
    let [v] = values else { return None };
    let p = port_range(*v)?;
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
pub(super) fn nets(v: J<'_>, text: &str) -> Result<Vec<IpNet>, String> {
    let bad = || format!("`{}` is not an address, prefix or range (in `{text}`)", scalar_text(v));
    let addr = |a: Option<J<'_>>| -> Result<IpAddr, String> { a.map(scalar_text).unwrap_or_default().parse().map_err(|_| bad()) };
    if let Some(p) = v.get("prefix") {
        let addr = addr(p.get("addr"))?;
        let len = p.get("len").and_then(J::as_u64).and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?;
        return IpNet::new(addr, len).map(|n| vec![n.trunc()]).map_err(|_| bad());
    }
    if let Some(r) = v.get("range").and_then(J::as_array) {
        let a = addr(r.first())?;
        let b = addr(r.get(1))?;
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Ok(ipnet::Ipv4Subnets::new(a.min(b), a.max(b), 0).map(IpNet::V4).collect()),
            (IpAddr::V6(a), IpAddr::V6(b)) => Ok(ipnet::Ipv6Subnets::new(a.min(b), a.max(b), 0).map(IpNet::V6).collect()),
            _ => Err(bad()),
        };
    }
    let addr: IpAddr = scalar_text(v).parse().map_err(|_| bad())?;
    Ok(vec![IpNet::from(addr)])
}

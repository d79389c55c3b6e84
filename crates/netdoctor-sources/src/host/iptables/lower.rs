//! Typing a raw dump into the model's `RuleSet`: matches, targets, NAT, and an
//! undecidable condition for what is not understood.

use super::*;

/// Types a parsed dump into a rule set. `family` is what the file name says; the
/// header wins when it says otherwise. Problems are added to `errors`.
pub fn lower(dump: &RawDump<'_>, family: IpFamily, backend_hint: Backend, source: &InputSource, errors: &mut Vec<LoadError>) -> RuleSet {
    let family = dump.family.unwrap_or(family);
    let backend = if dump.backend == Backend::Unknown { backend_hint } else { dump.backend };
    let mut tables = Vec::with_capacity(dump.tables.len());
    for raw in &dump.tables {
        tables.push(lower_table(raw, family, source, errors));
    }
    let legacy_tables_warning = dump.legacy_tables_warning.map(|line| source.origin(line, 1));
    RuleSet { family, backend, tables, origin: source.origin(1, 1), legacy_tables_warning }
}

pub(super) fn lower_table(raw: &RawTable<'_>, family: IpFamily, source: &InputSource, errors: &mut Vec<LoadError>) -> Table {
    let builtin = TABLES.iter().find(|(t, _)| *t == raw.name).map_or(&[][..], |(_, chains)| *chains);
    let mut chains: Vec<Chain> = Vec::with_capacity(raw.chains.len());
    // Kubernetes hosts have thousands of chains: look them up by name, not by scanning.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(raw.chains.len());
    for c in &raw.chains {
        if index.contains_key(c.name) {
            errors.push(source.error(c.line, 2, format!("chain `{}` is declared twice", c.name)));
            continue;
        }
        let is_builtin = builtin.contains(&c.name);
        if is_builtin && c.policy.is_none() {
            errors.push(source.error(c.line, 2, format!("built-in chain `{}` needs a policy (ACCEPT or DROP)", c.name)));
        }
        if !is_builtin && c.policy.is_some() && !builtin.is_empty() {
            errors.push(source.error(c.line, 2, format!("user-defined chain `{}` cannot have a policy (write `-`)", c.name)));
        }
        index.insert(c.name, chains.len());
        chains.push(Chain {
            name: c.name.to_string(),
            policy: c.policy,
            base: None,
            counters: c.counters,
            rules: Vec::new(),
            origin: source.origin(c.line, 1),
        });
    }
    for (name, p, line) in &raw.policies {
        match index.get(name).and_then(|&i| chains.get_mut(i)) {
            Some(chain) if builtin.contains(name) => chain.policy = Some(*p),
            _ => errors.push(source.error(*line, 1, format!("`-P` names `{name}`, which is not a built-in chain of table `{}`", raw.name))),
        }
    }
    let names: HashSet<&str> = raw.chains.iter().map(|c| c.name).chain(raw.rules.iter().map(|r| r.chain)).collect();
    for rule in &raw.rules {
        let at = match index.get(rule.chain) {
            Some(&i) => i,
            None => {
                errors.push(source.error(
                    rule.line,
                    4,
                    format!("rule appended to chain `{}`, which the table does not declare", rule.chain),
                ));
                index.insert(rule.chain, chains.len());
                chains.push(Chain {
                    name: rule.chain.to_string(),
                    policy: None,
                    base: None,
                    counters: None,
                    rules: Vec::new(),
                    origin: source.origin(rule.line, 1),
                });
                chains.len() - 1
            }
        };
        let lowered = lower_rule(rule, &names, family, source, errors);
        let Some(chain) = chains.get_mut(at) else { continue };
        match rule.insert_at {
            Some(position) => {
                let position = (position - 1).min(chain.rules.len());
                for (i, r) in lowered.into_iter().enumerate() {
                    chain.rules.insert((position + i).min(chain.rules.len()), r);
                }
            }
            None => chain.rules.extend(lowered),
        }
    }
    Table { name: raw.name.to_string(), chains, origin: source.origin(raw.line, 1) }
}

/// What lowering one rule collects before it knows the target.
pub(super) struct RuleBuilder<'r> {
    conditions: Vec<Condition>,
    sources: Vec<(bool, IpNet)>,
    destinations: Vec<(bool, IpNet)>,
    protocol: Option<IpProto>,
    target: Option<(&'r RawOpt<'r>, Vec<&'r RawOpt<'r>>)>,
    module: Option<(&'r RawOpt<'r>, Vec<&'r RawOpt<'r>>)>,
    counters: Option<Counters>,
}

/// Lowers one rule; an address list (`-s a,b`) gives one rule per address, as iptables does.
pub(super) fn lower_rule(
    raw: &RawRule<'_>,
    chains: &HashSet<&str>,
    family: IpFamily,
    source: &InputSource,
    errors: &mut Vec<LoadError>,
) -> Vec<Rule> {
    let mut b = RuleBuilder {
        conditions: Vec::new(),
        sources: Vec::new(),
        destinations: Vec::new(),
        protocol: None,
        target: None,
        module: None,
        counters: raw.counters,
    };
    let mut problems: Vec<(u32, String)> = Vec::new();
    for opt in &raw.opts {
        let name = opt.name.as_ref();
        match name {
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let destination = matches!(name, "-d" | "--destination" | "--dst");
                match single_value(opt).and_then(|v| address_list(v, family).map_err(|m| (value_column(opt), m))) {
                    Ok(nets) => {
                        let list = if destination { &mut b.destinations } else { &mut b.sources };
                        if opt.negated && nets.len() > 1 {
                            problems.push((opt.column, "`!` cannot negate an address list".into()));
                        }
                        list.extend(nets.into_iter().map(|n| (opt.negated, n)));
                    }
                    Err(p) => problems.push(p),
                }
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => match single_value(opt) {
                Ok(v) => {
                    let pattern = IfacePattern::parse(v);
                    let test = if matches!(name, "-i" | "--in-interface") { Test::InIface(pattern) } else { Test::OutIface(pattern) };
                    b.conditions.push(Condition { negated: opt.negated, test });
                }
                Err(p) => problems.push(p),
            },
            "-p" | "--protocol" => match single_value(opt).and_then(|v| IpProto::parse(v).map_err(|m| (value_column(opt), m))) {
                Ok(Some(proto)) => {
                    if !opt.negated {
                        b.protocol = Some(proto.clone());
                    }
                    b.conditions.push(Condition { negated: opt.negated, test: Test::Protocol(proto) });
                }
                Ok(None) => {
                    if opt.negated {
                        // `! -p all` matches nothing.
                        b.conditions.push(Condition { negated: true, test: Test::Comment("! -p all".into()) });
                    }
                }
                Err(p) => problems.push(p),
            },
            "-f" | "--fragment" => b.conditions.push(Condition { negated: opt.negated, test: Test::Fragment }),
            "-c" | "--set-counters" => {
                let values: Vec<u64> = opt.values.iter().filter_map(|v| v.text.parse().ok()).collect();
                match values.as_slice() {
                    [packets, bytes] => b.counters = Some(Counters { packets: *packets, bytes: *bytes }),
                    _ => problems.push((opt.column, "`-c` needs packets and bytes".into())),
                }
            }
            "-m" | "--match" => {
                finish_module(&mut b, family, &mut problems);
                b.module = Some((opt, Vec::new()));
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                finish_module(&mut b, family, &mut problems);
                if b.target.is_some() {
                    problems.push((opt.column, "a rule has one target".into()));
                }
                b.target = Some((opt, Vec::new()));
            }
            _ => {
                if let Some((_, target_opts)) = b.target.as_mut() {
                    target_opts.push(opt);
                } else if let Some((_, module_opts)) = b.module.as_mut() {
                    module_opts.push(opt);
                } else if b.protocol.is_some() {
                    // `-p tcp --dport 80` without `-m tcp`: iptables loads the protocol's
                    // match implicitly.
                    b.module = Some((opt, vec![opt]));
                } else {
                    problems.push((opt.column, format!("option `{name}` belongs to no match (add `-m <module>` before it)")));
                }
            }
        }
    }
    finish_module(&mut b, family, &mut problems);
    let target = match b.target.take() {
        None => Target::None,
        Some((opt, target_opts)) => match lower_target(opt, &target_opts, chains, family) {
            Ok(t) => t,
            Err(p) => {
                problems.push(p);
                Target::Opaque(opt.values.first().map(|v| v.text.to_string()).unwrap_or_default())
            }
        },
    };
    for (column, message) in &problems {
        let column = if *column == 0 { 1 } else { *column };
        errors.push(source.error(raw.line, column, message.clone()));
    }
    if !problems.is_empty() {
        let text = problems.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("; ");
        b.conditions.push(Condition::new(Test::Undecidable { module: "unparsed".into(), text }));
    }
    let sources: Vec<Option<(bool, IpNet)>> = if b.sources.is_empty() { vec![None] } else { b.sources.iter().copied().map(Some).collect() };
    let destinations: Vec<Option<(bool, IpNet)>> =
        if b.destinations.is_empty() { vec![None] } else { b.destinations.iter().copied().map(Some).collect() };
    let mut rules = Vec::with_capacity(sources.len() * destinations.len());
    for s in &sources {
        for d in &destinations {
            let mut conditions = Vec::with_capacity(b.conditions.len() + 2);
            if let Some((negated, net)) = s {
                conditions.push(Condition { negated: *negated, test: Test::Source(*net) });
            }
            if let Some((negated, net)) = d {
                conditions.push(Condition { negated: *negated, test: Test::Destination(*net) });
            }
            conditions.extend(b.conditions.iter().cloned());
            rules.push(Rule {
                conditions,
                target: target.clone(),
                counters: b.counters,
                text: raw.text.to_string(),
                line: raw.line,
                handle: None,
                origin: source.origin(raw.line, 1),
            });
        }
    }
    rules
}

/// Where an option's (first) value starts: errors about a value point at it.
pub(super) fn value_column(opt: &RawOpt<'_>) -> u32 {
    opt.values.first().map_or(opt.column, |v| v.column)
}

/// The one value of an option, or an error at the option.
pub(super) fn single_value<'o>(opt: &'o RawOpt<'_>) -> Result<&'o str, (u32, String)> {
    match opt.values.as_slice() {
        [v] => Ok(v.text.as_ref()),
        [] => Err((opt.column, format!("`{}` needs a value", opt.name))),
        [_, extra, ..] => Err((extra.column, format!("`{}` takes one value, found `{}` after it", opt.name, extra.text))),
    }
}

/// `10.0.0.0/8`, `10.0.0.1`, `10.0.0.0/255.0.0.0`, or a comma-separated list of them.
pub(super) fn address_list(text: &str, family: IpFamily) -> Result<Vec<IpNet>, String> {
    text.split(',').map(|part| address(part, family)).collect()
}

pub(super) fn address(text: &str, family: IpFamily) -> Result<IpNet, String> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| format!("`{text}` is not an IP address or network (host names are not resolved)"))?;
    let net = match (ip, prefix) {
        (IpAddr::V4(v4), None) => IpNet::V4(Ipv4Net::new(v4, 32).map_err(|e| e.to_string())?),
        (IpAddr::V6(v6), None) => IpNet::V6(Ipv6Net::new(v6, 128).map_err(|e| e.to_string())?),
        (IpAddr::V4(v4), Some(p)) => {
            let len = match p.parse::<u8>() {
                Ok(len) => len,
                Err(_) => mask_len_v4(p).ok_or_else(|| format!("`{p}` is not a prefix length or a contiguous netmask"))?,
            };
            IpNet::V4(Ipv4Net::new(v4, len).map_err(|_| format!("prefix length `/{p}` is too long for IPv4"))?)
        }
        (IpAddr::V6(v6), Some(p)) => {
            let len = match p.parse::<u8>() {
                Ok(len) => len,
                Err(_) => mask_len_v6(p).ok_or_else(|| format!("`{p}` is not a prefix length or a contiguous netmask"))?,
            };
            IpNet::V6(Ipv6Net::new(v6, len).map_err(|_| format!("prefix length `/{p}` is too long for IPv6"))?)
        }
    };
    if IpFamily::of(&net) != family {
        let want = if family == IpFamily::V4 { "IPv4" } else { "IPv6" };
        return Err(format!("`{text}` is not an {want} address, but this dump is {want}"));
    }
    // The kernel masks host bits off, and so does iptables-save.
    Ok(net.trunc())
}

pub(super) fn mask_len_v4(mask: &str) -> Option<u8> {
    let bits = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then(|| u8::try_from(len).ok()).flatten()
}

pub(super) fn mask_len_v6(mask: &str) -> Option<u8> {
    let bits = u128::from(mask.parse::<Ipv6Addr>().ok()?);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then(|| u8::try_from(len).ok()).flatten()
}

/// Lowers the match module being collected, if any, into conditions.
pub(super) fn finish_module(b: &mut RuleBuilder<'_>, family: IpFamily, problems: &mut Vec<(u32, String)>) {
    let Some((head, opts)) = b.module.take() else { return };
    // An implicit protocol match starts with its first option rather than `-m`.
    let implicit = !matches!(head.name.as_ref(), "-m" | "--match");
    let module = if implicit { b.protocol.as_ref().map(|p| p.to_string()).unwrap_or_default() } else { value_text(head) };
    match lower_match(&module, &opts, b.protocol.as_ref(), family) {
        Ok(conditions) => b.conditions.extend(conditions),
        Err(Failure::Malformed(column, message)) => problems.push((column, message)),
        Err(Failure::Undecidable) => {
            let mut text = if implicit { String::new() } else { format!("-m {module}") };
            for opt in &opts {
                if !text.is_empty() {
                    text.push(' ');
                }
                if opt.negated {
                    text.push_str("! ");
                }
                text.push_str(&opt.name);
                for v in &opt.values {
                    text.push(' ');
                    text.push_str(&v.text);
                }
            }
            b.conditions.push(Condition::new(Test::Undecidable { module, text }));
        }
    }
}

pub(super) fn value_text(opt: &RawOpt<'_>) -> String {
    opt.values.first().map(|v| v.text.to_string()).unwrap_or_default()
}

/// Why a match could not be lowered.
pub(super) enum Failure {
    /// A value is malformed: an input error.
    Malformed(u32, String),
    /// Well-formed, but not something a trace can decide.
    Undecidable,
}

pub(super) fn lower_match(
    module: &str,
    opts: &[&RawOpt<'_>],
    protocol: Option<&IpProto>,
    family: IpFamily,
) -> Result<Vec<Condition>, Failure> {
    let mut out = Vec::new();
    let cond = |negated: bool, test: Test| Condition { negated, test };
    match module {
        "tcp" | "udp" | "sctp" | "udplite" | "dccp" => {
            for opt in opts {
                match opt.name.as_ref() {
                    "--dport" | "--destination-port" => out.push(cond(opt.negated, Test::DestPorts(vec![port_span(opt)?]))),
                    "--sport" | "--source-port" => out.push(cond(opt.negated, Test::SourcePorts(vec![port_span(opt)?]))),
                    _ => return Err(Failure::Undecidable),
                }
            }
        }
        "multiport" => {
            for opt in opts {
                let ports = port_list(opt)?;
                let test = match opt.name.as_ref() {
                    "--dports" | "--destination-ports" => Test::DestPorts(ports),
                    "--sports" | "--source-ports" => Test::SourcePorts(ports),
                    "--ports" => Test::AnyPorts(ports),
                    _ => return Err(Failure::Undecidable),
                };
                out.push(cond(opt.negated, test));
            }
            if protocol.is_none() {
                return Err(Failure::Malformed(
                    opts.first().map_or(0, |o| o.column),
                    "multiport needs `-p tcp`, `-p udp` or similar".into(),
                ));
            }
        }
        "conntrack" | "state" => {
            for opt in opts {
                match opt.name.as_ref() {
                    "--ctstate" | "--state" => {
                        let text = one(opt)?;
                        let states = text
                            .split(',')
                            .map(|s| {
                                CtState::parse(s)
                                    .ok_or_else(|| Failure::Malformed(value_column(opt), format!("unknown conntrack state `{s}`")))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        out.push(cond(opt.negated, Test::CtState(states)));
                    }
                    "--ctorigdst" => {
                        let net = address(one(opt)?, family).map_err(|m| Failure::Malformed(value_column(opt), m))?;
                        out.push(cond(opt.negated, Test::CtOrigDst(net)));
                    }
                    "--ctorigdstport" => out.push(cond(opt.negated, Test::CtOrigDstPort(port_span(opt)?))),
                    _ => return Err(Failure::Undecidable),
                }
            }
        }
        "addrtype" => {
            for opt in opts {
                let destination = match opt.name.as_ref() {
                    "--dst-type" => true,
                    "--src-type" => false,
                    _ => return Err(Failure::Undecidable),
                };
                let text = one(opt)?;
                let kinds = text
                    .split(',')
                    .map(|k| AddrKind::parse(k).ok_or_else(|| Failure::Malformed(value_column(opt), format!("unknown address type `{k}`"))))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(cond(opt.negated, Test::AddrType { destination, kinds }));
            }
        }
        "comment" => {
            for opt in opts {
                match opt.name.as_ref() {
                    "--comment" => out.push(cond(false, Test::Comment(one(opt)?.to_string()))),
                    _ => return Err(Failure::Undecidable),
                }
            }
        }
        "mark" => {
            for opt in opts {
                match opt.name.as_ref() {
                    "--mark" => {
                        let (value, mask) = mark_value(one(opt)?)
                            .ok_or_else(|| Failure::Malformed(value_column(opt), "malformed mark (value[/mask])".into()))?;
                        out.push(cond(opt.negated, Test::Mark { value, mask }));
                    }
                    _ => return Err(Failure::Undecidable),
                }
            }
        }
        _ => return Err(Failure::Undecidable),
    }
    Ok(out)
}

pub(super) fn one<'o>(opt: &'o RawOpt<'_>) -> Result<&'o str, Failure> {
    single_value(opt).map_err(|(c, m)| Failure::Malformed(c, m))
}

/// `80`, `80:90`, `:90`, `1024:`; a few service names.
pub(super) fn port_span(opt: &RawOpt<'_>) -> Result<PortRange, Failure> {
    let text = one(opt)?;
    parse_port_span(text).ok_or_else(|| Failure::Malformed(value_column(opt), format!("`{text}` is not a port or port range (80, 80:90)")))
}

pub(super) fn port_list(opt: &RawOpt<'_>) -> Result<Vec<PortRange>, Failure> {
    let text = one(opt)?;
    text.split(',')
        .map(|p| {
            parse_port_span(p)
                .ok_or_else(|| Failure::Malformed(value_column(opt), format!("`{p}` is not a port or port range (80, 80:90)")))
        })
        .collect()
}

pub(super) fn parse_port_span(text: &str) -> Option<PortRange> {
    let (a, b) = match text.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let start = if a.is_empty() { 0 } else { port_number(a)? };
    let end = match b {
        None => start,
        Some("") => u16::MAX,
        Some(b) => port_number(b)?,
    };
    (start <= end).then_some(PortRange { start, end })
}

pub(super) fn port_number(text: &str) -> Option<u16> {
    if let Ok(n) = text.parse::<u16>() {
        return Some(n);
    }
    // iptables-save always prints numbers; hand-written files sometimes use names.
    Some(match text {
        "ssh" => 22,
        "smtp" => 25,
        "domain" => 53,
        "http" | "www" => 80,
        "https" => 443,
        "bgp" => 179,
        _ => return None,
    })
}

pub(super) fn mark_value(text: &str) -> Option<(u32, u32)> {
    let (v, m) = match text.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (text, None),
    };
    Some((number(v)?, m.map_or(Some(u32::MAX), number)?))
}

pub(super) fn number(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

pub(super) fn lower_target(
    opt: &RawOpt<'_>,
    opts: &[&RawOpt<'_>],
    chains: &HashSet<&str>,
    family: IpFamily,
) -> Result<Target, (u32, String)> {
    let name = single_value(opt)?;
    let name_column = opt.values.first().map_or(opt.column, |v| v.column);
    let goto = matches!(opt.name.as_ref(), "-g" | "--goto");
    if goto {
        return if chains.contains(name) {
            Ok(Target::Goto(name.to_string()))
        } else {
            Err((name_column, format!("`-g {name}` names no chain of this table")))
        };
    }
    if chains.contains(name) {
        return Ok(Target::Jump(name.to_string()));
    }
    let opt_value = |wanted: &[&str]| opts.iter().find(|o| wanted.contains(&o.name.as_ref())).copied();
    let target = match name {
        "ACCEPT" => Target::Accept,
        "DROP" => Target::Drop,
        "RETURN" => Target::Return,
        "REJECT" => Target::Reject(opt_value(&["--reject-with"]).map(value_text)),
        "MASQUERADE" => Target::Masquerade,
        "DNAT" | "SNAT" => {
            let key: &[&str] = if name == "DNAT" { &["--to-destination", "--to"] } else { &["--to-source", "--to"] };
            let tos: Vec<&&RawOpt<'_>> = opts.iter().filter(|o| key.contains(&o.name.as_ref())).collect();
            let to = match tos.as_slice() {
                [one_to] => nat_to(one_to, family)?,
                [] => return Err((opt.column, format!("`{name}` needs {}", key.first().copied().unwrap_or_default()))),
                // Several destinations are chosen round-robin: no single answer.
                _ => return Ok(Target::Opaque(name.to_string())),
            };
            match to {
                Some(to) if name == "DNAT" => Target::Dnat(to),
                Some(to) => Target::Snat(to),
                None => Target::Opaque(name.to_string()),
            }
        }
        "REDIRECT" => match opt_value(&["--to-ports", "--to-port"]) {
            Some(o) => {
                let text = single_value(o)?;
                let ports =
                    parse_port_span(&text.replace('-', ":")).ok_or((value_column(o), format!("`{text}` is not a port or port range")))?;
                Target::Redirect(Some(ports))
            }
            None => Target::Redirect(None),
        },
        "MARK" => {
            let (flag, text) = opts
                .iter()
                .find_map(|o| Some((o.name.as_ref(), single_value(o).ok()?)))
                .ok_or((opt.column, "`MARK` needs --set-xmark, --set-mark, --or-mark, --and-mark or --xor-mark".to_string()))?;
            let (value, mask) = mark_value(text).ok_or((name_column, format!("malformed mark `{text}`")))?;
            match flag {
                "--set-xmark" => Target::SetMark { value, mask },
                "--set-mark" => Target::SetMark { value, mask },
                "--or-mark" => Target::SetMark { value, mask: value },
                "--and-mark" => Target::SetMark { value: 0, mask: !value },
                "--xor-mark" => Target::SetMark { value, mask: 0 },
                _ => Target::Opaque("MARK".into()),
            }
        }
        other if CONTINUING_TARGETS.contains(&other) => Target::Continue(other.to_string()),
        other if OPAQUE_TARGETS.contains(&other) => Target::Opaque(other.to_string()),
        other => return Err((name_column, format!("`-j {other}` names no chain of this table and no target netdoctor knows"))),
    };
    Ok(target)
}

/// `1.2.3.4`, `1.2.3.4:80`, `1.2.3.4:80-90`, `[fd00::1]:80`, `:8080`. `None` for ranges
/// of addresses, which the kernel picks from at run time.
pub(super) fn nat_to(opt: &RawOpt<'_>, family: IpFamily) -> Result<Option<NatTo>, (u32, String)> {
    let text = single_value(opt)?;
    let bad = || (value_column(opt), format!("`{text}` is not address[:port[-port]]"));
    let (addr, ports) = if let Some(rest) = text.strip_prefix('[') {
        let (a, after) = rest.split_once(']').ok_or_else(bad)?;
        (a, after.strip_prefix(':'))
    } else if family == IpFamily::V6 && text.matches(':').count() > 1 {
        (text, None)
    } else {
        match text.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        }
    };
    if addr.contains('-') {
        return Ok(None);
    }
    let address = if addr.is_empty() { None } else { Some(addr.parse::<IpAddr>().map_err(|_| bad())?) };
    let ports = match ports {
        Some(p) => {
            let p = p.split('/').next().unwrap_or(p);
            Some(parse_port_span(&p.replace('-', ":")).ok_or_else(bad)?)
        }
        None => None,
    };
    Ok(Some(NatTo { address, ports }))
}

//! Turns a capture into the model's `HostFacts`: each captured file through its
//! reader, then the firewall front ends recognised from what the rules show.

use super::capture::{Capture, CapturedText};
use super::{cni, daemon, iproute, iptables, nft, nftjson, sysctl};
use crate::error::LoadError;
use netdoctor_model::host::{Backend, Frontend, FrontendKind, HostFacts, IpFamily, RuleSet, Target};
use netdoctor_model::Origin;

/// The dumps of the layout: file, family, and the backend the file name implies.
const DUMPS: &[(&str, IpFamily, Backend)] = &[
    ("iptables-save.txt", IpFamily::V4, Backend::Unknown),
    ("iptables-legacy-save.txt", IpFamily::V4, Backend::Legacy),
    ("iptables-nft-save.txt", IpFamily::V4, Backend::Nft),
    ("ip6tables-save.txt", IpFamily::V6, Backend::Unknown),
    ("ip6tables-legacy-save.txt", IpFamily::V6, Backend::Legacy),
    ("ip6tables-nft-save.txt", IpFamily::V6, Backend::Nft),
];

/// Parses every captured file; problems are collected, the rest still lowered.
pub fn lower(capture: &Capture) -> (HostFacts, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut facts = HostFacts { origin: Some(capture.origin.clone()), ..HostFacts::default() };
    let mut sets: Vec<(bool, RuleSet)> = Vec::new();
    for (name, family, hint) in DUMPS {
        let Some(t) = capture.get(name) else { continue };
        let (dump, parse_errors) = iptables::parse(&t.text, &t.source);
        errors.extend(parse_errors);
        let set = iptables::lower(&dump, *family, *hint, &t.source, &mut errors);
        sets.push((*hint == Backend::Unknown, set));
    }
    // A plain `iptables-save.txt` repeats the backend-specific dump of its backend. An
    // empty dump stays: it says the backend holds no rules, which is not "not read".
    let specific: Vec<(IpFamily, Backend)> = sets.iter().filter(|(generic, _)| !generic).map(|(_, s)| (s.family, s.backend)).collect();
    facts.rulesets =
        sets.into_iter().filter(|(generic, s)| !generic || !specific.contains(&(s.family, s.backend))).map(|(_, s)| s).collect();
    if let Some(t) = capture.get("nft-tables.txt") {
        facts.nft_tables = nft::tables(&t.text, &t.source, &mut errors);
    }
    if let Some(t) = capture.get("nft.json") {
        let parsed = nftjson::parse(&t.text, &t.source, &mut errors);
        if capture.get("nft-tables.txt").is_none() {
            facts.nft_tables = parsed.tables;
        }
        for mut set in parsed.rulesets {
            // iptables-nft's own tables are read from its dump, with every match's options;
            // `nft -j` shows their compat matches without them.
            let from_iptables: Vec<String> = facts
                .rulesets
                .iter()
                .filter(|s| s.family == set.family && s.backend != Backend::Legacy)
                .flat_map(|s| s.tables.iter().map(|t| t.name.clone()))
                .collect();
            let prefix = if set.family == IpFamily::V4 { "ip " } else { "ip6 " };
            set.tables.retain(|t| t.name.strip_prefix(prefix).is_none_or(|name| !from_iptables.iter().any(|n| n == name)));
            if !set.tables.is_empty() {
                facts.rulesets.push(set);
            }
        }
    }
    if let Some(t) = capture.get("ip-link.json") {
        facts.interfaces = iproute::links(&t.text, &t.source, &mut errors);
    }
    if let Some(t) = capture.get("ip-addr.json") {
        facts.addresses = iproute::addresses(&t.text, &t.source, &mut errors);
    }
    for (name, family) in [("ip-route.json", IpFamily::V4), ("ip6-route.json", IpFamily::V6)] {
        if let Some(t) = capture.get(name) {
            for route in iproute::routes(&t.text, family, &t.source, &mut errors) {
                let known =
                    facts.routes.iter().any(|r| r.destination == route.destination && r.table == route.table && r.device == route.device);
                if !known {
                    facts.routes.push(route);
                }
            }
        }
    }
    for (name, family) in [("ip-rule.json", IpFamily::V4), ("ip6-rule.json", IpFamily::V6)] {
        if let Some(t) = capture.get(name) {
            facts.routing_rules.extend(iproute::rules(&t.text, family, &t.source, &mut errors));
        }
    }
    if let Some(t) = capture.get("sysctl.txt") {
        facts.sysctls = sysctl::parse(&t.text, &t.source, &mut errors);
    }
    if let Some(t) = capture.get("daemon.json") {
        facts.daemon = daemon::parse(&t.text, &t.source, &mut errors);
    }
    facts.frontends = frontends(&facts.rulesets, &facts, capture.get("ufw.conf"));
    let mut cni_files: Vec<&CapturedText> = capture.texts.iter().filter(|t| t.name.starts_with("cni/")).collect();
    cni_files.sort_by(|a, b| a.name.cmp(&b.name));
    facts.cni_configs = cni_files.into_iter().map(cni::parse).collect();
    (facts, errors)
}

/// ufw and firewalld, recognised by their chains, their nft table or ufw's config.
fn frontends(rulesets: &[RuleSet], facts: &HostFacts, ufw_conf: Option<&CapturedText>) -> Vec<Frontend> {
    let mut out: Vec<Frontend> = Vec::new();
    for set in rulesets {
        let Some(filter) = set.table("filter") else { continue };
        for (kind, prefixes) in [
            (FrontendKind::Ufw, &["ufw-", "ufw6-"][..]),
            (FrontendKind::Firewalld, &["INPUT_direct", "IN_", "FWD_", "FORWARD_IN_ZONES"][..]),
        ] {
            if out.iter().any(|f| f.kind == kind) {
                continue;
            }
            let hook = filter.chain("INPUT").and_then(|input| {
                input
                    .rules
                    .iter()
                    .find(|r| matches!(&r.target, Target::Jump(c) | Target::Goto(c) if prefixes.iter().any(|p| c.starts_with(p))))
            });
            if let Some(rule) = hook {
                let chain = match &rule.target {
                    Target::Jump(c) | Target::Goto(c) => c.as_str(),
                    _ => "",
                };
                out.push(Frontend { kind, active: true, evidence: format!("INPUT jumps to `{chain}`"), origin: rule.origin.clone() });
            } else if let Some(chain) = filter.chains.iter().find(|c| prefixes.iter().any(|p| c.name.starts_with(p))) {
                out.push(Frontend {
                    kind,
                    active: false,
                    evidence: format!("chain `{}` exists but nothing jumps to it", chain.name),
                    origin: chain.origin.clone(),
                });
            }
        }
    }
    if let Some(table) = facts.nft_tables.iter().find(|t| t.name == "firewalld") {
        if !out.iter().any(|f| f.kind == FrontendKind::Firewalld) {
            out.push(Frontend {
                kind: FrontendKind::Firewalld,
                active: true,
                evidence: format!("nft table `{} {}`", table.family, table.name),
                origin: table.origin.clone(),
            });
        }
    }
    if let Some(conf) = ufw_conf {
        let enabled = conf.text.lines().enumerate().find_map(|(i, l)| {
            let value = l.trim().strip_prefix("ENABLED=")?;
            Some((i, value.trim_matches(['"', '\'']).eq_ignore_ascii_case("yes")))
        });
        if let Some((index, enabled)) = enabled {
            let origin: Origin = conf.source.origin(u32::try_from(index + 1).unwrap_or(1), 1);
            match out.iter_mut().find(|f| f.kind == FrontendKind::Ufw) {
                Some(existing) => existing.active &= enabled,
                None => out.push(Frontend {
                    kind: FrontendKind::Ufw,
                    active: enabled,
                    evidence: format!("ufw.conf says ENABLED={}", if enabled { "yes" } else { "no" }),
                    origin,
                }),
            }
        }
    }
    out.sort_by_key(|f| f.kind);
    out
}

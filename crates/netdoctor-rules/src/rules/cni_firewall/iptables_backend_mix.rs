//! ND504: rules in both iptables backends, or native nftables tables beside them.

use crate::prelude::*;
use netdoctor_model::host::{Backend, IpFamily, RuleSet};

declare_rule! {
    /// ## What it checks
    /// A host whose iptables rules live in both backends at once: rules in the legacy
    /// `ip_tables` tables and in iptables-nft's tables, or native nftables tables (firewalld,
    /// nftables.service) beside iptables rules. With `nft -j list ruleset` read, the finding says
    /// how many rules and drop policies the table holds. Needs host facts (`--host`, `--host-facts`).
    ///
    /// ## Why it matters
    /// The kernel runs every set, and a packet dropped by any of them is gone, but each tool
    /// shows only its own: `iptables -L` looks clean while the other backend drops the traffic,
    /// and Docker writes its rules into only one of them.
    ///
    /// ## Example
    /// ```text
    /// $ iptables-save
    /// # Warning: iptables-legacy tables present, use iptables-legacy-save to see them
    /// ```
    ///
    /// ## Fix
    /// Pick one backend (`update-alternatives --set iptables /usr/sbin/iptables-nft`), move the
    /// rules there, and flush the other (`iptables-legacy -F`, or delete the stray nft table).
    pub struct IptablesBackendMix => Warning, "ND504";
}

impl Check for IptablesBackendMix {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let facts = host.facts;
        for family in [IpFamily::V4, IpFamily::V6] {
            let effective = |backend: Backend| facts.rulesets_of(family).find(|s| s.backend == backend && s.has_effect());
            let (Some(legacy), Some(nft)) = (effective(Backend::Legacy), effective(Backend::Nft)) else { continue };
            let name = if family == IpFamily::V4 { "iptables" } else { "ip6tables" };
            out.report(
                &legacy.origin,
                format!(
                    "{name} rules are split across backends: {} in iptables-legacy and {} in iptables-nft; the kernel applies both, each tool shows one",
                    describe(legacy),
                    describe(nft)
                ),
            )
            .related(&nft.origin, "the nft backend's rules")
            .help(format!("keep one backend: move the legacy rules to iptables-nft and flush them with `{name}-legacy -F`"));
        }
        let with_rules: Vec<String> = facts
            .rulesets
            .iter()
            .filter(|s| s.backend != Backend::Nftables && s.has_effect())
            .map(|s| format!("{} in iptables-{}", describe_rules(s.rule_count(), drop_policies(s.tables.iter())), s.backend.as_str()))
            .collect();
        if with_rules.is_empty() {
            return;
        }
        for table in facts.nft_tables.iter().filter(|t| !t.is_iptables_nft()) {
            // What the table holds, when `nft -j list ruleset` was read.
            let full = format!("{} {}", table.family, table.name);
            let native = facts.rulesets.iter().filter(|s| s.backend == Backend::Nftables).find_map(|s| s.table(&full));
            let holds = native.map_or_else(String::new, |t| {
                let rules = t.chains.iter().map(|c| c.rules.len()).sum();
                format!(" ({})", describe_rules(rules, drop_policies(std::iter::once(t))))
            });
            out.report(
                &table.origin,
                format!(
                    "nftables table `{} {}`{holds} sits beside iptables rules ({}): both run at the same hooks and a drop in either wins",
                    table.family,
                    table.name,
                    with_rules.join(", ")
                ),
            )
            .help(
                "check `nft list table ".to_string()
                    + &table.family
                    + " "
                    + &table.name
                    + "` for drops of container traffic, or manage all rules through one tool",
            );
        }
    }
}

fn describe(set: &RuleSet) -> String {
    describe_rules(set.rule_count(), drop_policies(set.tables.iter()))
}

fn drop_policies<'t>(tables: impl Iterator<Item = &'t netdoctor_model::host::Table>) -> usize {
    tables.flat_map(|t| &t.chains).filter(|c| c.policy == Some(netdoctor_model::host::Policy::Drop)).count()
}

fn describe_rules(count: usize, drops: usize) -> String {
    match (count, drops) {
        (n, 0) => format!("{n} rule{}", if n == 1 { "" } else { "s" }),
        (n, d) => format!("{n} rule{} and {d} DROP polic{}", if n == 1 { "" } else { "s" }, if d == 1 { "y" } else { "ies" }),
    }
}

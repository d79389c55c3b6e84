//! The rule catalog: one file per rule under `rules/<family>/`, IDs assigned in
//! `registry.rs` only, and a runner that applies the selected rules to an analysed
//! model and returns sorted `Diagnostic`s (`why`, in netdoctor-explain, cites them).
//! Rules read the model and the engine's analysis; they never do I/O.

pub mod diagnostic;
pub mod meta;
pub mod registry;
pub mod rule;
mod rules;

pub use diagnostic::{sort, Diagnostic, Related, Severity};
pub use meta::RuleMeta;
pub use rule::{Diagnostics, Family, Rule};

use ipnet::IpNet;
use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_model::host::HostFacts;
use netdoctor_model::Model;
use std::collections::BTreeMap;

/// A range outside the container runtime that container networks must not overlap
/// (a VPN, the office LAN, a cloud VPC), declared in `netdoctor.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRange {
    pub name: String,
    pub cidr: IpNet,
}

/// Settings rules read, resolved from the config file and flags.
#[derive(Debug, Clone)]
pub struct RuleConfig {
    pub external_ranges: Vec<ExternalRange>,
    /// Share of the default address pools in use above which ND601 warns.
    pub pool_usage_threshold: f64,
    /// NetworkPolicies selecting one pod above which ND602 reports it.
    pub max_policies_per_pod: usize,
    /// Rules (ingress plus egress) of one NetworkPolicy above which ND602 reports it.
    pub max_rules_per_policy: usize,
    /// Share of the connection tracking table in use at which ND604 warns.
    pub conntrack_usage_threshold: f64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            external_ranges: Vec::new(),
            pool_usage_threshold: 0.8,
            max_policies_per_pod: 20,
            max_rules_per_policy: 50,
            conntrack_usage_threshold: 0.8,
        }
    }
}

/// What a rule sees.
pub struct RuleContext<'a> {
    pub model: &'a Model,
    pub analysis: &'a Analysis<'a>,
    pub config: &'a RuleConfig,
}

/// Which rules run and at what severity.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// IDs, names or ID prefixes (`ND1`) to run; empty means all.
    pub select: Vec<String>,
    /// IDs, names or ID prefixes to skip.
    pub ignore: Vec<String>,
    /// Per-rule severity overrides by ID.
    pub severity: BTreeMap<String, Severity>,
}

impl Selection {
    fn matches(pattern: &str, meta: &RuleMeta) -> bool {
        meta.id.eq_ignore_ascii_case(pattern)
            || meta.name == pattern
            || (pattern.len() < 5 && meta.id.to_ascii_uppercase().starts_with(&pattern.to_ascii_uppercase()))
    }

    /// Whether the rule runs.
    pub fn enabled(&self, meta: &RuleMeta) -> bool {
        let selected = self.select.is_empty() || self.select.iter().any(|p| Self::matches(p, meta));
        selected && !self.ignore.iter().any(|p| Self::matches(p, meta))
    }

    /// Patterns that name no rule, for a helpful error.
    pub fn unknown_patterns(&self) -> Vec<String> {
        let metas = meta::all();
        self.select
            .iter()
            .chain(&self.ignore)
            .chain(self.severity.keys())
            .filter(|p| !metas.iter().any(|m| Self::matches(p, m)))
            .cloned()
            .collect()
    }
}

/// Runs the selected rules and returns their findings in output order.
pub fn run(cx: &RuleContext<'_>, selection: &Selection) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    for entry in registry::RULES {
        let meta = RuleMeta::of_entry(entry);
        if !selection.enabled(&meta) {
            continue;
        }
        let severity = selection.severity.get(meta.id).copied();
        let mut out = Diagnostics::new(meta.id, meta.name.clone(), meta.severity, first_paragraph(&meta.fix));
        entry.rule.check(cx, &mut out);
        findings.extend(out.into_findings().into_iter().map(|mut d| {
            if let Some(s) = severity {
                d.severity = s;
            }
            d
        }));
    }
    sort(&mut findings);
    findings.dedup();
    findings
}

/// Analyses `model` and runs the selected rules, on each of `nodes` when several hosts
/// were read (the model applied to each in turn): what every node finds alike (the
/// project's own findings, ND506's comparison of all nodes) is reported once.
pub fn check(
    model: &mut Model,
    mut nodes: Vec<HostFacts>,
    engine: &EngineConfig,
    config: &RuleConfig,
    selection: &Selection,
) -> Vec<Diagnostic> {
    let run_on = |model: &Model| {
        let analysis = Analysis::new(model, engine);
        run(&RuleContext { model, analysis: &analysis, config }, selection)
    };
    if nodes.len() <= 1 {
        model.host = nodes.pop();
        return run_on(model);
    }
    let mut findings = Vec::new();
    for facts in nodes {
        model.host = Some(facts);
        findings.extend(run_on(model));
    }
    sort(&mut findings);
    findings.dedup();
    findings
}

/// The part of a model a check is about: workload names, and the networks they are on.
#[derive(Debug, Clone, Default)]
pub struct Focus {
    pub workloads: std::collections::BTreeSet<String>,
    pub networks: std::collections::BTreeSet<String>,
}

/// The findings about `focus`: those naming one of its workloads among their subjects,
/// those about its networks alone, and those about no workload or network in particular
/// (the engine, the host). For a check of part of what runs, evaluated against all of it.
pub fn about(findings: Vec<Diagnostic>, focus: &Focus) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .filter(|d| {
            d.subjects.is_empty()
                || d.subjects.iter().any(|s| focus.workloads.contains(s))
                || d.subjects.iter().all(|s| focus.networks.contains(s))
        })
        .collect()
}

fn first_paragraph(text: &str) -> String {
    text.split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What rule files import.
pub(crate) mod prelude {
    pub use crate::rule::{Check, Diagnostics};
    pub use crate::{declare_rule, RuleContext, Severity};
    pub use netdoctor_model::{Network, NetworkMode, Origin, ReferenceVia, Workload};
}

//! `netdoctor.toml`: the project's settings, and their layering with flags
//! (flag, then file, then built-in default) in one function, `resolve`.

use ipnet::IpNet;
use netdoctor_engine::policy::{HostNetwork, PolicyOptions};
use netdoctor_engine::{AddressPool, EngineConfig};
use netdoctor_model::k8s::{ClusterRange, RangeKind};
use netdoctor_model::{Origin, Span};
use netdoctor_rules::{ExternalRange, RuleConfig, Selection, Severity};
use netdoctor_sources::k8s::ranges::configured_range;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file's name, looked up in the checked directory and then the current one.
pub const FILE_NAME: &str = "netdoctor.toml";

/// The file as written. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Rule IDs, names or ID prefixes to run (all when empty).
    #[serde(default)]
    pub select: Vec<String>,
    /// Rule IDs, names or ID prefixes to skip.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1.
    pub fail_on: Option<FailOn>,
    /// Per-rule severity overrides: `ND107 = "info"`.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Ranges container networks must stay out of.
    #[serde(default)]
    pub external_ranges: Vec<ExternalRangeEntry>,
    /// The Kubernetes cluster's pod ranges, when its objects do not say (`--cluster-cidr`).
    #[serde(default)]
    pub pod_cidrs: Vec<toml::Spanned<Cidr>>,
    /// The cluster's service ranges (`--service-cluster-ip-range`).
    #[serde(default)]
    pub service_cidrs: Vec<toml::Spanned<Cidr>>,
    /// Flows that must work even if no configuration mentions them.
    #[serde(default)]
    pub expected_flows: Vec<toml::Spanned<ExpectedFlow>>,
    /// The daemon's `default-address-pools`, when not the built-in ones.
    pub default_address_pools: Option<Vec<PoolEntry>>,
    /// Share of the pools (0–1) in use above which ND601 warns.
    pub pool_usage_threshold: Option<f64>,
    /// Share of the connection tracking table (0–1) in use at which ND604 warns.
    pub conntrack_usage_threshold: Option<f64>,
    /// How Kubernetes policies treat `hostNetwork` pods.
    pub host_network: Option<HostNetwork>,
    /// NetworkPolicies selecting one pod above which ND602 reports it.
    pub max_policies_per_pod: Option<usize>,
    /// Rules of one NetworkPolicy above which ND602 reports it.
    pub max_rules_per_policy: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRangeEntry {
    pub name: String,
    pub cidr: Cidr,
}

/// A CIDR written as a string; a bad one is named in the error.
#[derive(Debug, Clone, Copy)]
pub struct Cidr(pub IpNet);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.trim()
            .parse::<IpNet>()
            .map(|net| Cidr(net.trunc()))
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a CIDR such as 10.244.0.0/16")))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFlow {
    /// The client: a service name, or `project/service`.
    pub from: String,
    /// The server's name as the client uses it.
    pub to: String,
    /// `tcp/5432`.
    pub port: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolEntry {
    pub base: String,
    pub size: u8,
}

/// `--fail-on` values: a severity, or `none` to always exit 0 on findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Info,
    None,
}

impl FailOn {
    pub fn severity(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::None => None,
        }
    }
}

/// A config problem, located in the file.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Reads and parses a config file.
pub fn read(path: &Path) -> Result<(ConfigFile, String), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read config file: {e}"),
    })?;
    match toml::from_str::<ConfigFile>(&text) {
        Ok(file) => Ok((file, text)),
        Err(e) => {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(&text, s.start));
            Err(ConfigError { file: path.to_path_buf(), line, column, message: e.message().trim().to_string() })
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

/// Where to look for the config file when `--config` is not given.
pub fn discover(paths: &[PathBuf]) -> Option<PathBuf> {
    let first_dir = paths.first().map(|p| if p.is_dir() { p.clone() } else { p.parent().map(Path::to_path_buf).unwrap_or_default() });
    first_dir.into_iter().chain([PathBuf::from(".")]).map(|d| d.join(FILE_NAME)).find(|p| p.is_file())
}

/// Flags that override the file.
#[derive(Debug, Default)]
pub struct Overrides {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<FailOn>,
    pub host_network: Option<HostNetwork>,
}

/// The settings in effect.
#[derive(Debug)]
pub struct Settings {
    pub selection: Selection,
    pub fail_on: FailOn,
    pub rules: RuleConfig,
    pub engine: EngineConfig,
    pub expected_flows: Vec<(ExpectedFlow, Origin)>,
    /// `pod_cidrs` and `service_cidrs`, located in the file.
    pub cluster_ranges: Vec<ClusterRange>,
}

/// Layers flags over the file over the defaults.
pub fn resolve(file: ConfigFile, file_path: Option<&Path>, text: &str, flags: Overrides) -> Settings {
    let mut ignore = file.ignore;
    ignore.extend(flags.ignore);
    let selection = Selection { select: if flags.select.is_empty() { file.select } else { flags.select }, ignore, severity: file.severity };
    let mut rules = RuleConfig {
        external_ranges: file.external_ranges.into_iter().map(|r| ExternalRange { name: r.name, cidr: r.cidr.0 }).collect(),
        ..RuleConfig::default()
    };
    if let Some(t) = file.pool_usage_threshold {
        rules.pool_usage_threshold = t;
    }
    if let Some(t) = file.conntrack_usage_threshold {
        rules.conntrack_usage_threshold = t;
    }
    if let Some(n) = file.max_policies_per_pod {
        rules.max_policies_per_pod = n;
    }
    if let Some(n) = file.max_rules_per_policy {
        rules.max_rules_per_policy = n;
    }
    let mut engine = EngineConfig::default();
    if let Some(pools) = file.default_address_pools {
        engine.default_pools = pools.iter().map(|p| AddressPool::new(&p.base, p.size)).collect();
    }
    engine.policy = PolicyOptions { host_network: flags.host_network.or(file.host_network).unwrap_or_default() };
    let file_arc: Arc<Path> = Arc::from(file_path.unwrap_or(Path::new(FILE_NAME)));
    let at = |start: usize| {
        let (line, column) = line_col(text, start);
        Origin::File(Span::new(file_arc.clone(), line, column))
    };
    let expected_flows = file
        .expected_flows
        .into_iter()
        .map(|f| {
            let origin = at(f.span().start);
            (f.into_inner(), origin)
        })
        .collect();
    let cluster_ranges = [(RangeKind::Pods, "pod_cidrs", file.pod_cidrs), (RangeKind::Services, "service_cidrs", file.service_cidrs)]
        .into_iter()
        .flat_map(|(kind, key, cidrs)| cidrs.into_iter().map(move |c| (kind, key, c)))
        .map(|(kind, key, c)| configured_range(kind, c.get_ref().0, key, at(c.span().start)))
        .collect();
    Settings {
        selection,
        fail_on: flags.fail_on.or(file.fail_on).unwrap_or(FailOn::Warning),
        rules,
        engine,
        expected_flows,
        cluster_ranges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_over_defaults() {
        let file: ConfigFile = toml::from_str("select = [\"ND1\"]\nfail_on = \"error\"\n").unwrap_or_default();
        let s = resolve(file, None, "", Overrides { select: vec!["ND2".into()], ..Overrides::default() });
        assert_eq!(s.selection.select, ["ND2"]);
        assert_eq!(s.fail_on, FailOn::Error);
        let s = resolve(ConfigFile::default(), None, "", Overrides::default());
        assert_eq!(s.fail_on, FailOn::Warning);
    }

    #[test]
    fn host_network_flag_wins_over_file() {
        let file = || toml::from_str::<ConfigFile>("host_network = \"bypass\"\n").unwrap_or_default();
        let s = resolve(file(), None, "", Overrides::default());
        assert_eq!(s.engine.policy.host_network, HostNetwork::Bypass);
        let flags = Overrides { host_network: Some(HostNetwork::AsPods), ..Overrides::default() };
        assert_eq!(resolve(file(), None, "", flags).engine.policy.host_network, HostNetwork::AsPods);
        let s = resolve(ConfigFile::default(), None, "", Overrides::default());
        assert_eq!(s.engine.policy.host_network, HostNetwork::AsPods);
        assert!(toml::from_str::<ConfigFile>("host_network = \"bridge\"").is_err());
    }

    #[test]
    fn policy_bloat_thresholds_come_from_the_file() {
        let file: ConfigFile = toml::from_str("max_policies_per_pod = 5\nmax_rules_per_policy = 7\n").unwrap_or_default();
        let s = resolve(file, None, "", Overrides::default());
        assert_eq!((s.rules.max_policies_per_pod, s.rules.max_rules_per_policy), (5, 7));
        let s = resolve(ConfigFile::default(), None, "", Overrides::default());
        assert_eq!((s.rules.max_policies_per_pod, s.rules.max_rules_per_policy), (20, 50));
    }

    #[test]
    fn cluster_ranges_are_located_in_the_file() {
        let text = "pod_cidrs = [\"10.244.0.0/16\"]\nservice_cidrs = [\"10.96.0.1/12\"]\n";
        let s = resolve(toml::from_str(text).unwrap_or_default(), None, text, Overrides::default());
        let got: Vec<_> = s.cluster_ranges.iter().map(|r| (r.kind, r.cidr.to_string(), r.origin.span().map(|s| s.line))).collect();
        assert_eq!(got, [(RangeKind::Pods, "10.244.0.0/16".into(), Some(1)), (RangeKind::Services, "10.96.0.0/12".into(), Some(2))]);
        assert_eq!(s.cluster_ranges[0].source, "netdoctor.toml pod_cidrs");
    }

    #[test]
    fn conntrack_threshold_comes_from_the_file() {
        let file: ConfigFile = toml::from_str("conntrack_usage_threshold = 0.5\n").unwrap_or_default();
        assert_eq!(resolve(file, None, "", Overrides::default()).rules.conntrack_usage_threshold, 0.5);
        assert_eq!(resolve(ConfigFile::default(), None, "", Overrides::default()).rules.conntrack_usage_threshold, 0.8);
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(toml::from_str::<ConfigFile>("selcet = []").is_err());
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}

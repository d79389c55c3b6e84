//! Facts about the host containers run on: firewall rule sets, routes, addresses,
//! links, sysctls, the container runtime's daemon settings and which firewall front
//! ends (ufw, firewalld) manage the rules. Read live or from captured files by
//! `netdoctor-sources`; traced by `netdoctor-engine`.

pub mod firewall;
pub mod net;

pub use firewall::{
    AddrKind, Backend, BaseHook, Chain, ChainKind, Condition, Counters, CtState, Hook, IfacePattern, IpFamily, IpProto, NatTo, Policy,
    Rule, RuleSet, Table, Target, Test,
};
pub use net::{table_name, Address, Interface, Route, RoutingRule};

use crate::{Located, Origin};
use serde::Serialize;

/// What was read about one host (or one network namespace of it).
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostFacts {
    /// Where the facts came from: a directory, a snapshot bundle, or `host://live`.
    pub origin: Option<Origin>,
    /// One rule set per `*tables-save` output (IPv4/IPv6, legacy/nft backend).
    pub rulesets: Vec<RuleSet>,
    /// Native nftables tables (`nft list tables`), iptables-nft's own included.
    pub nft_tables: Vec<NftTable>,
    pub interfaces: Vec<Interface>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    /// Policy routing rules (`ip -j rule show`), IPv4 and IPv6; empty when not read, which
    /// lookups take as the kernel's defaults (local, main, default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routing_rules: Vec<RoutingRule>,
    pub sysctls: Sysctls,
    /// `/etc/docker/daemon.json`, when it was read.
    pub daemon: Option<DaemonConfig>,
    /// Firewall front ends found, with what shows they are there.
    pub frontends: Vec<Frontend>,
    /// The CNI network configurations (`/etc/cni/net.d`), in the order a runtime reads
    /// them (by file name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cni_configs: Vec<CniConfig>,
    /// The node's name, when several nodes were read together (`nodes/<name>/`, or
    /// `--host-facts` given more than once); `None` for a single host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The CNI configurations of every node read together, this one included, by node
    /// name; empty for a single host. Nodes whose facts could not be read are left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster_cni: Vec<NodeCni>,
}

/// One node's CNI configuration directory, as compared across nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeCni {
    pub node: String,
    /// Its configurations in the order a runtime reads them.
    pub configs: Vec<CniConfig>,
    /// Where the node's facts came from (its directory or bundle).
    pub origin: Origin,
}

impl NodeCni {
    /// The configuration the runtime uses: the first by file name that loads.
    pub fn in_effect(&self) -> Option<&CniConfig> {
        self.configs.iter().find(|c| c.problem.is_none())
    }
}

/// One CNI network configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CniConfig {
    /// Its file name in the configuration directory (`10-flannel.conflist`).
    pub file: String,
    /// The network's `name`.
    pub name: Option<String>,
    pub cni_version: Option<String>,
    /// The plugin types, in order (`flannel`, `portmap`).
    pub plugins: Vec<String>,
    /// Why a runtime cannot load it, when it cannot.
    pub problem: Option<String>,
    pub origin: Origin,
    /// Where `cniVersion` is written.
    #[serde(skip)]
    pub cni_version_origin: Option<Origin>,
    /// The plugins with the settings compared across nodes, in order; empty when the file
    /// does not parse. Not serialized, so the model's serialized form stays as it was.
    #[serde(skip)]
    pub chain: Vec<CniPlugin>,
}

/// One plugin of a CNI configuration, with the settings that should match across nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CniPlugin {
    /// Its `type` (`calico`, `portmap`).
    pub kind: String,
    /// Where its `type` is written.
    pub origin: Origin,
    /// A version its entry states (`cniVersion` or `version` inside the plugin).
    pub version: Option<Located<String>>,
    /// `mtu`, as written.
    pub mtu: Option<Located<String>>,
    pub ipam: Option<CniIpam>,
}

/// A plugin's `ipam` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CniIpam {
    /// Its `type` (`host-local`, `calico-ipam`).
    pub kind: Option<String>,
    /// Subnets and ranges as written: `subnet`, each `ranges` entry (`10.244.1.0/24`, with
    /// `rangeStart-rangeEnd` when given), Calico's `ipv4_pools`/`ipv6_pools`.
    pub ranges: Vec<Located<String>>,
    pub origin: Origin,
}

impl HostFacts {
    /// The rule sets of one address family.
    pub fn rulesets_of(&self, family: IpFamily) -> impl Iterator<Item = &RuleSet> {
        self.rulesets.iter().filter(move |r| r.family == family)
    }

    /// The interface called `name`.
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// Whether Docker manages iptables here (`"iptables": false` not set).
    pub fn docker_manages_iptables(&self) -> bool {
        self.daemon.as_ref().and_then(|d| d.iptables.as_ref()).is_none_or(|v| v.value)
    }
}

/// A table listed by `nft list tables`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NftTable {
    /// `ip`, `ip6`, `inet`, `bridge`, `arp`, `netdev`.
    pub family: String,
    pub name: String,
    pub origin: Origin,
}

impl NftTable {
    /// Whether iptables-nft owns the table (its xtables-compatible names in `ip`/`ip6`).
    pub fn is_iptables_nft(&self) -> bool {
        matches!(self.family.as_str(), "ip" | "ip6") && matches!(self.name.as_str(), "filter" | "nat" | "mangle" | "raw" | "security")
    }
}

/// The kernel settings container networking depends on; `None` when not read or absent
/// (`bridge-nf-call-iptables` is absent until `br_netfilter` is loaded).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sysctls {
    /// `net.ipv4.ip_forward`.
    pub ip_forward: Option<Located<bool>>,
    /// `net.ipv6.conf.all.forwarding`.
    pub ipv6_forwarding: Option<Located<bool>>,
    /// `net.bridge.bridge-nf-call-iptables`.
    pub bridge_nf_call_iptables: Option<Located<bool>>,
    /// `net.bridge.bridge-nf-call-ip6tables`.
    pub bridge_nf_call_ip6tables: Option<Located<bool>>,
    /// `net.netfilter.nf_conntrack_max`.
    pub conntrack_max: Option<Located<u64>>,
    /// `net.netfilter.nf_conntrack_count`.
    pub conntrack_count: Option<Located<u64>>,
}

/// The Docker daemon settings that shape its networking (`daemon.json`).
#[derive(Debug, Clone, Serialize)]
pub struct DaemonConfig {
    /// `"iptables"`: whether Docker writes NAT, publishing and isolation rules.
    pub iptables: Option<Located<bool>>,
    /// `"ip6tables"`.
    pub ip6tables: Option<Located<bool>>,
    /// `"ip-forward"`: whether Docker turns on `net.ipv4.ip_forward`.
    pub ip_forward: Option<Located<bool>>,
    /// `"bip"`: docker0's address and prefix, as written.
    pub bip: Option<Located<String>>,
    /// `"default-address-pools"`, in order.
    pub default_address_pools: Vec<Located<AddressPoolSetting>>,
    /// `"mtu"` of the default bridge.
    pub mtu: Option<Located<u32>>,
    pub origin: Origin,
}

/// One `default-address-pools` entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressPoolSetting {
    pub base: String,
    pub size: u8,
}

/// A firewall front end that writes rules of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FrontendKind {
    Ufw,
    Firewalld,
}

impl FrontendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FrontendKind::Ufw => "ufw",
            FrontendKind::Firewalld => "firewalld",
        }
    }
}

/// A firewall front end found on the host.
#[derive(Debug, Clone, Serialize)]
pub struct Frontend {
    pub kind: FrontendKind,
    /// Whether its rules are loaded (chains hooked in, or `ENABLED=yes`).
    pub active: bool,
    /// What shows it is there: `chain ufw-before-input`, `ENABLED=yes`.
    pub evidence: String,
    pub origin: Origin,
}

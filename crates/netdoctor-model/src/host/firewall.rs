//! iptables rule sets as the kernel holds them: tables, chains with their policy and
//! counters, and rules with typed matches and a target. Each rule keeps its source line,
//! so a verdict can name the exact rule that decided it.

use crate::{Origin, PortRange};
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;

/// IPv4 (`iptables`) or IPv6 (`ip6tables`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    /// The family of an address range.
    pub fn of(net: &IpNet) -> IpFamily {
        match net {
            IpNet::V4(_) => IpFamily::V4,
            IpNet::V6(_) => IpFamily::V6,
        }
    }
}

/// Which kernel backend a rule set lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// `ip_tables` (x_tables), written by `iptables-legacy`.
    Legacy,
    /// nf_tables through the xtables compatibility layer, written by `iptables-nft`.
    Nft,
    /// The dump did not say (old `iptables-save` versions print no backend).
    Unknown,
    /// Native nftables tables (`nft -j list ruleset`), not written through iptables.
    Nftables,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Legacy => "legacy",
            Backend::Nft => "nft",
            Backend::Unknown => "unknown",
            Backend::Nftables => "nftables",
        }
    }
}

/// One `iptables-save` (or `ip6tables-save`) dump.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSet {
    pub family: IpFamily,
    pub backend: Backend,
    pub tables: Vec<Table>,
    /// The dump's first line.
    pub origin: Origin,
    /// iptables-nft's `# Warning: iptables-legacy tables present` line, when the dump has it.
    pub legacy_tables_warning: Option<Origin>,
}

impl RuleSet {
    /// The table called `name` (`filter`, `nat`, …).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Whether the set does anything: a rule or a DROP policy.
    pub fn has_effect(&self) -> bool {
        self.tables.iter().flat_map(|t| &t.chains).any(|c| !c.rules.is_empty() || c.policy == Some(Policy::Drop))
    }

    /// Number of rules in every table.
    pub fn rule_count(&self) -> usize {
        self.tables.iter().flat_map(|t| &t.chains).map(|c| c.rules.len()).sum()
    }
}

/// A netfilter hook a base chain is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    /// Parses nft's hook name (`forward`); `ingress`/`egress` are not traced.
    pub fn parse(text: &str) -> Option<Hook> {
        Some(match text {
            "prerouting" => Hook::Prerouting,
            "input" => Hook::Input,
            "forward" => Hook::Forward,
            "output" => Hook::Output,
            "postrouting" => Hook::Postrouting,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }
}

/// What an nftables base chain does: filter, nat (first packet of a connection only) or
/// route (output packets re-routed after a change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainKind {
    Filter,
    Nat,
    Route,
}

/// Where an nftables base chain hooks in. iptables' built-in chains have none: their
/// hook and priority follow from the table and chain name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaseHook {
    pub hook: Hook,
    /// Lower runs first; iptables' tables sit at raw -300, mangle -150, nat DNAT -100,
    /// filter 0, security 50 and nat SNAT 100.
    pub priority: i32,
    pub kind: ChainKind,
}

/// A table (`*filter` … `COMMIT`).
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub name: String,
    pub chains: Vec<Chain>,
    pub origin: Origin,
}

impl Table {
    /// The chain called `name`.
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
}

/// A chain policy. Only built-in chains have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Policy {
    Accept,
    Drop,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Accept => "ACCEPT",
            Policy::Drop => "DROP",
        })
    }
}

/// Packet and byte counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

/// A chain: built in (with a policy) or user-defined (`policy: None`).
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    pub name: String,
    pub policy: Option<Policy>,
    /// An nftables base chain's hook; `None` for iptables chains and nft regular chains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseHook>,
    pub counters: Option<Counters>,
    pub rules: Vec<Rule>,
    /// The `:NAME POLICY [p:b]` line.
    pub origin: Origin,
}

/// One `-A CHAIN …` line.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// All conditions must hold for the rule to match.
    pub conditions: Vec<Condition>,
    pub target: Target,
    pub counters: Option<Counters>,
    /// The line as written, without its counters prefix (for nftables, the rule in
    /// `nft` syntax, rebuilt from its JSON).
    pub text: String,
    /// 1-based line in the dump.
    pub line: u32,
    /// The nftables rule handle (`nft -a list ruleset`); `None` for iptables rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u64>,
    pub origin: Origin,
}

/// A test on a packet, maybe negated (`! -s 10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub negated: bool,
    pub test: Test,
}

impl Condition {
    pub fn new(test: Test) -> Condition {
        Condition { negated: false, test }
    }
}

/// An interface name as rules write it; `eth+` is every name starting with `eth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IfacePattern {
    pub name: String,
    pub wildcard: bool,
}

impl IfacePattern {
    /// Parses `eth0` or `br-+`.
    pub fn parse(text: &str) -> IfacePattern {
        match text.strip_suffix('+') {
            Some(prefix) => IfacePattern { name: prefix.to_string(), wildcard: true },
            None => IfacePattern { name: text.to_string(), wildcard: false },
        }
    }

    /// Whether an interface called `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        if self.wildcard {
            name.starts_with(&self.name)
        } else {
            name == self.name
        }
    }
}

impl fmt::Display for IfacePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name, if self.wildcard { "+" } else { "" })
    }
}

/// A protocol as `-p` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpProto {
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmpv6,
    /// Any other protocol, by number.
    Number(u8),
}

impl IpProto {
    /// Parses a name or number; `all`/`0` is `None` (every protocol).
    pub fn parse(text: &str) -> Result<Option<IpProto>, String> {
        let proto = match text.to_ascii_lowercase().as_str() {
            "all" | "0" => return Ok(None),
            "tcp" | "6" => IpProto::Tcp,
            "udp" | "17" => IpProto::Udp,
            "sctp" | "132" => IpProto::Sctp,
            "icmp" | "1" => IpProto::Icmp,
            "icmpv6" | "ipv6-icmp" | "icmp6" | "58" => IpProto::Icmpv6,
            "esp" => IpProto::Number(50),
            "ah" => IpProto::Number(51),
            "gre" => IpProto::Number(47),
            // As /etc/protocols names them (and iptables-save and nft print them): IP-in-IP
            // as Linux's ipip devices and Calico send it is `ipencap`, 4; `ipip` is 94.
            "ipencap" | "ip-encap" => IpProto::Number(4),
            "ipip" => IpProto::Number(94),
            "igmp" => IpProto::Number(2),
            "vrrp" => IpProto::Number(112),
            "udplite" => IpProto::Number(136),
            "dccp" => IpProto::Number(33),
            other => match other.parse::<u8>() {
                Ok(n) => IpProto::Number(n),
                Err(_) => return Err(format!("unknown protocol `{text}`")),
            },
        };
        Ok(Some(proto))
    }
}

impl fmt::Display for IpProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProto::Tcp => f.write_str("tcp"),
            IpProto::Udp => f.write_str("udp"),
            IpProto::Sctp => f.write_str("sctp"),
            IpProto::Icmp => f.write_str("icmp"),
            IpProto::Icmpv6 => f.write_str("icmpv6"),
            IpProto::Number(n) => write!(f, "{n}"),
        }
    }
}

/// A connection tracking state (`-m conntrack --ctstate`, `-m state --state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtState {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
    /// The connection's destination was rewritten (a published port).
    Dnat,
    /// The connection's source was rewritten.
    Snat,
}

impl CtState {
    pub fn parse(text: &str) -> Option<CtState> {
        Some(match text.to_ascii_uppercase().as_str() {
            "NEW" => CtState::New,
            "ESTABLISHED" => CtState::Established,
            "RELATED" => CtState::Related,
            "INVALID" => CtState::Invalid,
            "UNTRACKED" => CtState::Untracked,
            "DNAT" => CtState::Dnat,
            "SNAT" => CtState::Snat,
            _ => return None,
        })
    }
}

/// An address type (`-m addrtype`), as the routing table classifies an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AddrKind {
    Local,
    Unicast,
    Broadcast,
    Multicast,
    Anycast,
    Blackhole,
    Unreachable,
    Prohibit,
    Unspec,
    Throw,
    Nat,
    Xresolve,
}

impl AddrKind {
    pub fn parse(text: &str) -> Option<AddrKind> {
        Some(match text.to_ascii_uppercase().as_str() {
            "LOCAL" => AddrKind::Local,
            "UNICAST" => AddrKind::Unicast,
            "BROADCAST" => AddrKind::Broadcast,
            "MULTICAST" => AddrKind::Multicast,
            "ANYCAST" => AddrKind::Anycast,
            "BLACKHOLE" => AddrKind::Blackhole,
            "UNREACHABLE" => AddrKind::Unreachable,
            "PROHIBIT" => AddrKind::Prohibit,
            "UNSPEC" => AddrKind::Unspec,
            "THROW" => AddrKind::Throw,
            "NAT" => AddrKind::Nat,
            "XRESOLVE" => AddrKind::Xresolve,
            _ => return None,
        })
    }
}

/// What a condition tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "test", content = "value")]
pub enum Test {
    /// `-s`.
    Source(IpNet),
    /// `-d`.
    Destination(IpNet),
    /// `-i`.
    InIface(IfacePattern),
    /// `-o`.
    OutIface(IfacePattern),
    /// `-p`.
    Protocol(IpProto),
    /// `-f`: a non-first fragment.
    Fragment,
    /// `--dport` (tcp/udp/sctp) or `-m multiport --dports`.
    DestPorts(Vec<PortRange>),
    /// `--sport` or `-m multiport --sports`.
    SourcePorts(Vec<PortRange>),
    /// `-m multiport --ports`: either port.
    AnyPorts(Vec<PortRange>),
    /// `-m conntrack --ctstate` or `-m state --state`: any of these.
    CtState(Vec<CtState>),
    /// `-m conntrack --ctorigdst`: the destination before DNAT.
    CtOrigDst(IpNet),
    /// `-m conntrack --ctorigdstport`.
    CtOrigDstPort(PortRange),
    /// `-m addrtype --src-type`/`--dst-type`: any of these types.
    AddrType { destination: bool, kinds: Vec<AddrKind> },
    /// `-m mark --mark value[/mask]`.
    Mark { value: u32, mask: u32 },
    /// `-m comment`: always true, kept for explanations.
    Comment(String),
    /// Any of these (an nftables anonymous set: `ip saddr { 10.0.0.0/8, 192.168.0.0/16 }`).
    AnyOf(Vec<Test>),
    /// A match netdoctor cannot decide (ipset, string, recent, an unknown module or
    /// option): a trace that reaches it says so instead of guessing.
    Undecidable { module: String, text: String },
}

/// Where `DNAT`/`SNAT`/`REDIRECT` send a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatTo {
    pub address: Option<std::net::IpAddr>,
    pub ports: Option<PortRange>,
}

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "target", content = "detail")]
pub enum Target {
    /// No `-j`: the rule only counts.
    None,
    Accept,
    Drop,
    /// `REJECT`, with its `--reject-with` answer.
    Reject(Option<String>),
    Return,
    /// `-j CHAIN`.
    Jump(String),
    /// `-g CHAIN`: no return to the calling chain.
    Goto(String),
    Dnat(NatTo),
    Snat(NatTo),
    Masquerade,
    /// `REDIRECT --to-ports`: DNAT to the host itself.
    Redirect(Option<PortRange>),
    /// `MARK --set-xmark value/mask` (and `--set-mark`, `--or-mark`, `--and-mark`).
    SetMark {
        value: u32,
        mask: u32,
    },
    /// A target that changes nothing the trace looks at and continues (LOG, CT, TCPMSS, …).
    Continue(String),
    /// A target whose effect cannot be known (QUEUE, NFQUEUE, an unknown extension).
    Opaque(String),
}

impl Target {
    /// Whether the target ends the packet's journey (ACCEPT within its table, DROP, REJECT).
    pub fn is_drop(&self) -> bool {
        matches!(self, Target::Drop | Target::Reject(_))
    }
}

#[cfg(test)]
mod tests {
    use super::IpProto;

    /// The names iptables-save and nft print, from Debian's /etc/protocols.
    #[test]
    fn protocol_names_follow_etc_protocols() {
        for (name, number) in [("ipencap", 4), ("ipip", 94), ("esp", 50), ("gre", 47), ("4", 4)] {
            assert_eq!(IpProto::parse(name), Ok(Some(IpProto::Number(number))), "{name}");
        }
        assert_eq!(IpProto::parse("tcp"), Ok(Some(IpProto::Tcp)));
        assert_eq!(IpProto::parse("all"), Ok(None));
        assert!(IpProto::parse("bogus").is_err());
    }
}

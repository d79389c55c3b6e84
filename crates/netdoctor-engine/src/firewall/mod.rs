//! Packet traces through the host's iptables rule sets. A flow goes through
//! raw/mangle/nat/filter/security in the kernel's order for its path (forwarded, to the
//! host, from the host), following jumps, gotos, returns, chain policies, DNAT and marks.
//! Where a match cannot be decided (an ipset, a rate limit, an interface that may or may
//! not be the one named), the trace follows both outcomes; if they end differently the
//! verdict is `Unknown` and names the rule, never a guess. A verdict names the exact rule
//! (table, chain, position, line) or policy that decided it.
//!
//! The hook order follows the netfilter priorities: raw (-300), conntrack, mangle (-150),
//! nat DNAT (-100), filter (0), security (50), nat SNAT (100); nat chains only see the
//! first packet of a connection.
//! See <https://wiki.nftables.org/wiki-nftables/index.php/Netfilter_hooks>.

mod flow;
mod matcher;
pub mod owner;
mod route;
mod trace;

pub use flow::{Endpoint, Flow, IfaceName, Original, PathKind, EPHEMERAL_PORTS};
pub use matcher::within;
pub use owner::{ChainOwner, DOCKER_CHAINS, DOCKER_USER};
pub use route::{PolicyChoice, RouteLookup, RouteQuery, Router};
pub use trace::Firewall;

use netdoctor_model::host::{Backend, Policy, Route};
use netdoctor_model::Origin;
use std::fmt;

/// A three-valued truth: a condition can hold for some packets of a flow and not others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    #[allow(clippy::should_implement_trait)] // three-valued, not `std::ops::Not` on bool
    pub fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
        }
    }

    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Maybe,
        }
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

/// A rule, located: which rule set, table, chain, position and source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub backend: Backend,
    pub table: String,
    pub chain: String,
    /// 1-based position in its chain (what `iptables -L --line-numbers` shows).
    pub position: usize,
    /// 1-based line in the dump.
    pub line: u32,
    /// The nftables rule handle, for native nftables rules.
    pub handle: Option<u64>,
    pub text: String,
    pub origin: Origin,
    /// The chains being walked when the rule matched, from the built-in chain to the
    /// rule's own (what a jump returns through).
    pub stack: Vec<String>,
    /// Every chain the packet entered at this hook up to the rule, in order, including
    /// those it already returned from.
    pub entered: Vec<String>,
}

impl RuleRef {
    /// Whether the rule sits in DOCKER-USER or a chain DOCKER-USER called.
    pub fn in_docker_user(&self) -> bool {
        self.stack.iter().any(|c| ChainOwner::of(c) == ChainOwner::DockerUser)
    }

    /// Whether the rule sits in a chain Docker writes (or one such chain called).
    pub fn in_docker_chain(&self) -> bool {
        self.stack.iter().any(|c| ChainOwner::of(c) == ChainOwner::Docker)
    }

    /// Whether the packet had been through any of Docker's own chains before this rule.
    pub fn after_docker(&self) -> bool {
        self.entered.iter().any(|c| ChainOwner::of(c) == ChainOwner::Docker)
    }

    /// A key that tells rules apart (the same rule reached along two paths compares equal).
    pub fn key(&self) -> (Backend, &str, &str, usize, u32, Option<u64>) {
        (self.backend, &self.table, &self.chain, self.position, self.line, self.handle)
    }
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.handle {
            // nftables: `nft -a list ruleset` shows handles, and `nft delete rule` takes one.
            Some(handle) => write!(f, "nftables {} chain {} rule handle {handle} (`{}`)", self.table, self.chain, self.text),
            None => write!(f, "{} {} rule {} (line {}: `{}`)", self.table, self.chain, self.position, self.line, self.text),
        }
    }
}

/// A built-in chain's policy, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRef {
    pub backend: Backend,
    pub table: String,
    pub chain: String,
    pub policy: Policy,
    pub origin: Origin,
    /// The chains the packet went through at this hook before falling off the end.
    pub entered: Vec<String>,
    /// Whether the chain is where forwarded packets are filtered (iptables' filter FORWARD,
    /// an nftables filter chain on the forward hook).
    pub forward_filter: bool,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.backend == Backend::Nftables {
            write!(f, "the {} policy of nftables {} chain {}", self.policy.to_string().to_lowercase(), self.table, self.chain)
        } else {
            write!(f, "the {} policy of {} {}", self.policy, self.table, self.chain)
        }
    }
}

/// What a flow's fate comes down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    Accept,
    Drop,
    Reject,
    /// It depends on something the trace cannot know.
    Unknown,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Accept => "accepted",
            VerdictKind::Drop => "dropped",
            VerdictKind::Reject => "rejected",
            VerdictKind::Unknown => "unknown",
        }
    }

    /// Dropped or rejected.
    pub fn is_blocked(self) -> bool {
        matches!(self, VerdictKind::Drop | VerdictKind::Reject)
    }
}

/// What decided a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decider {
    Rule(RuleRef),
    Policy(PolicyRef),
    /// A sysctl turned the path off (`net.ipv4.ip_forward = 0`).
    Sysctl {
        name: &'static str,
        origin: Origin,
    },
    /// A `blackhole`/`unreachable`/`prohibit` route.
    Route(Route),
    /// No route leads to the destination.
    NoRoute,
    /// Switched by a bridge with `bridge-nf-call-iptables` off (or `br_netfilter` not
    /// loaded): iptables never sees it.
    Bridged,
    /// A rule whose match or target cannot be decided, and on which the outcome depends.
    Undecidable {
        rule: RuleRef,
        reason: String,
    },
    /// No rule set of the flow's family was read.
    NoRuleSet,
    /// Too many undecidable matches to follow every combination.
    TooComplex,
    /// Something other than a rule the trace cannot tell (whether a range of addresses is
    /// the host's own).
    Ambiguous(String),
}

impl Decider {
    /// Whether two deciders are the same rule, policy or reason.
    pub fn same_as(&self, other: &Decider) -> bool {
        match (self, other) {
            (Decider::Rule(a), Decider::Rule(b)) => a.key() == b.key(),
            (Decider::Policy(a), Decider::Policy(b)) => (a.backend, &a.table, &a.chain) == (b.backend, &b.table, &b.chain),
            (Decider::Undecidable { rule: a, .. }, Decider::Undecidable { rule: b, .. }) => a.key() == b.key(),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Decider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decider::Rule(r) => r.fmt(f),
            Decider::Policy(p) => p.fmt(f),
            Decider::Sysctl { name, .. } => write!(f, "`{name} = 0`"),
            Decider::Route(r) => write!(f, "the {} route to {}", r.kind, r.destination),
            Decider::NoRoute => f.write_str("no route to the destination"),
            Decider::Bridged => f.write_str("a bridge that does not pass its traffic to iptables (bridge-nf-call-iptables off)"),
            Decider::Undecidable { rule, reason } => write!(f, "{rule}, which netdoctor cannot decide ({reason})"),
            Decider::NoRuleSet => f.write_str("nothing: no iptables rule set of this address family was read"),
            Decider::TooComplex => f.write_str("too many undecidable matches to follow"),
            Decider::Ambiguous(reason) => f.write_str(reason),
        }
    }
}

/// The outcome of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// `None` when every possible path ends the same way but through different rules.
    pub decided_by: Option<Decider>,
}

/// One step of a trace: a rule that matched, or a policy that applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub table: String,
    pub chain: String,
    /// 1-based position of the rule; `None` for the chain policy.
    pub position: Option<usize>,
    /// The nftables rule handle, for native nftables rules.
    pub handle: Option<u64>,
    /// The rule's text, or `policy ACCEPT`.
    pub text: String,
    pub origin: Origin,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.position, self.handle) {
            (_, Some(h)) => write!(f, "{} {} handle {h}: {}", self.table, self.chain, self.text),
            (Some(p), None) => write!(f, "{} {} #{p}: {}", self.table, self.chain, self.text),
            (None, None) => write!(f, "{} {}: {}", self.table, self.chain, self.text),
        }
    }
}

/// A traced flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub verdict: Verdict,
    /// The path the packet took (of the first branch followed).
    pub path: Option<PathKind>,
    /// The rules that matched on the first branch followed, in order.
    pub steps: Vec<Step>,
    /// Rules whose match could not be decided and made the trace follow both outcomes.
    pub undecidable: Vec<RuleRef>,
    /// The flow as it left the last hook (after DNAT), on the first branch followed.
    pub flow: Flow,
    /// How many outcomes were followed.
    pub branches: usize,
}

impl Trace {
    /// The rule that dropped or rejected the flow, if one rule did.
    pub fn blocking_rule(&self) -> Option<&RuleRef> {
        match (&self.verdict.decided_by, self.verdict.kind.is_blocked()) {
            (Some(Decider::Rule(r)), true) => Some(r),
            _ => None,
        }
    }

    /// Whether DNAT rewrote the destination on the way.
    pub fn was_dnatted(&self) -> bool {
        self.flow.original.is_some()
    }
}

//! `iptables-save` and `ip6tables-save` output, legacy and nft variants, read with our
//! own grammar. `parse` reads the text faithfully into a raw dump (tables, chain lines,
//! rules as option lists with their columns); `lower` types it into the model's
//! `RuleSet`. Nothing here panics on input: a malformed line becomes a `LoadError` at
//! its line and column, and a rule that could not be understood is kept with an
//! undecidable condition, so a trace through it reports "unknown" rather than skipping
//! it silently.

mod lower;
mod parse;

pub use lower::lower;
pub use parse::{parse, tokenize, RawChain, RawDump, RawOpt, RawRule, RawTable, Token};

use super::capture::InputSource;
use crate::error::LoadError;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use netdoctor_model::host::{
    AddrKind, Backend, Chain, Condition, Counters, CtState, IfacePattern, IpFamily, IpProto, NatTo, Policy, Rule, RuleSet, Table, Target,
    Test,
};
use netdoctor_model::PortRange;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The tables the kernel knows, with their built-in chains.
const TABLES: &[(&str, &[&str])] = &[
    ("filter", &["INPUT", "FORWARD", "OUTPUT"]),
    ("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]),
    ("mangle", &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]),
    ("raw", &["PREROUTING", "OUTPUT"]),
    ("security", &["INPUT", "FORWARD", "OUTPUT"]),
];

/// Targets that change nothing a trace looks at and let the packet go on.
const CONTINUING_TARGETS: &[&str] = &[
    "LOG",
    "NFLOG",
    "ULOG",
    "CT",
    "NOTRACK",
    "TCPMSS",
    "CHECKSUM",
    "TRACE",
    "CONNMARK",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "CLASSIFY",
    "SET",
    "AUDIT",
    "IDLETIMER",
    "LED",
    "SECMARK",
    "CONNSECMARK",
    "TEE",
    "ECN",
    "RATEEST",
    "SYNPROXY",
    "HMARK",
    "CLUSTERIP",
];

/// Targets whose effect on the verdict cannot be known from the rules alone.
const OPAQUE_TARGETS: &[&str] = &["QUEUE", "NFQUEUE", "TPROXY", "NETMAP"];

#[cfg(test)]
mod tests;

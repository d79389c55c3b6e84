//! `nft -j list ruleset`: native nftables tables lowered into the same rule model as
//! iptables dumps, so the trace engine walks both. `ip`, `ip6` and `inet` tables become
//! rule sets of backend `Nftables` (an `inet` table is in both families' sets); a table is
//! named `<family> <name>` (`inet filter`), base chains carry their hook, priority and
//! type, rules their handle and a text rebuilt in `nft` syntax.
//!
//! Matches netdoctor understands: `ip`/`ip6` `saddr`/`daddr` (addresses, prefixes,
//! ranges, anonymous and resolvable named sets), `iifname`/`oifname`/`iif`/`oif`
//! (with `*` wildcards), `meta l4proto`, `ip protocol`, `meta nfproto`, `th`/`tcp`/`udp`/
//! `sctp` ports (single, ranges, sets, comparisons), `ct state`, `ct status dnat`,
//! `fib daddr type`, `meta mark`; `meta mark set` (before a verdict it becomes a rule of its own,
//! so the mark and the verdict both take effect). Anything else (maps, concatenations, other payloads,
//! `limit`, iptables-nft's `xt` compat matches) becomes an undecidable condition, so a
//! trace that depends on it says so instead of guessing.
//!
//! Every rule is located: its position in the JSON (line and column of the `{"rule": …}`
//! object; `nft -j` prints one line, so mostly the column) and its handle.
//!
//! The dump is read in one pass onto one flat tape of nodes whose strings borrow from the
//! text (see [`Node`]); the position of each element of the `nftables` array comes from
//! where its first key lies in the text. Anything unusual about the layout (other keys beside `nftables`, a syntax error,
//! very deep nesting) goes through `serde_json::Value` instead, so errors read as serde_json
//! reports them and the result is the same either way.

mod lower;
mod read;
mod render;

use super::capture::InputSource;
use crate::error::LoadError;
use ipnet::IpNet;
use netdoctor_model::host::{
    AddrKind, Backend, BaseHook, Chain, ChainKind, Condition, CtState, Hook, IfacePattern, IpFamily, IpProto, NatTo, NftTable, Policy,
    Rule, RuleSet, Table, Target, Test,
};
use netdoctor_model::PortRange;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;

use lower::*;
use read::*;
use render::*;

/// What `nft -j list ruleset` holds, lowered.
#[derive(Debug, Clone, Default)]
pub struct NftRuleset {
    /// Every table, of every family.
    pub tables: Vec<NftTable>,
    /// The `ip`/`ip6`/`inet` tables as rule sets, one per address family (only families
    /// that have a table).
    pub rulesets: Vec<RuleSet>,
}

/// A position in the text.
#[derive(Debug, Clone, Copy, Default)]
struct Pos {
    line: u32,
    column: u32,
}

/// Parses and lowers a ruleset dump; problems go to `errors`, what could be read stays.
pub fn parse(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> NftRuleset {
    let mut tape = Vec::new();
    if let Some((roots, positions)) = read_plain(text, &mut tape) {
        let items: Vec<J<'_>> = roots.into_iter().map(|at| J { tape: &tape, at }).collect();
        return lower(&items, &positions, source, errors);
    }
    // Not the plain layout (or not JSON): `Value` reports errors and reads any other layout.
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let line = u32::try_from(e.line()).unwrap_or(0);
            let column = u32::try_from(e.column()).unwrap_or(0);
            errors.push(source.error(line, column, format!("not `nft -j list ruleset` output: {e}")));
            return NftRuleset::default();
        }
    };
    let Some(items) = root.get("nftables").and_then(Value::as_array) else {
        errors.push(source.error(1, 1, "expected a JSON object `{\"nftables\": [...]}` as `nft -j list ruleset` prints it"));
        return NftRuleset::default();
    };
    let mut tape = Vec::new();
    let roots: Vec<usize> = items
        .iter()
        .map(|v| {
            let at = tape.len();
            push_value(&mut tape, v);
            at
        })
        .collect();
    let items: Vec<J<'_>> = roots.into_iter().map(|at| J { tape: &tape, at }).collect();
    lower(&items, &element_positions(text), source, errors)
}

#[cfg(test)]
mod tests;

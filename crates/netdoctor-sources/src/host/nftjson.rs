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

/// The dump as `nft` prints it, `{"nftables": [...]}` and nothing else, read onto `tape` in
/// one pass: where each element starts on the tape, and its position in the text. `None`
/// for anything else, which the caller reads through `Value`: an error then carries
/// serde_json's own message and position.
fn read_plain<'a>(text: &'a str, tape: &mut Vec<Node<'a>>) -> Option<(Vec<usize>, Vec<Pos>)> {
    tape.reserve(text.len() / 16);
    let mut de = serde_json::Deserializer::from_str(text);
    let roots = de::Deserializer::deserialize_map(&mut de, PlainRoot { tape: &mut *tape }).ok()?;
    de.end().ok()?;
    let positions = match key_positions(text, tape, &roots) {
        Some(p) => p,
        None => element_positions(text),
    };
    Some((roots, positions))
}

/// The root object when its one key is `nftables` and its value an array: its elements
/// onto the tape. Any other shape is an error here (and read through `Value`).
struct PlainRoot<'x, 'de> {
    tape: &'x mut Vec<Node<'de>>,
}

impl<'de> Visitor<'de> for PlainRoot<'_, 'de> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{\"nftables\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key_seed(KeySeed)?.as_deref() != Some("nftables") {
            return Err(de::Error::custom("not the plain layout"));
        }
        let roots = map.next_value_seed(Elements { tape: self.tape })?;
        if map.next_key_seed(KeySeed)?.is_some() {
            return Err(de::Error::custom("not the plain layout"));
        }
        Ok(roots)
    }
}

/// The `nftables` array: each element onto the tape, where it starts there.
struct Elements<'x, 'de> {
    tape: &'x mut Vec<Node<'de>>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_, 'de> {
    type Value = Vec<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Vec<usize>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_, 'de> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<usize>, A::Error> {
        let mut roots = Vec::new();
        loop {
            let at = self.tape.len();
            if seq.next_element_seed(TapeSeed { tape: &mut *self.tape, depth: 0 })?.is_none() {
                return Ok(roots);
            }
            roots.push(at);
        }
    }
}

/// Line and column of each element, found from its first key: the key's text lies in
/// `text`, and the element's `{` is the last character before the key's quote that is not
/// whitespace. Lines are counted by `\n` and columns in characters, as
/// [`element_positions`] counts them. `None` when an element is not an object starting with
/// a key read straight from the text (one with escapes): the caller scans the text instead.
fn key_positions(text: &str, tape: &[Node<'_>], roots: &[usize]) -> Option<Vec<Pos>> {
    let base = text.as_ptr() as usize;
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(roots.len());
    let (mut at, mut line, mut column) = (0usize, 1usize, 0usize);
    for &root in roots {
        let (Some(Node::Object { .. }), Some(Node::Key(Cow::Borrowed(key)))) = (tape.get(root), tape.get(root + 1)) else {
            return None;
        };
        let quote = (key.as_ptr() as usize).checked_sub(base)?.checked_sub(1)?;
        if bytes.get(quote) != Some(&b'"') {
            return None;
        }
        let offset = bytes.get(..quote)?.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
        if bytes.get(offset) != Some(&b'{') || offset < at {
            return None;
        }
        let between = text.get(at..offset)?;
        if !between.as_bytes().contains(&b'\n') {
            column += between.chars().count();
        } else {
            line += between.bytes().filter(|&b| b == b'\n').count();
            column = between.rsplit('\n').next().unwrap_or_default().chars().count();
        }
        at = offset;
        out.push(Pos { line: u32::try_from(line).ok()?, column: u32::try_from(column + 1).ok()? });
    }
    Some(out)
}

/// One node of the JSON tape: the dump's values in document order, strings borrowed from
/// the text where they have no escapes. An array's or object's nodes follow it, up to its
/// `end`; an object's are each entry's key, then the value's nodes. One vector holds the
/// whole dump, instead of an allocation per object, array, key and string as in `Value`.
#[derive(Debug)]
enum Node<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Key(Cow<'a, str>),
    Array { end: usize },
    Object { end: usize },
}

/// A value on the tape. Read like a `Value`: a repeated key reads as its last value, and
/// [`J::first_entry`] is the smallest key, as in `Value`'s sorted map.
#[derive(Debug, Clone, Copy)]
struct J<'t> {
    tape: &'t [Node<'t>],
    at: usize,
}

/// An array on the tape.
#[derive(Debug, Clone, Copy)]
struct Arr<'t> {
    tape: &'t [Node<'t>],
    start: usize,
    end: usize,
}

impl<'t> Arr<'t> {
    const EMPTY: Arr<'static> = Arr { tape: &[], start: 0, end: 0 };

    fn iter(self) -> impl Iterator<Item = J<'t>> {
        let mut at = self.start;
        std::iter::from_fn(move || {
            (at < self.end).then(|| {
                let item = J { tape: self.tape, at };
                at = item.end();
                item
            })
        })
    }

    fn first(self) -> Option<J<'t>> {
        self.iter().next()
    }

    fn get(self, i: usize) -> Option<J<'t>> {
        self.iter().nth(i)
    }
}

fn push_value<'a>(tape: &mut Vec<Node<'a>>, v: &'a Value) {
    match v {
        Value::Null => tape.push(Node::Null),
        Value::Bool(b) => tape.push(Node::Bool(*b)),
        Value::Number(n) => tape.push(Node::Number(n.clone())),
        Value::String(s) => tape.push(Node::String(Cow::Borrowed(s))),
        Value::Array(a) => {
            let at = tape.len();
            tape.push(Node::Array { end: 0 });
            for v in a {
                push_value(tape, v);
            }
            close(tape, at);
        }
        Value::Object(o) => {
            let at = tape.len();
            tape.push(Node::Object { end: 0 });
            for (k, v) in o {
                tape.push(Node::Key(Cow::Borrowed(k)));
                push_value(tape, v);
            }
            close(tape, at);
        }
    }
}

/// Sets the end of the array or object opened at `at` to the tape's end.
fn close(tape: &mut [Node<'_>], at: usize) {
    let len = tape.len();
    if let Some(Node::Array { end } | Node::Object { end }) = tape.get_mut(at) {
        *end = len;
    }
}

impl<'t> J<'t> {
    fn node(self) -> Option<&'t Node<'t>> {
        self.tape.get(self.at)
    }

    /// Where the nodes after this value start.
    fn end(self) -> usize {
        match self.node() {
            Some(Node::Array { end } | Node::Object { end }) => *end,
            _ => self.at + 1,
        }
    }

    /// An object's entries in order (none for anything else).
    fn entries(self) -> impl Iterator<Item = (&'t str, J<'t>)> {
        let (mut at, end) = match self.node() {
            Some(Node::Object { end }) => (self.at + 1, *end),
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let key = match self.tape.get(at) {
                Some(Node::Key(k)) => k.as_ref(),
                _ => "",
            };
            let value = J { tape: self.tape, at: at + 1 };
            at = value.end();
            Some((key, value))
        })
    }

    /// As a `Value`, for printing it as JSON.
    fn to_value(self) -> Value {
        match self.node() {
            None | Some(Node::Null | Node::Key(_)) => Value::Null,
            Some(Node::Bool(b)) => Value::Bool(*b),
            Some(Node::Number(n)) => Value::Number(n.clone()),
            Some(Node::String(s)) => Value::String(s.to_string()),
            Some(Node::Array { .. }) => Value::Array(self.as_array().unwrap_or(Arr::EMPTY).iter().map(J::to_value).collect()),
            // Inserted in order: a repeated key keeps its last value.
            Some(Node::Object { .. }) => Value::Object(self.entries().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
        }
    }

    fn get(self, key: &str) -> Option<J<'t>> {
        self.entries().filter(|(k, _)| *k == key).last().map(|(_, v)| v)
    }

    fn contains_key(self, key: &str) -> bool {
        self.entries().any(|(k, _)| k == key)
    }

    fn as_str(self) -> Option<&'t str> {
        match self.node() {
            Some(Node::String(s)) => Some(s),
            _ => None,
        }
    }

    fn is(self, s: &str) -> bool {
        self.as_str() == Some(s)
    }

    fn as_array(self) -> Option<Arr<'t>> {
        match self.node() {
            Some(Node::Array { end }) => Some(Arr { tape: self.tape, start: self.at + 1, end: *end }),
            _ => None,
        }
    }

    fn as_number(self) -> Option<&'t serde_json::Number> {
        match self.node() {
            Some(Node::Number(n)) => Some(n),
            _ => None,
        }
    }

    fn as_u64(self) -> Option<u64> {
        self.as_number().and_then(serde_json::Number::as_u64)
    }

    /// The entry `Value` would iterate first: the smallest key, with its last value.
    fn first_entry(self) -> Option<(&'t str, J<'t>)> {
        let mut first: Option<(&'t str, J<'t>)> = None;
        for (k, v) in self.entries() {
            match first {
                Some((f, _)) if k > f => {}
                _ => first = Some((k, v)),
            }
        }
        first
    }
}

/// Compact JSON, as `Value` prints it.
impl fmt::Display for J<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node() {
            Some(Node::Null) => f.write_str("null"),
            Some(Node::Bool(b)) => write!(f, "{b}"),
            Some(Node::Number(n)) => write!(f, "{n}"),
            _ => write!(f, "{}", self.to_value()),
        }
    }
}

/// Nesting an element may have and still be read onto the tape here: well below
/// serde_json's limit for the whole document (where an element sits two levels down).
/// Deeper elements are read through `Value`, which reports the limit as it always did.
const MAX_DEPTH: u32 = 100;

/// Reads a value onto the tape, at a nesting depth.
struct TapeSeed<'x, 'de> {
    tape: &'x mut Vec<Node<'de>>,
    depth: u32,
}

impl<'de> DeserializeSeed<'de> for TapeSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TapeSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.tape.push(Node::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.tape.push(Node::Number(v.into()));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.tape.push(Node::Number(v.into()));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.tape.push(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Number));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.tape.push(Node::String(Cow::Owned(v.to_string())));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.tape.push(Node::String(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.tape.push(Node::String(Cow::Owned(v)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.tape.push(Node::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.tape.push(Node::Null);
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let at = self.tape.len();
        self.tape.push(Node::Array { end: 0 });
        while seq.next_element_seed(TapeSeed { tape: &mut *self.tape, depth: self.depth + 1 })?.is_some() {}
        close(self.tape, at);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let at = self.tape.len();
        self.tape.push(Node::Object { end: 0 });
        while let Some(key) = map.next_key_seed(KeySeed)? {
            self.tape.push(Node::Key(key));
            map.next_value_seed(TapeSeed { tape: &mut *self.tape, depth: self.depth + 1 })?;
        }
        close(self.tape, at);
        Ok(())
    }
}

/// An object key, borrowed unless it has escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// Lowers the elements of the `nftables` array, located by `positions`.
fn lower<'t>(items: &[J<'t>], positions: &[Pos], source: &InputSource, errors: &mut Vec<LoadError>) -> NftRuleset {
    let pos = |i: usize| positions.get(i).copied().unwrap_or(Pos { line: 1, column: 1 });
    let mut reader = Reader { source, sets: HashMap::new(), tables: Vec::new(), list: Vec::new() };
    // Sets first: rules may name a set declared after them.
    for (i, item) in items.iter().enumerate() {
        if let Some(set) = item.get("set").or_else(|| item.get("map")) {
            reader.set(set, item.get("map").is_some(), pos(i));
        }
    }
    for (i, item) in items.iter().enumerate() {
        let Some((kind, body)) = item.first_entry() else {
            errors.push(source.error(pos(i).line, pos(i).column, "expected an object with one key (`table`, `chain`, `rule`, …)"));
            continue;
        };
        let at = pos(i);
        let result = match kind {
            "table" => reader.table(body, at),
            "chain" => reader.chain(body, at),
            "rule" => reader.rule(body, i, at),
            // Sets were read above; the rest holds nothing a trace uses.
            _ => Ok(()),
        };
        if let Err(message) = result {
            errors.push(source.error(at.line, at.column, message));
        }
    }
    reader.finish(items, errors)
}

/// A named set's elements as written, or why they cannot be used.
type SetElems<'t> = Result<Arr<'t>, String>;

struct RawTable<'t> {
    family: &'t str,
    name: &'t str,
    pos: Pos,
    chains: Vec<RawChain<'t>>,
    /// Chain name → index of the first chain of that name.
    by_name: HashMap<&'t str, usize>,
}

struct RawChain<'t> {
    name: &'t str,
    base: Option<BaseHook>,
    policy: Option<Policy>,
    pos: Pos,
    /// Index into the dump's items, position, handle.
    rules: Vec<(usize, Pos, Option<u64>)>,
}

struct Reader<'s, 't> {
    source: &'s InputSource,
    /// (family, table, name) → elements.
    sets: HashMap<(&'t str, &'t str, &'t str), SetElems<'t>>,
    tables: Vec<RawTable<'t>>,
    list: Vec<NftTable>,
}

fn str_field<'t>(body: J<'t>, key: &str) -> Result<&'t str, String> {
    body.get(key).and_then(J::as_str).ok_or_else(|| format!("missing string field `{key}`"))
}

impl<'t> Reader<'_, 't> {
    fn set(&mut self, body: J<'t>, is_map: bool, _at: Pos) {
        let (Ok(family), Ok(table), Ok(name)) = (str_field(body, "family"), str_field(body, "table"), str_field(body, "name")) else {
            return;
        };
        let elems = if is_map {
            Err(format!("`@{name}` is a map, which netdoctor does not follow"))
        } else if body.get("flags").and_then(J::as_array).is_some_and(|f| f.iter().any(|x| x.is("dynamic"))) {
            Err(format!("set `@{name}` is filled at run time (dynamic)"))
        } else {
            match body.get("elem").map(J::as_array) {
                None => Ok(Arr::EMPTY),
                Some(Some(e)) => Ok(e),
                Some(None) => Err(format!("set `@{name}` has elements netdoctor cannot read")),
            }
        };
        self.sets.insert((family, table, name), elems);
    }

    fn table(&mut self, body: J<'t>, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        let name = str_field(body, "name")?;
        self.list.push(NftTable { family: family.into(), name: name.into(), origin: self.source.origin(at.line, at.column) });
        if matches!(family, "ip" | "ip6" | "inet") {
            self.tables.push(RawTable { family, name, pos: at, chains: Vec::new(), by_name: HashMap::new() });
        }
        Ok(())
    }

    fn find_table(&mut self, family: &str, table: &str) -> Option<&mut RawTable<'t>> {
        self.tables.iter_mut().find(|t| t.family == family && t.name == table)
    }

    fn chain(&mut self, body: J<'t>, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        if !matches!(family, "ip" | "ip6" | "inet") {
            return Ok(());
        }
        let table = str_field(body, "table")?;
        let name = str_field(body, "name")?;
        let base = match body.get("hook").and_then(J::as_str) {
            None => None,
            Some(hook) => {
                let kind = match body.get("type").and_then(J::as_str).unwrap_or("filter") {
                    "filter" => ChainKind::Filter,
                    "nat" => ChainKind::Nat,
                    "route" => ChainKind::Route,
                    other => return Err(format!("chain `{name}` has unknown type `{other}`")),
                };
                let priority = priority(body.get("prio").as_ref())
                    .ok_or_else(|| format!("chain `{name}` has no priority netdoctor understands (`prio`)"))?;
                // ingress/egress hooks run outside the paths traced: the chain is kept as a regular one.
                Hook::parse(hook).map(|hook| BaseHook { hook, priority, kind })
            }
        };
        let policy = match body.get("policy").and_then(J::as_str) {
            None => base.map(|_| Policy::Accept),
            Some("accept") => Some(Policy::Accept),
            Some("drop") => Some(Policy::Drop),
            Some(other) => return Err(format!("chain `{name}` has unknown policy `{other}` (expected accept or drop)")),
        };
        let t =
            self.find_table(family, table).ok_or_else(|| format!("chain `{name}` names table `{family} {table}`, which is not listed"))?;
        t.by_name.entry(name).or_insert(t.chains.len());
        t.chains.push(RawChain { name, base, policy: base.and(policy), pos: at, rules: Vec::new() });
        Ok(())
    }

    fn rule(&mut self, body: J<'t>, index: usize, at: Pos) -> Result<(), String> {
        let family = str_field(body, "family")?;
        if !matches!(family, "ip" | "ip6" | "inet") {
            return Ok(());
        }
        let table = str_field(body, "table")?;
        let chain = str_field(body, "chain")?;
        let handle = body.get("handle").and_then(J::as_u64);
        let t = self.find_table(family, table).ok_or_else(|| format!("rule names table `{family} {table}`, which is not listed"))?;
        let c = t
            .by_name
            .get(chain)
            .and_then(|&i| t.chains.get_mut(i))
            .ok_or_else(|| format!("rule names chain `{chain}`, which table `{family} {table}` does not list"))?;
        c.rules.push((index, at, handle));
        Ok(())
    }

    fn finish(self, items: &[J<'t>], errors: &mut Vec<LoadError>) -> NftRuleset {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut origin4 = None;
        let mut origin6 = None;
        for t in &self.tables {
            let families: &[IpFamily] = match t.family {
                "ip" => &[IpFamily::V4],
                "ip6" => &[IpFamily::V6],
                _ => &[IpFamily::V4, IpFamily::V6],
            };
            for (family, table) in families.iter().zip(self.lower_table(items, t, families, errors)) {
                let origin = table.origin.clone();
                match family {
                    IpFamily::V4 => {
                        origin4.get_or_insert(origin);
                        v4.push(table)
                    }
                    IpFamily::V6 => {
                        origin6.get_or_insert(origin);
                        v6.push(table)
                    }
                }
            }
        }
        let mut rulesets = Vec::new();
        for (family, tables, origin) in [(IpFamily::V4, v4, origin4), (IpFamily::V6, v6, origin6)] {
            if let Some(origin) = origin {
                rulesets.push(RuleSet { family, backend: Backend::Nftables, tables, origin, legacy_tables_warning: None });
            }
        }
        NftRuleset { tables: self.list, rulesets }
    }

    /// The table once per family. A rule is lowered again for the second family (an
    /// `inet` table's IPv6 copy) only when something in it depends on the family;
    /// problems are reported once.
    fn lower_table(&self, items: &[J<'t>], t: &RawTable<'t>, families: &[IpFamily], errors: &mut Vec<LoadError>) -> Vec<Table> {
        let mut per_family: Vec<Vec<Chain>> = families.iter().map(|_| Vec::new()).collect();
        for c in &t.chains {
            let mut rules: Vec<Vec<Rule>> = families.iter().map(|_| Vec::new()).collect();
            for (index, at, handle) in &c.rules {
                let Some(body) = items.get(*index).and_then(|item| item.get("rule")) else { continue };
                // Lowered for an earlier family and the same for this one.
                let mut shared: Option<Vec<Rule>> = None;
                for (i, family) in families.iter().enumerate() {
                    let more = i + 1 < families.len();
                    let lowered = match shared.take() {
                        Some(lowered) => {
                            if more {
                                shared = Some(lowered.clone());
                            }
                            Some(lowered)
                        }
                        None => {
                            let mut lowering = RuleLowering { reader: self, family: *family, table: t, family_specific: false };
                            match lowering.lower(body) {
                                Ok(lowered) => {
                                    let rule = |conditions: Vec<Condition>, target: Target| Rule {
                                        conditions,
                                        target,
                                        counters: None,
                                        text: lowered.text.clone(),
                                        line: at.line,
                                        handle: *handle,
                                        origin: self.source.origin(at.line, at.column),
                                    };
                                    // `meta mark set … accept`: the mark, then the verdict, as two
                                    // rules of the same handle (the verdict's conditions ran before
                                    // the mark changed, which a mark test in them cannot express).
                                    let rules = match lowered.mark {
                                        Some(mark) => {
                                            let mut after = lowered.conditions.clone();
                                            if after.iter().any(|c| matches!(c.test, Test::Mark { .. })) {
                                                after.push(undecidable(
                                                    "mark",
                                                    "the rule tests the mark it also sets: whether its verdict applies is not decided"
                                                        .into(),
                                                ));
                                            }
                                            vec![rule(lowered.conditions.clone(), mark), rule(after, lowered.target.clone())]
                                        }
                                        None => vec![rule(lowered.conditions.clone(), lowered.target.clone())],
                                    };
                                    if more && !lowering.family_specific {
                                        shared = Some(rules.clone());
                                    }
                                    Some(rules)
                                }
                                Err(message) => {
                                    if i == 0 {
                                        errors.push(self.source.error(at.line, at.column, message));
                                    }
                                    None
                                }
                            }
                        }
                    };
                    if let (Some(lowered), Some(list)) = (lowered, rules.get_mut(i)) {
                        list.extend(lowered);
                    }
                }
            }
            for (chains, rules) in per_family.iter_mut().zip(rules) {
                chains.push(Chain {
                    name: c.name.to_string(),
                    policy: c.policy,
                    base: c.base,
                    counters: None,
                    rules,
                    origin: self.source.origin(c.pos.line, c.pos.column),
                });
            }
        }
        per_family
            .into_iter()
            .map(|chains| Table { name: format!("{} {}", t.family, t.name), chains, origin: self.source.origin(t.pos.line, t.pos.column) })
            .collect()
    }
}

/// What [`priority`] reads of a JSON value, of a `Value` or a [`J`] alike.
enum PrioValue<'v> {
    Number(Option<i64>),
    Text(&'v str),
    Other,
}

trait AsPrio {
    fn as_prio(&self) -> PrioValue<'_>;
}

impl AsPrio for Value {
    fn as_prio(&self) -> PrioValue<'_> {
        match self {
            Value::Number(n) => PrioValue::Number(n.as_i64()),
            Value::String(s) => PrioValue::Text(s),
            _ => PrioValue::Other,
        }
    }
}

impl AsPrio for J<'_> {
    fn as_prio(&self) -> PrioValue<'_> {
        match self.node() {
            Some(Node::Number(n)) => PrioValue::Number(n.as_i64()),
            Some(Node::String(s)) => PrioValue::Text(s),
            _ => PrioValue::Other,
        }
    }
}

/// nft's priority: a number, or one of the standard names.
fn priority<V: AsPrio>(v: Option<&V>) -> Option<i32> {
    match v?.as_prio() {
        PrioValue::Number(n) => n.and_then(|n| i32::try_from(n).ok()),
        PrioValue::Text(s) => {
            let (name, offset) = match s.find(['+', '-']) {
                Some(i) if i > 0 => {
                    let (n, rest) = s.split_at(i);
                    (n.trim(), rest.replace(' ', "").parse::<i32>().ok()?)
                }
                _ => (s.trim(), 0),
            };
            let base = match name {
                "raw" => -300,
                "mangle" => -150,
                "dstnat" => -100,
                "filter" => 0,
                "security" => 50,
                "srcnat" => 100,
                other => other.parse().ok()?,
            };
            Some(base + offset)
        }
        PrioValue::Other => None,
    }
}

/// Lowers one rule for one address family.
struct RuleLowering<'r, 's, 't> {
    reader: &'r Reader<'s, 't>,
    family: IpFamily,
    table: &'r RawTable<'t>,
    /// Set when the rule lowers differently for the other family.
    family_specific: bool,
}

/// A condition that never holds: the rule is for the other address family.
fn never() -> Condition {
    Condition::new(Test::AnyOf(Vec::new()))
}

fn undecidable(module: &str, text: String) -> Condition {
    Condition::new(Test::Undecidable { module: module.into(), text })
}

/// A rule lowered: its conditions, a mark it sets before its verdict (if both), the
/// verdict or action, and its text in `nft` syntax.
struct Lowered {
    conditions: Vec<Condition>,
    mark: Option<Target>,
    target: Target,
    text: String,
}

impl<'t> RuleLowering<'_, '_, 't> {
    fn lower(&mut self, body: J<'t>) -> Result<Lowered, String> {
        let exprs = body.get("expr").and_then(J::as_array).ok_or("rule has no `expr` list")?;
        let mut conditions = Vec::new();
        let mut target: Option<Target> = None;
        // A mark set before the verdict: not a verdict itself, the rule goes on.
        let mut mark: Option<Target> = None;
        // The rule's text: the statements' texts, space-separated (empty ones left out).
        let mut rule_text = String::new();
        for e in exprs.iter() {
            let Some((key, val)) = e.first_entry() else {
                return Err("a rule statement is not an object".into());
            };
            let before = rule_text.len();
            if !rule_text.is_empty() {
                rule_text.push(' ');
            }
            let start = rule_text.len();
            render_stmt(&mut rule_text, key, val);
            if rule_text.len() == start {
                rule_text.truncate(before);
            }
            let text = rule_text.get(start..).unwrap_or_default();
            if target.is_some() && !matches!(key, "counter" | "comment") {
                // A statement after the verdict never runs.
                continue;
            }
            match key {
                "match" => conditions.extend(self.matching(val, text)?),
                "counter" | "log" | "notrack" | "set" | "comment" => {}
                "mangle" => {
                    let is_mark = val.get("key").and_then(|k| k.get("meta")).and_then(|m| m.get("key")).is_some_and(|k| k.is("mark"));
                    match (is_mark, val.get("value").and_then(J::as_u64).and_then(|v| u32::try_from(v).ok())) {
                        (true, Some(value)) => mark = Some(Target::SetMark { value, mask: u32::MAX }),
                        (true, None) => mark = Some(Target::Opaque(format!("`{text}`: a computed mark"))),
                        _ => {}
                    }
                }
                "accept" => target = Some(Target::Accept),
                "drop" => target = Some(Target::Drop),
                "reject" => {
                    let with = val.get("expr").and_then(J::as_str).map(str::to_string);
                    target = Some(Target::Reject(with))
                }
                "return" => target = Some(Target::Return),
                "continue" => target = Some(Target::None),
                "jump" | "goto" => {
                    let name = val.get("target").and_then(J::as_str).ok_or_else(|| format!("`{key}` without a target chain"))?;
                    if !self.table.by_name.contains_key(name) {
                        return Err(format!("`{key} {name}`: table `{} {}` has no chain `{name}`", self.table.family, self.table.name));
                    }
                    target = Some(if key == "jump" { Target::Jump(name.into()) } else { Target::Goto(name.into()) });
                }
                "dnat" | "snat" => {
                    self.family_specific |= val.get("family").is_some();
                    if val.get("family").and_then(J::as_str).is_some_and(|f| (f == "ip") != (self.family == IpFamily::V4)) {
                        conditions.push(never());
                    }
                    let address = val.get("addr").map(|a| scalar_text(a).parse::<IpAddr>());
                    let address = match address {
                        None => None,
                        Some(Ok(a)) => Some(a),
                        Some(Err(_)) => {
                            target = Some(Target::Opaque(format!("{key} to a computed address")));
                            continue;
                        }
                    };
                    let ports = match val.get("port") {
                        None => None,
                        Some(p) => match port_range(p) {
                            Some(r) => Some(r),
                            None => {
                                target = Some(Target::Opaque(format!("{key} to a computed port")));
                                continue;
                            }
                        },
                    };
                    let to = NatTo { address, ports };
                    target = Some(if key == "dnat" { Target::Dnat(to) } else { Target::Snat(to) });
                }
                "masquerade" => target = Some(Target::Masquerade),
                "redirect" => target = Some(Target::Redirect(val.get("port").and_then(port_range))),
                "queue" => target = Some(Target::Opaque("queue".into())),
                "vmap" => target = Some(Target::Opaque("a verdict map (vmap)".into())),
                "xt" => {
                    let kind = val.get("type").and_then(J::as_str).unwrap_or("match");
                    let name = val.get("name").and_then(J::as_str).unwrap_or("unknown");
                    match (kind, name) {
                        ("match", "comment") => {}
                        ("match", _) => conditions.push(undecidable(
                            name,
                            format!(
                                "iptables-nft compat match `{name}`: `nft -j` does not show its options (read iptables-nft-save for them)"
                            ),
                        )),
                        (_, "LOG" | "NFLOG" | "TCPMSS" | "CT" | "CONNMARK" | "TRACE" | "AUDIT" | "CHECKSUM" | "CLASSIFY") => {
                            target = Some(Target::Continue(name.into()))
                        }
                        (_, "MASQUERADE") => target = Some(Target::Masquerade),
                        (_, other) => target = Some(Target::Opaque(format!("iptables-nft compat target {other}"))),
                    }
                }
                "limit" | "quota" | "meter" | "ct count" => conditions.push(undecidable(key, text.to_string())),
                other => conditions.push(undecidable(other, format!("statement `{text}`"))),
            }
        }
        if let Some(comment) = body.get("comment").and_then(J::as_str) {
            rule_text.push_str(" comment \"");
            rule_text.push_str(comment);
            rule_text.push('"');
        }
        let trimmed = rule_text.trim();
        let text = if trimmed.len() == rule_text.len() { rule_text } else { trimmed.to_string() };
        // A mark alone is the rule's action; with a verdict it comes first.
        let (mark, target) = match (mark, target) {
            (Some(mark), None | Some(Target::None)) => (None, mark),
            (mark, target) => (mark, target.unwrap_or(Target::None)),
        };
        Ok(Lowered { conditions, mark, target, text })
    }

    /// One `match` statement: `left op right`.
    fn matching(&mut self, m: J<'t>, text: &str) -> Result<Vec<Condition>, String> {
        let op = m.get("op").and_then(J::as_str).unwrap_or("==");
        let left = m.get("left").ok_or("match without `left`")?;
        let right = m.get("right").ok_or("match without `right`")?;
        let negated = op == "!=";
        let unknown = || Ok(vec![undecidable("nft", format!("match `{text}`"))]);
        let compare = !matches!(op, "==" | "!=" | "in");
        let payload_family = left.get("payload").and_then(|p| p.get("protocol")).is_some_and(|p| p.is("ip") || p.is("ip6"));
        let nfproto = left.get("meta").and_then(|m| m.get("key")).is_some_and(|k| k.is("nfproto"));
        self.family_specific |= payload_family || nfproto;
        // Values of the right side, with named sets resolved.
        let values = match self.values(right) {
            Ok(v) => v,
            Err(reason) => return Ok(vec![undecidable("set", format!("{reason} (in `{text}`)"))]),
        };
        let build = |cond: Result<Option<Vec<Test>>, String>, deps: Vec<Condition>| -> Result<Vec<Condition>, String> {
            match cond? {
                None => unknown(),
                Some(tests) => {
                    let test = match <[Test; 1]>::try_from(tests) {
                        Ok([t]) => t,
                        Err(tests) => Test::AnyOf(tests),
                    };
                    let mut out = deps;
                    out.push(Condition { negated, test });
                    Ok(out)
                }
            }
        };
        if let Some(payload) = left.get("payload") {
            let proto = payload.get("protocol").and_then(J::as_str).unwrap_or("");
            let field = payload.get("field").and_then(J::as_str).unwrap_or("");
            match (proto, field) {
                ("ip" | "ip6", "saddr" | "daddr") => {
                    if (proto == "ip") != (self.family == IpFamily::V4) {
                        return Ok(vec![never()]);
                    }
                    if compare {
                        return unknown();
                    }
                    let source = field == "saddr";
                    return build(
                        values.iter().map(|&v| nets(v, text)).collect::<Result<Vec<_>, _>>().map(|n| {
                            Some(
                                n.into_iter()
                                    .flatten()
                                    .map(|net| if source { Test::Source(net) } else { Test::Destination(net) })
                                    .collect(),
                            )
                        }),
                        Vec::new(),
                    );
                }
                ("ip", "protocol") | ("ip6", "nexthdr") => {
                    if (proto == "ip") != (self.family == IpFamily::V4) {
                        return Ok(vec![never()]);
                    }
                    if compare {
                        return unknown();
                    }
                    return build(protocols(&values), Vec::new());
                }
                ("tcp" | "udp" | "sctp" | "th", "dport" | "sport") => {
                    let deps = match proto {
                        "th" => Vec::new(),
                        p => vec![Condition::new(Test::Protocol(IpProto::parse(p).ok().flatten().ok_or("bad protocol")?))],
                    };
                    let ranges = if compare {
                        compare_range(op, &values)
                    } else {
                        values.iter().map(|&v| port_range(v)).collect::<Option<Vec<_>>>()
                    };
                    let Some(ranges) = ranges else { return unknown() };
                    let test = if field == "dport" { Test::DestPorts(ranges) } else { Test::SourcePorts(ranges) };
                    let mut out = deps;
                    out.push(Condition { negated: negated && !compare, test });
                    return Ok(out);
                }
                _ => return unknown(),
            }
        }
        if compare {
            return unknown();
        }
        if let Some(meta) = left.get("meta") {
            let key = meta.get("key").and_then(J::as_str).unwrap_or("");
            return match key {
                "iifname" | "oifname" | "iif" | "oif" => {
                    let input = key.starts_with('i');
                    build(
                        Ok(values
                            .iter()
                            .map(|v| {
                                let name = v.as_str()?;
                                let pattern = match name.strip_suffix('*') {
                                    Some(prefix) if !prefix.ends_with('\\') => IfacePattern { name: prefix.into(), wildcard: true },
                                    _ => IfacePattern { name: name.replace("\\*", "*"), wildcard: false },
                                };
                                Some(if input { Test::InIface(pattern) } else { Test::OutIface(pattern) })
                            })
                            .collect::<Option<Vec<_>>>()),
                        Vec::new(),
                    )
                }
                "l4proto" => build(protocols(&values), Vec::new()),
                "nfproto" => {
                    let ours = if self.family == IpFamily::V4 { "ipv4" } else { "ipv6" };
                    let hit = values.iter().any(|v| v.is(ours));
                    Ok(if hit != negated { Vec::new() } else { vec![never()] })
                }
                "mark" => build(
                    Ok(values
                        .iter()
                        .map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()).map(|value| Test::Mark { value, mask: u32::MAX }))
                        .collect()),
                    Vec::new(),
                ),
                _ => unknown(),
            };
        }
        if let Some(ct) = left.get("ct") {
            let key = ct.get("key").and_then(J::as_str).unwrap_or("");
            if ct.get("dir").is_some() {
                return unknown();
            }
            return match key {
                "state" => {
                    let states: Option<Vec<CtState>> = flags(&values).iter().map(|s| CtState::parse(s)).collect();
                    // `ct state established,related` lists flags: any of them.
                    build(Ok(states.map(|s| vec![Test::CtState(s)])), Vec::new())
                }
                "status" => {
                    let f = flags(&values);
                    if f.len() == 1 && f.first() == Some(&"dnat") {
                        build(Ok(Some(vec![Test::CtState(vec![CtState::Dnat])])), Vec::new())
                    } else {
                        unknown()
                    }
                }
                _ => unknown(),
            };
        }
        if let Some(fib) = left.get("fib") {
            let result = fib.get("result").and_then(J::as_str).unwrap_or("");
            let f: Vec<&str> = fib.get("flags").and_then(J::as_array).map(|a| a.iter().filter_map(J::as_str).collect()).unwrap_or_default();
            if result != "type" || f.len() != 1 {
                return unknown();
            }
            let destination = f.first() == Some(&"daddr");
            let kinds: Option<Vec<AddrKind>> = flags(&values).iter().map(|k| AddrKind::parse(k)).collect();
            return build(Ok(kinds.map(|kinds| vec![Test::AddrType { destination, kinds }])), Vec::new());
        }
        if let Some(and) = left.get("&").and_then(J::as_array) {
            // `meta mark & 0xff == 0x1`
            let is_mark = and.first().and_then(|l| l.get("meta")).and_then(|m| m.get("key")).is_some_and(|k| k.is("mark"));
            let mask = and.get(1).and_then(J::as_u64).and_then(|m| u32::try_from(m).ok());
            let value = values.first().and_then(|v| v.as_u64()).and_then(|v| u32::try_from(v).ok());
            if let (true, Some(mask), Some(value), 1) = (is_mark, mask, value, values.len()) {
                return build(Ok(Some(vec![Test::Mark { value, mask }])), Vec::new());
            }
        }
        unknown()
    }

    /// The right side as a list of values: a set's elements, or the one value.
    fn values(&self, right: J<'t>) -> Result<Vec<J<'t>>, String> {
        let unwrap = |v: J<'t>| v.get("elem").and_then(|e| e.get("val")).unwrap_or(v);
        let named = right.as_str().filter(|s| s.starts_with('@'));
        if right.contains_key("set") {
            match right.get("set") {
                Some(set) => match set.as_array() {
                    Some(items) => Ok(items.iter().map(unwrap).collect()),
                    None => Ok(vec![unwrap(set)]),
                },
                None => Ok(Vec::new()),
            }
        } else if let Some(s) = named {
            let name = s.trim_start_matches('@');
            match self.reader.sets.get(&(self.table.family, self.table.name, name)) {
                Some(Ok(elems)) => Ok(elems.iter().map(unwrap).collect()),
                Some(Err(reason)) => Err(reason.clone()),
                None => Err(format!("set `{s}` is not in the dump")),
            }
        } else if right.contains_key("concat") || right.contains_key("map") {
            Err("a concatenation or map".into())
        } else {
            Ok(vec![right])
        }
    }
}

/// Flag words of `ct state` and `fib type` values (`["established", "related"]`).
fn flags<'t>(values: &[J<'t>]) -> Vec<&'t str> {
    let mut out = Vec::new();
    for v in values {
        if let Some(s) = v.as_str() {
            out.extend(s.split(',').map(str::trim));
        } else if let Some(a) = v.as_array() {
            out.extend(a.iter().filter_map(J::as_str));
        } else {
            out.push("");
        }
    }
    out
}

fn protocols(values: &[J<'_>]) -> Result<Option<Vec<Test>>, String> {
    let mut out = Vec::new();
    for v in values {
        let text = scalar_text(*v);
        match IpProto::parse(&text) {
            Ok(Some(p)) => out.push(Test::Protocol(p)),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// A string as it is, anything else as JSON.
fn scalar_text(v: J<'_>) -> Cow<'_, str> {
    match v.as_str() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.to_string()),
    }
}

/// A port, a `{"range": [a, b]}`, or a service name nft printed.
fn port_range(v: J<'_>) -> Option<PortRange> {
    let one = |v: J<'_>| -> Option<u16> {
        match v.node()? {
            Node::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Node::String(s) => s.parse().ok().or(match s.as_ref() {
                "ssh" => Some(22),
                "domain" => Some(53),
                "http" => Some(80),
                "https" => Some(443),
                _ => None,
            }),
            _ => None,
        }
    };
    if let Some(r) = v.get("range").and_then(J::as_array) {
        let (a, b) = (one(r.first()?)?, one(r.get(1)?)?);
        return Some(PortRange { start: a.min(b), end: a.max(b) });
    }
    one(v).map(PortRange::single)
}

/// `tcp dport < 1024` as a range.
fn compare_range(op: &str, values: &[J<'_>]) -> Option<Vec<PortRange>> {
    let [v] = values else { return None };
    let p = port_range(*v)?;
    let n = p.start;
    let range = match op {
        "<" => PortRange { start: 0, end: n.checked_sub(1)? },
        "<=" => PortRange { start: 0, end: n },
        ">" => PortRange { start: n.checked_add(1)?, end: u16::MAX },
        ">=" => PortRange { start: n, end: u16::MAX },
        _ => return None,
    };
    Some(vec![range])
}

/// An address, prefix or range as address ranges; an error for what is not an address.
fn nets(v: J<'_>, text: &str) -> Result<Vec<IpNet>, String> {
    let bad = || format!("`{}` is not an address, prefix or range (in `{text}`)", scalar_text(v));
    let addr = |a: Option<J<'_>>| -> Result<IpAddr, String> { a.map(scalar_text).unwrap_or_default().parse().map_err(|_| bad()) };
    if let Some(p) = v.get("prefix") {
        let addr = addr(p.get("addr"))?;
        let len = p.get("len").and_then(J::as_u64).and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?;
        return IpNet::new(addr, len).map(|n| vec![n.trunc()]).map_err(|_| bad());
    }
    if let Some(r) = v.get("range").and_then(J::as_array) {
        let a = addr(r.first())?;
        let b = addr(r.get(1))?;
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Ok(ipnet::Ipv4Subnets::new(a.min(b), a.max(b), 0).map(IpNet::V4).collect()),
            (IpAddr::V6(a), IpAddr::V6(b)) => Ok(ipnet::Ipv6Subnets::new(a.min(b), a.max(b), 0).map(IpNet::V6).collect()),
            _ => Err(bad()),
        };
    }
    let addr: IpAddr = scalar_text(v).parse().map_err(|_| bad())?;
    Ok(vec![IpNet::from(addr)])
}

/// Appends a statement in `nft` syntax, for traces and reports (counters are left out).
fn render_stmt(out: &mut String, key: &str, val: J<'_>) {
    let str_of = |k: &str| val.get(k).and_then(J::as_str);
    match key {
        "match" => {
            let start = out.len();
            if let Some(left) = val.get("left") {
                render_expr(out, left);
            }
            let left = out.get(start..).unwrap_or_default();
            let quote = left.ends_with("ifname") || left.ends_with("iif") || left.ends_with("oif");
            match str_of("op").unwrap_or("==") {
                "==" | "in" => {}
                op => {
                    out.push(' ');
                    out.push_str(op);
                }
            }
            out.push(' ');
            if let Some(right) = val.get("right") {
                render_value(out, right, quote);
            }
        }
        "counter" | "comment" => {}
        "accept" | "drop" | "return" | "continue" | "masquerade" | "notrack" => out.push_str(key),
        "reject" => match str_of("expr") {
            Some(with) => {
                let _ = write!(out, "reject with {} {with}", str_of("type").unwrap_or("icmp"));
            }
            None => out.push_str("reject"),
        },
        "jump" | "goto" => {
            let _ = write!(out, "{key} {}", str_of("target").unwrap_or("?"));
        }
        "dnat" | "snat" => {
            out.push_str(key);
            let addr = val.get("addr");
            let port = val.get("port");
            if addr.is_some() || port.is_some() {
                out.push_str(" to ");
            }
            if let Some(a) = addr {
                render_value(out, a, false);
            }
            if let Some(p) = port {
                out.push(':');
                render_value(out, p, false);
            }
        }
        "redirect" => match val.get("port") {
            Some(p) => {
                out.push_str("redirect to :");
                render_value(out, p, false);
            }
            None => out.push_str("redirect"),
        },
        "log" => match str_of("prefix") {
            Some(p) => {
                let _ = write!(out, "log prefix \"{p}\"");
            }
            None => out.push_str("log"),
        },
        "xt" => {
            let _ = write!(out, "xt {} {}", str_of("type").unwrap_or("match"), str_of("name").unwrap_or("?"));
        }
        "mangle" => {
            if let Some(k) = val.get("key") {
                render_expr(out, k);
            }
            out.push_str(" set ");
            if let Some(v) = val.get("value") {
                render_value(out, v, false);
            }
        }
        other => out.push_str(other),
    }
}

/// Appends an expression (`ip saddr`, `meta mark`, `ct state`, …).
fn render_expr(out: &mut String, v: J<'_>) {
    if let Some(p) = v.get("payload") {
        out.push_str(p.get("protocol").and_then(J::as_str).unwrap_or("?"));
        out.push(' ');
        out.push_str(p.get("field").and_then(J::as_str).unwrap_or("?"));
        return;
    }
    if let Some(m) = v.get("meta") {
        let key = m.get("key").and_then(J::as_str).unwrap_or("?");
        if !matches!(key, "iifname" | "oifname" | "iif" | "oif") {
            out.push_str("meta ");
        }
        out.push_str(key);
        return;
    }
    if let Some(ct) = v.get("ct") {
        out.push_str("ct ");
        if let Some(dir) = ct.get("dir").and_then(J::as_str) {
            out.push_str(dir);
            out.push(' ');
        }
        out.push_str(ct.get("key").and_then(J::as_str).unwrap_or("?"));
        return;
    }
    if let Some(fib) = v.get("fib") {
        out.push_str("fib ");
        for (i, flag) in fib.get("flags").and_then(J::as_array).unwrap_or(Arr::EMPTY).iter().filter_map(J::as_str).enumerate() {
            if i > 0 {
                out.push_str(" . ");
            }
            out.push_str(flag);
        }
        out.push(' ');
        out.push_str(fib.get("result").and_then(J::as_str).unwrap_or("?"));
        return;
    }
    if let Some(and) = v.get("&").and_then(J::as_array) {
        for (i, x) in and.iter().enumerate() {
            if i > 0 {
                out.push_str(" & ");
            }
            render_expr(out, x);
        }
        return;
    }
    render_value(out, v, false);
}

/// Appends a value: a string (quoted for interface names), a list, a prefix, range or set.
fn render_value(out: &mut String, v: J<'_>, quote: bool) {
    let list = |out: &mut String, items: Arr<'_>, sep: &str| {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            render_value(out, x, quote);
        }
    };
    match v.node() {
        Some(Node::String(s)) if quote => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Some(Node::String(s)) => out.push_str(s),
        Some(Node::Array { .. }) => list(out, v.as_array().unwrap_or(Arr::EMPTY), ","),
        Some(Node::Object { .. }) => {
            if let Some(p) = v.get("prefix") {
                if let Some(addr) = p.get("addr") {
                    push_scalar(out, addr);
                }
                out.push('/');
                if let Some(len) = p.get("len") {
                    push_scalar(out, len);
                }
            } else if let Some(r) = v.get("range").and_then(J::as_array) {
                list(out, r, "-");
            } else if let Some(set) = v.get("set") {
                out.push_str("{ ");
                match set.as_array() {
                    Some(a) => list(out, a, ", "),
                    None => render_value(out, set, quote),
                }
                out.push_str(" }");
            } else if let Some(elem) = v.get("elem").and_then(|e| e.get("val")) {
                render_value(out, elem, quote);
            } else if v.contains_key("payload") || v.contains_key("meta") || v.contains_key("ct") {
                render_expr(out, v);
            } else {
                let _ = write!(out, "{v}");
            }
        }
        _ => push_scalar(out, v),
    }
}

/// Appends a string as it is, anything else as JSON (as [`scalar_text`] has it).
fn push_scalar(out: &mut String, v: J<'_>) {
    match v.node() {
        Some(Node::String(s)) => out.push_str(s),
        Some(Node::Number(n)) if n.is_u64() => {
            // Digits without the formatting machinery: ports and lengths are most numbers.
            let mut digits = [0u8; 20];
            let mut at = digits.len();
            let mut rest = n.as_u64().unwrap_or_default();
            loop {
                at -= 1;
                if let Some(d) = digits.get_mut(at) {
                    *d = b'0' + (rest % 10) as u8;
                }
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            out.extend(digits.iter().skip(at).map(|&d| char::from(d)));
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Line and column of each element of the top-level `nftables` array, by scanning the
/// text.
fn element_positions(text: &str) -> Vec<Pos> {
    super::iproute::array_element_positions(text, 2).into_iter().map(|(line, column)| Pos { line, column }).collect()
}

#[cfg(test)]
mod tests;

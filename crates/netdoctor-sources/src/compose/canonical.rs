//! Canonical shapes for the fields Compose lets users write two ways, so that merging and
//! lowering see one form:
//!
//! - `environment`, `labels`, `annotations`, `sysctls`, `build.args`, `build.labels`,
//!   `deploy.labels` and network/volume `labels`: `[KEY=VAL]` becomes `{KEY: VAL}`; a
//!   bare `KEY` becomes `KEY: null` (taken from the environment at run time);
//! - `extra_hosts`: `[host:ip]` / `[host=ip]` becomes `{host: ip}` (a host listed twice
//!   gets a list of addresses);
//! - service `networks`: `[a, b]` becomes `{a: null, b: null}`;
//! - `depends_on`: `[db]` becomes `{db: {condition: service_started, required: true}}`,
//!   the defaults compose-go fills in;
//! - `build: ./dir` becomes `build: {context: ./dir}`;
//! - a service written as null (`web:`) becomes an empty mapping.
//!
//! Nodes made from a list item point at that item; a value split off `KEY=VAL` points at
//! its first character (exact for plain and quoted single-line items).

use super::edit::{self, get_mut};
use crate::error::{LoadError, Result};
use crate::tree::{Entry, Node, Value};
use netdoctor_model::Span;
use std::collections::HashMap;

/// Fields holding `KEY=VALUE` pairs.
const KEY_VALUE_FIELDS: &[&str] = &["environment", "labels", "annotations", "sysctls"];

/// Rewrites every service, network and volume of one parsed file into canonical form.
pub(crate) fn canonicalize(root: &mut Node) -> Result<()> {
    if let Some(services) = get_mut(root, "services") {
        for entry in mapping_entries(services, "`services` must map service names to their definitions")? {
            service(&entry.key, &mut entry.value)?;
        }
    }
    for section in ["networks", "volumes"] {
        let Some(node) = get_mut(root, section) else { continue };
        let message = format!("`{section}` must map names to their definitions");
        for entry in mapping_entries(node, &message)? {
            if let Some(labels) = get_mut(&mut entry.value, "labels") {
                key_values(labels, "labels")?;
            }
        }
    }
    Ok(())
}

/// Rewrites one service definition into canonical form.
pub(crate) fn service(name: &str, node: &mut Node) -> Result<()> {
    if node.is_null() {
        node.value = Value::Map(Vec::new());
    }
    if node.as_map().is_none() {
        let message = format!("service `{name}` must be a mapping, found {}", node.kind_name());
        return Err(LoadError::at(&node.span, message));
    }
    for field in KEY_VALUE_FIELDS {
        if let Some(value) = get_mut(node, field) {
            key_values(value, field)?;
        }
    }
    if let Some(hosts) = get_mut(node, "extra_hosts") {
        extra_hosts(hosts)?;
    }
    if let Some(networks) = get_mut(node, "networks") {
        names_to_map(networks, "networks", |_| None)?;
    }
    if let Some(depends_on) = get_mut(node, "depends_on") {
        names_to_map(depends_on, "depends_on", |span| Some(default_dependency(span)))?;
    }
    if let Some(build) = get_mut(node, "build") {
        build_section(build)?;
    }
    if let Some(labels) = get_mut(node, "deploy").and_then(|deploy| get_mut(deploy, "labels")) {
        key_values(labels, "deploy.labels")?;
    }
    Ok(())
}

/// The entries of a mapping that may also be null (nothing to do).
fn mapping_entries<'a>(node: &'a mut Node, message: &str) -> Result<&'a mut [Entry]> {
    let span = node.span.clone();
    let kind = node.kind_name();
    match &mut node.value {
        Value::Map(entries) => Ok(entries),
        Value::Null => Ok(&mut []),
        _ => Err(LoadError::at(&span, format!("{message}, found {kind}"))),
    }
}

fn build_section(build: &mut Node) -> Result<()> {
    if matches!(build.value, Value::Scalar(_)) {
        let context = std::mem::replace(build, edit::empty_map(build.span.clone()));
        edit::set(build, "context", context.span.clone(), context);
    }
    for field in ["args", "labels"] {
        if let Some(value) = get_mut(build, field) {
            key_values(value, &format!("build.{field}"))?;
        }
    }
    if let Some(hosts) = get_mut(build, "extra_hosts") {
        extra_hosts(hosts)?;
    }
    Ok(())
}

/// `[KEY=VAL, KEY]` into `{KEY: VAL, KEY: null}`; a later duplicate wins, in place.
fn key_values(node: &mut Node, field: &str) -> Result<()> {
    let Value::Seq(items) = &mut node.value else { return Ok(()) };
    let mut entries = Entries::default();
    for item in std::mem::take(items) {
        let text = item_text(&item, field, "`KEY=VALUE` strings")?;
        let (key, value) = match text.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (text, None),
        };
        let value = match value {
            Some(value) => split_value(&item, key, value),
            None => Node::new(Value::Null, item.span.clone()),
        };
        entries.put(key, key_span(&item), value);
    }
    node.value = Value::Map(entries.list);
    Ok(())
}

/// `[host:ip, host=ip]` into `{host: ip}`.
fn extra_hosts(node: &mut Node) -> Result<()> {
    let Value::Seq(items) = &mut node.value else { return Ok(()) };
    let mut entries = Entries::default();
    for item in std::mem::take(items) {
        let text = item_text(&item, "extra_hosts", "`HOST:IP` strings")?;
        // compose-go splits at `=` when there is one, so IPv6 addresses can follow `host=`.
        let Some((host, address)) = text.split_once('=').or_else(|| text.split_once(':')) else {
            let message = format!("`extra_hosts` entry `{text}` has no address; write `{text}:IP`");
            return Err(LoadError::at(&item.span, message));
        };
        let value = split_value(&item, host, address);
        entries.add_address(host, key_span(&item), value);
    }
    node.value = Value::Map(entries.list);
    Ok(())
}

/// `[a, b]` into `{a: …, b: …}` with the value `make` gives (null when `None`).
fn names_to_map(node: &mut Node, field: &str, make: impl Fn(&Span) -> Option<Node>) -> Result<()> {
    let Value::Seq(items) = &mut node.value else { return Ok(()) };
    let mut entries = Entries::default();
    for item in std::mem::take(items) {
        let name = item_text(&item, field, "names")?;
        let value = make(&item.span).unwrap_or_else(|| Node::new(Value::Null, item.span.clone()));
        entries.put(name, key_span(&item), value);
    }
    node.value = Value::Map(entries.list);
    Ok(())
}

fn default_dependency(span: &Span) -> Node {
    let mut node = edit::empty_map(span.clone());
    edit::set(&mut node, "condition", span.clone(), edit::scalar("service_started", false, span.clone()));
    edit::set(&mut node, "required", span.clone(), edit::scalar("true", false, span.clone()));
    node
}

fn item_text<'a>(item: &'a Node, field: &str, expected: &str) -> Result<&'a str> {
    item.as_scalar().ok_or_else(|| {
        let message = format!("`{field}` entries must be {expected}, found {}", item.kind_name());
        LoadError::at(&item.span, message)
    })
}

/// Where the text of a scalar item starts (after its opening quote).
fn key_span(item: &Node) -> Span {
    let mut span = item.span.clone();
    span.column = span.column.saturating_add(u32::from(edit::is_quoted(item)));
    span
}

/// The `value` part of an item `key<sep>value`, located after the separator.
fn split_value(item: &Node, key: &str, value: &str) -> Node {
    let mut span = key_span(item);
    let offset = u32::try_from(key.chars().count() + 1).unwrap_or(u32::MAX);
    span.column = span.column.saturating_add(offset);
    edit::scalar(value, edit::is_quoted(item), span)
}

/// Mapping entries being built from a list, with an index for duplicates.
#[derive(Default)]
struct Entries {
    list: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Entries {
    /// Adds `key`, or replaces the value of an earlier `key` in place.
    fn put(&mut self, key: &str, key_span: Span, value: Node) {
        match self.index.get(key).and_then(|at| self.list.get_mut(*at)) {
            Some(entry) => entry.value = value,
            None => self.push(key, key_span, value),
        }
    }

    /// Adds `key`, or turns an earlier `key`'s value into a list of both.
    fn add_address(&mut self, key: &str, key_span: Span, value: Node) {
        let Some(entry) = self.index.get(key).and_then(|at| self.list.get_mut(*at)) else {
            return self.push(key, key_span, value);
        };
        match &mut entry.value.value {
            Value::Seq(addresses) => addresses.push(value),
            _ => {
                let first = std::mem::replace(&mut entry.value, Node::new(Value::Null, value.span.clone()));
                entry.value = Node::new(Value::Seq(vec![first, value]), entry.key_span.clone());
            }
        }
    }

    fn push(&mut self, key: &str, key_span: Span, value: Node) {
        self.index.insert(key.to_string(), self.list.len());
        self.list.push(Entry { key: key.to_string(), key_span, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn parse(text: &str) -> Node {
        match crate::yaml::parse(text, Arc::from(Path::new("c.yaml"))) {
            Ok(node) => node,
            Err(e) => panic!("{e}"),
        }
    }

    fn canonical(text: &str) -> std::result::Result<String, String> {
        let mut root = parse(text);
        canonicalize(&mut root).map_err(|e| format!("{}:{} {}", e.line, e.column, e.message))?;
        Ok(root.get("services").and_then(|s| s.get("s")).map(Node::to_string).unwrap_or_default())
    }

    #[test]
    fn rewrites_list_forms() {
        let cases = [
            ("environment: [A=1, B, C=x=y, A=2]", "{environment: {A: 2, B: null, C: x=y}}"),
            ("environment: {A: 1, B: }", "{environment: {A: 1, B: null}}"),
            ("labels: [\"a.b=c\"]", "{labels: {a.b: c}}"),
            ("sysctls: [net.core.somaxconn=1024]", "{sysctls: {net.core.somaxconn: 1024}}"),
            ("annotations: [a=b]", "{annotations: {a: b}}"),
            ("extra_hosts: [\"db:10.0.0.1\", \"v6=::1\", \"db:10.0.0.2\"]", "{extra_hosts: {db: [10.0.0.1, 10.0.0.2], v6: ::1}}"),
            ("extra_hosts: {db: 10.0.0.1}", "{extra_hosts: {db: 10.0.0.1}}"),
            ("networks: [front, back]", "{networks: {front: null, back: null}}"),
            ("networks: {front: {aliases: [x]}}", "{networks: {front: {aliases: [x]}}}"),
            ("depends_on: [db]", "{depends_on: {db: {condition: service_started, required: true}}}"),
            ("build: ./dir", "{build: {context: ./dir}}"),
            ("build: {context: ., args: [A=1]}", "{build: {context: ., args: {A: 1}}}"),
            ("deploy: {labels: [a=b]}", "{deploy: {labels: {a: b}}}"),
            ("image: x", "{image: x}"),
        ];
        for (service, want) in cases {
            let text = format!("services:\n  s: {{{service}}}\n");
            assert_eq!(canonical(&text).as_deref(), Ok(want), "{service}");
        }
        assert_eq!(canonical("services:\n  s:\n").as_deref(), Ok("{}"));
        let root = "networks: {n: {labels: [a=b]}}\nvolumes: {v: {labels: [c=d]}, w: }\n";
        let mut node = parse(root);
        assert!(canonicalize(&mut node).is_ok());
        assert_eq!(node.to_string(), "{networks: {n: {labels: {a: b}}}, volumes: {v: {labels: {c: d}}, w: null}}");
    }

    #[test]
    fn rejects_wrong_shapes() {
        let cases = [
            ("services: [a]\n", "1:11 `services` must map service names"),
            ("services:\n  s: 5\n", "2:6 service `s` must be a mapping, found a number"),
            ("services:\n  s:\n    environment: [{a: 1}]\n", "3:19 `environment` entries must be `KEY=VALUE` strings"),
            ("services:\n  s:\n    extra_hosts: [nohost]\n", "3:19 `extra_hosts` entry `nohost` has no address"),
            ("networks: [a]\n", "1:11 `networks` must map names"),
        ];
        for (text, want) in cases {
            let got = canonical(text).err().unwrap_or_default();
            assert!(got.starts_with(want), "{text:?}: {got}");
        }
    }

    #[test]
    fn split_values_point_at_their_text() {
        let mut root = parse("services:\n  s:\n    environment:\n      - A=1\n      - \"BB=2\"\n");
        assert!(canonicalize(&mut root).is_ok());
        let env = root.get("services").and_then(|s| s.get("s")).and_then(|s| s.get("environment"));
        let Some(entries) = env.and_then(Node::as_map) else { panic!("no environment") };
        let at = |s: &Span| (s.line, s.column);
        let spans: Vec<_> = entries.iter().map(|e| (at(&e.key_span), at(&e.value.span))).collect();
        assert_eq!(spans, [((4, 9), (4, 11)), ((5, 10), (5, 13))]);
    }
}

//! The compose-spec merge rules, shared by `-f` overrides and `extends`. They follow
//! compose-go's `override` package: mappings merge key by key; a null override keeps the
//! base; most sequences append, some are unique by a key (ports, volumes by target,
//! secrets by mount path, …) with the later item replacing the earlier one in place;
//! `command`, `entrypoint`, `healthcheck.test` and `x-*` extensions are replaced whole;
//! KEY=VALUE fields (canonical mappings by now, see `canonical`) take each override key,
//! null included. The `!reset` tag drops a value and `!override` replaces it whole.
//! See <https://github.com/compose-spec/compose-spec/blob/main/13-merge.md>.

use super::edit;
use crate::error::{LoadError, Result};
use crate::tree::{Entry, Node, Value};
use crate::yaml::MergeTags;
use netdoctor_model::Span;
use std::collections::hash_map::Entry as Slot;
use std::collections::HashMap;

/// How the base and the override combine at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Mappings merge key by key, sequences append, other values are replaced.
    Deep,
    /// The override replaces the base whole.
    Replace,
    /// A KEY=VALUE mapping: every override key replaces the base's, null included.
    KeyValue,
    /// A sequence whose items are unique by a key.
    Unique(ItemKey),
    /// `logging`: another driver replaces the whole block, the same driver merges options.
    Logging,
    /// Either shape is allowed (`ulimits.nofile: 1024` or `{soft, hard}`); a different
    /// shape replaces.
    Loose,
}

/// What makes two items of a unique sequence the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKey {
    Text,
    Port,
    MountTarget,
    /// Secrets and configs: the target, or the source under this directory.
    MountIn(&'static str),
    Subnet,
    Path,
}

const RULES: &[(&[&str], Rule)] = &[
    (&["services", "*", "command"], Rule::Replace),
    (&["services", "*", "entrypoint"], Rule::Replace),
    (&["services", "*", "healthcheck", "test"], Rule::Replace),
    (&["services", "*", "environment"], Rule::KeyValue),
    (&["services", "*", "labels"], Rule::KeyValue),
    (&["services", "*", "annotations"], Rule::KeyValue),
    (&["services", "*", "sysctls"], Rule::KeyValue),
    (&["services", "*", "extra_hosts"], Rule::KeyValue),
    (&["services", "*", "build", "args"], Rule::KeyValue),
    (&["services", "*", "build", "labels"], Rule::KeyValue),
    (&["services", "*", "build", "extra_hosts"], Rule::KeyValue),
    (&["services", "*", "deploy", "labels"], Rule::KeyValue),
    (&["networks", "*", "labels"], Rule::KeyValue),
    (&["volumes", "*", "labels"], Rule::KeyValue),
    (&["services", "*", "ports"], Rule::Unique(ItemKey::Port)),
    (&["services", "*", "expose"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "dns"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "dns_search"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "dns_opt"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "cap_add"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "cap_drop"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "profiles"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "links"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "tmpfs"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "networks", "*", "aliases"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "networks", "*", "link_local_ips"], Rule::Unique(ItemKey::Text)),
    (&["services", "*", "volumes"], Rule::Unique(ItemKey::MountTarget)),
    (&["services", "*", "devices"], Rule::Unique(ItemKey::MountTarget)),
    (&["services", "*", "secrets"], Rule::Unique(ItemKey::MountIn("/run/secrets"))),
    (&["services", "*", "configs"], Rule::Unique(ItemKey::MountIn(""))),
    (&["services", "*", "env_file"], Rule::Unique(ItemKey::Path)),
    (&["networks", "*", "ipam", "config"], Rule::Unique(ItemKey::Subnet)),
    (&["services", "*", "logging"], Rule::Logging),
    (&["services", "*", "ulimits", "*"], Rule::Loose),
];

/// Merges trees under the rules above, honouring the `!reset` / `!override` tags.
pub(crate) struct Merger<'a> {
    tags: &'a MergeTags,
}

impl<'a> Merger<'a> {
    pub(crate) fn new(tags: &'a MergeTags) -> Self {
        Merger { tags }
    }

    /// Merges a whole compose file onto the files before it.
    pub(crate) fn file(&self, base: Option<Node>, over: Node) -> Result<Node> {
        match base {
            Some(base) => self.merge(base, over, &mut Vec::new()),
            None => Ok(self.clean(over)),
        }
    }

    /// Merges a service onto the one it extends.
    pub(crate) fn service(&self, name: &str, base: Node, over: Node) -> Result<Node> {
        self.merge(base, over, &mut vec!["services".to_string(), name.to_string()])
    }

    fn merge(&self, base: Node, over: Node, path: &mut Vec<String>) -> Result<Node> {
        if self.tags.is_override(&over.span) {
            return Ok(self.clean(over));
        }
        if over.is_null() {
            return Ok(base);
        }
        let Node { value: base_value, span: base_span } = base;
        let Node { value: over_value, span: over_span } = over;
        match (rule_for(path), base_value, over_value) {
            (Rule::KeyValue, Value::Map(base), Value::Map(over)) => self.deep(base, base_span, over, path, Values::Replace),
            (Rule::Unique(key), Value::Seq(base), Value::Seq(over)) => Ok(Node::new(Value::Seq(self.unique(base, over, key)), base_span)),
            (Rule::Logging, Value::Map(base), Value::Map(over)) if !other_driver(&base, &over) => {
                self.deep(base, base_span, over, path, Values::Merge)
            }
            (Rule::Loose, Value::Map(base), Value::Map(over)) => self.deep(base, base_span, over, path, Values::Merge),
            (Rule::Replace | Rule::Logging | Rule::Loose, _, over) => Ok(self.clean(Node::new(over, over_span))),
            (_, Value::Map(base), Value::Map(over)) => self.deep(base, base_span, over, path, Values::Merge),
            (_, Value::Seq(mut items), Value::Seq(more)) => {
                items.extend(self.kept_items(more));
                Ok(Node::new(Value::Seq(items), base_span))
            }
            // Only scalars and nulls may be replaced by another shape; a list over a
            // mapping (or the reverse) is an error, as in compose-go.
            (_, base @ (Value::Map(_) | Value::Seq(_)), over) => {
                Err(mismatch(&Node::new(base, base_span), &Node::new(over, over_span), path))
            }
            (_, _, over) => Ok(self.clean(Node::new(over, over_span))),
        }
    }

    /// Merges mappings key by key: `!reset` keys are removed, new keys appended, and
    /// keys on both sides merged (or replaced, null included, for KeyValue fields).
    fn deep(&self, base: Vec<Entry>, span: Span, over: Vec<Entry>, path: &mut Vec<String>, values: Values) -> Result<Node> {
        let mut slots: Vec<Option<Entry>> = base.into_iter().map(Some).collect();
        let mut index: HashMap<String, usize> =
            slots.iter().enumerate().filter_map(|(at, e)| Some((e.as_ref()?.key.clone(), at))).collect();
        for entry in over {
            let slot = index.get(&entry.key).and_then(|at| slots.get_mut(*at));
            if self.tags.is_reset(&entry.value.span) {
                if let Some(slot) = slot {
                    *slot = None;
                }
                continue;
            }
            // compose-go replaces `x-*` extensions instead of merging them.
            let merge_value = values == Values::Merge && !entry.key.starts_with("x-");
            match slot.and_then(Option::as_mut) {
                Some(existing) if merge_value => {
                    let placeholder = Node::new(Value::Null, existing.value.span.clone());
                    let old = std::mem::replace(&mut existing.value, placeholder);
                    path.push(entry.key.clone());
                    let merged = self.merge(old, entry.value, path);
                    path.pop();
                    existing.value = merged?;
                }
                Some(existing) => existing.value = self.clean(entry.value),
                None => {
                    index.insert(entry.key.clone(), slots.len());
                    slots.push(Some(Entry { value: self.clean(entry.value), ..entry }));
                }
            }
        }
        Ok(Node::new(Value::Map(slots.into_iter().flatten().collect()), span))
    }

    /// Base items then override items; an item with the key of an earlier one replaces
    /// it in place.
    fn unique(&self, base: Vec<Node>, over: Vec<Node>, key: ItemKey) -> Vec<Node> {
        let mut items: Vec<Node> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for item in base.into_iter().chain(self.kept_items(over)) {
            let Some(item_key) = key.of(&item) else {
                items.push(item);
                continue;
            };
            match seen.entry(item_key) {
                Slot::Occupied(at) => {
                    if let Some(slot) = items.get_mut(*at.get()) {
                        *slot = item;
                    }
                }
                Slot::Vacant(at) => {
                    at.insert(items.len());
                    items.push(item);
                }
            }
        }
        items
    }

    /// A value entering the result without a counterpart: `!reset` entries and items
    /// inside it are dropped (they reset nothing, as in compose-go).
    fn clean(&self, node: Node) -> Node {
        let Node { value, span } = node;
        let value = match value {
            Value::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .filter(|e| !self.tags.is_reset(&e.value.span))
                    .map(|e| Entry { value: self.clean(e.value), ..e })
                    .collect(),
            ),
            Value::Seq(items) => Value::Seq(self.kept_items(items).collect()),
            other => other,
        };
        Node::new(value, span)
    }

    fn kept_items(&self, items: Vec<Node>) -> impl Iterator<Item = Node> + '_ {
        items.into_iter().filter(|n| !self.tags.is_reset(&n.span)).map(|n| self.clean(n))
    }
}

/// What happens to a key both mappings have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Values {
    Merge,
    Replace,
}

fn rule_for(path: &[String]) -> Rule {
    let matches = |pattern: &[&str]| pattern.len() == path.len() && pattern.iter().zip(path).all(|(p, key)| *p == "*" || p == key);
    RULES.iter().find(|(pattern, _)| matches(pattern)).map_or(Rule::Deep, |(_, rule)| *rule)
}

fn other_driver(base: &[Entry], over: &[Entry]) -> bool {
    let driver = |entries: &[Entry]| entries.iter().find(|e| e.key == "driver").and_then(|e| e.value.as_scalar().map(str::to_string));
    matches!((driver(base), driver(over)), (Some(a), Some(b)) if a != b)
}

fn mismatch(base: &Node, over: &Node, path: &[String]) -> LoadError {
    let message = format!(
        "cannot merge {} onto {} (from {}) at `{}`; write the same shape in both files",
        over.kind_name(),
        base.kind_name(),
        base.span,
        edit::dotted(path)
    );
    LoadError::at(&over.span, message)
}

impl ItemKey {
    fn of(self, item: &Node) -> Option<String> {
        let field = |name: &str| item.get(name).and_then(Node::as_scalar);
        match (self, item.as_scalar()) {
            (ItemKey::Text | ItemKey::Port | ItemKey::Path, Some(text)) => Some(text.to_string()),
            (ItemKey::MountTarget, Some(spec)) => Some(volume_target(spec)),
            (ItemKey::MountIn(dir), Some(name)) => Some(format!("{dir}/{name}")),
            (ItemKey::Port, None) => Some(format!(
                "{}:{}:{}/{}",
                field("host_ip").unwrap_or(""),
                field("target").unwrap_or(""),
                field("published").unwrap_or(""),
                field("protocol").unwrap_or("")
            )),
            (ItemKey::MountTarget, None) => field("target").map(str::to_string),
            (ItemKey::MountIn(dir), None) => field("target").map(str::to_string).or_else(|| field("source").map(|s| format!("{dir}/{s}"))),
            (ItemKey::Subnet, _) => field("subnet").map(str::to_string),
            (ItemKey::Path, None) => field("path").map(str::to_string),
            (ItemKey::Text, None) => None,
        }
    }
}

/// The container path of a short volume or device spec (`src:dst[:mode]`, or just `dst`).
fn volume_target(spec: &str) -> String {
    let parts: Vec<&str> = spec.split(':').collect();
    let source_parts = if has_windows_source(&parts) { 2 } else { 1 };
    parts.get(source_parts).or(parts.first()).map(|s| s.to_string()).unwrap_or_default()
}

/// Whether the spec starts with a Windows drive (`C:\data:/data`, `C:/data:/data`), whose
/// colon is not a separator. A one-letter volume name (`a:/data:ro`) is not a drive.
fn has_windows_source(parts: &[&str]) -> bool {
    let [drive, path, rest @ ..] = parts else { return false };
    let is_drive = drive.len() == 1 && drive.chars().all(|c| c.is_ascii_alphabetic());
    let target_follows = rest.first().is_some_and(|t| t.starts_with('/'));
    is_drive && (path.starts_with('\\') || (path.starts_with('/') && target_follows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn parse(text: &str, file: &str, tags: &mut MergeTags) -> Node {
        match crate::yaml::parse_with_tags(text, Arc::from(Path::new(file))) {
            Ok((mut node, more)) => {
                tags.extend(more);
                if let Err(e) = super::super::canonical::canonicalize(&mut node) {
                    panic!("{e}");
                }
                node
            }
            Err(e) => panic!("{e}"),
        }
    }

    fn merge(base: &str, over: &str) -> std::result::Result<Node, LoadError> {
        let mut tags = MergeTags::default();
        let base = parse(base, "base.yaml", &mut tags);
        let over = parse(over, "over.yaml", &mut tags);
        let merger = Merger::new(&tags);
        let base = merger.file(None, base)?;
        merger.file(Some(base), over)
    }

    fn service(base: &str, over: &str) -> String {
        let wrap = |s: &str| format!("services:\n  s: {{{s}}}\n");
        match merge(&wrap(base), &wrap(over)) {
            Ok(root) => root.get("services").and_then(|s| s.get("s")).map(Node::to_string).unwrap_or_default(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn merges_services_per_the_spec() {
        let cases = [
            ("image: a, ports: ['80:80']", "image: b", "{image: b, ports: [80:80]}"),
            ("image: a", "image: ", "{image: a}"),
            ("ports: ['80:80', '443:443']", "ports: ['80:80', '8080:80']", "{ports: [80:80, 443:443, 8080:80]}"),
            (
                "ports: [{target: 80, published: 8080}]",
                "ports: [{target: 80, published: 8080, host_ip: 127.0.0.1}]",
                "{ports: [{target: 80, published: 8080}, {target: 80, published: 8080, host_ip: 127.0.0.1}]}",
            ),
            ("expose: [80]", "expose: [80, 81]", "{expose: [80, 81]}"),
            ("dns: [1.1.1.1]", "dns: [8.8.8.8, 1.1.1.1]", "{dns: [1.1.1.1, 8.8.8.8]}"),
            ("volumes: ['a:/data', '/x']", "volumes: ['b:/data:ro']", "{volumes: [b:/data:ro, /x]}"),
            ("volumes: ['a:/data']", "volumes: [{type: volume, source: c, target: /data}]", "{volumes: [{type: volume, source: c, target: /data}]}"),
            ("secrets: [s1]", "secrets: [{source: s1, target: /run/secrets/s1, mode: 0400}, s2]", "{secrets: [{source: s1, target: /run/secrets/s1, mode: 0400}, s2]}"),
            ("environment: [A=1, B=2]", "environment: {B: 3, C: 4}", "{environment: {A: 1, B: 3, C: 4}}"),
            ("environment: {A: 1}", "environment: [A]", "{environment: {A: null}}"),
            ("labels: [a=b]", "labels: [c=d]", "{labels: {a: b, c: d}}"),
            ("extra_hosts: ['db:1.1.1.1', 'x:2.2.2.2']", "extra_hosts: {db: 3.3.3.3}", "{extra_hosts: {db: 3.3.3.3, x: 2.2.2.2}}"),
            ("sysctls: {a: 1}", "sysctls: [a=2]", "{sysctls: {a: 2}}"),
            ("networks: [front]", "networks: {front: {aliases: [w]}, back: }", "{networks: {front: {aliases: [w]}, back: null}}"),
            ("networks: {front: {aliases: [a]}}", "networks: [front]", "{networks: {front: {aliases: [a]}}}"),
            ("networks: {n: {aliases: [a, b]}}", "networks: {n: {aliases: [b, c]}}", "{networks: {n: {aliases: [a, b, c]}}}"),
            ("command: [a, b]", "command: [c]", "{command: [c]}"),
            ("entrypoint: [a]", "entrypoint: b", "{entrypoint: b}"),
            ("healthcheck: {test: [CMD, a], retries: 3}", "healthcheck: {test: [CMD, b]}", "{healthcheck: {test: [CMD, b], retries: 3}}"),
            ("depends_on: [db]", "depends_on: {db: {condition: service_healthy}}", "{depends_on: {db: {condition: service_healthy, required: true}}}"),
            ("depends_on: {db: {condition: service_healthy}}", "depends_on: [cache]", "{depends_on: {db: {condition: service_healthy}, cache: {condition: service_started, required: true}}}"),
            ("build: .", "build: {dockerfile: D}", "{build: {context: ., dockerfile: D}}"),
            ("logging: {driver: json-file, options: {a: 1}}", "logging: {options: {b: 2}}", "{logging: {driver: json-file, options: {a: 1, b: 2}}}"),
            ("logging: {driver: json-file, options: {a: 1}}", "logging: {driver: syslog}", "{logging: {driver: syslog}}"),
            ("ulimits: {nofile: {soft: 1, hard: 2}}", "ulimits: {nofile: 3}", "{ulimits: {nofile: 3}}"),
            ("x-meta: {a: 1}", "x-meta: {b: 2}", "{x-meta: {b: 2}}"),
            ("cap_add: [NET_ADMIN]", "cap_add: [NET_ADMIN, SYS_TIME]", "{cap_add: [NET_ADMIN, SYS_TIME]}"),
            ("unknown: [a]", "unknown: [a]", "{unknown: [a, a]}"),
            ("ports: ['80:80']", "ports: !reset []", "{}"),
            ("ports: ['80:80']", "ports: !override ['81:81']", "{ports: [81:81]}"),
            ("environment: {A: 1, B: 2}", "environment: {A: !reset }", "{environment: {B: 2}}"),
            ("image: a", "command: !reset x", "{image: a}"),
            ("ports: ['80:80']", "ports: {a: b}", "error: over.yaml:2:14: cannot merge a mapping onto a list (from base.yaml:2:14) at `services.s.ports`; write the same shape in both files"),
        ];
        for (base, over, want) in cases {
            assert_eq!(service(base, over), want, "{base} + {over}");
        }
    }

    #[test]
    fn merges_top_level_sections() {
        let base = "networks:\n  front: {driver: bridge, labels: [a=1]}\nvolumes:\n  data:\n";
        let over = "networks:\n  front: {ipam: {config: [{subnet: 10.0.0.0/24}]}, labels: {b: 2}}\n  back: {}\nvolumes:\n  data: {driver: local}\n";
        let merged = merge(base, over).map(|n| n.to_string());
        let want = "{networks: {front: {driver: bridge, labels: {a: 1, b: 2}, ipam: {config: [{subnet: 10.0.0.0/24}]}}, back: {}}, volumes: {data: {driver: local}}}";
        assert_eq!(merged.ok().as_deref(), Some(want));
        let ipam = |s: &str| format!("networks:\n  n: {{ipam: {{config: [{s}]}}}}\n");
        let merged = merge(&ipam("{subnet: a, gateway: g}"), &ipam("{subnet: a}, {subnet: b}")).map(|n| n.to_string());
        assert_eq!(merged.ok().as_deref(), Some("{networks: {n: {ipam: {config: [{subnet: a}, {subnet: b}]}}}}"));
    }

    #[test]
    fn keeps_spans_of_the_file_each_value_came_from() {
        let Ok(root) = merge("services:\n  s:\n    image: a\n    init: true\n", "services:\n  s:\n    image: b\n") else {
            panic!("merge failed")
        };
        let s = root.get("services").and_then(|s| s.get("s"));
        let file = |key: &str| s.and_then(|s| s.get(key)).map(|n| n.span.file.to_string_lossy().into_owned());
        assert_eq!(file("image").as_deref(), Some("over.yaml"));
        assert_eq!(file("init").as_deref(), Some("base.yaml"));
    }

    #[test]
    fn drops_reset_entries_of_a_single_file() {
        let merged = merge("services:\n  s: {image: a, ports: !reset [1]}\n", "services: {}\n").map(|n| n.to_string());
        assert_eq!(merged.ok().as_deref(), Some("{services: {s: {image: a}}}"));
    }

    #[test]
    fn finds_volume_targets() {
        let cases = [
            ("a:/b", "/b"),
            ("/b", "/b"),
            ("a:/b:ro", "/b"),
            ("C:\\data:/data", "/data"),
            ("C:/data:/data:ro", "/data"),
            ("./x:/y:rw", "/y"),
        ];
        for (spec, want) in cases {
            assert_eq!(volume_target(spec), want, "{spec}");
        }
    }
}

//! The peers a pod's own configuration names: hosts in its containers' environment
//! (`value`, `valueFrom.configMapKeyRef`, `envFrom.configMapRef`), `command` and `args`,
//! and in the ConfigMaps it mounts as files. Read leniently: a field of the wrong shape
//! names no peer and is no error (the fields the network model needs are read strictly
//! elsewhere).

use crate::compose::refs::{self, HostRef};
use crate::tree::Node;
use netdoctor_model::{Origin, Reference, ReferenceVia};
use std::collections::HashMap;

/// ConfigMaps by (namespace, name): their `data` mapping.
pub(crate) type ConfigMaps<'a> = HashMap<(String, String), &'a Node>;

/// A ConfigMap's `data` under its namespace and name, for `references`.
pub(crate) fn config_map_entry(node: &Node) -> Option<((String, String), &Node)> {
    let meta = node.get("metadata")?;
    let name = meta.get("name")?.as_scalar()?.to_string();
    let namespace = meta.get("namespace").and_then(Node::as_scalar).unwrap_or("default").to_string();
    Some(((namespace, name), node.get("data")?))
}

/// The peers the pod spec `spec` in `namespace` names in its configuration.
pub(crate) fn references(spec: Option<&Node>, namespace: &str, config_maps: &ConfigMaps<'_>) -> Vec<Reference> {
    let Some(spec) = spec else { return Vec::new() };
    let mut out = Vec::new();
    let at = |node: &Node| Origin::File(node.span.clone());
    let config_map = |name: &str| config_maps.get(&(namespace.to_string(), name.to_string())).copied();
    let push = |out: &mut Vec<Reference>, found: Vec<HostRef>, via: &ReferenceVia, origin: Origin| {
        out.extend(found.into_iter().map(|h| Reference { host: h.host, port: h.port, via: via.clone(), origin: origin.clone() }));
    };
    let containers = ["initContainers", "containers"].into_iter().filter_map(|k| spec.get(k)?.as_seq()).flatten();
    for container in containers {
        for var in container.get("env").and_then(Node::as_seq).unwrap_or_default() {
            let Some(name) = var.get("name").and_then(Node::as_scalar) else { continue };
            if let Some(value) = var.get("value").filter(|v| v.as_scalar().is_some()) {
                push(&mut out, refs::in_env(name, value.as_scalar().unwrap_or_default()), &ReferenceVia::Env(name.to_string()), at(value));
                continue;
            }
            let Some(key_ref) = var.get("valueFrom").and_then(|v| v.get("configMapKeyRef")) else { continue };
            let (Some(map), Some(key)) = (key_ref.get("name").and_then(Node::as_scalar), key_ref.get("key").and_then(Node::as_scalar))
            else {
                continue;
            };
            if let Some(value) = config_map(map).and_then(|data| data.get(key)).filter(|v| v.as_scalar().is_some()) {
                let via = ReferenceVia::ConfigMap { name: map.to_string(), key: key.to_string() };
                push(&mut out, refs::in_env(name, value.as_scalar().unwrap_or_default()), &via, at(value));
            }
        }
        for source in container.get("envFrom").and_then(Node::as_seq).unwrap_or_default() {
            let Some(map) = source.get("configMapRef").and_then(|r| r.get("name")).and_then(Node::as_scalar) else { continue };
            for entry in config_map(map).and_then(Node::as_map).unwrap_or_default() {
                let Some(value) = entry.value.as_scalar() else { continue };
                let via = ReferenceVia::ConfigMap { name: map.to_string(), key: entry.key.clone() };
                push(&mut out, refs::in_env(&entry.key, value), &via, at(&entry.value));
            }
        }
        for field in ["command", "args"] {
            let Some(node) = container.get(field) else { continue };
            let words: Vec<String> = node.as_seq().unwrap_or_default().iter().filter_map(|w| w.as_scalar().map(str::to_string)).collect();
            push(&mut out, refs::in_command(&words), &ReferenceVia::Command, at(node));
        }
    }
    // ConfigMaps mounted as files: hosts in URLs and `host:port`s of their contents.
    for volume in spec.get("volumes").and_then(Node::as_seq).unwrap_or_default() {
        let Some(map) = volume.get("configMap").and_then(|c| c.get("name")).and_then(Node::as_scalar) else { continue };
        for entry in config_map(map).and_then(Node::as_map).unwrap_or_default() {
            let Some(text) = entry.value.as_scalar() else { continue };
            let via = ReferenceVia::ConfigMap { name: map.to_string(), key: entry.key.clone() };
            push(&mut out, refs::in_text(text), &via, at(&entry.value));
        }
    }
    out
}

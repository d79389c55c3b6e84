//! Typed reads of manifest fields, each failing with the location of the bad value.

use crate::error::{LoadError, Result};
use crate::tree::{Node, Value};
use ipnet::IpNet;
use netdoctor_model::k8s::{Labels, PortRef};
use netdoctor_model::{Origin, Protocol};
use std::net::IpAddr;
use std::str::FromStr;

/// Where a node was written. Objects read from an API server have no file: their
/// nodes carry the object's address (`kube:<context>/<kind>/...`) and line 0.
pub(crate) fn origin(node: &Node) -> Origin {
    if node.span.line == 0 {
        return Origin::Logical(node.span.file.display().to_string());
    }
    Origin::File(node.span.clone())
}

/// An error at `node`.
pub(crate) fn error(node: &Node, message: impl Into<String>) -> LoadError {
    LoadError::at(&node.span, message)
}

fn wrong_type(node: &Node, key: &str, expected: &str) -> LoadError {
    error(node, format!("`{key}` must be {expected}, found {}", node.kind_name()))
}

/// The value under `key`, treating `null` as absent.
pub(crate) fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.get(key).filter(|n| !n.is_null())
}

/// Walks a path of keys (`["spec", "template", "metadata"]`).
pub(crate) fn path<'a>(node: &'a Node, keys: &[&str]) -> Option<&'a Node> {
    keys.iter().try_fold(node, |n, k| field(n, k))
}

/// A scalar field as text.
pub(crate) fn text<'a>(node: &'a Node, key: &str) -> Result<Option<&'a str>> {
    match field(node, key) {
        None => Ok(None),
        Some(n) => n.as_scalar().map(Some).ok_or_else(|| wrong_type(n, key, "a string")),
    }
}

/// A boolean field (`true`/`false`).
pub(crate) fn boolean(node: &Node, key: &str) -> Result<Option<bool>> {
    let Some(n) = field(node, key) else { return Ok(None) };
    match n.as_scalar() {
        Some("true" | "True" | "TRUE") => Ok(Some(true)),
        Some("false" | "False" | "FALSE") => Ok(Some(false)),
        _ => Err(wrong_type(n, key, "true or false")),
    }
}

/// An integer field within the range of `T`.
pub(crate) fn integer<T: FromStr>(node: &Node, key: &str, expected: &str) -> Result<Option<T>> {
    let Some(n) = field(node, key) else { return Ok(None) };
    number(n, key, expected).map(Some)
}

/// A node holding an integer within the range of `T`.
pub(crate) fn number<T: FromStr>(n: &Node, key: &str, expected: &str) -> Result<T> {
    match n.as_scalar() {
        Some(text) => text.trim().parse::<T>().map_err(|_| {
            let shown: String = text.trim().chars().take(40).collect();
            error(n, format!("`{key}` must be {expected}, found `{shown}`"))
        }),
        None => Err(wrong_type(n, key, expected)),
    }
}

/// A list field; absent and `null` are empty.
pub(crate) fn list<'a>(node: &'a Node, key: &str) -> Result<&'a [Node]> {
    match field(node, key) {
        None => Ok(&[]),
        Some(n) => n.as_seq().ok_or_else(|| wrong_type(n, key, "a list")),
    }
}

/// A list field whose absence differs from being empty.
pub(crate) fn optional_list<'a>(node: &'a Node, key: &str) -> Result<Option<&'a [Node]>> {
    match node.get(key) {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(Some(&[])),
        Some(n) => n.as_seq().map(Some).ok_or_else(|| wrong_type(n, key, "a list")),
    }
}

/// A mapping field.
pub(crate) fn mapping<'a>(node: &'a Node, key: &str) -> Result<Option<&'a Node>> {
    match field(node, key) {
        None => Ok(None),
        Some(n) if n.as_map().is_some() => Ok(Some(n)),
        Some(n) => Err(wrong_type(n, key, "a mapping")),
    }
}

/// A mapping field that is present even when written as `null` or `{}`.
pub(crate) fn present_mapping<'a>(node: &'a Node, key: &str) -> Result<Option<Option<&'a Node>>> {
    match node.get(key) {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(Some(None)),
        Some(n) if n.as_map().is_some() => Ok(Some(Some(n))),
        Some(n) => Err(wrong_type(n, key, "a mapping")),
    }
}

/// A mapping of string keys to string values (`labels`, `selector`).
pub(crate) fn labels(node: &Node, key: &str) -> Result<Labels> {
    let Some(map) = mapping(node, key)? else { return Ok(Labels::new()) };
    let mut labels = Labels::new();
    for entry in map.as_map().unwrap_or_default() {
        let value = match &entry.value.value {
            Value::Scalar(s) => s.text.clone(),
            Value::Null => String::new(),
            _ => {
                return Err(error(
                    &entry.value,
                    format!("label `{}` must have a string value, found {}", entry.key, entry.value.kind_name()),
                ))
            }
        };
        labels.insert(entry.key.clone(), value);
    }
    Ok(labels)
}

/// A protocol field, TCP when absent.
pub(crate) fn protocol(node: &Node, key: &str) -> Result<Protocol> {
    match text(node, key)? {
        None => Ok(Protocol::Tcp),
        Some(p) => {
            let at = field(node, key).unwrap_or(node);
            Protocol::from_str(p).map_err(|e| error(at, format!("`{key}`: {e}")))
        }
    }
}

/// A port number 1-65535.
pub(crate) fn port_number(n: &Node, key: &str) -> Result<u16> {
    match number::<u16>(n, key, "a port number (1-65535)")? {
        0 => Err(error(n, format!("`{key}` must be a port number (1-65535), found 0"))),
        p => Ok(p),
    }
}

/// A port given by number or name (an IntOrString). Only unquoted digits are numbers.
pub(crate) fn port_ref(n: &Node, key: &str) -> Result<PortRef> {
    match &n.value {
        Value::Scalar(s) if !s.quoted && s.text.chars().all(|c| c.is_ascii_digit()) => port_number(n, key).map(PortRef::Number),
        Value::Scalar(s) if !s.text.is_empty() => Ok(PortRef::Name(s.text.clone())),
        _ => Err(wrong_type(n, key, "a port number or name")),
    }
}

/// A CIDR (`10.0.0.0/8`); a bare address counts as a single-address CIDR. Host bits
/// are cleared, as the API server does.
pub(crate) fn cidr(n: &Node, key: &str) -> Result<IpNet> {
    let text = n.as_scalar().ok_or_else(|| wrong_type(n, key, "a CIDR"))?.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(addr));
    }
    Err(error(n, format!("`{key}` must be a CIDR such as 10.0.0.0/8, found `{text}`")))
}

/// An IP address.
pub(crate) fn address(n: &Node, key: &str) -> Result<IpAddr> {
    let text = n.as_scalar().ok_or_else(|| wrong_type(n, key, "an IP address"))?.trim();
    text.parse::<IpAddr>().map_err(|_| error(n, format!("`{key}` must be an IP address, found `{text}`")))
}

//! Docker's `daemon.json`: the settings that shape container networking (`iptables`,
//! `ip6tables`, `ip-forward`, `bip`, `default-address-pools`, `mtu`). Each setting keeps
//! the position of its key, so a finding can point at the line to change.

use super::capture::InputSource;
use crate::error::LoadError;
use netdoctor_model::host::{AddressPoolSetting, DaemonConfig};
use netdoctor_model::Located;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parses `daemon.json`; an unparsable file is one error and no config.
pub fn parse(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> Option<DaemonConfig> {
    if text.trim().is_empty() {
        // dockerd treats an empty file as no settings.
        return Some(empty(source));
    }
    let root: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            errors.push(source.error(1, 1, "daemon.json must be a JSON object"));
            return None;
        }
        Err(e) => {
            let (line, column) = (u32::try_from(e.line()).unwrap_or(0), u32::try_from(e.column()).unwrap_or(0));
            errors.push(source.error(line, column, format!("daemon.json is not valid JSON: {e}")));
            return None;
        }
    };
    let keys = top_level_keys(text);
    let at = |key: &str| {
        let (line, column) = keys.get(key).copied().unwrap_or((1, 1));
        source.origin(line, column)
    };
    let mut bad = |key: &str, expected: &str| {
        let (line, column) = keys.get(key).copied().unwrap_or((1, 1));
        errors.push(source.error(line, column, format!("`{key}` must be {expected}")));
    };
    let mut config = empty(source);
    let flag = |key: &str, bad: &mut dyn FnMut(&str, &str)| match root.get(key) {
        None => None,
        Some(Value::Bool(b)) => Some(Located::new(*b, at(key))),
        Some(_) => {
            bad(key, "true or false");
            None
        }
    };
    config.iptables = flag("iptables", &mut bad);
    config.ip6tables = flag("ip6tables", &mut bad);
    config.ip_forward = flag("ip-forward", &mut bad);
    match root.get("bip") {
        None => {}
        Some(Value::String(s)) => config.bip = Some(Located::new(s.clone(), at("bip"))),
        Some(_) => bad("bip", "an address with prefix length such as \"172.26.0.1/16\""),
    }
    match root.get("mtu") {
        None => {}
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(mtu) => config.mtu = Some(Located::new(mtu, at("mtu"))),
            None => bad("mtu", "a positive number"),
        },
    }
    match root.get("default-address-pools") {
        None => {}
        Some(Value::Array(pools)) => {
            for pool in pools {
                let base = pool.get("base").and_then(Value::as_str);
                let size = pool.get("size").and_then(Value::as_u64).and_then(|s| u8::try_from(s).ok());
                match (base, size) {
                    (Some(base), Some(size)) => config
                        .default_address_pools
                        .push(Located::new(AddressPoolSetting { base: base.to_string(), size }, at("default-address-pools"))),
                    _ => bad("default-address-pools", "a list of {\"base\": \"CIDR\", \"size\": N} objects"),
                }
            }
        }
        Some(_) => bad("default-address-pools", "a list of {\"base\": \"CIDR\", \"size\": N} objects"),
    }
    Some(config)
}

fn empty(source: &InputSource) -> DaemonConfig {
    DaemonConfig {
        iptables: None,
        ip6tables: None,
        ip_forward: None,
        bip: None,
        default_address_pools: Vec::new(),
        mtu: None,
        origin: source.origin(1, 1),
    }
}

/// The 1-based line and column of each key of the top-level object.
fn top_level_keys(text: &str) -> HashMap<String, (u32, u32)> {
    let mut keys = HashMap::new();
    let (mut depth, mut line, mut column) = (0u32, 1u32, 0u32);
    let mut chars = text.chars().peekable();
    // At depth 1, a string right after `{` or `,` is a key.
    let mut expect_key = false;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
            column = 0;
            continue;
        }
        column += 1;
        match c {
            '"' => {
                let start = (line, column);
                let mut s = String::new();
                while let Some(ch) = chars.next() {
                    column += 1;
                    match ch {
                        '\\' => {
                            if let Some(esc) = chars.next() {
                                column += 1;
                                s.push(esc);
                            }
                        }
                        '"' => break,
                        '\n' => {
                            line += 1;
                            column = 0;
                        }
                        other => s.push(other),
                    }
                }
                if depth == 1 && expect_key {
                    keys.entry(s).or_insert(start);
                }
                expect_key = false;
            }
            '{' | '[' => {
                depth += 1;
                expect_key = depth == 1 && c == '{';
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            ',' => expect_key = depth == 1,
            _ => {}
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn source() -> InputSource {
        InputSource::File(Arc::from(Path::new("daemon.json")))
    }

    #[test]
    fn settings_keep_their_key_positions() {
        let text = "{\n  \"log-driver\": \"json-file\",\n  \"iptables\": false,\n  \"mtu\": 1400,\n  \"default-address-pools\": [{\"base\": \"10.200.0.0/16\", \"size\": 24}]\n}\n";
        let mut errors = Vec::new();
        let d = parse(text, &source(), &mut errors).unwrap_or_else(|| empty(&source()));
        assert!(errors.is_empty(), "{errors:?}");
        let iptables = d.iptables.unwrap_or_else(|| Located::new(true, source().origin(0, 0)));
        assert!(!iptables.value);
        assert_eq!(iptables.origin.to_string(), "daemon.json:3:3");
        assert_eq!(d.mtu.map(|m| m.value), Some(1400));
        assert_eq!(d.default_address_pools.len(), 1);
    }

    #[test]
    fn wrong_types_and_bad_json_are_located() {
        let mut errors = Vec::new();
        parse("{\"iptables\": \"no\"}", &source(), &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (1, 2));
        errors.clear();
        assert!(parse("{\"iptables\": fals}", &source(), &mut errors).is_none());
        assert_eq!(errors[0].line, 1);
    }
}

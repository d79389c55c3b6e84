//! CNI network configurations (`/etc/cni/net.d`, or `cni/` in the host facts layout): each
//! file as libcni reads it. A file a runtime cannot load is not an input error: it is what
//! the host holds, and ND507 reports it.

use super::capture::CapturedText;
use crate::tree::Node;
use netdoctor_model::host::{CniConfig, CniIpam, CniPlugin};
use netdoctor_model::{Located, Origin};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// The extensions libcni reads; other files in the directory are ignored by runtimes.
pub const EXTENSIONS: &[&str] = &["conf", "conflist", "json"];

/// The `cniVersion`s libcni knows.
const KNOWN_VERSIONS: &[&str] = &["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

/// Whether a runtime reads a file of this name from its configuration directory.
pub fn is_config_name(name: &str) -> bool {
    !name.starts_with('.') && name.rsplit_once('.').is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
}

/// One captured file (`cni/<file name>`).
pub fn parse(captured: &CapturedText) -> CniConfig {
    let file = captured.name.rsplit('/').next().unwrap_or(&captured.name).to_string();
    let mut config = CniConfig {
        file: file.clone(),
        name: None,
        cni_version: None,
        plugins: Vec::new(),
        problem: None,
        origin: captured.source.origin(1, 1),
        cni_version_origin: None,
        chain: Vec::new(),
    };
    let value: Value = match serde_json::from_str(&captured.text) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = (u32::try_from(e.line()).unwrap_or(1), u32::try_from(e.column()).unwrap_or(1));
            config.origin = captured.source.origin(line.max(1), column.max(1));
            config.problem = Some(format!("not valid JSON: {e}"));
            return config;
        }
    };
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    config.name = text("name");
    config.cni_version = text("cniVersion");
    let list = file.ends_with(".conflist");
    let positions = Positions::of(captured);
    config.cni_version_origin = config.cni_version.as_ref().map(|_| positions.at(&[Key::Field("cniVersion")]));
    config.chain = chain(&value, list, &positions);
    let plugins = value.get("plugins").and_then(Value::as_array);
    config.problem = match (list, plugins) {
        (true, Some(plugins)) => {
            config.plugins = plugins.iter().filter_map(|p| p.get("type").and_then(Value::as_str)).map(str::to_string).collect();
            if plugins.is_empty() {
                Some("its `plugins` list is empty".to_string())
            } else if config.plugins.len() < plugins.len() {
                Some("a plugin in `plugins` has no `type`".to_string())
            } else {
                None
            }
        }
        (true, None) => Some("a `.conflist` without a `plugins` list".to_string()),
        (false, _) => match text("type") {
            Some(kind) => {
                config.plugins = vec![kind];
                None
            }
            None if plugins.is_some() => {
                Some("a plugin list in a `.conf` file: runtimes read it as one plugin and find no `type` (name it `.conflist`)".to_string())
            }
            None => Some("no plugin `type`".to_string()),
        },
    };
    if config.problem.is_none() {
        if let Some(version) = config.cni_version.as_deref().filter(|v| !KNOWN_VERSIONS.contains(v)) {
            config.problem = Some(format!("`cniVersion` {version} is not one libcni knows ({})", KNOWN_VERSIONS.join(", ")));
        }
    }
    config
}

/// A step of the path to a value: a mapping key or a list index.
#[derive(Debug, Clone, Copy)]
enum Key<'k> {
    Field(&'k str),
    Index(usize),
}

/// Positions of the values of a captured file. JSON is read again as YAML (a JSON document
/// is one), whose tree keeps positions; when that fails, every value is at the file's start.
struct Positions<'c> {
    tree: Option<Node>,
    captured: &'c CapturedText,
}

impl<'c> Positions<'c> {
    fn of(captured: &'c CapturedText) -> Self {
        let file: Arc<Path> = Arc::from(Path::new(captured.name.as_str()));
        Positions { tree: crate::yaml::parse(&captured.text, file).ok(), captured }
    }

    /// Where the value at `path` starts.
    fn at(&self, path: &[Key<'_>]) -> Origin {
        let mut node = self.tree.as_ref();
        for key in path {
            node = node.and_then(|n| match key {
                Key::Field(k) => n.get(k),
                Key::Index(i) => n.as_seq().and_then(|items| items.get(*i)),
            });
        }
        match node {
            Some(n) => self.captured.source.origin(n.span.line, n.span.column),
            None => self.captured.source.origin(1, 1),
        }
    }
}

/// A scalar as text: strings as they are, numbers and booleans as JSON prints them.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The plugins of a configuration with the settings ND506 compares: a `.conflist`'s
/// `plugins`, or the `.conf` document itself.
fn chain(value: &Value, list: bool, positions: &Positions<'_>) -> Vec<CniPlugin> {
    let plugins: Vec<(Vec<Key<'static>>, &Value)> = if list {
        let Some(items) = value.get("plugins").and_then(Value::as_array) else { return Vec::new() };
        items.iter().enumerate().map(|(i, p)| (vec![Key::Field("plugins"), Key::Index(i)], p)).collect()
    } else {
        vec![(Vec::new(), value)]
    };
    let mut out = Vec::new();
    for (base, plugin) in plugins {
        let Some(kind) = plugin.get("type").and_then(Value::as_str) else { continue };
        let at = |keys: &[Key<'_>]| {
            let mut path = base.clone();
            path.extend_from_slice(keys);
            positions.at(&path)
        };
        // In a `.conf` file the document's `cniVersion` is the configuration's, not the plugin's.
        let version_keys: &[&str] = if list { &["cniVersion", "version"] } else { &["version"] };
        let version = version_keys.iter().find_map(|k| plugin.get(*k).and_then(scalar).map(|v| Located::new(v, at(&[Key::Field(k)]))));
        let mtu = plugin.get("mtu").and_then(scalar).map(|v| Located::new(v, at(&[Key::Field("mtu")])));
        let ipam = plugin.get("ipam").filter(|i| i.is_object()).map(|ipam| {
            let mut ranges = Vec::new();
            if let Some(subnet) = ipam.get("subnet").and_then(scalar) {
                ranges.push(Located::new(subnet, at(&[Key::Field("ipam"), Key::Field("subnet")])));
            }
            for (i, set) in ipam.get("ranges").and_then(Value::as_array).into_iter().flatten().enumerate() {
                for (j, range) in set.as_array().into_iter().flatten().enumerate() {
                    let Some(subnet) = range.get("subnet").and_then(scalar) else { continue };
                    let bounds = range.get("rangeStart").and_then(scalar).zip(range.get("rangeEnd").and_then(scalar));
                    let text = match bounds {
                        Some((start, end)) => format!("{subnet} ({start}-{end})"),
                        None => subnet,
                    };
                    let path = [Key::Field("ipam"), Key::Field("ranges"), Key::Index(i), Key::Index(j), Key::Field("subnet")];
                    ranges.push(Located::new(text, at(&path)));
                }
            }
            for pools in ["ipv4_pools", "ipv6_pools"] {
                for (i, pool) in ipam.get(pools).and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if let Some(pool) = scalar(pool) {
                        ranges.push(Located::new(pool, at(&[Key::Field("ipam"), Key::Field(pools), Key::Index(i)])));
                    }
                }
            }
            CniIpam { kind: ipam.get("type").and_then(scalar), ranges, origin: at(&[Key::Field("ipam")]) }
        });
        out.push(CniPlugin { kind: kind.to_string(), origin: at(&[Key::Field("type")]), version, mtu, ipam });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::InputSource;
    use std::path::Path;
    use std::sync::Arc;

    fn read(name: &str, text: &str) -> CniConfig {
        parse(&CapturedText { name: format!("cni/{name}"), text: text.into(), source: InputSource::File(Arc::from(Path::new(name))) })
    }

    #[test]
    fn lists_plugins_and_problems() {
        let ok = read(
            "10-flannel.conflist",
            r#"{"name": "cbr0", "cniVersion": "0.3.1", "plugins": [{"type": "flannel"}, {"type": "portmap"}]}"#,
        );
        assert_eq!(
            (ok.name.as_deref(), ok.plugins.clone(), ok.problem.clone()),
            (Some("cbr0"), vec!["flannel".to_string(), "portmap".to_string()], None)
        );
        let single = read("99-loopback.conf", r#"{"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}"#);
        assert_eq!((single.plugins, single.problem), (vec!["loopback".to_string()], None));
        let broken = read("05-broken.conf", "{\n  \"name\": \"x\",\n  \"type\": \"bridge\"\n  \"bridge\": \"cni0\"\n}\n");
        assert!(broken.problem.as_deref().is_some_and(|p| p.starts_with("not valid JSON")), "{broken:?}");
        assert_eq!(broken.origin.to_string(), "05-broken.conf:4:3");
        let misnamed = read("10-calico.conf", r#"{"name": "k8s-pod-network", "plugins": [{"type": "calico"}]}"#);
        assert!(misnamed.problem.as_deref().is_some_and(|p| p.contains("name it `.conflist`")), "{misnamed:?}");
        let version = read("10-x.conflist", r#"{"name": "x", "cniVersion": "2.0.0", "plugins": [{"type": "bridge"}]}"#);
        assert!(version.problem.as_deref().is_some_and(|p| p.contains("`cniVersion` 2.0.0")), "{version:?}");
        assert!(is_config_name("10-flannel.conflist") && !is_config_name("10-flannel.conflist.bak") && !is_config_name(".hidden.conf"));
    }

    #[test]
    fn reads_the_chain_with_versions_mtu_and_ipam_at_their_lines() {
        let text = r#"{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "mtu": 1440,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}], [{"subnet": "fd00::/64", "rangeStart": "fd00::10", "rangeEnd": "fd00::ff"}]]}
    },
    {"type": "bandwidth", "cniVersion": "1.0.0"},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
"#;
        let config = read("10-calico.conflist", text);
        assert_eq!(config.problem, None);
        assert_eq!(config.cni_version_origin.map(|o| o.to_string()).as_deref(), Some("10-calico.conflist:3:17"));
        let kinds: Vec<(&str, String)> = config.chain.iter().map(|p| (p.kind.as_str(), p.origin.to_string())).collect();
        assert_eq!(
            kinds,
            [
                ("calico", "10-calico.conflist:6:15".to_string()),
                ("bandwidth", "10-calico.conflist:10:14".to_string()),
                ("portmap", "10-calico.conflist:11:14".to_string())
            ]
        );
        let calico = &config.chain[0];
        let mtu = calico.mtu.as_ref().map(|m| (m.value.as_str(), m.origin.to_string()));
        assert_eq!(mtu, Some(("1440", "10-calico.conflist:7:14".to_string())));
        let ipam = calico.ipam.as_ref().expect("ipam read");
        assert_eq!(ipam.kind.as_deref(), Some("host-local"));
        let ranges: Vec<&str> = ipam.ranges.iter().map(|r| r.value.as_str()).collect();
        assert_eq!(ranges, ["10.244.1.0/24", "fd00::/64 (fd00::10-fd00::ff)"]);
        assert_eq!(ipam.ranges[0].origin.to_string().split(':').nth(1), Some("8"));
        assert_eq!(config.chain[1].version.as_ref().map(|v| v.value.as_str()), Some("1.0.0"));
        // A `.conf` file is one plugin; its `cniVersion` is the configuration's.
        let single = read(
            "10-bridge.conf",
            r#"{"cniVersion": "1.0.0", "name": "b", "type": "bridge", "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}}"#,
        );
        assert_eq!(single.chain.len(), 1);
        assert_eq!((single.chain[0].version.clone(), single.chain[0].ipam.as_ref().map(|i| i.ranges.len())), (None, Some(1)));
        // Invalid JSON has no chain.
        assert!(read("05-x.conf", "{").chain.is_empty());
    }
}

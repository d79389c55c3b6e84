//! CNI network configurations (`/etc/cni/net.d`, or `cni/` in the host facts layout): each
//! file as libcni reads it. A file a runtime cannot load is not an input error: it is what
//! the host holds, and ND507 reports it.

use super::capture::CapturedText;
use netdoctor_model::host::CniConfig;
use serde_json::Value;

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
}

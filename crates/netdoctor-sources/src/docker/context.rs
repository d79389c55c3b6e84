//! Which engine to talk to, the way the `docker` CLI decides: an explicit host, then
//! `DOCKER_HOST`, then the current docker context (`DOCKER_CONTEXT`, else
//! `currentContext` in `$DOCKER_CONFIG/config.json`), then the local socket.
//! Context metadata lives in `$DOCKER_CONFIG/contexts/meta/<sha256 of name>/meta.json`;
//! rather than hash, every meta file is read and matched on its `Name`.

use super::Error;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The engine's default local endpoint.
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// Context metadata files above this size are not read.
const MAX_META_BYTES: u64 = 1024 * 1024;

/// The endpoint to use.
pub fn resolve_endpoint(explicit: Option<&str>) -> Result<String, Error> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    resolve_with(explicit, env("DOCKER_HOST"), env("DOCKER_CONTEXT"), &config_dir(env("DOCKER_CONFIG"), env("HOME")))
}

fn config_dir(docker_config: Option<String>, home: Option<String>) -> PathBuf {
    docker_config.map(PathBuf::from).unwrap_or_else(|| home.map_or_else(|| PathBuf::from("/root"), PathBuf::from).join(".docker"))
}

/// The resolution with its inputs passed in (for tests).
pub fn resolve_with(
    explicit: Option<&str>,
    docker_host: Option<String>,
    context: Option<String>,
    config_dir: &Path,
) -> Result<String, Error> {
    if let Some(h) = explicit {
        return Ok(normalise(h));
    }
    if let Some(h) = docker_host {
        return Ok(normalise(&h));
    }
    let context = context.or_else(|| current_context(config_dir));
    match context.as_deref() {
        None | Some("default") => Ok(DEFAULT_ENDPOINT.to_string()),
        Some(name) => context_host(config_dir, name).map(|h| normalise(&h)).ok_or_else(|| Error::Context {
            name: name.to_string(),
            message: format!("no docker endpoint found under {}", config_dir.join("contexts/meta").display()),
        }),
    }
}

/// A bare socket path is a `unix://` URL, as the CLI accepts.
fn normalise(host: &str) -> String {
    if host.starts_with('/') {
        format!("unix://{host}")
    } else {
        host.to_string()
    }
}

fn read_json(path: &Path) -> Option<Value> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_META_BYTES {
        return None;
    }
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn current_context(config_dir: &Path) -> Option<String> {
    read_json(&config_dir.join("config.json"))?.get("currentContext")?.as_str().map(str::to_string).filter(|s| !s.is_empty())
}

fn context_host(config_dir: &Path, name: &str) -> Option<String> {
    let entries = std::fs::read_dir(config_dir.join("contexts/meta")).ok()?;
    entries.filter_map(Result::ok).find_map(|e| {
        let meta = read_json(&e.path().join("meta.json"))?;
        if meta.get("Name")?.as_str()? != name {
            return None;
        }
        meta.get("Endpoints")?.get("docker")?.get("Host")?.as_str().map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_flag_then_env_then_context_then_socket() {
        let dir = tempfile::tempdir().unwrap();
        let meta = dir.path().join("contexts/meta/0123abcd");
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(meta.join("meta.json"), r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.1.2.3:2375"}}}"#).unwrap();
        std::fs::write(dir.path().join("config.json"), r#"{"currentContext":"remote"}"#).unwrap();
        let d = dir.path();
        assert_eq!(resolve_with(Some("/run/d.sock"), Some("tcp://x:1".into()), None, d).unwrap(), "unix:///run/d.sock");
        assert_eq!(resolve_with(None, Some("tcp://x:1".into()), None, d).unwrap(), "tcp://x:1");
        assert_eq!(resolve_with(None, None, None, d).unwrap(), "tcp://10.1.2.3:2375");
        assert_eq!(resolve_with(None, None, Some("default".into()), d).unwrap(), DEFAULT_ENDPOINT);
        assert!(matches!(resolve_with(None, None, Some("nope".into()), d), Err(Error::Context { .. })));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(resolve_with(None, None, None, empty.path()).unwrap(), DEFAULT_ENDPOINT);
    }
}

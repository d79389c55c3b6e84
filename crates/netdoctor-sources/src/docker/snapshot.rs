//! The raw form of a live Docker read: the engine's own JSON replies (inspect of every
//! container and network, the images' defaults, `info` and `version`), with
//! environment values redacted before they are stored. `netdoctor snapshot --docker`
//! writes it; `check --snapshot` and `why --snapshot` read it back and lower it with
//! the same code as a live read, so an old snapshot is re-read by a newer netdoctor.

use super::Error;
use crate::compose::refs;
use netdoctor_model::{redact_url_userinfo, redact_value};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The snapshot format version this netdoctor writes and reads.
pub const VERSION: u32 = 1;

/// Snapshots larger than this are refused rather than read into memory.
const MAX_SNAPSHOT_BYTES: u64 = 256 * 1024 * 1024;

/// What one read of an engine returned.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DockerSnapshot {
    /// The format version, so a reader can refuse what it does not understand.
    #[serde(rename = "netdoctor-docker-snapshot")]
    pub version: u32,
    /// How the engine was reached (`unix:///var/run/docker.sock`).
    pub endpoint: String,
    /// When it was taken, in seconds since the Unix epoch.
    #[serde(default)]
    pub taken_at: u64,
    /// `GET /version`.
    #[serde(default)]
    pub version_info: Value,
    /// `GET /info`.
    #[serde(default)]
    pub info: Value,
    /// `GET /containers/{id}/json` of every container read, running or not.
    #[serde(default)]
    pub containers: Vec<Value>,
    /// `GET /networks/{id}` of every network.
    #[serde(default)]
    pub networks: Vec<Value>,
    /// `GET /images/{id}/json` of the containers' images (their `Config` only), so
    /// lowering can tell a container's own environment and command from its image's.
    #[serde(default)]
    pub images: Vec<Value>,
    /// What could not be read (a container removed between list and inspect).
    #[serde(default)]
    pub errors: Vec<String>,
}

impl DockerSnapshot {
    /// An empty snapshot of `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> DockerSnapshot {
        DockerSnapshot {
            version: VERSION,
            endpoint: endpoint.into(),
            taken_at: 0,
            version_info: Value::Null,
            info: Value::Null,
            containers: Vec::new(),
            networks: Vec::new(),
            images: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Reads a snapshot file (redacting again, in case it was made by hand).
    pub fn read(path: &Path) -> Result<DockerSnapshot, Error> {
        let io = |source| Error::ReadSnapshot { path: path.to_path_buf(), source };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_SNAPSHOT_BYTES {
            return Err(Error::ParseSnapshot { path: path.to_path_buf(), message: format!("{len} bytes is larger than netdoctor reads") });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut snapshot = Self::parse(&text).map_err(|message| Error::ParseSnapshot { path: path.to_path_buf(), message })?;
        snapshot.redact();
        Ok(snapshot)
    }

    /// Parses a snapshot, or a bare `docker inspect` array of containers.
    pub fn parse(text: &str) -> Result<DockerSnapshot, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        match value {
            Value::Array(containers) => Ok(DockerSnapshot { containers, ..DockerSnapshot::new("docker-inspect") }),
            Value::Object(ref map) if map.contains_key("netdoctor-docker-snapshot") => {
                let snapshot: DockerSnapshot = serde_json::from_value(value).map_err(|e| format!("not a netdoctor snapshot: {e}"))?;
                if snapshot.version != VERSION {
                    return Err(format!(
                        "snapshot format version {} is not supported (this netdoctor reads version {VERSION})",
                        snapshot.version
                    ));
                }
                Ok(snapshot)
            }
            _ => Err("expected a netdoctor Docker snapshot or a `docker inspect` array".into()),
        }
    }

    /// The snapshot as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::error::pretty_json_line(self)
    }

    /// Masks secret-bearing values: environment values (keeping the hosts and ports
    /// peers are found by) and URL credentials in commands and healthchecks.
    pub fn redact(&mut self) {
        for c in self.containers.iter_mut().chain(self.images.iter_mut()) {
            redact_container(c);
        }
    }
}

fn redact_container(c: &mut Value) {
    let Some(config) = c.get_mut("Config") else { return };
    if let Some(Value::Array(env)) = config.get_mut("Env") {
        for item in env.iter_mut() {
            if let Value::String(s) = item {
                *s = redact_env_entry(s);
            }
        }
    }
    for key in ["Cmd", "Entrypoint"] {
        redact_words(config.get_mut(key));
    }
    if let Some(h) = config.get_mut("Healthcheck") {
        redact_words(h.get_mut("Test"));
    }
    // `Args` repeats the command line.
    redact_words(c.get_mut("Args"));
}

fn redact_words(value: Option<&mut Value>) {
    if let Some(Value::Array(words)) = value {
        for w in words.iter_mut() {
            if let Value::String(s) = w {
                *s = redact_url_userinfo(s);
            }
        }
    }
}

/// `KEY=value` with the value made safe to store: a URL keeps scheme, host and port;
/// a value that is nothing but host names, addresses and `host:port` pairs is kept
/// (it names peers, not secrets); anything else becomes `***`.
pub fn redact_env_entry(entry: &str) -> String {
    let Some((key, value)) = entry.split_once('=') else { return entry.to_string() };
    if value.is_empty() || value == "***" {
        return entry.to_string();
    }
    let safe = if value.contains("://") {
        // A list of URLs stays a list, each one masked.
        value.split([',', ' ']).filter(|s| !s.is_empty()).map(redact_value).collect::<Vec<_>>().join(",")
    } else if only_hosts(key, value) {
        value.to_string()
    } else {
        "***".to_string()
    };
    format!("{key}={safe}")
}

/// Whether every word of a value is a host, an address or `host:port`, and the
/// variable is one whose value names peers.
fn only_hosts(key: &str, value: &str) -> bool {
    if refs::in_env(key, value).is_empty() {
        return false;
    }
    value.split([',', ' ', ';']).filter(|w| !w.is_empty()).all(|w| {
        let host = match w.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => h,
            _ => w,
        };
        refs::is_hostname(host) || host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_keep_only_peers() {
        assert_eq!(redact_env_entry("DB_URL=postgres://u:pw@db:5432/app"), "DB_URL=postgres://***@db:5432/***");
        assert_eq!(redact_env_entry("REDIS_HOST=cache"), "REDIS_HOST=cache");
        assert_eq!(redact_env_entry("KAFKA_BROKERS=k1:9092,k2:9092"), "KAFKA_BROKERS=k1:9092,k2:9092");
        assert_eq!(redact_env_entry("PASSWORD=hunter2"), "PASSWORD=***");
        assert_eq!(redact_env_entry("API_KEY=cache"), "API_KEY=***", "a secret that looks like a name stays secret");
        assert_eq!(redact_env_entry("EMPTY="), "EMPTY=");
        assert_eq!(redact_env_entry("NOVALUE"), "NOVALUE");
    }

    #[test]
    fn redaction_is_idempotent_and_reaches_commands() {
        let mut s = DockerSnapshot::new("test");
        s.containers.push(serde_json::json!({
            "Config": {"Env": ["SECRET=x", "DB_URL=mysql://root:pw@db/x"], "Cmd": ["sh", "-c", "curl http://u:p@api:8080/"]},
            "Args": ["-c", "curl http://u:p@api:8080/"]
        }));
        s.redact();
        let once = s.to_json();
        s.redact();
        assert_eq!(once, s.to_json());
        assert!(!once.contains("pw") && !once.contains("u:p@") && !once.contains("SECRET=x"), "{once}");
        assert!(once.contains("mysql://***@db/***"));
    }

    #[test]
    fn a_docker_inspect_array_reads_as_a_snapshot() {
        let s = DockerSnapshot::parse(r#"[{"Id": "abc", "Name": "/web"}]"#).unwrap();
        assert_eq!(s.containers.len(), 1);
        assert!(DockerSnapshot::parse(r#"{"netdoctor-docker-snapshot": 99, "endpoint": "x"}"#).unwrap_err().contains("version 99"));
        assert!(DockerSnapshot::parse("{}").is_err());
    }
}

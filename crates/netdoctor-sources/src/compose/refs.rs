//! Finding the peers a service refers to inside free-form values: URLs
//! (`postgres://db:5432/app`), `host:port` pairs, host-valued variables
//! (`REDIS_HOST=cache`) and host flags in commands (`pg_isready -h db`).
//!
//! Only the host and port are kept; the rest of a value may be a secret.

use std::net::IpAddr;

/// A host (and port) found in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRef {
    pub host: String,
    pub port: Option<u16>,
}

/// Variable-name endings whose value is a host (or a list of hosts).
const HOST_KEY_SUFFIXES: &[&str] = &[
    "HOST",
    "HOSTNAME",
    "HOSTS",
    "SERVER",
    "SERVERS",
    "ADDR",
    "ADDRESS",
    "ADDRS",
    "ENDPOINT",
    "BROKER",
    "BROKERS",
    "NODES",
    "PEERS",
    "UPSTREAM",
    "SERVICE_NAME",
];

/// The lowest port believed in a bare `host:port` (without a scheme).
const MIN_BARE_PORT: u16 = 80;

/// Command-line flags whose next word is a host.
const HOST_FLAGS: &[&str] = &["-h", "--host", "--hostname", "--server", "--address", "--addr"];

/// Hosts in an environment variable's value.
pub fn in_env(key: &str, value: &str) -> Vec<HostRef> {
    let upper = key.to_ascii_uppercase();
    let host_valued = HOST_KEY_SUFFIXES.iter().any(|s| upper == *s || upper.ends_with(&format!("_{s}")));
    let mut found = in_text(value);
    if found.is_empty() && host_valued {
        found.extend(
            words(value)
                .filter(|w| (is_hostname(w) && !is_plain_value(w)) || w.parse::<IpAddr>().is_ok())
                .map(|w| HostRef { host: w.to_string(), port: None }),
        );
    }
    dedup(found)
}

/// Hosts in a command line (already split into words, or one shell string).
pub fn in_command(args: &[String]) -> Vec<HostRef> {
    let words: Vec<&str> = args.iter().flat_map(|a| words(a)).collect();
    let mut found = Vec::new();
    for (i, word) in words.iter().enumerate() {
        found.extend(in_text(word));
        if HOST_FLAGS.contains(word) {
            if let Some(next) = words.get(i + 1).filter(|w| is_hostname(w)) {
                found.push(HostRef { host: next.to_string(), port: None });
            }
        } else if let Some((flag, value)) = word.split_once('=') {
            if HOST_FLAGS.contains(&flag) && is_hostname(value) {
                found.push(HostRef { host: value.to_string(), port: None });
            }
        }
    }
    dedup(found)
}

/// Hosts in URLs and `host:port` pairs anywhere in `text`.
pub fn in_text(text: &str) -> Vec<HostRef> {
    let mut found = Vec::new();
    // Split on white space only first: a URL's authority may list hosts with commas.
    for chunk in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | '`' | '|' | '&' | '<' | '>')) {
        let chunk = chunk.rsplit_once('=').filter(|(k, _)| !k.contains("://")).map_or(chunk, |(_, v)| v);
        if let Some((scheme, rest)) = chunk.split_once("://") {
            if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
                found.extend(url_hosts(rest));
            }
            continue;
        }
        // A bare `name:16` is more often an image tag than a port: below 80, require a URL.
        found.extend(words(chunk).filter_map(host_port).filter(|r| r.port.is_some_and(|p| p >= MIN_BARE_PORT)));
    }
    found
}

/// The hosts of a URL's authority (after `scheme://`): several for `a:1,b:2` lists.
fn url_hosts(rest: &str) -> Vec<HostRef> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    hosts
        .split(',')
        .filter_map(|h| {
            host_port(h).or_else(|| (is_hostname(h) || h.parse::<IpAddr>().is_ok()).then(|| HostRef { host: h.to_string(), port: None }))
        })
        .collect()
}

/// `host:port`, `a.b.c.d:port` or `[v6]:port`.
fn host_port(word: &str) -> Option<HostRef> {
    let (host, port) = word.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0)?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<IpAddr>().ok().map(|_| v6)?,
        None if host.parse::<std::net::Ipv4Addr>().is_ok() || is_hostname(host) => host,
        None => return None,
    };
    Some(HostRef { host: host.to_string(), port: Some(port) })
}

/// Whether `s` is a DNS host name someone could mean as a peer: letters, digits,
/// `-`, `_` and dots, not all digits, no leading/trailing `-`.
pub fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && s.chars().any(|c| c.is_ascii_alphabetic())
        && !s.split('.').next_back().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
}

/// Words that are settings, not host names, whatever the variable is called: booleans
/// and nulls (`true`, `no`, `off`, `none`), durations (`30s`, `1h30m`, `250ms`) and sizes
/// (`512Mi`, `10mb`).
pub fn is_plain_value(word: &str) -> bool {
    const WORDS: [&str; 12] = ["true", "false", "yes", "no", "on", "off", "null", "none", "nil", "enabled", "disabled", "auto"];
    let lower = word.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    // A run of number-and-unit groups: 30s, 1h30m, 1.5h, 512mi, 10gb.
    const UNITS: [&str; 17] = ["ns", "us", "ms", "s", "m", "h", "d", "w", "k", "kb", "ki", "mb", "mi", "g", "gb", "gi", "b"];
    let mut rest = lower.as_str();
    let mut groups = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        let after = rest.get(digits..).unwrap_or_default();
        let unit_len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let unit = after.get(..unit_len).unwrap_or_default();
        if !UNITS.contains(&unit) {
            return false;
        }
        rest = after.get(unit_len..).unwrap_or_default();
        groups += 1;
    }
    groups > 0
}

/// Whether `s` is a valid Docker network name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
pub fn is_network_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '(' | ')' | '`' | '|' | '&' | '<' | '>'))
        .filter(|w| !w.is_empty())
}

fn dedup(mut refs: Vec<HostRef>) -> Vec<HostRef> {
    let mut seen = std::collections::HashSet::new();
    refs.retain(|r| seen.insert((r.host.to_ascii_lowercase(), r.port)));
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_not_hosts_whatever_the_variable_is_called() {
        for value in
            ["true", "FALSE", "yes", "no", "on", "off", "none", "30s", "1h30m", "250ms", "1.5h", "512Mi", "10mb", "/var/run/x.sock", "8080"]
        {
            assert_eq!(in_env("CACHE_HOST", value), [], "{value}");
        }
        assert_eq!(in_env("CACHE_HOST", "redis"), [HostRef { host: "redis".into(), port: None }]);
        assert_eq!(in_env("CACHE_HOST", "on-prem-db"), [HostRef { host: "on-prem-db".into(), port: None }]);
        assert_eq!(
            in_env("CACHE_SERVERS", "a1, b2"),
            [HostRef { host: "a1".into(), port: None }, HostRef { host: "b2".into(), port: None }]
        );
        assert!(!is_plain_value("api") && !is_plain_value("h2") && !is_plain_value("s3"));
    }

    fn hosts(refs: Vec<HostRef>) -> Vec<String> {
        refs.into_iter()
            .map(|r| match r.port {
                Some(p) => format!("{}:{p}", r.host),
                None => r.host,
            })
            .collect()
    }

    #[test]
    fn env_values() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("DATABASE_URL", "postgres://app:secret@db:5432/app", &["db:5432"]),
            ("MONGO_URL", "mongodb://u:p@m1:27017,m2:27017/db?replicaSet=rs", &["m1:27017", "m2:27017"]),
            ("REDIS_HOST", "cache", &["cache"]),
            ("KAFKA_BROKERS", "kafka-1:9092,kafka-2:9092", &["kafka-1:9092", "kafka-2:9092"]),
            ("API", "http://api.internal:8080/v1", &["api.internal:8080"]),
            ("UPSTREAM", "[fd00::5]:80", &["fd00::5:80"]),
            ("TZ", "Europe/Berlin", &[]),
            ("IMAGE", "redis:7", &[]),
            ("BASE", "node:20", &[]),
            ("SMTP_URL", "smtp://mail:25", &["mail:25"]),
            ("PUID", "1000:1000", &[]),
            ("TIME", "12:30", &[]),
            ("GREETING", "hello world", &[]),
            ("DB_HOST", "10.0.0.5", &["10.0.0.5"]),
            ("DB_ADDR", "10.0.0.5:5432", &["10.0.0.5:5432"]),
            ("JAVA_OPTS", "-Dspring.redis.host=cache -Dserver.port=8080", &[]),
        ];
        for (key, value, want) in cases {
            assert_eq!(hosts(in_env(key, value)), *want, "{key}={value}");
        }
    }

    #[test]
    fn commands() {
        let cmd = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(hosts(in_command(&cmd("pg_isready -h db -p 5432"))), ["db"]);
        assert_eq!(hosts(in_command(&cmd("redis-cli --host=cache ping"))), ["cache"]);
        assert_eq!(hosts(in_command(&cmd("wait-for-it api:8080 -- npm start"))), ["api:8080"]);
        assert_eq!(hosts(in_command(&["sh".into(), "-c".into(), "curl -f http://web:80/health || exit 1".into()])), ["web:80"]);
        assert!(in_command(&cmd("nginx -g daemon off;")).is_empty());
    }
}

//! `netdoctor probe` output: the live reachability matrix of a project as a table, then
//! where live behaviour differs from the configuration (JSON is the types' own form).

use serde::Serialize;
use std::fmt::Write as _;

/// One pair of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub from: String,
    pub to: String,
    /// What the configuration says: `reachable`, `blocked` (no shared network, ICC off).
    pub expected: &'static str,
    /// Whether `to`'s name resolves from `from` per the configuration.
    pub expected_dns: bool,
    pub ping: Option<String>,
    pub dns: Option<String>,
    pub tcp: Vec<PortResult>,
    /// Whether live probes reached `to` (an echo reply, or a TCP answer of any kind).
    pub reached: Option<bool>,
    pub resolved: Option<bool>,
    /// Where live behaviour differs from the configuration.
    pub differences: Vec<String>,
}

/// One TCP port probed.
#[derive(Debug, Clone, Serialize)]
pub struct PortResult {
    pub port: u16,
    /// `open`, `refused`, `timeout`, `unreachable` or an error.
    pub result: String,
}

/// The whole matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub version: u32,
    pub containers: Vec<String>,
    pub pairs: Vec<Pair>,
    pub probes: usize,
    /// Where the probes ran from: `netns`, `container` or `mixed`.
    pub via: &'static str,
    pub elapsed_ms: u128,
    pub errors: Vec<String>,
}

/// The matrix as a table, then the differences.
pub fn render_probe_matrix(m: &Matrix) -> String {
    let mut out = String::new();
    let w = m.pairs.iter().flat_map(|p| [p.from.len(), p.to.len()]).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "{:<w$}  {:<w$}  {:<9}  {:<10}  {:<20}  tcp", "from", "to", "expected", "ping", "dns");
    for p in &m.pairs {
        let tcp: Vec<String> = p.tcp.iter().map(|t| format!("{}:{}", t.port, t.result)).collect();
        let _ = writeln!(
            out,
            "{:<w$}  {:<w$}  {:<9}  {:<10}  {:<20}  {}",
            p.from,
            p.to,
            p.expected,
            p.ping.as_deref().unwrap_or("-"),
            p.dns.as_deref().unwrap_or("-"),
            if tcp.is_empty() { "-".to_string() } else { tcp.join(" ") }
        );
    }
    let diffs: Vec<&String> = m.pairs.iter().flat_map(|p| p.differences.iter()).collect();
    out.push('\n');
    if diffs.is_empty() {
        let _ = writeln!(out, "live behaviour matches the configuration");
    } else {
        let _ = writeln!(out, "where live behaviour differs from the configuration:");
        for d in diffs {
            let _ = writeln!(out, "  - {d}");
        }
    }
    for e in &m.errors {
        let _ = writeln!(out, "error: {e}");
    }
    let _ = writeln!(
        out,
        "{} containers, {} pairs, {} probes ({}) in {} ms",
        m.containers.len(),
        m.pairs.len(),
        m.probes,
        match m.via {
            "container" => "from throwaway containers",
            "mixed" => "from namespaces and throwaway containers",
            _ => "from inside the namespaces",
        },
        m.elapsed_ms
    );
    out
}

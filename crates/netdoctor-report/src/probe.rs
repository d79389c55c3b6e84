//! `netdoctor probe` output: the live reachability matrix of a project as a table, then
//! where live behaviour differs from the configuration (JSON is the types' own form).

use std::fmt::Write as _;

pub use netdoctor_explain::live::{Matrix, Pair, PortResult};

/// The matrix as JSON: the types' own form.
pub fn render_probe_json(m: &Matrix) -> String {
    crate::json::to_pretty_json(m)
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

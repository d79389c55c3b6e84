//! `netdoctor matrix` output: which workloads (and outside address ranges, and the
//! ingress controller) may connect to which, as an aligned table, JSON, CSV, Markdown,
//! a Graphviz digraph, or netpol-analyzer's `connlist` lines, line for line.

use crate::InputError;
use netdoctor_engine::policy::{Peer, PolicyEngine};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Output formats of `matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum MatrixFormat {
    /// An aligned table.
    Text,
    Json,
    Csv,
    /// A Markdown table.
    Md,
    /// A Graphviz digraph.
    Dot,
    /// netpol-analyzer's `src => dst : connections` lines.
    Connlist,
}

/// One allowed connection, by indices into `MatrixRun::peers` and `MatrixRun::sets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub src: u32,
    pub dst: u32,
    pub set: u32,
    /// A policy that is not evaluated can change this connection.
    pub uncertain: bool,
}

/// A policy (or part of one) that is not evaluated, and which verdicts it makes unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNote {
    /// `projectcalico.org/v3 NetworkPolicy shop/allow-web`.
    pub what: String,
    pub reason: String,
    /// `flows to or from pods in namespace `shop``.
    pub affects: String,
    /// Where it is written.
    pub at: String,
}

/// The matrix as shown: peers and connection sets rendered once, the rows (sorted by
/// source, then destination), the workloads (for graph output), and what is not
/// evaluated.
#[derive(Debug, Clone, Default)]
pub struct MatrixTable {
    /// Peer names, sorted, so row order is index order.
    pub peers: Vec<String>,
    /// Rendered connection sets (`TCP 80,UDP 53,ICMP type 8`).
    pub sets: Vec<String>,
    /// The same sets in netpol-analyzer's spelling, which has no ICMP (`connlist`).
    pub transport_sets: Vec<String>,
    /// Some rule matches ICMP by type: `connlist` says it cannot show that.
    pub icmp_rules: bool,
    pub rows: Vec<Row>,
    pub workloads: Vec<String>,
    /// What is not evaluated: the rows marked uncertain, and the pairs left out as denied
    /// that involve the same pods, may be decided otherwise.
    pub unknown: Vec<UnknownNote>,
}

/// What a rendering shows besides the table: the input's warnings and errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatrixProblems<'a> {
    pub warnings: &'a [String],
    pub errors: &'a [InputError],
}

impl MatrixTable {
    /// The rows as (source, destination, connections) text.
    pub fn lines(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.marked_lines().map(|(src, dst, conns, _)| (src, dst, conns))
    }

    /// The rows as text, with whether each is uncertain.
    pub fn marked_lines(&self) -> impl Iterator<Item = (&str, &str, &str, bool)> {
        let name = |i: u32| self.peers.get(i as usize).map_or("", String::as_str);
        self.rows.iter().map(move |r| (name(r.src), name(r.dst), self.sets.get(r.set as usize).map_or("", String::as_str), r.uncertain))
    }

    /// One line per unevaluated policy: what it is, where, and which verdicts it makes unknown.
    fn unknown_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.unknown.iter().map(|u| format!("{} ({}): {}; {} are unknown", u.what, u.at, u.reason, u.affects))
    }

    /// The engine's matrix, named and sorted for display.
    pub fn of(engine: &PolicyEngine<'_>) -> MatrixTable {
        let mut out = MatrixTable::default();
        let matrix = engine.matrix();
        // Name every peer once, then sort by name so rows sort as integers.
        let mut ids: HashMap<Peer, usize> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        let mut id_of = |peer: Peer| {
            *ids.entry(peer).or_insert_with(|| {
                names.push(engine.peer_name(&peer));
                names.len() - 1
            })
        };
        let raw: Vec<(usize, usize, usize, bool)> =
            matrix.connections.iter().map(|c| (id_of(c.src), id_of(c.dst), c.set, c.uncertain)).collect();
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_unstable_by(|&a, &b| names.get(a).cmp(&names.get(b)));
        let mut rank = vec![0u32; names.len()];
        for (r, &i) in order.iter().enumerate() {
            if let Some(slot) = rank.get_mut(i) {
                *slot = index(r);
            }
        }
        let rank_of = |i: usize| rank.get(i).copied().unwrap_or(u32::MAX);
        out.rows =
            raw.into_iter().map(|(s, d, set, uncertain)| Row { src: rank_of(s), dst: rank_of(d), set: index(set), uncertain }).collect();
        out.unknown = engine
            .uncertainties
            .iter()
            .map(|u| UnknownNote { what: u.what.clone(), reason: u.reason.clone(), affects: u.scope_text(), at: u.origin.to_string() })
            .collect();
        out.rows.sort_unstable();
        out.peers = order.into_iter().map(|i| names.get(i).cloned().unwrap_or_default()).collect();
        out.sets = matrix.sets.iter().map(ToString::to_string).collect();
        out.transport_sets = matrix.sets.iter().map(|s| s.transport_spelling()).collect();
        out.icmp_rules = engine.matches_icmp();
        out.workloads = engine.workloads.iter().map(|w| w.name()).collect();
        out.workloads.sort();
        out
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Renders the rows in `format`; JSON also lists `problems`.
pub fn render_matrix(run: &MatrixTable, problems: MatrixProblems<'_>, format: MatrixFormat) -> String {
    match format {
        MatrixFormat::Connlist => connlist(run),
        MatrixFormat::Text => text(run),
        MatrixFormat::Json => json(run, problems),
        MatrixFormat::Csv => csv(run),
        MatrixFormat::Md => markdown(run),
        MatrixFormat::Dot => dot(run),
    }
}

/// netpol-analyzer's lines, which spell TCP, UDP and SCTP only (a pair allowed only
/// ICMP has no line); when something is not evaluated, or rules match ICMP by type,
/// comment lines first say so, since the format has no place for it on a line.
fn connlist(run: &MatrixTable) -> String {
    let mut out = String::with_capacity(run.rows.len() * 96);
    for line in run.unknown_lines() {
        let _ = writeln!(out, "# unknown: {line}");
    }
    if run.icmp_rules {
        out.push_str("# icmp: policies here match ICMP by type, which this format cannot show; --format text or json lists ICMP too\n");
    }
    let name = |i: u32| run.peers.get(i as usize).map_or("", String::as_str);
    for row in &run.rows {
        let conns = run.transport_sets.get(row.set as usize).map_or("", String::as_str);
        if conns == "No Connections" {
            continue;
        }
        for part in [name(row.src), " => ", name(row.dst), " : ", conns, "\n"] {
            out.push_str(part);
        }
    }
    out
}

/// The marker after an uncertain row's connections.
const UNKNOWN_MARK: &str = " (unknown)";

/// The text and Markdown footer: what is not evaluated and what that means for the rows.
fn unknown_footer(run: &MatrixTable, out: &mut String) {
    if run.unknown.is_empty() {
        return;
    }
    let marked = run.rows.iter().filter(|r| r.uncertain).count();
    let _ = writeln!(
        out,
        "\n{marked} connection{} marked (unknown) may be decided otherwise, and pairs left out as denied that involve the same pods may be allowed:",
        if marked == 1 { "" } else { "s" }
    );
    for line in run.unknown_lines() {
        let _ = writeln!(out, "  {line}");
    }
}

fn text(run: &MatrixTable) -> String {
    let mut out = if run.rows.is_empty() {
        "no allowed connections\n".to_string()
    } else {
        let (src_w, dst_w) = run.lines().fold((6, 11), |(s, d), (src, dst, _)| (s.max(src.len()), d.max(dst.len())));
        let mut out = format!("{:src_w$}  {:dst_w$}  {}\n", "SOURCE", "DESTINATION", "ALLOWED");
        for (src, dst, conns, uncertain) in run.marked_lines() {
            let mark = if uncertain { UNKNOWN_MARK } else { "" };
            let _ = writeln!(out, "{src:src_w$}  {dst:dst_w$}  {conns}{mark}");
        }
        let n = run.rows.len();
        let _ = writeln!(out, "\n{n} allowed connection{}", if n == 1 { "" } else { "s" });
        out
    };
    unknown_footer(run, &mut out);
    out
}

/// One connection of the JSON document (keys in the document's sorted order).
#[derive(serde::Serialize)]
struct JsonConnection<'a> {
    conn: &'a str,
    dst: &'a str,
    src: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unknown: bool,
}

/// One unevaluated policy of the JSON document.
#[derive(serde::Serialize)]
struct JsonUnknown<'a> {
    affects: &'a str,
    at: &'a str,
    reason: &'a str,
    resource: &'a str,
}

/// One input error of the JSON document.
#[derive(serde::Serialize)]
struct JsonError<'a> {
    column: u32,
    file: String,
    line: u32,
    message: &'a str,
}

/// The JSON document: written from borrowed rows, since a tree of values per
/// connection costs gigabytes on a large cluster.
#[derive(serde::Serialize)]
struct JsonDocument<'a> {
    connections: Vec<JsonConnection<'a>>,
    errors: Vec<JsonError<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<JsonUnknown<'a>>,
    version: u32,
    warnings: &'a [String],
}

fn json(run: &MatrixTable, problems: MatrixProblems<'_>) -> String {
    let doc = JsonDocument {
        connections: run.marked_lines().map(|(src, dst, conn, unknown)| JsonConnection { conn, dst, src, unknown }).collect(),
        errors: problems
            .errors
            .iter()
            .map(|e| JsonError { column: e.column, file: e.file.display().to_string(), line: e.line, message: &e.message })
            .collect(),
        unknown: run.unknown.iter().map(|u| JsonUnknown { affects: &u.affects, at: &u.at, reason: &u.reason, resource: &u.what }).collect(),
        version: 1,
        warnings: problems.warnings,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// A CSV field, quoted when it holds a separator or quote.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV; an `unknown` column is added only when something is not evaluated, so the
/// columns stay as they were for clusters netdoctor evaluates whole.
fn csv(run: &MatrixTable) -> String {
    let with_unknown = !run.unknown.is_empty();
    let mut out = String::from(if with_unknown { "src,dst,conn,unknown\n" } else { "src,dst,conn\n" });
    for (src, dst, conns, uncertain) in run.marked_lines() {
        let _ = write!(out, "{},{},{}", csv_field(src), csv_field(dst), csv_field(conns));
        if with_unknown {
            out.push_str(if uncertain { ",true" } else { ",false" });
        }
        out.push('\n');
    }
    out
}

fn markdown(run: &MatrixTable) -> String {
    let mut out = String::from("| src | dst | conn |\n|-----|-----|------|\n");
    let esc = |s: &str| s.replace('|', "\\|");
    for (src, dst, conns, uncertain) in run.marked_lines() {
        let mark = if uncertain { UNKNOWN_MARK } else { "" };
        let _ = writeln!(out, "| {} | {} | {}{mark} |", esc(src), esc(dst), esc(conns));
    }
    unknown_footer(run, &mut out);
    out
}

fn dot(run: &MatrixTable) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph {\n");
    let mut nodes: Vec<&str> = run.workloads.iter().map(String::as_str).collect();
    nodes.extend(run.lines().flat_map(|(src, dst, _)| [src, dst]));
    nodes.sort_unstable();
    nodes.dedup();
    for n in nodes {
        let shape = if n.ends_with("[External]") {
            "box"
        } else if n.starts_with('{') {
            "diamond"
        } else {
            "ellipse"
        };
        let _ = writeln!(out, "\t{} [label={} shape={shape}]", quote(n), quote(n));
    }
    for (src, dst, conns, uncertain) in run.marked_lines() {
        // Uncertain edges are dashed, and say so in their label.
        let (mark, style) = if uncertain { (UNKNOWN_MARK, " style=dashed") } else { ("", "") };
        let _ = writeln!(out, "\t{} -> {} [label={}{style}]", quote(src), quote(dst), quote(&format!("{conns}{mark}")));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MatrixTable {
        let names = ["0.0.0.0-255.255.255.255[External]", "ns/a[Deployment]", "ns/b[Pod]"];
        MatrixTable {
            peers: names.iter().map(ToString::to_string).collect(),
            sets: vec!["All Connections".into(), "TCP 80,UDP 53".into()],
            transport_sets: vec!["All Connections".into(), "TCP 80,UDP 53".into()],
            rows: vec![Row { src: 0, dst: 1, set: 0, uncertain: false }, Row { src: 1, dst: 2, set: 1, uncertain: false }],
            workloads: vec!["ns/a[Deployment]".into(), "ns/b[Pod]".into()],
            ..MatrixTable::default()
        }
    }

    #[test]
    fn formats() {
        let run = sample();
        assert_eq!(
            render_matrix(&run, MatrixProblems::default(), MatrixFormat::Connlist),
            "0.0.0.0-255.255.255.255[External] => ns/a[Deployment] : All Connections\nns/a[Deployment] => ns/b[Pod] : TCP 80,UDP 53\n"
        );
        assert!(
            render_matrix(&run, MatrixProblems::default(), MatrixFormat::Csv).contains("ns/a[Deployment],ns/b[Pod],\"TCP 80,UDP 53\"\n")
        );
        assert!(
            render_matrix(&run, MatrixProblems::default(), MatrixFormat::Md).contains("| ns/a[Deployment] | ns/b[Pod] | TCP 80,UDP 53 |")
        );
        assert!(render_matrix(&run, MatrixProblems::default(), MatrixFormat::Dot)
            .contains("\"ns/a[Deployment]\" -> \"ns/b[Pod]\" [label=\"TCP 80,UDP 53\"]"));
        let json: serde_json::Value =
            serde_json::from_str(&render_matrix(&run, MatrixProblems::default(), MatrixFormat::Json)).unwrap_or_default();
        assert_eq!(json["connections"][1]["conn"], "TCP 80,UDP 53");
        assert!(render_matrix(&run, MatrixProblems::default(), MatrixFormat::Text).starts_with("SOURCE"));
    }
}

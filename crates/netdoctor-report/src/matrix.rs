//! `netdoctor matrix` output: which workloads (and outside address ranges, and the
//! ingress controller) may connect to which, as an aligned table, JSON, CSV, Markdown,
//! a Graphviz digraph, or netpol-analyzer's `connlist` lines, line for line.

use crate::InputError;
use netdoctor_engine::policy::{Peer, PolicyEngine};
use std::collections::HashMap;
use std::io::{self, Write};

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
    pub fn marked_lines(&self) -> impl Iterator<Item = (&str, &str, &str, bool)> + Clone {
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
        // Name every peer once, then sort by name so rows sort as integers. Rows are kept
        // compact (four words) as they come: a large cluster has tens of millions.
        let mut ids: HashMap<Peer, usize> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        let sets = engine.for_each_connection(|c| {
            let mut id_of = |peer: Peer| {
                *ids.entry(peer).or_insert_with(|| {
                    names.push(engine.peer_name(&peer));
                    names.len() - 1
                })
            };
            let (src, dst) = (id_of(c.src), id_of(c.dst));
            out.rows.push(Row { src: index(src), dst: index(dst), set: index(c.set), uncertain: c.uncertain });
        });
        drop(ids);
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_unstable_by(|&a, &b| names.get(a).cmp(&names.get(b)));
        let mut rank = vec![0u32; names.len()];
        for (r, &i) in order.iter().enumerate() {
            if let Some(slot) = rank.get_mut(i) {
                *slot = index(r);
            }
        }
        let rank_of = |i: u32| rank.get(i as usize).copied().unwrap_or(u32::MAX);
        for row in &mut out.rows {
            (row.src, row.dst) = (rank_of(row.src), rank_of(row.dst));
        }
        out.unknown = engine
            .uncertainties
            .iter()
            .map(|u| UnknownNote { what: u.what.clone(), reason: u.reason.clone(), affects: u.scope_text(), at: u.origin.to_string() })
            .collect();
        out.rows.sort_unstable();
        out.peers = order.into_iter().map(|i| names.get(i).cloned().unwrap_or_default()).collect();
        out.sets = sets.iter().map(ToString::to_string).collect();
        out.transport_sets = sets.iter().map(|s| s.transport_spelling()).collect();
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
    let mut out = Vec::with_capacity(run.rows.len().saturating_mul(64));
    // Writing into memory cannot fail.
    let _ = write_matrix(run, problems, format, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the rows in `format` as they are rendered, so the output never has to fit in
/// memory as one text (tens of millions of lines on a large cluster).
pub fn write_matrix(run: &MatrixTable, problems: MatrixProblems<'_>, format: MatrixFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        MatrixFormat::Connlist => connlist(run, out),
        MatrixFormat::Text => text(run, out),
        MatrixFormat::Json => json(run, problems, out),
        MatrixFormat::Csv => csv(run, out),
        MatrixFormat::Md => markdown(run, out),
        MatrixFormat::Dot => dot(run, out),
    }
}

/// netpol-analyzer's lines, which spell TCP, UDP and SCTP only (a pair allowed only
/// ICMP has no line); when something is not evaluated, or rules match ICMP by type,
/// comment lines first say so, since the format has no place for it on a line.
fn connlist(run: &MatrixTable, out: &mut dyn Write) -> io::Result<()> {
    for line in run.unknown_lines() {
        writeln!(out, "# unknown: {line}")?;
    }
    if run.icmp_rules {
        out.write_all(b"# icmp: policies here match ICMP by type, which this format cannot show; --format text or json lists ICMP too\n")?;
    }
    let name = |i: u32| run.peers.get(i as usize).map_or("", String::as_str);
    for row in &run.rows {
        let conns = run.transport_sets.get(row.set as usize).map_or("", String::as_str);
        if conns == "No Connections" {
            continue;
        }
        for part in [name(row.src), " => ", name(row.dst), " : ", conns, "\n"] {
            out.write_all(part.as_bytes())?;
        }
    }
    Ok(())
}

/// The marker after an uncertain row's connections.
const UNKNOWN_MARK: &str = " (unknown)";

/// The text and Markdown footer: what is not evaluated and what that means for the rows.
fn unknown_footer(run: &MatrixTable, out: &mut dyn Write) -> io::Result<()> {
    if run.unknown.is_empty() {
        return Ok(());
    }
    let marked = run.rows.iter().filter(|r| r.uncertain).count();
    writeln!(
        out,
        "\n{marked} connection{} marked (unknown) may be decided otherwise, and pairs left out as denied that involve the same pods may be allowed:",
        if marked == 1 { "" } else { "s" }
    )?;
    for line in run.unknown_lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

fn text(run: &MatrixTable, out: &mut dyn Write) -> io::Result<()> {
    if run.rows.is_empty() {
        out.write_all(b"no allowed connections\n")?;
    } else {
        write_rows_text(run.marked_lines(), out)?;
        let n = run.rows.len();
        writeln!(out, "\n{n} allowed connection{}", if n == 1 { "" } else { "s" })?;
    }
    unknown_footer(run, out)
}

/// The `SOURCE  DESTINATION  ALLOWED` table of `rows` (source, destination,
/// connections, uncertain), columns as wide as their longest entry.
pub(crate) fn write_rows_text<'a>(
    rows: impl Iterator<Item = (&'a str, &'a str, &'a str, bool)> + Clone,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (src_w, dst_w) = rows.clone().fold((6, 11), |(s, d), (src, dst, _, _)| (s.max(src.len()), d.max(dst.len())));
    writeln!(out, "{:src_w$}  {:dst_w$}  ALLOWED", "SOURCE", "DESTINATION")?;
    for (src, dst, conns, uncertain) in rows {
        let mark = if uncertain { UNKNOWN_MARK } else { "" };
        writeln!(out, "{src:src_w$}  {dst:dst_w$}  {conns}{mark}")?;
    }
    Ok(())
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
pub(crate) struct JsonError<'a> {
    column: u32,
    file: String,
    line: u32,
    message: &'a str,
}

/// The JSON document after `connections` (keys in sorted order).
#[derive(serde::Serialize)]
struct JsonRest<'a> {
    errors: Vec<JsonError<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown: Vec<JsonUnknown<'a>>,
    version: u32,
    warnings: &'a [String],
}

/// The JSON document, pretty-printed as one object: `connections` is written one
/// connection at a time, the rest (errors, unknown, version, warnings) after it.
fn json(run: &MatrixTable, problems: MatrixProblems<'_>, out: &mut dyn Write) -> io::Result<()> {
    let rest = JsonRest {
        errors: json_errors(problems),
        unknown: run.unknown.iter().map(|u| JsonUnknown { affects: &u.affects, at: &u.at, reason: &u.reason, resource: &u.what }).collect(),
        version: 1,
        warnings: problems.warnings,
    };
    write_json_document(run.marked_lines(), &rest, out)
}

/// The input errors as the JSON documents list them.
pub(crate) fn json_errors<'a>(problems: MatrixProblems<'a>) -> Vec<JsonError<'a>> {
    problems
        .errors
        .iter()
        .map(|e| JsonError { column: e.column, file: e.file.display().to_string(), line: e.line, message: &e.message })
        .collect()
}

/// `{"connections": [ROWS], REST…}` pretty-printed as serde would print it whole, with
/// the rows written one at a time (a value tree per row costs gigabytes on a large
/// cluster). `rest` must serialize as an object whose keys sort after `connections`.
pub(crate) fn write_json_document<'a>(
    rows: impl Iterator<Item = (&'a str, &'a str, &'a str, bool)>,
    rest: &impl serde::Serialize,
    out: &mut dyn Write,
) -> io::Result<()> {
    out.write_all(b"{\n  \"connections\": [")?;
    let mut any = false;
    for (src, dst, conn, unknown) in rows {
        let one = serde_json::to_string_pretty(&JsonConnection { conn, dst, src, unknown }).map_err(io::Error::other)?;
        out.write_all(if any { b",\n" } else { b"\n" })?;
        any = true;
        for (j, line) in one.lines().enumerate() {
            if j > 0 {
                out.write_all(b"\n")?;
            }
            write!(out, "    {line}")?;
        }
    }
    out.write_all(if any { b"\n  ]," } else { b"]," })?;
    let rest = serde_json::to_string_pretty(rest).map_err(io::Error::other)?;
    // `{\n  "errors": …\n}`: its fields continue the document's object.
    out.write_all(rest.strip_prefix('{').unwrap_or(&rest).as_bytes())?;
    out.write_all(b"\n")
}

/// A CSV field, quoted when it holds a separator or quote.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// CSV; an `unknown` column is added only when something is not evaluated, so the
/// columns stay as they were for clusters netdoctor evaluates whole.
fn csv(run: &MatrixTable, out: &mut dyn Write) -> io::Result<()> {
    let with_unknown = !run.unknown.is_empty();
    out.write_all(if with_unknown { b"src,dst,conn,unknown\n" } else { b"src,dst,conn\n" })?;
    for (src, dst, conns, uncertain) in run.marked_lines() {
        write!(out, "{},{},{}", csv_field(src), csv_field(dst), csv_field(conns))?;
        if with_unknown {
            out.write_all(if uncertain { b",true" } else { b",false" })?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn markdown(run: &MatrixTable, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"| src | dst | conn |\n|-----|-----|------|\n")?;
    let esc = |s: &str| s.replace('|', "\\|");
    for (src, dst, conns, uncertain) in run.marked_lines() {
        let mark = if uncertain { UNKNOWN_MARK } else { "" };
        writeln!(out, "| {} | {} | {}{mark} |", esc(src), esc(dst), esc(conns))?;
    }
    unknown_footer(run, out)
}

fn dot(run: &MatrixTable, out: &mut dyn Write) -> io::Result<()> {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    out.write_all(b"digraph {\n")?;
    // The nodes: every workload, and every peer some row names (marked once per peer).
    let mut named = vec![false; run.peers.len()];
    for r in &run.rows {
        for i in [r.src, r.dst] {
            if let Some(slot) = named.get_mut(i as usize) {
                *slot = true;
            }
        }
    }
    let mut nodes: Vec<&str> = run.workloads.iter().map(String::as_str).collect();
    nodes.extend(run.peers.iter().zip(&named).filter(|(_, used)| **used).map(|(p, _)| p.as_str()));
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
        writeln!(out, "\t{} [label={} shape={shape}]", quote(n), quote(n))?;
    }
    for (src, dst, conns, uncertain) in run.marked_lines() {
        // Uncertain edges are dashed, and say so in their label.
        let (mark, style) = if uncertain { (UNKNOWN_MARK, " style=dashed") } else { ("", "") };
        writeln!(out, "\t{} -> {} [label={}{style}]", quote(src), quote(dst), quote(&format!("{conns}{mark}")))?;
    }
    out.write_all(b"}\n")
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

    /// The JSON written row by row is the document serde would print whole (sorted keys,
    /// two-space indentation), with and without connections, errors and unknown notes.
    #[test]
    fn streamed_json_is_the_pretty_document() {
        let mut full = sample();
        full.unknown.push(UnknownNote { what: "w".into(), reason: "r".into(), affects: "a".into(), at: "f:1".into() });
        let errors = [InputError { file: "x.yaml".into(), line: 2, column: 3, message: "bad".into(), path: None }];
        let warnings = ["careful".to_string()];
        let problems = MatrixProblems { warnings: &warnings, errors: &errors };
        for (run, problems) in
            [(sample(), MatrixProblems::default()), (full, problems), (MatrixTable::default(), MatrixProblems::default())]
        {
            let written = render_matrix(&run, problems, MatrixFormat::Json);
            let value: serde_json::Value = serde_json::from_str(&written).unwrap_or_default();
            assert_eq!(written, format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default()));
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

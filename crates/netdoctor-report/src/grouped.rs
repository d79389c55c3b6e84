//! `matrix --group classes`: one row per pair of behaviour groups (workloads no policy
//! tells apart) with their members listed once, instead of one row per workload pair.
//! On a large cluster whose workloads share roles this is thousands of lines where the
//! full matrix has millions.

use crate::matrix::MatrixProblems;
use netdoctor_engine::policy::{GroupPeer, Peer, PolicyEngine};
use std::io::{self, Write};

/// The grouped matrix as shown.
#[derive(Debug, Clone, Default)]
pub struct GroupedTable {
    /// Per group (`g1`, `g2`, … in order), its members' names, sorted.
    pub groups: Vec<Vec<String>>,
    /// The ends as shown (`g3`, an outside range, `{ingress-controller}`, a workload for
    /// the controller's rows), each once.
    pub names: Vec<String>,
    /// Connection sets as shown.
    pub sets: Vec<String>,
    /// (source, destination, set, uncertain) by index into `names` and `sets`: compact,
    /// since a large cluster still has millions of rows.
    pub rows: Vec<(u32, u32, u32, bool)>,
}

impl GroupedTable {
    /// The engine's grouped matrix, named for display.
    pub fn of(engine: &PolicyEngine<'_>) -> GroupedTable {
        let groups = engine.behaviour_groups();
        let mut names: Vec<String> = Vec::new();
        let mut ids: std::collections::HashMap<GroupPeer, u32> = std::collections::HashMap::new();
        let mut rows = Vec::new();
        let sets = engine.for_each_group_connection(&groups, |s, d, set, uncertain| {
            let mut id = |p: GroupPeer| {
                *ids.entry(p).or_insert_with(|| {
                    names.push(match p {
                        GroupPeer::Group(g) => format!("g{}", g + 1),
                        GroupPeer::External(r) => engine.peer_name(&Peer::External(r)),
                        GroupPeer::IngressController => engine.peer_name(&Peer::IngressController),
                        GroupPeer::Workload(w) => engine.peer_name(&Peer::Workload(w)),
                    });
                    u32::try_from(names.len() - 1).unwrap_or(u32::MAX)
                })
            };
            let (s, d) = (id(s), id(d));
            rows.push((s, d, u32::try_from(set).unwrap_or(u32::MAX), uncertain));
        });
        let sets = sets.iter().map(ToString::to_string).collect();
        let groups = groups
            .iter()
            .map(|g| {
                let mut members: Vec<String> = g.members.iter().map(|&w| engine.peer_name(&Peer::Workload(w))).collect();
                members.sort();
                members
            })
            .collect();
        GroupedTable { groups, names, sets, rows }
    }
}

/// Writes the grouped matrix as text (`json`: false) or as one JSON document.
pub fn write_grouped(table: &GroupedTable, problems: MatrixProblems<'_>, json: bool, out: &mut dyn Write) -> io::Result<()> {
    let name = |i: u32| table.names.get(i as usize).map_or("", String::as_str);
    let set = |i: u32| table.sets.get(i as usize).map_or("", String::as_str);
    if json {
        return write_json(table, problems, out);
    }
    let members = table.groups.iter().map(Vec::len).sum::<usize>();
    writeln!(out, "{} groups of {members} workloads (workloads no policy tells apart):", table.groups.len())?;
    for (i, m) in table.groups.iter().enumerate() {
        writeln!(out, "  g{}: {}", i + 1, m.join(", "))?;
    }
    if table.rows.is_empty() {
        return out.write_all(b"\nno allowed connections\n");
    }
    let (src_w, dst_w) = table.rows.iter().fold((6, 11), |(s, d), &(src, dst, _, _)| (s.max(name(src).len()), d.max(name(dst).len())));
    writeln!(out, "\n{:src_w$}  {:dst_w$}  ALLOWED", "SOURCE", "DESTINATION")?;
    for &(src, dst, conns, uncertain) in &table.rows {
        let mark = if uncertain { " (unknown)" } else { "" };
        writeln!(out, "{:src_w$}  {:dst_w$}  {}{mark}", name(src), name(dst), set(conns))?;
    }
    writeln!(out, "\n{} allowed connection(s) between groups; a group's row with itself is between its different members", table.rows.len())
}

/// One connection of the JSON document (keys sorted).
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    conn: &'a str,
    dst: &'a str,
    src: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unknown: bool,
}

/// One group of the JSON document.
#[derive(serde::Serialize)]
struct JsonGroup<'a> {
    id: String,
    members: &'a [String],
}

/// The rest of the JSON document after `connections` (keys sorted).
#[derive(serde::Serialize)]
struct JsonRest<'a> {
    errors: Vec<serde_json::Value>,
    groups: Vec<JsonGroup<'a>>,
    version: u32,
    warnings: &'a [String],
}

/// The JSON document, pretty-printed as one object, `connections` written row by row
/// (a value tree per row costs gigabytes on a large cluster).
fn write_json(table: &GroupedTable, problems: MatrixProblems<'_>, out: &mut dyn Write) -> io::Result<()> {
    let name = |i: u32| table.names.get(i as usize).map_or("", String::as_str);
    out.write_all(b"{\n  \"connections\": [")?;
    for (i, &(src, dst, set, unknown)) in table.rows.iter().enumerate() {
        let conn = table.sets.get(set as usize).map_or("", String::as_str);
        let one = serde_json::to_string_pretty(&JsonRow { conn, dst: name(dst), src: name(src), unknown }).map_err(io::Error::other)?;
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        for (j, line) in one.lines().enumerate() {
            if j > 0 {
                out.write_all(b"\n")?;
            }
            write!(out, "    {line}")?;
        }
    }
    out.write_all(if table.rows.is_empty() { b"]," } else { b"\n  ]," })?;
    let rest = JsonRest {
        errors: problems
            .errors
            .iter()
            .map(|e| serde_json::json!({"column": e.column, "file": e.file.display().to_string(), "line": e.line, "message": e.message}))
            .collect(),
        groups: table.groups.iter().enumerate().map(|(i, members)| JsonGroup { id: format!("g{}", i + 1), members }).collect(),
        version: 1,
        warnings: problems.warnings,
    };
    let rest = serde_json::to_string_pretty(&rest).map_err(io::Error::other)?;
    out.write_all(rest.strip_prefix('{').unwrap_or(&rest).as_bytes())?;
    out.write_all(b"\n")
}

//! `matrix --group classes`: one row per pair of behaviour groups (workloads no policy
//! tells apart) with their members listed once, instead of one row per workload pair.
//! On a large cluster whose workloads share roles this is thousands of lines where the
//! full matrix has millions.

use crate::matrix::{json_errors, write_json_document, write_rows_text, JsonError, MatrixProblems};
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
    let rows = table.rows.iter().map(|&(src, dst, conns, uncertain)| (name(src), name(dst), set(conns), uncertain));
    if json {
        let rest = JsonRest {
            errors: json_errors(problems),
            groups: table.groups.iter().enumerate().map(|(i, members)| JsonGroup { id: format!("g{}", i + 1), members }).collect(),
            version: 1,
            warnings: problems.warnings,
        };
        return write_json_document(rows, &rest, out);
    }
    let members = table.groups.iter().map(Vec::len).sum::<usize>();
    writeln!(out, "{} groups of {members} workloads (workloads no policy tells apart):", table.groups.len())?;
    for (i, m) in table.groups.iter().enumerate() {
        writeln!(out, "  g{}: {}", i + 1, m.join(", "))?;
    }
    if table.rows.is_empty() {
        return out.write_all(b"\nno allowed connections\n");
    }
    out.write_all(b"\n")?;
    write_rows_text(rows, out)?;
    writeln!(out, "\n{} allowed connection(s) between groups; a group's row with itself is between its different members", table.rows.len())
}

/// One group of the JSON document.
#[derive(serde::Serialize)]
struct JsonGroup<'a> {
    id: String,
    members: &'a [String],
}

/// The JSON document after `connections` (keys sorted).
#[derive(serde::Serialize)]
struct JsonRest<'a> {
    errors: Vec<JsonError<'a>>,
    groups: Vec<JsonGroup<'a>>,
    version: u32,
    warnings: &'a [String],
}

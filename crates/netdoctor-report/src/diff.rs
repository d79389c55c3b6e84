//! `netdoctor diff` output: text (`+`/`-` lines), JSON, and netpol-analyzer's `diff`
//! lines.

use crate::InputError;
use netdoctor_engine::policy::{Change, ConnSet, PolicyDiff};
use std::fmt::Write as _;

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum DiffFormat {
    /// `+`/`-` lines, then a count.
    Text,
    Json,
    /// netpol-analyzer's `diff` text output: `Connectivity diff:`, then one
    /// `diff-type: …, source: …, destination: …, ref1: …, ref2: …` line per changed pair.
    Connlist,
}

/// Renders the changes in `format`; `errors` are the input's (JSON lists them).
pub fn render_diff(run: &PolicyDiff, errors: &[InputError], format: DiffFormat) -> String {
    match format {
        DiffFormat::Text => text(run),
        DiffFormat::Json => json(run, errors),
        DiffFormat::Connlist => connlist(run),
    }
}

/// A set as text, `No Connections` when empty.
fn show(conns: &ConnSet) -> String {
    if conns.is_empty() {
        "No Connections".to_string()
    } else {
        conns.to_string()
    }
}

fn text(run: &PolicyDiff) -> String {
    let mut out = String::new();
    if run.changes.is_empty() {
        out.push_str(if run.not_evaluated.is_empty() {
            "no changes in allowed connections\n"
        } else {
            "no changes in allowed connections between the pods in the manifests\n"
        });
        not_evaluated(&mut out, run);
        return out;
    }
    let (mut added, mut removed) = (0usize, 0usize);
    for c in &run.changes {
        let (plus, minus) = (c.added(), c.removed());
        if !plus.is_empty() {
            added += 1;
            let _ = writeln!(out, "+ {} => {} : {}", c.src, c.dst, plus);
        }
        if !minus.is_empty() {
            removed += 1;
            let _ = writeln!(out, "- {} => {} : {}", c.src, c.dst, minus);
        }
    }
    let _ = writeln!(out, "\n{added} pair(s) gain connections, {removed} pair(s) lose connections");
    not_evaluated(&mut out, run);
    out
}

/// What the comparison could not see, after the answer it qualifies.
fn not_evaluated(out: &mut String, run: &PolicyDiff) {
    for note in &run.not_evaluated {
        let _ = writeln!(out, "note: {note}");
    }
}

fn json(run: &PolicyDiff, errors: &[InputError]) -> String {
    let changes: Vec<serde_json::Value> = run
        .changes
        .iter()
        .map(|c| {
            serde_json::json!({
                "src": c.src, "dst": c.dst, "kind": c.kind(),
                "old": show(&c.old), "new": show(&c.new),
                "added": show(&c.added()), "removed": show(&c.removed()),
            })
        })
        .collect();
    let errors: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| serde_json::json!({"file": e.file.display().to_string(), "line": e.line, "column": e.column, "message": e.message}))
        .collect();
    let doc = serde_json::json!({
        "version": 1, "changes": changes, "not_evaluated": run.not_evaluated, "warnings": run.warnings, "errors": errors,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

fn connlist(run: &PolicyDiff) -> String {
    // As netpol-analyzer prints it: a header, then changed, added and removed pairs, each
    // group sorted by source and destination; outside ranges without their `[External]`.
    let mut out = String::with_capacity(run.changes.len() * 128 + 20);
    out.push_str("Connectivity diff:\n");
    let rank = |c: &Change| match c.kind() {
        "changed" => 0,
        "added" => 1,
        _ => 2,
    };
    let mut changes: Vec<&Change> = run.changes.iter().collect();
    changes.sort_by_key(|c| rank(c));
    let peer = |name: &str| name.strip_suffix("[External]").unwrap_or(name).to_string();
    for c in changes {
        let _ = write!(
            out,
            "diff-type: {}, source: {}, destination: {}, ref1: {}, ref2: {}",
            c.kind(),
            peer(&c.src),
            peer(&c.dst),
            show(&c.old),
            show(&c.new)
        );
        let change = [&c.src, &c.dst].into_iter().find_map(|w| {
            if run.new_workloads.contains(w.as_str()) && !run.old_workloads.contains(w.as_str()) {
                Some(format!("workload {w} added"))
            } else if run.old_workloads.contains(w.as_str()) && !run.new_workloads.contains(w.as_str()) {
                Some(format!("workload {w} removed"))
            } else {
                None
            }
        });
        if let Some(info) = change {
            let _ = write!(out, ", workloads-diff-info: {info}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netdoctor_engine::policy::PortSet;
    use netdoctor_model::Protocol;

    #[test]
    fn text_lists_added_then_removed() {
        let c = Change {
            src: "a".into(),
            dst: "b".into(),
            old: ConnSet::of(Protocol::Tcp, PortSet::range(80, 81)),
            new: ConnSet::of(Protocol::Tcp, PortSet::range(81, 82)),
        };
        let run = PolicyDiff { changes: vec![c], ..PolicyDiff::default() };
        assert_eq!(
            render_diff(&run, &[], DiffFormat::Text),
            "+ a => b : TCP 82\n- a => b : TCP 80\n\n1 pair(s) gain connections, 1 pair(s) lose connections\n"
        );
    }
}

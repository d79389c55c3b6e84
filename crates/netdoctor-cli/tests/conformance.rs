//! Conformance with netpol-analyzer: every case of the shared corpus
//! (`../shared/conformance/netpol-analyzer/<case>/input`) through `matrix --format
//! connlist`, compared with the case's `expected.txt` as sets of lines.
//!
//! Cases that do not match yet are listed in `KNOWN_DIFFERENCES` with the reason. The
//! list may only shrink: a listed case that starts passing fails the test (remove it
//! from the list), and so does any unlisted case that fails.

#[path = "../../../test-support/skip.rs"]
mod skip;
use netdoctor_cli::matrix;
use netdoctor_report::{render_matrix, MatrixFormat};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Cases known to differ, each with a one-line reason. Keep sorted.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// Differing lines shown per failing case.
const SHOWN_LINES: usize = 8;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/netpol-analyzer")
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines().map(|l| l.trim_end().to_string()).filter(|l| !l.is_empty()).collect()
}

/// Compares one case; `Err` describes the difference.
fn run_case(dir: &Path) -> Result<(), String> {
    let expected_text = std::fs::read_to_string(dir.join("expected.txt")).map_err(|e| format!("cannot read expected.txt: {e}"))?;
    let expected = lines(&expected_text);
    let run = matrix::run(&[dir.join("input")], Default::default());
    let rendered = render_matrix(&run.table, run.problems(), MatrixFormat::Connlist);
    // netdoctor's own comment lines say what it does not evaluate (peers by node name);
    // netpol-analyzer's format has no such lines. They come first, one per note.
    let notes = rendered.lines().take_while(|l| l.starts_with("# unknown: ")).count();
    let mut problems = Vec::new();
    if notes != run.table.unknown.len() {
        problems.push(format!("  {notes} `# unknown:` comment lines for {} unevaluated parts", run.table.unknown.len()));
    }
    let got = lines(&rendered.lines().skip(notes).collect::<Vec<_>>().join("\n"));
    for e in &run.errors {
        problems.push(format!("  input error: {e}"));
    }
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    if !missing.is_empty() {
        problems.push(format!("  {} expected line(s) missing, e.g.:", missing.len()));
        problems.extend(missing.iter().take(SHOWN_LINES).map(|l| format!("    - {l}")));
    }
    if !extra.is_empty() {
        problems.push(format!("  {} unexpected line(s), e.g.:", extra.len()));
        problems.extend(extra.iter().take(SHOWN_LINES).map(|l| format!("    + {l}")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn netpol_analyzer_corpus() {
    let root = corpus_dir();
    if !root.is_dir() {
        let reason = format!("conformance corpus not found at {}", root.display());
        skip::skip("netpol-analyzer conformance", &reason);
        return;
    }
    let entries = std::fs::read_dir(&root).unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()));
    let mut cases: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("expected.txt").is_file()).collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases under {}", root.display());

    let mut failures = Vec::new();
    let mut passing = 0;
    let mut known = 0;
    for dir in &cases {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let listed = KNOWN_DIFFERENCES.iter().find(|(case, _)| *case == name);
        match (run_case(dir), listed) {
            (Ok(()), None) => passing += 1,
            (Ok(()), Some(_)) => failures.push(format!("{name}: passes now; remove it from KNOWN_DIFFERENCES")),
            (Err(_), Some(_)) => known += 1,
            (Err(diff), None) => failures.push(format!("{name}: output differs from expected.txt\n{diff}")),
        }
    }
    for (case, _) in KNOWN_DIFFERENCES {
        if !cases.iter().any(|d| d.file_name().and_then(|n| n.to_str()) == Some(case)) {
            failures.push(format!("{case}: listed in KNOWN_DIFFERENCES but not in the corpus"));
        }
    }
    eprintln!(
        "netpol-analyzer conformance: {passing} passing, {known} known differences, {} failing, of {} cases",
        failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Loads every YAML file of the shared compose corpus (compose-go and docker compose test
//! data) as `docker compose -f FILE` would, checking that nothing panics and that every
//! error is located: a line, or a reason about the whole file. Prints a summary.

#[path = "../../../test-support/skip.rs"]
mod skip;
use netdoctor_sources::compose::{load, LoadOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/compose")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn corpus_loads_without_panics_and_errors_are_located() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        skip::skip("compose corpus", &format!("no compose corpus at {}", dir.display()));
        return;
    }
    // Canonical, so that the summary can print paths relative to it.
    let dir = dir.canonicalize().unwrap_or(dir);
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no yaml files under {}", dir.display());

    let (mut loaded, mut errors, mut panicked, mut unlocated) = (0, Vec::new(), Vec::new(), Vec::new());
    for file in &files {
        let working_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let opts = LoadOptions { files: vec![file.clone()], working_dir, ..LoadOptions::default() };
        match catch_unwind(AssertUnwindSafe(|| load(&opts))) {
            Err(_) => panicked.push(file.clone()),
            Ok(Ok(_)) => loaded += 1,
            Ok(Err(e)) if e.is_located() => errors.push(e),
            Ok(Err(e)) => unlocated.push(e),
        }
    }

    let shown = |p: &Path| p.strip_prefix(&dir).unwrap_or(p).display().to_string();
    println!("compose corpus: {} files, {loaded} loaded, {} errored", files.len(), errors.len() + unlocated.len());
    for e in errors.iter().chain(&unlocated) {
        println!("  {}:{}:{}: {}", shown(&e.file), e.line, e.column, e.message);
    }
    assert!(panicked.is_empty(), "panicked on: {panicked:?}");
    assert!(unlocated.is_empty(), "errors without a location: {unlocated:?}");
}

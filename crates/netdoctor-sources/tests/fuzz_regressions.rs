//! Replays hostile inputs, found by `cargo fuzz` (see `fuzz/README.md`) or written by
//! hand, through the YAML reader and the Compose loader. Each file under
//! `tests/fuzz_regressions/` is loaded as the `compose.yaml` of a project of its own;
//! nothing may panic or hang, and every error must say where it is.

use netdoctor_sources::compose::{self, LoadOptions};
use netdoctor_sources::yaml;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Far above what any of the inputs needs in a debug build; only a hang gets near it.
const TIME_LIMIT: Duration = Duration::from_secs(20);

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// What went wrong with one input, if anything.
fn replay(input: &Path, bytes: &[u8]) -> Result<String, String> {
    let project = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    // A fixed directory name keeps the derived project name the same on every run.
    let dir = project.path().join("fuzz");
    std::fs::create_dir(&dir)
        .and_then(|()| std::fs::write(dir.join("compose.yaml"), bytes))
        .map_err(|e| format!("writing the project: {e}"))?;
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let file: Arc<Path> = Arc::from(input);
        let mut errors = Vec::new();
        errors.extend(yaml::decode(bytes, &file).err());
        errors.extend(yaml::parse(&String::from_utf8_lossy(bytes), file).err());
        let opts = LoadOptions { working_dir: dir.clone(), ..LoadOptions::default() };
        match compose::load(&opts).map_err(|e| vec![e]).and_then(|doc| compose::lower(&doc)) {
            Ok(model) => (format!("loaded {} services", model.workloads.len()), errors),
            Err(load_errors) => {
                let first = load_errors.first().map(ToString::to_string).unwrap_or_default();
                errors.extend(load_errors);
                (format!("error {first}"), errors)
            }
        }
    }));
    let elapsed = start.elapsed();
    let Ok((summary, errors)) = outcome else { return Err("panicked".to_string()) };
    if let Some(e) = errors.iter().find(|e| !e.is_located()) {
        return Err(format!("error without a location: {e}"));
    }
    if elapsed > TIME_LIMIT {
        return Err(format!("took {elapsed:?}"));
    }
    Ok(summary)
}

#[test]
fn hostile_inputs_neither_panic_nor_hang_and_errors_are_located() {
    let files = inputs();
    assert!(!files.is_empty(), "no inputs under tests/fuzz_regressions");
    let mut failures = Vec::new();
    for input in &files {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = std::fs::read(input).unwrap_or_else(|e| panic!("reading {}: {e}", input.display()));
        match replay(input, &bytes) {
            // Shortened: the paths in messages point into a temporary directory.
            Ok(summary) => println!("{name}: {}", summary.chars().take(160).collect::<String>()),
            Err(problem) => failures.push(format!("{name}: {problem}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

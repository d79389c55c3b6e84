//! The real-world Compose files in `../shared/corpus/compose/` (Docker Compose's own
//! end-to-end files and compose-go's loader test data): every valid file loads without
//! error and without false error-severity findings; every invalid-on-purpose file gets
//! a located, explained error.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../../../test-support/skip.rs"]
mod skip;
use netdoctor_cli::check::{self, Inputs};
use netdoctor_cli::config::{self, ConfigFile, Overrides};
use netdoctor_rules::Severity;
use std::path::{Path, PathBuf};

/// Files that must fail to load, by path prefix under the corpus, and why.
const INVALID: &[(&str, &str)] = &[
    // Not Compose files: Helm charts and unrendered templates. (Kubernetes manifests, such
    // as `bridge/expected-kubernetes/`, are read as manifests and must load cleanly.)
    ("docker-compose-e2e/pkg/e2e/fixtures/bridge/expected-helm/templates/", "unrendered `{{ … }}` template"),
    ("docker-compose-e2e/pkg/e2e/fixtures/bridge/expected-helm/Chart.yaml", "unknown top-level key `apiVersion`"),
    ("docker-compose-e2e/pkg/e2e/fixtures/bridge/expected-helm/values.yaml", "unknown top-level key `projectName`"),
    // Env files the test data names but does not ship (or, for env_file, on purpose).
    ("compose-go-testdata/cli/testdata/env-file/compose-with-env-file.yaml", "simple-env not found"),
    ("compose-go-testdata/cli/testdata/env-file/compose-with-env-files.yaml", "simple-env not found"),
    ("compose-go-testdata/loader/testdata/include/dir/compose.yaml", "extra.env not found"),
    ("docker-compose-e2e/pkg/e2e/fixtures/env_file/compose.yaml", "/doesnotexist/.env not found"),
    // Error cases of the loaders' own tests.
    ("compose-go-testdata/loader/testdata/compose-include-cycle.yaml", "`include` cycle"),
    ("compose-go-testdata/loader/testdata/empty.yaml", "empty compose file"),
    ("docker-compose-e2e/pkg/e2e/testdata/TestUpImageID/compose.yaml", "required variable ID is missing a value"),
    // compose-go's test-only `remote:` resource loader, which real Compose does not have.
    ("compose-go-testdata/loader/testdata/remote/cycle/", "not found"),
    ("compose-go-testdata/loader/testdata/remote/nested/compose.yaml", "not found"),
];

/// Error-severity findings in valid files that are real problems, not false alarms.
const TRUE_POSITIVES: &[(&str, &str, &str)] = &[(
    "docker-compose-e2e/pkg/e2e/fixtures/bridge/compose.yaml",
    "ND110",
    "serviceA publishes 80:8080 but its only network is `internal: true`: the port is unreachable",
)];

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/compose");
    if dir.is_dir() {
        return Some(dir);
    }
    skip::skip("real-world corpus", &format!("the shared corpus is not next to this clone ({} is absent)", dir.display()));
    None
}

fn compose_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            compose_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn real_world_compose_files() {
    let Some(root) = corpus() else { return };
    let mut files = Vec::new();
    compose_files(&root, &mut files);
    assert!(files.len() > 250, "expected the whole corpus, found {} files", files.len());
    let settings = config::resolve(ConfigFile::default(), None, "", Overrides::default());
    let (mut loaded, mut invalid) = (0, 0);
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let inputs = Inputs { paths: vec![file.clone()], ..Inputs::default() };
        let report = check::run(&inputs, &settings, Vec::new());
        match INVALID.iter().find(|(prefix, _)| rel.starts_with(prefix)) {
            Some((_, why)) => {
                invalid += 1;
                match report.errors.first() {
                    None => problems.push(format!("{rel}: loaded, but it is invalid on purpose ({why})")),
                    Some(e) if !e.message.contains(why) => problems.push(format!("{rel}: error `{}` does not say `{why}`", e.message)),
                    Some(e) if e.file.as_os_str().is_empty() => problems.push(format!("{rel}: error `{}` names no file", e.message)),
                    Some(_) => {}
                }
            }
            None => {
                loaded += 1;
                problems.extend(
                    report.errors.iter().map(|e| format!("{rel}: unexpected error {}:{}: {}", e.file.display(), e.line, e.message)),
                );
                for f in report.findings.iter().filter(|f| f.severity == Severity::Error) {
                    if !TRUE_POSITIVES.iter().any(|(path, id, _)| *path == rel && *id == f.id) {
                        problems.push(format!("{rel}: error-severity {} {}", f.id, f.message));
                    }
                }
            }
        }
    }
    println!("corpus: {} files, {loaded} valid loaded, {invalid} invalid on purpose", files.len());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

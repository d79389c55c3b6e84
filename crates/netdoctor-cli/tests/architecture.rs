//! The pipeline's shape (crates/README.md): each crate depends only on the crates to
//! its left. Checked on the manifests' `[dependencies]` (tests may use more).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // test code

use std::path::Path;

/// The netdoctor crates a crate's library may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("netdoctor-model", &[]),
    ("netdoctor-probe", &[]),
    ("netdoctor-sources", &["netdoctor-model"]),
    ("netdoctor-engine", &["netdoctor-model"]),
    ("netdoctor-rules", &["netdoctor-model", "netdoctor-engine"]),
    ("netdoctor-explain", &["netdoctor-model", "netdoctor-engine", "netdoctor-rules", "netdoctor-probe"]),
    ("netdoctor-report", &["netdoctor-model", "netdoctor-engine", "netdoctor-rules", "netdoctor-explain"]),
    (
        "netdoctor-cli",
        &[
            "netdoctor-model",
            "netdoctor-sources",
            "netdoctor-engine",
            "netdoctor-rules",
            "netdoctor-explain",
            "netdoctor-report",
            "netdoctor-probe",
        ],
    ),
];

/// The netdoctor crates named in a manifest's `[dependencies]` table.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_table = false;
    let mut out = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[dependencies]";
            continue;
        }
        if in_table {
            if let Some(name) = line.split(['=', '.', ' ']).next().filter(|n| n.starts_with("netdoctor-")) {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[test]
fn crates_depend_one_way() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // (The `xtask` development crate sits outside `crates/` and depends on none of them.)
    let mut seen = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let allowed = ALLOWED.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        let allowed = allowed.unwrap_or_else(|| panic!("{name} is not in the pipeline map: add it to crates/README.md and ALLOWED"));
        for dep in dependencies(&manifest) {
            assert!(allowed.contains(&dep.as_str()), "{name} depends on {dep}, against the pipeline's direction (crates/README.md)");
        }
        seen += 1;
    }
    assert_eq!(seen, ALLOWED.len(), "every crate of the map exists");
}

#[test]
fn the_manifest_reader_sees_dependencies() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\nnetdoctor-model.workspace = true\nnetdoctor-engine = { workspace = true }\nserde = \"1\"\n[dev-dependencies]\nnetdoctor-sources.workspace = true\n";
    assert_eq!(dependencies(manifest), ["netdoctor-model", "netdoctor-engine"]);
}

/// `cargo xtask new-rule` writes its placeholders as `TODO`: a rule, its documentation or
/// its fixtures must not ship with one left.
#[test]
fn no_scaffold_placeholder_is_left_in_a_rule() {
    fn walk(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if std::fs::read_to_string(&path).is_ok_and(|text| text.contains("TODO")) {
                found.push(path.display().to_string());
            }
        }
    }
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../netdoctor-rules");
    let mut found = Vec::new();
    for dir in ["src/rules", "tests/fixtures"] {
        walk(&rules.join(dir), &mut found);
    }
    assert!(found.is_empty(), "fill in the scaffold's TODOs: {found:?}");
}

//! Registers every rule from its own file: each `src/rules/<family>/<rule>.rs` declares
//! `pub struct Name => Severity, "ND###";` in `declare_rule!`. This writes, into OUT_DIR,
//! each family's module list (`rules_<family>.rs`, included by its `mod.rs`) and the
//! registry (`registry.rs`, included by `src/registry.rs`), so adding a rule takes its
//! file and its fixtures. A malformed or duplicate ID stops the build with the file named.

#![allow(clippy::panic)] // a build script stops the build by panicking, naming the file at fault

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const FAMILIES: &[&str] = &["attachment", "ip", "dns", "policy", "cni_firewall", "growth"];

/// A rule's declaration: `struct Name => Severity, "ND###";`.
fn declaration(text: &str) -> Option<(String, String)> {
    let at = text.find("declare_rule!")?;
    let rest = text.get(at..)?;
    let s = rest.find("struct ")? + "struct ".len();
    let after = rest.get(s..)?;
    let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let id_start = after.find('"')? + 1;
    let id_len = after.get(id_start..)?.find('"')?;
    Some((name, after.get(id_start..id_start + id_len)?.to_string()))
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let rules_dir = manifest.join("src/rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    let mut registry: Vec<(String, String, String)> = Vec::new();
    for family in FAMILIES {
        let dir = rules_dir.join(family);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rs") && p.file_name().is_some_and(|n| n != "mod.rs"))
            .collect();
        files.sort();
        let mut modules = String::new();
        for file in &files {
            println!("cargo:rerun-if-changed={}", file.display());
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            let _ = writeln!(modules, "#[path = {:?}]\nmod {stem};", file.display().to_string());
            let Some((name, id)) = declaration(&text) else { continue };
            let well_formed = id.len() == 5 && id.starts_with("ND") && id.chars().skip(2).all(|c| c.is_ascii_digit());
            assert!(well_formed, "{}: `{id}` is not a rule ID (ND followed by three digits)", file.display());
            let _ = writeln!(modules, "pub use {stem}::{name};");
            registry.push((id, family.to_string(), name));
        }
        write(&out.join(format!("rules_{family}.rs")), &modules);
    }
    registry.sort();
    for pair in registry.windows(2) {
        if let [a, b] = pair {
            assert!(a.0 != b.0, "{} is declared by both {} and {}: IDs never change meaning and are never reused", a.0, a.2, b.2);
        }
    }
    let mut text =
        String::from("/// Every rule, by ID (generated from the rule files by build.rs).\npub const RULES: &[Registered] = &[\n");
    for (id, family, name) in &registry {
        let _ = writeln!(text, "    reg({id:?}, &crate::rules::{family}::{name}),");
    }
    text.push_str("];\n");
    write(&out.join("registry.rs"), &text);
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

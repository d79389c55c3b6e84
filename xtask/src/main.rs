//! Development tasks.
//!
//! `cargo xtask new-rule ND### kebab-name`: scaffolds a rule — its file under
//! `crates/netdoctor-rules/src/rules/<family>/`, declaring its ID, with the documentation
//! sections to fill, and the two fixtures (`fires.yaml`, `quiet.yaml`). The rules crate's
//! build script registers it from its file. The ID must be the next free number of its
//! family (IDs never change meaning and are never reused). Then fill the sections and the
//! check, and run the commands it prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Families by the ID's first digit: (folder under `rules/`, fixtures in Kubernetes form).
const FAMILIES: &[(char, &str, bool)] = &[
    ('1', "attachment", false),
    ('2', "ip", false),
    ('3', "dns", false),
    ('4', "policy", true),
    ('5', "cni_firewall", false),
    ('6', "growth", false),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["new-rule", id, name] => new_rule(&root, id, name),
        _ => Err("usage: cargo xtask new-rule ND### kebab-name   (e.g. cargo xtask new-rule ND410 egress-to-nowhere)".to_string()),
    };
    match result {
        Ok(next) => {
            println!("{next}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `egress-to-nowhere` → `EgressToNowhere`.
fn struct_name(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The IDs the rule files declare (`struct Name => Severity, "ND###";`), sorted.
fn declared_ids(rules_dir: &Path) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for &(_, folder, _) in FAMILIES {
        let dir = rules_dir.join(folder);
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_some_and(|x| x == "rs") {
                ids.extend(declared_id(&read(&path)?));
            }
        }
    }
    ids.sort();
    Ok(ids)
}

/// The ID in a rule file's `declare_rule!`.
fn declared_id(text: &str) -> Option<String> {
    let decl = text.get(text.find("declare_rule!")?..)?;
    let line = decl.lines().find(|l| l.trim_start().starts_with("pub struct ") && l.contains("=>"))?;
    let start = line.find('"')? + 1;
    let len = line.get(start..)?.find('"')?;
    line.get(start..start + len).map(str::to_string)
}

fn new_rule(root: &Path, id: &str, name: &str) -> Result<String, String> {
    let well_formed = id.len() == 5 && id.starts_with("ND") && id.get(2..).is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()));
    if !well_formed {
        return Err(format!("`{id}` is not a rule ID: expected ND followed by three digits"));
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || name.starts_with('-') {
        return Err(format!("`{name}` is not a kebab-case rule name (lowercase words joined by `-`)"));
    }
    let digit = id.chars().nth(2).unwrap_or('0');
    let &(_, folder, kubernetes) =
        FAMILIES.iter().find(|(d, _, _)| *d == digit).ok_or(format!("{id}: no family has IDs starting with ND{digit}"))?;
    let rules = root.join("crates/netdoctor-rules");
    let ids = declared_ids(&rules.join("src/rules"))?;
    if ids.iter().any(|i| i == id) {
        return Err(format!("{id} is taken: IDs never change meaning"));
    }
    let family_prefix = format!("ND{digit}");
    let next = ids
        .iter()
        .filter(|i| i.starts_with(&family_prefix))
        .filter_map(|i| i.get(2..).and_then(|n| n.parse::<u32>().ok()))
        .max()
        .map_or(digit.to_digit(10).unwrap_or(0) * 100 + 1, |n| n + 1);
    if id.get(2..).and_then(|n| n.parse::<u32>().ok()) != Some(next) {
        return Err(format!("{id} is not the next free number of its family: use ND{next}"));
    }
    let file = name.replace('-', "_");
    let ty = struct_name(name);
    let rule_file = rules.join(format!("src/rules/{folder}/{file}.rs"));
    if rule_file.exists() {
        return Err(format!("{} exists", rule_file.display()));
    }
    let fixtures = rules.join(format!("tests/fixtures/{id}"));
    write(&rule_file, &rule_source(id, &ty))?;
    let (fires, quiet) = if kubernetes { (K8S_FIXTURE, K8S_FIXTURE) } else { (COMPOSE_FIXTURE, COMPOSE_FIXTURE) };
    write(&fixtures.join("fires.yaml"), &format!("# {id} fires: TODO make this input show the problem, and say where.\n{fires}"))?;
    write(&fixtures.join("quiet.yaml"), &format!("# {id} stays quiet: TODO the same input, done right.\n{quiet}"))?;
    Ok(format!(
        "created {} and {}/{{fires,quiet}}.yaml; {id} `{name}` is registered from its file.\nnext:\n  1. fill the documentation sections and the check in {}\n  2. cargo fmt\n  3. INSTA_UPDATE=always cargo test -p netdoctor-rules --test fixtures   (then read the snapshots)\n  4. UPDATE_DOCS=1 cargo test -p netdoctor-cli docs_match   (writes docs/rules/{id}.md and the README table)",
        rel(root, &rule_file),
        rel(root, &fixtures),
        rel(root, &rule_file)
    ))
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &PathBuf, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn rule_source(id: &str, ty: &str) -> String {
    format!(
        r#"//! {id}: TODO one line on what it finds.

use crate::prelude::*;

declare_rule! {{
    /// ## What it checks
    /// TODO: what the rule looks at, in the words of someone who runs containers.
    ///
    /// ## Why it matters
    /// TODO: what breaks for the user, and how it shows.
    ///
    /// ## Example
    /// ```yaml
    /// TODO: the smallest input that shows it
    /// ```
    ///
    /// ## Fix
    /// TODO: what to change, concretely.
    pub struct {ty} => Warning, "{id}";
}}

impl Check for {ty} {{
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {{
        // TODO: report each problem at its origin, with a help line saying what to do:
        // out.report(&origin, message).subjects([name]).help(fix);
        let _ = (cx, out);
    }}
}}
"#
    )
}

const COMPOSE_FIXTURE: &str = "services:\n  web:\n    image: nginx\n";

const K8S_FIXTURE: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec: {containers: [{name: web, image: nginx}]}\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_declared_ids() {
        assert_eq!(struct_name("egress-to-nowhere"), "EgressToNowhere");
        assert_eq!(declared_id(&rule_source("ND410", "EgressToNowhere")).as_deref(), Some("ND410"));
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/netdoctor-rules/src/rules");
        let ids = declared_ids(&root).unwrap_or_default();
        assert!(ids.contains(&"ND101".to_string()) && ids.contains(&"ND409".to_string()), "{ids:?}");
    }

    #[test]
    fn refuses_taken_and_skipped_ids() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert!(new_rule(&root, "ND401", "x").is_err_and(|e| e.contains("taken")));
        assert!(new_rule(&root, "ND499", "x").is_err_and(|e| e.contains("next free")));
        assert!(new_rule(&root, "NDx", "x").is_err());
        assert!(new_rule(&root, "ND410", "Not_Kebab").is_err());
    }
}

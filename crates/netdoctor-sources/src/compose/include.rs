//! `include`: other projects loaded on their own (own project directory, own `.env`) and
//! their services, networks, volumes, secrets, configs and models added to this file.
//! A name defined on both sides is an error unless both definitions are identical.
//! Entries are a path, or `{path, project_directory, env_file}` with `path` one file or
//! a list merged in order; relative paths start at the including file's directory.

use super::load::{overlay_env_files, Env};
use super::project::{self, ProjectContext, Reader};
use super::{edit, envfile, files};
use crate::error::{LoadError, Result};
use crate::tree::{Node, Value};
use netdoctor_model::Span;
use std::path::{Path, PathBuf};

/// Deepest chain of includes followed.
const MAX_DEPTH: usize = 32;

/// The sections an included project contributes, with the word for one item.
const SECTIONS: &[(&str, &str)] = &[
    ("services", "service"),
    ("networks", "network"),
    ("volumes", "volume"),
    ("secrets", "secret"),
    ("configs", "config"),
    ("models", "model"),
];

/// Loads the projects `root` includes and adds their resources to it.
pub(crate) fn apply(root: &mut Node, file: &Path, reader: &mut Reader, context: &ProjectContext) -> Result<()> {
    let Some(entry) = edit::remove(root, "include") else { return Ok(()) };
    let items = match entry.value.value {
        Value::Null => return Ok(()),
        Value::Seq(items) => items,
        _ => {
            let message = "`include` must be a list of files or `{path, project_directory, env_file}` entries";
            return Err(LoadError::at(&entry.value.span, message));
        }
    };
    let base = files::parent_dir(file);
    for item in &items {
        let spec = Spec::parse(item, &base)?;
        let included = load(&spec, &item.span, file, reader, context)?;
        import(root, included, &spec, &item.span)?;
    }
    Ok(())
}

/// One `include` entry with its paths resolved.
struct Spec {
    paths: Vec<PathBuf>,
    project_dir: PathBuf,
    env_files: Vec<PathBuf>,
}

impl Spec {
    fn parse(item: &Node, base: &Path) -> Result<Spec> {
        let resolve = |text: &str| files::resolve(base, Path::new(text));
        let wrong = |node: &Node, what: &str| LoadError::at(&node.span, format!("`include` {what}, found {}", node.kind_name()));
        let (paths, project_dir, env_files) = match item.as_map() {
            None => (item, None, None),
            Some(_) => {
                let Some(path) = item.get("path") else {
                    return Err(LoadError::at(&item.span, "`include` entry needs a `path`"));
                };
                (path, item.get("project_directory"), item.get("env_file"))
            }
        };
        let paths: Vec<PathBuf> = strings(paths).ok_or_else(|| wrong(paths, "paths must be strings"))?.into_iter().map(resolve).collect();
        let Some(first) = paths.first() else { return Err(wrong(item, "entry needs at least one path")) };
        let project_dir = match project_dir {
            Some(dir) => resolve(dir.as_scalar().ok_or_else(|| wrong(dir, "`project_directory` must be a path"))?),
            None => files::parent_dir(first),
        };
        let env_files = match env_files {
            Some(node) => strings(node).ok_or_else(|| wrong(node, "`env_file` must be a path or a list of paths"))?,
            None => Vec::new(),
        };
        Ok(Spec { paths, project_dir, env_files: env_files.into_iter().map(resolve).collect() })
    }
}

/// A scalar or a list of scalars.
fn strings(node: &Node) -> Option<Vec<&str>> {
    match &node.value {
        Value::Scalar(s) => Some(vec![s.text.as_str()]),
        Value::Seq(items) => items.iter().map(Node::as_scalar).collect(),
        _ => None,
    }
}

fn load(spec: &Spec, at: &Span, file: &Path, reader: &mut Reader, context: &ProjectContext) -> Result<Node> {
    let chain: Vec<PathBuf> = context.include_chain.iter().cloned().chain([file.to_path_buf()]).collect();
    if chain.len() > MAX_DEPTH {
        return Err(LoadError::at(at, format!("`include` nests deeper than {MAX_DEPTH} files")));
    }
    for path in &spec.paths {
        if chain.contains(path) {
            let names: Vec<String> = chain.iter().chain([path]).map(|p| p.display().to_string()).collect();
            return Err(LoadError::at(at, format!("`include` cycle: {}", names.join(" -> "))));
        }
        if !path.is_file() {
            return Err(LoadError::at(at, format!("included file {} not found", path.display())));
        }
    }
    let env = included_env(spec, context.env)?;
    let parsed = spec.paths.iter().map(|p| reader.parse_file(p)).collect::<Result<Vec<_>>>()?;
    let sub_context = ProjectContext { project_dir: &spec.project_dir, env: &env, include_chain: &chain };
    let mut document = project::assemble(reader, parsed, &sub_context)?;
    envfile::apply(&mut document, &spec.project_dir, &env)?;
    Ok(document)
}

/// The included project's variables: its env files (or its `.env`), overridden by the
/// including project's environment, as compose-go does.
fn included_env(spec: &Spec, parent: &Env) -> Result<Env> {
    let sources: Vec<(PathBuf, bool)> = if spec.env_files.is_empty() {
        vec![(spec.project_dir.join(".env"), false)]
    } else {
        spec.env_files.iter().map(|f| (f.clone(), true)).collect()
    };
    overlay_env_files(&sources, parent)
}

fn import(root: &mut Node, mut included: Node, spec: &Spec, at: &Span) -> Result<()> {
    for (section, singular) in SECTIONS {
        let Some(Value::Map(items)) = edit::remove(&mut included, section).map(|e| e.value.value) else { continue };
        if items.is_empty() {
            continue;
        }
        let Some(target) = edit::map_at(root, section, at).and_then(edit::entries_mut) else {
            return Err(LoadError::at(at, format!("`{section}` must be a mapping to include into")));
        };
        for item in items {
            match target.iter().find(|e| e.key == item.key) {
                Some(existing) if edit::same_content(&existing.value, &item.value) => {}
                Some(existing) => {
                    let message = format!(
                        "included {} defines {singular} `{}`, which conflicts with the one at {}; rename one of them",
                        spec.paths.first().map(|p| p.display().to_string()).unwrap_or_default(),
                        item.key,
                        existing.key_span
                    );
                    return Err(LoadError::at(at, message));
                }
                None => target.push(item),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::compose::testing::{load_in, Project};
    use crate::tree::Node;

    fn loaded(project: &Project) -> String {
        match load_in(project, &[]) {
            Ok(doc) => doc.root.to_string(),
            Err(e) => format!("error: {}:{} {}", e.line, e.column, e.message),
        }
    }

    #[test]
    fn includes_projects() {
        let sub = ("sub/compose.yaml", "services:\n  db:\n    image: pg:${PG}\n    env_file: db.env\nnetworks:\n  back: {}\n");
        let sub_env = ("sub/.env", "PG=16\n");
        let db_env = ("sub/db.env", "PASSWORD=x\n");
        let cases = [
            (
                "include: [sub/compose.yaml]\nservices:\n  web: {image: w}\n",
                "{services: {web: {image: w}, db: {image: pg:16, environment: {PASSWORD: x}}}, networks: {back: {}}}",
            ),
            (
                "include:\n  - path: sub/compose.yaml\n    env_file: other.env\n",
                "{services: {db: {image: pg:15, environment: {PASSWORD: x}}}, networks: {back: {}}}",
            ),
            (
                "include:\n  - path: [sub/compose.yaml, extra.yaml]\n",
                "{services: {db: {image: pg:16, init: true, environment: {PASSWORD: x}}}, networks: {back: {}}}",
            ),
            (
                "include: [sub/compose.yaml]\nnetworks:\n  back: {}\n",
                "{networks: {back: {}}, services: {db: {image: pg:16, environment: {PASSWORD: x}}}}",
            ),
            ("include: [sub/compose.yaml]\nservices:\n  db: {image: other}\n", "error: 1:11 included"),
            ("include: [missing.yaml]\n", "error: 1:11 included file"),
            ("include: [compose.yaml]\n", "error: 1:11 `include` cycle"),
            ("include: [{project_directory: x}]\n", "error: 1:11 `include` entry needs a `path`"),
            ("include: sub/compose.yaml\n", "error: 1:10 `include` must be a list"),
        ];
        for (compose, want) in cases {
            let project = Project::new(&[
                ("compose.yaml", compose),
                sub,
                sub_env,
                db_env,
                ("other.env", "PG=15\n"),
                ("extra.yaml", "services:\n  db:\n    init: true\n"),
            ]);
            let got = loaded(&project);
            assert!(got.starts_with(want), "{compose}\n got: {got}\nwant: {want}");
        }
    }

    #[test]
    fn parent_environment_wins_over_included_dotenv() {
        let project = Project::new(&[
            ("compose.yaml", "include: [sub/compose.yaml]\n"),
            ("sub/compose.yaml", "services:\n  db: {image: 'pg:${PG}'}\n"),
            ("sub/.env", "PG=16\n"),
        ]);
        let doc = load_in(&project, &[("PG", "17")]).map(|d| d.root.get("services").map(Node::to_string));
        assert_eq!(doc.ok().flatten().as_deref(), Some("{db: {image: pg:17}}"));
    }
}

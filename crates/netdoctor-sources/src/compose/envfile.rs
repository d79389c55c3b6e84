//! A service's `env_file`: each file (a path, or `{path, required, format}`) is read as a
//! dotenv file and its variables go into the service's `environment` where that does not
//! set them already (later files win over earlier ones). The `env_file` key is then
//! removed, so `environment` alone says what the container gets. Value nodes point at
//! the env file's lines.
//!
//! Relative paths are resolved against the project directory, as compose does for every
//! file of a project; services taken from other directories (`extends.file`, `include`)
//! have their paths made absolute when they are brought in (`rebase`).

use super::dotenv::{self, EnvVar, Format};
use super::edit;
use super::files;
use super::load::Env;
use crate::error::{LoadError, Result};
use crate::tree::{Node, Value};
use netdoctor_model::Span;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Folds `env_file` into `environment` for every service.
pub(crate) fn apply(root: &mut Node, project_dir: &Path, env: &Env) -> Result<()> {
    let Some(services) = edit::get_mut(root, "services").and_then(edit::entries_mut) else { return Ok(()) };
    for service in services {
        apply_to_service(&mut service.value, project_dir, env)?;
    }
    Ok(())
}

/// Makes the relative `env_file` paths of a service absolute against `dir`.
pub(crate) fn rebase(service: &mut Node, dir: &Path) {
    let Some(env_file) = edit::get_mut(service, "env_file") else { return };
    let absolute_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let rebase_scalar = |node: &mut Node| {
        if let Value::Scalar(s) = &mut node.value {
            if Path::new(&s.text).is_relative() {
                s.text = files::resolve(&absolute_dir, Path::new(&s.text)).to_string_lossy().into_owned();
            }
        }
    };
    match &mut env_file.value {
        Value::Seq(items) => {
            for item in items {
                match edit::get_mut(item, "path") {
                    Some(path) => rebase_scalar(path),
                    None => rebase_scalar(item),
                }
            }
        }
        _ => rebase_scalar(env_file),
    }
}

/// One entry of `env_file`.
struct EnvFileRef {
    path: String,
    span: Span,
    required: bool,
    format: Format,
}

fn apply_to_service(service: &mut Node, project_dir: &Path, env: &Env) -> Result<()> {
    let Some(entry) = edit::remove(service, "env_file") else { return Ok(()) };
    let mut vars: Vec<EnvVar> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for reference in references(&entry.value)? {
        for var in read(&reference, project_dir, env)? {
            match index.get(&var.key).and_then(|at| vars.get_mut(*at)) {
                Some(existing) => *existing = var,
                None => {
                    index.insert(var.key.clone(), vars.len());
                    vars.push(var);
                }
            }
        }
    }
    add_to_environment(service, vars, &entry.value.span)
}

fn references(node: &Node) -> Result<Vec<EnvFileRef>> {
    match &node.value {
        Value::Null => Ok(Vec::new()),
        Value::Seq(items) => items.iter().map(reference).collect(),
        _ => reference(node).map(|r| vec![r]),
    }
}

fn reference(node: &Node) -> Result<EnvFileRef> {
    let wrong = || {
        let message = format!("`env_file` entries must be paths or `{{path, required}}`, found {}", node.kind_name());
        LoadError::at(&node.span, message)
    };
    if let Some(path) = node.as_scalar() {
        return Ok(EnvFileRef { path: path.to_string(), span: node.span.clone(), required: true, format: Format::Dotenv });
    }
    let path = node.get("path").ok_or_else(wrong)?;
    let text = path.as_scalar().ok_or_else(wrong)?;
    let required = node.get("required").and_then(Node::as_scalar).is_none_or(|r| !r.eq_ignore_ascii_case("false"));
    let raw = node.get("format").and_then(Node::as_scalar) == Some("raw");
    let format = if raw { Format::Raw } else { Format::Dotenv };
    Ok(EnvFileRef { path: text.to_string(), span: path.span.clone(), required, format })
}

fn read(reference: &EnvFileRef, project_dir: &Path, env: &Env) -> Result<Vec<EnvVar>> {
    let path = files::resolve(project_dir, Path::new(&reference.path));
    let relocate = |e: LoadError| match e.line {
        0 => LoadError::at(&reference.span, format!("env file {}: {}", path.display(), e.message)),
        _ => e,
    };
    match files::read_text(&path).map_err(relocate)? {
        Some(text) => {
            let lookup = |k: &str| env.get(k).cloned();
            dotenv::parse(&text, &Arc::from(path.as_path()), reference.format, &lookup)
        }
        None if reference.required => {
            let message = format!("env file {} not found; create it or mark it `required: false`", path.display());
            Err(LoadError::at(&reference.span, message))
        }
        None => Ok(Vec::new()),
    }
}

fn add_to_environment(service: &mut Node, vars: Vec<EnvVar>, span: &Span) -> Result<()> {
    if vars.is_empty() {
        return Ok(());
    }
    let Some(environment) = edit::map_at(service, "environment", span) else { return Ok(()) };
    let Some(entries) = edit::entries_mut(environment) else {
        let message = format!("`environment` must be a mapping or a list, found {}", environment.kind_name());
        return Err(LoadError::at(&environment.span, message));
    };
    for var in vars {
        if entries.iter().any(|e| e.key == var.key) {
            continue;
        }
        let value = edit::scalar(var.value, true, var.value_span);
        entries.push(crate::tree::Entry { key: var.key, key_span: var.key_span, value });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::testing::Project;

    fn run(project: &Project, compose: &str) -> std::result::Result<Node, LoadError> {
        let file: Arc<Path> = Arc::from(project.path().join("compose.yaml").as_path());
        let mut root = crate::yaml::parse(compose, file)?;
        crate::compose::canonical::canonicalize(&mut root)?;
        let env = Env::from([("FROM_ENV".to_string(), "env".to_string())]);
        apply(&mut root, &project.path(), &env)?;
        Ok(root)
    }

    fn environment(root: &Node) -> String {
        let service = root.get("services").and_then(|s| s.get("s"));
        service.map(Node::to_string).unwrap_or_default()
    }

    #[test]
    fn folds_env_files_into_environment() {
        let project = Project::new(&[
            ("a.env", "A=from-a\nB=from-a\nC=from-a\nFROM_ENV\n"),
            ("b.env", "# second\nB=from-b\n"),
            ("raw.env", "R='kept' ${X}\n"),
        ]);
        let cases = [
            ("env_file: a.env", "{environment: {A: from-a, B: from-a, C: from-a, FROM_ENV: env}}"),
            ("env_file: [a.env, b.env]", "{environment: {A: from-a, B: from-b, C: from-a, FROM_ENV: env}}"),
            ("env_file: [a.env], environment: [C=own]", "{environment: {C: own, A: from-a, B: from-a, FROM_ENV: env}}"),
            ("env_file: [{path: missing.env, required: false}, b.env]", "{environment: {B: from-b}}"),
            ("env_file: [{path: raw.env, format: raw}]", "{environment: {R: 'kept' ${X}}}"),
            ("env_file: ", "{}"),
            ("image: x", "{image: x}"),
        ];
        for (service, want) in cases {
            let compose = format!("services:\n  s: {{{service}}}\n");
            let got = run(&project, &compose).map(|r| environment(&r)).map_err(|e| e.to_string());
            assert_eq!(got.as_deref(), Ok(want), "{service}");
        }
    }

    #[test]
    fn values_point_at_the_env_file() {
        let project = Project::new(&[("a.env", "\nA=1\n")]);
        let Ok(root) = run(&project, "services:\n  s:\n    env_file: a.env\n") else { panic!("load") };
        let entry = root.get("services").and_then(|s| s.get("s")).and_then(|s| s.get("environment")).and_then(|e| e.entry("A"));
        let Some(entry) = entry else { panic!("no A") };
        assert!(entry.value.span.file.ends_with("a.env"));
        assert_eq!((entry.key_span.line, entry.key_span.column, entry.value.span.column), (2, 1, 3));
    }

    #[test]
    fn missing_required_file_is_located_at_the_entry() {
        let project = Project::new(&[]);
        let cases = [
            ("services:\n  s:\n    env_file:\n      - nope.env\n", (4, 9)),
            ("services:\n  s:\n    env_file: [{path: nope.env}]\n", (3, 23)),
        ];
        for (compose, at) in cases {
            let Err(e) = run(&project, compose) else { panic!("{compose} loaded") };
            assert_eq!((e.line, e.column), at, "{e}");
            assert!(e.message.contains("nope.env not found; create it or mark it `required: false`"), "{e}");
        }
    }

    #[test]
    fn rebases_relative_paths() {
        let Ok(mut service) = crate::yaml::parse("env_file: [a.env, {path: ../b.env}, /abs.env]\n", Arc::from(Path::new("x.yaml"))) else {
            panic!("parse")
        };
        rebase(&mut service, Path::new("/p/sub"));
        assert_eq!(service.to_string(), "{env_file: [/p/sub/a.env, {path: /p/b.env}, /abs.env]}");
    }
}

//! `extends`: a service built on another one, of the same file (`extends: base`) or of
//! another file (`extends: {service: base, file: common.yaml}`, relative to the extending
//! file). Chains resolve recursively; the extending service is merged over its base with
//! the usual merge rules. Relative `env_file` paths of a base from another directory are
//! made absolute, since they are relative to the file that wrote them.

use super::load::Env;
use super::project::Reader;
use super::{edit, envfile, files};
use crate::error::{LoadError, Result};
use crate::tree::{Node, Value};
use netdoctor_model::Span;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Longest chain of `extends` followed; longer ones are hostile or a mistake.
const MAX_CHAIN: usize = 64;

/// Resolves the `extends` of every service of one file, in place.
pub(crate) fn apply(root: &mut Node, file: &Path, reader: &mut Reader, env: &Env) -> Result<()> {
    let Some(services) = edit::get_mut(root, "services") else { return Ok(()) };
    // Only services with `extends` need resolving: looking every service up by name made
    // a file of many services quadratic (10,000 took seconds).
    let entries = services.as_map().unwrap_or_default().iter();
    let names: Vec<String> = entries.filter(|e| e.value.get("extends").is_some()).map(|e| e.key.clone()).collect();
    let mut resolver = Resolver { reader, env, chain: Vec::new(), others: HashMap::new() };
    for name in names {
        resolver.resolve(services, &name, file)?;
    }
    Ok(())
}

/// Where an `extends` points.
struct Target {
    service: String,
    service_span: Span,
    file: Option<(String, Span)>,
}

impl Target {
    fn parse(node: &Node) -> Result<Target> {
        let scalar = |n: &Node| n.as_scalar().map(|text| (text.to_string(), n.span.clone()));
        if let Some((service, service_span)) = scalar(node) {
            return Ok(Target { service, service_span, file: None });
        }
        let service = node.as_map().and_then(|_| node.get("service")).and_then(scalar);
        let Some((service, service_span)) = service else {
            let message = format!("`extends` must be a service name or `{{service, file}}`, found {}", node.kind_name());
            return Err(LoadError::at(&node.span, message));
        };
        Ok(Target { service, service_span, file: node.get("file").and_then(scalar) })
    }
}

struct Resolver<'a> {
    reader: &'a mut Reader,
    env: &'a Env,
    /// The (file, service) pairs being resolved, for cycle detection.
    chain: Vec<(PathBuf, String)>,
    /// Other files, read and interpolated once: reading the file again for every service
    /// that extends from it made many such services quadratic.
    others: HashMap<PathBuf, Node>,
}

impl Resolver<'_> {
    /// Resolves `name` of `services` (a mapping in `file`), stores and returns the result.
    fn resolve(&mut self, services: &mut Node, name: &str, file: &Path) -> Result<Node> {
        let Some(service) = services.get(name).cloned() else { return Ok(edit::empty_map(services.span.clone())) };
        let Some(extends) = service.get("extends") else { return Ok(service) };
        let target = Target::parse(extends)?;
        self.enter(file, name, &extends.span)?;
        let base = match &target.file {
            None => self.base_in_file(services, &target, file),
            Some((other, span)) => self.base_from_file(&target, other, span, file),
        };
        self.chain.pop();
        let mut over = service;
        edit::remove(&mut over, "extends");
        let merged = self.reader.merger().service(name, base?, over)?;
        if let Some(slot) = edit::get_mut(services, name) {
            *slot = merged.clone();
        }
        Ok(merged)
    }

    fn enter(&mut self, file: &Path, name: &str, span: &Span) -> Result<()> {
        let link = (file.to_path_buf(), name.to_string());
        if self.chain.contains(&link) {
            return Err(LoadError::at(span, format!("`extends` cycle: {}", self.describe_cycle(&link))));
        }
        if self.chain.len() >= MAX_CHAIN {
            return Err(LoadError::at(span, format!("`extends` chain longer than {MAX_CHAIN} services")));
        }
        self.chain.push(link);
        Ok(())
    }

    /// `a -> b -> a`, naming files when the cycle crosses them.
    fn describe_cycle(&self, closing: &(PathBuf, String)) -> String {
        let links: Vec<&(PathBuf, String)> = self.chain.iter().chain([closing]).collect();
        let one_file = links.iter().all(|(file, _)| *file == closing.0);
        let describe = |(file, name): &&(PathBuf, String)| match (one_file, file.file_name()) {
            (false, Some(base)) => format!("{name} in {}", base.to_string_lossy()),
            _ => name.clone(),
        };
        links.iter().map(describe).collect::<Vec<_>>().join(" -> ")
    }

    fn base_in_file(&mut self, services: &mut Node, target: &Target, file: &Path) -> Result<Node> {
        if services.get(&target.service).is_none() {
            return Err(not_found(target, file));
        }
        self.resolve(services, &target.service, file)
    }

    fn base_from_file(&mut self, target: &Target, other: &str, span: &Span, file: &Path) -> Result<Node> {
        let path = files::resolve(&files::parent_dir(file), Path::new(other));
        if !path.is_file() {
            return Err(LoadError::at(span, format!("extends file {} not found", path.display())));
        }
        // Taken out while in use, so an `extends` chain back into this file reads it afresh.
        let mut root = match self.others.remove(&path) {
            Some(root) => root,
            None => self.reader.read(&path, self.env)?,
        };
        let services = edit::get_mut(&mut root, "services").filter(|s| matches!(s.value, Value::Map(_)));
        let resolved = match services.filter(|s| s.get(&target.service).is_some()) {
            Some(services) => self.resolve(services, &target.service, &path),
            None => Err(not_found(target, &path)),
        };
        self.others.insert(path.clone(), root);
        let mut base = resolved?;
        envfile::rebase(&mut base, &files::parent_dir(&path));
        Ok(base)
    }
}

fn not_found(target: &Target, file: &Path) -> LoadError {
    let message = format!("cannot extend: service `{}` not found in {}", target.service, file.display());
    LoadError::at(&target.service_span, message)
}

#[cfg(test)]
mod tests {
    use crate::compose::testing::{load_in, Project};
    use crate::tree::Node;

    fn service(project: &Project, name: &str) -> String {
        match load_in(project, &[("TAG", "1.0")]) {
            Ok(doc) => doc.root.get("services").and_then(|s| s.get(name)).map(Node::to_string).unwrap_or_default(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn extends_services() {
        let cases = [
            (
                "services:\n  base: {image: a, ports: ['80:80'], environment: [A=1]}\n  web: {extends: base, ports: ['81:81'], environment: {B: 2}}\n",
                "web",
                "{image: a, ports: [80:80, 81:81], environment: {A: 1, B: 2}}",
            ),
            (
                "services:\n  web: {extends: {service: mid}, command: run}\n  mid: {extends: base, image: m}\n  base: {image: b, command: x}\n",
                "web",
                "{image: m, command: run}",
            ),
            (
                "services:\n  web: {extends: {service: s, file: other/common.yaml}}\n",
                "web",
                "{image: common:1.0, environment: {FROM_FILE: yes}}",
            ),
            (
                "services:\n  init: {image: alpine, command: sleep}\n  base: {extends: {service: init}, command: !reset }\n",
                "base",
                "{image: alpine}",
            ),
        ];
        for (compose, name, want) in cases {
            let project = Project::new(&[
                ("compose.yaml", compose),
                ("other/common.yaml", "services:\n  s:\n    image: common:${TAG}\n    env_file: [vars.env]\n"),
                ("other/vars.env", "FROM_FILE=yes\n"),
            ]);
            assert_eq!(service(&project, name), want, "{compose}");
        }
    }

    #[test]
    fn reports_bad_extends() {
        let cases = [
            ("services:\n  a: {extends: b}\n  b: {extends: a}\n", (2, 16), "`extends` cycle: a -> b -> a"),
            ("services:\n  a: {extends: a}\n", (2, 16), "`extends` cycle: a -> a"),
            ("services:\n  a: {extends: nope}\n", (2, 16), "cannot extend: service `nope` not found in"),
            ("services:\n  a: {extends: {service: x, file: missing.yaml}}\n", (2, 35), "extends file"),
            ("services:\n  a: {extends: {service: x, file: other.yaml}}\n", (2, 26), "service `x` not found in"),
            ("services:\n  a: {extends: [b]}\n", (2, 16), "`extends` must be a service name"),
            (
                "services:\n  a: {extends: {service: a, file: loop.yaml}}\n",
                (2, 16),
                "`extends` cycle: a in compose.yaml -> a in loop.yaml -> a in compose.yaml",
            ),
        ];
        for (compose, (line, column), want) in cases {
            let project = Project::new(&[
                ("compose.yaml", compose),
                ("other.yaml", "services:\n  y: {image: y}\n"),
                ("loop.yaml", "services:\n  a: {extends: {service: a, file: compose.yaml}}\n"),
            ]);
            let Err(e) = load_in(&project, &[]) else { panic!("{compose} loaded") };
            assert!(e.message.contains(want), "{compose}: {e}");
            assert_eq!((e.line, e.column), (line, column), "{compose}: {e}");
        }
    }

    #[test]
    fn many_services_load_in_linear_time() {
        // Found with the `compose_load` fuzz target: every service was looked up by name,
        // and a file was read again for every service extending from it, so a file whose
        // services extend from the file itself took minutes.
        let start = std::time::Instant::now();
        let plain: String = (0..20_000).map(|i| format!("  s{i}: {{image: x}}\n")).collect();
        let extending: String = (0..2_000).map(|i| format!("  e{i}: {{extends: {{service: base, file: compose.yaml}}}}\n")).collect();
        let project = Project::new(&[("compose.yaml", &format!("services:\n  base: {{image: base}}\n{plain}{extending}"))]);
        let doc = load_in(&project, &[]);
        let Ok(doc) = doc else { panic!("{doc:?}") };
        let services = doc.root.get("services");
        assert_eq!(services.and_then(Node::as_map).map(<[_]>::len), Some(22_001));
        assert_eq!(services.and_then(|s| s.get("e1999")).map(Node::to_string).as_deref(), Some("{image: base}"));
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "took {:?}", start.elapsed());
    }
}

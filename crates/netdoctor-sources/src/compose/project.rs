//! One Compose project's files turned into a single tree: each file is parsed, checked to
//! be a compose file, interpolated, put in canonical shape, has its `extends` and
//! `include` applied, and is merged onto the files before it. `include` runs this again
//! for every included project.

use super::load::Env;
use super::merge::Merger;
use super::{canonical, edit, extends, files, include, interpolate};
use crate::error::{LoadError, Result};
use crate::tree::Node;
use crate::yaml::{self, MergeTags};
use netdoctor_model::Span;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Top-level keys of the Compose spec; anything else (besides `x-*`) means the file is
/// not a compose file, and compose-go rejects it too.
const TOP_LEVEL_KEYS: &[&str] = &["version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models"];

/// A compose file as parsed, before interpolation.
#[derive(Debug, Clone)]
pub(crate) struct ParsedFile {
    pub path: PathBuf,
    pub root: Node,
}

/// What the files of one project share.
pub(crate) struct ProjectContext<'a> {
    pub project_dir: &'a Path,
    pub env: &'a Env,
    /// The files whose `include` led here, outermost first.
    pub include_chain: &'a [PathBuf],
}

/// Reads compose files and remembers the merge tags of every file read, so that merges
/// anywhere in the load can honour them. Each file is read and parsed once per load,
/// however many `extends` name it.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    tags: MergeTags,
    parsed: HashMap<PathBuf, Node>,
}

impl Reader {
    /// Reads and parses a compose file, checking it is one.
    pub(crate) fn parse_file(&mut self, path: &Path) -> Result<ParsedFile> {
        if let Some(root) = self.parsed.get(path) {
            return Ok(ParsedFile { path: path.to_path_buf(), root: root.clone() });
        }
        let Some(text) = files::read_text(path)? else {
            return Err(LoadError::unreadable(path, "compose file not found; check the path"));
        };
        let (root, tags) = yaml::parse_with_tags(&text, Arc::from(path))?;
        self.tags.extend(tags);
        check_compose_shape(&root)?;
        self.parsed.insert(path.to_path_buf(), root.clone());
        Ok(ParsedFile { path: path.to_path_buf(), root })
    }

    /// Reads a compose file ready for merging: parsed, interpolated and canonical.
    pub(crate) fn read(&mut self, path: &Path, env: &Env) -> Result<Node> {
        let mut root = self.parse_file(path)?.root;
        prepare(&mut root, env)?;
        Ok(root)
    }

    pub(crate) fn merger(&self) -> Merger<'_> {
        Merger::new(&self.tags)
    }
}

/// Merges the files of one project, in order, into one tree.
pub(crate) fn assemble(reader: &mut Reader, parsed: Vec<ParsedFile>, context: &ProjectContext) -> Result<Node> {
    let mut document = None;
    for ParsedFile { path, mut root } in parsed {
        prepare(&mut root, context.env)?;
        extends::apply(&mut root, &path, reader, context.env)?;
        include::apply(&mut root, &path, reader, context)?;
        document = Some(reader.merger().file(document, root)?);
    }
    Ok(document.unwrap_or_else(|| edit::empty_map(Span::new(Arc::from(context.project_dir), 1, 1))))
}

fn prepare(root: &mut Node, env: &Env) -> Result<()> {
    interpolate::interpolate_tree(root, &|k: &str| env.get(k).cloned())?;
    canonical::canonicalize(root)
}

fn check_compose_shape(root: &Node) -> Result<()> {
    let Some(entries) = root.as_map() else {
        let message = format!("not a compose file: the top level is {}, expected a mapping with `services`", root.kind_name());
        return Err(LoadError::at(&root.span, message));
    };
    let unknown = entries.iter().find(|e| !TOP_LEVEL_KEYS.contains(&e.key.as_str()) && !e.key.starts_with("x-"));
    let Some(unknown) = unknown else { return Ok(()) };
    let kubernetes = root.get("apiVersion").is_some() && root.get("kind").is_some();
    let hint = if kubernetes {
        "this looks like a kubernetes manifest, not a compose file".to_string()
    } else {
        format!("a compose file has {}, and `x-*` extensions", TOP_LEVEL_KEYS.join(", "))
    };
    Err(LoadError::at(&unknown.key_span, format!("unknown top-level key `{}`; {hint}", unknown.key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::testing::Project;

    #[test]
    fn rejects_files_that_are_not_compose_files() {
        let cases = [
            ("apiVersion: v1\nkind: Service\n", (1, 1), "unknown top-level key `apiVersion`; this looks like a kubernetes manifest"),
            ("services: {}\nimage: nginx\n", (2, 1), "unknown top-level key `image`; a compose file has version, name"),
            ("just text\n", (1, 1), "not a compose file: the top level is a string"),
            ("[1, 2]\n", (1, 1), "not a compose file: the top level is a list"),
        ];
        for (text, at, want) in cases {
            let project = Project::new(&[("c.yaml", text)]);
            let Err(e) = Reader::default().parse_file(&project.path().join("c.yaml")) else { panic!("{text:?} parsed") };
            assert_eq!((e.line, e.column), at, "{text:?}");
            assert!(e.message.starts_with(want), "{text:?}: {e}");
        }
        let ok = Project::new(&[("c.yaml", "version: '3'\nx-anchors: {}\nservices: {}\n")]);
        assert!(Reader::default().parse_file(&ok.path().join("c.yaml")).is_ok());
        let missing = Reader::default().parse_file(&ok.path().join("nope.yaml")).err().map(|e| (e.line, e.message));
        assert_eq!(missing, Some((0, "compose file not found; check the path".to_string())));
    }
}

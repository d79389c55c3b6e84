//! The raw step: manifest files into located resource objects. Documents are split on
//! `---`, `List` and typed `*List` objects are flattened into their items (which may
//! leave `kind` out when the list is typed, as `kubectl get -o json` does), and
//! documents that are not Kubernetes resources are set aside with a warning.

use super::Warning;
use crate::error::{LoadError, Result};
use crate::tree::Node;
use crate::yaml;
use std::path::Path;
use std::sync::Arc;

/// Deepest nesting of lists inside lists that is flattened.
const MAX_LIST_DEPTH: usize = 8;

/// One Kubernetes resource as written, with its kind and API version.
#[derive(Debug, Clone, PartialEq)]
pub struct RawObject {
    pub kind: String,
    pub api_version: String,
    /// The object's mapping (`metadata`, `spec`, ...).
    pub node: Node,
}

/// Resource objects in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawObjects {
    pub objects: Vec<RawObject>,
}

/// What one file held.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadFile {
    pub objects: RawObjects,
    pub warnings: Vec<Warning>,
}

/// Reads and splits one file.
pub(crate) fn read_file(path: &Path) -> Result<ReadFile> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::unreadable(path, format!("cannot read: {e}")))?;
    let text = yaml::decode(&bytes, path)?;
    read_text(text, path)
}

/// Splits manifest text into resource objects.
pub(crate) fn read_text(text: &str, path: &Path) -> Result<ReadFile> {
    let file: Arc<Path> = Arc::from(path);
    let documents = yaml::parse_documents(text, file)?;
    let mut read = ReadFile::default();
    let mut skipped = Vec::new();
    for doc in documents {
        if is_resource(&doc) {
            flatten(doc, None, 0, &mut read);
        } else {
            skipped.push(doc);
        }
    }
    if read.objects.objects.is_empty() {
        let message = "skipped: not a Kubernetes manifest (no document has `apiVersion` and `kind`)".to_string();
        read.warnings.push(Warning { file: path.to_path_buf(), line: 0, column: 0, message });
    } else {
        for doc in skipped {
            let message = format!("skipped {}: not a Kubernetes resource (no `apiVersion` and `kind`)", doc.kind_name());
            read.warnings.push(Warning { file: path.to_path_buf(), line: doc.span.line, column: doc.span.column, message });
        }
    }
    Ok(read)
}

/// A mapping with string `kind` and `apiVersion`.
fn is_resource(node: &Node) -> bool {
    let text = |key: &str| node.get(key).and_then(Node::as_scalar).is_some_and(|s| !s.is_empty());
    text("kind") && text("apiVersion")
}

/// Adds an object, or the items of a list. `inherited` is the (kind, apiVersion) a typed
/// list gives items that do not name their own.
fn flatten(node: Node, inherited: Option<(&str, &str)>, depth: usize, read: &mut ReadFile) {
    let own = |key: &str| node.get(key).and_then(Node::as_scalar).map(str::to_string);
    let kind = own("kind").or_else(|| inherited.map(|(k, _)| k.to_string())).unwrap_or_default();
    let api_version = own("apiVersion").or_else(|| inherited.map(|(_, v)| v.to_string())).unwrap_or_default();
    let is_list = kind == "List" || (kind.ends_with("List") && node.get("items").is_some());
    if !is_list {
        read.objects.objects.push(RawObject { kind, api_version, node });
        return;
    }
    if depth >= MAX_LIST_DEPTH {
        let message = format!("lists nested deeper than {MAX_LIST_DEPTH} levels; inner items skipped");
        read.warnings.push(Warning { file: node.span.file.to_path_buf(), line: node.span.line, column: node.span.column, message });
        return;
    }
    let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty()).map(str::to_string);
    let Some(items) = node.get("items").and_then(Node::as_seq) else {
        // `items: null` or no items: an empty list.
        return;
    };
    for item in items {
        if item.as_map().is_none() {
            let message = format!("skipped list item: expected a mapping, found {}", item.kind_name());
            read.warnings.push(Warning { file: item.span.file.to_path_buf(), line: item.span.line, column: item.span.column, message });
            continue;
        }
        let inherit = item_kind.as_deref().map(|k| (k, api_version.as_str()));
        if inherit.is_none() && !is_resource(item) {
            let message = "skipped list item: no `apiVersion` and `kind`".to_string();
            read.warnings.push(Warning { file: item.span.file.to_path_buf(), line: item.span.line, column: item.span.column, message });
            continue;
        }
        flatten(item.clone(), inherit, depth + 1, read);
    }
}

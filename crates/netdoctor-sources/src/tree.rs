//! A YAML document as a tree whose every node remembers its file position.
//!
//! Sources parse their input into this raw form first (faithfully, positions kept),
//! then lower it into the model in a second step.

use netdoctor_model::Span;
use std::fmt;

/// One node of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Where the node starts.
    pub span: Span,
}

/// The value of a node. Scalars stay text; typing happens when the tree is lowered,
/// because Compose accepts `"true"`, `yes` and `8080` in many places as strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A scalar's text and whether it was quoted (a quoted `"5"` is a string, a plain `5` a number).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub quoted: bool,
}

/// A mapping entry. Keys are always scalars in Compose files.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    /// The entries of a mapping, or `None` for any other node.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence, or `None` for any other node.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The scalar's text, or `None` for any other node.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The entry under `key` of a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The path from this node to the one a position of the document falls in, such as
    /// `services.web.ports[0]` or `spec.ingress[0].from[1]`: the last node (in document
    /// order) of `span`'s file that starts at or before it. `None` when that is this node
    /// itself, or the node holds nothing from that file before the position.
    pub fn path_to(&self, span: &Span) -> Option<String> {
        self.locate(span).map(|(_, path)| path).filter(|p| !p.is_empty())
    }

    /// `path_to` with where the node found starts, to choose among several documents.
    pub fn locate(&self, span: &Span) -> Option<((u32, u32), String)> {
        let mut best: Option<((u32, u32), String)> = None;
        let mut path = String::new();
        self.locate_in(span, &mut path, &mut best);
        best
    }

    fn locate_in(&self, target: &Span, path: &mut String, best: &mut Option<((u32, u32), String)>) {
        consider(target, &self.span, path, best);
        let len = path.len();
        match &self.value {
            Value::Map(entries) => {
                for e in entries {
                    push_key(path, &e.key);
                    consider(target, &e.key_span, path, best);
                    e.value.locate_in(target, path, best);
                    path.truncate(len);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push_str(&format!("[{i}]"));
                    item.locate_in(target, path, best);
                    path.truncate(len);
                }
            }
            Value::Null | Value::Scalar(_) => {}
        }
    }

    /// A short name of the node's kind for error messages: `a mapping`, `a number`.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Scalar(s) if s.quoted => "a string",
            Value::Scalar(s) if s.text.parse::<f64>().is_ok() => "a number",
            Value::Scalar(s) if matches!(s.text.as_str(), "true" | "false" | "True" | "False" | "TRUE" | "FALSE") => "a boolean",
            Value::Scalar(_) => "a string",
        }
    }
}

/// Keeps `path` as the best answer when `at` starts at or before `target` in its file,
/// no earlier than the best so far (later nodes in document order win ties).
fn consider(target: &Span, at: &Span, path: &str, best: &mut Option<((u32, u32), String)>) {
    let start = (at.line, at.column);
    if at.file == target.file && start <= (target.line, target.column) && best.as_ref().is_none_or(|(b, _)| start >= *b) {
        *best = Some((start, path.to_string()));
    }
}

/// Appends `.key` to a document path, or `["key"]` when the key is not a plain word
/// (`metadata.labels["app.kubernetes.io/name"]`).
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (plain, path.is_empty()) {
        (true, true) => path.push_str(key),
        (true, false) => {
            path.push('.');
            path.push_str(key);
        }
        (false, _) => path.push_str(&format!("[{key:?}]")),
    }
}

impl fmt::Display for Node {
    /// Compact flow-style rendering, for debugging and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Null => f.write_str("null"),
            Value::Scalar(s) => f.write_str(&s.text),
            Value::Seq(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", e.key, e.value)?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml;
    use netdoctor_model::Span;
    use std::path::Path;
    use std::sync::Arc;

    #[test]
    fn paths_name_the_node_a_position_falls_in() {
        let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
        let text =
            "services:\n  web:\n    ports:\n      - 80\n      - '8080:x'\n    labels:\n      app.kubernetes.io/name: web\nnetworks: {}\n";
        let root = yaml::parse(text, file.clone()).unwrap_or_else(|e| panic!("{e}"));
        let at = |line, column| root.path_to(&Span::new(file.clone(), line, column));
        assert_eq!(at(5, 9).as_deref(), Some("services.web.ports[1]"));
        assert_eq!(at(5, 12).as_deref(), Some("services.web.ports[1]"), "inside the scalar");
        assert_eq!(at(3, 5).as_deref(), Some("services.web.ports"));
        assert_eq!(at(7, 31).as_deref(), Some("services.web.labels[\"app.kubernetes.io/name\"]"));
        assert_eq!(at(8, 11).as_deref(), Some("networks"));
        assert_eq!(at(1, 1).as_deref(), Some("services"), "a key starts where its mapping does");
        assert_eq!(root.path_to(&Span::new(Arc::from(Path::new("other.yaml")), 5, 9)), None);
    }
}

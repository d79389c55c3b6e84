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

//! Small editing helpers for `tree::Node`, used while loading. They live here as free
//! functions because `tree.rs` is shared with the lowering side and stays read-only.

use crate::tree::{Entry, Node, Scalar, Value};
use netdoctor_model::Span;

/// The entries of a mapping, for editing.
pub(crate) fn entries_mut(node: &mut Node) -> Option<&mut Vec<Entry>> {
    match &mut node.value {
        Value::Map(entries) => Some(entries),
        _ => None,
    }
}

/// The value under `key` of a mapping, for editing.
pub(crate) fn get_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    entries_mut(node)?.iter_mut().find(|e| e.key == key).map(|e| &mut e.value)
}

/// Removes `key` from a mapping and returns its entry.
pub(crate) fn remove(node: &mut Node, key: &str) -> Option<Entry> {
    let entries = entries_mut(node)?;
    let at = entries.iter().position(|e| e.key == key)?;
    Some(entries.remove(at))
}

/// Sets `key` of a mapping, replacing an existing value in place or appending.
pub(crate) fn set(node: &mut Node, key: &str, key_span: Span, value: Node) {
    let Some(entries) = entries_mut(node) else { return };
    match entries.iter_mut().find(|e| e.key == key) {
        Some(entry) => entry.value = value,
        None => entries.push(Entry { key: key.to_string(), key_span, value }),
    }
}

/// The mapping under `key`, created empty (at `span`) when missing or null.
pub(crate) fn map_at<'a>(node: &'a mut Node, key: &str, span: &Span) -> Option<&'a mut Node> {
    if node.get(key).is_none_or(Node::is_null) {
        set(node, key, span.clone(), empty_map(span.clone()));
    }
    get_mut(node, key)
}

pub(crate) fn empty_map(span: Span) -> Node {
    Node::new(Value::Map(Vec::new()), span)
}

pub(crate) fn scalar(text: impl Into<String>, quoted: bool, span: Span) -> Node {
    Node::new(Value::Scalar(Scalar { text: text.into(), quoted }), span)
}

/// Whether a node is a quoted or block scalar (its text starts one column later).
pub(crate) fn is_quoted(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.quoted)
}

/// Whether two trees hold the same data, wherever they were written.
pub(crate) fn same_content(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar(x), Value::Scalar(y)) => x.text == y.text,
        (Value::Seq(xs), Value::Seq(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_content(x, y)),
        (Value::Map(xs), Value::Map(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|x| ys.iter().any(|y| x.key == y.key && same_content(&x.value, &y.value)))
        }
        _ => false,
    }
}

/// `path.to.key` for messages.
pub(crate) fn dotted(path: &[String]) -> String {
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn node(text: &str, file: &str) -> Node {
        match crate::yaml::parse(text, Arc::from(Path::new(file))) {
            Ok(node) => node,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn compares_content_not_positions() {
        let cases = [
            ("{a: 1, b: [x]}", "\n\n{b: [x], a: 1}", true),
            ("{a: 1}", "{a: 2}", false),
            ("[1, 2]", "[2, 1]", false),
            ("{a: ~}", "{a: null}", true),
            ("{a: 1}", "{a: 1, b: 2}", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(same_content(&node(a, "a.yaml"), &node(b, "b.yaml")), want, "{a} vs {b}");
        }
    }

    #[test]
    fn edits_mappings() {
        let mut root = node("a: 1\nb: ~\n", "f.yaml");
        let span = root.span.clone();
        set(&mut root, "a", span.clone(), scalar("2", false, span.clone()));
        set(&mut root, "c", span.clone(), scalar("3", true, span.clone()));
        assert!(map_at(&mut root, "b", &span).is_some());
        assert_eq!(remove(&mut root, "c").map(|e| e.key), Some("c".to_string()));
        assert_eq!(root.to_string(), "{a: 2, b: {}}");
    }
}

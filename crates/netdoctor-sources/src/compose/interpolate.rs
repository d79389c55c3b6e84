//! `${VAR}` interpolation as compose-go does it: `$VAR`, `${VAR}`, the `-`, `?` and `+`
//! operators with and without `:`, `$$` for a literal `$`, and defaults that themselves
//! hold references (`${A:-${B}}`). Keys are never interpolated, values always are.

use crate::error::{LoadError, Result};
use crate::tree::{Node, Value};
use netdoctor_model::Span;

/// Where variable values come from; `None` means unset (different from empty).
pub(crate) type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// Defaults nest this deep at most; deeper input is hostile, and the expansion recurses.
const MAX_NESTING: usize = 32;

/// Why a string could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Unclosed,
    NotAReference(String),
    Required { name: String, message: String },
    TooDeep,
}

impl Problem {
    /// The error, located at the scalar that held `text`.
    pub(crate) fn at(&self, span: &Span, text: &str) -> LoadError {
        let shown = shorten(text);
        let message = match self {
            Problem::Unclosed => {
                format!("invalid interpolation format in \"{shown}\": `${{` is never closed; write `$$` for a literal `$`")
            }
            Problem::NotAReference(body) => format!(
                "invalid interpolation format in \"{shown}\": `${{{}}}` is not a variable reference; write `$$` for a literal `$`",
                shorten(body)
            ),
            Problem::Required { name, message } if message.is_empty() => {
                format!("required variable {name} is missing a value")
            }
            Problem::Required { name, message } => format!("required variable {name} is missing a value: {message}"),
            Problem::TooDeep => format!("interpolation in \"{shown}\" nests deeper than {MAX_NESTING} levels"),
        };
        LoadError::at(span, message)
    }
}

/// Interpolates every scalar value of a tree in place; spans and quoting are kept.
pub(crate) fn interpolate_tree(node: &mut Node, lookup: &Lookup) -> Result<()> {
    let Node { value, span } = node;
    match value {
        Value::Scalar(scalar) if scalar.text.contains('$') => {
            scalar.text = substitute(&scalar.text, lookup).map_err(|p| p.at(span, &scalar.text))?;
        }
        Value::Seq(items) => items.iter_mut().try_for_each(|item| interpolate_tree(item, lookup))?,
        Value::Map(entries) => entries.iter_mut().try_for_each(|e| interpolate_tree(&mut e.value, lookup))?,
        Value::Scalar(_) | Value::Null => {}
    }
    Ok(())
}

/// Interpolates one string.
pub(crate) fn substitute(text: &str, lookup: &Lookup) -> std::result::Result<String, Problem> {
    expand(text, lookup, 0)
}

fn expand(text: &str, lookup: &Lookup, depth: usize) -> std::result::Result<String, Problem> {
    if depth > MAX_NESTING {
        return Err(Problem::TooDeep);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('$') {
        out.push_str(before);
        rest = if let Some(after_escape) = after.strip_prefix('$') {
            out.push('$');
            after_escape
        } else if let Some(braced) = after.strip_prefix('{') {
            let (body, tail) = split_braced(braced).ok_or(Problem::Unclosed)?;
            out.push_str(&evaluate(body, lookup, depth)?);
            tail
        } else {
            let (name, tail) = after.split_at(name_len(after));
            if name.is_empty() {
                // compose-go leaves a `$` that starts no reference (`$1`, a trailing `$`) as it is.
                out.push('$');
            } else {
                out.push_str(&lookup(name).unwrap_or_default());
            }
            tail
        };
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `body}rest` at the `}` that closes the reference. As in compose-go, only `${`
/// opens a nested level, while any `}` closes one.
fn split_braced(text: &str) -> Option<(&str, &str)> {
    let mut open = 1usize;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '$' && chars.next_if(|(_, n)| *n == '{').is_some() {
            open += 1;
        } else if c == '}' {
            open -= 1;
            if open == 0 {
                let (body, tail) = text.split_at(at);
                return Some((body, tail.get(1..).unwrap_or("")));
            }
        }
    }
    None
}

/// The value of `${body}`.
fn evaluate(body: &str, lookup: &Lookup, depth: usize) -> std::result::Result<String, Problem> {
    let not_a_reference = || Problem::NotAReference(body.to_string());
    let (name, operation) = body.split_at(name_len(body));
    if name.is_empty() {
        return Err(not_a_reference());
    }
    let value = lookup(name);
    if operation.is_empty() {
        return Ok(value.unwrap_or_default());
    }
    let (unset_if_empty, operation) = match operation.strip_prefix(':') {
        Some(op) => (true, op),
        None => (false, operation),
    };
    let mut chars = operation.chars();
    let operator = chars.next();
    let argument = chars.as_str();
    let set = value.as_deref().is_some_and(|v| !(unset_if_empty && v.is_empty()));
    match (operator, set) {
        (Some('-'), true) | (Some('?'), true) => Ok(value.unwrap_or_default()),
        (Some('-'), false) | (Some('+'), true) => expand(argument, lookup, depth + 1),
        (Some('+'), false) => Ok(String::new()),
        (Some('?'), false) => Err(Problem::Required { name: name.to_string(), message: argument.to_string() }),
        _ => Err(not_a_reference()),
    }
}

/// Length in bytes of the variable name `text` starts with (`[_A-Za-z][_A-Za-z0-9]*`).
fn name_len(text: &str) -> usize {
    let mut chars = text.chars();
    if !chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic()) {
        return 0;
    }
    1 + chars.take_while(|c| *c == '_' || c.is_ascii_alphanumeric()).count()
}

/// Keeps messages readable when a scalar is long.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    fn env() -> BTreeMap<String, String> {
        [("SET", "value"), ("EMPTY", ""), ("PORT", "8080"), ("B", "bee")].into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn run(text: &str) -> std::result::Result<String, Problem> {
        let env = env();
        substitute(text, &|k: &str| env.get(k).cloned())
    }

    #[test]
    fn substitutes_like_compose() {
        let cases = [
            ("plain text", "plain text"),
            ("$SET", "value"),
            ("${SET}", "value"),
            ("a${SET}b", "avalueb"),
            ("$SET.x", "value.x"),
            ("${UNSET}", ""),
            ("$UNSET", ""),
            ("${UNSET:-dflt}", "dflt"),
            ("${EMPTY:-dflt}", "dflt"),
            ("${EMPTY-dflt}", ""),
            ("${UNSET-dflt}", "dflt"),
            ("${SET:-dflt}", "value"),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("${SET:?boom}", "value"),
            ("${EMPTY?boom}", ""),
            ("$$", "$"),
            ("$${SET}", "${SET}"),
            ("$$SET", "$SET"),
            ("${UNSET:-${B}}", "bee"),
            ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
            ("${UNSET:-x ${PORT} y}", "x 8080 y"),
            ("${PORT}:80", "8080:80"),
            ("$1 and $", "$1 and $"),
            ("cost: 5$", "cost: 5$"),
            ("${UNSET:-}", ""),
            ("ünï${SET}cödé", "ünïvaluecödé"),
        ];
        for (text, want) in cases {
            assert_eq!(run(text).as_deref(), Ok(want), "{text}");
        }
    }

    #[test]
    fn reports_problems() {
        let required = |name: &str, message: &str| Problem::Required { name: name.into(), message: message.into() };
        let cases = [
            ("${UNSET:?set it in .env}", required("UNSET", "set it in .env")),
            ("${EMPTY:?}", required("EMPTY", "")),
            ("${UNSET?}", required("UNSET", "")),
            ("${UNSET:-${ALSO:?inner}}", required("ALSO", "inner")),
            ("${SET", Problem::Unclosed),
            ("abc ${", Problem::Unclosed),
            ("${}", Problem::NotAReference(String::new())),
            ("${1A}", Problem::NotAReference("1A".into())),
            ("${A B}", Problem::NotAReference("A B".into())),
            ("${A:x}", Problem::NotAReference("A:x".into())),
        ];
        for (text, want) in cases {
            assert_eq!(run(text), Err(want), "{text}");
        }
        let deep = format!("{}x{}", "${U:-".repeat(100), "}".repeat(100));
        assert_eq!(run(&deep), Err(Problem::TooDeep));
    }

    #[test]
    fn interpolates_values_not_keys_and_keeps_positions() {
        let text = "$SET: ${SET}\nlist: [\"${PORT}\", $$x]\nn: ~\n";
        let file: Arc<Path> = Arc::from(Path::new("c.yaml"));
        let Ok(mut root) = crate::yaml::parse(text, file) else { panic!("parse") };
        let before = root.clone();
        let env = env();
        let result = interpolate_tree(&mut root, &|k: &str| env.get(k).cloned());
        assert!(result.is_ok());
        assert_eq!(root.to_string(), "{$SET: value, list: [8080, $x], n: null}");
        let spans = |n: &Node| n.get("list").and_then(|l| l.as_seq()).map(|s| s.iter().map(|i| i.span.clone()).collect::<Vec<_>>());
        assert_eq!(spans(&root), spans(&before));
        let quoted = root.get("list").and_then(|l| l.as_seq()).and_then(|s| s.first()).map(crate::compose::edit::is_quoted);
        assert_eq!(quoted, Some(true));
    }

    #[test]
    fn errors_are_located_at_the_scalar() {
        let file: Arc<Path> = Arc::from(Path::new("c.yaml"));
        let Ok(mut root) = crate::yaml::parse("a: 1\nb:\n  c: x${NOPE:?needed for c}\n", file) else { panic!("parse") };
        let env = env();
        let Err(e) = interpolate_tree(&mut root, &|k: &str| env.get(k).cloned()) else { panic!("no error") };
        assert_eq!((e.line, e.column), (3, 6));
        assert_eq!(e.message, "required variable NOPE is missing a value: needed for c");
    }
}

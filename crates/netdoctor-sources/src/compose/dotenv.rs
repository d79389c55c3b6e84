//! `.env` files in the dialect compose-go reads: `#` comments, an optional `export `,
//! `KEY=value` or `KEY: value`, single quotes (literal), double quotes (escapes, may span
//! lines), ` #` comments after unquoted values, `${VAR}` expansion, and a bare `KEY`
//! meaning "take KEY from the environment".

use super::interpolate::{self, Lookup};
use crate::error::{LoadError, Result};
use netdoctor_model::Span;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// One variable of an env file, with the positions of its name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvVar {
    pub key: String,
    pub key_span: Span,
    pub value: String,
    pub value_span: Span,
}

/// How values are read: `raw` takes everything after `=` literally (the env_file `format` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Dotenv,
    Raw,
}

/// Parses env-file text. `lookup` answers `${VAR}` and bare `KEY` lines; it wins over
/// variables defined earlier in the same file, as in compose-go. Later duplicates are
/// returned too; callers keep the last.
pub(crate) fn parse(text: &str, file: &Arc<Path>, format: Format, lookup: &Lookup) -> Result<Vec<EnvVar>> {
    let mut parser = EnvParser { cursor: Cursor::new(text, file.clone()), format, lookup, defined: HashMap::new() };
    let mut vars = Vec::new();
    while let Some(var) = parser.next_var()? {
        parser.defined.insert(var.key.clone(), var.value.clone());
        vars.push(var);
    }
    Ok(vars)
}

struct EnvParser<'a> {
    cursor: Cursor<'a>,
    format: Format,
    lookup: &'a Lookup<'a>,
    defined: HashMap<String, String>,
}

impl EnvParser<'_> {
    fn next_var(&mut self) -> Result<Option<EnvVar>> {
        loop {
            self.cursor.eat_while(char::is_whitespace);
            match self.cursor.peek() {
                None => return Ok(None),
                Some('#') => {
                    self.cursor.eat_line();
                    continue;
                }
                Some(_) => {}
            }
            if let Some(var) = self.statement()? {
                return Ok(Some(var));
            }
        }
    }

    /// One `KEY=value` statement; `None` for a bare `KEY` the environment does not set.
    fn statement(&mut self) -> Result<Option<EnvVar>> {
        self.skip_export();
        let key_span = self.cursor.span();
        let key = self.cursor.eat_while(is_key_char).to_string();
        self.cursor.eat_while(is_blank);
        match self.cursor.peek() {
            None | Some('\n' | '\r') if !key.is_empty() => return Ok(self.inherited(key, key_span)),
            Some('=' | ':') if !key.is_empty() => {
                self.cursor.bump();
            }
            found => return Err(self.bad_key(&key, found)),
        }
        self.cursor.eat_while(is_blank);
        let value_span = self.cursor.span();
        let value = self.value(&value_span)?;
        Ok(Some(EnvVar { key, key_span, value, value_span }))
    }

    fn skip_export(&mut self) {
        let rest = self.cursor.rest;
        if rest.strip_prefix("export").is_some_and(|r| r.starts_with(is_blank)) {
            self.cursor.eat_while(|c| !is_blank(c));
            self.cursor.eat_while(is_blank);
        }
    }

    fn inherited(&self, key: String, key_span: Span) -> Option<EnvVar> {
        let value = (self.lookup)(&key)?;
        Some(EnvVar { key, key_span: key_span.clone(), value, value_span: key_span })
    }

    fn bad_key(&self, key: &str, found: Option<char>) -> LoadError {
        let span = self.cursor.span();
        let found = found.map_or("the end of the line".to_string(), |c| format!("`{}`", c.escape_debug()));
        let message = if key.is_empty() {
            format!("expected a variable name, found {found}")
        } else {
            format!("unexpected character {found} after variable name `{key}`; write `{key}=value`")
        };
        LoadError::at(&span, message)
    }

    fn value(&mut self, span: &Span) -> Result<String> {
        let quote = self.cursor.peek().filter(|c| matches!(c, '\'' | '"'));
        match (self.format, quote) {
            (Format::Raw, _) => Ok(self.cursor.eat_line().trim_end_matches('\r').to_string()),
            (Format::Dotenv, Some(quote)) => self.quoted(quote, span),
            (Format::Dotenv, None) => {
                let line = self.cursor.eat_line();
                let value = line.split_once(" #").map_or(line, |(v, _)| v).trim_end();
                self.expand(value, span)
            }
        }
    }

    fn quoted(&mut self, quote: char, span: &Span) -> Result<String> {
        self.cursor.bump();
        let mut previous = None;
        let inner = self.cursor.eat_while(|c| {
            let inside = c != quote || previous == Some('\\');
            previous = Some(c);
            inside
        });
        if self.cursor.bump().is_none() {
            return Err(LoadError::at(span, format!("unterminated quoted value; add the closing {quote}")));
        }
        // What follows the closing quote on the line is a comment (or stray text compose ignores).
        self.cursor.eat_line();
        if quote == '\'' {
            return Ok(inner.to_string());
        }
        self.expand(&unescape(inner), span)
    }

    fn expand(&self, value: &str, span: &Span) -> Result<String> {
        let lookup = |k: &str| (self.lookup)(k).or_else(|| self.defined.get(k).cloned());
        interpolate::substitute(value, &lookup).map_err(|p| p.at(span, value))
    }
}

/// Backslash escapes of double-quoted values. `\$` becomes `$$` so that the expansion
/// that follows leaves a literal `$`.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('$') => out.push_str("$$"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A position in the text that knows its line and column.
struct Cursor<'a> {
    rest: &'a str,
    file: Arc<Path>,
    line: u32,
    column: u32,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str, file: Arc<Path>) -> Self {
        Cursor { rest: text.strip_prefix('\u{feff}').unwrap_or(text), file, line: 1, column: 1 }
    }

    fn span(&self) -> Span {
        Span::new(self.file.clone(), self.line, self.column)
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.eat(c.len_utf8());
        Some(c)
    }

    fn eat_while(&mut self, mut keep: impl FnMut(char) -> bool) -> &'a str {
        let len = self.rest.char_indices().find(|(_, c)| !keep(*c)).map_or(self.rest.len(), |(at, _)| at);
        self.eat(len)
    }

    /// The rest of the line, without its newline.
    fn eat_line(&mut self) -> &'a str {
        self.eat_while(|c| c != '\n')
    }

    fn eat(&mut self, len: usize) -> &'a str {
        let (taken, rest) = self.rest.split_at(len);
        for c in taken.chars() {
            if c == '\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else {
                self.column = self.column.saturating_add(1);
            }
        }
        self.rest = rest;
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<Path> {
        Arc::from(Path::new(".env"))
    }

    fn vars(text: &str, format: Format) -> Vec<(String, String)> {
        let lookup = |k: &str| (k == "HOME").then(|| "/home/me".to_string());
        match parse(text, &file(), format, &lookup) {
            Ok(vars) => vars.into_iter().map(|v| (v.key, v.value)).collect(),
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn one(text: &str) -> Option<String> {
        vars(text, Format::Dotenv).pop().map(|(_, v)| v)
    }

    #[test]
    fn reads_values_like_compose_go() {
        let cases: &[(&str, Option<&str>)] = &[
            ("A=1", Some("1")),
            ("A = 1 ", Some("1")),
            ("export A=1", Some("1")),
            ("A: 1", Some("1")),
            ("A=", Some("")),
            ("A=''", Some("")),
            ("A=a # comment", Some("a")),
            ("A=a#not-comment", Some("a#not-comment")),
            ("A='single $HOME \\n'", Some("single $HOME \\n")),
            ("A=\"double $HOME\\n\\\"q\\\" \\$x\"", Some("double /home/me\n\"q\" $x")),
            ("A=\"multi\nline\"", Some("multi\nline")),
            ("A=\"x\" # trailing comment", Some("x")),
            ("A=${HOME}/x", Some("/home/me/x")),
            ("A=${NOPE:-dflt}", Some("dflt")),
            ("B=1\nA=${B}2", Some("12")),
            ("HOME", Some("/home/me")),
            ("UNSET_VAR", None),
            ("A=1\r", Some("1")),
            ("\u{feff}A=1", Some("1")),
            ("exporter=1", Some("1")),
            ("A=üñí", Some("üñí")),
        ];
        for (text, want) in cases {
            assert_eq!(one(text).as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn keeps_comments_blank_lines_and_order() {
        let text = "# header\n\nA=1\n  # indented comment\nB=2\nA=3\n";
        let got = vars(text, Format::Dotenv);
        let want = [("A", "1"), ("B", "2"), ("A", "3")].map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(got, want);
    }

    #[test]
    fn raw_format_takes_values_literally() {
        assert_eq!(vars("A='x' # ${HOME}\n", Format::Raw), [("A".to_string(), "'x' # ${HOME}".to_string())]);
    }

    #[test]
    fn locates_names_and_values() {
        let Ok(vars) = parse("\n  B=x\nexport C=\"y\"\n", &file(), Format::Dotenv, &|_: &str| None) else { panic!("parse") };
        let at = |s: &Span| (s.line, s.column);
        let spans: Vec<_> = vars.iter().map(|v| (at(&v.key_span), at(&v.value_span))).collect();
        assert_eq!(spans, [((2, 3), (2, 5)), ((3, 8), (3, 10))]);
    }

    #[test]
    fn reports_errors_with_positions() {
        let cases = [
            ("A=\"open\nB=1\n", (1, 3), "unterminated quoted value"),
            ("A B=1", (1, 3), "unexpected character `B` after variable name `A`"),
            ("=1", (1, 1), "expected a variable name, found `=`"),
            ("\nA=${NOPE:?say why}", (2, 3), "required variable NOPE is missing a value: say why"),
            ("A=${", (1, 3), "invalid interpolation format"),
        ];
        for (text, at, want) in cases {
            let Err(e) = parse(text, &file(), Format::Dotenv, &|_: &str| None) else { panic!("{text:?} parsed") };
            assert_eq!((e.line, e.column), at, "{text:?}: {e}");
            assert!(e.message.contains(want), "{text:?}: {e}");
        }
    }
}

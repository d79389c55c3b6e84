//! Source excerpts for the text view: the line a span points at, with secret values
//! masked, and the token under the span's column to underline.

use crate::Report;
use netdoctor_model::{redact_url_userinfo, redact_value, Span};

/// One source line ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Excerpt {
    /// 1-based line number.
    pub line: u32,
    /// The line as it may be shown: secrets masked, control characters replaced.
    pub text: String,
    /// Characters of `text` before the first `^` (tabs are kept so carets line up).
    pub pad: String,
    /// How many `^` to print (at least one).
    pub width: usize,
}

/// The excerpt for a span, or `None` when the file text is unknown or the line is not in it.
pub(crate) fn excerpt(report: &Report, span: &Span) -> Option<Excerpt> {
    let index = usize::try_from(span.line).ok()?.checked_sub(1)?;
    let source = report.sources.get(span.file.as_ref())?;
    let raw = source.lines().nth(index)?;
    let secret_column = secret_column(report, span);
    let text = shown(raw, secret_column);

    // Columns count characters of the raw line. Masking can change the length of
    // what comes before the column, so the caret goes where the masked prefix ends.
    let column = usize::try_from(span.column.max(1)).unwrap_or(1);
    let raw_prefix: String = raw.chars().take(column - 1).collect();
    let start = shown(&raw_prefix, secret_column).chars().count().min(text.chars().count());

    let pad: String = text.chars().take(start).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    let width = text.chars().skip(start).take_while(|&c| is_token_char(c)).count().max(1);
    Some(Excerpt { line: span.line, text, pad, width })
}

/// The leftmost sensitive column on the span's line, if any.
fn secret_column(report: &Report, span: &Span) -> Option<u32> {
    report.sensitive.iter().filter(|s| s.file == span.file && s.line == span.line).map(|s| s.column).min()
}

/// A token is what a person reads as one word of config: a key, a value, a name.
fn is_token_char(c: char) -> bool {
    !c.is_whitespace() && c != ':' && c != '='
}

/// A source line as it may be printed.
pub(crate) fn shown(raw: &str, secret_column: Option<u32>) -> String {
    let masked = match secret_column {
        Some(column) => mask_from(raw, column),
        None => raw.to_string(),
    };
    sanitize(&redact_url_userinfo(&masked))
}

/// Replaces the text from the 1-based `column` to the end of the line by its redacted form.
fn mask_from(line: &str, column: u32) -> String {
    let keep = usize::try_from(column.max(1)).unwrap_or(usize::MAX) - 1;
    let Some((split, _)) = line.char_indices().nth(keep) else {
        // The column lies past the end of the line: nothing there to hide.
        return line.to_string();
    };
    let (head, value) = line.split_at(split);
    format!("{head}{}", redact_value(strip_quotes(value.trim())))
}

/// `"value"` or `'value'` → `value`.
fn strip_quotes(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|v| v.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

/// Replaces control characters (other than tab) so a crafted config file cannot
/// send escape sequences to the reader's terminal.
pub(crate) fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    const FILE: &str = "services:\n  web:\n    environment:\n      DATABASE_URL: \"postgres://user:pw@db:5432/app\"\n      TOKEN: hunter2 # trailing\n\tkey=value\n";

    fn span(line: u32, column: u32) -> Span {
        Span::new(Arc::from(Path::new("compose.yaml")), line, column)
    }

    fn report(sensitive: Vec<Span>) -> Report {
        let mut r = Report { sensitive, ..Report::default() };
        r.sources.insert(PathBuf::from("compose.yaml"), FILE.to_string());
        r
    }

    #[test]
    fn underlines_the_token_at_the_column() {
        let e = excerpt(&report(vec![]), &span(2, 3)).unwrap();
        assert_eq!(e.text, "  web:");
        assert_eq!(e.pad, "  ");
        assert_eq!(e.width, 3);
    }

    #[test]
    fn at_least_one_caret_and_never_past_the_line() {
        let e = excerpt(&report(vec![]), &span(2, 6)).unwrap();
        assert_eq!((e.pad.len(), e.width), (5, 1), "column on the `:` itself");
        let e = excerpt(&report(vec![]), &span(2, 40)).unwrap();
        assert_eq!((e.pad.len(), e.width), (6, 1), "column past the end");
        let e = excerpt(&report(vec![]), &span(2, 0)).unwrap();
        assert_eq!((e.pad.len(), e.width), (0, 1), "column 0 means the line start");
    }

    #[test]
    fn tabs_are_kept_in_the_padding() {
        let e = excerpt(&report(vec![]), &span(6, 6)).unwrap();
        assert_eq!(e.pad, "\t    ");
        assert_eq!(e.width, 5);
    }

    #[test]
    fn sensitive_values_are_redacted_with_scheme_host_and_port_kept() {
        let r = report(vec![span(4, 21), span(5, 14)]);
        let e = excerpt(&r, &span(4, 7)).unwrap();
        assert_eq!(e.text, "      DATABASE_URL: postgres://***@db:5432/***");
        assert_eq!(e.width, "DATABASE_URL".len());
        let e = excerpt(&r, &span(5, 14)).unwrap();
        assert_eq!(e.text, "      TOKEN: ***");
        assert_eq!((e.pad.len(), e.width), (13, 3), "the caret sits on the masked value");
    }

    #[test]
    fn userinfo_is_masked_even_without_a_sensitive_span() {
        let e = excerpt(&report(vec![]), &span(4, 7)).unwrap();
        assert_eq!(e.text, "      DATABASE_URL: \"postgres://***@db:5432/app\"");
        assert!(!e.text.contains("pw"));
    }

    #[test]
    fn no_excerpt_without_the_file_text_or_the_line() {
        assert_eq!(excerpt(&Report::default(), &span(1, 1)), None);
        assert_eq!(excerpt(&report(vec![]), &span(99, 1)), None);
        assert_eq!(excerpt(&report(vec![]), &span(0, 1)), None);
    }

    #[test]
    fn sensitive_spans_on_other_files_do_not_apply() {
        let other = Span::new(Arc::from(Path::new("other.yaml")), 5, 14);
        let e = excerpt(&report(vec![other]), &span(5, 7)).unwrap();
        assert_eq!(e.text, "      TOKEN: hunter2 # trailing");
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(sanitize("a\u{1b}[31mb\tc"), "a\u{FFFD}[31mb\tc");
    }

    #[test]
    fn quotes_are_stripped_before_redaction() {
        assert_eq!(mask_from("X: 'http://api:8080'", 4), "X: http://api:8080");
        assert_eq!(mask_from("X: \"secret\"", 4), "X: ***");
        assert_eq!(mask_from("X: ", 4), "X: ");
        assert_eq!(mask_from("X:", 10), "X:");
    }
}

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
    let source = report.sources.get(span.file.as_ref())?;
    excerpt_of(source, span.line, span.column, |_| secret_column(report, span))
}

/// The excerpt of a reading problem at `line`:`column` of `source`. Nothing was read,
/// so nothing is known to be secret: the value of a key whose name suggests a secret
/// is masked, and so are credentials in URLs.
pub(crate) fn input_excerpt(source: &str, line: u32, column: u32) -> Option<Excerpt> {
    excerpt_of(source, line, column, secret_looking_value)
}

/// Line `line` of `source`, masked from the column `secret` finds on it, with the
/// token at `column` to underline.
fn excerpt_of(source: &str, line: u32, column: u32, secret: impl Fn(&str) -> Option<u32>) -> Option<Excerpt> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    let raw = source.lines().nth(index)?;
    let secret_column = secret(raw);
    let text = shown(raw, secret_column);

    // Columns count characters of the raw line. Masking can change the length of
    // what comes before the column, so the caret goes where the masked prefix ends.
    let column = usize::try_from(column.max(1)).unwrap_or(1);
    let raw_prefix: String = raw.chars().take(column - 1).collect();
    let start = shown(&raw_prefix, secret_column).chars().count().min(text.chars().count());

    let width = text.chars().skip(start).take_while(|&c| is_token_char(c)).count().clamp(1, MAX_SHOWN / 2);
    // A very long line (minified JSON, a generated file) is shown around the column.
    let (text, start) = window(&text, start);
    let pad: String = text.chars().take(start).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    Some(Excerpt { line, text, pad, width })
}

/// Characters of a line shown at most.
const MAX_SHOWN: usize = 160;

/// `text` cut to `MAX_SHOWN` characters around character `start` (`…` where it was
/// cut), and where `start` is in what is left.
fn window(text: &str, start: usize) -> (String, usize) {
    let len = text.chars().count();
    if len <= MAX_SHOWN {
        return (text.to_string(), start);
    }
    let from = start.saturating_sub(MAX_SHOWN / 4).min(len - MAX_SHOWN);
    let mut shown: String = text.chars().skip(from).take(MAX_SHOWN).collect();
    let mut at = start - from;
    if from > 0 {
        shown.insert(0, '…');
        at += 1;
    }
    if from + MAX_SHOWN < len {
        shown.push('…');
    }
    (shown, at)
}

/// Words in a key that say its value is a secret.
const SECRET_WORDS: [&str; 9] = ["pass", "secret", "token", "key", "auth", "cred", "private", "cert", "pwd"];

/// The 1-based column where a `key: value` or `KEY=value` line's value starts, when the
/// key's name suggests a secret.
fn secret_looking_value(raw: &str) -> Option<u32> {
    let split = raw.find([':', '='])?;
    let key = raw.get(..split)?.trim().trim_start_matches("- ").trim_matches(['"', '\'']).to_ascii_lowercase();
    if !SECRET_WORDS.iter().any(|w| key.contains(w)) {
        return None;
    }
    let value_at = raw.get(split + 1..)?.find(|c: char| !c.is_whitespace()).map(|i| split + 1 + i)?;
    u32::try_from(raw.get(..value_at)?.chars().count() + 1).ok()
}

/// The leftmost sensitive column on the span's line, if any.
fn secret_column(report: &Report, span: &Span) -> Option<u32> {
    report.sensitive.iter().filter(|s| s.file == span.file && s.line == span.line).map(|s| s.column).min()
}

/// A token is what a person reads as one word of config: a key, a value, a name (a
/// flow collection's `,`, `}` and `]` end it).
fn is_token_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ':' | '=' | ',' | '}' | ']')
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
    fn input_excerpts_mask_values_of_secret_looking_keys() {
        let text =
            "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: \"s3cret\n      - API_TOKEN=abc: [\n    ports: [\"80x\"]\n";
        let e = input_excerpt(text, 4, 26).unwrap();
        assert!(!e.text.contains("s3cret") && e.text.contains("POSTGRES_PASSWORD"), "{e:?}");
        let e = input_excerpt(text, 5, 9).unwrap();
        assert!(!e.text.contains("abc"), "{e:?}");
        let e = input_excerpt(text, 6, 13).unwrap();
        assert_eq!((e.text.as_str(), e.pad.len(), e.width), ("    ports: [\"80x\"]", 12, 5), "{e:?}");
        assert!(input_excerpt(text, 9, 1).is_none(), "past the end");
        assert!(input_excerpt(text, 0, 1).is_none(), "no line");
    }

    #[test]
    fn long_lines_are_shown_around_the_column() {
        let line = format!("{}BAD{}", "[".repeat(5000), "]".repeat(5000));
        let e = input_excerpt(&line, 1, 5001).unwrap();
        assert!(e.text.chars().count() <= MAX_SHOWN + 2, "{}", e.text.len());
        assert!(e.text.starts_with('…') && e.text.ends_with('…'), "{}", e.text);
        assert_eq!(e.text.chars().skip(e.pad.chars().count()).take(3).collect::<String>(), "BAD");
        let short = input_excerpt("a: [BAD]", 1, 5).unwrap();
        assert_eq!((short.text.as_str(), short.pad.len(), short.width), ("a: [BAD]", 4, 3));
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

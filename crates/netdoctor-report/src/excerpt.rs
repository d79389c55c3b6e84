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
    let raw = report.source_line(&span.file, span.line)?;
    excerpt_of(raw, span.line, span.column, |_| secret_column(report, span))
}

/// The excerpt of a finding's own span: as `excerpt`, but when the finding has a
/// `focus` at the span's column (a host inside a masked value), that text is shown and
/// underlined, and only the rest of the value is masked.
pub(crate) fn finding_excerpt(report: &Report, span: &Span, focus: Option<&str>) -> Option<Excerpt> {
    let plain = excerpt(report, span);
    let (Some(focus), Some(raw)) = (focus.filter(|f| !f.is_empty()), report.source_line(&span.file, span.line)) else { return plain };
    let column = usize::try_from(span.column.max(1)).unwrap_or(1) - 1;
    let at_column: String = raw.chars().skip(column).take(focus.chars().count()).collect();
    let secret = secret_column(report, span).and_then(|c| usize::try_from(c).ok()).map(|c| c.max(1) - 1);
    let Some(secret) = secret.filter(|&c| c <= column && at_column == focus) else { return plain };
    // The focus is inside a masked value: show it, and mask what is around it.
    let head: String = raw.chars().take(secret).collect();
    let value: String = raw.chars().skip(secret).collect();
    let value = strip_quotes(value.trim());
    // A URL keeps its scheme, host and port when masked; anything else is masked but
    // for the focus and the separators beside it.
    let masked_url = redact_value(value);
    let (masked_before, masked_after) = match token_column(&masked_url, focus, 0) {
        Some(i) if value.contains("://") => {
            let split = masked_url.char_indices().nth(i).map_or(masked_url.len(), |(b, _)| b);
            (masked_url.get(..split)?.to_string(), masked_url.get(split + focus.len()..)?.to_string())
        }
        _ => {
            let within = value.find(focus)?;
            let (before, after) = (value.get(..within)?, value.get(within + focus.len()..)?);
            let masked_before = match before.chars().last() {
                None => String::new(),
                Some(sep) if !sep.is_alphanumeric() && before.len() > sep.len_utf8() => format!("***{sep}"),
                Some(sep) if !sep.is_alphanumeric() => sep.to_string(),
                Some(_) => "***".into(),
            };
            let masked_after = match after.chars().next() {
                None => String::new(),
                Some(sep) if !sep.is_alphanumeric() && after.len() > sep.len_utf8() => format!("{sep}***"),
                Some(sep) if !sep.is_alphanumeric() => sep.to_string(),
                Some(_) => "***".into(),
            };
            (masked_before, masked_after)
        }
    };
    let head = sanitize(&redact_url_userinfo(&head));
    let start = head.chars().count() + masked_before.chars().count();
    let text = format!("{head}{masked_before}{}{masked_after}", sanitize(focus));
    let (text, start) = window(&text, start);
    let pad: String = text.chars().take(start).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    Some(Excerpt { line: span.line, text, pad, width: focus.chars().count().clamp(1, MAX_SHOWN / 2) })
}

/// Moves each finding's origin onto its `focus` when the focus is written on the
/// origin's line at or after its column (a host inside the value of the key the
/// origin points at), so every format points at the culprit. Needs `report.sources`.
pub fn place_focus(report: &mut Report) {
    let moved: Vec<(usize, u32)> = report
        .findings
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let focus = d.focus.as_deref().filter(|f| !f.is_empty())?;
            let Some(netdoctor_model::Origin::File(span)) = d.origin.as_ref() else { return None };
            let raw = report.source_line(&span.file, span.line)?;
            let column = token_column(raw, focus, usize::try_from(span.column.max(1)).unwrap_or(1) - 1)?;
            Some((i, u32::try_from(column + 1).ok()?))
        })
        .collect();
    for (i, column) in moved {
        if let Some(netdoctor_model::Origin::File(span)) = report.findings.get_mut(i).and_then(|d| d.origin.as_mut()) {
            span.column = column;
        }
    }
}

/// The character index of the first occurrence of `token` in `line` at or after
/// character `from` that stands alone (not part of a longer host name).
fn token_column(line: &str, token: &str, from: usize) -> Option<usize> {
    let host_char = |c: char| c.is_alphanumeric() || matches!(c, '-' | '.' | '_');
    let chars: Vec<char> = line.chars().collect();
    let want: Vec<char> = token.chars().collect();
    (from..chars.len()).find(|&i| {
        chars.get(i..i + want.len()) == Some(want.as_slice())
            && (i == 0 || chars.get(i - 1).is_none_or(|&c| !host_char(c)))
            && chars.get(i + want.len()).is_none_or(|&c| !host_char(c))
    })
}

/// The excerpt of a reading problem at `line`:`column` of `source`. Nothing was read,
/// so nothing is known to be secret: the value of a key whose name suggests a secret
/// is masked, and so are credentials in URLs.
pub(crate) fn input_excerpt(source: &str, line: u32, column: u32) -> Option<Excerpt> {
    let raw = source.lines().nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    excerpt_of(raw, line, column, secret_looking_value)
}

/// `raw`, line `line` of its file, masked from the column `secret` finds on it, with the
/// token at `column` to underline.
fn excerpt_of(raw: &str, line: u32, column: u32, secret: impl Fn(&str) -> Option<u32>) -> Option<Excerpt> {
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

    /// A finding about a host inside a masked value shows and underlines that host, and
    /// masks credentials and the rest of the value; its origin moves onto the host.
    #[test]
    fn a_focus_inside_a_masked_value_is_shown_and_underlined() {
        let text = "x:\n      DB_HOST: dbb\n      CACHE: \"redis://:s3cret@cahce:6379/0\"\n      - QUEUE=amqp://u:pw@rabitmq:5672/vh\n      PEERS: a.example,dbb:5432\n";
        let mut r = Report { sensitive: vec![span(2, 16), span(3, 14), span(4, 15), span(5, 14)], ..Report::default() };
        r.sources.insert(PathBuf::from("compose.yaml"), text.to_string());
        let shown = |line: u32, focus: &str| {
            let raw = text.lines().nth(line as usize - 1).unwrap();
            let column = token_column(raw, focus, 0).unwrap() as u32 + 1;
            let e = finding_excerpt(&r, &span(line, column), Some(focus)).unwrap();
            format!("{}\n{}{}", e.text, e.pad, "^".repeat(e.width))
        };
        assert_eq!(shown(2, "dbb"), "      DB_HOST: dbb\n               ^^^");
        assert_eq!(shown(3, "cahce"), "      CACHE: redis://***@cahce:6379/***\n                         ^^^^^");
        assert_eq!(shown(4, "rabitmq"), "      - QUEUE=amqp://***@rabitmq:5672/***\n                         ^^^^^^^");
        assert_eq!(shown(5, "dbb"), "      PEERS: ***,dbb:***\n                 ^^^");
        // Without a focus the value stays masked whole.
        assert_eq!(excerpt(&r, &span(2, 7)).unwrap().text, "      DB_HOST: ***");
        // The origin moves from the key onto the host, past a longer name holding it.
        let finding = |column, focus: &str| netdoctor_rules::Diagnostic {
            id: "ND301",
            name: "name-unresolvable".into(),
            severity: netdoctor_rules::Severity::Error,
            message: String::new(),
            origin: Some(netdoctor_model::Origin::File(span(5, column))),
            related: vec![],
            subjects: vec![],
            help: String::new(),
            focus: Some(focus.into()),
        };
        r.findings = vec![finding(7, "dbb"), finding(7, "example"), finding(7, "absent")];
        place_focus(&mut r);
        let columns: Vec<u32> = r.findings.iter().filter_map(|d| d.origin.as_ref()?.span()).map(|s| s.column).collect();
        assert_eq!(columns, [24, 7, 7]);
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

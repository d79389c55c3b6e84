//! The text view, shaped like a compiler diagnostic (rustc, ruff): a header with
//! severity, rule ID and name, the position, a source excerpt with the token
//! underlined, related locations as notes, the fix, then input errors and a summary.

use crate::excerpt::{excerpt, finding_excerpt, input_excerpt, sanitize, Excerpt};
use crate::{fix_text, ordered, ordered_errors, safe_message, summary_counts, InputError, Report, TextOptions};
use netdoctor_model::Origin;
use netdoctor_rules::{Diagnostic, Severity};
use std::collections::BTreeSet;
// Writing into a `String` cannot fail, so `writeln!` results are ignored with `let _`.
use std::fmt::Write as _;

/// ANSI styles, or nothing when colour is off.
#[derive(Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    const RESET: &'static str = "\x1b[0m";

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}{}", Self::RESET)
        } else {
            text.to_string()
        }
    }

    fn severity(self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, text)
    }

    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Gutter, arrows and line numbers.
    fn frame(self, text: &str) -> String {
        self.paint("1;34", text)
    }
}

/// Renders the report for a terminal or a log, ending with a summary line.
pub fn render_text(report: &Report, opts: &TextOptions) -> String {
    let style = Style { color: opts.color };
    let mut out = String::new();
    for d in ordered(report) {
        finding(&mut out, report, d, style);
        out.push('\n');
    }
    let errors = ordered_errors(report);
    for e in &errors {
        input_error(&mut out, e, report.sources.get(&e.file).map(String::as_str), style);
    }
    if !errors.is_empty() {
        out.push('\n');
    }
    out.push_str(&style.bold(&summary(report)));
    out.push('\n');
    out
}

fn finding(out: &mut String, report: &Report, d: &Diagnostic, style: Style) {
    let main = d.origin.as_ref().map(|o| (o, o.span().and_then(|s| finding_excerpt(report, s, d.focus.as_deref()))));
    let related: Vec<_> = d.related.iter().map(|r| (r, r.origin.span().and_then(|s| excerpt(report, s)))).collect();
    let width = main
        .iter()
        .filter_map(|(_, e)| e.as_ref())
        .chain(related.iter().filter_map(|(_, e)| e.as_ref()))
        .map(|e| e.line.to_string().len())
        .max()
        .unwrap_or(1);

    let header = format!("{}[{}]", d.severity.as_str(), d.id);
    let _ = writeln!(
        out,
        "{} {}",
        style.severity(d.severity, &header),
        style.bold(&format!("{}: {}", d.name, sanitize(&safe_message(&d.message))))
    );
    if let Some((origin, ex)) = &main {
        location(out, origin, ex.as_ref(), width, d.severity, style);
    }
    for (r, ex) in &related {
        let _ = writeln!(out, "{}: {}", style.bold("note"), sanitize(&safe_message(&r.message)));
        location(out, &r.origin, ex.as_ref(), width, d.severity, style);
    }
    let fix = fix_text(d);
    if !fix.is_empty() {
        let _ = writeln!(out, "{}{} {} {}", " ".repeat(width + 1), style.frame("="), style.bold("help:"), sanitize(&fix));
    }
}

/// `--> position`, then the excerpt when the file text is known.
fn location(out: &mut String, origin: &Origin, ex: Option<&Excerpt>, width: usize, severity: Severity, style: Style) {
    let _ = writeln!(out, "{}{} {}", " ".repeat(width), style.frame("-->"), sanitize(&origin.to_string()));
    if let Some(ex) = ex {
        excerpt_lines(out, ex, width, severity, style);
    }
}

/// The source line with its number in the gutter, and carets under the token.
fn excerpt_lines(out: &mut String, ex: &Excerpt, width: usize, severity: Severity, style: Style) {
    let blank = " ".repeat(width + 1);
    let _ = writeln!(out, "{blank}{}", style.frame("|"));
    let number = format!("{:>width$} |", ex.line);
    let _ = writeln!(out, "{} {}", style.frame(&number), ex.text);
    let carets = style.severity(severity, &"^".repeat(ex.width));
    let _ = writeln!(out, "{blank}{} {}{carets}", style.frame("|"), ex.pad);
}

/// `error: file:line:column: message`, then the line it points at with a caret when
/// the file's text is at hand.
fn input_error(out: &mut String, e: &InputError, source: Option<&str>, style: Style) {
    let file = e.file.display();
    let position = match (e.line, e.column) {
        (0, _) => format!("{file}"),
        (line, 0) => format!("{file}:{line}"),
        (line, column) => format!("{file}:{line}:{column}"),
    };
    let message = sanitize(&safe_message(&e.message));
    let _ = writeln!(out, "{} {}: {message}", style.severity(Severity::Error, "error:"), sanitize(&position));
    let excerpt = source.filter(|_| e.line > 0).and_then(|text| input_excerpt(text, e.line, e.column));
    if let Some(ex) = &excerpt {
        excerpt_lines(out, ex, ex.line.to_string().len(), Severity::Error, style);
    }
    // Said once: messages that already name the path (`services.web.ports` must be …) get no line for it.
    if let Some(path) = e.path.as_ref().filter(|p| !e.message.contains(p.as_str())) {
        let width = excerpt.as_ref().map_or(1, |ex| ex.line.to_string().len());
        let _ = writeln!(out, "{}{} {} {}", " ".repeat(width + 1), style.frame("="), style.bold("in:"), sanitize(path));
    }
}

/// Reading problems as `check`'s text shows them, for the other subcommands' standard
/// error: each with its source line and a caret when `sources` holds the file's text.
pub fn render_input_errors(errors: &[InputError], sources: &std::collections::HashMap<std::path::PathBuf, String>, color: bool) -> String {
    let mut out = String::new();
    for e in errors {
        input_error(&mut out, e, sources.get(&e.file).map(String::as_str), Style { color });
    }
    out
}

/// The closing line: `2 errors, 1 warning, 0 infos in 2 files`, `no findings`, and
/// `; 1 input could not be read` when inputs failed. Findings from live data (no file)
/// add `and live data` to where they were found.
pub fn summary(report: &Report) -> String {
    let counts = summary_counts(&report.findings);
    let mut line = if counts.total() == 0 {
        "no findings".to_string()
    } else {
        let files: BTreeSet<_> = report.findings.iter().filter_map(|d| d.origin.as_ref()?.span()).map(|s| &s.file).collect();
        let live = report.findings.iter().any(|d| d.origin.as_ref().and_then(Origin::span).is_none());
        let place = match (files.len(), live) {
            (0, _) => "in live data".to_string(),
            (n, false) => format!("in {}", plural(n, "file")),
            (n, true) => format!("in {} and live data", plural(n, "file")),
        };
        format!("{}, {}, {} {place}", plural(counts.error, "error"), plural(counts.warning, "warning"), plural(counts.info, "info"))
    };
    match report.errors.len() {
        0 => {}
        1 => line.push_str("; 1 input could not be read"),
        n => {
            let _ = write!(line, "; {n} inputs could not be read");
        }
    }
    line
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netdoctor_model::Span;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    fn span(file: &str, line: u32, column: u32) -> Span {
        Span::new(Arc::from(Path::new(file)), line, column)
    }

    fn diag(severity: Severity, origin: Option<Origin>) -> Diagnostic {
        Diagnostic {
            id: "ND101",
            name: "default-bridge".into(),
            severity,
            message: "`web` looks up `api`".into(),
            origin,
            related: Vec::new(),
            subjects: vec!["web".into()],
            help: "remove `network_mode: bridge`".into(),
            focus: None,
        }
    }

    fn report() -> Report {
        let mut r = Report::default();
        r.sources.insert(PathBuf::from("c.yaml"), "services:\n  web:\n    network_mode: bridge\n".into());
        r
    }

    #[test]
    fn shape_of_one_finding() {
        let mut r = report();
        r.findings.push(diag(Severity::Error, Some(Origin::File(span("c.yaml", 3, 5)))));
        let text = render_text(&r, &TextOptions::default());
        let expected = "\
error[ND101] default-bridge: `web` looks up `api`
 --> c.yaml:3:5
  |
3 |     network_mode: bridge
  |     ^^^^^^^^^^^^
  = help: remove `network_mode: bridge`

1 error, 0 warnings, 0 infos in 1 file
";
        assert_eq!(text, expected);
    }

    #[test]
    fn missing_source_text_skips_the_excerpt() {
        let mut r = Report::default();
        r.findings.push(diag(Severity::Warning, Some(Origin::File(span("gone.yaml", 12, 9)))));
        let text = render_text(&r, &TextOptions::default());
        assert!(text.contains(" --> gone.yaml:12:9\n"));
        assert!(!text.contains(" |"), "no excerpt frame: {text}");
    }

    #[test]
    fn logical_origin_has_no_excerpt() {
        let mut r = report();
        r.findings.push(diag(Severity::Info, Some(Origin::Logical("docker://container/web".into()))));
        let text = render_text(&r, &TextOptions::default());
        assert!(text.contains(" --> docker://container/web\n"));
        assert!(!text.contains(" |"));
        assert!(text.ends_with("0 errors, 0 warnings, 1 info in live data\n"));
    }

    #[test]
    fn related_locations_are_notes_and_share_the_gutter() {
        let mut r = report();
        r.sources.insert(PathBuf::from("d.yaml"), "x\n".repeat(11));
        let mut d = diag(Severity::Error, Some(Origin::File(span("c.yaml", 2, 3))));
        d.related.push(netdoctor_rules::Related { origin: Origin::File(span("d.yaml", 11, 1)), message: "declared here".into() });
        r.findings.push(d);
        let text = render_text(&r, &TextOptions::default());
        assert!(text.contains("  --> c.yaml:2:3\n   |\n 2 |   web:\n   |   ^^^\n"), "{text}");
        assert!(text.contains("note: declared here\n  --> d.yaml:11:1\n   |\n11 | x\n   | ^\n   = help:"), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        let mut r = report();
        r.findings.push(diag(Severity::Error, Some(Origin::File(span("c.yaml", 3, 5)))));
        r.findings.push(diag(Severity::Warning, None));
        r.findings.push(diag(Severity::Info, None));
        let plain = render_text(&r, &TextOptions { color: false });
        assert!(!plain.contains('\x1b'));
        let colored = render_text(&r, &TextOptions { color: true });
        assert!(colored.contains("\x1b[1;31merror[ND101]\x1b[0m"));
        assert!(colored.contains("\x1b[1;33mwarning[ND101]\x1b[0m"));
        assert!(colored.contains("\x1b[1;36minfo[ND101]\x1b[0m"));
        assert!(colored.contains("\x1b[1;31m^^^^^^^^^^^^\x1b[0m"));
    }

    #[test]
    fn input_errors_and_summary_wording() {
        let mut r = Report::default();
        assert_eq!(render_text(&r, &TextOptions::default()), "no findings\n");
        r.errors.push(InputError { file: "a.yaml".into(), line: 3, column: 1, message: "did not find expected key".into(), path: None });
        r.errors.push(InputError { file: "b.yaml".into(), line: 0, column: 0, message: "no such file".into(), path: None });
        let text = render_text(&r, &TextOptions::default());
        assert_eq!(
            text,
            "error: a.yaml:3:1: did not find expected key\nerror: b.yaml: no such file\n\nno findings; 2 inputs could not be read\n"
        );
        r.errors.truncate(1);
        assert!(summary(&r).ends_with("; 1 input could not be read"));
    }

    #[test]
    fn messages_never_show_url_credentials() {
        let mut r = report();
        let mut d = diag(Severity::Error, None);
        d.message = "`web` uses redis://:hunter2@cache:6379".into();
        r.findings.push(d);
        r.errors.push(InputError { file: "e.env".into(), line: 1, column: 0, message: "bad line http://u:pw@x/".into(), path: None });
        let text = render_text(&r, &TextOptions::default());
        assert!(!text.contains("hunter2") && !text.contains("u:pw"), "{text}");
        assert!(text.contains("redis://***@cache:6379"));
        assert!(text.contains("error: e.env:1: bad line http://***@x/"));
    }
}

//! The views of `netdoctor why`: a layer-by-layer text for a person (the first failing
//! layer, its evidence and fix up front), and RULES.md's stable `why` JSON shape.

use crate::json::to_pretty_json;
use crate::safe_message;
use netdoctor_explain::{Status, Verdict, Why};
// Writing into a `String` cannot fail, so `writeln!` results are ignored with `let _`.
use std::fmt::Write as _;

/// Output formats of `why` and `probe`: text for people, JSON for tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum WhyFormat {
    Text,
    Json,
}

/// The JSON document of RULES.md (`version`, `from`, `to`, `port`, `verdict`, `steps`),
/// plus `listener`, with a trailing newline.
pub fn render_why_json(why: &Why) -> String {
    to_pretty_json(why)
}

/// Lines after the first of a multi-line text (a YAML snippet in a fix), indented to
/// sit under the text they continue.
fn indent_continuation(text: &str, pad: &str) -> String {
    text.replace('\n', &format!("\n{pad}     "))
}

/// The text view. `color` paints statuses for a terminal.
pub fn render_why_text(why: &Why, color: bool) -> String {
    let paint = |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
    let status = |s: Status| {
        let word = format!("{:<7}", s.as_str());
        match s {
            Status::Pass => paint("1;32", &word),
            Status::Fail => paint("1;31", &word),
            Status::Skip => paint("2", &word),
            Status::Unknown => paint("1;33", &word),
        }
    };
    let mut out = String::new();
    let verdict = match why.verdict {
        Verdict::Allowed => paint("1;32", "ALLOWED"),
        Verdict::Denied => paint("1;31", "DENIED"),
        Verdict::Unknown => paint("1;33", "UNKNOWN"),
    };
    let port = if why.port == "any" { "any port" } else { why.port.as_str() };
    let _ = writeln!(out, "{} → {} on {port}: {verdict}", why.from, why.to);
    match why.first_failure() {
        Some(s) => {
            let _ =
                writeln!(out, "  fails at layer {} ({}): {}", s.layer, s.name, safe_message(s.evidence.first().map_or("", String::as_str)));
        }
        None if why.listener.status == Status::Fail => {
            let _ = writeln!(out, "  the path works, but {}", safe_message(why.listener.evidence.last().map_or("", String::as_str)));
        }
        None if why.verdict == Verdict::Unknown => {
            let open: Vec<&str> = why.steps.iter().filter(|s| s.status == Status::Unknown).map(|s| s.name).collect();
            let mut open = open.join(", ");
            if why.listener.status == Status::Unknown {
                open.push_str(if open.is_empty() { "listener" } else { ", listener" });
            }
            let _ = writeln!(out, "  nothing in the configuration blocks it; not known without probing: {open}");
        }
        None => {}
    }
    out.push('\n');
    let pad = " ".repeat(23);
    for s in &why.steps {
        let mut evidence = s.evidence.iter();
        let _ =
            writeln!(out, "  {} {:<11}{} {}", s.layer, s.name, status(s.status), safe_message(evidence.next().map_or("", String::as_str)));
        for e in evidence {
            let _ = writeln!(out, "{pad}{}", safe_message(e));
        }
        if !s.rules.is_empty() {
            let _ =
                writeln!(out, "{pad}rules: {} (`netdoctor explain {}`)", s.rules.join(", "), s.rules.first().copied().unwrap_or_default());
        }
        if let (Status::Fail, Some(fix)) = (s.status, &s.fix) {
            let _ = writeln!(out, "{pad}{} {}", paint("1", "fix:"), indent_continuation(&safe_message(fix), &pad));
        }
    }
    let l = &why.listener;
    let mut evidence = l.evidence.iter();
    let _ = writeln!(out, "    {:<11}{} {}", "listener", status(l.status), safe_message(evidence.next().map_or("", String::as_str)));
    for e in evidence {
        let _ = writeln!(out, "{pad}{}", safe_message(e));
    }
    if let (Status::Fail, Some(fix)) = (l.status, &l.fix) {
        let _ = writeln!(out, "{pad}{} {}", paint("1", "fix:"), indent_continuation(&safe_message(fix), &pad));
    }
    out
}

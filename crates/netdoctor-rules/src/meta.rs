//! Rule metadata derived from the registry and each rule's doc: name, family, sections.

use crate::registry::{Registered, RULES};
use crate::rule::Family;
use crate::Severity;

/// Everything a renderer or `explain` may know about a rule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleMeta {
    pub id: &'static str,
    pub name: String,
    pub family: Family,
    pub severity: Severity,
    /// The doc with the leading space of each line trimmed.
    pub doc: String,
    /// The one-line summary: the first sentence of `## What it checks`.
    pub summary: String,
    /// The text of `## Fix`.
    pub fix: String,
}

impl RuleMeta {
    pub(crate) fn of_entry(entry: &Registered) -> RuleMeta {
        let doc = trim_doc(entry.rule.raw_doc());
        let summary = first_sentence(&section(&doc, "What it checks"));
        let fix = section(&doc, "Fix");
        RuleMeta {
            id: entry.id,
            name: kebab_case(entry.rule.type_name()),
            family: Family::of(entry.id).unwrap_or(Family::Growth),
            severity: entry.rule.default_severity(),
            doc,
            summary,
            fix,
        }
    }

    /// Where the rule's page lives in the repository.
    pub fn doc_path(&self) -> String {
        format!("docs/rules/{}.md", self.id)
    }
}

/// Metadata of every registered rule, in ID order.
pub fn all() -> Vec<RuleMeta> {
    RULES.iter().map(RuleMeta::of_entry).collect()
}

/// Metadata of one rule by ID (case-insensitive) or name.
pub fn find(id_or_name: &str) -> Option<RuleMeta> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id_or_name) || kebab_case(r.rule.type_name()) == id_or_name).map(RuleMeta::of_entry)
}

/// The `n` rules whose ID or name is closest to `query` (for "did you mean").
pub fn nearest(query: &str, n: usize) -> Vec<RuleMeta> {
    let upper = query.to_ascii_uppercase();
    let mut near: Vec<(usize, RuleMeta)> =
        all().into_iter().map(|m| (strsim::levenshtein(&upper, m.id).min(strsim::levenshtein(query, &m.name)), m)).collect();
    near.sort_by_key(|(d, m)| (*d, m.id));
    near.into_iter().take(n).map(|(_, m)| m).collect()
}

/// `DefaultBridge` → `default-bridge`.
pub fn kebab_case(type_name: &str) -> String {
    let mut out = String::with_capacity(type_name.len() + 4);
    for (i, c) in type_name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes the single leading space `///` leaves on each line.
fn trim_doc(raw: &str) -> String {
    raw.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect::<Vec<_>>().join("\n").trim().to_string()
}

/// The body of `## heading`, up to the next `## `.
pub fn section(doc: &str, heading: &str) -> String {
    let marker = format!("## {heading}");
    let mut lines = doc.lines().skip_while(|l| l.trim() != marker);
    lines.next();
    lines.take_while(|l| !l.starts_with("## ")).collect::<Vec<_>>().join("\n").trim().to_string()
}

fn first_sentence(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined.get(..=end).unwrap_or(&joined).to_string(),
        None => joined,
    }
}

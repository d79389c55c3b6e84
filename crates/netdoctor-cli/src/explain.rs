//! `netdoctor explain` and `netdoctor rules`: the rule catalog for people.

use netdoctor_rules::{meta, RuleMeta};

/// Formats of `netdoctor rules`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    /// The Markdown table of the README.
    #[value(name = "md")]
    Markdown,
}

/// Prints one rule's documentation; unknown IDs get the closest ones.
pub fn explain(query: &str) -> u8 {
    match meta::find(query) {
        Some(rule) => crate::print(&page(&rule), 0),
        None => {
            let all = meta::all();
            let mut near: Vec<(usize, &RuleMeta)> = all
                .iter()
                .map(|m| (strsim::levenshtein(&query.to_ascii_uppercase(), m.id).min(strsim::levenshtein(query, &m.name)), m))
                .collect();
            near.sort_by_key(|(d, m)| (*d, m.id));
            let suggestions: Vec<String> = near.iter().take(3).map(|(_, m)| format!("{} ({})", m.id, m.name)).collect();
            eprintln!("error: no rule `{query}`; did you mean {}? `netdoctor rules` lists them all", suggestions.join(", "));
            2
        }
    }
}

/// The documentation page of a rule, as printed by `explain` and kept in `docs/rules/`.
pub fn page(rule: &RuleMeta) -> String {
    format!("# {} {}\n\nfamily: {}  \ndefault severity: {}\n\n{}\n", rule.id, rule.name, rule.family.as_str(), rule.severity, rule.doc)
}

/// Prints the catalog.
pub fn rules(format: ListFormat) -> u8 {
    let all = meta::all();
    let text = match format {
        ListFormat::Text => {
            let width = all.iter().map(|m| m.name.len()).max().unwrap_or(0);
            all.iter().map(|m| format!("{}  {:<width$} {:<8} {}\n", m.id, m.name, m.severity.as_str(), m.summary)).collect()
        }
        ListFormat::Json => serde_json::to_string_pretty(&all).map(|s| s + "\n").unwrap_or_default(),
        ListFormat::Markdown => markdown_table(&all),
    };
    crate::print(&text, 0)
}

/// The rule table of the README.
pub fn markdown_table(all: &[RuleMeta]) -> String {
    let mut out = String::from("| ID | name | severity | checks |\n|---|---|---|---|\n");
    for m in all {
        out.push_str(&format!("| [{}]({}) | {} | {} | {} |\n", m.id, m.doc_path(), m.name, m.severity, m.summary.replace('|', "\\|")));
    }
    out
}

//! The rule catalog for people: one rule's page (`netdoctor explain`, `docs/rules/`) and
//! the list of all (`netdoctor rules`) as text, JSON or the README's Markdown table.

use netdoctor_rules::RuleMeta;

/// Formats of the rule list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum CatalogFormat {
    Text,
    Json,
    /// The Markdown table of the README.
    #[cfg_attr(feature = "clap", value(name = "md"))]
    Markdown,
}

/// The documentation page of a rule, as printed by `explain` and kept in `docs/rules/`.
pub fn render_rule_page(rule: &RuleMeta) -> String {
    format!("# {} {}\n\nfamily: {}  \ndefault severity: {}\n\n{}\n", rule.id, rule.name, rule.family.as_str(), rule.severity, rule.doc)
}

/// Every rule in `format`.
pub fn render_catalog(all: &[RuleMeta], format: CatalogFormat) -> String {
    match format {
        CatalogFormat::Text => {
            let width = all.iter().map(|m| m.name.len()).max().unwrap_or(0);
            all.iter().map(|m| format!("{}  {:<width$} {:<8} {}\n", m.id, m.name, m.severity.as_str(), m.summary)).collect()
        }
        CatalogFormat::Json => serde_json::to_string_pretty(all).map(|s| s + "\n").unwrap_or_default(),
        CatalogFormat::Markdown => {
            let mut out = String::from("| ID | name | severity | checks |\n|---|---|---|---|\n");
            for m in all {
                out.push_str(&format!(
                    "| [{}]({}) | {} | {} | {} |\n",
                    m.id,
                    m.doc_path(),
                    m.name,
                    m.severity,
                    m.summary.replace('|', "\\|")
                ));
            }
            out
        }
    }
}

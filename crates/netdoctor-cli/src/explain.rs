//! `netdoctor explain` and `netdoctor rules`: the rule catalog for people.

use netdoctor_report::{render_catalog, render_rule_page, CatalogFormat};
use netdoctor_rules::meta;

/// Prints one rule's documentation; unknown IDs get the closest ones.
pub fn explain(query: &str) -> u8 {
    match meta::find(query) {
        Some(rule) => crate::print(&render_rule_page(&rule), 0),
        None => {
            let suggestions: Vec<String> = meta::nearest(query, 3).iter().map(|m| format!("{} ({})", m.id, m.name)).collect();
            eprintln!("error: no rule `{query}`; did you mean {}? `netdoctor rules` lists them all", suggestions.join(", "));
            2
        }
    }
}

/// Prints the catalog.
pub fn rules(format: CatalogFormat) -> u8 {
    crate::print(&render_catalog(&meta::all(), format), 0)
}

//! `nft list tables`: which nftables tables exist beside the iptables rule sets.

use super::capture::InputSource;
use crate::error::LoadError;
use netdoctor_model::host::NftTable;

/// Parses `table <family> <name>` lines.
pub fn tables(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> Vec<NftTable> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        match words.as_slice() {
            ["table", family, name] => {
                out.push(NftTable { family: (*family).to_string(), name: (*name).to_string(), origin: source.origin(line_no, 1) })
            }
            // `nft list tables` without a family prints `table name` for ip tables.
            ["table", name] => out.push(NftTable { family: "ip".into(), name: (*name).to_string(), origin: source.origin(line_no, 1) }),
            _ => errors.push(source.error(line_no, 1, format!("expected `table <family> <name>`, found `{trimmed}`"))),
        }
    }
    out
}

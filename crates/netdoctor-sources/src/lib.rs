//! Readers of everything that describes a container network. Each reader parses its
//! input faithfully into a raw, position-keeping form (`tree::Node`; for the host,
//! `host::iptables::RawDump` and the captured texts), then lowers it into
//! `netdoctor_model::Model`. Only this crate (and the probe crate) does I/O.

pub mod compose;
pub mod docker;
pub mod error;
pub mod host;
pub mod k8s;
pub mod tree;
pub mod yaml;

pub use error::{error_chain, ConnectCause, LoadError, LoadErrorKind, Result};

/// Files larger than this are not read as text for excerpts.
const MAX_EXCERPT_SOURCE: u64 = 16 * 1024 * 1024;

/// The text of an input file, for showing source excerpts; `None` when unreadable.
pub fn read_source_text(path: &std::path::Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_EXCERPT_SOURCE {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

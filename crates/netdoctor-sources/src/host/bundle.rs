//! A snapshot bundle: every captured file of the layout in one JSON document, written
//! by `netdoctor snapshot --host` and read back by `--host-facts FILE`. It holds the raw
//! texts, not parsed facts, so a newer netdoctor re-reads an old bundle with its own
//! readers and positions still refer to lines of the captured outputs.

use super::capture::{is_layout_name, Capture, CapturedText, InputSource, MAX_INPUT_BYTES};
use crate::error::LoadError;
use netdoctor_model::Origin;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The bundle format version this netdoctor writes and reads.
pub const VERSION: u32 = 1;

/// The JSON document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The format version, so a reader can refuse what it does not understand.
    #[serde(rename = "netdoctor-host-snapshot")]
    pub version: u32,
    /// What was captured (`host://live`).
    pub source: String,
    /// File name of the layout → captured text.
    pub files: BTreeMap<String, String>,
    /// What could not be captured, as `file:line:col: message` lines.
    #[serde(default)]
    pub errors: Vec<String>,
}

impl Bundle {
    /// A bundle of a capture and the problems met while capturing it.
    pub fn of(capture: &Capture, errors: &[LoadError]) -> Bundle {
        Bundle {
            version: VERSION,
            source: capture.origin.to_string(),
            files: capture.texts.iter().map(|t| (t.name.clone(), t.text.clone())).collect(),
            errors: errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// The bundle as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Writes `capture` as a bundle document.
pub fn write_bundle(capture: &Capture, errors: &[LoadError]) -> String {
    Bundle::of(capture, errors).to_json()
}

/// Reads a bundle file into a capture whose origins point into the bundle.
pub fn read_bundle(path: &Path) -> Result<Capture, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::unreadable(path, format!("cannot read host facts: {e}")))?;
    if meta.len() > MAX_INPUT_BYTES {
        return Err(LoadError::unreadable(path, format!("file is larger than {} MB", MAX_INPUT_BYTES / 1024 / 1024)));
    }
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::unreadable(path, format!("cannot read host facts: {e}")))?;
    let bundle: Bundle = serde_json::from_str(&text).map_err(|e| {
        LoadError::at_position(
            path,
            u32::try_from(e.line()).unwrap_or(0),
            u32::try_from(e.column()).unwrap_or(0),
            format!("not a netdoctor host snapshot (from `netdoctor snapshot --host`) or a directory: {e}"),
        )
    })?;
    if bundle.version != VERSION {
        return Err(LoadError::whole_input(
            path,
            format!("snapshot format version {} is not supported (expected {VERSION})", bundle.version),
        ));
    }
    if let Some(unknown) = bundle.files.keys().find(|k| !is_layout_name(k)) {
        return Err(LoadError::whole_input(path, format!("snapshot holds `{unknown}`, which is not a file of the host facts layout")));
    }
    let texts = bundle
        .files
        .into_iter()
        .map(|(name, text)| CapturedText { source: InputSource::Bundle { bundle: path.to_path_buf(), name: name.clone() }, name, text })
        .collect();
    Ok(Capture { origin: Origin::Logical(path.display().to_string()), texts })
}

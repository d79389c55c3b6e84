//! Which files of a manifest tree to read: `.yaml`, `.yml` and `.json`, found by a
//! recursive walk in name order (so results do not depend on the file system).

use super::Warning;
use crate::error::LoadError;
use std::path::{Path, PathBuf};

/// Deepest directory nesting walked; deeper trees are reported, not followed.
const MAX_WALK_DEPTH: usize = 64;

/// Whether `path` has a manifest extension.
pub(crate) fn is_manifest(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("yaml" | "yml" | "json"))
}

/// The manifest files at or under `path`. Other files found in a directory are skipped
/// with a warning; an unreadable path is an error.
pub(crate) fn discover(path: &Path, warnings: &mut Vec<Warning>, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            errors.push(LoadError::unreadable(path, format!("cannot read: {e}; check the path exists")));
            return Vec::new();
        }
    };
    if meta.is_file() {
        // A file named explicitly is read whatever its extension.
        return vec![path.to_path_buf()];
    }
    let mut found = Vec::new();
    walk(path, 0, &mut found, warnings, errors);
    found
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>, warnings: &mut Vec<Warning>, errors: &mut Vec<LoadError>) {
    if depth > MAX_WALK_DEPTH {
        let message = format!("directory nesting deeper than {MAX_WALK_DEPTH} levels; not read further");
        warnings.push(Warning { file: dir.to_path_buf(), line: 0, column: 0, message });
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(LoadError::unreadable(dir, format!("cannot read directory: {e}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        // Symbolic links to directories are not followed, so a link cycle cannot loop.
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if path.is_dir() {
            if !is_link {
                walk(&path, depth + 1, found, warnings, errors);
            }
        } else if is_manifest(&path) {
            found.push(path);
        } else {
            let message = "skipped: not a YAML or JSON file".to_string();
            warnings.push(Warning { file: path, line: 0, column: 0, message });
        }
    }
}

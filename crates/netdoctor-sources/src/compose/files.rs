//! Reading the files a project names (compose files, `.env`, `env_file`): bounded in
//! size, checked to be UTF-8 text, with paths normalised lexically so that cycle checks
//! compare like with like.

use crate::error::{LoadError, Result};
use crate::yaml::{self, MAX_FILE_BYTES};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};

/// The file's text, or `None` when it does not exist.
pub(crate) fn read_text(path: &Path) -> Result<Option<String>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LoadError::unreadable(path, format!("reading {}: {e}", path.display()))),
    };
    let mut bytes = Vec::new();
    // One byte over the limit is enough for the size check to report the file.
    let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(&mut bytes).map_err(|e| LoadError::unreadable(path, format!("reading {}: {e}", path.display())))?;
    yaml::decode(&bytes, path).map(|text| Some(text.to_string()))
}

/// `path` resolved against `base` when relative, with `.` and `..` folded away without
/// touching the file system (symlinks are not resolved, as compose-go does not either).
pub(crate) fn resolve(base: &Path, path: &Path) -> PathBuf {
    normalize(&base.join(path))
}

/// Folds `.` and `..` components.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let can_pop = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if can_pop {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The directory holding `file` (`.` for a bare file name).
pub(crate) fn parent_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        let cases = [
            ("a/./b/../c", "a/c"),
            ("./compose.yaml", "compose.yaml"),
            ("../x", "../x"),
            ("a/../../x", "../x"),
            ("/../x", "/x"),
            (".", "."),
            ("a/..", "."),
        ];
        for (path, want) in cases {
            assert_eq!(normalize(Path::new(path)), PathBuf::from(want), "{path}");
        }
        assert_eq!(resolve(Path::new("/p"), Path::new("sub/../f.yaml")), PathBuf::from("/p/f.yaml"));
        assert_eq!(resolve(Path::new("/p"), Path::new("/abs.yaml")), PathBuf::from("/abs.yaml"));
        assert_eq!(parent_dir(Path::new("compose.yaml")), PathBuf::from("."));
    }

    #[test]
    fn reads_text_and_reports_missing_files() {
        let Ok(tmp) = tempfile::tempdir() else { panic!("no temp dir") };
        let dir = tmp.path();
        let good = dir.join("good.env");
        let binary = dir.join("binary.env");
        assert!(std::fs::write(&good, "A=1\n").is_ok());
        assert!(std::fs::write(&binary, b"A=\x00\n").is_ok());
        assert_eq!(read_text(&good).ok().flatten().as_deref(), Some("A=1\n"));
        assert_eq!(read_text(&dir.join("missing")).ok(), Some(None));
        let err = read_text(&binary).err().map(|e| (e.line, e.column));
        assert_eq!(err, Some((1, 3)));
        assert!(read_text(dir).is_err());
    }
}

//! Test helpers: throwaway project directories and a `load` with a given environment.

use super::load::{load, ComposeDocument, LoadOptions};
use super::name;
use crate::error::Result;
use std::path::PathBuf;

/// A temporary directory holding a project's files.
pub(crate) struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// Writes `files` (relative path, contents) into a new temporary directory.
    pub(crate) fn new(files: &[(&str, &str)]) -> Self {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(e) => panic!("creating a temporary directory: {e}"),
        };
        for (path, text) in files {
            let path = dir.path().join(path);
            let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
            if let Err(e) = written {
                panic!("writing {}: {e}", path.display());
            }
        }
        Project { dir }
    }

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The project name compose derives from the directory.
    pub(crate) fn dir_name(&self) -> String {
        let base = self.dir.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        name::normalize(&base)
    }
}

/// Loads the project in `project` by discovery, with `env` as the process environment.
pub(crate) fn load_in(project: &Project, env: &[(&str, &str)]) -> Result<ComposeDocument> {
    let environment = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    load(&LoadOptions { working_dir: project.path(), environment, ..LoadOptions::default() })
}

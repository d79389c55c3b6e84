//! Which compose files make up the project, and its directory: `-f` files, else
//! `COMPOSE_FILE`, else the first of the standard names in the working directory plus
//! the first override file found beside it (compose-go's order of preference).
//!
//! Unlike `docker compose`, discovery does not walk up into parent directories: a
//! diagnosis tool should not silently pick up a compose file the user did not point at.

use super::files;
use super::load::{Env, LoadOptions};
use crate::error::{LoadError, Result};
use std::path::{Path, PathBuf};

/// Base names tried in order; the first found wins.
const DEFAULT_FILES: &[&str] = &["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
/// Override names tried in order; the first found is merged after the base file.
const OVERRIDE_FILES: &[&str] =
    &["compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"];

/// The files to merge, in order, and the project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    pub files: Vec<PathBuf>,
    pub project_dir: PathBuf,
}

/// The directory to read `.env` from before the files are known.
pub(crate) fn start_dir(opts: &LoadOptions) -> PathBuf {
    match &opts.project_directory {
        Some(dir) => files::resolve(&opts.working_dir, dir),
        None if opts.working_dir.is_file() => files::parent_dir(&opts.working_dir),
        None => files::normalize(&opts.working_dir),
    }
}

/// Picks the files `opts` (and COMPOSE_FILE in `env`) point at.
pub(crate) fn select(opts: &LoadOptions, env: &Env) -> Result<Selection> {
    let files = chosen_files(opts, env)?;
    let project_dir = match (&opts.project_directory, files.first()) {
        (Some(dir), _) => files::resolve(&opts.working_dir, dir),
        (None, Some(first)) => files::parent_dir(first),
        (None, None) => files::normalize(&opts.working_dir),
    };
    Ok(Selection { files, project_dir })
}

fn chosen_files(opts: &LoadOptions, env: &Env) -> Result<Vec<PathBuf>> {
    let base = &opts.working_dir;
    if !opts.files.is_empty() {
        return opts.files.iter().map(|f| explicit_file(base, f)).collect();
    }
    if let Some(list) = env.get("COMPOSE_FILE").filter(|v| !v.is_empty()) {
        let separator = env.get("COMPOSE_PATH_SEPARATOR").map_or(":", String::as_str);
        let separator = if separator.is_empty() { ":" } else { separator };
        let named = list.split(separator).filter(|f| !f.is_empty());
        return named.map(|f| explicit_file(base, Path::new(f))).collect();
    }
    if base.is_file() {
        return Ok(vec![files::normalize(base)]);
    }
    discover(base)
}

fn explicit_file(base: &Path, file: &Path) -> Result<PathBuf> {
    if file == Path::new("-") {
        return Err(LoadError::whole_input(file, "reading a compose file from stdin (`-f -`) is not supported; save it to a file"));
    }
    Ok(files::resolve(base, file))
}

fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let first_in = |names: &[&str]| names.iter().map(|n| files::resolve(dir, Path::new(n))).find(|p| p.is_file());
    let Some(main) = first_in(DEFAULT_FILES) else {
        let message = format!(
            "no compose file found in {}; expected compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml (or pass -f FILE)",
            dir.display()
        );
        return Err(LoadError::unreadable(dir, message));
    };
    Ok(std::iter::once(main).chain(first_in(OVERRIDE_FILES)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::testing::Project;

    fn names(selection: &Selection, root: &Path) -> Vec<String> {
        let relative = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).display().to_string();
        selection.files.iter().map(relative).collect()
    }

    #[test]
    fn picks_files_like_compose() {
        /// Files present, `-f` flags, environment, files chosen.
        type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            (&["compose.yaml", "docker-compose.yml"], &[], &[], &["compose.yaml"]),
            (&["docker-compose.yml", "compose.override.yaml"], &[], &[], &["docker-compose.yml", "compose.override.yaml"]),
            (&["compose.yml", "compose.override.yml", "docker-compose.override.yml"], &[], &[], &["compose.yml", "compose.override.yml"]),
            (&["docker-compose.yaml"], &[], &[], &["docker-compose.yaml"]),
            (&["compose.yaml", "a.yaml", "b.yaml"], &["b.yaml", "./a.yaml"], &[], &["b.yaml", "a.yaml"]),
            (&["compose.yaml", "a.yaml", "b.yaml"], &[], &[("COMPOSE_FILE", "a.yaml:b.yaml")], &["a.yaml", "b.yaml"]),
            (&["a.yaml", "b.yaml"], &[], &[("COMPOSE_FILE", "a.yaml;b.yaml"), ("COMPOSE_PATH_SEPARATOR", ";")], &["a.yaml", "b.yaml"]),
            (&["a.yaml"], &["a.yaml"], &[("COMPOSE_FILE", "b.yaml")], &["a.yaml"]),
        ];
        for (present, flags, env, want) in cases {
            let files: Vec<(&str, &str)> = present.iter().map(|f| (*f, "services: {}\n")).collect();
            let project = Project::new(&files);
            let opts =
                LoadOptions { working_dir: project.path(), files: flags.iter().map(PathBuf::from).collect(), ..LoadOptions::default() };
            let env: Env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let Ok(selection) = select(&opts, &env) else { panic!("{present:?}") };
            assert_eq!(names(&selection, &project.path()), *want, "{present:?} {flags:?}");
            assert_eq!(selection.project_dir, project.path());
        }
    }

    #[test]
    fn project_dir_follows_the_first_file_or_the_flag() {
        let project = Project::new(&[("sub/compose.yaml", "services: {}\n")]);
        let opts = LoadOptions { working_dir: project.path(), files: vec!["sub/compose.yaml".into()], ..LoadOptions::default() };
        assert_eq!(select(&opts, &Env::new()).map(|s| s.project_dir).ok(), Some(project.path().join("sub")));
        let flagged = LoadOptions { project_directory: Some(".".into()), ..opts };
        assert_eq!(select(&flagged, &Env::new()).map(|s| s.project_dir).ok(), Some(project.path()));
        let file_as_dir = LoadOptions { working_dir: project.path().join("sub/compose.yaml"), ..LoadOptions::default() };
        let selection = select(&file_as_dir, &Env::new()).ok();
        assert_eq!(selection.map(|s| (s.files.len(), s.project_dir)), Some((1, project.path().join("sub"))));
        assert_eq!(start_dir(&file_as_dir), project.path().join("sub"));
    }

    #[test]
    fn explains_what_is_missing() {
        let project = Project::new(&[("README", "")]);
        let opts = LoadOptions { working_dir: project.path(), ..LoadOptions::default() };
        let Err(e) = select(&opts, &Env::new()) else { panic!("found a file") };
        assert!(e.message.starts_with("no compose file found in "), "{e}");
        assert!(e.message.contains("expected compose.yaml"), "{e}");
        let stdin = LoadOptions { files: vec!["-".into()], ..opts };
        assert!(select(&stdin, &Env::new()).is_err_and(|e| e.message.contains("stdin")));
    }
}

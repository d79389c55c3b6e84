//! The project name, by compose-go's precedence: `-p`, then `COMPOSE_PROJECT_NAME`, then
//! the top-level `name:` of the last file that sets one (interpolated), then the project
//! directory's base name. Names the user gives explicitly must already be valid; derived
//! ones are normalised (lower case, only `[a-z0-9_-]`, starting with a letter or digit).

use super::interpolate;
use super::load::{Env, LoadOptions};
use super::project::ParsedFile;
use crate::error::{LoadError, Result};
use std::path::Path;

pub(crate) const PROJECT_NAME_VAR: &str = "COMPOSE_PROJECT_NAME";

/// Decides the project name.
pub(crate) fn project_name(opts: &LoadOptions, env: &Env, files: &[ParsedFile], project_dir: &Path) -> Result<String> {
    let explicit = opts.project_name.as_deref().map(|n| (n, "-p"));
    let from_env = env.get(PROJECT_NAME_VAR).filter(|n| !n.is_empty()).map(|n| (n.as_str(), PROJECT_NAME_VAR));
    if let Some((name, source)) = explicit.or(from_env) {
        return validated(name, source, project_dir);
    }
    if let Some(name) = name_from_files(files, env)? {
        return Ok(name);
    }
    let absolute = std::path::absolute(project_dir).unwrap_or_else(|_| project_dir.to_path_buf());
    let base = absolute.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = normalize(&base);
    if name.is_empty() {
        let message = format!("cannot derive a project name from the directory name `{base}`; set one with -p or a top-level `name:`");
        return Err(LoadError::whole_input(project_dir, message));
    }
    Ok(name)
}

fn validated(name: &str, source: &str, project_dir: &Path) -> Result<String> {
    if !name.is_empty() && normalize(name) == name {
        return Ok(name.to_string());
    }
    let message = format!(
        "`{name}` (from {source}) is not a valid project name: use lower-case letters, digits, `-` and `_`, starting with a letter or digit"
    );
    Err(LoadError::whole_input(project_dir, message))
}

/// The last non-empty `name:` of the files, interpolated and normalised.
fn name_from_files(files: &[ParsedFile], env: &Env) -> Result<Option<String>> {
    let mut found = None;
    for file in files {
        let Some(node) = file.root.get("name") else { continue };
        let Some(text) = node.as_scalar() else { continue };
        let lookup = |k: &str| env.get(k).cloned();
        let name = interpolate::substitute(text, &lookup).map_err(|p| p.at(&node.span, text))?;
        let name = normalize(&name);
        if !name.is_empty() {
            found = Some(name);
        }
    }
    Ok(found)
}

/// compose-go's `NormalizeProjectName`: lower case, keep `[a-z0-9_-]`, trim leading `_`/`-`.
pub(crate) fn normalize(name: &str) -> String {
    let kept: String =
        name.to_lowercase().chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')).collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::testing::Project;
    use std::path::PathBuf;

    #[test]
    fn normalizes_like_compose_go() {
        let cases = [("My App", "myapp"), ("__x-1", "x-1"), ("UNNORMALIZED PATH", "unnormalizedpath"), ("ünï", "n"), ("---", "")];
        for (name, want) in cases {
            assert_eq!(normalize(name), want, "{name}");
        }
    }

    #[test]
    fn follows_compose_precedence() {
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a str, std::result::Result<&'a str, &'a str>);
        let cases: &[Case] = &[
            (Some("flag"), Some("env"), "name: file\n", Ok("flag")),
            (None, Some("env"), "name: file\n", Ok("env")),
            (None, None, "name: File_${SUFFIX}\n", Ok("file_sfx")),
            (None, None, "name: ''\n", Ok("my-project_1")),
            (None, None, "services: {}\n", Ok("my-project_1")),
            (Some("Bad Name"), None, "", Err("`Bad Name` (from -p) is not a valid project name")),
            (None, Some("-x"), "", Err("(from COMPOSE_PROJECT_NAME) is not a valid project name")),
            (None, None, "name: ${X:?name needs X}\n", Err("required variable X is missing a value: name needs X")),
        ];
        for (flag, env_name, text, want) in cases {
            let project = Project::new(&[("My-Project_1/compose.yaml", if text.is_empty() { "services: {}\n" } else { text })]);
            let dir = project.path().join("My-Project_1");
            let opts = LoadOptions { project_name: flag.map(str::to_string), ..LoadOptions::default() };
            let mut env = Env::from([("SUFFIX".to_string(), "sfx".to_string())]);
            if let Some(n) = env_name {
                env.insert(PROJECT_NAME_VAR.to_string(), n.to_string());
            }
            let mut reader = crate::compose::project::Reader::default();
            let Ok(parsed) = reader.parse_file(&dir.join("compose.yaml")) else { panic!("parse") };
            let got = project_name(&opts, &env, &[parsed], &dir);
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text}"),
                (Err(e), Err(want)) => assert!(e.message.contains(want), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
        let root = PathBuf::from("/");
        assert!(project_name(&LoadOptions::default(), &Env::new(), &[], &root).is_err());
    }
}

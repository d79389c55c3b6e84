//! Reading a Compose project the way `docker compose` does: pick the files (`-f`,
//! `COMPOSE_FILE` or discovery), read `.env`, name the project, then read, interpolate,
//! extend, include and merge the files (`project`), drop services of inactive profiles and
//! fold `env_file` into `environment`.

use super::dotenv::{self, Format};
use super::project::{self, ProjectContext, Reader};
use super::{discover, envfile, files, name, profiles};
use crate::error::{LoadError, Result};
use crate::tree::Node;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Variables for interpolation: the process environment over the `.env` file.
pub(crate) type Env = BTreeMap<String, String>;

/// What the user said about which project to load (the `docker compose` flags and
/// environment variables that select files, name and profiles).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` files in order; empty means default discovery in `working_dir`.
    pub files: Vec<PathBuf>,
    /// The directory the user pointed at (discovery and relative paths start here).
    /// A path to a file loads that file alone.
    pub working_dir: PathBuf,
    /// `--project-directory`; by default the directory of the first compose file.
    pub project_directory: Option<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--env-file`, in order; empty means `<project dir>/.env` when it exists.
    pub env_files: Vec<PathBuf>,
    /// `--profile`.
    pub profiles: Vec<String>,
    /// The process environment (COMPOSE_FILE, COMPOSE_PROJECT_NAME, COMPOSE_PROFILES,
    /// and values for interpolation). Passed in, never read from the process here.
    pub environment: BTreeMap<String, String>,
}

/// A loaded project: every file merged into one interpolated document.
#[derive(Debug, Clone)]
pub struct ComposeDocument {
    pub project_name: String,
    /// The files merged, in order (includes and extends sources are not listed).
    pub files: Vec<PathBuf>,
    /// The project directory.
    pub working_dir: PathBuf,
    /// The merged document: `services`, `networks`, … with every node's span pointing
    /// at the file and line it came from. `extends`, `include` and `env_file` are already
    /// applied and removed; services of inactive profiles are removed; list forms of
    /// `environment`, `labels`, `extra_hosts`, service `networks`, `depends_on`, … are
    /// rewritten as mappings (see `canonical`).
    pub root: Node,
}

/// Loads the project `opts` describes.
pub fn load(opts: &LoadOptions) -> Result<ComposeDocument> {
    let start = discover::start_dir(opts);
    // COMPOSE_FILE may come from the `.env` of the directory the user is in.
    let early_env = environment(opts, &start)?;
    let selection = discover::select(opts, &early_env)?;
    let mut env = if selection.project_dir == start { early_env } else { environment(opts, &selection.project_dir)? };
    let mut reader = Reader::default();
    let parsed = selection.files.iter().map(|path| reader.parse_file(path)).collect::<Result<Vec<_>>>()?;
    let project_name = name::project_name(opts, &env, &parsed, &selection.project_dir)?;
    // compose-go offers the project name to interpolation unless the user set it.
    env.entry(name::PROJECT_NAME_VAR.to_string()).or_insert_with(|| project_name.clone());
    let context = ProjectContext { project_dir: &selection.project_dir, env: &env, include_chain: &[] };
    let mut root = project::assemble(&mut reader, parsed, &context)?;
    profiles::retain_active(&mut root, &profiles::selected(&opts.profiles, &env))?;
    envfile::apply(&mut root, &selection.project_dir, &env)?;
    Ok(ComposeDocument { project_name, files: selection.files, working_dir: selection.project_dir, root })
}

/// The `--env-file`s (or `<dir>/.env`) overlaid with the process environment.
fn environment(opts: &LoadOptions, dir: &Path) -> Result<Env> {
    let sources: Vec<(PathBuf, bool)> = if opts.env_files.is_empty() {
        vec![(dir.join(".env"), false)]
    } else {
        opts.env_files.iter().map(|f| (files::resolve(&opts.working_dir, f), true)).collect()
    };
    overlay_env_files(&sources, &opts.environment)
}

/// The variables of env files `(path, required)`, later files winning, overridden by
/// `over`. Values may refer to `over` and to variables defined before them.
pub(crate) fn overlay_env_files(sources: &[(PathBuf, bool)], over: &Env) -> Result<Env> {
    let mut env = Env::new();
    for (path, required) in sources {
        if !required && !path.is_file() {
            continue;
        }
        let Some(text) = files::read_text(path)? else {
            return Err(LoadError::unreadable(path, "env file not found; check the path"));
        };
        let lookup = |k: &str| over.get(k).or_else(|| env.get(k)).cloned();
        let vars = dotenv::parse(&text, &Arc::from(path.as_path()), Format::Dotenv, &lookup)?;
        env.extend(vars.into_iter().map(|v| (v.key, v.value)));
    }
    env.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::testing::{load_in, Project};

    #[test]
    fn loads_a_discovered_project() {
        let project = Project::new(&[
            ("compose.yaml", "services:\n  web:\n    image: nginx:${TAG:-latest}\n    ports: ['${PORT}:80']\n"),
            ("compose.override.yaml", "services:\n  web:\n    ports: ['443:443']\n"),
            (".env", "PORT=8080\nTAG=from-dotenv\n"),
        ]);
        let doc = load_in(&project, &[("TAG", "from-process")]);
        let Ok(doc) = doc else { panic!("{doc:?}") };
        assert_eq!(doc.root.to_string(), "{services: {web: {image: nginx:from-process, ports: [8080:80, 443:443]}}}");
        assert_eq!(doc.files.len(), 2);
        assert_eq!(doc.working_dir, project.path());
        assert_eq!(doc.project_name, project.dir_name());
    }

    #[test]
    fn dotenv_selects_files_name_and_profiles() {
        let project = Project::new(&[
            ("compose.yaml", "services:\n  ignored: {image: x}\n"),
            ("a.yaml", "services:\n  web: {image: a}\n  dbg: {image: d, profiles: [debug]}\n"),
            (".env", "COMPOSE_FILE=a.yaml\nCOMPOSE_PROJECT_NAME=from_dotenv\nCOMPOSE_PROFILES=debug\n"),
        ]);
        /// Process environment, project name, services.
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[], "from_dotenv", "{web: {image: a}, dbg: {image: d, profiles: [debug]}}"),
            (&[("COMPOSE_PROFILES", ""), ("COMPOSE_PROJECT_NAME", "env")], "env", "{web: {image: a}}"),
        ];
        for (env, name, services) in cases {
            let Ok(doc) = load_in(&project, env) else { panic!("{env:?}") };
            assert_eq!(doc.project_name, *name);
            assert_eq!(doc.root.get("services").map(Node::to_string).as_deref(), Some(*services));
            assert_eq!(doc.files, [project.path().join("a.yaml")]);
        }
    }

    #[test]
    fn merges_f_files_in_order() {
        let project = Project::new(&[
            ("base.yaml", "services:\n  web:\n    image: a\n    environment: [A=1]\n"),
            ("conf/over.yaml", "services:\n  web:\n    environment:\n      A: 2\n"),
        ]);
        let opts =
            LoadOptions { files: vec!["base.yaml".into(), "conf/over.yaml".into()], working_dir: project.path(), ..LoadOptions::default() };
        let Ok(doc) = load(&opts) else { panic!("load failed") };
        assert_eq!(doc.root.to_string(), "{services: {web: {image: a, environment: {A: 2}}}}");
        let web = doc.root.get("services").and_then(|s| s.get("web"));
        let file_of = |key: &str| web.and_then(|w| w.get(key)).map(|n| n.span.file.to_path_buf());
        assert_eq!(file_of("image"), Some(project.path().join("base.yaml")));
        let a = web.and_then(|w| w.get("environment")).and_then(|e| e.get("A")).map(|n| (n.span.file.to_path_buf(), n.span.line));
        assert_eq!(a, Some((project.path().join("conf/over.yaml"), 4)));
        let single = LoadOptions { working_dir: project.path().join("base.yaml"), ..LoadOptions::default() };
        assert_eq!(load(&single).map(|d| d.files).ok(), Some(vec![project.path().join("base.yaml")]));
    }

    #[test]
    fn env_files_option_replaces_dotenv() {
        let project = Project::new(&[
            ("compose.yaml", "services:\n  web:\n    image: ${IMAGE}\n"),
            (".env", "IMAGE=dotenv\n"),
            ("other.env", "IMAGE=other\n"),
        ]);
        let opts = LoadOptions { working_dir: project.path(), env_files: vec![PathBuf::from("other.env")], ..LoadOptions::default() };
        let image = load(&opts).map(|d| d.root.to_string());
        assert_eq!(image.ok().as_deref(), Some("{services: {web: {image: other}}}"));
        let missing = LoadOptions { env_files: vec![PathBuf::from("nope.env")], ..opts };
        let err = load(&missing).err().map(|e| e.message);
        assert_eq!(err.as_deref(), Some("env file not found; check the path"));
    }

    #[test]
    fn interpolation_sees_the_project_name() {
        let project = Project::new(&[("compose.yaml", "name: demo\nservices:\n  web:\n    hostname: ${COMPOSE_PROJECT_NAME}-web\n")]);
        let doc = load_in(&project, &[]).map(|d| d.root.get("services").map(Node::to_string));
        assert_eq!(doc.ok().flatten().as_deref(), Some("{web: {hostname: demo-web}}"));
    }

    #[test]
    fn errors_are_located() {
        let cases = [
            (
                "services:\n  web:\n    image: ${IMAGE:?set IMAGE in .env}\n",
                (3, 12),
                "required variable IMAGE is missing a value: set IMAGE in .env",
            ),
            ("services:\n  web:\n    image: \"${IMAGE\"\n", (3, 12), "invalid interpolation format"),
            ("services:\n  web: {image: a}\n  web: {image: b}\n", (3, 3), "duplicate key `web`"),
            ("apiVersion: v1\nkind: Pod\n", (1, 1), "unknown top-level key `apiVersion`"),
            ("- a\n- b\n", (1, 1), "not a compose file"),
            ("services:\n  web:\n    extends: missing\n", (3, 14), "service `missing` not found"),
        ];
        for (text, (line, column), want) in cases {
            let project = Project::new(&[("compose.yaml", text)]);
            let Err(e) = load_in(&project, &[]) else { panic!("{text:?} loaded") };
            assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
            assert!(e.message.contains(want), "{text:?}: {e}");
        }
    }
}

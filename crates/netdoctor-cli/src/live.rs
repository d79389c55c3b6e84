//! The live Docker inputs of `check`, `snapshot`, `why` and `probe`: `--docker` reads
//! the engine (through `netdoctor_sources::docker::live`), `--snapshot FILE` reads a
//! bundle written by `netdoctor snapshot --docker`; both lower the same raw form.

use netdoctor_model::Model;
use netdoctor_report::InputError;
use netdoctor_sources::docker::{self, live::LiveOptions, DockerSnapshot, LowerOptions, Selection};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The flags that choose a live engine or a snapshot, shared by `check`, `snapshot`,
/// `why` and `probe`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EngineArgs {
    /// Read the containers of the running Docker Engine.
    #[arg(long)]
    pub docker: bool,
    /// Read a snapshot written by `netdoctor snapshot --docker` instead (offline).
    #[arg(long, value_name = "FILE", conflicts_with = "docker")]
    pub snapshot: Option<PathBuf>,
    /// The engine's endpoint [default: DOCKER_HOST, else the current docker context, else the local socket]
    #[arg(long, value_name = "URL")]
    pub docker_host: Option<String>,
    /// Seconds one request to the engine may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub docker_timeout: f64,
    /// Only these containers, by name or ID (repeatable); the containers whose network
    /// namespace they join come along.
    #[arg(long = "container", value_name = "NAME")]
    pub containers: Vec<String>,
}

impl EngineArgs {
    /// Whether a live engine or a snapshot was asked for.
    pub fn wanted(&self) -> bool {
        self.docker || self.snapshot.is_some()
    }

    /// The input these flags choose, narrowed to `projects` and `--container`.
    pub fn input(&self, projects: Vec<String>) -> (DockerInput, Selection) {
        let selection = Selection { projects, containers: self.containers.clone() };
        (DockerInput::from_flags(self.snapshot.clone(), self.docker_host.clone(), self.docker_timeout, selection.clone()), selection)
    }
}

/// `--docker-timeout` as a duration, bounded to 0.1 s..1 h.
pub fn timeout(secs: f64) -> Duration {
    Duration::from_secs_f64(if secs.is_finite() { secs.clamp(0.1, 3600.0) } else { 10.0 })
}

/// Where the live state comes from.
#[derive(Debug, Clone)]
pub enum DockerInput {
    /// A running engine.
    Live(LiveOptions),
    /// A snapshot file.
    Snapshot(PathBuf),
}

impl DockerInput {
    /// The input for the common flags: `--snapshot FILE` wins over `--docker`.
    pub fn from_flags(snapshot: Option<PathBuf>, host: Option<String>, timeout_secs: f64, selection: Selection) -> DockerInput {
        match snapshot {
            Some(path) => DockerInput::Snapshot(path),
            None => DockerInput::Live(LiveOptions { host, timeout: timeout(timeout_secs), selection, ..LiveOptions::default() }),
        }
    }

    /// A name for messages: the endpoint or the snapshot path.
    pub fn describe(&self) -> String {
        match self {
            DockerInput::Live(o) => o.host.clone().unwrap_or_else(|| "the Docker Engine".into()),
            DockerInput::Snapshot(p) => p.display().to_string(),
        }
    }
}

/// Reads the raw state.
pub fn read(input: &DockerInput) -> Result<DockerSnapshot, docker::Error> {
    match input {
        DockerInput::Live(opts) => docker::live::read(opts),
        DockerInput::Snapshot(path) => DockerSnapshot::read(path),
    }
}

/// Reads and lowers the live state; a failure to read is one input error.
pub fn load(input: &DockerInput, selection: &Selection, environment: &BTreeMap<String, String>) -> (Model, Vec<InputError>) {
    match read(input) {
        Ok(snapshot) => lower(&snapshot, selection, environment),
        Err(e) => (Model::default(), vec![input_error(input, &e)]),
    }
}

/// What a check of part of the engine reads: every container, so the selected ones'
/// peers resolve against all that runs, and the names of the selected workloads and
/// their networks, which the findings are narrowed to. `None` as the focus when the
/// selection is everything.
pub fn load_focused(
    input: &DockerInput,
    selection: &Selection,
    environment: &BTreeMap<String, String>,
) -> (Model, Vec<InputError>, Option<netdoctor_rules::Focus>) {
    if selection.is_all() {
        let (model, errors) = load(input, selection, environment);
        return (model, errors, None);
    }
    let everything = match input {
        DockerInput::Live(opts) => DockerInput::Live(LiveOptions { selection: Selection::default(), ..opts.clone() }),
        DockerInput::Snapshot(path) => DockerInput::Snapshot(path.clone()),
    };
    let snapshot = match read(&everything) {
        Ok(snapshot) => snapshot,
        Err(e) => return (Model::default(), vec![input_error(input, &e)], None),
    };
    let (model, errors) = lower(&snapshot, &Selection::default(), environment);
    // The selected workloads of the whole model: of a selected project, or with a
    // selected container (by name, or by an ID prefix of four characters or more).
    let selected = model.workloads.iter().filter(|w| {
        w.project.as_ref().is_some_and(|p| selection.projects.contains(p))
            || w.live.as_ref().is_some_and(|l| {
                l.containers
                    .iter()
                    .any(|c| selection.containers.iter().any(|s| *s == c.name || (s.len() >= 4 && c.id.starts_with(s.as_str()))))
            })
    });
    let focus = netdoctor_rules::Focus {
        workloads: selected.clone().map(|w| w.name.clone()).collect(),
        networks: selected.flat_map(|w| w.attachments.iter().map(|a| a.network.clone())).collect(),
    };
    (model, errors, Some(focus))
}

/// Lowers a snapshot, reading the Compose files its projects name when they are here.
pub fn lower(snapshot: &DockerSnapshot, selection: &Selection, environment: &BTreeMap<String, String>) -> (Model, Vec<InputError>) {
    let opts = LowerOptions { selection: selection.clone(), read_compose_files: true, environment: environment.clone() };
    let lowered = docker::lower(snapshot, &opts);
    let errors = lowered.errors.into_iter().map(crate::input_error).collect();
    (lowered.model, errors)
}

/// The error as an input error, with its hint.
pub fn input_error(input: &DockerInput, e: &docker::Error) -> InputError {
    let file = match input {
        DockerInput::Snapshot(p) => p.clone(),
        DockerInput::Live(_) => PathBuf::from(match e {
            docker::Error::Connect { endpoint, .. } | docker::Error::Request { endpoint, .. } | docker::Error::Timeout { endpoint, .. } => {
                endpoint.clone()
            }
            _ => "docker".into(),
        }),
    };
    let message = match e.hint() {
        Some(h) => format!("{}; {h}", netdoctor_sources::error_chain(e)),
        None => netdoctor_sources::error_chain(e),
    };
    InputError { file, line: 0, column: 0, message, path: None }
}

/// `netdoctor snapshot --docker -o FILE`: writes the redacted raw state. Returns the exit code.
pub fn snapshot(input: &DockerInput, output: Option<&std::path::Path>) -> u8 {
    let snapshot = match read(input) {
        Ok(s) => s,
        Err(e) => {
            let err = input_error(input, &e);
            eprintln!("error: {err}");
            return 2;
        }
    };
    let text = snapshot.to_json();
    crate::emit_snapshot(&text, output, 0, || {
        format!("{} containers, {} networks; environment values redacted", snapshot.containers.len(), snapshot.networks.len())
    })
}

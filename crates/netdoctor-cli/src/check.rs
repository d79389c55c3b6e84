//! `netdoctor check`: load every input, analyse, run the rules, build the report.

use crate::config::{ExpectedFlow, Settings};
use netdoctor_model::{Model, Origin};
use netdoctor_report::{InputError, Report};
use netdoctor_rules::Selection;
use netdoctor_sources::compose::{self, LoadOptions};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// What to load: Compose projects or Kubernetes manifest trees by path, plus the `docker compose` selection flags.
#[derive(Debug, Default)]
pub struct Inputs {
    pub paths: Vec<PathBuf>,
    pub files: Vec<PathBuf>,
    pub project_name: Option<String>,
    pub profiles: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub environment: BTreeMap<String, String>,
    /// A live engine or a snapshot to read instead of Compose files (`--docker`, `--snapshot`).
    pub docker: Option<crate::live::DockerInput>,
    /// Which containers of it (`-p` projects, `--container` names); empty means all.
    pub selection: netdoctor_sources::docker::Selection,
    /// The host to apply the projects to (`--host`, `--host-facts`).
    pub host: Option<crate::host::HostInput>,
    /// A live Kubernetes cluster to read instead (`--kube`), and whether to say what it skipped.
    pub kube: Option<crate::kube::KubeInput>,
    pub verbose: bool,
}

/// Loads every input into one model; inputs that fail become `InputError`s.
pub fn load(inputs: &Inputs) -> (Model, Vec<InputError>) {
    let (model, errors, _) = load_focused(inputs);
    (model, errors)
}

/// `load`, and for a check of part of a Docker engine (`-p`, `--container`) the
/// workload and network names the findings are narrowed to (everything is read, so
/// peers outside the selection still resolve).
fn load_focused(inputs: &Inputs) -> (Model, Vec<InputError>, Option<netdoctor_rules::Focus>) {
    if let Some(kube) = &inputs.kube {
        let (model, errors) = crate::kube::load_model(kube, inputs.verbose);
        return (model, errors, None);
    }
    if let Some(docker) = &inputs.docker {
        if let crate::live::DockerInput::Snapshot(path) = docker {
            if crate::kube::is_snapshot(path) {
                let (model, errors) = crate::kube::load_model(&crate::kube::KubeInput::Snapshot(path.clone()), inputs.verbose);
                return (model, errors, None);
            }
        }
        return crate::live::load_focused(docker, &inputs.selection, &inputs.environment);
    }
    let mut model = Model::default();
    let mut errors = Vec::new();
    let base = LoadOptions {
        project_name: inputs.project_name.clone(),
        profiles: inputs.profiles.clone(),
        env_files: inputs.env_files.clone(),
        environment: inputs.environment.clone(),
        ..LoadOptions::default()
    };
    let mut runs = Vec::new();
    if inputs.files.is_empty() {
        let paths = if inputs.paths.is_empty() { vec![PathBuf::from(".")] } else { inputs.paths.clone() };
        for path in paths {
            if netdoctor_sources::k8s::is_manifest_input(&path) {
                // Kubernetes manifests; files in the tree that are not resources are skipped.
                let (manifests, manifest_errors) = crate::kube::load_manifests(&[path]);
                model.extend(manifests);
                errors.extend(manifest_errors);
                continue;
            }
            let mut opts = base.clone();
            if path.is_dir() {
                opts.working_dir = path;
            } else {
                opts.working_dir = PathBuf::from(".");
                opts.files = vec![path];
            }
            runs.push(opts);
        }
    } else {
        // Like `docker compose -f`: files are relative to the current directory, and a
        // PATH, if given, is the project directory.
        let mut opts = base;
        opts.working_dir = PathBuf::from(".");
        opts.project_directory = inputs.paths.first().cloned();
        opts.files = inputs.files.clone();
        runs.push(opts);
    }
    for opts in runs {
        match compose::load(&opts).map_err(|e| vec![e]).and_then(|doc| compose::lower(&doc)) {
            Ok(m) => model.extend(m),
            Err(errs) => errors.extend(errs.into_iter().map(crate::input_error)),
        }
    }
    (model, errors, None)
}

/// Adds the flows the config file expects as references of their client workloads.
pub fn add_expected_flows(model: &mut Model, flows: &[(ExpectedFlow, Origin)]) -> Vec<InputError> {
    let mut errors = Vec::new();
    for (flow, origin) in flows {
        let port = flow.port.as_deref().and_then(|p| p.rsplit('/').next()).and_then(|p| p.parse().ok());
        if !model.expect_flow(&flow.from, &flow.to, port, origin) {
            let span = origin.span();
            errors.push(InputError {
                file: span.map(|s| s.file.to_path_buf()).unwrap_or_default(),
                line: span.map_or(0, |s| s.line),
                column: span.map_or(0, |s| s.column),
                message: format!("expected flow names client `{}`, which no loaded project has", flow.from),
                path: None,
            });
        }
    }
    errors
}

/// Runs the whole check over loaded inputs.
pub fn run(inputs: &Inputs, settings: &Settings, mut errors: Vec<InputError>) -> Report {
    let (mut model, load_errors, focus) = load_focused(inputs);
    errors.extend(load_errors);
    let mut nodes = Vec::new();
    if let Some(host) = &inputs.host {
        let (facts, host_errors) = crate::host::load_nodes(host);
        errors.extend(host_errors);
        nodes = facts;
    }
    errors.extend(add_expected_flows(&mut model, &settings.expected_flows));
    for range in &settings.cluster_ranges {
        model.k8s.add_range(range.clone());
    }
    let mut findings = netdoctor_rules::check(&mut model, nodes, &settings.engine, &settings.rules, &settings.selection);
    if let Some(focus) = &focus {
        findings = netdoctor_rules::about(findings, focus);
    }
    let mut report = Report::default();
    (report.findings, report.errors, report.sensitive) = (findings, errors, model.sensitive.clone());
    report.sources = read_sources(&report);
    netdoctor_report::place_focus(&mut report);
    report
}

/// The text of every file a finding or a located reading problem points into, for excerpts.
fn read_sources(report: &Report) -> HashMap<PathBuf, String> {
    let origins = report.findings.iter().flat_map(|f| f.origin.iter().chain(f.related.iter().map(|r| &r.origin)));
    let files = origins.filter_map(Origin::span).map(|s| s.file.to_path_buf());
    crate::source_texts(files.chain(report.errors.iter().filter(|e| e.line > 0).map(|e| e.file.clone())))
}

/// Patterns in `--select`/`--ignore`/severity that name no rule.
pub fn unknown_rule_patterns(selection: &Selection) -> Vec<String> {
    selection.unknown_patterns()
}

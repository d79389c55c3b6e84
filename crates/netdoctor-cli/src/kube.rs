//! The live Kubernetes inputs of `check`, `matrix`, `why` and `snapshot`: `--kube`
//! reads a cluster through its API (`netdoctor_sources::k8s::live`), `--snapshot FILE`
//! reads a bundle written by `netdoctor snapshot --kube`; both lower the same raw form.

use netdoctor_model::k8s::Cluster;
use netdoctor_model::Model;
use netdoctor_report::InputError;
use netdoctor_sources::k8s::api::{lower_snapshot, Error, KubeSnapshot};
use netdoctor_sources::k8s::live::{self, LiveOptions};
use netdoctor_sources::LoadError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The flags that choose a live cluster, shared by `check`, `matrix`, `why` and `snapshot`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KubeArgs {
    /// Read a live Kubernetes cluster through its API (read-only LIST calls), with the
    /// credentials of KUBECONFIG, else ~/.kube/config.
    #[arg(long)]
    pub kube: bool,
    /// With --kube: the kubeconfig context [default: its current context]
    #[arg(long, value_name = "NAME", requires = "kube")]
    pub context: Option<String>,
    /// With --kube: read the namespaced objects of this namespace only.
    #[arg(long, value_name = "NS", requires = "kube")]
    pub namespace: Option<String>,
    /// With --kube: the kubeconfig file [default: KUBECONFIG, else ~/.kube/config]
    #[arg(long, value_name = "FILE", requires = "kube")]
    pub kubeconfig: Option<PathBuf>,
    /// With --kube: seconds connecting and one request to the API server may take.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub kube_timeout: f64,
    /// Say what the read skipped (API groups the cluster does not serve).
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl KubeArgs {
    /// The live read these flags ask for, if any.
    pub fn input(&self) -> Option<KubeInput> {
        self.kube.then(|| {
            let timeout = Duration::from_secs_f64(self.kube_timeout.clamp(0.1, 3600.0));
            KubeInput::Live(LiveOptions {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                namespace: self.namespace.clone(),
                timeout,
                // Every list of a large cluster may take a few pages.
                deadline: (timeout * 12).max(Duration::from_secs(30)),
                ..LiveOptions::default()
            })
        })
    }
}

/// Where the cluster comes from.
#[derive(Debug, Clone)]
pub enum KubeInput {
    /// A running cluster.
    Live(LiveOptions),
    /// A snapshot file.
    Snapshot(PathBuf),
}

/// Whether `path` holds a Kubernetes snapshot (rather than a Docker one).
pub fn is_snapshot(path: &Path) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    KubeSnapshot::is_kube_snapshot(&String::from_utf8_lossy(head.get(..n).unwrap_or_default()))
}

/// Reads the raw state.
pub fn read(input: &KubeInput) -> Result<KubeSnapshot, Error> {
    match input {
        KubeInput::Live(opts) => live::read(opts),
        KubeInput::Snapshot(path) => KubeSnapshot::read(path),
    }
}

/// The error as an input error, with its hint.
pub fn input_error(input: &KubeInput, e: &Error) -> InputError {
    let file = match (input, e) {
        (KubeInput::Snapshot(p), _) => p.clone(),
        (_, Error::Connect { context, .. } | Error::Request { context, .. } | Error::Timeout { context, .. }) => {
            PathBuf::from(format!("kube:{context}"))
        }
        (_, Error::Refused(r)) => PathBuf::from(format!("kube:{}", r.context)),
        (KubeInput::Live(opts), _) => opts.kubeconfig.clone().unwrap_or_else(|| PathBuf::from("kubeconfig")),
    };
    let message = match e.hint() {
        Some(h) => format!("{e}; {h}"),
        None => e.to_string(),
    };
    InputError { file, line: 0, column: 0, message, path: None }
}

/// A cluster read and lowered: what stops the run is in `errors`.
#[derive(Debug, Default)]
pub struct Loaded {
    pub cluster: Cluster,
    pub warnings: Vec<String>,
    /// Objects that could not be lowered, and a read that failed.
    pub errors: Vec<LoadError>,
    /// Whether the read itself failed (nothing was loaded).
    pub failed: bool,
}

/// Reads and lowers the cluster; notes go to standard error with `verbose`.
pub fn load(input: &KubeInput, verbose: bool) -> Loaded {
    match read(input) {
        Ok(snapshot) => {
            if verbose {
                let what = match input {
                    KubeInput::Live(_) => format!("context {} at {}", snapshot.context, snapshot.server),
                    KubeInput::Snapshot(p) => format!("{} (context {})", p.display(), snapshot.context),
                };
                eprintln!("note: read {} objects from {what}", snapshot.objects.len());
                for note in &snapshot.notes {
                    eprintln!("note: {note}");
                }
            }
            let lowered = lower_snapshot(&snapshot);
            Loaded {
                cluster: lowered.cluster,
                warnings: lowered.warnings.iter().map(ToString::to_string).collect(),
                errors: lowered.errors,
                failed: false,
            }
        }
        Err(e) => {
            let err = input_error(input, &e);
            let error = LoadError::whole_input(&err.file, err.message);
            Loaded { errors: vec![error], failed: true, ..Loaded::default() }
        }
    }
}

/// The cluster as a model for the rules (`check --kube`, `check --snapshot`).
pub fn load_model(input: &KubeInput, verbose: bool) -> (Model, Vec<InputError>) {
    let loaded = load(input, verbose);
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let errors = loaded.errors.into_iter().map(crate::input_error).collect();
    (Model { k8s: loaded.cluster, ..Model::default() }, errors)
}

/// `netdoctor snapshot --kube -o FILE`: writes the redacted raw state. Returns the exit code.
pub fn snapshot(input: &KubeInput, output: Option<&Path>, verbose: bool) -> u8 {
    let snapshot = match read(input) {
        Ok(s) => s,
        Err(e) => {
            let err = input_error(input, &e);
            eprintln!("error: {err}");
            return 2;
        }
    };
    if verbose {
        for note in &snapshot.notes {
            eprintln!("note: {note}");
        }
    }
    for w in &snapshot.warnings {
        eprintln!("warning: {w}");
    }
    let text = snapshot.to_json();
    crate::emit_snapshot(&text, output, 0, || {
        format!(
            "{} objects of context {}: {} pods, {} network policies; environment values redacted",
            snapshot.objects.len(),
            snapshot.context,
            snapshot.count("Pod"),
            snapshot.count("NetworkPolicy")
        )
    })
}

/// Reads Kubernetes manifest files or trees into a model; what was skipped or left out
/// (a malformed field, a file that is no resource) is printed as warnings on standard
/// error.
pub fn load_manifests(paths: &[PathBuf]) -> (Model, Vec<InputError>) {
    let mut model = Model::default();
    let mut errors = Vec::new();
    for path in paths {
        let loaded = netdoctor_sources::k8s::load(path);
        for w in &loaded.warnings {
            eprintln!("warning: {w}");
        }
        model.k8s.extend(loaded.cluster);
        errors.extend(loaded.errors.into_iter().map(crate::input_error));
    }
    (model, errors)
}

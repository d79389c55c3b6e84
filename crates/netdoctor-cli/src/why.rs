//! `netdoctor why A B --port tcp/P`: loads the live state (or a snapshot, or the
//! Compose project here), runs the rules, walks the five layers for the flow and, with
//! `--probe`, confirms each layer from inside A's network namespace.
//! Exit codes: 0 allowed or not decidable, 1 denied, 2 usage or input errors.

use crate::live::{self, EngineArgs};
use netdoctor_explain::{self as why, PortSpec, Verdict, Why};
use netdoctor_model::Model;
use netdoctor_report::{InputError, WhyFormat};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `netdoctor why`.
#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// The client: a container or service name, `project/service`, or a container ID.
    pub from: String,
    /// The server, named as the client would look it up (or an address).
    pub to: String,
    /// Kubernetes manifests (files or directories) the two workloads are in; SRC and
    /// DST are then `namespace/name`, pod names or IPs, and DST may be a Service's DNS name.
    #[arg(value_name = "PATH")]
    pub manifests: Vec<PathBuf>,
    /// What is asked about: `tcp/5432`, `udp/53`, a bare number for TCP, or ICMP:
    /// `icmp` (an echo request, as ping sends), `icmp/TYPE` or `icmp/TYPE/CODE`.
    #[arg(long, value_name = "PROTO/PORT")]
    pub port: Option<PortSpec>,
    /// Confirm each layer by probing from inside the client's network namespace.
    #[arg(long)]
    pub probe: bool,
    /// With `--probe`, where probes run from: `netns` enters the namespace (root on the
    /// engine's host), `container` starts a throwaway container in it (any engine).
    #[arg(long, value_enum, value_name = "HOW", default_value_t = netdoctor_probe::ProbeVia::Auto, requires = "probe")]
    pub probe_via: netdoctor_probe::ProbeVia,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhyFormat::Text)]
    pub format: WhyFormat,
    /// Only read the containers of this Compose project (repeatable).
    #[arg(short = 'p', long = "project-name", visible_alias = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// Without `--docker`/`--snapshot`: the Compose file(s) to read [default: the project here]
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Trace layer 5 through this host's firewall, read live (iptables, routes, sysctls); for
    /// Kubernetes, on a node: SRC is taken to run there, layers 2 and 5 use its routes and firewall.
    #[arg(long)]
    pub host: bool,
    /// Trace layer 5 through host facts captured earlier (a directory or a `snapshot --host` bundle).
    #[arg(long, value_name = "PATH", conflicts_with = "host")]
    pub host_facts: Option<PathBuf>,
    /// With host facts of several nodes (`nodes/<name>/`): the node SRC runs on
    /// [default: the first by name].
    #[arg(long, value_name = "NAME", requires = "host_facts")]
    pub node: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// `--kube` reads a live cluster: SRC and DST are then `namespace/name`, pod names or IPs.
    #[command(flatten)]
    pub kube: crate::kube::KubeArgs,
}

/// Runs `why`; returns the exit code.
pub fn run(args: WhyArgs) -> u8 {
    if args.kube.kube && (args.engine.wanted() || args.probe || !args.manifests.is_empty() || !args.files.is_empty()) {
        eprintln!("error: --kube reads the cluster: leave out PATH, -f, --docker, --snapshot and --probe");
        return 2;
    }
    if args.probe && !args.engine.docker {
        eprintln!("error: --probe tests the running containers: use it with --docker (a snapshot's processes are gone)");
        return 2;
    }
    if !args.manifests.is_empty() && (args.probe || args.engine.wanted() || !args.files.is_empty()) {
        eprintln!("error: PATH names Kubernetes manifests; --probe, --docker, --snapshot and -f are for containers: use one or the other");
        return 2;
    }
    let (model, errors) = match load(&args) {
        Ok(loaded) => loaded,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    crate::print_input_errors(&errors);
    if model.workloads.is_empty() && model.k8s.is_empty() && !errors.is_empty() {
        return 2;
    }
    if !args.manifests.is_empty() && model.k8s.is_empty() {
        let paths: Vec<String> = args.manifests.iter().map(|p| p.display().to_string()).collect();
        eprintln!("error: {} holds no Kubernetes objects; for a Compose file use -f FILE", paths.join(", "));
        return 2;
    }
    let mut explained = match explain(&model, &args.from, &args.to, args.port) {
        Ok(w) => w,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    if args.probe {
        let timeout = live::timeout(args.engine.docker_timeout);
        let mut prober = crate::prober::prober(args.probe_via, args.engine.docker_host.as_deref(), timeout);
        crate::probe::confirm(&model, &mut explained, &mut prober);
        if let Some(e) = prober.interrupted() {
            eprintln!("error: {e}");
            return 130;
        }
    }
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match args.format {
        WhyFormat::Text => netdoctor_report::render_why_text(&explained, color),
        WhyFormat::Json => netdoctor_report::render_why_json(&explained),
    };
    let code = match explained.verdict {
        Verdict::Denied => 1,
        Verdict::Allowed | Verdict::Unknown => 0,
    };
    crate::print(&text, if errors.is_empty() { code } else { 2 })
}

/// Loads what `why` reasons about: the model and the input's errors, or why the
/// arguments cannot be answered (a `--node` the host facts do not hold).
pub fn load(args: &WhyArgs) -> Result<(Model, Vec<InputError>), String> {
    // A live cluster, or a snapshot of one.
    let kube_snapshot = args.engine.snapshot.clone().filter(|p| crate::kube::is_snapshot(p)).map(crate::kube::KubeInput::Snapshot);
    let (mut model, mut errors) = if let Some(input) = args.kube.input().or(kube_snapshot) {
        crate::kube::load_model(&input, args.kube.verbose)
    } else if !args.manifests.is_empty() {
        crate::kube::load_manifests(&args.manifests)
    } else if args.engine.wanted() {
        let (input, selection) = args.engine.input(args.projects.clone());
        live::load(&input, &selection, &std::env::vars().collect())
    } else {
        let inputs = crate::check::Inputs { files: args.files.clone(), environment: std::env::vars().collect(), ..Default::default() };
        crate::check::load(&inputs)
    };
    if let Some(host) = crate::host::HostInput::from_flags(args.host, args.host_facts.clone()) {
        let (nodes, host_errors) = crate::host::load_nodes(&host);
        errors.extend(host_errors);
        model.host = Some(pick_node(nodes, args.node.as_deref())?);
    }
    Ok((model, errors))
}

/// The node SRC runs on, of the nodes the host facts hold: the one named, or the first
/// (with a note naming the others).
fn pick_node(nodes: Vec<netdoctor_model::host::HostFacts>, wanted: Option<&str>) -> Result<netdoctor_model::host::HostFacts, String> {
    let names: Vec<String> = nodes.iter().filter_map(|n| n.node.clone()).collect();
    let Some(wanted) = wanted else {
        if names.len() > 1 {
            eprintln!(
                "note: the host facts hold nodes {}: SRC is taken to run on `{}` (choose another with --node NAME)",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                names.first().map(String::as_str).unwrap_or_default()
            );
        }
        return Ok(nodes.into_iter().next().unwrap_or_default());
    };
    let listed = if names.is_empty() { "none: they are of one host".to_string() } else { names.join(", ") };
    nodes
        .into_iter()
        .find(|n| n.node.as_deref() == Some(wanted))
        .ok_or_else(|| format!("--node {wanted}: the host facts hold no node of that name (nodes: {listed})"))
}

pub fn explain(model: &Model, from: &str, to: &str, port: Option<PortSpec>) -> Result<Why, String> {
    why::explain_model(model, from, to, port).map_err(|e| e.message)
}

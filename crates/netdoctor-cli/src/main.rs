//! The `netdoctor` command: argument parsing, config layering, output and exit codes.
//! Exit codes: 0 nothing at or above `--fail-on`, 1 findings at or above it, 2 usage
//! or input errors (2 wins over 1). A closed stdout pipe exits quietly with 0.

use clap::{Parser, Subcommand};
use netdoctor_cli::config::{self, FailOn, Overrides};
use netdoctor_cli::{check, diff, emit, explain, host, kube, live, matrix, print};
use netdoctor_engine::policy::{HostNetwork, PolicyOptions};
use netdoctor_report::{Format, InputError, TextOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Why can't this container reach that one? Finds the networking mistakes in Docker
/// Compose projects, a running Docker Engine, Kubernetes manifests or a live cluster, and
/// the host's firewall and routes, with the file, the line and the fix.
#[derive(Debug, Parser)]
#[command(name = "netdoctor", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Compose projects, Kubernetes manifests, a live Docker Engine (--docker) or
    /// cluster (--kube), with the host's firewall and routes (--host), for networking mistakes.
    Check(CheckArgs),
    /// Print the documentation of a rule.
    Explain {
        /// A rule ID (ND102) or name (no-shared-network).
        rule: String,
    },
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value_t = netdoctor_report::CatalogFormat::Text)]
        format: netdoctor_report::CatalogFormat,
    },
    /// Show which Kubernetes workloads may connect to which, from manifests or a live cluster (--kube).
    Matrix(MatrixArgs),
    /// Show the connections a change to Kubernetes manifests adds and removes (exit 1 when any).
    Diff(DiffArgs),
    /// Write the live state (--docker, --kube or --host) as one JSON bundle that commands read offline.
    Snapshot(SnapshotArgs),
    /// Explain, layer by layer, whether one container or pod (or an outside client) can reach another.
    Why(netdoctor_cli::why::WhyArgs),
    /// Probe between running containers and report where live behaviour differs from the configuration.
    Probe(netdoctor_cli::probe::ProbeArgs),
}

#[derive(Debug, clap::Args)]
struct MatrixArgs {
    /// Manifest files or directories (read recursively).
    #[arg(required_unless_present_any = ["kube", "snapshot"])]
    paths: Vec<PathBuf>,
    /// Read a cluster snapshot written by `netdoctor snapshot --kube` (offline).
    #[arg(long, value_name = "FILE", conflicts_with = "kube")]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    kube: kube::KubeArgs,
    /// Output format (`connlist` is netpol-analyzer's text format).
    #[arg(long, value_enum, default_value_t = netdoctor_report::MatrixFormat::Text)]
    format: netdoctor_report::MatrixFormat,
    /// Write the matrix to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// `classes`: one row per pair of behaviour groups (workloads no policy tells apart),
    /// their members listed once; text or JSON.
    #[arg(long, value_enum, value_name = "BY")]
    group: Option<GroupBy>,
    #[command(flatten)]
    host_network: HostNetworkArg,
}

/// How `matrix --group` groups workloads.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GroupBy {
    /// Workloads no policy tells apart.
    Classes,
}

#[derive(Debug, clap::Args)]
struct HostNetworkArg {
    /// How Kubernetes policies treat `hostNetwork: true` pods [default: as-pods, as
    /// netpol-analyzer reads them; `bypass` is what most CNIs enforce]. `check` also reads
    /// `host_network` from netdoctor.toml.
    #[arg(long = "host-network", value_enum, value_name = "MODE")]
    mode: Option<HostNetwork>,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// The manifests before the change (a file or a directory).
    old: PathBuf,
    /// The manifests after the change (a file or a directory).
    new: PathBuf,
    /// Output format (`connlist` follows netpol-analyzer's `diff` text lines).
    #[arg(long, value_enum, default_value_t = netdoctor_report::DiffFormat::Text)]
    format: netdoctor_report::DiffFormat,
    #[command(flatten)]
    host_network: HostNetworkArg,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Compose files or project directories (one project each), or Kubernetes manifest files
    /// or directories (read recursively) [default: .]
    paths: Vec<PathBuf>,
    /// Compose file(s) of one project, merged in order (like `docker compose -f`).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The Compose project: its name for files (like `docker compose -p`); with
    /// `--docker`/`--snapshot`, the project whose containers are checked.
    #[arg(short = 'p', long = "project-name", visible_alias = "project", value_name = "NAME")]
    project_name: Option<String>,
    /// Activate a Compose profile (repeatable).
    #[arg(long = "profile", value_name = "PROFILE")]
    profiles: Vec<String>,
    /// An env file for interpolation instead of `.env` (repeatable).
    #[arg(long = "env-file", value_name = "FILE")]
    env_files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1 [default: warning]
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Only run these rules: IDs, names or prefixes such as ND1 (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    select: Vec<String>,
    /// Skip these rules: IDs, names or prefixes (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    ignore: Vec<String>,
    /// Config file [default: netdoctor.toml in the project directory or the current one]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// With `--docker`/`--snapshot`, `-p` selects the Compose projects to check.
    #[command(flatten)]
    engine: live::EngineArgs,
    /// Apply this host's firewall, routes and settings, read live in the current network
    /// namespace (reading the firewall needs root).
    #[arg(long)]
    host: bool,
    /// Apply host facts captured earlier: a directory of files or a `snapshot --host` bundle.
    /// Several nodes: give it once per node, or a directory holding `nodes/<node-name>/`.
    #[arg(long, value_name = "PATH", conflicts_with = "host")]
    host_facts: Vec<PathBuf>,
    #[command(flatten)]
    host_network: HostNetworkArg,
    /// `--kube` checks a live Kubernetes cluster.
    #[command(flatten)]
    kube: kube::KubeArgs,
}

#[derive(Debug, clap::Args)]
struct SnapshotArgs {
    /// Write the snapshot to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only the containers of this Compose project (repeatable).
    #[arg(short = 'p', long = "project-name", visible_alias = "project", value_name = "NAME")]
    projects: Vec<String>,
    /// `--docker` captures the running engine: containers, networks, engine info.
    #[command(flatten)]
    engine: live::EngineArgs,
    /// Capture this host instead: firewall rules, addresses, routes, sysctls, daemon.json.
    #[arg(long, conflicts_with_all = ["docker", "snapshot", "kube"])]
    host: bool,
    /// `--kube` captures a live Kubernetes cluster.
    #[command(flatten)]
    kube: kube::KubeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Explain { rule } => explain::explain(&rule),
        Command::Rules { format } => explain::rules(format),
        Command::Matrix(args) => run_matrix(args),
        Command::Diff(args) => run_diff(args),
        Command::Snapshot(args) if args.host => host::snapshot(args.output.as_deref()),
        Command::Why(args) => netdoctor_cli::why::run(args),
        Command::Probe(args) => netdoctor_cli::probe::run(args),
        Command::Snapshot(args) if args.kube.kube && args.engine.wanted() => {
            eprintln!("error: capture one source at a time: --kube or --docker");
            2
        }
        Command::Snapshot(args) if args.kube.kube => match args.kube.input() {
            Some(input) => kube::snapshot(&input, args.output.as_deref(), args.kube.verbose),
            None => 2,
        },
        Command::Snapshot(args) if !args.engine.wanted() => {
            eprintln!(
                "error: say what to capture: `netdoctor snapshot --docker -o FILE`, `netdoctor snapshot --kube -o FILE` or `netdoctor snapshot --host -o FILE`"
            );
            2
        }
        Command::Snapshot(args) => {
            let (input, _) = args.engine.input(args.projects);
            live::snapshot(&input, args.output.as_deref())
        }
    };
    ExitCode::from(code)
}

fn run_check(args: CheckArgs) -> u8 {
    let config_path = args.config.clone().or_else(|| config::discover(&args.paths));
    let mut errors = Vec::new();
    let (file, text) = match &config_path {
        Some(path) => match config::read(path) {
            Ok(parsed) => parsed,
            Err(e) => {
                errors.push(InputError { file: e.file, line: e.line, column: e.column, message: e.message, path: None });
                Default::default()
            }
        },
        None => Default::default(),
    };
    let overrides = Overrides { select: args.select, ignore: args.ignore, fail_on: args.fail_on, host_network: args.host_network.mode };
    let settings = config::resolve(file, config_path.as_deref(), &text, overrides);
    let unknown = check::unknown_rule_patterns(&settings.selection);
    if !unknown.is_empty() {
        eprintln!("error: unknown rule(s): {}; `netdoctor rules` lists them", unknown.join(", "));
        return 2;
    }
    if args.kube.kube && args.engine.wanted() {
        eprintln!("error: check one live source at a time: --kube or --docker/--snapshot");
        return 2;
    }
    let (docker, selection) = match args.engine.wanted() {
        true => {
            let (input, selection) = args.engine.input(args.project_name.iter().cloned().collect());
            (Some(input), selection)
        }
        false => (None, Default::default()),
    };
    let inputs = check::Inputs {
        host: host::HostInput::from_node_flags(args.host, args.host_facts),
        docker,
        selection,
        paths: args.paths,
        files: args.files,
        project_name: args.project_name,
        profiles: args.profiles,
        env_files: args.env_files,
        environment: std::env::vars().collect(),
        kube: args.kube.input(),
        verbose: args.kube.verbose,
    };
    let report = check::run(&inputs, &settings, errors);
    let format = args.format;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let rendered = netdoctor_report::render(&report, format, &TextOptions { color });
    let code = u8::try_from(netdoctor_report::exit_code(&report, settings.fail_on.severity())).unwrap_or(2);
    emit(&rendered, args.output.as_deref(), code)
}

fn run_matrix(args: MatrixArgs) -> u8 {
    let format = args.format;
    let kube_input = args.kube.input().or_else(|| args.snapshot.clone().map(kube::KubeInput::Snapshot));
    let options = PolicyOptions { host_network: args.host_network.mode.unwrap_or_default() };
    let grouped = args.group.is_some();
    if grouped && !matches!(format, netdoctor_report::MatrixFormat::Text | netdoctor_report::MatrixFormat::Json) {
        eprintln!("error: --group classes prints text or JSON: use --format text or --format json");
        return 2;
    }
    let result = matrix::run_with(&args.paths, kube_input.as_ref(), args.kube.verbose, options, grouped);
    matrix::report_problems(&result);
    if result.read_failed {
        return 2;
    }
    if !result.errors.is_empty() {
        // A matrix of the inputs that could be read would read as the whole answer: JSON
        // gets the errors and no connections, other formats nothing.
        if format != netdoctor_report::MatrixFormat::Json {
            eprintln!("error: no matrix printed: fix the inputs above (or leave them out) and run again");
            return 2;
        }
        let rendered = netdoctor_report::render_matrix(&Default::default(), result.problems(), format);
        return emit(&rendered, args.output.as_deref(), 2);
    }
    let json = format == netdoctor_report::MatrixFormat::Json;
    netdoctor_cli::emit_streamed(args.output.as_deref(), 0, |out| match &result.grouped {
        Some(grouped) => netdoctor_report::write_grouped(grouped, result.problems(), json, out),
        None => netdoctor_report::write_matrix(&result.table, result.problems(), format, out),
    })
}

fn run_diff(args: DiffArgs) -> u8 {
    let format = args.format;
    let result = diff::run(&args.old, &args.new, PolicyOptions { host_network: args.host_network.mode.unwrap_or_default() });
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    netdoctor_cli::print_input_errors(&result.errors);
    if !result.errors.is_empty() {
        // Changes between what could be read would read as the answer: JSON gets the
        // errors and no changes, other formats nothing.
        if format != netdoctor_report::DiffFormat::Json {
            eprintln!("error: no diff printed: fix the inputs above and run again");
            return 2;
        }
        return print(&netdoctor_report::render_diff(&Default::default(), &result.errors, format), 2);
    }
    if format == netdoctor_report::DiffFormat::Connlist {
        // netpol-analyzer's lines stay as they are; what was not evaluated goes beside them.
        for note in &result.diff.not_evaluated {
            eprintln!("note: {note}");
        }
    }
    // Like diff(1): 0 same, 1 different, 2 trouble.
    let code = if result.diff.changes.is_empty() { 0 } else { 1 };
    print(&netdoctor_report::render_diff(&result.diff, &result.errors, format), code)
}

//! `netdoctor probe`: the live reachability matrix of a project (planned and judged by
//! `netdoctor_explain::live`, run by `crate::prober`), and `why --probe`'s wiring.

use crate::live::{self, EngineArgs};
use crate::prober::Prober;
use netdoctor_explain::Why;
use netdoctor_model::Model;
use netdoctor_probe::ProbeVia;
use netdoctor_probe::{ProbeOptions, ProbeRunner};
use std::time::Duration;

/// Adds probe observations to a `why` explanation; prints, once, why probing cannot run
/// when it cannot.
pub fn confirm(model: &Model, why: &mut Why, prober: &mut Prober) {
    if let Some(missing) = prober.unavailable() {
        eprintln!("warning: {missing}");
        return;
    }
    for warning in netdoctor_explain::live::confirm(model, why, prober) {
        eprintln!("warning: {warning}");
    }
}

/// Arguments of `netdoctor probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Containers to probe between [default: every running container of the selection]
    #[arg(value_name = "CONTAINER")]
    pub names: Vec<String>,
    /// Probe the containers of this Compose project (repeatable).
    #[arg(short = 'p', long = "project-name", visible_alias = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// Probes in flight at once.
    #[arg(long, default_value_t = 16)]
    pub parallelism: usize,
    /// Milliseconds each probe may wait.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub timeout_ms: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = netdoctor_report::WhyFormat::Text)]
    pub format: netdoctor_report::WhyFormat,
    /// Where probes run from: `netns` enters the containers' namespaces (root on the
    /// engine's host), `container` starts a throwaway container in each (any engine).
    #[arg(long, value_enum, value_name = "HOW", default_value_t = ProbeVia::Auto)]
    pub probe_via: ProbeVia,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Runs `netdoctor probe`; returns the exit code (1 when live behaviour differs).
pub fn run(args: ProbeArgs) -> u8 {
    if args.engine.snapshot.is_some() {
        eprintln!("error: probing needs the live engine (containers' processes), not a snapshot: use --docker");
        return 2;
    }
    let mut prober = crate::prober::prober(args.probe_via, args.engine.docker_host.as_deref(), live::timeout(args.engine.docker_timeout));
    if let Some(missing) = prober.unavailable() {
        eprintln!("error: {missing}");
        return 2;
    }
    let mut engine = args.engine.clone();
    engine.docker = true;
    engine.containers.extend(args.names.iter().cloned());
    let (input, selection) = engine.input(args.projects.clone());
    let (model, errors) = live::load(&input, &selection, &std::env::vars().collect());
    if !errors.is_empty() {
        crate::print_input_errors(&errors);
        return 2;
    }
    let opts = ProbeOptions {
        parallelism: args.parallelism.max(1),
        tcp_timeout: Duration::from_millis(args.timeout_ms.max(10)),
        icmp_timeout: Duration::from_millis(args.timeout_ms.max(10)),
        dns_timeout: Duration::from_millis(args.timeout_ms.max(10)),
    };
    let matrix = netdoctor_explain::live::matrix(&model, &opts, &mut prober);
    if let Some(e) = prober.interrupted() {
        eprintln!("error: {e}");
        return 130;
    }
    if let Some(e) = prober.setup_error() {
        eprintln!("error: {e}");
        return 2;
    }
    let text = match args.format {
        netdoctor_report::WhyFormat::Json => netdoctor_report::probe::render_probe_json(&matrix),
        netdoctor_report::WhyFormat::Text => netdoctor_report::probe::render_probe_matrix(&matrix),
    };
    let code = if matrix.pairs.iter().any(|p| !p.differences.is_empty()) { 1 } else { 0 };
    crate::print(&text, code)
}

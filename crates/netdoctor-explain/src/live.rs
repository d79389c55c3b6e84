//! Live checks planned from the model: `why --probe` confirms each layer of one flow
//! from inside the client's network namespace, and `netdoctor probe` builds the live
//! reachability matrix of a project and says where live behaviour differs from what the
//! configuration says. Probes only target the addresses and names of the containers
//! read, and only query the containers' own resolvers. Running them (entering a
//! namespace, or a throwaway container) is a `netdoctor_probe::ProbeRunner`'s job.

use crate::{Status, Why};
use netdoctor_engine::policy::{Conn, ECHO_REQUEST};
use netdoctor_engine::{Analysis, EngineConfig, Resolution, Stack};
use netdoctor_model::{Model, Protocol, Workload};
use netdoctor_probe::{Outcome, Probe, ProbeOptions, ProbeRunner, Source};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// One pair of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub from: String,
    pub to: String,
    /// What the configuration says: `reachable`, `blocked` (no shared network, ICC off).
    pub expected: &'static str,
    /// Whether `to`'s name resolves from `from` per the configuration.
    pub expected_dns: bool,
    pub ping: Option<String>,
    pub dns: Option<String>,
    pub tcp: Vec<PortResult>,
    /// Whether live probes reached `to` (an echo reply, or a TCP answer of any kind).
    pub reached: Option<bool>,
    pub resolved: Option<bool>,
    /// Where live behaviour differs from the configuration.
    pub differences: Vec<String>,
}

/// One TCP port probed.
#[derive(Debug, Clone, Serialize)]
pub struct PortResult {
    pub port: u16,
    /// `open`, `refused`, `timeout`, `unreachable` or an error.
    pub result: String,
    /// Where the client's configuration uses this port (`env API_URL`), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_by: Option<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub version: u32,
    pub containers: Vec<String>,
    pub pairs: Vec<Pair>,
    pub probes: usize,
    /// Where the probes ran from: `netns`, `container` or `mixed`.
    pub via: &'static str,
    pub elapsed_ms: u128,
    pub errors: Vec<String>,
}

/// Most addresses and ports probed per peer, so a matrix stays bounded.
const MAX_PORTS_PER_PEER: usize = 3;

/// The workload whose network namespace `w` uses.
fn owner(analysis: &Analysis<'_>, w: usize) -> usize {
    match analysis.topology.stack(w) {
        Stack::Shared(o) => *o,
        _ => w,
    }
}

/// The container whose network namespace workload `w` uses (its own running
/// container, or the one it shares a namespace with).
fn source(model: &Model, analysis: &Analysis<'_>, w: usize) -> Option<Source> {
    let owner = owner(analysis, w);
    let own = |i: usize| {
        let c = model.workloads.get(i)?.live.as_ref()?.containers.iter().find(|c| c.state.is_up())?;
        Some(Source { id: c.id.clone(), pid: c.pid })
    };
    own(w).or_else(|| own(owner))
}

/// Workload `w`'s IPv4 addresses: on `nets` (engine names) when given, else all.
fn addresses(model: &Model, analysis: &Analysis<'_>, w: usize, nets: &[String]) -> Vec<IpAddr> {
    let Some(live) = model.workloads.get(owner(analysis, w)).and_then(|x| x.live.as_ref()) else { return Vec::new() };
    let mut out: Vec<IpAddr> = live
        .containers
        .iter()
        .filter(|c| c.state.is_up())
        .flat_map(|c| c.endpoints.iter())
        .filter(|e| nets.is_empty() || nets.contains(&e.network))
        .filter_map(|e| e.ipv4.map(|n| n.addr()))
        .collect();
    out.dedup();
    out
}

/// Adds probe observations to a `why` explanation; returns warnings for the user (why
/// some or all of it could not be probed).
pub fn confirm(model: &Model, why: &mut Why, prober: &mut dyn ProbeRunner) -> Vec<String> {
    let analysis = Analysis::new(model, &EngineConfig::default());
    let Some(crate::ContainerEnds { from: a, to: b }) = why.containers else {
        return vec![format!("--probe tests containers; `{}` and `{}` are not containers read from an engine", why.from, why.to)];
    };
    let Some(src) = source(model, &analysis, a) else {
        return vec![format!("`{}` has no running container to probe from", why.from)];
    };
    let mut warnings = Vec::new();
    why.probed();
    let shared: Vec<String> =
        analysis.shared_networks(a, b).iter().filter_map(|&n| analysis.topology.info(n)).map(|i| i.name.clone()).collect();
    let mut targets = addresses(model, &analysis, b, &shared);
    if targets.is_empty() {
        targets = addresses(model, &analysis, b, &[]);
    }
    targets.truncate(2);
    let asked = why.port.parse::<Conn>().ok();
    let port = asked.and_then(|c| c.port());
    // The probe sends echo requests: when that is the question, their answer is the answer.
    let asked_echo = matches!(asked, Some(Conn::Icmp { icmp_type: ECHO_REQUEST, .. }));
    let lookup = why.to.rsplit('/').next().unwrap_or(&why.to).to_string();
    let mut jobs = Vec::new();
    let mut kinds = Vec::new();
    for &ip in &targets {
        jobs.push((src.clone(), Probe::Icmp(ip)));
        kinds.push(("icmp", ip.to_string()));
        if let Some((Protocol::Tcp, p)) = port {
            jobs.push((src.clone(), Probe::Tcp(SocketAddr::new(ip, p))));
            kinds.push(("tcp", format!("{ip}:{p}")));
        }
    }
    let name_is_ip = lookup.parse::<IpAddr>().is_ok();
    if !name_is_ip {
        match prober.resolvers(&src) {
            Ok(servers) => {
                for server in servers {
                    jobs.push((src.clone(), Probe::Dns { server, name: lookup.clone(), ipv6: false }));
                    kinds.push(("dns", server.ip().to_string()));
                }
            }
            Err(e) => why.confirm(3, Status::Unknown, format!("could not read the resolvers of `{}`: {e}", why.from), None),
        }
    }
    let outcomes = prober.run(jobs, &ProbeOptions::default());
    warnings.extend(prober.setup_error().map(str::to_string));
    let from = why.from.clone();
    let to = why.to.clone();
    let mut path_open: Option<bool> = None;
    for ((kind, target), outcome) in kinds.iter().zip(&outcomes) {
        let said = format!("{kind} from `{from}` to {target}: {}", outcome.describe());
        match (*kind, outcome) {
            ("icmp", Outcome::Reply { .. }) => {
                why.confirm(2, Status::Pass, said, None);
                path_open.get_or_insert(true);
            }
            ("icmp", Outcome::Unreachable(_)) => why.confirm(2, Status::Fail, said, None),
            ("icmp", _) => why.confirm(2, Status::Unknown, format!("{said} (ICMP may be filtered)"), None),
            ("tcp", Outcome::Connected { .. }) => {
                why.confirm(5, Status::Pass, said.clone(), None);
                why.confirm(6, Status::Pass, said, None);
                path_open = Some(true);
            }
            ("tcp", Outcome::Refused) => {
                why.confirm(5, Status::Pass, format!("{said}: the path is open"), None);
                let p = port.map_or(0, |(_, p)| p);
                why.confirm(
                    6,
                    Status::Fail,
                    format!("nothing listens on tcp/{p} in `{to}` (connection refused)"),
                    Some(format!("start the server in `{to}` on port {p}, listening on 0.0.0.0 rather than 127.0.0.1, or ask about the port it does listen on")),
                );
                path_open = Some(true);
            }
            ("tcp", Outcome::TimedOut) => {
                why.confirm(
                    5,
                    Status::Fail,
                    format!("{said}: the connection was dropped on the way"),
                    Some(
                        "look for what drops it: ICC off on the network, a DOCKER-USER or FORWARD rule (`iptables -S DOCKER-USER`)".into(),
                    ),
                );
                path_open = Some(false);
            }
            ("tcp", Outcome::Unreachable(_)) => why.confirm(5, Status::Fail, said, None),
            ("dns", Outcome::Dns(answer)) if answer.resolved() => {
                let right = answer.addresses.iter().any(|ip| targets.contains(ip)) || targets.is_empty();
                let status = if right { Status::Pass } else { Status::Fail };
                why.confirm(
                    3,
                    status,
                    said,
                    (!right).then(|| format!("`{lookup}` names something else from `{from}`: use a name only `{to}` answers to")),
                );
            }
            ("dns", Outcome::Failed(_)) => why.confirm(3, Status::Unknown, said, None),
            ("dns", _) => why.confirm(3, Status::Fail, said, None),
            (_, Outcome::Failed(_)) => why.confirm(5, Status::Unknown, said, None),
            _ => {}
        }
    }
    if asked_echo {
        let answered = kinds.iter().zip(&outcomes).any(|((kind, _), o)| *kind == "icmp" && matches!(o, Outcome::Reply { .. }));
        let timed_out = kinds.iter().zip(&outcomes).any(|((kind, _), o)| *kind == "icmp" && matches!(o, Outcome::TimedOut));
        if answered {
            why.confirm(5, Status::Pass, format!("`{to}` answered the echo request from `{from}`'s namespace"), None);
            why.confirm(6, Status::Pass, format!("`{to}` answered the echo request"), None);
        } else if timed_out {
            why.confirm(
                5,
                Status::Fail,
                format!("no echo reply from `{to}`: the request or its reply was dropped on the way"),
                Some("look for what drops ICMP: ICC off on the network, a DOCKER-USER or FORWARD rule (`iptables -S DOCKER-USER`), or `net.ipv4.icmp_echo_ignore_all` in the destination".into()),
            );
        }
    } else if port.is_none() {
        match path_open {
            Some(true) => why.confirm(5, Status::Pass, format!("`{to}` answered from `{from}`'s namespace"), None),
            _ if !targets.is_empty() => {
                why.confirm(5, Status::Unknown, "no answer to ICMP; ask about a port (`--port`) to test the path", None)
            }
            _ => {}
        }
    }
    warnings
}

/// Probes every ordered pair of running workloads of the model.
pub fn matrix(model: &Model, opts: &ProbeOptions, prober: &mut dyn ProbeRunner) -> Matrix {
    let start = Instant::now();
    let analysis = Analysis::new(model, &EngineConfig::default());
    let running: Vec<usize> = (0..model.workloads.len()).filter(|&w| source(model, &analysis, w).is_some()).collect();
    let sources: Vec<Source> = running.iter().filter_map(|&w| source(model, &analysis, w)).collect();
    let mut errors = Vec::new();
    let mut jobs = Vec::new();
    // (pair index, kind, port)
    let mut meta: Vec<(usize, &'static str, u16)> = Vec::new();
    let mut pairs = Vec::new();
    // Per pair, the ports the client uses on the server, and how.
    let mut used_by_pair: Vec<Vec<(u16, String)>> = Vec::new();
    for &a in &running {
        let Some(src) = source(model, &analysis, a) else { continue };
        let servers = match prober.resolvers(&src) {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        for &b in running.iter().filter(|&&b| b != a) {
            let (Some(wa), Some(wb)) = (model.workloads.get(a), model.workloads.get(b)) else { continue };
            if owner(&analysis, a) == owner(&analysis, b) {
                continue; // one namespace: nothing between them to probe
            }
            let shared_ids = analysis.shared_networks(a, b);
            let icc = shared_ids.iter().any(|&n| {
                analysis.topology.info(n).is_some_and(|i| i.declared.iter().filter_map(|&d| model.networks.get(d)).all(|m| m.icc_enabled()))
            });
            let name = lookup_name(wb);
            let expected_dns = matches!(analysis.resolve(a, &name), Resolution::Resolved { ref targets, .. } if targets.contains(&b));
            let shared: Vec<String> = shared_ids.iter().filter_map(|&n| analysis.topology.info(n)).map(|i| i.name.clone()).collect();
            let mut target = addresses(model, &analysis, b, &shared);
            if target.is_empty() {
                target = addresses(model, &analysis, b, &[]);
            }
            let i = pairs.len();
            let used = used_ports(model, &analysis, a, b);
            used_by_pair.push(used.clone());
            pairs.push(Pair {
                from: wa.name.clone(),
                to: wb.name.clone(),
                expected: if icc { "reachable" } else { "blocked" },
                expected_dns,
                ping: None,
                dns: None,
                tcp: Vec::new(),
                reached: None,
                resolved: None,
                differences: Vec::new(),
            });
            if let Some(&ip) = target.first() {
                jobs.push((src.clone(), Probe::Icmp(ip)));
                meta.push((i, "icmp", 0));
                for port in ports_to_probe(&used, wb) {
                    jobs.push((src.clone(), Probe::Tcp(SocketAddr::new(ip, port))));
                    meta.push((i, "tcp", port));
                }
            }
            if let Some(&server) = servers.first() {
                jobs.push((src.clone(), Probe::Dns { server, name, ipv6: false }));
                meta.push((i, "dns", 0));
            }
        }
    }
    let probes = jobs.len();
    let outcomes = prober.run(jobs, opts);
    for ((i, kind, port), outcome) in meta.into_iter().zip(outcomes) {
        let Some(p) = pairs.get_mut(i) else { continue };
        match kind {
            "icmp" => {
                if matches!(outcome, Outcome::Reply { .. }) {
                    p.reached = Some(true);
                } else {
                    p.reached.get_or_insert(false);
                }
                p.ping = Some(short(&outcome));
            }
            "tcp" => {
                match outcome {
                    Outcome::Connected { .. } | Outcome::Refused => p.reached = Some(true),
                    _ => {
                        p.reached.get_or_insert(false);
                    }
                }
                let used_by = used_by_pair.get(i).and_then(|u| u.iter().find(|(p, _)| *p == port)).map(|(_, how)| how.clone());
                p.tcp.push(PortResult { port, result: short(&outcome), used_by });
            }
            _ => {
                // A query that could not run says nothing about the name.
                p.resolved = match &outcome {
                    Outcome::Dns(a) => Some(a.resolved()),
                    Outcome::Failed(_) => None,
                    _ => Some(false),
                };
                p.dns = Some(short(&outcome));
            }
        }
    }
    for p in &mut pairs {
        // A port the client's configuration uses that does not answer is broken live,
        // even where the path itself is open.
        if p.expected == "reachable" && p.reached == Some(true) {
            for t in p.tcp.iter().filter(|t| matches!(t.result.as_str(), "refused" | "timeout")) {
                if let Some(how) = &t.used_by {
                    let what =
                        if t.result == "refused" { "nothing listens there (connection refused)" } else { "the connection was dropped" };
                    p.differences.push(format!("`{}` uses `{}` on port {} ({how}), but {what}", p.from, p.to, t.port));
                }
            }
        }
        match (p.expected, p.reached) {
            ("reachable", Some(false)) => p.differences.push(format!(
                "the configuration lets `{}` reach `{}`, but nothing got through: something drops it (DOCKER-USER, FORWARD, a host firewall)",
                p.from, p.to
            )),
            ("blocked", Some(true)) => {
                p.differences.push(format!("the configuration keeps `{}` from `{}`, but it got through", p.from, p.to))
            }
            _ => {}
        }
        match (p.expected_dns, p.resolved) {
            (true, Some(false)) => p.differences.push(format!("`{}` should resolve from `{}`, but it did not", p.to, p.from)),
            (false, Some(true)) => {
                p.differences.push(format!("`{}` resolved from `{}`, though the configuration says it should not", p.to, p.from))
            }
            _ => {}
        }
    }
    Matrix {
        version: 1,
        containers: running.iter().filter_map(|&w| model.workloads.get(w)).map(|w| w.name.clone()).collect(),
        pairs,
        probes,
        via: prober.describe(&sources),
        elapsed_ms: start.elapsed().as_millis(),
        errors,
    }
}

/// The name peers use for a workload: its container name when it has one, else its
/// service name.
fn lookup_name(w: &Workload) -> String {
    w.container_name.as_ref().map_or_else(|| w.name.clone(), |c| c.value.clone())
}

/// The ports workload `a` uses on `b` by its configuration (`API_URL=http://api:8080`):
/// references with a port whose host resolves to `b` from `a`, and how each is used.
fn used_ports(model: &Model, analysis: &Analysis<'_>, a: usize, b: usize) -> Vec<(u16, String)> {
    let Some(wa) = model.workloads.get(a) else { return Vec::new() };
    let mut out: Vec<(u16, String)> = wa
        .references
        .iter()
        .filter(|r| r.via.is_lookup())
        .filter_map(|r| {
            let port = r.port?;
            matches!(analysis.resolve(a, &r.host), Resolution::Resolved { ref targets, .. } if targets.contains(&b))
                .then(|| (port, r.via.describe()))
        })
        .collect();
    out.sort_unstable();
    out.dedup_by_key(|(p, _)| *p);
    out
}

/// The TCP ports to probe on `wb`: those the client uses on it, then those it declares.
fn ports_to_probe(used: &[(u16, String)], wb: &Workload) -> Vec<u16> {
    let mut ports: Vec<u16> = used.iter().map(|(p, _)| *p).collect();
    for p in ports_of(wb) {
        if !ports.contains(&p) && ports.len() < MAX_PORTS_PER_PEER + 2 {
            ports.push(p);
        }
    }
    ports
}

/// The TCP ports a workload declares (exposed or published targets), bounded.
fn ports_of(w: &Workload) -> Vec<u16> {
    let mut ports: Vec<u16> = w
        .expose
        .iter()
        .map(|e| e.value.start)
        .chain(w.ports.iter().filter(|p| p.protocol == Protocol::Tcp).map(|p| p.target.start))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports.truncate(MAX_PORTS_PER_PEER);
    ports
}

fn short(o: &Outcome) -> String {
    match o {
        Outcome::Connected { .. } => "open".into(),
        Outcome::Refused => "refused".into(),
        Outcome::TimedOut => "timeout".into(),
        Outcome::Unreachable(_) => "unreachable".into(),
        Outcome::Reply { after } => format!("{:.1}ms", after.as_secs_f64() * 1000.0),
        Outcome::Dns(a) if a.resolved() => a.addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        Outcome::Dns(a) => a.rcode.clone(),
        Outcome::Failed(e) => format!("error: {e}"),
    }
}

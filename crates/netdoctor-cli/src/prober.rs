//! Where probes run from: inside the container's network namespace entered with
//! `setns` (`--probe-via netns`, needs root on the engine's host), or from a throwaway
//! container that joins that namespace and runs `netdoctor-probe-agent`
//! (`--probe-via container`, needs only the engine's API). `auto` picks the namespace
//! path for a container whose process is visible here (its `/proc/<pid>/cgroup` names
//! the container) when this process may enter namespaces and the engine is a local
//! socket, and the container path otherwise.
//!
//! The agent binary is found next to the `netdoctor` executable (Cargo builds both
//! into one directory) or at `NETDOCTOR_PROBE_AGENT`. A dynamically linked agent is
//! imported with the shared objects it maps (`netdoctor-probe-agent libs`), a static
//! one alone.

use netdoctor_probe::agent::{parse_response, Request};
use netdoctor_probe::{read_resolv_conf, run_batch, Capabilities, Job, NetnsRef, Outcome, Probe, ProbeOptions, ResolvConf};
use netdoctor_sources::docker::agent::{AgentEngine, AgentImage, AgentOptions, AgentRun};
use netdoctor_sources::docker::context::resolve_endpoint;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Probes per agent run: the request travels as one command-line argument.
const PROBES_PER_RUN: usize = 512;

/// `--probe-via`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProbeVia {
    /// The namespace when this process can enter it, else a throwaway container.
    #[default]
    Auto,
    /// Enter the container's network namespace (root on the engine's host).
    Netns,
    /// A throwaway container in the container's network namespace (any engine).
    Container,
}

/// The container a probe runs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: String,
    pub pid: Option<u32>,
}

/// How one source is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Netns(u32),
    Container,
}

/// Runs probes by the chosen path; the engine session and agent image are set up on
/// first use.
pub struct Prober {
    via: ProbeVia,
    endpoint: Option<String>,
    timeout: Duration,
    caps: Capabilities,
    engine: Option<Result<(AgentEngine, String), String>>,
    /// Set when Ctrl-C stopped the probe containers.
    interrupted: Option<String>,
}

/// Whether `pid` is the process of container `id` as this process sees it.
fn pid_visible(pid: u32, id: &str) -> bool {
    !id.is_empty() && std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|c| c.contains(id))
}

impl Prober {
    /// A prober for the engine at `host` (`--docker-host`, else DOCKER_HOST, the context...).
    pub fn new(via: ProbeVia, host: Option<&str>, timeout: Duration) -> Prober {
        Prober { via, endpoint: resolve_endpoint(host).ok(), timeout, caps: Capabilities::current(), engine: None, interrupted: None }
    }

    /// Why probing cannot run at all, checked up front; `None` when it can (the
    /// container path's own failures show when it is first used).
    pub fn unavailable(&self) -> Option<String> {
        match self.via {
            ProbeVia::Netns => {
                self.caps.missing_for_probes().map(|m| format!("{m}; or probe from a throwaway container with `--probe-via container`"))
            }
            _ => None,
        }
    }

    /// A name for the path, for output.
    pub fn describe(&self, sources: &[Source]) -> &'static str {
        let paths: Vec<Path> = sources.iter().map(|s| self.path(s)).collect();
        match (paths.iter().any(|p| matches!(p, Path::Netns(_))), paths.contains(&Path::Container)) {
            (true, true) => "mixed",
            (false, true) => "container",
            _ => "netns",
        }
    }

    fn path(&self, s: &Source) -> Path {
        let local = self.endpoint.as_deref().is_none_or(|e| e.starts_with("unix://"));
        match (self.via, s.pid) {
            (ProbeVia::Container, _) | (_, None) => Path::Container,
            (ProbeVia::Netns, Some(pid)) => Path::Netns(pid),
            (ProbeVia::Auto, Some(pid)) if local && self.caps.can_enter_netns() && pid_visible(pid, &s.id) => Path::Netns(pid),
            (ProbeVia::Auto, Some(_)) => Path::Container,
        }
    }

    /// The engine session and the agent image's tag.
    fn engine(&mut self) -> Result<(&AgentEngine, &str), String> {
        if self.engine.is_none() {
            self.engine = Some(self.connect());
        }
        match &self.engine {
            Some(Ok((engine, tag))) => Ok((engine, tag)),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no engine".into()),
        }
    }

    fn connect(&self) -> Result<(AgentEngine, String), String> {
        let why = |e: String| {
            let mut msg = format!("probing from a throwaway container: {e}");
            match self.caps.missing_for_probes() {
                Some(m) => msg.push_str(&format!(
                    ". Probing from inside the namespaces instead (`--probe-via netns`, on the engine's host) {}",
                    m.trim_start_matches("probing ")
                )),
                None => msg.push_str(". On the engine's host, probe from inside the namespaces instead: `--probe-via netns`"),
            }
            msg
        };
        let endpoint = resolve_endpoint(self.endpoint.as_deref()).map_err(|e| why(crate::live::error_chain(&e)))?;
        let engine = AgentEngine::connect(AgentOptions::new(endpoint, self.timeout)).map_err(|e| why(docker_error(&e)))?;
        let image = agent_image().map_err(why)?;
        let (tag, _) = engine.ensure_image(&image).map_err(|e| why(docker_error(&e)))?;
        Ok((engine, tag))
    }

    /// The resolvers `s` uses (at most two), from its resolv.conf.
    pub fn resolvers(&mut self, s: &Source) -> Result<Vec<SocketAddr>, String> {
        let conf = match self.path(s) {
            Path::Netns(pid) => read_resolv_conf(pid).map_err(|e| match e.hint() {
                Some(h) => format!("{e}; {h}"),
                None => e.to_string(),
            })?,
            Path::Container => {
                let (engine, _) = self.engine()?;
                let bytes = engine.read_file(&s.id, "/etc/resolv.conf").map_err(|e| docker_error(&e))?;
                ResolvConf::parse(&String::from_utf8_lossy(&bytes))
            }
        };
        Ok(conf.nameservers.into_iter().take(2).map(|ip| SocketAddr::new(ip, 53)).collect())
    }

    /// Runs every probe from its source; outcomes in the input's order.
    pub fn run(&mut self, jobs: Vec<(Source, Probe)>, opts: &ProbeOptions) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; jobs.len()];
        let mut netns_jobs = Vec::new();
        let mut netns_at = Vec::new();
        let mut by_container: BTreeMap<String, Vec<(usize, Probe)>> = BTreeMap::new();
        for (i, (source, probe)) in jobs.into_iter().enumerate() {
            match self.path(&source) {
                Path::Netns(pid) => {
                    netns_jobs.push(Job { netns: Some(NetnsRef::of_pid(pid)), probe });
                    netns_at.push(i);
                }
                Path::Container => by_container.entry(source.id).or_default().push((i, probe)),
            }
        }
        if !netns_jobs.is_empty() {
            for (i, o) in netns_at.into_iter().zip(run_batch(netns_jobs, opts)) {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(o);
                }
            }
        }
        if !by_container.is_empty() {
            for (i, o) in self.run_in_containers(by_container, opts) {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(o);
                }
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::Failed("not run".into()))).collect()
    }

    fn run_in_containers(&mut self, by_container: BTreeMap<String, Vec<(usize, Probe)>>, opts: &ProbeOptions) -> Vec<(usize, Outcome)> {
        let mut runs = Vec::new();
        let mut sent: Vec<Vec<usize>> = Vec::new();
        for (id, probes) in by_container {
            for chunk in probes.chunks(PROBES_PER_RUN) {
                let list: Vec<Probe> = chunk.iter().map(|(_, p)| p.clone()).collect();
                let req = Request::new(&list, opts);
                let Ok(json) = serde_json::to_string(&req) else { continue };
                runs.push(AgentRun {
                    target: id.clone(),
                    args: vec!["run".into(), json],
                    net_raw: list.iter().any(|p| matches!(p, Probe::Icmp(_))),
                    probes_take: req.worst_case(),
                });
                sent.push(chunk.iter().map(|(i, _)| *i).collect());
            }
        }
        let results: Vec<Result<_, String>> = match self.engine() {
            Ok((engine, tag)) => match engine.run_all(tag, &runs) {
                Ok(results) => results.into_iter().map(|r| r.map_err(|e| docker_error(&e))).collect(),
                Err(e) => {
                    let e = crate::live::error_chain(&e);
                    self.interrupted = Some(e.clone());
                    vec![Err(e); runs.len()]
                }
            },
            Err(e) => vec![Err(e); runs.len()],
        };
        let mut out = Vec::new();
        for (indices, result) in sent.into_iter().zip(results) {
            let parsed = result.and_then(|o| {
                parse_response(&o.stdout, indices.len()).map_err(|e| match o.stderr.trim() {
                    "" => e,
                    err => format!("{e}; the agent said: {err}"),
                })
            });
            match parsed {
                Ok(list) => out.extend(indices.into_iter().zip(list)),
                Err(e) => out.extend(indices.into_iter().map(|i| (i, Outcome::Failed(e.clone())))),
            }
        }
        out
    }

    /// Set when Ctrl-C stopped the probes: the message to print before exiting 130.
    pub fn interrupted(&self) -> Option<&str> {
        self.interrupted.as_deref()
    }

    /// The first error of setting up the container path, if it was used and failed.
    pub fn setup_error(&self) -> Option<&str> {
        match &self.engine {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }
}

fn docker_error(e: &netdoctor_sources::docker::Error) -> String {
    match e.hint() {
        Some(h) => format!("{}; {h}", crate::live::error_chain(e)),
        None => crate::live::error_chain(e),
    }
}

/// Where the agent binary is: `NETDOCTOR_PROBE_AGENT`, else beside this executable.
pub fn agent_path() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("NETDOCTOR_PROBE_AGENT").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return match p.is_file() {
            true => Ok(p),
            false => Err(format!(
                "NETDOCTOR_PROBE_AGENT names {}, which is no file: point it at a `netdoctor-probe-agent` binary, or unset it to use the one beside netdoctor",
                p.display()
            )),
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?;
    let beside = exe.with_file_name("netdoctor-probe-agent");
    if beside.is_file() {
        return Ok(beside);
    }
    Err(format!(
        "the probe agent `netdoctor-probe-agent` is not beside {} (Cargo builds and installs it with netdoctor): put it there, or set NETDOCTOR_PROBE_AGENT to its path",
        exe.display()
    ))
}

/// The agent's image content: the binary and the shared objects it maps.
pub fn agent_image() -> Result<AgentImage, String> {
    let agent = agent_path()?;
    let out = std::process::Command::new(&agent)
        .arg("libs")
        .output()
        .map_err(|e| format!("running {} to list its libraries: {e}", agent.display()))?;
    if !out.status.success() {
        return Err(format!("{} libs: {}", agent.display(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let libs: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().map(str::trim).filter(|l| l.starts_with('/')).map(str::to_string).collect();
    AgentImage::from_binary(&agent, &libs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_engines_and_invisible_processes_use_a_container() {
        let mut p = Prober::new(ProbeVia::Auto, Some("tcp://10.9.9.9:2375"), Duration::from_secs(1));
        p.caps = Capabilities::parse_status("CapEff:\t000001ffffffffff\n").unwrap();
        let me = Source { id: "ndt-not-a-container-id".into(), pid: Some(std::process::id()) };
        assert_eq!(p.path(&me), Path::Container, "a remote engine's PIDs are not ours");
        p.endpoint = Some("unix:///var/run/docker.sock".into());
        assert_eq!(p.path(&me), Path::Container, "this PID is no container of that ID");
        assert_eq!(p.path(&Source { id: "x".into(), pid: None }), Path::Container);
        p.via = ProbeVia::Netns;
        assert_eq!(p.path(&me), Path::Netns(std::process::id()));
        p.caps = Capabilities::default();
        assert!(p.unavailable().unwrap().contains("--probe-via container"));
        p.via = ProbeVia::Container;
        assert_eq!(p.unavailable(), None);
        assert_eq!(p.describe(&[me]), "container");
    }
}

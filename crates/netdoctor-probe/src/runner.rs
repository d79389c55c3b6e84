//! Where probes run from: inside the container's network namespace entered with
//! `setns` (`ProbeVia::Netns`, needs root on the engine's host), or from a throwaway
//! container that joins that namespace and runs `netdoctor-probe-agent`
//! (`ProbeVia::Container`, needs only the engine's API, reached through an
//! `AgentHost`). `Auto` picks the namespace path for a container whose process is
//! visible here (its `/proc/<pid>/cgroup` names the container) when this process may
//! enter namespaces and the engine is local, and the container path otherwise.

use crate::agent::{parse_response, Request};
use crate::{read_resolv_conf, run_batch, Capabilities, Job, NetnsRef, Outcome, Probe, ProbeOptions, ProbeRunner, ResolvConf, Source};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Probes per agent run: the request travels as one command-line argument.
const PROBES_PER_RUN: usize = 512;

/// How probes get into a container's network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ProbeVia {
    /// The namespace when this process can enter it, else a throwaway container.
    #[default]
    Auto,
    /// Enter the container's network namespace (root on the engine's host).
    Netns,
    /// A throwaway container in the container's network namespace (any engine).
    Container,
}

/// One run of the agent: the container whose namespace it joins, its request (JSON),
/// whether it needs CAP_NET_RAW (ICMP), and how long its probes may take.
#[derive(Debug, Clone)]
pub struct AgentCall {
    pub target: String,
    pub request: String,
    pub net_raw: bool,
    pub takes: Duration,
}

/// What one agent run printed.
#[derive(Debug, Clone, Default)]
pub struct AgentReply {
    pub stdout: String,
    pub stderr: String,
}

/// The engine's side of the container path: reading a container's file, and running
/// the agent in throwaway containers (image import, run, cleanup).
pub trait AgentHost {
    /// A file of container `container`.
    fn read_file(&mut self, container: &str, path: &str) -> Result<Vec<u8>, String>;
    /// Runs every call, and returns what each printed, in order; every container is
    /// gone when it returns. The outer error: the whole run was stopped (Ctrl-C).
    fn run_agents(&mut self, calls: &[AgentCall]) -> Result<Vec<Result<AgentReply, String>>, String>;
    /// Why the container path could not be set up, once it was tried.
    fn setup_error(&self) -> Option<&str>;
}

/// How one source is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Netns(u32),
    Container,
}

/// Runs probes by the chosen path.
pub struct Prober<H: AgentHost> {
    via: ProbeVia,
    /// Whether the engine runs on this host (a local socket): only then are its PIDs ours.
    local_engine: bool,
    caps: Capabilities,
    host: H,
    /// Set when Ctrl-C stopped the probe containers.
    interrupted: Option<String>,
}

/// Whether `pid` is the process of container `id` as this process sees it.
fn pid_visible(pid: u32, id: &str) -> bool {
    !id.is_empty() && std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|c| c.contains(id))
}

impl<H: AgentHost> Prober<H> {
    /// A prober whose container path goes through `host`.
    pub fn new(via: ProbeVia, local_engine: bool, host: H) -> Prober<H> {
        Prober { via, local_engine, caps: Capabilities::current(), host, interrupted: None }
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

    /// Set when Ctrl-C stopped the probes: the message to print before exiting 130.
    pub fn interrupted(&self) -> Option<&str> {
        self.interrupted.as_deref()
    }

    fn path(&self, s: &Source) -> Path {
        match (self.via, s.pid) {
            (ProbeVia::Container, _) | (_, None) => Path::Container,
            (ProbeVia::Netns, Some(pid)) => Path::Netns(pid),
            (ProbeVia::Auto, Some(pid)) if self.local_engine && self.caps.can_enter_netns() && pid_visible(pid, &s.id) => Path::Netns(pid),
            (ProbeVia::Auto, Some(_)) => Path::Container,
        }
    }

    fn run_in_containers(&mut self, by_container: BTreeMap<String, Vec<(usize, Probe)>>, opts: &ProbeOptions) -> Vec<(usize, Outcome)> {
        let mut calls = Vec::new();
        let mut sent: Vec<Vec<usize>> = Vec::new();
        for (id, probes) in by_container {
            for chunk in probes.chunks(PROBES_PER_RUN) {
                let list: Vec<Probe> = chunk.iter().map(|(_, p)| p.clone()).collect();
                let req = Request::new(&list, opts);
                let Ok(request) = serde_json::to_string(&req) else { continue };
                calls.push(AgentCall {
                    target: id.clone(),
                    request,
                    net_raw: list.iter().any(|p| matches!(p, Probe::Icmp(_))),
                    takes: req.worst_case(),
                });
                sent.push(chunk.iter().map(|(i, _)| *i).collect());
            }
        }
        let results = match self.host.run_agents(&calls) {
            Ok(results) => results,
            Err(e) => {
                self.interrupted = Some(e.clone());
                vec![Err(e); calls.len()]
            }
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
}

impl<H: AgentHost> ProbeRunner for Prober<H> {
    fn describe(&self, sources: &[Source]) -> &'static str {
        let paths: Vec<Path> = sources.iter().map(|s| self.path(s)).collect();
        match (paths.iter().any(|p| matches!(p, Path::Netns(_))), paths.contains(&Path::Container)) {
            (true, true) => "mixed",
            (false, true) => "container",
            _ => "netns",
        }
    }

    fn resolvers(&mut self, s: &Source) -> Result<Vec<SocketAddr>, String> {
        let conf = match self.path(s) {
            Path::Netns(pid) => read_resolv_conf(pid).map_err(|e| match e.hint() {
                Some(h) => format!("{e}; {h}"),
                None => e.to_string(),
            })?,
            Path::Container => ResolvConf::parse(&String::from_utf8_lossy(&self.host.read_file(&s.id, "/etc/resolv.conf")?)),
        };
        Ok(conf.nameservers.into_iter().take(2).map(|ip| SocketAddr::new(ip, 53)).collect())
    }

    fn run(&mut self, jobs: Vec<(Source, Probe)>, opts: &ProbeOptions) -> Vec<Outcome> {
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
        let from_netns = if netns_jobs.is_empty() { Vec::new() } else { netns_at.into_iter().zip(run_batch(netns_jobs, opts)).collect() };
        let from_containers = if by_container.is_empty() { Vec::new() } else { self.run_in_containers(by_container, opts) };
        for (i, o) in from_netns.into_iter().chain(from_containers) {
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(o);
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::Failed("not run".into()))).collect()
    }

    fn setup_error(&self) -> Option<&str> {
        self.host.setup_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host that answers every agent call with `reply`, and counts the calls.
    #[derive(Default)]
    struct Recorded {
        calls: Vec<AgentCall>,
        reply: String,
    }

    impl AgentHost for Recorded {
        fn read_file(&mut self, _: &str, path: &str) -> Result<Vec<u8>, String> {
            match path {
                "/etc/resolv.conf" => Ok(b"nameserver 127.0.0.11\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n".to_vec()),
                _ => Err(format!("no {path}")),
            }
        }
        fn run_agents(&mut self, calls: &[AgentCall]) -> Result<Vec<Result<AgentReply, String>>, String> {
            self.calls.extend_from_slice(calls);
            Ok(calls.iter().map(|_| Ok(AgentReply { stdout: self.reply.clone(), stderr: String::new() })).collect())
        }
        fn setup_error(&self) -> Option<&str> {
            None
        }
    }

    #[test]
    fn remote_engines_and_invisible_processes_use_a_container() {
        let mut p = Prober::new(ProbeVia::Auto, false, Recorded::default());
        p.caps = Capabilities::parse_status("CapEff:\t000001ffffffffff\n").unwrap_or_default();
        let me = Source { id: "ndt-not-a-container-id".into(), pid: Some(std::process::id()) };
        assert_eq!(p.path(&me), Path::Container, "a remote engine's PIDs are not ours");
        p.local_engine = true;
        assert_eq!(p.path(&me), Path::Container, "this PID is no container of that ID");
        assert_eq!(p.path(&Source { id: "x".into(), pid: None }), Path::Container);
        p.via = ProbeVia::Netns;
        assert_eq!(p.path(&me), Path::Netns(std::process::id()));
        p.caps = Capabilities::default();
        assert!(p.unavailable().is_some_and(|m| m.contains("--probe-via container")));
        p.via = ProbeVia::Container;
        assert_eq!(p.unavailable(), None);
        assert_eq!(p.describe(&[me]), "container");
    }

    #[test]
    fn the_container_path_batches_per_container_and_reads_resolvers_through_the_host() {
        let mut p = Prober::new(ProbeVia::Container, true, Recorded { reply: "not json".into(), ..Recorded::default() });
        let a = Source { id: "a".into(), pid: None };
        let b = Source { id: "b".into(), pid: None };
        let dns = |ip: [u8; 4]| SocketAddr::from((ip, 53));
        assert_eq!(p.resolvers(&a), Ok(vec![dns([127, 0, 0, 11]), dns([10, 0, 0, 2])]), "the first two nameservers");
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);
        let jobs = vec![(a.clone(), Probe::Icmp(ip)), (b, Probe::Tcp(SocketAddr::new(ip, 80))), (a, Probe::Tcp(SocketAddr::new(ip, 81)))];
        let outcomes = p.run(jobs, &ProbeOptions::default());
        assert_eq!(p.host.calls.len(), 2, "one agent run per container");
        assert!(p.host.calls.iter().any(|c| c.target == "a" && c.net_raw), "ICMP needs CAP_NET_RAW");
        assert!(p.host.calls.iter().any(|c| c.target == "b" && !c.net_raw));
        // An answer that does not parse fails its probes, with why, in the input's order.
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes.iter().all(|o| matches!(o, Outcome::Failed(_))), "{outcomes:?}");
    }
}

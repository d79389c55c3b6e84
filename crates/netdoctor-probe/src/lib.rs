//! The only code in netdoctor that touches network namespaces and raw sockets. A probe
//! (TCP connect, ICMP echo, DNS query) runs on a dedicated std thread that has entered
//! the target container's network namespace (`/proc/<pid>/ns/net`, with `setns`), so
//! it sees exactly what the container sees: no shell, ping or nslookup in the image is
//! needed. Every probe has a timeout and a batch runs a bounded number at a time.
//!
//! Once a probe thread is in its namespace it drops every capability but CAP_NET_RAW
//! (ICMP only), so nothing that parses a container's answers runs with CAP_SYS_ADMIN.
//! Where namespaces cannot be entered from here, `agent` is the wire format of
//! `netdoctor-probe-agent`, which runs the same probes from a throwaway container that
//! shares the target's namespace.
//!
//! `Capabilities` says up front which privileges are there; callers report a missing
//! one once, with the way to run instead. Everything above this crate sees plain data
//! (`Job`, `Outcome`).
//!
//! ```no_run
//! use netdoctor_probe::{run_batch, Job, NetnsRef, Probe, ProbeOptions};
//! let job = Job { netns: Some(NetnsRef::of_pid(4242)), probe: Probe::Tcp("172.18.0.2:5432".parse().unwrap()) };
//! let outcomes = run_batch(vec![job], &ProbeOptions::default());
//! println!("{:?}", outcomes);
//! ```

pub mod agent;
mod batch;
mod caps;
mod container;
mod dns;
mod icmp;
mod netns;
mod runner;
mod tcp;

pub use batch::{run_batch, Job, ProbeOptions};
pub use caps::{drop_thread_caps, Capabilities};
pub use container::{read_hosts, read_resolv_conf, ResolvConf};
pub use dns::DnsAnswer;
pub use icmp::IcmpMode;
pub use netns::NetnsRef;
pub use runner::{AgentCall, AgentHost, AgentReply, ProbeVia, Prober};

/// The container a probe runs from: its ID, and its process when this host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: String,
    pub pid: Option<u32>,
}

/// What runs probes from inside containers' network namespaces, whichever way it gets
/// there (entering the namespace, or a throwaway container joined to it). Callers plan
/// the probes; a runner only runs them.
pub trait ProbeRunner {
    /// The resolvers `source` uses (at most two), from its resolv.conf.
    fn resolvers(&mut self, source: &Source) -> Result<Vec<SocketAddr>, String>;
    /// Runs every probe from its source; outcomes in the input's order.
    fn run(&mut self, jobs: Vec<(Source, Probe)>, opts: &ProbeOptions) -> Vec<Outcome>;
    /// Where the probes for `sources` run from, for output: `netns`, `container` or `mixed`.
    fn describe(&self, sources: &[Source]) -> &'static str;
    /// Why setting up the way to probe failed, once it was tried.
    fn setup_error(&self) -> Option<&str>;
}

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// A problem that stops one probe.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("opening the network namespace {path}: {source}")]
    OpenNetns { path: String, source: std::io::Error },
    #[error("entering the network namespace {path}: {source}")]
    EnterNetns { path: String, source: std::io::Error },
    #[error("reading {path}: {source}")]
    ReadFile { path: String, source: std::io::Error },
    #[error("opening a {what} socket: {source}")]
    Socket { what: &'static str, source: std::io::Error },
    #[error("building a DNS query for `{name}`: {message}")]
    DnsQuery { name: String, message: String },
    #[error("the probe thread stopped without an answer")]
    Thread,
}

impl Error {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::OpenNetns { source, .. } | Error::EnterNetns { source, .. } | Error::ReadFile { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                Some("entering a container's network namespace needs root (CAP_SYS_ADMIN and CAP_SYS_PTRACE): run with sudo, probe from a throwaway container (`--probe-via container`), or drop --probe")
            }
            Error::OpenNetns { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("the container's process is not visible from here (remote DOCKER_HOST, rootless Docker or Docker Desktop): probe from a throwaway container (`--probe-via container`), or run netdoctor on the engine's host")
            }
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One active check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A TCP connection attempt (closed at once when it succeeds).
    Tcp(SocketAddr),
    /// One ICMP echo request.
    Icmp(IpAddr),
    /// An A (or AAAA) query for `name` sent to `server`.
    Dns { server: SocketAddr, name: String, ipv6: bool },
}

/// What a probe observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The connection was accepted.
    Connected { after: Duration },
    /// The peer answered with a reset: reachable, nothing listens.
    Refused,
    /// No answer in time: dropped on the way, or nobody there.
    TimedOut,
    /// The kernel reported no route or an ICMP unreachable.
    Unreachable(String),
    /// An echo reply came back.
    Reply { after: Duration },
    /// A DNS answer (possibly an error code such as NXDOMAIN).
    Dns(DnsAnswer),
    /// The probe could not run.
    Failed(String),
}

impl Outcome {
    /// A one-line description for evidence.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Connected { after } => format!("connected in {}", ms(*after)),
            Outcome::Refused => "connection refused (reset): nothing listens there".into(),
            Outcome::TimedOut => "no answer before the timeout".into(),
            Outcome::Unreachable(why) => format!("unreachable: {why}"),
            Outcome::Reply { after } => format!("echo reply in {}", ms(*after)),
            Outcome::Dns(a) => a.describe(),
            Outcome::Failed(why) => format!("could not probe: {why}"),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

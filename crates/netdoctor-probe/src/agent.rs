//! The probe agent's wire format. Where netdoctor cannot enter a container's network
//! namespace itself (a remote engine, rootless Docker, Docker Desktop), it starts a
//! throwaway container in that namespace (`--network container:<id>`) running the
//! agent binary, `netdoctor-probe-agent run '<request JSON>'`, which runs the same
//! probes as the namespace path in its own namespace and prints one response JSON
//! line. The request is plain data (addresses, names, timeouts); the response maps
//! back onto [`Outcome`] one for one, in the request's order.

use crate::{run_batch, DnsAnswer, Job, Outcome, Probe, ProbeOptions};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The format's version; the agent refuses others.
pub const VERSION: u32 = 1;

/// Most probes one request may carry (the request travels on a command line).
pub const MAX_PROBES: usize = 2048;

/// What to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub version: u32,
    pub parallelism: usize,
    pub tcp_timeout_ms: u64,
    pub icmp_timeout_ms: u64,
    pub dns_timeout_ms: u64,
    pub probes: Vec<WireProbe>,
}

/// One probe on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireProbe {
    Tcp(SocketAddr),
    Icmp(IpAddr),
    Dns { server: SocketAddr, name: String, ipv6: bool },
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub version: u32,
    pub outcomes: Vec<WireOutcome>,
}

/// One outcome on the wire; durations in microseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireOutcome {
    Connected { us: u64 },
    Refused,
    TimedOut,
    Unreachable(String),
    Reply { us: u64 },
    Dns { server: SocketAddr, name: String, rcode: String, addresses: Vec<IpAddr>, us: u64 },
    Failed(String),
}

impl Request {
    /// A request for `probes` with `opts`' timeouts and parallelism.
    pub fn new(probes: &[Probe], opts: &ProbeOptions) -> Request {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Request {
            version: VERSION,
            parallelism: opts.parallelism,
            tcp_timeout_ms: ms(opts.tcp_timeout),
            icmp_timeout_ms: ms(opts.icmp_timeout),
            dns_timeout_ms: ms(opts.dns_timeout),
            probes: probes.iter().map(WireProbe::from).collect(),
        }
    }

    /// The longest the agent can take to answer: every probe at its timeout, the
    /// probes `parallelism` at a time.
    pub fn worst_case(&self) -> Duration {
        let per = self.tcp_timeout_ms.max(self.icmp_timeout_ms).max(self.dns_timeout_ms);
        let rounds = self.probes.len().div_ceil(self.parallelism.clamp(1, 256)) as u64;
        Duration::from_millis(per.saturating_mul(rounds.max(1)))
    }
}

impl From<&Probe> for WireProbe {
    fn from(p: &Probe) -> WireProbe {
        match p {
            Probe::Tcp(a) => WireProbe::Tcp(*a),
            Probe::Icmp(ip) => WireProbe::Icmp(*ip),
            Probe::Dns { server, name, ipv6 } => WireProbe::Dns { server: *server, name: name.clone(), ipv6: *ipv6 },
        }
    }
}

impl From<WireProbe> for Probe {
    fn from(p: WireProbe) -> Probe {
        match p {
            WireProbe::Tcp(a) => Probe::Tcp(a),
            WireProbe::Icmp(ip) => Probe::Icmp(ip),
            WireProbe::Dns { server, name, ipv6 } => Probe::Dns { server, name, ipv6 },
        }
    }
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl From<&Outcome> for WireOutcome {
    fn from(o: &Outcome) -> WireOutcome {
        match o {
            Outcome::Connected { after } => WireOutcome::Connected { us: us(*after) },
            Outcome::Refused => WireOutcome::Refused,
            Outcome::TimedOut => WireOutcome::TimedOut,
            Outcome::Unreachable(w) => WireOutcome::Unreachable(w.clone()),
            Outcome::Reply { after } => WireOutcome::Reply { us: us(*after) },
            Outcome::Dns(a) => WireOutcome::Dns {
                server: a.server,
                name: a.name.clone(),
                rcode: a.rcode.clone(),
                addresses: a.addresses.clone(),
                us: us(a.after),
            },
            Outcome::Failed(w) => WireOutcome::Failed(w.clone()),
        }
    }
}

impl From<WireOutcome> for Outcome {
    fn from(o: WireOutcome) -> Outcome {
        match o {
            WireOutcome::Connected { us } => Outcome::Connected { after: Duration::from_micros(us) },
            WireOutcome::Refused => Outcome::Refused,
            WireOutcome::TimedOut => Outcome::TimedOut,
            WireOutcome::Unreachable(w) => Outcome::Unreachable(w),
            WireOutcome::Reply { us } => Outcome::Reply { after: Duration::from_micros(us) },
            WireOutcome::Dns { server, name, rcode, addresses, us } => {
                Outcome::Dns(DnsAnswer { server, name, rcode, addresses, after: Duration::from_micros(us) })
            }
            WireOutcome::Failed(w) => Outcome::Failed(w),
        }
    }
}

/// The agent's side: parses a request, runs it in this process's own namespace and
/// returns the response JSON.
pub fn serve(request: &str) -> Result<String, String> {
    let req: Request = serde_json::from_str(request).map_err(|e| format!("reading the request: {e}"))?;
    if req.version != VERSION {
        return Err(format!("request version {} is not {VERSION}: the agent image is from another netdoctor version", req.version));
    }
    if req.probes.len() > MAX_PROBES {
        return Err(format!("{} probes in one request, at most {MAX_PROBES}", req.probes.len()));
    }
    // Timeouts are bounded here too: the agent must end on its own.
    let bounded = |ms: u64| Duration::from_millis(ms.clamp(10, 60_000));
    let opts = ProbeOptions {
        parallelism: req.parallelism.clamp(1, 256),
        tcp_timeout: bounded(req.tcp_timeout_ms),
        icmp_timeout: bounded(req.icmp_timeout_ms),
        dns_timeout: bounded(req.dns_timeout_ms),
    };
    let jobs = req.probes.into_iter().map(|p| Job { netns: None, probe: p.into() }).collect();
    let outcomes = run_batch(jobs, &opts);
    let resp = Response { version: VERSION, outcomes: outcomes.iter().map(WireOutcome::from).collect() };
    serde_json::to_string(&resp).map_err(|e| e.to_string())
}

/// The caller's side: reads the agent's output into outcomes, checking there is one
/// per probe sent.
pub fn parse_response(stdout: &str, sent: usize) -> Result<Vec<Outcome>, String> {
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).ok_or_else(|| {
        let shown: String = stdout.chars().take(300).collect();
        format!("the probe agent printed no answer (output: `{}`)", shown.trim())
    })?;
    let resp: Response = serde_json::from_str(line).map_err(|e| format!("reading the probe agent's answer: {e}"))?;
    if resp.version != VERSION {
        return Err(format!("the probe agent answered in version {}, expected {VERSION}", resp.version));
    }
    if resp.outcomes.len() != sent {
        return Err(format!("the probe agent answered {} probes of {sent}", resp.outcomes.len()));
    }
    Ok(resp.outcomes.into_iter().map(Outcome::from).collect())
}

/// The shared objects this process has mapped (its dynamic libraries, the loader
/// among them): what an image needs beside a dynamically linked agent. Empty for a
/// static binary.
pub fn mapped_libraries() -> Vec<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let exe = std::fs::read_link("/proc/self/exe").map(|p| p.display().to_string()).unwrap_or_default();
    let mut libs: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.starts_with('/') && *p != exe && p.contains(".so"))
        .map(str::to_string)
        .collect();
    libs.sort();
    libs.dedup();
    libs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_through_the_agent() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let probes = vec![Probe::Tcp(open), Probe::Tcp(closed)];
        let req = Request::new(&probes, &ProbeOptions::default());
        let text = serde_json::to_string(&req).unwrap();
        let answer = serve(&text).unwrap();
        let outcomes = parse_response(&answer, 2).unwrap();
        assert!(matches!(outcomes[0], Outcome::Connected { .. }), "{outcomes:?}");
        assert_eq!(outcomes[1], Outcome::Refused);
        assert!(parse_response(&answer, 3).unwrap_err().contains("2 probes of 3"));
    }

    #[test]
    fn outcomes_keep_their_details_on_the_wire() {
        let dns = Outcome::Dns(DnsAnswer {
            server: "127.0.0.11:53".parse().unwrap(),
            name: "db".into(),
            rcode: "NOERROR".into(),
            addresses: vec!["172.18.0.2".parse().unwrap()],
            after: Duration::from_micros(1234),
        });
        for o in [dns, Outcome::Reply { after: Duration::from_micros(77) }, Outcome::Unreachable("no route".into()), Outcome::TimedOut] {
            let wire = serde_json::to_string(&WireOutcome::from(&o)).unwrap();
            assert_eq!(Outcome::from(serde_json::from_str::<WireOutcome>(&wire).unwrap()), o, "{wire}");
        }
    }

    #[test]
    fn bad_requests_and_answers_say_what_is_wrong() {
        assert!(serve("{").unwrap_err().contains("reading the request"));
        let mut req = Request::new(&[], &ProbeOptions::default());
        req.version = 99;
        assert!(serve(&serde_json::to_string(&req).unwrap()).unwrap_err().contains("another netdoctor version"));
        assert!(parse_response("exec format error\n", 1).unwrap_err().contains("exec format error"));
    }

    #[test]
    fn worst_case_counts_rounds() {
        let probes = vec![Probe::Icmp("127.0.0.1".parse().unwrap()); 5];
        let req = Request::new(&probes, &ProbeOptions { parallelism: 2, ..ProbeOptions::default() });
        assert_eq!(req.worst_case(), Duration::from_millis(2000 * 3));
    }
}

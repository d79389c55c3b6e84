//! Running many probes: a fixed number of worker threads take jobs from one queue.
//! Workers stay in the process's own namespace; each job runs on a short-lived thread
//! of its own, which enters the job's namespace (a socket belongs to the namespace it
//! was created in), then drops every capability but CAP_NET_RAW (kept for an ICMP
//! probe's raw-socket fallback) before it sends anything or parses an answer. So the
//! code that handles what comes back from a container never holds CAP_SYS_ADMIN.

use crate::netns::{enter, NetnsRef};
use crate::{dns, icmp, tcp, Outcome, Probe};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// One probe, and where to run it from (`None`: this process's own namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub netns: Option<NetnsRef>,
    pub probe: Probe,
}

/// Timeouts and parallelism.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Probes in flight at once (threads).
    pub parallelism: usize,
    pub tcp_timeout: Duration,
    pub icmp_timeout: Duration,
    pub dns_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            parallelism: 16,
            tcp_timeout: Duration::from_millis(1500),
            icmp_timeout: Duration::from_millis(1000),
            dns_timeout: Duration::from_millis(2000),
        }
    }
}

/// Runs every job and returns their outcomes in the jobs' order.
pub fn run_batch(jobs: Vec<Job>, opts: &ProbeOptions) -> Vec<Outcome> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| jobs.get(i).and_then(|j| j.netns));
    let queue = Mutex::new(order.into_iter().collect::<VecDeque<usize>>());
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; jobs.len()]);
    let workers = opts.parallelism.clamp(1, 256).min(jobs.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| worker(&jobs, &queue, &results, opts));
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.into_iter().map(|o| o.unwrap_or_else(|| Outcome::Failed("not run".into()))).collect()
}

fn worker(jobs: &[Job], queue: &Mutex<VecDeque<usize>>, results: &Mutex<Vec<Option<Outcome>>>, opts: &ProbeOptions) {
    let mut seq: u16 = 0;
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some(i) = next else { return };
        let Some(job) = jobs.get(i) else { continue };
        seq = seq.wrapping_add(1);
        let outcome = std::thread::scope(|s| s.spawn(|| in_job_thread(job, opts, seq)).join())
            .unwrap_or_else(|_| Outcome::Failed("the probe thread stopped without an answer".into()));
        if let Some(slot) = results.lock().unwrap_or_else(|p| p.into_inner()).get_mut(i) {
            *slot = Some(outcome);
        }
    }
}

/// On a fresh thread: enter the job's namespace, give up privileges, probe.
fn in_job_thread(job: &Job, opts: &ProbeOptions, seq: u16) -> Outcome {
    if let Some(target) = job.netns {
        if let Err(e) = target.open().and_then(|ns| enter(&ns, &target.path())) {
            return Outcome::Failed(match e.hint() {
                Some(h) => format!("{e}; {h}"),
                None => e.to_string(),
            });
        }
    }
    if let Err(e) = crate::caps::drop_thread_caps(matches!(job.probe, Probe::Icmp(_))) {
        return Outcome::Failed(format!("dropping privileges before probing: {e}"));
    }
    run_one(&job.probe, opts, seq)
}

fn run_one(probe: &Probe, opts: &ProbeOptions, seq: u16) -> Outcome {
    match probe {
        Probe::Tcp(addr) => tcp::connect(*addr, opts.tcp_timeout),
        Probe::Icmp(ip) => icmp::echo(*ip, opts.icmp_timeout, seq),
        Probe::Dns { server, name, ipv6 } => dns::query(*server, name, *ipv6, opts.dns_timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_in_our_own_namespace_keep_their_order() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        // A port that was free a moment ago: closed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let jobs = vec![Job { netns: None, probe: Probe::Tcp(closed) }, Job { netns: None, probe: Probe::Tcp(open) }];
        let out = run_batch(jobs, &ProbeOptions { parallelism: 2, ..ProbeOptions::default() });
        assert_eq!(out[0], Outcome::Refused);
        assert!(matches!(out[1], Outcome::Connected { .. }), "{:?}", out[1]);
    }

    #[test]
    fn a_missing_namespace_fails_that_job_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let jobs =
            vec![Job { netns: Some(NetnsRef::of_pid(u32::MAX)), probe: Probe::Tcp(open) }, Job { netns: None, probe: Probe::Tcp(open) }];
        let out = run_batch(jobs, &ProbeOptions::default());
        assert!(matches!(&out[0], Outcome::Failed(m) if m.contains("/proc/4294967295/ns/net")), "{:?}", out[0]);
        assert!(matches!(out[1], Outcome::Connected { .. }));
    }
}

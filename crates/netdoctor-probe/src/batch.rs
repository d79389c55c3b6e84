//! Running many probes: a fixed number of dedicated worker threads take jobs from one
//! queue, ordered by namespace so a worker rarely switches. A worker enters a job's
//! namespace (or returns to the process's own) before opening the job's socket: a
//! socket belongs to the namespace it was created in.

use crate::netns::{enter, NetnsRef};
use crate::{dns, icmp, tcp, Outcome, Probe};
use std::collections::VecDeque;
use std::fs::File;
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
    // `/proc/self/ns/net` is the main thread's namespace, which never changes.
    let home = File::open("/proc/self/ns/net").ok();
    let workers = opts.parallelism.clamp(1, 256).min(jobs.len());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| worker(&jobs, &queue, &results, home.as_ref(), opts));
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.into_iter().map(|o| o.unwrap_or_else(|| Outcome::Failed("not run".into()))).collect()
}

fn worker(jobs: &[Job], queue: &Mutex<VecDeque<usize>>, results: &Mutex<Vec<Option<Outcome>>>, home: Option<&File>, opts: &ProbeOptions) {
    // Where this thread is now: `None` is the process's own namespace.
    let mut here: Option<NetnsRef> = None;
    let mut seq: u16 = 0;
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some(i) = next else { return };
        let Some(job) = jobs.get(i) else { continue };
        let outcome = match switch(&mut here, job.netns, home) {
            Ok(()) => {
                seq = seq.wrapping_add(1);
                run_one(&job.probe, opts, seq)
            }
            Err(e) => Outcome::Failed(match e.hint() {
                Some(h) => format!("{e}; {h}"),
                None => e.to_string(),
            }),
        };
        if let Some(slot) = results.lock().unwrap_or_else(|p| p.into_inner()).get_mut(i) {
            *slot = Some(outcome);
        }
    }
}

/// Moves the thread into `want` (or back home) unless it is already there.
fn switch(here: &mut Option<NetnsRef>, want: Option<NetnsRef>, home: Option<&File>) -> crate::Result<()> {
    if *here == want {
        return Ok(());
    }
    match want {
        Some(target) => enter(&target.open()?, &target.path())?,
        None => {
            let home = home.ok_or(crate::Error::Thread)?;
            enter(home, "/proc/self/ns/net")?;
        }
    }
    *here = want;
    Ok(())
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

//! The `netdoctor-probe-agent` binary as netdoctor runs it in a throwaway container:
//! a request on the command line, one JSON line back. Here it probes loopback only: a
//! port this test listens on, one nothing listens on, and an echo to 127.0.0.1.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use netdoctor_probe::agent::{parse_response, Request};
use netdoctor_probe::{Outcome, Probe, ProbeOptions};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

fn agent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor-probe-agent")).args(args).output().expect("run the agent")
}

#[test]
fn answers_a_request_with_one_line_of_outcomes() {
    let listening = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listening.local_addr().unwrap();
    let closed: SocketAddr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    }; // dropped: nothing listens there now
    let probes = vec![Probe::Tcp(open), Probe::Tcp(closed), Probe::Icmp("127.0.0.1".parse().unwrap())];
    let opts =
        ProbeOptions { tcp_timeout: Duration::from_millis(500), icmp_timeout: Duration::from_millis(500), ..ProbeOptions::default() };
    let request = serde_json::to_string(&Request::new(&probes, &opts)).unwrap();
    let out = agent(&["run", &request]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let outcomes = parse_response(&stdout, probes.len()).unwrap();
    assert!(matches!(outcomes[0], Outcome::Connected { .. }), "{outcomes:?}");
    assert!(matches!(outcomes[1], Outcome::Refused), "{outcomes:?}");
    // An echo needs a datagram ICMP socket (ping_group_range) or CAP_NET_RAW: as root
    // (CI) loopback answers; otherwise the agent may only say why it could not send it.
    let root = std::fs::read_to_string("/proc/self/status").unwrap().lines().any(|l| l.starts_with("Uid:\t0\t"));
    if root {
        assert!(matches!(outcomes[2], Outcome::Reply { .. }), "{outcomes:?}");
    } else {
        assert!(matches!(outcomes[2], Outcome::Reply { .. } | Outcome::Failed(_)), "{outcomes:?}");
    }
}

#[test]
fn a_bad_request_exits_2_and_says_why() {
    let out = agent(&["run", "{not json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "), "{}", String::from_utf8_lossy(&out.stderr));
    let usage = agent(&[]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage: netdoctor-probe-agent"));
    let version = agent(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("netdoctor-probe-agent "));
    assert!(agent(&["libs"]).status.success());
}

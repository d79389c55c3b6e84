//! Differential test against Network Config Analyzer (`nca`, PyPI package
//! `network-config-analyzer`), an independent implementation of NetworkPolicy semantics.
//!
//! Clusters of several shapes come from the benchmark generator
//! (`benches/k8s_generate.rs`: every policy shape it makes, Deployments and bare pods, one
//! to twelve namespaces). Each is written to a file, `nca --connectivity -r FILE -o
//! txt_no_fw_rules` lists what it allows, and netdoctor's engine reads the same file.
//! Then, exactly:
//! - every ordered pair of workloads: the allowed set (protocol and port ranges) must be
//!   the same, so every port verdict agrees;
//! - addresses outside the cluster: both tools split the address space differently, so
//!   the verdicts are compared at every address where either tool's split starts a new
//!   range (all verdicts are constant between those), in both directions, per workload;
//! - every peer `nca` names must be one netdoctor knows.
//!
//! Where the tools knowingly differ, the case goes in `KNOWN_DIFFERENCES` with the reason,
//! and the generated documents that have it are left out of both tools' input.
//!
//! Without `nca` on PATH the test is skipped with the reason; under CI=true it fails.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../benches/k8s_generate.rs"]
#[allow(dead_code)] // the benches use the rest
mod k8s_generate;

use k8s_generate::Options;
use netdoctor_engine::policy::{ConnSet, Endpoint, Ipv4Range, PolicyEngine, PolicyOptions, PortSet, PROTOCOLS};
use netdoctor_model::Protocol;
use netdoctor_sources::k8s;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Cases where netdoctor and `nca` knowingly differ: a marker (text of the generated
/// policy documents that have the case) and the reason. Documents containing a marker
/// are removed from the input of both tools. Each marker must still remove something.
/// Empty: on every shape the generator makes, the two agree exactly.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// A generous bound for one `nca` run on these small inputs (about a second each).
const NCA_TIMEOUT: Duration = Duration::from_secs(120);

/// Differences shown per failing case.
const SHOWN: usize = 10;

/// The clusters compared: name and generator options.
fn cases() -> Vec<(&'static str, Options, bool)> {
    let with =
        |pods, deployments, policies, namespaces, bare_pods| Options { namespaces, bare_pods, ..Options::new(pods, deployments, policies) };
    vec![
        // All eight policy shapes twice, one namespace (namespace selectors see only it).
        ("one-namespace", with(30, 12, 17, 1, false), false),
        // Selectors across five namespaces with three env labels.
        ("five-namespaces", with(60, 30, 40, 5, false), false),
        // The `--changed` variant: a named port turned into a numeric one.
        ("three-namespaces-changed", with(45, 21, 24, 3, false), true),
        // Bare pods, each its own workload, several sharing labels.
        ("bare-pods", with(50, 25, 33, 4, true), false),
        // More policies per target, and namespaces whose team labels repeat (t0..t9).
        ("twelve-namespaces", with(96, 48, 64, 12, false), false),
    ]
}

fn nca_available() -> bool {
    Command::new("nca").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Runs `nca` on `file`, bounded by `NCA_TIMEOUT`; its standard output.
fn run_nca(file: &Path, dir: &Path) -> String {
    let out_path = dir.join("nca.out");
    let out = std::fs::File::create(&out_path).unwrap_or_else(|e| panic!("creating {}: {e}", out_path.display()));
    let err_path = dir.join("nca.err");
    let err = std::fs::File::create(&err_path).unwrap_or_else(|e| panic!("creating {}: {e}", err_path.display()));
    let mut child = Command::new("nca")
        .arg("--connectivity")
        .arg("-r")
        .arg(file)
        .args(["-o", "txt_no_fw_rules", "--return_0"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("starting nca: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("waiting for nca: {e}")) {
            break status;
        }
        if start.elapsed() > NCA_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nca did not finish on {} within {NCA_TIMEOUT:?}", file.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(status.success(), "nca failed on {} ({status}):\n{stderr}", file.display());
    std::fs::read_to_string(&out_path).unwrap_or_else(|e| panic!("reading {}: {e}", out_path.display()))
}

/// One end of an `nca` line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum NcaPeer {
    Workload(String),
    Addresses(Vec<Ipv4Range>),
}

fn parse_ip(s: &str) -> Result<u32, String> {
    s.trim().parse::<Ipv4Addr>().map(u32::from).map_err(|e| format!("bad address {s:?}: {e}"))
}

/// `ns/name[Kind]`, or address ranges: `a.b.c.d-e.f.g.h`, `a.b.c.d/n` or one address,
/// comma-separated.
fn parse_peer(s: &str) -> Result<NcaPeer, String> {
    let s = s.trim();
    if s.contains('/') && s.ends_with(']') {
        return Ok(NcaPeer::Workload(s.to_string()));
    }
    let mut ranges = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let range = if let Some((a, b)) = part.split_once('-') {
            Ipv4Range { start: parse_ip(a)?, end: parse_ip(b)? }
        } else if let Some((a, len)) = part.split_once('/') {
            let net: ipnet::Ipv4Net = format!("{a}/{len}").parse().map_err(|e| format!("bad network {part:?}: {e}"))?;
            Ipv4Range { start: u32::from(net.network()), end: u32::from(net.broadcast()) }
        } else {
            let n = parse_ip(part)?;
            Ipv4Range { start: n, end: n }
        };
        ranges.push(range);
    }
    Ok(NcaPeer::Addresses(ranges))
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    match s.trim() {
        "TCP" => Ok(Protocol::Tcp),
        "UDP" => Ok(Protocol::Udp),
        "SCTP" => Ok(Protocol::Sctp),
        other => Err(format!("unknown protocol {other:?}")),
    }
}

/// `All connections`, `All but {…}`, or groups `{protocols:TCP, UDP,dst_ports:53,80-90}`
/// (no `dst_ports`: every port).
fn parse_conns(s: &str) -> Result<ConnSet, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all connections") {
        return Ok(ConnSet::all());
    }
    if let Some(rest) = s.strip_prefix("All but ") {
        return Ok(ConnSet::all().subtract(&parse_conns(rest)?));
    }
    let inner = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).ok_or_else(|| format!("unknown connections {s:?}"))?;
    let mut conns = ConnSet::none();
    for group in inner.split("},{") {
        let body = group.strip_prefix("protocols:").ok_or_else(|| format!("unknown connection group {group:?}"))?;
        let (protocols, ports) = match body.split_once(",dst_ports:") {
            Some((protocols, list)) => {
                let mut ports = PortSet::empty();
                for item in list.split(',') {
                    let (a, b) = item.split_once('-').unwrap_or((item, item));
                    let port = |p: &str| p.trim().parse::<u16>().map_err(|e| format!("bad port {p:?} in {s:?}: {e}"));
                    ports = ports.union(&PortSet::range(port(a)?, port(b)?));
                }
                (protocols, ports)
            }
            None => (body, PortSet::all()),
        };
        for protocol in protocols.split(',') {
            conns.add(parse_protocol(protocol)?, &ports);
        }
    }
    Ok(conns)
}

/// `SRC => DST : CONNS` lines; the same pair may come on several lines (one per
/// protocol group), so they are merged.
fn parse_nca(text: &str) -> Result<BTreeMap<(NcaPeer, NcaPeer), ConnSet>, String> {
    let mut out: BTreeMap<(NcaPeer, NcaPeer), ConnSet> = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains(" => ")) {
        let (src, rest) = line.split_once(" => ").ok_or_else(|| format!("unknown line {line:?}"))?;
        let (dst, conns) = rest.split_once(" : ").ok_or_else(|| format!("unknown line {line:?}"))?;
        let key = (parse_peer(src)?, parse_peer(dst)?);
        out.entry(key).or_default().add_all(&parse_conns(conns)?);
    }
    Ok(out)
}

/// The first port where `a` and `b` differ, as `TCP 8080`.
fn first_difference(a: &ConnSet, b: &ConnSet) -> String {
    let diff = a.subtract(b).union(&b.subtract(a));
    PROTOCOLS
        .iter()
        .find_map(|p| diff.ports(*p).ranges().next().map(|r| format!("{p:?} {}", r.start).to_uppercase()))
        .unwrap_or_else(|| "nothing".to_string())
}

/// `text` without the documents that have a known difference's marker; how many each
/// marker removed.
fn without_known_differences(text: &str) -> (String, Vec<usize>) {
    let mut removed = vec![0; KNOWN_DIFFERENCES.len()];
    let mut kept = String::with_capacity(text.len());
    for doc in text.split("---\n").filter(|d| !d.trim().is_empty()) {
        let hit = KNOWN_DIFFERENCES.iter().position(|(marker, _)| doc.contains(marker));
        match hit.and_then(|i| removed.get_mut(i)) {
            Some(count) => *count += 1,
            None => {
                kept.push_str(doc);
                kept.push_str("---\n");
            }
        }
    }
    (kept, removed)
}

/// Compares one cluster; `Err` lists the differences.
fn compare(name: &str, text: &str, dir: &Path) -> Result<String, String> {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, text).map_err(|e| format!("writing {}: {e}", file.display()))?;
    let loaded = k8s::load(&file);
    if let Some(e) = loaded.errors.first() {
        return Err(format!("netdoctor cannot read the generated cluster: {e}"));
    }
    let engine = PolicyEngine::new(&loaded.cluster, PolicyOptions::default());
    if let Some(w) = engine.warnings.first() {
        return Err(format!("the engine skipped part of the generated cluster: {}", w.message));
    }
    let nca = parse_nca(&run_nca(&file, dir))?;

    let workloads: BTreeMap<String, usize> = engine.workloads.iter().map(|w| (w.name(), w.class)).collect();
    let mut problems = Vec::new();
    let mut nca_pairs: BTreeMap<(&str, &str), &ConnSet> = BTreeMap::new();
    // Addresses outside the cluster, per workload: (address range, what nca allows) in
    // each direction.
    let mut inbound: BTreeMap<&str, Vec<(Ipv4Range, &ConnSet)>> = BTreeMap::new();
    let mut outbound: BTreeMap<&str, Vec<(Ipv4Range, &ConnSet)>> = BTreeMap::new();
    let mut starts: BTreeSet<u32> = BTreeSet::from([0]);
    for ((src, dst), conns) in &nca {
        for peer in [src, dst] {
            if let NcaPeer::Workload(w) = peer {
                if !workloads.contains_key(w) {
                    problems.push(format!("nca names a workload netdoctor does not know: {w}"));
                }
            }
        }
        match (src, dst) {
            (NcaPeer::Workload(s), NcaPeer::Workload(d)) => {
                nca_pairs.insert((s, d), conns);
            }
            (NcaPeer::Addresses(ranges), NcaPeer::Workload(d)) => {
                for r in ranges {
                    inbound.entry(d).or_default().push((*r, conns));
                    starts.insert(r.start);
                    starts.extend(r.end.checked_add(1));
                }
            }
            (NcaPeer::Workload(s), NcaPeer::Addresses(ranges)) => {
                for r in ranges {
                    outbound.entry(s).or_default().push((*r, conns));
                    starts.insert(r.start);
                    starts.extend(r.end.checked_add(1));
                }
            }
            (NcaPeer::Addresses(_), NcaPeer::Addresses(_)) => problems.push(format!("nca lists addresses to addresses: {src:?}")),
        }
    }
    for part in engine.ingress_ips.parts().iter().chain(engine.egress_ips.parts()) {
        starts.insert(part.start);
        starts.extend(part.end.checked_add(1));
    }

    // Every ordered pair of workloads.
    let none = ConnSet::none();
    let mut pairs = 0;
    let mut allowed_pairs = 0;
    let mut open_pairs = 0;
    for (s_name, &s_class) in &workloads {
        for (d_name, &d_class) in &workloads {
            if s_name == d_name {
                continue;
            }
            pairs += 1;
            let ours = engine.allowed(Endpoint::Class(s_class), Endpoint::Class(d_class));
            let theirs = nca_pairs.get(&(s_name.as_str(), d_name.as_str())).copied().unwrap_or(&none);
            allowed_pairs += usize::from(!ours.is_empty());
            open_pairs += usize::from(ours.is_all());
            if &ours != theirs {
                problems.push(format!(
                    "{s_name} => {d_name}: netdoctor {ours}, nca {theirs} (first difference: {})",
                    first_difference(&ours, theirs)
                ));
            }
        }
    }

    // Outside addresses at every range start of either tool, both directions.
    let at = |list: Option<&Vec<(Ipv4Range, &ConnSet)>>, addr: u32| {
        let mut conns = ConnSet::none();
        for (r, c) in list.into_iter().flatten() {
            if r.start <= addr && addr <= r.end {
                conns.add_all(c);
            }
        }
        conns
    };
    let mut address_checks = 0;
    for (w_name, &class) in &workloads {
        for &addr in &starts {
            let ext = Endpoint::External(Ipv4Range { start: addr, end: addr });
            let shown = Ipv4Addr::from(addr);
            address_checks += 2;
            let (ours, theirs) = (engine.allowed(ext, Endpoint::Class(class)), at(inbound.get(w_name.as_str()), addr));
            if ours != theirs {
                problems.push(format!(
                    "{shown} => {w_name}: netdoctor {ours}, nca {theirs} (first difference: {})",
                    first_difference(&ours, &theirs)
                ));
            }
            let (ours, theirs) = (engine.allowed(Endpoint::Class(class), ext), at(outbound.get(w_name.as_str()), addr));
            if ours != theirs {
                problems.push(format!(
                    "{w_name} => {shown}: netdoctor {ours}, nca {theirs} (first difference: {})",
                    first_difference(&ours, &theirs)
                ));
            }
        }
    }

    // A case where policies leave every pair open, or close every pair, tells nothing.
    if allowed_pairs == 0 || open_pairs == pairs {
        problems.push(format!("{allowed_pairs} of {pairs} pairs allowed, {open_pairs} fully open: the case tells nothing"));
    }
    if problems.is_empty() {
        Ok(format!(
            "{} workloads, {pairs} pairs ({allowed_pairs} allowed, {open_pairs} fully open), {address_checks} address verdicts, {} nca lines merged",
            workloads.len(),
            nca.len()
        ))
    } else {
        let total = problems.len();
        problems.truncate(SHOWN);
        Err(format!("{total} difference(s), e.g.:\n    {}", problems.join("\n    ")))
    }
}

#[test]
fn nca_parsing() {
    let got = parse_conns("{protocols:TCP, UDP,dst_ports:53},{protocols:TCP,dst_ports:8000-8002,9090},{protocols:SCTP}");
    let mut want = ConnSet::of(Protocol::Udp, PortSet::single(53));
    want.add(Protocol::Tcp, &PortSet::single(53).union(&PortSet::range(8000, 8002)).union(&PortSet::single(9090)));
    want.add(Protocol::Sctp, &PortSet::all());
    assert_eq!(got, Ok(want));
    assert_eq!(parse_conns("All connections"), Ok(ConnSet::all()));
    assert_eq!(
        parse_conns("All but {protocols:TCP,dst_ports:1-79,81-65535}"),
        Ok(ConnSet::all().subtract(&ConnSet::of(Protocol::Tcp, PortSet::range(1, 79).union(&PortSet::range(81, 65535)))))
    );
    assert!(parse_conns("{protocols:ICMP}").is_err());
    assert!(parse_conns("some connections").is_err());
    assert_eq!(
        parse_peer("10.0.0.0-10.0.0.255,10.1.0.0/16"),
        Ok(NcaPeer::Addresses(vec![
            Ipv4Range { start: 0x0a00_0000, end: 0x0a00_00ff },
            Ipv4Range { start: 0x0a01_0000, end: 0x0a01_ffff }
        ]))
    );
    assert_eq!(parse_peer("ns0/app1[Deployment]"), Ok(NcaPeer::Workload("ns0/app1[Deployment]".into())));
    let lines = "ns/a[Pod] => ns/b[Pod] : {protocols:SCTP,dst_ports:3868}\nns/a[Pod] => ns/b[Pod] : {protocols:TCP,dst_ports:80}\n";
    let parsed = parse_nca(lines).unwrap_or_default();
    let key = (NcaPeer::Workload("ns/a[Pod]".into()), NcaPeer::Workload("ns/b[Pod]".into()));
    let mut want = ConnSet::of(Protocol::Sctp, PortSet::single(3868));
    want.add(Protocol::Tcp, &PortSet::single(80));
    assert_eq!(parsed.get(&key), Some(&want));
}

#[test]
fn agrees_with_network_config_analyzer() {
    if !nca_available() {
        let reason = "Network Config Analyzer (`nca`) not on PATH; install it with `pip install network-config-analyzer`";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}; CI=true requires it");
        eprintln!("skipped: {reason}");
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let mut removed_total = vec![0; KNOWN_DIFFERENCES.len()];
    let mut failures = Vec::new();
    for (name, opts, changed) in cases() {
        let text = k8s_generate::cluster_with(&opts);
        let text = if changed { k8s_generate::changed(&text) } else { text };
        let (text, removed) = without_known_differences(&text);
        for (total, n) in removed_total.iter_mut().zip(removed) {
            *total += n;
        }
        match compare(name, &text, dir.path()) {
            Ok(summary) => println!("{name}: agree: {summary}"),
            Err(problems) => failures.push(format!("{name}: {problems}")),
        }
    }
    for ((marker, reason), removed) in KNOWN_DIFFERENCES.iter().zip(&removed_total) {
        if *removed == 0 {
            failures.push(format!("known difference {marker:?} ({reason}) no longer occurs in the input: remove it"));
        }
    }
    assert!(failures.is_empty(), "netdoctor and nca disagree:\n{}", failures.join("\n"));
}

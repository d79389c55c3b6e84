//! What the differential tests against Network Config Analyzer (`nca`, PyPI package
//! `network-config-analyzer`) share: running it with a time bound, reading its
//! `txt_no_fw_rules` lines, and comparing them with netdoctor's engine, pair by pair and
//! for outside addresses at every split point.
//!
//! Used by `nca_differential.rs` (Kubernetes NetworkPolicies) and
//! `nca_calico_differential.rs` (Calico policies mixed with them), each with `mod nca;`.
#![allow(dead_code)] // each test uses its own part

use netdoctor_engine::policy::{ConnSet, Endpoint, IcmpSet, Ipv4Range, PolicyEngine, PortSet, PROTOCOLS};
use netdoctor_model::Protocol;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A generous bound for one `nca` run on these small inputs (a few seconds each).
pub const NCA_TIMEOUT: Duration = Duration::from_secs(120);

pub fn nca_available() -> bool {
    Command::new("nca").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Skips (with the reason on stderr) when `nca` is missing; under CI=true that fails.
/// True when the caller should go on.
pub fn require_nca() -> bool {
    if nca_available() {
        return true;
    }
    let reason = "Network Config Analyzer (`nca`) not on PATH; install it with `pip install network-config-analyzer`";
    crate::skip::skip("Network Config Analyzer differential", reason);
    false
}

/// One finished `nca` run.
#[derive(Debug)]
pub struct NcaRun {
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `nca --connectivity -r FILE -o txt_no_fw_rules` on `file` in `dir`, bounded by
/// `NCA_TIMEOUT`; panics when it fails or times out.
pub fn run_nca(file: &Path, dir: &Path) -> NcaRun {
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
    let elapsed = start.elapsed();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(status.success(), "nca failed on {} ({status}):\n{stderr}", file.display());
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_else(|e| panic!("reading {}: {e}", out_path.display()));
    NcaRun { stdout, stderr, elapsed }
}

/// How strictly `nca`'s output is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Only what Kubernetes NetworkPolicies can produce: TCP, UDP and SCTP, IPv4 peers.
    /// Anything else is an error.
    Kubernetes,
    /// Calico rules also reach ICMP (by type and code), other IP protocols and IPv6
    /// (`notNets` alone makes `nca` print IPv6 ranges). netdoctor's connection sets hold
    /// TCP, UDP, SCTP and ICMP, so other protocols are dropped from each set (the sets
    /// are compared on what both model) and lines with an IPv6 peer are skipped. Source
    /// ports stay an error.
    Calico,
}

/// One end of an `nca` line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum NcaPeer {
    Workload(String),
    Addresses(Vec<Ipv4Range>),
}

pub fn parse_ip(s: &str) -> Result<u32, String> {
    s.trim().parse::<Ipv4Addr>().map(u32::from).map_err(|e| format!("bad address {s:?}: {e}"))
}

/// `ns/name[Kind]`, or address ranges: `a.b.c.d-e.f.g.h`, `a.b.c.d/n` or one address,
/// comma-separated.
pub fn parse_peer(s: &str) -> Result<NcaPeer, String> {
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

/// An IPv6 peer (`::-ffff:…`, `2001:db8::/32`): a colon and no `ns/name[Kind]` form.
fn is_ipv6_peer(s: &str) -> bool {
    let s = s.trim();
    s.contains(':') && !s.ends_with(']')
}

pub fn parse_protocol(s: &str) -> Result<Protocol, String> {
    match s.trim() {
        "TCP" => Ok(Protocol::Tcp),
        "UDP" => Ok(Protocol::Udp),
        "SCTP" => Ok(Protocol::Sctp),
        other => Err(format!("unknown protocol {other:?}")),
    }
}

/// `All connections`, `All but {…}`, or groups `{protocols:TCP, UDP,dst_ports:53,80-90}`
/// (no `dst_ports`: every port), read as Kubernetes policies produce them.
pub fn parse_conns(s: &str) -> Result<ConnSet, String> {
    parse_conns_with(s, Dialect::Kubernetes)
}

/// `parse_conns` in `dialect`.
pub fn parse_conns_with(s: &str, dialect: Dialect) -> Result<ConnSet, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all connections") {
        return Ok(ConnSet::all());
    }
    if dialect == Dialect::Calico && s.eq_ignore_ascii_case("no connections") {
        return Ok(ConnSet::none());
    }
    if let Some(rest) = s.strip_prefix("All but ") {
        return Ok(ConnSet::all().subtract(&parse_conns_with(rest, dialect)?));
    }
    let inner = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).ok_or_else(|| format!("unknown connections {s:?}"))?;
    let mut conns = ConnSet::none();
    for group in inner.split("},{") {
        // Fields are `key:value`, comma-separated; a value may itself hold commas
        // (`TCP, UDP`, `53,80-90`), so a piece without a key continues the field before.
        let mut fields: Vec<(&str, Vec<&str>)> = Vec::new();
        for piece in group.split(',') {
            match (piece.split_once(':'), fields.last_mut()) {
                (Some((key, value)), _) if !key.trim().is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    fields.push((key, vec![value]))
                }
                (_, Some((_, values))) => values.push(piece),
                (_, None) => return Err(format!("unknown connection group {group:?}")),
            }
        }
        let mut protocols = None;
        let mut ports = PortSet::all();
        let mut icmp_types: Option<Vec<(u8, u8)>> = None;
        let mut icmp_codes: Option<Vec<(u8, u8)>> = None;
        for (key, values) in &fields {
            match *key {
                "protocols" => protocols = Some(values),
                "dst_ports" => {
                    ports = PortSet::empty();
                    for item in values {
                        let (a, b) = item.split_once('-').unwrap_or((item, item));
                        let port = |p: &str| p.trim().parse::<u16>().map_err(|e| format!("bad port {p:?} in {s:?}: {e}"));
                        ports = ports.union(&PortSet::range(port(a)?, port(b)?));
                    }
                }
                "icmp_type" | "icmp_code" if dialect == Dialect::Calico => {
                    let mut ranges = Vec::new();
                    for item in values {
                        let (a, b) = item.split_once('-').unwrap_or((item, item));
                        let n = |v: &str| v.trim().parse::<u8>().map_err(|e| format!("bad ICMP {key} {v:?} in {s:?}: {e}"));
                        ranges.push((n(a)?, n(b)?));
                    }
                    if *key == "icmp_type" {
                        icmp_types = Some(ranges);
                    } else {
                        icmp_codes = Some(ranges);
                    }
                }
                other => return Err(format!("unknown connection field {other:?} in {group:?}")),
            }
        }
        let protocols = protocols.ok_or_else(|| format!("unknown connection group {group:?}"))?;
        let icmp_fields = icmp_types.is_some() || icmp_codes.is_some();
        for protocol in protocols.iter() {
            match (parse_protocol(protocol), dialect) {
                (Ok(p), _) if !icmp_fields => conns.add(p, &ports),
                (Ok(p), _) => return Err(format!("ICMP fields on {p:?} in {group:?}")),
                (Err(_), Dialect::Calico) if protocol.trim() == "ICMP" => {
                    // Every code of the listed types (all when not listed), or the listed codes.
                    let mut set = IcmpSet::empty();
                    for (t1, t2) in icmp_types.clone().unwrap_or(vec![(0, 255)]) {
                        for t in t1..=t2 {
                            match &icmp_codes {
                                None => set = set.union(&IcmpSet::of_type(t)),
                                Some(codes) => {
                                    for &(c1, c2) in codes {
                                        for c in c1..=c2 {
                                            set = set.union(&IcmpSet::message(t, c));
                                        }
                                    }
                                }
                            }
                        }
                    }
                    conns.add_icmp(&set);
                }
                (Err(_), Dialect::Calico) => {} // GRE, UDPLite, numbers: not modelled
                (Err(e), Dialect::Kubernetes) => return Err(e),
            }
        }
    }
    Ok(conns)
}

/// What `nca` allows, per (source, destination).
pub type NcaMap = BTreeMap<(NcaPeer, NcaPeer), ConnSet>;

/// `SRC => DST : CONNS` lines, read as Kubernetes policies produce them; the same pair
/// may come on several lines (one per protocol group), so they are merged.
pub fn parse_nca(text: &str) -> Result<NcaMap, String> {
    parse_nca_with(text, Dialect::Kubernetes)
}

/// `parse_nca` in `dialect`.
pub fn parse_nca_with(text: &str, dialect: Dialect) -> Result<NcaMap, String> {
    let mut out: NcaMap = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains(" => ")) {
        let (src, rest) = line.split_once(" => ").ok_or_else(|| format!("unknown line {line:?}"))?;
        let (dst, conns) = rest.split_once(" : ").ok_or_else(|| format!("unknown line {line:?}"))?;
        if dialect == Dialect::Calico && (is_ipv6_peer(src) || is_ipv6_peer(dst)) {
            continue;
        }
        let key = (parse_peer(src)?, parse_peer(dst)?);
        let conns = parse_conns_with(conns, dialect)?;
        out.entry(key).or_default().add_all(&conns);
    }
    Ok(out)
}

/// The first port where `a` and `b` differ, as `TCP 8080` (or the ICMP messages).
pub fn first_difference(a: &ConnSet, b: &ConnSet) -> String {
    let diff = a.subtract(b).union(&b.subtract(a));
    PROTOCOLS
        .iter()
        .find_map(|p| diff.ports(*p).ranges().next().map(|r| format!("{p:?} {}", r.start).to_uppercase()))
        .or_else(|| (!diff.icmp().is_empty()).then(|| format!("ICMP {}", diff.icmp())))
        .unwrap_or_else(|| "nothing".to_string())
}

/// `c` on what both tools model: nca's ICMP types are 0-254 (Calico's range), so type
/// 255, which netdoctor's sets also hold, is left out of the comparison.
pub fn comparable(c: &ConnSet) -> ConnSet {
    c.subtract(&ConnSet::of_icmp(IcmpSet::of_type(255)))
}

/// `text` (multi-document YAML) without the documents that contain one of `known`'s
/// markers; how many each marker removed.
pub fn without_known_differences(text: &str, known: &[(&str, &str)]) -> (String, Vec<usize>) {
    let mut removed = vec![0; known.len()];
    let mut kept = String::with_capacity(text.len());
    for doc in text.split("---\n").filter(|d| !d.trim().is_empty()) {
        let hit = known.iter().position(|(marker, _)| doc.contains(marker));
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

/// The outcome of comparing `nca`'s lines with the engine.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Each difference, or a line `nca` printed that netdoctor cannot place.
    pub problems: Vec<String>,
    pub workloads: usize,
    pub pairs: usize,
    pub allowed_pairs: usize,
    pub open_pairs: usize,
    pub address_checks: usize,
}

impl Comparison {
    /// A case where policies leave every pair open, or close every pair, tells nothing.
    pub fn tells_nothing(&self) -> bool {
        self.allowed_pairs == 0 || self.open_pairs == self.pairs
    }

    pub fn summary(&self, nca_lines: usize) -> String {
        format!(
            "{} workloads, {} pairs ({} allowed, {} fully open), {} address verdicts, {nca_lines} nca lines merged",
            self.workloads, self.pairs, self.allowed_pairs, self.open_pairs, self.address_checks
        )
    }
}

/// Compares `nca` with `engine`, exactly:
/// - every ordered pair of distinct workloads: the allowed set must be the same;
/// - addresses outside the cluster, in both directions per workload, at every address
///   where either tool's split of the address space starts a new range (all verdicts are
///   constant between those);
/// - every peer `nca` names must be one netdoctor knows.
pub fn compare_with_engine(engine: &PolicyEngine, nca: &NcaMap) -> Comparison {
    let workloads: BTreeMap<String, usize> = engine.workloads.iter().map(|w| (w.name(), w.class)).collect();
    let mut cmp = Comparison { workloads: workloads.len(), ..Comparison::default() };
    let problems = &mut cmp.problems;
    let mut nca_pairs: BTreeMap<(&str, &str), &ConnSet> = BTreeMap::new();
    // Addresses outside the cluster, per workload: (address range, what nca allows) in
    // each direction.
    let mut inbound: BTreeMap<&str, Vec<(Ipv4Range, &ConnSet)>> = BTreeMap::new();
    let mut outbound: BTreeMap<&str, Vec<(Ipv4Range, &ConnSet)>> = BTreeMap::new();
    let mut starts: BTreeSet<u32> = BTreeSet::from([0]);
    for ((src, dst), conns) in nca {
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
    for (s_name, &s_class) in &workloads {
        for (d_name, &d_class) in &workloads {
            if s_name == d_name {
                continue;
            }
            cmp.pairs += 1;
            let ours = comparable(&engine.allowed(Endpoint::Class(s_class), Endpoint::Class(d_class)));
            let theirs = &comparable(nca_pairs.get(&(s_name.as_str(), d_name.as_str())).copied().unwrap_or(&none));
            cmp.allowed_pairs += usize::from(!ours.is_empty());
            cmp.open_pairs += usize::from(ours == comparable(&ConnSet::all()));
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
    for (w_name, &class) in &workloads {
        for &addr in &starts {
            let ext = Endpoint::External(Ipv4Range { start: addr, end: addr });
            let shown = Ipv4Addr::from(addr);
            cmp.address_checks += 2;
            let (ours, theirs) =
                (comparable(&engine.allowed(ext, Endpoint::Class(class))), comparable(&at(inbound.get(w_name.as_str()), addr)));
            if ours != theirs {
                problems.push(format!(
                    "{shown} => {w_name}: netdoctor {ours}, nca {theirs} (first difference: {})",
                    first_difference(&ours, &theirs)
                ));
            }
            let (ours, theirs) =
                (comparable(&engine.allowed(Endpoint::Class(class), ext)), comparable(&at(outbound.get(w_name.as_str()), addr)));
            if ours != theirs {
                problems.push(format!(
                    "{w_name} => {shown}: netdoctor {ours}, nca {theirs} (first difference: {})",
                    first_difference(&ours, &theirs)
                ));
            }
        }
    }
    cmp
}

//! `netdoctor why A B --port P`: one flow walked through the five troubleshooting
//! layers of RULES.md (attachment, IP, DNS, policy, firewall), then whether anything
//! listens on B. Each layer gets a status from the model and the engine's analysis,
//! the evidence it rests on, the IDs of the findings that concern the pair, and a fix;
//! the first failing layer explains the verdict. Probes (`--probe`) add what they
//! observed with `Why::confirm`. Pure: no I/O.

pub mod k8s;
pub mod live;

use netdoctor_engine::firewall::{Decider, Endpoint, Flow, VerdictKind};
use netdoctor_engine::{NetId, Resolution, Stack};
use netdoctor_model::docker::Live;
use netdoctor_model::host::IpProto;
use netdoctor_model::{Model, Workload};
use netdoctor_rules::{Diagnostic, RuleContext, Severity};
use serde::Serialize;
use std::net::IpAddr;

/// The address embedded DNS listens on inside every container of a user-defined network.
pub const EMBEDDED_DNS: &str = "127.0.0.11";

/// What a layer concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Does not apply to this flow (no lookup when B is addressed by IP).
    Skip,
    /// Cannot be known from the configuration (or was not read).
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Unknown => "unknown",
        }
    }
}

/// The answer to "can A reach B on P".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allowed,
    Denied,
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Denied => "denied",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One layer's result, as RULES.md's `why` JSON shape has it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub layer: u8,
    pub name: &'static str,
    pub status: Status,
    pub evidence: Vec<String>,
    pub rules: Vec<&'static str>,
    /// Omitted when there is nothing to fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Step {
    fn new(layer: u8, name: &'static str) -> Step {
        Step { layer, name, status: Status::Unknown, evidence: Vec::new(), rules: Vec::new(), fix: None }
    }

    fn set(&mut self, status: Status, evidence: impl Into<String>) {
        self.status = status;
        self.evidence.push(evidence.into());
    }

    /// Fails the step; the reason leads the evidence, so it is what a reader sees first.
    fn fail(&mut self, evidence: impl Into<String>, fix: impl Into<String>) {
        self.status = Status::Fail;
        self.evidence.insert(0, evidence.into());
        if self.fix.is_none() {
            self.fix = Some(fix.into());
        }
    }
}

/// Whether something accepts connections on B's port: not a network layer, but the last
/// thing a connection needs.
#[derive(Debug, Clone, Serialize)]
pub struct Listener {
    pub status: Status,
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// What `--port` asks about: a transport port (`tcp/5432`) or an ICMP message (`icmp`).
pub use netdoctor_engine::policy::Conn as PortSpec;

/// The whole explanation, serialized as RULES.md's `why` shape (plus `listener`).
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub version: u32,
    pub from: String,
    pub to: String,
    /// `tcp/5432`, or `any` when no port was given.
    pub port: String,
    pub verdict: Verdict,
    pub steps: Vec<Step>,
    pub listener: Listener,
    /// The containers' workloads `from` and `to` name, for probing; `None` for
    /// Kubernetes workloads, which are not probed.
    #[serde(skip)]
    pub containers: Option<ContainerEnds>,
}

/// The two workloads of a flow between containers, as indices into `Model::workloads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerEnds {
    pub from: usize,
    pub to: usize,
}

impl Why {
    /// The five layers of a flow, not yet walked.
    pub(crate) fn layers() -> Vec<Step> {
        vec![Step::new(1, "attachment"), Step::new(2, "ip"), Step::new(3, "dns"), Step::new(4, "policy"), Step::new(5, "firewall")]
    }

    /// The explanation of a walked flow, with its verdict settled from the steps and the
    /// listener.
    pub(crate) fn settled(
        (from, to): (&str, &str),
        port: Option<PortSpec>,
        steps: Vec<Step>,
        listener: Listener,
        containers: Option<ContainerEnds>,
    ) -> Why {
        let mut why = Why {
            version: 1,
            from: from.to_string(),
            to: to.to_string(),
            port: port.map_or_else(|| "any".to_string(), |p| p.to_string()),
            verdict: Verdict::Unknown,
            steps,
            listener,
            containers,
        };
        why.settle();
        why
    }

    /// The first failing layer, which explains a `denied` verdict (else the listener does).
    pub fn first_failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == Status::Fail)
    }

    /// Recomputes the verdict from the steps: the first failure denies; all passing
    /// (or not applying) allows; anything unknown leaves it unknown.
    pub fn settle(&mut self) {
        let all = self.steps.iter().map(|s| s.status).chain(std::iter::once(self.listener.status));
        let statuses: Vec<Status> = all.collect();
        self.verdict = if statuses.contains(&Status::Fail) {
            Verdict::Denied
        } else if statuses.iter().all(|s| matches!(s, Status::Pass | Status::Skip)) {
            Verdict::Allowed
        } else {
            Verdict::Unknown
        };
    }

    /// Adds what a probe observed on `layer` (6 for the listener). A probe's result
    /// overrides the configuration's: it is what happens now; a disagreement is said.
    pub fn confirm(&mut self, layer: u8, observed: Status, evidence: impl Into<String>, fix: Option<String>) {
        let evidence = format!("probe: {}", evidence.into());
        if layer == 6 {
            self.listener.status = observed;
            self.listener.evidence.push(evidence);
            if observed == Status::Fail && fix.is_some() {
                self.listener.fix = fix;
            }
        } else if let Some(step) = self.steps.iter_mut().find(|s| s.layer == layer) {
            let configured = step.status;
            if matches!((configured, observed), (Status::Pass, Status::Fail) | (Status::Fail, Status::Pass)) {
                step.evidence.push(format!(
                    "live behaviour differs from the configuration, which says {}",
                    if configured == Status::Pass { "it should work" } else { "it should fail" }
                ));
            }
            if observed != Status::Unknown {
                step.status = observed;
            }
            step.evidence.push(evidence);
            // The configuration's own fix is the more specific one when both say fail.
            if observed == Status::Fail && (configured != Status::Fail || step.fix.is_none()) {
                if let Some(f) = fix {
                    step.fix = Some(f);
                }
            }
        }
        self.settle();
    }
}

/// Why `from` cannot be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NotFound {
    pub message: String,
}

/// Finds the workload a user means: a service or container name, `project/service`,
/// a container's name, or a container ID prefix.
pub fn find_workload(model: &Model, name: &str) -> Result<usize, NotFound> {
    let (project, bare) = match name.split_once('/') {
        Some((p, s)) => (Some(p), s),
        None => (None, name),
    };
    let matches = |w: &Workload| {
        project.is_none_or(|p| w.project.as_deref() == Some(p))
            && (w.name == bare
                || w.container_name.as_ref().is_some_and(|c| c.value == bare)
                || w.live
                    .as_ref()
                    .is_some_and(|l| l.containers.iter().any(|c| c.name == bare || (bare.len() >= 4 && c.id.starts_with(bare)))))
    };
    let found: Vec<usize> = model.workloads.iter().enumerate().filter(|(_, w)| matches(w)).map(|(i, _)| i).collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let mut names: Vec<&str> = model.workloads.iter().map(|w| w.name.as_str()).collect();
            names.sort_unstable();
            let close = names.iter().filter(|n| strsim::levenshtein(n, bare) <= 2).copied().collect::<Vec<_>>();
            let message = if close.is_empty() {
                format!("no container or service is called `{name}`; known: {}", names.join(", "))
            } else {
                format!("no container or service is called `{name}`; did you mean `{}`?", close.join("`, `"))
            };
            Err(NotFound { message })
        }
        many => {
            let which: Vec<String> = many
                .iter()
                .filter_map(|&i| model.workloads.get(i))
                .map(|w| w.project.as_ref().map_or_else(|| w.name.clone(), |p| format!("{p}/{}", w.name)))
                .collect();
            Err(NotFound { message: format!("`{name}` is ambiguous: {}; name it as project/service", which.join(", ")) })
        }
    }
}

/// Walks the layers for `from` reaching `to` (the name as A would use it).
pub fn explain(cx: &RuleContext<'_>, findings: &[Diagnostic], from: &str, to: &str, port: Option<PortSpec>) -> Result<Why, NotFound> {
    let a = find_workload(cx.model, from)?;
    let b = find_workload(cx.model, to)?;
    let (wa, wb) = match (cx.model.workloads.get(a), cx.model.workloads.get(b)) {
        (Some(wa), Some(wb)) => (wa, wb),
        _ => return Err(NotFound { message: "workload index out of range".into() }),
    };
    // The name A would look up: what the user typed, without a `project/` prefix.
    let lookup = to.rsplit('/').next().unwrap_or(to);
    let w = Walk { cx, a, b, wa, wb };
    let mut steps = Why::layers();
    let path = if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
        let path = w.attachment(s1);
        w.ip(s2, &path);
        w.dns(s3, &path, lookup);
        s4.set(Status::Skip, "Docker enforces no network policies between containers");
        w.firewall(s5, &path, port);
        path
    } else {
        Path::None
    };
    for step in &mut steps {
        w.cite(step, findings);
    }
    let listener = w.listener(&path, port);
    Ok(Why::settled((from, to), port, steps, listener, Some(ContainerEnds { from: a, to: b })))
}

/// How A's traffic gets to B, as layer 1 found it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Path {
    /// Over these networks they share.
    Networks(Vec<NetId>),
    /// Both in one network namespace: loopback.
    SameNamespace,
    /// One side uses the host's stack.
    ViaHost,
    /// No path.
    None,
}

struct Walk<'a, 'c> {
    cx: &'a RuleContext<'c>,
    a: usize,
    b: usize,
    wa: &'a Workload,
    wb: &'a Workload,
}

impl Walk<'_, '_> {
    fn owner(&self, w: usize) -> usize {
        match self.cx.analysis.topology.stack(w) {
            Stack::Shared(o) => *o,
            _ => w,
        }
    }

    fn net_name(&self, n: NetId) -> String {
        self.cx.analysis.topology.info(n).map_or_else(|| "?".into(), |i| i.name.clone())
    }

    fn nets_of(&self, w: usize) -> String {
        let nets: Vec<String> = self.cx.analysis.topology.networks_of(w).iter().map(|&n| self.net_name(n)).collect();
        if nets.is_empty() {
            "no network".into()
        } else {
            nets.join(", ")
        }
    }

    /// Layer 1: are both up, and do they share a network (or a namespace)?
    fn attachment(&self, step: &mut Step) -> Path {
        let (wa, wb) = (self.wa, self.wb);
        for (w, role) in [(wb, "the server"), (wa, "the client")] {
            if let Some(live) = &w.live {
                if !live.any_running() {
                    step.fail(format!("`{}` ({role}) {}", w.name, down(live)), start_fix(w, live));
                    return Path::None;
                }
                let running: Vec<String> = live.containers.iter().filter(|c| c.state.is_up()).map(|c| c.name.clone()).collect();
                step.evidence.push(format!("`{}` is running ({})", w.name, running.join(", ")));
            }
        }
        let topology = &self.cx.analysis.topology;
        if self.owner(self.a) == self.owner(self.b) {
            step.set(Status::Pass, format!("`{}` and `{}` share one network namespace: they talk over localhost", wa.name, wb.name));
            return Path::SameNamespace;
        }
        match (topology.stack(self.a), topology.stack(self.b)) {
            (_, Stack::None) => {
                step.fail(
                    format!("`{}` has no network (`network_mode: none`)", wb.name),
                    format!("give `{}` a network instead of `none`", wb.name),
                );
                return Path::None;
            }
            (Stack::None, _) => {
                step.fail(
                    format!("`{}` has no network (`network_mode: none`)", wa.name),
                    format!("give `{}` a network instead of `none`", wa.name),
                );
                return Path::None;
            }
            (Stack::Broken(why), _) | (_, Stack::Broken(why)) => {
                step.fail(format!("a `network_mode` cannot work: {why}"), "point `network_mode` at an existing service or container");
                return Path::None;
            }
            (Stack::External(name), _) | (_, Stack::External(name)) => {
                step.set(Status::Unknown, format!("a network namespace is shared with container `{name}`, which was not read"));
                return Path::None;
            }
            (Stack::Host, _) | (_, Stack::Host) => {
                let (host, other) = if matches!(topology.stack(self.a), Stack::Host) { (wa, wb) } else { (wb, wa) };
                step.set(
                    Status::Pass,
                    format!(
                        "`{}` uses the host's network stack; `{}` reaches it through the host (its network's gateway address)",
                        host.name, other.name
                    ),
                );
                return Path::ViaHost;
            }
            _ => {}
        }
        let shared = self.cx.analysis.shared_networks(self.a, self.b);
        if shared.is_empty() {
            step.fail(
                format!(
                    "`{}` and `{}` share no network: `{}` is on {}, `{}` is on {}",
                    wa.name,
                    wb.name,
                    wa.name,
                    self.nets_of(self.a),
                    wb.name,
                    self.nets_of(self.b)
                ),
                self.connect_fix(),
            );
            return Path::None;
        }
        let names: Vec<String> = shared.iter().map(|&n| self.net_name(n)).collect();
        step.set(Status::Pass, format!("both are on {}", names.join(", ")));
        Path::Networks(shared)
    }

    /// The fix for no shared network: a command for live containers, an edit for Compose.
    fn connect_fix(&self) -> String {
        let topology = &self.cx.analysis.topology;
        let Some(&net) = topology.networks_of(self.owner(self.b)).first() else {
            return format!("attach `{}` to a network and `{}` to the same one", self.wb.name, self.wa.name);
        };
        let name = self.net_name(net);
        if let Some(c) = self.wa.live_only_container() {
            return format!("connect `{}` to `{name}`: `docker network connect {name} {c}`", self.wa.name);
        }
        let key = self
            .cx
            .model
            .networks
            .iter()
            .find(|n| n.name == name && n.project == self.wa.project)
            .map_or_else(|| name.clone(), |n| n.key.clone());
        format!("add `{key}` to the `networks:` of `{}` (it is the network `{}` is on)", self.wa.name, self.wb.name)
    }

    /// Layer 2: does each side have an address on a shared network?
    fn ip(&self, step: &mut Step, path: &Path) {
        let nets = match path {
            Path::Networks(nets) => nets,
            Path::SameNamespace => return step.set(Status::Skip, "one namespace: no addressing between them"),
            Path::ViaHost => return step.set(Status::Pass, "the host's own addresses"),
            Path::None => return step.set(Status::Skip, "no shared network to address on"),
        };
        let mut any_ok = false;
        for &net in nets {
            let name = self.net_name(net);
            let subnets: Vec<String> = self.cx.analysis.addresses.of(net).map(|s| s.subnet.to_string()).collect();
            let subnet = if subnets.is_empty() { String::from("no subnet known") } else { subnets.join(", ") };
            match (self.address(self.a, &name), self.address(self.b, &name)) {
                (Some(x), Some(y)) => {
                    any_ok = true;
                    step.evidence.push(format!("on `{name}` ({subnet}): `{}` has {x}, `{}` has {y}", self.wa.name, self.wb.name));
                }
                // Read live, one side has no address there: it is not really attached.
                (_, b_addr) if self.wa.live.is_some() && self.wb.live.is_some() => {
                    let missing = if b_addr.is_none() { &self.wb.name } else { &self.wa.name };
                    step.evidence.push(format!("`{missing}` has no address on `{name}`"));
                }
                _ => {
                    any_ok = true;
                    step.evidence.push(format!("on `{name}` ({subnet}): addresses are assigned when the containers start"));
                }
            }
        }
        if any_ok {
            step.status = Status::Pass;
        } else {
            step.status = Status::Fail;
            step.fix = Some(format!("restart `{}` so it gets an address (`docker restart`)", self.wb.name));
        }
    }

    /// The address workload `w` (or the owner of its namespace) has on engine network `net`.
    fn address(&self, w: usize, net: &str) -> Option<IpAddr> {
        let live = self.cx.model.workloads.get(self.owner(w))?.live.as_ref()?;
        live.containers.iter().filter(|c| c.state.is_up()).find_map(|c| c.endpoint(net)?.ipv4.map(|n| n.addr()))
    }

    /// Layer 3: does the name A uses for B resolve, to B, from A?
    fn dns(&self, step: &mut Step, path: &Path, name: &str) {
        if name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok() {
            return step.set(Status::Skip, format!("`{name}` is an address: nothing to look up"));
        }
        if *path == Path::SameNamespace {
            return step.set(Status::Skip, format!("one namespace: `{}` reaches `{}` at localhost", self.wa.name, self.wb.name));
        }
        let (wa, wb) = (self.wa, self.wb);
        if let Some(live) = wb.live.as_ref().filter(|l| !l.any_running()) {
            return step.fail(
                format!("`{}` {}: the embedded DNS does not answer for a container that is not running", wb.name, down(live)),
                start_fix(wb, live),
            );
        }
        let own_b = |targets: &[usize]| targets.iter().any(|&t| t == self.b || self.owner(t) == self.owner(self.b));
        match self.cx.analysis.resolve(self.a, name) {
            Resolution::Resolved { targets, network } if own_b(&targets) => {
                step.set(Status::Pass, format!("`{name}` resolves on `{}` through the embedded DNS ({EMBEDDED_DNS})", self.net_name(network)));
                if targets.len() > 1 {
                    step.evidence.push(format!("`{name}` has {} answers: clients pick one at random", targets.len()));
                }
            }
            Resolution::Resolved { targets, network } => {
                let who: Vec<&str> = targets.iter().filter_map(|&t| self.cx.model.workloads.get(t)).map(|w| w.name.as_str()).collect();
                step.fail(
                    format!("`{name}` on `{}` answers for `{}`, not `{}`", self.net_name(network), who.join("`, `"), wb.name),
                    format!("use a name only `{}` answers to (its service or container name)", wb.name),
                );
            }
            Resolution::NoEmbeddedDns { network, .. } => step.fail(
                format!("`{}` is Docker's predefined bridge, which has no DNS: `{name}` does not resolve from `{}`", self.net_name(network), wa.name),
                match (wa.live_only_container(), wb.live_only_container()) {
                    (Some(x), Some(y)) => format!("put both on a user-defined network: `docker network create NET`, `docker network connect NET {x}`, `docker network connect NET {y}`"),
                    _ => format!("remove `network_mode: bridge` so `{}` and `{}` join a network with DNS", wa.name, wb.name),
                },
            ),
            Resolution::NotShared { .. } => step.fail(
                format!("`{name}` is served only on networks `{}` is not on", wa.name),
                self.connect_fix(),
            ),
            Resolution::HostnameOnly(_) => step.fail(
                format!("`{name}` is only a `hostname:`, which Docker's DNS does not serve to other containers"),
                format!("use the service or container name of `{}`, or add `{name}` as a network alias", wb.name),
            ),
            Resolution::NoContainerDns { .. } => step.fail(
                format!("`{}` uses the {} network stack, where container names do not resolve", wa.name, if wa.is_host_network() { "host's" } else { "`none`" }),
                format!("reach `{}` through a port it publishes on the host", wb.name),
            ),
            Resolution::Unknown { suggestion } => {
                let owner_name = self.cx.model.workloads.get(self.owner(self.b)).map_or("", |w| w.name.as_str());
                let shares_stack = self.owner(self.b) != self.b;
                let why = if shares_stack {
                    format!("`{}` shares the network namespace of `{owner_name}` and has no DNS name of its own", wb.name)
                } else {
                    format!("nothing answers to `{name}` on the networks of `{}`", wa.name)
                };
                let fix = match (shares_stack, suggestion) {
                    (true, _) => format!("use the name of `{owner_name}`, whose namespace `{}` shares", wb.name),
                    (false, Some(s)) => format!("did you mean `{s}`?"),
                    (false, None) => format!("use the service or container name of `{}`", wb.name),
                };
                step.fail(why, fix);
            }
            Resolution::Local => step.set(Status::Pass, format!("`{name}` is local to `{}`", wa.name)),
            Resolution::Literal(ip) => step.set(Status::Skip, format!("`{ip}` is an address")),
            Resolution::ExtraHost => step.set(Status::Pass, format!("`{name}` is an `extra_hosts` entry of `{}`", wa.name)),
            Resolution::Link(_) => step.set(Status::Pass, format!("`{name}` is a link of `{}` (an /etc/hosts line)", wa.name)),
            Resolution::External => step.set(Status::Unknown, format!("`{name}` is not a container name: upstream DNS decides")),
        }
        for server in wa.dns.iter().filter(|s| s.value.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())) {
            step.evidence.push(format!(
                "`{}` sends the names Docker does not know to {}, a loopback address inside the container: other lookups fail",
                wa.name, server.value
            ));
        }
    }

    /// Layer 5: does the bridge (ICC) or the host's firewall let it through?
    fn firewall(&self, step: &mut Step, path: &Path, port: Option<PortSpec>) {
        let nets = match path {
            Path::Networks(nets) => nets,
            Path::SameNamespace => return step.set(Status::Skip, "one namespace: traffic stays on loopback"),
            Path::ViaHost => return step.set(Status::Unknown, "through the host: its INPUT rules decide, and they were not read"),
            Path::None => return step.set(Status::Skip, "no path to filter"),
        };
        let allowing: Vec<NetId> = nets.iter().copied().filter(|&n| !self.cx.analysis.icc_off(n)).collect();
        for &n in nets.iter().filter(|&&n| self.cx.analysis.icc_off(n)) {
            step.evidence.push(format!(
                "inter-container traffic is disabled on `{}` (com.docker.network.bridge.enable_icc=false)",
                self.net_name(n)
            ));
        }
        if allowing.is_empty() {
            let names: Vec<String> = nets.iter().map(|&n| self.net_name(n)).collect();
            step.status = Status::Fail;
            step.fix = Some(format!(
                "remove `com.docker.network.bridge.enable_icc` from `{}` (recreate the network), or connect both to a network that allows it",
                names.join("`, `")
            ));
            return;
        }
        for &n in &allowing {
            if self.cx.analysis.topology.info(n).is_some_and(|i| i.internal) {
                step.evidence.push(format!("`{}` is internal: nothing leaves it, but its containers reach each other", self.net_name(n)));
            }
        }
        let Some(host) = &self.cx.analysis.host else {
            step.set(
                Status::Unknown,
                "Docker's bridge allows it; the host firewall (DOCKER-USER, FORWARD) was not read: `--probe` tests the path".to_string(),
            );
            return;
        };
        let mut verdicts = Vec::new();
        let mut native: Option<String> = None;
        for &n in &allowing {
            let (Some(bridge), Some(src), Some(dst)) =
                (host.bridge(n), self.address(self.a, &self.net_name(n)), self.address(self.b, &self.net_name(n)))
            else {
                continue;
            };
            let (Ok(src), Ok(dst)) = (
                ipnet::IpNet::new(src, if src.is_ipv4() { 32 } else { 128 }),
                ipnet::IpNet::new(dst, if dst.is_ipv4() { 32 } else { 128 }),
            ) else {
                continue;
            };
            let (proto, dst_port) = port.map_or((IpProto::Tcp, None), |p| p.firewall_match());
            let flow = Flow::new(proto, Endpoint::remote(src), Endpoint::remote(dst), dst_port)
                .entering(bridge.iface.clone())
                .leaving(bridge.iface.clone())
                .bridged();
            let trace = host.trace(&flow);
            let decided = trace.verdict.decided_by.as_ref().map_or_else(|| "several rules".to_string(), ToString::to_string);
            step.evidence.push(format!("host firewall on `{}`: {} by {decided}", self.net_name(n), trace.verdict.kind.as_str()));
            native = native.or(match &trace.verdict.decided_by {
                Some(Decider::Rule(r)) => r.handle.map(|h| format!("`nft delete rule {} {} handle {h}`", r.table, r.chain)),
                Some(Decider::Policy(p)) if p.backend == netdoctor_model::host::Backend::Nftables => {
                    Some(format!("an accept in nftables chain `{} {}` before its drop policy", p.table, p.chain))
                }
                _ => None,
            });
            verdicts.push(trace.verdict.kind);
        }
        step.status = if verdicts.contains(&VerdictKind::Accept) {
            Status::Pass
        } else if !verdicts.is_empty() && verdicts.iter().all(|v| v.is_blocked()) {
            step.fix = Some(match native {
                // Docker's DOCKER-USER cannot override a native nftables chain.
                Some(fix) => format!("the drop is in native nftables, not iptables: {fix}"),
                None => "allow the flow in DOCKER-USER (or remove the rule that drops it)".into(),
            });
            Status::Fail
        } else {
            Status::Unknown
        };
    }

    /// Whether B declares the port; whether anything listens is only known by probing.
    fn listener(&self, path: &Path, port: Option<PortSpec>) -> Listener {
        let mut l = Listener { status: Status::Skip, evidence: Vec::new(), fix: None };
        let Some(port) = port else {
            l.evidence.push("no port asked about".into());
            return l;
        };
        if *path == Path::None {
            l.evidence.push("not reachable: nothing to listen for".into());
            return l;
        }
        let Some((protocol, number)) = port.port() else {
            l.evidence.push(icmp_listener_note(port));
            return l;
        };
        l.status = Status::Unknown;
        let wb = self.wb;
        let declared = wb.expose.iter().any(|e| e.value.contains(number))
            || wb.ports.iter().any(|p| p.target.contains(number) && p.protocol == protocol);
        if declared {
            l.evidence.push(format!("`{}` declares {port} (exposed or published)", wb.name));
        } else {
            l.evidence.push(format!("`{}` declares no {port}: check the port its server listens on", wb.name));
        }
        l.evidence.push("whether a process listens is only known by probing (`--probe`)".into());
        l
    }

    /// Adds the IDs (and, for failing layers without a fix, the fix) of the findings
    /// about this pair that belong to the step's layer.
    fn cite(&self, step: &mut Step, findings: &[Diagnostic]) {
        let (a, b) = (self.wa.name.as_str(), self.wb.name.as_str());
        for f in findings {
            let Some(family) = f.id.as_bytes().get(2).map(|d| d - b'0') else { continue };
            if family != step.layer {
                continue;
            }
            let has = |n: &str| f.subjects.iter().any(|s| s == n);
            let pair = has(a) && has(b);
            let about_client = f.subjects.len() == 1 && has(a) && matches!(family, 1 | 3);
            let about_server = f.subjects.len() == 1 && has(b) && family == 1;
            if !(pair || about_client || about_server) {
                continue;
            }
            if !step.rules.contains(&f.id) {
                step.rules.push(f.id);
            }
            if step.status == Status::Fail && step.fix.is_none() && f.severity == Severity::Error {
                step.fix = Some(f.help.clone());
            }
        }
    }
}

/// What stands in for a listener when the question is ICMP.
pub(crate) fn icmp_listener_note(conn: PortSpec) -> String {
    match conn {
        PortSpec::Icmp { icmp_type: netdoctor_engine::policy::ECHO_REQUEST, .. } => {
            "no process listens for ICMP: the destination's kernel answers echo requests itself".into()
        }
        _ => "no process listens for ICMP".into(),
    }
}

/// `is exited (code 1)`, `has no container`.
fn down(live: &Live) -> String {
    match live.containers.as_slice() {
        [] => "has no container".into(),
        [c] => match c.exit_code {
            Some(code) if c.state.as_str() == "exited" => format!("is exited (code {code})"),
            _ if c.state.as_str() == "created" => "has never been started".to_string(),
            _ => format!("is {}", c.state),
        },
        many => {
            format!("has no running container ({})", many.iter().map(|c| format!("{} {}", c.name, c.state)).collect::<Vec<_>>().join(", "))
        }
    }
}

fn start_fix(w: &Workload, live: &Live) -> String {
    match live.containers.first() {
        Some(c) => format!("start it: `docker start {}`, and read `docker logs {}` for why it stopped", c.name, c.name),
        None => format!("create it: `docker compose up -d {}`", w.name),
    }
}

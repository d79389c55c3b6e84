//! `netdoctor why A B --port P`: one flow walked through the five troubleshooting
//! layers of RULES.md (attachment, IP, DNS, policy, firewall), then whether anything
//! listens on B. Each layer gets a status from the model and the engine's analysis,
//! the evidence it rests on, the IDs of the findings that concern the pair, and a fix;
//! the first failing layer explains the verdict. Probes (`--probe`) add what they
//! observed with `Why::confirm`. Pure: no I/O.

mod compose;
pub mod k8s;
pub mod live;

pub use compose::explain;

use netdoctor_engine::{Analysis, EngineConfig};
use netdoctor_model::{Model, Workload};
use netdoctor_rules::{RuleConfig, RuleContext, Selection};
use serde::Serialize;

/// `why FROM TO`: analyses the model, runs every rule (the walk cites their findings) and
/// walks the flow, through Kubernetes' layers when the model holds Kubernetes objects
/// and through Compose's and Docker's otherwise.
pub fn explain_model(model: &Model, from: &str, to: &str, port: Option<PortSpec>) -> Result<Why, NotFound> {
    let analysis = Analysis::new(model, &EngineConfig::default());
    let config = RuleConfig::default();
    let cx = RuleContext { model, analysis: &analysis, config: &config };
    // Only the rules a layer can cite: not the growth family (no layer of its own), nor
    // ND303, which the DNS layer decides itself with the same engine function.
    let cited = Selection { ignore: vec!["ND6".into(), "ND303".into()], ..Selection::default() };
    let findings = netdoctor_rules::run(&cx, &cited);
    if model.k8s.is_empty() {
        explain(&cx, &findings, from, to, port)
    } else {
        k8s::explain(&cx, &findings, from, to, port)
    }
}

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
        why.not_reached_after_failure();
        why.settle();
        why
    }

    /// Only the first failing layer is blamed: a later layer (or the listener) that would
    /// fail or cannot be decided is not reached by the flow, so it is `skip`, with what
    /// it found kept as evidence and no fix of its own. A later layer that passes still
    /// says so: it is a fact about the path.
    fn not_reached_after_failure(&mut self) {
        let Some(first) = self.steps.iter().position(|s| s.status == Status::Fail) else { return };
        let Some(failed) = self.steps.get(first).map(|s| format!("not reached: layer {} ({}) fails first", s.layer, s.name)) else {
            return;
        };
        let blamed = |status: Status| matches!(status, Status::Fail | Status::Unknown);
        for step in self.steps.iter_mut().skip(first + 1).filter(|s| blamed(s.status)) {
            step.status = Status::Skip;
            step.evidence.insert(0, failed.clone());
            step.fix = None;
        }
        if blamed(self.listener.status) {
            self.listener.status = Status::Skip;
            self.listener.evidence.insert(0, failed);
            self.listener.fix = None;
        }
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
        let configured = if layer == 6 {
            self.listener.status
        } else {
            self.steps.iter().find(|s| s.layer == layer).map_or(Status::Unknown, |s| s.status)
        };
        let live = match observed {
            Status::Unknown | Status::Skip => "",
            _ if observed == configured => " (confirmed live)",
            _ => " (observed live)",
        };
        let evidence = format!("probe: {}{live}", evidence.into());
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

    /// After probing: no line tells the user to probe any more (the hints the static
    /// walk leaves where only probing can tell).
    pub fn probed(&mut self) {
        let lines =
            self.steps.iter_mut().map(|s| (&mut s.evidence, &mut s.fix)).chain([(&mut self.listener.evidence, &mut self.listener.fix)]);
        for (evidence, fix) in lines {
            evidence.retain(|e| e != PROBE_TO_KNOW_LISTENER);
            for e in evidence.iter_mut() {
                *e = e.replace(PROBE_TESTS_PATH, "");
            }
            if let Some(f) = fix.as_mut() {
                *f = f.replace(OR_PROBE, "");
            }
        }
    }
}

/// The static walk's hints that probing would tell more; `Why::probed` removes them.
pub(crate) const PROBE_TESTS_PATH: &str = ": `--probe` tests the path";
pub(crate) const PROBE_TO_KNOW_LISTENER: &str = "whether a process listens is only known by probing (`--probe`)";
pub(crate) const OR_PROBE: &str = ", or test it live with --probe";

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

/// What stands in for a listener when the question is ICMP.
pub(crate) fn icmp_listener_note(conn: PortSpec) -> String {
    match conn {
        PortSpec::Icmp { icmp_type: netdoctor_engine::policy::ECHO_REQUEST, .. } => {
            "no process listens for ICMP: the destination's kernel answers echo requests itself".into()
        }
        _ => "no process listens for ICMP".into(),
    }
}

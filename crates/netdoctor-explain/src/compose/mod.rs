//! `netdoctor why A B` between Compose services or Docker containers, one file per
//! layer (`attachment`, `ip`, `dns`, `firewall`, `listener`; layer 4, policy, does not
//! apply: Docker enforces no network policies between containers).

mod attachment;
mod dns;
mod firewall;
mod ip;
mod listener;
mod outside;

use crate::{find_workload, icmp_listener_note, ContainerEnds, Listener, NotFound, PortSpec, Status, Step, Why, EMBEDDED_DNS};
use netdoctor_engine::firewall::{Decider, Endpoint, Flow, VerdictKind};
use netdoctor_engine::{NetId, Resolution, Stack};
use netdoctor_model::docker::Live;
use netdoctor_model::host::IpProto;
use netdoctor_model::Workload;
use netdoctor_rules::{Diagnostic, RuleContext, Severity};
use std::net::IpAddr;

/// Walks the layers for `from` reaching `to` (the name as A would use it).
pub fn explain(cx: &RuleContext<'_>, findings: &[Diagnostic], from: &str, to: &str, port: Option<PortSpec>) -> Result<Why, NotFound> {
    if let Some(client) = outside::outside_address(cx.model, from) {
        return outside::from_outside(cx, findings, (from, to), client, port);
    }
    if let Some(dst) = outside::outside_address(cx.model, to) {
        return outside::to_outside(cx, findings, (from, to), dst, port);
    }
    // An end given by a workload's own address is that workload (B is then reached by
    // address: no lookup).
    let a = match outside::workload_at(cx.model, from) {
        Some(a) => a,
        None => find_workload(cx.model, from)?,
    };
    let b = match outside::workload_at(cx.model, to) {
        Some(b) => b,
        None => find_workload(cx.model, to)?,
    };
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
    if let Some(first) = steps.first_mut() {
        for (text, workload) in [(to, wb), (from, wa)] {
            if text.parse::<IpAddr>().is_ok() {
                first.evidence.insert(0, format!("`{text}` is the address of `{}`", workload.name));
            }
        }
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

    /// The address workload `w` (or the owner of its namespace) has on engine network `net`.
    fn address(&self, w: usize, net: &str) -> Option<IpAddr> {
        let live = self.cx.model.workloads.get(self.owner(w))?.live.as_ref()?;
        live.containers.iter().filter(|c| c.state.is_up()).find_map(|c| c.endpoint(net)?.ipv4.map(|n| n.addr()))
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

fn start_fix(w: &Workload, live: &Live) -> String {
    match live.containers.first() {
        Some(c) => format!("start it: `docker start {}`, and read `docker logs {}` for why it stopped", c.name, c.name),
        None => format!("create it: `docker compose up -d {}`", w.name),
    }
}

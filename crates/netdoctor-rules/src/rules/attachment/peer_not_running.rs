//! ND113: a workload refers to a peer whose containers are not running.

use crate::prelude::*;
use netdoctor_engine::Resolution;
use netdoctor_model::docker::Live;
use std::collections::HashSet;

declare_rule! {
    /// ## What it checks
    /// A running container that refers to a peer (a host in its environment, command or
    /// healthcheck, `depends_on`, `links`) whose containers are all stopped, exited, paused or
    /// missing. Needs live state (`--docker` or `--snapshot`).
    ///
    /// ## Why it matters
    /// A stopped container leaves its networks: the embedded DNS stops answering its name and
    /// nothing owns its address, so clients see "Name or service not known" or time out, which
    /// looks like a network fault although the peer simply crashed or was never started.
    ///
    /// ## Example
    /// ```text
    /// $ docker ps -a
    /// NAMES   STATUS
    /// web     Up 2 hours            # DB_URL=postgres://db:5432/app
    /// db      Exited (1) 2 hours ago
    /// ```
    ///
    /// ## Fix
    /// Start the peer (`docker start db`, `docker compose up -d db`) and read `docker logs db` to see why it stopped.
    pub struct PeerNotRunning => Error, "ND113";
}

impl Check for PeerNotRunning {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for (i, w) in cx.model.workloads.iter().enumerate() {
            // Only a client that runs (or whose state is unknown) is hurt by it.
            if w.live.as_ref().is_some_and(|l| !l.any_running()) {
                continue;
            }
            let mut reported = HashSet::new();
            for r in &w.references {
                let targets = match cx.analysis.resolve(i, &r.host) {
                    Resolution::Resolved { targets, .. }
                    | Resolution::NoEmbeddedDns { targets, .. }
                    | Resolution::NotShared { targets } => targets,
                    Resolution::Link(t) => vec![t],
                    _ => cx
                        .model
                        .workloads
                        .iter()
                        .position(|o| o.project == w.project && o.name == r.host && r.via == ReferenceVia::DependsOn)
                        .into_iter()
                        .collect(),
                };
                let down: Vec<(usize, &Workload, &Live)> = targets
                    .iter()
                    .filter(|&&t| t != i)
                    .filter_map(|&t| Some((t, cx.model.workloads.get(t)?)))
                    .filter_map(|(t, p)| Some((t, p, p.live.as_ref()?)))
                    .filter(|(_, _, live)| !live.any_running())
                    .collect();
                // With several answers to a name, one running is enough.
                if down.len() != targets.iter().filter(|&&t| t != i).count() {
                    continue;
                }
                let Some(&(t, peer, live)) = down.first() else { continue };
                if !reported.insert(t) {
                    continue;
                }
                let state = live.not_running();
                let start = match (&peer.project, live.containers.first()) {
                    (_, Some(c)) if c.state.as_str() == "created" => format!("start it with `docker start {}`", c.name),
                    (_, Some(c)) => {
                        format!("start it with `docker start {}` and read `docker logs {}` to see why it stopped", c.name, c.name)
                    }
                    (Some(_), None) => format!("create and start it with `docker compose up -d {}`", peer.name),
                    (None, None) => format!("start `{}`", peer.name),
                };
                out.report(&r.origin, format!("`{}` refers to `{}` ({}), but `{}` {state}", w.name, r.host, r.via.describe(), peer.name))
                    .subjects([w.name.as_str(), peer.name.as_str()])
                    .related(&peer.origin, format!("`{}` is defined here", peer.name))
                    .help(start);
            }
        }
    }
}

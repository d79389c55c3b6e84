//! Layer 1: both containers exist and run, and share a network (or a namespace).

use super::*;

impl Walk<'_, '_> {
    /// Layer 1: are both up, and do they share a network (or a namespace)?
    pub(super) fn attachment(&self, step: &mut Step) -> Path {
        let (wa, wb) = (self.wa, self.wb);
        for (w, role) in [(wb, "the server"), (wa, "the client")] {
            if let Some(live) = &w.live {
                if !live.any_running() {
                    step.fail(format!("`{}` ({role}) {}", w.name, live.not_running()), start_fix(w, live));
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
    pub(super) fn connect_fix(&self) -> String {
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
}

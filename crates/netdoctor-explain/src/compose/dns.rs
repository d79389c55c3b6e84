//! Layer 3: the name A uses resolves, through Docker's embedded DNS, to B.

use super::*;

impl Walk<'_, '_> {
    /// Layer 3: does the name A uses for B resolve, to B, from A?
    pub(super) fn dns(&self, step: &mut Step, path: &Path, name: &str) {
        if name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok() {
            return step.set(Status::Skip, format!("`{name}` is an address: nothing to look up"));
        }
        if *path == Path::SameNamespace {
            return step.set(Status::Skip, format!("one namespace: `{}` reaches `{}` at localhost", self.wa.name, self.wb.name));
        }
        let (wa, wb) = (self.wa, self.wb);
        if let Some(live) = wb.live.as_ref().filter(|l| !l.any_running()) {
            return step.fail(
                format!("`{}` {}: the embedded DNS does not answer for a container that is not running", wb.name, live.not_running()),
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
}

//! Layer 2: both have addresses on the shared network, with no conflict.

use super::*;

impl Walk<'_, '_> {
    /// Layer 2: does each side have an address on a shared network?
    pub(super) fn ip(&self, step: &mut Step, path: &Path) {
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
}

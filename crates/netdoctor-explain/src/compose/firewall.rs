//! Layer 5: the bridge (ICC) and the host's firewall let the flow through.

use super::*;

impl Walk<'_, '_> {
    /// Layer 5: does the bridge (ICC) or the host's firewall let it through?
    pub(super) fn firewall(&self, step: &mut Step, path: &Path, port: Option<PortSpec>) {
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
                format!("Docker's bridge allows it; the host firewall (DOCKER-USER, FORWARD) was not read{}", crate::PROBE_TESTS_PATH),
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
}

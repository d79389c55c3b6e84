//! `why` between a container and an address outside the project: a client on the
//! internet or in the VPC reaching a published port (layer 1: the port is published on
//! an address the client can reach; layer 5: the host's firewall on the way in), and a
//! container reaching an outside address (layer 1: a network with a way out; layer 2:
//! the host's route; layer 5: the host's firewall on the way out).

use super::*;
use netdoctor_engine::firewall::IfaceName;
use netdoctor_model::PortRange;

/// FROM or TO as an outside address: an IP (or the first address of a CIDR) that names
/// no workload of the model.
pub(super) fn outside_address(model: &netdoctor_model::Model, text: &str) -> Option<IpAddr> {
    if find_workload(model, text).is_ok() || workload_at(model, text).is_some() {
        return None;
    }
    text.parse::<IpAddr>().ok().or_else(|| text.parse::<ipnet::IpNet>().ok().map(|n| n.network()))
}

/// The workload whose address `text` is: a static `ipv4_address`, or an address a
/// running container of it has.
pub(super) fn workload_at(model: &netdoctor_model::Model, text: &str) -> Option<usize> {
    let ip = text.parse::<IpAddr>().ok()?;
    model.workloads.iter().position(|w| {
        w.attachments.iter().filter_map(|a| a.ipv4_address.as_ref()).any(|a| a.value.parse::<IpAddr>().is_ok_and(|a| a == ip))
            || w.live
                .as_ref()
                .is_some_and(|l| l.containers.iter().flat_map(|c| &c.endpoints).any(|e| e.ipv4.is_some_and(|n| n.addr() == ip)))
    })
}

/// The workload called `name`, with its index.
fn workload<'m>(cx: &RuleContext<'m>, name: &str) -> Result<(usize, &'m Workload), NotFound> {
    let w = find_workload(cx.model, name)?;
    let workload = cx.model.workloads.get(w).ok_or_else(|| NotFound { message: "workload index out of range".into() })?;
    Ok((w, workload))
}

/// Layer 5 from a host-firewall trace: `what` and the verdict with what decided it as
/// evidence; a drop or reject fails with `fix`, an undecided trace is unknown.
fn judge(step: &mut Step, trace: &netdoctor_engine::firewall::Trace, what: String, fix: String) {
    let decided = trace.verdict.decided_by.as_ref().map_or_else(|| "several rules".to_string(), ToString::to_string);
    step.evidence.push(format!("{what}: {} by {decided}", trace.verdict.kind.as_str()));
    step.status = match trace.verdict.kind {
        VerdictKind::Accept => Status::Pass,
        kind if kind.is_blocked() => {
            step.fix = Some(fix);
            Status::Fail
        }
        _ => Status::Unknown,
    };
}

/// The layers for an outside `client` reaching workload `to`.
pub(super) fn from_outside(
    cx: &RuleContext<'_>,
    findings: &[Diagnostic],
    (from, to): (&str, &str),
    client: IpAddr,
    port: Option<PortSpec>,
) -> Result<Why, NotFound> {
    let (b, wb) = workload(cx, to)?;
    let mut steps = Why::layers();
    let mut target_port = None;
    if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
        let binding = published(s1, cx, b, wb, port);
        target_port = binding.map(|p| p.target);
        s2.set(Status::Skip, format!("routes from {client} to this host are not part of the configuration"));
        s3.set(Status::Skip, format!("{client} is asked about by address: it looks up no container names"));
        s4.set(Status::Skip, "Docker enforces no network policies");
        inbound_firewall(s5, cx, b, binding, client, s1.status);
    }
    cite_outside(&mut steps, findings, &wb.name);
    let listener = outside_listener(wb, port, target_port, steps.first().map(|s| s.status));
    Ok(Why::settled((from, to), port, steps, listener, None))
}

/// Layer 1 in: the port the client connects to is published, on an address it can reach.
fn published<'m>(
    step: &mut Step,
    cx: &RuleContext<'m>,
    b: usize,
    wb: &'m Workload,
    port: Option<PortSpec>,
) -> Option<&'m netdoctor_model::PortBinding> {
    if wb.is_host_network() {
        step.set(Status::Pass, format!("`{}` uses the host's network stack: a client reaches it at the host's own port", wb.name));
        return None;
    }
    if !matches!(cx.analysis.topology.stack(b), Stack::Own) {
        step.fail(
            format!("`{}` shares another container's network stack: what that container publishes is how it is reached", wb.name),
            "ask about the container whose stack it shares",
        );
        return None;
    }
    let listed: Vec<String> = wb.ports.iter().filter_map(|p| p.published.map(|h| format!("{h}->{}/{}", p.target, p.protocol))).collect();
    let Some((protocol, number)) = port.and_then(|p| p.port()) else {
        let ports = if listed.is_empty() { "none".to_string() } else { listed.join(", ") };
        step.set(
            Status::Unknown,
            format!("no port given: ask with --port tcp/N, the host port the client connects to (`{}` publishes: {ports})", wb.name),
        );
        return None;
    };
    let Some(binding) = wb.ports.iter().find(|p| p.protocol == protocol && p.published.is_some_and(|h| h.contains(number))) else {
        step.fail(
            format!(
                "`{}` publishes no {protocol}/{number} on the host{}: from outside it cannot be reached",
                wb.name,
                if listed.is_empty() { String::new() } else { format!(" (it publishes {})", listed.join(", ")) }
            ),
            format!("add `ports: [\"{number}:<container port>\"]` to `{}`", wb.name),
        );
        return None;
    };
    let at = binding.origin.span().map(|s| format!(" ({}:{})", s.file.display(), s.line)).unwrap_or_default();
    match binding.host_ip {
        Some(ip) if ip.is_loopback() => {
            step.fail(
                format!("`{}` publishes {protocol}/{number} on {ip} only{at}: reachable from this host alone", wb.name),
                format!("publish it on every address (`\"{number}:{}\"`) or on the address clients reach", binding.target),
            );
        }
        host_ip => {
            let on = host_ip.filter(|ip| !ip.is_unspecified()).map_or_else(|| "every host address".to_string(), |ip| ip.to_string());
            step.set(Status::Pass, format!("`{}` publishes {protocol}/{number} on {on} to container port {}{at}", wb.name, binding.target));
        }
    }
    Some(binding)
}

/// Layer 5 in: the host's firewall on the published port's way (DNAT, then FORWARD),
/// traced from the client's address.
fn inbound_firewall(
    step: &mut Step,
    cx: &RuleContext<'_>,
    b: usize,
    binding: Option<&netdoctor_model::PortBinding>,
    client: IpAddr,
    entry: Status,
) {
    if entry == Status::Fail {
        return step.set(Status::Skip, "not reached: layer 1 fails first");
    }
    let Some(host) = &cx.analysis.host else {
        return step
            .set(Status::Unknown, "the host's firewall (DOCKER-USER, FORWARD, INPUT) was not read: add --host (or --host-facts DIR)");
    };
    let Some(binding) = binding else {
        return step.set(Status::Unknown, "no published port to trace");
    };
    let flows = host.published_flows(cx.model, &cx.analysis.topology);
    let Some(mut hf) = flows.into_iter().find(|f| {
        matches!(f.purpose, netdoctor_engine::host::Purpose::Published { workload, .. } if workload == b)
            && f.flow.dport.is_some_and(|d| binding.published.is_some_and(|p| d.start == p.start))
    }) else {
        return step.set(Status::Unknown, "the published port has no path the host facts describe (no uplink, or an IPv6 binding)");
    };
    hf.flow.src = Endpoint::remote(ipnet::IpNet::from(client));
    let Some(traced) = host.trace_published(cx.model, &cx.analysis.topology, &hf) else {
        return step.set(Status::Unknown, "the published port could not be traced");
    };
    judge(
        step,
        &traced.actual,
        format!("host firewall from {client}"),
        format!("allow {client} to the published port in DOCKER-USER (or remove the rule that drops it)"),
    );
    if traced.predicted {
        step.evidence.push(
            "Docker's DNAT rule for the port is not in the rules read (the container is not running): traced as Docker would add it".into(),
        );
    }
}

/// The layers for workload `from` reaching an outside `dst`.
pub(super) fn to_outside(
    cx: &RuleContext<'_>,
    findings: &[Diagnostic],
    (from, to): (&str, &str),
    dst: IpAddr,
    port: Option<PortSpec>,
) -> Result<Why, NotFound> {
    let (a, wa) = workload(cx, from)?;
    let topology = &cx.analysis.topology;
    let mut steps = Why::layers();
    if let [s1, s2, s3, s4, s5] = steps.as_mut_slice() {
        // Layer 1: a network with a way out.
        let out: Vec<NetId> = topology.networks_of(a).iter().copied().filter(|&n| topology.info(n).is_some_and(|i| !i.internal)).collect();
        match topology.stack(a) {
            Stack::Host => s1.set(Status::Pass, format!("`{}` uses the host's network stack: it leaves as the host", wa.name)),
            Stack::None => s1.fail(
                format!("`{}` has `network_mode: none`: it has no way out", wa.name),
                format!("remove `network_mode: none` from `{}`", wa.name),
            ),
            _ if out.is_empty() => {
                let names: Vec<String> =
                    topology.networks_of(a).iter().filter_map(|&n| topology.info(n)).map(|i| format!("`{}`", i.name)).collect();
                s1.fail(
                    format!(
                        "`{}` is only on internal networks ({}): nothing leaves them",
                        wa.name,
                        if names.is_empty() { "none".into() } else { names.join(", ") }
                    ),
                    format!("attach `{}` to a network without `internal: true` as well", wa.name),
                );
            }
            _ => {
                let names: Vec<String> = out.iter().filter_map(|&n| topology.info(n)).map(|i| format!("`{}`", i.name)).collect();
                s1.set(
                    Status::Pass,
                    format!("`{}` is on {}: not internal, so its traffic leaves through the host (masqueraded)", wa.name, names.join(", ")),
                );
            }
        }
        s3.set(Status::Skip, format!("{dst} is asked about by address: no lookup"));
        s4.set(Status::Skip, "Docker enforces no network policies");
        outbound(cx, [s2, s5], a, &out, dst, port);
    }
    cite_outside(&mut steps, findings, &wa.name);
    let listener = Listener {
        status: Status::Unknown,
        evidence: vec![format!(
            "{dst} is outside the project: whether anything listens there is known only by trying (`nc -zv {dst} PORT` from the container)"
        )],
        fix: None,
    };
    Ok(Why::settled((from, to), port, steps, listener, None))
}

/// Layers 2 and 5 out: the host's route for `dst` and its firewall on the way out.
fn outbound(cx: &RuleContext<'_>, [route, firewall]: [&mut Step; 2], a: usize, out: &[NetId], dst: IpAddr, port: Option<PortSpec>) {
    let bridged = *cx.analysis.topology.stack(a) == Stack::Own;
    let Some(host) = &cx.analysis.host else {
        route.set(Status::Skip, "the host's routes were not read: add --host (or --host-facts DIR)");
        return firewall
            .set(Status::Unknown, "the host's firewall (DOCKER-USER, FORWARD, NAT) was not read: add --host (or --host-facts DIR)");
    };
    let Some(bridge) = out.iter().find_map(|&n| host.bridge(n)) else {
        route.set(
            Status::Skip,
            if bridged { "no bridge of its networks is on this host" } else { "not a bridged container: it leaves as the host does" },
        );
        return firewall.set(Status::Skip, "no bridge to leave from");
    };
    let Some(subnet) = bridge.subnet else {
        route.set(Status::Unknown, format!("network `{}` has no known subnet", bridge.name));
        return firewall.set(Status::Unknown, "no source address to trace from");
    };
    let (proto, dport) = port.map_or((IpProto::Tcp, Some(PortRange::single(443))), |p| p.firewall_match());
    let flow = Flow::new(proto, Endpoint::remote(subnet), Endpoint::remote(ipnet::IpNet::from(dst)), dport).entering(bridge.iface.clone());
    let trace = host.trace(&flow);
    // Layer 2: where the host's routes send it.
    match &trace.flow.out_iface {
        Some(IfaceName::Named(dev)) if host.bridges.iter().any(|b| b.iface == IfaceName::Named(dev.clone())) => {
            let Some(other) = host.bridges.iter().find(|b| b.iface == IfaceName::Named(dev.clone())) else { return };
            if cx.analysis.topology.networks_of(a).contains(&other.net) {
                route.fail(
                    format!("{dst} is in the subnet of `{}`, a network of its own: it is sent there directly, and no container of the project has that address", other.name),
                    format!("use the address of the service meant, or its name; an outside host in {dst}'s range needs `{}` to use another subnet", other.name),
                );
            } else {
                route.fail(
                    format!("{dst} is inside the subnet of Docker network `{}` (`{dev}`): the host sends it there, not out", other.name),
                    format!("give network `{}` a subnet that does not cover {dst} (`ipam: config: [{{subnet: …}}]`, or `default-address-pools` in daemon.json)", other.name),
                );
            }
        }
        Some(IfaceName::Named(dev)) => route.set(Status::Pass, format!("the host routes {dst} out of `{dev}`")),
        _ => route.set(Status::Unknown, format!("the host's routes do not say where {dst} goes")),
    }
    if route.status == Status::Fail {
        return firewall.set(Status::Skip, "not reached: layer 2 fails first");
    }
    judge(
        firewall,
        &trace,
        format!("host firewall from `{}` to {dst}", bridge.name),
        format!("allow `{}`'s subnet {subnet} to {dst} in DOCKER-USER (or remove the rule that drops it)", bridge.name),
    );
}

/// Cites the findings about the workload in the layer they belong to.
fn cite_outside(steps: &mut [Step], findings: &[Diagnostic], workload: &str) {
    for step in steps {
        for f in findings {
            let family = f.id.as_bytes().get(2).map(|d| d - b'0');
            if family == Some(step.layer) && f.subjects.iter().any(|s| s == workload) && !step.rules.contains(&f.id) {
                step.rules.push(f.id);
            }
        }
    }
}

/// Whether the destination declares the container port the published one leads to.
fn outside_listener(wb: &Workload, port: Option<PortSpec>, target: Option<PortRange>, entry: Option<Status>) -> Listener {
    let mut l = Listener { status: Status::Skip, evidence: Vec::new(), fix: None };
    if port.is_none() {
        l.evidence.push("no port asked about".into());
        return l;
    }
    if entry == Some(Status::Fail) {
        l.evidence.push("not reachable: nothing to listen for".into());
        return l;
    }
    l.status = Status::Unknown;
    if let Some(target) = target {
        l.evidence.push(format!("the published port leads to container port {target} of `{}`", wb.name));
    }
    l.evidence.push(crate::PROBE_TO_KNOW_LISTENER.into());
    l
}

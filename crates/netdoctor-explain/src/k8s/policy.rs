//! Layer 4: egress at the client and ingress at each backend, rule by rule, with the
//! deciding rule named and the smallest change that would allow the flow, in the
//! policy's own syntax.

use super::*;

impl K8sWalk<'_, '_> {
    /// `ns/name (file:line)` for NetworkPolicies, `AdminNetworkPolicy name (…)` for admin ones.
    pub(super) fn policy_names(&self, policies: &[PolicyRef]) -> Vec<String> {
        policies.iter().map(|p| self.policy_name(*p)).collect()
    }

    pub(super) fn policy_name(&self, p: PolicyRef) -> String {
        match p.tier {
            PolicyTier::Network => self
                .cluster
                .network_policies
                .get(p.index)
                .map(|np| format!("NetworkPolicy {}{}", np.full_name(), at(&np.origin)))
                .unwrap_or_default(),
            PolicyTier::Admin | PolicyTier::Baseline => self
                .cluster
                .admin_policies
                .get(p.index)
                .map(|ap| {
                    let kind = if p.tier == PolicyTier::Admin { "AdminNetworkPolicy" } else { "BaselineAdminNetworkPolicy" };
                    format!("{kind} {}{}", ap.name, at(&ap.origin))
                })
                .unwrap_or_default(),
            PolicyTier::Calico => self
                .cluster
                .calico_policies
                .get(p.index)
                .map(|cp| format!("{} (tier {}){}", cp.display_name(), cp.tier, at(&cp.origin)))
                .unwrap_or_default(),
            PolicyTier::Cilium => {
                self.cluster.cilium_policies.get(p.index).map(|cp| format!("{}{}", cp.display_name(), at(&cp.origin))).unwrap_or_default()
            }
        }
    }

    pub(super) fn rule_origin(&self, p: PolicyRef, rule: usize, direction: PolicyType) -> String {
        self.rule_origin_of(p, rule, direction, AdminAction::Allow)
    }

    /// ` N (file:line)` of a rule; `action` tells a Cilium deny rule from an allow rule.
    pub(super) fn rule_origin_of(&self, p: PolicyRef, rule: usize, direction: PolicyType, action: AdminAction) -> String {
        match p.tier {
            PolicyTier::Network => {
                let np = self.cluster.network_policies.get(p.index);
                let rules = np.map(|np| if direction == PolicyType::Ingress { &np.ingress } else { &np.egress });
                rules.and_then(|r| r.get(rule)).map(|r| at(&r.origin)).unwrap_or_default()
            }
            PolicyTier::Cilium => {
                // Rules are numbered within their section; a policy with several `specs`
                // is pointed at by the first section long enough.
                let Some(cp) = self.cluster.cilium_policies.get(p.index) else { return String::new() };
                let section = |r: &netdoctor_model::cilium::CiliumRule| match (direction, action) {
                    (PolicyType::Ingress, AdminAction::Deny) => r.ingress_deny.clone(),
                    (PolicyType::Ingress, _) => r.ingress.clone(),
                    (PolicyType::Egress, AdminAction::Deny) => r.egress_deny.clone(),
                    (PolicyType::Egress, _) => r.egress.clone(),
                };
                cp.rules.iter().find_map(|r| section(r).and_then(|list| list.get(rule).map(|x| at(&x.origin)))).unwrap_or_default()
            }
            PolicyTier::Calico => {
                let cp = self.cluster.calico_policies.get(p.index);
                let rules = cp.map(|cp| if direction == PolicyType::Ingress { &cp.ingress } else { &cp.egress });
                rules.and_then(|r| r.get(rule)).map(|r| at(&r.origin)).unwrap_or_default()
            }
            _ => {
                let ap = self.cluster.admin_policies.get(p.index);
                let rules = ap.map(|ap| if direction == PolicyType::Ingress { &ap.ingress } else { &ap.egress });
                rules.and_then(|r| r.get(rule)).map(|r| format!(" `{}`{}", r.name, at(&r.origin))).unwrap_or_default()
            }
        }
    }

    /// Layer 4: egress at the client and ingress at each backend, on the backend's port.
    pub(super) fn policy(&self, step: &mut Step, src: usize, target: &Target<'_>, backends: &[Backend]) {
        let Some(src_class) = self.class_of(src) else {
            return step.set(Status::Unknown, "the source workload has no pod class (see layer 1)");
        };
        let Some(asked) = self.port else {
            return step.set(Status::Unknown, "no port given: policies decide per port; ask with --port tcp/N (or --port icmp)");
        };
        let ends: Vec<(Endpoint, Option<ClassId>, String, PortSpec)> = match target {
            Target::Address(ip) => match self.external(*ip) {
                Some(e) => vec![(e, None, ip.to_string(), asked)],
                None => return step.set(Status::Unknown, format!("{ip} is an IPv6 address; ipBlock evaluation covers IPv4")),
            },
            _ if backends.is_empty() => return step.set(Status::Skip, "no pod to reach (see layer 1)"),
            _ => backends
                .iter()
                .filter_map(|b| {
                    let class = self.class_of(b.workload)?;
                    Some((Endpoint::Class(class), Some(class), self.workload_name(b.workload), b.port.map_or(asked, |n| asked.on_port(n))))
                })
                .collect(),
        };
        step.status = Status::Pass;
        let mut uncertain: Vec<&Uncertainty> = Vec::new();
        for (dst, dst_class, dst_name, conn) in ends {
            uncertain.extend(self.engine.uncertain_on(Endpoint::Class(src_class), dst, conn));
            let egress = self.engine.trace(src_class, dst, PolicyType::Egress, dst_class, conn);
            let leg = Leg { src: Source::Workload(src), dst, dst_class, dst_name: &dst_name, conn };
            self.direction(step, &egress, &leg);
            if let Some(d) = dst_class {
                let ingress = self.engine.trace(d, Endpoint::Class(src_class), PolicyType::Ingress, Some(d), conn);
                self.direction(step, &ingress, &leg);
            }
        }
        unevaluated(step, uncertain);
        if step.status == Status::Fail {
            step.rules.push("ND401");
        }
    }

    /// A client outside the cluster as ingress rules see it: the range of the engine's
    /// ingress partition its address falls into.
    pub(super) fn outside_source(&self, ip: std::net::Ipv4Addr) -> Endpoint {
        Endpoint::External(self.engine.ingress_ips.part_of(ip).unwrap_or_else(|| netdoctor_engine::policy::Ipv4Range::single(ip)))
    }

    /// The outside range an address falls into, as the engine partitions them.
    pub(super) fn external(&self, ip: IpAddr) -> Option<Endpoint> {
        let IpAddr::V4(v4) = ip else { return None };
        let range = self.engine.egress_ips.part_of(v4).unwrap_or_else(|| netdoctor_engine::policy::Ipv4Range::single(v4));
        Some(Endpoint::External(range))
    }

    pub(super) fn direction(&self, step: &mut Step, trace: &DirectionTrace, leg: &Leg<'_>) {
        let Leg { src, dst_name, conn, .. } = *leg;
        let src_name = self.source_name(src);
        let (side, subject) = match trace.direction {
            PolicyType::Egress => ("egress", src_name.clone()),
            PolicyType::Ingress => ("ingress", dst_name.to_string()),
        };
        let what = conn.to_string();
        if trace.applying.is_empty() {
            step.evidence.push(format!("{side} of {subject}: no policy selects it, so everything is allowed"));
            return;
        }
        if trace.allowed {
            let by: Vec<String> = trace
                .deciding
                .iter()
                .filter(|r| r.action != AdminAction::Pass)
                .map(|r| {
                    format!(
                        "{} {side} rule {}{}",
                        self.policy_name(r.policy),
                        r.rule + 1,
                        self.rule_origin(r.policy, r.rule, trace.direction)
                    )
                })
                .collect();
            let by = if by.is_empty() { "no rule denies it".to_string() } else { format!("allowed by {}", by.join("; ")) };
            step.evidence.push(format!("{side} of {subject} on {what}: {by}"));
            return;
        }
        let deciding = trace.deciding.iter().find(|r| r.action == AdminAction::Deny);
        if let Some(rule) = deciding {
            let tier_note = if rule.policy.tier == PolicyTier::Admin {
                "; AdminNetworkPolicies come before NetworkPolicies, which cannot override this"
            } else {
                ""
            };
            step.fail(
                format!(
                    "{side} of {subject} on {what} is denied by {} rule{}{tier_note}",
                    self.policy_name(rule.policy),
                    match rule.policy.tier {
                        // Calico's and Cilium's rules have no names: their number says which.
                        PolicyTier::Calico | PolicyTier::Cilium => {
                            format!(" {}{}", rule.rule + 1, self.rule_origin_of(rule.policy, rule.rule, trace.direction, rule.action))
                        }
                        _ => self.rule_origin_of(rule.policy, rule.rule, trace.direction, rule.action),
                    }
                ),
                match rule.policy.tier {
                    PolicyTier::Cilium => "Cilium deny rules win over every allow rule: narrow that deny rule (its peers or `toPorts`) so it leaves this flow out".to_string(),
                    PolicyTier::Admin => "ask a cluster admin to add an Allow (or Pass) rule for this flow ahead of that rule, with a lower priority number or earlier in the policy".to_string(),
                    PolicyTier::Calico => format!(
                        "in that policy, put this rule before rule {} (or give a policy with it a lower `order` in the same tier):\n  {}",
                        rule.rule + 1,
                        self.calico_allow_rule(trace.direction, leg)
                    ),
                    _ => format!("a NetworkPolicy selecting {subject} that allows this flow overrides the baseline's deny"),
                },
            );
            return;
        }
        if let Some(tier) = &trace.denied_at_end_of {
            let in_tier: Vec<PolicyRef> =
                trace.applying.iter().copied().filter(|p| self.policy_tier_name(*p) == Some(tier.as_str())).collect();
            // The first CNI policy of the tier takes the new rule, in its own syntax.
            let cni = in_tier.iter().copied().find(|p| matches!(p.tier, PolicyTier::Cilium | PolicyTier::Calico));
            if let Some(first) = cni {
                let peer = match trace.direction {
                    PolicyType::Egress => format!("traffic to {dst_name}"),
                    PolicyType::Ingress => format!("traffic from {src_name}"),
                };
                let (why, rule) = if first.tier == PolicyTier::Cilium {
                    (
                        "which puts it in default deny, and no allow rule (of those or of a NetworkPolicy) allows".to_string(),
                        self.cilium_allow_rule(trace.direction, leg).replace('\n', "\n  "),
                    )
                } else {
                    (format!("and no rule of Calico tier `{tier}` allows"), self.calico_allow_rule(trace.direction, leg))
                };
                let evidence = format!(
                    "{side} of {subject} on {what} is denied: {} {} it, {why} {peer} on {what}",
                    self.policy_names(&in_tier).join(", "),
                    if in_tier.len() == 1 { "selects" } else { "select" },
                );
                step.fail(evidence, format!("add this rule to {}:\n  {rule}", self.policy_name(first)));
                return;
            }
        }
        let isolating: Vec<PolicyRef> = trace.applying.iter().copied().filter(|p| p.tier == PolicyTier::Network).collect();
        let names = self.policy_names(&isolating);
        let evidence = format!(
            "{side} of {subject} on {what} is denied: it is isolated by {} and no rule allows {} on {what}",
            names.join(", "),
            match trace.direction {
                PolicyType::Egress => format!("traffic to {dst_name}"),
                PolicyType::Ingress => format!("traffic from {src_name}"),
            }
        );
        let (reason, fix) = self.smallest_change(trace.direction, &isolating, leg);
        step.fail(evidence, fix);
        if let Some(reason) = reason {
            step.evidence.insert(1, reason);
        }
    }

    /// The nearest miss among the rules of the isolating policies, and the change that
    /// would allow the flow: fix the one requirement that fails, or add a rule.
    pub(super) fn smallest_change(&self, direction: PolicyType, isolating: &[PolicyRef], leg: &Leg<'_>) -> (Option<String>, String) {
        let Leg { src, dst, dst_class, dst_name, conn } = *leg;
        // The other end: who the rules must match.
        let (peer_ns, peer_labels, peer_name) = match direction {
            PolicyType::Egress => match dst {
                Endpoint::Class(_) => {
                    let w = self.engine.workloads.iter().position(|w| Some(w.class) == dst_class);
                    let (ns, labels) = w.map(|w| (self.namespace_of(w).to_string(), self.labels_of(w))).unwrap_or_default();
                    (Some(ns), labels, dst_name.to_string())
                }
                Endpoint::External(_) => (None, Labels::new(), dst_name.to_string()),
            },
            PolicyType::Ingress => match src {
                Source::Workload(w) => (Some(self.namespace_of(w).to_string()), self.labels_of(w), self.workload_name(w)),
                Source::Outside(ip) => (None, Labels::new(), ip.to_string()),
            },
        };
        // The other end as the engine sees it: the destination for egress, the source for ingress.
        let peer_end = match (direction, src) {
            (PolicyType::Ingress, Source::Workload(w)) => self.class_of(w).map_or(dst, Endpoint::Class),
            (PolicyType::Ingress, Source::Outside(ip)) => self.outside_source(ip),
            (PolicyType::Egress, _) => dst,
        };
        let dst_ports = dst_class.and_then(|c| self.engine.classes.get(c)).map(|c| c.ports.clone()).unwrap_or_default();
        let mut best: Option<(usize, String, String)> = None;
        for policy in isolating {
            let Some(np) = self.cluster.network_policies.get(policy.index) else { continue };
            let rules = if direction == PolicyType::Ingress { &np.ingress } else { &np.egress };
            for (i, rule) in rules.iter().enumerate() {
                let place = format!("{} {} rule {}{}", self.policy_name(*policy), direction_word(direction), i + 1, at(&rule.origin));
                let peer = PeerSide { namespace: peer_ns.as_deref(), labels: &peer_labels, name: &peer_name, end: peer_end };
                let near = self.near_miss(rule, &np.namespace, &peer, leg, &dst_ports);
                if let Some((misses, reason, fix)) = near {
                    if best.as_ref().is_none_or(|(m, _, _)| misses < *m) {
                        best = Some((misses, format!("nearest rule: {place} {reason}"), fix));
                    }
                }
            }
        }
        if let Some((_, reason, fix)) = best {
            return (Some(reason), fix);
        }
        let Some(first) = isolating.first().and_then(|p| self.cluster.network_policies.get(p.index)) else {
            return (None, "add a NetworkPolicy rule allowing this flow".into());
        };
        let (key, peer) = match direction {
            PolicyType::Ingress => ("from", self.peer_snippet(peer_ns.as_deref(), &peer_labels, peer_end)),
            PolicyType::Egress => ("to", self.peer_snippet(peer_ns.as_deref(), &peer_labels, dst)),
        };
        let empty = if (direction == PolicyType::Ingress && first.ingress.is_empty())
            || (direction == PolicyType::Egress && first.egress.is_empty())
        {
            format!(" (it has no {} rules: it denies everything)", direction_word(direction))
        } else {
            String::new()
        };
        // NetworkPolicy has no ICMP: only a rule that names no ports allows it.
        let ports = match conn {
            PortSpec::Port(protocol, port) => format!("\n    ports:\n    - {{protocol: {}, port: {port}}}", protocol_name(protocol)),
            PortSpec::Icmp { .. } => String::new(),
        };
        let icmp_note =
            if ports.is_empty() { " (NetworkPolicy cannot name ICMP: a rule without `ports` allows it, and every port too)" } else { "" };
        let fix = format!(
            "add this {} rule to NetworkPolicy {}{}{empty}{icmp_note}:\n  - {key}:\n    - {peer}{ports}",
            direction_word(direction),
            first.full_name(),
            at(&first.origin),
        );
        (None, fix)
    }

    /// The tier a policy is evaluated in, in a cluster evaluated in tiers.
    pub(super) fn policy_tier_name(&self, p: PolicyRef) -> Option<&str> {
        match p.tier {
            PolicyTier::Calico => self.cluster.calico_policies.get(p.index).map(|cp| cp.tier.as_str()),
            PolicyTier::Network if self.cluster.calico_policies.is_empty() => Some(netdoctor_engine::policy::CILIUM_ALLOW_TIER),
            PolicyTier::Network => Some(netdoctor_model::calico_policy::DEFAULT_TIER),
            PolicyTier::Cilium => Some(netdoctor_engine::policy::CILIUM_ALLOW_TIER),
            _ => None,
        }
    }

    /// The destination pod's labels and namespace, when DST is a pod.
    pub(super) fn destination_pod(&self, dst: Endpoint, dst_class: Option<ClassId>) -> Option<(&Labels, &str)> {
        let class = dst_class.and_then(|c| self.engine.classes.get(c)).filter(|_| matches!(dst, Endpoint::Class(_)))?;
        Some((&class.labels, self.engine.namespaces.get(class.namespace).map_or("", |n| n.name.as_str())))
    }

    /// A Cilium rule allowing this flow: the peer by labels and namespace (or address),
    /// the destination port.
    pub(super) fn cilium_allow_rule(&self, direction: PolicyType, leg: &Leg<'_>) -> String {
        let Leg { src, dst, dst_class, conn, .. } = *leg;
        let endpoints = |labels: &Labels, ns: &str| {
            let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            pairs.push(format!("{}: {ns}", netdoctor_engine::policy::POD_NAMESPACE_LABEL));
            format!("[{{matchLabels: {{{}}}}}]", pairs.join(", "))
        };
        let ports = match conn {
            PortSpec::Port(protocol, port) => {
                format!("toPorts: [{{ports: [{{port: \"{port}\", protocol: {}}}]}}]", protocol_name(protocol))
            }
            PortSpec::Icmp { icmp_type, .. } => format!("icmps: [{{fields: [{{type: {icmp_type}, family: IPv4}}]}}]"),
        };
        match (direction, src) {
            (PolicyType::Ingress, Source::Workload(w)) => {
                format!("ingress:\n  - fromEndpoints: {}\n    {ports}", endpoints(&self.labels_of(w), self.namespace_of(w)))
            }
            (PolicyType::Ingress, Source::Outside(ip)) => format!("ingress:\n  - fromCIDR: [{ip}/32]\n    {ports}"),
            (PolicyType::Egress, _) => {
                let peer = match self.destination_pod(dst, dst_class) {
                    Some((labels, ns)) => format!("toEndpoints: {}", endpoints(labels, ns)),
                    None => format!("toCIDR: [{}/32]", self.address.map_or_else(|| "0.0.0.0".to_string(), |a| a.to_string())),
                };
                format!("egress:\n  - {peer}\n    {ports}")
            }
        }
    }

    /// A Calico rule allowing this flow, in the policy's own syntax: the peer by its
    /// labels and namespace (or by address), the destination port.
    pub(super) fn calico_allow_rule(&self, direction: PolicyType, leg: &Leg<'_>) -> String {
        let Leg { src, dst, dst_class, conn, .. } = *leg;
        let selector = |labels: &Labels, ns: &str| {
            let terms: Vec<String> = labels.iter().map(|(k, v)| format!("{k} == '{v}'")).collect();
            let pods = if terms.is_empty() { "all()".to_string() } else { terms.join(" && ") };
            format!("selector: \"{pods}\", namespaceSelector: \"projectcalico.org/name == '{ns}'\"")
        };
        // What the rule matches besides the peer: the protocol and, on the destination
        // side, its port (ICMP: the type and code instead).
        let (what, dst_ports) = match conn {
            PortSpec::Port(protocol, port) => (format!("protocol: {}", protocol_name(protocol)), format!("ports: [{port}]")),
            PortSpec::Icmp { icmp_type, code } => (format!("protocol: ICMP, icmp: {{type: {icmp_type}, code: {code}}}"), String::new()),
        };
        match direction {
            PolicyType::Ingress => {
                let dst_ports = if dst_ports.is_empty() { dst_ports } else { format!(", destination: {{{dst_ports}}}") };
                let source = match src {
                    Source::Workload(w) => selector(&self.labels_of(w), self.namespace_of(w)),
                    Source::Outside(ip) => format!("nets: [{ip}/32]"),
                };
                format!("- {{action: Allow, {what}, source: {{{source}}}{dst_ports}}}")
            }
            PolicyType::Egress => {
                let peer = match self.destination_pod(dst, dst_class) {
                    Some((labels, ns)) => selector(labels, ns),
                    None => match self.address {
                        Some(addr) => format!("nets: [{addr}/32]"),
                        None => "nets: [0.0.0.0/0]".into(),
                    },
                };
                let dst_ports = if dst_ports.is_empty() { dst_ports } else { format!(", {dst_ports}") };
                format!("- {{action: Allow, {what}, destination: {{{peer}{dst_ports}}}}}")
            }
        }
    }

    pub(super) fn peer_snippet(&self, ns: Option<&str>, labels: &Labels, dst: Endpoint) -> String {
        match (ns, dst) {
            (Some(ns), _) => {
                let pod: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!(
                    "namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}}}\n      podSelector: {{matchLabels: {{{}}}}}",
                    pod.join(", ")
                )
            }
            (None, Endpoint::External(_)) => match self.address {
                Some(addr) => format!("ipBlock: {{cidr: {addr}/32}}"),
                None => "ipBlock: {cidr: 0.0.0.0/0}".into(),
            },
            (None, Endpoint::Class(_)) => "podSelector: {}".into(),
        }
    }

    /// How close one rule comes to allowing the flow: the number of things to change,
    /// what fails, and the fix. `None` when the rule is far off (several requirements).
    pub(super) fn near_miss(
        &self,
        rule: &PolicyRule,
        policy_ns: &str,
        peer: &PeerSide<'_>,
        leg: &Leg<'_>,
        dst_ports: &[netdoctor_model::k8s::ContainerPort],
    ) -> Option<(usize, String, String)> {
        let PeerSide { namespace: peer_ns, labels: peer_labels, name: peer_name, end } = *peer;
        let Leg { dst_name, conn, .. } = *leg;
        // Ports first: does any port entry cover the port on this destination?
        let port_miss = if rule.ports.is_empty() {
            None
        } else if let PortSpec::Icmp { .. } = conn {
            Some((
                "names ports, and NetworkPolicy allows ICMP only in a rule without `ports`".to_string(),
                "add a rule with the same peers and no `ports` (it allows ICMP, and every port too)".to_string(),
            ))
        } else if let Some((protocol, port)) = conn.port() {
            let covered = rule.ports.iter().any(|p| {
                p.protocol == protocol
                    && match &p.port {
                        None => true,
                        Some(PortRef::Number(n)) => (*n..=p.end_port.unwrap_or(*n)).contains(&port),
                        Some(PortRef::Name(name)) => dst_ports
                            .iter()
                            .any(|cp| cp.name.as_deref() == Some(name.as_str()) && cp.protocol == protocol && cp.port == port),
                    }
            });
            if covered {
                None
            } else {
                let named = rule.ports.iter().find_map(|p| match &p.port {
                    Some(PortRef::Name(name))
                        if p.protocol == protocol && !dst_ports.iter().any(|cp| cp.name.as_deref() == Some(name.as_str())) =>
                    {
                        Some(name.clone())
                    }
                    _ => None,
                });
                Some(match named {
                    Some(name) => {
                        let declared: Vec<String> = dst_ports
                            .iter()
                            .map(|cp| format!("{}={}/{}", cp.name.as_deref().unwrap_or("-"), cp.port, cp.protocol))
                            .collect();
                        (
                            format!(
                                "names port `{name}`, which {dst_name} does not declare (it declares {})",
                                if declared.is_empty() { "no ports".into() } else { declared.join(", ") }
                            ),
                            format!(
                                "declare the container port as `name: {name}` in {dst_name}, or use the number {port} in the rule's ports"
                            ),
                        )
                    }
                    None => {
                        let has: Vec<String> = rule
                            .ports
                            .iter()
                            .map(|p| format!("{}/{}", p.protocol, p.port.as_ref().map_or("*".into(), |p| p.to_string())))
                            .collect();
                        (
                            format!("allows only {}", has.join(", ")),
                            format!("add {{protocol: {}, port: {port}}} to the rule's ports", protocol_name(protocol)),
                        )
                    }
                })
            }
        } else {
            None
        };
        // Peers: the closest single peer entry.
        let mut peer_miss: Option<(usize, String, String)> = None;
        if !rule.peers.is_empty() {
            for peer in &rule.peers {
                let miss = self.peer_miss(peer, policy_ns, peer_ns, peer_labels, peer_name, end);
                match miss {
                    None => {
                        peer_miss = None;
                        break;
                    }
                    Some(m) if peer_miss.as_ref().is_none_or(|p| m.0 < p.0) => peer_miss = Some(m),
                    Some(_) => {}
                }
            }
        }
        match (peer_miss, port_miss) {
            (None, None) => None,
            (None, Some((reason, fix))) => Some((1, reason, fix)),
            (Some((n, reason, fix)), None) => Some((n, reason, fix)),
            (Some((1, r1, f1)), Some((r2, f2))) => Some((2, format!("{r1}, and {r2}"), format!("{f1}, and {f2}"))),
            (Some(_), Some(_)) => None,
        }
    }

    pub(super) fn peer_miss(
        &self,
        peer: &PolicyPeer,
        policy_ns: &str,
        peer_ns: Option<&str>,
        peer_labels: &Labels,
        peer_name: &str,
        dst: Endpoint,
    ) -> Option<(usize, String, String)> {
        match peer {
            PolicyPeer::IpBlock { block, origin } => {
                let (Endpoint::External(_), Some(addr)) = (dst, self.address) else {
                    return Some((3, "matches addresses only".into(), String::new()));
                };
                ip_block_miss(block, addr, origin)
            }
            PolicyPeer::Pods { namespace_selector, pod_selector, origin } => {
                let Some(ns) = peer_ns else {
                    return Some((3, "matches pods only".into(), String::new()));
                };
                let mut reasons = Vec::new();
                let mut fixes = Vec::new();
                let mut misses = 0;
                match namespace_selector {
                    None if ns != policy_ns => {
                        misses += 1;
                        reasons
                            .push(format!("matches pods of namespace {policy_ns} only (no namespaceSelector), but {peer_name} is in {ns}"));
                        fixes.push(format!(
                            "add `namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {ns}}}}}` beside the podSelector{}",
                            at(origin)
                        ));
                    }
                    None => {}
                    Some(sel) => {
                        let unmet = unmet_requirements(sel, &self.namespace_labels(ns));
                        if !unmet.is_empty() {
                            misses += unmet.len();
                            reasons.push(format!("wants namespaces with {}; namespace {ns} does not match", unmet.join(", ")));
                            let labels: Vec<String> = sel.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                            fixes.push(if labels.is_empty() {
                                format!("change the namespaceSelector{} so it matches namespace {ns}", at(origin))
                            } else {
                                format!("label the namespace: `kubectl label namespace {ns} {}` (and in its manifest)", labels.join(" "))
                            });
                        }
                    }
                }
                if let Some(sel) = pod_selector {
                    let unmet = unmet_requirements(sel, peer_labels);
                    if !unmet.is_empty() {
                        misses += unmet.len();
                        reasons.push(format!("wants pods with {}; {peer_name} does not match", unmet.join(", ")));
                        let labels: Vec<String> = sel.match_labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                        fixes.push(if labels.is_empty() {
                            format!("change the podSelector{} so it matches {peer_name}", at(origin))
                        } else {
                            format!(
                                "set the labels {} on the pod template of {peer_name}, or change the rule's podSelector{} to its labels",
                                labels.join(", "),
                                at(origin)
                            )
                        });
                    }
                }
                (misses > 0).then(|| (misses, reasons.join("; "), fixes.join("; ")))
            }
        }
    }
}

/// Policies that are not evaluated but can change the flow: an allowed flow becomes
/// unknown, and so does a denied one unless every such policy can only refuse traffic.
pub(super) fn unevaluated(step: &mut Step, mut uncertain: Vec<&Uncertainty>) {
    uncertain.sort_by(|a, b| a.what.cmp(&b.what));
    uncertain.dedup_by(|a, b| a.what == b.what && a.reason == b.reason);
    if uncertain.is_empty() {
        return;
    }
    let can_allow = uncertain.iter().any(|u| !u.restricts_only);
    let names: Vec<String> = uncertain.iter().map(|u| format!("{}{}", u.what, at(&u.origin))).collect();
    let reasons = uncertain.iter().map(|u| format!("{}: {}", u.what, u.reason));
    let lead =
        |verdict: &str| format!("the evaluated policies {verdict} it, but what is not evaluated can change that: {}", names.join(", "));
    match step.status {
        Status::Pass => {
            step.status = Status::Unknown;
            step.evidence.insert(0, lead("allow"));
            let names: Vec<&str> = uncertain.iter().map(|u| u.what.as_str()).collect();
            step.fix = Some(format!("read {} to see whether it refuses this flow{}", names.join(", "), crate::OR_PROBE));
        }
        Status::Fail if can_allow => {
            step.status = Status::Unknown;
            step.evidence.insert(0, lead("deny"));
        }
        _ => {}
    }
    step.evidence.extend(reasons);
}

/// `ingress` or `egress`, as policies spell the direction.
pub(super) fn direction_word(d: PolicyType) -> &'static str {
    match d {
        PolicyType::Ingress => "ingress",
        PolicyType::Egress => "egress",
    }
}

/// Why an ipBlock misses an outside address: outside the CIDR, or in an `except`.
pub(super) fn ip_block_miss(block: &IpBlock, addr: std::net::Ipv4Addr, origin: &Origin) -> Option<(usize, String, String)> {
    let ip = IpAddr::V4(addr);
    if !block.cidr.contains(&ip) {
        return Some((
            1,
            format!("allows ipBlock {}, which does not contain {addr}", block.cidr),
            format!("add `- ipBlock: {{cidr: {addr}/32}}` to the rule's peers{}", at(origin)),
        ));
    }
    let except = block.except.iter().find(|e| e.contains(&ip))?;
    Some((
        1,
        format!("allows ipBlock {} but its except {except} covers {addr}", block.cidr),
        format!(
            "narrow the except {except} of that ipBlock{} so it leaves out {addr}, or add `- ipBlock: {{cidr: {addr}/32}}` as another peer",
            at(origin)
        ),
    ))
}

//! Layer 3: the name resolves from the client's namespace, and the client may reach
//! the cluster DNS.

use super::*;

impl K8sWalk<'_, '_> {
    /// Layer 3: the name resolves from the client's namespace, and the client may reach
    /// the cluster DNS on UDP (and TCP) 53.
    pub(super) fn dns(&self, step: &mut Step, src: usize, target: &Target<'_>, to: &str) {
        let name = match target {
            Target::Address(_) => return step.set(Status::Skip, "the destination is an address: no lookup"),
            Target::Workload(_) if to.parse::<IpAddr>().is_ok() => {
                return step.set(Status::Skip, format!("asked about the address {to}: no lookup"));
            }
            // Named as a workload, reached through its Service: the client looks up the
            // Service's name, so the lookup is checked as the client would make it.
            Target::Workload(w) => match self.services_of(*w).first() {
                Some(s) => {
                    let fqdn = format!("{}.{}.{CLUSTER_DOMAIN}", s.name, s.namespace);
                    step.evidence.push(format!("reached through Service {}/{}: the client looks up {fqdn}", s.namespace, s.name));
                    fqdn
                }
                None => {
                    return step.set(
                        Status::Skip,
                        "no Service selects the destination, so it has no DNS name to look up: it is reached by pod address",
                    )
                }
            },
            Target::Service { service, other_namespace } => {
                if *other_namespace {
                    let client_ns = self.namespace_of(src);
                    step.fail(
                        format!(
                            "`{to}` looked up from namespace {client_ns} means {to}.{client_ns}.{CLUSTER_DOMAIN}, which does not exist; the Service is in namespace {}",
                            service.namespace
                        ),
                        format!("use the name {}.{} (or {}.{}.{CLUSTER_DOMAIN})", service.name, service.namespace, service.name, service.namespace),
                    );
                }
                format!("{}.{}.{CLUSTER_DOMAIN}", service.name, service.namespace)
            }
        };
        if step.status != Status::Fail {
            step.set(Status::Pass, format!("{name} is a Service name the cluster DNS answers"));
        }
        self.dns_reach(step, src);
    }

    /// Whether the client's policies (and the DNS pods') let it query cluster DNS.
    pub(super) fn dns_reach(&self, step: &mut Step, src: usize) {
        let with_dns = with_cluster_dns(self.cluster);
        let stand_in = matches!(with_dns, std::borrow::Cow::Owned(_));
        let built;
        let engine = if stand_in {
            built = PolicyEngine::new(&with_dns, self.engine.options);
            &built
        } else {
            self.engine
        };
        let src_name = self.workload_name(src);
        let Some(src_class) = engine.find_workload(&src_name).and_then(|w| engine.workloads.get(w)).map(|w| w.class) else { return };
        let access = engine.dns_access(src_class);
        let dns_pods = format!("the cluster DNS pods ({CLUSTER_DNS_NAMESPACE}, {}={})", CLUSTER_DNS_LABEL.0, CLUSTER_DNS_LABEL.1);
        let assumed = if stand_in { " (not in the manifests; assumed as every distribution deploys them)" } else { "" };
        if access.complete() {
            step.evidence.push(format!("{src_name} may query {dns_pods}{assumed} on UDP and TCP 53"));
            return;
        }
        let egress = engine.policies_selecting(src_class, PolicyType::Egress);
        let isolating = self.policy_names(&egress);
        let snippet = format!(
            "add this egress rule to {}:\n  - to:\n    - namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {CLUSTER_DNS_NAMESPACE}}}}}\n      podSelector: {{matchLabels: {{{}: {}}}}}\n    ports:\n    - {{protocol: UDP, port: 53}}\n    - {{protocol: TCP, port: 53}}",
            isolating.first().map_or("a NetworkPolicy selecting the client", String::as_str),
            CLUSTER_DNS_LABEL.0,
            CLUSTER_DNS_LABEL.1
        );
        let side = if egress.is_empty() {
            format!("the ingress policies of {dns_pods}")
        } else {
            format!("egress policies {}", isolating.join(", "))
        };
        if !access.udp {
            step.fail(format!("{src_name} cannot query {dns_pods}{assumed}: {side} allow no UDP 53 to them, so no name resolves"), snippet);
            step.rules.push("ND303");
        } else {
            step.evidence.push(format!(
                "{src_name} may query DNS over UDP but not TCP 53 ({side}): answers too large for UDP (truncated) will fail"
            ));
            step.rules.push("ND303");
        }
    }
}

//! Layer 3: the name resolves from the client's namespace, and the client may reach
//! the cluster DNS.

use super::*;

/// A name of the destination found in the client's configuration.
struct ConfiguredName<'c> {
    reference: &'c netdoctor_model::Reference,
    /// The Service it names; `None` when it names the destination workload itself and no
    /// Service is called that.
    service: Option<&'c Service>,
    /// Written without a namespace, so the search path adds the client's.
    bare: bool,
    /// The namespace the lookup is made in.
    namespace: String,
}

impl<'c> K8sWalk<'_, 'c> {
    /// Layer 3: the name resolves from the client's namespace, and the client may reach
    /// the cluster DNS on UDP (and TCP) 53.
    pub(super) fn dns(&self, step: &mut Step, src: usize, target: &Target<'c>, to: &str) {
        if let Some(named) = self.configured_name(src, target) {
            return self.dns_as_configured(step, src, &named);
        }
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

    /// Layer 3 for the name SRC's own configuration uses for the destination: it
    /// resolves from SRC's namespace only as the search path completes it.
    fn dns_as_configured(&self, step: &mut Step, src: usize, named: &ConfiguredName<'_>) {
        let client = self.workload_name(src);
        let client_ns = self.namespace_of(src);
        let (host, via) = (&named.reference.host, named.reference.via.describe());
        step.evidence.push(format!("{client} names it `{host}` ({via}){}", at(&named.reference.origin)));
        match named.service {
            Some(service) if named.bare && service.namespace != client_ns => step.fail(
                format!(
                    "`{host}` looked up from namespace {client_ns} means {host}.{client_ns}.{CLUSTER_DOMAIN}, which does not exist; the Service is in namespace {}",
                    service.namespace
                ),
                format!("write `{}.{}` instead of `{host}` in {via}{}", service.name, service.namespace, at(&named.reference.origin)),
            ),
            Some(service) => {
                step.set(Status::Pass, format!("{}.{}.{CLUSTER_DOMAIN} is a Service name the cluster DNS answers", service.name, service.namespace))
            }
            None => step.fail(
                format!(
                    "no Service is called `{host}` in namespace {}: the cluster DNS answers Service names, not Deployment or pod names",
                    named.namespace
                ),
                format!(
                    "add a Service named `{host}` in namespace {} selecting the destination's pods (or use the name of a Service that selects them)",
                    named.namespace
                ),
            ),
        }
        self.dns_reach(step, src);
    }

    /// The host SRC's configuration (environment, command, ConfigMaps) uses for the
    /// destination: a name of a Service that selects it (or is it), or the destination
    /// workload's own name when no Service is called that.
    fn configured_name(&self, src: usize, target: &Target<'c>) -> Option<ConfiguredName<'c>> {
        let services: Vec<&'c Service> = match target {
            Target::Workload(w) => self.services_of(*w),
            Target::Service { service, .. } => vec![*service],
            Target::Address(_) => return None,
        };
        let client_ns = self.namespace_of(src).to_string();
        let pods = self.engine.workloads.get(src)?.pods.iter().filter_map(|&p| self.cluster.pods.get(p));
        let references: Vec<&'c netdoctor_model::Reference> = pods.flat_map(|p| &p.references).filter(|r| r.ip().is_none()).collect();
        for r in &references {
            let host = r.host.trim_end_matches('.').to_ascii_lowercase();
            let parts: Vec<&str> = host.split('.').collect();
            let (name, namespace) = match parts.as_slice() {
                [name] => (*name, None),
                [name, ns] | [name, ns, "svc"] => (*name, Some(*ns)),
                [name, ns, "svc", "cluster", "local"] => (*name, Some(*ns)),
                _ => continue,
            };
            let service = services.iter().find(|s| s.name == name && namespace.is_none_or(|ns| s.namespace == ns));
            if let Some(service) = service {
                return Some(ConfiguredName {
                    reference: r,
                    service: Some(service),
                    bare: namespace.is_none(),
                    namespace: service.namespace.clone(),
                });
            }
        }
        // The destination's own name, with no Service of that name where it would resolve.
        let Target::Workload(w) = target else { return None };
        let owner = self.engine.workloads.get(*w)?.pods.first().and_then(|&p| self.cluster.pods.get(p))?.owner.name.clone();
        let dst_ns = self.namespace_of(*w).to_string();
        references.into_iter().find_map(|r| {
            let host = r.host.trim_end_matches('.').to_ascii_lowercase();
            let namespace = match host.split_once('.') {
                None if host == owner => client_ns.clone(),
                Some((name, rest)) if name == owner && (rest == dst_ns || rest.starts_with(&format!("{dst_ns}."))) => dst_ns.clone(),
                _ => return None,
            };
            let exists = self.cluster.services.iter().any(|s| s.name == owner && s.namespace == namespace);
            (!exists).then(|| ConfiguredName { reference: r, service: None, bare: !host.contains('.'), namespace })
        })
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

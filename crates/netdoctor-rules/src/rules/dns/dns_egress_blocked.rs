//! ND303: pods whose egress policies leave no way to the cluster DNS.

use crate::prelude::*;
use netdoctor_engine::policy::{with_cluster_dns, ClassId, PolicyEngine, PolicyRef, PolicyTier, CLUSTER_DNS_LABEL, CLUSTER_DNS_NAMESPACE};
use netdoctor_model::k8s::{PolicyType, NAMESPACE_NAME_LABEL};
use std::collections::{BTreeMap, HashMap};

declare_rule! {
    /// ## What it checks
    /// Pods whose egress is isolated by a NetworkPolicy (or denied by an admin policy) with no
    /// rule that lets them reach the cluster DNS pods (`kube-system`, `k8s-app=kube-dns`) on
    /// UDP 53 and TCP 53. When the manifests do not include the DNS pods, netdoctor assumes
    /// them as every distribution deploys them.
    ///
    /// ## Why it matters
    /// A default-deny egress policy that forgets DNS breaks every name lookup of the pods it
    /// selects: connections by Service name fail before a single packet reaches the peer, while
    /// the same connection by IP works, which sends people looking in the wrong place. Without
    /// TCP 53, large answers (truncated over UDP) fail only sometimes.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: { name: web-egress, namespace: shop }
    /// spec:
    ///   podSelector: { matchLabels: { app: web } }
    ///   policyTypes: [Egress]
    ///   egress:
    ///     - to: [{ podSelector: { matchLabels: { app: api } } }]
    /// ```
    ///
    /// ## Fix
    /// Add an egress rule to the cluster DNS: `to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]` with ports UDP 53 and TCP 53.
    pub struct DnsEgressBlocked => Error, "ND303";
}

impl Check for DnsEgressBlocked {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        if !(0..engine.classes.len()).any(|c| engine.is_isolated(c, PolicyType::Egress)) {
            return;
        }
        let cluster = &cx.model.k8s;
        let with_dns = with_cluster_dns(cluster);
        let built;
        let engine = if matches!(with_dns, std::borrow::Cow::Owned(_)) {
            built = PolicyEngine::new(&with_dns, engine.options);
            &built
        } else {
            engine
        };
        // Per deciding policy: (workloads without UDP 53, workloads without TCP 53 only).
        // Per pod class (workloads of one class get one answer): the policy to report at
        // and whether UDP 53 works, for the classes that lack DNS.
        let dns_classes = engine.cluster_dns_classes();
        let mut per_class: HashMap<ClassId, Option<(PolicyRef, bool)>> = HashMap::new();
        let mut by_policy: BTreeMap<PolicyRef, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for w in &engine.workloads {
            let lacking = *per_class.entry(w.class).or_insert_with(|| {
                if dns_classes.contains(&w.class) || !engine.is_isolated(w.class, PolicyType::Egress) {
                    return None;
                }
                let access = engine.dns_access_to(w.class, &dns_classes);
                let policy = engine.policies_selecting(w.class, PolicyType::Egress).first().copied();
                policy.filter(|_| !access.complete()).map(|p| (p, access.udp))
            });
            let Some((policy, udp)) = lacking else { continue };
            let entry = by_policy.entry(policy).or_default();
            if udp { &mut entry.1 } else { &mut entry.0 }.push(w.name());
        }
        let snippet = format!(
            "add an egress rule `to: [{{namespaceSelector: {{matchLabels: {{{NAMESPACE_NAME_LABEL}: {CLUSTER_DNS_NAMESPACE}}}}}, podSelector: {{matchLabels: {{{}: {}}}}}}}]` with `ports: [{{protocol: UDP, port: 53}}, {{protocol: TCP, port: 53}}]`",
            CLUSTER_DNS_LABEL.0, CLUSTER_DNS_LABEL.1
        );
        // The same rule in Calico's and in Cilium's syntax, for their policies.
        let calico_snippet = format!(
            "add an egress rule `{{action: Allow, protocol: UDP, destination: {{namespaceSelector: \"projectcalico.org/name == '{CLUSTER_DNS_NAMESPACE}'\", selector: \"{} == '{}'\", ports: [53]}}}}` and the same with `protocol: TCP`, before any rule that denies",
            CLUSTER_DNS_LABEL.0, CLUSTER_DNS_LABEL.1
        );
        let cilium_snippet = format!(
            "add an egress rule `{{toEndpoints: [{{matchLabels: {{io.kubernetes.pod.namespace: {CLUSTER_DNS_NAMESPACE}, {}: {}}}}}], toPorts: [{{ports: [{{port: \"53\", protocol: ANY}}]}}]}}`",
            CLUSTER_DNS_LABEL.0, CLUSTER_DNS_LABEL.1
        );
        for (policy, (no_udp, no_tcp)) in by_policy {
            let snippet = match policy.tier {
                PolicyTier::Calico => &calico_snippet,
                PolicyTier::Cilium => &cilium_snippet,
                _ => &snippet,
            };
            let (name, origin) = match policy.tier {
                PolicyTier::Network => match cluster.network_policies.get(policy.index) {
                    Some(p) => (format!("NetworkPolicy `{}`", p.full_name()), &p.origin),
                    None => continue,
                },
                PolicyTier::Admin | PolicyTier::Baseline => match cluster.admin_policies.get(policy.index) {
                    Some(p) => (format!("admin policy `{}`", p.name), &p.origin),
                    None => continue,
                },
                PolicyTier::Calico => match cluster.calico_policies.get(policy.index) {
                    Some(p) => (p.display_name(), &p.origin),
                    None => continue,
                },
                PolicyTier::Cilium => match cluster.cilium_policies.get(policy.index) {
                    Some(p) => (p.display_name(), &p.origin),
                    None => continue,
                },
            };
            if !no_udp.is_empty() {
                out.report(
                    origin,
                    format!(
                        "{name} isolates the egress of {} without allowing UDP 53 to the cluster DNS ({CLUSTER_DNS_NAMESPACE} pods {}={}): no name resolves from them",
                        no_udp.join(", "),
                        CLUSTER_DNS_LABEL.0,
                        CLUSTER_DNS_LABEL.1
                    ),
                )
                .subjects(no_udp.iter().cloned())
                .help(snippet.clone());
            }
            if !no_tcp.is_empty() {
                out.report(
                    origin,
                    format!(
                        "{name} lets {} query the cluster DNS over UDP 53 but not TCP 53: answers too large for UDP (truncated) fail",
                        no_tcp.join(", ")
                    ),
                )
                .subjects(no_tcp.iter().cloned())
                .severity(Severity::Warning)
                .help("add `{protocol: TCP, port: 53}` beside UDP 53 in the rule that reaches the cluster DNS");
            }
        }
    }
}

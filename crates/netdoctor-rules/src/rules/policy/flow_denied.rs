//! ND401: flows the configuration implies, denied by policy.

use crate::prelude::*;
use netdoctor_engine::policy::Endpoint;
use netdoctor_model::k8s::IngressKind;
use netdoctor_model::Protocol;

declare_rule! {
    /// ## What it checks
    /// Flows the configuration itself says must work, denied by the cluster's policies: an
    /// Ingress or OpenShift Route sends traffic through the ingress controller to a Service's
    /// pods, but the NetworkPolicies (or admin policies) selecting those pods do not admit the
    /// ingress controller on the port the Service targets. `netdoctor why` reports the same ID
    /// for the flow it was asked about.
    ///
    /// ## Why it matters
    /// The Ingress looks right, the Service has endpoints, and the application answers when
    /// tested from inside its namespace, yet every request from outside ends in a 502/504 from
    /// the ingress controller because a default-deny ingress policy never allowed it in.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: { name: deny-all, namespace: shop }
    /// spec: { podSelector: {}, policyTypes: [Ingress] }
    /// ---
    /// kind: Ingress
    /// metadata: { name: web, namespace: shop }
    /// spec: { defaultBackend: { service: { name: web, port: { number: 80 } } } }
    /// ```
    ///
    /// ## Fix
    /// Allow the ingress controller's namespace in a rule of a policy selecting the backend pods, e.g. `from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]` on the container port.
    pub struct FlowDenied => Error, "ND401";
}

impl Check for FlowDenied {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(engine) = cx.analysis.policy.as_ref() else { return };
        let Some(controller) = engine.ingress_controller else { return };
        let (exposures, _) = engine.exposures();
        for exposure in exposures {
            let Some(workload) = engine.workloads.get(exposure.workload) else { continue };
            let allowed = engine.allowed(Endpoint::Class(controller), Endpoint::Class(workload.class));
            let denied = exposure.conns.subtract(&allowed);
            if denied.is_empty() {
                continue;
            }
            let ports: Vec<String> = denied.ports(Protocol::Tcp).ranges().map(|r| r.to_string()).collect();
            for (kind, object) in &exposure.via {
                let found = cx.model.k8s.ingresses.iter().find(|i| i.kind == *kind && format!("{}/{}", i.namespace, i.name) == *object);
                let Some(ingress) = found else { continue };
                let kind = match kind {
                    IngressKind::Ingress => "Ingress",
                    IngressKind::Route => "Route",
                };
                out.report(
                    &ingress.origin,
                    format!(
                        "{kind} `{object}` sends traffic to {} on TCP {}, but the policies selecting it do not admit the ingress controller there",
                        workload.name(),
                        ports.join(",")
                    ),
                )
                .subjects([workload.name(), object.clone()])
                .help(format!(
                    "allow the ingress controller's namespace to {} on TCP {} in a NetworkPolicy selecting it (see `netdoctor matrix` for what is allowed now)",
                    workload.name(),
                    ports.join(",")
                ));
            }
        }
    }
}

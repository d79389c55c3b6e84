//! ND409: policy resources that decide traffic but are not evaluated.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Policy resources that netdoctor reads but does not evaluate: another CNI's own
    /// policies (Antrea's, Calico's HostEndpoints and Profiles), a service mesh's
    /// authorization (Istio, Linkerd, Kuma), egress firewalls (OVN-Kubernetes, OpenShift
    /// SDN), or an unknown kind whose name ends in `Policy`. Calico's and Cilium's
    /// NetworkPolicies are evaluated. Resources are told
    /// apart by API group and kind: `crd.antrea.io` `NetworkPolicy` is not
    /// `networking.k8s.io` `NetworkPolicy`.
    ///
    /// ## Why it matters
    /// Such a policy can deny flows that NetworkPolicies allow (or, for a CNI's own tiers,
    /// allow flows they deny). Every verdict it could change is reported `unknown` by
    /// `why` and marked in `matrix`, rather than `allowed`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: security.istio.io/v1
    /// kind: AuthorizationPolicy
    /// metadata: { name: deny-all, namespace: shop }
    /// spec: {}
    /// ```
    ///
    /// ## Fix
    /// Nothing is wrong with the resource itself: read it to judge the flows it can change, or test them live (`netdoctor why A B --port P --probe`).
    pub struct PolicyNotEvaluated => Warning, "ND409";
}

impl Check for PolicyNotEvaluated {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for policy in &cx.model.k8s.unevaluated {
            let affects = match &policy.namespace {
                Some(ns) => format!("flows to or from pods in namespace `{ns}`"),
                None => "flows of every pod".to_string(),
            };
            let message = format!("{} is not evaluated ({}): {affects} are reported unknown", policy.display_name(), policy.reason);
            out.report(&policy.origin, message).subjects([policy.name.clone()]).help(format!(
                "read `{}` to judge the flows it can change, or test them live with `netdoctor why A B --port P --probe`",
                policy.name
            ));
        }
    }
}

//! After the layers: whether the destination declares the port.

use super::*;

impl K8sWalk<'_, '_> {
    /// Layer 6: whether the destination declares the port (declarations are
    /// informational, so a missing one is unknown, not a failure).
    pub(super) fn listener(&self, backends: &[Backend]) -> crate::Listener {
        let Some(conn) = self.port else {
            return crate::Listener { status: Status::Unknown, evidence: vec!["no port given".into()], fix: None };
        };
        let Some((protocol, _)) = conn.port() else {
            return crate::Listener { status: Status::Skip, evidence: vec![crate::icmp_listener_note(conn)], fix: None };
        };
        let mut evidence = Vec::new();
        let mut all = !backends.is_empty();
        for b in backends {
            let declared = self
                .class_of(b.workload)
                .and_then(|c| self.engine.classes.get(c))
                .is_some_and(|c| c.ports.iter().any(|cp| Some(cp.port) == b.port && cp.protocol == protocol));
            let port = b.port.map_or("?".into(), |p| p.to_string());
            if declared {
                evidence.push(format!("{} declares container port {port}/{protocol}", self.workload_name(b.workload)));
            } else {
                all = false;
                evidence.push(format!(
                    "{} does not declare container port {port}/{protocol}: whether it listens is not in the manifests",
                    self.workload_name(b.workload)
                ));
            }
        }
        if backends.is_empty() {
            evidence.push("no pod to listen (see the layers above)".into());
        }
        crate::Listener { status: if all { Status::Pass } else { Status::Unknown }, evidence, fix: None }
    }
}

//! Exposure through the ingress controller: which workloads an Ingress or Route reaches
//! (through the Services it names), and on which TCP ports.
//!
//! As netpol-analyzer does, a port counts only when the workload declares it as a
//! container port, and a Service without a selector reaches nothing.

use super::engine::{EngineWarning, PolicyEngine};
use super::ports::{ConnSet, PortSet};
use super::selector::matches;
use netdoctor_model::k8s::{IngressKind, LabelSelector, PortRef, Service};
use netdoctor_model::Protocol;
use std::collections::BTreeMap;

/// A workload reached through Ingress or Route objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// Index into `PolicyEngine::workloads`.
    pub workload: usize,
    /// The TCP ports the exposing objects send traffic to.
    pub conns: ConnSet,
    /// The exposing objects, `ns/name` with their kind.
    pub via: Vec<(IngressKind, String)>,
}

impl PolicyEngine<'_> {
    /// Workloads in `namespace` a Service's selector matches.
    fn service_workloads(&self, svc: &Service) -> Vec<usize> {
        let Some(selector) = &svc.selector else { return Vec::new() };
        let sel = LabelSelector { match_labels: selector.clone(), match_expressions: Vec::new() };
        let class_of = |w: &super::engine::Workload| self.classes.get(w.class).map(|c| &c.labels);
        self.workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| w.namespace == svc.namespace && class_of(w).is_some_and(|l| matches(&sel, l)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The pod-side ports a backend reaches: the target port of the service port it
    /// names, or of every service port when it names none.
    fn target_ports(svc: &Service, port: Option<&PortRef>) -> Vec<PortRef> {
        let target = |p: &netdoctor_model::k8s::ServicePort| p.target_port.clone().unwrap_or(PortRef::Number(p.port));
        match port {
            None => svc.ports.iter().map(target).collect(),
            Some(wanted) => {
                let found = svc.ports.iter().find(|p| match wanted {
                    PortRef::Name(n) => p.name.as_deref() == Some(n.as_str()) || p.target_port.as_ref() == Some(wanted),
                    PortRef::Number(n) => p.port == *n || p.target_port.as_ref() == Some(wanted),
                });
                found.map(target).into_iter().collect()
            }
        }
    }

    /// The TCP connections reaching `workload` on `ports`.
    fn workload_ports(&self, workload: usize, ports: &[PortRef]) -> ConnSet {
        let mut conns = ConnSet::none();
        let Some(class) = self.workloads.get(workload).and_then(|w| self.classes.get(w.class)) else { return conns };
        for port in ports {
            let number = match port {
                PortRef::Number(n) => class.ports.iter().any(|cp| cp.port == *n).then_some(*n),
                PortRef::Name(name) => class
                    .ports
                    .iter()
                    .find(|cp| cp.name.as_deref() == Some(name.as_str()) && cp.protocol == Protocol::Tcp)
                    .map(|cp| cp.port),
            };
            if let Some(n) = number {
                conns.add(Protocol::Tcp, &PortSet::single(n));
            }
        }
        conns
    }

    /// Every workload the cluster's Ingress and Route objects expose, with the ports,
    /// plus warnings about backends that lead nowhere.
    pub fn exposures(&self) -> (Vec<Exposure>, Vec<EngineWarning>) {
        let mut warnings = Vec::new();
        let mut found: BTreeMap<usize, Exposure> = BTreeMap::new();
        for ing in &self.cluster.ingresses {
            let object = format!("{}/{}", ing.namespace, ing.name);
            for backend in &ing.backends {
                let svc = self.cluster.services.iter().find(|s| s.namespace == ing.namespace && s.name == backend.service);
                let Some(svc) = svc else {
                    let message = format!("`{object}` sends traffic to service `{}`, which is not in the input", backend.service);
                    warnings.push(EngineWarning { origin: backend.origin.clone(), message });
                    continue;
                };
                let targets = Self::target_ports(svc, backend.port.as_ref());
                for w in self.service_workloads(svc) {
                    let conns = self.workload_ports(w, &targets);
                    let entry = found.entry(w).or_insert_with(|| Exposure { workload: w, conns: ConnSet::none(), via: Vec::new() });
                    entry.conns.add_all(&conns);
                    if !entry.via.iter().any(|(k, n)| *k == ing.kind && *n == object) {
                        entry.via.push((ing.kind, object.clone()));
                    }
                }
            }
        }
        (found.into_values().collect(), warnings)
    }
}

//! Kubernetes objects: namespaces, pods (with their owning workload), services and
//! policies, as read from manifests or a live cluster.

use serde::Serialize;

/// Everything read from Kubernetes manifests or a cluster.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cluster {}

impl Cluster {
    /// Appends another cluster description (a second manifest tree) to this one.
    pub fn extend(&mut self, _other: Cluster) {}
}

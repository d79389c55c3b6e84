//! The rules, one file each, in folders by family.

pub mod attachment;
pub mod cni_firewall;
pub mod dns;
pub mod growth;
pub mod ip;
pub(crate) mod k8s;
pub mod policy;

/// The container to name in a `docker` command, for a workload read live with no
/// Compose file behind it (whose fix is a command, not an edit).
pub(crate) fn live_only_container(w: &netdoctor_model::Workload) -> Option<&str> {
    if w.origin.span().is_some() {
        return None;
    }
    let live = w.live.as_ref()?;
    live.containers.first().map(|c| c.name.as_str())
}

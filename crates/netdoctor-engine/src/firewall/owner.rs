//! Who writes a chain: the kernel (built-in chains), Docker (old and new layouts),
//! the user's DOCKER-USER hook, a firewall front end, or Kubernetes components.

/// The chains Docker creates and rewrites; a user's rules in them do not survive a restart.
/// `DOCKER-FORWARD`, `DOCKER-BRIDGE`, `DOCKER-CT` and `DOCKER-INTERNAL` arrived with
/// Docker 28; older engines put the same rules straight into FORWARD.
pub const DOCKER_CHAINS: &[&str] = &[
    "DOCKER",
    "DOCKER-FORWARD",
    "DOCKER-BRIDGE",
    "DOCKER-CT",
    "DOCKER-INTERNAL",
    "DOCKER-ISOLATION-STAGE-1",
    "DOCKER-ISOLATION-STAGE-2",
    "DOCKER-INGRESS",
];

/// The chain Docker leaves to the user and jumps to before any of its own rules.
pub const DOCKER_USER: &str = "DOCKER-USER";

/// Who writes a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainOwner {
    /// INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING.
    Builtin,
    Docker,
    DockerUser,
    Ufw,
    Firewalld,
    /// kube-proxy, kubelet and CNI plugins (KUBE-*, cali-*, CILIUM_*, FLANNEL-*).
    Kubernetes,
    /// Anything else: the administrator's own chains.
    Other,
}

impl ChainOwner {
    pub fn of(chain: &str) -> ChainOwner {
        if matches!(chain, "INPUT" | "FORWARD" | "OUTPUT" | "PREROUTING" | "POSTROUTING") {
            ChainOwner::Builtin
        } else if chain == DOCKER_USER {
            ChainOwner::DockerUser
        } else if DOCKER_CHAINS.contains(&chain) {
            ChainOwner::Docker
        } else if chain.starts_with("ufw-") || chain.starts_with("ufw6-") {
            ChainOwner::Ufw
        } else if chain.ends_with("_direct") || chain.starts_with("FWD_") || chain.starts_with("IN_") || chain.contains("_ZONES") {
            ChainOwner::Firewalld
        } else if chain.starts_with("KUBE-") || chain.starts_with("cali-") || chain.starts_with("CILIUM_") || chain.starts_with("FLANNEL") {
            ChainOwner::Kubernetes
        } else {
            ChainOwner::Other
        }
    }
}

//! ND4xx: Kubernetes network policy.

mod flow_denied;

pub use flow_denied::FlowDenied;

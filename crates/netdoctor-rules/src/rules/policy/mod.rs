//! ND4xx: Kubernetes NetworkPolicy.

// The rule files of this folder (`mod`, and `pub use` of each rule), listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules_policy.rs"));

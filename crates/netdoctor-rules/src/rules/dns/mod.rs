//! ND3xx: name resolution.

// The rule files of this folder (`mod`, and `pub use` of each rule), listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules_dns.rs"));

pub(crate) use cluster_dns_unhealthy::is_cluster_dns_service;

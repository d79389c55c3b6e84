//! ND2xx: addressing, subnets, IPAM, routes, MTU.

// The rule files of this folder (`mod`, and `pub use` of each rule), listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules_ip.rs"));

//! ND1xx: is the workload on the network it needs.

// The rule files of this folder (`mod`, and `pub use` of each rule), listed by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules_attachment.rs"));

pub(crate) use default_bridge::on_predefined_bridge;

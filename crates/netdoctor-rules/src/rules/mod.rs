//! The rules, one file each, in folders by family.

pub mod attachment;
pub mod cni_firewall;
pub mod dns;
pub mod growth;
pub mod ip;
pub(crate) mod k8s;
pub mod policy;

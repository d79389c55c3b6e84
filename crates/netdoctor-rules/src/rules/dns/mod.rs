//! ND3xx: name resolution.

mod alias_collision;
mod cluster_dns_unhealthy;
mod dns_egress_blocked;
mod dns_override_broken;
mod hostnet_dnspolicy;
mod name_unresolvable;

pub use alias_collision::AliasCollision;
pub(crate) use cluster_dns_unhealthy::is_cluster_dns_service;
pub use cluster_dns_unhealthy::ClusterDnsUnhealthy;
pub use dns_egress_blocked::DnsEgressBlocked;
pub use dns_override_broken::DnsOverrideBroken;
pub use hostnet_dnspolicy::HostnetDnspolicy;
pub use name_unresolvable::NameUnresolvable;

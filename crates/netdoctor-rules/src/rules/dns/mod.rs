//! ND3xx: name resolution.

mod alias_collision;
mod dns_egress_blocked;
mod dns_override_broken;
mod name_unresolvable;

pub use alias_collision::AliasCollision;
pub use dns_egress_blocked::DnsEgressBlocked;
pub use dns_override_broken::DnsOverrideBroken;
pub use name_unresolvable::NameUnresolvable;

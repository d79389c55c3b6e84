//! ND6xx: capacity and scale limits.

mod address_pool_exhaustion;
mod conntrack_pressure;
mod policy_bloat;

pub use address_pool_exhaustion::AddressPoolExhaustion;
pub use conntrack_pressure::ConntrackPressure;
pub use policy_bloat::PolicyBloat;

//! ND6xx: capacity and scale limits.

mod address_pool_exhaustion;
mod policy_bloat;

pub use address_pool_exhaustion::AddressPoolExhaustion;
pub use policy_bloat::PolicyBloat;

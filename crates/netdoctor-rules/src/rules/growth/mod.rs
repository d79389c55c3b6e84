//! ND6xx: capacity and scale limits.

mod address_pool_exhaustion;

pub use address_pool_exhaustion::AddressPoolExhaustion;

//! ND2xx: addressing, subnets, IPAM, routes, MTU.

mod hardcoded_ip;
mod ipam_inconsistent;
mod ipv6_half_configured;
mod mtu_mismatch;
mod overlaps_external_range;
mod static_ip_invalid;
mod subnet_overlap;

pub use hardcoded_ip::HardcodedIp;
pub use ipam_inconsistent::IpamInconsistent;
pub use ipv6_half_configured::Ipv6HalfConfigured;
pub use mtu_mismatch::MtuMismatch;
pub use overlaps_external_range::OverlapsExternalRange;
pub use static_ip_invalid::StaticIpInvalid;
pub use subnet_overlap::SubnetOverlap;

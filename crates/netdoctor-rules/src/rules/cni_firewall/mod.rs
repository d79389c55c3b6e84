//! ND5xx: CNI, overlay and host firewall.

mod exposed_on_all_interfaces;

pub use exposed_on_all_interfaces::ExposedOnAllInterfaces;

//! Facts about the host containers run on: firewall rule sets, routes, addresses,
//! sysctls and the container runtime's daemon settings.

use serde::Serialize;

/// What was read about one host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostFacts {}

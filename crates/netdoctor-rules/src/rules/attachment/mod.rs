//! ND1xx: is the workload on the network it needs.

mod default_bridge;
mod external_network_missing;
mod host_network;
mod internal_only_published;
mod legacy_links;
mod network_mode_conflict;
mod no_shared_network;
mod peer_not_running;
mod ports_ignored;
mod service_no_endpoints;
mod service_port_mismatch;
mod undefined_network;
mod unused_network;

pub(crate) use default_bridge::on_predefined_bridge;
pub use default_bridge::DefaultBridge;
pub use external_network_missing::ExternalNetworkMissing;
pub use host_network::HostNetwork;
pub use internal_only_published::InternalOnlyPublished;
pub use legacy_links::LegacyLinks;
pub use network_mode_conflict::NetworkModeConflict;
pub use no_shared_network::NoSharedNetwork;
pub use peer_not_running::PeerNotRunning;
pub use ports_ignored::PortsIgnored;
pub use service_no_endpoints::ServiceNoEndpoints;
pub use service_port_mismatch::ServicePortMismatch;
pub use undefined_network::UndefinedNetwork;
pub use unused_network::UnusedNetwork;

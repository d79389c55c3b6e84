//! The parts of the Engine API's JSON that lowering reads, as lenient serde structs:
//! every field is optional and unknown fields are ignored, so the same code reads
//! the daemon's replies, `docker inspect` output and snapshots written by older or
//! newer netdoctors (and Podman's compatible API).

use serde::Deserialize;
use std::collections::BTreeMap;

/// `GET /containers/{id}/json`, as `docker inspect` prints it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    /// With Docker's leading `/`.
    pub name: String,
    pub image: String,
    pub state: State,
    pub config: Config,
    pub host_config: HostConfig,
    pub network_settings: NetworkSettings,
}

impl ContainerInspect {
    /// The name without Docker's leading `/`.
    pub fn short_name(&self) -> &str {
        self.name.trim_start_matches('/')
    }

    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.config.labels.as_ref().and_then(|l| l.get(key)).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct State {
    pub status: String,
    pub running: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub health: Option<Health>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Health {
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub domainname: String,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub image: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub healthcheck: Option<Healthcheck>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Healthcheck {
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct HostConfig {
    pub network_mode: String,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub publish_all_ports: bool,
    pub dns: Option<Vec<String>>,
    pub dns_options: Option<Vec<String>>,
    pub dns_search: Option<Vec<String>>,
    pub extra_hosts: Option<Vec<String>>,
    pub links: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// The bindings in effect while the container runs (`null` per port when unpublished).
    pub ports: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub networks: Option<BTreeMap<String, EndpointSettings>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    pub links: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    /// API 1.44+: every name the embedded DNS serves for the endpoint.
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    pub mac_address: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EndpointIpamConfig {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: Option<String>,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: Option<String>,
}

/// `GET /networks/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct NetworkInspect {
    pub name: String,
    pub id: String,
    pub scope: String,
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub options: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

impl NetworkInspect {
    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref().and_then(|l| l.get(key)).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: String,
    pub config: Option<Vec<IpamConfig>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct IpamConfig {
    pub subnet: String,
    #[serde(rename = "IPRange")]
    pub ip_range: String,
    pub gateway: String,
    pub auxiliary_addresses: Option<BTreeMap<String, String>>,
}

/// The parts of `GET /info` and `GET /version` that shape container networking.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Info {
    pub server_version: String,
    pub operating_system: String,
    pub kernel_version: String,
    #[serde(rename = "IPv4Forwarding")]
    pub ipv4_forwarding: Option<bool>,
    pub bridge_nf_iptables: Option<bool>,
    pub security_options: Option<Vec<String>>,
    pub warnings: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Version {
    pub version: String,
    pub api_version: String,
}

/// `GET /images/{id}/json`: only what tells a container's own settings from its image's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub config: Option<Config>,
}

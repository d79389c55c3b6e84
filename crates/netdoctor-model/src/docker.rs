//! Facts only a running Docker Engine knows: the engine itself, each container's
//! state and the addresses it actually got, and each network's identity and the
//! subnets the daemon really allocated. Attached to the static model objects
//! (`Workload::live`, `Network::live`, `Model::engine`); `None` there means the engine
//! was not read, never "not running".

use crate::Origin;
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// The network driver option that turns inter-container traffic on a bridge on or off.
pub const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";

/// The engine a model was read from.
#[derive(Debug, Clone, Serialize)]
pub struct Engine {
    /// How it was reached: `unix:///var/run/docker.sock`, `tcp://host:2375`.
    pub endpoint: String,
    /// The daemon's version (`20.10.24`).
    pub version: String,
    /// The API version both sides agreed on.
    pub api_version: String,
    pub operating_system: String,
    pub kernel_version: String,
    /// Whether the daemon runs rootless (its container processes are not ours to enter).
    pub rootless: bool,
    /// `IPv4Forwarding` as the daemon reports it.
    pub ipv4_forwarding: Option<bool>,
    /// `BridgeNfIptables` as the daemon reports it.
    pub bridge_nf_iptables: Option<bool>,
    /// Warnings the daemon prints in `docker info`.
    pub warnings: Vec<String>,
    pub origin: Origin,
}

/// The lifecycle state of a container, as `docker inspect` reports `State.Status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// A status this netdoctor does not know, kept as written.
    Other(String),
}

impl ContainerState {
    /// Parses `State.Status`.
    pub fn parse(status: &str) -> ContainerState {
        match status {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            other => ContainerState::Other(other.to_string()),
        }
    }

    /// Whether the container's network stack exists and answers (a paused container
    /// keeps its addresses but its processes answer nothing).
    pub fn is_up(&self) -> bool {
        matches!(self, ContainerState::Running)
    }

    pub fn as_str(&self) -> &str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Removing => "removing",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Other(s) => s,
        }
    }
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the engine reports about the containers of one workload.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Live {
    /// The workload's containers (one per replica); empty when none exists.
    pub containers: Vec<Container>,
}

impl Live {
    /// Whether at least one container is running.
    pub fn any_running(&self) -> bool {
        self.containers.iter().any(|c| c.state.is_up())
    }

    /// Why the workload is not running, to follow its name: `is exited (code 1)`,
    /// `has never been started`, `has no container`.
    pub fn not_running(&self) -> String {
        match self.containers.as_slice() {
            [] => "has no container".to_string(),
            [c] => match c.exit_code {
                Some(code) if c.state.as_str() == "exited" => format!("is exited (code {code})"),
                _ if c.state.as_str() == "created" => "has never been started".to_string(),
                _ => format!("is {}", c.state),
            },
            many => {
                let states: Vec<String> = many.iter().map(|c| format!("{} {}", c.name, c.state)).collect();
                format!("has no running container ({})", states.join(", "))
            }
        }
    }
}

/// One container as the engine reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Container {
    pub id: String,
    /// The name without Docker's leading `/`.
    pub name: String,
    pub state: ContainerState,
    /// The host PID of its init process while running (its network namespace is
    /// `/proc/<pid>/ns/net`).
    pub pid: Option<u32>,
    pub exit_code: Option<i64>,
    /// `healthy`, `unhealthy` or `starting`, when the image or run has a healthcheck.
    pub health: Option<String>,
    /// `HostConfig.NetworkMode` as written (`default`, `bridge`, `host`, `container:<id>`, a network name).
    pub network_mode: String,
    /// One per network the container is connected to (kept while it is stopped).
    pub endpoints: Vec<Endpoint>,
    pub origin: Origin,
}

impl Container {
    /// The endpoint on network `name` (engine name).
    pub fn endpoint(&self, network: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.network == network)
    }
}

/// A container's membership of one network, with the addresses it really got.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// The network's engine name.
    pub network: String,
    pub network_id: String,
    /// Address and prefix, while the container runs.
    pub ipv4: Option<IpNet>,
    pub ipv6: Option<IpNet>,
    pub gateway: Option<IpAddr>,
    pub mac_address: Option<String>,
    /// Every name the embedded DNS serves for it on this network besides its container name.
    pub aliases: Vec<String>,
}

/// What the engine reports about one network beyond its configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveNetwork {
    pub id: String,
    /// `local`, `swarm` or `global`.
    pub scope: String,
    /// The subnets the daemon allocated (declared or taken from its default pools).
    pub subnets: Vec<IpNet>,
    pub gateways: Vec<IpAddr>,
}

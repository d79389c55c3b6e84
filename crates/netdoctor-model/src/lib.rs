//! The shared data model every source lowers into and every later stage reads:
//! workloads, the networks they join, the names they answer to, the peers they refer
//! to, and where each fact came from. Plain data only: no I/O, no evaluation.

pub mod calico;
pub mod calico_policy;
pub mod cilium;
pub mod docker;
pub mod host;
pub mod k8s;
mod origin;
mod port;
mod redact;

pub use origin::{Located, Origin, Span};
pub use port::{PortRange, Protocol};
pub use redact::{redact_url_userinfo, redact_value};

use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Everything the sources read, lowered into one description of the container network.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Model {
    pub projects: Vec<Project>,
    pub networks: Vec<Network>,
    pub workloads: Vec<Workload>,
    /// Source positions whose rest-of-line text is a secret-bearing value (environment,
    /// command): renderers mask them when they show a source excerpt.
    pub sensitive: Vec<Span>,
    /// Kubernetes objects, when a cluster or manifests were read.
    pub k8s: k8s::Cluster,
    /// The host's firewall, routes and settings, when they were read.
    pub host: Option<host::HostFacts>,
    /// The Docker Engine the live facts came from, when one was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<docker::Engine>,
}

impl Model {
    /// Records that `client` (a service name, or `project/service`) is expected to reach
    /// `host` on `port`, as a reference of that workload. `false` when no loaded
    /// workload is `client`.
    pub fn expect_flow(&mut self, client: &str, host: &str, port: Option<u16>, origin: &Origin) -> bool {
        let (project, name) = match client.split_once('/') {
            Some((p, s)) => (Some(p), s),
            None => (None, client),
        };
        let found = self.workloads.iter_mut().find(|w| w.name == name && project.is_none_or(|p| w.project.as_deref() == Some(p)));
        let Some(w) = found else { return false };
        w.references.push(Reference { host: host.to_string(), port, via: ReferenceVia::Expected, origin: origin.clone() });
        true
    }

    /// Networks declared by one project, in declaration order.
    /// Live networks and containers outside any project answer to the project `""`.
    pub fn networks_of<'a>(&'a self, project: &'a str) -> impl Iterator<Item = &'a Network> + 'a {
        self.networks.iter().filter(move |n| n.project.as_deref().unwrap_or_default() == project)
    }

    /// Workloads of one project, in declaration order.
    pub fn workloads_of<'a>(&'a self, project: &'a str) -> impl Iterator<Item = &'a Workload> + 'a {
        self.workloads.iter().filter(move |w| w.project.as_deref().unwrap_or_default() == project)
    }

    /// The network a project knows under `key` (its Compose key, e.g. `backend`).
    pub fn network(&self, project: &str, key: &str) -> Option<&Network> {
        self.networks.iter().find(|n| n.project.as_deref().unwrap_or_default() == project && n.key == key)
    }

    /// The workload of a project called `name`.
    pub fn workload(&self, project: &str, name: &str) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.project.as_deref().unwrap_or_default() == project && w.name == name)
    }

    /// Appends another model (e.g. a second project) to this one.
    pub fn extend(&mut self, other: Model) {
        self.projects.extend(other.projects);
        self.networks.extend(other.networks);
        self.workloads.extend(other.workloads);
        self.sensitive.extend(other.sensitive);
        self.k8s.extend(other.k8s);
        if other.host.is_some() {
            self.host = other.host;
        }
        if other.engine.is_some() {
            self.engine = other.engine;
        }
    }
}

/// A Compose project (or, later, another grouping of workloads).
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub name: String,
    /// The files that were merged to make it, in merge order.
    pub files: Vec<PathBuf>,
    pub working_dir: PathBuf,
    pub origin: Origin,
}

/// A network workloads can join.
#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// The key the project uses for it (`default`, `backend`).
    pub key: String,
    /// The engine's name for it (`myapp_backend`, or an explicit/external `name:`).
    pub name: String,
    pub project: Option<String>,
    /// `None` means the engine default (`bridge` on a single host).
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub internal: bool,
    pub attachable: bool,
    pub external: bool,
    pub enable_ipv6: Option<bool>,
    pub enable_ipv4: Option<bool>,
    pub ipam: Ipam,
    pub labels: BTreeMap<String, String>,
    /// `com.docker.network.driver.mtu`, when set.
    pub mtu: Option<Located<u32>>,
    /// Created by Compose without being declared (the `default` network).
    pub implicit: bool,
    /// What the engine reports about it, when it was read live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<docker::LiveNetwork>,
    pub origin: Origin,
}

impl Network {
    /// A network with every setting at the engine default.
    pub fn new(key: impl Into<String>, name: impl Into<String>, project: Option<String>, origin: Origin) -> Network {
        Network {
            key: key.into(),
            name: name.into(),
            project,
            driver: None,
            driver_opts: BTreeMap::new(),
            internal: false,
            attachable: false,
            external: false,
            enable_ipv6: None,
            enable_ipv4: None,
            ipam: Ipam::default(),
            labels: BTreeMap::new(),
            mtu: None,
            implicit: false,
            live: None,
            origin,
        }
    }

    /// The driver in effect, with the engine default filled in.
    pub fn effective_driver(&self) -> &str {
        self.driver.as_deref().unwrap_or("bridge")
    }

    /// Whether containers on this bridge may talk to each other: the driver option
    /// `com.docker.network.bridge.enable_icc` (Docker parses it like Go's `ParseBool`),
    /// on by default.
    pub fn icc_enabled(&self) -> bool {
        !self.driver_opts.get(docker::ICC_OPTION).is_some_and(|v| matches!(v.trim(), "0" | "f" | "F" | "false" | "FALSE" | "False"))
    }

    /// Whether the engine resolves container names on this network (every
    /// user-defined network does; the predefined `bridge` does not).
    pub fn has_embedded_dns(&self) -> bool {
        let predefined_bridge = self.external && self.name == "bridge";
        !predefined_bridge && !matches!(self.effective_driver(), "host" | "none" | "null")
    }
}

/// IP address management settings of a network.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ipam {
    pub driver: Option<String>,
    pub configs: Vec<IpamConfig>,
}

/// One `ipam.config` entry. Values are kept as written so malformed ones can be reported.
#[derive(Debug, Clone, Serialize)]
pub struct IpamConfig {
    pub subnet: Option<Located<String>>,
    pub ip_range: Option<Located<String>>,
    pub gateway: Option<Located<String>>,
    pub aux_addresses: Vec<(String, Located<String>)>,
    pub origin: Origin,
}

impl IpamConfig {
    /// The subnet parsed, if it is well-formed.
    pub fn subnet_net(&self) -> Option<IpNet> {
        self.subnet.as_ref().and_then(|s| s.value.parse().ok())
    }
}

/// What kind of thing a workload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    ComposeService,
    /// A container read from a live engine that no Compose file describes.
    Container,
}

/// A service, container or pod: something with a network stack that talks to peers.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    pub project: Option<String>,
    pub kind: WorkloadKind,
    pub image: Option<String>,
    pub container_name: Option<Located<String>>,
    pub hostname: Option<Located<String>>,
    pub domainname: Option<Located<String>>,
    pub replicas: u32,
    pub network_mode: Option<Located<NetworkMode>>,
    /// Whether the service lists `networks:` itself (otherwise it joins `default`).
    pub declares_networks: bool,
    /// Declared network memberships (the implicit `default` included when it applies).
    pub attachments: Vec<Attachment>,
    pub ports: Vec<PortBinding>,
    pub expose: Vec<Located<PortRange>>,
    pub dns: Vec<Located<String>>,
    pub dns_search: Vec<Located<String>>,
    pub dns_opt: Vec<Located<String>>,
    pub extra_hosts: Vec<ExtraHost>,
    pub links: Vec<Link>,
    pub external_links: Vec<Link>,
    pub depends_on: Vec<Located<String>>,
    /// Peers this workload refers to, found in its configuration.
    pub references: Vec<Reference>,
    pub has_healthcheck: bool,
    /// Its containers as the engine reports them, when it was read live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<docker::Live>,
    pub origin: Origin,
}

impl Workload {
    /// The container to name in a `docker` command, for a workload read live with no
    /// Compose file behind it (whose fix is a command, not an edit).
    pub fn live_only_container(&self) -> Option<&str> {
        if self.origin.span().is_some() {
            return None;
        }
        let live = self.live.as_ref()?;
        live.containers.first().map(|c| c.name.as_str())
    }

    /// A workload with one replica and nothing configured yet.
    pub fn new(name: impl Into<String>, project: Option<String>, kind: WorkloadKind, origin: Origin) -> Workload {
        Workload {
            name: name.into(),
            project,
            kind,
            image: None,
            container_name: None,
            hostname: None,
            domainname: None,
            replicas: 1,
            network_mode: None,
            declares_networks: false,
            attachments: Vec::new(),
            ports: Vec::new(),
            expose: Vec::new(),
            dns: Vec::new(),
            dns_search: Vec::new(),
            dns_opt: Vec::new(),
            extra_hosts: Vec::new(),
            links: Vec::new(),
            external_links: Vec::new(),
            depends_on: Vec::new(),
            references: Vec::new(),
            has_healthcheck: false,
            live: None,
            origin,
        }
    }

    /// Whether the workload's `network_mode` is `host`.
    pub fn is_host_network(&self) -> bool {
        matches!(self.network_mode.as_ref().map(|m| &m.value), Some(NetworkMode::Host))
    }

    /// The Compose default container name of replica `n` (1-based).
    pub fn default_container_name(&self, n: u32) -> String {
        match &self.project {
            Some(p) => format!("{p}-{}-{n}", self.name),
            None => format!("{}-{n}", self.name),
        }
    }

    /// The attachment to network `key`, if any.
    pub fn attachment(&self, key: &str) -> Option<&Attachment> {
        self.attachments.iter().find(|a| a.network == key)
    }
}

/// `network_mode` values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "mode", content = "target")]
pub enum NetworkMode {
    /// Docker's predefined `bridge` network (no embedded DNS).
    Bridge,
    Host,
    None,
    /// Share the network stack of another service of the project.
    Service(String),
    /// Share the network stack of a named container.
    Container(String),
    /// Join a network by engine name (`network_mode: mynet`).
    Network(String),
}

/// A workload's membership of one network.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// The project's key of the network.
    pub network: String,
    pub aliases: Vec<Located<String>>,
    pub ipv4_address: Option<Located<String>>,
    pub ipv6_address: Option<Located<String>>,
    pub link_local_ips: Vec<Located<String>>,
    pub mac_address: Option<Located<String>>,
    pub priority: Option<i64>,
    pub gw_priority: Option<i64>,
    pub interface_name: Option<String>,
    /// Added by Compose, not written (the `default` network of a service without `networks:`).
    pub implicit: bool,
    pub origin: Origin,
}

impl Attachment {
    /// A plain membership of network `network`, with no aliases or fixed addresses.
    pub fn new(network: impl Into<String>, origin: Origin) -> Attachment {
        Attachment {
            network: network.into(),
            aliases: Vec::new(),
            ipv4_address: None,
            ipv6_address: None,
            link_local_ips: Vec::new(),
            mac_address: None,
            priority: None,
            gw_priority: None,
            interface_name: None,
            implicit: false,
            origin,
        }
    }
}

/// A published port (`ports:`).
#[derive(Debug, Clone, Serialize)]
pub struct PortBinding {
    pub host_ip: Option<IpAddr>,
    pub published: Option<PortRange>,
    pub target: PortRange,
    pub protocol: Protocol,
    pub origin: Origin,
}

/// An `extra_hosts` entry.
#[derive(Debug, Clone, Serialize)]
pub struct ExtraHost {
    pub name: String,
    pub address: String,
    pub origin: Origin,
}

/// A `links`/`external_links` entry: `target[:alias]`.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub target: String,
    pub alias: Option<String>,
    pub origin: Origin,
}

/// Where in its configuration a workload names a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum ReferenceVia {
    /// An environment variable (the name only: values are never kept for output).
    Env(String),
    Command,
    Entrypoint,
    Healthcheck,
    DependsOn,
    Link,
    ExternalLink,
    /// A flow declared as expected in the configuration file.
    Expected,
    /// A key of a Kubernetes ConfigMap the pod reads (as environment or as files).
    ConfigMap {
        name: String,
        key: String,
    },
}

impl ReferenceVia {
    /// A short description for messages: `env DATABASE_URL`, `depends_on`.
    pub fn describe(&self) -> String {
        match self {
            ReferenceVia::Env(var) => format!("env {var}"),
            ReferenceVia::Command => "command".into(),
            ReferenceVia::Entrypoint => "entrypoint".into(),
            ReferenceVia::Healthcheck => "healthcheck".into(),
            ReferenceVia::DependsOn => "depends_on".into(),
            ReferenceVia::Link => "links".into(),
            ReferenceVia::ExternalLink => "external_links".into(),
            ReferenceVia::Expected => "expected flow".into(),
            ReferenceVia::ConfigMap { name, key } => format!("ConfigMap {name} key {key}"),
        }
    }

    /// Whether the reference is a name the workload actually looks up at run time
    /// (as opposed to an ordering hint such as `depends_on`).
    pub fn is_lookup(&self) -> bool {
        !matches!(self, ReferenceVia::DependsOn)
    }
}

/// A peer a workload refers to: a host name or a literal address, maybe with a port.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub host: String,
    pub port: Option<u16>,
    pub via: ReferenceVia,
    pub origin: Origin,
}

impl Reference {
    /// The referenced host as an IP address, when it is a literal one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.trim_start_matches('[').trim_end_matches(']').parse().ok()
    }
}

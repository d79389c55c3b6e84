//! Lowering a `DockerSnapshot` into the model. Containers started by Compose (labels
//! `com.docker.compose.project`/`service`) become one workload per service; when the
//! project's Compose files (label `com.docker.compose.project.config_files`) are
//! readable, the project is loaded from them so findings point at their lines, and
//! the live facts (state, addresses, actual memberships, allocated subnets) are
//! merged in. Every other container is a workload of its own, outside any project.

use super::raw::{self, ContainerInspect, EndpointSettings, ImageInspect, NetworkInspect};
use super::snapshot::DockerSnapshot;
use crate::compose::{self, refs, LoadOptions};
use crate::error::LoadError;
use ipnet::IpNet;
use netdoctor_model::docker::{Container, ContainerState, Endpoint, Engine, Live, LiveNetwork};
use netdoctor_model::{
    Attachment, ExtraHost, IpamConfig, Link, Located, Model, Network, NetworkMode, Origin, PortBinding, PortRange, Project, Protocol,
    Reference, ReferenceVia, Workload, WorkloadKind,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Compose's labels on the containers and networks it creates.
pub mod label {
    pub const PROJECT: &str = "com.docker.compose.project";
    pub const SERVICE: &str = "com.docker.compose.service";
    pub const NETWORK: &str = "com.docker.compose.network";
    pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
    pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
    pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
}

/// The networks every engine has.
const PREDEFINED: &[&str] = &["bridge", "host", "none"];

/// Which containers to lower.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Compose project names; a container of one of them is selected.
    pub projects: Vec<String>,
    /// Container names or ID prefixes.
    pub containers: Vec<String>,
}

impl Selection {
    /// Whether nothing narrows the selection.
    pub fn is_all(&self) -> bool {
        self.projects.is_empty() && self.containers.is_empty()
    }

    fn matches(&self, c: &ContainerInspect) -> bool {
        if self.is_all() {
            return true;
        }
        let in_project = c.label(label::PROJECT).is_some_and(|p| self.projects.iter().any(|s| s == p));
        let named = self.containers.iter().any(|s| s == c.short_name() || (s.len() >= 4 && c.id.starts_with(s.as_str())));
        in_project || named
    }
}

/// How to lower.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    pub selection: Selection,
    /// Load the Compose files of labelled projects, when readable, for file positions.
    pub read_compose_files: bool,
    /// Values for interpolating those Compose files (the process environment).
    pub environment: BTreeMap<String, String>,
}

/// The model of a snapshot, and what could not be understood in it.
#[derive(Debug, Default)]
pub struct Lowered {
    pub model: Model,
    pub errors: Vec<LoadError>,
}

/// Lowers a snapshot into the model.
pub fn lower(snapshot: &DockerSnapshot, opts: &LowerOptions) -> Lowered {
    let mut errors = Vec::new();
    let source = PathBuf::from(&snapshot.endpoint);
    let mut containers: Vec<ContainerInspect> = Vec::new();
    for (i, value) in snapshot.containers.iter().enumerate() {
        match serde_json::from_value::<ContainerInspect>(value.clone()) {
            Ok(c) if !c.id.is_empty() => containers.push(c),
            Ok(_) => errors.push(LoadError::unlocated(&source, format!("container #{i} of the snapshot has no `Id`"))),
            Err(e) => errors.push(LoadError::unlocated(&source, format!("container #{i} of the snapshot is not understood: {e}"))),
        }
    }
    let networks: Vec<NetworkInspect> = snapshot
        .networks
        .iter()
        .filter_map(|v| match serde_json::from_value::<NetworkInspect>(v.clone()) {
            Ok(n) if !n.name.is_empty() => Some(n),
            Ok(_) => None,
            Err(e) => {
                errors.push(LoadError::unlocated(&source, format!("a network of the snapshot is not understood: {e}")));
                None
            }
        })
        .collect();
    let images: HashMap<String, ImageInspect> =
        snapshot.images.iter().filter_map(|v| serde_json::from_value::<ImageInspect>(v.clone()).ok()).map(|i| (i.id.clone(), i)).collect();
    errors.extend(snapshot.errors.iter().map(|e| LoadError::unlocated(&source, e.clone())));

    let selected = select(&containers, &opts.selection);
    let mut cx = Lowering { containers: &containers, networks: &networks, images: &images, model: Model::default() };
    cx.model.engine = Some(engine(snapshot));

    // Group: one workload per Compose service, one per other container.
    let mut services: BTreeMap<(String, String), Vec<&ContainerInspect>> = BTreeMap::new();
    let mut singles: Vec<&ContainerInspect> = Vec::new();
    for c in selected {
        match (c.label(label::PROJECT), c.label(label::SERVICE)) {
            // `docker compose run` containers are one-offs, not the service.
            (Some(p), Some(s)) if c.label(label::ONEOFF) != Some("True") => {
                services.entry((p.to_string(), s.to_string())).or_default().push(c)
            }
            _ => singles.push(c),
        }
    }
    let projects: BTreeSet<String> = services.keys().map(|(p, _)| p.clone()).collect();
    let mut from_files: BTreeSet<String> = BTreeSet::new();
    for project in &projects {
        let members: Vec<&ContainerInspect> =
            services.iter().filter(|((p, _), _)| p == project).flat_map(|(_, cs)| cs.iter().copied()).collect();
        if opts.read_compose_files {
            match load_compose(project, &members, &opts.environment) {
                Some(Ok(m)) => {
                    cx.model.extend(m);
                    from_files.insert(project.clone());
                }
                Some(Err(errs)) => errors.extend(errs),
                None => {}
            }
        }
        if !from_files.contains(project) {
            cx.model.projects.push(live_project(project, &members));
        }
    }
    cx.lower_networks();
    for ((project, service), members) in &services {
        if from_files.contains(project) {
            cx.merge_service(project, service, members);
        } else {
            cx.add_workload(Some(project), service, members);
        }
    }
    for c in &singles {
        cx.add_workload(None, c.short_name(), &[c]);
    }
    // Services of a loaded Compose file that have no container at all.
    for w in cx.model.workloads.iter_mut().filter(|w| w.live.is_none()) {
        w.live = Some(Live::default());
    }
    cx.resolve_container_modes();
    Lowered { model: cx.model, errors }
}

/// The selected containers, plus the owners of the network stacks they share.
fn select<'a>(containers: &'a [ContainerInspect], selection: &Selection) -> Vec<&'a ContainerInspect> {
    let mut chosen: Vec<bool> = containers.iter().map(|c| selection.matches(c)).collect();
    // Follow `container:X` chains (bounded by the number of containers).
    for _ in 0..containers.len() {
        let mut changed = false;
        for (i, c) in containers.iter().enumerate() {
            if !chosen.get(i).copied().unwrap_or(false) {
                continue;
            }
            let Some(target) = c.host_config.network_mode.strip_prefix("container:") else { continue };
            if let Some(j) = containers.iter().position(|o| o.id == target || o.short_name() == target) {
                if let Some(slot) = chosen.get_mut(j).filter(|s| !**s) {
                    *slot = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    containers.iter().zip(chosen).filter(|(_, keep)| *keep).map(|(c, _)| c).collect()
}

fn engine(snapshot: &DockerSnapshot) -> Engine {
    let info: raw::Info = serde_json::from_value(snapshot.info.clone()).unwrap_or_default();
    let version: raw::Version = serde_json::from_value(snapshot.version_info.clone()).unwrap_or_default();
    let rootless = info.security_options.iter().flatten().any(|o| o.split(',').any(|p| p == "name=rootless"));
    Engine {
        endpoint: snapshot.endpoint.clone(),
        version: if version.version.is_empty() { info.server_version } else { version.version },
        api_version: version.api_version,
        operating_system: info.operating_system,
        kernel_version: info.kernel_version,
        rootless,
        ipv4_forwarding: info.ipv4_forwarding,
        bridge_nf_iptables: info.bridge_nf_iptables,
        warnings: info.warnings.unwrap_or_default(),
        origin: Origin::Logical("docker://engine".into()),
    }
}

/// Loads a project from the Compose files its containers name, when they are readable.
/// `None` when there is nothing to read; errors when the files no longer load.
fn load_compose(
    project: &str,
    members: &[&ContainerInspect],
    environment: &BTreeMap<String, String>,
) -> Option<Result<Model, Vec<LoadError>>> {
    let first = members.first()?;
    let (files, working_dir) = compose_files(first);
    let working_dir = working_dir.or_else(|| files.first().and_then(|f| f.parent()).map(Path::to_path_buf))?;
    if files.is_empty() || !files.iter().all(|f| f.is_file()) {
        return None;
    }
    let opts = LoadOptions {
        files,
        working_dir: working_dir.clone(),
        project_directory: Some(working_dir),
        project_name: Some(project.to_string()),
        environment: environment.clone(),
        ..LoadOptions::default()
    };
    Some(compose::load(&opts).map_err(|e| vec![e]).and_then(|doc| compose::lower(&doc)))
}

/// The Compose files a container's labels name (Compose v1 writes them relative to
/// the working directory), and that directory.
fn compose_files(c: &ContainerInspect) -> (Vec<PathBuf>, Option<PathBuf>) {
    let working_dir = c.label(label::WORKING_DIR).filter(|d| !d.is_empty()).map(PathBuf::from);
    let files = c
        .label(label::CONFIG_FILES)
        .map(|f| {
            f.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| match &working_dir {
                    Some(dir) if Path::new(f).is_relative() => dir.join(f),
                    _ => PathBuf::from(f),
                })
                .collect()
        })
        .unwrap_or_default();
    (files, working_dir)
}

fn live_project(project: &str, members: &[&ContainerInspect]) -> Project {
    let (files, working_dir) = members.first().map(|c| compose_files(c)).unwrap_or_default();
    Project {
        name: project.to_string(),
        files,
        working_dir: working_dir.unwrap_or_default(),
        origin: Origin::Logical(format!("docker://compose/{project}")),
    }
}

struct Lowering<'a> {
    containers: &'a [ContainerInspect],
    networks: &'a [NetworkInspect],
    images: &'a HashMap<String, ImageInspect>,
    model: Model,
}

impl Lowering<'_> {
    /// Every engine network, as its owning project knows it (Compose key) or under its
    /// own name; declarations from loaded Compose files get the live facts attached.
    fn lower_networks(&mut self) {
        for n in self.networks {
            let mut owned = false;
            for m in self.model.networks.iter_mut().filter(|m| m.name == n.name) {
                attach_live_network(m, n);
                owned |= !m.external;
            }
            // A network nothing loaded declares as its own: it exists, so it is owned
            // here, and `external` declarations of it are satisfied.
            if !owned {
                self.model.networks.push(live_network(n));
            }
        }
    }

    /// The key under which `project` knows engine network `name`, adding an entry for
    /// it when the project does not declare it (joined with `docker network connect`,
    /// or a container outside any project).
    fn network_key(&mut self, project: Option<&str>, name: &str) -> String {
        let p = project.unwrap_or_default();
        if let Some(n) = self.model.networks.iter().find(|n| n.project.as_deref().unwrap_or_default() == p && n.name == name) {
            return n.key.clone();
        }
        let owner = self.networks.iter().find(|n| n.name == name);
        let mut mirror =
            owner.map_or_else(|| Network::new(name, name, None, Origin::Logical(format!("docker://network/{name}"))), live_network);
        mirror.key = name.to_string();
        mirror.project = project.map(str::to_string);
        // Not this project's to create or declare: like a Compose `external` network.
        mirror.external = true;
        mirror.implicit = true;
        self.model.networks.push(mirror);
        name.to_string()
    }

    /// A workload made from containers alone.
    fn add_workload(&mut self, project: Option<&str>, name: &str, members: &[&ContainerInspect]) {
        let mut members: Vec<&ContainerInspect> = members.to_vec();
        // The running container (then the first by name) speaks for the service.
        members.sort_by_key(|c| (!c.state.running, c.short_name().to_string()));
        let Some(first) = members.first().copied() else { return };
        let origin = match project {
            Some(p) => Origin::Logical(format!("docker://compose/{p}/{name}")),
            None => Origin::Logical(format!("docker://container/{name}")),
        };
        let kind = if project.is_some() { WorkloadKind::ComposeService } else { WorkloadKind::Container };
        let mut w = Workload::new(name, project.map(str::to_string), kind, origin.clone());
        let at = |what: &str| Origin::Logical(format!("docker://container/{}/{what}", first.short_name()));
        w.image = Some(first.config.image.clone()).filter(|i| !i.is_empty());
        w.replicas = u32::try_from(members.len()).unwrap_or(u32::MAX);
        if members.len() == 1 {
            w.container_name = Some(Located::new(first.short_name().to_string(), origin.clone()));
        }
        if !first.config.hostname.is_empty() && !first.id.starts_with(&first.config.hostname) {
            w.hostname = Some(Located::new(first.config.hostname.clone(), at("hostname")));
        }
        if !first.config.domainname.is_empty() {
            w.domainname = Some(Located::new(first.config.domainname.clone(), at("domainname")));
        }
        w.network_mode = network_mode(&first.host_config.network_mode).map(|m| Located::new(m, at("network_mode")));
        if w.network_mode.is_none() {
            for (net, ep) in first.network_settings.networks.iter().flatten() {
                if matches!(net.as_str(), "host" | "none") {
                    continue;
                }
                let key = self.network_key(project, net);
                let mut a = Attachment::new(key, Origin::Logical(format!("docker://container/{}/network/{net}", first.short_name())));
                a.aliases = aliases(first, ep)
                    .into_iter()
                    .chain(if members.len() > 1 { members.iter().map(|c| c.short_name().to_string()).collect() } else { Vec::new() })
                    .map(|al| Located::new(al, a.origin.clone()))
                    .collect();
                let ipam = ep.ipam_config.as_ref();
                a.ipv4_address =
                    ipam.and_then(|i| i.ipv4_address.clone()).filter(|s| !s.is_empty()).map(|s| Located::new(s, a.origin.clone()));
                a.ipv6_address =
                    ipam.and_then(|i| i.ipv6_address.clone()).filter(|s| !s.is_empty()).map(|s| Located::new(s, a.origin.clone()));
                w.attachments.push(a);
            }
            w.declares_networks = !w.attachments.is_empty();
        }
        w.ports = ports(first, &at("ports"));
        w.expose = exposed(first).into_iter().map(|(p, _)| Located::new(p, at("expose"))).collect();
        let hc = &first.host_config;
        let strings = |v: &Option<Vec<String>>, what: &str| -> Vec<Located<String>> {
            v.iter().flatten().map(|s| Located::new(s.clone(), at(what))).collect()
        };
        w.dns = strings(&hc.dns, "dns");
        w.dns_search = strings(&hc.dns_search, "dns_search");
        w.dns_opt = strings(&hc.dns_options, "dns_opt");
        w.extra_hosts = hc.extra_hosts.iter().flatten().filter_map(|e| extra_host(e, at("extra_hosts"))).collect();
        w.links = hc.links.iter().flatten().filter_map(|l| link(l, at("links"))).collect();
        w.depends_on = first
            .label(label::DEPENDS_ON)
            .map(|d| {
                d.split(',')
                    .filter_map(|e| e.split(':').next())
                    .filter(|s| !s.is_empty())
                    .map(|s| Located::new(s.to_string(), at("depends_on")))
                    .collect()
            })
            .unwrap_or_default();
        let image = self.images.get(&first.image).and_then(|i| i.config.as_ref());
        w.references = references(first, image, &w);
        w.has_healthcheck =
            first.config.healthcheck.as_ref().and_then(|h| h.test.as_ref()).is_some_and(|t| t.first().is_some_and(|s| s != "NONE"));
        w.live = Some(Live { containers: members.iter().map(|c| container(c)).collect() });
        self.model.workloads.push(w);
    }

    /// Attaches a service's containers to the workload its Compose file declares, and
    /// makes its memberships those the engine reports (live facts win over the file).
    fn merge_service(&mut self, project: &str, service: &str, members: &[&ContainerInspect]) {
        let Some(index) = self.model.workloads.iter().position(|w| w.project.as_deref() == Some(project) && w.name == service) else {
            // A container of a service the file no longer has (an orphan).
            self.add_workload(Some(project), service, members);
            return;
        };
        let mut members: Vec<&ContainerInspect> = members.to_vec();
        members.sort_by_key(|c| (!c.state.running, c.short_name().to_string()));
        let live_nets: BTreeSet<String> = members
            .iter()
            .flat_map(|c| c.network_settings.networks.iter().flatten().map(|(n, _)| n.clone()))
            .filter(|n| !matches!(n.as_str(), "host" | "none"))
            .collect();
        let engine_name = |m: &Model, key: &str| m.network(project, key).map(|n| n.name.clone());
        let declared: Vec<(String, Option<String>)> =
            self.model.workloads.get(index).map_or_else(Vec::new, |w| {
                w.attachments.iter().map(|a| (a.network.clone(), engine_name(&self.model, &a.network))).collect()
            });
        let mut extra = Vec::new();
        for net in &live_nets {
            if !declared.iter().any(|(_, name)| name.as_deref() == Some(net.as_str())) {
                let key = self.network_key(Some(project), net);
                let first = members.first().map_or("", |c| c.short_name());
                extra.push(Attachment::new(key, Origin::Logical(format!("docker://container/{first}/network/{net}"))));
            }
        }
        let Some(w) = self.model.workloads.get_mut(index) else { return };
        if w.network_mode.is_none() && !live_nets.is_empty() {
            w.attachments
                .retain(|a| declared.iter().any(|(k, name)| k == &a.network && name.as_ref().is_some_and(|n| live_nets.contains(n))));
            w.attachments.extend(extra);
        }
        // The names the engine really gave the containers (Compose v1 writes
        // `project_service_1`) answer on every network they are on.
        if w.container_name.is_none() {
            let defaults: Vec<String> = (1..=w.replicas.max(1)).map(|n| w.default_container_name(n)).collect();
            let actual: Vec<String> = members.iter().map(|c| c.short_name().to_string()).filter(|n| !defaults.contains(n)).collect();
            let origin = Origin::Logical(format!("docker://compose/{project}/{service}"));
            for a in &mut w.attachments {
                a.aliases.extend(actual.iter().map(|n| Located::new(n.clone(), origin.clone())));
            }
        }
        w.live = Some(Live { containers: members.iter().map(|c| container(c)).collect() });
    }

    /// `container:<id>` modes name the container (and so the workload) by name.
    fn resolve_container_modes(&mut self) {
        let names: HashMap<&str, &str> = self.containers.iter().map(|c| (c.id.as_str(), c.short_name())).collect();
        for w in &mut self.model.workloads {
            if let Some(Located { value: NetworkMode::Container(target), .. }) = &mut w.network_mode {
                if let Some(name) = names.get(target.as_str()) {
                    *target = name.to_string();
                }
            }
        }
    }
}

/// A live network, outside any loaded Compose file.
fn live_network(n: &NetworkInspect) -> Network {
    let origin = Origin::Logical(format!("docker://network/{}", n.name));
    let project = n.label(label::PROJECT).map(str::to_string);
    let key = match (&project, n.label(label::NETWORK)) {
        (Some(_), Some(key)) => key.to_string(),
        _ => n.name.clone(),
    };
    let mut network = Network::new(key, n.name.clone(), project, origin.clone());
    network.driver = Some(n.driver.clone()).filter(|d| !d.is_empty());
    network.driver_opts = n.options.clone().unwrap_or_default();
    network.internal = n.internal;
    network.attachable = n.attachable;
    // The predefined networks belong to no project, like an `external` one.
    network.external = PREDEFINED.contains(&n.name.as_str());
    network.enable_ipv6 = Some(n.enable_ipv6);
    network.ipam.driver = Some(n.ipam.driver.clone()).filter(|d| !d.is_empty());
    network.ipam.configs = ipam_configs(n, &origin);
    network.labels = n.labels.clone().unwrap_or_default();
    // Declared in no file: rules about declarations (an unused one) do not apply.
    network.implicit = true;
    network.mtu =
        network.driver_opts.get("com.docker.network.driver.mtu").and_then(|m| m.parse().ok()).map(|m| Located::new(m, origin.clone()));
    network.live = Some(live_facts(n));
    network
}

fn ipam_configs(n: &NetworkInspect, origin: &Origin) -> Vec<IpamConfig> {
    let s = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty()).map(|v| Located::new(v, origin.clone()));
    n.ipam
        .config
        .iter()
        .flatten()
        .map(|c| IpamConfig {
            subnet: s(&c.subnet),
            ip_range: s(&c.ip_range),
            gateway: s(&c.gateway),
            aux_addresses: c
                .auxiliary_addresses
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Located::new(v.clone(), origin.clone())))
                .collect(),
            origin: origin.clone(),
        })
        .collect()
}

fn live_facts(n: &NetworkInspect) -> LiveNetwork {
    let configs = n.ipam.config.iter().flatten();
    LiveNetwork {
        id: n.id.clone(),
        scope: n.scope.clone(),
        subnets: configs.clone().filter_map(|c| c.subnet.parse().ok()).collect(),
        gateways: configs.filter_map(|c| c.gateway.parse().ok()).collect(),
    }
}

/// Adds what the engine knows to a network a Compose file declares: its identity,
/// and the subnets the daemon allocated when the file declares none.
fn attach_live_network(m: &mut Network, n: &NetworkInspect) {
    if m.ipam.configs.iter().all(|c| c.subnet.is_none()) {
        let origin = Origin::Logical(format!("docker://network/{}", n.name));
        m.ipam.configs.extend(ipam_configs(n, &origin));
    }
    m.live = Some(live_facts(n));
}

/// `HostConfig.NetworkMode`, when it is not a plain network membership.
fn network_mode(mode: &str) -> Option<NetworkMode> {
    match mode {
        "host" => Some(NetworkMode::Host),
        "none" => Some(NetworkMode::None),
        _ => mode.strip_prefix("container:").map(|t| NetworkMode::Container(t.to_string())),
    }
}

/// The names the embedded DNS serves for a container on one network, besides its
/// name: aliases, without the short ID Docker adds to every endpoint.
fn aliases(c: &ContainerInspect, ep: &EndpointSettings) -> Vec<String> {
    let mut out: Vec<String> = ep
        .aliases
        .iter()
        .flatten()
        .chain(ep.dns_names.iter().flatten())
        .filter(|a| !c.id.starts_with(a.as_str()) && a.as_str() != c.short_name())
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

fn container(c: &ContainerInspect) -> Container {
    let state = ContainerState::parse(&c.state.status);
    Container {
        id: c.id.clone(),
        name: c.short_name().to_string(),
        pid: u32::try_from(c.state.pid).ok().filter(|p| *p > 0),
        exit_code: (!state.is_up()).then_some(c.state.exit_code),
        health: c.state.health.as_ref().map(|h| h.status.clone()).filter(|s| !s.is_empty()),
        state,
        network_mode: c.host_config.network_mode.clone(),
        endpoints: c
            .network_settings
            .networks
            .iter()
            .flatten()
            .map(|(name, ep)| Endpoint {
                network: name.clone(),
                network_id: ep.network_id.clone(),
                ipv4: net_of(&ep.ip_address, ep.ip_prefix_len),
                ipv6: net_of(&ep.global_ipv6_address, ep.global_ipv6_prefix_len),
                gateway: ep.gateway.parse().ok(),
                mac_address: Some(ep.mac_address.clone()).filter(|m| !m.is_empty()),
                aliases: aliases(c, ep),
            })
            .collect(),
        origin: Origin::Logical(format!("docker://container/{}", c.short_name())),
    }
}

/// A container's own command words: `None` when they are its image's defaults.
fn own<'a>(mine: &'a Option<Vec<String>>, image: Option<&Option<Vec<String>>>) -> Option<&'a Vec<String>> {
    mine.as_ref().filter(|m| image.is_none_or(|i| i.as_ref() != Some(*m)))
}

fn net_of(addr: &str, prefix: u8) -> Option<IpNet> {
    let ip: IpAddr = addr.parse().ok()?;
    IpNet::new(ip, prefix).ok()
}

/// `"5432/tcp"` → port and protocol.
fn port_key(key: &str) -> Option<(PortRange, Protocol)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto.parse().ok()?))
}

fn exposed(c: &ContainerInspect) -> Vec<(PortRange, Protocol)> {
    c.config.exposed_ports.iter().flatten().filter_map(|(k, _)| port_key(k)).collect()
}

/// Published ports: the bindings in effect while running, else those requested.
fn ports(c: &ContainerInspect, origin: &Origin) -> Vec<PortBinding> {
    let live = c.network_settings.ports.as_ref().filter(|p| p.values().any(Option::is_some));
    let bindings = live.or(c.host_config.port_bindings.as_ref());
    let mut out: Vec<PortBinding> = Vec::new();
    for (key, list) in bindings.into_iter().flatten() {
        let Some((target, protocol)) = port_key(key) else { continue };
        for b in list.iter().flatten() {
            let host_ip: Option<IpAddr> = b.host_ip.parse().ok();
            let published: Option<PortRange> = b.host_port.parse().ok();
            // Docker reports a binding on every interface once per family (0.0.0.0 and ::).
            let dup = out.iter().any(|o| {
                o.target == target
                    && o.protocol == protocol
                    && o.published == published
                    && o.host_ip.is_none_or(|i| i.is_unspecified())
                    && host_ip.is_none_or(|i| i.is_unspecified())
            });
            if !dup {
                out.push(PortBinding { host_ip, published, target, protocol, origin: origin.clone() });
            }
        }
    }
    out
}

/// `name:ip` (or `name=ip` in newer engines).
fn extra_host(entry: &str, origin: Origin) -> Option<ExtraHost> {
    let (name, address) = entry.split_once('=').or_else(|| entry.split_once(':'))?;
    Some(ExtraHost { name: name.to_string(), address: address.to_string(), origin })
}

/// `/db:/web/database` → target `db`, alias `database`.
fn link(entry: &str, origin: Origin) -> Option<Link> {
    let (target, alias) = entry.split_once(':')?;
    let target = target.trim_start_matches('/').to_string();
    let alias = alias.rsplit('/').next().map(str::to_string).filter(|a| *a != target);
    Some(Link { target, alias, origin })
}

/// The peers a container names in the settings it was given (its image's defaults
/// left out: they name no peer of this deployment).
fn references(c: &ContainerInspect, image: Option<&raw::Config>, w: &Workload) -> Vec<Reference> {
    let name = c.short_name();
    let at = |what: &str| Origin::Logical(format!("docker://container/{name}/{what}"));
    let mut out = Vec::new();
    let image_env: BTreeSet<&str> = image.and_then(|i| i.env.as_ref()).into_iter().flatten().map(String::as_str).collect();
    for entry in c.config.env.iter().flatten().filter(|e| !image_env.contains(e.as_str())) {
        let Some((key, value)) = entry.split_once('=') else { continue };
        let origin = at(&format!("env/{key}"));
        out.extend(refs::in_env(key, value).into_iter().map(|h| Reference {
            host: h.host,
            port: h.port,
            via: ReferenceVia::Env(key.to_string()),
            origin: origin.clone(),
        }));
    }
    let commands = [
        (own(&c.config.cmd, image.map(|i| &i.cmd)), ReferenceVia::Command, "cmd"),
        (own(&c.config.entrypoint, image.map(|i| &i.entrypoint)), ReferenceVia::Entrypoint, "entrypoint"),
    ];
    for (words, via, what) in commands {
        let Some(words) = words else { continue };
        out.extend(refs::in_command(words).into_iter().map(|h| Reference {
            host: h.host,
            port: h.port,
            via: via.clone(),
            origin: at(what),
        }));
    }
    let test = c.config.healthcheck.as_ref().and_then(|h| h.test.as_ref());
    let image_test = image.and_then(|i| i.healthcheck.as_ref()).and_then(|h| h.test.as_ref());
    if let Some(test) = test.filter(|t| Some(*t) != image_test) {
        let words: Vec<String> = test.iter().skip_while(|w| matches!(w.as_str(), "CMD" | "CMD-SHELL")).cloned().collect();
        out.extend(refs::in_command(&words).into_iter().map(|h| Reference {
            host: h.host,
            port: h.port,
            via: ReferenceVia::Healthcheck,
            origin: at("healthcheck"),
        }));
    }
    for d in &w.depends_on {
        out.push(Reference { host: d.value.clone(), port: None, via: ReferenceVia::DependsOn, origin: d.origin.clone() });
    }
    for l in &w.links {
        let host = l.alias.clone().unwrap_or_else(|| l.target.clone());
        out.push(Reference { host, port: None, via: ReferenceVia::Link, origin: l.origin.clone() });
    }
    out
}

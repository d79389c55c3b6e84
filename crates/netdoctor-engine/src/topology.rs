//! Which networks each workload really sits on. Networks are identified by their
//! engine name, so two projects that join the same external network share it.

use netdoctor_model::{Model, NetworkMode, Workload};
use std::collections::{HashMap, HashSet};

/// Index of a network in `Topology::nets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetId(pub usize);

/// One engine network, however many projects declare it.
#[derive(Debug, Clone)]
pub struct NetInfo {
    /// The engine's name (`myapp_default`, `bridge`).
    pub name: String,
    /// Indices into `Model::networks` of the declarations of this network.
    pub declared: Vec<usize>,
    /// Whether the engine's embedded DNS answers container names here.
    pub dns: bool,
    pub internal: bool,
}

/// Whose network stack a workload uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stack {
    /// Its own namespace, attached to its networks.
    Own,
    /// The host's namespace (`network_mode: host`).
    Host,
    /// A loopback-only namespace (`network_mode: none`).
    None,
    /// The namespace of another workload of the model (`service:X`, `container:X`).
    Shared(usize),
    /// The namespace of a container the model does not describe.
    External(String),
    /// `service:X`/`container:X` naming nothing, or a cycle of them.
    Broken(String),
}

/// The membership graph: networks, and which workloads sit on which.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub nets: Vec<NetInfo>,
    by_name: HashMap<String, NetId>,
    stacks: Vec<Stack>,
    memberships: Vec<Vec<NetId>>,
    members: Vec<Vec<usize>>,
}

/// The engine's predefined bridge network, which has no embedded DNS.
pub const PREDEFINED_BRIDGE: &str = "bridge";

impl Topology {
    pub fn build(model: &Model) -> Topology {
        let mut t = Topology::default();
        for (i, network) in model.networks.iter().enumerate() {
            let id = t.net(&network.name);
            let info = t.info_mut(id);
            info.declared.push(i);
            info.dns &= network.has_embedded_dns();
            info.internal |= network.internal;
        }
        let direct: Vec<Vec<NetId>> = model.workloads.iter().map(|w| t.direct_networks(model, w)).collect();
        t.stacks = stacks(model);
        t.memberships = (0..model.workloads.len())
            .map(|i| match t.stacks.get(i) {
                Some(Stack::Own) => direct.get(i).cloned().unwrap_or_default(),
                Some(Stack::Shared(owner)) => direct.get(*owner).cloned().unwrap_or_default(),
                _ => Vec::new(),
            })
            .collect();
        t.members = vec![Vec::new(); t.nets.len()];
        for (w, nets) in t.memberships.iter().enumerate() {
            for n in nets {
                if let Some(m) = t.members.get_mut(n.0) {
                    m.push(w);
                }
            }
        }
        t
    }

    /// The network with engine name `name`, created on first use.
    fn net(&mut self, name: &str) -> NetId {
        if let Some(id) = self.by_name.get(name) {
            return *id;
        }
        let id = NetId(self.nets.len());
        self.nets.push(NetInfo { name: name.to_string(), declared: Vec::new(), dns: name != PREDEFINED_BRIDGE, internal: false });
        self.by_name.insert(name.to_string(), id);
        id
    }

    #[allow(clippy::indexing_slicing)] // ids are only made by `net`, which pushes first
    fn info_mut(&mut self, id: NetId) -> &mut NetInfo {
        &mut self.nets[id.0]
    }

    /// The networks a workload's own configuration attaches it to.
    fn direct_networks(&mut self, model: &Model, w: &netdoctor_model::Workload) -> Vec<NetId> {
        match w.network_mode.as_ref().map(|m| &m.value) {
            Some(NetworkMode::Bridge) => vec![self.net(PREDEFINED_BRIDGE)],
            Some(NetworkMode::Network(name)) => vec![self.net(name)],
            Some(_) => Vec::new(),
            None => {
                let project = w.project.as_deref().unwrap_or_default();
                w.attachments
                    .iter()
                    .filter_map(|a| model.network(project, &a.network))
                    .map(|n| n.name.clone())
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|name| self.net(name))
                    .collect()
            }
        }
    }

    /// The engine network called `name`, if any workload or project uses it.
    pub fn by_name(&self, name: &str) -> Option<NetId> {
        self.by_name.get(name).copied()
    }

    pub fn info(&self, id: NetId) -> Option<&NetInfo> {
        self.nets.get(id.0)
    }

    /// The networks workload `w` effectively sits on.
    pub fn networks_of(&self, w: usize) -> &[NetId] {
        self.memberships.get(w).map_or(&[], Vec::as_slice)
    }

    /// The workloads effectively on network `id`.
    pub fn members(&self, id: NetId) -> &[usize] {
        self.members.get(id.0).map_or(&[], Vec::as_slice)
    }

    /// Whose stack workload `w` uses.
    pub fn stack(&self, w: usize) -> &Stack {
        self.stacks.get(w).unwrap_or(&Stack::Own)
    }
}

/// What one workload's own `network_mode` says about its stack.
enum Step {
    /// Settled without looking further.
    Done(Stack),
    /// The stack of that other workload.
    Follow(usize),
}

/// Whose stack each workload uses: `service:`/`container:` modes followed to the workload
/// that owns the namespace. Each chain is walked once and its result given to every
/// workload on it, so a long chain of `service:` modes costs linear time, not cubic.
fn stacks(model: &Model) -> Vec<Stack> {
    let mut services: HashMap<(Option<&str>, &str), usize> = HashMap::new();
    for (i, w) in model.workloads.iter().enumerate() {
        services.entry((w.project.as_deref(), w.name.as_str())).or_insert(i);
    }
    let steps: Vec<Step> = model
        .workloads
        .iter()
        .map(|w| match w.network_mode.as_ref().map(|m| &m.value) {
            Some(NetworkMode::Host) => Step::Done(Stack::Host),
            Some(NetworkMode::None) => Step::Done(Stack::None),
            Some(NetworkMode::Service(name)) => {
                let project = w.project.as_deref().unwrap_or_default();
                match services.get(&(Some(project), name.as_str())) {
                    Some(&i) => Step::Follow(i),
                    None => Step::Done(Stack::Broken(format!("service `{name}` does not exist"))),
                }
            }
            Some(NetworkMode::Container(name)) => match find_container(model, name) {
                Some(i) => Step::Follow(i),
                None => Step::Done(Stack::External(name.clone())),
            },
            _ => Step::Done(Stack::Own),
        })
        .collect();
    let mut stacks: Vec<Option<Stack>> = steps
        .iter()
        .map(|s| match s {
            Step::Done(stack) => Some(stack.clone()),
            Step::Follow(_) => None,
        })
        .collect();
    for start in 0..steps.len() {
        let mut path = Vec::new();
        let mut on_path = HashSet::new();
        let mut current = start;
        let stack = loop {
            if let Some(Some(known)) = stacks.get(current) {
                break match known {
                    Stack::Own | Stack::Host | Stack::None => Stack::Shared(current),
                    other => other.clone(),
                };
            }
            if !on_path.insert(current) {
                break Stack::Broken("network_mode forms a cycle".into());
            }
            path.push(current);
            match steps.get(current) {
                Some(Step::Follow(next)) => current = *next,
                // Every `Done` step was settled above.
                _ => break Stack::Own,
            }
        };
        for w in path {
            if let Some(slot) = stacks.get_mut(w) {
                *slot = Some(stack.clone());
            }
        }
    }
    stacks.into_iter().map(|s| s.unwrap_or(Stack::Own)).collect()
}

/// The workload whose container is called `name` (explicit or Compose default name).
pub fn find_container(model: &Model, name: &str) -> Option<usize> {
    model.workloads.iter().position(|w| match &w.container_name {
        Some(c) => c.value == name,
        None => is_default_container_name(w, name),
    })
}

/// Whether `name` is the Compose default name (`proj-web-3`) of one of `w`'s replicas.
/// Read off the number at the end rather than trying every replica: `scale` can be
/// in the billions.
fn is_default_container_name(w: &Workload, name: &str) -> bool {
    let Some((_, number)) = name.rsplit_once('-') else { return false };
    let Ok(n) = number.parse::<u32>() else { return false };
    (1..=w.replicas.max(1)).contains(&n) && w.default_container_name(n) == name
}

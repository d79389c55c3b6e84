//! The full connectivity matrix: every workload to every other workload, to and from
//! each part of the outside address space, and from the ingress controller to the
//! workloads Ingress and Route objects expose.
//!
//! Connections are computed once per pair of pod classes, then spread over the
//! workloads of each class, so the cost follows the number of distinct label sets.

use super::engine::{ClassId, PolicyEngine};
use super::eval::{Endpoint, PeerBits};
use super::ip::Ipv4Range;
use super::ports::ConnSet;
use netdoctor_model::k8s::PolicyType;
use std::collections::HashMap;

/// One end of a matrix connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// Index into `PolicyEngine::workloads`.
    Workload(usize),
    /// A part of the address space outside the cluster.
    External(Ipv4Range),
    /// The cluster's ingress controller (traffic from Ingress and Route objects).
    IngressController,
}

/// One allowed connection of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    pub src: Peer,
    pub dst: Peer,
    /// Index into `Matrix::sets`.
    pub set: usize,
    /// A policy the engine does not evaluate can change it (`PolicyEngine::uncertain`
    /// says which).
    pub uncertain: bool,
}

/// Every allowed connection; denied pairs are left out, and so is each workload's
/// traffic to itself.
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    /// The distinct connection sets, shared by the connections that have them.
    pub sets: Vec<ConnSet>,
    pub connections: Vec<Connection>,
}

impl Matrix {
    /// What a connection allows.
    pub fn conns(&self, c: &Connection) -> &ConnSet {
        static NONE: std::sync::OnceLock<ConnSet> = std::sync::OnceLock::new();
        self.sets.get(c.set).unwrap_or_else(|| NONE.get_or_init(ConnSet::none))
    }
}

/// Interns connection sets so equal ones are stored once.
#[derive(Default)]
struct Sets {
    sets: Vec<ConnSet>,
    index: HashMap<ConnSet, usize>,
}

impl Sets {
    fn intern(&mut self, conns: ConnSet) -> usize {
        if let Some(&i) = self.index.get(&conns) {
            return i;
        }
        let i = self.sets.len();
        self.sets.push(conns.clone());
        self.index.insert(conns, i);
        i
    }

    fn get(&self, i: usize) -> Option<&ConnSet> {
        self.sets.get(i)
    }
}

/// Answers remembered by what decides them: a direction's answer depends only on the
/// subject class, which of its rules match the peer, and (for named ports) the
/// destination's ports; a connection's answer only on its two directions' answers.
struct Memo<'a, 'c> {
    engine: &'a PolicyEngine<'c>,
    sets: Sets,
    all: usize,
    none: usize,
    /// Per class, an id of its container ports (classes with equal ports share it).
    ports_ids: Vec<u32>,
    directions: HashMap<(ClassId, bool, PeerBits, u32), usize>,
    meets: HashMap<(usize, usize), usize>,
}

impl<'a, 'c> Memo<'a, 'c> {
    fn new(engine: &'a PolicyEngine<'c>) -> Memo<'a, 'c> {
        let mut sets = Sets::default();
        let all = sets.intern(ConnSet::all());
        let none = sets.intern(ConnSet::none());
        let mut ids: HashMap<&[netdoctor_model::k8s::ContainerPort], u32> = HashMap::new();
        let mut ports_ids = Vec::with_capacity(engine.classes.len());
        for class in &engine.classes {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            ports_ids.push(*ids.entry(class.ports.as_slice()).or_insert(next));
        }
        Memo { engine, sets, all, none, ports_ids, directions: HashMap::new(), meets: HashMap::new() }
    }

    /// One direction's answer for `subject` towards/from `other`.
    fn direction(&mut self, subject: ClassId, other: Endpoint, direction: PolicyType) -> usize {
        let Some(applies) = self.engine.applies(subject, direction) else { return self.all };
        let (bits, named) = self.engine.pattern(applies, other);
        // Named ports resolve on the destination: the subject itself on ingress.
        let dst_ports = match (named, direction, other) {
            (true, PolicyType::Egress, Endpoint::Class(d)) => self.ports_ids.get(d).map_or(0, |p| p + 1),
            (true, PolicyType::Egress, Endpoint::External(_)) => u32::MAX,
            _ => 0,
        };
        let key = (subject, direction == PolicyType::Ingress, bits, dst_ports);
        if let Some(&set) = self.directions.get(&key) {
            return set;
        }
        let set = self.sets.intern(self.engine.evaluate(subject, other, direction));
        self.directions.insert(key, set);
        set
    }

    /// The answer for a connection, `none` when nothing is allowed.
    fn connection(&mut self, src: Endpoint, dst: Endpoint) -> usize {
        let egress = match src {
            Endpoint::Class(s) => self.direction(s, dst, PolicyType::Egress),
            Endpoint::External(_) => self.all,
        };
        if egress == self.none {
            return self.none;
        }
        let ingress = match dst {
            Endpoint::Class(d) => self.direction(d, src, PolicyType::Ingress),
            Endpoint::External(_) => self.all,
        };
        self.meet(egress, ingress)
    }

    fn meet(&mut self, a: usize, b: usize) -> usize {
        if a == self.all || a == b {
            return b;
        }
        if b == self.all {
            return a;
        }
        if a == self.none || b == self.none {
            return self.none;
        }
        if let Some(&set) = self.meets.get(&(a, b)) {
            return set;
        }
        let conns = match (self.sets.get(a), self.sets.get(b)) {
            (Some(x), Some(y)) => x.intersect(y),
            _ => ConnSet::none(),
        };
        let set = self.sets.intern(conns);
        self.meets.insert((a, b), set);
        set
    }
}

impl PolicyEngine<'_> {
    /// How a matrix peer is reported: `ns/name[Kind]`, `a.b.c.d-e.f.g.h[External]` or
    /// `{ingress-controller}`.
    pub fn peer_name(&self, peer: &Peer) -> String {
        match peer {
            Peer::Workload(w) => self.workloads.get(*w).map(|w| w.name()).unwrap_or_default(),
            Peer::External(range) => format!("{range}[External]"),
            Peer::IngressController => format!("{{{}}}", super::engine::INGRESS_CONTROLLER),
        }
    }

    /// The full matrix.
    pub fn matrix(&self) -> Matrix {
        let mut connections = Vec::new();
        let sets = self.for_each_connection(|c| connections.push(c));
        Matrix { sets, connections }
    }

    /// Every allowed connection of the full matrix, handed to `emit` as it is found
    /// (callers keep what they need, not a `Connection` per pair), and the connection
    /// sets they refer to.
    pub fn for_each_connection(&self, mut emit: impl FnMut(Connection)) -> Vec<ConnSet> {
        let mut memo = Memo::new(self);
        // Workloads per class, for the classes that have workloads.
        let mut members: Vec<(ClassId, Vec<usize>)> = Vec::new();
        let mut slot: HashMap<ClassId, usize> = HashMap::new();
        for (w, workload) in self.workloads.iter().enumerate() {
            let s = *slot.entry(workload.class).or_insert_with(|| {
                members.push((workload.class, Vec::new()));
                members.len() - 1
            });
            if let Some((_, list)) = members.get_mut(s) {
                list.push(w);
            }
        }
        for (src_class, src_members) in &members {
            for (dst_class, dst_members) in &members {
                let (src, dst) = (Endpoint::Class(*src_class), Endpoint::Class(*dst_class));
                let set = memo.connection(src, dst);
                if set == memo.none {
                    continue;
                }
                let uncertain = self.is_uncertain(src, dst);
                for &s in src_members {
                    for &d in dst_members {
                        if s != d {
                            emit(Connection { src: Peer::Workload(s), dst: Peer::Workload(d), set, uncertain });
                        }
                    }
                }
            }
        }
        for part in self.ingress_ips.parts() {
            for (class, list) in &members {
                let (src, dst) = (Endpoint::External(*part), Endpoint::Class(*class));
                let set = memo.connection(src, dst);
                if set != memo.none {
                    let uncertain = self.is_uncertain(src, dst);
                    for &d in list {
                        emit(Connection { src: Peer::External(*part), dst: Peer::Workload(d), set, uncertain });
                    }
                }
            }
        }
        for part in self.egress_ips.parts() {
            for (class, list) in &members {
                let (src, dst) = (Endpoint::Class(*class), Endpoint::External(*part));
                let set = memo.connection(src, dst);
                if set != memo.none {
                    let uncertain = self.is_uncertain(src, dst);
                    for &s in list {
                        emit(Connection { src: Peer::Workload(s), dst: Peer::External(*part), set, uncertain });
                    }
                }
            }
        }
        for (workload, set) in memo.controller() {
            let uncertain = match (self.ingress_controller, self.workloads.get(workload)) {
                (Some(controller), Some(w)) => self.is_uncertain(Endpoint::Class(controller), Endpoint::Class(w.class)),
                _ => false,
            };
            emit(Connection { src: Peer::IngressController, dst: Peer::Workload(workload), set, uncertain });
        }
        memo.sets.sets
    }
}

impl Memo<'_, '_> {
    /// What the ingress controller may open to each exposed workload, as (workload, set).
    fn controller(&mut self) -> Vec<(usize, usize)> {
        let Some(controller) = self.engine.ingress_controller else { return Vec::new() };
        let mut out = Vec::new();
        let (exposures, _) = self.engine.exposures();
        for exposure in exposures {
            let Some(workload) = self.engine.workloads.get(exposure.workload) else { continue };
            let policy = self.connection(Endpoint::Class(controller), Endpoint::Class(workload.class));
            let conns = self.sets.get(policy).map(|p| exposure.conns.intersect(p)).unwrap_or_default();
            if !conns.is_empty() {
                out.push((exposure.workload, self.sets.intern(conns)));
            }
        }
        out
    }
}

/// Connection answers for one engine, remembered across calls, for callers that walk
/// the classes themselves (`diff` compares two versions class pair by class pair).
pub struct Evaluator<'a, 'c> {
    memo: Memo<'a, 'c>,
}

impl<'a, 'c> Evaluator<'a, 'c> {
    /// An evaluator with nothing remembered yet.
    pub fn new(engine: &'a PolicyEngine<'c>) -> Evaluator<'a, 'c> {
        Evaluator { memo: Memo::new(engine) }
    }

    /// What `src` may open to `dst`, as an index for `set`; equal sets share an index.
    pub fn connection(&mut self, src: Endpoint, dst: Endpoint) -> usize {
        self.memo.connection(src, dst)
    }

    /// The index of the empty set.
    pub fn none(&self) -> usize {
        self.memo.none
    }

    /// The set behind an index from this evaluator.
    pub fn set(&self, index: usize) -> &ConnSet {
        static NONE: std::sync::OnceLock<ConnSet> = std::sync::OnceLock::new();
        self.memo.sets.get(index).unwrap_or_else(|| NONE.get_or_init(ConnSet::none))
    }

    /// What the ingress controller may open to each exposed workload: (workload, set index).
    pub fn controller(&mut self) -> Vec<(usize, usize)> {
        self.memo.controller()
    }
}

/// Workloads no policy tells apart: every policy that selects one selects the others, and
/// every rule peer that matches one matches the others, with the same container ports,
/// host network and unevaluated policies. Every connection of one of them is a
/// connection of each (between two members too, when the group has two or more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BehaviourGroup {
    /// A class standing for the group.
    pub class: ClassId,
    /// The workloads (indices into `PolicyEngine::workloads`).
    pub members: Vec<usize>,
}

/// One allowed connection of the grouped matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupPeer {
    /// A behaviour group (index into the groups).
    Group(usize),
    /// A range of outside addresses.
    External(super::ip::Ipv4Range),
    /// The ingress controller.
    IngressController,
    /// One workload (the ingress controller's exposure is per workload).
    Workload(usize),
}

impl PolicyEngine<'_> {
    /// The workloads, grouped by behaviour (see `BehaviourGroup`), in order of their
    /// first member.
    pub fn behaviour_groups(&self) -> Vec<BehaviourGroup> {
        // Which rule peers match each class.
        let mut matched_by: Vec<Vec<u32>> = vec![Vec::new(); self.classes.len()];
        for (p, peer) in self.peer_table.iter().enumerate() {
            for c in peer.classes.iter() {
                if let Some(list) = matched_by.get_mut(c) {
                    list.push(u32::try_from(p).unwrap_or(u32::MAX));
                }
            }
        }
        type Signature<'a> = (&'a [usize], &'a [usize], &'a [u32], &'a [netdoctor_model::k8s::ContainerPort], bool, &'a [u32]);
        let signature = |c: ClassId| -> Option<Signature<'_>> {
            let class = self.classes.get(c)?;
            Some((
                self.ingress_applies.get(c).map_or(&[][..], |a| a.tiered.as_slice()),
                self.egress_applies.get(c).map_or(&[][..], |a| a.tiered.as_slice()),
                matched_by.get(c).map_or(&[][..], Vec::as_slice),
                class.ports.as_slice(),
                class.host_network,
                self.uncertain_by_class.get(c).map_or(&[][..], Vec::as_slice),
            ))
        };
        let mut index: HashMap<Signature<'_>, usize> = HashMap::new();
        let mut groups: Vec<BehaviourGroup> = Vec::new();
        for (w, workload) in self.workloads.iter().enumerate() {
            let Some(sig) = signature(workload.class) else { continue };
            let g = *index.entry(sig).or_insert_with(|| {
                groups.push(BehaviourGroup { class: workload.class, members: Vec::new() });
                groups.len() - 1
            });
            if let Some(group) = groups.get_mut(g) {
                group.members.push(w);
            }
        }
        groups
    }

    /// The matrix between behaviour groups (and outside ranges, and the ingress
    /// controller per exposed workload), handed to `emit` as (source, destination, set,
    /// uncertain), with the connection sets they refer to. A group's row with itself is
    /// given only when it has two members or more.
    pub fn for_each_group_connection(
        &self,
        groups: &[BehaviourGroup],
        mut emit: impl FnMut(GroupPeer, GroupPeer, usize, bool),
    ) -> Vec<ConnSet> {
        let mut memo = Memo::new(self);
        for (i, src) in groups.iter().enumerate() {
            for (j, dst) in groups.iter().enumerate() {
                if i == j && src.members.len() < 2 {
                    continue;
                }
                let (s, d) = (Endpoint::Class(src.class), Endpoint::Class(dst.class));
                let set = memo.connection(s, d);
                if set != memo.none {
                    emit(GroupPeer::Group(i), GroupPeer::Group(j), set, self.is_uncertain(s, d));
                }
            }
        }
        for part in self.ingress_ips.parts() {
            for (j, dst) in groups.iter().enumerate() {
                let (s, d) = (Endpoint::External(*part), Endpoint::Class(dst.class));
                let set = memo.connection(s, d);
                if set != memo.none {
                    emit(GroupPeer::External(*part), GroupPeer::Group(j), set, self.is_uncertain(s, d));
                }
            }
        }
        for part in self.egress_ips.parts() {
            for (i, src) in groups.iter().enumerate() {
                let (s, d) = (Endpoint::Class(src.class), Endpoint::External(*part));
                let set = memo.connection(s, d);
                if set != memo.none {
                    emit(GroupPeer::Group(i), GroupPeer::External(*part), set, self.is_uncertain(s, d));
                }
            }
        }
        for (workload, set) in memo.controller() {
            let uncertain = match (self.ingress_controller, self.workloads.get(workload)) {
                (Some(controller), Some(w)) => self.is_uncertain(Endpoint::Class(controller), Endpoint::Class(w.class)),
                _ => false,
            };
            emit(GroupPeer::IngressController, GroupPeer::Workload(workload), set, uncertain);
        }
        memo.sets.sets
    }
}

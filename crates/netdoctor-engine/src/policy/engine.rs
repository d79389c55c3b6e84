//! Building the policy engine: namespaces (declared, or implied by the pods in them),
//! workloads, pod classes, and every policy compiled against the classes.
//!
//! A pod class is a distinct (namespace, labels, container ports, hostNetwork): every
//! pod of a class is selected by the same selectors and resolves named ports the same
//! way, so evaluation works on classes and its cost grows with the number of distinct
//! label sets rather than with pods. Each rule's peers are compiled once into the set
//! of classes (and IPv4 ranges) they match.

use super::classset::ClassSet;
use super::ip::{Ipv4Partition, Ipv4Range, Ipv4Set};
use super::ports::{ConnSet, PortSet};
use super::selector::matches;
use super::tiered::{Tier, TieredPolicy};
use super::unknown::{UncertainScope, Uncertainty};
use netdoctor_model::k8s::{
    AdminAction, AdminKind, AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminSubject, AdminTier, Cluster, ContainerPort, LabelSelector,
    Labels, NetworkPolicy, Owner, PolicyPeer, PolicyRule, PolicyType, PortRef, PortSpec, NAMESPACE_NAME_LABEL,
};
use netdoctor_model::{Origin, Protocol};
use std::collections::HashMap;

/// Name of the stand-in pod for the cluster's ingress controller (as netpol-analyzer names it).
pub const INGRESS_CONTROLLER: &str = "ingress-controller";
/// Namespace of the stand-in ingress controller pod.
pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-controller-ns";

/// Index of a pod class.
pub type ClassId = usize;

/// How pods with `hostNetwork: true` are treated (`--host-network`, `host_network` in
/// netdoctor.toml, as `as-pods` or `bypass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum HostNetwork {
    /// Policies select and match host-network pods like any other pod (what
    /// netpol-analyzer and the policy API conformance read).
    #[default]
    AsPods,
    /// Policies neither select nor match host-network pods (their traffic is the node's):
    /// only rules that allow every peer let it through, as most CNIs enforce.
    Bypass,
}

/// Engine settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyOptions {
    pub host_network: HostNetwork,
}

/// A namespace as the engine sees it.
#[derive(Debug, Clone)]
pub struct NamespaceInfo {
    pub name: String,
    pub labels: Labels,
    /// Read from a Namespace object (otherwise implied by the pods in it).
    pub declared: bool,
}

/// Pods that share everything policies can look at.
#[derive(Debug, Clone)]
pub struct PodClass {
    /// Index into `PolicyEngine::namespaces`.
    pub namespace: usize,
    pub labels: Labels,
    pub ports: Vec<ContainerPort>,
    pub host_network: bool,
    /// `serviceAccountName` (Calico policies select by it); `None` is `default`.
    pub service_account: Option<String>,
}

/// A reported unit: a workload and the pods that stand for it.
#[derive(Debug, Clone)]
pub struct Workload {
    pub namespace: String,
    pub owner: Owner,
    /// Indices into `Cluster::pods`.
    pub pods: Vec<usize>,
    /// The class of the first pod, which stands for the workload.
    pub class: ClassId,
    pub replicas: u32,
    /// For pods of an owner that differ from its first pods in what policies see (labels
    /// other than per-pod ones, ports, host network, service account): the labels that
    /// set them apart, `{track=canary}`, which follow the name. `None` for the first.
    pub variant: Option<String>,
}

impl Workload {
    /// `ns/name[Kind]`, and for a variant its distinguishing labels: `ns/name[Kind]{track=canary}`.
    pub fn name(&self) -> String {
        format!("{}/{}[{}]{}", self.namespace, self.owner.name, self.owner.kind, self.variant.as_deref().unwrap_or_default())
    }
}

/// Labels a controller sets on each pod (or each revision) by itself: pods that differ in
/// them alone behave alike for policies written by people, so they make no variant.
const PER_POD_LABELS: &[&str] = &[
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "pod-template-generation",
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/job-completion-index",
];

/// What sets a pod's behaviour apart within its owner: its labels without per-pod ones,
/// its ports, host network and service account.
type Behaviour = (Labels, Vec<ContainerPort>, bool, Option<String>);

fn behaviour(pod: &netdoctor_model::k8s::Pod) -> Behaviour {
    let labels = pod.labels.iter().filter(|(k, _)| !PER_POD_LABELS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    (labels, pod.ports.clone(), pod.host_network, pod.service_account.clone())
}

/// The labels of `this` that `first` lacks or sets otherwise, as `{k=v, …}` (or the
/// other differences when the labels agree).
fn variant_suffix(first: &Behaviour, this: &Behaviour) -> String {
    let differing: Vec<String> = this.0.iter().filter(|(k, v)| first.0.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v}")).collect();
    let missing: Vec<String> = first.0.keys().filter(|k| !this.0.contains_key(*k)).map(|k| format!("!{k}")).collect();
    let mut parts: Vec<String> = differing.into_iter().chain(missing).collect();
    if parts.is_empty() {
        if this.2 != first.2 {
            parts.push(if this.2 { "hostNetwork".into() } else { "!hostNetwork".into() });
        }
        if this.3 != first.3 {
            parts.push(format!("serviceAccount={}", this.3.as_deref().unwrap_or("default")));
        }
        if this.1 != first.1 {
            parts.push("other ports".into());
        }
    }
    format!("{{{}}}", parts.join(", "))
}

/// Which peers a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PeerMatch {
    /// Every pod and every address (a rule without peers).
    pub any: bool,
    pub classes: ClassSet,
    pub ips: Ipv4Set,
}

/// The ports of a rule, with named ports left to resolve per destination pod.
#[derive(Debug, Clone)]
pub(crate) struct RulePorts {
    pub fixed: ConnSet,
    /// Named ports and, for NetworkPolicy, the protocol the container port must have.
    pub named: Vec<(Option<Protocol>, String)>,
    /// Named ports taken out again (Calico's `notPorts`), resolved the same way.
    pub except_named: Vec<(Option<Protocol>, String)>,
}

impl RulePorts {
    fn all() -> RulePorts {
        RulePorts::fixed(ConnSet::all())
    }

    /// Numbered ports only.
    pub(crate) fn fixed(fixed: ConnSet) -> RulePorts {
        RulePorts { fixed, named: Vec::new(), except_named: Vec::new() }
    }

    /// Whether the answer depends on the destination's named ports.
    pub(crate) fn has_named(&self) -> bool {
        !self.named.is_empty() || !self.except_named.is_empty()
    }

    /// The connections the ports stand for when the destination is `dst` (`None` for an
    /// address outside the cluster, where names match nothing).
    pub fn resolve(&self, dst: Option<&PodClass>) -> ConnSet {
        if !self.has_named() {
            return self.fixed.clone();
        }
        let mut out = self.fixed.clone();
        let Some(dst) = dst else { return out };
        let lookup = |list: &[(Option<Protocol>, String)]| {
            let mut found = ConnSet::none();
            for (protocol, name) in list {
                let port = dst.ports.iter().find(|p| p.name.as_deref() == Some(name.as_str()));
                if let Some(cp) = port.filter(|cp| protocol.is_none_or(|p| p == cp.protocol)) {
                    found.add(cp.protocol, &PortSet::single(cp.port));
                }
            }
            found
        };
        out.add_all(&lookup(&self.named));
        if !self.except_named.is_empty() {
            out = out.subtract(&lookup(&self.except_named));
        }
        out
    }
}

/// One compiled NetworkPolicy or admin policy rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub peers: PeerMatch,
    pub ports: RulePorts,
    pub action: AdminAction,
    /// Peers of the rule that are not evaluated (they match nothing here), said for a person.
    pub unevaluated: Option<String>,
}

/// A policy compiled against the classes.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    /// Index into the cluster's `network_policies` or `admin_policies`.
    pub source: usize,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

/// Per class and direction, the policies that apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct Applies {
    /// NetworkPolicies selecting the class (indices into `PolicyEngine::network`).
    pub network: Vec<usize>,
    /// Admin-tier policies selecting it, by priority (indices into `PolicyEngine::admin`).
    pub admin: Vec<usize>,
    /// Baseline policies selecting it, in order (indices into `PolicyEngine::baseline`).
    pub baseline: Vec<usize>,
    /// Tiered policies selecting it, in evaluation order (indices into
    /// `PolicyEngine::tiered`).
    pub tiered: Vec<usize>,
    /// The distinct peers of every rule above (indices into `PolicyEngine::peer_table`),
    /// leaving out rules that match every peer: which of them match decides the answer
    /// for a peer, so the matrix computes it once per combination.
    pub peers: Vec<u32>,
    /// Whether a rule above names ports (resolved on the destination).
    pub named: bool,
}

/// The cluster's policies, compiled for evaluation.
pub struct PolicyEngine<'c> {
    pub cluster: &'c Cluster,
    pub options: PolicyOptions,
    pub namespaces: Vec<NamespaceInfo>,
    pub classes: Vec<PodClass>,
    pub workloads: Vec<Workload>,
    /// The stand-in ingress controller, when the cluster has Ingress or Route objects.
    pub ingress_controller: Option<ClassId>,
    /// The parts of the address space sources outside the cluster fall into (split by
    /// ingress ipBlocks).
    pub ingress_ips: Ipv4Partition,
    /// The parts destinations outside the cluster fall into (split by egress ipBlocks
    /// and admin `networks`).
    pub egress_ips: Ipv4Partition,
    /// Things in the input the engine could not evaluate.
    pub warnings: Vec<EngineWarning>,
    /// What can change the engine's verdicts without being evaluated.
    pub uncertainties: Vec<Uncertainty>,
    /// Per class, indices into `uncertainties` of those that touch it.
    pub(crate) uncertain_by_class: Vec<Vec<u32>>,
    pub(crate) network: Vec<Compiled>,
    /// Admin policies by priority.
    pub(crate) admin: Vec<Compiled>,
    /// Baseline-tier policies in evaluation order.
    pub(crate) baseline: Vec<Compiled>,
    pub(crate) ingress_applies: Vec<Applies>,
    pub(crate) egress_applies: Vec<Applies>,
    /// The tiers (Calico's, `default`, the admin and baseline tiers, Cilium's), in evaluation order.
    pub tiers: Vec<Tier>,
    /// Every distinct rule peer (see `Applies::peers`).
    pub(crate) peer_table: Vec<PeerMatch>,
    /// Per Calico or Cilium policy, the classes it selects (ingress, egress).
    pub(crate) cni_selection: HashMap<super::tiered::TieredSource, [Vec<ClassId>; 2]>,
    /// Every policy of every kind, lowered, in tier order.
    pub(crate) tiered: Vec<TieredPolicy>,
    /// Per namespace (index into `namespaces`), its classes, ascending.
    pub(crate) by_namespace: Vec<Vec<ClassId>>,
    /// Namespaces by name (index into `namespaces`).
    pub(crate) namespace_index: HashMap<String, usize>,
    /// Per namespace (index into `namespaces`), its pods (indices into `Cluster::pods`).
    pub(crate) pods_by_namespace: Vec<Vec<usize>>,
}

/// Something the engine skipped or had to guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineWarning {
    pub origin: Origin,
    pub message: String,
}

type ClassKey = (usize, Labels, Vec<ContainerPort>, bool, Option<String>);

impl<'c> PolicyEngine<'c> {
    /// Compiles every policy of `cluster`.
    pub fn new(cluster: &'c Cluster, options: PolicyOptions) -> PolicyEngine<'c> {
        let mut b = Builder::default();
        b.namespaces(cluster);
        b.pods(cluster);
        if !cluster.ingresses.is_empty() {
            b.ingress_controller = Some(b.class(INGRESS_CONTROLLER_NAMESPACE, Labels::new(), Vec::new(), false, None));
        }
        let mut engine = PolicyEngine {
            cluster,
            options,
            namespaces: b.namespaces,
            classes: b.classes,
            workloads: b.workloads,
            ingress_controller: b.ingress_controller,
            ingress_ips: Ipv4Partition::new([]),
            egress_ips: Ipv4Partition::new([]),
            warnings: Vec::new(),
            uncertainties: Vec::new(),
            uncertain_by_class: Vec::new(),
            network: Vec::new(),
            admin: Vec::new(),
            baseline: Vec::new(),
            ingress_applies: Vec::new(),
            egress_applies: Vec::new(),
            tiers: Vec::new(),
            tiered: Vec::new(),
            peer_table: Vec::new(),
            cni_selection: HashMap::new(),
            by_namespace: Vec::new(),
            namespace_index: HashMap::new(),
            pods_by_namespace: Vec::new(),
        };
        engine.by_namespace = engine.classes_by_namespace();
        engine.namespace_index = engine.namespaces.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
        engine.pods_by_namespace = vec![Vec::new(); engine.namespaces.len()];
        for (i, pod) in cluster.pods.iter().enumerate() {
            if let Some(list) = engine.namespace_index.get(&pod.namespace).and_then(|&n| engine.pods_by_namespace.get_mut(n)) {
                list.push(i);
            }
        }
        engine.compile();
        engine.collect_unevaluated();
        engine
    }

    /// The class of a namespace's pods by index, per namespace.
    fn classes_by_namespace(&self) -> Vec<Vec<ClassId>> {
        let mut by_ns = vec![Vec::new(); self.namespaces.len()];
        for (id, class) in self.classes.iter().enumerate() {
            if let Some(list) = by_ns.get_mut(class.namespace) {
                list.push(id);
            }
        }
        by_ns
    }

    /// Whether a class takes part in selection (host-network pods may not).
    pub(crate) fn selectable(&self, class: &PodClass) -> bool {
        !(class.host_network && self.options.host_network == HostNetwork::Bypass)
    }

    fn compile(&mut self) {
        let by_ns = self.by_namespace.clone();
        let cx = CompileCx { engine: self, by_ns: &by_ns };
        let mut warnings = Vec::new();
        let mut ingress_sets = Vec::new();
        let mut egress_sets = Vec::new();
        let network: Vec<Compiled> = self
            .cluster
            .network_policies
            .iter()
            .enumerate()
            .map(|(i, p)| cx.network_policy(i, p, &mut ingress_sets, &mut egress_sets, &mut warnings))
            .collect();
        let mut admin: Vec<(i32, Compiled)> = Vec::new();
        // Baseline policies by (priority, file order); the BaselineAdminNetworkPolicy,
        // which has no priority, after every baseline ClusterNetworkPolicy.
        let mut baseline: Vec<(Option<i32>, Compiled)> = Vec::new();
        let mut banp_seen: Option<&AdminPolicy> = None;
        for (i, p) in self.cluster.admin_policies.iter().enumerate() {
            let compiled = cx.admin_policy(i, p, &mut egress_sets, &mut warnings);
            match p.tier {
                AdminTier::Admin { priority } => {
                    if let Some((_, other)) = admin.iter().find(|(q, _)| *q == priority) {
                        if let Some(o) = self.cluster.admin_policies.get(other.source) {
                            warnings.push(same_priority(o, p, priority));
                        }
                    }
                    admin.push((priority, compiled));
                }
                AdminTier::Baseline if p.kind == AdminKind::BaselineAdminNetworkPolicy => {
                    if banp_seen.is_some() {
                        let message = format!("a second BaselineAdminNetworkPolicy `{}` is ignored; a cluster has at most one", p.name);
                        warnings.push(EngineWarning { origin: p.origin.clone(), message });
                        continue;
                    }
                    banp_seen = Some(p);
                    baseline.push((None, compiled));
                }
                AdminTier::Baseline => {
                    let priority = p.baseline_priority;
                    if let Some((_, other)) = baseline.iter().find(|(q, _)| q.is_some() && *q == priority) {
                        if let Some(o) = self.cluster.admin_policies.get(other.source) {
                            warnings.push(same_priority(o, p, priority.unwrap_or_default()));
                        }
                    }
                    baseline.push((priority, compiled));
                }
            }
        }
        let has_cnp_baseline = baseline.iter().any(|(q, _)| q.is_some());
        if let (Some(banp), true) = (banp_seen, has_cnp_baseline) {
            let message = format!(
                "BaselineAdminNetworkPolicy `{}` and baseline-tier ClusterNetworkPolicies are both present; their order is undefined, netdoctor evaluates the ClusterNetworkPolicies first",
                banp.name
            );
            warnings.push(EngineWarning { origin: banp.origin.clone(), message });
        }
        // Stable, so equal priorities keep file order.
        admin.sort_by_key(|(priority, _)| *priority);
        baseline.sort_by_key(|(priority, _)| priority.map_or((1, 0), |p| (0, p)));
        let admin: Vec<Compiled> = admin.into_iter().map(|(_, c)| c).collect();
        let baseline: Vec<Compiled> = baseline.into_iter().map(|(_, c)| c).collect();
        let (ingress_applies, egress_applies) = cx.applies(&admin, &baseline);
        let mut uncertainties = cx.rule_uncertainties(&admin);
        uncertainties.extend(cx.rule_uncertainties(&baseline));
        self.network = network;
        self.admin = admin;
        self.baseline = baseline;
        self.ingress_applies = ingress_applies;
        self.egress_applies = egress_applies;
        self.warnings.extend(warnings);
        self.uncertainties.extend(uncertainties);
        {
            let build = self.build_tiered();
            for (applies, lists) in [(&mut self.ingress_applies, build.ingress), (&mut self.egress_applies, build.egress)] {
                for (a, list) in applies.iter_mut().zip(lists) {
                    a.tiered = list;
                }
            }
            ingress_sets.extend(build.ingress_sets);
            egress_sets.extend(build.egress_sets);
            self.tiers = build.tiers;
            self.tiered = build.policies;
            self.cni_selection = self.cni_selections();
            self.warnings.extend(build.warnings);
            self.uncertainties.extend(build.uncertainties);
        }
        self.ingress_ips = Ipv4Partition::new(&ingress_sets);
        self.egress_ips = Ipv4Partition::new(&egress_sets);
        self.index_peers();
    }

    /// Fills `Applies::peers` and `named` for every class and direction.
    fn index_peers(&mut self) {
        let (table, lists) = self.peer_lists();
        self.peer_table = table;
        for (class, [ingress, egress]) in lists.into_iter().enumerate() {
            if let Some(a) = self.ingress_applies.get_mut(class) {
                (a.peers, a.named) = ingress;
            }
            if let Some(a) = self.egress_applies.get_mut(class) {
                (a.peers, a.named) = egress;
            }
        }
    }

    /// The distinct rule peers, and per class the ids of its rules' peers per direction
    /// (ingress, egress) with whether a rule names ports.
    #[allow(clippy::type_complexity)]
    fn peer_lists(&self) -> (Vec<PeerMatch>, Vec<[(Vec<u32>, bool); 2]>) {
        let mut ids: HashMap<&PeerMatch, u32> = HashMap::new();
        let mut table: Vec<PeerMatch> = Vec::new();
        let mut lists: Vec<[(Vec<u32>, bool); 2]> = Vec::with_capacity(self.classes.len());
        for class in 0..self.classes.len() {
            let mut both: [(Vec<u32>, bool); 2] = Default::default();
            for (slot, direction) in both.iter_mut().zip([PolicyType::Ingress, PolicyType::Egress]) {
                let applies = match direction {
                    PolicyType::Ingress => self.ingress_applies.get(class),
                    PolicyType::Egress => self.egress_applies.get(class),
                };
                let Some(a) = applies else { continue };
                let tiered = a
                    .tiered
                    .iter()
                    .filter_map(|&i| self.tiered.get(i))
                    .flat_map(|p| p.rules(direction))
                    .map(|r| (&r.peers, r.ports.has_named()));
                for (peers, named) in tiered {
                    slot.1 |= named;
                    if peers.any {
                        continue;
                    }
                    let next = u32::try_from(table.len()).unwrap_or(u32::MAX);
                    let id = *ids.entry(peers).or_insert_with(|| {
                        table.push(peers.clone());
                        next
                    });
                    slot.0.push(id);
                }
                slot.0.sort_unstable();
                slot.0.dedup();
            }
            lists.push(both);
        }
        (table, lists)
    }

    /// The workload called `ns/name[Kind]`, `ns/name` or `name` (in `default`).
    pub fn find_workload(&self, name: &str) -> Option<usize> {
        let exact = self.workloads.iter().position(|w| w.name() == name);
        exact.or_else(|| {
            let (ns, rest) = name.split_once('/').unwrap_or(("default", name));
            self.workloads.iter().position(|w| w.namespace == ns && w.owner.name == rest)
        })
    }
}

/// The warning for two policies of one tier sharing a priority.
fn same_priority(first: &AdminPolicy, second: &AdminPolicy, priority: i32) -> EngineWarning {
    let message = format!(
        "{} `{}` and {} `{}` share priority {priority}; which wins is undefined (netdoctor uses file order), so give them distinct priorities",
        first.kind, first.name, second.kind, second.name
    );
    EngineWarning { origin: second.origin.clone(), message }
}

#[derive(Default)]
struct Builder {
    namespaces: Vec<NamespaceInfo>,
    ns_index: HashMap<String, usize>,
    classes: Vec<PodClass>,
    class_index: HashMap<ClassKey, ClassId>,
    workloads: Vec<Workload>,
    ingress_controller: Option<ClassId>,
}

impl Builder {
    fn namespaces(&mut self, cluster: &Cluster) {
        for ns in &cluster.namespaces {
            if self.ns_index.contains_key(&ns.name) {
                continue;
            }
            self.ns_index.insert(ns.name.clone(), self.namespaces.len());
            self.namespaces.push(NamespaceInfo { name: ns.name.clone(), labels: ns.labels.clone(), declared: true });
        }
    }

    /// The namespace called `name`, implied with only its name label when not declared.
    fn namespace(&mut self, name: &str) -> usize {
        if let Some(&i) = self.ns_index.get(name) {
            return i;
        }
        let labels = Labels::from([(NAMESPACE_NAME_LABEL.to_string(), name.to_string())]);
        self.ns_index.insert(name.to_string(), self.namespaces.len());
        self.namespaces.push(NamespaceInfo { name: name.to_string(), labels, declared: false });
        self.namespaces.len() - 1
    }

    fn class(
        &mut self,
        namespace: &str,
        labels: Labels,
        ports: Vec<ContainerPort>,
        host_network: bool,
        service_account: Option<String>,
    ) -> ClassId {
        let ns = self.namespace(namespace);
        let key = (ns, labels, ports, host_network, service_account);
        if let Some(&id) = self.class_index.get(&key) {
            return id;
        }
        let id = self.classes.len();
        self.classes.push(PodClass {
            namespace: ns,
            labels: key.1.clone(),
            ports: key.2.clone(),
            host_network,
            service_account: key.4.clone(),
        });
        self.class_index.insert(key, id);
        id
    }

    /// One workload per owner and behaviour: pods of one owner that policies would see
    /// differently (a rollout that changed the template's labels, a canary label) are
    /// reported as variants of it, each with its own pods.
    fn pods(&mut self, cluster: &Cluster) {
        // Per owner: each behaviour seen, with its workload.
        let mut variants: HashMap<(String, Owner), Vec<(Behaviour, usize)>> = HashMap::new();
        for (i, pod) in cluster.pods.iter().enumerate() {
            let this = behaviour(pod);
            let seen = variants.entry((pod.namespace.clone(), pod.owner.clone())).or_default();
            if let Some(&(_, w)) = seen.iter().find(|(b, _)| *b == this) {
                if let Some(workload) = self.workloads.get_mut(w) {
                    workload.pods.push(i);
                    workload.replicas = workload.replicas.saturating_add(pod.replicas);
                }
                continue;
            }
            let variant = seen.first().map(|(first, _)| variant_suffix(first, &this));
            let class = self.class(&pod.namespace, pod.labels.clone(), pod.ports.clone(), pod.host_network, pod.service_account.clone());
            seen.push((this, self.workloads.len()));
            self.workloads.push(Workload {
                namespace: pod.namespace.clone(),
                owner: pod.owner.clone(),
                pods: vec![i],
                class,
                replicas: pod.replicas,
                variant,
            });
        }
    }
}

struct CompileCx<'e, 'c> {
    engine: &'e PolicyEngine<'c>,
    by_ns: &'e [Vec<ClassId>],
}

impl CompileCx<'_, '_> {
    fn empty_peers(&self) -> PeerMatch {
        PeerMatch { any: false, classes: ClassSet::with_len(self.engine.classes.len()), ips: Ipv4Set::empty() }
    }

    /// Namespaces (indices) matched by a selector.
    fn namespaces_matching<'s>(&'s self, sel: &'s LabelSelector) -> impl Iterator<Item = usize> + 's {
        self.engine.namespaces.iter().enumerate().filter(move |(_, ns)| matches(sel, &ns.labels)).map(|(i, _)| i)
    }

    /// Adds the selectable classes of `namespaces` whose labels match `pods` (all when `None`).
    fn add_classes(&self, into: &mut ClassSet, namespaces: impl Iterator<Item = usize>, pods: Option<&LabelSelector>) {
        for ns in namespaces {
            for &id in self.by_ns.get(ns).map(Vec::as_slice).unwrap_or_default() {
                let Some(class) = self.engine.classes.get(id) else { continue };
                if self.engine.selectable(class) && pods.is_none_or(|sel| matches(sel, &class.labels)) {
                    into.insert(id);
                }
            }
        }
    }

    fn namespace_index(&self, name: &str) -> Option<usize> {
        self.engine.namespaces.iter().position(|n| n.name == name)
    }

    fn ipv4(&self, net: &ipnet::IpNet, origin: &Origin, warnings: &mut Vec<EngineWarning>) -> Option<Ipv4Range> {
        let range = Ipv4Range::from_net(net);
        if range.is_none() {
            let message = format!("IPv6 range {net} is not evaluated yet; the rule is read as if it did not name it");
            warnings.push(EngineWarning { origin: origin.clone(), message });
        }
        range
    }

    fn network_policy(
        &self,
        source: usize,
        policy: &NetworkPolicy,
        ingress_sets: &mut Vec<Ipv4Set>,
        egress_sets: &mut Vec<Ipv4Set>,
        warnings: &mut Vec<EngineWarning>,
    ) -> Compiled {
        let ns = self.namespace_index(&policy.namespace);
        let mut rules = |list: &[PolicyRule], sets: &mut Vec<Ipv4Set>| -> Vec<Rule> {
            list.iter().map(|r| self.network_rule(ns, r, sets, warnings)).collect()
        };
        let ingress = rules(&policy.ingress, ingress_sets);
        let egress = rules(&policy.egress, egress_sets);
        Compiled { source, ingress, egress }
    }

    fn network_rule(&self, ns: Option<usize>, rule: &PolicyRule, ip_sets: &mut Vec<Ipv4Set>, warnings: &mut Vec<EngineWarning>) -> Rule {
        let mut peers = self.empty_peers();
        // `from: []` (or no `from`) is every peer, inside and outside the cluster.
        peers.any = rule.peers.is_empty();
        for peer in &rule.peers {
            match peer {
                PolicyPeer::Pods { namespace_selector, pod_selector, .. } => match namespace_selector {
                    // No namespaceSelector: the policy's own namespace only.
                    None => self.add_classes(&mut peers.classes, ns.into_iter(), pod_selector.as_ref()),
                    Some(sel) => self.add_classes(&mut peers.classes, self.namespaces_matching(sel), pod_selector.as_ref()),
                },
                PolicyPeer::IpBlock { block, origin } => {
                    if self.ipv4(&block.cidr, origin, warnings).is_none() {
                        continue;
                    }
                    if let Some(set) = Ipv4Set::from_block(block) {
                        // netpol-analyzer splits each block into its ranges before partitioning.
                        for r in set.ranges() {
                            ip_sets.push(Ipv4Set::from_range(*r));
                        }
                        peers.ips = peers.ips.union(&set);
                    }
                }
            }
        }
        Rule { peers, ports: network_ports(&rule.ports), action: AdminAction::Allow, unevaluated: None }
    }

    /// Classes an admin subject or peer selector pair matches.
    fn admin_classes(&self, into: &mut ClassSet, namespaces: &LabelSelector, pods: Option<&LabelSelector>) {
        self.add_classes(into, self.namespaces_matching(namespaces), pods);
    }

    fn admin_policy(
        &self,
        source: usize,
        policy: &AdminPolicy,
        egress_sets: &mut Vec<Ipv4Set>,
        warnings: &mut Vec<EngineWarning>,
    ) -> Compiled {
        let ingress = policy.ingress.iter().map(|r| self.admin_rule(r, None, warnings)).collect();
        let egress = policy.egress.iter().map(|r| self.admin_rule(r, Some(egress_sets), warnings)).collect();
        Compiled { source, ingress, egress }
    }

    fn admin_rule(&self, rule: &AdminRule, mut egress_sets: Option<&mut Vec<Ipv4Set>>, warnings: &mut Vec<EngineWarning>) -> Rule {
        let mut peers = self.empty_peers();
        let mut unevaluated = Vec::new();
        for peer in &rule.peers {
            match peer {
                AdminPeer::Namespaces(sel) => self.admin_classes(&mut peers.classes, sel, None),
                AdminPeer::Pods { namespace_selector, pod_selector } => {
                    self.admin_classes(&mut peers.classes, namespace_selector, Some(pod_selector));
                }
                AdminPeer::Networks(nets) => {
                    for net in nets {
                        let Some(range) = self.ipv4(net, &rule.origin, warnings) else { continue };
                        peers.ips = peers.ips.union_range(range);
                        if let Some(sets) = egress_sets.as_deref_mut() {
                            sets.push(Ipv4Set::from_range(range));
                        }
                    }
                }
                AdminPeer::Nodes(_) => unevaluated.push("`nodes` peers (node addresses are not part of the analysis)".to_string()),
                AdminPeer::DomainNames(names) => {
                    unevaluated.push(format!("`domainNames` peers ({}; matched by DNS answers)", names.join(", ")));
                }
            }
        }
        let unevaluated = (!unevaluated.is_empty()).then(|| {
            let what = format!("rule `{}` has {}, which are not evaluated", rule.name, unevaluated.join(" and "));
            let message = format!("{what}; flows from the policy's pods to addresses outside the cluster are reported unknown");
            warnings.push(EngineWarning { origin: rule.origin.clone(), message });
            what
        });
        Rule { peers, ports: admin_ports(rule.ports.as_deref()), action: rule.action, unevaluated }
    }

    /// The classes an admin policy's subject selects.
    fn admin_subject(&self, policy: &AdminPolicy) -> ClassSet {
        let mut selected = ClassSet::with_len(self.engine.classes.len());
        match &policy.subject {
            AdminSubject::Namespaces(sel) => self.admin_classes(&mut selected, sel, None),
            AdminSubject::Pods { namespace_selector, pod_selector } => {
                self.admin_classes(&mut selected, namespace_selector, Some(pod_selector))
            }
        }
        selected
    }

    /// Admin rules with peers that are not evaluated: each can change flows between its
    /// policy's pods and outside addresses.
    fn rule_uncertainties(&self, compiled: &[Compiled]) -> Vec<Uncertainty> {
        let mut out = Vec::new();
        for c in compiled {
            let Some(policy) = self.engine.cluster.admin_policies.get(c.source) else { continue };
            for reason in c.ingress.iter().chain(&c.egress).filter_map(|r| r.unevaluated.as_ref()) {
                out.push(Uncertainty::new(
                    format!("{} `{}`", policy.kind, policy.name),
                    reason.clone(),
                    policy.origin.clone(),
                    UncertainScope::ClassesToOutside(self.admin_subject(policy)),
                ));
            }
        }
        out
    }

    /// Which policies apply to each class, per direction.
    fn applies(&self, admin: &[Compiled], baseline: &[Compiled]) -> (Vec<Applies>, Vec<Applies>) {
        let n = self.engine.classes.len();
        let mut ingress = vec![Applies::default(); n];
        let mut egress = vec![Applies::default(); n];
        let cluster = self.engine.cluster;
        for (pi, policy) in cluster.network_policies.iter().enumerate() {
            let Some(ns) = self.namespace_index(&policy.namespace) else { continue };
            let mut selected = ClassSet::with_len(n);
            self.add_classes(&mut selected, std::iter::once(ns), Some(&policy.pod_selector));
            for c in selected.iter() {
                if policy.affects(PolicyType::Ingress) {
                    if let Some(a) = ingress.get_mut(c) {
                        a.network.push(pi);
                    }
                }
                if policy.affects(PolicyType::Egress) {
                    if let Some(a) = egress.get_mut(c) {
                        a.network.push(pi);
                    }
                }
            }
        }
        let subject = |policy: &AdminPolicy| self.admin_subject(policy);
        for (ai, compiled) in admin.iter().enumerate() {
            let Some(policy) = cluster.admin_policies.get(compiled.source) else { continue };
            for c in subject(policy).iter() {
                // An admin policy only affects the directions it has rules for.
                if !compiled.ingress.is_empty() {
                    if let Some(a) = ingress.get_mut(c) {
                        a.admin.push(ai);
                    }
                }
                if !compiled.egress.is_empty() {
                    if let Some(a) = egress.get_mut(c) {
                        a.admin.push(ai);
                    }
                }
            }
        }
        for (bi, compiled) in baseline.iter().enumerate() {
            let Some(policy) = cluster.admin_policies.get(compiled.source) else { continue };
            for c in subject(policy).iter() {
                if !compiled.ingress.is_empty() {
                    if let Some(a) = ingress.get_mut(c) {
                        a.baseline.push(bi);
                    }
                }
                if !compiled.egress.is_empty() {
                    if let Some(a) = egress.get_mut(c) {
                        a.baseline.push(bi);
                    }
                }
            }
        }
        (ingress, egress)
    }
}

/// A NetworkPolicy rule's ports: none listed means every port; a port without a
/// number means every port of its protocol.
fn network_ports(ports: &[PortSpec]) -> RulePorts {
    if ports.is_empty() {
        return RulePorts::all();
    }
    let mut out = RulePorts::fixed(ConnSet::none());
    for spec in ports {
        match &spec.port {
            None => out.fixed.add(spec.protocol, &PortSet::all()),
            Some(PortRef::Number(start)) => out.fixed.add(spec.protocol, &PortSet::range(*start, spec.end_port.unwrap_or(*start))),
            Some(PortRef::Name(name)) => out.named.push((Some(spec.protocol), name.clone())),
        }
    }
    out
}

/// An admin rule's ports: `None` means every port; a named port takes the protocol of
/// the container port it names.
fn admin_ports(ports: Option<&[AdminPort]>) -> RulePorts {
    let Some(ports) = ports else { return RulePorts::all() };
    let mut out = RulePorts::fixed(ConnSet::none());
    for port in ports {
        match port {
            AdminPort::Number { protocol, port } => out.fixed.add(*protocol, &PortSet::single(*port)),
            AdminPort::Range { protocol, start, end } => out.fixed.add(*protocol, &PortSet::range(*start, *end)),
            AdminPort::Named(name) => out.named.push((None, name.clone())),
        }
    }
    out
}

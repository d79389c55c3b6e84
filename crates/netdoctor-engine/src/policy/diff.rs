//! The connections a change to a cluster's manifests adds and removes (`netdoctor diff`).
//!
//! Both versions get their own `PolicyEngine`. Workloads are matched by name and
//! grouped by the pair (class in OLD, class in NEW), so each pair of groups is
//! evaluated once per version and only pairs whose answer changed are spread over
//! their workloads: the work follows the distinct label sets, the output the answer.
//!
//! When only NetworkPolicies differ (same pods, namespaces and admin policies), a pair
//! can change only if a changed policy selects its source or its destination, so only
//! the rows and columns of those classes are evaluated.

use super::{matches, ClassId, ConnSet, Endpoint, Evaluator, Ipv4Partition, Ipv4Range, Ipv4Set, PolicyEngine, PolicyOptions};
use netdoctor_model::k8s::{Cluster, NetworkPolicy};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One pair of peers whose allowed connections differ between the versions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub src: String,
    pub dst: String,
    /// What OLD allows (empty when nothing).
    pub old: ConnSet,
    /// What NEW allows (empty when nothing).
    pub new: ConnSet,
}

impl Change {
    /// Connections NEW allows and OLD did not.
    pub fn added(&self) -> ConnSet {
        self.new.subtract(&self.old)
    }

    /// Connections OLD allowed and NEW does not.
    pub fn removed(&self) -> ConnSet {
        self.old.subtract(&self.new)
    }

    /// `added`, `removed` or `changed` (both).
    pub fn kind(&self) -> &'static str {
        match (self.old.is_empty(), self.new.is_empty()) {
            (true, _) => "added",
            (_, true) => "removed",
            _ => "changed",
        }
    }
}

/// What changed: the pairs whose allowed connections differ, sorted by source then
/// destination, and the engines' warnings about either version.
#[derive(Debug, Clone, Default)]
pub struct PolicyDiff {
    pub changes: Vec<Change>,
    /// Workload names of each version, to say which a change added or removed.
    pub old_workloads: HashSet<String>,
    pub new_workloads: HashSet<String>,
    /// `old: …` / `new: …` warnings of the two engines.
    pub warnings: Vec<String>,
    /// What the comparison could not see: peers of changed NetworkPolicies that select
    /// no pod in their version's manifests (cluster DNS in `kube-system`, most often),
    /// so a change of what is allowed with them shows as no pair.
    pub not_evaluated: Vec<String>,
}

/// Workloads of both versions, grouped by (class in OLD, class in NEW); a workload that
/// exists in one version only has `None` for the other.
type Groups = BTreeMap<GroupKey, Vec<String>>;

/// A workload's class in OLD and in NEW.
type GroupKey = (Option<ClassId>, Option<ClassId>);

/// The two versions' answers for a pair when they differ: (OLD, NEW).
type Differing = Option<(ConnSet, ConnSet)>;

fn groups(old: &PolicyEngine<'_>, new: &PolicyEngine<'_>) -> Groups {
    let mut by_name: HashMap<String, (Option<ClassId>, Option<ClassId>)> = HashMap::new();
    for w in &old.workloads {
        by_name.entry(w.name()).or_default().0 = Some(w.class);
    }
    for w in &new.workloads {
        by_name.entry(w.name()).or_default().1 = Some(w.class);
    }
    let mut out = Groups::new();
    for (name, key) in by_name {
        out.entry(key).or_default().push(name);
    }
    out
}

/// A resource as a value without its origins, so moving it in the file does not count
/// as a change; `None` when it cannot be represented, which the caller must count as
/// changed (never as equal).
fn origin_free<T: serde::Serialize>(resource: &T) -> Option<serde_json::Value> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("origin");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(resource).ok()?;
    strip(&mut value);
    Some(value)
}

/// Whether two versions of a resource are the same, origins aside: unrepresentable
/// ones are never the same.
fn same<T: serde::Serialize>(old: &T, new: &T) -> bool {
    matches!((origin_free(old), origin_free(new)), (Some(a), Some(b)) if a == b)
}

/// Whether two versions of a NetworkPolicy say the same, wherever they are written:
/// compared field by field, origins left out.
fn same_policy(a: &NetworkPolicy, b: &NetworkPolicy) -> bool {
    use netdoctor_model::k8s::{PolicyPeer, PolicyRule};
    let same_peer = |x: &PolicyPeer, y: &PolicyPeer| match (x, y) {
        (
            PolicyPeer::Pods { namespace_selector: n1, pod_selector: p1, .. },
            PolicyPeer::Pods { namespace_selector: n2, pod_selector: p2, .. },
        ) => n1 == n2 && p1 == p2,
        (PolicyPeer::IpBlock { block: b1, .. }, PolicyPeer::IpBlock { block: b2, .. }) => b1 == b2,
        _ => false,
    };
    let same_rules = |x: &[PolicyRule], y: &[PolicyRule]| {
        x.len() == y.len()
            && x.iter().zip(y).all(|(r, t)| {
                r.peers.len() == t.peers.len()
                    && r.peers.iter().zip(&t.peers).all(|(p, q)| same_peer(p, q))
                    && r.ports.len() == t.ports.len()
                    && r.ports.iter().zip(&t.ports).all(|(p, q)| p.protocol == q.protocol && p.port == q.port && p.end_port == q.end_port)
            })
    };
    a.namespace == b.namespace
        && a.name == b.name
        && a.pod_selector == b.pod_selector
        && a.policy_types == b.policy_types
        && same_rules(&a.ingress, &b.ingress)
        && same_rules(&a.egress, &b.egress)
}

/// Whether two classes look the same to every selector and named port.
fn same_class(old: &PolicyEngine<'_>, a: ClassId, new: &PolicyEngine<'_>, b: ClassId) -> bool {
    let (Some(x), Some(y)) = (old.classes.get(a), new.classes.get(b)) else { return false };
    let ns = |e: &PolicyEngine<'_>, i: usize| e.namespaces.get(i).map(|n| (n.name.clone(), n.labels.clone()));
    x.labels == y.labels
        && x.ports == y.ports
        && x.host_network == y.host_network
        && x.service_account == y.service_account
        && ns(old, x.namespace) == ns(new, y.namespace)
}

/// Per group, whether a pair with it at either end may have changed. `None` means
/// anything may have (more than NetworkPolicies differ), so every pair is compared.
fn touched(old: &PolicyEngine<'_>, new: &PolicyEngine<'_>, groups: &Groups) -> Option<Vec<bool>> {
    let namespaces = |e: &PolicyEngine<'_>| {
        let mut all: Vec<(String, netdoctor_model::k8s::Labels)> =
            e.namespaces.iter().map(|n| (n.name.clone(), n.labels.clone())).collect();
        all.sort();
        all
    };
    let (a, b) = (old.cluster, new.cluster);
    // Admin policies, nodes (they feed host-network handling), and Calico's and Cilium's
    // policies (and what they name), which decide across namespaces and tiers: any
    // change there, and every pair is compared.
    let same_rest = same(&a.admin_policies, &b.admin_policies)
        && same(&a.nodes, &b.nodes)
        && same(&a.calico_policies, &b.calico_policies)
        && same(&a.calico_tiers, &b.calico_tiers)
        && same(&a.network_sets, &b.network_sets)
        && same(&a.cilium_policies, &b.cilium_policies)
        && same(&a.cidr_groups, &b.cidr_groups)
        && same(&a.unevaluated, &b.unevaluated);
    if !same_rest || namespaces(old) != namespaces(new) {
        return None;
    }
    for &(a, b) in groups.keys() {
        match (a, b) {
            (Some(a), Some(b)) if same_class(old, a, new, b) => {}
            _ => return None,
        }
    }
    // Every version of a name: a name may (wrongly) be used twice in one tree.
    type Keys<'p> = HashMap<(&'p str, &'p str), Vec<&'p NetworkPolicy>>;
    fn keyed(policies: &[NetworkPolicy]) -> Keys<'_> {
        let mut out: Keys<'_> = HashMap::new();
        for p in policies {
            out.entry((p.namespace.as_str(), p.name.as_str())).or_default().push(p);
        }
        out
    }
    let (old_keys, new_keys) = (keyed(&old.cluster.network_policies), keyed(&new.cluster.network_policies));
    // A policy changed when its other version differs or is missing; both versions of
    // it count, since either may select classes the other does not.
    let changed = |e: &PolicyEngine<'_>, theirs: &Keys<'_>| {
        e.cluster
            .network_policies
            .iter()
            .filter(|p| {
                !theirs.get(&(p.namespace.as_str(), p.name.as_str())).is_some_and(|versions| versions.iter().any(|q| same_policy(p, q)))
            })
            .cloned()
            .collect::<Vec<NetworkPolicy>>()
    };
    let mut policies = changed(old, &new_keys);
    policies.extend(changed(new, &old_keys));
    Some(
        groups
            .keys()
            .map(|&(a, _)| {
                let Some(class) = a.and_then(|a| old.classes.get(a)) else { return true };
                let ns = old.namespaces.get(class.namespace).map_or("", |n| n.name.as_str());
                policies.iter().any(|p| p.namespace == ns && matches(&p.pod_selector, &class.labels))
            })
            .collect(),
    )
}

/// The parts of the address space inside which neither version's partition splits.
fn refine(old: &Ipv4Partition, new: &Ipv4Partition) -> Vec<(Ipv4Range, Ipv4Range, Ipv4Range)> {
    let sets: Vec<Ipv4Set> = old.parts().iter().chain(new.parts()).map(|r| Ipv4Set::from_range(*r)).collect();
    let common = Ipv4Partition::new(&sets);
    common
        .parts()
        .iter()
        .filter_map(|r| {
            let addr = std::net::Ipv4Addr::from(r.start);
            Some((*r, old.part_of(addr)?, new.part_of(addr)?))
        })
        .collect()
}

/// One version's evaluator with its cache of answers.
struct Side<'a, 'c> {
    eval: Evaluator<'a, 'c>,
}

impl Side<'_, '_> {
    /// The answer's set index; `None` when either end is missing from this version.
    fn conn(&mut self, src: Option<Endpoint>, dst: Option<Endpoint>) -> Option<usize> {
        match (src, dst) {
            (Some(s), Some(d)) => Some(self.eval.connection(s, d)),
            _ => None,
        }
    }

    fn set(&self, index: Option<usize>) -> ConnSet {
        index.map(|i| self.eval.set(i).clone()).unwrap_or_default()
    }
}

/// Compares the two versions' answers and records the pairs that differ. `cache` keys on
/// the two set indices, so equal answers are compared once.
struct Collector {
    cache: HashMap<(Option<usize>, Option<usize>), Differing>,
    changes: Vec<Change>,
}

impl Collector {
    fn compare(&mut self, old: &Side<'_, '_>, new: &Side<'_, '_>, a: Option<usize>, b: Option<usize>) -> Differing {
        self.cache
            .entry((a, b))
            .or_insert_with(|| {
                let (x, y) = (old.set(a), new.set(b));
                (x != y).then_some((x, y))
            })
            .clone()
    }

    fn push(&mut self, src: &str, dst: &str, sets: &(ConnSet, ConnSet)) {
        self.changes.push(Change { src: src.to_string(), dst: dst.to_string(), old: sets.0.clone(), new: sets.1.clone() });
    }
}

/// The connections that differ between two versions of a cluster.
pub fn diff(old: &Cluster, new: &Cluster, options: PolicyOptions) -> PolicyDiff {
    compare(old, new, options, true)
}

/// Compares two versions; `prune` skips the pairs no changed NetworkPolicy can reach
/// (tests turn it off to check it changes nothing).
fn compare(old_cluster: &Cluster, new_cluster: &Cluster, options: PolicyOptions, prune: bool) -> PolicyDiff {
    let mut out = PolicyDiff::default();
    let old_engine = PolicyEngine::new(old_cluster, options);
    let new_engine = PolicyEngine::new(new_cluster, options);
    for (tag, engine) in [("old", &old_engine), ("new", &new_engine)] {
        out.warnings.extend(engine.warnings.iter().map(|w| format!("{tag}: {}: {}", w.origin, w.message)));
    }
    out.old_workloads = old_engine.workloads.iter().map(|w| w.name()).collect();
    out.new_workloads = new_engine.workloads.iter().map(|w| w.name()).collect();
    let groups = groups(&old_engine, &new_engine);
    let mut old = Side { eval: Evaluator::new(&old_engine) };
    let mut new = Side { eval: Evaluator::new(&new_engine) };
    let mut collect = Collector { cache: HashMap::new(), changes: Vec::new() };
    let class = |c: Option<ClassId>| c.map(Endpoint::Class);
    let touched = if prune { touched(&old_engine, &new_engine, &groups) } else { None };
    let is_touched = |i: usize| touched.as_ref().is_none_or(|t| t.get(i).copied().unwrap_or(true));
    let list: Vec<(&GroupKey, &Vec<String>)> = groups.iter().collect();
    let touched_list: Vec<_> = list.iter().enumerate().filter(|(i, _)| is_touched(*i)).map(|(_, g)| *g).collect();
    for (i, &(&(src_old, src_new), src_members)) in list.iter().enumerate() {
        // An untouched source can only change towards a touched destination.
        let columns = if is_touched(i) { &list } else { &touched_list };
        for &(&(dst_old, dst_new), dst_members) in columns {
            let a = old.conn(class(src_old), class(dst_old));
            let b = new.conn(class(src_new), class(dst_new));
            let Some(sets) = collect.compare(&old, &new, a, b) else { continue };
            for s in src_members {
                for d in dst_members.iter().filter(|d| *d != s) {
                    collect.push(s, d, &sets);
                }
            }
        }
    }
    // Outside addresses: compare on the common refinement of both versions' partitions.
    for (range, old_part, new_part) in refine(&old_engine.ingress_ips, &new_engine.ingress_ips) {
        let name = format!("{range}[External]");
        for &(&(dst_old, dst_new), members) in &touched_list {
            let a = old.conn(Some(Endpoint::External(old_part)), class(dst_old));
            let b = new.conn(Some(Endpoint::External(new_part)), class(dst_new));
            let Some(sets) = collect.compare(&old, &new, a, b) else { continue };
            for d in members {
                collect.push(&name, d, &sets);
            }
        }
    }
    for (range, old_part, new_part) in refine(&old_engine.egress_ips, &new_engine.egress_ips) {
        let name = format!("{range}[External]");
        for &(&(src_old, src_new), members) in &touched_list {
            let a = old.conn(class(src_old), Some(Endpoint::External(old_part)));
            let b = new.conn(class(src_new), Some(Endpoint::External(new_part)));
            let Some(sets) = collect.compare(&old, &new, a, b) else { continue };
            for s in members {
                collect.push(s, &name, &sets);
            }
        }
    }
    // The ingress controller: few exposures, so compared by workload name.
    let mut exposed: BTreeMap<String, (ConnSet, ConnSet)> = BTreeMap::new();
    for (workload, set) in old.eval.controller() {
        if let Some(w) = old_engine.workloads.get(workload) {
            exposed.entry(w.name()).or_default().0 = old.set(Some(set));
        }
    }
    for (workload, set) in new.eval.controller() {
        if let Some(w) = new_engine.workloads.get(workload) {
            exposed.entry(w.name()).or_default().1 = new.set(Some(set));
        }
    }
    let controller = format!("{{{}}}", super::INGRESS_CONTROLLER);
    for (dst, sets) in exposed.into_iter().filter(|(_, (a, b))| a != b) {
        collect.push(&controller, &dst, &sets);
    }
    out.changes = collect.changes;
    out.changes.sort_unstable_by(|x, y| (&x.src, &x.dst).cmp(&(&y.src, &y.dst)));
    out.not_evaluated = unseen_peers(&old_engine, &new_engine);
    out
}

/// Peers of the NetworkPolicies that differ between the versions (added, removed or
/// edited) that select no pod in that version: what the policy allows with them is
/// not in any pair, so a change there is invisible to the comparison.
fn unseen_peers(old: &PolicyEngine<'_>, new: &PolicyEngine<'_>) -> Vec<String> {
    let key = |p: &netdoctor_model::k8s::NetworkPolicy| (p.namespace.clone(), p.name.clone());
    let index = |e: &PolicyEngine<'_>| -> BTreeMap<(String, String), usize> {
        e.cluster.network_policies.iter().enumerate().map(|(i, p)| (key(p), i)).collect()
    };
    let (old_index, new_index) = (index(old), index(new));
    let mut notes = Vec::new();
    for (engine, mine, theirs, other) in [(old, &old_index, &new_index, new), (new, &new_index, &old_index, old)] {
        for (name, &i) in mine {
            let Some(policy) = engine.cluster.network_policies.get(i) else { continue };
            let counterpart = theirs.get(name).and_then(|&j| other.cluster.network_policies.get(j));
            let change = match counterpart {
                Some(c) if same_policy(policy, c) => continue,
                Some(_) => "changed",
                None if std::ptr::eq(engine, old) => "removed",
                None => "added",
            };
            let sections = [("ingress", &policy.ingress), ("egress", &policy.egress)];
            for (direction, rules) in sections {
                for peer in rules.iter().flat_map(|r| &r.peers) {
                    let netdoctor_model::k8s::PolicyPeer::Pods { namespace_selector, pod_selector, .. } = peer else { continue };
                    if !engine.peer_classes(&policy.namespace, peer).is_empty() {
                        continue;
                    }
                    let mut what = Vec::new();
                    if let Some(ns) = namespace_selector {
                        what.push(format!("namespaceSelector {ns}"));
                    }
                    if let Some(pods) = pod_selector {
                        what.push(format!("podSelector {pods}"));
                    }
                    notes.push(format!(
                        "NetworkPolicy {}/{} ({change}): its {direction} peer {} selects no pod in the manifests, so a change of what it allows with those pods is not evaluated; add their manifests to both versions (cluster DNS is kube-system's)",
                        policy.namespace,
                        policy.name,
                        what.join(", ")
                    ));
                }
            }
        }
    }
    notes.sort();
    notes.dedup();
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::build::{labels, port, sel};
    use crate::policy::PortSet;
    use netdoctor_model::calico::SelectorExpr;
    use netdoctor_model::calico_policy::*;
    use netdoctor_model::cilium::*;
    use netdoctor_model::k8s::*;
    use netdoctor_model::{Origin, Protocol};

    /// One change to the application's policies at a time.
    #[derive(Clone, Copy, PartialEq)]
    enum Edit {
        None,
        PgPortNumber,
        OtherExcept,
        OtherNamespaceLabel,
        WebPeerToAllNamespaces,
        NoEgressPolicy,
    }

    /// Namespaces `a` (`team=x`) and `b` (`team=y`); `a/web` (`http` 8080), `a/db`
    /// (`pg` 5432), `b/job`; policy `a/db` lets `app=web` in on `pg`, policy `b/job-out`
    /// lets `b`'s pods out to 10.0.0.0/8 except 10.1.0.0/16 and to `team=x` namespaces.
    /// Every origin is `at`, so two builds differ only where they were written.
    fn app(edit: Edit, at: &Origin) -> Cluster {
        let pod = |ns: &str, name: &str, pod_labels: &[(&str, &str)], ports: Vec<ContainerPort>| {
            let mut p = Pod::new(ns, name, labels(pod_labels), at.clone());
            p.ports = ports;
            p
        };
        let peer = |namespace_selector, pod_selector| PolicyPeer::Pods { namespace_selector, pod_selector, origin: at.clone() };
        let from_web = if edit == Edit::WebPeerToAllNamespaces {
            peer(Some(LabelSelector::default()), None)
        } else {
            peer(None, Some(sel(&[("app", "web")])))
        };
        let pg = if edit == Edit::PgPortNumber { PortRef::Number(5433) } else { PortRef::Name("pg".into()) };
        let mut db = NetworkPolicy::new("a", "db", sel(&[("app", "db")]), at.clone());
        db.ingress = vec![PolicyRule::new(vec![from_web], vec![PortSpec::new(Protocol::Tcp, Some(pg), at.clone())], at.clone())];
        let mut policies = vec![db];
        if edit != Edit::NoEgressPolicy {
            let except = if edit == Edit::OtherExcept { "10.2.0.0/16" } else { "10.1.0.0/16" };
            let net = |s: &str| s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            let block = IpBlock { cidr: net("10.0.0.0/8"), except: vec![net(except)] };
            let team = if edit == Edit::OtherNamespaceLabel { "y" } else { "x" };
            let mut out = NetworkPolicy::new("b", "job-out", LabelSelector::default(), at.clone());
            out.policy_types = Some(vec![PolicyType::Egress]);
            out.egress = vec![
                PolicyRule::new(vec![PolicyPeer::IpBlock { block, origin: at.clone() }], vec![], at.clone()),
                PolicyRule::new(vec![peer(Some(sel(&[("team", team)])), None)], vec![], at.clone()),
            ];
            policies.push(out);
        }
        Cluster {
            namespaces: vec![
                Namespace::new("a", labels(&[("team", "x")]), at.clone()),
                Namespace::new("b", labels(&[("team", "y")]), at.clone()),
            ],
            pods: vec![
                pod("a", "web", &[("app", "web"), ("tier", "front")], vec![port("http", 8080, Protocol::Tcp)]),
                pod("a", "db", &[("app", "db")], vec![port("pg", 5432, Protocol::Tcp)]),
                pod("b", "job", &[("app", "job")], vec![]),
            ],
            network_policies: policies,
            ..Cluster::default()
        }
    }

    fn here() -> Origin {
        Origin::Logical("test".into())
    }

    /// Pruned and full comparison agree on policy-only changes of every kind.
    #[test]
    fn pruning_changes_nothing() {
        let old = app(Edit::None, &here());
        let edits = [Edit::PgPortNumber, Edit::OtherExcept, Edit::OtherNamespaceLabel, Edit::WebPeerToAllNamespaces, Edit::NoEgressPolicy];
        for (i, edit) in edits.into_iter().enumerate() {
            let new = app(edit, &here());
            let pruned = compare(&old, &new, PolicyOptions::default(), true);
            let full = compare(&old, &new, PolicyOptions::default(), false);
            assert!(!full.changes.is_empty(), "edit {i} must change something");
            assert_eq!(pruned.changes, full.changes, "edit {i}");
        }
    }

    /// The application with a Calico GlobalNetworkPolicy that denies TCP `port` into
    /// `app == 'web'` and passes the rest.
    fn with_calico_deny(port: u16) -> Cluster {
        let deny = CalicoRule {
            action: CalicoAction::Deny,
            protocol: Some(CalicoProtocol::Tcp),
            not_protocol: None,
            icmp: None,
            not_icmp: None,
            ip_version: None,
            source: EntityRule::default(),
            destination: EntityRule { ports: vec![CalicoPort::Range(port, port)], ..EntityRule::default() },
            unevaluated: vec![],
            origin: here(),
        };
        let pass = CalicoRule { action: CalicoAction::Pass, protocol: None, destination: EntityRule::default(), ..deny.clone() };
        let policy = CalicoPolicy {
            kind: CalicoKind::GlobalNetworkPolicy,
            api_version: "projectcalico.org/v3".into(),
            namespace: None,
            name: "deny-web".into(),
            tier: DEFAULT_TIER.into(),
            order: Some(10.0),
            selector: SelectorExpr::Equals("app".into(), "web".into()),
            namespace_selector: None,
            service_account_selector: None,
            types: vec![PolicyType::Ingress],
            ingress: vec![deny, pass],
            egress: vec![],
            unevaluated: vec![],
            origin: here(),
        };
        Cluster { calico_policies: vec![policy], ..app(Edit::None, &here()) }
    }

    /// The application with a CiliumClusterwideNetworkPolicy that denies TCP `port` into
    /// `app=web` and allows every other peer in.
    fn with_cilium_deny(port: u16) -> Cluster {
        let peer_rule = CiliumPeerRule {
            endpoints: None,
            requires: vec![],
            cidrs: vec![],
            entities: vec![],
            ports: vec![],
            icmps: vec![],
            fqdns: vec![],
            unevaluated: vec![],
            origin: here(),
        };
        let tcp = CiliumPort { port: CiliumPortNumber::Number(port), end_port: None, protocol: CiliumProtocol::Tcp };
        let deny = CiliumPeerRule { ports: vec![CiliumPortRule { ports: vec![tcp], l7: vec![] }], ..peer_rule.clone() };
        let from_all = CiliumPeerRule { entities: vec!["all".into()], ..peer_rule };
        let rule = CiliumRule {
            endpoint_selector: Some(sel(&[("app", "web")])),
            node_selector: None,
            ingress: Some(vec![from_all]),
            ingress_deny: Some(vec![deny]),
            egress: None,
            egress_deny: None,
            default_deny_ingress: None,
            default_deny_egress: None,
            origin: here(),
        };
        let policy = CiliumPolicy { namespace: None, name: "deny-web".into(), rules: vec![rule], origin: here() };
        Cluster { cilium_policies: vec![policy], ..app(Edit::None, &here()) }
    }

    /// A change to a Calico or Cilium policy is found, pruned or not.
    #[test]
    fn cni_policy_changes_are_found() {
        for (what, build) in [("calico", with_calico_deny as fn(u16) -> Cluster), ("cilium", with_cilium_deny)] {
            let (old, new) = (build(7000), build(7001));
            let pruned = compare(&old, &new, PolicyOptions::default(), true);
            let full = compare(&old, &new, PolicyOptions::default(), false);
            assert!(!full.changes.is_empty(), "{what}: moving the denied port must change something");
            assert_eq!(pruned.changes, full.changes, "{what}");
        }
    }

    #[test]
    fn added_and_removed_split_a_change() {
        let c = Change {
            src: "a".into(),
            dst: "b".into(),
            old: ConnSet::of(Protocol::Tcp, PortSet::range(80, 81)),
            new: ConnSet::of(Protocol::Tcp, PortSet::range(81, 82)),
        };
        assert_eq!(c.added(), ConnSet::of(Protocol::Tcp, PortSet::single(82)));
        assert_eq!(c.removed(), ConnSet::of(Protocol::Tcp, PortSet::single(80)));
        assert_eq!(c.kind(), "changed");
    }

    /// Moving a policy in its file is no change; editing what it says is.
    #[test]
    fn origins_do_not_count() {
        let old = app(Edit::None, &here());
        let moved = app(Edit::None, &Origin::Logical("moved".into()));
        assert!(diff(&old, &moved, PolicyOptions::default()).changes.is_empty());
        let (a, b) = (&old.network_policies, &moved.network_policies);
        assert_ne!(a.first().map(|p| &p.origin), b.first().map(|p| &p.origin));
        assert!(same(a, b));
        assert!(a.iter().zip(b).all(|(x, y)| same_policy(x, y)));
        let edited = app(Edit::PgPortNumber, &here());
        assert!(!same(a, &edited.network_policies));
        assert!(!a.iter().zip(&edited.network_policies).all(|(x, y)| same_policy(x, y)));
    }
}

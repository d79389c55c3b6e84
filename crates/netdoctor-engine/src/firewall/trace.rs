//! The walk: stages of the packet's path, each a built-in chain of one table in every
//! rule set of the flow's family, with forks where a match is undecidable.

use super::flow::{Endpoint, Flow, IfaceName, Original, PathKind};
use super::matcher::rule_matches;
use super::route::{RouteLookup, RouteQuery, Router};
use super::{Decider, PolicyRef, RuleRef, Step, Trace, Tri, Verdict, VerdictKind};
use ipnet::IpNet;
use netdoctor_model::host::{Backend, Chain, ChainKind, CtState, Hook, HostFacts, IpFamily, Policy, Rule, RuleSet, Target};
use std::collections::HashMap;

/// Branches a trace follows at most before it gives up as too complex.
const MAX_BRANCHES: usize = 256;

/// Chain nesting deeper than this is a loop (the kernel refuses loops when rules load).
const MAX_DEPTH: usize = 64;

/// iptables' tables at each hook, with the netfilter priority each registers at.
fn iptables_tables(hook: Hook) -> &'static [(&'static str, i32)] {
    match hook {
        Hook::Prerouting => &[("raw", -300), ("mangle", -150), ("nat", -100)],
        Hook::Input => &[("mangle", -150), ("filter", 0), ("security", 50), ("nat", 100)],
        Hook::Forward => &[("mangle", -150), ("filter", 0), ("security", 50)],
        Hook::Output => &[("raw", -300), ("mangle", -150), ("nat", -100), ("filter", 0), ("security", 50)],
        Hook::Postrouting => &[("mangle", -150), ("nat", 100)],
    }
}

const HOOKS: [Hook; 5] = [Hook::Prerouting, Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting];

/// One base chain on a hook: an iptables built-in chain of one table, or an nftables
/// base chain. Every unit of a hook runs, in priority order; an accept ends only its
/// own unit, a drop ends the packet.
#[derive(Clone, Copy)]
struct Unit<'h> {
    priority: i32,
    set: usize,
    table: &'h str,
    chain: &'h Chain,
    kind: ChainKind,
    /// What accepts here is what the verdict names (iptables' filter table, an nft filter
    /// chain on input/forward/output).
    filtering: bool,
}

/// A rule set with its chains indexed by table and name.
struct Indexed<'h> {
    set: &'h RuleSet,
    tables: HashMap<&'h str, HashMap<&'h str, &'h Chain>>,
}

/// The host's rule sets and routes, ready to trace flows through.
pub struct Firewall<'h> {
    facts: &'h HostFacts,
    sets: Vec<Indexed<'h>>,
    /// Per hook (in `HOOKS` order), every base chain of every rule set, by priority.
    units: Vec<Vec<Unit<'h>>>,
    router: Router,
}

/// One branch of a trace in progress.
#[derive(Clone)]
struct Cursor {
    flow: Flow,
    steps: Vec<Step>,
    forks: Vec<RuleRef>,
    path: Option<PathKind>,
    /// What accepted the flow in the filter table, for the final verdict.
    accepted_by: Option<Decider>,
}

/// A branch being walked: its state, the chains it is in (with the next rule of each),
/// and every chain it entered at this hook.
/// One branch of a walk through a table: the packet so far, the chains being walked
/// (innermost last, with the next rule's position) and the names of the chains entered.
#[derive(Clone)]
struct Walk<'c> {
    cursor: Cursor,
    frames: Vec<(&'c Chain, usize)>,
    entered: Vec<String>,
}

/// The rule a walk is at.
#[derive(Clone, Copy)]
struct At<'c> {
    chain: &'c Chain,
    pos: usize,
    rule: &'c Rule,
}

/// How one table's chain ended for a branch.
enum End {
    Go(Cursor),
    Stop(Cursor, VerdictKind, Box<Decider>),
}

/// A branch that finished.
struct Done {
    cursor: Cursor,
    kind: VerdictKind,
    decider: Option<Decider>,
}

impl<'h> Firewall<'h> {
    pub fn new(facts: &'h HostFacts) -> Firewall<'h> {
        let sets = facts
            .rulesets
            .iter()
            .map(|set| Indexed {
                set,
                tables: set.tables.iter().map(|t| (t.name.as_str(), t.chains.iter().map(|c| (c.name.as_str(), c)).collect())).collect(),
            })
            .collect();
        let units = HOOKS.iter().map(|&hook| units_of(&facts.rulesets, hook)).collect();
        Firewall { facts, sets, units, router: Router::new(facts) }
    }

    pub fn facts(&self) -> &'h HostFacts {
        self.facts
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Whether a rule set of this family was read.
    pub fn has_rules(&self, family: IpFamily) -> bool {
        self.sets.iter().any(|s| s.set.family == family)
    }

    /// Traces a flow through the host.
    pub fn trace(&self, flow: &Flow) -> Trace {
        let family = flow.family();
        let start = Cursor { flow: flow.clone(), steps: Vec::new(), forks: Vec::new(), path: flow.path, accepted_by: None };
        if !self.has_rules(family) {
            return finish(vec![Done { cursor: start, kind: VerdictKind::Unknown, decider: Some(Decider::NoRuleSet) }]);
        }
        if flow.bridged && !self.bridge_filtered(family) {
            return finish(vec![Done { cursor: start, kind: VerdictKind::Accept, decider: Some(Decider::Bridged) }]);
        }
        let mut done = Vec::new();
        let mut budget = MAX_BRANCHES;
        let from_host = flow.path == Some(PathKind::Output);
        // The host's own packets meet the output hook's chains up to nat (priority < 0)
        // before the routing decision is final.
        let live = if from_host {
            self.stages(family, &[(Hook::Output, i32::MIN, 0)], vec![start], &mut done, &mut budget)
        } else {
            self.stages(family, &[(Hook::Prerouting, i32::MIN, i32::MAX)], vec![start], &mut done, &mut budget)
        };
        let mut forward = Vec::new();
        let mut input = Vec::new();
        let mut output = Vec::new();
        for cursor in live {
            if let Some(c) = self.route(cursor, from_host, &mut done) {
                match c.path {
                    Some(PathKind::Forward) => forward.push(c),
                    Some(PathKind::Input) => input.push(c),
                    _ => output.push(c),
                }
            }
        }
        let all = (i32::MIN, i32::MAX);
        let forward_hooks = [(Hook::Forward, all.0, all.1), (Hook::Postrouting, all.0, all.1)];
        let input_hooks = [(Hook::Input, all.0, all.1)];
        let output_hooks = [(Hook::Output, 0, all.1), (Hook::Postrouting, all.0, all.1)];
        for (hooks, cursors) in [(&forward_hooks[..], forward), (&input_hooks[..], input), (&output_hooks[..], output)] {
            for cursor in self.stages(family, hooks, cursors, &mut done, &mut budget) {
                let decider = cursor.accepted_by.clone();
                done.push(Done { cursor, kind: VerdictKind::Accept, decider });
            }
        }
        finish(done)
    }

    /// Whether bridged frames of this family go through iptables.
    fn bridge_filtered(&self, family: IpFamily) -> bool {
        let sysctl = match family {
            IpFamily::V4 => &self.facts.sysctls.bridge_nf_call_iptables,
            IpFamily::V6 => &self.facts.sysctls.bridge_nf_call_ip6tables,
        };
        sysctl.as_ref().is_some_and(|s| s.value)
    }

    /// Runs branches through the base chains of hooks (each with a priority range
    /// `[from, to)`); finished ones go to `done`, the rest are returned.
    fn stages(
        &self,
        family: IpFamily,
        hooks: &[(Hook, i32, i32)],
        mut live: Vec<Cursor>,
        done: &mut Vec<Done>,
        budget: &mut usize,
    ) -> Vec<Cursor> {
        for &(hook, from, to) in hooks {
            let at = HOOKS.iter().position(|h| *h == hook).unwrap_or(0);
            let Some(units) = self.units.get(at) else { continue };
            for unit in units.iter().filter(|u| from <= u.priority && u.priority < to) {
                let Some(set) = self.sets.get(unit.set).filter(|s| s.set.family == family) else { continue };
                let mut next = Vec::with_capacity(live.len());
                for cursor in live {
                    // nat chains see only the first packet of a connection.
                    if unit.kind == ChainKind::Nat && (cursor.flow.state != CtState::New || cursor.flow.skip_nat) {
                        next.push(cursor);
                        continue;
                    }
                    for end in self.run_chain(set, unit, cursor, budget) {
                        match end {
                            End::Go(c) => next.push(c),
                            End::Stop(c, kind, decider) => done.push(Done { cursor: c, kind, decider: Some(*decider) }),
                        }
                    }
                }
                live = next;
            }
        }
        live
    }

    /// The routing decision: the path, the output interface, and sysctls that forbid it.
    fn route(&self, mut c: Cursor, from_host: bool, done: &mut Vec<Done>) -> Option<Cursor> {
        if from_host {
            c.path = Some(PathKind::Output);
        } else if c.flow.bridged {
            c.path = Some(PathKind::Forward);
        } else if c.path.is_none() {
            let local = match c.flow.dst.local {
                Some(l) => Tri::from(l),
                None => self.router.is_local(&c.flow.dst.net),
            };
            c.path = match local {
                Tri::Yes => Some(PathKind::Input),
                Tri::No => Some(PathKind::Forward),
                Tri::Maybe => {
                    let reason = format!("cannot tell whether {} is the host's own address", c.flow.dst);
                    done.push(Done { cursor: c, kind: VerdictKind::Unknown, decider: Some(Decider::Ambiguous(reason)) });
                    return None;
                }
            };
        }
        if c.path == Some(PathKind::Input) {
            return Some(c);
        }
        if c.path == Some(PathKind::Forward) && !c.flow.bridged {
            let (name, sysctl) = match c.flow.family() {
                IpFamily::V4 => ("net.ipv4.ip_forward", &self.facts.sysctls.ip_forward),
                IpFamily::V6 => ("net.ipv6.conf.all.forwarding", &self.facts.sysctls.ipv6_forwarding),
            };
            if let Some(s) = sysctl.as_ref().filter(|s| !s.value) {
                let decider = Decider::Sysctl { name, origin: s.origin.clone() };
                done.push(Done { cursor: c, kind: VerdictKind::Drop, decider: Some(decider) });
                return None;
            }
        }
        if c.flow.out_iface.is_none() {
            let iif = if from_host { None } else { Some(c.flow.in_iface.as_ref().unwrap_or(&IfaceName::Unknown)) };
            let query = RouteQuery { src: &c.flow.src.net, dst: &c.flow.dst.net, iif, mark: c.flow.mark };
            match self.router.choose(&query).lookup {
                RouteLookup::Unknown(reason) => {
                    done.push(Done { cursor: c, kind: VerdictKind::Unknown, decider: Some(Decider::Ambiguous(reason)) });
                    return None;
                }
                RouteLookup::Via(iface, _) => c.flow.out_iface = Some(iface),
                RouteLookup::Refused(route) => {
                    done.push(Done { cursor: c, kind: VerdictKind::Drop, decider: Some(Decider::Route(route)) });
                    return None;
                }
                RouteLookup::NoRoute if self.facts.routes.is_empty() => c.flow.out_iface = Some(IfaceName::Unknown),
                RouteLookup::NoRoute => {
                    done.push(Done { cursor: c, kind: VerdictKind::Drop, decider: Some(Decider::NoRoute) });
                    return None;
                }
            }
        }
        Some(c)
    }

    /// Walks one built-in chain of one table, following jumps, for one branch.
    fn run_chain(&self, set: &Indexed<'h>, unit: &Unit<'h>, cursor: Cursor, budget: &mut usize) -> Vec<End> {
        let base = unit.chain;
        let mut ends = Vec::new();
        let mut work: Vec<Walk<'h>> = vec![Walk { cursor, frames: vec![(base, 0)], entered: vec![base.name.clone()] }];
        while let Some(mut walk) = work.pop() {
            loop {
                let Some(&(chain, pos)) = walk.frames.last() else {
                    ends.push(self.policy(set, unit, walk.cursor, &walk.entered));
                    break;
                };
                let Some(rule) = chain.rules.get(pos) else {
                    // The end of a user chain returns to its caller; of the built-in one, the policy.
                    walk.frames.pop();
                    continue;
                };
                if let Some(top) = walk.frames.last_mut() {
                    top.1 = pos + 1;
                }
                let at = At { chain, pos, rule };
                match rule_matches(&rule.conditions, &walk.cursor.flow, &self.router) {
                    Tri::No => continue,
                    Tri::Yes => {}
                    Tri::Maybe => {
                        if matches!(rule.target, Target::None | Target::Continue(_)) {
                            continue;
                        }
                        let r = rule_ref(set, unit.table, at, &walk);
                        if *budget == 0 {
                            ends.push(End::Stop(walk.cursor, VerdictKind::Unknown, Box::new(Decider::TooComplex)));
                            break;
                        }
                        *budget -= 1;
                        // Follow the rule as matching on a copy; this branch goes on as if not.
                        let mut matched = walk.clone();
                        matched.cursor.forks.push(r.clone());
                        walk.cursor.forks.push(r);
                        if let Some(end) = self.apply(set, unit, at, &mut matched) {
                            ends.push(end);
                        } else if matched.frames.is_empty() {
                            ends.push(self.policy(set, unit, matched.cursor, &matched.entered));
                        } else {
                            work.push(matched);
                        }
                        continue;
                    }
                }
                if let Some(end) = self.apply(set, unit, at, &mut walk) {
                    ends.push(end);
                    break;
                }
            }
        }
        ends
    }

    /// Applies a matching rule's target. Returns how the table ends for the branch, or
    /// `None` to go on walking (with the walk's frames changed by a jump or return).
    fn apply<'c>(&self, set: &Indexed<'h>, unit: &Unit<'h>, at: At<'c>, walk: &mut Walk<'c>) -> Option<End>
    where
        'h: 'c,
    {
        let table = unit.table;
        let At { chain, pos, rule } = at;
        let r = |walk: &Walk<'c>| rule_ref(set, table, at, walk);
        let step = |c: &mut Cursor| {
            c.steps.push(Step {
                table: table.into(),
                chain: chain.name.clone(),
                position: Some(pos + 1),
                handle: rule.handle,
                text: rule.text.clone(),
                origin: rule.origin.clone(),
            })
        };
        match &rule.target {
            Target::None | Target::Continue(_) => None,
            Target::SetMark { value, mask } => {
                step(&mut walk.cursor);
                walk.cursor.flow.mark = (walk.cursor.flow.mark & !mask) ^ value;
                None
            }
            Target::Accept => {
                step(&mut walk.cursor);
                if unit.filtering {
                    walk.cursor.accepted_by = Some(Decider::Rule(r(walk)));
                }
                Some(End::Go(walk.cursor.clone()))
            }
            Target::Drop => {
                step(&mut walk.cursor);
                Some(End::Stop(walk.cursor.clone(), VerdictKind::Drop, Box::new(Decider::Rule(r(walk)))))
            }
            Target::Reject(_) => {
                step(&mut walk.cursor);
                Some(End::Stop(walk.cursor.clone(), VerdictKind::Reject, Box::new(Decider::Rule(r(walk)))))
            }
            Target::Return => {
                walk.frames.pop();
                None
            }
            Target::Jump(name) | Target::Goto(name) => {
                let Some(&next) = set.tables.get(table).and_then(|t| t.get(name.as_str())) else {
                    let reason = format!("it jumps to `{name}`, which does not exist");
                    return Some(End::Stop(
                        walk.cursor.clone(),
                        VerdictKind::Unknown,
                        Box::new(Decider::Undecidable { rule: r(walk), reason }),
                    ));
                };
                if walk.frames.len() >= MAX_DEPTH {
                    let reason = "chains jump into each other in a loop".to_string();
                    return Some(End::Stop(
                        walk.cursor.clone(),
                        VerdictKind::Unknown,
                        Box::new(Decider::Undecidable { rule: r(walk), reason }),
                    ));
                }
                step(&mut walk.cursor);
                if matches!(rule.target, Target::Goto(_)) {
                    walk.frames.pop();
                }
                walk.frames.push((next, 0));
                walk.entered.push(name.clone());
                None
            }
            Target::Dnat(to) => {
                step(&mut walk.cursor);
                let flow = &mut walk.cursor.flow;
                if flow.original.is_none() {
                    flow.original = Some(Original { dst: flow.dst.clone(), dport: flow.dport });
                }
                if let Some(addr) = to.address {
                    flow.dst = Endpoint::new(IpNet::from(addr));
                }
                if let Some(ports) = to.ports {
                    flow.dport = Some(ports);
                }
                Some(End::Go(walk.cursor.clone()))
            }
            Target::Redirect(ports) => {
                step(&mut walk.cursor);
                let flow = &mut walk.cursor.flow;
                if flow.original.is_none() {
                    flow.original = Some(Original { dst: flow.dst.clone(), dport: flow.dport });
                }
                flow.dst.local = Some(true);
                if let Some(ports) = ports {
                    flow.dport = Some(*ports);
                }
                Some(End::Go(walk.cursor.clone()))
            }
            Target::Snat(_) | Target::Masquerade => {
                step(&mut walk.cursor);
                Some(End::Go(walk.cursor.clone()))
            }
            Target::Opaque(name) => {
                step(&mut walk.cursor);
                let reason = format!("target {name} hands the packet to something outside the rules");
                Some(End::Stop(walk.cursor.clone(), VerdictKind::Unknown, Box::new(Decider::Undecidable { rule: r(walk), reason })))
            }
        }
    }

    /// The base chain's policy applies.
    fn policy(&self, set: &Indexed<'h>, unit: &Unit<'h>, mut c: Cursor, entered: &[String]) -> End {
        let base = unit.chain;
        let table = unit.table;
        let policy = base.policy.unwrap_or(Policy::Accept);
        let p = PolicyRef {
            backend: set.set.backend,
            table: table.into(),
            chain: base.name.clone(),
            policy,
            origin: base.origin.clone(),
            entered: entered.to_vec(),
            forward_filter: unit.filtering && base.base.map_or(base.name == "FORWARD", |b| b.hook == Hook::Forward),
        };
        if policy == Policy::Drop || unit.filtering {
            c.steps.push(Step {
                table: table.into(),
                chain: base.name.clone(),
                position: None,
                handle: None,
                text: if set.set.backend == Backend::Nftables {
                    format!("policy {}", policy.to_string().to_lowercase())
                } else {
                    format!("policy {policy}")
                },
                origin: base.origin.clone(),
            });
        }
        match policy {
            Policy::Accept => {
                if unit.filtering {
                    c.accepted_by = Some(Decider::Policy(p));
                }
                End::Go(c)
            }
            Policy::Drop => End::Stop(c, VerdictKind::Drop, Box::new(Decider::Policy(p))),
        }
    }
}

/// Every base chain at a hook, across rule sets, in the order the kernel runs them.
fn units_of(sets: &[RuleSet], hook: Hook) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        if set.backend == Backend::Nftables {
            for table in &set.tables {
                for chain in &table.chains {
                    let Some(b) = chain.base.filter(|b| b.hook == hook) else { continue };
                    let filtering = b.kind == ChainKind::Filter && matches!(hook, Hook::Input | Hook::Forward | Hook::Output);
                    units.push(Unit { priority: b.priority, set: i, table: &table.name, chain, kind: b.kind, filtering });
                }
            }
        } else {
            let name = hook.as_str().to_ascii_uppercase();
            for &(table_name, priority) in iptables_tables(hook) {
                let Some(table) = set.table(table_name) else { continue };
                let Some(chain) = table.chain(&name) else { continue };
                let kind = if table_name == "nat" { ChainKind::Nat } else { ChainKind::Filter };
                units.push(Unit { priority, set: i, table: &table.name, chain, kind, filtering: table_name == "filter" });
            }
        }
    }
    // Stable: equal priorities keep the order of the rule sets.
    units.sort_by_key(|u| u.priority);
    units
}

fn rule_ref(set: &Indexed<'_>, table: &str, at: At<'_>, walk: &Walk<'_>) -> RuleRef {
    let At { chain, pos, rule } = at;
    let mut stack: Vec<String> = walk.frames.iter().map(|(c, _)| c.name.clone()).collect();
    if stack.last() != Some(&chain.name) {
        stack.push(chain.name.clone());
    }
    RuleRef {
        backend: set.set.backend,
        table: table.into(),
        chain: chain.name.clone(),
        position: pos + 1,
        line: rule.line,
        handle: rule.handle,
        text: rule.text.clone(),
        origin: rule.origin.clone(),
        stack,
        entered: walk.entered.clone(),
    }
}

/// Combines the finished branches into one verdict.
fn finish(done: Vec<Done>) -> Trace {
    let branches = done.len();
    let mut undecidable: Vec<RuleRef> = Vec::new();
    for d in &done {
        for r in &d.cursor.forks {
            if !undecidable.iter().any(|u| u.key() == r.key()) {
                undecidable.push(r.clone());
            }
        }
    }
    let mut iter = done.into_iter();
    let Some(first) = iter.next() else {
        return Trace {
            verdict: Verdict { kind: VerdictKind::Unknown, decided_by: Some(Decider::TooComplex) },
            path: None,
            steps: Vec::new(),
            undecidable,
            flow: Flow::new(netdoctor_model::host::IpProto::Tcp, Endpoint::anywhere(IpFamily::V4), Endpoint::anywhere(IpFamily::V4), None),
            branches,
        };
    };
    let rest: Vec<Done> = iter.collect();
    let same_kind = rest.iter().all(|d| d.kind == first.kind);
    let same_decider = rest.iter().all(|d| match (&d.decider, &first.decider) {
        (Some(a), Some(b)) => a.same_as(b),
        (None, None) => true,
        _ => false,
    });
    let exhausted = first.decider == Some(Decider::TooComplex) || rest.iter().any(|d| d.decider == Some(Decider::TooComplex));
    let verdict = if exhausted {
        Verdict { kind: VerdictKind::Unknown, decided_by: Some(Decider::TooComplex) }
    } else if same_kind && same_decider {
        Verdict { kind: first.kind, decided_by: first.decider.clone() }
    } else if same_kind {
        Verdict { kind: first.kind, decided_by: None }
    } else {
        let rule = undecidable.first().cloned();
        let decided_by = rule.map(|rule| Decider::Undecidable { rule, reason: "the verdict depends on whether it matches".into() });
        Verdict { kind: VerdictKind::Unknown, decided_by }
    };
    Trace { verdict, path: first.cursor.path, steps: first.cursor.steps, undecidable, flow: first.cursor.flow, branches }
}

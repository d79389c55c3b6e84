//! Table tests of NetworkPolicy and admin policy semantics over clusters built in code.
//!
//! Every case starts from the same small cluster and adds policies:
//!
//! - namespace `a` (`team=a`): `web` (`app=web`, port `http`=8080/TCP), `db` (`app=db`,
//!   `pg`=5432/TCP, `dns`=53/UDP), `client` (`app=client`)
//! - namespace `b` (`team=b`): `client` (`app=client`), `web` (`app=web`, `http`=9090/TCP)
//! - namespace `c`, not declared (only implied by its pod): `tool` (`app=tool`)

use super::build::*;
use super::*;
use netdoctor_model::k8s::*;
use netdoctor_model::Protocol;
use std::net::Ipv4Addr;

fn base() -> Cluster {
    let pod = |ns: &str, name: &str, app: &str, ports: Vec<ContainerPort>| {
        let mut p = Pod::new(ns, name, labels(&[("app", app)]), o());
        p.ports = ports;
        p
    };
    Cluster {
        namespaces: vec![Namespace::new("a", labels(&[("team", "a")]), o()), Namespace::new("b", labels(&[("team", "b")]), o())],
        pods: vec![
            pod("a", "web", "web", vec![port("http", 8080, Protocol::Tcp)]),
            pod("a", "db", "db", vec![port("pg", 5432, Protocol::Tcp), port("dns", 53, Protocol::Udp)]),
            pod("a", "client", "client", vec![]),
            pod("b", "client", "client", vec![]),
            pod("b", "web", "web", vec![port("http", 9090, Protocol::Tcp)]),
            pod("c", "tool", "tool", vec![]),
        ],
        ..Cluster::default()
    }
}

fn endpoint(engine: &PolicyEngine<'_>, name: &str) -> Endpoint {
    if let Ok(addr) = name.parse::<Ipv4Addr>() {
        return Endpoint::External(Ipv4Range::single(addr));
    }
    let w = engine.find_workload(name).unwrap_or_else(|| panic!("no workload {name}"));
    Endpoint::Class(engine.workloads[w].class)
}

fn check(cluster: &Cluster, options: PolicyOptions, cases: &[(&str, &str, &str)], what: &str) {
    let engine = PolicyEngine::new(cluster, options);
    for (from, to, want) in cases {
        let got = engine.allowed(endpoint(&engine, from), endpoint(&engine, to)).to_string();
        assert_eq!(&got, want, "{what}: {from} -> {to}");
    }
}

struct Case {
    what: &'static str,
    setup: fn(&mut Cluster),
    expect: &'static [(&'static str, &'static str, &'static str)],
}

const ALL: &str = "All Connections";
const NONE: &str = "No Connections";

const NETWORK_POLICY_CASES: &[Case] = &[
    Case {
        what: "no policy allows everything",
        setup: |_| {},
        expect: &[("a/web", "b/web", ALL), ("8.8.8.8", "a/db", ALL), ("a/db", "8.8.8.8", ALL)],
    },
    Case {
        what: "ingress rules without policyTypes isolate ingress only",
        setup: |c| {
            c.network_policies.push(np(
                "a",
                "db",
                vec![rule(vec![pods(None, Some(sel(&[("app", "web")])))], vec![tcp(5432)])],
                vec![],
                None,
            ))
        },
        expect: &[
            ("a/web", "a/db", "TCP 5432"),
            ("a/client", "a/db", NONE),
            ("b/web", "a/db", NONE),
            ("a/db", "8.8.8.8", ALL),
            ("a/db", "a/web", ALL),
        ],
    },
    Case {
        what: "egress rules without policyTypes isolate both directions",
        setup: |c| c.network_policies.push(np("a", "db", vec![], vec![rule(vec![], vec![on(Protocol::Udp, 53)])], None)),
        expect: &[("a/db", "a/web", "UDP 53"), ("a/db", "8.8.8.8", "UDP 53"), ("a/web", "a/db", NONE)],
    },
    Case {
        what: "policyTypes [Egress] leaves ingress open",
        setup: |c| c.network_policies.push(np("a", "db", vec![], vec![], Some(&[PolicyType::Egress]))),
        expect: &[("a/db", "a/web", NONE), ("a/web", "a/db", ALL), ("8.8.8.8", "a/db", ALL)],
    },
    Case {
        what: "egress at the source and ingress at the destination must both allow",
        setup: |c| {
            c.network_policies.push(np("a", "client", vec![], vec![rule(vec![], vec![tcp(80), tcp(8080)])], Some(&[PolicyType::Egress])));
            c.network_policies.push(np("a", "web", vec![rule(vec![], vec![tcp(8080), tcp(9000)])], vec![], None));
        },
        expect: &[("a/client", "a/web", "TCP 8080"), ("a/client", "a/db", "TCP 80,8080"), ("a/db", "a/web", "TCP 8080,9000")],
    },
    Case {
        what: "policies selecting one pod add up",
        setup: |c| {
            c.network_policies.push(np(
                "a",
                "web",
                vec![rule(vec![pods(None, Some(sel(&[("app", "client")])))], vec![tcp(80)])],
                vec![],
                None,
            ));
            c.network_policies.push(np(
                "a",
                "*",
                vec![rule(vec![pods(None, Some(sel(&[("app", "client")])))], vec![tcp(443)])],
                vec![],
                None,
            ));
        },
        expect: &[("a/client", "a/web", "TCP 80,443"), ("a/client", "a/db", "TCP 443"), ("a/db", "a/web", NONE)],
    },
    Case {
        what: "ingress: [{}] allows everything, ingress: [] nothing",
        setup: |c| {
            c.network_policies.push(np("a", "web", vec![rule(vec![], vec![])], vec![], None));
            c.network_policies.push(np("a", "db", vec![], vec![], None));
        },
        expect: &[("b/client", "a/web", ALL), ("8.8.8.8", "a/web", ALL), ("a/web", "a/db", NONE), ("8.8.8.8", "a/db", NONE)],
    },
    Case {
        what: "a podSelector alone stays in the policy's namespace; an empty namespaceSelector means every namespace",
        setup: |c| {
            c.network_policies.push(np("a", "web", vec![rule(vec![pods(None, Some(LabelSelector::default()))], vec![])], vec![], None));
            c.network_policies.push(np("a", "db", vec![rule(vec![pods(Some(LabelSelector::default()), None)], vec![])], vec![], None));
        },
        expect: &[
            ("a/client", "a/web", ALL),
            ("b/client", "a/web", NONE),
            ("b/client", "a/db", ALL),
            ("c/tool", "a/db", ALL),
            ("8.8.8.8", "a/db", NONE),
        ],
    },
    Case {
        what: "namespaceSelector and podSelector in one peer must both match; in two peers either may",
        setup: |c| {
            let both = pods(Some(sel(&[("team", "b")])), Some(sel(&[("app", "client")])));
            c.network_policies.push(np("a", "web", vec![rule(vec![both], vec![])], vec![], None));
            let either = vec![pods(Some(sel(&[("team", "b")])), None), pods(None, Some(sel(&[("app", "client")])))];
            c.network_policies.push(np("a", "db", vec![rule(either, vec![])], vec![], None));
        },
        expect: &[
            ("b/client", "a/web", ALL),
            ("b/web", "a/web", NONE),
            ("a/client", "a/web", NONE),
            ("b/web", "a/db", ALL),
            ("a/client", "a/db", ALL),
            ("a/web", "a/db", NONE),
        ],
    },
    Case {
        what: "undeclared namespaces carry their name label",
        setup: |c| {
            let by_name = pods(Some(sel(&[("kubernetes.io/metadata.name", "c")])), None);
            c.network_policies.push(np("a", "web", vec![rule(vec![by_name], vec![])], vec![], None));
        },
        expect: &[("c/tool", "a/web", ALL), ("b/client", "a/web", NONE)],
    },
    Case {
        what: "matchExpressions",
        setup: |c| {
            let expr = |operator, values: &[&str]| LabelSelector {
                match_labels: Labels::new(),
                match_expressions: vec![LabelRequirement {
                    key: "app".into(),
                    operator,
                    values: values.iter().map(ToString::to_string).collect(),
                }],
            };
            let not_client = pods(Some(LabelSelector::default()), Some(expr(SelectorOperator::NotIn, &["client"])));
            c.network_policies.push(np("a", "web", vec![rule(vec![not_client], vec![])], vec![], None));
            let mut p =
                np("a", "db", vec![rule(vec![pods(None, Some(expr(SelectorOperator::Exists, &[])))], vec![tcp(5432)])], vec![], None);
            p.pod_selector = expr(SelectorOperator::In, &["db", "nothing"]);
            c.network_policies.push(p);
        },
        expect: &[("c/tool", "a/web", ALL), ("b/web", "a/web", ALL), ("b/client", "a/web", NONE), ("a/client", "a/db", "TCP 5432")],
    },
    Case {
        what: "ipBlock with except",
        setup: |c| {
            let block = ip("10.0.0.0/8", &["10.10.0.0/16"]);
            c.network_policies.push(np("a", "web", vec![rule(vec![block], vec![])], vec![], None));
            c.network_policies.push(np("a", "db", vec![], vec![rule(vec![ip("192.168.0.0/16", &[])], vec![tcp(443)])], None));
        },
        expect: &[
            ("10.1.2.3", "a/web", ALL),
            ("10.10.2.3", "a/web", NONE),
            ("11.0.0.1", "a/web", NONE),
            ("a/client", "a/web", NONE),
            ("a/db", "192.168.1.1", "TCP 443"),
            ("a/db", "10.1.2.3", NONE),
        ],
    },
    Case {
        what: "protocols: TCP by default, a port-less entry is every port of its protocol",
        setup: |c| {
            let ports = vec![
                PortSpec::new(Protocol::Udp, None, o()),
                on(Protocol::Sctp, 9),
                PortSpec::new(Protocol::Tcp, Some(PortRef::Number(7)), o()),
            ];
            c.network_policies.push(np("a", "db", vec![rule(vec![], ports)], vec![], None));
        },
        expect: &[("a/web", "a/db", "SCTP 9,TCP 7,UDP 1-65535")],
    },
    Case {
        what: "endPort makes a range",
        setup: |c| {
            let mut range = tcp(8000);
            range.end_port = Some(8010);
            c.network_policies.push(np("a", "web", vec![rule(vec![], vec![range, tcp(8011)])], vec![], None));
        },
        expect: &[("a/client", "a/web", "TCP 8000-8011")],
    },
    Case {
        what: "named ports resolve per destination pod, protocol included",
        setup: |c| {
            // One egress rule to every `web`: `http` is 8080 on a/web and 9090 on b/web.
            let to_webs = rule(vec![pods(Some(LabelSelector::default()), Some(sel(&[("app", "web")])))], vec![named("http")]);
            c.network_policies.push(np("a", "client", vec![], vec![to_webs], Some(&[PolicyType::Egress])));
            // `dns` is UDP on the pod, so a TCP named port does not match it.
            c.network_policies.push(np("a", "db", vec![rule(vec![], vec![named("pg"), named("dns")])], vec![], None));
            c.network_policies.push(np("b", "client", vec![], vec![rule(vec![], vec![named("http")])], Some(&[PolicyType::Egress])));
        },
        expect: &[
            ("a/client", "a/web", "TCP 8080"),
            ("a/client", "b/web", "TCP 9090"),
            ("a/client", "a/db", NONE),
            ("a/web", "a/db", "TCP 5432"),
            ("b/client", "8.8.8.8", NONE),
        ],
    },
];

#[test]
fn network_policy_semantics() {
    for case in NETWORK_POLICY_CASES {
        let mut cluster = base();
        (case.setup)(&mut cluster);
        check(&cluster, PolicyOptions::default(), case.expect, case.what);
    }
}

#[test]
fn host_network_pods() {
    let mut cluster = base();
    if let Some(p) = cluster.pods.iter_mut().find(|p| p.namespace == "a" && p.name == "client") {
        p.host_network = true;
    }
    cluster.network_policies.push(np("a", "*", vec![rule(vec![pods(None, Some(LabelSelector::default()))], vec![])], vec![], None));
    cluster.network_policies.push(np("a", "*", vec![], vec![rule(vec![pods(None, None)], vec![])], Some(&[PolicyType::Egress])));
    // Like netpol-analyzer: a host-network pod is selected and matched as any other.
    let as_pods = [("a/client", "a/web", ALL), ("a/client", "8.8.8.8", NONE), ("b/client", "a/client", NONE)];
    check(&cluster, PolicyOptions::default(), &as_pods, "host network as pods");
    // As CNIs enforce it: the pod is neither isolated nor matched by selectors.
    let bypass = [("a/client", "a/web", NONE), ("a/client", "8.8.8.8", ALL), ("b/client", "a/client", ALL), ("a/web", "a/client", NONE)];
    check(&cluster, PolicyOptions { host_network: HostNetwork::Bypass }, &bypass, "host network bypass");
}

fn anp(name: &str, priority: i32, subject: AdminSubject) -> AdminPolicy {
    AdminPolicy::new(name, AdminTier::Admin { priority }, subject, o())
}

fn banp(subject: AdminSubject) -> AdminPolicy {
    AdminPolicy::new("default", AdminTier::Baseline, subject, o())
}

fn arule(action: AdminAction, peers: Vec<AdminPeer>, ports: Option<Vec<AdminPort>>) -> AdminRule {
    AdminRule::new(format!("{action:?}"), action, peers, ports, o())
}

fn all_namespaces() -> AdminSubject {
    AdminSubject::Namespaces(LabelSelector::default())
}

fn team(t: &str) -> AdminPeer {
    AdminPeer::Namespaces(sel(&[("team", t)]))
}

fn aport(p: u16) -> AdminPort {
    AdminPort::Number { protocol: Protocol::Tcp, port: p }
}

const ADMIN_CASES: &[Case] = &[
    Case {
        what: "lower priority number wins; rule order decides within a policy",
        setup: |c| {
            let mut first = anp("first", 10, all_namespaces());
            first.ingress =
                vec![arule(AdminAction::Deny, vec![team("b")], Some(vec![aport(80)])), arule(AdminAction::Allow, vec![team("b")], None)];
            let mut second = anp("second", 20, all_namespaces());
            second.ingress =
                vec![arule(AdminAction::Allow, vec![team("b")], Some(vec![aport(80)])), arule(AdminAction::Deny, vec![team("a")], None)];
            c.admin_policies.extend([second, first]);
        },
        expect: &[
            ("b/client", "a/web", "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535,ICMP"),
            ("a/client", "a/web", NONE),
            ("c/tool", "a/web", ALL),
        ],
    },
    Case {
        what: "admin Allow overrides NetworkPolicy isolation; Deny overrides its allow",
        setup: |c| {
            let mut a = anp("a", 1, AdminSubject::Pods { namespace_selector: sel(&[("team", "a")]), pod_selector: sel(&[("app", "web")]) });
            a.ingress = vec![
                arule(AdminAction::Allow, vec![team("b")], Some(vec![aport(22)])),
                arule(AdminAction::Deny, vec![team("a")], Some(vec![aport(8080)])),
            ];
            c.admin_policies.push(a);
            c.network_policies.push(np("a", "web", vec![rule(vec![pods(None, None)], vec![tcp(8080), tcp(8081)])], vec![], None));
        },
        expect: &[("b/client", "a/web", "TCP 22"), ("a/client", "a/web", "TCP 8081"), ("c/tool", "a/web", NONE)],
    },
    Case {
        what: "Pass hands the decision to NetworkPolicies, or without them to the baseline",
        setup: |c| {
            let mut a = anp("pass", 5, all_namespaces());
            a.ingress = vec![arule(AdminAction::Pass, vec![team("a"), team("b")], None)];
            let mut deny_later = anp("deny", 6, all_namespaces());
            deny_later.ingress = vec![arule(AdminAction::Deny, vec![team("a"), team("b")], None)];
            c.admin_policies.extend([a, deny_later]);
            c.network_policies.push(np("a", "web", vec![rule(vec![pods(None, None)], vec![tcp(8080)])], vec![], None));
            let mut base = banp(all_namespaces());
            base.ingress = vec![arule(AdminAction::Deny, vec![team("b")], Some(vec![aport(9090)]))];
            c.admin_policies.push(base);
        },
        expect: &[
            ("a/client", "a/web", "TCP 8080"),
            ("b/client", "a/web", NONE),
            ("b/client", "b/web", "SCTP 1-65535,TCP 1-9089,9091-65535,UDP 1-65535,ICMP"),
            ("a/client", "b/web", ALL),
            ("c/tool", "b/web", ALL),
        ],
    },
    Case {
        what: "the baseline's first matching rule wins",
        setup: |c| {
            let mut base = banp(AdminSubject::Namespaces(sel(&[("team", "a")])));
            base.egress = vec![
                arule(
                    AdminAction::Allow,
                    vec![AdminPeer::Pods { namespace_selector: LabelSelector::default(), pod_selector: sel(&[("app", "db")]) }],
                    Some(vec![AdminPort::Named("pg".into())]),
                ),
                arule(AdminAction::Deny, vec![AdminPeer::Namespaces(LabelSelector::default())], None),
                arule(
                    AdminAction::Deny,
                    vec![AdminPeer::Networks(vec!["8.8.8.0/24".parse().unwrap_or_else(|e| panic!("{e}"))])],
                    Some(vec![aport(53)]),
                ),
            ];
            c.admin_policies.push(base);
        },
        expect: &[
            ("a/web", "a/db", "TCP 5432"),
            ("a/web", "b/web", NONE),
            ("a/web", "8.8.8.8", "SCTP 1-65535,TCP 1-52,54-65535,UDP 1-65535,ICMP"),
            ("b/web", "a/db", ALL),
        ],
    },
    Case {
        what: "admin egress to networks, with ANP named ports taking the container's protocol",
        setup: |c| {
            let mut a = anp("egress", 1, AdminSubject::Namespaces(sel(&[("team", "b")])));
            a.egress = vec![
                arule(AdminAction::Allow, vec![team("a")], Some(vec![AdminPort::Named("dns".into())])),
                arule(AdminAction::Deny, vec![team("a")], None),
                arule(
                    AdminAction::Deny,
                    vec![AdminPeer::Networks(vec!["0.0.0.0/0".parse().unwrap_or_else(|e| panic!("{e}"))])],
                    Some(vec![AdminPort::Range { protocol: Protocol::Tcp, start: 1, end: 1024 }]),
                ),
            ];
            c.admin_policies.push(a);
        },
        expect: &[
            ("b/client", "a/db", "UDP 53"),
            ("b/client", "a/web", NONE),
            ("b/client", "1.1.1.1", "SCTP 1-65535,TCP 1025-65535,UDP 1-65535,ICMP"),
            ("a/client", "a/web", ALL),
        ],
    },
];

#[test]
fn admin_policy_tiers() {
    for case in ADMIN_CASES {
        let mut cluster = base();
        (case.setup)(&mut cluster);
        check(&cluster, PolicyOptions::default(), case.expect, case.what);
    }
}

fn cnp(name: &str, tier: ClusterTier, priority: i32, subject: AdminSubject) -> AdminPolicy {
    AdminPolicy::cluster_network_policy(name, tier, priority, subject, o())
}

fn team_a() -> AdminSubject {
    AdminSubject::Namespaces(sel(&[("team", "a")]))
}

const CLUSTER_POLICY_CASES: &[Case] = &[
    Case {
        what: "admin-tier ClusterNetworkPolicies sort by priority with AdminNetworkPolicies; Pass falls through to NetworkPolicies",
        setup: |c| {
            let mut late = anp("deny-b", 10, all_namespaces());
            late.ingress = vec![arule(AdminAction::Deny, vec![team("b")], None)];
            let mut early = cnp("cnp", ClusterTier::Admin, 5, team_a());
            early.ingress = vec![
                arule(AdminAction::Allow, vec![team("b")], Some(vec![aport(22)])),
                arule(AdminAction::Pass, vec![team("b")], Some(vec![aport(80)])),
            ];
            c.admin_policies.extend([late, early]);
            let any_ns = pods(Some(LabelSelector::default()), None);
            c.network_policies.push(np("a", "web", vec![rule(vec![any_ns], vec![tcp(80)])], vec![], None));
        },
        expect: &[
            // 22 accepted by the CNP, 80 passed to the NetworkPolicy, the rest denied by the later ANP.
            ("b/client", "a/web", "TCP 22,80"),
            ("a/client", "a/web", "TCP 80"),
            ("c/tool", "a/web", "TCP 80"),
            ("b/client", "b/web", NONE),
            ("a/client", "b/web", ALL),
        ],
    },
    Case {
        what: "baseline-tier ClusterNetworkPolicies apply by priority, only to pods no NetworkPolicy selects; Pass there allows",
        setup: |c| {
            let mut floor = cnp("deny-all", ClusterTier::Baseline, 20, all_namespaces());
            floor.ingress = vec![arule(AdminAction::Deny, vec![AdminPeer::Namespaces(LabelSelector::default())], None)];
            let mut first = cnp("first", ClusterTier::Baseline, 10, all_namespaces());
            first.ingress = vec![
                arule(AdminAction::Pass, vec![team("a")], Some(vec![aport(8080)])),
                arule(AdminAction::Allow, vec![team("b")], Some(vec![AdminPort::Named("http".into())])),
            ];
            c.admin_policies.extend([floor, first]);
            c.network_policies.push(np("a", "db", vec![rule(vec![pods(None, None)], vec![tcp(5432)])], vec![], None));
        },
        expect: &[
            ("a/client", "a/web", "TCP 8080"),
            ("a/client", "b/web", "TCP 8080"),
            ("b/client", "a/web", "TCP 8080"),
            ("b/client", "b/web", "TCP 9090"),
            ("c/tool", "a/web", NONE),
            // The NetworkPolicy selects db, so the baseline says nothing there.
            ("a/web", "a/db", "TCP 5432"),
            ("b/client", "a/db", NONE),
        ],
    },
    Case {
        what: "baseline ClusterNetworkPolicies come before the BaselineAdminNetworkPolicy",
        setup: |c| {
            let mut base = banp(all_namespaces());
            base.egress = vec![arule(AdminAction::Deny, vec![team("b")], None)];
            let mut allow = cnp("allow-web", ClusterTier::Baseline, 900, team_a());
            allow.egress = vec![arule(AdminAction::Allow, vec![team("b")], Some(vec![aport(9090)]))];
            c.admin_policies.extend([base, allow]);
        },
        expect: &[("a/client", "b/web", "TCP 9090"), ("c/tool", "b/web", NONE), ("a/client", "a/web", ALL)],
    },
];

#[test]
fn cluster_network_policy_tiers() {
    for case in CLUSTER_POLICY_CASES {
        let mut cluster = base();
        (case.setup)(&mut cluster);
        check(&cluster, PolicyOptions::default(), case.expect, case.what);
    }
}

#[test]
fn cluster_network_policy_warnings() {
    let mut cluster = base();
    let mut names = cnp("names", ClusterTier::Admin, 1, team_a());
    names.egress = vec![
        arule(AdminAction::Allow, vec![AdminPeer::DomainNames(vec!["api.example.com".into()])], None),
        arule(AdminAction::Deny, vec![AdminPeer::Networks(vec!["0.0.0.0/0".parse().unwrap_or_else(|e| panic!("{e}"))])], None),
    ];
    let twin = cnp("twin", ClusterTier::Admin, 1, team_a());
    let mut base_one = cnp("b1", ClusterTier::Baseline, 3, team_a());
    base_one.ingress = vec![arule(AdminAction::Deny, vec![team("b")], None)];
    let mut base_two = base_one.clone();
    base_two.name = "b2".into();
    let mut old = banp(all_namespaces());
    old.ingress = vec![arule(AdminAction::Deny, vec![team("b")], None)];
    cluster.admin_policies.extend([names, twin, base_one, base_two, old]);
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    let warnings: Vec<&str> = engine.warnings.iter().map(|w| w.message.as_str()).collect();
    let has = |needle: &str| warnings.iter().any(|w| w.contains(needle));
    assert!(has("rule `Allow` has `domainNames` peers (api.example.com; matched by DNS answers), which are not evaluated; flows from the policy's pods to addresses outside the cluster are reported unknown"), "{warnings:?}");
    assert!(has("ClusterNetworkPolicy `names` and ClusterNetworkPolicy `twin` share priority 1"), "{warnings:?}");
    assert!(has("ClusterNetworkPolicy `b1` and ClusterNetworkPolicy `b2` share priority 3"), "{warnings:?}");
    assert!(has("BaselineAdminNetworkPolicy `default` and baseline-tier ClusterNetworkPolicies are both present"), "{warnings:?}");
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    // The name is not resolved, so the deny to every address decides.
    let web = endpoint(&engine, "a/web");
    assert_eq!(engine.allowed(web, endpoint(&engine, "1.2.3.4")).to_string(), NONE);
}

#[test]
fn classes_group_pods_with_the_same_labels() {
    let mut cluster = base();
    let mut replica = Pod::new("a", "web-2", labels(&[("app", "web")]), o());
    replica.ports = vec![port("http", 8080, Protocol::Tcp)];
    replica.owner = Owner { kind: WorkloadKind::ReplicaSet, name: "web-rs".into() };
    let mut other = replica.clone();
    other.name = "web-3".into();
    cluster.pods.extend([replica, other]);
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    // Two ReplicaSet pods make one workload; it shares a class with the bare a/web pod.
    assert_eq!(engine.workloads.len(), 7);
    assert_eq!(engine.classes.len(), 6);
    let rs = engine.find_workload("a/web-rs[ReplicaSet]").map(|w| &engine.workloads[w]);
    assert_eq!(rs.map(|w| w.pods.len()), Some(2));
    let declared: Vec<_> = engine.namespaces.iter().map(|n| (n.name.as_str(), n.declared)).collect();
    assert_eq!(declared, [("a", true), ("b", true), ("c", false)]);
}

#[test]
fn matrix_splits_outside_addresses_and_skips_self() {
    let mut cluster = base();
    cluster.pods.truncate(2);
    cluster.network_policies.push(np("a", "web", vec![rule(vec![ip("10.0.0.0/8", &["10.1.0.0/16"])], vec![tcp(8080)])], vec![], None));
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    let m = engine.matrix();
    let mut lines: Vec<String> =
        m.connections.iter().map(|c| format!("{} => {} : {}", engine.peer_name(&c.src), engine.peer_name(&c.dst), m.conns(c))).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "0.0.0.0-9.255.255.255[External] => a/db[Pod] : All Connections",
            "10.0.0.0-10.0.255.255[External] => a/db[Pod] : All Connections",
            "10.0.0.0-10.0.255.255[External] => a/web[Pod] : TCP 8080",
            "10.1.0.0-10.1.255.255[External] => a/db[Pod] : All Connections",
            "10.2.0.0-10.255.255.255[External] => a/db[Pod] : All Connections",
            "10.2.0.0-10.255.255.255[External] => a/web[Pod] : TCP 8080",
            "11.0.0.0-255.255.255.255[External] => a/db[Pod] : All Connections",
            "a/db[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections",
            "a/web[Pod] => 0.0.0.0-255.255.255.255[External] : All Connections",
            "a/web[Pod] => a/db[Pod] : All Connections",
        ]
    );
}

#[test]
fn exposure_through_ingress_and_routes() {
    let mut cluster = base();
    let svc = |name: &str, app: &str, port: u16, target: Option<PortRef>| Service {
        namespace: "a".into(),
        name: name.into(),
        selector: Some(labels(&[("app", app)])),
        ports: vec![ServicePort { name: Some("main".into()), port, target_port: target, protocol: Protocol::Tcp, origin: o() }],
        service_type: ServiceType::ClusterIP,
        headless: false,
        external_name: None,
        external_traffic_local: false,
        cluster_ips: Vec::new(),
        origin: o(),
    };
    cluster.services = vec![svc("web", "web", 80, Some(PortRef::Name("http".into()))), svc("db", "db", 5432, None)];
    let backend = |service: &str, port: Option<PortRef>| Backend { service: service.into(), port, origin: o() };
    cluster.ingresses = vec![
        Ingress {
            kind: IngressKind::Ingress,
            namespace: "a".into(),
            name: "i".into(),
            backends: vec![backend("web", Some(PortRef::Number(80)))],
            origin: o(),
        },
        Ingress {
            kind: IngressKind::Route,
            namespace: "a".into(),
            name: "r".into(),
            backends: vec![backend("db", None), backend("gone", None)],
            origin: o(),
        },
    ];
    // Only a/web's ingress is restricted, and not from the ingress controller's namespace.
    cluster.network_policies.push(np("a", "db", vec![rule(vec![pods(None, None)], vec![])], vec![], None));
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    let (exposures, warnings) = engine.exposures();
    let shown: Vec<String> = exposures.iter().map(|e| format!("{} {}", engine.workloads[e.workload].name(), e.conns)).collect();
    assert_eq!(shown, ["a/web[Pod] TCP 8080", "a/db[Pod] TCP 5432"]);
    assert_eq!(warnings.len(), 1);
    let m = engine.matrix();
    let from_controller: Vec<String> = m
        .connections
        .iter()
        .filter(|c| c.src == Peer::IngressController)
        .map(|c| format!("{} => {} : {}", engine.peer_name(&c.src), engine.peer_name(&c.dst), m.conns(c)))
        .collect();
    assert_eq!(from_controller, ["{ingress-controller} => a/web[Pod] : TCP 8080"]);
}

#[test]
fn unevaluated_policies_make_their_flows_uncertain() {
    use netdoctor_model::k8s::{GroupVersionKind, UnevaluatedPolicy};
    let mut cluster = Cluster {
        pods: vec![
            Pod::new("shop", "web", labels(&[("app", "web")]), o()),
            Pod::new("shop", "db", labels(&[("app", "db")]), o()),
            Pod::new("ops", "mon", labels(&[("app", "mon")]), o()),
            Pod::new("ops", "log", labels(&[("app", "log")]), o()),
        ],
        ..Cluster::default()
    };
    let policy = |namespace: Option<&str>| UnevaluatedPolicy {
        gvk: GroupVersionKind::new("crd.antrea.io/v1beta1", "NetworkPolicy"),
        namespace: namespace.map(str::to_string),
        name: "p".into(),
        reason: "not evaluated".into(),
        restricts_only: false,
        origin: o(),
    };
    cluster.unevaluated.push(policy(Some("shop")));
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    let class = |name: &str| {
        let w = engine.find_workload(name).unwrap_or_else(|| panic!("{name}"));
        Endpoint::Class(engine.workloads[w].class)
    };
    let outside = Endpoint::External(Ipv4Range::single(Ipv4Addr::new(192, 0, 2, 1)));
    assert!(engine.is_uncertain(class("shop/web"), class("ops/mon")));
    assert!(engine.is_uncertain(class("ops/mon"), class("shop/db")));
    assert!(engine.is_uncertain(outside, class("shop/db")));
    assert!(!engine.is_uncertain(class("ops/mon"), class("ops/log")), "a namespaced policy leaves other namespaces' flows alone");
    assert_eq!(engine.uncertain(class("shop/web"), class("shop/db")).len(), 1);
    let in_shop = |p: &Peer| engine.peer_name(p).starts_with("shop/");
    let matrix = engine.matrix();
    assert!(matrix.connections.iter().any(|c| !c.uncertain));
    assert!(matrix.connections.iter().all(|c| c.uncertain == (in_shop(&c.src) || in_shop(&c.dst))));

    cluster.unevaluated = vec![policy(None)];
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    assert!(engine.matrix().connections.iter().all(|c| c.uncertain), "a cluster-wide one touches every flow");
    assert!(engine.warnings.iter().any(|w| w.message.contains("crd.antrea.io/v1beta1 NetworkPolicy p is not evaluated")));
}

#[test]
fn cilium_host_policies_make_flows_with_node_addresses_uncertain() {
    use netdoctor_model::cilium::{CiliumPolicy, CiliumRule};
    let host_rule = CiliumRule {
        endpoint_selector: None,
        node_selector: Some(sel(&[("node-access", "ssh")])),
        ingress: Some(Vec::new()),
        ingress_deny: None,
        egress: None,
        egress_deny: None,
        default_deny_ingress: None,
        default_deny_egress: None,
        origin: o(),
    };
    let mut cluster = Cluster {
        pods: vec![Pod::new("shop", "web", labels(&[("app", "web")]), o()), Pod::new("shop", "db", labels(&[("app", "db")]), o())],
        cilium_policies: vec![CiliumPolicy { namespace: None, name: "demo-host-policy".into(), rules: vec![host_rule], origin: o() }],
        ..Cluster::default()
    };
    let node = Ipv4Addr::new(192, 0, 2, 10);
    cluster.nodes.push(Node {
        name: "n1".into(),
        labels: Labels::new(),
        pod_cidrs: Vec::new(),
        pod_cidrs_origin: None,
        addresses: vec![node.into()],
        origin: o(),
    });
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    let web = endpoint(&engine, "shop/web");
    let to_node = Endpoint::External(Ipv4Range::single(node));
    let elsewhere = Endpoint::External(Ipv4Range::single(Ipv4Addr::new(198, 51, 100, 7)));
    assert!(engine.is_uncertain(web, to_node), "pod to node: the host policy's ingress decides");
    assert!(engine.is_uncertain(to_node, web), "node to pod: its egress decides");
    assert!(!engine.is_uncertain(web, elsewhere), "other outside addresses are not the host's");
    assert!(!engine.is_uncertain(web, endpoint(&engine, "shop/db")), "pod to pod does not pass the host endpoint");
    let warnings: Vec<&str> = engine.warnings.iter().map(|w| w.message.as_str()).filter(|m| m.contains("host policy")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");

    // Without Node objects, every outside address may be a node's.
    cluster.nodes.clear();
    let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
    assert!(engine.is_uncertain(endpoint(&engine, "shop/web"), elsewhere));
}

/// The grouped matrix, its groups expanded to their members, is the full matrix: for
/// every case of NetworkPolicy, admin and ClusterNetworkPolicy semantics above, and with
/// twins added (a copy of each pod that no policy tells from it, so groups have members).
#[test]
fn behaviour_groups_expand_to_the_full_matrix() {
    let rows = |engine: &PolicyEngine<'_>| -> std::collections::BTreeSet<(String, String, String)> {
        let m = engine.matrix();
        m.connections.iter().map(|c| (engine.peer_name(&c.src), engine.peer_name(&c.dst), m.conns(c).to_string())).collect()
    };
    let expanded = |engine: &PolicyEngine<'_>| -> std::collections::BTreeSet<(String, String, String)> {
        let groups = engine.behaviour_groups();
        let mut found = Vec::new();
        let sets = engine.for_each_group_connection(&groups, |s, d, set, _| found.push((s, d, set)));
        let members = |p: GroupPeer| -> Vec<String> {
            match p {
                GroupPeer::Group(g) => groups[g].members.iter().map(|&w| engine.workloads[w].name()).collect(),
                GroupPeer::Workload(w) => vec![engine.workloads[w].name()],
                GroupPeer::External(r) => vec![engine.peer_name(&Peer::External(r))],
                GroupPeer::IngressController => vec![engine.peer_name(&Peer::IngressController)],
            }
        };
        let mut out = std::collections::BTreeSet::new();
        for (s, d, set) in found {
            for a in members(s) {
                for b in members(d) {
                    if a != b {
                        out.insert((a.clone(), b, sets[set].to_string()));
                    }
                }
            }
        }
        out
    };
    let mut checked = 0;
    for case in NETWORK_POLICY_CASES.iter().chain(ADMIN_CASES).chain(CLUSTER_POLICY_CASES) {
        let mut cluster = base();
        (case.setup)(&mut cluster);
        let twins: Vec<_> = cluster
            .pods
            .iter()
            .map(|p| {
                let mut twin = p.clone();
                twin.name = format!("{}-twin", p.name);
                twin.owner.name = twin.name.clone();
                twin
            })
            .collect();
        cluster.pods.extend(twins);
        let engine = PolicyEngine::new(&cluster, PolicyOptions::default());
        assert_eq!(expanded(&engine), rows(&engine), "{}", case.what);
        assert!(engine.behaviour_groups().len() < engine.workloads.len(), "{}: twins share a group", case.what);
        checked += 1;
    }
    assert!(checked > 20);
}

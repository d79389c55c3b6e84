//! Tests of the policy inspection helpers: selection per policy and peer, and shadowed rules.

use super::build::{o, sel, tcp};
use super::*;
use netdoctor_model::k8s::*;
use netdoctor_model::Protocol;

fn pod(ns: &str, app: &str, ports: &[(&str, u16)]) -> Pod {
    let mut p = Pod::new(ns, app, [("app".to_string(), app.to_string())].into(), o());
    p.ports = ports.iter().map(|(n, port)| ContainerPort { name: Some(n.to_string()), port: *port, protocol: Protocol::Tcp }).collect();
    p
}

fn peer(app: &str) -> PolicyPeer {
    PolicyPeer::Pods { namespace_selector: None, pod_selector: Some(sel(&[("app", app)])), origin: o() }
}

fn policy(name: &str, app: &str, ingress: Vec<PolicyRule>) -> NetworkPolicy {
    let mut p = NetworkPolicy::new("a", name, sel(&[("app", app)]), o());
    p.ingress = ingress;
    p
}

fn cluster(policies: Vec<NetworkPolicy>) -> Cluster {
    Cluster {
        namespaces: vec![Namespace::new("a", Labels::new(), o()), Namespace::new("b", [("team".to_string(), "b".to_string())].into(), o())],
        pods: vec![pod("a", "db", &[("pg", 5432)]), pod("a", "web", &[]), pod("a", "job", &[]), pod("b", "web", &[])],
        network_policies: policies,
        ..Cluster::default()
    }
}

#[test]
fn selection_per_policy_and_peer() {
    let c = cluster(vec![policy("db", "db", vec![])]);
    let e = PolicyEngine::new(&c, PolicyOptions::default());
    let names = |classes: Vec<ClassId>| -> Vec<String> {
        classes.iter().flat_map(|&k| e.class_workloads(k).map(|w| w.name()).collect::<Vec<_>>()).collect()
    };
    assert_eq!(names(e.policy_classes(0)), ["a/db[Pod]"]);
    assert_eq!(names(e.peer_classes("a", &peer("web"))), ["a/web[Pod]"]);
    let other_ns = PolicyPeer::Pods { namespace_selector: Some(sel(&[("team", "b")])), pod_selector: None, origin: o() };
    assert_eq!(names(e.peer_classes("a", &other_ns)), ["b/web[Pod]"]);
    assert!(e.peer_classes("a", &peer("nothing")).is_empty());
    assert_eq!(e.network_policies_for(e.policy_classes(0)[0], PolicyType::Ingress), [0]);
    assert_eq!(e.class_namespace(e.policy_classes(0)[0]), "a");
}

#[test]
fn shadowed_rules_per_class() {
    let rule = |apps: &[&str], ports: Vec<PortSpec>| PolicyRule::new(apps.iter().map(|a| peer(a)).collect(), ports, o());
    type Case<'a> = (&'a str, Vec<NetworkPolicy>, Vec<(usize, usize)>);
    let cases: Vec<Case<'_>> = vec![
        (
            "a rule inside a wider one",
            vec![policy("db", "db", vec![rule(&["web", "job"], vec![tcp(5432)]), rule(&["web"], vec![tcp(5432)])])],
            vec![(0, 1)],
        ),
        ("disjoint peers", vec![policy("db", "db", vec![rule(&["web"], vec![tcp(5432)]), rule(&["job"], vec![tcp(5432)])])], vec![]),
        ("disjoint ports", vec![policy("db", "db", vec![rule(&["web"], vec![tcp(5432)]), rule(&["web"], vec![tcp(5433)])])], vec![]),
        (
            "identical rules in two policies: the later is reported",
            vec![policy("p1", "db", vec![rule(&["web"], vec![tcp(5432)])]), policy("p2", "db", vec![rule(&["web"], vec![tcp(5432)])])],
            vec![(1, 0)],
        ),
        (
            "an allow-all rule covers the rest",
            vec![policy("db", "db", vec![rule(&[], vec![]), rule(&["web"], vec![tcp(1)])])],
            vec![(0, 1)],
        ),
        ("a peer matching nothing is left to ND402", vec![policy("db", "db", vec![rule(&[], vec![]), rule(&["nothing"], vec![])])], vec![]),
    ];
    for (what, policies, want) in cases {
        let c = cluster(policies);
        let e = PolicyEngine::new(&c, PolicyOptions::default());
        let got: Vec<(usize, usize)> = e.shadowed_rules().iter().map(|s| (s.policy, s.rule)).collect();
        assert_eq!(got, want, "{what}");
    }
}

//! Tests of the manifest reader on small inputs kept inline.

use super::*;
use netdoctor_model::k8s::{
    AdminAction, AdminKind, AdminPeer, AdminPort, AdminSubject, AdminTier, CiliumRouting, EncapMode, EndpointsKind, IngressKind, PodRef,
    PolicyPeer, PolicyType, PortRef, RangeOwner, SelectorOperator, TunnelProtocol, WeaveEncryption, WorkloadKind,
};
use netdoctor_model::Protocol;

fn load(text: &str) -> Loaded {
    load_text(text, Path::new("m.yaml"))
}

fn ok(text: &str) -> Cluster {
    let loaded = load(text);
    assert!(loaded.errors.is_empty(), "errors: {:?}", loaded.errors);
    loaded.cluster
}

fn first_error(text: &str) -> LoadError {
    match load(text).errors.into_iter().next() {
        Some(e) => e,
        None => panic!("no error for {text}"),
    }
}

#[test]
fn reads_documents_and_lists() {
    let text = r#"
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: x}}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: b}
---
{"apiVersion": "v1", "kind": "NamespaceList", "items": [{"metadata": {"name": "c"}}]}
"#;
    let cluster = ok(text);
    let names: Vec<_> = cluster.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let a = &cluster.namespaces[0];
    assert_eq!(a.labels.get("team").map(String::as_str), Some("x"));
    assert_eq!(a.labels.get("kubernetes.io/metadata.name").map(String::as_str), Some("a"));
    assert_eq!(cluster.namespaces[2].origin.span().map(|s| s.line), Some(13));
}

#[test]
fn workloads_become_one_template_pod() {
    let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
      - name: c
        ports:
        - {containerPort: 8080, name: http}
        - {containerPort: 53, protocol: UDP}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: jobs}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: tick}}
"#;
    let cluster = ok(text);
    let web = &cluster.pods[0];
    assert_eq!(web.workload_name(), "default/web[Deployment]");
    assert_eq!((web.replicas, web.host_network, web.from_template), (3, true, true));
    assert_eq!(web.named_port("http").map(|p| (p.port, p.protocol)), Some((8080, Protocol::Tcp)));
    assert_eq!(web.ports[1].protocol, Protocol::Udp);
    let tick = &cluster.pods[1];
    assert_eq!(tick.workload_name(), "jobs/tick[CronJob]");
    assert_eq!(tick.labels.get("app").map(String::as_str), Some("tick"));
}

#[test]
fn bare_pods_report_their_controller() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata:
  name: fe-7d77fb55cc-abcde
  namespace: shop
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: fe-7d77fb55cc, controller: true}
status: {hostIP: 10.0.0.1, podIP: 10.1.0.5}
---
apiVersion: v1
kind: Pod
metadata:
  name: static-x
  ownerReferences:
  - {apiVersion: v1, kind: Node, name: node-1, controller: true}
"#;
    let cluster = ok(text);
    assert_eq!(cluster.pods[0].workload_name(), "shop/fe-7d77fb55cc[ReplicaSet]");
    assert_eq!(cluster.pods[0].ips.len(), 1);
    assert_eq!(cluster.pods[1].workload_name(), "default/static-x[Pod]");
    assert_eq!(cluster.pods[1].owner.kind, WorkloadKind::Pod);
}

#[test]
fn reads_network_policies() {
    let text = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In, values: [a, b]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector: {matchLabels: {role: fe}}
    - ipBlock: {cidr: 10.1.2.3/8, except: [10.10.0.0/16]}
    ports:
    - {port: http}
    - {port: 8000, endPort: 8010, protocol: SCTP}
  egress:
  - {}
"#;
    let cluster = ok(text);
    let p = &cluster.network_policies[0];
    assert_eq!(p.full_name(), "ns/p");
    assert_eq!(p.pod_selector.match_expressions[0].operator, SelectorOperator::In);
    assert_eq!(p.policy_types.as_deref(), Some(&[PolicyType::Ingress, PolicyType::Egress][..]));
    let rule = &p.ingress[0];
    match &rule.peers[0] {
        PolicyPeer::Pods { namespace_selector: Some(ns), pod_selector: Some(pod), .. } => {
            assert!(ns.is_empty());
            assert_eq!(pod.match_labels.len(), 1);
        }
        other => panic!("unexpected peer {other:?}"),
    }
    match &rule.peers[1] {
        PolicyPeer::IpBlock { block, .. } => {
            assert_eq!(block.cidr.to_string(), "10.0.0.0/8");
            assert_eq!(block.except.len(), 1);
        }
        other => panic!("unexpected peer {other:?}"),
    }
    assert_eq!(rule.ports[0].port, Some(PortRef::Name("http".into())));
    assert_eq!((rule.ports[1].protocol, rule.ports[1].end_port), (Protocol::Sctp, Some(8010)));
    assert!(p.egress[0].peers.is_empty() && p.egress[0].ports.is_empty());
}

#[test]
fn reads_admin_policies() {
    let text = r#"
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 10
  subject: {namespaces: {}}
  egress:
  - name: dns
    action: Pass
    to:
    - networks: [8.8.8.8/32]
    - pods: {namespaceSelector: {matchLabels: {x: y}}, podSelector: {}}
    ports:
    - portNumber: {protocol: UDP, port: 53}
    - namedPort: dns
    - portRange: {start: 1000, end: 2000}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {a: b}}}}
  ingress:
  - {name: deny, action: Deny, from: [{namespaces: {}}]}
"#;
    let cluster = ok(text);
    let anp = &cluster.admin_policies[0];
    assert_eq!(anp.tier, AdminTier::Admin { priority: 10 });
    assert_eq!(anp.subject, AdminSubject::Namespaces(Default::default()));
    let rule = &anp.egress[0];
    assert_eq!(rule.action, AdminAction::Pass);
    assert!(matches!(&rule.peers[0], AdminPeer::Networks(n) if n.len() == 1));
    let ports = rule.ports.as_deref().unwrap_or_default();
    assert_eq!(ports[0], AdminPort::Number { protocol: Protocol::Udp, port: 53 });
    assert_eq!(ports[1], AdminPort::Named("dns".into()));
    assert_eq!(ports[2], AdminPort::Range { protocol: Protocol::Tcp, start: 1000, end: 2000 });
    let banp = &cluster.admin_policies[1];
    assert_eq!(banp.tier, AdminTier::Baseline);
    assert_eq!(banp.ingress[0].action, AdminAction::Deny);
}

#[test]
fn reads_cluster_network_policies() {
    let text = r#"
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 1000
  subject: {pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {}}}
  ingress:
  - name: from-b
    action: Accept
    from: [{namespaces: {matchLabels: {team: b}}}]
    protocols:
    - tcp: {destinationPort: {number: 80}}
    - udp: {destinationPort: {range: {start: 53, end: 54}}}
    - sctp: {}
    - destinationNamedPort: http
  egress:
  - {name: pass, action: Pass, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}]}
  - {name: web, action: Accept, to: [{domainNames: ["*.example.com"]}, {networks: [10.0.0.0/8]}, {nodes: {}}]}
  - {name: rest, action: Deny, to: [{namespaces: {}}]}
---
apiVersion: v1
kind: List
items:
- apiVersion: policy.networking.k8s.io/v1beta1
  kind: ClusterNetworkPolicy
  metadata: {name: floor}
  spec:
    tier: Baseline
    priority: 0
    subject: {namespaces: {}}
    ingress: [{action: Pass, from: [{namespaces: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicyList
items:
- metadata: {name: listed}
  spec: {tier: Admin, priority: 7, subject: {namespaces: {}}}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: antrea}
spec: {priority: 5, appliedTo: [{podSelector: {}}]}
"#;
    let cluster = ok(text);
    let names: Vec<_> = cluster.admin_policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["guard", "floor", "listed"], "another group's ClusterNetworkPolicy is not this API");
    let guard = &cluster.admin_policies[0];
    assert_eq!(guard.kind, AdminKind::ClusterNetworkPolicy);
    assert_eq!((guard.tier, guard.priority()), (AdminTier::Admin { priority: 1000 }, Some(1000)));
    assert!(matches!(&guard.subject, AdminSubject::Pods { namespace_selector, .. } if namespace_selector.match_labels.len() == 1));
    let ingress = &guard.ingress[0];
    assert_eq!((ingress.name.as_str(), ingress.action), ("from-b", AdminAction::Allow), "Accept is read as Allow");
    assert_eq!(
        ingress.ports.as_deref().unwrap_or_default(),
        [
            AdminPort::Number { protocol: Protocol::Tcp, port: 80 },
            AdminPort::Range { protocol: Protocol::Udp, start: 53, end: 54 },
            AdminPort::Range { protocol: Protocol::Sctp, start: 1, end: 65535 },
            AdminPort::Named("http".into()),
        ]
    );
    assert_eq!(guard.egress[0].action, AdminAction::Pass);
    assert!(guard.egress[0].ports.is_none(), "no protocols: every port");
    let web = &guard.egress[1].peers;
    assert_eq!(web[0], AdminPeer::DomainNames(vec!["*.example.com".into()]));
    assert!(matches!(&web[1], AdminPeer::Networks(n) if n.len() == 1));
    assert_eq!(web[2], AdminPeer::Nodes(Default::default()));
    let floor = &cluster.admin_policies[1];
    assert_eq!((floor.tier, floor.baseline_priority, floor.priority()), (AdminTier::Baseline, Some(0), Some(0)));
    assert_eq!(floor.ingress[0].action, AdminAction::Pass, "a baseline ClusterNetworkPolicy may Pass");
    assert_eq!(cluster.admin_policies[2].tier, AdminTier::Admin { priority: 7 });
}

#[test]
fn reports_bad_cluster_network_policies_where_they_are() {
    let head = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: c}\nspec:\n";
    let cases: &[(&str, &str, u32)] = &[
        ("  priority: 1\n  subject: {namespaces: {}}\n", "needs `tier`", 5),
        ("  tier: Cluster\n  priority: 1\n  subject: {namespaces: {}}\n", "unknown tier `Cluster`", 5),
        ("  tier: Admin\n  priority: 1001\n  subject: {namespaces: {}}\n", "from 0 to 1000", 6),
        ("  tier: Admin\n  priority: 1\n  subject: {namespaces: {}, pods: {podSelector: {}}}\n", "exactly one of `namespaces`", 7),
        ("  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - {action: Allow, from: [{namespaces: {}}]}\n", "`Accept`", 9),
        (
            "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n    from:\n    - networks: [10.0.0.0/8]\n",
            "only allowed in egress",
            11,
        ),
        (
            "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: Deny\n    to:\n    - domainNames: [a.example]\n",
            "only allowed in `Accept` rules",
            11,
        ),
        (
            "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n    ports: [{portNumber: {port: 80}}]\n",
            "list ports under `protocols`",
            11,
        ),
        (
            "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n    protocols:\n    - tcp: {destinationPort: {number: 80}}\n      udp: {}\n",
            "exactly one of `tcp`",
            12,
        ),
        (
            "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n    protocols:\n    - tcp: {destinationPort: {range: {start: 90, end: 80}}}\n",
            "ends before it starts",
            12,
        ),
        ("  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - {action: Deny, to: []}\n", "at least one peer", 9),
    ];
    for (body, want, line) in cases {
        let text = format!("{head}{body}");
        let e = first_error(&text);
        assert!(e.message.contains(want), "{text}: {e}");
        assert_eq!(e.line, *line, "{text}: {e}");
    }
}

#[test]
fn reads_endpoints_and_endpoint_slices() {
    let text = r#"
apiVersion: v1
kind: Endpoints
metadata: {name: db, namespace: shop}
subsets:
- addresses:
  - {ip: 10.1.0.5, nodeName: n1, targetRef: {kind: Pod, name: db-0}}
  notReadyAddresses:
  - {ip: 10.1.0.6, targetRef: {kind: Pod, name: db-1, namespace: shop}}
  ports: [{name: pg, port: 5432}]
- addresses: [{ip: "fd00::5"}]
  ports: [{port: 53, protocol: UDP}]
---
apiVersion: v1
kind: EndpointsList
items:
- metadata: {name: empty, namespace: shop}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSliceList
items:
- metadata:
    name: web-abc12
    namespace: shop
    labels: {kubernetes.io/service-name: web}
  addressType: IPv4
  endpoints:
  - addresses: [10.1.0.7]
    conditions: {ready: false, serving: true, terminating: true}
    targetRef: {kind: Pod, name: web-7d9f-x2}
  - addresses: [10.1.0.8]
    targetRef: {kind: Node, name: n2}
  ports: [{name: http, port: 8080, protocol: TCP}, {name: any}]
- metadata: {name: custom, namespace: shop}
  addressType: IPv4
  endpoints: [{addresses: [10.9.9.9]}]
- metadata: {name: ext, namespace: shop, labels: {kubernetes.io/service-name: ext}}
  addressType: FQDN
  endpoints: [{addresses: [db.example.com]}]
"#;
    let cluster = ok(text);
    let db: Vec<_> = cluster.endpoints_of("shop", "db").collect();
    assert_eq!(db.len(), 2, "one entry per subset");
    assert_eq!(db[0].kind, EndpointsKind::Endpoints);
    let a = &db[0].addresses;
    assert_eq!(a[0].ip, "10.1.0.5".parse().ok());
    assert_eq!(a[0].pod, Some(PodRef { namespace: "shop".into(), name: "db-0".into() }), "targetRef namespace defaults to the object's");
    assert_eq!((a[0].node.as_deref(), a[0].ready, a[1].ready), (Some("n1"), true, false));
    assert_eq!(db[0].ready_addresses().count(), 1);
    assert_eq!((db[0].ports[0].name.as_deref(), db[0].ports[0].port), (Some("pg"), Some(5432)));
    assert_eq!((db[1].ports[0].protocol, db[1].addresses[0].ip), (Protocol::Udp, "fd00::5".parse().ok()));
    let empty: Vec<_> = cluster.endpoints_of("shop", "empty").collect();
    assert_eq!(empty.len(), 1, "an Endpoints object without subsets still says the service has none");
    assert!(empty[0].addresses.is_empty());
    let web: Vec<_> = cluster.endpoints_of("shop", "web").collect();
    assert_eq!((web.len(), web[0].name.as_str(), web[0].kind), (1, "web-abc12", EndpointsKind::EndpointSlice));
    let w = &web[0].addresses;
    assert_eq!((w[0].ready, w[0].pod.as_ref().map(|p| p.name.as_str())), (false, Some("web-7d9f-x2")));
    assert_eq!((w[1].ready, &w[1].pod), (true, &None), "no conditions: ready; a Node target is no pod");
    assert_eq!(web[0].ports[1].port, None, "a slice port without a number is every port");
    assert!(cluster.endpoints.iter().all(|e| e.name != "custom"), "a slice without the service-name label belongs to no service");
    let ext = cluster.endpoints_of("shop", "ext").next().map(|e| e.addresses[0].clone());
    assert_eq!(ext.map(|a| (a.ip, a.fqdn)), Some((None, Some("db.example.com".into()))));
}

#[test]
fn reports_bad_endpoints_where_they_are() {
    let cases: &[(&str, &str, u32)] = &[
        ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- addresses: [{ip: 10.0.0.300}]\n", "IP address", 5),
        ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- ports: [{name: x}]\n", "needs `port`", 5),
        (
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e, labels: {kubernetes.io/service-name: s}}\naddressType: IPv5\n",
            "unknown addressType",
            4,
        ),
        (
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e, labels: {kubernetes.io/service-name: s}}\naddressType: IPv4\nendpoints:\n- addresses: [db.local]\n",
            "IP address",
            6,
        ),
    ];
    for (text, want, line) in cases {
        let e = first_error(text);
        assert!(e.message.contains(want), "{text}: {e}");
        assert_eq!(e.line, *line, "{text}: {e}");
    }
}

#[test]
fn reads_services_and_exposure() {
    let text = r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http, name: h}, {port: 53, protocol: UDP}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - http:
      paths:
      - backend: {service: {name: web, port: {number: 80}}}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: r}
spec:
  to: {kind: Service, name: web}
  port: {targetPort: h}
"#;
    let cluster = ok(text);
    let svc = &cluster.services[0];
    assert_eq!(svc.ports[0].target_port, Some(PortRef::Name("http".into())));
    assert_eq!(svc.ports[1].target_port, None);
    assert_eq!(cluster.ingresses[0].kind, IngressKind::Ingress);
    assert_eq!(cluster.ingresses[0].backends[0].port, Some(PortRef::Number(80)));
    assert_eq!(cluster.ingresses[1].kind, IngressKind::Route);
    assert_eq!(cluster.ingresses[1].backends[0].port, Some(PortRef::Name("h".into())));
}

/// A malformed `ports` field drops that field with a located warning; the object is kept.
#[test]
fn malformed_ports_are_left_out_with_a_located_warning() {
    let cases: &[(&str, &str, u32)] = &[
        ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: a}\n  ports: [{port: 99999}]\n", "port number", 6),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: a}\n  ports: {}\n", "must be a list", 6),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{ports: [{containerPort: 80, protocol: ICMP}]}]\n", "unknown protocol", 5),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        ports: {}\n",
            "must be a list",
            9,
        ),
    ];
    for (text, want, line) in cases {
        let loaded = load(text);
        assert!(loaded.errors.is_empty(), "{text}: {:?}", loaded.errors);
        let w = loaded.warnings.first().unwrap_or_else(|| panic!("no warning for {text}"));
        assert!(w.message.contains(want) && w.message.contains("left out"), "{text}: {w}");
        assert_eq!(w.line, *line, "{text}: {w}");
        assert_eq!(loaded.cluster.services.len() + loaded.cluster.pods.len(), 1, "the object is kept: {text}");
    }
}

#[test]
fn reports_bad_values_where_they_are() {
    let cases: &[(&str, &str, u32)] = &[
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/33}\n",
            "CIDR",
            7,
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - from:\n    - {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}\n",
            "together with a selector",
            7,
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector:\n    matchExpressions: [{key: a, operator: In}]\n",
            "at least one value",
            6,
        ),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {labels: {a: b}}\n", "`metadata.name` is missing", 3),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: [x]}\n", "must be a string", 3),
        ("a: [1, 2\n", "invalid yaml", 2),
    ];
    for (text, want, line) in cases {
        let e = first_error(text);
        assert!(e.message.contains(want), "{text}: {e}");
        assert_eq!(e.line, *line, "{text}: {e}");
    }
}

#[test]
fn skips_files_that_are_not_manifests() {
    let loaded = load("[{\"src\": \"a\", \"dst\": \"b\"}]");
    assert!(loaded.errors.is_empty());
    assert!(loaded.cluster.is_empty());
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].message.contains("not a Kubernetes manifest"), "{}", loaded.warnings[0]);
    let mixed = load("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\njust: data\n");
    assert_eq!(mixed.cluster.namespaces.len(), 1);
    assert_eq!(mixed.warnings.len(), 1);
    assert_eq!(mixed.warnings[0].line, 5);
}

#[test]
fn one_bad_object_does_not_hide_the_others() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n";
    let loaded = load(text);
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.cluster.namespaces.len(), 1);
}

#[test]
fn walks_directories_in_name_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap_or_else(|e| panic!("{e}"));
    let ns = |n: &str| format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {n}}}\n");
    std::fs::write(dir.path().join("b.yaml"), ns("b")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(sub.join("a.yml"), ns("a")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("broken.json"), "{").unwrap_or_else(|e| panic!("{e}"));
    let loaded = super::load(dir.path());
    let names: Vec<_> = loaded.cluster.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    assert!(loaded.errors[0].file.ends_with("broken.json"));
    let missing = super::load(&dir.path().join("nope"));
    assert_eq!(missing.errors.len(), 1);
}

#[test]
fn reads_cluster_ranges_from_the_objects_that_declare_them() {
    let text = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data:
  cluster-pool-ipv4-cidr: "10.0.0.0/8 10.128.0.0/9"
  enable-ipv4: "true"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-proxy, namespace: kube-system}
data:
  config.conf: |-
    kind: KubeProxyConfiguration
    clusterCIDR: 10.244.0.0/16,fd00:10:244::/56
---
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-flannel-cfg", "namespace": "kube-flannel"},
 "data": {"net-conf.json": "{\"Network\": \"10.42.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}"}}
---
apiVersion: networking.k8s.io/v1beta1
kind: ServiceCIDR
metadata: {name: extra}
spec: {cidrs: [10.112.0.0/16, "fd00:10:96::/112"]}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool}
spec: {cidr: 192.168.0.0/16}
---
apiVersion: operator.tigera.io/v1
kind: Installation
metadata: {name: default}
spec:
  calicoNetwork:
    ipPools:
    - {name: default-ipv4-ippool, blockSize: 26, cidr: 172.20.0.0/16, encapsulation: VXLANCrossSubnet}
---
apiVersion: crd.antrea.io/v1beta1
kind: IPPool
metadata: {name: not-calico}
spec: {ipRanges: [{cidr: 10.9.0.0/16}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-settings, namespace: kube-system}
data: {podSubnet: 10.1.0.0/16}
"#;
    let cluster = ok(text);
    let got: Vec<(&str, String, &str, Option<u32>)> =
        cluster.ranges.iter().map(|r| (r.kind.noun(), r.cidr.to_string(), r.source.as_str(), r.origin.span().map(|s| s.line))).collect();
    assert_eq!(
        got,
        [
            ("pod", "10.0.0.0/8".into(), "cilium-config cluster-pool-ipv4-cidr", Some(6)),
            ("pod", "10.128.0.0/9".into(), "cilium-config cluster-pool-ipv4-cidr", Some(6)),
            ("pod", "10.244.0.0/16".into(), "kube-proxy clusterCIDR", Some(15)),
            ("pod", "fd00:10:244::/56".into(), "kube-proxy clusterCIDR", Some(15)),
            // Written as a JSON string, so the embedded text has no lines of the file: the value is named.
            ("pod", "10.42.0.0/16".into(), "kube-flannel-cfg net-conf.json Network", Some(18)),
            ("service", "10.112.0.0/16".into(), "ServiceCIDR extra", Some(23)),
            ("service", "fd00:10:96::/112".into(), "ServiceCIDR extra", Some(23)),
            ("pod", "192.168.0.0/16".into(), "Calico IPPool pool", Some(28)),
            ("pod", "172.20.0.0/16".into(), "Calico Installation default pool default-ipv4-ippool", Some(36)),
        ]
    );
    // The column of a block scalar's embedded key is exact too.
    assert_eq!(cluster.ranges[2].origin.span().map(|s| s.column), Some(18));
}

#[test]
fn bad_cluster_ranges_are_reported_where_they_are_written() {
    let e = first_error(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: kube-system}\ndata:\n  ClusterConfiguration: |\n    kind: ClusterConfiguration\n    networking:\n      podSubnet: 10.244.0.0/33\n",
    );
    assert_eq!((e.line, e.column), (8, 18), "{e}");
    assert!(e.message.contains("`podSubnet` must hold CIDRs") && e.message.contains("10.244.0.0/33"), "{e}");
    let e = first_error(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata:\n  config.conf: |\n    clusterCIDR: [unclosed\n",
    );
    assert_eq!(e.line, 6, "{e}");
    assert!(e.message.contains("`config.conf` does not hold a YAML or JSON configuration"), "{e}");
    let e = first_error("apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: s}\nspec: {cidrs: [10.96.0.0/40]}\n");
    assert_eq!((e.line, e.column), (4, 16), "{e}");
}

#[test]
fn policies_are_known_by_group_and_kind() {
    let text = r#"
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: calico-allow, namespace: shop}
spec: {selector: "app == 'web'", ingress: [{action: Allow}]}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: acnp}
spec: {priority: 1}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: root, namespace: istio-system}
spec: {}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: preview, namespace: shop}
spec: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: k8s, namespace: shop}
spec: {podSelector: {}}
"#;
    let loaded = load(text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let cluster = loaded.cluster;
    // Only networking.k8s.io's NetworkPolicy is read as one.
    assert_eq!(cluster.network_policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["k8s"]);
    assert!(cluster.admin_policies.is_empty(), "Antrea's ClusterNetworkPolicy is not sig-network's");
    // Calico's is Calico's.
    assert_eq!(cluster.calico_policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["calico-allow"]);
    let names: Vec<String> = cluster.unevaluated.iter().map(|u| u.display_name()).collect();
    assert_eq!(
        names,
        [
            "crd.antrea.io/v1beta1 ClusterNetworkPolicy acnp",
            // In the mesh's root namespace, Istio policies apply mesh-wide.
            "security.istio.io/v1 AuthorizationPolicy root",
        ]
    );
    assert!(cluster.unevaluated.iter().all(|u| matches!(u.origin, netdoctor_model::Origin::File(_))));
    assert!(cluster.unevaluated.get(1).is_some_and(|u| u.restricts_only && u.namespace.is_none()));
    // Staged policies are not enforced: a warning, not an unknown.
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings.iter().all(|w| w.line == 17 && w.message.contains("StagedNetworkPolicy `preview`")), "{:?}", loaded.warnings);
}

#[test]
fn flannel_backend_is_read_from_net_conf_json() {
    let text = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: kube-flannel-cfg, namespace: kube-flannel}
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": {"Type": "VXLAN", "Port": 4789, "VNI": 4096}
    }
"#;
    let backend = ok(text).flannel_backend.expect("backend read");
    assert_eq!((backend.kind.as_str(), backend.udp_port(), backend.vxlan_vni()), ("vxlan", Some(4789), Some(4096)));
    assert_eq!(backend.port.as_ref().and_then(|p| p.origin.span()).map(|s| (s.line, s.column)), Some((8, 44)));
    // flannel's defaults: vxlan on the kernel's 8472 with VNI 1, udp without `Backend`.
    let defaults = |conf: &str| {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kube-flannel-cfg, namespace: kube-system}}\ndata:\n  net-conf.json: '{conf}'\n"
        );
        let backend = ok(&text).flannel_backend.expect("backend read");
        (backend.kind.clone(), backend.udp_port(), backend.vxlan_vni())
    };
    assert_eq!(defaults(r#"{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}"#), ("vxlan".into(), Some(8472), Some(1)));
    assert_eq!(defaults(r#"{"Network": "10.244.0.0/16"}"#), ("udp".into(), Some(8285), None));
    assert_eq!(defaults(r#"{"Backend": {"Type": "host-gw"}}"#), ("host-gw".into(), None, None));
    assert_eq!(defaults(r#"{"Backend": {"Type": "wireguard", "ListenPort": 51830}}"#), ("wireguard".into(), Some(51830), None));
    // Other ConfigMaps have no backend; a bad one is an error where it is written.
    assert!(ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {net-conf.json: '{}'}\n").flannel_backend.is_none());
    let e = first_error(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-flannel-cfg, namespace: kube-flannel}\ndata:\n  net-conf.json: |\n    {\"Backend\": {\"Type\": \"vxlan\", \"VNI\": \"x\"}}\n",
    );
    assert_eq!((e.line, e.message.contains("VNI")), (6, true), "{e:?}");
}

#[test]
fn calico_pools_are_read_with_calico_defaults() {
    let text = r#"apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: defaults}
spec: {cidr: 10.244.0.0/16}
---
apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata: {name: full}
spec:
  cidr: 10.96.0.0/22
  blockSize: 28
  vxlanMode: CrossSubnet
  natOutgoing: true
  nodeSelector: "zone == 'a'"
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00:10::/64", disabled: true}
"#;
    let cluster = ok(text);
    let got: Vec<_> = cluster
        .calico_pools
        .iter()
        .map(|p| (p.name.as_str(), p.block_size, p.blocks(), p.ipip_mode, p.vxlan_mode, p.nat_outgoing, p.disabled))
        .collect();
    assert_eq!(
        got,
        [
            ("defaults", 26, 1024, EncapMode::Never, EncapMode::Never, false, false),
            ("full", 28, 64, EncapMode::Never, EncapMode::CrossSubnet, true, false),
            ("v6", 122, 1 << 58, EncapMode::Never, EncapMode::Never, false, true),
        ]
    );
    assert_eq!(
        cluster.calico_pools.get(1).and_then(|p| p.node_selector.as_ref()).map(ToString::to_string).as_deref(),
        Some("zone == \"a\"")
    );
    assert_eq!(cluster.calico_pools.get(1).and_then(|p| p.block_size_origin.as_ref()).and_then(|o| o.span()).map(|s| s.line), Some(11));
    // A disabled pool is modelled but declares no range.
    assert_eq!(cluster.ranges.iter().map(|r| r.cidr.to_string()).collect::<Vec<_>>(), ["10.244.0.0/16", "10.96.0.0/22"]);
}

#[test]
fn calico_pools_are_validated_as_calico_does() {
    let pool = |spec: &str| format!("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {{name: p}}\nspec:\n{spec}");
    let cases = [
        ("  cidr: 10.0.0.0/16\n  blockSize: 19\n", 6, "must be 20 to 32"),
        ("  cidr: fd00::/64\n  blockSize: 112\n", 6, "must be 116 to 128"),
        ("  cidr: 10.0.0.0/28\n", 5, "smaller than one block of /26"),
        ("  cidr: 10.0.0.0/24\n  blockSize: 22\n", 6, "smaller than one block of /22"),
        ("  cidr: 10.0.0.0/16\n  ipipMode: Always\n  vxlanMode: CrossSubnet\n", 7, "cannot both be enabled"),
        ("  cidr: 10.0.0.0/16\n  ipipMode: always\n", 6, "must be Always, CrossSubnet or Never"),
        ("  cidr: fd00::/64\n  ipipMode: Always\n", 6, "IPIP is not supported on an IPv6 pool"),
        ("  cidr: 10.0.0.0/16\n  nodeSelector: \"zone ==\"\n", 6, "`nodeSelector`"),
    ];
    for (spec, line, message) in cases {
        let e = first_error(&pool(spec));
        assert_eq!(e.line, line, "{spec}: {e}");
        assert!(e.message.contains(message), "{spec}: {e}");
    }
    // A pool as large as one block is fine.
    assert_eq!(ok(&pool("  cidr: 10.0.0.0/26\n")).calico_pools.first().map(|p| p.blocks()), Some(1));
}

#[test]
fn weave_net_range_and_encryption_are_read_from_its_daemonset() {
    let daemonset = |namespace: &str, env: &str| {
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: weave-net, namespace: {namespace}}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: weave\n          env: {env}\n        - name: weave-npc\n          env: [{{name: IPALLOC_RANGE, value: 192.168.0.0/16}}]\n"
        )
    };
    let read = |env: &str| {
        let cluster = ok(&daemonset("kube-system", env));
        let ranges: Vec<_> = cluster.ranges.iter().map(|r| (r.cidr.to_string(), r.owner, r.source.clone())).collect();
        (ranges, cluster.weave.map(|w| w.encryption))
    };
    let (ranges, encryption) = read("[{name: IPALLOC_RANGE, value: 10.40.0.0/16}, {name: WEAVE_PASSWORD, value: pw}]");
    assert_eq!(ranges, [("10.40.0.0/16".to_string(), RangeOwner::Weave, "weave-net IPALLOC_RANGE".to_string())]);
    assert!(matches!(encryption, Some(Some(WeaveEncryption::Inline { .. }))));
    // Weave's default range; a password from a Secret; an empty password is no encryption.
    let (ranges, encryption) = read("[{name: WEAVE_PASSWORD, valueFrom: {secretKeyRef: {name: weave-passwd, key: weave-passwd}}}]");
    assert_eq!(ranges.first().map(|r| r.0.as_str()), Some("10.32.0.0/12"));
    assert!(matches!(encryption, Some(Some(WeaveEncryption::Secret { ref name, .. })) if name == "weave-passwd"));
    assert_eq!(read("[{name: WEAVE_PASSWORD, value: ''}]").1, Some(None));
    // The password is not in the model.
    let cluster = ok(&daemonset("kube-system", "[{name: WEAVE_PASSWORD, value: not-in-the-model}]"));
    assert!(!format!("{cluster:?}").contains("not-in-the-model"));
    // Only kube-system's weave-net; a bad range is located.
    assert!(ok(&daemonset("default", "[]")).weave.is_none());
    let e = first_error(&daemonset("kube-system", "[{name: IPALLOC_RANGE, value: 10.32.0.0/33}]"));
    assert_eq!(e.line, 9, "{e}");
}

#[test]
fn cilium_config_is_read_with_cilium_defaults() {
    let text = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data:
  ipam: multi-pool
  cluster-pool-ipv4-mask-size: "26"
  routing-mode: tunnel
  tunnel-protocol: geneve
  tunnel-port: "6082"
  enable-wireguard: "true"
  enable-ipsec: "false"
  enable-ipv6: "true"
"#;
    let config = ok(text).cilium_config.expect("cilium-config read");
    assert_eq!((config.ipam_mode(), config.ipv4_mask_size()), ("multi-pool", 26));
    assert_eq!((config.tunnel(), config.tunnel_udp_port()), (Some(TunnelProtocol::Geneve), Some(6082)));
    assert_eq!((config.wireguard_on(), config.ipsec_on(), config.ipv4_on(), config.ipv6_on()), (true, false, true, true));
    assert_eq!(config.tunnel_port.as_ref().and_then(|p| p.origin.span()).map(|s| (s.line, s.column)), Some((9, 16)));
    // Cilium's defaults: cluster-pool IPAM with /24 per node, a vxlan tunnel on 8472, no
    // encryption, IPv4 only.
    let empty = ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\ndata: {}\n");
    let config = empty.cilium_config.expect("cilium-config read");
    assert_eq!((config.ipam_mode(), config.ipv4_mask_size(), config.routing()), ("cluster-pool", 24, CiliumRouting::Tunnel));
    assert_eq!((config.tunnel(), config.tunnel_udp_port()), (Some(TunnelProtocol::Vxlan), Some(8472)));
    assert_eq!((config.wireguard_on(), config.ipsec_on(), config.ipv4_on(), config.ipv6_on()), (false, false, true, false));
    // geneve's default port, and `tunnel-port: "0"` is the default too.
    let port = |data: &str| {
        let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cilium-config, namespace: kube-system}}\ndata: {data}\n");
        ok(&text).cilium_config.expect("cilium-config read").tunnel_udp_port()
    };
    assert_eq!(port("{tunnel-protocol: geneve, tunnel-port: '0'}"), Some(6081));
    assert_eq!(port("{routing-mode: native, tunnel-port: '8472'}"), None);
    // Other ConfigMaps, and cilium-config outside kube-system, are not Cilium's settings.
    assert!(ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: kube-system}\ndata: {ipam: eni}\n")
        .cilium_config
        .is_none());
    assert!(ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: apps}\ndata: {ipam: eni}\n")
        .cilium_config
        .is_none());
}

#[test]
fn cilium_config_reads_the_older_tunnel_key() {
    let config = |data: &str| {
        let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cilium-config, namespace: kube-system}}\ndata: {data}\n");
        ok(&text).cilium_config.expect("cilium-config read")
    };
    let disabled = config("{tunnel: disabled}");
    assert_eq!((disabled.routing(), disabled.tunnel_udp_port()), (CiliumRouting::Native, None));
    assert_eq!(disabled.routing_mode.as_ref().and_then(|m| m.origin.span()).map(|s| s.line), Some(4));
    let geneve = config("{tunnel: geneve}");
    assert_eq!(
        (geneve.routing(), geneve.tunnel(), geneve.tunnel_udp_port()),
        (CiliumRouting::Tunnel, Some(TunnelProtocol::Geneve), Some(6081))
    );
    // The newer keys win when both are written.
    let both = config("{tunnel: disabled, routing-mode: tunnel, tunnel-protocol: vxlan}");
    assert_eq!((both.routing(), both.tunnel_udp_port()), (CiliumRouting::Tunnel, Some(8472)));
}

#[test]
fn cilium_config_bad_values_are_located_errors() {
    let error = |line: &str| {
        first_error(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cilium-config, namespace: kube-system}}\ndata:\n  {line}\n"
        ))
    };
    for (line, key) in [
        ("routing-mode: direct", "routing-mode"),
        ("tunnel: ipip", "tunnel"),
        ("tunnel-protocol: gre", "tunnel-protocol"),
        ("tunnel-port: '70000'", "tunnel-port"),
        ("ipam: host-scope", "ipam"),
        ("cluster-pool-ipv4-mask-size: '33'", "cluster-pool-ipv4-mask-size"),
        ("enable-wireguard: 'yes'", "enable-wireguard"),
    ] {
        let e = error(line);
        assert_eq!((e.line, e.message.contains(&format!("`{key}`"))), (5, true), "{line}: {e:?}");
    }
}

/// An error names where in its object it is, in documents and in `List` items alike.
#[test]
fn errors_carry_the_path_inside_their_object() {
    let policy = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: a}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}]
    ports:
    - port: 5432
      protocol: TPC
";
    let e = first_error(policy);
    assert_eq!((e.line, e.path.as_deref()), (10, Some("spec.ingress[0].ports[0].protocol")), "{e:?}");
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {{name: b}}\n- {}",
        policy.replace('\n', "\n  ").trim_end()
    );
    let e = first_error(&list);
    assert_eq!(e.path.as_deref(), Some("spec.ingress[0].ports[0].protocol"), "{e:?}");
}

/// The peers a pod's configuration names: env values, ConfigMap keys (by reference,
/// `envFrom` and mounted as files), command and args; settings are not peers.
#[test]
fn pods_know_the_peers_their_configuration_names() {
    let cluster = ok("
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data:
  CACHE_URL: redis://cache:6379
  QUEUE_HOST: rabbitmq
  app.conf: |
    upstream = http://api.backend:8080/v1
    debug = true
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        command: [web, --server, search]
        args: [--db=postgres://u:pw@db:5432/shop]
        env:
        - {name: VERBOSE, value: 'true'}
        - {name: METRICS_HOST, value: prometheus}
        - name: CACHE
          valueFrom: {configMapKeyRef: {name: cfg, key: CACHE_URL}}
        envFrom:
        - configMapRef: {name: cfg}
      volumes:
      - name: conf
        configMap: {name: cfg}
");
    let pod = &cluster.pods[0];
    let mut found: Vec<String> = pod.references.iter().map(|r| format!("{} ({})", r.host, r.via.describe())).collect();
    found.sort();
    found.dedup();
    assert_eq!(
        found,
        [
            "api.backend (ConfigMap cfg key app.conf)",
            "cache (ConfigMap cfg key CACHE_URL)",
            "db (command)",
            "prometheus (env METRICS_HOST)",
            "rabbitmq (ConfigMap cfg key QUEUE_HOST)",
            "search (command)",
        ]
    );
}

/// A malformed `hostNetwork`, `dnsPolicy` or `serviceAccountName` drops that field with a
/// located warning, not the Deployment.
#[test]
fn malformed_pod_fields_drop_the_field_not_the_object() {
    let loaded = load(
        "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: [yes]
      dnsPolicy: {ClusterFirst: true}
      serviceAccountName: [web]
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
",
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let pod = &loaded.cluster.pods[0];
    assert_eq!((pod.name.as_str(), pod.host_network, pod.ports.len()), ("web", false, 1));
    let said: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(
        said[0].starts_with("m.yaml:9:")
            && said[0].ends_with("its `hostNetwork` is left out (taken as false), the rest of the object is read"),
        "{said:?}"
    );
}

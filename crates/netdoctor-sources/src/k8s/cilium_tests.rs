//! Tests of the Cilium policy reader on inline manifests, read into a located tree the
//! way the manifest reader does and handed to the lowering functions directly. Examples
//! quoted from Cilium's documentation name the file they come from in cilium/cilium.

use super::*;
use crate::k8s::raw;
use netdoctor_model::k8s::{LabelRequirement, SelectorOperator};
use std::path::Path;

/// The first object of a manifest.
fn object(text: &str) -> raw::RawObject {
    let read = raw::read_text(text, Path::new("c.yaml")).unwrap();
    read.objects.objects.into_iter().next().expect("no object in the manifest")
}

fn read_policy(text: &str) -> Result<CiliumPolicy> {
    let o = object(text);
    policy(&o.node, o.kind == "CiliumClusterwideNetworkPolicy")
}

fn read(text: &str) -> CiliumPolicy {
    read_policy(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The error for a manifest: line, column and message.
fn policy_error(text: &str) -> (u32, u32, String) {
    match read_policy(text) {
        Ok(p) => panic!("no error, read {p:?}"),
        Err(e) => (e.line, e.column, e.message),
    }
}

/// A selector with `matchLabels` only.
fn labels(pairs: &[(&str, &str)]) -> LabelSelector {
    let match_labels = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    LabelSelector { match_labels, match_expressions: Vec::new() }
}

/// A CiliumNetworkPolicy whose one rule has one `section` entry written as `rule`,
/// which starts at line 7, column 5.
fn with_rule(section: &str, rule: &str) -> String {
    format!(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: p}}\nspec:\n  endpointSelector: {{}}\n  {section}:\n  - {rule}\n"
    )
}

/// The one peer rule of `with_rule`.
fn peer(section: &str, rule: &str) -> CiliumPeerRule {
    let p = read(&with_rule(section, rule));
    let r = p.rules.into_iter().next().unwrap();
    let entries = match section {
        "ingress" => r.ingress,
        "ingressDeny" => r.ingress_deny,
        "egress" => r.egress,
        _ => r.egress_deny,
    };
    entries.unwrap().into_iter().next().unwrap()
}

fn cidr_rule(net: &str) -> CidrRule {
    CidrRule { cidr: Some(net.parse().unwrap()), group: None, except: Vec::new() }
}

fn tcp(port: u16) -> CiliumPort {
    CiliumPort { port: CiliumPortNumber::Number(port), end_port: None, protocol: CiliumProtocol::Tcp }
}

#[test]
fn reads_the_simple_ingress_and_egress_examples() {
    // examples/policies/l3/simple/l3.yaml (Documentation/security/policy/layer3.rst "Simple Ingress Allow")
    let text = r#"apiVersion: "cilium.io/v2"
kind: CiliumNetworkPolicy
metadata:
  name: "l3-rule"
spec:
  endpointSelector:
    matchLabels:
      role: backend
  ingress:
  - fromEndpoints:
    - matchLabels:
        role: frontend
"#;
    let p = read(text);
    assert_eq!((p.namespace.as_deref(), p.name.as_str()), (Some("default"), "l3-rule"));
    assert_eq!(p.display_name(), "CiliumNetworkPolicy default/l3-rule");
    assert_eq!(p.rules.len(), 1);
    let rule = &p.rules[0];
    assert_eq!(rule.endpoint_selector, Some(labels(&[("role", "backend")])));
    assert_eq!((&rule.node_selector, &rule.egress, &rule.ingress_deny, &rule.egress_deny), (&None, &None, &None, &None));
    assert_eq!((rule.default_deny_ingress, rule.default_deny_egress), (None, None));
    assert_eq!(rule.origin.span().map(|s| (s.line, s.column)), Some((6, 3)));
    let ingress = rule.ingress.as_deref().unwrap();
    assert_eq!(ingress.len(), 1);
    assert_eq!(ingress[0].endpoints, Some(vec![labels(&[("role", "frontend")])]));
    assert!(ingress[0].ports.is_empty() && ingress[0].cidrs.is_empty() && ingress[0].unevaluated.is_empty());
    assert_eq!(ingress[0].origin.span().map(|s| (s.line, s.column)), Some((10, 5)));

    // examples/policies/l3/simple/l3_egress.yaml ("Simple Egress Allow")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"l3-egress-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      role: frontend\n  egress:\n  - toEndpoints:\n    - matchLabels:\n        role: backend\n";
    let rule = &read(text).rules[0];
    assert_eq!(rule.ingress, None);
    assert_eq!(rule.egress.as_deref().unwrap()[0].endpoints, Some(vec![labels(&[("role", "backend")])]));
}

#[test]
fn reads_the_clusterwide_and_deny_examples() {
    // examples/policies/kubernetes/clusterwide/clusterscope-policy.yaml (Documentation/security/policy/kubernetes.rst)
    let text = r#"apiVersion: "cilium.io/v2"
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: "clusterwide-policy-example"
spec:
  description: "Policy for selective ingress allow to a pod from only a pod with given label"
  endpointSelector:
    matchLabels:
      name: leia
  ingress:
  - fromEndpoints:
    - matchLabels:
        name: luke
"#;
    let p = read(text);
    assert_eq!((p.namespace.as_deref(), p.display_name()), (None, "CiliumClusterwideNetworkPolicy clusterwide-policy-example".into()));
    assert_eq!(p.rules[0].ingress.as_deref().unwrap()[0].endpoints, Some(vec![labels(&[("name", "luke")])]));

    // examples/policies/l3/entities/from_world_deny.yaml (Documentation/security/policy/deny.rst)
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: \"external-lockdown\"\nspec:\n  endpointSelector: {}\n  ingressDeny:\n  - fromEntities:\n    - \"world\"\n  ingress:\n  - fromEntities:\n    - \"all\"\n";
    let rule = &read(text).rules[0];
    assert_eq!(rule.endpoint_selector, Some(LabelSelector::default()));
    assert_eq!(rule.ingress_deny.as_deref().unwrap()[0].entities, ["world"]);
    assert_eq!(rule.ingress.as_deref().unwrap()[0].entities, ["all"]);

    // examples/policies/l3/egress-deny/egress-deny.yaml (layer3.rst "Simple Egress Deny")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"deny-egress-example\"\nspec:\n  endpointSelector:\n    matchLabels:\n      role: frontend\n  egress:\n  - toEntities:\n    - all\n  egressDeny:\n  - toEndpoints:\n    - matchLabels:\n        role: backend\n";
    let rule = &read(text).rules[0];
    assert_eq!(rule.egress.as_deref().unwrap()[0].entities, ["all"]);
    assert_eq!(rule.egress_deny.as_deref().unwrap()[0].endpoints, Some(vec![labels(&[("role", "backend")])]));
}

#[test]
fn reads_the_cidr_and_l4_examples() {
    // examples/policies/l3/cidr/cidr.yaml (layer3.rst "Allow to external CIDR block")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"cidr-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      app: myService\n  egress:\n  - toCIDR:\n    - 20.1.1.1/32\n  - toCIDRSet:\n    - cidr: 10.0.0.0/8\n      except:\n      - 10.96.0.0/12\n";
    let egress = read(text).rules.remove(0).egress.unwrap();
    assert_eq!(egress[0].cidrs, [cidr_rule("20.1.1.1/32")]);
    let set = CidrRule { except: vec!["10.96.0.0/12".parse().unwrap()], ..cidr_rule("10.0.0.0/8") };
    assert_eq!(egress[1].cidrs, [set]);

    // examples/policies/l4/cidr_l4_combined.yaml (layer4.rst "CIDR-dependent Layer 4 Rule")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"cidr-l4-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      role: crawler\n  egress:\n  - toCIDR:\n    - 192.0.2.0/24\n    toPorts:\n    - ports:\n      - port: \"80\"\n        protocol: TCP\n";
    let rule = read(text).rules.remove(0).egress.unwrap().remove(0);
    assert_eq!(rule.cidrs, [cidr_rule("192.0.2.0/24")]);
    assert_eq!(rule.ports, [CiliumPortRule { ports: vec![tcp(80)], l7: Vec::new() }]);

    // examples/policies/l4/l3_l4_combined.yaml (layer4.rst "Labels-dependent Layer 4 rule")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"l4-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      role: backend\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        role: frontend\n    toPorts:\n    - ports:\n      - port: \"80\"\n        protocol: TCP\n";
    let rule = read(text).rules.remove(0).ingress.unwrap().remove(0);
    assert_eq!((rule.endpoints.is_some(), rule.ports[0].ports.as_slice()), (true, [tcp(80)].as_slice()));

    // examples/policies/l4/l4_port_range.yaml (layer4.rst "Example Port Ranges")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"l4-port-range-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      app: myService\n  egress:\n    - toPorts:\n      - ports:\n        - port: \"80\"\n          endPort: 444\n          protocol: TCP\n";
    let rule = read(text).rules.remove(0).egress.unwrap().remove(0);
    assert_eq!(rule.endpoints, None, "ports without a peer field");
    assert_eq!(rule.ports[0].ports, [CiliumPort { end_port: Some(444), ..tcp(80) }]);

    // examples/policies/kubernetes/namespace/kubedns-policy.yaml (kubernetes.rst): a quoted
    // port, UDP, and a source-prefixed label key kept as written.
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"allow-to-kubedns\"\n  namespace: public\nspec:\n  endpointSelector:\n    {}\n  egress:\n  - toEndpoints:\n    - matchLabels:\n        k8s:io.kubernetes.pod.namespace: kube-system\n        k8s-app: kube-dns\n    toPorts:\n    - ports:\n      - port: '53'\n        protocol: UDP\n";
    let p = read(text);
    assert_eq!(p.namespace.as_deref(), Some("public"));
    let rule = p.rules[0].egress.as_deref().unwrap()[0].clone();
    let dns = labels(&[("k8s:io.kubernetes.pod.namespace", "kube-system"), ("k8s-app", "kube-dns")]);
    assert_eq!(rule.endpoints, Some(vec![dns]));
    assert_eq!(rule.ports[0].ports, [CiliumPort { protocol: CiliumProtocol::Udp, ..tcp(53) }]);
}

#[test]
fn reads_the_entity_and_namespace_examples() {
    // examples/policies/l3/entities/world.yaml and host.yaml (layer3.rst)
    let world = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"from-world-to-role-public\"\nspec:\n  endpointSelector:\n    matchLabels:\n      role: public\n  ingress:\n    - fromEntities:\n      - world\n";
    assert_eq!(read(world).rules[0].ingress.as_deref().unwrap()[0].entities, ["world"]);
    let host = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"dev-to-host\"\nspec:\n  endpointSelector:\n    matchLabels:\n      env: dev\n  egress:\n    - toEntities:\n      - host\n";
    assert_eq!(read(host).rules[0].egress.as_deref().unwrap()[0].entities, ["host"]);
    for e in ENTITIES {
        assert_eq!(peer("egress", &format!("{{toEntities: [{e}]}}")).entities, [*e]);
    }

    // examples/policies/kubernetes/namespace/isolate-namespaces.yaml (kubernetes.rst): an
    // empty `matchLabels` block selects everything.
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"isolate-ns1\"\n  namespace: ns1\nspec:\n  endpointSelector:\n    matchLabels:\n      {}\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        {}\n";
    let rule = &read(text).rules[0];
    assert_eq!(rule.endpoint_selector, Some(LabelSelector::default()));
    assert_eq!(rule.ingress.as_deref().unwrap()[0].endpoints, Some(vec![LabelSelector::default()]));

    // examples/policies/kubernetes/namespace/namespace-policy.yaml (kubernetes.rst)
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"k8s-expose-across-namespace\"\n  namespace: ns1\nspec:\n  endpointSelector:\n    matchLabels:\n      name: leia\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        k8s:io.kubernetes.pod.namespace: ns2\n        name: luke\n";
    let from = read(text).rules[0].ingress.as_deref().unwrap()[0].endpoints.clone();
    assert_eq!(from, Some(vec![labels(&[("k8s:io.kubernetes.pod.namespace", "ns2"), ("name", "luke")])]));
}

#[test]
fn reads_the_default_deny_and_dns_example() {
    // Documentation/security/policy/intro.rst ("Endpoint default policy", inline example)
    let text = r#"apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata:
  name: intercept-all-dns
spec:
  endpointSelector:
    matchExpressions:
      - key: "io.kubernetes.pod.namespace"
        operator: "NotIn"
        values:
        - "kube-system"
      - key: "k8s-app"
        operator: "NotIn"
        values:
        - kube-dns
  enableDefaultDeny:
    egress: false
    ingress: false
  egress:
    - toEndpoints:
        - matchLabels:
            io.kubernetes.pod.namespace: kube-system
            k8s-app: kube-dns
      toPorts:
        - ports:
          - port: "53"
            protocol: TCP
          - port: "53"
            protocol: UDP
          rules:
            dns:
              - matchPattern: "*"
"#;
    let rule = &read(text).rules[0];
    let not_in = |key: &str, value: &str| LabelRequirement {
        key: key.to_string(),
        operator: SelectorOperator::NotIn,
        values: vec![value.to_string()],
    };
    let selector = rule.endpoint_selector.clone().unwrap();
    assert_eq!(selector.match_expressions, [not_in("io.kubernetes.pod.namespace", "kube-system"), not_in("k8s-app", "kube-dns")]);
    assert_eq!((rule.default_deny_ingress, rule.default_deny_egress), (Some(false), Some(false)));
    let ports = &rule.egress.as_deref().unwrap()[0].ports[0];
    assert_eq!(ports.ports, [tcp(53), CiliumPort { protocol: CiliumProtocol::Udp, ..tcp(53) }]);
    assert_eq!(ports.l7, ["dns"]);
}

#[test]
fn reads_the_l7_fqdn_and_sni_examples() {
    // examples/policies/l7/http/simple/l7.yaml (layer7.rst)
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"rule1\"\nspec:\n  description: \"Allow HTTP GET /public from env=prod to app=service\"\n  endpointSelector:\n    matchLabels:\n      app: service\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        env: prod\n    toPorts:\n    - ports:\n      - port: \"80\"\n        protocol: TCP\n      rules:\n        http:\n        - method: \"GET\"\n          path: \"/public\"\n";
    let rule = read(text).rules.remove(0).ingress.unwrap().remove(0);
    assert_eq!(rule.ports, [CiliumPortRule { ports: vec![tcp(80)], l7: vec!["http".into()] }]);

    // examples/policies/l7/kafka/kafka.yaml (layer7.rst "Kafka"); its top-level
    // `description` is outside `spec` and plays no part.
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\ndescription: \"enable empire-hq to produce to empire-announce and deathstar-plans\"\nmetadata:\n  name: \"rule1\"\nspec:\n  endpointSelector:\n    matchLabels:\n      app: kafka\n  ingress:\n  - fromEndpoints:\n    - matchLabels:\n        app: empire-hq\n    toPorts:\n    - ports:\n      - port: \"9092\"\n        protocol: TCP\n      rules:\n        kafka:\n        - apiKey: \"apiversions\"\n        - apiKey: \"metadata\"\n        - apiKey: \"produce\"\n          topic: \"deathstar-plans\"\n        - apiKey: \"produce\"\n          topic: \"empire-announce\"\n";
    assert_eq!(read(text).rules[0].ingress.as_deref().unwrap()[0].ports[0].l7, ["kafka"]);

    // examples/policies/l3/fqdn/fqdn.yaml (layer3.rst "DNS based")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"to-fqdn\"\nspec:\n  endpointSelector:\n    matchLabels:\n      app: test-app\n  egress:\n    - toEndpoints:\n      - matchLabels:\n          \"k8s:io.kubernetes.pod.namespace\": kube-system\n          \"k8s:k8s-app\": kube-dns\n      toPorts:\n        - ports:\n           - port: \"53\"\n             protocol: ANY\n          rules:\n            dns:\n              - matchPattern: \"*\"\n    - toFQDNs:\n        - matchName: \"my-remote-service.com\"\n";
    let egress = read(text).rules.remove(0).egress.unwrap();
    assert_eq!(egress[0].ports[0].ports, [CiliumPort { protocol: CiliumProtocol::Any, ..tcp(53) }]);
    assert_eq!(egress[0].ports[0].l7, ["dns"]);
    assert_eq!((egress[1].fqdns.as_slice(), egress[1].endpoints.as_ref()), (["my-remote-service.com".to_string()].as_slice(), None));

    // examples/policies/l4/l4_sni.yaml (layer4.rst "Limit ingress/egress ports with SNI")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"l4-sni-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      app: myService\n  egress:\n  - toPorts:\n    - ports:\n      - port: \"443\"\n        protocol: TCP\n      serverNames:\n      - one.one.one.one\n";
    assert_eq!(read(text).rules[0].egress.as_deref().unwrap()[0].ports[0].l7, ["serverNames"]);
}

#[test]
fn reads_the_icmp_nodes_service_and_host_examples() {
    // examples/policies/l4/icmp.yaml (layer4.rst "Limit ICMP/ICMPv6 types")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"icmp-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      app: myService\n  egress:\n  - icmps:\n    - fields:\n      - type: 8\n        family: IPv4\n      - type: EchoRequest\n        family: IPv6\n";
    let rule = read(text).rules.remove(0).egress.unwrap().remove(0);
    assert_eq!(rule.icmps, [CiliumIcmp { ipv6: false, icmp_type: Some(8) }, CiliumIcmp { ipv6: true, icmp_type: None }]);
    assert!(rule.ports.is_empty());

    // examples/policies/l3/entities/from_nodes.yaml (layer3.rst "Nodes"; the file spells
    // `apiVersion` in lower case, fixed here)
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"to-dev-from-worker-nodes\"\nspec:\n  endpointSelector:\n    matchLabels:\n      env: dev\n  ingress:\n    - fromNodes:\n      - matchLabels:\n          role: worker\n";
    let rule = read(text).rules.remove(0).ingress.unwrap().remove(0);
    assert_eq!((rule.unevaluated.as_slice(), rule.endpoints), (["fromNodes".to_string()].as_slice(), None));

    // examples/policies/l3/service/service.yaml (layer3.rst "Services based")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"service-rule\"\nspec:\n  endpointSelector:\n    matchLabels:\n      id: app2\n  egress:\n  - toServices:\n    - k8sService:\n        serviceName: myservice\n        namespace: default\n";
    assert_eq!(read(text).rules[0].egress.as_deref().unwrap()[0].unevaluated, ["toServices"]);

    // examples/policies/host/demo-host-policy.yaml (Documentation/security/policy/host.rst)
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumClusterwideNetworkPolicy\nmetadata:\n  name: \"demo-host-policy\"\nspec:\n  description: \"\"\n  nodeSelector:\n    matchLabels:\n      node-access: ssh\n  ingress:\n  - fromEntities:\n    - cluster\n  - toPorts:\n    - ports:\n      - port: \"22\"\n        protocol: TCP\n  - icmps:\n    - fields:\n      - type: EchoRequest\n        family: IPv4\n";
    let rule = read(text).rules.remove(0);
    assert_eq!((rule.endpoint_selector, rule.node_selector), (None, Some(labels(&[("node-access", "ssh")]))));
    let ingress = rule.ingress.unwrap();
    assert_eq!(ingress[0].entities, ["cluster"]);
    assert_eq!(ingress[1].ports[0].ports, [tcp(22)]);
    assert_eq!(ingress[2].icmps, [CiliumIcmp { ipv6: false, icmp_type: Some(8) }]);
}

#[test]
fn reads_the_requires_examples_as_specs_lists() {
    // examples/policies/l3/requires/requires.yaml and endpoints.yaml (layer3.rst
    // "Additional Label Requirements")
    let text = "apiVersion: \"cilium.io/v2\"\nkind: CiliumNetworkPolicy\nmetadata:\n  name: \"requires-rule\"\nspecs:\n  - description: \"For endpoints with env=prod, only allow if source also has label env=prod\"\n    endpointSelector:\n      matchLabels:\n        env: prod\n    ingress:\n    - fromRequires:\n      - matchLabels:\n          env: prod\n";
    let p = read(text);
    assert_eq!(p.rules.len(), 1);
    let rule = &p.rules[0].ingress.as_deref().unwrap()[0];
    assert_eq!((rule.requires.as_slice(), &rule.endpoints), ([labels(&[("env", "prod")])].as_slice(), &None));
    assert_eq!(p.rules[0].origin.span().map(|s| (s.line, s.column)), Some((6, 5)));
}

#[test]
fn reads_the_cidr_group_doc_example() {
    // Documentation/network/kubernetes/ciliumcidrgroup.rst
    let group = "apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata:\n  name: vpn\nspec:\n  externalCIDRs:\n    - \"10.48.0.0/24\"\n    - \"10.16.0.0/24\"\n";
    let g = cidr_group(&object(group).node).unwrap();
    assert_eq!(g.name, "vpn");
    assert_eq!(g.cidrs, ["10.48.0.0/24".parse::<IpNet>().unwrap(), "10.16.0.0/24".parse().unwrap()]);
    assert_eq!(g.origin.span().map(|s| s.line), Some(1));
    let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: from-vpn-example\nspec:\n  endpointSelector: {}\n  ingress:\n  - fromCIDRSet:\n    - cidrGroupRef: vpn\n";
    let cidrs = read(text).rules.remove(0).ingress.unwrap().remove(0).cidrs;
    assert_eq!(cidrs, [CidrRule { cidr: None, group: Some("vpn".into()), except: Vec::new() }]);
    // `cilium.io/v2` spells it the same; an empty list is allowed (MinItems=0).
    let empty = "apiVersion: cilium.io/v2\nkind: CiliumCIDRGroup\nmetadata: {name: none}\nspec: {externalCIDRs: []}\n";
    assert!(cidr_group(&object(empty).node).unwrap().cidrs.is_empty());
}

#[test]
fn reads_spec_then_specs() {
    let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  endpointSelector: {matchLabels: {app: a}}\n  ingress: [{}]\nspecs:\n- endpointSelector: {matchLabels: {app: b}}\n  egress: [{}]\n- endpointSelector: {matchLabels: {app: c}}\n  egressDeny: [{toEntities: [world]}]\n";
    let p = read(text);
    let selected: Vec<_> = p.rules.iter().map(|r| r.endpoint_selector.clone().unwrap()).collect();
    assert_eq!(selected, [labels(&[("app", "a")]), labels(&[("app", "b")]), labels(&[("app", "c")])]);
    assert_eq!(p.rules.iter().map(|r| r.origin.span().map(|s| s.line)).collect::<Vec<_>>(), [Some(5), Some(8), Some(10)]);
    let only_specs =
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspecs: [{endpointSelector: {}, ingress: []}]\n";
    assert_eq!(read(only_specs).rules.len(), 1);
}

#[test]
fn sections_are_absent_or_present() {
    let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n  ingress: []\n  egress: null\n  ingressDeny: [{}, null]\n  enableDefaultDeny: {ingress: true}\n";
    let rule = read(text).rules.remove(0);
    assert_eq!(rule.ingress, Some(Vec::new()), "an empty list is present");
    assert_eq!((rule.egress, rule.egress_deny), (None, None), "`null` is absent");
    let deny = rule.ingress_deny.unwrap();
    assert_eq!(deny.len(), 2);
    for entry in &deny {
        // `{}` and `null` are the empty rule: no peer and no port, so it matches nothing.
        assert!(entry.endpoints.is_none() && entry.cidrs.is_empty() && entry.entities.is_empty() && entry.ports.is_empty());
    }
    assert_eq!((rule.default_deny_ingress, rule.default_deny_egress), (Some(true), None));
}

#[test]
fn reads_every_ingress_peer_field() {
    let p = |rule: &str| peer("ingress", rule);
    assert_eq!(p("{fromEndpoints: [{matchLabels: {a: b}}, {}]}").endpoints, Some(vec![labels(&[("a", "b")]), LabelSelector::default()]));
    assert_eq!(p("{fromEndpoints: [], toPorts: [{ports: [{port: '80'}]}]}").endpoints, None, "an empty list is no peer field");
    assert_eq!(p("{fromRequires: [{matchLabels: {team: a}}]}").requires, [labels(&[("team", "a")])]);
    let bare = p("{fromCIDR: [10.3.9.1, 'fd00::1', 10.0.0.1/8]}").cidrs;
    assert_eq!(bare, [cidr_rule("10.3.9.1/32"), cidr_rule("fd00::1/128"), cidr_rule("10.0.0.0/8")]);
    let sets = p(
        "{fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}, {cidrGroupRef: vpn}, {cidrGroupSelector: {matchLabels: {role: vpn}}}]}",
    );
    let expected = [
        CidrRule { except: vec!["10.96.0.0/12".parse().unwrap()], ..cidr_rule("10.0.0.0/8") },
        CidrRule { cidr: None, group: Some("vpn".into()), except: Vec::new() },
    ];
    assert_eq!((sets.cidrs.as_slice(), sets.unevaluated.as_slice()), (expected.as_slice(), ["cidrGroupSelector".to_string()].as_slice()));
    assert_eq!(p("{fromEntities: [world, cluster]}").entities, ["world", "cluster"]);
    assert_eq!(p("{fromGroups: [{aws: {securityGroupsIds: [sg-1]}}]}").unevaluated, ["fromGroups"]);
    assert_eq!(p("{fromNodes: [{matchLabels: {role: worker}}]}").unevaluated, ["fromNodes"]);
    assert_eq!(p("{icmps: [{fields: [{type: 8, family: IPv4}]}]}").icmps.len(), 1);
    let ports = p("{toPorts: [{ports: [{port: 80, protocol: TCP}, {port: '8080', endPort: 8090}]}, {}]}").ports;
    let range = CiliumPort { port: CiliumPortNumber::Number(8080), end_port: Some(8090), protocol: CiliumProtocol::Any };
    assert_eq!(ports, [CiliumPortRule { ports: vec![tcp(80), range], l7: Vec::new() }, CiliumPortRule::default()]);
    assert_eq!(p("{toPorts: [{ports: [{port: '80', protocol: TCP}]}], authentication: {mode: required}}").ports[0].ports, [tcp(80)]);
}

#[test]
fn reads_every_egress_peer_field() {
    let p = |rule: &str| peer("egress", rule);
    assert_eq!(p("{toEndpoints: [{matchLabels: {a: b}}]}").endpoints, Some(vec![labels(&[("a", "b")])]));
    assert_eq!(p("{toRequires: [{matchLabels: {team: a}}]}").requires, [labels(&[("team", "a")])]);
    assert_eq!(p("{toCIDR: [192.0.2.0/24]}").cidrs, [cidr_rule("192.0.2.0/24")]);
    assert_eq!(
        p("{toCIDRSet: [{cidr: '2001:db8::/32', except: ['2001:db8:1::/48']}]}").cidrs[0].except,
        ["2001:db8:1::/48".parse::<IpNet>().unwrap()]
    );
    assert_eq!(p("{toEntities: [kube-apiserver]}").entities, ["kube-apiserver"]);
    assert_eq!(p("{toServices: [{k8sServiceSelector: {selector: {matchLabels: {a: b}}}}]}").unevaluated, ["toServices"]);
    assert_eq!(p("{toGroups: [{aws: {securityGroupsIds: [sg-1]}}]}").unevaluated, ["toGroups"]);
    assert_eq!(p("{toNodes: [{}]}").unevaluated, ["toNodes"]);
    assert_eq!(p("{toFQDNs: [{matchName: api.example.com}, {matchPattern: '*.example.com'}]}").fqdns, ["api.example.com", "*.example.com"]);
    assert_eq!(
        p("{icmps: [{fields: [{type: EchoRequest}, {type: TimeExceeded}]}]}").icmps.iter().map(|i| i.icmp_type).collect::<Vec<_>>(),
        [Some(8), Some(11)]
    );
    // Deny sections take the same peers.
    let deny = peer("egressDeny", "{toCIDRSet: [{cidrGroupRef: blocked}], toPorts: [{ports: [{port: '22', protocol: TCP}]}]}");
    assert_eq!((deny.cidrs[0].group.as_deref(), deny.ports[0].ports.as_slice()), (Some("blocked"), [tcp(22)].as_slice()));
}

#[test]
fn reads_ports_as_cilium_parses_them() {
    let ports = |list: &str| peer("egress", &format!("{{toPorts: [{{ports: {list}}}]}}")).ports.remove(0).ports;
    let named = |name: &str| CiliumPort { port: CiliumPortNumber::Named(name.into()), end_port: None, protocol: CiliumProtocol::Any };
    // Names are IANA service names, compared lower-cased; `endPort` is ignored on them.
    assert_eq!(ports("[{port: HTTP-Alt, endPort: 90}]"), [named("http-alt")]);
    assert_eq!(ports("[{port: '0x50'}]"), [named("0x50")], "a letter makes it a name");
    assert_eq!(ports("[{port: '0'}]")[0].port, CiliumPortNumber::Number(0));
    assert_eq!(ports("[{port: '010'}]")[0].port, CiliumPortNumber::Number(8), "ParseUint with base 0 reads octal");
    assert_eq!(ports("[{port: '80', endPort: 0}]")[0].end_port, None, "endPort 0 is unset");
    assert_eq!(ports("[{port: '80', endPort: 80}]")[0].end_port, Some(80));
    let protocols =
        ports("[{port: '1', protocol: UDP}, {port: '1', protocol: SCTP}, {port: '1', protocol: ANY}, {port: '1', protocol: ''}]");
    let protocols: Vec<_> = protocols.into_iter().map(|p| p.protocol).collect();
    assert_eq!(protocols, [CiliumProtocol::Udp, CiliumProtocol::Sctp, CiliumProtocol::Any, CiliumProtocol::Any]);
}

#[test]
fn records_l7_rule_kinds() {
    let l7 =
        |rules: &str| peer("egress", &format!("{{toPorts: [{{ports: [{{port: '80', protocol: TCP}}], {rules}}}]}}")).ports.remove(0).l7;
    assert_eq!(l7("rules: {http: [{method: GET}]}"), ["http"]);
    assert_eq!(l7("rules: {kafka: [{topic: t}]}"), ["kafka"]);
    assert_eq!(l7("rules: {l7proto: envoy.filters.network.r2d2, l7: [{cmd: READ}]}"), ["l7proto"]);
    assert_eq!(l7("rules: {http: []}"), Vec::<String>::new(), "an empty list is no L7 rule");
    assert_eq!(l7("rules: {http: [{}]}, serverNames: [a.com], terminatingTLS: {secret: {name: s}}"), ["http", "serverNames"]);
    assert_eq!(l7("listener: {name: l, envoyConfig: {name: c}}"), Vec::<String>::new());
    let dns = peer("egress", "{toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchName: a.com}]}}]}");
    assert_eq!(dns.ports[0].l7, ["dns"]);
}

#[test]
fn malformed_peer_rules_are_located_errors() {
    let cases: &[(&str, &str, (u32, u32), &str)] = &[
        (
            "ingress",
            "{fromEntities: [wrld]}",
            (7, 21),
            "unknown entity `wrld` in `fromEntities` (did you mean `world`? expected one of all, world,",
        ),
        ("egress", "{toEntities: [World]}", (7, 19), "unknown entity `World`"),
        (
            "ingress",
            "{fromEndpoints: [{matchLabels: {a: b}}], fromCIDR: [10.0.0.0/8]}",
            (7, 56),
            "`fromCIDR` cannot be combined with `fromEndpoints`",
        ),
        ("egress", "{toFQDNs: [{matchName: a.com}], toEntities: [world]}", (7, 49), "`toEntities` cannot be combined with `toFQDNs`"),
        ("ingress", "{toEndpoints: [{}]}", (7, 19), "`toEndpoints` is an egress field; an ingress rule takes `fromEndpoints`"),
        ("egress", "{fromEntities: [world]}", (7, 20), "`fromEntities` is an ingress field; an egress rule takes `toEntities`"),
        ("ingress", "{toFQDNs: [{matchName: a.com}]}", (7, 15), "`toFQDNs` has no ingress counterpart"),
        ("egress", "{toPorts: [{ports: [{port: \"80\", endPort: 79, protocol: TCP}]}]}", (7, 47), "`endPort` 79 is lower than `port` 80"),
        (
            "egress",
            "{toPorts: [{ports: [{port: \"80\", endPort: \"90\"}]}]}",
            (7, 47),
            "`endPort` must be a port number 0-65535, found the string \"90\"",
        ),
        ("egress", "{toPorts: [{ports: [{port: \"80\", protocol: tcp}]}]}", (7, 48), "`protocol` `tcp` is spelled `TCP`"),
        (
            "egress",
            "{toPorts: [{ports: [{port: \"80\", protocol: ICMP}]}]}",
            (7, 48),
            "unknown `protocol` `ICMP` (expected TCP, UDP, SCTP or ANY)",
        ),
        ("egress", "{toPorts: [{ports: [{port: \"99999\"}]}]}", (7, 32), "`port` must be a port number 0-65535 or a port name"),
        ("egress", "{toPorts: [{ports: [{port: web_port}]}]}", (7, 32), "found `web_port`"),
        ("egress", "{toPorts: [{ports: [{port: \"09\"}]}]}", (7, 32), "reads as octal"),
        ("egress", "{toPorts: [{ports: [{protocol: TCP}]}]}", (7, 25), "a `ports` entry needs `port`"),
        ("egressDeny", "{toFQDNs: [{matchName: a.com}]}", (7, 15), "`toFQDNs` is not allowed in `egressDeny` rules, only in `egress`"),
        (
            "ingressDeny",
            "{toPorts: [{ports: [{port: \"80\", protocol: TCP}], rules: {http: [{}]}}]}",
            (7, 62),
            "`rules` is not allowed in `ingressDeny` rules",
        ),
        (
            "ingress",
            "{toPorts: [{ports: [{port: \"53\", protocol: UDP}], rules: {dns: [{matchPattern: \"*\"}]}}]}",
            (7, 62),
            "`dns` rules are not allowed on ingress",
        ),
        ("egress", "{toPorts: [{ports: [{port: \"80\"}], rules: {http: [{}]}}]}", (7, 25), "apply to TCP only"),
        ("egress", "{toPorts: [{ports: [{port: \"0\", protocol: TCP}], rules: {http: [{}]}}]}", (7, 25), "cannot be used with port 0"),
        ("egress", "{toPorts: [{rules: {dns: [{matchPattern: \"*\"}]}}]}", (7, 24), "need the DNS port listed in `ports`"),
        (
            "egress",
            "{toPorts: [{ports: [{port: \"53\", endPort: 54, protocol: UDP}], rules: {dns: [{matchPattern: \"*\"}]}}]}",
            (7, 25),
            "do not support port ranges",
        ),
        (
            "egress",
            "{toPorts: [{ports: [{port: \"80\", protocol: TCP}], rules: {http: [{}], kafka: [{}]}}]}",
            (7, 82),
            "one kind of L7 rule, found `http` and `kafka`",
        ),
        ("egress", "{toPorts: [{ports: [{port: \"80\", protocol: TCP}], rules: {l7: [{}]}}]}", (7, 67), "`l7` rules need `l7proto`"),
        (
            "egress",
            "{toPorts: [{ports: [{port: \"443\", protocol: TCP}], serverNames: [a.com], rules: {http: [{}]}}]}",
            (7, 69),
            "needs `terminatingTLS`",
        ),
        ("egress", "{toPorts: [{ports: [{port: \"443\", protocol: TCP}], serverNames: ['']}]}", (7, 70), "not empty"),
        (
            "ingress",
            "{toPorts: [{ports: [{port: \"80\", protocol: TCP}], listener: {name: l, envoyConfig: {name: c}}}]}",
            (7, 65),
            "`listener` is only allowed in egress rules",
        ),
        ("egress", "{toFQDNs: [{matchName: a.com, matchPattern: \"*.a.com\"}]}", (7, 16), "exactly one of `matchName` and `matchPattern`"),
        ("egress", "{toFQDNs: [{matchPattern: \"a.com/x\"}]}", (7, 31), "has characters a DNS name cannot have"),
        (
            "egress",
            "{toCIDRSet: [{cidr: 10.0.0.0/8, except: [192.168.0.0/16]}]}",
            (7, 46),
            "`except` entry `192.168.0.0/16` is not inside `cidr` 10.0.0.0/8",
        ),
        ("egress", "{toCIDRSet: [{cidr: 10.0.0.1}]}", (7, 25), "must be a prefix such as 10.0.0.1/32"),
        (
            "egress",
            "{toCIDRSet: [{cidr: 10.0.0.0/8, cidrGroupRef: vpn}]}",
            (7, 18),
            "exactly one of `cidr`, `cidrGroupRef` and `cidrGroupSelector`",
        ),
        ("egress", "{toCIDRSet: [{cidrGroupRef: VPN}]}", (7, 33), "must name a CiliumCIDRGroup"),
        ("egress", "{toCIDR: [10.0.0.0/33]}", (7, 15), "must be a CIDR"),
        (
            "egress",
            "{toServices: [{k8sService: {serviceName: s, namespace: d}}], toPorts: [{ports: [{port: \"80\"}]}]}",
            (7, 75),
            "cannot be combined with `toServices`",
        ),
        ("egress", "{icmps: [{fields: [{type: 8, family: IPv5}]}]}", (7, 42), "unknown ICMP `family` `IPv5`"),
        ("egress", "{icmps: [{fields: [{type: Ping}]}]}", (7, 31), "unknown ICMP type `Ping`"),
        ("egress", "{icmps: [{fields: [{type: 300}]}]}", (7, 31), "out of range (0-255)"),
        ("egress", "{icmps: [{fields: [{type: 8}]}], toPorts: [{}]}", (7, 13), "`icmps` cannot be combined with `toPorts`"),
        (
            "egress",
            "{toEndpoints: [{matchExpressions: [{key: app, operator: Equals, values: [a]}]}]}",
            (7, 61),
            "unknown operator `Equals`",
        ),
        ("egress", "{toEndpoints: [app=web]}", (7, 20), "entries must be label selectors"),
        ("egress", "{authentication: {mode: mutual}}", (7, 29), "unknown authentication `mode` `mutual`"),
        ("egress", "toPorts", (7, 5), "`egress` entries must be mappings, found a string"),
    ];
    for (section, rule, at, needle) in cases {
        let (line, column, message) = policy_error(&with_rule(section, rule));
        assert!(message.contains(needle), "{rule}: {message}");
        assert_eq!((line, column), *at, "{rule}: {message}");
    }
}

#[test]
fn malformed_rules_and_policies_are_located_errors() {
    let cnp = |spec: &str| format!("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: p}}\n{spec}\n");
    let ccnp = |spec: &str| format!("apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {{name: p}}\n{spec}\n");
    let cases: &[(String, (u32, u32), &str)] = &[
        (cnp("spec: {ingress: [{}]}"), (4, 7), "needs `endpointSelector` (pods) or `nodeSelector` (nodes)"),
        (ccnp("spec: {endpointSelector: {}, nodeSelector: {}, ingress: [{}]}"), (4, 44), "sets both `endpointSelector` and `nodeSelector`"),
        (cnp("spec: {nodeSelector: {}, ingress: [{}]}"), (4, 22), "only allowed in a CiliumClusterwideNetworkPolicy"),
        (cnp("spec: {endpointSelector: {}}"), (4, 7), "at least one of `ingress`, `ingressDeny`, `egress` and `egressDeny`"),
        (cnp("spec: {endpointSelector: {}, ingress: {fromEntities: [world]}}"), (4, 39), "`ingress` must be a list"),
        (cnp("spec: {endpointSelector: {}, ingress: [{}], enableDefaultDeny: {ingress: maybe}}"), (4, 74), "true or false"),
        (cnp("spec: {endpointSelector: [a], ingress: [{}]}"), (4, 26), "must be a mapping"),
        (cnp("specs: [{endpointSelector: {}, egress: [{}]}, deny-all]"), (4, 47), "`specs` entries must be rules"),
        (cnp("specs: {endpointSelector: {}}"), (4, 8), "`specs` must be a list of rules"),
        (cnp("status: {}"), (1, 1), "needs `spec` (one rule) or `specs`"),
        (
            ccnp("spec: {nodeSelector: {}, ingress: [{toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{}]}}]}]}"),
            (4, 93),
            "does not support `http` rules on ingress",
        ),
        (
            ccnp("spec: {nodeSelector: {}, egress: [{toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {kafka: [{}]}}]}]}"),
            (4, 92),
            "does not support `kafka` rules on egress",
        ),
        ("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nspec: {}\n".to_string(), (1, 1), "no `metadata`"),
    ];
    for (text, at, needle) in cases {
        let (line, column, message) = policy_error(text);
        assert!(message.contains(needle), "{text}: {message}");
        assert_eq!((line, column), *at, "{text}: {message}");
    }
    // A host policy may keep `dns` rules on egress.
    let dns = ccnp(
        "spec: {nodeSelector: {}, egress: [{toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]}]}",
    );
    assert!(read_policy(&dns).is_ok());
}

#[test]
fn malformed_cidr_groups_are_located_errors() {
    let group = |spec: &str| {
        let text = format!("apiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: {{name: g}}\n{spec}\n");
        cidr_group(&object(&text).node).map(|_| ()).map_err(|e| (e.line, e.column, e.message))
    };
    let (line, column, message) = group("spec: {}").unwrap_err();
    assert_eq!((line, column), (4, 7), "{message}");
    assert!(message.contains("needs `externalCIDRs`"), "{message}");
    let (line, column, message) = group("spec: {externalCIDRs: 10.0.0.0/8}").unwrap_err();
    assert_eq!((line, column), (4, 23), "{message}");
    assert!(message.contains("must be a list of CIDRs"), "{message}");
    let (line, column, message) = group("spec: {externalCIDRs: [10.0.0.0/8, 300.0.0.0/8]}").unwrap_err();
    assert_eq!((line, column), (4, 36), "{message}");
    assert!(message.contains("must be a CIDR"), "{message}");
    let (line, column, message) = group("kind2: x").unwrap_err();
    assert_eq!((line, column), (1, 1), "{message}");
    assert!(message.contains("needs `spec.externalCIDRs`"), "{message}");
}

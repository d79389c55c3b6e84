//! Tests of the Calico policy reader on inline manifests, read into a located tree the
//! way the manifest reader does and handed to the lowering functions directly.

use super::*;
use crate::k8s::raw;
use netdoctor_model::calico::SelectorExpr;
use std::path::Path;

/// The first object of a manifest, with its `kind` and `apiVersion`.
fn object(text: &str) -> raw::RawObject {
    let read = raw::read_text(text, Path::new("c.yaml")).unwrap();
    read.objects.objects.into_iter().next().expect("no object in the manifest")
}

fn read_policy(text: &str) -> Result<CalicoPolicy> {
    let o = object(text);
    let kind = if o.kind == "GlobalNetworkPolicy" { CalicoKind::GlobalNetworkPolicy } else { CalicoKind::NetworkPolicy };
    network_policy(&o.node, kind, &o.api_version)
}

fn policy(text: &str) -> CalicoPolicy {
    read_policy(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The error for a manifest: line, column and message.
fn policy_error(text: &str) -> (u32, u32, String) {
    match read_policy(text) {
        Ok(p) => panic!("no error, read {p:?}"),
        Err(e) => (e.line, e.column, e.message),
    }
}

fn eq(key: &str, value: &str) -> SelectorExpr {
    SelectorExpr::Equals(key.to_string(), value.to_string())
}

/// A NetworkPolicy with one ingress rule written in `rule` (indented for `- `).
fn with_ingress(rule: &str) -> String {
    format!("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p}}\nspec:\n  ingress:\n  - {rule}\n")
}

// tigera/docs calico/reference/resources/networkpolicy.mdx, "Sample YAML".
const DOC_NETWORK_POLICY: &str = r#"apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-tcp-6379
  namespace: production
spec:
  selector: role == 'database'
  types:
    - Ingress
    - Egress
  ingress:
    - action: Allow
      metadata:
        annotations:
          from: frontend
          to: database
      protocol: TCP
      source:
        selector: role == 'frontend'
      destination:
        ports:
          - 6379
  egress:
    - action: Allow
"#;

#[test]
fn reads_the_network_policy_doc_example() {
    let p = policy(DOC_NETWORK_POLICY);
    assert_eq!(p.kind, CalicoKind::NetworkPolicy);
    assert_eq!(p.api_version, "projectcalico.org/v3");
    assert_eq!((p.namespace.as_deref(), p.name.as_str()), (Some("production"), "allow-tcp-6379"));
    assert_eq!((p.tier.as_str(), p.order), ("default", None));
    assert_eq!(p.selector, eq("role", "database"));
    assert_eq!(p.types, [PolicyType::Ingress, PolicyType::Egress]);
    assert_eq!(p.ingress.len(), 1);
    let rule = &p.ingress[0];
    assert_eq!((rule.action, rule.protocol), (CalicoAction::Allow, Some(CalicoProtocol::Tcp)));
    assert_eq!(rule.source.selector, Some(eq("role", "frontend")));
    assert_eq!(rule.destination.ports, [CalicoPort::Range(6379, 6379)]);
    assert!(rule.unevaluated.is_empty());
    assert_eq!(rule.origin.span().map(|s| (s.line, s.column)), Some((12, 7)));
    assert_eq!(p.egress.len(), 1);
    assert!(p.egress[0].source.is_empty() && p.egress[0].destination.is_empty());
    assert!(p.unevaluated.is_empty());
    assert_eq!(p.origin.span().map(|s| s.line), Some(1));
}

#[test]
fn reads_the_global_network_policy_doc_example() {
    // tigera/docs calico/reference/resources/globalnetworkpolicy.mdx, "Sample YAML".
    let text = r#"apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-tcp-6379
spec:
  selector: role == 'database'
  types:
    - Ingress
    - Egress
  ingress:
    - action: Allow
      metadata:
        annotations:
          from: frontend
          to: database
      protocol: TCP
      source:
        selector: role == 'frontend'
      destination:
        ports:
          - 6379
  egress:
    - action: Allow
"#;
    let p = policy(text);
    assert_eq!((p.kind, p.namespace.as_deref()), (CalicoKind::GlobalNetworkPolicy, None));
    assert_eq!(p.selector, eq("role", "database"));
    assert_eq!(p.namespace_selector, None);
    assert_eq!(p.ingress[0].destination.ports, [CalicoPort::Range(6379, 6379)]);
    assert_eq!(p.display_name(), "Calico GlobalNetworkPolicy allow-tcp-6379");
}

#[test]
fn reads_the_tier_doc_example() {
    // tigera/docs calico/reference/resources/tier.mdx, "Sample YAML".
    let text =
        "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: internal-access\nspec:\n  order: 100\n  defaultAction: Deny\n";
    let t = tier(&object(text).node).unwrap();
    assert_eq!((t.name.as_str(), t.order, t.default_action), ("internal-access", Some(100.0), TierDefault::Deny));
    let pass = tier(
        &object("kind: Tier\napiVersion: projectcalico.org/v3\nmetadata: {name: platform}\nspec: {order: 12.5, defaultAction: Pass}\n")
            .node,
    );
    let pass = pass.unwrap();
    assert_eq!((pass.order, pass.default_action), (Some(12.5), TierDefault::Pass));
}

#[test]
fn tier_defaults_to_no_order_and_deny() {
    let t = tier(&object("apiVersion: crd.projectcalico.org/v1\nkind: Tier\nmetadata: {name: last}\n").node).unwrap();
    assert_eq!((t.order, t.default_action), (None, TierDefault::Deny));
    let default = tier(&object("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: default}\nspec: {order: 1000000}\n").node);
    assert_eq!(default.unwrap().order, Some(1_000_000.0));
}

#[test]
fn reads_the_network_set_doc_examples() {
    // tigera/docs calico/reference/resources/networkset.mdx, "Sample YAML".
    let text = r#"apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata:
  name: external-database
  namespace: staging
  labels:
    role: db
spec:
  nets:
    - 198.51.100.0/28
    - 203.0.113.0/24
"#;
    let set = network_set(&object(text).node, false).unwrap();
    assert_eq!((set.namespace.as_deref(), set.name.as_str()), (Some("staging"), "external-database"));
    assert_eq!(set.labels.get("role").map(String::as_str), Some("db"));
    let nets: Vec<String> = set.nets.iter().map(ToString::to_string).collect();
    assert_eq!(nets, ["198.51.100.0/28", "203.0.113.0/24"]);

    // tigera/docs calico/reference/resources/globalnetworkset.mdx, "Sample YAML".
    let text = r#"apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: a-name-for-the-set
  labels:
    role: external-database
spec:
  nets:
    - 198.51.100.0/28
    - 203.0.113.0/24
"#;
    let set = network_set(&object(text).node, true).unwrap();
    assert_eq!((set.namespace, set.name.as_str()), (None, "a-name-for-the-set"));
    assert_eq!(set.labels.get("role").map(String::as_str), Some("external-database"));
    assert_eq!(set.nets.len(), 2);
}

#[test]
fn network_sets_take_addresses_and_default_their_namespace() {
    let text =
        "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s}\nspec: {nets: [10.0.0.1, 10.1.2.3/16, 'fd00::/64']}\n";
    let set = network_set(&object(text).node, false).unwrap();
    assert_eq!(set.namespace.as_deref(), Some("default"));
    let nets: Vec<String> = set.nets.iter().map(ToString::to_string).collect();
    assert_eq!(nets, ["10.0.0.1/32", "10.1.0.0/16", "fd00::/64"]);
}

#[test]
fn policy_defaults() {
    let p = policy("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: deny-all}\n");
    assert_eq!(p.namespace.as_deref(), Some("default"));
    assert_eq!((p.tier.as_str(), p.order), ("default", None));
    assert_eq!(p.selector, SelectorExpr::All);
    assert_eq!((p.namespace_selector.clone(), p.service_account_selector.clone()), (None, None));
    assert_eq!(p.types, [PolicyType::Ingress]);
    let empty = policy("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {selector: '', tier: ''}\n");
    assert_eq!((empty.selector, empty.tier.as_str()), (SelectorExpr::All, "default"));
    let blank = policy("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {selector: '  '}\n");
    assert_eq!(blank.selector, SelectorExpr::All);
}

#[test]
fn types_default_from_the_rules_present() {
    let types =
        |spec: &str| policy(&format!("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p}}\nspec: {spec}\n")).types;
    // The table under "types" in networkpolicy.mdx, and defaultPolicyTypesField.
    assert_eq!(types("{}"), [PolicyType::Ingress]);
    assert_eq!(types("{ingress: [{action: Allow}]}"), [PolicyType::Ingress]);
    assert_eq!(types("{egress: [{action: Allow}]}"), [PolicyType::Egress]);
    assert_eq!(types("{ingress: [{action: Deny}], egress: [{action: Allow}]}"), [PolicyType::Ingress, PolicyType::Egress]);
    assert_eq!(types("{types: [], egress: [{action: Allow}]}"), [PolicyType::Egress]);
    assert_eq!(types("{types: [Egress], ingress: [{action: Allow}]}"), [PolicyType::Egress]);
}

#[test]
fn reads_tier_order_and_policy_selectors() {
    let text = r#"apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: platform.allow-dns}
spec:
  tier: platform
  order: 10.5
  selector: "app in {'web', 'api'} && !has(legacy)"
  namespaceSelector: projectcalico.org/name == 'shop'
  serviceAccountSelector: role == 'frontend'
  applyOnForward: true
  preDNAT: true
  types: [Ingress]
"#;
    let p = policy(text);
    assert_eq!((p.name.as_str(), p.tier.as_str(), p.order), ("platform.allow-dns", "platform", Some(10.5)));
    assert!(matches!(p.selector, SelectorExpr::And(_)), "{:?}", p.selector);
    assert_eq!(p.namespace_selector, Some(eq("projectcalico.org/name", "shop")));
    assert_eq!(p.service_account_selector, Some(eq("role", "frontend")));
    assert_eq!(p.unevaluated, ["applyOnForward", "preDNAT"]);
    let integer = policy("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {order: 100}\n");
    assert_eq!(integer.order, Some(100.0));
    let untracked = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec: {doNotTrack: true, applyOnForward: true}\n";
    assert_eq!(policy(untracked).unevaluated, ["applyOnForward", "doNotTrack"]);
    let off =
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec: {doNotTrack: false, preDNAT: false}\n";
    assert!(policy(off).unevaluated.is_empty());
}

#[test]
fn reads_every_rule_field() {
    let text = r#"apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: p, namespace: shop}
spec:
  ingress:
  - action: Allow
    protocol: TCP
    notProtocol: 17
    ipVersion: 4
    notICMP: {type: 3, code: 1}
    http: {methods: [GET], paths: [{prefix: /api}]}
    metadata: {annotations: {why: test}}
    source:
      nets: [10.0.0.0/8, 192.168.1.7]
      notNets: [10.1.0.0/16]
      selector: app == 'web'
      notSelector: has(quarantined)
      namespaceSelector: global()
      serviceAccounts: {names: [api, worker], selector: tier == 'front'}
      ports: [53, '1000:2000', dns]
      notPorts: ["1500"]
    destination:
      ports: [8080]
  - action: Log
    protocol: ICMP
    icmp: {type: 8}
  - action: Pass
    protocol: ICMPv6
    ipVersion: 6
    icmp: {type: 128, code: 0}
  - action: Deny
    protocol: 132
    source:
      services: {name: frontend, namespace: web}
  egress:
  - action: Allow
    protocol: TCP
    destination:
      services: {name: db}
"#;
    let p = policy(text);
    let [first, log, pass, deny] = &p.ingress[..] else { panic!("{:?}", p.ingress) };
    assert_eq!(
        (first.action, first.protocol, first.not_protocol),
        (CalicoAction::Allow, Some(CalicoProtocol::Tcp), Some(CalicoProtocol::Number(17)))
    );
    assert_eq!(first.ip_version, Some(4));
    assert_eq!(first.not_icmp, Some(IcmpMatch { icmp_type: Some(3), code: Some(1) }));
    assert_eq!(first.icmp, None);
    assert_eq!(first.unevaluated, ["http"]);
    let src = &first.source;
    let nets: Vec<String> = src.nets.iter().map(ToString::to_string).collect();
    assert_eq!(nets, ["10.0.0.0/8", "192.168.1.7/32"]);
    assert_eq!(src.not_nets.iter().map(ToString::to_string).collect::<Vec<_>>(), ["10.1.0.0/16"]);
    assert_eq!(src.selector, Some(eq("app", "web")));
    assert_eq!(src.not_selector, Some(SelectorExpr::Has("quarantined".to_string())));
    assert_eq!(src.namespace_selector, Some(SelectorExpr::Global));
    assert_eq!(src.service_account_names, ["api", "worker"]);
    assert_eq!(src.service_account_selector, Some(eq("tier", "front")));
    assert_eq!(src.ports, [CalicoPort::Range(53, 53), CalicoPort::Range(1000, 2000), CalicoPort::Named("dns".to_string())]);
    assert_eq!(src.not_ports, [CalicoPort::Range(1500, 1500)]);
    assert_eq!(src.service, None);
    assert_eq!(first.destination.ports, [CalicoPort::Range(8080, 8080)]);

    assert_eq!((log.action, log.protocol), (CalicoAction::Log, Some(CalicoProtocol::Icmp)));
    assert_eq!(log.icmp, Some(IcmpMatch { icmp_type: Some(8), code: None }));
    assert_eq!((pass.action, pass.protocol, pass.ip_version), (CalicoAction::Pass, Some(CalicoProtocol::IcmpV6), Some(6)));
    assert_eq!(pass.icmp, Some(IcmpMatch { icmp_type: Some(128), code: Some(0) }));
    assert_eq!((deny.action, deny.protocol), (CalicoAction::Deny, Some(CalicoProtocol::Number(132))));
    assert_eq!(deny.source.service, Some(("frontend".to_string(), Some("web".to_string()))));
    assert_eq!(p.egress[0].destination.service, Some(("db".to_string(), None)));
    assert_eq!(p.types, [PolicyType::Ingress, PolicyType::Egress]);
}

#[test]
fn protocol_names_are_case_sensitive_in_the_api_group_only() {
    let rule = "{action: Allow, protocol: tcp, destination: {ports: [80]}}";
    let (line, column, message) = policy_error(&with_ingress(rule));
    assert_eq!((line, column), (6, 31), "{message}");
    assert!(message.contains("spelled `TCP`"), "{message}");
    // CRD objects skip the API's validation, and Felix lower-cases the name.
    let crd = with_ingress(rule).replace("projectcalico.org/v3", "crd.projectcalico.org/v1");
    let p = policy(&crd);
    assert_eq!((p.api_version.as_str(), p.ingress[0].protocol), ("crd.projectcalico.org/v1", Some(CalicoProtocol::Tcp)));
    assert_eq!(policy(&with_ingress("{action: Allow, protocol: UDPLite}")).ingress[0].protocol, Some(CalicoProtocol::UdpLite));
    assert_eq!(policy(&with_ingress("{action: Allow, protocol: '6'}")).ingress[0].protocol, Some(CalicoProtocol::Number(6)));
}

#[test]
fn a_crd_object_has_the_same_shape() {
    let text = DOC_NETWORK_POLICY.replace("projectcalico.org/v3", "crd.projectcalico.org/v1");
    let (v3, crd) = (policy(DOC_NETWORK_POLICY), policy(&text));
    assert_eq!((crd.ingress, crd.egress, crd.types), (v3.ingress, v3.egress, v3.types));
}

#[test]
fn malformed_values_are_located_errors() {
    let np = |spec: &str| format!("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: p}}\nspec:\n  {spec}\n");
    let gnp = |spec: &str| format!("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: p}}\nspec:\n  {spec}\n");
    let cases: &[(String, (u32, u32), &str)] = &[
        (with_ingress("{action: allow}"), (6, 14), "unknown action `allow`"),
        (with_ingress("{protocol: TCP}"), (6, 5), "needs `action`"),
        (with_ingress("{action: Allow, protocol: HTTP}"), (6, 31), "unknown `protocol` `HTTP`"),
        (with_ingress("{action: Allow, protocol: 0}"), (6, 31), "1-255"),
        (with_ingress("{action: Allow, notProtocol: 256}"), (6, 34), "1-255"),
        (with_ingress("{action: Allow, protocol: TCP, destination: {ports: ['90:80']}}"), (6, 58), "ends before it starts"),
        (with_ingress("{action: Allow, protocol: TCP, destination: {ports: [0]}}"), (6, 58), "1-65535"),
        (with_ingress("{action: Allow, protocol: TCP, destination: {ports: [Web_Port]}}"), (6, 58), "neither a port number"),
        (with_ingress("{action: Allow, destination: {ports: [80]}}"), (6, 42), "needs `protocol: TCP`"),
        (with_ingress("{action: Allow, source: {nets: [10.0.0.0/33]}}"), (6, 37), "must be a CIDR"),
        (with_ingress("{action: Allow, source: {nets: [10.0.0.1/8]}}"), (6, 37), "host bits set; write `10.0.0.0/8`"),
        (with_ingress("{action: Allow, source: {nets: [10.0.0.0/8]}, destination: {nets: ['fd00::/8']}}"), (6, 72), "mix IPv4 and IPv6"),
        (with_ingress("{action: Allow, ipVersion: 6, source: {nets: [10.0.0.0/8]}}"), (6, 51), "not IPv6"),
        (with_ingress("{action: Allow, ipVersion: 5}"), (6, 32), "4 or 6"),
        (with_ingress("{action: Allow, protocol: ICMP, icmp: {code: 1}}"), (6, 50), "needs `icmp.type`"),
        (with_ingress("{action: Allow, protocol: ICMP, icmp: {type: 255}}"), (6, 50), "0-254"),
        (with_ingress("{action: Allow, protocol: TCP, icmp: {type: 8}}"), (6, 42), "needs `protocol: ICMP`"),
        (with_ingress("{action: Allow, protocol: ICMP, ipVersion: 6}"), (6, 31), "IPv4 only"),
        (with_ingress("{action: Deny, http: {methods: [GET]}}"), (6, 26), "only allowed in Allow rules"),
        (with_ingress("{action: Allow, destination: {services: {name: db}}}"), (6, 45), "not allowed in an ingress rule's destination"),
        (
            with_ingress("{action: Allow, source: {services: {name: db}, selector: a == 'b'}}"),
            (6, 62),
            "cannot be combined with `services`",
        ),
        (with_ingress("{action: Allow, source: {selector: global()}}"), (6, 40), "only be used in a rule's `namespaceSelector`"),
        (with_ingress("{action: Allow, source: {namespaceSelector: global() && has(a)}}"), (6, 49), "cannot be combined"),
        (np("order: high"), (5, 10), "must be a number"),
        (np("order: '100'"), (5, 10), "found the string"),
        (np("types: [ingress]"), (5, 11), "unknown policy type `ingress`"),
        (np("types: [Ingress, Ingress]"), (5, 20), "listed twice"),
        (np("tier: Platform"), (5, 9), "not a tier name"),
        (np("namespaceSelector: all()"), (5, 22), "GlobalNetworkPolicy field"),
        (np("preDNAT: false"), (5, 12), "GlobalNetworkPolicy field"),
        (np("ingress: {action: Allow}"), (5, 12), "must be a list"),
        (np("selector: [a]"), (5, 13), "must be a selector string"),
        (gnp("preDNAT: true"), (5, 12), "needs `applyOnForward: true`"),
        (gnp("{preDNAT: true, doNotTrack: true, applyOnForward: true}"), (5, 13), "cannot both be true"),
        (gnp("{preDNAT: true, applyOnForward: true, egress: [{action: Allow}]}"), (5, 13), "ingress only"),
        (gnp("ingress: [{action: Allow, source: {services: {name: db}}}]"), (5, 48), "needs a `namespace`"),
        ("apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nspec: {}\n".to_string(), (1, 1), "no `metadata`"),
    ];
    for (text, at, needle) in cases {
        let (line, column, message) = policy_error(text);
        assert!(message.contains(needle), "{text}: {message}");
        assert_eq!((line, column), *at, "{text}: {message}");
    }
}

#[test]
fn selector_errors_point_at_the_bad_token() {
    // Plain scalar on one line: the column is the scalar's plus the offset.
    let (line, column, message) = policy_error(&with_ingress("{action: Allow, source: {selector: app == web}}"));
    assert_eq!((line, column), (6, 47), "{message}");
    assert!(message.starts_with("`selector`: ") && message.contains("(at character 8 of the selector)"), "{message}");
    // Quoted, no quote before the bad token: one more for the opening quote.
    let text = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: \"app == 'web' &&\"\n";
    let (line, column, message) = policy_error(text);
    // The bad token is the end of the text, after a quote that may have been escaped.
    assert!(message.contains("at character 16"), "{message}");
    assert_eq!((line, column), (5, 13), "a quote before the offset may have been escaped: point at the scalar");
    let text = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: \"has(a) has(b)\"\n";
    let (line, column, message) = policy_error(text);
    assert_eq!((line, column), (5, 13 + 1 + 7), "{message}");
    // Block scalars start at their first content line: a line break inside a selector
    // (an error for Calico too), or a `|-` scalar, keeps that start.
    let text =
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: |\n    has(a)\n    && has(b)\n";
    let (line, column, message) = policy_error(text);
    assert_eq!((line, column), (6, 5), "{message}");
    assert!(message.contains("at character 7"), "{message}");
    let text = "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: |-\n    has(a) has(b)\n";
    assert_eq!(policy_error(text).0, 6);
    assert_eq!(policy_error(text).1, 5);
    // `global()` misplaced is located the same way.
    let (line, column, message) = policy_error(&with_ingress("{action: Allow, source: {selector: has(a) && global()}}"));
    assert_eq!((line, column), (6, 40 + 10), "{message}");
}

#[test]
fn malformed_tiers_and_sets_are_located_errors() {
    let t = |text: &str| tier(&object(text).node).map(|_| ()).map_err(|e| (e.line, e.column, e.message));
    let (line, column, message) =
        t("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\nspec: {defaultAction: deny}\n").unwrap_err();
    assert_eq!((line, column), (4, 23));
    assert!(message.contains("expected Deny or Pass"), "{message}");
    let (line, column, message) =
        t("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a}\nspec: {order: first}\n").unwrap_err();
    assert_eq!((line, column), (4, 15));
    assert!(message.contains("must be a number"), "{message}");
    let (line, column, message) = t("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: a.b}\n").unwrap_err();
    assert_eq!((line, column), (3, 18));
    assert!(message.contains("not a tier name"), "{message}");
    let (line, _, message) =
        t("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: default}\nspec: {order: 100}\n").unwrap_err();
    assert_eq!(line, 4);
    assert!(message.contains("must have order 1000000"), "{message}");

    let set = |text: &str| network_set(&object(text).node, true).map(|_| ()).map_err(|e| (e.line, e.column, e.message));
    let (line, column, message) =
        set("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s}\nspec:\n  nets: [10.0.0.0/8, nowhere]\n")
            .unwrap_err();
    assert_eq!((line, column), (5, 22));
    assert!(message.contains("must be a CIDR"), "{message}");
    let reserved =
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\n  labels: {projectcalico.org/namespace: x}\n";
    let (line, column, message) = set(reserved).unwrap_err();
    assert_eq!((line, column), (5, 41));
    assert!(message.contains("reserves"), "{message}");
}

#[test]
fn reads_a_json_dump_of_the_crd() {
    // `kubectl get networkpolicies.crd.projectcalico.org -o json` keeps the spec as stored.
    let text = r#"{"apiVersion": "crd.projectcalico.org/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "default.allow-web", "namespace": "shop"},
 "spec": {"tier": "default", "order": 100, "selector": "app == 'web'", "types": ["Ingress"],
  "ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, "8000:8100"]}}]}}"#;
    let p = policy(text);
    assert_eq!((p.namespace.as_deref(), p.name.as_str(), p.order), (Some("shop"), "default.allow-web", Some(100.0)));
    assert_eq!(p.selector, eq("app", "web"));
    assert_eq!(p.ingress[0].destination.ports, [CalicoPort::Range(80, 80), CalicoPort::Range(8000, 8100)]);
    let bad = text.replace("app == 'web'", "app = 'web'");
    let (line, column, message) = policy_error(&bad);
    assert_eq!((line, column), (3, 61), "{message}");
    assert!(message.contains("at character 5"), "{message}");
}

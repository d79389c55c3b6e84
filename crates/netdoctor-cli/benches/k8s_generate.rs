//! Generates synthetic Kubernetes clusters for benchmarks and the `generate_cluster`
//! example: labelled namespaces, Deployments with replicas and named ports, and
//! NetworkPolicies of every shape (ingress and egress, pod and namespace selectors in
//! one peer and in two, matchExpressions, ipBlock with except, named ports, endPort,
//! UDP and SCTP, default deny). Deterministic: the same sizes give the same text.

use std::fmt::Write;

const TIERS: [&str; 4] = ["web", "api", "db", "cache"];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];

/// Namespaces used for `deployments` Deployments: about 20 Deployments each.
fn namespace_count(deployments: usize) -> usize {
    (deployments / 20).max(1)
}

/// What to generate; `Options::new` gives what `cluster` makes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub pods: usize,
    /// Deployments, or with `bare_pods` the number of distinct pod templates.
    pub deployments: usize,
    pub policies: usize,
    /// Namespaces the Deployments are spread over (default: one per 20).
    pub namespaces: usize,
    /// Write every pod as a `kind: Pod` of its own instead of Deployments with replicas.
    pub bare_pods: bool,
}

impl Options {
    pub fn new(pods: usize, deployments: usize, policies: usize) -> Options {
        let deployments = deployments.max(1);
        Options { pods, deployments, policies, namespaces: namespace_count(deployments), bare_pods: false }
    }
}

/// A multi-document YAML cluster with `pods` pods spread over `deployments` Deployments
/// (replicas differ by at most one) and `policies` NetworkPolicies.
pub fn cluster(pods: usize, deployments: usize, policies: usize) -> String {
    cluster_with(&Options::new(pods, deployments, policies))
}

/// The cluster `opts` describes.
pub fn cluster_with(opts: &Options) -> String {
    let Options { pods, policies, bare_pods, .. } = *opts;
    let deployments = opts.deployments.max(1);
    let namespaces = opts.namespaces.clamp(1, deployments);
    let mut out = String::with_capacity(deployments * 600 + policies * 700 + if bare_pods { pods * 400 } else { 0 });
    for n in 0..namespaces {
        let _ = write!(
            out,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: t{}, env: {}}}\n---\n",
            n % 10,
            ENVS.get(n % 3).unwrap_or(&"dev")
        );
    }
    if bare_pods {
        // Pod `i` takes the labels and ports template `d` would have had.
        for i in 0..pods {
            let d = i % deployments;
            let _ = write!(
                out,
                "apiVersion: v1
kind: Pod
metadata:
  name: pod{i}
  namespace: ns{ns}
  labels: {{app: app{app}, tier: {tier}, version: v{version}}}
spec:
{containers}---
",
                ns = d % namespaces,
                app = d / 3,
                tier = TIERS.get(d % 4).unwrap_or(&"web"),
                version = d % 3,
                containers = containers(d, "  "),
            );
        }
    }
    for d in 0..deployments {
        if bare_pods {
            break;
        }
        let replicas = pods / deployments + usize::from(d < pods % deployments);
        let tier = TIERS.get(d % 4).unwrap_or(&"web");
        // Three versions per app share the app label, so selectors on `app` pick
        // several label sets and selectors on `version` cut across apps.
        let _ = write!(
            out,
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: app{d}, namespace: ns{ns}}}
spec:
  replicas: {replicas}
  template:
    metadata:
      labels: {{app: app{app}, tier: {tier}, version: v{version}}}
    spec:
{containers}---
",
            ns = d % namespaces,
            app = d / 3,
            version = d % 3,
            containers = containers(d, "      "),
        );
    }
    for p in 0..policies {
        policy(&mut out, p, deployments, namespaces);
    }
    out
}

/// `cluster` with one policy changed: the first policy's allowed port moves, which adds
/// and removes flows for the pods it selects.
pub fn changed_cluster(pods: usize, deployments: usize, policies: usize) -> String {
    changed(&cluster(pods, deployments, policies))
}

/// `text` (a generated cluster) with its first policy's port moved.
pub fn changed(text: &str) -> String {
    // Policy 0 is the first `shape 0` policy; its port is the only `port: http` before
    // any other policy, so replacing the first occurrence changes exactly that policy.
    text.replacen("ports: [{port: http}]", "ports: [{protocol: TCP, port: 7777}]", 1)
}

/// The containers of template `d`, indented by `indent`: an HTTP port that differs per
/// template, metrics, and DNS over UDP, all named.
fn containers(d: usize, indent: &str) -> String {
    format!(
        "{indent}containers:
{indent}- name: main
{indent}  ports:
{indent}  - {{containerPort: {http}, name: http}}
{indent}  - {{containerPort: 9090, name: metrics}}
{indent}  - {{containerPort: 5353, name: dns, protocol: UDP}}
",
        http = 8000 + d % 100
    )
}

/// `text` cut at document separators into chunks of `per_file` objects: the manifest
/// reader caps the YAML nodes of one file, so big clusters go out as several files.
pub fn split(text: &str, per_file: usize) -> Vec<String> {
    let docs: Vec<&str> = text.split("---\n").filter(|d| !d.trim().is_empty()).collect();
    docs.chunks(per_file.max(1)).map(|chunk| chunk.join("---\n")).collect()
}

/// Policy number `p`: its shape is `p % 8`, its target a Deployment spread over all.
fn policy(out: &mut String, p: usize, deployments: usize, namespaces: usize) {
    let d = (p * 7 + p / 8) % deployments;
    let ns = d % namespaces;
    let app = d / 3;
    let tier = TIERS.get((p / 8) % 4).unwrap_or(&"web");
    let other_ns = (ns + 1 + p % 5) % namespaces;
    let (octet, sub) = (p % 250, (p / 250) % 250);
    let _ = write!(out, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: pol{p}, namespace: ns{ns}}}\nspec:\n");
    let spec = match p % 8 {
        // Ingress from one tier of the same namespace, on a named port.
        0 => format!(
            "  podSelector: {{matchLabels: {{app: app{app}}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{tier: {tier}}}}}}}]
    ports: [{{port: http}}]
"
        ),
        // Namespace and pod selector in one peer (both must match).
        1 => format!(
            "  podSelector: {{matchLabels: {{app: app{app}, version: v{v}}}}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {{matchLabels: {{team: t{team}}}}}
      podSelector: {{matchLabels: {{tier: api}}}}
    ports: [{{protocol: TCP, port: 5432}}, {{protocol: SCTP, port: 3868}}]
",
            v = p % 3,
            team = other_ns % 10
        ),
        // Egress by matchExpressions with a port range (endPort).
        2 => format!(
            "  podSelector: {{matchExpressions: [{{key: app, operator: In, values: [app{app}]}}]}}
  policyTypes: [Egress]
  egress:
  - to: [{{podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [db, cache]}}]}}}}]
    ports: [{{protocol: TCP, port: 5432, endPort: 5440}}]
  - ports: [{{protocol: UDP, port: 53}}]
"
        ),
        // Egress to an ipBlock with a hole, and DNS in every namespace.
        3 => format!(
            "  podSelector: {{matchLabels: {{app: app{app}}}}}
  policyTypes: [Egress]
  egress:
  - to: [{{ipBlock: {{cidr: 10.{octet}.0.0/16, except: [10.{octet}.{sub}.0/24]}}}}]
  - to: [{{namespaceSelector: {{}}}}]
    ports: [{{protocol: UDP, port: 53}}, {{protocol: TCP, port: 53}}]
"
        ),
        // Ingress from outside addresses with exceptions.
        4 => format!(
            "  podSelector: {{matchLabels: {{app: app{app}}}}}
  ingress:
  - from: [{{ipBlock: {{cidr: 172.{b}.0.0/16, except: [172.{b}.{sub}.0/24, 172.{b}.255.0/24]}}}}]
    ports: [{{protocol: TCP, port: 443}}]
",
            b = 16 + p % 16
        ),
        // Both directions, NotIn/Exists subjects, namespaces by matchExpressions; egress to
        // one team's namespaces and (empty pod selector) to the policy's own namespace.
        5 => format!(
            "  podSelector:
    matchExpressions:
    - {{key: tier, operator: NotIn, values: [{tier}]}}
    - {{key: version, operator: Exists}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{{namespaceSelector: {{matchExpressions: [{{key: env, operator: In, values: [prod, staging]}}]}}}}]
    ports: [{{port: metrics}}]
  egress:
  - to: [{{namespaceSelector: {{matchLabels: {{team: t{team}}}}}}}]
  - to: [{{podSelector: {{}}}}]
",
            team = other_ns % 10
        ),
        // Default deny ingress for a namespace (`ingress` absent: nothing allowed).
        6 => "  podSelector: {}\n  policyTypes: [Ingress]\n".to_string(),
        // Namespace selector and pod selector as two peers (either may match), named UDP port.
        _ => format!(
            "  podSelector: {{matchLabels: {{tier: {tier}}}}}
  ingress:
  - from:
    - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns{other_ns}}}}}
    - podSelector: {{matchExpressions: [{{key: app, operator: DoesNotExist}}]}}
    ports: [{{port: dns, protocol: UDP}}, {{port: http}}]
  - from: [{{podSelector: {{matchLabels: {{app: app{app}}}}}}}]
"
        ),
    };
    out.push_str(&spec);
    out.push_str("---\n");
}

/// `calico` Calico policies (NetworkPolicy and GlobalNetworkPolicy, in two tiers and the
/// default one, Allow/Deny/Pass rules with selector expressions, nets and port ranges)
/// and `cilium` Cilium policies (CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy,
/// endpoint, entity and CIDR peers, deny rules, port ranges), for a cluster `cluster_with`
/// made with the same `deployments` and `namespaces`. Calico and Cilium policies are
/// made for benchmarks of the engine's tiers; a real cluster runs one CNI.
pub fn cni_policies(calico: usize, cilium: usize, deployments: usize, namespaces: usize) -> String {
    let deployments = deployments.max(1);
    let namespaces = namespaces.clamp(1, deployments);
    let mut out = String::with_capacity((calico + cilium) * 600);
    if calico > 0 {
        out.push_str("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\nspec: {order: 100}\n---\n");
        out.push_str(
            "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: platform}\nspec: {order: 200, defaultAction: Pass}\n---\n",
        );
    }
    for p in 0..calico {
        let d = (p * 11 + p / 6) % deployments;
        let (ns, app) = (d % namespaces, d / 3);
        let tier = TIERS.get(p % 4).unwrap_or(&"web");
        let order = 10 + p;
        let _ = match p % 6 {
            0 => write!(
                out,
                "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: cal{p}, namespace: ns{ns}}}\nspec:\n  order: {order}\n  selector: app == 'app{app}'\n  ingress:\n  - action: Allow\n    protocol: TCP\n    source: {{selector: \"tier in {{'web', 'api'}} && !has(debug)\"}}\n    destination: {{ports: [http, '9000:9100']}}\n  - action: Deny\n---\n"
            ),
            1 => write!(
                out,
                "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: security.cal{p}, namespace: ns{ns}}}\nspec:\n  tier: security\n  order: {order}\n  selector: tier == '{tier}'\n  types: [Egress]\n  egress:\n  - action: Deny\n    destination: {{nets: [10.{o}.0.0/16]}}\n  - action: Pass\n---\n",
                o = p % 250
            ),
            2 => write!(
                out,
                "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: platform.gcal{p}}}\nspec:\n  tier: platform\n  order: {order}\n  selector: app == 'app{app}' || version == 'v{v}'\n  namespaceSelector: env != 'dev'\n  ingress:\n  - action: Allow\n    protocol: UDP\n    destination: {{ports: [53]}}\n  - action: Pass\n    source: {{namespaceSelector: team == 't{t}'}}\n---\n",
                v = p % 3,
                t = p % 10
            ),
            3 => write!(
                out,
                "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: cal{p}, namespace: ns{ns}}}\nspec:\n  order: {order}\n  selector: version in {{'v0', 'v1'}}\n  ingress:\n  - action: Allow\n    source: {{nets: [172.{b}.0.0/16], notNets: [172.{b}.{s}.0/24]}}\n    protocol: TCP\n    destination: {{ports: [443]}}\n  egress:\n  - action: Allow\n    protocol: TCP\n    destination: {{selector: tier == 'db', ports: [5432]}}\n---\n",
                b = 16 + p % 16,
                s = p % 250
            ),
            4 => write!(
                out,
                "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: security.gcal{p}}}\nspec:\n  tier: security\n  order: {order}\n  selector: tier == '{tier}' && app starts with 'app{a}'\n  ingress:\n  - action: Deny\n    protocol: TCP\n    source: {{namespaceSelector: env == 'dev'}}\n    destination: {{ports: ['1:1023']}}\n  - action: Pass\n---\n",
                a = app % 10
            ),
            _ => write!(
                out,
                "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {{name: cal{p}, namespace: ns{ns}}}\nspec:\n  order: {order}\n  selector: all()\n  types: [Ingress, Egress]\n  ingress:\n  - action: Allow\n    source: {{selector: app == 'app{app}'}}\n  egress:\n  - action: Allow\n    protocol: UDP\n    destination: {{ports: [53]}}\n  - action: Allow\n    destination: {{namespaceSelector: env == 'prod'}}\n---\n"
            ),
        };
    }
    for p in 0..cilium {
        let d = (p * 13 + p / 5) % deployments;
        let (ns, app) = (d % namespaces, d / 3);
        let tier = TIERS.get(p % 4).unwrap_or(&"web");
        let _ = match p % 5 {
            0 => write!(
                out,
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: cil{p}, namespace: ns{ns}}}\nspec:\n  endpointSelector: {{matchLabels: {{app: app{app}}}}}\n  ingress:\n  - fromEndpoints: [{{matchLabels: {{tier: {tier}}}}}]\n    toPorts: [{{ports: [{{port: '8000', endPort: 8099, protocol: TCP}}]}}]\n---\n"
            ),
            1 => write!(
                out,
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: cil{p}, namespace: ns{ns}}}\nspec:\n  endpointSelector: {{matchLabels: {{'k8s:tier': {tier}}}}}\n  egress:\n  - toEndpoints: [{{matchLabels: {{io.kubernetes.pod.namespace: ns{o}}}}}]\n  - toCIDRSet: [{{cidr: 10.{b}.0.0/16, except: [10.{b}.1.0/24]}}]\n    toPorts: [{{ports: [{{port: '443', protocol: TCP}}]}}]\n  egressDeny:\n  - toEntities: [world]\n    toPorts: [{{ports: [{{port: '25', protocol: TCP}}]}}]\n---\n",
                o = (ns + 1) % namespaces,
                b = p % 250
            ),
            2 => write!(
                out,
                "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {{name: ccnp{p}}}\nspec:\n  endpointSelector: {{matchExpressions: [{{key: app, operator: In, values: [app{app}]}}]}}\n  ingressDeny:\n  - fromEntities: [world]\n  ingress:\n  - fromEntities: [cluster]\n---\n"
            ),
            3 => write!(
                out,
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: cil{p}, namespace: ns{ns}}}\nspec:\n  endpointSelector: {{matchLabels: {{version: v{v}}}}}\n  ingress:\n  - fromEndpoints: [{{}}]\n  - fromCIDR: [172.{b}.0.0/16]\n    toPorts: [{{ports: [{{port: '443'}}]}}]\n  enableDefaultDeny: {{egress: false}}\n  egress:\n  - toEntities: [world]\n---\n",
                v = p % 3,
                b = 16 + p % 16
            ),
            _ => write!(
                out,
                "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: cil{p}, namespace: ns{ns}}}\nspec:\n  endpointSelector: {{}}\n  ingress:\n  - fromEndpoints: [{{matchLabels: {{io.kubernetes.pod.namespace: ns{o}, tier: api}}}}]\n    toPorts: [{{ports: [{{port: http, protocol: TCP}}, {{port: '9090'}}]}}]\n---\n",
                o = (ns + 3) % namespaces
            ),
        };
    }
    out
}

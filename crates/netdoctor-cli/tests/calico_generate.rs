//! Generates synthetic clusters that mix Calico `projectcalico.org/v3` NetworkPolicies
//! and GlobalNetworkPolicies with Kubernetes NetworkPolicies, for the differential test
//! against Network Config Analyzer (`nca_calico_differential.rs`).
//!
//! One multi-document YAML: labelled Namespaces, bare Pods (labels, named TCP and UDP
//! container ports), Kubernetes NetworkPolicies (shapes after `benches/k8s_generate.rs`)
//! and Calico policies with:
//! - selectors with `==`, `!=`, `in {}`, `not in {}`, `has()`, `!has()`, `all()`, `&&`,
//!   `||`, `!`, parentheses, `starts with`, `ends with`, `contains`;
//! - `order` all distinct and never 1000 (Kubernetes policies' order), one policy per
//!   cluster possibly without `order` (applied last);
//! - actions Allow, Deny, Pass and Log; `types` written or left to the defaults;
//! - rule peers by `selector`, `notSelector`, `namespaceSelector`, `nets`/`notNets`
//!   (outside ranges only) and none; destination `ports` and `notPorts` (numbers, `a:b`
//!   ranges, named ports); `protocol` TCP/UDP/ICMP or `notProtocol`; ICMP `icmp` and
//!   `notICMP` by type, or type and code; now and then a selector
//!   on the policy's own side (`destination` of an ingress rule, `source` of an egress one);
//! - GlobalNetworkPolicies with a spec `namespaceSelector`.
//!
//! Left out, because `nca` rejects them or reads them unlike Calico's documentation
//! (`NOT_GENERATED` in `nca_calico_differential.rs` says how): tiers, service-account
//! selectors, ICMP type or code 0, double-quoted selector values, equal orders, float orders, `nets` together with a
//! selector, `protocol` together with `notProtocol`, `ipVersion`, per-rule `metadata`,
//! Calico's synthesized labels (`projectcalico.org/*`, `pcns.*`), source ports and
//! HostEndpoints. Rules whose `nets`/`notNets` cover pod addresses (`0.0.0.0/0`, or
//! `notNets` alone) are generated but carry the `NETS_COVER_PODS` marker comment: Calico
//! matches pods by their IPs there and `nca` never does, so the test leaves them out.
//!
//! Deterministic: the same `Options` (seed included) give the same text.

#![allow(dead_code)] // also built as a test target of its own, which uses none of it

use std::fmt::Write;

/// Marks a policy document with a rule whose `nets`/`notNets` cover pod addresses.
pub const NETS_COVER_PODS: &str = "# nets-cover-pods";

const APPS: [&str; 6] = ["web", "web-front", "api", "api-gw", "db", "cache"];
const TIERS: [&str; 3] = ["fe", "be", "data"];
const VERSIONS: [&str; 2] = ["v1", "v2"];
const TEAMS: [&str; 3] = ["red", "blue", "green"];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];
/// Outside address ranges (documentation ranges: never a pod address).
const OUTSIDE: [&str; 3] = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];
/// Parts of `OUTSIDE` for `notNets`.
const OUTSIDE_PARTS: [&str; 4] = ["192.0.2.128/25", "198.51.100.0/26", "203.0.113.64/27", "198.51.100.200/32"];

/// xorshift64*: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Never zero (xorshift's fixed point); spread small seeds.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    pub namespaces: usize,
    pub pods: usize,
    pub k8s_policies: usize,
    pub calico_policies: usize,
}

/// The cluster `opts` describes, as one multi-document YAML.
pub fn cluster(opts: &Options) -> String {
    let mut rng = Rng::new(opts.seed);
    let namespaces = opts.namespaces.max(1);
    let mut out = String::new();
    for n in 0..namespaces {
        // Every namespace has a team; one in four has no env (for has() / !has()).
        let env = if n > 0 && rng.chance(25) { String::new() } else { format!(", env: {}", rng.pick(&ENVS)) };
        let team = TEAMS.get(n % TEAMS.len()).copied().unwrap_or("red");
        let _ = write!(out, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns{n}\n  labels: {{team: {team}{env}}}\n---\n");
    }
    for i in 0..opts.pods {
        pod(&mut out, &mut rng, i, i % namespaces);
    }
    for p in 0..opts.k8s_policies {
        k8s_policy(&mut out, &mut rng, p, namespaces);
    }
    // Distinct orders: one per slot of 2000 / n, shuffled, 1000 moved by one (still
    // inside its slot, so still distinct).
    let n = opts.calico_policies;
    let step = (2000 / n.max(1)).max(4);
    let mut orders: Vec<usize> = (0..n).map(|i| 5 + i * step + rng.below(step / 2)).map(|o| if o == 1000 { 1001 } else { o }).collect();
    rng.shuffle(&mut orders);
    let unordered = rng.chance(30);
    for (c, order) in orders.into_iter().enumerate() {
        let order = if c == 0 && unordered { None } else { Some(order) };
        calico_policy(&mut out, &mut rng, c, order, namespaces);
    }
    out
}

/// Bare pod `i` in namespace `ns`: some labels left out, named ports `http` (TCP, a
/// number that varies), `metrics` (TCP 9090) and `dns` (UDP 5353), each sometimes absent.
fn pod(out: &mut String, rng: &mut Rng, i: usize, ns: usize) {
    let mut labels = Vec::new();
    if rng.chance(90) {
        labels.push(format!("app: {}", rng.pick(&APPS)));
    }
    if rng.chance(70) {
        labels.push(format!("tier: {}", rng.pick(&TIERS)));
    }
    if rng.chance(50) {
        labels.push(format!("version: {}", rng.pick(&VERSIONS)));
    }
    let mut ports = String::new();
    if rng.chance(85) {
        let http = [80, 8080, 8000 + i % 5].get(rng.below(3)).copied().unwrap_or(80);
        let _ = write!(ports, "\n    - {{containerPort: {http}, name: http, protocol: TCP}}");
    }
    if rng.chance(60) {
        ports.push_str("\n    - {containerPort: 9090, name: metrics}");
    }
    if rng.chance(50) {
        ports.push_str("\n    - {containerPort: 5353, name: dns, protocol: UDP}");
    }
    let ports = if ports.is_empty() { String::new() } else { format!("\n    ports:{ports}") };
    let _ = write!(
        out,
        "apiVersion: v1
kind: Pod
metadata:
  name: pod{i}
  namespace: ns{ns}
  labels: {{{labels}}}
spec:
  containers:
  - name: main
    image: nginx{ports}
---
",
        labels = labels.join(", ")
    );
}

/// Kubernetes NetworkPolicy `p`: its shape is `p % 6`, after `benches/k8s_generate.rs`.
fn k8s_policy(out: &mut String, rng: &mut Rng, p: usize, namespaces: usize) {
    let ns = rng.below(namespaces);
    let app = rng.pick(&APPS);
    let tier = rng.pick(&TIERS);
    let team = rng.pick(&TEAMS);
    let other_ns = rng.below(namespaces);
    let _ = write!(out, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: knp{p}, namespace: ns{ns}}}\nspec:\n");
    let spec = match p % 6 {
        // Ingress from one tier of the same namespace, on a named port.
        0 => format!(
            "  podSelector: {{matchLabels: {{app: {app}}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{tier: {tier}}}}}}}]
    ports: [{{port: http}}]
"
        ),
        // Namespace and pod selector in one peer; TCP and a named UDP port.
        1 => format!(
            "  podSelector: {{matchLabels: {{tier: {tier}}}}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {{matchLabels: {{team: {team}}}}}
      podSelector: {{matchExpressions: [{{key: app, operator: In, values: [{app}, api]}}]}}
    ports: [{{protocol: TCP, port: 8080}}, {{protocol: UDP, port: dns}}]
"
        ),
        // Egress by matchExpressions with a port range, and DNS anywhere.
        2 => format!(
            "  podSelector: {{matchExpressions: [{{key: app, operator: In, values: [{app}]}}]}}
  policyTypes: [Egress]
  egress:
  - to: [{{podSelector: {{matchExpressions: [{{key: tier, operator: In, values: [be, data]}}]}}}}]
    ports: [{{protocol: TCP, port: 8000, endPort: 8003}}]
  - ports: [{{protocol: UDP, port: 53}}]
"
        ),
        // Egress to an outside block with a hole, and DNS in every namespace.
        3 => format!(
            "  podSelector: {{matchLabels: {{app: {app}}}}}
  policyTypes: [Egress]
  egress:
  - to: [{{ipBlock: {{cidr: 198.51.100.0/24, except: [198.51.100.128/26]}}}}]
  - to: [{{namespaceSelector: {{}}}}]
    ports: [{{protocol: UDP, port: 53}}, {{protocol: TCP, port: 53}}]
"
        ),
        // Both directions; NotIn/Exists subjects; namespaces by expression.
        4 => format!(
            "  podSelector:
    matchExpressions:
    - {{key: tier, operator: NotIn, values: [{tier}]}}
    - {{key: app, operator: Exists}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{{namespaceSelector: {{matchExpressions: [{{key: env, operator: In, values: [prod, staging]}}]}}}}]
    ports: [{{port: metrics}}]
  - from: [{{ipBlock: {{cidr: 203.0.113.0/24, except: [203.0.113.0/28]}}}}]
    ports: [{{protocol: TCP, port: 443}}]
  egress:
  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: ns{other_ns}}}}}}}]
  - to: [{{podSelector: {{}}}}]
"
        ),
        // Default deny ingress for a namespace.
        _ => "  podSelector: {}\n  policyTypes: [Ingress]\n".to_string(),
    };
    out.push_str(&spec);
    out.push_str("---\n");
}

/// A selector over pod labels (`namespace` false) or namespace labels, as YAML text
/// (double-quoted, with single-quoted values inside).
fn selector(rng: &mut Rng, namespace: bool, depth: usize) -> String {
    let (expr, _) = expr(rng, namespace, depth);
    format!("\"{expr}\"")
}

/// An expression and its precedence: 1 `||`, 2 `&&`, 3 an atom or `!`.
fn expr(rng: &mut Rng, namespace: bool, depth: usize) -> (String, u8) {
    if depth == 0 || rng.chance(45) {
        return (atom(rng, namespace), 3);
    }
    let wrap = |(e, prec): (String, u8), min: u8| if prec < min { format!("({e})") } else { e };
    match rng.below(4) {
        0 => {
            let (a, b) = (expr(rng, namespace, depth - 1), expr(rng, namespace, depth - 1));
            (format!("{} || {}", a.0, b.0), 1)
        }
        1 | 2 => {
            let (a, b) = (expr(rng, namespace, depth - 1), expr(rng, namespace, depth - 1));
            (format!("{} && {}", wrap(a, 2), wrap(b, 2)), 2)
        }
        _ => {
            let (a, _) = expr(rng, namespace, depth - 1);
            (format!("!({a})"), 3)
        }
    }
}

/// One term: a comparison, a set test, has(), a string test, or `all()` (pods only).
fn atom(rng: &mut Rng, namespace: bool) -> String {
    let (key, values): (&str, &[&str]) = if namespace {
        match rng.below(5) {
            0 | 1 => ("team", &TEAMS),
            2 | 3 => ("env", &ENVS),
            _ => ("kubernetes.io/metadata.name", &["ns0", "ns1", "ns2", "ns3"]),
        }
    } else {
        match rng.below(6) {
            0..=2 => ("app", &APPS),
            3 | 4 => ("tier", &TIERS),
            _ => ("version", &VERSIONS),
        }
    };
    let v = rng.pick(values);
    let w = rng.pick(values);
    let part = |s: &str, from: usize, len: usize| s.chars().skip(from).take(len).collect::<String>();
    match rng.below(12) {
        0 | 1 => format!("{key} == '{v}'"),
        2 => format!("{key} != '{v}'"),
        3 => format!("{key} in {{'{v}', '{w}'}}"),
        4 => format!("{key} not in {{'{v}'}}"),
        5 => format!("has({key})"),
        6 => format!("!has({key})"),
        7 => format!("{key} starts with '{}'", part(v, 0, 2)),
        8 => format!("{key} ends with '{}'", part(v, v.len().saturating_sub(2), 2)),
        9 => format!("{key} contains '{}'", part(v, 1, 2)),
        10 if !namespace => "all()".to_string(),
        _ => format!("{key} == '{v}'"),
    }
}

/// Calico policy `c`: a GlobalNetworkPolicy (`gnp<c>`) or a NetworkPolicy (`cnp<c>`).
fn calico_policy(out: &mut String, rng: &mut Rng, c: usize, order: Option<usize>, namespaces: usize) {
    let global = rng.chance(45);
    let mut spec = String::new();
    if let Some(order) = order {
        let _ = writeln!(spec, "  order: {order}");
    }
    if rng.chance(90) {
        let _ = writeln!(spec, "  selector: {}", selector(rng, false, 2));
    }
    if global && rng.chance(40) {
        let _ = writeln!(spec, "  namespaceSelector: {}", selector(rng, true, 1));
    }
    // Directions: Ingress, Egress or both; `types` written or left to the defaults
    // (no egress rules: Ingress; egress rules only: Egress; both: both).
    let (ingress, egress) = match rng.below(20) {
        0..=7 => (true, false),
        8..=12 => (false, true),
        _ => (true, true),
    };
    let written = rng.chance(70);
    if written {
        let types: Vec<&str> = [(ingress, "Ingress"), (egress, "Egress")].into_iter().filter(|(on, _)| *on).map(|(_, t)| t).collect();
        let _ = writeln!(spec, "  types: [{}]", types.join(", "));
    }
    let mut covers_pods = false;
    for (on, dir) in [(ingress, "ingress"), (egress, "egress")] {
        if !on {
            continue;
        }
        // Written types, and inferred Ingress alone, may have no rules (all denied that
        // way); inferred Egress needs its rules to be there.
        let none_allowed = written || (dir == "ingress" && !egress);
        let count = if none_allowed && rng.chance(10) { 0 } else { 1 + rng.below(3) };
        if count == 0 {
            continue;
        }
        let _ = writeln!(spec, "  {dir}:");
        for _ in 0..count {
            spec.push_str(&rule(rng, dir == "ingress", global, &mut covers_pods));
        }
    }
    let marker = if covers_pods { format!("{NETS_COVER_PODS}\n") } else { String::new() };
    let metadata = if global {
        format!("kind: GlobalNetworkPolicy\nmetadata: {{name: gnp{c}}}")
    } else {
        format!("kind: NetworkPolicy\nmetadata: {{name: cnp{c}, namespace: ns{}}}", rng.below(namespaces))
    };
    let _ = write!(out, "{marker}apiVersion: projectcalico.org/v3\n{metadata}\nspec:\n{spec}---\n");
}

/// One rule; `covers_pods` is set when its `nets`/`notNets` cover pod addresses.
fn rule(rng: &mut Rng, ingress: bool, global: bool, covers_pods: &mut bool) -> String {
    let action = match rng.below(20) {
        0..=8 => "Allow",
        9..=13 => "Deny",
        14..=16 => "Pass",
        _ => "Log",
    };
    let mut r = format!("  - action: {action}\n");
    let protocol = match rng.below(20) {
        0..=6 => None,
        7..=12 => Some("TCP"),
        13..=15 => Some("UDP"),
        16 => Some("ICMP"),
        17 | 18 => {
            let _ = writeln!(r, "    notProtocol: {}", ["TCP", "UDP", "ICMP"].get(rng.below(3)).copied().unwrap_or("TCP"));
            None
        }
        _ => {
            // notProtocol alone only; with `protocol` nca ignores it.
            r.push_str("    notProtocol: TCP\n");
            None
        }
    };
    if let Some(p) = protocol {
        let _ = writeln!(r, "    protocol: {p}");
    }
    if protocol == Some("ICMP") {
        // Types and codes other than 0, which nca reads as unset.
        let message = |rng: &mut Rng| match rng.below(4) {
            0 => "{type: 8}",
            1 => "{type: 3}",
            2 => "{type: 3, code: 1}",
            _ => "{type: 11, code: 1}",
        };
        match rng.below(4) {
            0 => {}
            1 | 2 => {
                let _ = writeln!(r, "    icmp: {}", message(rng));
            }
            _ => {
                let _ = writeln!(r, "    notICMP: {}", message(rng));
            }
        }
    }

    // The peer: source for ingress, destination for egress.
    let mut peer: Vec<String> = Vec::new();
    let mut by_nets = false;
    match rng.below(20) {
        0..=2 => {}
        3..=7 => peer.push(format!("selector: {}", selector(rng, false, 2))),
        8 | 9 => {
            peer.push(format!("selector: {}", selector(rng, false, 1)));
            peer.push(format!("notSelector: {}", selector(rng, false, 1)));
        }
        10..=12 => {
            peer.push(format!("namespaceSelector: {}", selector(rng, true, 1)));
            if rng.chance(50) {
                peer.push(format!("selector: {}", selector(rng, false, 1)));
            }
            if rng.chance(20) {
                peer.push(format!("notSelector: {}", selector(rng, false, 0)));
            }
        }
        // notSelector alone: in a namespaced policy, whether it is limited to the
        // policy's namespace is not clear from the docs, so only in global ones.
        13 if global => peer.push(format!("notSelector: {}", selector(rng, false, 1))),
        13 => peer.push(format!("selector: {}", selector(rng, false, 0))),
        14..=17 => {
            by_nets = true;
            let mut nets = vec![rng.pick(&OUTSIDE)];
            if rng.chance(40) {
                nets.push(rng.pick(&OUTSIDE));
            }
            nets.dedup();
            peer.push(format!("nets: [{}]", nets.join(", ")));
            if rng.chance(40) {
                peer.push(format!("notNets: [{}]", rng.pick(&OUTSIDE_PARTS)));
            }
        }
        _ => {
            // Calico matches pods by address here; nca never does (marked, left out).
            by_nets = true;
            *covers_pods = true;
            if rng.chance(50) {
                peer.push("nets: [0.0.0.0/0]".to_string());
            }
            peer.push(format!("notNets: [{}]", rng.pick(&OUTSIDE)));
        }
    }

    // Destination ports (TCP or UDP only), in the destination entity.
    let mut ports: Vec<String> = Vec::new();
    if let Some(p) = protocol.filter(|p| *p != "ICMP") {
        if rng.chance(60) {
            let named = if p == "TCP" { ["http", "metrics"] } else { ["dns", "dns"] };
            let mut list = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let item = match rng.below(8) {
                    0 => "80".to_string(),
                    1 => "53".to_string(),
                    2 => "8080".to_string(),
                    3 => "'8000:8003'".to_string(),
                    4 => "'1:1024'".to_string(),
                    5 => "'5000:9999'".to_string(),
                    // A named port resolves per destination pod; outside addresses have
                    // none, so only where the peer is chosen by labels.
                    _ if !by_nets || ingress => named.get(rng.below(2)).copied().unwrap_or("http").to_string(),
                    _ => "443".to_string(),
                };
                if !list.contains(&item) {
                    list.push(item);
                }
            }
            ports.push(format!("ports: [{}]", list.join(", ")));
        }
        if rng.chance(25) {
            // A named port here takes that port of each destination pod out; outside
            // addresses and pods without the name keep every port.
            let named = if p == "TCP" { "http" } else { "dns" };
            let not = ["8001", "'8002:8003'", "9090", "'1:79'", "5353", named];
            ports.push(format!("notPorts: [{}]", not.get(rng.below(not.len())).copied().unwrap_or("8001")));
        }
    }
    // Now and then the rule also narrows the policy's own endpoint: `destination.selector`
    // in an ingress rule, `source.selector` in an egress rule.
    let own = if rng.chance(12) { Some(format!("selector: {}", selector(rng, false, 1))) } else { None };

    let entity = |parts: &[String]| format!("{{{}}}", parts.join(", "));
    if ingress {
        if !peer.is_empty() {
            let _ = writeln!(r, "    source: {}", entity(&peer));
        }
        ports.extend(own);
        if !ports.is_empty() {
            let _ = writeln!(r, "    destination: {}", entity(&ports));
        }
    } else {
        if let Some(own) = own {
            let _ = writeln!(r, "    source: {{{own}}}");
        }
        peer.extend(ports);
        if !peer.is_empty() {
            let _ = writeln!(r, "    destination: {}", entity(&peer));
        }
    }
    r
}

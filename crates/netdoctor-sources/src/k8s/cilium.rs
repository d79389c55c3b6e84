//! Cilium's policy resources lowered into `netdoctor_model::cilium`: CiliumNetworkPolicy
//! and CiliumClusterwideNetworkPolicy (`cilium.io/v2`), and CiliumCIDRGroup
//! (`cilium.io/v2alpha1`, later `v2`).
//!
//! The checks follow Cilium's own: the types in cilium/cilium pkg/policy/api (rule.go,
//! ingress.go, egress.go, l4.go, cidr.go, entity.go, fqdn.go), the CRD schema generated
//! from their kubebuilder markers, and the agent's checks in rule_validation.go, which
//! reject a policy the API server accepted (the policy is then not enforced at all).
//! Checks that depend on agent flags (`enable-l7-proxy`, `enable-icmp-rules`) are left
//! out: the manifest does not say how the agent runs.

use super::lower::{name, namespace_of, selector};
use super::value::{boolean, cidr, error, field, list, mapping, origin, text};
use crate::error::Result;
use crate::tree::{Entry, Node, Value};
use ipnet::IpNet;
use netdoctor_model::cilium::{
    CidrGroup, CidrRule, CiliumIcmp, CiliumPeerRule, CiliumPolicy, CiliumPort, CiliumPortNumber, CiliumPortRule, CiliumProtocol, CiliumRule,
};
use netdoctor_model::k8s::LabelSelector;
use std::net::IpAddr;

/// The entities Cilium knows (`EntitySelectorMapping` in entity.go, and the CRD enum
/// on `Entity`). `world-ipv4`/`world-ipv6` are in the map, which is what the agent checks.
const ENTITIES: &[&str] = &[
    "all",
    "world",
    "world-ipv4",
    "world-ipv6",
    "cluster",
    "host",
    "remote-node",
    "kube-apiserver",
    "health",
    "init",
    "ingress",
    "unmanaged",
    "none",
];

/// `+kubebuilder:validation:MaxItems=40` on `PortRule.Ports` (`maxPorts` in rule_validation.go).
const MAX_PORTS: usize = 40;

/// `maxICMPFields` in rule_validation.go.
const MAX_ICMP_FIELDS: usize = 40;

/// Fields only `EgressRule` has: `EgressDenyRule` lacks them (egress.go), so the API
/// server prunes them from an `egressDeny` entry, or rejects them under strict field
/// validation.
const ALLOW_ONLY_PEER_KEYS: &[&str] = &["toFQDNs", "authentication"];

/// Fields of `PortRule` that `PortDenyRule` lacks (l4.go): deny rules have no L7.
const ALLOW_ONLY_PORT_KEYS: &[&str] = &["rules", "serverNames", "listener", "originatingTLS", "terminatingTLS"];

/// A CiliumNetworkPolicy (namespace `default` when unset) or, with `clusterwide`, a
/// CiliumClusterwideNetworkPolicy: `spec`, then each of `specs`.
pub(crate) fn policy(node: &Node, clusterwide: bool) -> Result<CiliumPolicy> {
    let kind = if clusterwide { "CiliumClusterwideNetworkPolicy" } else { "CiliumNetworkPolicy" };
    let name = name(node)?;
    let namespace = if clusterwide { None } else { Some(namespace_of(node)?) };
    let spec = mapping(node, "spec")?;
    let specs = match field(node, "specs") {
        None => None,
        Some(n) => Some(n.as_seq().ok_or_else(|| error(n, format!("`specs` must be a list of rules, found {}", n.kind_name())))?),
    };
    // The CRD requires one of the two (Parse in cnp_types.go: "empty policy" otherwise).
    if spec.is_none() && specs.is_none() {
        return Err(error(node, format!("a {kind} needs `spec` (one rule) or `specs` (a list of rules)")));
    }
    let mut rules = Vec::new();
    if let Some(spec) = spec {
        rules.push(rule(spec, clusterwide, "spec")?);
    }
    for item in specs.unwrap_or_default() {
        if item.as_map().is_none() {
            return Err(error(item, format!("`specs` entries must be rules (mappings), found {}", item.kind_name())));
        }
        rules.push(rule(item, clusterwide, "specs")?);
    }
    Ok(CiliumPolicy { namespace, name, rules, origin: origin(node) })
}

/// A CiliumCIDRGroup: `spec.externalCIDRs` (required, may be empty). Addresses count as
/// single-address CIDRs and host bits are cleared, as for `fromCIDR`.
pub(crate) fn cidr_group(node: &Node) -> Result<CidrGroup> {
    let name = name(node)?;
    let spec = mapping(node, "spec")?.ok_or_else(|| error(node, "a CiliumCIDRGroup needs `spec.externalCIDRs`"))?;
    let written = field(spec, "externalCIDRs").ok_or_else(|| error(spec, "a CiliumCIDRGroup needs `externalCIDRs` (a list of CIDRs)"))?;
    let items = written
        .as_seq()
        .ok_or_else(|| error(written, format!("`externalCIDRs` must be a list of CIDRs, found {}", written.kind_name())))?;
    let cidrs = items.iter().map(|c| cidr(c, "externalCIDRs")).collect::<Result<Vec<_>>>()?;
    Ok(CidrGroup { name, cidrs, origin: origin(node) })
}

/// One rule: `endpointSelector` or `nodeSelector`, the four sections and `enableDefaultDeny`.
/// `description` and `labels` say nothing about traffic.
fn rule(n: &Node, clusterwide: bool, key: &str) -> Result<CiliumRule> {
    let endpoint_selector = rule_selector(n, "endpointSelector")?;
    let node_selector = rule_selector(n, "nodeSelector")?;
    // rule.go: "EndpointSelector and NodeSelector cannot be both empty and are mutually
    // exclusive. [NodeSelector] can only be used in CiliumClusterwideNetworkPolicies."
    match (&endpoint_selector, &node_selector) {
        (None, None) => {
            return Err(error(n, format!("a rule in `{key}` needs `endpointSelector` (pods) or `nodeSelector` (nodes)")));
        }
        (Some(_), Some(_)) => {
            let at = field(n, "nodeSelector").unwrap_or(n);
            return Err(error(at, "a rule sets both `endpointSelector` and `nodeSelector`; select pods and nodes in separate rules"));
        }
        (None, Some(_)) if !clusterwide => {
            let at = field(n, "nodeSelector").unwrap_or(n);
            return Err(error(at, "`nodeSelector` (a host policy) is only allowed in a CiliumClusterwideNetworkPolicy"));
        }
        _ => {}
    }
    let host = node_selector.is_some();
    let ingress = section(n, Section { egress: false, deny: false, host })?;
    let ingress_deny = section(n, Section { egress: false, deny: true, host })?;
    let egress = section(n, Section { egress: true, deny: false, host })?;
    let egress_deny = section(n, Section { egress: true, deny: true, host })?;
    // The CRD's anyOf on the four sections: a rule with none of them is rejected.
    if ingress.is_none() && ingress_deny.is_none() && egress.is_none() && egress_deny.is_none() {
        return Err(error(n, "a rule needs at least one of `ingress`, `ingressDeny`, `egress` and `egressDeny`"));
    }
    let (default_deny_ingress, default_deny_egress) = match mapping(n, "enableDefaultDeny")? {
        Some(d) => (boolean(d, "ingress")?, boolean(d, "egress")?),
        None => (None, None),
    };
    Ok(CiliumRule {
        endpoint_selector,
        node_selector,
        ingress,
        ingress_deny,
        egress,
        egress_deny,
        default_deny_ingress,
        default_deny_egress,
        origin: origin(n),
    })
}

/// `endpointSelector`/`nodeSelector`; `null` decodes to no selector, `{}` selects all.
fn rule_selector(n: &Node, key: &str) -> Result<Option<LabelSelector>> {
    match mapping(n, key)? {
        None => Ok(None),
        Some(s) => selector(s).map(Some),
    }
}

/// Where a peer rule sits: its direction, whether it denies, and whether the rule selects
/// nodes (a host policy).
#[derive(Debug, Clone, Copy)]
struct Section {
    egress: bool,
    deny: bool,
    host: bool,
}

impl Section {
    fn key(self) -> &'static str {
        match (self.egress, self.deny) {
            (false, false) => "ingress",
            (false, true) => "ingressDeny",
            (true, false) => "egress",
            (true, true) => "egressDeny",
        }
    }

    /// The allow section of the same direction.
    fn allow_key(self) -> &'static str {
        Section { deny: false, ..self }.key()
    }

    /// `from` for ingress, `to` for egress: the prefix of the peer fields.
    fn prefix(self) -> &'static str {
        if self.egress {
            "to"
        } else {
            "from"
        }
    }

    /// A peer field of this direction: `fromEndpoints` or `toEndpoints`.
    fn peer(self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix())
    }

    /// The peer fields of which a rule may use only one (the `l3Members` of
    /// IngressCommonRule/EgressCommonRule in rule_validation.go, plus `toFQDNs` in
    /// EgressRule).
    fn l3_members(self) -> Vec<String> {
        let mut keys: Vec<String> = ["Endpoints", "CIDR", "CIDRSet", "Entities", "Nodes", "Groups"].iter().map(|s| self.peer(s)).collect();
        if self.egress {
            keys.push("toServices".to_string());
            if !self.deny {
                keys.push("toFQDNs".to_string());
            }
        }
        keys
    }
}

/// A section: `None` when absent or `null` (which Go decodes to a nil slice); a list,
/// even an empty one, is present. Note that Cilium itself counts entries: an empty list
/// turns on default deny no more than an absent one (`Sanitize`/`Validate` in
/// rule_validation.go take `len(r.Ingress) > 0`).
fn section(n: &Node, s: Section) -> Result<Option<Vec<CiliumPeerRule>>> {
    let key = s.key();
    let Some(items) = field(n, key) else { return Ok(None) };
    let items = items.as_seq().ok_or_else(|| error(items, format!("`{key}` must be a list of rules, found {}", items.kind_name())))?;
    items.iter().map(|item| peer_rule(item, s)).collect::<Result<Vec<_>>>().map(Some)
}

/// One entry of a section. `null` decodes to the empty rule, like `{}`.
fn peer_rule(n: &Node, s: Section) -> Result<CiliumPeerRule> {
    let mut out = CiliumPeerRule {
        endpoints: None,
        requires: Vec::new(),
        cidrs: Vec::new(),
        entities: Vec::new(),
        ports: Vec::new(),
        icmps: Vec::new(),
        fqdns: Vec::new(),
        unevaluated: Vec::new(),
        origin: origin(n),
    };
    if n.is_null() {
        return Ok(out);
    }
    let Some(entries) = n.as_map() else {
        return Err(error(n, format!("`{}` entries must be mappings, found {}", s.key(), n.kind_name())));
    };
    check_keys(entries, s)?;
    check_one_peer_kind(entries, s)?;

    // An empty list selects nothing more than an absent one: every check in Cilium is on
    // `len(...)`, so `fromEndpoints: []` with `toPorts` still allows every peer.
    let endpoints = selectors(n, &s.peer("Endpoints"))?;
    out.endpoints = (!endpoints.is_empty()).then_some(endpoints);
    out.requires = selectors(n, &s.peer("Requires"))?;
    let cidr_key = s.peer("CIDR");
    for c in list(n, &cidr_key)? {
        // CIDR.Validate takes a prefix or a bare address (a single-address prefix).
        out.cidrs.push(CidrRule { cidr: Some(cidr(c, &cidr_key)?), group: None, except: Vec::new() });
    }
    let set_key = s.peer("CIDRSet");
    for c in list(n, &set_key)? {
        if let Some(rule) = cidr_set_entry(c, &set_key)? {
            out.cidrs.push(rule);
        } else if !out.unevaluated.iter().any(|u| u == "cidrGroupSelector") {
            out.unevaluated.push("cidrGroupSelector".to_string());
        }
    }
    let entities_key = s.peer("Entities");
    for e in list(n, &entities_key)? {
        out.entities.push(entity(e, &entities_key)?);
    }
    // Peers that need state beyond the cluster's objects: node labels Cilium imports
    // (and only with `enable-node-selector-labels`), cloud security groups, service
    // backends; kept as names only, after checking their shape.
    let nodes_key = s.peer("Nodes");
    if !selectors(n, &nodes_key)?.is_empty() {
        out.unevaluated.push(nodes_key);
    }
    let groups_key = s.peer("Groups");
    if !mappings(n, &groups_key)?.is_empty() {
        out.unevaluated.push(groups_key);
    }
    let services = if s.egress { mappings(n, "toServices")? } else { &[] };
    if !services.is_empty() {
        out.unevaluated.push("toServices".to_string());
    }
    if s.egress && !s.deny {
        for f in list(n, "toFQDNs")? {
            out.fqdns.push(fqdn(f)?);
        }
    }

    let ports = list(n, "toPorts")?;
    for p in ports {
        out.ports.push(port_rule(p, s)?);
    }
    let icmps = list(n, "icmps")?;
    for i in icmps {
        out.icmps.extend(icmp_rule(i)?);
    }
    // errUnsupportedICMPWithToPorts in rule_validation.go.
    if !icmps.is_empty() && !ports.is_empty() {
        let at = field(n, "icmps").unwrap_or(n);
        return Err(error(at, "`icmps` cannot be combined with `toPorts` in one rule; write them as separate rules"));
    }
    // l3DependentL4Support: ToServices is false (cilium/cilium#20067).
    if !services.is_empty() && !ports.is_empty() {
        let at = field(n, "toPorts").unwrap_or(n);
        return Err(error(at, "`toPorts` cannot be combined with `toServices` in one rule (Cilium does not support it)"));
    }
    if let Some(auth) = mapping(n, "authentication")? {
        authentication(auth)?;
    }
    Ok(out)
}

/// Fields of the other direction, and fields a deny rule lacks: Go drops unknown fields,
/// so such a rule would silently mean something else (an ingress rule's `toEndpoints`
/// leaves it with no peer).
fn check_keys(entries: &[Entry], s: Section) -> Result<()> {
    let (own, other, other_dir) = if s.egress { ("to", "from", "ingress") } else { ("from", "to", "egress") };
    for entry in entries {
        let key = entry.key.as_str();
        if key == "toPorts" {
            // Both directions spell it `toPorts`: the ports of the selected endpoint on
            // ingress, of the peer on egress.
            continue;
        }
        if let Some(rest) = key.strip_prefix(other).filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase())) {
            let suggestion = match (s.egress, rest) {
                (false, "FQDNs" | "Services") => format!("`{key}` has no ingress counterpart"),
                _ => format!("an {} rule takes `{own}{rest}`", if s.egress { "egress" } else { "ingress" }),
            };
            return Err(error(&entry.value, format!("`{key}` is an {other_dir} field; {suggestion}")));
        }
        if s.deny && ALLOW_ONLY_PEER_KEYS.contains(&key) {
            return Err(error(&entry.value, format!("`{key}` is not allowed in `{}` rules, only in `{}`", s.key(), s.allow_key())));
        }
    }
    Ok(())
}

/// At most one kind of peer per rule: "combining %s and %s is not supported yet"
/// (rule_validation.go). Reported at the second one written.
fn check_one_peer_kind(entries: &[Entry], s: Section) -> Result<()> {
    let members = s.l3_members();
    let mut first: Option<&str> = None;
    for entry in entries {
        let non_empty = entry.value.as_seq().is_some_and(|items| !items.is_empty());
        if !non_empty || !members.contains(&entry.key) {
            continue;
        }
        match first {
            None => first = Some(&entry.key),
            Some(earlier) => {
                let message = format!(
                    "`{}` cannot be combined with `{earlier}` in one rule (Cilium rejects the policy); write them as separate rules",
                    entry.key
                );
                return Err(error(&entry.value, message));
            }
        }
    }
    Ok(())
}

/// A list of endpoint selectors; each entry is a label selector (`{}` selects all).
fn selectors(n: &Node, key: &str) -> Result<Vec<LabelSelector>> {
    let mut out = Vec::new();
    for item in list(n, key)? {
        if item.as_map().is_none() {
            return Err(error(item, format!("`{key}` entries must be label selectors ({{}} selects all), found {}", item.kind_name())));
        }
        out.push(selector(item)?);
    }
    Ok(out)
}

/// A list whose entries must be mappings (`toGroups`, `toServices`), not read further.
fn mappings<'a>(n: &'a Node, key: &str) -> Result<&'a [Node]> {
    let items = list(n, key)?;
    if let Some(bad) = items.iter().find(|i| i.as_map().is_none()) {
        return Err(error(bad, format!("`{key}` entries must be mappings, found {}", bad.kind_name())));
    }
    Ok(items)
}

/// One `fromCIDRSet`/`toCIDRSet` entry: exactly one of `cidr`, `cidrGroupRef` and
/// `cidrGroupSelector` (CIDRRule.Validate), with `except` prefixes inside `cidr`.
/// `None` for a `cidrGroupSelector`, which selects groups by labels the model does not keep.
fn cidr_set_entry(n: &Node, key: &str) -> Result<Option<CidrRule>> {
    if n.as_map().is_none() {
        return Err(error(n, format!("`{key}` entries must be mappings with `cidr` or `cidrGroupRef`, found {}", n.kind_name())));
    }
    let net = field(n, "cidr");
    let group = field(n, "cidrGroupRef");
    let group_selector = mapping(n, "cidrGroupSelector")?;
    let set = [net.is_some(), group.is_some(), group_selector.is_some()].iter().filter(|b| **b).count();
    if set != 1 {
        return Err(error(n, format!("a `{key}` entry needs exactly one of `cidr`, `cidrGroupRef` and `cidrGroupSelector`")));
    }
    let mut rule = CidrRule { cidr: None, group: None, except: Vec::new() };
    if let Some(c) = net {
        // Unlike `fromCIDR`, a CIDRRule takes prefix notation only ("Only allow notation
        // <IP address>/<prefix>" in CIDRRule.Validate).
        let written = c.as_scalar().map(str::trim).unwrap_or_default();
        if written.parse::<IpAddr>().is_ok() {
            let bits = if written.contains(':') { 128 } else { 32 };
            return Err(error(c, format!("`cidr` must be a prefix such as {written}/{bits}, found the address `{written}`")));
        }
        rule.cidr = Some(cidr(c, "cidr")?);
    }
    if let Some(g) = group {
        rule.group = Some(group_ref(g)?);
    }
    if let Some(s) = group_selector {
        selector(s)?;
        return Ok(None);
    }
    for e in list(n, "except")? {
        let written = e.as_scalar().map(str::trim).unwrap_or_default();
        let except = written
            .parse::<IpNet>()
            .map_err(|_| error(e, format!("`except` entries must be prefixes such as 10.96.0.0/12, found `{e}`")))?;
        // "allow CIDR prefix %s does not contain exclude CIDR prefix %s": the check is on
        // the exception's address, so it also catches a family mismatch.
        if let Some(outer) = rule.cidr.filter(|o| !o.contains(&except.addr())) {
            return Err(error(e, format!("`except` entry `{written}` is not inside `cidr` {outer}")));
        }
        rule.except.push(except.trunc());
    }
    Ok(Some(rule))
}

/// `cidrGroupRef`: a CiliumCIDRGroup name, a DNS subdomain (the CRD's pattern and MaxLength=253).
fn group_ref(n: &Node) -> Result<String> {
    let written = n.as_scalar().unwrap_or_default();
    let label = |l: &str| {
        let b = l.as_bytes();
        let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        b.first().is_some_and(ok) && b.last().is_some_and(ok) && b.iter().all(|c| ok(c) || *c == b'-')
    };
    if written.len() <= 253 && written.split('.').all(label) {
        return Ok(written.to_string());
    }
    Err(error(n, format!("`cidrGroupRef` must name a CiliumCIDRGroup (lower-case letters, digits, `-` and `.`), found `{n}`")))
}

fn entity(n: &Node, key: &str) -> Result<String> {
    match n.as_scalar() {
        Some(e) if ENTITIES.contains(&e) => Ok(e.to_string()),
        written => {
            // A misspelt entity is the usual case: name the closest one.
            let closest =
                written.and_then(|w| ENTITIES.iter().filter(|e| strsim::levenshtein(w, e) <= 2).min_by_key(|e| strsim::levenshtein(w, e)));
            let hint = closest.map(|c| format!("did you mean `{c}`? ")).unwrap_or_default();
            Err(error(n, format!("unknown entity `{n}` in `{key}` ({hint}expected one of {})", ENTITIES.join(", "))))
        }
    }
}

/// A `toFQDNs` entry: exactly one of `matchName` and `matchPattern`, in the characters
/// fqdn.go allows (`allowedMatchNameChars`, `allowedPatternChars`). Kept as written.
fn fqdn(n: &Node) -> Result<String> {
    if n.as_map().is_none() {
        return Err(error(n, format!("`toFQDNs` entries must be mappings with `matchName` or `matchPattern`, found {}", n.kind_name())));
    }
    let name = text(n, "matchName")?.filter(|s| !s.is_empty());
    let pattern = text(n, "matchPattern")?.filter(|s| !s.is_empty());
    let (key, written, wildcard) = match (name, pattern) {
        (Some(name), None) => ("matchName", name, false),
        (None, Some(pattern)) => ("matchPattern", pattern, true),
        _ => return Err(error(n, "a `toFQDNs` entry needs exactly one of `matchName` and `matchPattern`")),
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') || (wildcard && c == '*');
    if !written.chars().all(allowed) {
        let at = field(n, key).unwrap_or(n);
        let extra = if wildcard { ", `.` and `*`" } else { " and `.`" };
        return Err(error(at, format!("`{key}` `{written}` has characters a DNS name cannot have (letters, digits, `-`, `_`{extra})")));
    }
    Ok(written.to_string())
}

/// One `toPorts` entry. `null` decodes to the empty entry: every port.
fn port_rule(n: &Node, s: Section) -> Result<CiliumPortRule> {
    if n.is_null() {
        return Ok(CiliumPortRule::default());
    }
    if n.as_map().is_none() {
        return Err(error(n, format!("`toPorts` entries must be mappings with `ports`, found {}", n.kind_name())));
    }
    let items = list(n, "ports")?;
    if items.len() > MAX_PORTS {
        let at = field(n, "ports").unwrap_or(n);
        return Err(error(at, format!("a `toPorts` entry takes at most {MAX_PORTS} ports, found {}", items.len())));
    }
    let mut ports = Vec::new();
    for p in items {
        ports.push(port(p)?);
    }
    if s.deny {
        if let Some(entry) = n.as_map().unwrap_or_default().iter().find(|e| ALLOW_ONLY_PORT_KEYS.contains(&e.key.as_str())) {
            let message = format!("`{}` is not allowed in `{}` rules: deny rules match ports only, with no L7 rules", entry.key, s.key());
            return Err(error(&entry.value, message));
        }
        return Ok(CiliumPortRule { ports, l7: Vec::new() });
    }

    let mut l7 = match mapping(n, "rules")? {
        Some(rules) => l7_kinds(rules)?,
        None => Vec::new(),
    };
    let rules_node = field(n, "rules").unwrap_or(n);
    let dns = l7.iter().any(|k| k == "dns");
    if dns && !s.egress {
        return Err(error(rules_node, "`dns` rules are not allowed on ingress (Cilium's DNS proxy applies to egress)"));
    }
    if !l7.is_empty() {
        // A host policy takes no L7 rules on ingress, and only `dns` ones on egress
        // (`l7EgressSupport` counts http, kafka and dns; `l7proto` is not counted there).
        let unsupported = if s.egress { l7.iter().find(|k| *k == "http" || *k == "kafka") } else { l7.first() };
        if let (true, Some(kind)) = (s.host, unsupported) {
            let direction = if s.egress { "egress" } else { "ingress" };
            return Err(error(rules_node, format!("a host policy (`nodeSelector`) does not support `{kind}` rules on {direction}")));
        }
        if dns && items.is_empty() {
            return Err(error(rules_node, "`dns` rules need the DNS port listed in `ports` (port 53)"));
        }
        for (p, written) in ports.iter().zip(items) {
            if p.port == CiliumPortNumber::Number(0) {
                return Err(error(written, "L7 rules cannot be used with port 0 (every port); list the ports"));
            }
            if let (true, CiliumPortNumber::Number(start), Some(end)) = (dns, &p.port, p.end_port) {
                if end > *start {
                    return Err(error(written, "`dns` rules do not support port ranges (`endPort`)"));
                }
            }
            if !dns && p.protocol != CiliumProtocol::Tcp {
                let at = field(written, "protocol").unwrap_or(written);
                return Err(error(at, "L7 rules other than `dns` apply to TCP only: set `protocol: TCP`"));
            }
        }
    }
    let server_names = list(n, "serverNames")?;
    for name in server_names {
        if name.as_scalar().is_none_or(str::is_empty) {
            return Err(error(name, "`serverNames` entries must be TLS server names, not empty"));
        }
    }
    if !server_names.is_empty() && !l7.is_empty() && field(n, "terminatingTLS").is_none() {
        let at = field(n, "serverNames").unwrap_or(n);
        return Err(error(at, "`serverNames` with L7 rules needs `terminatingTLS` (the proxy must see the TLS handshake)"));
    }
    if let Some(listener) = field(n, "listener") {
        if !s.egress {
            return Err(error(listener, "`listener` is only allowed in egress rules"));
        }
        if !l7.is_empty() {
            return Err(error(listener, "`listener` cannot be combined with L7 `rules`"));
        }
    }
    if !server_names.is_empty() {
        l7.push("serverNames".to_string());
    }
    Ok(CiliumPortRule { ports, l7 })
}

/// The L7 rule kinds of `rules` with at least one rule. `L7Rules` is a union: one kind
/// per entry (`L7Rules.Validate`), and `l7` needs `l7proto`. Empty lists are no rules
/// (`IsEmpty` counts entries).
fn l7_kinds(rules: &Node) -> Result<Vec<String>> {
    let mut present: Vec<(&str, &Node)> = Vec::new();
    let mut kinds = Vec::new();
    for key in ["http", "kafka", "dns"] {
        let Some(n) = field(rules, key) else { continue };
        present.push((key, n));
        if !list(rules, key)?.is_empty() {
            kinds.push(key.to_string());
        }
    }
    let proto = text(rules, "l7proto")?.filter(|p| !p.is_empty());
    let l7 = list(rules, "l7")?;
    if let (Some(n), None) = (field(rules, "l7"), proto) {
        return Err(error(n, "`l7` rules need `l7proto` naming the protocol"));
    }
    if let (Some(n), Some(_)) = (field(rules, "l7proto"), proto) {
        present.push(("l7proto", n));
        if !l7.is_empty() {
            kinds.push("l7proto".to_string());
        }
    }
    if let (false, [(first, _), (second, at), ..]) = (kinds.is_empty(), present.as_slice()) {
        return Err(error(at, format!("a `toPorts` entry takes one kind of L7 rule, found `{first}` and `{second}`")));
    }
    Ok(kinds)
}

/// One port of a `toPorts` entry: `port` (a number 0-65535 where 0 is every port, or a
/// port name), `endPort`, `protocol` (ANY when unset).
fn port(n: &Node) -> Result<CiliumPort> {
    if n.as_map().is_none() {
        return Err(error(n, format!("`ports` entries must be mappings with `port` and `protocol`, found {}", n.kind_name())));
    }
    let port_node =
        field(n, "port").ok_or_else(|| error(n, "a `ports` entry needs `port` (a number, a port name, or \"0\" for every port)"))?;
    let port = port_number(port_node)?;
    let end_port = match field(n, "endPort") {
        None => None,
        Some(e) => end_port(e, &port)?,
    };
    Ok(CiliumPort { port, end_port, protocol: protocol(n)? })
}

/// `port`, a string in the API (YAML may write a number). PortProtocol.Validate tries an
/// IANA service name first (`iana.IsSvcName`, then lower-cased), then
/// `strconv.ParseUint(port, 0, 16)`: base 0, so a leading 0 means octal.
fn port_number(n: &Node) -> Result<CiliumPortNumber> {
    const EXPECTED: &str = "a port number 0-65535 or a port name (1-15 letters, digits and single `-`, with a letter)";
    let written = match &n.value {
        Value::Scalar(s) if !s.text.trim().is_empty() => s.text.trim(),
        _ => return Err(error(n, format!("`port` must be {EXPECTED}, found {}", n.kind_name()))),
    };
    if is_service_name(written) {
        return Ok(CiliumPortNumber::Named(written.to_ascii_lowercase()));
    }
    if written.bytes().all(|b| b.is_ascii_digit()) {
        let (digits, radix) = match written.strip_prefix('0') {
            Some(rest) if !rest.is_empty() => (rest, 8),
            _ => (written, 10),
        };
        if let Ok(p) = u16::from_str_radix(digits, radix) {
            return Ok(CiliumPortNumber::Number(p));
        }
        if radix == 8 {
            return Err(error(n, format!("`port` `{written}` starts with 0, which Cilium reads as octal; write it without the leading 0")));
        }
    }
    Err(error(n, format!("`port` must be {EXPECTED}, found `{written}`")))
}

/// `iana.IsSvcName`: 1-15 characters of letters, digits and non-adjacent `-`, not at
/// either end, with at least one letter.
fn is_service_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=15).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b.iter().any(u8::is_ascii_alphabetic)
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// `endPort`: an int32 from 0 to 65535 (CRD minimum and maximum) where 0 is unset.
/// layer4.rst: "EndPort is ignored if Port is a named port". A range must not end
/// before it starts.
fn end_port(n: &Node, port: &CiliumPortNumber) -> Result<Option<u16>> {
    let end = match &n.value {
        Value::Scalar(s) if !s.quoted && !s.text.is_empty() && s.text.bytes().all(|b| b.is_ascii_digit()) => s.text.parse::<u16>().ok(),
        _ => None,
    };
    let end = end.ok_or_else(|| error(n, format!("`endPort` must be a port number 0-65535, found {}", describe(n))))?;
    match port {
        _ if end == 0 => Ok(None),
        CiliumPortNumber::Named(_) => Ok(None),
        CiliumPortNumber::Number(start) if end < *start => {
            Err(error(n, format!("`endPort` {end} is lower than `port` {start}; a range needs endPort ≥ port")))
        }
        CiliumPortNumber::Number(_) => Ok(Some(end)),
    }
}

/// A scalar shown as written (quoted when it was), or the node's kind.
fn describe(n: &Node) -> String {
    match &n.value {
        Value::Scalar(s) if s.quoted => format!("the string \"{}\"", s.text),
        Value::Scalar(s) => format!("`{}`", s.text),
        _ => n.kind_name().to_string(),
    }
}

/// `protocol`: the CRD enum TCP, UDP, SCTP, ANY (case-sensitive); empty or unset is ANY.
fn protocol(n: &Node) -> Result<CiliumProtocol> {
    const NAMES: &[(&str, CiliumProtocol)] =
        &[("TCP", CiliumProtocol::Tcp), ("UDP", CiliumProtocol::Udp), ("SCTP", CiliumProtocol::Sctp), ("ANY", CiliumProtocol::Any)];
    let written = match text(n, "protocol")? {
        None | Some("") => return Ok(CiliumProtocol::Any),
        Some(p) => p,
    };
    if let Some((_, p)) = NAMES.iter().find(|(name, _)| *name == written) {
        return Ok(*p);
    }
    let at = field(n, "protocol").unwrap_or(n);
    match NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(written)) {
        Some((name, _)) => Err(error(at, format!("`protocol` `{written}` is spelled `{name}` (the CRD's values are case-sensitive)"))),
        None => Err(error(at, format!("unknown `protocol` `{written}` (expected TCP, UDP, SCTP or ANY)"))),
    }
}

/// ICMPv4 type names Cilium accepts for `type` (`icmpIpv4TypeNameToCode`, icmp.go).
const ICMPV4_TYPE_NAMES: &[(&str, u8)] = &[
    ("EchoReply", 0),
    ("DestinationUnreachable", 3),
    ("Redirect", 5),
    ("Echo", 8),
    ("EchoRequest", 8),
    ("RouterAdvertisement", 9),
    ("RouterSelection", 10),
    ("TimeExceeded", 11),
    ("ParameterProblem", 12),
    ("Timestamp", 13),
    ("TimestampReply", 14),
    ("Photuris", 40),
    ("ExtendedEchoRequest", 42),
    ("ExtendedEchoReply", 43),
];

/// An `icmps` entry: `fields` of `{type, family}`, family IPv4 or IPv6 (ICMPRule.Validate),
/// type a number 0-255 or one of Cilium's names. An ICMPv6 name is kept unresolved:
/// IPv6 is not evaluated.
fn icmp_rule(n: &Node) -> Result<Vec<CiliumIcmp>> {
    if n.as_map().is_none() {
        return Err(error(n, format!("`icmps` entries must be mappings with `fields`, found {}", n.kind_name())));
    }
    let fields = list(n, "fields")?;
    if fields.len() > MAX_ICMP_FIELDS {
        let at = field(n, "fields").unwrap_or(n);
        return Err(error(at, format!("an `icmps` entry takes at most {MAX_ICMP_FIELDS} fields, found {}", fields.len())));
    }
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        if f.as_map().is_none() {
            return Err(error(f, format!("`fields` entries must be mappings with `type`, found {}", f.kind_name())));
        }
        let ipv6 = match text(f, "family")? {
            None | Some("" | "IPv4") => false,
            Some("IPv6") => true,
            Some(other) => {
                let at = field(f, "family").unwrap_or(f);
                return Err(error(at, format!("unknown ICMP `family` `{other}` (expected IPv4 or IPv6)")));
            }
        };
        let Some(ty) = field(f, "type") else {
            return Err(error(f, "an ICMP field needs `type` (a number or a name such as EchoRequest)"));
        };
        let written = ty.as_scalar().unwrap_or_default();
        let icmp_type = match written.parse::<u8>() {
            Ok(number) => Some(number),
            Err(_) if written.chars().all(|c| c.is_ascii_digit()) && !written.is_empty() => {
                return Err(error(ty, format!("ICMP `type` {written} is out of range (0-255)")));
            }
            Err(_) if ipv6 => None,
            Err(_) => match ICMPV4_TYPE_NAMES.iter().find(|(name, _)| *name == written) {
                Some((_, number)) => Some(*number),
                None => {
                    let names: Vec<&str> = ICMPV4_TYPE_NAMES.iter().map(|(name, _)| *name).collect();
                    return Err(error(ty, format!("unknown ICMP type `{written}` (a number 0-255, or one of {})", names.join(", "))));
                }
            },
        };
        out.push(CiliumIcmp { ipv6, icmp_type });
    }
    Ok(out)
}

/// `authentication.mode`: the CRD enum (rule.go).
fn authentication(n: &Node) -> Result<()> {
    let mode = field(n, "mode").ok_or_else(|| error(n, "`authentication` needs `mode` (disabled or required)"))?;
    match mode.as_scalar() {
        Some("disabled" | "required" | "test-always-fail") => Ok(()),
        _ => Err(error(mode, format!("unknown authentication `mode` `{mode}` (expected disabled or required)"))),
    }
}

#[cfg(test)]
#[path = "cilium_tests.rs"]
mod tests;

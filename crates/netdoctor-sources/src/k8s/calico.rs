//! Calico's policy resources (`projectcalico.org/v3`, and `crd.projectcalico.org/v1` as
//! the Kubernetes datastore stores them) lowered into `netdoctor_model::calico_policy`:
//! NetworkPolicy and GlobalNetworkPolicy, Tier, NetworkSet and GlobalNetworkSet.
//!
//! The checks follow Calico's own: the types in projectcalico/calico
//! api/pkg/apis/projectcalico/v3 (policy_common.go, networkpolicy.go,
//! globalnetworkpolicy.go), the validator in libcalico-go/lib/validator/v3/validator.go,
//! and the resource reference in tigera/docs calico/reference/resources/. The CRD group
//! stores the same spec shape (libcalico-go/config/crd/crd.projectcalico.org_networkpolicies.yaml
//! holds the v3 `Rule`, with the same `action` enum), so both groups share one reader.

use super::calico_selector;
use super::lower::{name, namespace_of};
use super::value::{boolean, cidr, error, field, labels, list, mapping, origin, text};
use crate::error::{LoadError, Result};
use crate::tree::{Node, Value};
use ipnet::IpNet;
use netdoctor_model::calico::SelectorExpr;
use netdoctor_model::calico_policy::{
    CalicoAction, CalicoKind, CalicoPolicy, CalicoPort, CalicoProtocol, CalicoRule, CalicoTier, EntityRule, IcmpMatch, NetworkSet,
    TierDefault, DEFAULT_TIER,
};
use netdoctor_model::k8s::{Labels, PolicyType};
use netdoctor_model::Span;
use std::net::IpAddr;

/// The group whose objects were validated by Calico's API server or calicoctl.
const API_GROUP_VERSION: &str = "projectcalico.org/v3";

/// The order the `default` tier must have (`DefaultTierOrder` in tier.go).
const DEFAULT_TIER_ORDER: f64 = 1_000_000.0;

/// A label Calico reserves for its own mapping of namespaces (validateNetworkSet).
const RESERVED_NAMESPACE_LABEL: &str = "projectcalico.org/namespace";

/// Protocol names as the v3 API spells them (`protocolRegex` in validator.go).
const PROTOCOL_NAMES: &[(&str, CalicoProtocol)] = &[
    ("TCP", CalicoProtocol::Tcp),
    ("UDP", CalicoProtocol::Udp),
    ("ICMP", CalicoProtocol::Icmp),
    ("ICMPv6", CalicoProtocol::IcmpV6),
    ("SCTP", CalicoProtocol::Sctp),
    ("UDPLite", CalicoProtocol::UdpLite),
];

/// A Calico NetworkPolicy or GlobalNetworkPolicy.
pub(crate) fn network_policy(node: &Node, kind: CalicoKind, api_version: &str) -> Result<CalicoPolicy> {
    let global = kind == CalicoKind::GlobalNetworkPolicy;
    let name = name(node)?;
    let namespace = if global { None } else { Some(namespace_of(node)?) };
    let empty = Node::new(Value::Null, node.span.clone());
    // A missing spec is the zero spec: selects every endpoint, and isolates it for ingress.
    let spec = mapping(node, "spec")?.unwrap_or(&empty);
    let reader = Reader { global, api_checked: api_version == API_GROUP_VERSION };

    // `+kubebuilder:default=default` on `Tier` (networkpolicy.go): the API server fills
    // it in for CRD objects too, so a missing tier never comes from the name's prefix.
    let tier = match text(spec, "tier")? {
        None | Some("") => DEFAULT_TIER.to_string(),
        Some(t) => {
            let at = field(spec, "tier").unwrap_or(spec);
            check_tier_name(at, t)?;
            t.to_string()
        }
    };
    let selector = selector_field(spec, "selector", Global::Forbidden)?.unwrap_or(SelectorExpr::All);
    let service_account_selector = selector_field(spec, "serviceAccountSelector", Global::Forbidden)?;
    let namespace_selector = if global {
        selector_field(spec, "namespaceSelector", Global::Forbidden)?
    } else {
        if let Some(n) = field(spec, "namespaceSelector") {
            return Err(error(
                n,
                "`namespaceSelector` is a GlobalNetworkPolicy field; a NetworkPolicy selects endpoints of its own namespace",
            ));
        }
        None
    };

    let mut ingress = Vec::new();
    for rule in list(spec, "ingress")? {
        ingress.push(reader.rule(rule, PolicyType::Ingress)?);
    }
    let mut egress = Vec::new();
    for rule in list(spec, "egress")? {
        egress.push(reader.rule(rule, PolicyType::Egress)?);
    }
    let types = policy_types(spec, !ingress.is_empty(), !egress.is_empty())?;
    let unevaluated = host_flags(spec, global, &types)?;

    Ok(CalicoPolicy {
        kind,
        api_version: api_version.to_string(),
        namespace,
        name,
        tier,
        order: order(spec, "order")?,
        selector,
        namespace_selector,
        service_account_selector,
        types,
        ingress,
        egress,
        unevaluated,
        origin: origin(node),
    })
}

/// A Calico Tier: `order` (none sorts last) and `defaultAction` (Deny unless Pass).
pub(crate) fn tier(node: &Node) -> Result<CalicoTier> {
    let name = name(node)?;
    let name_node = mapping(node, "metadata")?.and_then(|m| field(m, "name")).unwrap_or(node);
    check_tier_name(name_node, &name)?;
    let (order, default_action) = match mapping(node, "spec")? {
        None => (None, TierDefault::Deny),
        Some(spec) => (order(spec, "order")?, tier_default(spec)?),
    };
    // validateTier: the `default` tier, which holds Kubernetes policies, sits at a fixed order.
    if name == DEFAULT_TIER && order != Some(DEFAULT_TIER_ORDER) {
        let at = mapping(node, "spec")?.and_then(|s| field(s, "order")).unwrap_or(node);
        return Err(error(at, format!("the `default` tier must have order {DEFAULT_TIER_ORDER}")));
    }
    Ok(CalicoTier { name, order, default_action, origin: origin(node) })
}

/// A NetworkSet (namespaced, `default` when unset) or a GlobalNetworkSet.
pub(crate) fn network_set(node: &Node, global: bool) -> Result<NetworkSet> {
    let name = name(node)?;
    let namespace = if global { None } else { Some(namespace_of(node)?) };
    let set_labels = match mapping(node, "metadata")? {
        Some(meta) => {
            let set_labels = labels(meta, "labels")?;
            if set_labels.contains_key(RESERVED_NAMESPACE_LABEL) {
                let at = mapping(meta, "labels")?.and_then(|l| l.get(RESERVED_NAMESPACE_LABEL)).unwrap_or(meta);
                return Err(error(at, format!("`{RESERVED_NAMESPACE_LABEL}` is a label Calico reserves; give the set another label")));
            }
            set_labels
        }
        None => Labels::new(),
    };
    let mut nets = Vec::new();
    if let Some(spec) = mapping(node, "spec")? {
        // Unlike rule nets, a set's nets may be bare addresses or have host bits set
        // (validator_test.go accepts "10.0.0.1" and "10.0.0.1/24").
        for n in list(spec, "nets")? {
            nets.push(cidr(n, "nets")?);
        }
    }
    Ok(NetworkSet { namespace, name, labels: set_labels, nets, origin: origin(node) })
}

/// Tier names are single DNS labels (`tierNameRegex`): they prefix policy names, so no dots.
fn check_tier_name(at: &Node, name: &str) -> Result<()> {
    let label = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    let valid = bytes.first().copied().is_some_and(label)
        && bytes.last().copied().is_some_and(label)
        && bytes.iter().all(|b| label(*b) || *b == b'-')
        && bytes.len() <= 63;
    if valid {
        return Ok(());
    }
    Err(error(
        at,
        format!(
            "`{name}` is not a tier name: use lower-case letters, digits and `-` (at most 63), starting and ending with a letter or digit"
        ),
    ))
}

/// `order`: a JSON number, integer or not (`*float64` in the Go types).
fn order(node: &Node, key: &str) -> Result<Option<f64>> {
    let Some(n) = field(node, key) else { return Ok(None) };
    match &n.value {
        Value::Scalar(s) if !s.quoted => match s.text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(error(n, format!("`{key}` must be a number such as 100 or 10.5, found `{}`", s.text))),
        },
        Value::Scalar(s) => Err(error(n, format!("`{key}` must be a number such as 100 or 10.5, found the string \"{}\"", s.text))),
        _ => Err(error(n, format!("`{key}` must be a number such as 100 or 10.5, found {}", n.kind_name()))),
    }
}

/// `spec.defaultAction` of a tier: an enum of `Deny` and `Pass` in the CRD schema.
fn tier_default(spec: &Node) -> Result<TierDefault> {
    let Some(n) = field(spec, "defaultAction") else { return Ok(TierDefault::Deny) };
    match n.as_scalar() {
        Some("Deny") => Ok(TierDefault::Deny),
        Some("Pass") => Ok(TierDefault::Pass),
        _ => Err(error(n, format!("unknown tier `defaultAction` `{n}` (expected Deny or Pass, case-sensitive)"))),
    }
}

/// `spec.types`. When absent (or empty), Calico fills it in from the rules present
/// (`defaultPolicyTypesField` in libcalico-go/lib/clientv3/networkpolicy.go, and the
/// `Types` doc in networkpolicy.go): Ingress when there are no egress rules, Egress
/// when there are egress rules but no ingress rules, both when there are both. So an
/// egress-only policy does not isolate ingress.
fn policy_types(spec: &Node, has_ingress: bool, has_egress: bool) -> Result<Vec<PolicyType>> {
    let mut types = Vec::new();
    for t in list(spec, "types")? {
        let parsed = match t.as_scalar() {
            Some("Ingress") => PolicyType::Ingress,
            Some("Egress") => PolicyType::Egress,
            _ => return Err(error(t, format!("unknown policy type `{t}` (expected Ingress or Egress, case-sensitive)"))),
        };
        if types.contains(&parsed) {
            return Err(error(t, format!("`{t}` is listed twice in `types`")));
        }
        types.push(parsed);
    }
    if types.is_empty() {
        types = match (has_ingress, has_egress) {
            (_, false) => vec![PolicyType::Ingress],
            (false, true) => vec![PolicyType::Egress],
            (true, true) => vec![PolicyType::Ingress, PolicyType::Egress],
        };
    }
    Ok(types)
}

/// `doNotTrack`, `preDNAT` and `applyOnForward`: GlobalNetworkPolicy fields that only
/// matter on host endpoints. Returned as the names of those set, for `unevaluated`,
/// after Calico's checks of how they combine (validateGlobalNetworkPolicySpec).
fn host_flags(spec: &Node, global: bool, types: &[PolicyType]) -> Result<Vec<String>> {
    let mut set = Vec::new();
    for key in ["applyOnForward", "preDNAT", "doNotTrack"] {
        let Some(value) = boolean(spec, key)? else { continue };
        if !global {
            let at = field(spec, key).unwrap_or(spec);
            return Err(error(at, format!("`{key}` is a GlobalNetworkPolicy field; a NetworkPolicy has no `{key}`")));
        }
        if value {
            set.push(key.to_string());
        }
    }
    let on = |key: &str| set.iter().any(|k| k == key);
    let at = |key: &str| field(spec, key).unwrap_or(spec);
    if on("preDNAT") && on("doNotTrack") {
        return Err(error(at("preDNAT"), "`preDNAT` and `doNotTrack` cannot both be true"));
    }
    if (on("preDNAT") || on("doNotTrack")) && !on("applyOnForward") {
        let key = if on("preDNAT") { "preDNAT" } else { "doNotTrack" };
        return Err(error(at(key), format!("`{key}: true` needs `applyOnForward: true` as well")));
    }
    if on("preDNAT") && (!list(spec, "egress")?.is_empty() || types.contains(&PolicyType::Egress)) {
        return Err(error(at("preDNAT"), "a `preDNAT` policy applies to ingress only: it cannot have egress rules or the Egress type"));
    }
    Ok(set)
}

/// Where `global()` may appear in a selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Global {
    /// Policy selectors and rule `selector`s: "global() can only be used in an
    /// EntityRule namespaceSelector" (validator.go, and the CEL rules in policy_common.go).
    Forbidden,
    /// A rule's `namespaceSelector`: `global()` must then be the whole selector.
    Alone,
    /// `notSelector` and `serviceAccounts.selector`, which Calico does not check.
    Unchecked,
}

/// A selector field; `None` when absent, null or the empty string (which Calico
/// treats as unset). A blank selector is `all()`, which is not the same as none in a
/// rule: `all()` matches known endpoints only.
pub(crate) fn selector_field(node: &Node, key: &str, global: Global) -> Result<Option<SelectorExpr>> {
    let Some(n) = field(node, key) else { return Ok(None) };
    let Some(source) = n.as_scalar() else {
        return Err(error(n, format!("`{key}` must be a selector string such as \"app == 'web'\", found {}", n.kind_name())));
    };
    if source.is_empty() {
        return Ok(None);
    }
    // A quoted scalar that starts below its key may be a block scalar (`|`, `>`), whose
    // start is its first content line, with no quote to skip.
    let beside_key = node.entry(key).is_some_and(|e| e.key_span.line == n.span.line);
    let locate = |offset: usize, message: &str| at_offset(n, beside_key, source, offset, &format!("`{key}`: {message}"));
    let expr = calico_selector::parse(source).map_err(|e| locate(e.offset, &e.message))?;
    if let Some(at) = source.find("global(") {
        let misplaced = match global {
            Global::Forbidden => Some("`global()` can only be used in a rule's `namespaceSelector`"),
            Global::Alone if expr != SelectorExpr::Global => Some("`global()` cannot be combined with other selectors"),
            _ => None,
        };
        if let Some(message) = misplaced {
            return Err(locate(at, message));
        }
    }
    Ok(Some(expr))
}

/// An error at byte `offset` of the selector text held by scalar `n`.
///
/// The tree records where a scalar starts and whether it was quoted, not its quote
/// style or whether it spans lines. The column is exact when the source spells the
/// text before `offset` character for character, on one line: a plain scalar, or a
/// quoted one beside its key (start + 1 for the quote) with no quote or backslash
/// before `offset`, which could have been escaped. Otherwise the error points at the
/// scalar; in every case the message gives the position within the selector. A plain
/// scalar folded over several lines still gets the shifted column, which is then off.
fn at_offset(n: &Node, beside_key: bool, source: &str, offset: usize, message: &str) -> LoadError {
    let before = source.get(..offset).unwrap_or(source);
    let character = before.chars().count() + 1;
    let message = format!("{message} (at character {character} of the selector)");
    let quoted = matches!(&n.value, Value::Scalar(s) if s.quoted);
    let unsure = quoted && (!beside_key || before.contains(['\'', '"', '\\']));
    if n.span.line == 0 || unsure || source.contains('\n') {
        return error(n, message);
    }
    let shift = u32::try_from(before.chars().count() + usize::from(quoted)).unwrap_or(0);
    let span = Span::new(n.span.file.clone(), n.span.line, n.span.column.saturating_add(shift));
    LoadError::at(&span, message)
}

/// Reads rules with what depends on the whole policy.
struct Reader {
    /// A GlobalNetworkPolicy: rule `services` need a namespace.
    global: bool,
    /// Read from `projectcalico.org/v3`, whose validation makes protocol names
    /// case-sensitive. CRD objects skip that validation (the CRD schema leaves
    /// `protocol` an open int-or-string), and Felix lower-cases names before use
    /// (`ToV1` in api/pkg/lib/numorstring/protocol.go), so any case works there.
    api_checked: bool,
}

impl Reader {
    fn rule(&self, rule: &Node, direction: PolicyType) -> Result<CalicoRule> {
        if rule.as_map().is_none() {
            return Err(error(rule, format!("a rule must be a mapping, found {}", rule.kind_name())));
        }
        let action_node = field(rule, "action").ok_or_else(|| error(rule, "a rule needs `action` (Allow, Deny, Pass or Log)"))?;
        let action = match action_node.as_scalar() {
            Some("Allow") => CalicoAction::Allow,
            Some("Deny") => CalicoAction::Deny,
            Some("Pass") => CalicoAction::Pass,
            Some("Log") => CalicoAction::Log,
            _ => {
                return Err(error(
                    action_node,
                    format!("unknown action `{action_node}` (expected Allow, Deny, Pass or Log, case-sensitive)"),
                ))
            }
        };
        let protocol = field(rule, "protocol").map(|n| self.protocol(n, "protocol")).transpose()?;
        let not_protocol = field(rule, "notProtocol").map(|n| self.protocol(n, "notProtocol")).transpose()?;
        let ip_version = match field(rule, "ipVersion") {
            None => None,
            Some(n) => match small_int(n, "ipVersion", "4 or 6")? {
                4 => Some(4),
                6 => Some(6),
                _ => return Err(error(n, format!("`ipVersion` must be 4 or 6, found {n}"))),
            },
        };
        let icmp = mapping(rule, "icmp")?.map(|n| icmp_match(n, "icmp")).transpose()?;
        let not_icmp = mapping(rule, "notICMP")?.map(|n| icmp_match(n, "notICMP")).transpose()?;
        // validateRule checks `icmp` only; `notICMP` may go with any protocol.
        if let Some(n) = field(rule, "icmp") {
            if !matches!(protocol.map(CalicoProtocol::number), Some(1 | 58)) {
                return Err(error(n, "`icmp` needs `protocol: ICMP` or `protocol: ICMPv6` in the same rule"));
            }
        }
        for (key, p) in [("protocol", protocol), ("notProtocol", not_protocol)] {
            let Some(p) = p else { continue };
            let at = field(rule, key).unwrap_or(rule);
            match (p.number(), ip_version) {
                (1, Some(6)) => return Err(error(at, format!("`{key}` ICMP is IPv4 only, but `ipVersion` is 6 (use ICMPv6)"))),
                (58, Some(4)) => return Err(error(at, format!("`{key}` ICMPv6 is IPv6 only, but `ipVersion` is 4 (use ICMP)"))),
                _ => {}
            }
        }

        let source = match mapping(rule, "source")? {
            Some(n) => self.entity(n, "source")?,
            None => EntityRule::default(),
        };
        let destination = match mapping(rule, "destination")? {
            Some(n) => self.entity(n, "destination")?,
            None => EntityRule::default(),
        };
        check_ports(rule, protocol)?;
        check_families(rule, ip_version)?;
        self.check_services(rule, direction)?;

        let mut unevaluated = Vec::new();
        if let Some(http) = field(rule, "http") {
            // Application layer policy: matched by the L7 proxy, not by addresses and ports.
            if direction == PolicyType::Egress {
                return Err(error(http, "`http` match criteria are only allowed in ingress rules"));
            }
            if action != CalicoAction::Allow {
                return Err(error(http, "`http` match criteria are only allowed in Allow rules"));
            }
            if !matches!(protocol, None | Some(CalicoProtocol::Tcp | CalicoProtocol::Number(6))) {
                return Err(error(http, "`http` match criteria need `protocol: TCP` or no protocol"));
            }
            unevaluated.push("http".to_string());
        }
        // `metadata` (annotations) never changes what a rule matches.
        Ok(CalicoRule {
            action,
            protocol,
            not_protocol,
            icmp,
            not_icmp,
            ip_version,
            source,
            destination,
            unevaluated,
            origin: origin(rule),
        })
    }

    /// `protocol`/`notProtocol`: a name, or a number 1-255 (written bare or quoted, as
    /// `Uint8OrString` parses digits in a string as a number).
    fn protocol(&self, n: &Node, key: &str) -> Result<CalicoProtocol> {
        const EXPECTED: &str = "TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255";
        let Some(written) = n.as_scalar() else {
            return Err(error(n, format!("`{key}` must be {EXPECTED}, found {}", n.kind_name())));
        };
        if !written.is_empty() && written.bytes().all(|b| b.is_ascii_digit()) {
            return match written.parse::<u8>() {
                Ok(0) | Err(_) => Err(error(n, format!("`{key}` number must be 1-255, found {written}"))),
                Ok(number) => Ok(CalicoProtocol::Number(number)),
            };
        }
        if let Some((_, p)) = PROTOCOL_NAMES.iter().find(|(name, _)| *name == written) {
            return Ok(*p);
        }
        let folded = PROTOCOL_NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(written));
        match folded {
            Some((_, p)) if !self.api_checked => Ok(*p),
            Some((name, _)) => {
                Err(error(n, format!("`{key}` `{written}` is spelled `{name}` in projectcalico.org/v3 (names are case-sensitive)")))
            }
            None => Err(error(n, format!("unknown `{key}` `{written}` (expected {EXPECTED})"))),
        }
    }

    /// A rule's `source` or `destination`.
    fn entity(&self, n: &Node, side: &str) -> Result<EntityRule> {
        let mut entity = EntityRule {
            nets: rule_nets(n, "nets")?,
            not_nets: rule_nets(n, "notNets")?,
            selector: selector_field(n, "selector", Global::Forbidden)?,
            not_selector: selector_field(n, "notSelector", Global::Unchecked)?,
            namespace_selector: selector_field(n, "namespaceSelector", Global::Alone)?,
            ports: ports(n, "ports")?,
            not_ports: ports(n, "notPorts")?,
            ..EntityRule::default()
        };
        if let Some(accounts) = mapping(n, "serviceAccounts")? {
            for name in list(accounts, "names")? {
                let account = name.as_scalar().filter(|s| !s.is_empty());
                let account = account.ok_or_else(|| error(name, "`serviceAccounts.names` entries must be service account names"))?;
                entity.service_account_names.push(account.to_string());
            }
            entity.service_account_selector = selector_field(accounts, "selector", Global::Unchecked)?;
        }
        if let Some(services) = mapping(n, "services")? {
            let service_name = text(services, "name")?.filter(|s| !s.is_empty());
            let service_name = service_name.ok_or_else(|| error(services, format!("`{side}.services` needs the service's `name`")))?;
            let service_namespace = text(services, "namespace")?.filter(|s| !s.is_empty()).map(str::to_string);
            if self.global && service_namespace.is_none() {
                return Err(error(services, format!("`{side}.services` in a GlobalNetworkPolicy needs a `namespace`")));
            }
            // validateEntityRule: a service stands for its endpoints' addresses and
            // pods, so nothing else may pick the peer.
            for other in ["selector", "notSelector", "namespaceSelector", "serviceAccounts", "nets", "notNets"] {
                if let Some(o) = field(n, other).filter(|o| !is_empty_value(o)) {
                    return Err(error(o, format!("`{other}` cannot be combined with `services` in the same `{side}`")));
                }
            }
            entity.service = Some((service_name.to_string(), service_namespace));
        }
        Ok(entity)
    }

    /// Where `services` may appear: only as the source of ingress rules and the
    /// destination of egress rules, and a destination service brings its own ports.
    fn check_services(&self, rule: &Node, direction: PolicyType) -> Result<()> {
        let wrong_side = match direction {
            PolicyType::Ingress => "destination",
            PolicyType::Egress => "source",
        };
        if let Some(services) = mapping(rule, wrong_side)?.and_then(|side| field(side, "services")) {
            let (dir, right) = if direction == PolicyType::Ingress { ("ingress", "source") } else { ("egress", "destination") };
            return Err(error(services, format!("`services` is not allowed in an {dir} rule's {wrong_side}; use it in the {right}")));
        }
        if let Some(dest) = mapping(rule, "destination")?.filter(|d| field(d, "services").is_some()) {
            for key in ["ports", "notPorts"] {
                if let Some(p) = field(dest, key).filter(|p| !is_empty_value(p)) {
                    return Err(error(
                        p,
                        format!("`destination.{key}` cannot be combined with `destination.services`, which uses the service's ports"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// An empty string, list or mapping, which Go's `omitempty` treats as unset.
fn is_empty_value(n: &Node) -> bool {
    match &n.value {
        Value::Null => true,
        Value::Scalar(s) => s.text.is_empty(),
        Value::Seq(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
    }
}

/// A small unsigned integer written as a JSON number.
fn small_int(n: &Node, key: &str, expected: &str) -> Result<u16> {
    match &n.value {
        Value::Scalar(s) if !s.quoted => {
            s.text.trim().parse::<u16>().map_err(|_| error(n, format!("`{key}` must be {expected}, found `{}`", s.text)))
        }
        _ => Err(error(n, format!("`{key}` must be {expected}, found {}", n.kind_name()))),
    }
}

/// `icmp`/`notICMP`: `type` 0-254 and `code` 0-255; a code needs a type, as iptables
/// cannot match a code alone (validateICMPFields).
fn icmp_match(n: &Node, key: &str) -> Result<IcmpMatch> {
    let icmp_type = match field(n, "type") {
        None => None,
        Some(t) => match u8::try_from(small_int(t, &format!("{key}.type"), "an ICMP type 0-254")?) {
            Ok(v) if v <= 254 => Some(v),
            _ => return Err(error(t, format!("`{key}.type` must be an ICMP type 0-254, found {t}"))),
        },
    };
    let code = match field(n, "code") {
        None => None,
        Some(c) => match u8::try_from(small_int(c, &format!("{key}.code"), "an ICMP code 0-255")?) {
            Ok(v) => Some(v),
            Err(_) => return Err(error(c, format!("`{key}.code` must be an ICMP code 0-255, found {c}"))),
        },
    };
    if code.is_some() && icmp_type.is_none() {
        let at = field(n, "code").unwrap_or(n);
        return Err(error(at, format!("`{key}.code` needs `{key}.type` as well")));
    }
    Ok(IcmpMatch { icmp_type, code })
}

/// A rule's `nets`/`notNets`: the `net` validator takes a bare address or a CIDR
/// whose host bits are clear (validateIPNetwork in validator.go).
fn rule_nets(n: &Node, key: &str) -> Result<Vec<IpNet>> {
    let mut nets = Vec::new();
    for item in list(n, key)? {
        let written = item.as_scalar().map(str::trim).unwrap_or_default();
        if let Ok(net) = written.parse::<IpNet>() {
            if net != net.trunc() {
                return Err(error(item, format!("`{key}` entry `{written}` has host bits set; write `{}`", net.trunc())));
            }
            nets.push(net);
        } else if let Ok(addr) = written.parse::<IpAddr>() {
            nets.push(IpNet::from(addr));
        } else {
            nets.push(cidr(item, key)?);
        }
    }
    Ok(nets)
}

/// A rule's nets must all be of one IP family, and of the family `ipVersion` names
/// (scanNets in validateRule).
fn check_families(rule: &Node, ip_version: Option<u8>) -> Result<()> {
    let mut seen: Option<(bool, &Node)> = None;
    for side in ["source", "destination"] {
        let Some(entity) = mapping(rule, side)? else { continue };
        for key in ["nets", "notNets"] {
            for item in list(entity, key)? {
                let Some(v4) = item.as_scalar().and_then(family) else { continue };
                if let Some(version) = ip_version.filter(|v| (*v == 4) != v4) {
                    return Err(error(item, format!("`{side}.{key}` entry `{item}` is not IPv{version}, which `ipVersion` asks for")));
                }
                match seen {
                    Some((first, at)) if first != v4 => {
                        let (line, column) = (at.span.line, at.span.column);
                        return Err(error(
                            item,
                            format!("a rule cannot mix IPv4 and IPv6 nets (`{item}` here, `{at}` at {line}:{column})"),
                        ));
                    }
                    Some(_) => {}
                    None => seen = Some((v4, item)),
                }
            }
        }
    }
    Ok(())
}

/// Whether a written net is IPv4 (`Some(true)`) or IPv6.
fn family(written: &str) -> Option<bool> {
    let written = written.trim();
    written.parse::<IpNet>().map(|n| matches!(n, IpNet::V4(_))).ok().or_else(|| written.parse::<IpAddr>().map(|a| a.is_ipv4()).ok())
}

/// Ports only exist for TCP, UDP and SCTP, so a rule with ports must name one of them
/// (validateRule, with `SupportsPorts` in numorstring/protocol.go).
fn check_ports(rule: &Node, protocol: Option<CalicoProtocol>) -> Result<()> {
    if protocol.is_some_and(|p| matches!(p.number(), 6 | 17 | 132)) {
        return Ok(());
    }
    for side in ["source", "destination"] {
        let Some(entity) = mapping(rule, side)? else { continue };
        for key in ["ports", "notPorts"] {
            if let Some(p) = field(entity, key).filter(|p| !is_empty_value(p)) {
                return Err(error(p, format!("`{side}.{key}` needs `protocol: TCP`, `UDP` or `SCTP` in the rule")));
            }
        }
    }
    Ok(())
}

/// `ports`/`notPorts` of an entity rule.
fn ports(n: &Node, key: &str) -> Result<Vec<CalicoPort>> {
    list(n, key)?.iter().map(|p| port(p, key)).collect()
}

/// One port: a number, a `"start:end"` range, or the name of a port of the endpoint
/// (`PortFromString` in api/pkg/lib/numorstring/port.go, then validatePort).
fn port(n: &Node, key: &str) -> Result<CalicoPort> {
    let written = match &n.value {
        Value::Scalar(s) if !s.text.is_empty() => s.text.as_str(),
        _ => {
            return Err(error(
                n,
                format!("`{key}` entries must be a port number, a \"start:end\" range or a port name, found {}", n.kind_name()),
            ))
        }
    };
    let number = |digits: &str| -> Result<u16> {
        match digits.parse::<u16>() {
            Ok(0) | Err(_) => Err(error(n, format!("`{key}` entry `{written}`: port numbers are 1-65535"))),
            Ok(p) => Ok(p),
        }
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(written) {
        let p = number(written)?;
        return Ok(CalicoPort::Range(p, p));
    }
    if let Some((start, end)) = written.split_once(':').filter(|(a, b)| digits(a) && digits(b)) {
        let (start, end) = (number(start)?, number(end)?);
        if start > end {
            return Err(error(n, format!("`{key}` range `{written}` ends before it starts (write start:end with start ≤ end)")));
        }
        return Ok(CalicoPort::Range(start, end));
    }
    if !is_port_name(written) {
        let message = format!(
            "`{key}` entry `{written}` is neither a port number, a \"start:end\" range nor a port name \
             (1-15 lower-case letters, digits and `-`, with a letter)"
        );
        return Err(error(n, message));
    }
    Ok(CalicoPort::Named(written.to_string()))
}

/// A Kubernetes port name (IANA service name: `IsValidPortName` in apimachinery),
/// which validatePortName requires of named ports.
fn is_port_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=15).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.iter().any(u8::is_ascii_lowercase)
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

#[cfg(test)]
#[path = "calico_tests.rs"]
mod tests;

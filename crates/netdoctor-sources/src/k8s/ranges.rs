//! The cluster's pod and service ranges, from the objects that declare them: ServiceCIDR
//! (`networking.k8s.io/v1` and `v1beta1`), Calico's IPPool (and its block size,
//! encapsulation and node selector) and the Tigera operator's
//! Installation, and the well-known ConfigMaps
//! of kubeadm (`kubeadm-config`: `networking.podSubnet`/`serviceSubnet`), kube-proxy
//! (`clusterCIDR`), Cilium (`cluster-pool-ipv4-cidr`) and flannel (`net-conf.json`
//! `Network`, and its `Backend`: type, port, VNI), and Weave Net's `weave-net` DaemonSet
//! (`IPALLOC_RANGE`, and whether `WEAVE_PASSWORD` is set), and Cilium's agent settings in
//! `cilium-config` (IPAM, routing, tunnel, encryption, address families). Other ConfigMaps, and other
//! keys of these, are never read.

use super::calico::{selector_field, Global};
use super::value::{boolean, cidr, error, field, list, mapping, number, origin, text};
use crate::error::Result;
use crate::tree::Node;
use ipnet::IpNet;
use netdoctor_model::k8s::{
    CalicoPool, CiliumConfig, CiliumRouting, ClusterRange, EncapMode, FlannelBackend, RangeKind, RangeOwner, TunnelProtocol,
    WeaveEncryption, WeaveNet,
};
use netdoctor_model::{Located, Origin};
use std::path::Path;
use std::sync::Arc;

/// The ConfigMaps ranges are read from, by namespace and name, with the data keys read
/// (the only ones a live read keeps).
pub const RANGE_CONFIGMAPS: &[(&str, &str, &[&str])] = &[
    ("kube-system", "kubeadm-config", &["ClusterConfiguration"]),
    ("kube-system", "kube-proxy", &["config.conf"]),
    (
        "kube-system",
        "cilium-config",
        &[
            "cluster-pool-ipv4-cidr",
            "cluster-pool-ipv6-cidr",
            "ipam",
            "cluster-pool-ipv4-mask-size",
            "routing-mode",
            "tunnel",
            "tunnel-protocol",
            "tunnel-port",
            "enable-wireguard",
            "enable-ipsec",
            "enable-ipv4",
            "enable-ipv6",
        ],
    ),
    ("kube-flannel", "kube-flannel-cfg", &["net-conf.json"]),
    ("kube-system", "kube-flannel-cfg", &["net-conf.json"]),
];

/// `ServiceCIDR`: `spec.cidrs`.
pub(crate) fn service_cidr(node: &Node) -> Result<Vec<ClusterRange>> {
    let name = object_name(node);
    let Some(spec) = mapping(node, "spec")? else { return Ok(Vec::new()) };
    list(spec, "cidrs")?
        .iter()
        .map(|c| Ok(range(RangeKind::Services, RangeOwner::Cluster, cidr(c, "cidrs")?, format!("ServiceCIDR {name}"), c)))
        .collect()
}

/// Calico `IPPool`: `spec.cidr`, unless the pool is disabled.
pub(crate) fn ip_pool(node: &Node) -> Result<Vec<ClusterRange>> {
    let name = object_name(node);
    let Some(spec) = mapping(node, "spec")? else { return Ok(Vec::new()) };
    if boolean(spec, "disabled")? == Some(true) {
        return Ok(Vec::new());
    }
    let Some(c) = field(spec, "cidr") else { return Ok(Vec::new()) };
    Ok(vec![range(RangeKind::Pods, RangeOwner::Calico, cidr(c, "cidr")?, format!("Calico IPPool {name}"), c)])
}

/// Calico `IPPool` with its allocation and encapsulation settings, validated as Calico's
/// API server does (libcalico-go/lib/validator/v3/validator.go, `validateIPPool`), so a
/// pool Calico would refuse is reported where it is wrong rather than reasoned about.
/// Defaults are those of the IPPool reference: blockSize 26 (IPv4) or 122 (IPv6), both
/// modes `Never`, `natOutgoing` and `disabled` false, every node selected.
pub(crate) fn calico_pool(node: &Node) -> Result<Option<CalicoPool>> {
    let name = object_name(node);
    let Some(spec) = mapping(node, "spec")? else { return Ok(None) };
    let Some(c) = field(spec, "cidr") else { return Ok(None) };
    let net = cidr(c, "cidr")?;
    let (min, max, default) = match net {
        IpNet::V4(_) => (20, 32, 26),
        IpNet::V6(_) => (116, 128, 122),
    };
    let (block_size, block_size_origin) = match field(spec, "blockSize") {
        Some(n) => {
            let size = number::<u8>(n, "blockSize", "a prefix length such as 26")?;
            if !(min..=max).contains(&size) {
                return Err(error(n, format!("`blockSize` of an {} pool must be {min} to {max}, found {size}", family(&net))));
            }
            (size, Some(origin(n)))
        }
        None => (default, None),
    };
    if net.prefix_len() > block_size {
        let at = field(spec, "blockSize").unwrap_or(c);
        return Err(error(
            at,
            format!("pool {net} is smaller than one block of /{block_size}: its prefix must be /{block_size} or shorter"),
        ));
    }
    let ipip_mode = encap_mode(spec, "ipipMode")?;
    let vxlan_mode = encap_mode(spec, "vxlanMode")?;
    if ipip_mode != EncapMode::Never && vxlan_mode != EncapMode::Never {
        let at = field(spec, "vxlanMode").unwrap_or(c);
        return Err(error(at, "`ipipMode` and `vxlanMode` cannot both be enabled: set one of them to Never"));
    }
    if net.addr().is_ipv6() && ipip_mode != EncapMode::Never {
        let at = field(spec, "ipipMode").unwrap_or(c);
        return Err(error(at, "IPIP is not supported on an IPv6 pool: set `ipipMode` to Never"));
    }
    Ok(Some(CalicoPool {
        name,
        cidr: net,
        block_size,
        block_size_origin,
        ipip_mode,
        vxlan_mode,
        nat_outgoing: boolean(spec, "natOutgoing")?.unwrap_or(false),
        node_selector: selector_field(spec, "nodeSelector", Global::Unchecked)?,
        disabled: boolean(spec, "disabled")?.unwrap_or(false),
        origin: origin(c),
    }))
}

/// `ipipMode` or `vxlanMode`, spelled exactly as Calico's validator requires.
fn encap_mode(spec: &Node, key: &str) -> Result<EncapMode> {
    match field(spec, key) {
        None => Ok(EncapMode::Never),
        Some(n) => match n.as_scalar() {
            Some("Never" | "") => Ok(EncapMode::Never),
            Some("Always") => Ok(EncapMode::Always),
            Some("CrossSubnet") => Ok(EncapMode::CrossSubnet),
            _ => Err(error(n, format!("`{key}` must be Always, CrossSubnet or Never, found `{}`", n.as_scalar().unwrap_or_default()))),
        },
    }
}

fn family(net: &IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "IPv4",
        IpNet::V6(_) => "IPv6",
    }
}

/// The Tigera operator's `Installation`: `spec.calicoNetwork.ipPools[].cidr`, the pools it
/// creates (only the ones written: the operator's default is not assumed).
pub(crate) fn calico_installation(node: &Node) -> Result<Vec<ClusterRange>> {
    let name = object_name(node);
    let Some(network) = mapping(node, "spec")?.map(|spec| mapping(spec, "calicoNetwork")).transpose()?.flatten() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for pool in list(network, "ipPools")? {
        let Some(c) = field(pool, "cidr") else { continue };
        let pool_name = text(pool, "name")?.map_or_else(String::new, |n| format!(" pool {n}"));
        out.push(range(RangeKind::Pods, RangeOwner::Calico, cidr(c, "cidr")?, format!("Calico Installation {name}{pool_name}"), c));
    }
    Ok(out)
}

/// Weave Net's allocation range when `IPALLOC_RANGE` is not set (`weave launch`'s default).
const WEAVE_DEFAULT_RANGE: &str = "10.32.0.0/12";

/// Weave Net from its `weave-net` DaemonSet in `kube-system`: the pod range
/// (`IPALLOC_RANGE` of the `weave` container, 10.32.0.0/12 when absent) and whether
/// `WEAVE_PASSWORD` turns encryption on. The password's value is only checked for being
/// non-empty (Weave runs unencrypted with an empty one), never kept.
pub(crate) fn weave_net(node: &Node) -> Result<Option<(ClusterRange, WeaveNet)>> {
    let metadata = mapping(node, "metadata")?;
    let namespace = metadata.map(|m| text(m, "namespace")).transpose()?.flatten();
    if object_name(node) != "weave-net" || namespace != Some("kube-system") {
        return Ok(None);
    }
    let containers = match mapping(node, "spec")?.and_then(|s| super::value::path(s, &["template", "spec"])) {
        Some(spec) => list(spec, "containers")?,
        None => &[],
    };
    let mut weave = None;
    for c in containers {
        if text(c, "name")? == Some("weave") {
            weave = Some(c);
        }
    }
    let Some(container) = weave else { return Ok(None) };
    let mut range_at = None;
    let mut encryption = None;
    for var in list(container, "env")? {
        match text(var, "name")? {
            Some("IPALLOC_RANGE") => range_at = field(var, "value"),
            Some("WEAVE_PASSWORD") => {
                let at = field(var, "name").map_or_else(|| origin(var), origin);
                if let Some(secret) = super::value::path(var, &["valueFrom", "secretKeyRef"]) {
                    let name = text(secret, "name")?.unwrap_or_default().to_string();
                    let key = text(secret, "key")?.unwrap_or_default().to_string();
                    encryption = Some(WeaveEncryption::Secret { name, key, origin: at });
                } else if field(var, "value").and_then(Node::as_scalar).is_some_and(|v| !v.is_empty()) {
                    encryption = Some(WeaveEncryption::Inline { origin: at });
                }
            }
            _ => {}
        }
    }
    let range = match range_at {
        Some(v) => {
            let net = cidr(v, "IPALLOC_RANGE")?;
            ClusterRange {
                kind: RangeKind::Pods,
                cidr: net,
                owner: RangeOwner::Weave,
                source: "weave-net IPALLOC_RANGE".into(),
                origin: origin(v),
            }
        }
        None => ClusterRange {
            kind: RangeKind::Pods,
            cidr: WEAVE_DEFAULT_RANGE.parse().map_err(|_| error(container, "weave's default range does not parse"))?,
            owner: RangeOwner::Weave,
            source: "weave-net default range (no IPALLOC_RANGE)".into(),
            origin: origin(container),
        },
    };
    Ok(Some((range, WeaveNet { encryption, origin: origin(node) })))
}

/// The ranges of one of the well-known ConfigMaps; nothing for any other ConfigMap.
pub(crate) fn config_map(node: &Node) -> Result<Vec<ClusterRange>> {
    let name = object_name(node);
    let namespace = mapping(node, "metadata")?.map(|m| text(m, "namespace")).transpose()?.flatten().unwrap_or("kube-system");
    if !RANGE_CONFIGMAPS.iter().any(|(ns, n, _)| *ns == namespace && *n == name) {
        return Ok(Vec::new());
    }
    let Some(data) = mapping(node, "data")? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let mut add = |kind: RangeKind, owner: RangeOwner, source: String, found: Vec<(IpNet, Origin)>| {
        out.extend(found.into_iter().map(|(cidr, origin)| ClusterRange { kind, cidr, owner, source: source.clone(), origin }));
    };
    match name.as_str() {
        "kubeadm-config" => {
            let Some(config) = Embedded::read(data, "ClusterConfiguration")? else { return Ok(out) };
            if let Some(networking) = mapping(&config.root, "networking")? {
                for (key, kind) in [("podSubnet", RangeKind::Pods), ("serviceSubnet", RangeKind::Services)] {
                    add(kind, RangeOwner::Cluster, format!("kubeadm-config networking.{key}"), config.cidrs(networking, key)?);
                }
            }
        }
        "kube-proxy" => {
            let Some(config) = Embedded::read(data, "config.conf")? else { return Ok(out) };
            add(RangeKind::Pods, RangeOwner::Cluster, "kube-proxy clusterCIDR".into(), config.cidrs(&config.root, "clusterCIDR")?);
        }
        "cilium-config" => {
            for key in ["cluster-pool-ipv4-cidr", "cluster-pool-ipv6-cidr"] {
                let Some(value) = field(data, key) else { continue };
                let found = split_cidrs(value, key, value)?.into_iter().map(|c| (c, origin(value))).collect();
                add(RangeKind::Pods, RangeOwner::Cilium, format!("cilium-config {key}"), found);
            }
        }
        "kube-flannel-cfg" => {
            let Some(config) = Embedded::read(data, "net-conf.json")? else { return Ok(out) };
            for key in ["Network", "IPv6Network"] {
                add(
                    RangeKind::Pods,
                    RangeOwner::Flannel,
                    format!("kube-flannel-cfg net-conf.json {key}"),
                    config.cidrs(&config.root, key)?,
                );
            }
        }
        _ => {}
    }
    Ok(out)
}

/// flannel's `Backend` from `kube-flannel-cfg`'s `net-conf.json`; nothing for any other
/// ConfigMap. Read as flannel reads it (`pkg/subnet/config.go`): no `Backend` is `udp`.
pub(crate) fn flannel_backend(node: &Node) -> Result<Option<FlannelBackend>> {
    let name = object_name(node);
    let namespace = mapping(node, "metadata")?.map(|m| text(m, "namespace")).transpose()?.flatten().unwrap_or("kube-system");
    if name != "kube-flannel-cfg" || !RANGE_CONFIGMAPS.iter().any(|(ns, n, _)| *ns == namespace && *n == name) {
        return Ok(None);
    }
    let Some(data) = mapping(node, "data")? else { return Ok(None) };
    let Some(config) = Embedded::read(data, "net-conf.json")? else { return Ok(None) };
    // Errors and origins at the manifest's position of an embedded node.
    let at = |inner: &Node| match config.origin(inner) {
        Origin::File(span) => Node::new(inner.value.clone(), span),
        Origin::Logical(_) => Node::new(inner.value.clone(), config.outer.span.clone()),
    };
    let Some(backend) = field(&config.root, "Backend") else {
        return Ok(Some(FlannelBackend { kind: "udp".into(), port: None, vni: None, origin: origin(config.outer) }));
    };
    let backend = at(backend);
    if backend.as_map().is_none() {
        return Err(error(&backend, format!("`Backend` must be a mapping such as {{\"Type\": \"vxlan\"}}, found {}", backend.kind_name())));
    }
    let value = |key: &str| field(&backend, key).map(&at);
    let kind = match value("Type") {
        Some(n) => {
            n.as_scalar().ok_or_else(|| error(&n, format!("`Type` must be a string, found {}", n.kind_name())))?.to_ascii_lowercase()
        }
        None => String::new(),
    };
    let port = match value("Port").or_else(|| value("ListenPort")) {
        Some(n) => Some(Located::new(number::<u16>(&n, "Port", "a port number (0-65535)")?, origin(&n))),
        None => None,
    };
    let vni = match value("VNI") {
        Some(n) => Some(Located::new(number::<u32>(&n, "VNI", "a VXLAN network identifier")?, origin(&n))),
        None => None,
    };
    Ok(Some(FlannelBackend { kind, port, vni, origin: origin(&backend) }))
}

/// The IPAM modes Cilium's agent knows (pkg/ipam/option/option.go); any other `ipam`
/// stops the agent at start.
const CILIUM_IPAM_MODES: &[&str] = &["cluster-pool", "kubernetes", "multi-pool", "crd", "eni", "azure", "alibabacloud", "delegated-plugin"];

/// Cilium's agent settings from `cilium-config` in kube-system; nothing for any other
/// ConfigMap. Values are strings as the agent reads them (pkg/option/config.go); keys
/// routing-mode, tunnel-protocol and tunnel-port as Documentation/network/concepts/routing.rst
/// names them. The older `tunnel` key (vxlan, geneve or disabled; removed in Cilium 1.15)
/// is read when the newer keys are absent: `disabled` is native routing.
pub(crate) fn cilium_config(node: &Node) -> Result<Option<CiliumConfig>> {
    let namespace = mapping(node, "metadata")?.map(|m| text(m, "namespace")).transpose()?.flatten().unwrap_or("kube-system");
    if object_name(node) != "cilium-config" || namespace != "kube-system" {
        return Ok(None);
    }
    let Some(data) = mapping(node, "data")? else { return Ok(None) };
    // A value from a fixed list of spellings, located, or an error naming the choices.
    fn choice<T: Copy>(data: &Node, key: &str, choices: &[(&str, T)]) -> Result<Option<Located<T>>> {
        let Some(n) = field(data, key) else { return Ok(None) };
        let written = n.as_scalar().unwrap_or_default();
        match choices.iter().find(|(name, _)| *name == written) {
            Some((_, value)) => Ok(Some(Located::new(*value, origin(n)))),
            None => {
                let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
                Err(error(n, format!("`{key}` must be {}, found `{written}`", names.join(" or "))))
            }
        }
    }
    let flag = |key: &str| -> Result<Option<Located<bool>>> {
        let Some(n) = field(data, key) else { return Ok(None) };
        Ok(boolean(data, key)?.map(|b| Located::new(b, origin(n))))
    };
    let ipam = match field(data, "ipam") {
        Some(n) => {
            let mode = n.as_scalar().unwrap_or_default();
            if !CILIUM_IPAM_MODES.contains(&mode) {
                return Err(error(n, format!("`ipam` must be one of {}, found `{mode}`", CILIUM_IPAM_MODES.join(", "))));
            }
            Some(Located::new(mode.to_string(), origin(n)))
        }
        None => None,
    };
    let cluster_pool_ipv4_mask_size = match field(data, "cluster-pool-ipv4-mask-size") {
        Some(n) => {
            let size = number::<u8>(n, "cluster-pool-ipv4-mask-size", "a prefix length such as 24")?;
            if !(1..=32).contains(&size) {
                return Err(error(n, format!("`cluster-pool-ipv4-mask-size` must be 1 to 32, found {size}")));
            }
            Some(Located::new(size, origin(n)))
        }
        None => None,
    };
    let routing = [("tunnel", CiliumRouting::Tunnel), ("native", CiliumRouting::Native)];
    let protocols = [("vxlan", TunnelProtocol::Vxlan), ("geneve", TunnelProtocol::Geneve)];
    let legacy =
        choice(data, "tunnel", &[("vxlan", Some(TunnelProtocol::Vxlan)), ("geneve", Some(TunnelProtocol::Geneve)), ("disabled", None)])?;
    let routing_mode = match choice(data, "routing-mode", &routing)? {
        Some(mode) => Some(mode),
        None => legacy.as_ref().map(|t| {
            let mode = if t.value.is_some() { CiliumRouting::Tunnel } else { CiliumRouting::Native };
            Located::new(mode, t.origin.clone())
        }),
    };
    let tunnel_protocol = match choice(data, "tunnel-protocol", &protocols)? {
        Some(protocol) => Some(protocol),
        None => legacy.and_then(|t| t.value.map(|p| Located::new(p, t.origin))),
    };
    let tunnel_port = match field(data, "tunnel-port") {
        Some(n) => Some(Located::new(number::<u16>(n, "tunnel-port", "a port number (0-65535)")?, origin(n))),
        None => None,
    };
    Ok(Some(CiliumConfig {
        ipam,
        cluster_pool_ipv4_mask_size,
        routing_mode,
        tunnel_protocol,
        tunnel_port,
        wireguard: flag("enable-wireguard")?,
        ipsec: flag("enable-ipsec")?,
        enable_ipv4: flag("enable-ipv4")?,
        enable_ipv6: flag("enable-ipv6")?,
        origin: origin(node),
    }))
}

fn object_name(node: &Node) -> String {
    mapping(node, "metadata").ok().flatten().and_then(|m| text(m, "name").ok().flatten()).unwrap_or_default().to_string()
}

fn range(kind: RangeKind, owner: RangeOwner, cidr: IpNet, source: String, at: &Node) -> ClusterRange {
    ClusterRange { kind, cidr, owner, source, origin: origin(at) }
}

/// A configuration file held in a ConfigMap value (YAML or JSON), parsed on its own.
struct Embedded<'a> {
    root: Node,
    /// The ConfigMap value holding it.
    outer: &'a Node,
    /// Written as a block scalar (`key: |` and the text on the following lines), so a
    /// line of the embedded text is a line of the manifest.
    block: bool,
}

impl<'a> Embedded<'a> {
    fn read(data: &'a Node, key: &str) -> Result<Option<Embedded<'a>>> {
        let Some(entry) = data.entry(key).filter(|e| !e.value.is_null()) else { return Ok(None) };
        let outer = &entry.value;
        let body = outer.as_scalar().ok_or_else(|| error(outer, format!("`{key}` must be a string holding a configuration file")))?;
        let file: Arc<Path> = Arc::from(Path::new(key));
        let block = outer.span.line > entry.key_span.line;
        let root = crate::yaml::parse(body, file).map_err(|e| {
            error(outer, format!("`{key}` does not hold a YAML or JSON configuration (line {} of it: {})", e.line, e.message))
        })?;
        Ok(Some(Embedded { root, outer, block }))
    }

    /// Where an embedded node is in the manifest: exact for block scalars of a file, the
    /// ConfigMap value otherwise.
    fn origin(&self, inner: &Node) -> Origin {
        match origin(self.outer) {
            Origin::File(span) if self.block => {
                let line = span.line + inner.span.line.saturating_sub(1);
                let column = span.column + inner.span.column.saturating_sub(1);
                Origin::File(netdoctor_model::Span::new(span.file.clone(), line, column))
            }
            other => other,
        }
    }

    /// The CIDRs under `key` of an embedded mapping, each located.
    fn cidrs(&self, config: &Node, key: &str) -> Result<Vec<(IpNet, Origin)>> {
        let Some(value) = field(config, key) else { return Ok(Vec::new()) };
        let at = match self.origin(value) {
            Origin::File(span) => Node::new(value.value.clone(), span),
            Origin::Logical(_) => self.outer.clone(),
        };
        Ok(split_cidrs(value, key, &at)?.into_iter().map(|c| (c, origin(&at))).collect())
    }
}

/// A value holding one CIDR or several separated by commas or spaces (dual-stack
/// `10.244.0.0/16,fd00:10:244::/56`); errors point at `at`.
fn split_cidrs(value: &Node, key: &str, at: &Node) -> Result<Vec<IpNet>> {
    let text = value.as_scalar().ok_or_else(|| error(at, format!("`{key}` must be a string of CIDRs, found {}", value.kind_name())))?;
    let mut out = Vec::new();
    for part in text.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<IpNet>() {
            Ok(net) => out.push(net.trunc()),
            Err(_) => return Err(error(at, format!("`{key}` must hold CIDRs such as 10.244.0.0/16, found `{part}`"))),
        }
    }
    Ok(out)
}

/// A range written in `netdoctor.toml`.
pub fn configured_range(kind: RangeKind, cidr: IpNet, key: &str, origin: Origin) -> ClusterRange {
    ClusterRange { kind, cidr, owner: RangeOwner::Cluster, source: format!("netdoctor.toml {key}"), origin }
}

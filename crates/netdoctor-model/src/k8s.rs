//! Kubernetes objects: namespaces, pods (with their owning workload), services,
//! exposure (Ingress, OpenShift Route), service endpoints (Endpoints v1, EndpointSlice
//! discovery.k8s.io/v1) and policies (NetworkPolicy v1, AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy v1alpha1, ClusterNetworkPolicy v1alpha2/v1beta1), as
//! read from manifests or a live cluster. Plain data: selectors are matched in the engine.

use crate::calico::SelectorExpr;
use crate::calico_policy::{CalicoPolicy, CalicoTier, NetworkSet};
use crate::cilium::{CidrGroup, CiliumPolicy};
use crate::{Located, Origin, Protocol};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// Label keys and values of an object.
pub type Labels = BTreeMap<String, String>;

/// The label the API server puts on every namespace, holding its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The namespace of objects that do not name one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Everything read from Kubernetes manifests or a cluster. Empty lists are left out
/// when serialized, so a model without Kubernetes input shows `k8s: {}`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cluster {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<Namespace>,
    /// Bare pods, and one pod per workload standing for its replicas.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<Pod>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// Endpoints and EndpointSlices: the addresses behind services. A service may have
    /// several entries (one per EndpointSlice, one per Endpoints subset).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<ServiceEndpoints>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
    /// Ingress objects and OpenShift Routes: exposure from outside through the ingress controller.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingresses: Vec<Ingress>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub network_policies: Vec<NetworkPolicy>,
    /// AdminNetworkPolicies, BaselineAdminNetworkPolicies and ClusterNetworkPolicies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub admin_policies: Vec<AdminPolicy>,
    /// The cluster's pod and service ranges, as its configuration declares them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<ClusterRange>,
    /// flannel's backend (`Backend` in `kube-flannel-cfg`'s `net-conf.json`), when read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flannel_backend: Option<FlannelBackend>,
    /// Cilium's agent settings from the `cilium-config` ConfigMap, when read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cilium_config: Option<CiliumConfig>,
    /// Calico IPPools with how they hand out addresses, disabled ones included (their
    /// ranges are in `ranges` only while enabled).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calico_pools: Vec<CalicoPool>,
    /// Weave Net, when its `weave-net` DaemonSet was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weave: Option<WeaveNet>,
    /// Calico NetworkPolicies and GlobalNetworkPolicies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calico_policies: Vec<CalicoPolicy>,
    /// Calico Tiers (the `default` tier is implied when absent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calico_tiers: Vec<CalicoTier>,
    /// Calico NetworkSets and GlobalNetworkSets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub network_sets: Vec<NetworkSet>,
    /// CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cilium_policies: Vec<CiliumPolicy>,
    /// CiliumCIDRGroups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cidr_groups: Vec<CidrGroup>,
    /// Policy resources read but not evaluated (another CNI's or a service mesh's): every
    /// verdict they could change is unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unevaluated: Vec<UnevaluatedPolicy>,
    /// Namespaced objects of groups outside Kubernetes' own (`*.k8s.io` and the core
    /// group): custom resources, which operators may turn into pods the manifests do not
    /// hold (a `monitoring.coreos.com` Prometheus, a database cluster).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_resources: Vec<CustomResource>,
}

impl Cluster {
    /// Appends another cluster description (a second manifest tree) to this one.
    pub fn extend(&mut self, other: Cluster) {
        self.namespaces.extend(other.namespaces);
        self.pods.extend(other.pods);
        self.services.extend(other.services);
        self.endpoints.extend(other.endpoints);
        self.nodes.extend(other.nodes);
        self.ingresses.extend(other.ingresses);
        self.network_policies.extend(other.network_policies);
        self.admin_policies.extend(other.admin_policies);
        self.unevaluated.extend(other.unevaluated);
        self.custom_resources.extend(other.custom_resources);
        self.calico_policies.extend(other.calico_policies);
        self.calico_tiers.extend(other.calico_tiers);
        self.network_sets.extend(other.network_sets);
        self.cilium_policies.extend(other.cilium_policies);
        self.cidr_groups.extend(other.cidr_groups);
        self.calico_pools.extend(other.calico_pools);
        for range in other.ranges {
            self.add_range(range);
        }
        self.flannel_backend = self.flannel_backend.take().or(other.flannel_backend);
        self.cilium_config = self.cilium_config.take().or(other.cilium_config);
        self.weave = self.weave.take().or(other.weave);
    }

    /// Adds a declared range unless the same range of the same kind and owner is already
    /// known (kubeadm's podSubnet and kube-proxy's clusterCIDR usually agree).
    pub fn add_range(&mut self, range: ClusterRange) {
        if !self.ranges.iter().any(|r| r.kind == range.kind && r.cidr == range.cidr && r.owner == range.owner) {
            self.ranges.push(range);
        }
    }

    /// Every pod and service range: the declared ones (each range once, as first declared:
    /// kubeadm's podSubnet and flannel's Network are usually the same), then each node's
    /// `podCIDRs`.
    pub fn address_ranges(&self) -> Vec<AddressRange<'_>> {
        let first = |i: usize, r: &ClusterRange| self.ranges.iter().position(|o| o.kind == r.kind && o.cidr == r.cidr) == Some(i);
        let declared = self.ranges.iter().enumerate().filter(move |(i, r)| first(*i, r)).map(|(_, r)| AddressRange {
            kind: r.kind,
            cidr: r.cidr,
            owner: r.owner,
            what: r.source.clone(),
            node: None,
            origin: &r.origin,
        });
        let nodes = self.nodes.iter().flat_map(|n| {
            n.pod_cidrs.iter().map(move |c| AddressRange {
                kind: RangeKind::Pods,
                cidr: *c,
                owner: RangeOwner::Cluster,
                what: format!("podCIDR of node {}", n.name),
                node: Some(n.name.as_str()),
                origin: n.pod_cidrs_origin.as_ref().unwrap_or(&n.origin),
            })
        });
        declared.chain(nodes).collect()
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.pods.is_empty()
            && self.services.is_empty()
            && self.endpoints.is_empty()
            && self.nodes.is_empty()
            && self.ingresses.is_empty()
            && self.network_policies.is_empty()
            && self.admin_policies.is_empty()
            && self.ranges.is_empty()
            && self.unevaluated.is_empty()
            && self.calico_policies.is_empty()
            && self.calico_tiers.is_empty()
            && self.network_sets.is_empty()
            && self.cilium_policies.is_empty()
            && self.cidr_groups.is_empty()
            && self.calico_pools.is_empty()
            && self.weave.is_none()
    }

    /// The namespace called `name`, if it was declared.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }

    /// The endpoint entries of service `name` in `namespace` (none when no Endpoints or
    /// EndpointSlice object names it).
    pub fn endpoints_of<'a>(&'a self, namespace: &'a str, name: &'a str) -> impl Iterator<Item = &'a ServiceEndpoints> + 'a {
        self.endpoints.iter().filter(move |e| e.namespace == namespace && e.service == name)
    }
}

/// A namespace and its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Namespace {
    pub name: String,
    /// Labels as written, plus `kubernetes.io/metadata.name` (the API server always sets it).
    pub labels: Labels,
    pub origin: Origin,
}

impl Namespace {
    /// A namespace with the labels given plus the name label the API server adds.
    pub fn new(name: impl Into<String>, mut labels: Labels, origin: Origin) -> Namespace {
        let name = name.into();
        labels.entry(NAMESPACE_NAME_LABEL.to_string()).or_insert_with(|| name.clone());
        Namespace { name, labels, origin }
    }
}

/// The kind of object that owns (creates) pods; reports name pods by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum WorkloadKind {
    /// A bare pod, owned by nothing.
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    /// Any other controller named in a pod's `ownerReferences`.
    Other(String),
}

impl WorkloadKind {
    /// The kind as Kubernetes spells it.
    pub fn as_str(&self) -> &str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::ReplicationController => "ReplicationController",
            WorkloadKind::Other(kind) => kind,
        }
    }

    /// The kind for a `kind:` or owner reference string.
    pub fn from_kind(kind: &str) -> WorkloadKind {
        match kind {
            "Pod" => WorkloadKind::Pod,
            "Deployment" => WorkloadKind::Deployment,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            "ReplicationController" => WorkloadKind::ReplicationController,
            other => WorkloadKind::Other(other.to_string()),
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The workload a pod belongs to, which reports stand for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Owner {
    pub kind: WorkloadKind,
    pub name: String,
}

/// A port a container declares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// A pod: a bare one, or the one standing for all replicas of a workload template.
#[derive(Debug, Clone, Serialize)]
pub struct Pod {
    pub namespace: String,
    /// The pod's name; for a template, the workload's name.
    pub name: String,
    pub labels: Labels,
    pub ips: Vec<IpAddr>,
    pub host_ip: Option<IpAddr>,
    pub host_network: bool,
    /// `dnsPolicy` as written (`ClusterFirst`, `ClusterFirstWithHostNet`, `Default`,
    /// `None`); `None` when absent, which Kubernetes reads as `ClusterFirst`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_policy: Option<String>,
    /// Ports of all containers, in declaration order.
    pub ports: Vec<ContainerPort>,
    /// `serviceAccountName` (Calico policies select by it); `None` means `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    pub owner: Owner,
    /// How many pods this one stands for (a template's replicas; 1 for a bare pod).
    pub replicas: u32,
    /// Synthesised from a workload's pod template rather than read as a Pod.
    pub from_template: bool,
    /// The peers its own configuration names (environment, command and args, the
    /// ConfigMaps it reads), as host references.
    pub references: Vec<crate::Reference>,
    pub origin: Origin,
}

impl Pod {
    /// A bare pod (its own workload) with labels and nothing else set.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, labels: Labels, origin: Origin) -> Pod {
        let name = name.into();
        Pod {
            namespace: namespace.into(),
            name: name.clone(),
            labels,
            ips: Vec::new(),
            host_ip: None,
            host_network: false,
            dns_policy: None,
            ports: Vec::new(),
            service_account: None,
            owner: Owner { kind: WorkloadKind::Pod, name },
            replicas: 1,
            from_template: false,
            references: Vec::new(),
            origin,
        }
    }

    /// `ns/name[Kind]`, the workload this pod is reported as.
    pub fn workload_name(&self) -> String {
        format!("{}/{}[{}]", self.namespace, self.owner.name, self.owner.kind)
    }

    /// The container port called `name`, if any.
    pub fn named_port(&self, name: &str) -> Option<&ContainerPort> {
        self.ports.iter().find(|p| p.name.as_deref() == Some(name))
    }
}

/// A port given by number or by a container port's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(name) => f.write_str(name),
        }
    }
}

/// `spec.type` of a Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName,
}

/// A Service: a stable name for the pods its selector matches.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// `None` when the service has no selector (endpoints are managed by hand).
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
    pub service_type: ServiceType,
    /// `clusterIP: None`: DNS answers with the pod addresses.
    pub headless: bool,
    /// The DNS name an `ExternalName` service aliases.
    pub external_name: Option<String>,
    /// `externalTrafficPolicy: Local`: traffic from outside keeps the client's address
    /// (with `Cluster`, the default, a node's address replaces it on the way to the pod).
    #[serde(default)]
    pub external_traffic_local: bool,
    /// `clusterIP` and `clusterIPs` when set to addresses (a dump of a live cluster).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster_ips: Vec<IpAddr>,
    pub origin: Origin,
}

/// One port of a Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    /// Where traffic goes on the pods; `None` means the same number as `port`.
    pub target_port: Option<PortRef>,
    pub protocol: Protocol,
    pub origin: Origin,
}

/// Which object a `ServiceEndpoints` was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EndpointsKind {
    /// `v1` Endpoints, named like its service; one entry per subset.
    Endpoints,
    /// `discovery.k8s.io/v1` EndpointSlice, tied to its service by the
    /// `kubernetes.io/service-name` label.
    EndpointSlice,
}

/// The label tying an EndpointSlice to its service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Addresses and ports behind one service: one EndpointSlice, or one subset of an
/// Endpoints object (an Endpoints object without subsets gives one entry with no
/// addresses, so "exists but empty" can be told from "absent").
#[derive(Debug, Clone, Serialize)]
pub struct ServiceEndpoints {
    pub namespace: String,
    /// The service the addresses belong to.
    pub service: String,
    /// The object's own name (an EndpointSlice's name differs from its service's).
    pub name: String,
    pub kind: EndpointsKind,
    pub addresses: Vec<EndpointAddress>,
    /// The ports every address of this entry serves; empty means every port (an
    /// EndpointSlice without ports) or none listed.
    pub ports: Vec<EndpointPort>,
    pub origin: Origin,
}

impl ServiceEndpoints {
    /// The addresses ready to receive traffic.
    pub fn ready_addresses(&self) -> impl Iterator<Item = &EndpointAddress> {
        self.addresses.iter().filter(|a| a.ready)
    }
}

/// One address behind a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointAddress {
    /// The IP address; `None` only for a name in an FQDN EndpointSlice (kept in `fqdn`).
    pub ip: Option<IpAddr>,
    /// The DNS name of an FQDN EndpointSlice endpoint (a deprecated address type).
    pub fqdn: Option<String>,
    /// The pod behind the address (`targetRef` of kind Pod), if named.
    pub pod: Option<PodRef>,
    /// `nodeName`, if given.
    pub node: Option<String>,
    /// Endpoints `addresses` (not `notReadyAddresses`), or an EndpointSlice endpoint whose
    /// `conditions.ready` is true or absent (absent reads as ready, as the API says).
    pub ready: bool,
    pub origin: Origin,
}

/// A pod by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
}

/// One port of an endpoints entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointPort {
    /// Matches the service port's name.
    pub name: Option<String>,
    /// `None` in an EndpointSlice means every port.
    pub port: Option<u16>,
    pub protocol: Protocol,
}

/// What a cluster range holds addresses for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RangeKind {
    /// Pod addresses (kubeadm `podSubnet`, `--cluster-cidr`, a CNI's IP pools).
    Pods,
    /// Service ClusterIPs (kubeadm `serviceSubnet`, `--service-cluster-ip-range`, ServiceCIDR).
    Services,
}

impl RangeKind {
    /// `pod` or `service`, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            RangeKind::Pods => "pod",
            RangeKind::Services => "service",
        }
    }
}

/// Who hands out addresses from a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RangeOwner {
    /// The control plane: kubeadm's ClusterConfiguration, kube-proxy's `clusterCIDR`, a
    /// ServiceCIDR, or `netdoctor.toml` standing for them.
    Cluster,
    /// Calico's IPAM, from its IPPools (node podCIDRs unused).
    Calico,
    /// flannel, from its `Network` (split into the nodes' podCIDRs).
    Flannel,
    /// Cilium's cluster-pool IPAM (node podCIDRs unused).
    Cilium,
    /// Weave Net's IPAM, from `IPALLOC_RANGE` (node podCIDRs unused).
    Weave,
}

/// A pod or service range declared by the cluster's configuration: a ServiceCIDR object,
/// kubeadm's ClusterConfiguration, kube-proxy's `clusterCIDR`, a CNI's pool, or
/// `netdoctor.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterRange {
    pub kind: RangeKind,
    pub cidr: IpNet,
    pub owner: RangeOwner,
    /// Where it is declared, for messages: `kubeadm-config networking.podSubnet`.
    pub source: String,
    pub origin: Origin,
}

/// A pod or service range with where it comes from: a declared range or a node's podCIDR.
#[derive(Debug, Clone)]
pub struct AddressRange<'a> {
    pub kind: RangeKind,
    pub cidr: IpNet,
    /// Who hands out its addresses (the controller manager for a node's podCIDR).
    pub owner: RangeOwner,
    /// `kubeadm-config networking.podSubnet`, `podCIDR of node worker-1`.
    pub what: String,
    /// The node, for a node's podCIDR.
    pub node: Option<&'a str>,
    pub origin: &'a Origin,
}

impl AddressRange<'_> {
    /// Whether the two ranges share any address.
    pub fn overlaps(&self, other: &IpNet) -> bool {
        self.cidr.contains(&other.network()) || other.contains(&self.cidr.network())
    }
}

/// A cluster node.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub name: String,
    pub labels: Labels,
    pub pod_cidrs: Vec<IpNet>,
    /// Where `spec.podCIDR`/`podCIDRs` is written, for findings about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_cidrs_origin: Option<Origin>,
    pub addresses: Vec<IpAddr>,
    pub origin: Origin,
}

/// flannel's backend: how it carries pod traffic between nodes, as `net-conf.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlannelBackend {
    /// `Type`, lower-cased as flannel matches it (`vxlan`, `host-gw`, `wireguard`, `udp`,
    /// `ipip`, `alloc`, …); `udp` when `Backend` is absent, as flannel defaults; empty when
    /// `Backend` has no `Type` (flannel then fails to start).
    pub kind: String,
    /// `Port` (vxlan, udp) or `ListenPort` (wireguard), as written; 0 means the default.
    pub port: Option<Located<u16>>,
    /// `VNI` (vxlan), as written.
    pub vni: Option<Located<u32>>,
    /// Where `Backend` is written (`net-conf.json` when it is absent).
    pub origin: Origin,
}

impl FlannelBackend {
    /// The UDP port peers send to, with flannel's defaults: vxlan 8472 (the Linux kernel's
    /// default, not IANA's 4789), udp 8285, wireguard 51820; `None` for backends without one
    /// (host-gw routes plain packets).
    pub fn udp_port(&self) -> Option<u16> {
        let written = self.port.as_ref().map(|p| p.value).filter(|p| *p != 0);
        let default = match self.kind.as_str() {
            "vxlan" => 8472,
            "udp" => 8285,
            "wireguard" => 51820,
            _ => return None,
        };
        Some(written.unwrap_or(default))
    }

    /// The VXLAN network identifier: `VNI`, 1 by default; `None` for other backends.
    pub fn vxlan_vni(&self) -> Option<u32> {
        (self.kind == "vxlan").then(|| self.vni.as_ref().map_or(1, |v| v.value))
    }
}

/// Cilium's agent settings as `cilium-config` (kube-system) writes them, each with the
/// position of its value; absent keys are `None` and take Cilium's defaults through the
/// methods (pkg/option/config.go, Documentation/network/concepts/routing.rst).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CiliumConfig {
    /// `ipam`: `cluster-pool` (the default), `kubernetes`, `multi-pool`, `eni`, `azure`, …
    pub ipam: Option<Located<String>>,
    /// `cluster-pool-ipv4-mask-size`: the prefix of each node's pod range (24 by default).
    pub cluster_pool_ipv4_mask_size: Option<Located<u8>>,
    /// `routing-mode`, or the older `tunnel` key (`disabled` is native routing).
    pub routing_mode: Option<Located<CiliumRouting>>,
    /// `tunnel-protocol`, or the protocol the older `tunnel` key names.
    pub tunnel_protocol: Option<Located<TunnelProtocol>>,
    /// `tunnel-port`; 0 means the protocol's default.
    pub tunnel_port: Option<Located<u16>>,
    /// `enable-wireguard`.
    pub wireguard: Option<Located<bool>>,
    /// `enable-ipsec`.
    pub ipsec: Option<Located<bool>>,
    /// `enable-ipv4`.
    pub enable_ipv4: Option<Located<bool>>,
    /// `enable-ipv6`.
    pub enable_ipv6: Option<Located<bool>>,
    /// Where the ConfigMap is written.
    pub origin: Origin,
}

/// How Cilium carries pod traffic between nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CiliumRouting {
    /// Encapsulated in VXLAN or Geneve between nodes (Cilium's default).
    Tunnel,
    /// Routed as plain packets by the network between nodes.
    Native,
}

/// The encapsulation of Cilium's tunnel mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelProtocol {
    Vxlan,
    Geneve,
}

impl TunnelProtocol {
    /// The UDP port Cilium uses when `tunnel-port` is unset or 0: the Linux kernel's VXLAN
    /// port 8472 (not IANA's 4789) and Geneve's 6081, as routing.rst's firewall table says.
    pub fn default_port(self) -> u16 {
        match self {
            TunnelProtocol::Vxlan => 8472,
            TunnelProtocol::Geneve => 6081,
        }
    }
}

impl std::fmt::Display for TunnelProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TunnelProtocol::Vxlan => "vxlan",
            TunnelProtocol::Geneve => "geneve",
        })
    }
}

impl CiliumConfig {
    /// The UDP port of Cilium's WireGuard tunnel endpoint (encryption-wireguard.rst); it
    /// is not configurable in `cilium-config`.
    pub const WIREGUARD_PORT: u16 = 51871;

    /// The IPAM mode, `cluster-pool` when unset.
    pub fn ipam_mode(&self) -> &str {
        self.ipam.as_ref().map_or("cluster-pool", |m| m.value.as_str())
    }

    /// The prefix length of each node's IPv4 pod range in cluster-pool IPAM, 24 when unset.
    pub fn ipv4_mask_size(&self) -> u8 {
        self.cluster_pool_ipv4_mask_size.as_ref().map_or(24, |m| m.value)
    }

    /// The routing mode, tunnel when unset.
    pub fn routing(&self) -> CiliumRouting {
        self.routing_mode.as_ref().map_or(CiliumRouting::Tunnel, |m| m.value)
    }

    /// The tunnel's protocol in tunnel mode (VXLAN when unset); `None` in native routing.
    pub fn tunnel(&self) -> Option<TunnelProtocol> {
        (self.routing() == CiliumRouting::Tunnel).then(|| self.tunnel_protocol.as_ref().map_or(TunnelProtocol::Vxlan, |p| p.value))
    }

    /// The UDP port peers send tunnelled packets to: `tunnel-port` when written and not 0,
    /// else the protocol's default; `None` in native routing.
    pub fn tunnel_udp_port(&self) -> Option<u16> {
        let protocol = self.tunnel()?;
        let written = self.tunnel_port.as_ref().map(|p| p.value).filter(|p| *p != 0);
        Some(written.unwrap_or(protocol.default_port()))
    }

    /// Whether WireGuard encryption is on (off unless `enable-wireguard` is true).
    pub fn wireguard_on(&self) -> bool {
        self.wireguard.as_ref().is_some_and(|w| w.value)
    }

    /// Whether IPsec encryption is on (off unless `enable-ipsec` is true).
    pub fn ipsec_on(&self) -> bool {
        self.ipsec.as_ref().is_some_and(|w| w.value)
    }

    /// Whether IPv4 is on (on unless `enable-ipv4` is false).
    pub fn ipv4_on(&self) -> bool {
        self.enable_ipv4.as_ref().is_none_or(|v| v.value)
    }

    /// Whether IPv6 is on (off unless `enable-ipv6` is true).
    pub fn ipv6_on(&self) -> bool {
        self.enable_ipv6.as_ref().is_some_and(|v| v.value)
    }
}

/// A Calico IPPool (projectcalico.org/v3), with Calico's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalicoPool {
    pub name: String,
    pub cidr: IpNet,
    /// `blockSize`: the prefix length of the blocks each node takes from the pool (26 for
    /// IPv4 and 122 for IPv6 when absent).
    pub block_size: u8,
    /// Where `blockSize` is written; `None` when it is the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size_origin: Option<Origin>,
    pub ipip_mode: EncapMode,
    pub vxlan_mode: EncapMode,
    /// `natOutgoing`: pods' traffic leaving the pool's ranges is masqueraded.
    pub nat_outgoing: bool,
    /// `nodeSelector`: the nodes that take blocks from the pool; `None` is `all()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<SelectorExpr>,
    /// `disabled`: no new addresses are handed out, existing ones stay.
    pub disabled: bool,
    /// Where `cidr` is written.
    pub origin: Origin,
}

impl CalicoPool {
    /// How many blocks the pool holds: 2^(blockSize - prefix), saturating for IPv6.
    pub fn blocks(&self) -> u128 {
        let bits = u32::from(self.block_size.saturating_sub(self.cidr.prefix_len()));
        1u128.checked_shl(bits).unwrap_or(u128::MAX)
    }
}

/// Weave Net as its `weave-net` DaemonSet configures it. The pod range is in the cluster's
/// `ranges`; the password itself is never read into the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeaveNet {
    /// Where encryption is switched on (`WEAVE_PASSWORD` of the `weave` container); `None`
    /// when traffic between nodes is sent in the clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<WeaveEncryption>,
    /// Where the DaemonSet is written.
    pub origin: Origin,
}

/// Where Weave Net's password comes from (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum WeaveEncryption {
    /// Written in the manifest as `value`.
    Inline { origin: Origin },
    /// `valueFrom.secretKeyRef`.
    Secret { name: String, key: String, origin: Origin },
}

/// When Calico encapsulates pod traffic between nodes (`ipipMode`, `vxlanMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub enum EncapMode {
    /// Calico's default for both modes.
    #[default]
    Never,
    Always,
    /// Only towards nodes in another subnet.
    CrossSubnet,
}

/// Which object exposes services through the ingress controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IngressKind {
    /// `networking.k8s.io/v1` Ingress.
    Ingress,
    /// OpenShift `route.openshift.io/v1` Route.
    Route,
}

/// An Ingress or Route: traffic from the ingress controller to services.
#[derive(Debug, Clone, Serialize)]
pub struct Ingress {
    pub kind: IngressKind,
    pub namespace: String,
    pub name: String,
    pub backends: Vec<Backend>,
    pub origin: Origin,
}

/// A service an Ingress or Route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backend {
    pub service: String,
    /// The service port (number or name); `None` means every port of the service.
    pub port: Option<PortRef>,
    pub origin: Origin,
}

/// A label selector: every `matchLabels` pair and every expression must hold.
/// An empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<LabelRequirement>,
}

impl LabelSelector {
    /// A selector of `matchLabels` pairs only.
    pub fn from_labels<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> LabelSelector {
        LabelSelector { match_labels: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(), match_expressions: Vec::new() }
    }

    /// Whether the selector has no terms (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

impl fmt::Display for LabelSelector {
    /// `{app=web, tier in (a,b)}`, or `{}` for the empty selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        let mut first = true;
        for (k, v) in &self.match_labels {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{k}={v}")?;
        }
        for e in &self.match_expressions {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{e}")?;
        }
        f.write_str("}")
    }
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

impl fmt::Display for LabelRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operator {
            SelectorOperator::In => write!(f, "{} in ({})", self.key, self.values.join(",")),
            SelectorOperator::NotIn => write!(f, "{} notin ({})", self.key, self.values.join(",")),
            SelectorOperator::Exists => f.write_str(&self.key),
            SelectorOperator::DoesNotExist => write!(f, "!{}", self.key),
        }
    }
}

/// The operator of a label requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A direction a NetworkPolicy can isolate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PolicyType {
    Ingress,
    Egress,
}

/// A NetworkPolicy (`networking.k8s.io/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    pub pod_selector: LabelSelector,
    /// `policyTypes` as written; `None` when absent (the engine applies the defaults).
    pub policy_types: Option<Vec<PolicyType>>,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    pub origin: Origin,
}

impl NetworkPolicy {
    /// A policy selecting `pod_selector` in `namespace`, with no rules and default `policyTypes`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, pod_selector: LabelSelector, origin: Origin) -> NetworkPolicy {
        NetworkPolicy {
            namespace: namespace.into(),
            name: name.into(),
            pod_selector,
            policy_types: None,
            ingress: Vec::new(),
            egress: Vec::new(),
            origin,
        }
    }

    /// Whether the policy isolates its pods in `direction`: `policyTypes` when given,
    /// otherwise always Ingress, and Egress only when there are egress rules.
    pub fn affects(&self, direction: PolicyType) -> bool {
        match &self.policy_types {
            Some(types) => types.contains(&direction),
            None => direction == PolicyType::Ingress || !self.egress.is_empty(),
        }
    }

    /// `ns/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One ingress (`from`) or egress (`to`) rule. No peers means every peer; no ports
/// means every port.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRule {
    pub peers: Vec<PolicyPeer>,
    pub ports: Vec<PortSpec>,
    pub origin: Origin,
}

impl PolicyRule {
    pub fn new(peers: Vec<PolicyPeer>, ports: Vec<PortSpec>, origin: Origin) -> PolicyRule {
        PolicyRule { peers, ports, origin }
    }
}

/// One entry of a rule's `from`/`to`.
#[derive(Debug, Clone, Serialize)]
pub enum PolicyPeer {
    /// Pods matched by selectors. An absent namespace selector means the policy's own
    /// namespace; an absent pod selector means every pod of the matched namespaces.
    Pods { namespace_selector: Option<LabelSelector>, pod_selector: Option<LabelSelector>, origin: Origin },
    /// Addresses outside the cluster.
    IpBlock { block: IpBlock, origin: Origin },
}

/// `ipBlock`: a CIDR minus exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpBlock {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

/// One entry of a rule's `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSpec {
    pub protocol: Protocol,
    /// `None` matches every port of the protocol.
    pub port: Option<PortRef>,
    /// Last port of a range starting at `port` (numbers only).
    pub end_port: Option<u16>,
    pub origin: Origin,
}

impl PortSpec {
    /// `port` (or every port) of `protocol`.
    pub fn new(protocol: Protocol, port: Option<PortRef>, origin: Origin) -> PortSpec {
        PortSpec { protocol, port, end_port: None, origin }
    }
}

/// A cluster-scoped policy in the admin tier (ordered by priority, evaluated before
/// NetworkPolicies) or the baseline tier (evaluated after them, for pods no
/// NetworkPolicy selects): an AdminNetworkPolicy or BaselineAdminNetworkPolicy
/// (`policy.networking.k8s.io/v1alpha1`), or a ClusterNetworkPolicy
/// (`policy.networking.k8s.io/v1alpha2`), whose `Accept` is read as `Allow`.
#[derive(Debug, Clone, Serialize)]
pub struct AdminPolicy {
    pub name: String,
    /// The kind of object it was read from.
    pub kind: AdminKind,
    pub tier: AdminTier,
    /// A baseline-tier ClusterNetworkPolicy's `priority` (the admin tier keeps it in
    /// `AdminTier::Admin`); `None` for the BaselineAdminNetworkPolicy, which has none.
    pub baseline_priority: Option<i32>,
    pub subject: AdminSubject,
    pub ingress: Vec<AdminRule>,
    pub egress: Vec<AdminRule>,
    pub origin: Origin,
}

impl AdminPolicy {
    /// A policy with no rules yet.
    pub fn new(name: impl Into<String>, tier: AdminTier, subject: AdminSubject, origin: Origin) -> AdminPolicy {
        let kind = match tier {
            AdminTier::Admin { .. } => AdminKind::AdminNetworkPolicy,
            AdminTier::Baseline => AdminKind::BaselineAdminNetworkPolicy,
        };
        AdminPolicy { name: name.into(), kind, tier, baseline_priority: None, subject, ingress: Vec::new(), egress: Vec::new(), origin }
    }

    /// A ClusterNetworkPolicy of `priority` in `tier`, with no rules yet.
    pub fn cluster_network_policy(
        name: impl Into<String>,
        tier: ClusterTier,
        priority: i32,
        subject: AdminSubject,
        origin: Origin,
    ) -> AdminPolicy {
        let (tier, baseline_priority) = match tier {
            ClusterTier::Admin => (AdminTier::Admin { priority }, None),
            ClusterTier::Baseline => (AdminTier::Baseline, Some(priority)),
        };
        AdminPolicy { kind: AdminKind::ClusterNetworkPolicy, baseline_priority, ..AdminPolicy::new(name, tier, subject, origin) }
    }

    /// Where the policy sorts within its tier: its priority, lower first. The
    /// BaselineAdminNetworkPolicy has none and sorts after every ClusterNetworkPolicy.
    pub fn priority(&self) -> Option<i32> {
        match self.tier {
            AdminTier::Admin { priority } => Some(priority),
            AdminTier::Baseline => self.baseline_priority,
        }
    }
}

/// Which tier an admin policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AdminTier {
    /// Before NetworkPolicies; lower priority numbers win.
    Admin { priority: i32 },
    /// After NetworkPolicies, for pods none selects.
    Baseline,
}

/// `spec.tier` of a ClusterNetworkPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClusterTier {
    Admin,
    Baseline,
}

/// The object an admin policy was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AdminKind {
    /// `AdminNetworkPolicy` (v1alpha1), always in the admin tier.
    AdminNetworkPolicy,
    /// `BaselineAdminNetworkPolicy` (v1alpha1), the one baseline policy of a cluster.
    BaselineAdminNetworkPolicy,
    /// `ClusterNetworkPolicy` (v1alpha2), in the tier its `spec.tier` names.
    ClusterNetworkPolicy,
}

impl AdminKind {
    /// The kind as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminKind::AdminNetworkPolicy => "AdminNetworkPolicy",
            AdminKind::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
            AdminKind::ClusterNetworkPolicy => "ClusterNetworkPolicy",
        }
    }
}

impl fmt::Display for AdminKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whom an admin policy applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AdminSubject {
    /// Every pod of the matched namespaces.
    Namespaces(LabelSelector),
    /// Pods matched by both selectors.
    Pods { namespace_selector: LabelSelector, pod_selector: LabelSelector },
}

/// What an admin rule does with the traffic it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AdminAction {
    /// Allow (`Accept` in a ClusterNetworkPolicy).
    Allow,
    Deny,
    /// Skip the remaining policies of the tier: in the admin tier, NetworkPolicies (or the
    /// baseline) decide; in the baseline tier, the traffic is allowed.
    Pass,
}

/// One admin policy rule; rules are evaluated in order and the first match wins.
#[derive(Debug, Clone, Serialize)]
pub struct AdminRule {
    pub name: String,
    pub action: AdminAction,
    pub peers: Vec<AdminPeer>,
    /// `None` means every port.
    pub ports: Option<Vec<AdminPort>>,
    pub origin: Origin,
}

impl AdminRule {
    pub fn new(
        name: impl Into<String>,
        action: AdminAction,
        peers: Vec<AdminPeer>,
        ports: Option<Vec<AdminPort>>,
        origin: Origin,
    ) -> AdminRule {
        AdminRule { name: name.into(), action, peers, ports, origin }
    }
}

/// One entry of an admin rule's `from`/`to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AdminPeer {
    Namespaces(LabelSelector),
    Pods {
        namespace_selector: LabelSelector,
        pod_selector: LabelSelector,
    },
    /// Egress only: CIDRs.
    Networks(Vec<IpNet>),
    /// Egress only: nodes by label.
    Nodes(LabelSelector),
    /// Egress only (ClusterNetworkPolicy `Accept` rules): DNS names, `*.` wildcards kept
    /// as written. Matching them needs name resolution, which static analysis lacks.
    DomainNames(Vec<String>),
}

/// One entry of an admin rule's `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AdminPort {
    Number { protocol: Protocol, port: u16 },
    Named(String),
    Range { protocol: Protocol, start: u16, end: u16 },
}

/// A custom resource: its API group and kind, where it lives, and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomResource {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub origin: Origin,
}

impl CustomResource {
    /// `Prometheus.monitoring.coreos.com monitoring/k8s`.
    pub fn display_name(&self) -> String {
        format!("{}.{} {}/{}", self.kind, self.group, self.namespace, self.name)
    }
}

/// A resource's API group, version and kind, as `apiVersion` and `kind` give them.
/// Resources are told apart by group and kind: Calico, Antrea and Kubernetes each have a
/// `NetworkPolicy`, and only one of them is `networking.k8s.io`'s.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GroupVersionKind {
    /// Empty for the core group (`apiVersion: v1`).
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl GroupVersionKind {
    /// Splits `apiVersion` (`projectcalico.org/v3`, or `v1` for the core group).
    pub fn new(api_version: &str, kind: &str) -> GroupVersionKind {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        GroupVersionKind { group: group.to_string(), version: version.to_string(), kind: kind.to_string() }
    }

    /// `kind.group` as kubectl names resource types (`NetworkPolicy.projectcalico.org`),
    /// the bare kind for the core group.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

impl fmt::Display for GroupVersionKind {
    /// `projectcalico.org/v3 NetworkPolicy`, as `apiVersion` and `kind` are written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{} {}", self.version, self.kind)
        } else {
            write!(f, "{}/{} {}", self.group, self.version, self.kind)
        }
    }
}

/// A policy resource netdoctor reads but does not evaluate: another CNI's policies, a
/// service mesh's authorization, or an unknown kind named like a policy. What it could
/// change (flows to or from pods of `namespace`, or of every namespace when it is
/// cluster-wide) is reported unknown rather than allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnevaluatedPolicy {
    pub gvk: GroupVersionKind,
    /// `None` when it applies cluster-wide (a cluster-scoped kind, or a mesh policy in the
    /// mesh's root namespace).
    pub namespace: Option<String>,
    pub name: String,
    /// What enforces it and why it is not evaluated, for messages.
    pub reason: String,
    /// It can only refuse traffic, never allow what the evaluated policies deny (a service
    /// mesh's authorization, an egress firewall behind NetworkPolicy).
    pub restricts_only: bool,
    pub origin: Origin,
}

impl UnevaluatedPolicy {
    /// `projectcalico.org/v3 NetworkPolicy shop/allow-web`.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.gvk, self.name),
            None => format!("{} {}", self.gvk, self.name),
        }
    }

    /// Whether it can change what pods of `namespace` may send or receive.
    pub fn affects_namespace(&self, namespace: &str) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }
}

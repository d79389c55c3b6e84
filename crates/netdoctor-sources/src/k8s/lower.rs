//! The lowering step: raw resource objects into the model. Workloads become one pod
//! standing for their replicas (labels, ports and `hostNetwork` from the pod template);
//! objects without a namespace land in `default`, as `kubectl apply` puts them. Each
//! object with a value of the wrong shape is left out and reported at that value.
//! ClusterNetworkPolicies (`policy.networking.k8s.io` v1alpha2, and v1beta1 which kept
//! its shape) join AdminNetworkPolicies in the admin policy model, `Accept` read as `Allow`.
//! Endpoints (one entry per subset) and EndpointSlices (joined to their service by the
//! `kubernetes.io/service-name` label) become `Cluster::endpoints`.

use super::calico;
use super::cilium;
use super::config_refs::{self, config_map_entry, ConfigMaps};
use super::kinds::{self, Kind, Scope};
use super::ranges;
use super::raw::{RawObject, RawObjects};
use super::value::{
    address, boolean, cidr, error, field, integer, labels, list, mapping, number, optional_list, origin, path, port_number, port_ref,
    present_mapping, protocol, text,
};
use super::Warning;
use crate::error::{LoadError, Result};
use crate::tree::Node;
use netdoctor_model::k8s::{
    AdminAction, AdminPeer, AdminPolicy, AdminPort, AdminRule, AdminSubject, AdminTier, Backend, Cluster, ClusterTier, ContainerPort,
    EndpointAddress, EndpointPort, EndpointsKind, GroupVersionKind, Ingress, IngressKind, IpBlock, LabelRequirement, LabelSelector,
    Namespace, NetworkPolicy, Node as K8sNode, Owner, Pod, PodRef, PolicyPeer, PolicyRule, PolicyType, PortRef, PortSpec, SelectorOperator,
    Service, ServiceEndpoints, ServicePort, ServiceType, UnevaluatedPolicy, WorkloadKind, DEFAULT_NAMESPACE, SERVICE_NAME_LABEL,
};
use netdoctor_model::Protocol;
use std::net::IpAddr;

/// What lowering gave: the cluster, the objects that failed, and what was read but
/// set aside (policies that are not enforced).
#[derive(Debug, Default)]
pub(crate) struct Lowered {
    pub cluster: Cluster,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<Warning>,
}

/// Lowers every object; the ones that fail are left out and their errors returned.
pub(crate) fn lower(objects: &RawObjects) -> Lowered {
    let mut out = Lowered::default();
    // ConfigMaps first: pods read theirs wherever they are in the input.
    let config_maps: ConfigMaps<'_> = objects
        .objects
        .iter()
        .filter(|o| matches!(kinds::classify(&GroupVersionKind::new(&o.api_version, &o.kind)), Kind::ConfigMap))
        .filter_map(|o| config_map_entry(&o.node))
        .collect();
    for object in &objects.objects {
        if let Err(e) = lower_object(object, &config_maps, &mut out) {
            out.errors.push(e);
        }
    }
    out
}

fn lower_object(object: &RawObject, config_maps: &ConfigMaps<'_>, out: &mut Lowered) -> Result<()> {
    let node = &object.node;
    let gvk = GroupVersionKind::new(&object.api_version, &object.kind);
    let Lowered { cluster, warnings, .. } = out;
    match kinds::classify(&gvk) {
        Kind::Namespace => cluster.namespaces.push(namespace(node)?),
        Kind::Pod => cluster.pods.push(pod(node, config_maps, warnings)?),
        Kind::Workload => {
            let kind = WorkloadKind::from_kind(&object.kind);
            if kind == WorkloadKind::DaemonSet {
                if let Some((range, weave)) = ranges::weave_net(node)? {
                    cluster.add_range(range);
                    cluster.weave.get_or_insert(weave);
                }
            }
            cluster.pods.push(workload(node, kind, config_maps, warnings)?);
        }
        Kind::Service => cluster.services.push(service(node, warnings)?),
        Kind::Endpoints => cluster.endpoints.extend(endpoints(node)?),
        Kind::EndpointSlice => cluster.endpoints.extend(endpoint_slice(node)?),
        Kind::Node => cluster.nodes.push(k8s_node(node)?),
        Kind::Ingress => cluster.ingresses.push(ingress(node)?),
        Kind::Route => cluster.ingresses.push(route(node)?),
        Kind::NetworkPolicy => cluster.network_policies.push(network_policy(node)?),
        Kind::AdminNetworkPolicy => cluster.admin_policies.push(admin_policy(node, false)?),
        Kind::BaselineAdminNetworkPolicy => cluster.admin_policies.push(admin_policy(node, true)?),
        Kind::ClusterNetworkPolicy => cluster.admin_policies.push(cluster_network_policy(node)?),
        Kind::ServiceCidr => add_ranges(cluster, ranges::service_cidr(node)?),
        Kind::CalicoIpPool => {
            // Validated first: a pool Calico would refuse adds no range either.
            let pool = ranges::calico_pool(node)?;
            add_ranges(cluster, ranges::ip_pool(node)?);
            cluster.calico_pools.extend(pool);
        }
        Kind::TigeraInstallation => add_ranges(cluster, ranges::calico_installation(node)?),
        Kind::ConfigMap => {
            add_ranges(cluster, ranges::config_map(node)?);
            if let Some(backend) = ranges::flannel_backend(node)? {
                cluster.flannel_backend.get_or_insert(backend);
            }
            if let Some(config) = ranges::cilium_config(node)? {
                cluster.cilium_config.get_or_insert(config);
            }
        }
        Kind::CalicoPolicy(kind) => cluster.calico_policies.push(calico::network_policy(node, kind, &object.api_version)?),
        Kind::CalicoTier => cluster.calico_tiers.push(calico::tier(node)?),
        Kind::CalicoNetworkSet(global) => cluster.network_sets.push(calico::network_set(node, global)?),
        Kind::CiliumPolicy { clusterwide } => cluster.cilium_policies.push(cilium::policy(node, clusterwide)?),
        Kind::CiliumCidrGroup => cluster.cidr_groups.push(cilium::cidr_group(node)?),
        Kind::Unevaluated(how) => cluster.unevaluated.push(unevaluated(node, gvk, &how)?),
        Kind::NotEnforced(why) => {
            let span = &node.span;
            let message = format!("{gvk} `{}` is read but not evaluated: {why}", name(node)?);
            warnings.push(Warning { file: span.file.to_path_buf(), line: span.line, column: span.column, message });
        }
        // Custom resources are kept by name: an operator may turn one into pods the
        // manifests do not hold. Kubernetes' own other resources (Secret, ServiceAccount,
        // RBAC, ...) say nothing about reachability.
        Kind::Other => {
            if let Some(cr) = custom_resource(node, &gvk) {
                cluster.custom_resources.push(cr);
            }
        }
    }
    Ok(())
}

/// A policy resource that is read but not evaluated, scoped as its kind is.
fn unevaluated(node: &Node, gvk: GroupVersionKind, how: &kinds::Unevaluated) -> Result<UnevaluatedPolicy> {
    let written = match mapping(node, "metadata")? {
        Some(meta) => text(meta, "namespace")?.filter(|n| !n.is_empty()).map(str::to_string),
        None => None,
    };
    let namespace = match how.scope {
        Scope::Cluster => None,
        Scope::Namespaced => Some(written.unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())),
        Scope::MeshRoot(root) => written.filter(|ns| ns != root),
        Scope::Guess => written,
    };
    Ok(UnevaluatedPolicy {
        gvk,
        namespace,
        name: name(node)?,
        reason: how.reason.to_string(),
        restricts_only: how.restricts_only,
        origin: origin(node),
    })
}

fn add_ranges(cluster: &mut Cluster, ranges: Vec<netdoctor_model::k8s::ClusterRange>) {
    for range in ranges {
        cluster.add_range(range);
    }
}

/// `metadata.name`, which every object needs.
pub(super) fn name(node: &Node) -> Result<String> {
    let meta = mapping(node, "metadata")?.ok_or_else(|| error(node, "the object has no `metadata`"))?;
    match text(meta, "name")? {
        Some(n) if !n.is_empty() => Ok(n.to_string()),
        _ => Err(error(meta, "`metadata.name` is missing")),
    }
}

/// `metadata.namespace`, `default` when absent (as `kubectl apply` and Calico put it).
pub(super) fn namespace_of(node: &Node) -> Result<String> {
    let ns = match mapping(node, "metadata")? {
        Some(meta) => text(meta, "namespace")?,
        None => None,
    };
    Ok(ns.filter(|n| !n.is_empty()).unwrap_or(DEFAULT_NAMESPACE).to_string())
}

/// A namespaced object of a group outside Kubernetes' own, by name; `None` for
/// Kubernetes' groups, cluster-scoped objects and objects without a name.
fn custom_resource(node: &Node, gvk: &GroupVersionKind) -> Option<netdoctor_model::k8s::CustomResource> {
    const KUBERNETES_GROUPS: [&str; 6] = ["", "apps", "batch", "autoscaling", "policy", "extensions"];
    if KUBERNETES_GROUPS.contains(&gvk.group.as_str()) || gvk.group.ends_with(".k8s.io") || gvk.group.ends_with(".kubernetes.io") {
        return None;
    }
    let meta = mapping(node, "metadata").ok()??;
    let namespace = text(meta, "namespace").ok()??.to_string();
    Some(netdoctor_model::k8s::CustomResource {
        group: gvk.group.clone(),
        kind: gvk.kind.clone(),
        namespace,
        name: name(node).ok()?,
        origin: origin(node),
    })
}

fn metadata_labels(node: &Node) -> Result<netdoctor_model::k8s::Labels> {
    match mapping(node, "metadata")? {
        Some(meta) => labels(meta, "labels"),
        None => Ok(Default::default()),
    }
}

fn namespace(node: &Node) -> Result<Namespace> {
    Ok(Namespace::new(name(node)?, metadata_labels(node)?, origin(node)))
}

/// A field read leniently: when it is malformed, it is left out with a located warning
/// (`what` says what is left out, and as what) and the rest of the object is kept.
fn lenient<T: Default>(read: Result<T>, what: &str, warnings: &mut Vec<Warning>) -> T {
    read.unwrap_or_else(|e| {
        let message = format!("{}; {what}, the rest of the object is read", e.message);
        warnings.push(Warning { file: e.file, line: e.line, column: e.column, message });
        T::default()
    })
}

/// A Service's `ports`.
fn service_ports(spec: &Node) -> Result<Vec<ServicePort>> {
    let mut ports = Vec::new();
    for port in list(spec, "ports")? {
        let number_node = field(port, "port").ok_or_else(|| error(port, "a service port needs `port`"))?;
        ports.push(ServicePort {
            name: text(port, "name")?.filter(|n| !n.is_empty()).map(str::to_string),
            port: port_number(number_node, "port")?,
            target_port: field(port, "targetPort").map(|t| port_ref(t, "targetPort")).transpose()?,
            protocol: protocol(port, "protocol")?,
            origin: origin(port),
        });
    }
    Ok(ports)
}

/// The ports of every (non-init) container of a pod spec.
fn container_ports(spec: Option<&Node>) -> Result<Vec<ContainerPort>> {
    let mut ports = Vec::new();
    let Some(spec) = spec else { return Ok(ports) };
    for container in list(spec, "containers")? {
        for port in list(container, "ports")? {
            let number_node = field(port, "containerPort").ok_or_else(|| error(port, "a container port needs `containerPort`"))?;
            let port_name = text(port, "name")?.filter(|n| !n.is_empty()).map(str::to_string);
            ports.push(ContainerPort {
                name: port_name,
                port: port_number(number_node, "containerPort")?,
                protocol: protocol(port, "protocol")?,
            });
        }
    }
    Ok(ports)
}

/// `serviceAccountName` (or the deprecated `serviceAccount`), when set.
fn service_account(spec: Option<&Node>) -> Result<Option<String>> {
    let Some(spec) = spec else { return Ok(None) };
    let name = match text(spec, "serviceAccountName")? {
        Some(n) => Some(n),
        None => text(spec, "serviceAccount")?,
    };
    Ok(name.filter(|n| !n.is_empty()).map(str::to_string))
}

fn host_network(spec: Option<&Node>) -> Result<bool> {
    Ok(match spec {
        Some(spec) => boolean(spec, "hostNetwork")?.unwrap_or(false),
        None => false,
    })
}

/// `dnsPolicy` of a pod spec, as written.
fn dns_policy(spec: Option<&Node>) -> Result<Option<String>> {
    Ok(match spec {
        Some(spec) => text(spec, "dnsPolicy")?.filter(|p| !p.is_empty()).map(str::to_string),
        None => None,
    })
}

fn pod(node: &Node, config_maps: &ConfigMaps<'_>, warnings: &mut Vec<Warning>) -> Result<Pod> {
    let pod_name = name(node)?;
    let spec = mapping(node, "spec")?;
    let owner = match mapping(node, "metadata")? {
        Some(meta) => controller(meta)?,
        None => None,
    };
    let owner = owner.unwrap_or_else(|| Owner { kind: WorkloadKind::Pod, name: pod_name.clone() });
    let (ips, host_ip) = match mapping(node, "status")? {
        Some(status) => pod_addresses(status)?,
        None => (Vec::new(), None),
    };
    let namespace = namespace_of(node)?;
    Ok(Pod {
        references: config_refs::references(spec, &namespace, config_maps),
        namespace,
        name: pod_name,
        labels: metadata_labels(node)?,
        ips,
        host_ip,
        host_network: lenient(host_network(spec), "its `hostNetwork` is left out (taken as false)", warnings),
        dns_policy: lenient(dns_policy(spec), "its `dnsPolicy` is left out", warnings),
        ports: lenient(container_ports(spec), "its container ports are left out", warnings),
        service_account: lenient(service_account(spec), "its service account is left out", warnings),
        owner,
        replicas: 1,
        from_template: false,
        origin: origin(node),
    })
}

/// The controlling owner reference. A pod whose controller is a Node is a static
/// (mirror) pod and stands for itself.
fn controller(meta: &Node) -> Result<Option<Owner>> {
    for reference in list(meta, "ownerReferences")? {
        if boolean(reference, "controller")? != Some(true) {
            continue;
        }
        let kind = text(reference, "kind")?.unwrap_or_default();
        let owner_name = text(reference, "name")?.unwrap_or_default();
        if kind == "Node" || kind.is_empty() || owner_name.is_empty() {
            return Ok(None);
        }
        return Ok(Some(Owner { kind: WorkloadKind::from_kind(kind), name: owner_name.to_string() }));
    }
    Ok(None)
}

fn pod_addresses(status: &Node) -> Result<(Vec<IpAddr>, Option<IpAddr>)> {
    let mut ips = Vec::new();
    for entry in list(status, "podIPs")? {
        if let Some(ip) = field(entry, "ip") {
            ips.push(address(ip, "ip")?);
        }
    }
    if ips.is_empty() {
        if let Some(ip) = field(status, "podIP") {
            ips.push(address(ip, "podIP")?);
        }
    }
    let host_ip = field(status, "hostIP").map(|n| address(n, "hostIP")).transpose()?;
    Ok((ips, host_ip))
}

/// A workload: one pod standing for the replicas its template makes.
fn workload(node: &Node, kind: WorkloadKind, config_maps: &ConfigMaps<'_>, warnings: &mut Vec<Warning>) -> Result<Pod> {
    let workload_name = name(node)?;
    let spec = mapping(node, "spec")?;
    let template_path: &[&str] = if kind == WorkloadKind::CronJob { &["jobTemplate", "spec", "template"] } else { &["template"] };
    let template = spec.and_then(|s| path(s, template_path));
    let template_spec = match template {
        Some(t) => mapping(t, "spec")?,
        None => None,
    };
    let template_labels = match template {
        Some(t) => metadata_labels(t)?,
        None => Default::default(),
    };
    let replicas_key = match kind {
        WorkloadKind::Job => Some("parallelism"),
        WorkloadKind::DaemonSet | WorkloadKind::CronJob => None,
        _ => Some("replicas"),
    };
    let replicas = match (spec, replicas_key) {
        (Some(spec), Some(key)) => integer::<u32>(spec, key, "a replica count")?.unwrap_or(1),
        _ => 1,
    };
    let namespace = namespace_of(node)?;
    Ok(Pod {
        references: config_refs::references(template_spec, &namespace, config_maps),
        namespace,
        name: workload_name.clone(),
        labels: template_labels,
        ips: Vec::new(),
        host_ip: None,
        host_network: lenient(host_network(template_spec), "its `hostNetwork` is left out (taken as false)", warnings),
        dns_policy: lenient(dns_policy(template_spec), "its `dnsPolicy` is left out", warnings),
        ports: lenient(container_ports(template_spec), "its container ports are left out", warnings),
        service_account: lenient(service_account(template_spec), "its service account is left out", warnings),
        owner: Owner { kind, name: workload_name },
        replicas,
        from_template: true,
        origin: origin(node),
    })
}

fn service(node: &Node, warnings: &mut Vec<Warning>) -> Result<Service> {
    let spec = mapping(node, "spec")?;
    let mut svc = Service {
        namespace: namespace_of(node)?,
        name: name(node)?,
        selector: None,
        ports: Vec::new(),
        service_type: ServiceType::ClusterIP,
        headless: false,
        external_name: None,
        external_traffic_local: false,
        cluster_ips: Vec::new(),
        origin: origin(node),
    };
    let Some(spec) = spec else { return Ok(svc) };
    if present_mapping(spec, "selector")?.is_some() {
        svc.selector = Some(labels(spec, "selector")?);
    }
    svc.ports = lenient(service_ports(spec), "its ports are left out", warnings);
    svc.service_type = match text(spec, "type")? {
        None | Some("ClusterIP") => ServiceType::ClusterIP,
        Some("NodePort") => ServiceType::NodePort,
        Some("LoadBalancer") => ServiceType::LoadBalancer,
        Some("ExternalName") => ServiceType::ExternalName,
        Some(other) => {
            let at = field(spec, "type").unwrap_or(spec);
            return Err(error(at, format!("unknown service type `{other}` (expected ClusterIP, NodePort, LoadBalancer or ExternalName)")));
        }
    };
    svc.headless = text(spec, "clusterIP")? == Some("None");
    svc.external_name = text(spec, "externalName")?.map(str::to_string);
    svc.external_traffic_local = match text(spec, "externalTrafficPolicy")? {
        None | Some("Cluster") => false,
        Some("Local") => true,
        Some(other) => {
            let at = field(spec, "externalTrafficPolicy").unwrap_or(spec);
            return Err(error(at, format!("unknown externalTrafficPolicy `{other}` (expected Cluster or Local)")));
        }
    };
    // `None` (headless) and empty strings are not addresses.
    let written = field(spec, "clusterIP").into_iter().chain(list(spec, "clusterIPs")?.iter());
    for ip in written.filter_map(|n| n.as_scalar()).filter_map(|a| a.parse::<IpAddr>().ok()) {
        if !svc.cluster_ips.contains(&ip) {
            svc.cluster_ips.push(ip);
        }
    }
    Ok(svc)
}

fn k8s_node(node: &Node) -> Result<K8sNode> {
    let mut pod_cidrs = Vec::new();
    let mut pod_cidrs_origin = None;
    let mut addresses = Vec::new();
    if let Some(spec) = mapping(node, "spec")? {
        pod_cidrs_origin = field(spec, "podCIDR").or_else(|| field(spec, "podCIDRs")).map(origin);
        if let Some(c) = field(spec, "podCIDR") {
            pod_cidrs.push(cidr(c, "podCIDR")?);
        }
        for c in list(spec, "podCIDRs")? {
            let net = cidr(c, "podCIDRs")?;
            if !pod_cidrs.contains(&net) {
                pod_cidrs.push(net);
            }
        }
    }
    if let Some(status) = mapping(node, "status")? {
        for entry in list(status, "addresses")? {
            // Hostname entries are names, not addresses.
            if let Some(ip) = text(entry, "address")?.and_then(|a| a.parse::<IpAddr>().ok()) {
                addresses.push(ip);
            }
        }
    }
    Ok(K8sNode { name: name(node)?, labels: metadata_labels(node)?, pod_cidrs, pod_cidrs_origin, addresses, origin: origin(node) })
}

/// A `networking.k8s.io/v1` backend (`service: {name, port: {number|name}}`), or the
/// older `extensions/v1beta1` one (`serviceName`, `servicePort`).
fn ingress_backend(backend: &Node) -> Result<Option<Backend>> {
    if let Some(service) = mapping(backend, "service")? {
        let Some(service_name) = text(service, "name")? else { return Ok(None) };
        let port = match mapping(service, "port")? {
            Some(p) => match (field(p, "number"), text(p, "name")?) {
                (Some(n), _) => Some(PortRef::Number(port_number(n, "number")?)),
                (None, Some(name)) => Some(PortRef::Name(name.to_string())),
                (None, None) => None,
            },
            None => None,
        };
        return Ok(Some(Backend { service: service_name.to_string(), port, origin: origin(backend) }));
    }
    let Some(service_name) = text(backend, "serviceName")? else { return Ok(None) };
    let port = field(backend, "servicePort").map(|p| port_ref(p, "servicePort")).transpose()?;
    Ok(Some(Backend { service: service_name.to_string(), port, origin: origin(backend) }))
}

fn ingress(node: &Node) -> Result<Ingress> {
    let mut backends = Vec::new();
    if let Some(spec) = mapping(node, "spec")? {
        let default = match mapping(spec, "defaultBackend")? {
            Some(b) => Some(b),
            None => mapping(spec, "backend")?,
        };
        if let Some(b) = default {
            backends.extend(ingress_backend(b)?);
        }
        for rule in list(spec, "rules")? {
            let Some(http) = mapping(rule, "http")? else { continue };
            for p in list(http, "paths")? {
                if let Some(b) = mapping(p, "backend")? {
                    backends.extend(ingress_backend(b)?);
                }
            }
        }
    }
    Ok(Ingress { kind: IngressKind::Ingress, namespace: namespace_of(node)?, name: name(node)?, backends, origin: origin(node) })
}

fn route(node: &Node) -> Result<Ingress> {
    let mut backends = Vec::new();
    if let Some(spec) = mapping(node, "spec")? {
        let port = match mapping(spec, "port")? {
            Some(p) => field(p, "targetPort").map(|t| port_ref(t, "targetPort")).transpose()?,
            None => None,
        };
        let targets = mapping(spec, "to")?.into_iter().chain(list(spec, "alternateBackends")?.iter());
        for target in targets {
            // Routes may only point at Services; other kinds are left out.
            let kind = text(target, "kind")?.unwrap_or("Service");
            if kind != "Service" {
                continue;
            }
            if let Some(service) = text(target, "name")? {
                backends.push(Backend { service: service.to_string(), port: port.clone(), origin: origin(target) });
            }
        }
    }
    Ok(Ingress { kind: IngressKind::Route, namespace: namespace_of(node)?, name: name(node)?, backends, origin: origin(node) })
}

/// A label selector; `matchExpressions` are checked as the API server does.
pub(super) fn selector(node: &Node) -> Result<LabelSelector> {
    let mut sel = LabelSelector { match_labels: labels(node, "matchLabels")?, match_expressions: Vec::new() };
    for expr in list(node, "matchExpressions")? {
        let key = text(expr, "key")?.filter(|k| !k.is_empty()).ok_or_else(|| error(expr, "a match expression needs `key`"))?;
        let op_text = text(expr, "operator")?.ok_or_else(|| error(expr, "a match expression needs `operator`"))?;
        let operator = match op_text {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            other => {
                let at = field(expr, "operator").unwrap_or(expr);
                return Err(error(at, format!("unknown operator `{other}` (expected In, NotIn, Exists or DoesNotExist)")));
            }
        };
        let mut values = Vec::new();
        for v in list(expr, "values")? {
            values.push(v.as_scalar().ok_or_else(|| error(v, format!("values must be strings, found {}", v.kind_name())))?.to_string());
        }
        let needs_values = matches!(operator, SelectorOperator::In | SelectorOperator::NotIn);
        if needs_values && values.is_empty() {
            return Err(error(expr, format!("operator `{op_text}` needs at least one value")));
        }
        if !needs_values && !values.is_empty() {
            return Err(error(expr, format!("operator `{op_text}` takes no values")));
        }
        sel.match_expressions.push(LabelRequirement { key: key.to_string(), operator, values });
    }
    Ok(sel)
}

/// A selector field that may be absent (`None`), or present and maybe empty.
fn optional_selector(node: &Node, key: &str) -> Result<Option<LabelSelector>> {
    match present_mapping(node, key)? {
        None => Ok(None),
        // `podSelector: null` decodes to an absent selector in the API types.
        Some(None) => Ok(None),
        Some(Some(n)) => selector(n).map(Some),
    }
}

fn network_policy(node: &Node) -> Result<NetworkPolicy> {
    let mut policy = NetworkPolicy {
        namespace: namespace_of(node)?,
        name: name(node)?,
        pod_selector: LabelSelector::default(),
        policy_types: None,
        ingress: Vec::new(),
        egress: Vec::new(),
        origin: origin(node),
    };
    let Some(spec) = mapping(node, "spec")? else { return Ok(policy) };
    policy.pod_selector = optional_selector(spec, "podSelector")?.unwrap_or_default();
    if let Some(types) = optional_list(spec, "policyTypes")? {
        let mut parsed = Vec::new();
        for t in types {
            parsed.push(match t.as_scalar() {
                Some("Ingress") => PolicyType::Ingress,
                Some("Egress") => PolicyType::Egress,
                _ => return Err(error(t, format!("policy type must be Ingress or Egress, found `{t}`"))),
            });
        }
        policy.policy_types = Some(parsed);
    }
    for rule in list(spec, "ingress")? {
        policy.ingress.push(policy_rule(rule, "from")?);
    }
    for rule in list(spec, "egress")? {
        policy.egress.push(policy_rule(rule, "to")?);
    }
    Ok(policy)
}

fn policy_rule(rule: &Node, peers_key: &str) -> Result<PolicyRule> {
    let mut out = PolicyRule { peers: Vec::new(), ports: Vec::new(), origin: origin(rule) };
    if rule.is_null() {
        // `ingress: [null]` reads like `ingress: [{}]`: every peer, every port.
        return Ok(out);
    }
    if rule.as_map().is_none() {
        return Err(error(rule, format!("a rule must be a mapping, found {}", rule.kind_name())));
    }
    for peer in list(rule, peers_key)? {
        out.peers.push(policy_peer(peer)?);
    }
    for port in list(rule, "ports")? {
        let port_value = field(port, "port").map(|p| port_ref(p, "port")).transpose()?;
        let end_port = field(port, "endPort").map(|e| port_number(e, "endPort")).transpose()?;
        if let (Some(end), Some(start)) = (end_port, &port_value) {
            match start {
                PortRef::Number(start) if *start <= end => {}
                PortRef::Number(_) => return Err(error(port, "`endPort` is lower than `port`")),
                PortRef::Name(_) => return Err(error(port, "`endPort` needs a numeric `port`, not a port name")),
            }
        }
        if end_port.is_some() && port_value.is_none() {
            return Err(error(port, "`endPort` needs `port`"));
        }
        // A named port is pointed at by its name, which is what a finding about it is about.
        let at = match (&port_value, field(port, "port")) {
            (Some(PortRef::Name(_)), Some(name)) => origin(name),
            _ => origin(port),
        };
        out.ports.push(PortSpec { protocol: protocol(port, "protocol")?, port: port_value, end_port, origin: at });
    }
    Ok(out)
}

fn policy_peer(peer: &Node) -> Result<PolicyPeer> {
    if peer.as_map().is_none() {
        return Err(error(peer, format!("a peer must be a mapping, found {}", peer.kind_name())));
    }
    let namespace_selector = optional_selector(peer, "namespaceSelector")?;
    let pod_selector = optional_selector(peer, "podSelector")?;
    let ip_block = mapping(peer, "ipBlock")?;
    match (ip_block, namespace_selector.is_some() || pod_selector.is_some()) {
        (Some(_), true) => Err(error(peer, "a peer sets `ipBlock` together with a selector; use separate peers")),
        (Some(block), false) => {
            let cidr_node = field(block, "cidr").ok_or_else(|| error(block, "`ipBlock` needs `cidr`"))?;
            let net = cidr(cidr_node, "cidr")?;
            let mut except = Vec::new();
            for e in list(block, "except")? {
                except.push(cidr(e, "except")?);
            }
            Ok(PolicyPeer::IpBlock { block: IpBlock { cidr: net, except }, origin: origin(peer) })
        }
        (None, true) => Ok(PolicyPeer::Pods { namespace_selector, pod_selector, origin: origin(peer) }),
        (None, false) => Err(error(peer, "a peer needs `podSelector`, `namespaceSelector` or `ipBlock`")),
    }
}

fn admin_policy(node: &Node, baseline: bool) -> Result<AdminPolicy> {
    let spec = mapping(node, "spec")?.ok_or_else(|| error(node, "an admin network policy needs `spec`"))?;
    let tier = if baseline {
        AdminTier::Baseline
    } else {
        let p = field(spec, "priority").ok_or_else(|| error(spec, "an AdminNetworkPolicy needs `priority`"))?;
        AdminTier::Admin { priority: number::<i32>(p, "priority", "an integer")? }
    };
    let subject_node = mapping(spec, "subject")?.ok_or_else(|| error(spec, "an admin network policy needs `subject`"))?;
    let subject = admin_subject(subject_node)?;
    let mut policy = AdminPolicy::new(name(node)?, tier, subject, origin(node));
    for rule in list(spec, "ingress")? {
        policy.ingress.push(admin_rule(rule, "from", baseline)?);
    }
    for rule in list(spec, "egress")? {
        policy.egress.push(admin_rule(rule, "to", baseline)?);
    }
    Ok(policy)
}

/// `subject`: exactly one of `namespaces` and `pods`.
fn admin_subject(subject: &Node) -> Result<AdminSubject> {
    match (present_mapping(subject, "namespaces")?, mapping(subject, "pods")?) {
        (Some(ns), None) => Ok(AdminSubject::Namespaces(ns.map(selector).transpose()?.unwrap_or_default())),
        (None, Some(pods)) => {
            let (namespace_selector, pod_selector) = namespaced_pods(pods)?;
            Ok(AdminSubject::Pods { namespace_selector, pod_selector })
        }
        _ => Err(error(subject, "`subject` must set exactly one of `namespaces` and `pods`")),
    }
}

fn namespaced_pods(pods: &Node) -> Result<(LabelSelector, LabelSelector)> {
    let ns = optional_selector(pods, "namespaceSelector")?.unwrap_or_default();
    let pod = optional_selector(pods, "podSelector")?.unwrap_or_default();
    Ok((ns, pod))
}

fn admin_rule(rule: &Node, peers_key: &str, baseline: bool) -> Result<AdminRule> {
    let action_node = field(rule, "action").ok_or_else(|| error(rule, "an admin rule needs `action`"))?;
    let action = match action_node.as_scalar() {
        Some("Allow") => AdminAction::Allow,
        Some("Deny") => AdminAction::Deny,
        Some("Pass") if !baseline => AdminAction::Pass,
        Some("Pass") => return Err(error(action_node, "a BaselineAdminNetworkPolicy rule cannot `Pass` (only Allow or Deny)")),
        _ => return Err(error(action_node, format!("unknown action `{action_node}` (expected Allow, Deny or Pass)"))),
    };
    let mut peers = Vec::new();
    for peer in list(rule, peers_key)? {
        peers.push(admin_peer(peer)?);
    }
    if peers.is_empty() {
        return Err(error(rule, format!("an admin rule needs at least one peer in `{peers_key}`")));
    }
    let ports = match optional_list(rule, "ports")? {
        None => None,
        Some(items) => Some(items.iter().map(admin_port).collect::<Result<Vec<_>>>()?),
    };
    Ok(AdminRule { name: text(rule, "name")?.unwrap_or_default().to_string(), action, peers, ports, origin: origin(rule) })
}

fn admin_peer(peer: &Node) -> Result<AdminPeer> {
    let mut set = Vec::new();
    if let Some(ns) = present_mapping(peer, "namespaces")? {
        set.push(AdminPeer::Namespaces(ns.map(selector).transpose()?.unwrap_or_default()));
    }
    if let Some(pods) = mapping(peer, "pods")? {
        let (namespace_selector, pod_selector) = namespaced_pods(pods)?;
        set.push(AdminPeer::Pods { namespace_selector, pod_selector });
    }
    if let Some(nets) = optional_list(peer, "networks")? {
        set.push(AdminPeer::Networks(nets.iter().map(|n| cidr(n, "networks")).collect::<Result<Vec<_>>>()?));
    }
    if let Some(nodes) = present_mapping(peer, "nodes")? {
        set.push(AdminPeer::Nodes(nodes.map(selector).transpose()?.unwrap_or_default()));
    }
    exactly_one(set).ok_or_else(|| error(peer, "an admin peer must set exactly one of `namespaces`, `pods`, `networks` and `nodes`"))
}

fn admin_port(port: &Node) -> Result<AdminPort> {
    let mut set = Vec::new();
    if let Some(n) = mapping(port, "portNumber")? {
        let p = field(n, "port").ok_or_else(|| error(n, "`portNumber` needs `port`"))?;
        set.push(AdminPort::Number { protocol: protocol(n, "protocol")?, port: port_number(p, "port")? });
    }
    if let Some(name) = text(port, "namedPort")? {
        set.push(AdminPort::Named(name.to_string()));
    }
    if let Some(r) = mapping(port, "portRange")? {
        let start = field(r, "start").ok_or_else(|| error(r, "`portRange` needs `start`"))?;
        let end = field(r, "end").ok_or_else(|| error(r, "`portRange` needs `end`"))?;
        let (start, end) = (port_number(start, "start")?, port_number(end, "end")?);
        if start > end {
            return Err(error(r, "`portRange` ends before it starts"));
        }
        set.push(AdminPort::Range { protocol: protocol(r, "protocol")?, start, end });
    }
    exactly_one(set).ok_or_else(|| error(port, "an admin port must set exactly one of `portNumber`, `namedPort` and `portRange`"))
}

/// The only element of `items`, or `None` when there are none or several.
fn exactly_one<T>(mut items: Vec<T>) -> Option<T> {
    match items.len() {
        1 => items.pop(),
        _ => None,
    }
}

/// Highest ClusterNetworkPolicy priority the API accepts.
const CNP_MAX_PRIORITY: i32 = 1000;

/// A ClusterNetworkPolicy: `spec.tier` Admin or Baseline, `priority` 0-1000 within the
/// tier, `subject`, and rules with `Accept`/`Deny`/`Pass` and `protocols`.
fn cluster_network_policy(node: &Node) -> Result<AdminPolicy> {
    let spec = mapping(node, "spec")?.ok_or_else(|| error(node, "a ClusterNetworkPolicy needs `spec`"))?;
    let tier_node = field(spec, "tier").ok_or_else(|| error(spec, "a ClusterNetworkPolicy needs `tier` (Admin or Baseline)"))?;
    let tier = match tier_node.as_scalar() {
        Some("Admin") => ClusterTier::Admin,
        Some("Baseline") => ClusterTier::Baseline,
        _ => return Err(error(tier_node, format!("unknown tier `{tier_node}` (expected Admin or Baseline)"))),
    };
    let p = field(spec, "priority").ok_or_else(|| error(spec, "a ClusterNetworkPolicy needs `priority` (0-1000)"))?;
    let priority = number::<i32>(p, "priority", "an integer from 0 to 1000")?;
    if !(0..=CNP_MAX_PRIORITY).contains(&priority) {
        return Err(error(p, format!("`priority` must be from 0 to {CNP_MAX_PRIORITY}, found {priority}")));
    }
    let subject_node = mapping(spec, "subject")?.ok_or_else(|| error(spec, "a ClusterNetworkPolicy needs `subject`"))?;
    let subject = admin_subject(subject_node)?;
    let mut policy = AdminPolicy::cluster_network_policy(name(node)?, tier, priority, subject, origin(node));
    for rule in list(spec, "ingress")? {
        policy.ingress.push(cluster_rule(rule, false)?);
    }
    for rule in list(spec, "egress")? {
        policy.egress.push(cluster_rule(rule, true)?);
    }
    Ok(policy)
}

fn cluster_rule(rule: &Node, egress: bool) -> Result<AdminRule> {
    if rule.as_map().is_none() {
        return Err(error(rule, format!("a rule must be a mapping, found {}", rule.kind_name())));
    }
    let action_node = field(rule, "action").ok_or_else(|| error(rule, "a ClusterNetworkPolicy rule needs `action`"))?;
    let action = match action_node.as_scalar() {
        Some("Accept") => AdminAction::Allow,
        Some("Deny") => AdminAction::Deny,
        Some("Pass") => AdminAction::Pass,
        Some("Allow") => {
            return Err(error(
                action_node,
                "a ClusterNetworkPolicy accepts traffic with `Accept` (`Allow` is the AdminNetworkPolicy spelling)",
            ))
        }
        _ => return Err(error(action_node, format!("unknown action `{action_node}` (expected Accept, Deny or Pass)"))),
    };
    let peers_key = if egress { "to" } else { "from" };
    let mut peers = Vec::new();
    for peer in list(rule, peers_key)? {
        let lowered = cluster_peer(peer, egress)?;
        if matches!(lowered, AdminPeer::DomainNames(_)) && action != AdminAction::Allow {
            return Err(error(peer, "`domainNames` peers are only allowed in `Accept` rules"));
        }
        peers.push(lowered);
    }
    if peers.is_empty() {
        return Err(error(rule, format!("a ClusterNetworkPolicy rule needs at least one peer in `{peers_key}`")));
    }
    for old in ["ports", "match"] {
        if let Some(n) = field(rule, old) {
            let message = format!(
                "`{old}` is not a ClusterNetworkPolicy rule field (from an earlier draft of the API); list ports under `protocols`"
            );
            return Err(error(n, message));
        }
    }
    let ports = match optional_list(rule, "protocols")? {
        None => None,
        Some([]) => {
            let at = field(rule, "protocols").unwrap_or(rule);
            return Err(error(at, "`protocols` must list at least one entry; leave it out to match every port"));
        }
        Some(items) => Some(items.iter().map(cluster_protocol).collect::<Result<Vec<_>>>()?),
    };
    Ok(AdminRule { name: text(rule, "name")?.unwrap_or_default().to_string(), action, peers, ports, origin: origin(rule) })
}

fn cluster_peer(peer: &Node, egress: bool) -> Result<AdminPeer> {
    if peer.as_map().is_none() {
        return Err(error(peer, format!("a peer must be a mapping, found {}", peer.kind_name())));
    }
    let mut set = Vec::new();
    if let Some(ns) = present_mapping(peer, "namespaces")? {
        set.push(AdminPeer::Namespaces(ns.map(selector).transpose()?.unwrap_or_default()));
    }
    if let Some(pods) = mapping(peer, "pods")? {
        let (namespace_selector, pod_selector) = namespaced_pods(pods)?;
        set.push(AdminPeer::Pods { namespace_selector, pod_selector });
    }
    for key in ["networks", "nodes", "domainNames"] {
        if !egress && peer.get(key).is_some() {
            return Err(error(peer, format!("`{key}` peers are only allowed in egress rules")));
        }
    }
    if let Some(nets) = optional_list(peer, "networks")? {
        set.push(AdminPeer::Networks(nets.iter().map(|n| cidr(n, "networks")).collect::<Result<Vec<_>>>()?));
    }
    if let Some(nodes) = present_mapping(peer, "nodes")? {
        set.push(AdminPeer::Nodes(nodes.map(selector).transpose()?.unwrap_or_default()));
    }
    if let Some(names) = optional_list(peer, "domainNames")? {
        let mut out = Vec::new();
        for n in names {
            let name = n.as_scalar().filter(|s| !s.is_empty()).ok_or_else(|| error(n, "`domainNames` entries must be domain names"))?;
            out.push(name.to_string());
        }
        set.push(AdminPeer::DomainNames(out));
    }
    let expected = if egress { "`namespaces`, `pods`, `nodes`, `networks` and `domainNames`" } else { "`namespaces` and `pods`" };
    exactly_one(set).ok_or_else(|| error(peer, format!("a peer must set exactly one of {expected}")))
}

/// One `protocols` entry: `tcp`/`udp`/`sctp` with an optional `destinationPort`
/// (`number` or `range`), or `destinationNamedPort`.
fn cluster_protocol(entry: &Node) -> Result<AdminPort> {
    let mut set = Vec::new();
    for (key, protocol) in [("tcp", Protocol::Tcp), ("udp", Protocol::Udp), ("sctp", Protocol::Sctp)] {
        let Some(body) = present_mapping(entry, key)? else { continue };
        let port = match body {
            Some(b) => mapping(b, "destinationPort")?,
            None => None,
        };
        set.push(match port {
            // No destination port: every port of the protocol.
            None => AdminPort::Range { protocol, start: 1, end: u16::MAX },
            Some(port) => destination_port(port, protocol)?,
        });
    }
    if let Some(name) = text(entry, "destinationNamedPort")? {
        set.push(AdminPort::Named(name.to_string()));
    }
    exactly_one(set)
        .ok_or_else(|| error(entry, "a `protocols` entry must set exactly one of `tcp`, `udp`, `sctp` and `destinationNamedPort`"))
}

fn destination_port(port: &Node, protocol: Protocol) -> Result<AdminPort> {
    match (field(port, "number"), mapping(port, "range")?) {
        (Some(n), None) => Ok(AdminPort::Number { protocol, port: port_number(n, "number")? }),
        (None, Some(r)) => {
            let start = field(r, "start").ok_or_else(|| error(r, "`range` needs `start`"))?;
            let end = field(r, "end").ok_or_else(|| error(r, "`range` needs `end`"))?;
            let (start, end) = (port_number(start, "start")?, port_number(end, "end")?);
            if start > end {
                return Err(error(r, "`range` ends before it starts"));
            }
            Ok(AdminPort::Range { protocol, start, end })
        }
        _ => Err(error(port, "`destinationPort` must set exactly one of `number` and `range`")),
    }
}

/// An `Endpoints` object: one entry per subset, or one empty entry when it has none.
fn endpoints(node: &Node) -> Result<Vec<ServiceEndpoints>> {
    let namespace = namespace_of(node)?;
    let object_name = name(node)?;
    let entry = |addresses, ports, at: &Node| ServiceEndpoints {
        namespace: namespace.clone(),
        service: object_name.clone(),
        name: object_name.clone(),
        kind: EndpointsKind::Endpoints,
        addresses,
        ports,
        origin: origin(at),
    };
    let subsets = list(node, "subsets")?;
    if subsets.is_empty() {
        return Ok(vec![entry(Vec::new(), Vec::new(), node)]);
    }
    let mut out = Vec::new();
    for subset in subsets {
        let mut addresses = Vec::new();
        for (key, ready) in [("addresses", true), ("notReadyAddresses", false)] {
            for a in list(subset, key)? {
                let ip = field(a, "ip").ok_or_else(|| error(a, "an endpoint address needs `ip`"))?;
                addresses.push(EndpointAddress {
                    ip: Some(address(ip, "ip")?),
                    fqdn: None,
                    pod: target_pod(a, &namespace)?,
                    node: text(a, "nodeName")?.filter(|n| !n.is_empty()).map(str::to_string),
                    ready,
                    origin: origin(a),
                });
            }
        }
        let mut ports = Vec::new();
        for p in list(subset, "ports")? {
            let number = field(p, "port").ok_or_else(|| error(p, "an endpoint port needs `port`"))?;
            ports.push(endpoint_port(p, Some(number))?);
        }
        out.push(entry(addresses, ports, subset));
    }
    Ok(out)
}

/// An `EndpointSlice`, tied to its service by the `kubernetes.io/service-name` label;
/// a slice without it belongs to no service and is left out.
fn endpoint_slice(node: &Node) -> Result<Option<ServiceEndpoints>> {
    let namespace = namespace_of(node)?;
    let Some(service) = metadata_labels(node)?.remove(SERVICE_NAME_LABEL).filter(|s| !s.is_empty()) else { return Ok(None) };
    let fqdn = match text(node, "addressType")? {
        None | Some("IPv4" | "IPv6") => false,
        Some("FQDN") => true,
        Some(other) => {
            let at = field(node, "addressType").unwrap_or(node);
            return Err(error(at, format!("unknown addressType `{other}` (expected IPv4, IPv6 or FQDN)")));
        }
    };
    let mut addresses = Vec::new();
    for endpoint in list(node, "endpoints")? {
        // A missing `ready` condition reads as ready, as the API asks consumers to.
        let ready = match mapping(endpoint, "conditions")? {
            Some(c) => boolean(c, "ready")?.unwrap_or(true),
            None => true,
        };
        let pod = target_pod(endpoint, &namespace)?;
        let node_name = text(endpoint, "nodeName")?.filter(|n| !n.is_empty()).map(str::to_string);
        for a in list(endpoint, "addresses")? {
            let (ip, name) = if fqdn {
                let name = a.as_scalar().filter(|s| !s.is_empty()).ok_or_else(|| error(a, "`addresses` entries must be names"))?;
                (None, Some(name.to_string()))
            } else {
                (Some(address(a, "addresses")?), None)
            };
            addresses.push(EndpointAddress { ip, fqdn: name, pod: pod.clone(), node: node_name.clone(), ready, origin: origin(a) });
        }
    }
    let mut ports = Vec::new();
    for p in list(node, "ports")? {
        ports.push(endpoint_port(p, field(p, "port"))?);
    }
    Ok(Some(ServiceEndpoints {
        namespace,
        service,
        name: name(node)?,
        kind: EndpointsKind::EndpointSlice,
        addresses,
        ports,
        origin: origin(node),
    }))
}

fn endpoint_port(p: &Node, number: Option<&Node>) -> Result<EndpointPort> {
    Ok(EndpointPort {
        name: text(p, "name")?.filter(|n| !n.is_empty()).map(str::to_string),
        port: number.map(|n| port_number(n, "port")).transpose()?,
        protocol: protocol(p, "protocol")?,
    })
}

/// The pod a `targetRef` names (its namespace defaults to the object's).
fn target_pod(address: &Node, namespace: &str) -> Result<Option<PodRef>> {
    let Some(target) = mapping(address, "targetRef")? else { return Ok(None) };
    if text(target, "kind")? != Some("Pod") {
        return Ok(None);
    }
    let Some(pod_name) = text(target, "name")?.filter(|n| !n.is_empty()) else { return Ok(None) };
    let ns = text(target, "namespace")?.filter(|n| !n.is_empty()).unwrap_or(namespace);
    Ok(Some(PodRef { namespace: ns.to_string(), name: pod_name.to_string() }))
}

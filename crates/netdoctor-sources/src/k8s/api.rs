//! Objects read from a Kubernetes API server, as the server returned them: the raw
//! form of a live cluster. `live::read` (feature `kube-live`) fills a `KubeSnapshot`
//! from LIST calls; `netdoctor snapshot --kube` writes it and `--snapshot FILE` reads
//! it back, and both lower it with `lower_snapshot` through the same manifest lowering,
//! so a live pod is lowered exactly like a `kind: Pod` manifest.
//!
//! Each object gets a logical origin `kube:<context>/<kind>/<namespace>/<name>`
//! (`kube:<context>/<kind>/<name>` for cluster-scoped kinds), as live Docker objects
//! get `docker://...`. Pods owned by a ReplicaSet (a Job) are attributed to its
//! Deployment (CronJob), so replicas group under the workload people manage.

use super::raw::{RawObject, RawObjects};
use super::{lower, Loaded, Warning};
use crate::docker::snapshot::redact_env_entry;
pub use crate::error::ConnectCause;
use crate::tree::{Entry, Node, Scalar, Value as TreeValue};
use netdoctor_model::{redact_url_userinfo, Span};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The snapshot format version this netdoctor writes and reads.
pub const VERSION: u32 = 1;

/// Snapshots larger than this are refused rather than read into memory.
const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024 * 1024;

/// Deepest JSON nesting turned into a tree; deeper values become null.
const MAX_DEPTH: usize = 64;

/// The annotation `kubectl apply` keeps a full copy of the object in (env values included).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What one read of a cluster returned.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KubeSnapshot {
    /// The format version, so a reader can refuse what it does not understand.
    #[serde(rename = "netdoctor-kube-snapshot")]
    pub version: u32,
    /// The kubeconfig context the cluster was reached through.
    pub context: String,
    /// The API server's URL.
    pub server: String,
    /// The namespace the read was narrowed to (`--namespace`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// When it was taken, in seconds since the Unix epoch.
    #[serde(default)]
    pub taken_at: u64,
    /// Every object read, each with its `kind` and `apiVersion` set (List replies
    /// leave them out of their items), secret-bearing values redacted.
    #[serde(default)]
    pub objects: Vec<Value>,
    /// What was skipped and why (an API group the server does not serve).
    #[serde(default)]
    pub notes: Vec<String>,
    /// What could not be read but did not stop the read (a best-effort list refused).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A problem that stops a live read or a snapshot load. Messages never hold
/// credentials: they name the server, the context and the request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading the kubeconfig: {message}")]
    Config { message: String },
    #[error("cannot reach {server} (context {context}): {message}")]
    Connect { server: String, context: String, message: String, cause: ConnectCause },
    /// The server refused a list: 401 (credentials not accepted) or 403 (RBAC).
    #[error("{0}")]
    Refused(Box<Refusal>),
    #[error("{what} at {server} (context {context}): {message}")]
    Request { server: String, context: String, what: String, status: Option<u16>, message: String },
    #[error("{what} at {server} (context {context}): no answer within {}s", after.as_secs_f32())]
    Timeout { server: String, context: String, what: String, after: Duration },
    #[error("reading snapshot {}: {message}", path.display())]
    Snapshot { path: PathBuf, message: String },
}

impl Error {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config { .. } => Some("set KUBECONFIG or pass --kubeconfig FILE, and pick a context with --context NAME".into()),
            Error::Connect { cause: ConnectCause::Tls, .. } => Some(
                "the server's TLS certificate is not trusted: check `certificate-authority`/`certificate-authority-data` of the cluster in the kubeconfig (and --context)".into(),
            ),
            Error::Connect { .. } => Some("check KUBECONFIG / --context, that the API server is up and this machine can reach it".into()),
            Error::Refused(r) => {
                let all = r.scope.contains("all namespaces");
                let flag = if all { " -A" } else { "" };
                let resource = &r.resource;
                Some(if r.status == 401 {
                    format!("refresh them (log in again, or renew the token in the kubeconfig) and check that `kubectl get {resource}{flag}` works")
                } else {
                    format!(
                        "grant the RBAC verb `list` on `{resource}` to this user (check with `kubectl auth can-i list {resource}{flag}`){}",
                        if all { ", or narrow the read with --namespace NS" } else { "" }
                    )
                })
            }
            Error::Timeout { .. } => Some("the API server is slow or unreachable: check the network path, or raise --kube-timeout".into()),
            Error::Request { status: Some(410), .. } => Some("the list changed while it was read page by page: run again".into()),
            Error::Snapshot { .. } => Some("write it again with `netdoctor snapshot --kube -o FILE`".into()),
            Error::Request { .. } => None,
        }
    }
}

/// A list the API server refused.
#[derive(Debug)]
pub struct Refusal {
    pub server: String,
    pub context: String,
    /// `pods`, or `networkpolicies.networking.k8s.io` outside the core group.
    pub resource: String,
    /// ` in all namespaces`, ` in namespace NS`, or empty for cluster-scoped resources.
    pub scope: String,
    /// 401 or 403.
    pub status: u16,
    /// The server's own message.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Refusal { server, context, resource, scope, status, message } = self;
        if *status == 401 {
            write!(f, "{server} (context {context}) did not accept the credentials to list {resource}{scope} (HTTP 401): {message}")
        } else {
            write!(f, "{server} (context {context}) refused to list {resource}{scope} (HTTP {status}): {message}")
        }
    }
}

impl KubeSnapshot {
    /// An empty snapshot of `server` reached through `context`.
    pub fn new(context: impl Into<String>, server: impl Into<String>) -> KubeSnapshot {
        KubeSnapshot {
            version: VERSION,
            context: context.into(),
            server: server.into(),
            namespace: None,
            taken_at: 0,
            objects: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether `text` (a file's start) looks like a Kubernetes snapshot rather than a Docker one.
    pub fn is_kube_snapshot(text: &str) -> bool {
        let head: String = text.chars().take(4096).collect();
        head.contains("\"netdoctor-kube-snapshot\"")
    }

    /// Reads a snapshot file (redacting again, in case it was edited by hand).
    pub fn read(path: &Path) -> Result<KubeSnapshot, Error> {
        let fail = |message: String| Error::Snapshot { path: path.to_path_buf(), message };
        let len = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?.len();
        if len > MAX_SNAPSHOT_BYTES {
            return Err(fail(format!("{len} bytes is larger than netdoctor reads")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let mut snapshot = Self::parse(&text).map_err(fail)?;
        snapshot.redact();
        Ok(snapshot)
    }

    /// Parses a snapshot.
    pub fn parse(text: &str) -> Result<KubeSnapshot, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        if !value.get("netdoctor-kube-snapshot").is_some_and(Value::is_number) {
            return Err("not a netdoctor Kubernetes snapshot (no `netdoctor-kube-snapshot` version)".into());
        }
        let snapshot: KubeSnapshot = serde_json::from_value(value).map_err(|e| format!("not a netdoctor Kubernetes snapshot: {e}"))?;
        if snapshot.version != VERSION {
            return Err(format!("snapshot format version {} is not supported (this netdoctor reads version {VERSION})", snapshot.version));
        }
        Ok(snapshot)
    }

    /// The snapshot as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::error::pretty_json_line(self)
    }

    /// Drops what says nothing about reachability and may hold secrets or bulk
    /// (`managedFields`, kubectl's last-applied copy) and masks container environment
    /// values and credentials in commands, as Docker snapshots do.
    pub fn redact(&mut self) {
        for object in &mut self.objects {
            redact_object(object);
        }
    }

    /// How many objects of `kind` were read.
    pub fn count(&self, kind: &str) -> usize {
        self.objects.iter().filter(|o| o.get("kind").and_then(Value::as_str) == Some(kind)).count()
    }
}

fn redact_object(object: &mut Value) {
    if object.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
        keep_range_data(object);
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
        }
    }
    let Some(spec) = object.get_mut("spec") else { return };
    // A pod's spec, or a workload's pod template.
    let spec = if spec.get("template").is_some() { spec.get_mut("template").and_then(|t| t.get_mut("spec")) } else { Some(spec) };
    let Some(spec) = spec else { return };
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(Value::Array(containers)) = spec.get_mut(key) else { continue };
        for container in containers {
            redact_container(container);
        }
    }
}

/// A ConfigMap keeps only the data keys the range reader uses, and only for the
/// ConfigMaps it reads: anything else in a ConfigMap may be a secret.
fn keep_range_data(object: &mut Value) {
    let meta = object.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or_default().to_string();
    let (namespace, name) = (field("namespace"), field("name"));
    let keep: &[&str] =
        super::ranges::RANGE_CONFIGMAPS.iter().find(|(ns, n, _)| *ns == namespace && *n == name).map_or(&[], |(_, _, keys)| keys);
    if let Some(map) = object.as_object_mut() {
        map.remove("binaryData");
        if let Some(Value::Object(data)) = map.get_mut("data") {
            data.retain(|k, _| keep.contains(&k.as_str()));
        }
    }
}

fn redact_container(container: &mut Value) {
    if let Some(Value::Array(env)) = container.get_mut("env") {
        for var in env {
            let name = var.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(Value::String(value)) = var.get_mut("value") {
                let entry = redact_env_entry(&format!("{name}={value}"));
                *value = entry.split_once('=').map_or_else(String::new, |(_, v)| v.to_string());
            }
        }
    }
    for key in ["command", "args"] {
        if let Some(Value::Array(words)) = container.get_mut(key) {
            for word in words {
                if let Value::String(s) = word {
                    *s = redact_url_userinfo(s);
                }
            }
        }
    }
}

/// `kube:<context>/<kind>/<namespace>/<name>`, or without the namespace for
/// cluster-scoped objects.
pub fn object_address(context: &str, object: &Value) -> String {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("Object");
    let meta = object.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("?");
    match meta.and_then(|m| m.get("namespace")).and_then(Value::as_str).filter(|n| !n.is_empty()) {
        Some(ns) => format!("kube:{context}/{kind}/{ns}/{name}"),
        None => format!("kube:{context}/{kind}/{name}"),
    }
}

/// A JSON value as a tree whose every node carries `span` (the object's address, line
/// 0: the lowering gives such nodes a logical origin). Strings are quoted scalars,
/// numbers and booleans plain ones, as the YAML reader gives them from JSON text.
pub fn json_to_node(value: &Value, span: &Span) -> Node {
    to_node(value, span, 0)
}

fn to_node(value: &Value, span: &Span, depth: usize) -> Node {
    let scalar = |text: String, quoted: bool| TreeValue::Scalar(Scalar { text, quoted });
    let tree = match value {
        _ if depth > MAX_DEPTH => TreeValue::Null,
        Value::Null => TreeValue::Null,
        Value::Bool(b) => scalar(b.to_string(), false),
        Value::Number(n) => scalar(n.to_string(), false),
        Value::String(s) => scalar(s.clone(), true),
        Value::Array(items) => TreeValue::Seq(items.iter().map(|v| to_node(v, span, depth + 1)).collect()),
        Value::Object(map) => TreeValue::Map(
            map.iter().map(|(k, v)| Entry { key: k.clone(), key_span: span.clone(), value: to_node(v, span, depth + 1) }).collect(),
        ),
    };
    Node::new(tree, span.clone())
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, k| v.get(k))?.as_str()
}

/// The controlling owner reference of an object, as (kind, name).
fn controller(object: &Value) -> Option<(&str, &str)> {
    let refs = object.get("metadata")?.get("ownerReferences")?.as_array()?;
    refs.iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| Some((r.get("kind")?.as_str()?, r.get("name")?.as_str()?)))
}

/// Controllers that make pods on behalf of another, and the kind of that other: pods
/// are attributed to the owner people manage.
const INTERMEDIATE: &[(&str, &str, &str)] = &[("ReplicaSet", "Deployment", "apps/v1"), ("Job", "CronJob", "batch/v1")];

/// The owner of each intermediate controller read, by (kind, namespace, name).
fn intermediate_owners(objects: &[Value]) -> BTreeMap<(String, String, String), String> {
    let mut owners = BTreeMap::new();
    for object in objects {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
        let Some((_, owner_kind, _)) = INTERMEDIATE.iter().find(|(k, _, _)| *k == kind) else { continue };
        let (Some(ns), Some(name)) = (text(object, &["metadata", "namespace"]), text(object, &["metadata", "name"])) else { continue };
        if let Some((k, owner)) = controller(object) {
            if k == *owner_kind {
                owners.insert((kind.to_string(), ns.to_string(), name.to_string()), owner.to_string());
            }
        }
    }
    owners
}

/// Points a pod's ReplicaSet (Job) owner reference at that ReplicaSet's Deployment (the
/// Job's CronJob), from the controllers read. When no ReplicaSets could be read, the
/// `pod-template-hash` convention names the Deployment (its controller names
/// ReplicaSets `<deployment>-<hash>`).
fn attribute_to_owner(pod: &mut Value, owners: &BTreeMap<(String, String, String), String>, have_replica_sets: bool) {
    let ns = text(pod, &["metadata", "namespace"]).unwrap_or("default").to_string();
    let hash = text(pod, &["metadata", "labels", "pod-template-hash"]).map(str::to_string);
    let Some(refs) = pod.get_mut("metadata").and_then(|m| m.get_mut("ownerReferences")).and_then(Value::as_array_mut) else { return };
    for reference in refs {
        if reference.get("controller").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let kind = reference.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let Some((_, owner_kind, api_version)) = INTERMEDIATE.iter().find(|(k, _, _)| *k == kind) else { continue };
        let Some(name) = reference.get("name").and_then(Value::as_str).map(str::to_string) else { continue };
        let owner = match owners.get(&(kind.clone(), ns.clone(), name.clone())) {
            Some(o) => Some(o.clone()),
            None if kind == "ReplicaSet" && !have_replica_sets => hash
                .as_deref()
                .and_then(|h| name.strip_suffix(h))
                .and_then(|s| s.strip_suffix('-'))
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            None => None,
        };
        if let (Some(owner), Some(map)) = (owner, reference.as_object_mut()) {
            map.insert("kind".into(), Value::String((*owner_kind).into()));
            map.insert("apiVersion".into(), Value::String((*api_version).into()));
            map.insert("name".into(), Value::String(owner));
        }
    }
}

/// Lowers a snapshot into the model through the manifest lowering. Pods that finished
/// (`Succeeded`, `Failed`) take no traffic and are left out; ReplicaSets and Jobs only
/// name their pods' Deployment and CronJob.
pub fn lower_snapshot(snapshot: &KubeSnapshot) -> Loaded {
    let owners = intermediate_owners(&snapshot.objects);
    let have_replica_sets = snapshot.objects.iter().any(|o| o.get("kind").and_then(Value::as_str) == Some("ReplicaSet"));
    let mut objects = RawObjects::default();
    for object in &snapshot.objects {
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
        // Live pods stand for their controllers, which only name the pods' owner.
        if INTERMEDIATE.iter().any(|(k, _, _)| *k == kind) {
            continue;
        }
        if kind == "Pod" && matches!(text(object, &["status", "phase"]), Some("Succeeded" | "Failed")) {
            continue;
        }
        let mut object = object.clone();
        if kind == "Pod" {
            attribute_to_owner(&mut object, &owners, have_replica_sets);
        }
        let address = object_address(&snapshot.context, &object);
        let span = Span::new(Arc::from(Path::new(&address)), 0, 0);
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
        objects.objects.push(RawObject { kind: kind.to_string(), api_version, node: json_to_node(&object, &span) });
    }
    let lowered = lower::lower(&objects);
    let source = PathBuf::from(format!("kube:{}", snapshot.context));
    let mut warnings: Vec<Warning> =
        snapshot.warnings.iter().map(|w| Warning { file: source.clone(), line: 0, column: 0, message: w.clone() }).collect();
    warnings.extend(lowered.warnings);
    Loaded { cluster: lowered.cluster, warnings, errors: lowered.errors }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netdoctor_model::k8s::WorkloadKind;
    use netdoctor_model::Origin;
    use serde_json::json;

    fn pod(name: &str, rs: &str, hash: &str, phase: &str) -> Value {
        json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {
                "name": name, "namespace": "shop", "labels": {"app": "web", "pod-template-hash": hash},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": "u", "controller": true}],
                "managedFields": [{"manager": "kubelet"}],
                "annotations": {LAST_APPLIED: "{\"env\": \"SECRET\"}"}
            },
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http"}],
                "env": [{"name": "PASSWORD", "value": "hunter2"}, {"name": "DB_HOST", "value": "db"}],
                "args": ["--upstream=http://user:pw@api:80/"]}]},
            "status": {"phase": phase, "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}], "hostIP": "172.18.0.2"}
        })
    }

    #[test]
    fn live_pods_group_under_their_deployment_with_logical_origins() {
        let mut s = KubeSnapshot::new("kind-dev", "https://127.0.0.1:6443");
        s.objects.push(pod("web-7c5ddbdf54-abcde", "web-7c5ddbdf54", "7c5ddbdf54", "Running"));
        s.objects.push(pod("web-7c5ddbdf54-fghij", "web-7c5ddbdf54", "7c5ddbdf54", "Running"));
        s.objects.push(pod("old-1", "web-7c5ddbdf54", "7c5ddbdf54", "Succeeded"));
        let loaded = lower_snapshot(&s);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.cluster.pods.len(), 2, "the finished pod is left out");
        let p = &loaded.cluster.pods[0];
        assert_eq!(p.owner.kind, WorkloadKind::Deployment);
        assert_eq!(p.owner.name, "web", "by the pod-template-hash convention");
        assert_eq!(p.ips, vec!["10.244.1.5".parse::<std::net::IpAddr>().unwrap()]);
        assert_eq!(p.ports[0].port, 8080);
        assert_eq!(p.origin, Origin::Logical("kube:kind-dev/Pod/shop/web-7c5ddbdf54-abcde".into()));
    }

    #[test]
    fn replica_sets_read_win_over_the_name_convention() {
        let mut s = KubeSnapshot::new("c", "https://x");
        // A ReplicaSet whose name does not follow the convention, owned by `frontend`.
        s.objects.push(pod("p", "custom", "7c5ddbdf54", "Running"));
        s.objects.push(json!({"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": "custom", "namespace": "shop", "ownerReferences": [{"kind": "Deployment", "name": "frontend", "controller": true}]}}));
        // A bare ReplicaSet keeps its pods.
        s.objects.push(pod("q", "bare-7c5ddbdf54", "7c5ddbdf54", "Running"));
        s.objects
            .push(json!({"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": {"name": "bare-7c5ddbdf54", "namespace": "shop"}}));
        let loaded = lower_snapshot(&s);
        assert_eq!(loaded.cluster.pods.len(), 2, "ReplicaSets are not lowered as workloads");
        assert_eq!((loaded.cluster.pods[0].owner.kind.as_str(), loaded.cluster.pods[0].owner.name.as_str()), ("Deployment", "frontend"));
        assert_eq!(
            (loaded.cluster.pods[1].owner.kind.as_str(), loaded.cluster.pods[1].owner.name.as_str()),
            ("ReplicaSet", "bare-7c5ddbdf54")
        );
    }

    #[test]
    fn cron_job_pods_group_under_their_cron_job() {
        let mut s = KubeSnapshot::new("c", "https://x");
        let mut p = pod("report-29411700-x", "unused", "h", "Running");
        p["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "report-29411700", "controller": true}]);
        s.objects.push(p);
        s.objects.push(json!({"kind": "Job", "apiVersion": "batch/v1",
            "metadata": {"name": "report-29411700", "namespace": "shop", "ownerReferences": [{"kind": "CronJob", "name": "report", "controller": true}]}}));
        let loaded = lower_snapshot(&s);
        assert_eq!(loaded.cluster.pods.len(), 1, "Jobs are not lowered as workloads");
        assert_eq!((loaded.cluster.pods[0].owner.kind.as_str(), loaded.cluster.pods[0].owner.name.as_str()), ("CronJob", "report"));
    }

    #[test]
    fn redaction_masks_secrets_and_round_trips() {
        let mut s = KubeSnapshot::new("c", "https://x");
        s.objects.push(pod("p", "rs", "h", "Running"));
        s.redact();
        let text = s.to_json();
        assert!(!text.contains("hunter2") && !text.contains("user:pw") && !text.contains("SECRET"), "{text}");
        assert!(!text.contains("managedFields"));
        assert!(text.contains("\"DB_HOST\"") && text.contains("\"db\""), "peer names stay: {text}");
        assert!(KubeSnapshot::is_kube_snapshot(&text));
        let back = KubeSnapshot::parse(&text).unwrap();
        assert_eq!(back.count("Pod"), 1);
        assert!(KubeSnapshot::parse(r#"{"netdoctor-kube-snapshot": 7, "context": "c", "server": "s"}"#).unwrap_err().contains("version 7"));
        assert!(KubeSnapshot::parse("{}").is_err());
    }

    #[test]
    fn hints_say_what_to_do() {
        let connect = |cause| Error::Connect { server: "https://k:6443".into(), context: "c".into(), message: "m".into(), cause };
        let untrusted = connect(ConnectCause::Tls).hint().unwrap();
        assert!(untrusted.contains("certificate-authority-data"), "{untrusted}");
        assert!(connect(ConnectCause::Other).hint().unwrap().starts_with("check KUBECONFIG / --context"));
        let refusal = |status, scope: &str| {
            Error::Refused(Box::new(Refusal {
                server: "https://k:6443".into(),
                context: "c".into(),
                resource: "pods".into(),
                scope: scope.into(),
                status,
                message: "no".into(),
            }))
        };
        let namespaced = refusal(403, " in namespace shop");
        assert_eq!(namespaced.to_string(), "https://k:6443 (context c) refused to list pods in namespace shop (HTTP 403): no");
        assert_eq!(
            namespaced.hint().unwrap(),
            "grant the RBAC verb `list` on `pods` to this user (check with `kubectl auth can-i list pods`)"
        );
        assert!(refusal(401, "").to_string().contains("did not accept the credentials to list pods (HTTP 401)"));
    }

    #[test]
    fn bad_values_are_reported_at_the_object_address() {
        let mut s = KubeSnapshot::new("c", "https://x");
        s.objects
            .push(json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s", "namespace": "n"}, "spec": {"type": "Weird"}}));
        let loaded = lower_snapshot(&s);
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(
            loaded.errors[0].to_string(),
            "kube:c/Service/n/s: unknown service type `Weird` (expected ClusterIP, NodePort, LoadBalancer or ExternalName)"
        );
    }
}

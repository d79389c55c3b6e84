//! Reading a live cluster through kube-rs: read-only LIST calls, page by page
//! (`limit`/`continue`), with the kubeconfig's credentials (KUBECONFIG, else
//! `~/.kube/config`). The async client runs on a small current-thread tokio runtime
//! owned by each call, so callers see a plain blocking function. Every request has its
//! own timeout and the whole read a deadline. Messages name the server and context,
//! never a token or key.

use super::api::{Error, KubeSnapshot, Refusal};
use crate::error::{connect_cause, error_chain, timed_out, ConnectCause};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{json, Value};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most pages read of one list; the deadline bounds the read long before.
const MAX_PAGES: usize = 10_000;

/// How to reach the cluster and how long to wait.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `--kubeconfig`; otherwise KUBECONFIG, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; otherwise the kubeconfig's current context.
    pub context: Option<String>,
    /// `--namespace`: read namespaced objects of this namespace only.
    pub namespace: Option<String>,
    /// How long connecting and one request may take.
    pub timeout: Duration,
    /// How long the whole read may take.
    pub deadline: Duration,
    /// Objects asked for per page.
    pub page_size: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            kubeconfig: None,
            context: None,
            namespace: None,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            page_size: 500,
        }
    }
}

/// What a failed list means for the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The read fails without it.
    Required,
    /// Its API group may not be installed: a 404 skips it (noted), other errors fail.
    OptionalGroup,
    /// Nice to have (addresses, names): any refusal is a warning.
    BestEffort,
    /// Fills in what other objects already suggest (the cluster's ranges): a missing
    /// group or a refusal is only noted.
    Hint,
}

/// One resource the read lists.
#[derive(Debug, Clone, Copy)]
struct Resource {
    group_version: &'static str,
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    need: Need,
}

const fn res(group_version: &'static str, plural: &'static str, kind: &'static str, namespaced: bool, need: Need) -> Resource {
    Resource { group_version, plural, kind, namespaced, need }
}

/// Everything read, in order. ReplicaSets and Jobs only serve to name pods' Deployments and CronJobs.
const RESOURCES: &[Resource] = &[
    res("v1", "namespaces", "Namespace", false, Need::Required),
    res("v1", "nodes", "Node", false, Need::BestEffort),
    res("v1", "pods", "Pod", true, Need::Required),
    res("apps/v1", "replicasets", "ReplicaSet", true, Need::BestEffort),
    res("batch/v1", "jobs", "Job", true, Need::BestEffort),
    res("v1", "services", "Service", true, Need::Required),
    res("v1", "endpoints", "Endpoints", true, Need::Required),
    res("discovery.k8s.io/v1", "endpointslices", "EndpointSlice", true, Need::OptionalGroup),
    res("networking.k8s.io/v1", "ingresses", "Ingress", true, Need::Required),
    res("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", true, Need::Required),
    res("route.openshift.io/v1", "routes", "Route", true, Need::OptionalGroup),
    res("policy.networking.k8s.io/v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", false, Need::OptionalGroup),
    res("policy.networking.k8s.io/v1alpha1", "baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", false, Need::OptionalGroup),
    res("policy.networking.k8s.io/v1alpha2", "clusternetworkpolicies", "ClusterNetworkPolicy", false, Need::OptionalGroup),
    res("networking.k8s.io/v1", "servicecidrs", "ServiceCIDR", false, Need::Hint),
    res("crd.projectcalico.org/v1", "ippools", "IPPool", false, Need::Hint),
    res("operator.tigera.io/v1", "installations", "Installation", false, Need::Hint),
    // Policies of CNIs and meshes: read so that the flows they decide are reported
    // unknown (or evaluated, for the kinds netdoctor evaluates) rather than allowed.
    res("crd.projectcalico.org/v1", "networkpolicies", "NetworkPolicy", true, Need::OptionalGroup),
    res("crd.projectcalico.org/v1", "globalnetworkpolicies", "GlobalNetworkPolicy", false, Need::OptionalGroup),
    res("cilium.io/v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", true, Need::OptionalGroup),
    res("cilium.io/v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", false, Need::OptionalGroup),
    res("cilium.io/v2alpha1", "ciliumcidrgroups", "CiliumCIDRGroup", false, Need::OptionalGroup),
    res("crd.antrea.io/v1beta1", "networkpolicies", "NetworkPolicy", true, Need::OptionalGroup),
    res("crd.antrea.io/v1beta1", "clusternetworkpolicies", "ClusterNetworkPolicy", false, Need::OptionalGroup),
    res("security.istio.io/v1", "authorizationpolicies", "AuthorizationPolicy", true, Need::OptionalGroup),
    res("security.istio.io/v1", "peerauthentications", "PeerAuthentication", true, Need::OptionalGroup),
    res("policy.linkerd.io/v1beta3", "servers", "Server", true, Need::OptionalGroup),
    res("policy.linkerd.io/v1alpha1", "authorizationpolicies", "AuthorizationPolicy", true, Need::OptionalGroup),
    res("k8s.ovn.org/v1", "egressfirewalls", "EgressFirewall", true, Need::OptionalGroup),
];

/// ConfigMaps, read one by one by name (never listed): the ones that declare the
/// cluster's ranges.
const CONFIG_MAPS: Resource = res("v1", "configmaps", "ConfigMap", true, Need::Hint);

/// Where the read goes, for messages.
#[derive(Debug, Clone)]
struct Target {
    context: String,
    server: String,
}

/// Reads the cluster into a redacted snapshot.
pub fn read(opts: &LiveOptions) -> Result<KubeSnapshot, Error> {
    let kubeconfig = match &opts.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| Error::Config { message: config_message(&e.to_string(), opts) })?;
    let target = target(&kubeconfig, opts.context.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Error::Connect {
        server: target.server.clone(),
        context: target.context.clone(),
        message: format!("starting the client runtime: {e}"),
        cause: ConnectCause::Other,
    })?;
    let deadline = opts.deadline.max(opts.timeout);
    let read = runtime.block_on(async {
        match tokio::time::timeout(deadline, read_async(kubeconfig, &target, opts)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                server: target.server.clone(),
                context: target.context.clone(),
                what: "reading the cluster".into(),
                after: deadline,
            }),
        }
    });
    let mut snapshot = read?;
    snapshot.redact();
    Ok(snapshot)
}

fn config_message(error: &str, opts: &LiveOptions) -> String {
    match &opts.kubeconfig {
        Some(path) => format!("{} ({})", error, path.display()),
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(v) => format!("{error} (KUBECONFIG={})", v.to_string_lossy()),
            None => format!("{error} (KUBECONFIG is not set; looked for ~/.kube/config)"),
        },
    }
}

/// The context to use and its server, checked before anything is sent.
fn target(kubeconfig: &Kubeconfig, wanted: Option<&str>) -> Result<Target, Error> {
    let names = || kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let context = match wanted.map(str::to_string).or_else(|| kubeconfig.current_context.clone()).filter(|c| !c.is_empty()) {
        Some(c) => c,
        None => {
            return Err(Error::Config {
                message: format!("the kubeconfig names no current context; pass --context NAME (contexts: {})", names()),
            })
        }
    };
    let Some(named) = kubeconfig.contexts.iter().find(|c| c.name == context) else {
        return Err(Error::Config { message: format!("the kubeconfig has no context `{context}` (contexts: {})", names()) });
    };
    let cluster = named.context.as_ref().map(|c| c.cluster.as_str()).unwrap_or_default();
    let server =
        kubeconfig.clusters.iter().find(|c| c.name == cluster).and_then(|c| c.cluster.as_ref()).and_then(|c| c.server.clone()).ok_or_else(
            || Error::Config { message: format!("context `{context}` names cluster `{cluster}`, which has no `server` URL") },
        )?;
    Ok(Target { context, server })
}

async fn read_async(kubeconfig: Kubeconfig, target: &Target, opts: &LiveOptions) -> Result<KubeSnapshot, Error> {
    let options = KubeConfigOptions { context: Some(target.context.clone()), ..Default::default() };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| Error::Config { message: format!("context `{}`: {e}", target.context) })?;
    // Our own per-request timeout fires first, so a silent server gives a clear Timeout.
    config.connect_timeout = Some(opts.timeout);
    config.read_timeout = Some(opts.timeout + Duration::from_secs(1));
    config.write_timeout = Some(opts.timeout + Duration::from_secs(1));
    let client = Client::try_from(config).map_err(|e| Error::Connect {
        server: target.server.clone(),
        context: target.context.clone(),
        message: format!("setting up the client: {}", error_chain(&e)),
        cause: connect_cause(&e),
    })?;
    let mut snapshot = KubeSnapshot::new(&target.context, &target.server);
    snapshot.namespace = opts.namespace.clone();
    snapshot.taken_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let call = Call { client: &client, target, timeout: opts.timeout };
    for resource in RESOURCES {
        // A user confined to one namespace often may not list namespaces.
        let need = if resource.plural == "namespaces" && opts.namespace.is_some() { Need::BestEffort } else { resource.need };
        match list_all(&call, resource, opts).await {
            Ok(items) => snapshot.objects.extend(items),
            Err(e) => {
                let status = match &e {
                    Error::Request { status, .. } => *status,
                    Error::Refused(r) => Some(r.status),
                    _ => None,
                };
                match (need, status) {
                    (Need::OptionalGroup | Need::Hint, Some(404)) => snapshot.notes.push(format!(
                        "skipped {} {}: the API server does not serve this group (404)",
                        resource.group_version, resource.plural
                    )),
                    (Need::BestEffort, Some(401 | 403 | 404)) => {
                        snapshot.warnings.push(format!("{e}; read without them{}", best_effort_effect(resource)));
                    }
                    (Need::Hint, Some(401 | 403)) => {
                        snapshot.notes.push(format!("skipped {} {}: {e}", resource.group_version, resource.plural));
                    }
                    _ => return Err(e),
                }
            }
        }
    }
    read_range_config_maps(&call, &mut snapshot).await?;
    Ok(snapshot)
}

/// The ConfigMaps that declare pod and service ranges (kubeadm, kube-proxy, CNIs), each
/// fetched by name; one that does not exist or may not be read is skipped with a note.
async fn read_range_config_maps(call: &Call<'_>, snapshot: &mut KubeSnapshot) -> Result<(), Error> {
    for (namespace, name, _) in super::ranges::RANGE_CONFIGMAPS {
        let path = format!("/api/v1/namespaces/{}/configmaps/{}", encode(namespace), encode(name));
        let what = format!("reading ConfigMap {namespace}/{name}");
        match call.get(&path, &what, &CONFIG_MAPS, &format!(" in namespace {namespace}")).await {
            Ok(Value::Object(mut map)) => {
                map.insert("kind".into(), Value::String("ConfigMap".into()));
                map.insert("apiVersion".into(), Value::String("v1".into()));
                snapshot.objects.push(Value::Object(map));
            }
            Ok(_) => {}
            Err(Error::Request { status: Some(404), .. }) => {}
            Err(Error::Refused(r)) => snapshot.notes.push(format!("skipped ConfigMap {namespace}/{name}: refused ({})", r.status)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn best_effort_effect(resource: &Resource) -> &'static str {
    match resource.plural {
        "replicasets" => " (pods are named after their Deployment by the pod-template-hash convention)",
        "jobs" => " (pods of CronJobs are named after their Job)",
        "nodes" => " (node addresses and pod CIDRs are unknown)",
        "namespaces" => " (namespace labels are unknown, so namespaceSelectors match only by name)",
        _ => "",
    }
}

/// The request path of one page of a list.
fn list_path(resource: &Resource, namespace: Option<&str>, limit: u32, continue_token: Option<&str>) -> String {
    let base = if resource.group_version == "v1" { "/api/v1".to_string() } else { format!("/apis/{}", resource.group_version) };
    let scope = match (resource.namespaced, namespace) {
        (true, Some(ns)) => format!("/namespaces/{}", encode(ns)),
        _ => String::new(),
    };
    let mut path = format!("{base}{scope}/{}?limit={limit}", resource.plural);
    if let Some(token) = continue_token {
        path.push_str("&continue=");
        path.push_str(&encode(token));
    }
    path
}

/// Percent-encoding of a query value (continue tokens are base64 with `=`, `+`, `/`).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every item of a list, following `continue` tokens, each with `kind` and `apiVersion` set.
async fn list_all(call: &Call<'_>, resource: &Resource, opts: &LiveOptions) -> Result<Vec<Value>, Error> {
    let namespace = opts.namespace.as_deref();
    let scope = match (resource.namespaced, namespace) {
        (true, Some(ns)) => format!(" in namespace {ns}"),
        (true, None) => " in all namespaces".to_string(),
        (false, _) => String::new(),
    };
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let path = list_path(resource, namespace, opts.page_size.max(1), token.as_deref());
        let what = format!("listing {}{scope}", resource.plural);
        let page = call.get(&path, &what, resource, &scope).await?;
        let Some(list) = page.get("items") else {
            return Err(call.request_error(&what, None, "the reply has no `items`; is this a Kubernetes API server?".into()));
        };
        for item in list.as_array().into_iter().flatten() {
            let Value::Object(mut map) = item.clone() else { continue };
            map.insert("kind".into(), Value::String(resource.kind.into()));
            map.insert("apiVersion".into(), Value::String(resource.group_version.into()));
            let object = Value::Object(map);
            items.push(if matches!(resource.kind, "ReplicaSet" | "Job") { owner_stub(&object) } else { object });
        }
        token = page.get("metadata").and_then(|m| m.get("continue")).and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
        if token.is_none() {
            return Ok(items);
        }
    }
    Err(call.request_error(
        &format!("listing {}{scope}", resource.plural),
        None,
        format!("more than {MAX_PAGES} pages; the list did not end"),
    ))
}

/// What a ReplicaSet or Job is kept for: its name and owner.
fn owner_stub(object: &Value) -> Value {
    let meta = object.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).cloned().unwrap_or(Value::Null);
    json!({
        "kind": object.get("kind"),
        "apiVersion": object.get("apiVersion"),
        "metadata": {"name": field("name"), "namespace": field("namespace"), "uid": field("uid"), "ownerReferences": field("ownerReferences")}
    })
}

/// One API request with its own deadline.
struct Call<'a> {
    client: &'a Client,
    target: &'a Target,
    timeout: Duration,
}

impl Call<'_> {
    async fn get(&self, path: &str, what: &str, resource: &Resource, scope: &str) -> Result<Value, Error> {
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| self.request_error(what, None, e.to_string()))?;
        let text = self.timed(what, self.client.request_text(request)).await?.map_err(|e| self.api_error(what, resource, scope, e))?;
        serde_json::from_str(&text).map_err(|e| self.request_error(what, None, format!("the reply is not JSON: {e}")))
    }

    async fn timed<T>(&self, what: &str, fut: impl Future<Output = T>) -> Result<T, Error> {
        tokio::time::timeout(self.timeout, fut).await.map_err(|_| Error::Timeout {
            server: self.target.server.clone(),
            context: self.target.context.clone(),
            what: what.to_string(),
            after: self.timeout,
        })
    }

    fn request_error(&self, what: &str, status: Option<u16>, message: String) -> Error {
        Error::Request { server: self.target.server.clone(), context: self.target.context.clone(), what: what.into(), status, message }
    }

    fn api_error(&self, what: &str, resource: &Resource, scope: &str, e: kube::Error) -> Error {
        match e {
            kube::Error::Api(response) if matches!(response.code, 401 | 403) => {
                let (server, context) = (self.target.server.clone(), self.target.context.clone());
                let name = if resource.group_version == "v1" {
                    resource.plural.to_string()
                } else {
                    format!("{}.{}", resource.plural, resource.group_version.split('/').next().unwrap_or_default())
                };
                let (resource, scope, message) = (name, scope.to_string(), api_message(&response));
                Error::Refused(Box::new(Refusal { server, context, resource, scope, status: response.code, message }))
            }
            kube::Error::Api(response) => self.request_error(what, Some(response.code), api_message(&response)),
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                if timed_out(&e) {
                    Error::Timeout {
                        server: self.target.server.clone(),
                        context: self.target.context.clone(),
                        what: what.to_string(),
                        after: self.timeout,
                    }
                } else {
                    let (server, context) = (self.target.server.clone(), self.target.context.clone());
                    Error::Connect { server, context, message: error_chain(&e), cause: connect_cause(&e) }
                }
            }
            other => self.request_error(what, None, error_chain(&other)),
        }
    }
}

fn api_message(response: &kube::core::ErrorResponse) -> String {
    let message = response.message.trim();
    match (message.is_empty(), response.reason.is_empty()) {
        (false, _) => message.to_string(),
        (true, false) => response.reason.clone(),
        (true, true) => response.status.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_paths() {
        let pods = RESOURCES.iter().find(|r| r.plural == "pods").copied().unwrap();
        assert_eq!(list_path(&pods, None, 500, None), "/api/v1/pods?limit=500");
        assert_eq!(list_path(&pods, Some("shop"), 2, Some("eyJ2Ijo+/=")), "/api/v1/namespaces/shop/pods?limit=2&continue=eyJ2Ijo%2B%2F%3D");
        let anp = RESOURCES.iter().find(|r| r.plural == "adminnetworkpolicies").copied().unwrap();
        assert_eq!(list_path(&anp, Some("shop"), 5, None), "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies?limit=5");
    }

    #[test]
    fn contexts_are_checked_before_any_request() {
        let kc = Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster: {server: 'https://10.0.0.1:6443'}\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: secret}\n",
        )
        .unwrap();
        assert_eq!(target(&kc, None).unwrap().server, "https://10.0.0.1:6443");
        let e = target(&kc, Some("b")).unwrap_err().to_string();
        assert!(e.contains("no context `b`") && e.contains("contexts: a"), "{e}");
        assert!(!e.contains("secret"));
    }
}

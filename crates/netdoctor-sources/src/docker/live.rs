//! Reading a Docker Engine live through bollard. The async client runs on a small
//! current-thread tokio runtime owned by each call, so callers see a plain blocking
//! function; every request has its own timeout and inspects run a bounded number at a
//! time. Read-only: nothing here changes the engine.

use super::context::resolve_endpoint;
use super::lower::{label, Selection};
use super::snapshot::DockerSnapshot;
use super::Error;
use crate::error::{connect_cause, error_chain, ConnectCause};
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions, ListNetworksOptions};
use bollard::Docker;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How to reach the engine and how long to wait.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `--docker-host`; otherwise DOCKER_HOST, the current docker context, then the local socket.
    pub host: Option<String>,
    /// How long one API request may take.
    pub timeout: Duration,
    /// How many inspects run at once.
    pub concurrency: usize,
    /// Which containers to inspect (the owners of namespaces they share come along).
    pub selection: Selection,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions { host: None, timeout: Duration::from_secs(10), concurrency: 16, selection: Selection::default() }
    }
}

/// Reads the engine into a redacted snapshot.
pub fn read(opts: &LiveOptions) -> Result<DockerSnapshot, Error> {
    let endpoint = resolve_endpoint(opts.host.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Error::Connect {
        endpoint: endpoint.clone(),
        message: format!("starting the client runtime: {e}"),
        cause: ConnectCause::Other,
    })?;
    let mut snapshot = runtime.block_on(read_async(&endpoint, opts))?;
    snapshot.redact();
    Ok(snapshot)
}

async fn read_async(endpoint: &str, opts: &LiveOptions) -> Result<DockerSnapshot, Error> {
    let docker = connect(endpoint, opts.timeout).await?;
    let call = Call { endpoint, timeout: opts.timeout };
    let mut snapshot = DockerSnapshot::new(endpoint);
    snapshot.taken_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    snapshot.version_info = to_value(call.run("reading the engine version", docker.version()).await?);
    snapshot.info = to_value(call.run("reading engine info", docker.info()).await?);

    let list = ListContainersOptions { all: true, ..Default::default() };
    let summaries = call.run("listing containers", docker.list_containers(Some(list))).await?;
    let ids = selected_ids(&summaries, &opts.selection);
    let inspects: Vec<(String, Result<Value, Error>)> = stream::iter(ids)
        .map(|id| {
            let docker = &docker;
            async move {
                let what = format!("inspecting container {id}");
                let r = call.run(&what, docker.inspect_container(&id, None::<InspectContainerOptions>)).await.map(to_value);
                (id, r)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut image_ids = BTreeSet::new();
    for (id, result) in inspects {
        match result {
            Ok(v) => {
                if let Some(image) = v.get("Image").and_then(Value::as_str) {
                    image_ids.insert(image.to_string());
                }
                snapshot.containers.push(v);
            }
            // Removed between the list and the inspect: not an error of the engine.
            Err(Error::Request { status: Some(404), .. }) => snapshot.errors.push(format!("container {id} disappeared while being read")),
            Err(e) => return Err(e),
        }
    }
    // Stable order: by name, as `docker ps` users think of them.
    snapshot.containers.sort_by(|a, b| a.get("Name").and_then(Value::as_str).cmp(&b.get("Name").and_then(Value::as_str)));

    let networks = call.run("listing networks", docker.list_networks(None::<ListNetworksOptions>)).await?;
    snapshot.networks = networks.into_iter().map(to_value).collect();
    if !opts.selection.is_all() {
        // A narrowed read keeps the networks its containers are on, and nothing of others'.
        let used: BTreeSet<String> = snapshot
            .containers
            .iter()
            .filter_map(|c| c.get("NetworkSettings")?.get("Networks")?.as_object())
            .flat_map(|m| m.keys().cloned())
            .collect();
        snapshot.networks.retain(|n| n.get("Name").and_then(Value::as_str).is_some_and(|name| used.contains(name)));
    }
    snapshot.networks.sort_by(|a, b| a.get("Name").and_then(Value::as_str).cmp(&b.get("Name").and_then(Value::as_str)));

    let images: Vec<Option<Value>> = stream::iter(image_ids)
        .map(|id| {
            let docker = &docker;
            async move {
                // An image removed under a running container is no reason to fail.
                let image = call.run("inspecting an image", docker.inspect_image(&id)).await.ok()?;
                let v = to_value(image);
                Some(serde_json::json!({ "Id": v.get("Id"), "Config": v.get("Config") }))
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    snapshot.images = images.into_iter().flatten().collect();
    Ok(snapshot)
}

/// A client for `endpoint` that agreed on the daemon's API version (older daemons
/// refuse a newer client's). The first request is where a missing or refused socket shows.
pub(crate) async fn connect(endpoint: &str, timeout: Duration) -> Result<Docker, Error> {
    let refuse = |message: String, cause| Error::Connect { endpoint: endpoint.to_string(), message, cause };
    if endpoint.starts_with("ssh://") {
        return Err(refuse("ssh:// endpoints are not supported".into(), ConnectCause::Unsupported));
    }
    let secs = timeout.as_secs().max(1);
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
    let docker = if endpoint.starts_with("tcp://") && tls {
        // Like the docker CLI: DOCKER_TLS_VERIFY turns TLS on, with the client
        // certificate and CA from DOCKER_CERT_PATH (default ~/.docker).
        let dir = cert_dir();
        let (key, cert, ca) = (dir.join("key.pem"), dir.join("cert.pem"), dir.join("ca.pem"));
        if let Some(missing) = [&key, &cert, &ca].into_iter().find(|p| !p.is_file()) {
            return Err(refuse(
                format!(
                    "DOCKER_TLS_VERIFY is set, but {} is missing: set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem",
                    missing.display()
                ),
                ConnectCause::Setup,
            ));
        }
        Docker::connect_with_ssl(endpoint, &key, &cert, &ca, secs, bollard::API_DEFAULT_VERSION)
    } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
        Docker::connect_with_http(endpoint, secs, bollard::API_DEFAULT_VERSION)
    } else {
        Docker::connect_with_host(endpoint)
    };
    let docker = docker.map_err(|e| refuse(error_chain(&e), connect_cause(&e)))?.with_timeout(timeout.max(Duration::from_secs(1)));
    match tokio::time::timeout(timeout, docker.negotiate_version()).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(bollard::errors::Error::DockerResponseServerError { status_code: 400, message })) if is_tls_mismatch_reply(&message) => {
            Err(refuse(message, ConnectCause::TlsExpected))
        }
        Ok(Err(e @ bollard::errors::Error::DockerResponseServerError { .. })) => {
            Err(request_error(endpoint, "negotiating the API version", e))
        }
        Ok(Err(e)) => Err(refuse(error_chain(&e), connect_cause(&e))),
        Err(_) => Err(Error::Timeout { endpoint: endpoint.to_string(), what: "negotiating the API version".into(), after: timeout }),
    }
}

/// The reply Go's TLS server gives a plain HTTP request (`400 Bad Request`, "Client
/// sent an HTTP request to an HTTPS server."): a TLS port spoken to without TLS.
fn is_tls_mismatch_reply(body: &str) -> bool {
    body.trim().eq_ignore_ascii_case("Client sent an HTTP request to an HTTPS server.")
}

/// `DOCKER_CERT_PATH`, else `~/.docker`.
fn cert_dir() -> std::path::PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    env("DOCKER_CERT_PATH").unwrap_or_else(|| env("HOME").unwrap_or_else(|| "/root".into()).join(".docker"))
}

/// The containers to inspect: the selection, plus the containers whose network
/// namespace a selected one joins (`--network container:X`).
fn selected_ids(summaries: &[bollard::models::ContainerSummary], selection: &Selection) -> Vec<String> {
    let name_of = |s: &bollard::models::ContainerSummary| -> String {
        s.names.as_ref().and_then(|n| n.first()).map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default()
    };
    let matches = |s: &bollard::models::ContainerSummary| {
        if selection.is_all() {
            return true;
        }
        let id = s.id.as_deref().unwrap_or_default();
        let project = s.labels.as_ref().and_then(|l| l.get(label::PROJECT));
        project.is_some_and(|p| selection.projects.contains(p))
            || selection.containers.iter().any(|c| *c == name_of(s) || (c.len() >= 4 && id.starts_with(c.as_str())))
    };
    let mut chosen: BTreeSet<String> = summaries.iter().filter(|s| matches(s)).filter_map(|s| s.id.clone()).collect();
    for _ in 0..summaries.len() {
        let owners: Vec<String> = summaries
            .iter()
            .filter(|s| s.id.as_ref().is_some_and(|id| chosen.contains(id)))
            .filter_map(|s| s.host_config.as_ref()?.network_mode.as_deref()?.strip_prefix("container:").map(str::to_string))
            .filter_map(|target| summaries.iter().find(|o| o.id.as_deref() == Some(target.as_str()) || name_of(o) == target)?.id.clone())
            .filter(|id| !chosen.contains(id))
            .collect();
        if owners.is_empty() {
            break;
        }
        chosen.extend(owners);
    }
    chosen.into_iter().collect()
}

fn to_value<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One API request with its own deadline.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) timeout: Duration,
}

impl Call<'_> {
    pub(crate) async fn run<T>(&self, what: &str, fut: impl Future<Output = Result<T, bollard::errors::Error>>) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(request_error(self.endpoint, what, e)),
            Err(_) => Err(Error::Timeout { endpoint: self.endpoint.to_string(), what: what.to_string(), after: self.timeout }),
        }
    }
}

fn request_error(endpoint: &str, what: &str, e: bollard::errors::Error) -> Error {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, message } => {
            Error::Request { endpoint: endpoint.to_string(), what: what.to_string(), status: Some(status_code), message }
        }
        other => Error::Request { endpoint: endpoint.to_string(), what: what.to_string(), status: None, message: error_chain(&other) },
    }
}

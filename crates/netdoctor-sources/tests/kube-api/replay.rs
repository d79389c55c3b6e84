//! A stand-in Kubernetes API server for tests: plain HTTP on 127.0.0.1, started in
//! process, answering GET list requests with the JSON files of this directory (see
//! README.md for where they come from). It checks the bearer token, follows one
//! `continue` token for pods, answers unknown paths with the API server's own 404
//! Status, and can refuse one resource with a 403 or stay silent. Every request is
//! recorded for assertions. Used by the sources and the CLI tests.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The bearer token the test kubeconfig carries; it must never appear in any output.
pub const TOKEN: &str = "ndt-fake-token-9f1c2e7b5a3d4c6e8f0a1b2c3d4e5f60";

/// The continue token of the first page of pods (from `pods-page1.json`).
pub const PODS_CONTINUE: &str = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDg3MzEsInN0YXJ0Ijoic2hvcC93ZWItNmQ0Y2Y1NmRiNi03a3E0bVx1MDAwMCJ9";

/// Most connections one server accepts; tests make a few dozen.
const MAX_CONNECTIONS: usize = 500;

/// How the server behaves.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Answer from the fixtures.
    Serve,
    /// Answer from the fixtures, but refuse lists of this plural (`networkpolicies`) with 403.
    Forbid(&'static str),
    /// Accept connections and never answer (for timeouts).
    Silent,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub authorization: Option<String>,
}

/// A running replay server.
pub struct Replay {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Replay {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The fixture directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../netdoctor-sources/tests/kube-api")
}

/// Starts a server; it runs until the test process ends.
pub fn start(behaviour: Behaviour) -> Replay {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming().take(MAX_CONNECTIONS).flatten() {
            let log = Arc::clone(&log);
            let behaviour = behaviour.clone();
            thread::spawn(move || serve(stream, &behaviour, &log));
        }
    });
    Replay { addr, seen }
}

/// A kubeconfig for `server` with the fake token, written into `dir`.
pub fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: ndt-replay\nclusters:\n- name: ndt-replay\n  cluster:\n    server: {server}\ncontexts:\n- name: ndt-replay\n  context:\n    cluster: ndt-replay\n    user: ndt-viewer\n- name: ndt-other\n  context:\n    cluster: ndt-replay\n    user: ndt-viewer\nusers:\n- name: ndt-viewer\n  user:\n    token: {TOKEN}\n"
    );
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

fn serve(mut stream: TcpStream, behaviour: &Behaviour, log: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if matches!(behaviour, Behaviour::Silent) {
        // Hold the connection open without a word, for longer than any test waits.
        thread::sleep(Duration::from_secs(20));
        return;
    }
    let Some(head) = read_head(&mut stream) else { return };
    let mut lines = head.lines();
    let mut parts = lines.next().unwrap_or_default().split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    if let Ok(mut l) = log.lock() {
        l.push(Seen { method: method.clone(), target: target.clone(), authorization: authorization.clone() });
    }
    let (status, body) = answer(&method, &target, authorization.as_deref(), behaviour);
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Gone",
    };
    let reply = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nAudit-Id: 0b7e1f4c-ndt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.flush();
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buf).ok()
}

fn status(code: u16, reason: &str, message: &str, details: &str) -> (u16, String) {
    let body = format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{message}","reason":"{reason}","details":{details},"code":{code}}}"#
    );
    (code, body)
}

fn answer(method: &str, target: &str, authorization: Option<&str>, behaviour: &Behaviour) -> (u16, String) {
    if authorization != Some(format!("Bearer {TOKEN}").as_str()) {
        return status(401, "Unauthorized", "Unauthorized", "{}");
    }
    if method != "GET" {
        return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", "{}");
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // ConfigMaps are read one by one by name; only kubeadm's exists here.
    if path.contains("/configmaps/") {
        return match path {
            "/api/v1/namespaces/kube-system/configmaps/kubeadm-config" => fixture("configmap-kubeadm-config.json"),
            _ => status(404, "NotFound", "configmaps \\\"not-here\\\" not found", r#"{"kind":"configmaps"}"#),
        };
    }
    // `/api/v1/namespaces/NS/pods` lists what `/api/v1/pods` does, in NS only, in one page.
    if let Some((cluster_path, namespace)) = namespaced(path) {
        let (code, body) = answer(method, &cluster_path, authorization, behaviour);
        return if code == 200 { (200, in_namespace(&body, namespace)) } else { (code, body) };
    }
    let continue_token = query.split('&').find_map(|kv| kv.strip_prefix("continue="));
    let plural = path.rsplit('/').next().unwrap_or_default();
    if let Behaviour::Forbid(forbidden) = behaviour {
        if plural == *forbidden {
            let group = path.strip_prefix("/apis/").and_then(|p| p.split('/').next()).unwrap_or("");
            let resource = if group.is_empty() { plural.to_string() } else { format!("{plural}.{group}") };
            let message = format!(
                "{resource} is forbidden: User \\\"system:serviceaccount:shop:viewer\\\" cannot list resource \\\"{plural}\\\" in API group \\\"{group}\\\" at the cluster scope"
            );
            return status(403, "Forbidden", &message, &format!(r#"{{"group":"{group}","kind":"{plural}"}}"#));
        }
    }
    let file = match (path, continue_token) {
        ("/api/v1/pods", None) => "pods-page1.json",
        ("/api/v1/pods", Some(t)) if t == PODS_CONTINUE => "pods-page2.json",
        ("/api/v1/pods", Some(_)) => {
            return status(410, "Expired", "The provided continue parameter is too old to display a consistent list result.", "{}")
        }
        ("/api/v1/namespaces", _) => "namespaces.json",
        ("/api/v1/nodes", _) => "nodes.json",
        ("/api/v1/services", _) => "services.json",
        ("/api/v1/endpoints", _) => "endpoints.json",
        ("/apis/apps/v1/replicasets", _) => "replicasets.json",
        ("/apis/batch/v1/jobs", _) => "jobs.json",
        ("/apis/discovery.k8s.io/v1/endpointslices", _) => "endpointslices.json",
        ("/apis/networking.k8s.io/v1/ingresses", _) => "ingresses.json",
        ("/apis/networking.k8s.io/v1/networkpolicies", _) => "networkpolicies.json",
        ("/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies", _) => "adminnetworkpolicies.json",
        ("/apis/networking.k8s.io/v1/servicecidrs", _) => "servicecidrs.json",
        ("/apis/cilium.io/v2/ciliumnetworkpolicies", _) => "ciliumnetworkpolicies.json",
        // Routes, BaselineAdminNetworkPolicies, ClusterNetworkPolicies and Calico's IPPools are not served here.
        _ => return status(404, "NotFound", "the server could not find the requested resource", "{}"),
    };
    fixture(file)
}

fn fixture(file: &str) -> (u16, String) {
    match std::fs::read_to_string(fixtures().join(file)) {
        Ok(body) => (200, body),
        Err(e) => status(404, "NotFound", &format!("fixture {file}: {e}"), "{}"),
    }
}

/// The cluster-wide path and the namespace of a namespaced list path.
fn namespaced(path: &str) -> Option<(String, &str)> {
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts.iter().position(|p| *p == "namespaces")?;
    let (namespace, plural) = (parts.get(at + 1)?, parts.get(at + 2)?);
    let base = parts.get(..at)?.join("/");
    Some((format!("{base}/{plural}"), namespace))
}

/// A list reply narrowed to one namespace; for pods, both pages in one.
fn in_namespace(body: &str, namespace: &str) -> String {
    let mut list: serde_json::Value = serde_json::from_str(body).expect("fixture JSON");
    if list["kind"] == "PodList" {
        let second: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures().join("pods-page2.json")).unwrap()).unwrap();
        let more = second["items"].as_array().cloned().unwrap_or_default();
        list["items"].as_array_mut().unwrap().extend(more);
        list["metadata"] = serde_json::json!({"resourceVersion": "48731"});
    }
    list["items"].as_array_mut().unwrap().retain(|item| item["metadata"]["namespace"] == namespace);
    list.to_string()
}

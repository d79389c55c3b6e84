//! The live Kubernetes reader end to end, against `kube-api/replay.rs`: a local
//! HTTP server on 127.0.0.1 that replays API list responses (no API server can run
//! here; see kube-api/README.md for where the responses come from).
#![cfg(feature = "kube-live")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "kube-api/replay.rs"]
mod replay;
#[path = "../../../test-support/skip.rs"]
mod skip;

use netdoctor_model::k8s::WorkloadKind;
use netdoctor_model::Origin;
use netdoctor_sources::k8s::api::{lower_snapshot, Error, KubeSnapshot};
use netdoctor_sources::k8s::live::{read, LiveOptions};
use replay::{Behaviour, TOKEN};
use std::time::{Duration, Instant};

fn options(dir: &tempfile::TempDir, server: &str) -> LiveOptions {
    LiveOptions {
        kubeconfig: Some(replay::kubeconfig(dir.path(), server)),
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(20),
        ..LiveOptions::default()
    }
}

/// The error's full text as the CLI prints it: message and hint.
fn shown(e: &Error) -> String {
    format!("{e}; {}", e.hint().unwrap_or_default())
}

#[test]
fn a_cluster_is_read_page_by_page_and_lowered() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = read(&options(&dir, &server.url())).expect("read the replayed cluster");

    assert_eq!(snapshot.context, "ndt-replay");
    assert_eq!(snapshot.server, server.url());
    let counts: Vec<(&str, usize)> = [
        "Namespace",
        "Node",
        "Pod",
        "ReplicaSet",
        "Job",
        "Service",
        "Endpoints",
        "EndpointSlice",
        "Ingress",
        "NetworkPolicy",
        "AdminNetworkPolicy",
        "Route",
        "BaselineAdminNetworkPolicy",
        "ClusterNetworkPolicy",
        "ServiceCIDR",
        "ConfigMap",
    ]
    .iter()
    .map(|k| (*k, snapshot.count(k)))
    .collect();
    assert_eq!(
        counts,
        vec![
            ("Namespace", 4),
            ("Node", 1),
            ("Pod", 5),
            ("ReplicaSet", 2),
            ("Job", 1),
            ("Service", 2),
            ("Endpoints", 1),
            ("EndpointSlice", 1),
            ("Ingress", 1),
            ("NetworkPolicy", 3),
            ("AdminNetworkPolicy", 1),
            ("Route", 0),
            ("BaselineAdminNetworkPolicy", 0),
            ("ClusterNetworkPolicy", 0),
            ("ServiceCIDR", 1),
            ("ConfigMap", 1),
        ]
    );

    // Pagination: the second page was asked for with the first page's token.
    let requests = server.requests();
    let pods: Vec<&str> = requests.iter().map(|r| r.target.as_str()).filter(|t| t.starts_with("/api/v1/pods")).collect();
    assert_eq!(pods, vec!["/api/v1/pods?limit=500".to_string(), format!("/api/v1/pods?limit=500&continue={}", replay::PODS_CONTINUE)]);
    // Read-only, authenticated, and every list paginated.
    assert!(requests.iter().all(|r| r.method == "GET"), "{requests:?}");
    assert!(requests.iter().all(|r| r.authorization.as_deref() == Some(&format!("Bearer {TOKEN}"))));
    let (gets, lists): (Vec<_>, Vec<_>) = requests.iter().partition(|r| r.target.contains("/configmaps/"));
    assert!(lists.iter().all(|r| r.target.contains("limit=500")), "{lists:?}");
    // ConfigMaps are fetched by name, never listed: only the ones that declare ranges.
    let names: Vec<&str> = gets.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        names,
        [
            "/api/v1/namespaces/kube-system/configmaps/kubeadm-config",
            "/api/v1/namespaces/kube-system/configmaps/kube-proxy",
            "/api/v1/namespaces/kube-system/configmaps/cilium-config",
            "/api/v1/namespaces/kube-flannel/configmaps/kube-flannel-cfg",
            "/api/v1/namespaces/kube-system/configmaps/kube-flannel-cfg",
        ]
    );

    // Groups the server does not serve are skipped with a note, not an error.
    assert_eq!(
        snapshot.notes,
        vec![
            "skipped route.openshift.io/v1 routes: the API server does not serve this group (404)",
            "skipped policy.networking.k8s.io/v1alpha1 baselineadminnetworkpolicies: the API server does not serve this group (404)",
            "skipped policy.networking.k8s.io/v1alpha2 clusternetworkpolicies: the API server does not serve this group (404)",
            "skipped crd.projectcalico.org/v1 ippools: the API server does not serve this group (404)",
            "skipped operator.tigera.io/v1 installations: the API server does not serve this group (404)",
            "skipped crd.projectcalico.org/v1 networkpolicies: the API server does not serve this group (404)",
            "skipped crd.projectcalico.org/v1 globalnetworkpolicies: the API server does not serve this group (404)",
            "skipped cilium.io/v2 ciliumclusterwidenetworkpolicies: the API server does not serve this group (404)",
            "skipped cilium.io/v2alpha1 ciliumcidrgroups: the API server does not serve this group (404)",
            "skipped crd.antrea.io/v1beta1 networkpolicies: the API server does not serve this group (404)",
            "skipped crd.antrea.io/v1beta1 clusternetworkpolicies: the API server does not serve this group (404)",
            "skipped security.istio.io/v1 authorizationpolicies: the API server does not serve this group (404)",
            "skipped security.istio.io/v1 peerauthentications: the API server does not serve this group (404)",
            "skipped policy.linkerd.io/v1beta3 servers: the API server does not serve this group (404)",
            "skipped policy.linkerd.io/v1alpha1 authorizationpolicies: the API server does not serve this group (404)",
            "skipped k8s.ovn.org/v1 egressfirewalls: the API server does not serve this group (404)",
        ]
    );
    assert!(snapshot.warnings.is_empty(), "{:?}", snapshot.warnings);

    // Stored without bulk and secrets.
    let json = snapshot.to_json();
    assert!(!json.contains("managedFields") && !json.contains("last-applied-configuration"));
    assert!(!json.contains("s3cr3t-pw") && !json.contains(TOKEN), "secrets stay out of the snapshot");
    assert!(json.contains("db.shop.svc"), "peer names stay");
    assert!(!json.contains("s3cr3tkubeadmtok"), "ConfigMaps keep only the keys that declare ranges");
    assert!(json.contains("serviceSubnet: 10.96.0.0/16"));

    // Lowered like manifests: real pods, grouped under their workloads.
    let loaded = lower_snapshot(&snapshot);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let cluster = &loaded.cluster;
    let pods: Vec<(String, String, String, Vec<String>)> = cluster
        .pods
        .iter()
        .map(|p| {
            (p.namespace.clone(), p.owner.kind.as_str().to_string(), p.owner.name.clone(), p.ips.iter().map(ToString::to_string).collect())
        })
        .collect();
    let expect = |ns: &str, kind: &str, name: &str, ip: &str| (ns.to_string(), kind.to_string(), name.to_string(), vec![ip.to_string()]);
    assert_eq!(
        pods,
        vec![
            expect("shop", "Deployment", "web", "10.244.0.11"),
            expect("shop", "Deployment", "web", "10.244.0.12"),
            expect("shop", "StatefulSet", "db", "10.244.0.13"),
            expect("monitoring", "Deployment", "prometheus", "10.244.0.14"),
        ],
        "the finished Job pod is left out"
    );
    assert!(cluster.pods.iter().all(|p| !p.from_template && p.replicas == 1));
    assert_eq!(cluster.pods[0].origin, Origin::Logical("kube:ndt-replay/Pod/shop/web-6d4cf56db6-x2x9p".into()));
    assert_eq!(cluster.pods[0].owner.kind, WorkloadKind::Deployment);
    assert_eq!(cluster.pods[0].host_ip, Some("172.18.0.2".parse().unwrap()));
    assert_eq!(cluster.namespaces.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["default", "kube-system", "shop", "monitoring"]);
    assert_eq!(cluster.nodes[0].pod_cidrs, vec!["10.244.0.0/24".parse().unwrap()]);
    // The ServiceCIDR and kubeadm agree on the service range: it is kept once.
    let ranges: Vec<(&str, String, String)> =
        cluster.ranges.iter().map(|r| (r.kind.noun(), r.cidr.to_string(), r.source.clone())).collect();
    assert_eq!(
        ranges,
        [
            ("service", "10.96.0.0/16".to_string(), "ServiceCIDR kubernetes".to_string()),
            ("pod", "10.244.0.0/16".to_string(), "kubeadm-config networking.podSubnet".to_string()),
        ]
    );
    assert_eq!(cluster.ranges[1].origin, Origin::Logical("kube:ndt-replay/ConfigMap/kube-system/kubeadm-config".into()));
    assert_eq!(cluster.services.len(), 2);
    assert_eq!(cluster.ingresses.len(), 1);
    assert_eq!(cluster.network_policies.len(), 3);
    assert_eq!(cluster.network_policies[0].origin, Origin::Logical("kube:ndt-replay/NetworkPolicy/shop/default-deny".into()));
    // A CNI's own policy is read by group and kind, never as a NetworkPolicy.
    let cilium: Vec<String> = cluster.cilium_policies.iter().map(|p| format!("{} at {}", p.display_name(), p.origin)).collect();
    assert_eq!(cilium, ["CiliumNetworkPolicy shop/rule1 at kube:ndt-replay/CiliumNetworkPolicy/shop/rule1"]);
    // Endpoints and the EndpointSlice of Service web, each with both pod addresses.
    let endpoints: Vec<(&str, &str, usize, String)> = cluster
        .endpoints
        .iter()
        .map(|e| (e.service.as_str(), e.name.as_str(), e.ready_addresses().count(), e.origin.to_string()))
        .collect();
    assert_eq!(
        endpoints,
        vec![
            ("web", "web", 2, "kube:ndt-replay/Endpoints/shop/web".to_string()),
            ("web", "web-8wq2c", 2, "kube:ndt-replay/EndpointSlice/shop/web-8wq2c".to_string()),
        ]
    );
    assert_eq!(cluster.admin_policies.len(), 1);
    assert_eq!(cluster.admin_policies[0].origin, Origin::Logical("kube:ndt-replay/AdminNetworkPolicy/no-monitoring-into-db".into()));

    // The snapshot reads back and lowers the same.
    let path = dir.path().join("cluster.json");
    std::fs::write(&path, &json).unwrap();
    let back = KubeSnapshot::read(&path).unwrap();
    assert_eq!(lower_snapshot(&back).cluster.pods.len(), 4);
}

#[test]
fn a_refused_list_names_the_resource_and_the_verb() {
    let server = replay::start(Behaviour::Forbid("networkpolicies"));
    let dir = tempfile::tempdir().unwrap();
    let e = read(&options(&dir, &server.url())).unwrap_err();
    assert!(matches!(&e, Error::Refused(r) if r.status == 403), "{e:?}");
    let text = shown(&e);
    assert!(
        text.starts_with(&format!(
            "{} (context ndt-replay) refused to list networkpolicies.networking.k8s.io in all namespaces (HTTP 403): networkpolicies.networking.k8s.io is forbidden: User \"system:serviceaccount:shop:viewer\" cannot list resource",
            server.url()
        )),
        "{text}"
    );
    assert!(text.contains("grant the RBAC verb `list` on `networkpolicies.networking.k8s.io`"), "{text}");
    assert!(text.contains("kubectl auth can-i list networkpolicies.networking.k8s.io -A"), "{text}");
    assert!(!text.contains(TOKEN));
}

#[test]
fn a_wrong_token_is_refused_with_a_hint() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let opts = options(&dir, &server.url());
    let path = opts.kubeconfig.clone().unwrap();
    let text = std::fs::read_to_string(&path).unwrap().replace(TOKEN, "ndt-expired-token");
    std::fs::write(&path, text).unwrap();
    let e = read(&opts).unwrap_err();
    let text = shown(&e);
    assert!(matches!(&e, Error::Refused(r) if r.status == 401), "{e:?}");
    assert!(text.contains("did not accept the credentials to list namespaces (HTTP 401): Unauthorized; refresh them"), "{text}");
    assert!(!text.contains("ndt-expired-token"));
}

#[test]
fn a_silent_server_times_out_within_the_bound() {
    let server = replay::start(Behaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let opts = LiveOptions { timeout: Duration::from_secs(1), deadline: Duration::from_secs(3), ..options(&dir, &server.url()) };
    let started = Instant::now();
    let e = read(&opts).unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    assert!(took >= Duration::from_millis(900), "gave up before the timeout: {took:?}");
    let text = shown(&e);
    assert_eq!(
        text,
        format!(
            "listing namespaces at {} (context ndt-replay): no answer within 1s; the API server is slow or unreachable: check the network path, or raise --kube-timeout",
            server.url()
        )
    );
}

#[test]
fn an_unreachable_server_names_server_and_context() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let e = read(&options(&dir, &url)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = shown(&e);
    assert!(text.starts_with(&format!("cannot reach {url} (context ndt-replay): ")), "{text}");
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(text.ends_with("check KUBECONFIG / --context, that the API server is up and this machine can reach it"), "{text}");
}

/// A server whose certificate the kubeconfig does not trust (`openssl s_server` with a
/// self-signed certificate on 127.0.0.1): the failed handshake is told apart from an
/// unreachable server by its cause, and the hint names the kubeconfig's CA fields.
#[test]
fn an_untrusted_certificate_is_named_as_such() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        skip::skip("untrusted-certificate test", "openssl cannot make a certificate (apt-get install openssl)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept", &format!("127.0.0.1:{port}"), "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until it listens.
    let listening = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let result = listening.then(|| read(&options(&dir, &format!("https://127.0.0.1:{port}"))));
    let _ = server.kill();
    let _ = server.wait();
    assert!(listening, "openssl s_server did not start on port {port}");
    let e = result.unwrap().unwrap_err();
    assert!(matches!(e, Error::Connect { cause: netdoctor_sources::ConnectCause::Tls, .. }), "{e:?}");
    let text = shown(&e);
    assert!(text.contains("certificate-authority-data"), "{text}");
}

#[test]
fn a_missing_context_is_named_before_anything_is_sent() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let opts = LiveOptions { context: Some("prod".into()), ..options(&dir, &server.url()) };
    let e = read(&opts).unwrap_err();
    assert_eq!(e.to_string(), "reading the kubeconfig: the kubeconfig has no context `prod` (contexts: ndt-replay, ndt-other)");
    assert!(server.requests().is_empty());
    let other = LiveOptions { context: Some("ndt-other".into()), ..options(&dir, &server.url()) };
    assert_eq!(read(&other).unwrap().context, "ndt-other");
}

#[test]
fn a_read_narrowed_to_one_namespace_lists_only_there() {
    let server = replay::start(Behaviour::Serve);
    let dir = tempfile::tempdir().unwrap();
    let opts = LiveOptions { namespace: Some("monitoring".into()), ..options(&dir, &server.url()) };
    let snapshot = read(&opts).unwrap();
    assert_eq!(snapshot.namespace.as_deref(), Some("monitoring"));
    assert_eq!((snapshot.count("Pod"), snapshot.count("Service"), snapshot.count("NetworkPolicy")), (1, 0, 0));
    // Cluster-scoped objects are still read whole.
    assert_eq!((snapshot.count("Namespace"), snapshot.count("Node"), snapshot.count("AdminNetworkPolicy")), (4, 1, 1));
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert!(targets.contains(&"/api/v1/namespaces/monitoring/pods?limit=500".to_string()), "{targets:?}");
    assert!(targets.contains(&"/apis/networking.k8s.io/v1/namespaces/monitoring/networkpolicies?limit=500".to_string()), "{targets:?}");
    assert!(targets.contains(&"/api/v1/namespaces?limit=500".to_string()), "{targets:?}");
    assert!(!targets.iter().any(|t| t.starts_with("/api/v1/pods")), "{targets:?}");
    let loaded = lower_snapshot(&snapshot);
    assert_eq!(loaded.cluster.pods.len(), 1);
    assert_eq!(loaded.cluster.pods[0].owner.name, "prometheus");
}

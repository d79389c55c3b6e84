//! Table tests of the engine over models built in code.

use crate::{Analysis, EngineConfig, Resolution, Stack};
use netdoctor_model::*;

fn origin() -> Origin {
    Origin::Logical("test".into())
}

/// A project `p` network with key `key` and an optional subnet.
fn network(key: &str, subnet: Option<&str>) -> Network {
    let mut n = Network::new(key, format!("p_{key}"), Some("p".into()), origin());
    n.ipam.configs = subnet
        .map(|s| IpamConfig {
            subnet: Some(Located::new(s.into(), origin())),
            ip_range: None,
            gateway: None,
            aux_addresses: vec![],
            origin: origin(),
        })
        .into_iter()
        .collect();
    n
}

/// A project `p` service on `networks` (with `alias:` prefixes adding aliases to the last one).
fn service(name: &str, networks: &[&str]) -> Workload {
    let mut attachments: Vec<Attachment> = Vec::new();
    for n in networks {
        if let Some(alias) = n.strip_prefix("alias:") {
            if let Some(last) = attachments.last_mut() {
                last.aliases.push(Located::new(alias.into(), origin()));
            }
            continue;
        }
        attachments.push(Attachment::new(*n, origin()));
    }
    Workload { declares_networks: true, attachments, ..Workload::new(name, Some("p".into()), WorkloadKind::ComposeService, origin()) }
}

fn with_mode(mut w: Workload, mode: NetworkMode) -> Workload {
    w.network_mode = Some(Located::new(mode, origin()));
    w.attachments.clear();
    w
}

/// web(front), api(front, back + alias `backend-api`), db(back, hostname db-host),
/// side (service:api), legacy(bridge), old(bridge), agent(host).
fn model() -> Model {
    let mut db = service("db", &["back"]);
    db.hostname = Some(Located::new("db-host".into(), origin()));
    Model {
        projects: vec![],
        networks: vec![network("front", None), network("back", Some("10.10.0.0/24"))],
        workloads: vec![
            service("web", &["front"]),
            service("api", &["front", "back", "alias:backend-api"]),
            db,
            with_mode(service("side", &[]), NetworkMode::Service("api".into())),
            with_mode(service("legacy", &[]), NetworkMode::Bridge),
            with_mode(service("old", &[]), NetworkMode::Bridge),
            with_mode(service("agent", &[]), NetworkMode::Host),
        ],
        ..Model::default()
    }
}

const WEB: usize = 0;
const API: usize = 1;
const DB: usize = 2;
const SIDE: usize = 3;
const LEGACY: usize = 4;
const AGENT: usize = 6;

#[test]
fn resolution_follows_shared_networks() {
    let m = model();
    let a = Analysis::new(&m, &EngineConfig::default());
    let back = a.topology.by_name("p_back").expect("back exists");
    let front = a.topology.by_name("p_front").expect("front exists");
    let cases: Vec<(usize, &str, Resolution)> = vec![
        (WEB, "api", Resolution::Resolved { targets: vec![API], network: front }),
        (DB, "backend-api", Resolution::Resolved { targets: vec![API], network: back }),
        (WEB, "backend-api", Resolution::NotShared { targets: vec![API] }),
        (WEB, "db", Resolution::NotShared { targets: vec![DB] }),
        (WEB, "p-db-1", Resolution::NotShared { targets: vec![DB] }),
        (API, "DB", Resolution::Resolved { targets: vec![DB], network: back }),
        (SIDE, "db", Resolution::Resolved { targets: vec![DB], network: back }),
        (WEB, "db-host", Resolution::HostnameOnly(DB)),
        (DB, "db-host", Resolution::Local),
        (WEB, "localhost", Resolution::Local),
        (WEB, "127.0.0.1", Resolution::Local),
        (WEB, "10.10.0.5", Resolution::Literal("10.10.0.5".parse().expect("ip"))),
        (WEB, "ap1", Resolution::Unknown { suggestion: Some("api".into()) }),
        (WEB, "zzzzzz", Resolution::Unknown { suggestion: None }),
        (WEB, "api.example.com", Resolution::External),
        (AGENT, "api", Resolution::NoContainerDns { targets: vec![API] }),
    ];
    for (from, name, want) in cases {
        assert_eq!(a.resolve(from, name), want, "{} resolving {name}", m.workloads[from].name);
    }
    let bridge = a.topology.by_name(crate::PREDEFINED_BRIDGE).expect("bridge");
    assert_eq!(a.resolve(LEGACY, "old"), Resolution::NoEmbeddedDns { targets: vec![LEGACY + 1], network: bridge });
}

#[test]
fn network_mode_shares_the_owner_stack() {
    let m = model();
    let a = Analysis::new(&m, &EngineConfig::default());
    assert_eq!(a.topology.stack(SIDE), &Stack::Shared(API));
    assert_eq!(a.topology.networks_of(SIDE), a.topology.networks_of(API));
    assert_eq!(a.topology.stack(AGENT), &Stack::Host);
    assert!(a.topology.networks_of(AGENT).is_empty());
    let mut broken = model();
    broken.workloads.push(with_mode(service("loop-a", &[]), NetworkMode::Service("loop-b".into())));
    broken.workloads.push(with_mode(service("loop-b", &[]), NetworkMode::Service("loop-a".into())));
    broken.workloads.push(with_mode(service("ghost", &[]), NetworkMode::Service("nobody".into())));
    let a = Analysis::new(&broken, &EngineConfig::default());
    for w in 7..10 {
        assert!(matches!(a.topology.stack(w), Stack::Broken(_)), "{} must be broken", broken.workloads[w].name);
    }
}

#[test]
fn address_plan_predicts_pool_subnets_in_name_order() {
    let mut m = model();
    m.networks.push(network("aaa", None));
    m.networks.push(network("blocked", Some("172.18.0.0/16")));
    let a = Analysis::new(&m, &EngineConfig::default());
    let subnet_of = |key: &str| {
        let id = a.topology.by_name(&format!("p_{key}")).expect("network");
        a.addresses.of(id).map(|s| s.subnet.to_string()).collect::<Vec<_>>()
    };
    // 172.17/16 is docker0's and 172.18/16 is declared, so the pools start at 172.19.
    assert_eq!(subnet_of("aaa"), ["172.19.0.0/16"]);
    assert_eq!(subnet_of("front"), ["172.20.0.0/16"]);
    assert_eq!(subnet_of("back"), ["10.10.0.0/24"]);
    assert_eq!(a.addresses.pool_demand, 2);
    assert_eq!(a.addresses.pool_capacity, 30);
}

#[test]
fn long_network_mode_chains_resolve_in_linear_time() {
    // Found with the `compose_load` fuzz target (a hand-written input): every workload
    // walked its whole chain with a linear lookup per step, so thousands of chained
    // services took minutes.
    let start = std::time::Instant::now();
    let length = 20_000;
    let mut m = model();
    let first = m.workloads.len();
    for i in 0..length {
        m.workloads.push(with_mode(service(&format!("chain{i}"), &[]), NetworkMode::Service(format!("chain{}", i + 1))));
    }
    let owner = m.workloads.len();
    m.workloads.push(service(&format!("chain{length}"), &["front"]));
    for i in 0..3 {
        m.workloads.push(with_mode(service(&format!("ring{i}"), &[]), NetworkMode::Service(format!("ring{}", (i + 1) % 3))));
    }
    m.workloads.push(with_mode(service("into-ring", &[]), NetworkMode::Service("ring0".into())));
    m.workloads.push(with_mode(service("self", &[]), NetworkMode::Service("self".into())));
    m.workloads.push(with_mode(service("to-side", &[]), NetworkMode::Container("p-side-1".into())));
    let a = Analysis::new(&m, &EngineConfig::default());
    assert_eq!(a.topology.stack(first), &Stack::Shared(owner));
    assert_eq!(a.topology.stack(owner - 1), &Stack::Shared(owner));
    assert_eq!(a.topology.stack(owner), &Stack::Own);
    assert_eq!(a.topology.networks_of(first), a.topology.networks_of(owner));
    for w in owner + 1..owner + 6 {
        assert_eq!(a.topology.stack(w), &Stack::Broken("network_mode forms a cycle".into()), "{}", m.workloads[w].name);
    }
    // `side` shares `api`'s stack, so a container joining `side` ends up on `api`'s.
    assert_eq!(a.topology.stack(owner + 6), &Stack::Shared(API));
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "took {:?}", start.elapsed());
}

#[test]
fn huge_scale_allocates_no_name_per_replica() {
    // Found with the `compose_load` fuzz target (a hand-written input): `scale: 4294967295`
    // made the name table allocate a name for every replica, and `container:` lookups
    // tried each replica's name in turn.
    let start = std::time::Instant::now();
    let mut m = model();
    if let Some(web) = m.workloads.get_mut(WEB) {
        web.replicas = u32::MAX;
    }
    let external = |name: &str| Stack::External(name.into());
    let cases = [
        ("p-web-4294967295", Stack::Shared(WEB)),
        ("p-web-1", Stack::Shared(WEB)),
        ("p-web-0", external("p-web-0")),
        ("p-web-007", external("p-web-007")),
        ("p-web-+7", external("p-web-+7")),
        ("p-web-", external("p-web-")),
        ("p-web-4294967296", external("p-web-4294967296")),
    ];
    let first = m.workloads.len();
    for (name, _) in &cases {
        m.workloads.push(with_mode(service(&format!("join-{name}"), &[]), NetworkMode::Container((*name).into())));
    }
    let a = Analysis::new(&m, &EngineConfig::default());
    for (i, (name, want)) in cases.iter().enumerate() {
        assert_eq!(a.topology.stack(first + i), want, "container:{name}");
    }
    let front = a.topology.by_name("p_front").expect("front exists");
    assert_eq!(a.resolve(API, "p-web-1000"), Resolution::Resolved { targets: vec![WEB], network: front });
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "took {:?}", start.elapsed());
}

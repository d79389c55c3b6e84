//! ND510: datastores and admin consoles published on every host interface.

use crate::prelude::*;
use netdoctor_model::PortBinding;

/// Ports of datastores, brokers and admin endpoints that should not face every network.
pub(crate) const SENSITIVE_PORTS: &[(u16, &str)] = &[
    (2375, "Docker API"),
    (2379, "etcd"),
    (3306, "MySQL/MariaDB"),
    (5432, "PostgreSQL"),
    (5672, "RabbitMQ"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (7000, "Cassandra"),
    (8086, "InfluxDB"),
    (9042, "Cassandra"),
    (9092, "Kafka"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch"),
    (11211, "Memcached"),
    (15672, "RabbitMQ management"),
    (2181, "ZooKeeper"),
    (27017, "MongoDB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (8500, "Consul"),
    (8200, "Vault"),
];

declare_rule! {
    /// ## What it checks
    /// A published port of a datastore, broker or admin endpoint (PostgreSQL, MySQL, Redis,
    /// MongoDB, Elasticsearch, Kafka, the Docker API, …) bound to every host interface, which
    /// is what `"5432:5432"` without a host address means.
    ///
    /// ## Why it matters
    /// Docker publishes ports with its own NAT rules, ahead of ufw/firewalld: the database is
    /// reachable from the LAN or the internet even when the host firewall appears to block it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   db: { image: postgres, ports: ["5432:5432"] }
    /// ```
    ///
    /// ## Fix
    /// Bind to loopback (`"127.0.0.1:5432:5432"`), or drop `ports:` and let peers use the container network.
    pub struct ExposedOnAllInterfaces => Warning, "ND510";
}

impl Check for ExposedOnAllInterfaces {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for w in cx.model.workloads.iter().filter(|w| !w.is_host_network()) {
            for p in w.ports.iter().filter(|p| p.host_ip.is_none_or(|ip| ip.is_unspecified())) {
                let Some((port, what)) = SENSITIVE_PORTS.iter().find(|(port, _)| p.target.contains(*port)) else { continue };
                out.report(&p.origin, format!("`{}` publishes {what} port {port} on all host interfaces", w.name))
                    .subjects([w.name.as_str()])
                    .help(format!("bind it to loopback: \"127.0.0.1:{}:{}\", or remove the published port", published(p), p.target));
            }
        }
    }
}

fn published(p: &PortBinding) -> String {
    p.published.map_or_else(String::new, |r| r.to_string())
}

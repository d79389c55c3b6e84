//! Generates a large, realistic Compose project for benchmarks: services spread over
//! networks, each referring to peers by URL, with ports, aliases and health checks.

use std::fmt::Write;

/// A Compose file with `services` services and `networks` networks.
pub fn project(services: usize, networks: usize) -> String {
    let networks = networks.max(1);
    let mut out = String::from("name: bench\nservices:\n");
    for s in 0..services {
        let home = s % networks;
        let second = (s * 7 + 3) % networks;
        let peer = (s + networks) % services.max(1);
        let _ = write!(
            out,
            "  svc{s:03}:
    image: example/svc{s:03}:1.0
    networks:
      net{home:02}:
        aliases: [alias{s:03}]
      net{second:02}: {{}}
    environment:
      PEER_URL: http://svc{peer:03}:8080/api
      DATABASE_URL: postgres://app:secret@svc{home:03}:5432/app
      LOG_LEVEL: info
    ports:
      - \"127.0.0.1:{}:8080\"
    depends_on: [svc{peer:03}]
    healthcheck:
      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost:8080/health\"]
",
            20000 + s
        );
    }
    out.push_str("networks:\n");
    for n in 0..networks {
        // Three in five networks get an explicit subnet; the rest come from the default pools.
        if n % 5 < 3 {
            let _ = writeln!(out, "  net{n:02}:\n    ipam:\n      config:\n        - subnet: 10.{}.{}.0/24", 100 + n / 200, n % 200);
        } else {
            let _ = writeln!(out, "  net{n:02}: {{}}");
        }
    }
    out
}

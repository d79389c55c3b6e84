//! The one recorded Docker 20.10 rule set the firewall tests share
//! (`recordings/docker-20.10-one-bridge.rules`), filled in for a test's bridge,
//! container, subnet and DOCKER-USER rules.
#![allow(dead_code)] // each test binary uses what it needs

/// The rule set for `bridge`, with `container` publishing 8080:80 on `subnet`, and
/// `user_rules` (whole lines, or empty) before DOCKER-USER's RETURN.
pub fn docker_20_rules(bridge: &str, container: &str, subnet: &str, user_rules: &str) -> String {
    include_str!("recordings/docker-20.10-one-bridge.rules")
        .replace("USER_RULES\n", user_rules)
        .replace("BRIDGE", bridge)
        .replace("CONTAINER", container)
        .replace("SUBNET", subnet)
}

//! The one place rule IDs are assigned. An ID never changes meaning and is never
//! reused: a retired rule keeps a comment line here.

use crate::rule::Rule;
use crate::rules::*;

/// A rule and the ID it is known by.
pub struct Registered {
    pub id: &'static str,
    pub rule: &'static dyn Rule,
}

const fn reg(id: &'static str, rule: &'static dyn Rule) -> Registered {
    Registered { id, rule }
}

#[rustfmt::skip]
pub const RULES: &[Registered] = &[
    reg("ND101", &attachment::DefaultBridge),
    reg("ND102", &attachment::NoSharedNetwork),
    reg("ND103", &attachment::UndefinedNetwork),
    reg("ND104", &attachment::NetworkModeConflict),
    reg("ND105", &attachment::LegacyLinks),
    reg("ND106", &attachment::ExternalNetworkMissing),
    reg("ND107", &attachment::UnusedNetwork),
    reg("ND108", &attachment::HostNetwork),
    reg("ND109", &attachment::PortsIgnored),
    reg("ND110", &attachment::InternalOnlyPublished),
    reg("ND111", &attachment::ServiceNoEndpoints),
    reg("ND112", &attachment::ServicePortMismatch),
    reg("ND113", &attachment::PeerNotRunning),
    reg("ND201", &ip::SubnetOverlap),
    reg("ND202", &ip::OverlapsExternalRange),
    reg("ND203", &ip::StaticIpInvalid),
    reg("ND204", &ip::IpamInconsistent),
    reg("ND205", &ip::HardcodedIp),
    reg("ND206", &ip::MtuMismatch),
    reg("ND207", &ip::Ipv6HalfConfigured),
    reg("ND301", &dns::NameUnresolvable),
    reg("ND302", &dns::DnsOverrideBroken),
    reg("ND303", &dns::DnsEgressBlocked),
    reg("ND304", &dns::ClusterDnsUnhealthy),
    reg("ND306", &dns::HostnetDnspolicy),
    reg("ND307", &dns::AliasCollision),
    reg("ND401", &policy::FlowDenied),
    reg("ND402", &policy::SelectorMatchesNothing),
    reg("ND403", &policy::NamedPortUnresolved),
    reg("ND404", &policy::RuleShadowed),
    reg("ND405", &policy::PolicyNotEnforced),
    reg("ND406", &policy::OverlyPermissive),
    reg("ND407", &policy::IpblockMatchesPods),
    reg("ND408", &policy::EgressIsolatedNoRules),
    reg("ND409", &policy::PolicyNotEvaluated),
    reg("ND501", &cni_firewall::ForwardDrop),
    reg("ND502", &cni_firewall::DockerUserDrop),
    reg("ND503", &cni_firewall::RuntimeIptablesOff),
    reg("ND504", &cni_firewall::IptablesBackendMix),
    reg("ND505", &cni_firewall::OverlayPortBlocked),
    reg("ND506", &cni_firewall::CniConfigDrift),
    reg("ND507", &cni_firewall::CniConfigShadowed),
    reg("ND508", &cni_firewall::CniPoolMismatch),
    reg("ND509", &cni_firewall::PublishedPortBypassesFirewall),
    reg("ND510", &cni_firewall::ExposedOnAllInterfaces),
    reg("ND511", &cni_firewall::IccDisabled),
    reg("ND601", &growth::AddressPoolExhaustion),
    reg("ND602", &growth::PolicyBloat),
    reg("ND604", &growth::ConntrackPressure),
];

#[cfg(test)]
mod tests {
    use super::RULES;
    use crate::meta;

    /// The names RULES.md gives the registered IDs: the public contract.
    const CONTRACT_NAMES: &[(&str, &str)] = &[
        ("ND101", "default-bridge"),
        ("ND102", "no-shared-network"),
        ("ND103", "undefined-network"),
        ("ND104", "network-mode-conflict"),
        ("ND105", "legacy-links"),
        ("ND106", "external-network-missing"),
        ("ND107", "unused-network"),
        ("ND108", "host-network"),
        ("ND109", "ports-ignored"),
        ("ND110", "internal-only-published"),
        ("ND111", "service-no-endpoints"),
        ("ND112", "service-port-mismatch"),
        ("ND113", "peer-not-running"),
        ("ND201", "subnet-overlap"),
        ("ND202", "overlaps-external-range"),
        ("ND203", "static-ip-invalid"),
        ("ND204", "ipam-inconsistent"),
        ("ND205", "hardcoded-ip"),
        ("ND206", "mtu-mismatch"),
        ("ND207", "ipv6-half-configured"),
        ("ND301", "name-unresolvable"),
        ("ND302", "dns-override-broken"),
        ("ND303", "dns-egress-blocked"),
        ("ND304", "cluster-dns-unhealthy"),
        ("ND306", "hostnet-dnspolicy"),
        ("ND307", "alias-collision"),
        ("ND401", "flow-denied"),
        ("ND402", "selector-matches-nothing"),
        ("ND403", "named-port-unresolved"),
        ("ND404", "rule-shadowed"),
        ("ND405", "policy-not-enforced"),
        ("ND406", "overly-permissive"),
        ("ND407", "ipblock-matches-pods"),
        ("ND408", "egress-isolated-no-rules"),
        ("ND409", "policy-not-evaluated"),
        ("ND501", "forward-drop"),
        ("ND502", "docker-user-drop"),
        ("ND503", "runtime-iptables-off"),
        ("ND504", "iptables-backend-mix"),
        ("ND505", "overlay-port-blocked"),
        ("ND506", "cni-config-drift"),
        ("ND507", "cni-config-shadowed"),
        ("ND508", "cni-pool-mismatch"),
        ("ND509", "published-port-bypasses-firewall"),
        ("ND510", "exposed-on-all-interfaces"),
        ("ND511", "icc-disabled"),
        ("ND601", "address-pool-exhaustion"),
        ("ND602", "policy-bloat"),
        ("ND604", "conntrack-pressure"),
    ];

    #[test]
    fn ids_are_unique_sorted_and_well_formed() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "IDs must be unique and in order");
        for id in ids {
            assert!(id.len() == 5 && id.starts_with("ND") && id[2..].chars().all(|c| c.is_ascii_digit()), "{id}");
            assert!(crate::Family::of(id).is_some(), "{id} has no family");
        }
    }

    #[test]
    fn names_match_the_contract() {
        for m in meta::all() {
            let want = CONTRACT_NAMES.iter().find(|(id, _)| *id == m.id).map(|(_, n)| *n);
            assert_eq!(Some(m.name.as_str()), want, "{} must keep its RULES.md name", m.id);
        }
    }

    #[test]
    fn every_doc_has_the_four_sections_in_order() {
        for m in meta::all() {
            let positions: Vec<Option<usize>> =
                ["## What it checks", "## Why it matters", "## Example", "## Fix"].iter().map(|h| m.doc.find(h)).collect();
            assert!(positions.iter().all(Option::is_some), "{} misses a section: {positions:?}", m.id);
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{} sections out of order", m.id);
            assert!(!m.summary.is_empty() && !m.fix.is_empty(), "{}", m.id);
        }
    }

    #[test]
    fn every_rule_has_a_firing_and_a_quiet_fixture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for r in RULES {
            let files: Vec<String> = std::fs::read_dir(dir.join(r.id))
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            assert!(files.iter().any(|f| f.starts_with("fires")), "{} needs a fixture named fires*.yaml", r.id);
            assert!(files.iter().any(|f| f.starts_with("quiet")), "{} needs a fixture named quiet*.yaml", r.id);
        }
    }
}

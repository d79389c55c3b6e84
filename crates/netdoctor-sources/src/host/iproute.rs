//! `ip -j` output: links (`ip -j -d link show`), addresses (`ip -j addr show`) and
//! routes (`ip -j route show table all`). Each array element keeps its position, so
//! a pretty-printed capture (`ip -j -p`) still points at the right line.

use super::capture::InputSource;
use crate::error::LoadError;
use ipnet::IpNet;
use netdoctor_model::host::{Address, Interface, IpFamily, Route, RoutingRule};
use serde_json::Value;
use std::net::IpAddr;

/// Parses the top-level JSON array of an `ip -j` capture, with each element's position;
/// a capture that is not one is reported and reads as empty.
fn elements(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> Vec<(Value, u32, u32)> {
    let values: Vec<Value> = match serde_json::from_str(text) {
        Ok(values) => values,
        Err(e) => {
            let line = u32::try_from(e.line()).unwrap_or(0);
            let column = u32::try_from(e.column()).unwrap_or(0);
            errors.push(source.error(line, column, format!("not an `ip -j` JSON array: {e}")));
            return Vec::new();
        }
    };
    let positions = array_element_positions(text, 1);
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let (line, column) = positions.get(i).copied().unwrap_or((1, 1));
            (v, line, column)
        })
        .collect()
}

/// The `table` of a route or rule, a name or a number.
fn table_field(v: &Value) -> Option<String> {
    match v.get("table") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The 1-based line and column where each element of the arrays opened at `array_depth`
/// starts: 1 for a top-level array (`ip -j`), 2 for an array that is a value of the root
/// object (`{"nftables": [...]}`). serde_json does not report where values start.
pub(super) fn array_element_positions(text: &str, array_depth: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0u32, false, false);
    let (mut line, mut column) = (1u32, 0u32);
    let mut expect_element = false;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            column = 0;
            continue;
        }
        column += 1;
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if depth == array_depth && expect_element && c != ']' {
            out.push((line, column));
            expect_element = false;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                if c == '[' && depth == array_depth {
                    expect_element = true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == array_depth => expect_element = true,
            _ => {}
        }
    }
    out
}

fn str_field<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn u32_field(v: &Value, key: &str) -> Option<u32> {
    v.get(key).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok())
}

/// Interfaces from `ip -j -d link show`.
pub fn links(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> Vec<Interface> {
    let mut out = Vec::new();
    for (v, line, column) in elements(text, source, errors) {
        let Some(name) = str_field(&v, "ifname") else {
            errors.push(source.error(line, column, "link without `ifname`"));
            continue;
        };
        let flags: Vec<&str> =
            v.get("flags").and_then(Value::as_array).map(|f| f.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let linkinfo = v.get("linkinfo");
        let kind = linkinfo.and_then(|l| str_field(l, "info_kind")).map(str::to_string);
        let vxlan_port = linkinfo
            .and_then(|l| l.get("info_data"))
            .filter(|_| kind.as_deref() == Some("vxlan"))
            .and_then(|d| d.get("port"))
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok());
        out.push(Interface {
            name: name.to_string(),
            index: u32_field(&v, "ifindex").unwrap_or(0),
            mtu: u32_field(&v, "mtu"),
            kind,
            master: str_field(&v, "master").map(str::to_string),
            up: flags.contains(&"UP"),
            vxlan_port,
            origin: source.origin(line, column),
        });
    }
    out
}

/// Addresses from `ip -j addr show`.
pub fn addresses(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> Vec<Address> {
    let mut out = Vec::new();
    for (v, line, column) in elements(text, source, errors) {
        let Some(name) = str_field(&v, "ifname") else {
            errors.push(source.error(line, column, "address entry without `ifname`"));
            continue;
        };
        for info in v.get("addr_info").and_then(Value::as_array).into_iter().flatten() {
            let (Some(local), Some(prefix)) = (str_field(info, "local"), info.get("prefixlen").and_then(Value::as_u64)) else { continue };
            let Ok(address) = local.parse::<IpAddr>() else {
                errors.push(source.error(line, column, format!("`{local}` of `{name}` is not an IP address")));
                continue;
            };
            let Some(network) = u8::try_from(prefix).ok().and_then(|p| IpNet::new(address, p).ok()) else {
                errors.push(source.error(line, column, format!("prefix length {prefix} of `{name}` is out of range")));
                continue;
            };
            out.push(Address { interface: name.to_string(), address, network: network.trunc(), origin: source.origin(line, column) });
        }
    }
    out
}

/// Routes from `ip -j route show table all` (`family` says what `default` means).
pub fn routes(text: &str, family: IpFamily, source: &InputSource, errors: &mut Vec<LoadError>) -> Vec<Route> {
    let mut out = Vec::new();
    for (v, line, column) in elements(text, source, errors) {
        let Some(dst) = str_field(&v, "dst") else {
            errors.push(source.error(line, column, "route without a `dst` string"));
            continue;
        };
        let gateway = str_field(&v, "gateway").and_then(|g| g.parse::<IpAddr>().ok());
        let destination = match route_destination(dst, family, gateway) {
            Some(d) => d,
            None => {
                errors.push(source.error(line, column, format!("route destination `{dst}` is not a network")));
                continue;
            }
        };
        let table = table_field(&v).unwrap_or_else(|| "main".to_string());
        out.push(Route {
            destination,
            gateway,
            device: str_field(&v, "dev").map(str::to_string),
            kind: str_field(&v, "type").unwrap_or("unicast").to_string(),
            table,
            metric: u32_field(&v, "metric"),
            protocol: str_field(&v, "protocol").map(str::to_string),
            origin: source.origin(line, column),
        });
    }
    out
}

/// Parses `ip -j rule show` (or `ip -j -6 rule show`).
pub fn rules(text: &str, family: IpFamily, source: &InputSource, errors: &mut Vec<LoadError>) -> Vec<RoutingRule> {
    let mut out = Vec::new();
    for (v, line, column) in elements(text, source, errors) {
        let mut bad = |what: String| errors.push(source.error(line, column, what));
        let Some(priority) = u32_field(&v, "priority") else {
            bad("rule without a numeric `priority`".into());
            continue;
        };
        let prefix = |addr_key: &str, len_key: &str| -> Result<Option<IpNet>, String> {
            match str_field(&v, addr_key) {
                None | Some("all") => Ok(None),
                Some(addr) => {
                    let ip: IpAddr = addr.parse().map_err(|_| format!("rule `{addr_key}` `{addr}` is not an address"))?;
                    let full = if ip.is_ipv4() { 32 } else { 128 };
                    let len = u32_field(&v, len_key).map_or(Ok(full), |l| u8::try_from(l).map_err(|_| format!("bad `{len_key}`")))?;
                    IpNet::new(ip, len).map(|n| Some(n.trunc())).map_err(|_| format!("rule prefix `{addr}/{len}` is not valid"))
                }
            }
        };
        let (src, dst) = match (prefix("src", "srclen"), prefix("dst", "dstlen")) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(e), _) | (_, Err(e)) => {
                bad(e);
                continue;
            }
        };
        let hex = |key: &str| -> Option<u32> {
            let text = str_field(&v, key)?;
            let digits = text.strip_prefix("0x").unwrap_or(text);
            u32::from_str_radix(digits, if text.starts_with("0x") { 16 } else { 10 }).ok()
        };
        let fwmark = match (v.get("fwmark"), hex("fwmark")) {
            (None, _) => None,
            (Some(_), Some(value)) => Some((value, hex("fwmask").unwrap_or(u32::MAX))),
            (Some(_), None) => {
                bad("rule `fwmark` is not a number".into());
                continue;
            }
        };
        let table = table_field(&v);
        // `ip -j rule` prints a goto as `"goto": N` and a nop as `"nop": null`, not as `action`.
        let goto = v.get("goto").map(|g| g.as_u64().and_then(|n| u32::try_from(n).ok()));
        let action = if goto.is_some() {
            Some("goto".to_string())
        } else if v.get("nop").is_some() {
            Some("nop".to_string())
        } else {
            str_field(&v, "action").filter(|a| *a != "to_tbl").map(str::to_string)
        };
        out.push(RoutingRule {
            family,
            priority,
            src,
            dst,
            iif: str_field(&v, "iif").map(str::to_string),
            oif: str_field(&v, "oif").map(str::to_string),
            fwmark,
            invert: v.get("not").is_some(),
            table,
            action,
            suppress_prefixlength: u32_field(&v, "suppress_prefixlen").and_then(|n| u8::try_from(n).ok()),
            goto: goto.flatten(),
            origin: source.origin(line, column),
        });
    }
    out
}

fn route_destination(dst: &str, family: IpFamily, gateway: Option<IpAddr>) -> Option<IpNet> {
    if dst == "default" {
        let v6 = match gateway {
            Some(g) => g.is_ipv6(),
            None => family == IpFamily::V6,
        };
        return Some(if v6 { "::/0".parse().ok()? } else { "0.0.0.0/0".parse().ok()? });
    }
    if let Ok(net) = dst.parse::<IpNet>() {
        return Some(net.trunc());
    }
    dst.parse::<IpAddr>().ok().map(IpNet::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    fn source() -> InputSource {
        InputSource::File(Arc::from(Path::new("ip-route.json")))
    }

    /// `ip -j rule` prints a goto as `"goto": 200` and a nop as `"nop": null`.
    #[test]
    fn goto_and_nop_are_read_as_actions() {
        let text = r#"[{"priority":0,"src":"all","table":"local"},{"priority":100,"src":"all","dst":"10.0.0.0","dstlen":8,"goto":200},
            {"priority":160,"src":"all","nop":null},{"priority":32765,"not":null,"src":"all","fwmark":"0xca6c","table":"51820"}]"#;
        let mut errors = Vec::new();
        let described: Vec<String> = rules(text, IpFamily::V4, &source(), &mut errors).iter().map(RoutingRule::describe).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            described,
            [
                "0: from all lookup local",
                "100: from all to 10.0.0.0/8 goto 200",
                "160: from all nop",
                "32765: not from all fwmark 0xca6c/0xffffffff lookup 51820"
            ]
        );
    }

    #[test]
    fn positions_follow_pretty_printed_elements() {
        let text = "[ {\n  \"dst\": \"default\", \"gateway\": \"192.0.2.1\", \"dev\": \"eth0\"\n},\n {\"dst\": \"172.17.0.1\", \"type\": \"local\", \"table\": \"local\"} ]";
        let mut errors = Vec::new();
        let routes = routes(text, IpFamily::V4, &source(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].destination.to_string(), "0.0.0.0/0");
        assert_eq!(routes[0].origin.to_string(), "ip-route.json:1:3");
        assert_eq!(routes[1].origin.to_string(), "ip-route.json:4:2");
        assert_eq!(routes[1].destination.to_string(), "172.17.0.1/32");
        assert_eq!(routes[1].kind, "local");
        assert!(!routes[1].is_main());
    }

    #[test]
    fn malformed_json_is_a_located_error() {
        let mut errors = Vec::new();
        let routes = routes("[{\"dst\": }]", IpFamily::V4, &source(), &mut errors);
        assert!(routes.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (1, 10));
    }

    #[test]
    fn links_and_addresses() {
        let links_json = r#"[{"ifindex":5,"ifname":"docker0","flags":["UP"],"mtu":1500,"linkinfo":{"info_kind":"bridge"}},
            {"ifindex":9,"ifname":"flannel.1","flags":["UP"],"mtu":1450,"linkinfo":{"info_kind":"vxlan","info_data":{"port":8472}}}]"#;
        let mut errors = Vec::new();
        let l = links(links_json, &source(), &mut errors);
        assert_eq!(l[1].vxlan_port, Some(8472));
        assert_eq!(l[0].kind.as_deref(), Some("bridge"));
        assert_eq!(l[1].origin.to_string(), "ip-route.json:2:13");
        let addr_json = r#"[{"ifname":"docker0","addr_info":[{"family":"inet","local":"172.17.0.1","prefixlen":16}]}]"#;
        let a = addresses(addr_json, &source(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(a[0].network.to_string(), "172.17.0.0/16");
    }

    /// `ip -j rule show` as iproute2 6.1 prints it (recorded in a throwaway namespace).
    const RULES: &str = r#"[{"priority":0,"src":"all","table":"local"},{"priority":80,"src":"all","dst":"198.51.100.0","dstlen":24,"action":"blackhole"},{"priority":90,"src":"all","table":"main","suppress_prefixlen":0},{"priority":100,"src":"all","dst":"172.16.0.0","dstlen":12,"table":"200"},{"priority":110,"src":"10.8.0.0","srclen":16,"iif":"ndtvpn","iif_detached":null,"table":"201"},{"priority":120,"not":null,"src":"all","fwmark":"0xca6c","fwmask":"0xffff","table":"51820"},{"priority":130,"src":"all","oif":"ndtvpn","oif_detached":null,"table":"202"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]"#;

    #[test]
    fn policy_rules() {
        let mut errors = Vec::new();
        let rules = rules(RULES, IpFamily::V4, &source(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let described: Vec<String> = rules.iter().map(RoutingRule::describe).collect();
        assert_eq!(
            described,
            [
                "0: from all lookup local",
                "80: from all to 198.51.100.0/24 blackhole",
                "90: from all lookup main suppress_prefixlength 0",
                "100: from all to 172.16.0.0/12 lookup 200",
                "110: from 10.8.0.0/16 iif ndtvpn lookup 201",
                "120: not from all fwmark 0xca6c/0xffff lookup 51820",
                "130: from all oif ndtvpn lookup 202",
                "32766: from all lookup main",
                "32767: from all lookup default",
            ]
        );
        assert_eq!(rules[3].origin.to_string(), format!("ip-route.json:1:{}", RULES.find("{\"priority\":100").unwrap_or(0) + 1));
        let mut errors = Vec::new();
        let bad = rules_bad("[{\"priority\":5,\"src\":\"10.0.0.300\",\"table\":\"main\"}]", &mut errors);
        assert!(bad.is_empty());
        assert_eq!(errors.first().map(|e| (e.line, e.column)), Some((1, 2)), "{errors:?}");
    }

    fn rules_bad(text: &str, errors: &mut Vec<LoadError>) -> Vec<RoutingRule> {
        rules(text, IpFamily::V4, &source(), errors)
    }
}

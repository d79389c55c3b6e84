//! Kernel settings as `sysctl -a` prints them (`key = value` lines); live reading
//! takes them from `/proc/sys` of the current network namespace instead.

use super::capture::InputSource;
use crate::error::LoadError;
use netdoctor_model::host::Sysctls;
use netdoctor_model::Located;

/// The settings netdoctor reads, by their dotted name.
pub const KEYS: &[&str] = &[
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_count",
];

/// Parses `key = value` lines; other keys are ignored, malformed known values are errors.
pub fn parse(text: &str, source: &InputSource, errors: &mut Vec<LoadError>) -> Sysctls {
    let mut out = Sysctls::default();
    for (index, line) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            errors.push(source.error(line_no, 1, format!("expected `key = value`, found `{trimmed}`")));
            continue;
        };
        let key = key.trim().replace('/', ".");
        let value = value.trim();
        let after_eq = line.find('=').map_or(0, |i| i + 1);
        let value_offset = after_eq + line.get(after_eq..).map_or(0, |rest| rest.len() - rest.trim_start().len());
        let value_column = u32::try_from(value_offset + 1).unwrap_or(1);
        set(&mut out, &key, value, source.origin(line_no, 1)).unwrap_or_else(|m| errors.push(source.error(line_no, value_column, m)));
    }
    out
}

/// Stores one setting by name; unknown names are ignored.
pub fn set(out: &mut Sysctls, key: &str, value: &str, origin: netdoctor_model::Origin) -> Result<(), String> {
    let flag = || match value {
        "0" => Ok(false),
        "1" => Ok(true),
        other => Err(format!("`{key}` must be 0 or 1, found `{other}`")),
    };
    let count = || value.parse::<u64>().map_err(|_| format!("`{key}` must be a number, found `{value}`"));
    match key {
        "net.ipv4.ip_forward" => out.ip_forward = Some(Located::new(flag()?, origin)),
        "net.ipv6.conf.all.forwarding" => out.ipv6_forwarding = Some(Located::new(flag()?, origin)),
        "net.bridge.bridge-nf-call-iptables" => out.bridge_nf_call_iptables = Some(Located::new(flag()?, origin)),
        "net.bridge.bridge-nf-call-ip6tables" => out.bridge_nf_call_ip6tables = Some(Located::new(flag()?, origin)),
        "net.netfilter.nf_conntrack_max" => out.conntrack_max = Some(Located::new(count()?, origin)),
        "net.netfilter.nf_conntrack_count" => out.conntrack_count = Some(Located::new(count()?, origin)),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    #[test]
    fn reads_known_keys_and_locates_bad_values() {
        let source = InputSource::File(Arc::from(Path::new("sysctl.txt")));
        let text = "net.ipv4.ip_forward = 0\nnet.core.somaxconn = 4096\nnet/bridge/bridge-nf-call-iptables=1\nnet.netfilter.nf_conntrack_max = lots\n";
        let mut errors = Vec::new();
        let s = parse(text, &source, &mut errors);
        assert_eq!(s.ip_forward.as_ref().map(|v| v.value), Some(false));
        assert_eq!(s.ip_forward.map(|v| v.origin.to_string()).unwrap_or_default(), "sysctl.txt:1:1");
        assert_eq!(s.bridge_nf_call_iptables.map(|v| v.value), Some(true));
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (4, 34));
    }
}

//! A container's own name-resolution files, read through `/proc/<pid>/root` (its
//! root filesystem as its processes see it), so nothing needs to run inside it.

use crate::{Error, Result};
use std::io::Read;
use std::net::IpAddr;

/// Larger files are cut: resolv.conf and hosts are a few lines.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// What `/etc/resolv.conf` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<IpAddr>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl ResolvConf {
    /// Parses resolv.conf text.
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or_default();
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => conf.nameservers.extend(words.next().and_then(|w| w.parse::<IpAddr>().ok())),
                Some("search") | Some("domain") => conf.search = words.map(str::to_string).collect(),
                Some("options") => conf.options.extend(words.map(str::to_string)),
                _ => {}
            }
        }
        conf
    }
}

fn read_small(path: &str) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|source| Error::ReadFile { path: path.to_string(), source })?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES).read_to_string(&mut text).map_err(|source| Error::ReadFile { path: path.to_string(), source })?;
    Ok(text)
}

/// The container's resolv.conf.
pub fn read_resolv_conf(pid: u32) -> Result<ResolvConf> {
    read_small(&format!("/proc/{pid}/root/etc/resolv.conf")).map(|t| ResolvConf::parse(&t))
}

/// The container's `/etc/hosts`: address and names per line.
pub fn read_hosts(pid: u32) -> Result<Vec<(IpAddr, Vec<String>)>> {
    let text = read_small(&format!("/proc/{pid}/root/etc/hosts"))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let l = l.split('#').next()?;
            let mut words = l.split_whitespace();
            let ip = words.next()?.parse().ok()?;
            Some((ip, words.map(str::to_string).collect()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_of_a_user_network_container() {
        let c = ResolvConf::parse("# generated\nnameserver 127.0.0.11\nsearch example.internal\noptions ndots:0\nnameserver bogus\n");
        assert_eq!(c.nameservers, vec!["127.0.0.11".parse::<IpAddr>().unwrap()]);
        assert_eq!(c.search, vec!["example.internal"]);
        assert_eq!(c.options, vec!["ndots:0"]);
    }
}

//! Sets of allowed connections: per protocol, a set of port intervals. Ports are
//! 1-65535 (port 0 is never a destination).

use netdoctor_model::{PortRange, Protocol};
use std::fmt;

/// The protocols NetworkPolicy knows, in the order reports list them.
pub const PROTOCOLS: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

const MIN_PORT: u16 = 1;
const MAX_PORT: u16 = u16::MAX;

/// A set of ports, kept as sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    /// No ports.
    pub fn empty() -> PortSet {
        PortSet::default()
    }

    /// Every port, 1-65535.
    pub fn all() -> PortSet {
        PortSet { ranges: vec![(MIN_PORT, MAX_PORT)] }
    }

    /// The ports `start..=end` (port 0 is dropped; an inverted range is empty).
    pub fn range(start: u16, end: u16) -> PortSet {
        let start = start.max(MIN_PORT);
        if start > end {
            return PortSet::empty();
        }
        PortSet { ranges: vec![(start, end)] }
    }

    /// One port.
    pub fn single(port: u16) -> PortSet {
        PortSet::range(port, port)
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.ranges == [(MIN_PORT, MAX_PORT)]
    }

    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= port && port <= b)
    }

    /// The intervals, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = PortRange> + '_ {
        self.ranges.iter().map(|&(start, end)| PortRange { start, end })
    }

    /// Every port in `self` or `other`.
    pub fn union(&self, other: &PortSet) -> PortSet {
        if other.is_empty() || self.is_all() {
            return self.clone();
        }
        if self.is_empty() || other.is_all() {
            return other.clone();
        }
        let mut all: Vec<(u16, u16)> = self.ranges.iter().chain(other.ranges.iter()).copied().collect();
        all.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(all.len());
        for (a, b) in all {
            match out.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        PortSet { ranges: out }
    }

    /// Ports in both.
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        if self.is_all() {
            return other.clone();
        }
        if other.is_all() {
            return self.clone();
        }
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(&(a1, b1)), Some(&(a2, b2))) = (self.ranges.get(i), other.ranges.get(j)) {
            let (lo, hi) = (a1.max(a2), b1.min(b2));
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortSet { ranges: out }
    }

    /// Ports not in the set.
    pub fn complement(&self) -> PortSet {
        let mut out = Vec::new();
        let mut next = u32::from(MIN_PORT);
        for &(a, b) in &self.ranges {
            if u32::from(a) > next {
                out.push((to_port(next), a - 1));
            }
            next = u32::from(b) + 1;
        }
        if next <= u32::from(MAX_PORT) {
            out.push((to_port(next), MAX_PORT));
        }
        PortSet { ranges: out }
    }

    /// Ports in `self` but not in `other`.
    pub fn subtract(&self, other: &PortSet) -> PortSet {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.intersect(&other.complement())
    }
}

fn to_port(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(MAX_PORT)
}

impl fmt::Display for PortSet {
    /// `80,443,8000-8010`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Allowed connections: a port set per protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnSet {
    sctp: PortSet,
    tcp: PortSet,
    udp: PortSet,
}

impl ConnSet {
    /// Nothing allowed.
    pub fn none() -> ConnSet {
        ConnSet::default()
    }

    /// Every port of every protocol.
    pub fn all() -> ConnSet {
        ConnSet { sctp: PortSet::all(), tcp: PortSet::all(), udp: PortSet::all() }
    }

    /// `ports` of one protocol.
    pub fn of(protocol: Protocol, ports: PortSet) -> ConnSet {
        let mut c = ConnSet::none();
        *c.ports_mut(protocol) = ports;
        c
    }

    /// The ports allowed for `protocol`.
    pub fn ports(&self, protocol: Protocol) -> &PortSet {
        match protocol {
            Protocol::Sctp => &self.sctp,
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }

    fn ports_mut(&mut self, protocol: Protocol) -> &mut PortSet {
        match protocol {
            Protocol::Sctp => &mut self.sctp,
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sctp.is_empty() && self.tcp.is_empty() && self.udp.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.sctp.is_all() && self.tcp.is_all() && self.udp.is_all()
    }

    /// Whether `port` of `protocol` is allowed.
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ports(protocol).contains(port)
    }

    fn zip(&self, other: &ConnSet, f: impl Fn(&PortSet, &PortSet) -> PortSet) -> ConnSet {
        ConnSet { sctp: f(&self.sctp, &other.sctp), tcp: f(&self.tcp, &other.tcp), udp: f(&self.udp, &other.udp) }
    }

    pub fn union(&self, other: &ConnSet) -> ConnSet {
        self.zip(other, PortSet::union)
    }

    pub fn intersect(&self, other: &ConnSet) -> ConnSet {
        self.zip(other, PortSet::intersect)
    }

    pub fn subtract(&self, other: &ConnSet) -> ConnSet {
        self.zip(other, PortSet::subtract)
    }

    /// Adds `ports` of `protocol`.
    pub fn add(&mut self, protocol: Protocol, ports: &PortSet) {
        let merged = self.ports(protocol).union(ports);
        *self.ports_mut(protocol) = merged;
    }

    /// Adds everything in `other`.
    pub fn add_all(&mut self, other: &ConnSet) {
        if !other.is_empty() {
            *self = self.union(other);
        }
    }
}

impl fmt::Display for ConnSet {
    /// netpol-analyzer's spelling: `All Connections`, `No Connections`, or protocol
    /// groups in SCTP, TCP, UDP order: `TCP 80,443,UDP 53`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for protocol in PROTOCOLS {
            let ports = self.ports(protocol);
            if ports.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{} {ports}", protocol.to_string().to_ascii_uppercase())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let a = PortSet::range(10, 20).union(&PortSet::range(30, 40));
        let b = PortSet::range(15, 35);
        assert_eq!(a.to_string(), "10-20,30-40");
        assert_eq!(a.intersect(&b).to_string(), "15-20,30-35");
        assert_eq!(a.subtract(&b).to_string(), "10-14,36-40");
        assert_eq!(a.union(&b).to_string(), "10-40");
        assert_eq!(PortSet::range(21, 29).union(&a).to_string(), "10-40");
        assert_eq!(PortSet::single(80).complement().to_string(), "1-79,81-65535");
        assert_eq!(PortSet::all().complement(), PortSet::empty());
        assert!(PortSet::empty().complement().is_all());
        assert_eq!(PortSet::range(0, 0), PortSet::empty());
        assert_eq!(PortSet::range(5, 4), PortSet::empty());
        assert!(PortSet::single(65535).contains(65535));
    }

    #[test]
    fn renders_like_netpol_analyzer() {
        assert_eq!(ConnSet::all().to_string(), "All Connections");
        assert_eq!(ConnSet::none().to_string(), "No Connections");
        let mut c = ConnSet::of(Protocol::Udp, PortSet::single(53));
        c.add(Protocol::Tcp, &PortSet::range(10053, 10054));
        c.add(Protocol::Sctp, &PortSet::all());
        assert_eq!(c.to_string(), "SCTP 1-65535,TCP 10053-10054,UDP 53");
        let no_http = ConnSet::all().subtract(&ConnSet::of(Protocol::Tcp, PortSet::single(80)));
        assert_eq!(no_http.to_string(), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535");
        assert!(no_http.contains(Protocol::Tcp, 81) && !no_http.contains(Protocol::Tcp, 80));
    }
}

//! Sets of allowed connections: per transport protocol, a set of destination port
//! intervals, and a set of ICMP (IPv4) messages by type and code. Ports are 1-65535
//! (port 0 is never a destination).

use netdoctor_model::host::IpProto;
use netdoctor_model::{PortRange, Protocol};
use std::fmt;
use std::str::FromStr;

/// The transport protocols policies name ports of, in the order reports list them.
pub const PROTOCOLS: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

const MIN_PORT: u16 = 1;
const MAX_PORT: u16 = u16::MAX;

/// A set of `u16` values from `MIN` up, kept as sorted, disjoint, non-adjacent
/// inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Intervals<const MIN: u16> {
    ranges: Vec<(u16, u16)>,
}

/// A set of destination ports.
pub type PortSet = Intervals<MIN_PORT>;

impl<const MIN: u16> Intervals<MIN> {
    /// No values.
    pub fn empty() -> Self {
        Intervals { ranges: Vec::new() }
    }

    /// Every value, `MIN`-65535.
    pub fn all() -> Self {
        Intervals { ranges: vec![(MIN, MAX_PORT)] }
    }

    /// The values `start..=end` (values below `MIN` are dropped; an inverted range is empty).
    pub fn range(start: u16, end: u16) -> Self {
        let start = start.max(MIN);
        if start > end {
            return Self::empty();
        }
        Intervals { ranges: vec![(start, end)] }
    }

    /// One value.
    pub fn single(value: u16) -> Self {
        Self::range(value, value)
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.ranges == [(MIN, MAX_PORT)]
    }

    pub fn contains(&self, value: u16) -> bool {
        self.ranges.iter().any(|&(a, b)| a <= value && value <= b)
    }

    /// The intervals, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = PortRange> + '_ {
        self.ranges.iter().map(|&(start, end)| PortRange { start, end })
    }

    /// Every value in `self` or `other`.
    pub fn union(&self, other: &Self) -> Self {
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
        Intervals { ranges: out }
    }

    /// Values in both.
    pub fn intersect(&self, other: &Self) -> Self {
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
        Intervals { ranges: out }
    }

    /// Values not in the set.
    pub fn complement(&self) -> Self {
        let mut out = Vec::new();
        let mut next = u32::from(MIN);
        for &(a, b) in &self.ranges {
            if u32::from(a) > next {
                out.push((to_u16(next), a - 1));
            }
            next = u32::from(b) + 1;
        }
        if next <= u32::from(MAX_PORT) {
            out.push((to_u16(next), MAX_PORT));
        }
        Intervals { ranges: out }
    }

    /// Values in `self` but not in `other`.
    pub fn subtract(&self, other: &Self) -> Self {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.intersect(&other.complement())
    }
}

fn to_u16(n: u32) -> u16 {
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

/// A set of ICMP (IPv4) messages: each is a type and a code, kept as the value
/// `type * 256 + code` so a whole type is one interval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IcmpSet(Intervals<0>);

impl IcmpSet {
    pub fn empty() -> IcmpSet {
        IcmpSet(Intervals::empty())
    }

    /// Every ICMP message.
    pub fn all() -> IcmpSet {
        IcmpSet(Intervals::all())
    }

    /// Every code of one type.
    pub fn of_type(icmp_type: u8) -> IcmpSet {
        let base = u16::from(icmp_type) << 8;
        IcmpSet(Intervals::range(base, base | 0xff))
    }

    /// One message.
    pub fn message(icmp_type: u8, code: u8) -> IcmpSet {
        IcmpSet(Intervals::single(u16::from(icmp_type) << 8 | u16::from(code)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.0.is_all()
    }

    pub fn contains(&self, icmp_type: u8, code: u8) -> bool {
        self.0.contains(u16::from(icmp_type) << 8 | u16::from(code))
    }

    pub fn union(&self, other: &IcmpSet) -> IcmpSet {
        IcmpSet(self.0.union(&other.0))
    }

    pub fn intersect(&self, other: &IcmpSet) -> IcmpSet {
        IcmpSet(self.0.intersect(&other.0))
    }

    pub fn subtract(&self, other: &IcmpSet) -> IcmpSet {
        IcmpSet(self.0.subtract(&other.0))
    }
}

impl fmt::Display for IcmpSet {
    /// `all`, or types and codes: `type 0,type 8,type 3 code 1-4`; a run of whole
    /// types is `type 0-7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all");
        }
        let mut first = true;
        let mut item = |f: &mut fmt::Formatter<'_>, text: String| -> fmt::Result {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(&text)
        };
        let codes = |t: u16, a: u16, b: u16| if a == b { format!("type {t} code {a}") } else { format!("type {t} code {a}-{b}") };
        let types = |a: u16, b: u16| if a == b { format!("type {a}") } else { format!("type {a}-{b}") };
        for r in self.0.ranges() {
            let (t1, c1, t2, c2) = (r.start >> 8, r.start & 0xff, r.end >> 8, r.end & 0xff);
            if t1 == t2 && !(c1 == 0 && c2 == 0xff) {
                item(f, codes(t1, c1, c2))?;
                continue;
            }
            // A partial first type, the whole types, a partial last type.
            let mut first_whole = t1;
            if c1 != 0 {
                item(f, codes(t1, c1, 0xff))?;
                first_whole += 1;
            }
            let last_whole = if c2 == 0xff { Some(t2) } else { t2.checked_sub(1) };
            if let Some(last) = last_whole.filter(|l| *l >= first_whole) {
                item(f, types(first_whole, last))?;
            }
            if c2 != 0xff {
                item(f, codes(t2, 0, c2))?;
            }
        }
        Ok(())
    }
}

/// One connection asked about: a destination port of a transport protocol, or an ICMP
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conn {
    Port(Protocol, u16),
    Icmp { icmp_type: u8, code: u8 },
}

/// ICMP echo request: what `ping` sends, and what `icmp` alone asks about.
pub const ECHO_REQUEST: u8 = 8;

impl Conn {
    /// The transport protocol and port, for a port.
    pub fn port(&self) -> Option<(Protocol, u16)> {
        match *self {
            Conn::Port(protocol, port) => Some((protocol, port)),
            Conn::Icmp { .. } => None,
        }
    }

    /// The IP protocol and destination port a firewall matches.
    pub fn firewall_match(&self) -> (IpProto, Option<PortRange>) {
        match *self {
            Conn::Port(Protocol::Tcp, port) => (IpProto::Tcp, Some(PortRange::single(port))),
            Conn::Port(Protocol::Udp, port) => (IpProto::Udp, Some(PortRange::single(port))),
            Conn::Port(Protocol::Sctp, port) => (IpProto::Sctp, Some(PortRange::single(port))),
            Conn::Icmp { .. } => (IpProto::Icmp, None),
        }
    }

    /// The same connection to another destination port (ICMP has none: unchanged).
    pub fn on_port(self, port: u16) -> Conn {
        match self {
            Conn::Port(protocol, _) => Conn::Port(protocol, port),
            icmp => icmp,
        }
    }
}

impl fmt::Display for Conn {
    /// `tcp/5432`, `icmp/8/0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conn::Port(protocol, port) => write!(f, "{protocol}/{port}"),
            Conn::Icmp { icmp_type, code } => write!(f, "icmp/{icmp_type}/{code}"),
        }
    }
}

impl FromStr for Conn {
    type Err = String;
    /// `tcp/5432`, `udp/53`, a bare `5432` (TCP), `icmp` (echo request, what ping
    /// sends), `icmp/TYPE` (code 0) or `icmp/TYPE/CODE`.
    fn from_str(s: &str) -> Result<Conn, String> {
        let mut parts = s.split('/');
        let first = parts.next().unwrap_or_default();
        if first.eq_ignore_ascii_case("icmp") {
            let number = |what: &str, text: Option<&str>, default: u8| -> Result<u8, String> {
                match text {
                    None => Ok(default),
                    Some(t) => t.parse::<u8>().map_err(|_| format!("`{t}` is not an ICMP {what} (0-255)")),
                }
            };
            let icmp_type = number("type", parts.next(), ECHO_REQUEST)?;
            let code = number("code", parts.next(), 0)?;
            if parts.next().is_some() {
                return Err(format!("`{s}` has too many parts: write icmp, icmp/TYPE or icmp/TYPE/CODE"));
            }
            return Ok(Conn::Icmp { icmp_type, code });
        }
        let (protocol, port) = match (parts.next(), parts.next()) {
            (None, _) => (Protocol::Tcp, first),
            (Some(port), None) => {
                (first.parse::<Protocol>().map_err(|_| format!("unknown protocol `{first}` (expected tcp, udp, sctp or icmp)"))?, port)
            }
            (Some(_), Some(_)) => return Err(format!("`{s}` is not PROTOCOL/PORT (such as tcp/5432) or icmp/TYPE/CODE")),
        };
        let port = port.parse::<u16>().map_err(|_| format!("`{port}` is not a port number (1-65535)"))?;
        if port == 0 {
            return Err("port 0 cannot be connected to".into());
        }
        Ok(Conn::Port(protocol, port))
    }
}

/// Allowed connections: a port set per transport protocol, and ICMP messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnSet {
    sctp: PortSet,
    tcp: PortSet,
    udp: PortSet,
    icmp: IcmpSet,
}

impl ConnSet {
    /// Nothing allowed.
    pub fn none() -> ConnSet {
        ConnSet::default()
    }

    /// Every port of every transport protocol, and every ICMP message: what a rule
    /// without ports allows.
    pub fn all() -> ConnSet {
        ConnSet { icmp: IcmpSet::all(), ..ConnSet::all_ports() }
    }

    /// Every port of every transport protocol, no ICMP.
    pub fn all_ports() -> ConnSet {
        ConnSet { sctp: PortSet::all(), tcp: PortSet::all(), udp: PortSet::all(), icmp: IcmpSet::empty() }
    }

    /// `ports` of one protocol.
    pub fn of(protocol: Protocol, ports: PortSet) -> ConnSet {
        let mut c = ConnSet::none();
        *c.ports_mut(protocol) = ports;
        c
    }

    /// ICMP messages only.
    pub fn of_icmp(icmp: IcmpSet) -> ConnSet {
        ConnSet { icmp, ..ConnSet::none() }
    }

    /// The ports allowed for `protocol`.
    pub fn ports(&self, protocol: Protocol) -> &PortSet {
        match protocol {
            Protocol::Sctp => &self.sctp,
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }

    /// The ICMP messages allowed.
    pub fn icmp(&self) -> &IcmpSet {
        &self.icmp
    }

    fn ports_mut(&mut self, protocol: Protocol) -> &mut PortSet {
        match protocol {
            Protocol::Sctp => &mut self.sctp,
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sctp.is_empty() && self.tcp.is_empty() && self.udp.is_empty() && self.icmp.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.all_transport() && self.icmp.is_all()
    }

    /// Whether every port of every transport protocol is allowed (ICMP aside).
    fn all_transport(&self) -> bool {
        self.sctp.is_all() && self.tcp.is_all() && self.udp.is_all()
    }

    /// Whether `port` of `protocol` is allowed.
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ports(protocol).contains(port)
    }

    /// Whether one connection is allowed.
    pub fn allows(&self, conn: Conn) -> bool {
        match conn {
            Conn::Port(protocol, port) => self.contains(protocol, port),
            Conn::Icmp { icmp_type, code } => self.icmp.contains(icmp_type, code),
        }
    }

    fn zip(&self, other: &ConnSet, f: impl Fn(&PortSet, &PortSet) -> PortSet, g: impl Fn(&IcmpSet, &IcmpSet) -> IcmpSet) -> ConnSet {
        ConnSet {
            sctp: f(&self.sctp, &other.sctp),
            tcp: f(&self.tcp, &other.tcp),
            udp: f(&self.udp, &other.udp),
            icmp: g(&self.icmp, &other.icmp),
        }
    }

    pub fn union(&self, other: &ConnSet) -> ConnSet {
        self.zip(other, PortSet::union, IcmpSet::union)
    }

    pub fn intersect(&self, other: &ConnSet) -> ConnSet {
        self.zip(other, PortSet::intersect, IcmpSet::intersect)
    }

    pub fn subtract(&self, other: &ConnSet) -> ConnSet {
        self.zip(other, PortSet::subtract, IcmpSet::subtract)
    }

    /// Adds `ports` of `protocol`.
    pub fn add(&mut self, protocol: Protocol, ports: &PortSet) {
        let merged = self.ports(protocol).union(ports);
        *self.ports_mut(protocol) = merged;
    }

    /// Adds ICMP messages.
    pub fn add_icmp(&mut self, icmp: &IcmpSet) {
        self.icmp = self.icmp.union(icmp);
    }

    /// Adds everything in `other`.
    pub fn add_all(&mut self, other: &ConnSet) {
        if !other.is_empty() {
            *self = self.union(other);
        }
    }

    /// netpol-analyzer's spelling, which knows TCP, UDP and SCTP only: ICMP is left
    /// out, and every port of the three is `All Connections`.
    pub fn transport_spelling(&self) -> String {
        if self.all_transport() {
            return "All Connections".into();
        }
        let mut out = String::new();
        self.write_transport(&mut out);
        if out.is_empty() {
            out.push_str("No Connections");
        }
        out
    }

    /// `SCTP 1-65535,TCP 80,UDP 53`: the non-empty transport protocols.
    fn write_transport(&self, out: &mut String) {
        for protocol in PROTOCOLS {
            let ports = self.ports(protocol);
            if ports.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&format!("{} {ports}", protocol.to_string().to_ascii_uppercase()));
        }
    }
}

impl fmt::Display for ConnSet {
    /// netpol-analyzer's spelling, with ICMP added: `All Connections`, `No Connections`,
    /// or protocol groups in SCTP, TCP, UDP, ICMP order: `TCP 80,443,UDP 53,ICMP type 8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut out = String::new();
        self.write_transport(&mut out);
        if !self.icmp.is_empty() {
            if !out.is_empty() {
                out.push(',');
            }
            if self.icmp.is_all() {
                out.push_str("ICMP");
            } else {
                out.push_str(&format!("ICMP {}", self.icmp));
            }
        }
        f.write_str(&out)
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
        assert_eq!(no_http.to_string(), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535,ICMP");
        assert!(no_http.contains(Protocol::Tcp, 81) && !no_http.contains(Protocol::Tcp, 80));
        // netpol-analyzer's own spelling leaves ICMP out.
        assert_eq!(no_http.transport_spelling(), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535");
        assert_eq!(ConnSet::all_ports().transport_spelling(), "All Connections");
        assert_eq!(ConnSet::of_icmp(IcmpSet::all()).transport_spelling(), "No Connections");
    }

    #[test]
    fn icmp_messages_by_type_and_code() {
        let echo = IcmpSet::of_type(8);
        assert!(echo.contains(8, 0) && echo.contains(8, 255) && !echo.contains(0, 0));
        assert_eq!(echo.to_string(), "type 8");
        assert_eq!(IcmpSet::message(3, 1).to_string(), "type 3 code 1");
        assert_eq!(IcmpSet::of_type(0).union(&IcmpSet::of_type(1)).union(&IcmpSet::of_type(2)).to_string(), "type 0-2");
        assert_eq!(IcmpSet::all().subtract(&IcmpSet::message(3, 1)).to_string(), "type 0-2,type 3 code 0,type 3 code 2-255,type 4-255");
        assert_eq!(IcmpSet::all().to_string(), "all");
        let two = IcmpSet::of_type(3).subtract(&IcmpSet::message(3, 0)).union(&IcmpSet::of_type(4)).union(&IcmpSet::message(5, 0));
        assert_eq!(two.to_string(), "type 3 code 1-255,type 4,type 5 code 0");
        let some = ConnSet::all().subtract(&ConnSet::of_icmp(IcmpSet::all().subtract(&echo)));
        assert_eq!(some.to_string(), "SCTP 1-65535,TCP 1-65535,UDP 1-65535,ICMP type 8");
        assert_eq!(ConnSet::all_ports().to_string(), "SCTP 1-65535,TCP 1-65535,UDP 1-65535");
        assert!(some.allows(Conn::Icmp { icmp_type: 8, code: 0 }) && !some.allows(Conn::Icmp { icmp_type: 0, code: 0 }));
        let mut udp = ConnSet::of(Protocol::Udp, PortSet::single(53));
        udp.add_icmp(&IcmpSet::all());
        assert_eq!(udp.to_string(), "UDP 53,ICMP");
    }

    #[test]
    fn asked_connections_parse() {
        assert_eq!("tcp/5432".parse(), Ok(Conn::Port(Protocol::Tcp, 5432)));
        assert_eq!("5432".parse(), Ok(Conn::Port(Protocol::Tcp, 5432)));
        assert_eq!("udp/53".parse(), Ok(Conn::Port(Protocol::Udp, 53)));
        assert_eq!("icmp".parse(), Ok(Conn::Icmp { icmp_type: 8, code: 0 }));
        assert_eq!("ICMP/3/1".parse(), Ok(Conn::Icmp { icmp_type: 3, code: 1 }));
        assert_eq!("icmp/0".parse::<Conn>().map(|c| c.to_string()), Ok("icmp/0/0".to_string()));
        for bad in ["tcp/0", "tcp/x", "gre/1", "icmp/256", "icmp/3/1/2", "tcp/1/2"] {
            assert!(bad.parse::<Conn>().is_err(), "{bad}");
        }
    }
}

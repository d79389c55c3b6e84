//! A flow to trace: addresses (one address or a range of possible ones), protocol,
//! ports, interfaces and connection state, plus what the trace changes on the way
//! (DNAT, marks).

use ipnet::IpNet;
use netdoctor_model::host::{CtState, IpFamily, IpProto};
use netdoctor_model::PortRange;
use std::fmt;

/// Ports a client picks its source port from (Linux `ip_local_port_range`).
pub const EPHEMERAL_PORTS: PortRange = PortRange { start: 32768, end: 60999 };

/// One side of a flow: an address, or a range when only the subnet is known (a
/// container whose address Docker has not assigned yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub net: IpNet,
    /// Whether the address is one of the host's own, when the caller knows better than
    /// the host's address list (a container address never is).
    pub local: Option<bool>,
}

impl Endpoint {
    /// A single address or a range; whether it is the host's is looked up.
    pub fn new(net: IpNet) -> Endpoint {
        Endpoint { net, local: None }
    }

    /// An address (or range) known not to be the host's own: a container, a remote peer.
    pub fn remote(net: IpNet) -> Endpoint {
        Endpoint { net, local: Some(false) }
    }

    /// One of the host's own addresses.
    pub fn host(net: IpNet) -> Endpoint {
        Endpoint { net, local: Some(true) }
    }

    /// Anywhere outside the host, of one family.
    pub fn anywhere(family: IpFamily) -> Endpoint {
        let net = match family {
            IpFamily::V4 => IpNet::V4(ipnet::Ipv4Net::default()),
            IpFamily::V6 => IpNet::V6(ipnet::Ipv6Net::default()),
        };
        Endpoint::remote(net)
    }

    pub fn family(&self) -> IpFamily {
        IpFamily::of(&self.net)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.net.prefix_len() == self.net.max_prefix_len() {
            write!(f, "{}", self.net.addr())
        } else {
            write!(f, "{}", self.net)
        }
    }
}

/// An interface a flow enters or leaves by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfaceName {
    /// This name exactly.
    Named(String),
    /// A device that does not exist yet and will be named `prefix…` (Docker names the
    /// bridge of a network it has not created yet `br-<id>`).
    Fresh { prefix: String },
    /// Not known.
    Unknown,
}

impl fmt::Display for IfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IfaceName::Named(n) => f.write_str(n),
            IfaceName::Fresh { prefix } => write!(f, "{prefix}… (not created yet)"),
            IfaceName::Unknown => f.write_str("an unknown interface"),
        }
    }
}

/// Which of the kernel's paths a packet takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathKind {
    /// Routed (or bridged) through the host: PREROUTING, FORWARD, POSTROUTING.
    Forward,
    /// To the host itself: PREROUTING, INPUT.
    Input,
    /// From the host itself: OUTPUT, POSTROUTING.
    Output,
}

impl PathKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PathKind::Forward => "forwarded",
            PathKind::Input => "to the host",
            PathKind::Output => "from the host",
        }
    }
}

/// The destination a flow had before DNAT rewrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub dst: Endpoint,
    pub dport: Option<PortRange>,
}

/// A packet (the first of its connection, unless `state` says otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub proto: IpProto,
    pub sport: Option<PortRange>,
    pub dport: Option<PortRange>,
    /// `None` for packets the host itself sends.
    pub in_iface: Option<IfaceName>,
    /// `None` to let the host's routes decide.
    pub out_iface: Option<IfaceName>,
    pub state: CtState,
    /// `None` to let the host's addresses decide.
    pub path: Option<PathKind>,
    /// Switched by a bridge between two of its ports rather than routed: iptables only
    /// sees it when `bridge-nf-call-iptables` is on.
    pub bridged: bool,
    pub mark: u32,
    /// Leave the nat table out, to see what the filter rules say about the packet as
    /// addressed (a published port as if the host served it itself).
    pub skip_nat: bool,
    /// Set once DNAT rewrote the destination (or by the caller, for a connection that
    /// already went through it).
    pub original: Option<Original>,
}

impl Flow {
    /// A new TCP connection from an ephemeral port to `dport`.
    pub fn tcp(src: Endpoint, dst: Endpoint, dport: u16) -> Flow {
        Flow::new(IpProto::Tcp, src, dst, Some(PortRange::single(dport)))
    }

    /// A new connection; `dport: None` means any destination port.
    pub fn new(proto: IpProto, src: Endpoint, dst: Endpoint, dport: Option<PortRange>) -> Flow {
        let has_ports = matches!(proto, IpProto::Tcp | IpProto::Udp | IpProto::Sctp);
        Flow {
            src,
            dst,
            proto,
            sport: has_ports.then_some(EPHEMERAL_PORTS),
            dport: if has_ports { Some(dport.unwrap_or(PortRange { start: 1, end: u16::MAX })) } else { None },
            in_iface: None,
            out_iface: None,
            state: CtState::New,
            path: None,
            bridged: false,
            mark: 0,
            skip_nat: false,
            original: None,
        }
    }

    pub fn entering(mut self, iface: IfaceName) -> Flow {
        self.in_iface = Some(iface);
        self
    }

    pub fn leaving(mut self, iface: IfaceName) -> Flow {
        self.out_iface = Some(iface);
        self
    }

    pub fn on_path(mut self, path: PathKind) -> Flow {
        self.path = Some(path);
        self
    }

    pub fn bridged(mut self) -> Flow {
        self.bridged = true;
        self
    }

    pub fn family(&self) -> IpFamily {
        self.dst.family()
    }

    /// `tcp 10.0.0.2 → 172.17.0.2:80`.
    pub fn describe(&self) -> String {
        let port = match self.dport {
            Some(p) if p.start == 1 && p.end == u16::MAX => String::new(),
            Some(p) => format!(":{p}"),
            None => String::new(),
        };
        format!("{} {} → {}{port}", self.proto, self.src, self.dst)
    }
}

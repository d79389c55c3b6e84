//! DNS probes: one query over UDP to one of the container's own resolvers (Docker's
//! embedded DNS is 127.0.0.11 inside the container's namespace). Only the names the
//! caller asks about are sent.

use crate::{Error, Outcome};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What a resolver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    pub server: SocketAddr,
    pub name: String,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, …
    pub rcode: String,
    pub addresses: Vec<IpAddr>,
    pub after: Duration,
}

impl DnsAnswer {
    /// Whether the name resolved to at least one address.
    pub fn resolved(&self) -> bool {
        self.rcode == "NOERROR" && !self.addresses.is_empty()
    }

    pub fn describe(&self) -> String {
        if self.resolved() {
            let addrs: Vec<String> = self.addresses.iter().map(ToString::to_string).collect();
            format!("{} answered `{}` with {}", self.server.ip(), self.name, addrs.join(", "))
        } else if self.rcode == "NOERROR" {
            format!("{} knows `{}` but has no address for it", self.server.ip(), self.name)
        } else {
            format!("{} answered {} for `{}`", self.server.ip(), self.rcode, self.name)
        }
    }
}

static NEXT_ID: AtomicU16 = AtomicU16::new(0);

/// A query id that differs between calls and between runs.
fn query_id() -> u16 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    (nanos as u16) ^ NEXT_ID.fetch_add(0x9e37, Ordering::Relaxed)
}

/// Asks `server` for the A (or AAAA) records of `name`.
pub(crate) fn query(server: SocketAddr, name: &str, ipv6: bool, timeout: Duration) -> Outcome {
    match query_inner(server, name, ipv6, timeout) {
        Ok(o) => o,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn query_inner(server: SocketAddr, name: &str, ipv6: bool, timeout: Duration) -> Result<Outcome, Error> {
    let dns_err = |message: String| Error::DnsQuery { name: name.to_string(), message };
    let qname = Name::from_ascii(name).map_err(|e| dns_err(e.to_string()))?;
    let id = query_id();
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(qname, if ipv6 { RecordType::AAAA } else { RecordType::A }));
    let bytes = msg.to_vec().map_err(|e| dns_err(e.to_string()))?;
    let bind: SocketAddr =
        if server.is_ipv6() { "[::]:0".parse() } else { "0.0.0.0:0".parse() }.map_err(|_| dns_err("bind address".into()))?;
    let socket = UdpSocket::bind(bind).map_err(|source| Error::Socket { what: "UDP", source })?;
    let start = Instant::now();
    if let Err(e) = socket.connect(server).and_then(|()| socket.send(&bytes)) {
        return Ok(Outcome::Unreachable(format!("sending to {server}: {e}")));
    }
    let mut buf = [0u8; 4096];
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(Outcome::TimedOut);
        }
        socket.set_read_timeout(Some(left)).map_err(|source| Error::Socket { what: "UDP", source })?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                let Ok(reply) = Message::from_vec(buf.get(..n).unwrap_or_default()) else { continue };
                if reply.metadata.id != id || reply.metadata.message_type != MessageType::Response {
                    continue;
                }
                let addresses = reply.answers.iter().filter_map(|r| r.data.ip_addr()).collect();
                let rcode = rcode_name(reply.metadata.response_code);
                return Ok(Outcome::Dns(DnsAnswer { server, name: name.to_string(), rcode, addresses, after: start.elapsed() }));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Ok(Outcome::TimedOut),
            // An ICMP port unreachable on a connected UDP socket: no server there.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                return Ok(Outcome::Unreachable(format!("nothing answers DNS at {server} (port unreachable)")))
            }
            Err(e) => return Ok(Outcome::Failed(format!("reading from {server}: {e}"))),
        }
    }
}

fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("{other:?}").to_ascii_uppercase(),
    }
}

//! ICMP echo probes. A datagram ICMP socket ("ping socket") needs no privilege where
//! `net.ipv4.ping_group_range` allows the caller's group, which Docker sets in every
//! container it creates; otherwise a raw socket is used, which needs CAP_NET_RAW.
//! A ping socket's replies carry the ICMP header only; a raw socket's carry the IP
//! header too (IPv4), and every ICMP packet for the host, so replies are matched on
//! identifier and sequence number.

use crate::Outcome;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Which kind of socket sent the echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMode {
    Datagram,
    Raw,
}

const PAYLOAD: &[u8] = b"netdoctor";

/// Sends one echo request and waits for its reply.
pub(crate) fn echo(dst: IpAddr, timeout: Duration, seq: u16) -> Outcome {
    let (socket, mode) = match open(dst) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e),
    };
    let id = (std::process::id() as u16) ^ seq.rotate_left(7);
    let packet = request(dst.is_ipv6(), id, seq);
    let start = Instant::now();
    if let Err(e) = socket.connect(&SockAddr::from(SocketAddr::new(dst, 0))).and_then(|()| socket.send(&packet)) {
        return match e.raw_os_error() {
            Some(libc::EHOSTUNREACH) | Some(libc::ENETUNREACH) => Outcome::Unreachable(e.to_string()),
            _ => Outcome::Failed(format!("sending an echo request: {e}")),
        };
    }
    let mut buf = [0u8; 1500];
    let mut reader = &socket;
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Outcome::TimedOut;
        }
        if socket.set_read_timeout(Some(left)).is_err() {
            return Outcome::Failed("setting the receive timeout".into());
        }
        match reader.read(&mut buf) {
            Ok(n) => {
                let reply = buf.get(..n).unwrap_or_default();
                if is_reply(reply, dst.is_ipv6(), mode, id, seq) {
                    return Outcome::Reply { after: start.elapsed() };
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return Outcome::TimedOut,
            Err(e) => match e.raw_os_error() {
                Some(libc::EHOSTUNREACH) | Some(libc::ENETUNREACH) => return Outcome::Unreachable(e.to_string()),
                _ => return Outcome::Failed(format!("reading the reply: {e}")),
            },
        }
    }
}

/// A ping socket if allowed, else a raw one.
fn open(dst: IpAddr) -> Result<(Socket, IcmpMode), String> {
    let (domain, proto) = if dst.is_ipv6() { (Domain::IPV6, Protocol::ICMPV6) } else { (Domain::IPV4, Protocol::ICMPV4) };
    match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => Ok((s, IcmpMode::Datagram)),
        Err(dgram) => match Socket::new(domain, Type::RAW, Some(proto)) {
            Ok(s) => Ok((s, IcmpMode::Raw)),
            Err(raw) => Err(format!(
                "no ICMP socket: ping sockets are not allowed here ({dgram}) and a raw one needs CAP_NET_RAW ({raw}); run with sudo, or rely on the TCP probe"
            )),
        },
    }
}

/// An echo request with its checksum (IPv6's is filled in by the kernel).
fn request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(PAYLOAD);
    if !v6 {
        let sum = checksum(&p).to_be_bytes();
        if let Some(slot) = p.get_mut(2..4) {
            slot.copy_from_slice(&sum);
        }
    }
    p
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 =
        data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn is_reply(packet: &[u8], v6: bool, mode: IcmpMode, id: u16, seq: u16) -> bool {
    let icmp = match (mode, v6) {
        (IcmpMode::Raw, false) => {
            // An IPv4 header is at least 20 bytes; anything shorter is not a packet.
            let ihl = usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4;
            if ihl < 20 {
                return false;
            }
            packet.get(ihl..).unwrap_or_default()
        }
        _ => packet,
    };
    let reply_type = if v6 { 129 } else { 0 };
    let field =
        |at: usize| icmp.get(at..at + 2).map(|b| u16::from_be_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]));
    // A ping socket rewrites the identifier to its own port: match on sequence only.
    icmp.first() == Some(&reply_type) && field(6) == Some(seq) && (mode == IcmpMode::Datagram || field(4) == Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_checksum_verifies() {
        let p = request(false, 0x1234, 7);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!(p[0], 8);
        assert!(!is_reply(&[0, 0, 0, 0, 0x12, 0x34, 0, 7], false, IcmpMode::Raw, 0x1234, 7), "raw replies carry an IP header");
        let mut raw = vec![0x45u8];
        raw.extend([0u8; 19]);
        raw.extend([0, 0, 0, 0, 0x12, 0x34, 0, 7]);
        assert!(is_reply(&raw, false, IcmpMode::Raw, 0x1234, 7));
        assert!(is_reply(&[0, 0, 0, 0, 0x99, 0x99, 0, 7], false, IcmpMode::Datagram, 0x1234, 7));
        assert!(!is_reply(&[8, 0, 0, 0, 0x12, 0x34, 0, 7], false, IcmpMode::Datagram, 0x1234, 7), "our own request is no reply");
    }
}

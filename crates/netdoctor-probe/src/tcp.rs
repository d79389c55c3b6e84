//! TCP connect probes.

use crate::Outcome;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Tries one connection; a successful one is closed at once.
pub(crate) fn connect(addr: SocketAddr, timeout: Duration) -> Outcome {
    let start = Instant::now();
    match TcpStream::connect_timeout(&addr, timeout) {
        Ok(stream) => {
            let after = start.elapsed();
            drop(stream);
            Outcome::Connected { after }
        }
        Err(e) => match e.kind() {
            ErrorKind::ConnectionRefused => Outcome::Refused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => Outcome::Unreachable(e.to_string()),
            _ => Outcome::Failed(e.to_string()),
        },
    }
}

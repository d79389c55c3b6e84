//! Entering a container's network namespace. Only std threads made for the purpose
//! ever enter one (never an async runtime's worker, which would carry the namespace
//! into unrelated tasks), and they exit when done, so nothing leaks back.

use crate::{Error, Result};
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};

/// A network namespace, by the process that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetnsRef {
    pub pid: u32,
}

impl NetnsRef {
    /// The namespace of process `pid` (a container's init process).
    pub fn of_pid(pid: u32) -> NetnsRef {
        NetnsRef { pid }
    }

    /// `/proc/<pid>/ns/net`.
    pub fn path(&self) -> String {
        format!("/proc/{}/ns/net", self.pid)
    }

    /// Opens the namespace handle.
    pub fn open(&self) -> Result<File> {
        File::open(self.path()).map_err(|source| Error::OpenNetns { path: self.path(), source })
    }
}

/// Moves the calling thread into the network namespace `ns` refers to.
pub(crate) fn enter(ns: &File, path: &str) -> Result<()> {
    if setns_net(ns.as_raw_fd()) == 0 {
        Ok(())
    } else {
        Err(Error::EnterNetns { path: path.to_string(), source: std::io::Error::last_os_error() })
    }
}

#[allow(unsafe_code)]
fn setns_net(fd: RawFd) -> libc::c_int {
    // SAFETY: `fd` is borrowed from a `File` that outlives the call; setns(2) reads no
    // memory of ours and changes only the calling thread's network namespace.
    unsafe { libc::setns(fd, libc::CLONE_NEWNET) }
}

//! Which privileges this process has, read from `/proc/self/status` (`CapEff`), and
//! giving them up: capabilities are per thread on Linux, so a probe thread, once it
//! has entered its namespace, drops every capability but the one its probe needs
//! (`drop_thread_caps`) before it sends a packet or parses an answer. The rest of the
//! process keeps its own.

use std::fmt;

/// Capability bit numbers, from `linux/capability.h`.
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;
const CAP_SYS_PTRACE: u32 = 19;
const CAP_SYS_ADMIN: u32 = 21;

/// The effective capabilities probing cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Raw ICMP sockets (the fallback when datagram ICMP is not allowed).
    pub net_raw: bool,
    /// Not needed by the probes; reported for firewall reads.
    pub net_admin: bool,
    /// `setns` into another network namespace.
    pub sys_admin: bool,
    /// Opening another user's `/proc/<pid>/ns/net` and `/proc/<pid>/root`.
    pub sys_ptrace: bool,
}

impl Capabilities {
    /// The capabilities of this process; none when they cannot be read.
    pub fn current() -> Capabilities {
        std::fs::read_to_string("/proc/self/status").ok().and_then(|s| Self::parse_status(&s)).unwrap_or_default()
    }

    /// Reads the `CapEff:` line of a `/proc/<pid>/status` text.
    pub fn parse_status(status: &str) -> Option<Capabilities> {
        let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?.trim();
        let bits = u64::from_str_radix(hex, 16).ok()?;
        let has = |cap: u32| bits & (1u64 << cap) != 0;
        Some(Capabilities {
            net_raw: has(CAP_NET_RAW),
            net_admin: has(CAP_NET_ADMIN),
            sys_admin: has(CAP_SYS_ADMIN),
            sys_ptrace: has(CAP_SYS_PTRACE),
        })
    }

    /// Whether containers' namespaces can be entered.
    pub fn can_enter_netns(&self) -> bool {
        self.sys_admin && self.sys_ptrace
    }

    /// The message to print once, up front, when probing cannot run; `None` when it can.
    pub fn missing_for_probes(&self) -> Option<String> {
        let mut missing = Vec::new();
        if !self.sys_admin {
            missing.push("CAP_SYS_ADMIN (to enter a container's network namespace)");
        }
        if !self.sys_ptrace {
            missing.push("CAP_SYS_PTRACE (to open another process's /proc/<pid>/ns/net)");
        }
        (!missing.is_empty()).then(|| {
            format!(
                "probing needs {}; run with sudo (or `sudo setcap cap_sys_admin,cap_sys_ptrace,cap_net_raw+ep $(which netdoctor)`), or drop --probe: the static checks still run",
                missing.join(" and ")
            )
        })
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |b: bool| if b { "yes" } else { "no" };
        write!(
            f,
            "CAP_SYS_ADMIN {}, CAP_SYS_PTRACE {}, CAP_NET_RAW {}, CAP_NET_ADMIN {}",
            flag(self.sys_admin),
            flag(self.sys_ptrace),
            flag(self.net_raw),
            flag(self.net_admin)
        )
    }
}

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAP_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Drops every capability of the calling thread (effective, permitted and
/// inheritable: for good, for this thread), keeping CAP_NET_RAW when `keep_net_raw`
/// and the thread has it. Other threads are not touched.
pub fn drop_thread_caps(keep_net_raw: bool) -> std::io::Result<()> {
    let had_raw = thread_status("CapPrm").is_some_and(|bits| bits & (1 << CAP_NET_RAW) != 0);
    let raw = if keep_net_raw && had_raw { 1u32 << CAP_NET_RAW } else { 0 };
    let mut data = [CapData { effective: raw, permitted: raw, inheritable: 0 }, CapData::default()];
    let header = CapHeader { version: CAP_VERSION_3, pid: 0 };
    if capset(&header, &mut data) == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A `Cap*:` line of this thread's status, as bits.
pub fn thread_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?.trim();
    u64::from_str_radix(hex, 16).ok()
}

#[allow(unsafe_code)]
fn capset(header: &CapHeader, data: &mut [CapData; 2]) -> libc::c_long {
    // SAFETY: capset(2) reads one header and two data structs (version 3), both
    // `repr(C)` values borrowed for the call; pid 0 changes the calling thread only.
    unsafe { libc::syscall(libc::SYS_capset, header as *const CapHeader, data.as_mut_ptr()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_drops_its_own_capabilities_only() {
        let before = thread_status("CapEff").unwrap();
        let after = std::thread::spawn(|| {
            drop_thread_caps(true).unwrap();
            (thread_status("CapEff").unwrap(), thread_status("CapPrm").unwrap(), std::fs::File::open("/proc/self/ns/net").ok())
        })
        .join()
        .unwrap();
        assert_eq!(after.0 & !(1 << CAP_NET_RAW), 0, "only NET_RAW may stay: {:x}", after.0);
        assert_eq!(after.1 & !(1 << CAP_NET_RAW), 0);
        assert_eq!(after.0 & (1 << CAP_NET_RAW), before & (1 << CAP_NET_RAW), "NET_RAW stays when it was there");
        assert_eq!(thread_status("CapEff").unwrap(), before, "the other threads keep theirs");
        let (none, entered) = std::thread::spawn(|| {
            let ns = std::fs::File::open("/proc/self/ns/net").unwrap();
            drop_thread_caps(false).unwrap();
            (thread_status("CapEff").unwrap(), crate::netns::enter(&ns, "/proc/self/ns/net"))
        })
        .join()
        .unwrap();
        assert_eq!(none, 0);
        // Even with root's capabilities before, the thread can no longer switch namespaces.
        assert!(
            matches!(entered, Err(crate::Error::EnterNetns { ref source, .. }) if source.raw_os_error() == Some(libc::EPERM)),
            "{entered:?}"
        );
    }

    #[test]
    fn reads_cap_eff() {
        let root = Capabilities::parse_status("Name:\tx\nCapEff:\t000001ffffffffff\n").unwrap();
        assert!(root.sys_admin && root.net_raw && root.net_admin && root.sys_ptrace);
        assert_eq!(root.missing_for_probes(), None);
        let user = Capabilities::parse_status("CapEff:\t0000000000000000\n").unwrap();
        assert!(!user.can_enter_netns());
        let msg = user.missing_for_probes().unwrap();
        assert!(msg.contains("CAP_SYS_ADMIN") && msg.contains("drop --probe"), "{msg}");
        let raw_only = Capabilities::parse_status("CapEff:\t0000000000002000\n").unwrap();
        assert!(raw_only.net_raw && !raw_only.sys_admin);
        assert_eq!(Capabilities::parse_status("nothing"), None);
    }
}

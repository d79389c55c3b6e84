//! Which privileges this process has, read from `/proc/self/status` (`CapEff`).

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

#[cfg(test)]
mod tests {
    use super::*;

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

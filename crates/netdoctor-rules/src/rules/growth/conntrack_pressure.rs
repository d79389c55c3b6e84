//! ND604: the connection tracking table close to full.

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// With host facts: the connection tracking table's entries (`net.netfilter.nf_conntrack_count`)
    /// at or above a share of its size (`net.netfilter.nf_conntrack_max`), 80% unless
    /// `conntrack_usage_threshold` in `netdoctor.toml` says otherwise.
    ///
    /// ## Why it matters
    /// Every NATed or filtered container and pod connection takes an entry. When the table is
    /// full the kernel drops the first packet of every new connection ("nf_conntrack: table full,
    /// dropping packet"): connections fail at random, for every workload on the host at once,
    /// while everything looks configured right. Busy nodes with many short connections (DNS over
    /// UDP, health checks, scrapers) reach it first.
    ///
    /// ## Example
    /// ```text
    /// net.netfilter.nf_conntrack_max = 65536
    /// net.netfilter.nf_conntrack_count = 63012
    /// ```
    ///
    /// ## Fix
    /// Raise the table (`sysctl -w net.netfilter.nf_conntrack_max=…`, and persist it in
    /// `/etc/sysctl.d/`; kube-proxy sets it from `conntrack.maxPerCore`), shorten timeouts of
    /// finished connections (`nf_conntrack_tcp_timeout_time_wait`), or find what opens so many
    /// (`conntrack -L` grouped by source).
    ///
    /// ## Known limits
    /// The count is a moment's reading; a table that fills in bursts may read low. The count is
    /// per network namespace and the size is the host's: read it in the host's namespace.
    pub struct ConntrackPressure => Warning, "ND604";
}

impl Check for ConntrackPressure {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let (Some(count), Some(max)) = (&host.facts.sysctls.conntrack_count, &host.facts.sysctls.conntrack_max) else { return };
        if max.value == 0 || (count.value as f64) < cx.config.conntrack_usage_threshold * max.value as f64 {
            return;
        }
        let percent = count.value.saturating_mul(100) / max.value;
        let full = count.value >= max.value;
        let message = if full {
            format!("the connection tracking table is full ({} of {} entries): new connections are being dropped", count.value, max.value)
        } else {
            format!(
                "the connection tracking table holds {} of {} entries ({percent}%): when it fills, new connections are dropped",
                count.value, max.value
            )
        };
        let d = out.report(&count.origin, message);
        d.related(&max.origin, "the table's size").help(format!(
            "raise net.netfilter.nf_conntrack_max (for example `sysctl -w net.netfilter.nf_conntrack_max={}`, persisted in /etc/sysctl.d/), or find what opens so many connections (`conntrack -L`)",
            max.value.saturating_mul(2)
        ));
        if full {
            d.severity(Severity::Error);
        }
    }
}

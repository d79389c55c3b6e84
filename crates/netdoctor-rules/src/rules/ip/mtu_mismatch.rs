//! ND206: MTUs that do not fit the path a packet takes.

use crate::prelude::*;

/// The MTU the engine gives a network without an explicit one.
const DEFAULT_MTU: u32 = 1500;
/// VXLAN adds 50 bytes of headers, so an overlay over a 1500-byte underlay carries 1450.
const VXLAN_OVERHEAD: u32 = 50;

declare_rule! {
    /// ## What it checks
    /// An overlay network whose MTU exceeds the usual underlay MTU minus the VXLAN overhead
    /// (1500 − 50 = 1450), or a service attached to networks with different MTUs.
    ///
    /// ## Why it matters
    /// Packets larger than the path allows are dropped when "don't fragment" is set: small
    /// requests work while TLS handshakes, large responses and database results hang.
    ///
    /// ## Example
    /// ```yaml
    /// networks:
    ///   mesh: { driver: overlay, driver_opts: { com.docker.network.driver.mtu: "1500" } }
    /// ```
    ///
    /// ## Fix
    /// Set `com.docker.network.driver.mtu` to the smallest MTU on the path (1450 for VXLAN over 1500).
    pub struct MtuMismatch => Warning;
}

impl Check for MtuMismatch {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        for n in &cx.model.networks {
            let Some(mtu) = &n.mtu else { continue };
            if n.effective_driver() == "overlay" && mtu.value > DEFAULT_MTU - VXLAN_OVERHEAD {
                out.report(
                    &mtu.origin,
                    format!(
                        "overlay network `{}` has MTU {}, more than a 1500-byte underlay carries after VXLAN's {VXLAN_OVERHEAD} bytes",
                        n.key, mtu.value
                    ),
                )
                .subjects([n.key.as_str()])
                .help(format!(
                    "set com.docker.network.driver.mtu to {} or less on `{}`",
                    DEFAULT_MTU - VXLAN_OVERHEAD,
                    n.key
                ));
            }
        }
        for w in &cx.model.workloads {
            let project = w.project.as_deref().unwrap_or_default();
            let nets: Vec<&Network> = w.attachments.iter().filter_map(|a| cx.model.network(project, &a.network)).collect();
            let mtu = |n: &Network| n.mtu.as_ref().map_or(DEFAULT_MTU, |m| m.value);
            let Some(smallest) = nets.iter().copied().min_by_key(|n| mtu(n)) else { continue };
            let Some(largest) = nets.iter().copied().max_by_key(|n| mtu(n)) else { continue };
            if mtu(smallest) == mtu(largest) {
                continue;
            }
            let origin = w.attachment(&largest.key).map_or(&w.origin, |a| &a.origin);
            out.report(
                origin,
                format!(
                    "`{}` joins `{}` (MTU {}) and `{}` (MTU {}): traffic between them is cut to the smaller MTU",
                    w.name,
                    largest.key,
                    mtu(largest),
                    smallest.key,
                    mtu(smallest)
                ),
            )
            .subjects([w.name.as_str(), largest.key.as_str(), smallest.key.as_str()])
            .help(format!("give `{}` and `{}` the same com.docker.network.driver.mtu", largest.key, smallest.key));
        }
    }
}

//! ND206: MTUs that do not fit the path a packet takes.

use crate::prelude::*;
use netdoctor_engine::host::{encapsulation, is_pod_network_device, HostView};

/// The MTU the engine gives a network without an explicit one.
const DEFAULT_MTU: u32 = 1500;
/// VXLAN adds 50 bytes of headers, so an overlay over a 1500-byte underlay carries 1450.
const VXLAN_OVERHEAD: u32 = 50;

declare_rule! {
    /// ## What it checks
    /// An overlay network whose MTU exceeds the underlay MTU minus the VXLAN overhead
    /// (1500 − 50 = 1450; with host facts, the MTU of the host's default-route device minus
    /// 50, where an overlay without an explicit MTU counts as the driver's 1450), or a service
    /// attached to networks with different MTUs. With host
    /// facts, also a bridge network whose MTU (explicit, or 1500) is larger than the MTU of the
    /// host's default-route device (a 1450 cloud uplink, a 1420 WireGuard tunnel). On any host
    /// (a Kubernetes node): a tunnel device (VXLAN, Geneve, IPIP, GRE, WireGuard: `flannel.1`,
    /// `vxlan.calico`, `tunl0`, `cilium_vxlan`, `wg0`) whose MTU plus its encapsulation does
    /// not fit the default-route device, and a pod network bridge (`cni0`, `cbr0`) whose MTU is
    /// larger than the pod network's tunnel carries.
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
    /// Set `com.docker.network.driver.mtu` to the smallest MTU on the path (1450 for VXLAN over 1500),
    /// or daemon.json's `"mtu"` for the default bridge.
    ///
    /// ## Known limits
    /// The host's egress is the IPv4 default route's device; policy routing and per-route
    /// `mtu` attributes are not read, and the default bridge (docker0), which no project
    /// declares, is not checked against the egress device.
    pub struct MtuMismatch => Warning, "ND206";
}

impl Check for MtuMismatch {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        // The underlay overlays ride on: the host's default-route device when host facts
        // were read, else the usual 1500.
        let underlay = cx.analysis.host.as_ref().and_then(|h| {
            let uplink = h.uplink.as_ref()?;
            Some((uplink.iface.clone(), h.facts.interface(&uplink.iface)?.mtu?))
        });
        let underlay_mtu = underlay.as_ref().map_or(DEFAULT_MTU, |(_, m)| *m);
        for n in cx.model.networks.iter().filter(|n| n.effective_driver() == "overlay") {
            // Docker's overlay driver leaves room for VXLAN on a 1500-byte underlay by default.
            let (mtu, origin) = match &n.mtu {
                Some(m) => (m.value, &m.origin),
                None => (DEFAULT_MTU - VXLAN_OVERHEAD, &n.origin),
            };
            let fits = underlay_mtu.saturating_sub(VXLAN_OVERHEAD);
            if mtu <= fits {
                continue;
            }
            let what = if n.mtu.is_some() { format!("MTU {mtu}") } else { format!("the overlay driver's default MTU {mtu}") };
            let path = match &underlay {
                Some((iface, m)) => format!("the host's default route leaves through `{iface}` with MTU {m}, which carries {fits} after VXLAN's {VXLAN_OVERHEAD} bytes"),
                None => format!("more than a 1500-byte underlay carries after VXLAN's {VXLAN_OVERHEAD} bytes"),
            };
            let message = if underlay.is_some() {
                format!("overlay network `{}` has {what}, but {path}", n.key)
            } else {
                format!("overlay network `{}` has {what}, {path}", n.key)
            };
            out.report(origin, message)
                .subjects([n.key.as_str()])
                .help(format!("set com.docker.network.driver.mtu to {fits} or less on `{}`", n.key));
        }
        for w in &cx.model.workloads {
            let project = w.project.as_deref().unwrap_or_default();
            let nets: Vec<&Network> = w.attachments.iter().filter_map(|a| cx.model.network(project, &a.network)).collect();
            let mtu = effective_mtu;
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
        if let Some(host) = &cx.analysis.host {
            egress_mtu(cx, host, out);
            tunnel_mtu(host, out);
        }
    }
}

/// A network's MTU: explicit, else the driver's default (overlays leave room for VXLAN).
fn effective_mtu(n: &Network) -> u32 {
    match &n.mtu {
        Some(m) => m.value,
        None if n.effective_driver() == "overlay" => DEFAULT_MTU - VXLAN_OVERHEAD,
        None => DEFAULT_MTU,
    }
}

/// Bridge networks whose MTU is larger than the host's default-route device carries.
fn egress_mtu(cx: &RuleContext<'_>, host: &HostView<'_>, out: &mut Diagnostics) {
    let Some(uplink) = &host.uplink else { return };
    let Some(uplink_mtu) = host.facts.interface(&uplink.iface).and_then(|i| i.mtu) else { return };
    let topology = &cx.analysis.topology;
    for bridge in host.bridges.iter().filter(|b| !b.internal) {
        let Some(info) = topology.info(bridge.net) else { continue };
        // The predefined `bridge` is declared by no project: nothing to point at.
        let Some(network) = info.declared.first().and_then(|&d| cx.model.networks.get(d)) else { continue };
        let (mtu, origin) = match &network.mtu {
            Some(m) => (m.value, &m.origin),
            None => (DEFAULT_MTU, &network.origin),
        };
        if mtu <= uplink_mtu {
            continue;
        }
        out.report(
            origin,
            format!(
                "network `{}` has MTU {mtu}, but the host's default route leaves through `{}` with MTU {uplink_mtu}: larger packets leaving the host are dropped or fragmented",
                info.name, uplink.iface
            ),
        )
        .subjects([info.name.as_str()])
        .related(&host.facts.interface(&uplink.iface).map_or_else(|| network.origin.clone(), |i| i.origin.clone()), "the egress device's MTU")
        .help(format!(
            "set com.docker.network.driver.mtu to {uplink_mtu} or less on `{}`; daemon.json's \"mtu\" covers only the default bridge, `\"default-network-opts\": {{\"bridge\": {{\"com.docker.network.driver.mtu\": \"{uplink_mtu}\"}}}}` covers new networks",
            info.name
        ));
    }
}

/// Tunnel devices whose packets do not fit the uplink once encapsulated, and pod bridges
/// whose packets do not fit the pod network's tunnel.
fn tunnel_mtu(host: &HostView<'_>, out: &mut Diagnostics) {
    let Some(uplink) = &host.uplink else { return };
    let Some(uplink_mtu) = host.facts.interface(&uplink.iface).and_then(|i| i.mtu) else { return };
    let uplink_origin = host.facts.interface(&uplink.iface).map(|i| i.origin.clone());
    let tunnels = host.facts.interfaces.iter().filter(|i| i.up && i.name != uplink.iface).filter_map(|i| {
        let (overhead, name) = encapsulation(i.kind.as_deref()?)?;
        Some((i, i.mtu?, overhead, name))
    });
    let mut pod_tunnel: Option<(&str, u32)> = None;
    for (iface, mtu, overhead, kind) in tunnels {
        if is_pod_network_device(&iface.name) && pod_tunnel.is_none_or(|(_, m)| mtu < m) {
            pod_tunnel = Some((iface.name.as_str(), mtu));
        }
        let fits = uplink_mtu.saturating_sub(overhead);
        if mtu <= fits {
            continue;
        }
        let d = out.report(
            &iface.origin,
            format!(
                "tunnel `{}` ({kind}) has MTU {mtu}, but the host's default route leaves through `{}` with MTU {uplink_mtu}, which carries {fits} after {kind}'s {overhead} bytes: larger packets are dropped or fragmented",
                iface.name, uplink.iface
            ),
        );
        d.subjects([iface.name.as_str()]).help(format!(
            "set the tunnel's MTU to {fits} or less (for a pod network, the CNI plugin's MTU setting), or raise `{}`'s MTU",
            uplink.iface
        ));
        if let Some(origin) = &uplink_origin {
            d.related(origin, "the egress device's MTU");
        }
    }
    let Some((tunnel, tunnel_mtu)) = pod_tunnel else { return };
    let pod_bridges =
        host.facts.interfaces.iter().filter(|i| i.up && i.kind.as_deref() == Some("bridge") && is_pod_network_device(&i.name));
    for bridge in pod_bridges {
        let Some(mtu) = bridge.mtu.filter(|m| *m > tunnel_mtu) else { continue };
        out.report(
            &bridge.origin,
            format!(
                "pod bridge `{}` has MTU {mtu}, but the pod network's tunnel `{tunnel}` carries {tunnel_mtu}: large packets between pods on different nodes are dropped or fragmented",
                bridge.name
            ),
        )
        .subjects([bridge.name.as_str(), tunnel])
        .help(format!("set the pod network's MTU to {tunnel_mtu} or less (the CNI config's `mtu`), then restart the pods so their interfaces pick it up"));
    }
}

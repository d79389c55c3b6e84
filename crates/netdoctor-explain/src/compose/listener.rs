//! After the layers: whether B declares the port (only probing shows a listener).

use super::*;

impl Walk<'_, '_> {
    /// Whether B declares the port; whether anything listens is only known by probing.
    pub(super) fn listener(&self, path: &Path, port: Option<PortSpec>) -> Listener {
        let mut l = Listener { status: Status::Skip, evidence: Vec::new(), fix: None };
        let Some(port) = port else {
            l.evidence.push("no port asked about".into());
            return l;
        };
        if *path == Path::None {
            l.evidence.push("not reachable: nothing to listen for".into());
            return l;
        }
        let Some((protocol, number)) = port.port() else {
            l.evidence.push(icmp_listener_note(port));
            return l;
        };
        l.status = Status::Unknown;
        let wb = self.wb;
        let declared = wb.expose.iter().any(|e| e.value.contains(number))
            || wb.ports.iter().any(|p| p.target.contains(number) && p.protocol == protocol);
        if declared {
            l.evidence.push(format!("`{}` declares {port} (exposed or published)", wb.name));
        } else {
            l.evidence.push(format!("`{}` declares no {port}: check the port its server listens on", wb.name));
        }
        l.evidence.push(crate::PROBE_TO_KNOW_LISTENER.into());
        l
    }
}

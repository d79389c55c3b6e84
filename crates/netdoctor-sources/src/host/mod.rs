//! The host containers run on: its firewall, addresses, routes, links, sysctls and
//! Docker daemon settings. Every input is first captured as text (`Capture`: from a
//! directory of files, a snapshot bundle, or live commands in the current network
//! namespace), then each text is parsed by its own reader and lowered into
//! `netdoctor_model::host::HostFacts`. Positions are kept: a rule's origin is its line
//! in the `iptables-save` output it came from.
//!
//! The files layout (a directory for `--host-facts`, or the `files` of a bundle); every
//! file is optional:
//!
//! | file | content |
//! |---|---|
//! | `iptables-save.txt`, `ip6tables-save.txt` | `iptables-save` output (backend from its header) |
//! | `iptables-legacy-save.txt`, `iptables-nft-save.txt` (and `ip6…`) | one backend's dump each |
//! | `nft-tables.txt` | `nft list tables` |
//! | `nft.json` | `nft -j list ruleset`: native nftables rules, traced like iptables' |
//! | `ip-link.json` | `ip -j -d link show` |
//! | `ip-addr.json` | `ip -j addr show` |
//! | `ip-route.json`, `ip6-route.json` | `ip -j route show table all`, `ip -j -6 route show table all` |
//! | `ip-rule.json`, `ip6-rule.json` | `ip -j rule show`, `ip -j -6 rule show` (policy routing) |
//! | `sysctl.txt` | `key = value` lines as `sysctl -a` prints them |
//! | `daemon.json` | `/etc/docker/daemon.json` |
//! | `ufw.conf` | `/etc/ufw/ufw.conf` |
//! | `cni/*.conf`, `cni/*.conflist`, `cni/*.json` | the CNI configurations of `/etc/cni/net.d` |
//!
//! Several nodes: a directory holding only `nodes/<node-name>/`, each node's directory in
//! the layout above (see `nodes`), or `--host-facts` given once per node.

pub mod bundle;
pub mod capture;
pub mod cni;
pub mod daemon;
pub mod iproute;
pub mod iptables;
pub mod live;
pub mod lower;
pub mod nft;
pub mod nftjson;
pub mod nodes;
pub mod sysctl;

pub use bundle::{read_bundle, write_bundle, Bundle};
pub use capture::{Capture, CapturedText, InputSource};
pub use live::{read_live, LiveOptions};
pub use lower::lower;
pub use nodes::{is_multi_node, load_nodes};

use crate::error::LoadError;
use netdoctor_model::host::HostFacts;
use std::path::Path;

/// Reads host facts from a directory of captured files or a snapshot bundle file. A
/// directory of several nodes (`nodes/`) gives the first node by name, with every node's
/// CNI configurations in `cluster_cni`; `load_nodes` gives them all.
pub fn load_path(path: &Path) -> (HostFacts, Vec<LoadError>) {
    if is_multi_node(path) {
        let (nodes, errors) = load_nodes(&[path.to_path_buf()]);
        return (nodes.into_iter().next().unwrap_or_default(), errors);
    }
    let capture = if path.is_dir() { capture::from_dir(path) } else { read_bundle(path) };
    match capture {
        Ok(capture) => lower(&capture),
        Err(e) => (HostFacts::default(), vec![e]),
    }
}

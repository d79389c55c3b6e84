//! ND507: CNI configurations a runtime ignores or cannot load.

use crate::prelude::*;
use netdoctor_model::host::CniConfig;

declare_rule! {
    /// ## What it checks
    /// The node's CNI configuration directory (`/etc/cni/net.d`, read with `--host`, or `cni/`
    /// in `--host-facts`): several network configurations, of which the runtime (containerd,
    /// CRI-O) uses only the first by file name, and files it cannot load: invalid JSON, a plugin
    /// without `type`, a `.conflist` without `plugins` (or a plugin list in a `.conf` file), an
    /// unknown `cniVersion`.
    ///
    /// ## Why it matters
    /// After switching CNI plugins, the old plugin's file often stays; if its name sorts first,
    /// new pods keep getting the old network while the new plugin looks healthy. A file
    /// containerd cannot load, sorted before the good one, stops pod networking on the node
    /// ("failed to load CNI config"): pods stay in ContainerCreating.
    ///
    /// ## Example
    /// ```text
    /// /etc/cni/net.d/10-calico.conflist    # left from the old plugin: used (first by name)
    /// /etc/cni/net.d/10-flannel.conflist   # the new plugin: ignored
    /// ```
    ///
    /// ## Fix
    /// Keep one network configuration in the directory: remove (or move away) the other files,
    /// then restart the runtime and recreate the pods that got the wrong network. Fix or remove
    /// files that do not load.
    ///
    /// ## Known limits
    /// Runtimes differ on a broken file: containerd stops at it, CRI-O skips it; the finding
    /// says which applies. Files in other directories (`--cni-conf-dir`) are not read.
    pub struct CniConfigShadowed => Warning, "ND507";
}

fn describe(c: &CniConfig) -> String {
    if c.plugins.is_empty() {
        format!("`{}`", c.file)
    } else {
        format!("`{}` ({})", c.file, c.plugins.join(", "))
    }
}

impl Check for CniConfigShadowed {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let Some(host) = &cx.analysis.host else { return };
        let configs = &host.facts.cni_configs;
        let used = configs.iter().position(|c| c.problem.is_none());
        let in_use = used.and_then(|u| configs.get(u));
        for (i, config) in configs.iter().enumerate() {
            match (&config.problem, used.zip(in_use)) {
                (Some(problem), Some((u, first))) if i > u => {
                    out.report(&config.origin, format!("CNI configuration `{}` cannot be loaded: {problem}", config.file))
                        .help(format!("fix or remove it; the runtime uses {} and ignores it", describe(first)));
                }
                (Some(problem), first) => {
                    let after = first.map_or_else(
                        || "and no other configuration loads: pods on this node get no network".to_string(),
                        |(_, first)| {
                            format!("before {}: containerd stops at it and sets up no pod network (CRI-O skips it)", describe(first))
                        },
                    );
                    out.report(&config.origin, format!("CNI configuration `{}` cannot be loaded: {problem}, {after}", config.file))
                        .severity(Severity::Error)
                        .help("fix the file, or remove it from the CNI configuration directory, then restart the container runtime");
                }
                (None, Some((u, first))) if i != u => {
                    out.report(
                        &config.origin,
                        format!("CNI configuration {} is ignored: the runtime uses {}, the first by file name", describe(config), describe(first)),
                    )
                    .related(&first.origin, "the configuration in use")
                    .help(format!(
                        "keep one configuration: remove the one you do not want ({} or {}), restart the runtime, and recreate pods that got the wrong network",
                        first.file, config.file
                    ));
                }
                _ => {}
            }
        }
    }
}

//! ND301: a name a workload uses that nothing answers where it is used.

use crate::prelude::*;
use netdoctor_engine::Resolution;

declare_rule! {
    /// ## What it checks
    /// A host name a workload uses (in a URL or `host:port` in its environment, command or
    /// healthcheck, or a host-valued variable such as `REDIS_HOST`) that no service, container
    /// name or alias answers on the networks the workload is on: a typo, a `hostname:` value
    /// (which Docker's DNS does not serve), or a name used from the host network. Settings
    /// are not names, whatever the variable is called: booleans and nulls (`true`, `no`,
    /// `off`, `none`), numbers, durations (`30s`), sizes (`512Mi`) and paths are never
    /// reported. The finding points at the host inside the value (in every format): the
    /// excerpt shows the host and masks the value's credentials and its other parts.
    ///
    /// ## Why it matters
    /// The lookup fails ("Name or service not known", `getaddrinfo ENOTFOUND`), and the error
    /// looks like a network outage although the fix is one word.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web: { image: web, environment: { CACHE_URL: "redis://reddis:6379" } }
    ///   redis: { image: redis }
    /// ```
    ///
    /// ## Fix
    /// Use a name that a service on a shared network answers to: its service name, `container_name` or a network alias.
    pub struct NameUnresolvable => Error, "ND301";
}

impl Check for NameUnresolvable {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        let name_of = |t: usize| cx.model.workloads.get(t).map_or("?", |w| w.name.as_str());
        for (i, w) in cx.model.workloads.iter().enumerate() {
            for r in w.references.iter().filter(|r| r.via.is_lookup()) {
                let (why, help) = match cx.analysis.resolve(i, &r.host) {
                    Resolution::Unknown { suggestion: Some(s) } => {
                        // The corrected name must also resolve from here: say so when it
                        // is on no network the workload is on.
                        let also = match cx.analysis.resolve(i, &s) {
                            Resolution::NotShared { targets } => {
                                let target = targets.first().map_or("?", |&t| name_of(t));
                                format!(" `{target}` is on no network `{}` is on: connect them too, or the name still does not resolve", w.name)
                            }
                            _ => String::new(),
                        };
                        (format!("no service, container or alias is called `{}`", r.host), format!("did you mean `{s}`?{also}"))
                    }
                    Resolution::Unknown { suggestion: None } => (
                        format!("no service, container or alias is called `{}`", r.host),
                        "use the service name of the peer, or add the name as a network alias of it".to_string(),
                    ),
                    Resolution::HostnameOnly(t) => (
                        format!(
                            "`{}` is only the `hostname:` of `{}`, which Docker's DNS does not serve to other containers",
                            r.host,
                            name_of(t)
                        ),
                        format!("use the service name `{}`, or add `{}` as a network alias of it", name_of(t), r.host),
                    ),
                    Resolution::NoContainerDns { targets } => {
                        let target = targets.first().map_or("?", |&t| name_of(t));
                        (
                            format!(
                                "`{}` uses the {} network stack, where container names do not resolve",
                                w.name,
                                if w.is_host_network() { "host's" } else { "`none`" }
                            ),
                            format!("remove `network_mode` from `{}`, or reach `{target}` through a port it publishes on the host", w.name),
                        )
                    }
                    _ => continue,
                };
                out.report(&r.origin, format!("`{}` cannot resolve `{}` ({}): {why}", w.name, r.host, r.via.describe()))
                    .focus(r.host.as_str())
                    .subjects([w.name.as_str()])
                    .help(help);
            }
        }
    }
}

//! Lowering a merged Compose document into the model: every networking field of the
//! Compose spec, typed, with the leniencies real files use (`"true"`, `"8080"`), and a
//! located error for each value of the wrong shape.

use super::load::ComposeDocument;
use super::refs::{self, HostRef};
use crate::error::LoadError;
use crate::tree::{Entry, Node, Value};
use netdoctor_model::{
    Attachment, ExtraHost, Ipam, IpamConfig, Link, Located, Model, Network, NetworkMode, Origin, PortBinding, PortRange, Project, Protocol,
    Reference, ReferenceVia, Span, Workload, WorkloadKind,
};
use std::net::IpAddr;

/// The Compose driver option that sets a bridge's MTU.
const MTU_OPTION: &str = "com.docker.network.driver.mtu";

/// Lowers a loaded project into the model; each value of the wrong shape is an error.
pub fn lower(doc: &ComposeDocument) -> Result<Model, Vec<LoadError>> {
    let mut cx = Lowerer { project: doc.project_name.clone(), errors: Vec::new(), sensitive: Vec::new() };
    let model = cx.project(doc);
    if cx.errors.is_empty() {
        Ok(model)
    } else {
        for e in &mut cx.errors {
            e.locate_in([&doc.root]);
        }
        Err(cx.errors)
    }
}

struct Lowerer {
    project: String,
    errors: Vec<LoadError>,
    sensitive: Vec<Span>,
}

impl Lowerer {
    fn error(&mut self, node: &Node, message: impl Into<String>) {
        self.errors.push(LoadError::at(&node.span, message));
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.error(node, format!("`{what}` must be {expected}, found {}", node.kind_name()));
    }

    fn project(&mut self, doc: &ComposeDocument) -> Model {
        let root = &doc.root;
        let origin = Origin::File(root.span.clone());
        let mut model = Model {
            projects: vec![Project { name: self.project.clone(), files: doc.files.clone(), working_dir: doc.working_dir.clone(), origin }],
            ..Model::default()
        };
        if root.as_map().is_none() {
            self.wrong_type(root, "the compose file", "a mapping with `services:`");
            return model;
        }
        let declared = root.get("networks").map(|n| self.entries(n, "networks")).unwrap_or_default();
        for entry in &declared {
            model.networks.push(self.network(entry));
        }
        if let Some(services) = root.get("services") {
            for entry in self.entries(services, "services") {
                model.workloads.push(self.service(&entry));
            }
        }
        let joins_default = model.workloads.iter().any(|w| w.attachments.iter().any(|a| a.network == "default"));
        if joins_default && !model.networks.iter().any(|n| n.key == "default") {
            model.networks.push(self.implicit_default(root));
        }
        model.sensitive = std::mem::take(&mut self.sensitive);
        model
    }

    /// The entries of a mapping; `null` is an empty mapping.
    fn entries(&mut self, node: &Node, what: &str) -> Vec<Entry> {
        match &node.value {
            Value::Map(entries) => entries.clone(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_type(node, what, "a mapping");
                Vec::new()
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Scalar(s) => Some(s.text.clone()),
            Value::Null => None,
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    fn located_string(&mut self, node: &Node, what: &str) -> Option<Located<String>> {
        self.string(node, what).map(|s| Located::new(s, node.span.clone()))
    }

    fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.as_scalar().map(str::to_ascii_lowercase).as_deref() {
            Some("true" | "yes" | "on" | "1") => Some(true),
            Some("false" | "no" | "off" | "0") => Some(false),
            _ if node.is_null() => None,
            _ => {
                self.wrong_type(node, what, "true or false");
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, what: &str) -> Option<i64> {
        match node.as_scalar().map(|s| s.trim().parse::<i64>()) {
            Some(Ok(n)) => Some(n),
            _ if node.is_null() => None,
            _ => {
                self.wrong_type(node, what, "a whole number");
                None
            }
        }
    }

    /// A string or a list of strings.
    fn strings(&mut self, node: &Node, what: &str) -> Vec<Located<String>> {
        match &node.value {
            Value::Seq(items) => items.iter().filter_map(|i| self.located_string(i, what)).collect(),
            Value::Null => Vec::new(),
            _ => self.located_string(node, what).into_iter().collect(),
        }
    }

    /// A mapping or a list of `KEY=VALUE`: the pairs with where each key and value is written.
    fn key_values(&mut self, node: &Node, what: &str, separators: &[char]) -> Vec<(Located<String>, Option<Located<String>>)> {
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|e| {
                    let value = match &e.value.value {
                        Value::Seq(_) | Value::Map(_) => {
                            self.wrong_type(&e.value, &format!("{what}.{}", e.key), "a string");
                            None
                        }
                        _ => self.located_string(&e.value, what),
                    };
                    (Located::new(e.key.clone(), e.key_span.clone()), value)
                })
                .collect(),
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| {
                    let text = self.string(item, what)?;
                    Some(match text.split_once(separators) {
                        Some((k, v)) => {
                            let value_span = Span::new(item.span.file.clone(), item.span.line, item.span.column + k.len() as u32 + 1);
                            (Located::new(k.to_string(), item.span.clone()), Some(Located::new(v.to_string(), value_span)))
                        }
                        None => (Located::new(text, item.span.clone()), None),
                    })
                })
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_type(node, what, "a mapping or a list");
                Vec::new()
            }
        }
    }

    fn network(&mut self, entry: &Entry) -> Network {
        let key = entry.key.clone();
        let node = &entry.value;
        let mut network =
            Network::new(key.clone(), format!("{}_{key}", self.project), Some(self.project.clone()), Origin::File(entry.key_span.clone()));
        let fields = self.entries(node, &format!("networks.{key}"));
        let mut explicit_name = None;
        for field in &fields {
            let v = &field.value;
            let what = format!("networks.{key}.{}", field.key);
            match field.key.as_str() {
                "driver" => network.driver = self.string(v, &what),
                "driver_opts" => {
                    for (k, val) in self.key_values(v, &what, &['=']) {
                        if k.value == MTU_OPTION {
                            network.mtu = self.mtu(val.as_ref(), v);
                        }
                        network.driver_opts.insert(k.value, val.map(|l| l.value).unwrap_or_default());
                    }
                }
                "internal" => network.internal = self.bool(v, &what).unwrap_or(false),
                "attachable" => network.attachable = self.bool(v, &what).unwrap_or(false),
                "enable_ipv6" => network.enable_ipv6 = self.bool(v, &what),
                "enable_ipv4" => network.enable_ipv4 = self.bool(v, &what),
                "external" => match &v.value {
                    // The legacy form `external: {name: x}`.
                    Value::Map(_) => {
                        network.external = true;
                        if let Some(n) = v.get("name") {
                            explicit_name = self.string(n, &format!("{what}.name"));
                        }
                    }
                    _ => network.external = self.bool(v, &what).unwrap_or(false),
                },
                "name" => explicit_name = self.string(v, &what),
                "labels" => {
                    network.labels = self
                        .key_values(v, &what, &['='])
                        .into_iter()
                        .map(|(k, v)| (k.value, v.map(|l| l.value).unwrap_or_default()))
                        .collect();
                }
                "ipam" => network.ipam = self.ipam(v, &what),
                _ => {}
            }
        }
        network.name = match explicit_name {
            Some(name) => name,
            None if network.external => key,
            None => network.name,
        };
        network
    }

    fn mtu(&mut self, value: Option<&Located<String>>, node: &Node) -> Option<Located<u32>> {
        let value = value?;
        match value.value.trim().parse::<u32>() {
            Ok(mtu) => Some(Located::new(mtu, value.origin.clone())),
            Err(_) => {
                self.error(node, format!("`{MTU_OPTION}` must be a whole number of bytes, found `{}`", value.value));
                None
            }
        }
    }

    fn ipam(&mut self, node: &Node, what: &str) -> Ipam {
        let mut ipam = Ipam::default();
        for field in self.entries(node, what) {
            let v = &field.value;
            match field.key.as_str() {
                "driver" => ipam.driver = self.string(v, &format!("{what}.driver")),
                "config" => match &v.value {
                    Value::Seq(items) => ipam.configs = items.iter().map(|i| self.ipam_config(i, &format!("{what}.config"))).collect(),
                    Value::Null => {}
                    _ => self.wrong_type(v, &format!("{what}.config"), "a list"),
                },
                _ => {}
            }
        }
        ipam
    }

    fn ipam_config(&mut self, node: &Node, what: &str) -> IpamConfig {
        let mut config =
            IpamConfig { subnet: None, ip_range: None, gateway: None, aux_addresses: Vec::new(), origin: Origin::File(node.span.clone()) };
        for field in self.entries(node, what) {
            let v = &field.value;
            let what = format!("{what}.{}", field.key);
            match field.key.as_str() {
                "subnet" => config.subnet = self.located_string(v, &what),
                "ip_range" => config.ip_range = self.located_string(v, &what),
                "gateway" => config.gateway = self.located_string(v, &what),
                "aux_addresses" => {
                    config.aux_addresses = self.key_values(v, &what, &['=']).into_iter().filter_map(|(k, v)| Some((k.value, v?))).collect();
                }
                _ => {}
            }
        }
        config
    }

    fn implicit_default(&self, root: &Node) -> Network {
        let origin = Origin::File(root.get("services").map_or(root.span.clone(), |s| s.span.clone()));
        Network { implicit: true, ..Network::new("default", format!("{}_default", self.project), Some(self.project.clone()), origin) }
    }

    fn service(&mut self, entry: &Entry) -> Workload {
        let name = entry.key.clone();
        let node = &entry.value;
        let mut w =
            Workload::new(name.clone(), Some(self.project.clone()), WorkloadKind::ComposeService, Origin::File(entry.key_span.clone()));
        let fields = self.entries(node, &format!("services.{name}"));
        for field in &fields {
            let v = &field.value;
            let what = format!("services.{name}.{}", field.key);
            match field.key.as_str() {
                "image" => w.image = self.string(v, &what),
                // An empty name (an unset variable) means "not set", as in Compose.
                "container_name" => w.container_name = self.located_string(v, &what).filter(|n| !n.value.is_empty()),
                "hostname" => w.hostname = self.located_string(v, &what).filter(|n| !n.value.is_empty()),
                "domainname" => w.domainname = self.located_string(v, &what),
                "scale" => w.replicas = self.replicas(v, &what).unwrap_or(w.replicas),
                "deploy" => {
                    if let Some(r) = v.get("replicas") {
                        w.replicas = self.replicas(r, &format!("{what}.replicas")).unwrap_or(w.replicas);
                    }
                }
                "network_mode" => w.network_mode = self.network_mode(v, &what),
                "networks" => {
                    w.declares_networks = true;
                    w.attachments = self.attachments(v, &what);
                }
                "ports" => w.ports = self.ports(v, &what),
                "expose" => w.expose = self.expose(v, &what),
                "dns" => w.dns = self.strings(v, &what),
                "dns_search" => w.dns_search = self.strings(v, &what),
                "dns_opt" => w.dns_opt = self.strings(v, &what),
                "extra_hosts" => w.extra_hosts = self.extra_hosts(v, &what),
                "links" => w.links = self.links(v, &what),
                "external_links" => w.external_links = self.links(v, &what),
                "depends_on" => w.depends_on = self.depends_on(v, &what),
                "environment" => self.environment(v, &what, &mut w.references),
                "command" => self.command(v, &what, ReferenceVia::Command, &mut w.references),
                "entrypoint" => self.command(v, &what, ReferenceVia::Entrypoint, &mut w.references),
                "healthcheck" => {
                    w.has_healthcheck = v.get("disable").and_then(Node::as_scalar).is_none_or(|d| d != "true");
                    if let Some(test) = v.get("test") {
                        self.command(test, &format!("{what}.test"), ReferenceVia::Healthcheck, &mut w.references);
                    }
                }
                _ => {}
            }
        }
        if w.network_mode.is_none() && !w.declares_networks {
            w.attachments.push(Attachment { implicit: true, ..Attachment::new("default", w.origin.clone()) });
        }
        for d in &w.depends_on {
            w.references.push(Reference { host: d.value.clone(), port: None, via: ReferenceVia::DependsOn, origin: d.origin.clone() });
        }
        for l in &w.links {
            let host = l.alias.clone().unwrap_or_else(|| l.target.clone());
            w.references.push(Reference { host, port: None, via: ReferenceVia::Link, origin: l.origin.clone() });
        }
        w
    }

    fn replicas(&mut self, node: &Node, what: &str) -> Option<u32> {
        let n = self.integer(node, what)?;
        match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                self.error(node, format!("`{what}` must be zero or more, found {n}"));
                None
            }
        }
    }

    fn network_mode(&mut self, node: &Node, what: &str) -> Option<Located<NetworkMode>> {
        let text = self.string(node, what)?;
        let mode = match text.as_str() {
            "bridge" | "default" => NetworkMode::Bridge,
            "host" => NetworkMode::Host,
            "none" => NetworkMode::None,
            _ => match text.split_once(':') {
                Some(("service", s)) if !s.is_empty() => NetworkMode::Service(s.to_string()),
                Some(("container", c)) if !c.is_empty() => NetworkMode::Container(c.to_string()),
                None if !text.is_empty() && refs::is_network_name(&text) => NetworkMode::Network(text),
                _ => {
                    self.error(
                        node,
                        format!("unknown network_mode `{text}`: use bridge, host, none, service:NAME, container:NAME or a network name"),
                    );
                    return None;
                }
            },
        };
        Some(Located::new(mode, node.span.clone()))
    }

    fn attachments(&mut self, node: &Node, what: &str) -> Vec<Attachment> {
        match &node.value {
            Value::Seq(items) => {
                items.iter().filter_map(|i| Some(Attachment::new(&self.string(i, what)?, Origin::File(i.span.clone())))).collect()
            }
            Value::Map(entries) => entries.iter().map(|e| self.attachment_fields(e, what)).collect(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_type(node, what, "a list of network names or a mapping");
                Vec::new()
            }
        }
    }

    fn attachment_fields(&mut self, entry: &Entry, what: &str) -> Attachment {
        let mut a = Attachment::new(&entry.key, Origin::File(entry.key_span.clone()));
        let what = format!("{what}.{}", entry.key);
        for field in self.entries(&entry.value, &what) {
            let v = &field.value;
            let what = format!("{what}.{}", field.key);
            match field.key.as_str() {
                "aliases" => a.aliases = self.strings(v, &what),
                "ipv4_address" => a.ipv4_address = self.located_string(v, &what),
                "ipv6_address" => a.ipv6_address = self.located_string(v, &what),
                "link_local_ips" => a.link_local_ips = self.strings(v, &what),
                "mac_address" => a.mac_address = self.located_string(v, &what),
                "priority" => a.priority = self.integer(v, &what),
                "gw_priority" => a.gw_priority = self.integer(v, &what),
                "interface_name" => a.interface_name = self.string(v, &what),
                _ => {}
            }
        }
        a
    }

    fn ports(&mut self, node: &Node, what: &str) -> Vec<PortBinding> {
        let Some(items) = self.list(node, what) else { return Vec::new() };
        let mut ports = Vec::new();
        for item in items {
            let parsed = match &item.value {
                Value::Map(_) => self.long_port(&item, what),
                Value::Scalar(s) => {
                    parse_short_port(&s.text, Origin::File(item.span.clone())).map_err(|e| format!("invalid port `{}`: {e}", s.text))
                }
                _ => Err(format!("`{what}` entries must be a string like \"8080:80\" or a mapping, found {}", item.kind_name())),
            };
            match parsed {
                Ok(p) => ports.extend(p),
                Err(message) => self.error(&item, message),
            }
        }
        ports
    }

    fn long_port(&mut self, item: &Node, what: &str) -> Result<Vec<PortBinding>, String> {
        let text = |key: &str| item.get(key).and_then(Node::as_scalar).map(str::to_string);
        let target: PortRange = text("target").ok_or_else(|| format!("`{what}` entry needs a `target` port"))?.parse()?;
        let published = text("published").filter(|p| !p.is_empty()).map(|p| p.parse::<PortRange>()).transpose()?;
        let protocol = text("protocol").map(|p| p.parse::<Protocol>()).transpose()?.unwrap_or(Protocol::Tcp);
        let host_ip = text("host_ip").filter(|h| !h.is_empty()).map(|h| parse_host_ip(&h)).transpose()?;
        Ok(vec![PortBinding { host_ip, published, target, protocol, origin: Origin::File(item.span.clone()) }])
    }

    fn expose(&mut self, node: &Node, what: &str) -> Vec<Located<PortRange>> {
        let Some(items) = self.list(node, what) else { return Vec::new() };
        items
            .iter()
            .filter_map(|item| {
                let text = self.string(item, what)?;
                let port = text.split_once('/').map_or(text.as_str(), |(p, _)| p);
                match port.parse::<PortRange>() {
                    Ok(range) => Some(Located::new(range, item.span.clone())),
                    Err(e) => {
                        self.error(item, format!("invalid exposed port `{text}`: {e}"));
                        None
                    }
                }
            })
            .collect()
    }

    fn list(&mut self, node: &Node, what: &str) -> Option<Vec<Node>> {
        match &node.value {
            Value::Seq(items) => Some(items.clone()),
            Value::Null => None,
            _ => {
                self.wrong_type(node, what, "a list");
                None
            }
        }
    }

    fn extra_hosts(&mut self, node: &Node, what: &str) -> Vec<ExtraHost> {
        let mut hosts = Vec::new();
        if let Value::Map(entries) = &node.value {
            for e in entries {
                for address in self.strings(&e.value, what) {
                    hosts.push(ExtraHost { name: e.key.clone(), address: address.value, origin: Origin::File(e.key_span.clone()) });
                }
            }
            return hosts;
        }
        // List form: `host:ip` (the IP may itself hold colons) or `host=ip`.
        for (k, v) in self.key_values(node, what, &['=', ':']) {
            hosts.push(ExtraHost { name: k.value, address: v.map(|v| v.value).unwrap_or_default(), origin: k.origin });
        }
        hosts
    }

    fn links(&mut self, node: &Node, what: &str) -> Vec<Link> {
        self.strings(node, what)
            .into_iter()
            .map(|l| match l.value.split_once(':') {
                Some((target, alias)) => Link { target: target.to_string(), alias: Some(alias.to_string()), origin: l.origin },
                None => Link { target: l.value, alias: None, origin: l.origin },
            })
            .collect()
    }

    fn depends_on(&mut self, node: &Node, what: &str) -> Vec<Located<String>> {
        match &node.value {
            Value::Map(entries) => entries.iter().map(|e| Located::new(e.key.clone(), e.key_span.clone())).collect(),
            _ => self.strings(node, what),
        }
    }

    fn environment(&mut self, node: &Node, what: &str, out: &mut Vec<Reference>) {
        for (key, value) in self.key_values(node, what, &['=']) {
            let Some(value) = value else { continue };
            if let Origin::File(span) = &value.origin {
                self.sensitive.push(span.clone());
            }
            let via = ReferenceVia::Env(key.value.clone());
            out.extend(references(refs::in_env(&key.value, &value.value), &via, &key.origin));
        }
    }

    fn command(&mut self, node: &Node, what: &str, via: ReferenceVia, out: &mut Vec<Reference>) {
        let words: Vec<String> = match &node.value {
            Value::Scalar(s) => vec![s.text.clone()],
            Value::Seq(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            Value::Null => return,
            Value::Map(_) => {
                self.wrong_type(node, what, "a string or a list of strings");
                return;
            }
        };
        let mut spans = vec![node.span.clone()];
        if let Some(items) = node.as_seq() {
            spans.extend(items.iter().map(|i| i.span.clone()));
        }
        self.sensitive.extend(spans);
        let origin = Origin::File(node.span.clone());
        out.extend(references(refs::in_command(&words), &via, &origin));
    }
}

fn references(found: Vec<HostRef>, via: &ReferenceVia, origin: &Origin) -> Vec<Reference> {
    found.into_iter().map(|h| Reference { host: h.host, port: h.port, via: via.clone(), origin: origin.clone() }).collect()
}

fn parse_host_ip(text: &str) -> Result<IpAddr, String> {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse().map_err(|_| format!("`{text}` is not an IP address"))
}

/// Parses `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, ranges allowed
/// (`8000-8010:8000-8010`, `127.0.0.1::80`, `[::1]:8080:80/udp`).
pub fn parse_short_port(text: &str, origin: Origin) -> Result<Vec<PortBinding>, String> {
    let (spec, protocol) = match text.rsplit_once('/') {
        Some((spec, proto)) => (spec, proto.parse::<Protocol>()?),
        None => (text, Protocol::Tcp),
    };
    let (host_ip, rest) = match spec.strip_prefix('[') {
        Some(v6) => {
            let (ip, rest) = v6.split_once("]:").ok_or("an IPv6 host address must look like [::1]:8080:80")?;
            (Some(parse_host_ip(ip)?), rest)
        }
        None => match spec.matches(':').count() {
            0 | 1 => (None, spec),
            _ => {
                let (ip, rest) = spec.split_once(':').ok_or("malformed port")?;
                (if ip.is_empty() { None } else { Some(parse_host_ip(ip)?) }, rest)
            }
        },
    };
    let (published, target) = match rest.split_once(':') {
        Some((p, t)) => (if p.is_empty() { None } else { Some(p.parse::<PortRange>()?) }, t.parse::<PortRange>()?),
        None => (None, rest.parse::<PortRange>()?),
    };
    if let Some(p) = published {
        if p.len() != target.len() && target.len() != 1 {
            return Err(format!("published range {p} and container range {target} differ in size"));
        }
    }
    Ok(vec![PortBinding { host_ip, published, target, protocol, origin }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::testing::{load_in, Project};

    /// A lowering error names where in the project it is.
    #[test]
    fn errors_carry_the_path_inside_the_document() {
        let project =
            Project::new(&[("compose.yaml", "services:\n  web:\n    image: nginx\n    ports:\n      - 80\n      - '8080:http'\n")]);
        let doc = load_in(&project, &[]).unwrap_or_else(|e| panic!("{e}"));
        let Err(errors) = lower(&doc) else { panic!("a port `http` lowered") };
        let paths: Vec<_> = errors.iter().map(|e| (e.line, e.path.as_deref())).collect();
        assert_eq!(paths, [(6, Some("services.web.ports[1]"))], "{errors:?}");
    }

    #[test]
    fn short_ports() {
        let o = || Origin::Logical("t".into());
        /// Text, host IP, published range, container range, protocol.
        type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, Protocol);
        let cases: &[Case] = &[
            ("80", None, None, "80", Protocol::Tcp),
            ("8080:80", None, Some("8080"), "80", Protocol::Tcp),
            ("127.0.0.1:8080:80", Some("127.0.0.1"), Some("8080"), "80", Protocol::Tcp),
            ("127.0.0.1::80", Some("127.0.0.1"), None, "80", Protocol::Tcp),
            ("[::1]:6379:6379/udp", Some("::1"), Some("6379"), "6379", Protocol::Udp),
            ("9090-9091:8080-8081", None, Some("9090-9091"), "8080-8081", Protocol::Tcp),
            ("53:53/sctp", None, Some("53"), "53", Protocol::Sctp),
        ];
        for (text, ip, published, target, proto) in cases {
            let p = parse_short_port(text, o()).unwrap_or_else(|e| panic!("{text}: {e}"));
            let p = &p[0];
            assert_eq!(p.host_ip.map(|i| i.to_string()).as_deref(), *ip, "{text}");
            assert_eq!(p.published.map(|r| r.to_string()).as_deref(), *published, "{text}");
            assert_eq!(p.target.to_string(), *target, "{text}");
            assert_eq!(p.protocol, *proto, "{text}");
        }
        for bad in ["http", "80:80:80:80", "8080:80/ftp", "70000", "1.2.3:80:80", "9090-9092:8080-8081"] {
            assert!(parse_short_port(bad, o()).is_err(), "{bad} should be rejected");
        }
    }
}

//! The engine's side of probing from a throwaway container (`--probe-via container`,
//! `netdoctor_probe::Prober` decides when): a Docker session, opened on first use, that
//! imports the probe agent's image and runs it through `netdoctor_sources::docker::agent`.
//!
//! The agent binary is found next to the `netdoctor` executable (Cargo builds both
//! into one directory) or at `NETDOCTOR_PROBE_AGENT`. A dynamically linked agent is
//! imported with the shared objects it maps (`netdoctor-probe-agent libs`), a static
//! one alone.

use netdoctor_probe::{AgentCall, AgentHost, AgentReply, Capabilities, ProbeVia};
use netdoctor_sources::docker::agent::{AgentEngine, AgentImage, AgentOptions, AgentRun};
use netdoctor_sources::docker::context::resolve_endpoint;
use std::path::PathBuf;
use std::time::Duration;

/// `netdoctor_probe::Prober` over a Docker engine.
pub type Prober = netdoctor_probe::Prober<DockerAgents>;

/// A prober for the engine at `host` (`--docker-host`, else DOCKER_HOST, the context...).
pub fn prober(via: ProbeVia, host: Option<&str>, timeout: Duration) -> Prober {
    let endpoint = resolve_endpoint(host).ok();
    let local = endpoint.as_deref().is_none_or(|e| e.starts_with("unix://"));
    netdoctor_probe::Prober::new(via, local, DockerAgents { endpoint, timeout, engine: None })
}

/// The engine session and the agent image's tag, set up on first use.
pub struct DockerAgents {
    endpoint: Option<String>,
    timeout: Duration,
    engine: Option<Result<(AgentEngine, String), String>>,
}

impl DockerAgents {
    fn engine(&mut self) -> Result<(&AgentEngine, &str), String> {
        if self.engine.is_none() {
            self.engine = Some(self.connect());
        }
        match &self.engine {
            Some(Ok((engine, tag))) => Ok((engine, tag)),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no engine".into()),
        }
    }

    fn connect(&self) -> Result<(AgentEngine, String), String> {
        let why = |e: String| {
            let mut msg = format!("probing from a throwaway container: {e}");
            match Capabilities::current().missing_for_probes() {
                Some(m) => msg.push_str(&format!(
                    ". Probing from inside the namespaces instead (`--probe-via netns`, on the engine's host) {}",
                    m.trim_start_matches("probing ")
                )),
                None => msg.push_str(". On the engine's host, probe from inside the namespaces instead: `--probe-via netns`"),
            }
            msg
        };
        let endpoint = resolve_endpoint(self.endpoint.as_deref()).map_err(|e| why(netdoctor_sources::error_chain(&e)))?;
        let engine = AgentEngine::connect(AgentOptions::new(endpoint, self.timeout)).map_err(|e| why(docker_error(&e)))?;
        let image = agent_image().map_err(why)?;
        let (tag, _) = engine.ensure_image(&image).map_err(|e| why(docker_error(&e)))?;
        Ok((engine, tag))
    }
}

impl AgentHost for DockerAgents {
    fn read_file(&mut self, container: &str, path: &str) -> Result<Vec<u8>, String> {
        let (engine, _) = self.engine()?;
        engine.read_file(container, path).map_err(|e| docker_error(&e))
    }

    fn run_agents(&mut self, calls: &[AgentCall]) -> Result<Vec<Result<AgentReply, String>>, String> {
        let runs: Vec<AgentRun> = calls
            .iter()
            .map(|c| AgentRun {
                target: c.target.clone(),
                args: vec!["run".into(), c.request.clone()],
                net_raw: c.net_raw,
                probes_take: c.takes,
            })
            .collect();
        let (engine, tag) = match self.engine() {
            Ok(found) => found,
            Err(e) => return Ok(vec![Err(e); calls.len()]),
        };
        let results = engine.run_all(tag, &runs).map_err(|e| netdoctor_sources::error_chain(&e))?;
        Ok(results
            .into_iter()
            .map(|r| r.map(|o| AgentReply { stdout: o.stdout, stderr: o.stderr }).map_err(|e| docker_error(&e)))
            .collect())
    }

    fn setup_error(&self) -> Option<&str> {
        match &self.engine {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }
}

fn docker_error(e: &netdoctor_sources::docker::Error) -> String {
    match e.hint() {
        Some(h) => format!("{}; {h}", netdoctor_sources::error_chain(e)),
        None => netdoctor_sources::error_chain(e),
    }
}

/// Where the agent binary is: `NETDOCTOR_PROBE_AGENT`, else beside this executable.
pub fn agent_path() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("NETDOCTOR_PROBE_AGENT").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return match p.is_file() {
            true => Ok(p),
            false => Err(format!(
                "NETDOCTOR_PROBE_AGENT names {}, which is no file: point it at a `netdoctor-probe-agent` binary, or unset it to use the one beside netdoctor",
                p.display()
            )),
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?;
    let beside = exe.with_file_name("netdoctor-probe-agent");
    if beside.is_file() {
        return Ok(beside);
    }
    Err(format!(
        "the probe agent `netdoctor-probe-agent` is not beside {} (`cargo build` in the workspace builds it there; `cargo install --path crates/netdoctor-probe` installs it): put it there, or set NETDOCTOR_PROBE_AGENT to its path",
        exe.display()
    ))
}

/// The agent's image content: the binary and the shared objects it maps.
pub fn agent_image() -> Result<AgentImage, String> {
    let agent = agent_path()?;
    let out = std::process::Command::new(&agent)
        .arg("libs")
        .output()
        .map_err(|e| format!("running {} to list its libraries: {e}", agent.display()))?;
    if !out.status.success() {
        return Err(format!("{} libs: {}", agent.display(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let libs: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().map(str::trim).filter(|l| l.starts_with('/')).map(str::to_string).collect();
    AgentImage::from_binary(&agent, &libs)
}

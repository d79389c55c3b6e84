//! Probing from a throwaway container, for engines whose containers' processes are not
//! visible from here (a remote `DOCKER_HOST`, rootless Docker, Docker Desktop). The one
//! part of this crate that changes the engine, and only when a probe command asks:
//!
//! 1. the probe agent binary (and, when it is dynamically linked, the shared objects
//!    it maps) is packed into a tar in memory and imported as an image
//!    (`POST /images/create?fromSrc=-`, like `docker import`), tagged with a hash of
//!    its content and labelled `org.netdoctor.probe-agent`; an image with that tag is
//!    reused, and importing a new one removes the images of earlier builds of the same
//!    version;
//! 2. per target, a container joins the target's network namespace
//!    (`HostConfig.NetworkMode = container:<id>`) with every capability dropped
//!    (NET_RAW added back only for ICMP), a read-only root, `no-new-privileges`, small
//!    memory and PID limits, and `AutoRemove`, so the engine removes it when the agent
//!    exits even if netdoctor is killed; netdoctor attaches, starts it, reads the agent's
//!    stdout, and removes it explicitly on every path (errors, timeouts, Ctrl-C).
//!
//! A container that joins another's network namespace gets that container's
//! `/etc/resolv.conf` and `/etc/hosts` too; netdoctor reads the target's own file
//! through the archive API (`read_file`) all the same, which needs no container.

use super::live::{connect, Call};
use super::Error;
use crate::error::ConnectCause;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, CreateImageOptions, DownloadFromContainerOptions, InspectContainerOptions,
    ListContainersOptions, ListImagesOptions, RemoveContainerOptions, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hasher;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The label on the agent's images and containers.
pub const LABEL: &str = "org.netdoctor.probe-agent";
/// The label naming the container a probe container joined.
pub const TARGET_LABEL: &str = "org.netdoctor.probe-target";
/// The label naming the netdoctor run that made a probe container.
pub const SESSION_LABEL: &str = "org.netdoctor.probe-session";
/// The image repository; `NETDOCTOR_PROBE_IMAGE` names another.
pub const DEFAULT_REPOSITORY: &str = "netdoctor-probe-agent";
/// Where the agent sits in its image.
pub const AGENT_PATH: &str = "/netdoctor-probe-agent";
/// Files larger than this are not packed (the agent and its libraries are far smaller).
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Probe containers running at once.
const CONCURRENCY: usize = 4;
/// Time for creating, starting and removing one container, on top of its probes.
const CONTAINER_OVERHEAD: Duration = Duration::from_secs(20);

/// One file of the agent image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageEntry {
    File { path: String, mode: u32, data: Vec<u8> },
    Symlink { path: String, target: String },
}

impl ImageEntry {
    fn path(&self) -> &str {
        match self {
            ImageEntry::File { path, .. } | ImageEntry::Symlink { path, .. } => path,
        }
    }
}

/// The agent image's content: the agent, and the shared objects it needs when it is
/// dynamically linked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentImage {
    pub entries: Vec<ImageEntry>,
}

impl AgentImage {
    /// The image for the agent at `agent`: `libraries` (absolute paths) are packed at
    /// their own paths, and the ELF interpreter the agent names (`PT_INTERP`, such as
    /// `/lib64/ld-linux-x86-64.so.2`) links to the loader among them.
    pub fn from_binary(agent: &std::path::Path, libraries: &[String]) -> Result<AgentImage, String> {
        let read = |p: &std::path::Path| -> Result<Vec<u8>, String> {
            let meta = std::fs::metadata(p).map_err(|e| format!("reading {}: {e}", p.display()))?;
            if meta.len() > MAX_FILE_BYTES {
                return Err(format!("{} is larger than {} MiB", p.display(), MAX_FILE_BYTES >> 20));
            }
            std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()))
        };
        let data = read(agent)?;
        if !data.starts_with(b"\x7fELF") {
            return Err(format!("{} is not an ELF executable", agent.display()));
        }
        let interp = elf_interpreter(&data);
        let mut entries = vec![ImageEntry::File { path: AGENT_PATH.to_string(), mode: 0o755, data }];
        for lib in libraries {
            entries.push(ImageEntry::File { path: lib.clone(), mode: 0o755, data: read(std::path::Path::new(lib))? });
        }
        if let Some(interp) = interp {
            if !libraries.contains(&interp) {
                let name = interp.rsplit('/').next().unwrap_or_default();
                let loader = libraries
                    .iter()
                    .find(|l| l.rsplit('/').next() == Some(name))
                    .ok_or_else(|| format!("the agent's loader {interp} is not among its libraries ({})", libraries.join(", ")))?;
                entries.push(ImageEntry::Symlink { path: interp, target: loader.clone() });
            }
        }
        Ok(AgentImage { entries })
    }

    /// A hash of the content: the image tag, so a changed agent gets a new image.
    pub fn content_hash(&self) -> String {
        let mut h = std::hash::DefaultHasher::new();
        for e in &self.entries {
            match e {
                ImageEntry::File { path, mode, data } => {
                    h.write(path.as_bytes());
                    h.write_u32(*mode);
                    h.write_usize(data.len());
                    h.write(data);
                }
                ImageEntry::Symlink { path, target } => {
                    h.write(path.as_bytes());
                    h.write(target.as_bytes());
                }
            }
        }
        format!("{:016x}", h.finish())
    }

    /// The image as a tar archive (ustar), with the directories its paths need.
    pub fn tar(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut dirs = BTreeSet::new();
        for e in &self.entries {
            let rel = e.path().trim_start_matches('/');
            let mut parts: Vec<&str> = rel.split('/').collect();
            parts.pop();
            for i in 1..=parts.len() {
                dirs.insert(parts.get(..i).unwrap_or_default().join("/"));
            }
        }
        for d in &dirs {
            out.extend(tar_header(&format!("{d}/"), 0o755, 0, b'5', "")?);
        }
        for e in &self.entries {
            match e {
                ImageEntry::File { path, mode, data } => {
                    out.extend(tar_header(path.trim_start_matches('/'), *mode, data.len() as u64, b'0', "")?);
                    out.extend_from_slice(data);
                    out.resize(out.len().div_ceil(512) * 512, 0);
                }
                ImageEntry::Symlink { path, target } => out.extend(tar_header(path.trim_start_matches('/'), 0o777, 0, b'2', target)?),
            }
        }
        out.resize(out.len() + 1024, 0);
        Ok(out)
    }
}

/// The `PT_INTERP` path of a 64-bit little-endian ELF file, if it has one.
fn elf_interpreter(elf: &[u8]) -> Option<String> {
    let u16_at =
        |at: usize| elf.get(at..at + 2).map(|b| u16::from_le_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]));
    let u64_at = |at: usize| -> Option<u64> {
        let b: [u8; 8] = elf.get(at..at + 8)?.try_into().ok()?;
        Some(u64::from_le_bytes(b))
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = elf.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    };
    // ELFCLASS64, little-endian.
    if elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return None;
    }
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    (0..phnum).find_map(|i| {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        if u32_at(ph)? != 3 {
            return None;
        }
        let off = usize::try_from(u64_at(ph + 8)?).ok()?;
        let size = usize::try_from(u64_at(ph + 32)?).ok()?;
        let raw = elf.get(off..off.checked_add(size)?)?;
        let text = raw.split(|&b| b == 0).next()?;
        String::from_utf8(text.to_vec()).ok()
    })
}

fn put(block: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(slot) = block.get_mut(at..at + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}

fn tar_header(name: &str, mode: u32, size: u64, kind: u8, link: &str) -> Result<[u8; 512], String> {
    if name.len() > 99 || link.len() > 99 {
        return Err(format!("the path `{name}` is too long for the image archive"));
    }
    let mut h = [0u8; 512];
    put(&mut h, 0, name.as_bytes());
    put(&mut h, 100, format!("{mode:07o}\0").as_bytes());
    put(&mut h, 108, b"0000000\0");
    put(&mut h, 116, b"0000000\0");
    put(&mut h, 124, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, b"00000000000\0");
    put(&mut h, 148, b"        ");
    put(&mut h, 156, &[kind]);
    put(&mut h, 157, link.as_bytes());
    put(&mut h, 257, b"ustar\x0000");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

/// The first regular file of a tar archive.
pub fn first_file_of_tar(tar: &[u8]) -> Option<Vec<u8>> {
    let mut at = 0usize;
    while let Some(h) = tar.get(at..at + 512) {
        if h.iter().all(|&b| b == 0) {
            return None;
        }
        let size_field = h.get(124..136)?;
        let size_text: String = size_field.iter().take_while(|&&b| b != 0 && b != b' ').map(|&b| char::from(b)).collect();
        let size = usize::from_str_radix(size_text.trim(), 8).ok()?;
        let kind = h.get(156).copied().unwrap_or(0);
        let body = at + 512;
        if kind == b'0' || kind == 0 {
            return tar.get(body..body + size).map(<[u8]>::to_vec);
        }
        at = body + size.div_ceil(512) * 512;
    }
    None
}

/// How to reach the engine for probe containers.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The endpoint (already resolved, see `context::resolve_endpoint`).
    pub endpoint: String,
    /// How long one API request may take.
    pub timeout: Duration,
    /// The image repository.
    pub repository: String,
}

impl AgentOptions {
    /// Options for `endpoint`, with the repository from `NETDOCTOR_PROBE_IMAGE` when set.
    pub fn new(endpoint: String, timeout: Duration) -> AgentOptions {
        let repository =
            std::env::var("NETDOCTOR_PROBE_IMAGE").ok().filter(|r| !r.is_empty()).unwrap_or_else(|| DEFAULT_REPOSITORY.to_string());
        AgentOptions { endpoint, timeout, repository }
    }
}

/// One agent run: which container's namespace to join, the agent's arguments, and
/// how long its probes may take.
#[derive(Debug, Clone)]
pub struct AgentRun {
    pub target: String,
    pub args: Vec<String>,
    pub net_raw: bool,
    pub probes_take: Duration,
}

/// What a run printed.
#[derive(Debug, Clone, Default)]
pub struct AgentOutput {
    pub stdout: String,
    pub stderr: String,
}

/// An engine session for probe containers.
pub struct AgentEngine {
    runtime: tokio::runtime::Runtime,
    docker: Docker,
    opts: AgentOptions,
    /// This run's value of `SESSION_LABEL`.
    session: String,
}

/// Docker's name for this build's CPU architecture.
fn engine_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

impl AgentEngine {
    /// Connects, and checks the engine runs Linux containers of this build's architecture.
    pub fn connect(opts: AgentOptions) -> Result<AgentEngine, Error> {
        let endpoint = opts.endpoint.clone();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Error::Connect {
            endpoint: endpoint.clone(),
            message: format!("starting the client runtime: {e}"),
            cause: ConnectCause::Other,
        })?;
        let docker = runtime.block_on(connect(&endpoint, opts.timeout))?;
        let call = Call { endpoint: &endpoint, timeout: opts.timeout };
        let version = runtime.block_on(call.run("reading the engine version", docker.version()))?;
        let os = version.os.unwrap_or_default();
        let arch = version.arch.unwrap_or_default();
        if os != "linux" || arch != engine_arch() {
            return Err(Error::Request {
                endpoint,
                what: "checking the engine's platform".into(),
                status: None,
                message: format!(
                    "the engine runs {os}/{arch} containers and this netdoctor's probe agent is linux/{}: use a netdoctor built for {os}/{arch}, or probe from the engine's host with `--probe-via netns`",
                    engine_arch()
                ),
            });
        }
        let session = format!("{:08x}{:08x}", std::process::id(), nonce());
        Ok(AgentEngine { runtime, docker, opts, session })
    }

    fn call(&self) -> Call<'_> {
        Call { endpoint: &self.opts.endpoint, timeout: self.opts.timeout }
    }

    /// The tag of the agent image, imported unless an image with that tag exists.
    /// Returns the tag and whether it was imported now.
    pub fn ensure_image(&self, image: &AgentImage) -> Result<(String, bool), Error> {
        let tag = format!("{}-{}", env!("CARGO_PKG_VERSION"), image.content_hash());
        let reference = format!("{}:{tag}", self.opts.repository);
        if self.runtime.block_on(self.docker.inspect_image(&reference)).is_ok() {
            return Ok((reference, false));
        }
        let what = "importing the probe agent image";
        let err = |message: String| Error::Request { endpoint: self.opts.endpoint.clone(), what: what.into(), status: None, message };
        let tar = image.tar().map_err(err)?;
        let options = CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some(self.opts.repository.clone()),
            tag: Some(tag),
            message: Some("netdoctor probe agent".into()),
            changes: vec![format!("LABEL {LABEL}=1"), format!("ENTRYPOINT [\"{AGENT_PATH}\"]")],
            ..Default::default()
        };
        // Importing copies the whole file: give it more time than one request.
        let call = Call { endpoint: &self.opts.endpoint, timeout: self.opts.timeout.max(Duration::from_secs(60)) };
        let body = bollard::body_full(bytes::Bytes::from(tar));
        let infos = self
            .runtime
            .block_on(call.run(what, async { Ok(self.docker.create_image(Some(options), Some(body), None).collect::<Vec<_>>().await) }))?;
        for info in infos {
            match info {
                Ok(i) => {
                    if let Some(e) = i.error_detail.and_then(|d| d.message) {
                        return Err(err(e));
                    }
                }
                Err(e) => return Err(err(e.to_string())),
            }
        }
        self.runtime.block_on(self.call().run("inspecting the imported probe agent image", self.docker.inspect_image(&reference)))?;
        self.prune_older(&reference);
        Ok((reference, true))
    }

    /// Removes the agent images of earlier builds of this version (same repository,
    /// same version prefix, another hash), quietly: one in use stays.
    fn prune_older(&self, keep: &str) {
        let prefix = format!("{}:{}-", self.opts.repository, env!("CARGO_PKG_VERSION"));
        let filters =
            HashMap::from([("reference".to_string(), vec![self.opts.repository.clone()]), ("label".to_string(), vec![LABEL.to_string()])]);
        let list = ListImagesOptions { filters: Some(filters), ..Default::default() };
        let call = self.call();
        self.runtime.block_on(async {
            let Ok(images) = call.run("listing probe agent images", self.docker.list_images(Some(list))).await else { return };
            for tag in images.iter().flat_map(|i| i.repo_tags.iter()).filter(|t| t.starts_with(&prefix) && t.as_str() != keep) {
                let _ =
                    call.run("removing an older probe agent image", self.docker.remove_image(tag, None::<RemoveImageOptions>, None)).await;
            }
        });
    }

    /// A file of a container, through the archive API (`docker cp`).
    pub fn read_file(&self, container: &str, path: &str) -> Result<Vec<u8>, Error> {
        let what = format!("reading {path} of container {container}");
        let opts = DownloadFromContainerOptions { path: path.to_string() };
        let chunks = self.runtime.block_on(self.call().run(&what, async {
            let mut s = self.docker.download_from_container(container, Some(opts));
            let mut all = Vec::new();
            while let Some(chunk) = s.next().await {
                all.extend_from_slice(&chunk?);
                if all.len() > 1024 * 1024 {
                    break;
                }
            }
            Ok(all)
        }))?;
        first_file_of_tar(&chunks).ok_or_else(|| Error::Request {
            endpoint: self.opts.endpoint.clone(),
            what,
            status: None,
            message: "the archive holds no regular file".into(),
        })
    }

    /// Runs the agent once per run, a few at a time, and returns what each printed, in
    /// order. Every container is gone when this returns, also after Ctrl-C, which is
    /// the outer error. (Once this has run, Ctrl-C no longer ends the process at once:
    /// the rest of a probe command is short.)
    pub fn run_all(&self, image: &str, runs: &[AgentRun]) -> Result<Vec<Result<AgentOutput, Error>>, Error> {
        let made: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let work = stream::iter(runs.iter().enumerate())
            .map(|(i, run)| {
                let made = Arc::clone(&made);
                async move { (i, self.run_one(image, run, &made).await) }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>();
        let finished = self.runtime.block_on(async {
            let ctrl_c = Box::pin(tokio::signal::ctrl_c());
            match futures_util::future::select(Box::pin(work), ctrl_c).await {
                futures_util::future::Either::Left((done, _)) => Some(done),
                futures_util::future::Either::Right(_) => None,
            }
        });
        // Whatever is still registered (interrupted, or a removal that failed) goes now.
        let mut left: BTreeSet<String> = made.lock().map(|m| m.clone()).unwrap_or_default();
        if finished.is_none() {
            // A create that was in flight when Ctrl-C came may still finish on the
            // engine's side: give it a moment, then find it by this run's label.
            std::thread::sleep(Duration::from_millis(500));
            left.extend(self.session_containers());
        }
        let mut not_removed = Vec::new();
        for id in left {
            if self.runtime.block_on(self.remove(&id)).is_err() {
                not_removed.push(id);
            }
        }
        let Some(mut done) = finished else {
            let message = match not_removed.is_empty() {
                true => "interrupted (Ctrl-C); the probe containers were removed".to_string(),
                false => format!("interrupted (Ctrl-C); remove what is left with `docker rm -f {}`", not_removed.join(" ")),
            };
            return Err(Error::Request {
                endpoint: self.opts.endpoint.clone(),
                what: "probing from a container".into(),
                status: None,
                message,
            });
        };
        done.sort_by_key(|(i, _)| *i);
        Ok(done.into_iter().map(|(_, r)| r).collect())
    }

    /// The IDs of the containers this run made that still exist.
    fn session_containers(&self) -> Vec<String> {
        let filters = HashMap::from([("label".to_string(), vec![format!("{SESSION_LABEL}={}", self.session)])]);
        let list = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
        let found = self.runtime.block_on(self.call().run("listing probe containers", self.docker.list_containers(Some(list))));
        found.map(|l| l.into_iter().filter_map(|c| c.id).collect()).unwrap_or_default()
    }

    async fn run_one(&self, image: &str, run: &AgentRun, made: &Mutex<BTreeSet<String>>) -> Result<AgentOutput, Error> {
        let call = self.call();
        let short: String = run.target.chars().take(12).collect();
        let labels = BTreeMap::from([
            (LABEL.to_string(), "1".to_string()),
            (TARGET_LABEL.to_string(), run.target.clone()),
            (SESSION_LABEL.to_string(), self.session.clone()),
        ]);
        let config = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec![AGENT_PATH.to_string()]),
            cmd: Some(run.args.clone()),
            labels: Some(labels.into_iter().collect()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            host_config: Some(HostConfig {
                network_mode: Some(format!("container:{}", run.target)),
                auto_remove: Some(true),
                cap_drop: Some(vec!["ALL".into()]),
                cap_add: run.net_raw.then(|| vec!["NET_RAW".into()]),
                readonly_rootfs: Some(true),
                security_opt: Some(vec!["no-new-privileges".into()]),
                memory: Some(128 * 1024 * 1024),
                pids_limit: Some(256),
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("netdoctor-probe-{short}-{:08x}", nonce());
        let create = CreateContainerOptions { name: Some(name.clone()), ..Default::default() };
        let created = call
            .run(&format!("creating a probe container in the namespace of {short}"), self.docker.create_container(Some(create), config))
            .await?;
        if let Ok(mut m) = made.lock() {
            m.insert(created.id.clone());
        }
        let result = self.attach_and_start(&created.id, run).await;
        // AutoRemove takes it away once the agent exits; a forced removal covers the
        // rest (never started, timed out) and is harmless after the engine's own.
        let removed = self.remove(&created.id).await;
        if removed.is_ok() {
            if let Ok(mut m) = made.lock() {
                m.remove(&created.id);
            }
        }
        result
    }

    async fn attach_and_start(&self, id: &str, run: &AgentRun) -> Result<AgentOutput, Error> {
        let call = self.call();
        let attach = AttachContainerOptions { stream: true, stdout: true, stderr: true, logs: true, ..Default::default() };
        let mut attached = call.run("attaching to the probe container", self.docker.attach_container(id, Some(attach))).await?;
        call.run("starting the probe container", self.docker.start_container(id, None)).await?;
        let limit = run.probes_take + CONTAINER_OVERHEAD;
        let reading = async {
            let mut out = AgentOutput::default();
            while let Some(item) = attached.output.next().await {
                match item? {
                    bollard::container::LogOutput::StdOut { message } => out.stdout.push_str(&String::from_utf8_lossy(&message)),
                    bollard::container::LogOutput::StdErr { message } => out.stderr.push_str(&String::from_utf8_lossy(&message)),
                    _ => {}
                }
                if out.stdout.len() + out.stderr.len() > 16 * 1024 * 1024 {
                    break;
                }
            }
            Ok(out)
        };
        Call { endpoint: &self.opts.endpoint, timeout: limit }.run("waiting for the probe agent", reading).await
    }

    /// Removes a probe container and waits (bounded) until the engine no longer lists it.
    async fn remove(&self, id: &str) -> Result<(), Error> {
        let call = self.call();
        let opts = RemoveContainerOptions { force: true, ..Default::default() };
        match call.run("removing the probe container", self.docker.remove_container(id, Some(opts))).await {
            Ok(()) | Err(Error::Request { status: Some(404), .. }) => {}
            // 409: the engine's own AutoRemove is already at it.
            Err(Error::Request { status: Some(409), .. }) => {}
            Err(e) => return Err(e),
        }
        for _ in 0..100 {
            match self.docker.inspect_container(id, None::<InspectContainerOptions>).await {
                Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(()),
                Err(e) => {
                    return Err(Error::Request {
                        endpoint: self.opts.endpoint.clone(),
                        what: "removing the probe container".into(),
                        status: None,
                        message: e.to_string(),
                    })
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        Err(Error::Request {
            endpoint: self.opts.endpoint.clone(),
            what: "removing the probe container".into(),
            status: None,
            message: format!("{id} is still there after 5s; remove it with `docker rm -f {id}`"),
        })
    }
}

/// A per-call suffix for container names.
fn nonce() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_round_trips_and_names_directories() {
        let image = AgentImage {
            entries: vec![
                ImageEntry::File { path: "/usr/lib/libc.so.6".into(), mode: 0o755, data: b"libc".to_vec() },
                ImageEntry::Symlink { path: "/lib64/ld.so".into(), target: "/usr/lib/ld.so".into() },
            ],
        };
        let tar = image.tar().unwrap();
        assert_eq!(tar.len() % 512, 0);
        let names: Vec<String> = tar
            .chunks(512)
            .filter(|b| b.get(257..262) == Some(b"ustar"))
            .map(|b| String::from_utf8_lossy(&b[..100]).trim_end_matches('\0').to_string())
            .collect();
        assert_eq!(names, ["lib64/", "usr/", "usr/lib/", "usr/lib/libc.so.6", "lib64/ld.so"]);
        assert_eq!(first_file_of_tar(&tar).unwrap(), b"libc");
        // The checksum field is what `tar` checks first.
        let h = &tar[..512];
        let mut copy = h.to_vec();
        copy[148..156].copy_from_slice(b"        ");
        let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(u32::from_str_radix(String::from_utf8_lossy(&h[148..154]).as_ref(), 8).unwrap(), sum);
        let other = AgentImage { entries: vec![ImageEntry::File { path: "/a".into(), mode: 0o755, data: b"x".to_vec() }] };
        assert_ne!(image.content_hash(), other.content_hash());
        assert_eq!(image.content_hash(), image.clone().content_hash());
    }

    #[test]
    fn reads_the_interpreter_of_this_test_binary() {
        let exe = std::fs::read("/proc/self/exe").unwrap();
        // Built for a glibc target, the test binary is dynamically linked.
        let interp = elf_interpreter(&exe);
        if cfg!(all(target_env = "gnu", not(target_feature = "crt-static"))) {
            assert!(interp.as_deref().is_some_and(|i| i.contains("ld-linux")), "{interp:?}");
        }
        assert_eq!(elf_interpreter(b"not an elf"), None);
    }
}

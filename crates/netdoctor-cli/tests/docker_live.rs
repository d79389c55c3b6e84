//! The scenarios of issue 5 on the real Docker Engine: each test creates its own
//! containers and networks (named `ndt-<scenario>-<random>`), checks the verdict and
//! rule live and from a snapshot, and removes everything it made, also on failure.
//!
//! Safety: every container gets `--dns 127.0.0.1` (or the scenario's loopback server),
//! so no lookup ever leaves the container for the host's resolvers; probes only target
//! the containers made here, with timeouts. Without a reachable daemon the tests skip
//! with a printed reason, except under `CI=true`, where that is a failure. The image is
//! built with `docker import` from the host's busybox-static (no registry). The
//! DOCKER-USER scenario changes a firewall, so it runs on a second, throwaway dockerd in
//! its own network namespace (root only) and never touches the host's rules.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "../../../test-support/skip.rs"]
mod skip;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const IMAGE: &str = "ndt-busybox:1";

/// Runs `docker ARGS`, killing it after `limit`.
fn docker_for(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new("docker").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run docker");
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait for docker") {
            return child.wait_with_output().expect("docker output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("`docker {}` took longer than {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn docker(args: &[&str]) -> Output {
    docker_for(args, Duration::from_secs(60))
}

fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(out.status.success(), "docker {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the engine and the test image are there; `None` means skip (never under CI).
fn engine() -> Option<()> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let info = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
        match info {
            Ok(o) if o.status.success() => {}
            Ok(o) => return Err(format!("the Docker daemon is not reachable: {}", String::from_utf8_lossy(&o.stderr).trim())),
            Err(e) => return Err(format!("the docker CLI cannot run: {e}")),
        }
        build_image(&[])
    });
    match ready {
        Ok(()) => Some(()),
        Err(why) => {
            skip::skip("live Docker tests", why);
            None
        }
    }
}

/// Imports a busybox root filesystem as the test image into the engine `host` names
/// (docker CLI arguments such as `-H URL`; empty for the default engine), once.
fn build_image(host: &[&str]) -> Result<(), String> {
    let mut inspect = host.to_vec();
    inspect.extend(["image", "inspect", IMAGE]);
    if docker(&inspect).status.success() {
        return Ok(());
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("busybox is not installed (apt-get install busybox-static)")?;
    // The image has no libc: a dynamically linked busybox (Debian's `busybox`) cannot run in it.
    let head = std::fs::read(&busybox).map_err(|e| e.to_string())?;
    if head.windows(8).take(64 * 1024).any(|w| w == b"ld-linux") {
        return Err(format!("{} is dynamically linked: install busybox-static", busybox.display()));
    }
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.path().join("tmp")).map_err(|e| e.to_string())?;
    std::fs::copy(&busybox, bin.join("busybox")).map_err(|e| e.to_string())?;
    for applet in ["sh", "sleep", "httpd", "nc", "true"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).map_err(|e| e.to_string())?;
    }
    let script =
        format!("tar -C {} -c . | docker {} import -c 'CMD [\"/bin/sleep\", \"600\"]' - {IMAGE}", root.path().display(), host.join(" "));
    let out = Command::new("sh").args(["-c", &script]).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("building {IMAGE}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

/// The containers and networks of one scenario, removed on drop (also when a test fails).
struct Scenario {
    prefix: String,
    containers: Vec<String>,
    networks: Vec<String>,
    dir: tempfile::TempDir,
}

impl Scenario {
    fn new(name: &str) -> Scenario {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let prefix = format!("ndt-{name}-{:x}", nanos ^ std::process::id());
        Scenario { prefix, containers: Vec::new(), networks: Vec::new(), dir: tempfile::tempdir().unwrap() }
    }

    fn name(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    fn network(&mut self, short: &str, opts: &[&str]) -> String {
        let name = self.name(short);
        let mut args = vec!["network", "create"];
        args.extend_from_slice(opts);
        args.push(&name);
        docker_ok(&args);
        self.networks.push(name.clone());
        name
    }

    /// Starts a container; `args` go before the image, `cmd` after it.
    fn run(&mut self, short: &str, args: &[&str], cmd: &[&str]) -> String {
        let name = self.name(short);
        // Registered first, so a half-made container is removed too.
        self.containers.push(name.clone());
        let mut all = vec!["run", "-d", "--name", &name];
        if !args.iter().any(|a| a.starts_with("--dns") || a.starts_with("--network=container:")) {
            all.extend(["--dns", "127.0.0.1"]);
        }
        all.extend_from_slice(args);
        all.push(IMAGE);
        all.extend_from_slice(if cmd.is_empty() { &["sleep", "600"] } else { cmd });
        docker_ok(&all);
        name
    }

    /// `--container` flags for every container of the scenario.
    fn selection(&self) -> Vec<String> {
        self.containers.iter().flat_map(|c| ["--container".to_string(), c.clone()]).collect()
    }

    /// Writes a snapshot of the scenario and returns its path.
    fn snapshot(&self) -> String {
        let path = self.dir.path().join("snapshot.json").display().to_string();
        let mut args: Vec<String> = vec!["snapshot".into(), "--docker".into(), "-o".into(), path.clone()];
        args.extend(self.selection());
        let out = netdoctor(&args);
        assert_eq!(out.status.code(), Some(0), "snapshot: {}", String::from_utf8_lossy(&out.stderr));
        path
    }

    /// `check --format json` live and from a snapshot; asserts both agree and returns one.
    fn check(&self, extra: &[&str]) -> Value {
        let mut live: Vec<String> = vec!["check".into(), "--docker".into(), "--format".into(), "json".into()];
        live.extend(self.selection());
        live.extend(extra.iter().map(|s| s.to_string()));
        let live_report = json_of(&netdoctor(&live));
        let snap = self.snapshot();
        let mut offline: Vec<String> = vec!["check".into(), "--snapshot".into(), snap, "--format".into(), "json".into()];
        offline.extend(extra.iter().map(|s| s.to_string()));
        let offline_report = json_of(&netdoctor(&offline));
        assert_eq!(rules(&live_report), rules(&offline_report), "live and snapshot disagree");
        live_report
    }

    /// `why --format json` live and from a snapshot; asserts the verdicts agree.
    fn why(&self, from: &str, to: &str, port: &str) -> Value {
        let mut live: Vec<String> = vec!["why".into(), from.into(), to.into(), "--docker".into(), "--format".into(), "json".into()];
        if !port.is_empty() {
            live.extend(["--port".into(), port.into()]);
        }
        live.extend(self.selection());
        let live_why = json_of(&netdoctor(&live));
        let snap = self.snapshot();
        let mut offline: Vec<String> =
            vec!["why".into(), from.into(), to.into(), "--snapshot".into(), snap, "--format".into(), "json".into()];
        if !port.is_empty() {
            offline.extend(["--port".into(), port.into()]);
        }
        let offline_why = json_of(&netdoctor(&offline));
        assert_eq!(live_why["verdict"], offline_why["verdict"], "live: {live_why:#}\nsnapshot: {offline_why:#}");
        assert_eq!(first_fail(&live_why), first_fail(&offline_why));
        live_why
    }

    /// `why --probe` (root only): the verdict after probing from inside `from`.
    fn why_probed(&self, from: &str, to: &str, port: &str) -> Option<Value> {
        if !can_probe() {
            skip::skip("why --probe", "entering network namespaces needs root (CAP_SYS_ADMIN)");
            return None;
        }
        let mut args: Vec<String> =
            vec!["why".into(), from.into(), to.into(), "--docker".into(), "--probe".into(), "--format".into(), "json".into()];
        if !port.is_empty() {
            args.extend(["--port".into(), port.into()]);
        }
        args.extend(self.selection());
        Some(json_of(&netdoctor(&args)))
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = docker(&args);
        }
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
    }
}

fn can_probe() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapEff:")).and_then(|h| u64::from_str_radix(h.trim(), 16).ok()))
        .is_some_and(|bits| bits & (1 << 21) != 0 && bits & (1 << 19) != 0)
}

fn netdoctor(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor")).args(args).env("NO_COLOR", "1").output().expect("run netdoctor")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn rules(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The findings of rule `id` about `subject`.
fn findings<'a>(report: &'a Value, id: &str, subject: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == id && f["subjects"].as_array().unwrap().iter().any(|s| s == subject))
        .collect()
}

/// The first failing layer and its rules.
fn first_fail(why: &Value) -> Option<(u64, Vec<String>)> {
    why["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "fail")
        .map(|s| (s["layer"].as_u64().unwrap(), s["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()))
}

#[test]
fn default_bridge_lookup_by_name() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("bridge");
    let b = s.run("b", &[], &[]);
    let a = s.run("a", &["-e", &format!("API_HOST={b}")], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    assert_eq!(findings(&report, "ND101", &a).len(), 1, "{report:#}");
    let why = s.why(&a, &b, "tcp/80");
    assert_eq!(why["verdict"], "denied");
    assert_eq!(first_fail(&why).map(|f| f.0), Some(3), "{why:#}");
    assert!(why["steps"][0]["rules"].as_array().unwrap().iter().any(|r| r == "ND101"));
    if let Some(probed) = s.why_probed(&a, &b, "tcp/80") {
        // The lookup really fails: the container's resolver (loopback here) knows no `b`.
        assert_eq!(probed["steps"][2]["status"], "fail", "{probed:#}");
        assert_eq!(probed["verdict"], "denied");
    }
}

#[test]
fn services_on_separate_networks() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("split");
    let front = s.network("front", &[]);
    let back = s.network("back", &[]);
    let db = s.run("db", &["--network", &back], &[]);
    let web = s.run("web", &["--network", &front, "-e", &format!("DB_URL=postgres://app:secret@{db}:5432/app")], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    assert_eq!(findings(&report, "ND102", &web).len(), 1, "{report:#}");
    assert!(!report.to_string().contains("secret"), "environment values never reach the output");
    let why = s.why(&web, &db, "tcp/5432");
    assert_eq!(first_fail(&why), Some((1, vec!["ND102".to_string()])), "{why:#}");
    assert!(why["steps"][0]["fix"].as_str().unwrap().contains(&format!("docker network connect {back} {web}")));
    if let Some(probed) = s.why_probed(&web, &db, "tcp/5432") {
        assert_eq!(probed["verdict"], "denied", "{probed:#}");
    }
}

#[test]
fn internal_network() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("internal");
    let net = s.network("private", &["--internal"]);
    let api = s.run("api", &["--network", &net, "-p", "127.0.0.1::8080"], &["httpd", "-f", "-p", "8080", "-h", "/tmp"]);
    let web = s.run("web", &["--network", &net, "-e", &format!("API_URL=http://{api}:8080")], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    // The published port goes nowhere: the network is internal.
    assert_eq!(findings(&report, "ND110", &api).len(), 1, "{report:#}");
    // Between the containers of an internal network, traffic flows.
    let why = s.why(&web, &api, "tcp/8080");
    assert_eq!(first_fail(&why), None, "{why:#}");
    assert_ne!(why["verdict"], "denied");
    if let Some(probed) = s.why_probed(&web, &api, "tcp/8080") {
        assert_eq!(probed["verdict"], "allowed", "{probed:#}");
        assert_eq!(probed["listener"]["status"], "pass");
    }
}

#[test]
fn dns_override_to_loopback() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("dns");
    let net = s.network("net", &[]);
    let db = s.run("db", &["--network", &net], &[]);
    let app = s.run("app", &["--network", &net, "--dns", "127.0.0.53", "-e", &format!("DB_HOST={db}")], &[]);
    let report = s.check(&[]);
    let found = findings(&report, "ND302", &app);
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(found[0]["message"].as_str().unwrap().contains("127.0.0.53"));
    // Container names still resolve (the embedded DNS answers them); the rest fails.
    let why = s.why(&app, &db, "");
    assert_eq!(why["steps"][2]["status"], "pass", "{why:#}");
    assert!(why["steps"][2]["rules"].as_array().unwrap().iter().any(|r| r == "ND302"));
    if let Some(probed) = s.why_probed(&app, &db, "") {
        assert_eq!(probed["steps"][2]["status"], "pass", "{probed:#}");
    }
}

#[test]
fn icc_disabled() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("icc");
    let net = s.network("noicc", &["-o", "com.docker.network.bridge.enable_icc=false"]);
    let db = s.run("db", &["--network", &net], &["httpd", "-f", "-p", "5432", "-h", "/tmp"]);
    let app = s.run("app", &["--network", &net, "-e", &format!("DB_HOST={db}")], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    assert_eq!(findings(&report, "ND511", &app).len(), 1, "{report:#}");
    let why = s.why(&app, &db, "tcp/5432");
    assert_eq!(first_fail(&why), Some((5, vec!["ND511".to_string()])), "{why:#}");
    if let Some(probed) = s.why_probed(&app, &db, "tcp/5432") {
        // The bridge really drops it: the SYN goes unanswered although a server listens.
        assert_eq!(probed["steps"][4]["status"], "fail", "{probed:#}");
        assert!(probed["steps"][4]["evidence"].to_string().contains("timeout"), "{probed:#}");
    }
    // Ping too: ICC off drops every protocol, and the probe's echo request gets no reply.
    let why = s.why(&app, &db, "icmp");
    assert_eq!(first_fail(&why).map(|(layer, _)| layer), Some(5), "{why:#}");
    if let Some(probed) = s.why_probed(&app, &db, "icmp") {
        assert_eq!(probed["steps"][4]["status"], "fail", "{probed:#}");
        assert!(probed["steps"][4]["evidence"].to_string().contains("no echo reply"), "{probed:#}");
    }
}

/// A throwaway Docker Engine in its own network namespace, so the test can change a
/// firewall (the namespace's) without touching the host's. Everything it made is removed
/// on drop: containers, the daemon (and the containerd it manages), its directories and
/// the namespace.
struct NestedEngine {
    netns: String,
    dir: PathBuf,
    host: String,
    daemon: Option<std::process::Child>,
    containers: Vec<String>,
}

impl NestedEngine {
    /// `None` means skip (never under CI): not root, or a tool is missing.
    fn start() -> Option<NestedEngine> {
        NestedEngine::start_with(&[])
    }

    /// `start`, with more `dockerd` flags (such as a second `-H`).
    fn start_with(extra: &[&str]) -> Option<NestedEngine> {
        let missing: Vec<&str> = ["ip", "nsenter", "dockerd", "docker", "iptables"]
            .into_iter()
            .filter(|t| Command::new("which").arg(t).output().map_or(true, |o| !o.status.success()))
            .collect();
        let why = if !can_probe() {
            Some("a nested dockerd in a network namespace needs root".to_string())
        } else if !missing.is_empty() {
            Some(format!("missing tools: {}", missing.join(", ")))
        } else {
            None
        };
        if let Some(why) = why {
            skip::skip("nested-engine tests", &why);
            return None;
        }
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let netns = format!("ndtdu{:x}", nanos ^ std::process::id());
        let dir = PathBuf::from(format!("/run/{netns}"));
        let host = format!("unix://{}/docker.sock", dir.display());
        // From here on the guard exists, so a failed start is cleaned up too.
        let mut engine = NestedEngine { netns: netns.clone(), dir: dir.clone(), host, daemon: None, containers: Vec::new() };
        run_ok("ip", &["netns", "add", &netns]);
        run_ok("ip", &["netns", "exec", &netns, "ip", "link", "set", "lo", "up"]);
        std::fs::create_dir_all(&dir).unwrap();
        // The host's /etc/docker/daemon.json sets data-root and the storage driver, which
        // dockerd refuses to see twice; an empty file keeps this engine to its flags.
        std::fs::write(dir.join("daemon.json"), "{}\n").unwrap();
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let d = |p: &str| dir.join(p).display().to_string();
        // vfs: the host's fuse-overlayfs cannot be nested; `--bridge=none`: no docker0 at all.
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{netns}"))
            .args(["dockerd", "--config-file", &d("daemon.json"), "--data-root", &d("data"), "--exec-root", &d("exec")])
            .args(["--pidfile", &d("docker.pid"), "-H", &engine.host, "--storage-driver", "vfs", "--bridge=none"])
            .args(extra)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        engine.daemon = Some(child);
        let start = Instant::now();
        while !engine.docker(&["version"]).status.success() {
            assert!(start.elapsed() < Duration::from_secs(60), "nested dockerd did not come up:\n{}", engine.log());
            std::thread::sleep(Duration::from_millis(250));
        }
        Some(engine)
    }

    fn docker(&self, args: &[&str]) -> Output {
        let mut all = vec!["-H", &self.host];
        all.extend_from_slice(args);
        docker(&all)
    }

    fn docker_ok(&self, args: &[&str]) -> String {
        let mut all = vec!["-H", &self.host];
        all.extend_from_slice(args);
        docker_ok(&all)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
    }

    /// Starts a container (registered first, so a half-made one is removed too).
    fn run(&mut self, name: &str, args: &[&str], cmd: &[&str]) {
        self.containers.push(name.to_string());
        let mut all = vec!["run", "-d", "--name", name, "--dns", "127.0.0.1"];
        all.extend_from_slice(args);
        all.push(IMAGE);
        all.extend_from_slice(cmd);
        self.docker_ok(&all);
    }

    /// netdoctor run inside the namespace, where this engine's firewall is the live one.
    fn netdoctor(&self, args: &[String]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.netns, env!("CARGO_BIN_EXE_netdoctor")])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }
}

impl Drop for NestedEngine {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            if !self.containers.is_empty() {
                // Not `self.docker`: its timeout panics, and a panic while unwinding aborts.
                let _ = Command::new("docker").args(["-H", &self.host, "rm", "-f"]).args(&self.containers).output();
            }
            // SIGTERM, not kill(): dockerd then stops the containerd it started; SIGKILL
            // would leave that containerd running.
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let start = Instant::now();
            while matches!(child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // Whatever dockerd left mounted under its directories (namespace files), deepest first.
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let prefix = format!("{}/", self.dir.display());
        let mut under: Vec<&str> = mounts.lines().filter_map(|l| l.split(' ').nth(1)).filter(|m| m.starts_with(&prefix)).collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in under {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).status();
    }
}

fn run_ok(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(out.status.success(), "{cmd} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A DOCKER-USER DROP between two containers, on a second engine in its own network
/// namespace: the host's firewall is never touched.
#[test]
fn docker_user_drop_rule() {
    let Some(mut engine) = NestedEngine::start() else { return };
    if let Err(why) = build_image(&["-H", &engine.host]) {
        skip::skip("nested-engine tests", &why);
        return;
    }
    let subnet = "10.213.7.0/24";
    engine.docker_ok(&["network", "create", "--subnet", subnet, "ndtnet"]);
    engine.run("cb", &["--network", "ndtnet"], &["httpd", "-f", "-p", "80"]);
    // ND502 is about flows the containers need: the URL is how `ca` says it needs `cb`.
    engine.run("ca", &["--network", "ndtnet", "-e", "BACKEND_URL=http://cb:80"], &["sleep", "600"]);
    run_ok(
        "ip",
        &[
            "netns",
            "exec",
            &engine.netns,
            "iptables",
            "-I",
            "DOCKER-USER",
            "-s",
            subnet,
            "-d",
            subnet,
            "-p",
            "tcp",
            "--dport",
            "80",
            "-j",
            "DROP",
        ],
    );
    let docker_user = |why: &Value| {
        let evidence = why["steps"][4]["evidence"].to_string();
        assert!(evidence.contains("DOCKER-USER rule 1 (line ") && evidence.contains("-j DROP"), "{why:#}");
    };
    let live_args = |extra: &[&str]| {
        let mut args =
            strings(&["why", "ca", "cb", "--port", "tcp/80", "--docker", "--docker-host", &engine.host, "--host", "--format", "json"]);
        args.extend(strings(extra));
        args
    };

    let live = json_of(&engine.netdoctor(&live_args(&[])));
    assert_eq!(live["verdict"], "denied", "{live:#}");
    assert_eq!(first_fail(&live), Some((5, vec!["ND502".to_string()])), "{live:#}");
    docker_user(&live);

    let probed = json_of(&engine.netdoctor(&live_args(&["--probe"])));
    assert_eq!(probed["verdict"], "denied", "{probed:#}");
    assert_eq!(first_fail(&probed), Some((5, vec!["ND502".to_string()])), "{probed:#}");
    // The path itself works (ICMP answers), only tcp/80 is dropped.
    assert!(probed["steps"][1]["evidence"].to_string().contains("echo reply"), "{probed:#}");
    let tcp = probed["steps"][4]["evidence"].to_string();
    assert!(tcp.contains("probe: tcp from `ca`") && tcp.contains("dropped on the way"), "{probed:#}");

    let check = json_of(&engine.netdoctor(&strings(&["check", "--docker", "--docker-host", &engine.host, "--host", "--format", "json"])));
    let nd502 = findings(&check, "ND502", "ca");
    assert_eq!(nd502.len(), 1, "{check:#}");
    assert!(nd502[0]["subjects"].as_array().unwrap().iter().any(|s| s == "cb"), "{check:#}");

    // The same from snapshots taken inside the namespace, read offline outside it.
    let dir = tempfile::tempdir().unwrap();
    let docker_snap = dir.path().join("docker.json").display().to_string();
    let host_snap = dir.path().join("host.json").display().to_string();
    let out = engine.netdoctor(&strings(&["snapshot", "--docker", "--docker-host", &engine.host, "-o", &docker_snap]));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = engine.netdoctor(&strings(&["snapshot", "--host", "-o", &host_snap]));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let offline = json_of(&netdoctor(&strings(&[
        "why",
        "ca",
        "cb",
        "--port",
        "tcp/80",
        "--snapshot",
        &docker_snap,
        "--host-facts",
        &host_snap,
        "--format",
        "json",
    ])));
    assert_eq!(offline["verdict"], "denied", "{offline:#}");
    assert_eq!(first_fail(&offline), first_fail(&live));
    docker_user(&offline);
    let offline_check =
        json_of(&netdoctor(&strings(&["check", "--snapshot", &docker_snap, "--host-facts", &host_snap, "--format", "json"])));
    assert_eq!(findings(&offline_check, "ND502", "ca").len(), 1, "{offline_check:#}");
}

#[test]
fn published_port_on_all_interfaces() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("publish");
    // A random host port, and nothing listening behind it.
    let db = s.run("db", &["-p", "5432"], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    let found = findings(&report, "ND510", &db);
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(found[0]["fix"].as_str().unwrap().contains("127.0.0.1:"));
    // Live findings have no file position: their location is the container's URI.
    let location = &found[0]["location"];
    assert!(location.get("file").is_none(), "{location}");
    assert_eq!(location["uri"], format!("docker://container/{db}/ports"), "{location}");
}

#[test]
fn network_mode_container() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("nsmode");
    let net = s.network("net", &[]);
    let app = s.run("app", &["--network", &net], &["httpd", "-f", "-p", "9000", "-h", "/tmp"]);
    let side = s.run("side", &[&format!("--network=container:{app}")], &[]);
    let client = s.run("client", &["--network", &net, "-e", &format!("SIDECAR_HOST={side}")], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    // The sidecar has no DNS name of its own: it lives in `app`'s namespace.
    assert_eq!(findings(&report, "ND301", &client).len(), 1, "{report:#}");
    let why = s.why(&client, &side, "tcp/9000");
    assert_eq!(first_fail(&why).map(|f| f.0), Some(3), "{why:#}");
    assert!(why["steps"][2]["fix"].as_str().unwrap().contains(&app));
    let local = s.why(&side, &app, "tcp/9000");
    assert_ne!(local["verdict"], "denied", "{local:#}");
    assert!(local["steps"][0]["evidence"].to_string().contains("localhost"));
    if let Some(probed) = s.why_probed(&client, &app, "tcp/9000") {
        assert_eq!(probed["verdict"], "allowed", "{probed:#}");
    }
}

#[test]
fn stopped_dependency() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("stopped");
    let net = s.network("net", &[]);
    let db = s.run("db", &["--network", &net], &["true"]);
    let web = s.run("web", &["--network", &net, "-e", &format!("DB_URL=postgres://{db}:5432/app")], &[]);
    // `true` exits at once; wait (bounded) until the engine says so.
    let deadline = Instant::now() + Duration::from_secs(20);
    while docker_ok(&["inspect", "-f", "{{.State.Status}}", &db]) != "exited" {
        assert!(Instant::now() < deadline, "{db} did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
    let report = s.check(&["--ignore", "ND302"]);
    let found = findings(&report, "ND113", &web);
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(found[0]["fix"].as_str().unwrap().contains(&format!("docker start {db}")));
    let why = s.why(&web, &db, "tcp/5432");
    assert_eq!(first_fail(&why), Some((1, vec!["ND113".to_string()])), "{why:#}");
}

/// `check --docker --container web` reports about `web` only, but resolves its peers
/// against every running container: `api`, left out of the selection, is no
/// "unresolvable" name, while a real typo still is; a problem of `api` alone is not
/// reported.
#[test]
fn a_partial_check_resolves_peers_against_everything_running() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("partial");
    let net = s.network("net", &[]);
    let api = s.run("api", &["--network", &net, "-e", &format!("PEER_URL=http://{}-missing:9000", s.prefix)], &[]);
    let web = s.run("web", &["--network", &net, "-e", &format!("API_URL=http://{api}:8080")], &[]);
    let typo = s.run("typo", &["--network", &net, "-e", &format!("API_URL=http://{api}x:8080")], &[]);
    let check = |container: &str| {
        let args: Vec<String> =
            ["check", "--docker", "--container", container, "--format", "json", "--ignore", "ND302"].map(String::from).into();
        json_of(&netdoctor(&args))
    };
    let report = check(&web);
    assert_eq!(rules(&report), Vec::<String>::new(), "{api} runs, outside the selection: {report:#}");
    let report = check(&typo);
    let found = findings(&report, "ND301", &typo);
    assert_eq!(found.len(), 1, "{report:#}");
    assert!(found[0]["message"].as_str().unwrap().contains(&format!("`{api}x`")), "{report:#}");
    // `api`'s own unresolvable peer is about `api`, which was not asked about.
    assert!(findings(&report, "ND301", &api).is_empty(), "{report:#}");
    assert_eq!(findings(&check(&api), "ND301", &api).len(), 1);
}

#[test]
fn nothing_listening_on_the_port() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("nolisten");
    let net = s.network("net", &[]);
    let api = s.run("api", &["--network", &net, "--expose", "8080"], &[]);
    let web = s.run("web", &["--network", &net, "-e", &format!("API_URL=http://{api}:8080")], &[]);
    let report = s.check(&["--ignore", "ND302"]);
    assert_eq!(rules(&report), Vec::<String>::new(), "the configuration is fine: {report:#}");
    // Statically nothing fails; whether something listens is only known by probing.
    let why = s.why(&web, &api, "tcp/8080");
    assert_eq!(first_fail(&why), None, "{why:#}");
    assert_eq!(why["listener"]["status"], "unknown");
    if let Some(probed) = s.why_probed(&web, &api, "tcp/8080") {
        assert_eq!(probed["verdict"], "denied", "{probed:#}");
        assert_eq!(probed["listener"]["status"], "fail");
        assert_eq!(probed["steps"][4]["status"], "pass", "the path itself is open: {probed:#}");
    }
}

#[test]
fn probe_matrix_reports_only_real_differences() {
    let Some(()) = engine() else { return };
    if !can_probe() {
        skip::skip("probe matrix", "probing needs root (CAP_SYS_ADMIN)");
        return;
    }
    let mut s = Scenario::new("matrix");
    let net = s.network("net", &[]);
    let noicc = s.network("noicc", &["-o", "com.docker.network.bridge.enable_icc=false"]);
    s.run("a", &["--network", &net], &["httpd", "-f", "-p", "80", "-h", "/tmp"]);
    s.run("b", &["--network", &net, "--expose", "80"], &["httpd", "-f", "-p", "80", "-h", "/tmp"]);
    s.run("c", &["--network", &noicc], &[]);
    let mut args: Vec<String> =
        vec!["probe".into(), "--docker".into(), "--format".into(), "json".into(), "--timeout-ms".into(), "500".into()];
    args.extend(s.containers.clone());
    let start = Instant::now();
    let out = netdoctor(&args);
    let m = json_of(&out);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(m["pairs"].as_array().unwrap().len(), 6, "{m:#}");
    let a_b = m["pairs"].as_array().unwrap().iter().find(|p| p["from"] == s.name("a") && p["to"] == s.name("b")).unwrap();
    assert_eq!(a_b["expected"], "reachable");
    assert_eq!(a_b["reached"], true, "{m:#}");
    assert_eq!(a_b["resolved"], true, "{m:#}");
    assert_eq!(out.status.code(), Some(0), "no differences expected: {m:#}");
}

/// `probe` tests the ports the configuration uses: `web` points at `api:8080`, where
/// nothing listens (api serves on 80). The path is open, the used port refuses: a
/// difference, named with the variable that uses it.
#[test]
fn probe_reports_a_used_port_that_refuses() {
    let Some(()) = engine() else { return };
    if !can_probe() {
        skip::skip("probe of used ports", "probing needs root (CAP_SYS_ADMIN)");
        return;
    }
    let mut s = Scenario::new("used");
    let net = s.network("net", &[]);
    let api = s.run("api", &["--network", &net, "--expose", "80"], &["httpd", "-f", "-p", "80", "-h", "/tmp"]);
    let web = s.run("web", &["--network", &net, "-e", &format!("API_URL=http://{api}:8080/v1")], &[]);
    let mut args: Vec<String> =
        vec!["probe".into(), "--docker".into(), "--format".into(), "json".into(), "--timeout-ms".into(), "500".into()];
    args.extend(s.containers.clone());
    let out = netdoctor(&args);
    let m = json_of(&out);
    let pair = m["pairs"].as_array().unwrap().iter().find(|p| p["from"] == web && p["to"] == api).unwrap().clone();
    let used =
        pair["tcp"].as_array().unwrap().iter().find(|t| t["port"] == 8080).cloned().unwrap_or_else(|| panic!("8080 not probed: {pair:#}"));
    assert_eq!((used["result"].as_str(), used["used_by"].as_str()), (Some("refused"), Some("env API_URL")), "{pair:#}");
    assert!(pair["tcp"].as_array().unwrap().iter().any(|t| t["port"] == 80 && t["result"] == "open"), "{pair:#}");
    let differences = pair["differences"].to_string();
    assert!(differences.contains("on port 8080 (env API_URL), but nothing listens there"), "{pair:#}");
    assert_eq!(out.status.code(), Some(1), "a difference: {m:#}");
}

/// Containers that Compose made (here: made with Compose v1's labels, so the test
/// needs no Compose binary) are their services, and findings point at the lines of
/// the Compose file the labels name.
#[test]
fn compose_project_points_at_file_lines() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("compose");
    let project = s.prefix.clone();
    let compose = "services:\n  web:\n    image: web\n    networks: [front]\n    environment:\n      DB_URL: postgres://app:secret@db:5432/app\n  db:\n    image: postgres\n    networks: [back]\nnetworks:\n  front: {}\n  back: {}\n";
    std::fs::write(s.dir.path().join("compose.yaml"), compose).unwrap();
    let dir = s.dir.path().display().to_string();
    for key in ["front", "back"] {
        let name = format!("{project}_{key}");
        docker_ok(&[
            "network",
            "create",
            "--label",
            &format!("com.docker.compose.project={project}"),
            "--label",
            &format!("com.docker.compose.network={key}"),
            &name,
        ]);
        s.networks.push(name);
    }
    for (service, net, env) in [("db", "back", ""), ("web", "front", "DB_URL=postgres://app:secret@db:5432/app")] {
        let name = format!("{project}_{service}_1");
        s.containers.push(name.clone());
        let labels = [
            format!("com.docker.compose.project={project}"),
            format!("com.docker.compose.service={service}"),
            "com.docker.compose.project.config_files=compose.yaml".to_string(),
            format!("com.docker.compose.project.working_dir={dir}"),
        ];
        let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name, "--dns".into(), "127.0.0.1".into()];
        args.extend(["--network".into(), format!("{project}_{net}"), "--network-alias".into(), service.into()]);
        for l in labels {
            args.extend(["--label".into(), l]);
        }
        if !env.is_empty() {
            args.extend(["-e".into(), env.into()]);
        }
        args.extend([IMAGE.into(), "sleep".into(), "600".into()]);
        docker_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let out = netdoctor(&["check".into(), "--docker".into(), "-p".into(), project.clone(), "--format".into(), "json".into()]);
    let report = json_of(&out);
    let found = findings(&report, "ND102", "web");
    assert_eq!(found.len(), 1, "{report:#}");
    let location = &found[0]["location"];
    assert!(location["file"].as_str().unwrap().ends_with("compose.yaml"), "{report:#}");
    assert_eq!(location["line"], 6);
    let why = json_of(&netdoctor(&[
        "why".into(),
        "web".into(),
        "db".into(),
        "--docker".into(),
        "-p".into(),
        project,
        "--format".into(),
        "json".into(),
    ]));
    assert_eq!(first_fail(&why), Some((1, vec!["ND102".to_string()])), "{why:#}");
    assert!(why["steps"][0]["fix"].as_str().unwrap().contains("add `back` to the `networks:` of `web`"), "{why:#}");
}

/// The agent image of one test (its own repository, so it can be removed), removed on drop.
struct AgentImageRepo(String);

impl Drop for AgentImageRepo {
    fn drop(&mut self) {
        let out = Command::new("docker").args(["images", "-q", &self.0]).output();
        if let Ok(out) = out {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("docker").args(["rmi", "-f", id]).output();
            }
        }
    }
}

/// The probe containers still there for `target` (a container ID).
fn probe_containers_of(target: &str) -> String {
    docker_ok(&["ps", "-a", "--filter", &format!("label=org.netdoctor.probe-target={target}"), "--format", "{{.Names}}"])
}

/// `--probe-via container` (a throwaway container joined to the client's namespace,
/// running the agent imported from the binary beside netdoctor) sees what the
/// namespace path sees: a listening port, a port nothing listens on, a name resolved
/// through the embedded DNS (127.0.0.11) and ICMP. The container is gone afterwards and
/// the image is imported once.
#[test]
fn probing_from_a_container_matches_the_namespace_path() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("via");
    let repo = AgentImageRepo(format!("{}-agent", s.prefix));
    let net = s.network("net", &[]);
    let api = s.run("api", &["--network", &net], &["httpd", "-f", "-p", "8080", "-h", "/tmp"]);
    let idle = s.run("idle", &["--network", &net, "--expose", "9090"], &[]);
    let web = s.run("web", &["--network", &net, "-e", &format!("API_URL=http://{api}:8080")], &[]);
    let web_id = docker_ok(&["inspect", "-f", "{{.Id}}", &web]);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
            .args(args)
            .args(s.selection())
            .env("NO_COLOR", "1")
            .env("NETDOCTOR_PROBE_IMAGE", &repo.0)
            .output()
            .expect("run netdoctor");
        (json_of(&out), out)
    };
    let why_via = |to: &str, port: &str, via: &str| {
        let mut args = vec!["why", &web, to, "--docker", "--probe", "--probe-via", via, "--format", "json"];
        if !port.is_empty() {
            args.extend(["--port", port]);
        }
        run(&args).0
    };
    let statuses = |why: &Value| -> Vec<String> {
        why["steps"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
    };

    let open = why_via(&api, "tcp/8080", "container");
    let images = docker_ok(&["images", "-q", "--no-trunc", &repo.0]);
    assert_eq!(images.lines().count(), 1, "one agent image: {images}");
    assert_eq!(open["verdict"], "allowed", "{open:#}");
    assert_eq!(open["listener"]["status"], "pass", "{open:#}");
    let evidence = open.to_string();
    assert!(evidence.contains("probe: icmp from") && evidence.contains("echo reply"), "{open:#}");
    assert!(evidence.contains("127.0.0.11 answered"), "the embedded DNS answered inside the client's namespace: {open:#}");
    assert!(evidence.contains(":8080: connected"), "{open:#}");
    // After probing, nothing tells the user to probe, and what was confirmed says so.
    assert!(!evidence.contains("--probe"), "{open:#}");
    assert!(evidence.contains("(confirmed live)"), "{open:#}");

    // Asked about ping, the echo reply is the answer, listener included.
    let ping = why_via(&api, "icmp", "container");
    assert_eq!((&ping["verdict"], &ping["port"]), (&Value::from("allowed"), &Value::from("icmp/8/0")), "{ping:#}");
    assert_eq!(ping["listener"]["status"], "pass", "{ping:#}");
    assert!(ping.to_string().contains("answered the echo request"), "{ping:#}");

    let closed = why_via(&idle, "tcp/9090", "container");
    assert_eq!(closed["verdict"], "denied", "{closed:#}");
    assert_eq!(closed["listener"]["status"], "fail", "{closed:#}");
    assert_eq!(closed["steps"][4]["status"], "pass", "the path itself is open: {closed:#}");

    // The image is reused, and no probe container is left.
    assert_eq!(docker_ok(&["images", "-q", "--no-trunc", &repo.0]), images, "the second run reused the image");
    assert_eq!(probe_containers_of(&web_id), "", "probe containers are removed");

    let (matrix, out) = run(&["probe", "--docker", "--probe-via", "container", "--format", "json", "--timeout-ms", "500"]);
    assert_eq!(matrix["via"], "container", "{matrix:#}");
    let web_api = matrix["pairs"].as_array().unwrap().iter().find(|p| p["from"] == web && p["to"] == api).unwrap().clone();
    assert_eq!(web_api["reached"], true, "{matrix:#}");
    assert_eq!(web_api["resolved"], true, "{matrix:#}");
    assert_eq!(out.status.code(), Some(0), "no differences: {matrix:#}");
    assert_eq!(probe_containers_of(&web_id), "");

    // Another build of the agent gets its own image, which replaces the older one.
    let agent = std::path::Path::new(env!("CARGO_BIN_EXE_netdoctor")).with_file_name("netdoctor-probe-agent");
    let changed = s.dir.path().join("netdoctor-probe-agent");
    let mut bytes = std::fs::read(&agent).unwrap();
    bytes.extend_from_slice(b"another build");
    std::fs::write(&changed, bytes).unwrap();
    std::fs::set_permissions(&changed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["why", &web, &api, "--port", "tcp/8080", "--docker", "--probe", "--probe-via", "container", "--format", "json"])
        .args(s.selection())
        .env("NETDOCTOR_PROBE_IMAGE", &repo.0)
        .env("NETDOCTOR_PROBE_AGENT", &changed)
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["verdict"], "allowed");
    let now = docker_ok(&["images", "-q", "--no-trunc", &repo.0]);
    assert_eq!(now.lines().count(), 1, "the older build's image is gone: {now}");
    assert_ne!(now, images);

    if !can_probe() {
        skip::skip("probe via the namespace path", "it needs root (CAP_SYS_ADMIN)");
        return;
    }
    for (to, port, from_container) in [(&api, "tcp/8080", &open), (&idle, "tcp/9090", &closed)] {
        let netns = why_via(to, port, "netns");
        assert_eq!(netns["verdict"], from_container["verdict"], "netns: {netns:#}\ncontainer: {from_container:#}");
        assert_eq!(statuses(&netns), statuses(from_container), "netns: {netns:#}\ncontainer: {from_container:#}");
        assert_eq!(netns["listener"]["status"], from_container["listener"]["status"]);
    }
    let (netns_matrix, _) = run(&["probe", "--docker", "--probe-via", "netns", "--format", "json", "--timeout-ms", "500"]);
    assert_eq!(netns_matrix["via"], "netns");
    let verdicts = |m: &Value| -> Vec<(String, String, Value, Value, Vec<String>)> {
        let mut v: Vec<_> = m["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let tcp = p["tcp"].as_array().unwrap().iter().map(|t| format!("{}:{}", t["port"], t["result"])).collect();
                (
                    p["from"].as_str().unwrap().to_string(),
                    p["to"].as_str().unwrap().to_string(),
                    p["reached"].clone(),
                    p["resolved"].clone(),
                    tcp,
                )
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    };
    assert_eq!(verdicts(&netns_matrix), verdicts(&matrix), "netns: {netns_matrix:#}\ncontainer: {matrix:#}");
}

/// Ctrl-C while the agent waits on a dropped connection: netdoctor removes the probe
/// containers and exits 130.
#[test]
fn interrupted_container_probes_are_removed() {
    let Some(()) = engine() else { return };
    let mut s = Scenario::new("viaint");
    let repo = AgentImageRepo(format!("{}-agent", s.prefix));
    let noicc = s.network("noicc", &["-o", "com.docker.network.bridge.enable_icc=false"]);
    let a = s.run("a", &["--network", &noicc], &[]);
    let b = s.run("b", &["--network", &noicc, "--expose", "80"], &[]);
    let a_id = docker_ok(&["inspect", "-f", "{{.Id}}", &a]);
    let b_id = docker_ok(&["inspect", "-f", "{{.Id}}", &b]);
    // ICC is off: every probe waits for its whole (long) timeout.
    let mut child = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["probe", "--docker", "--probe-via", "container", "--timeout-ms", "30000"])
        .args(&s.containers)
        .env("NETDOCTOR_PROBE_IMAGE", &repo.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while probe_containers_of(&a_id).is_empty() {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("no probe container appeared: {:?}", child.wait_with_output().map(|o| String::from_utf8_lossy(&o.stderr).to_string()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("netdoctor did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted") && stderr.contains("removed"), "{stderr}");
    assert_eq!(probe_containers_of(&a_id), "", "probe containers are removed after Ctrl-C");
    assert_eq!(probe_containers_of(&b_id), "", "also one whose creation was under way");
}

/// An engine reached over TCP (`DOCKER_HOST=tcp://127.0.0.1:2375`, a second dockerd in
/// its own network namespace): its containers' processes count as remote, so `auto`
/// probes from a throwaway container, importing the agent image over the API.
#[test]
fn tcp_docker_host_probes_from_a_container() {
    let Some(mut engine) = NestedEngine::start_with(&["-H", "tcp://127.0.0.1:2375"]) else { return };
    if let Err(why) = build_image(&["-H", &engine.host]) {
        skip::skip("nested-engine tests", &why);
        return;
    }
    engine.docker_ok(&["network", "create", "--subnet", "10.213.8.0/24", "ndtnet"]);
    engine.run("srv", &["--network", "ndtnet"], &["httpd", "-f", "-p", "80"]);
    engine.run("cli", &["--network", "ndtnet"], &["sleep", "600"]);
    let netdoctor_tcp = |args: &[&str]| {
        let out = Command::new("ip")
            .args(["netns", "exec", &engine.netns, env!("CARGO_BIN_EXE_netdoctor")])
            .args(args)
            .env("NO_COLOR", "1")
            .env("DOCKER_HOST", "tcp://127.0.0.1:2375")
            .env_remove("DOCKER_TLS_VERIFY")
            .output()
            .unwrap();
        (json_of(&out), out)
    };
    let (why, _) = netdoctor_tcp(&["why", "cli", "srv", "--port", "tcp/80", "--docker", "--probe", "--format", "json"]);
    assert_eq!(why["verdict"], "allowed", "{why:#}");
    assert_eq!(why["listener"]["status"], "pass", "{why:#}");
    let (closed, _) = netdoctor_tcp(&["why", "cli", "srv", "--port", "tcp/81", "--docker", "--probe", "--format", "json"]);
    assert_eq!(closed["verdict"], "denied", "{closed:#}");
    assert_eq!(closed["listener"]["status"], "fail", "{closed:#}");
    let (matrix, out) = netdoctor_tcp(&["probe", "--docker", "--format", "json", "--timeout-ms", "500"]);
    assert_eq!(matrix["via"], "container", "a TCP endpoint's processes are not ours: {matrix:#}");
    let cli_srv = matrix["pairs"].as_array().unwrap().iter().find(|p| p["from"] == "cli" && p["to"] == "srv").unwrap();
    assert_eq!(cli_srv["reached"], true, "{matrix:#}");
    assert_eq!(cli_srv["resolved"], true, "{matrix:#}");
    assert_eq!(out.status.code(), Some(0), "{matrix:#}");
    let left = engine.docker_ok(&["ps", "-a", "--filter", "label=org.netdoctor.probe-agent", "--format", "{{.Names}}"]);
    assert_eq!(left, "", "probe containers are removed");
    let images = engine.docker_ok(&["images", "--filter", "label=org.netdoctor.probe-agent", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.lines().count(), 1, "one agent image, reused: {images}");
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate (`ca.pem`,
/// `cert.pem`, `key.pem`, the layout DOCKER_CERT_PATH names), made with openssl.
fn tls_certificates(dir: &std::path::Path) -> Result<(), String> {
    let d = |f: &str| dir.join(f).display().to_string();
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").map_err(|e| e.to_string())?;
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").map_err(|e| e.to_string())?;
    let steps: Vec<Vec<String>> = vec![
        strings(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &d("ca-key.pem"), "-out", &d("ca.pem")]),
        strings(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &d("server-key.pem"),
            "-out",
            &d("server.csr"),
            "-subj",
            "/CN=127.0.0.1",
        ]),
        strings(&["x509", "-req", "-in", &d("server.csr"), "-CA", &d("ca.pem"), "-CAkey", &d("ca-key.pem"), "-CAcreateserial"]),
        strings(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &d("key.pem"), "-out", &d("client.csr"), "-subj", "/CN=ndt-client"]),
        strings(&["x509", "-req", "-in", &d("client.csr"), "-CA", &d("ca.pem"), "-CAkey", &d("ca-key.pem"), "-CAcreateserial"]),
    ];
    let tails: Vec<Vec<String>> = vec![
        strings(&["-days", "2", "-subj", "/CN=ndt-ca"]),
        Vec::new(),
        strings(&["-days", "2", "-out", &d("server-cert.pem"), "-extfile", &d("server.ext")]),
        Vec::new(),
        strings(&["-days", "2", "-out", &d("cert.pem"), "-extfile", &d("client.ext")]),
    ];
    for (step, tail) in steps.iter().zip(&tails) {
        let out = Command::new("openssl").args(step).args(tail).output().map_err(|e| format!("openssl: {e}"))?;
        if !out.status.success() {
            return Err(format!("openssl {}: {}", step.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(())
}

/// A TLS-protected engine (`tcp://127.0.0.1:2376`, `--tlsverify`): with DOCKER_TLS_VERIFY
/// and DOCKER_CERT_PATH netdoctor reads it and probes from a container; without them it
/// says to set them.
#[test]
fn tls_docker_host_with_client_certificates() {
    if Command::new("openssl").arg("version").output().is_err() {
        skip::skip("TLS Docker host test", "openssl is missing");
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    tls_certificates(certs.path()).unwrap();
    let c = |f: &str| certs.path().join(f).display().to_string();
    let Some(mut engine) = NestedEngine::start_with(&[
        "--tlsverify",
        "--tlscacert",
        &c("ca.pem"),
        "--tlscert",
        &c("server-cert.pem"),
        "--tlskey",
        &c("server-key.pem"),
        "-H",
        "tcp://127.0.0.1:2376",
    ]) else {
        return;
    };
    if let Err(why) = build_image(&["-H", &engine.host]) {
        skip::skip("nested-engine tests", &why);
        return;
    }
    engine.docker_ok(&["network", "create", "--subnet", "10.213.9.0/24", "ndtnet"]);
    engine.run("srv", &["--network", "ndtnet"], &["httpd", "-f", "-p", "80"]);
    engine.run("cli", &["--network", "ndtnet"], &["sleep", "600"]);
    let netdoctor_tls = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &engine.netns, env!("CARGO_BIN_EXE_netdoctor")])
            .args(args)
            .env("NO_COLOR", "1")
            .env("DOCKER_HOST", "tcp://127.0.0.1:2376")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let cert_path = certs.path().display().to_string();
    let tls = [("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", cert_path.as_str())];
    let out = netdoctor_tls(&["probe", "--docker", "--format", "json", "--timeout-ms", "500"], &tls);
    let matrix = json_of(&out);
    assert_eq!(matrix["via"], "container", "{matrix:#}");
    let cli_srv = matrix["pairs"].as_array().unwrap().iter().find(|p| p["from"] == "cli" && p["to"] == "srv").unwrap();
    assert_eq!(cli_srv["reached"], true, "{matrix:#}");
    assert_eq!(out.status.code(), Some(0), "{matrix:#}");

    // `check` reports input errors in its report, on stdout.
    let said = |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let plain = netdoctor_tls(&["check", "--docker"], &[]);
    let stderr = said(&plain);
    assert_eq!(plain.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DOCKER_TLS_VERIFY=1") && stderr.contains("DOCKER_CERT_PATH"), "{stderr}");

    let nowhere = netdoctor_tls(&["check", "--docker"], &[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", "/nonexistent-ndt")]);
    let stderr = said(&nowhere);
    assert_eq!(nowhere.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent-ndt/key.pem is missing"), "{stderr}");
}

//! Reads this host live, in the current network namespace: runs `iptables-save`,
//! `ip6tables-save`, `nft list tables`, `nft -j list ruleset` and `ip -j …` with a timeout each, and reads
//! `/proc/sys`, `daemon.json`, `ufw.conf` and the CNI configurations of `/etc/cni/net.d`. Read-only: nothing here changes the
//! host. Run under `ip netns exec NAME` (or `nsenter -n`) to read another namespace.

use super::capture::{cni_files, read_text, Capture, CapturedText, InputSource, CNI_DIR};
use super::sysctl;
use crate::error::LoadError;
use netdoctor_model::Origin;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where to look and how long to wait.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// How long one command may run before it is killed.
    pub timeout: Duration,
    pub daemon_json: PathBuf,
    pub ufw_conf: PathBuf,
    /// `/proc/sys` (a different root lets tests use a fake tree).
    pub proc_sys: PathBuf,
    /// `/proc/net`, where the legacy backend lists its tables.
    pub proc_net: PathBuf,
    /// The CNI configuration directory runtimes read (`/etc/cni/net.d`).
    pub cni_conf_dir: PathBuf,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            timeout: Duration::from_secs(10),
            daemon_json: PathBuf::from("/etc/docker/daemon.json"),
            ufw_conf: PathBuf::from("/etc/ufw/ufw.conf"),
            proc_sys: PathBuf::from("/proc/sys"),
            proc_net: PathBuf::from("/proc/net"),
            cni_conf_dir: PathBuf::from("/etc/cni/net.d"),
        }
    }
}

/// Directories searched for the tools besides `PATH`: they live in sbin, which a
/// normal user's `PATH` often lacks.
const SBIN: &[&str] = &["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The hint for a tool that refused to run for lack of privileges.
const PRIVILEGE_HINT: &str = "reading the firewall needs root (CAP_NET_ADMIN): run with sudo, or capture it on the host with \
     `sudo netdoctor snapshot --host -o host.json` and pass `--host-facts host.json`";

/// Captures this host. Missing tools leave their files out; a tool that fails is an error.
pub fn read_live(options: &LiveOptions) -> (Capture, Vec<LoadError>) {
    let mut texts = Vec::new();
    let mut errors = Vec::new();
    for (family_prefix, names_file) in [("iptables", "ip_tables_names"), ("ip6tables", "ip6_tables_names")] {
        let nft = format!("{family_prefix}-nft-save");
        let legacy = format!("{family_prefix}-legacy-save");
        let plain = format!("{family_prefix}-save");
        let has_nft = find_tool(&nft).is_some();
        let has_legacy = find_tool(&legacy).is_some();
        if has_nft {
            run_into(&mut texts, &mut errors, &format!("{nft}.txt"), &nft, &[], options.timeout);
        }
        // Running the legacy tool where no legacy table exists would make the kernel
        // load ip_tables: look at the namespace's table list first.
        let legacy_tables = std::fs::read_to_string(options.proc_net.join(names_file)).map(|t| !t.trim().is_empty()).unwrap_or(false);
        if has_legacy && legacy_tables {
            run_into(&mut texts, &mut errors, &format!("{legacy}.txt"), &legacy, &[], options.timeout);
        }
        if !has_nft && !has_legacy {
            run_into(&mut texts, &mut errors, &format!("{plain}.txt"), &plain, &[], options.timeout);
        }
    }
    run_into(&mut texts, &mut errors, "nft-tables.txt", "nft", &["list", "tables"], options.timeout);
    run_into(&mut texts, &mut errors, "nft.json", "nft", &["-j", "list", "ruleset"], options.timeout);
    let ip_runs: [(&str, &[&str]); 6] = [
        ("ip-link.json", &["-j", "-d", "link", "show"]),
        ("ip-addr.json", &["-j", "addr", "show"]),
        ("ip-route.json", &["-j", "-4", "route", "show", "table", "all"]),
        ("ip6-route.json", &["-j", "-6", "route", "show", "table", "all"]),
        ("ip-rule.json", &["-j", "-4", "rule", "show"]),
        ("ip6-rule.json", &["-j", "-6", "rule", "show"]),
    ];
    for (file, args) in ip_runs {
        run_into(&mut texts, &mut errors, file, "ip", args, options.timeout);
    }
    if let Some(text) = read_sysctls(&options.proc_sys) {
        texts.push(CapturedText { name: "sysctl.txt".into(), text, source: InputSource::Live("sysctl".into()) });
    }
    for (name, path) in [("daemon.json", &options.daemon_json), ("ufw.conf", &options.ufw_conf)] {
        match std::fs::read_to_string(path) {
            Ok(text) => texts.push(CapturedText { name: name.into(), text, source: InputSource::File(Arc::from(path.as_path())) }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => errors.push(LoadError::unreadable(path, format!("cannot read: {e}"))),
        }
    }
    match cni_files(&options.cni_conf_dir) {
        Ok(files) => {
            for (file, path) in files {
                match read_text(&path) {
                    Ok(text) => texts.push(CapturedText {
                        name: format!("{CNI_DIR}/{file}"),
                        text,
                        source: InputSource::File(Arc::from(path.as_path())),
                    }),
                    Err(e) => errors.push(e),
                }
            }
        }
        Err(e) => errors.push(e),
    }
    // Say how to get the privilege once, not for every tool that lacked it.
    let hint = format!("; {PRIVILEGE_HINT}");
    for e in errors.iter_mut().filter(|e| e.message.ends_with(&hint)).skip(1) {
        e.message.truncate(e.message.len() - hint.len());
    }
    (Capture { origin: Origin::Logical("host://live".into()), texts }, errors)
}

/// `key = value` lines for the settings `sysctl` knows, read from `/proc/sys`.
fn read_sysctls(proc_sys: &Path) -> Option<String> {
    let mut text = String::new();
    for key in sysctl::KEYS {
        let path = proc_sys.join(key.replace('.', "/"));
        if let Ok(value) = std::fs::read_to_string(&path) {
            text.push_str(&format!("{key} = {}\n", value.trim()));
        }
    }
    (!text.is_empty()).then_some(text)
}

/// Runs a tool and stores its output as `file`; a missing tool stores nothing.
fn run_into(texts: &mut Vec<CapturedText>, errors: &mut Vec<LoadError>, file: &str, tool: &str, args: &[&str], timeout: Duration) {
    let Some(path) = find_tool(tool) else { return };
    let command = std::iter::once(tool).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
    let source = InputSource::Live(command.clone());
    match run(&path, args, timeout) {
        Ok(text) => texts.push(CapturedText { name: file.into(), text, source }),
        Err(message) => errors.push(LoadError::whole_input(&source.path(), message)),
    }
}

/// The tool's path: from `PATH`, then the sbin directories.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    path_dirs.into_iter().chain(SBIN.iter().map(PathBuf::from)).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Runs a command with a deadline and returns its standard output.
pub fn run(program: &Path, args: &[&str], timeout: Duration) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", program.display()))?;
    // Read both pipes on threads so a chatty command cannot block on a full pipe.
    let stdout = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        })
    });
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs_f32()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for the command failed: {e}")),
        }
    };
    let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
    let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let err_text = String::from_utf8_lossy(&err).trim().to_string();
    if !status.success() {
        let denied =
            err_text.contains("ermission denied") || err_text.contains("must be root") || err_text.contains("Operation not permitted");
        let hint = if denied { format!("; {PRIVILEGE_HINT}") } else { String::new() };
        let detail = if err_text.is_empty() { String::new() } else { format!(": {}", err_text.lines().next().unwrap_or_default()) };
        return Err(format!("exited with {status}{detail}{hint}"));
    }
    String::from_utf8(out).map_err(|_| "printed output that is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_hangs_is_killed_at_the_deadline() {
        let Some(sleep) = find_tool("sleep") else {
            eprintln!("skipped: no `sleep` binary");
            return;
        };
        let start = Instant::now();
        let result = run(&sleep, &["5"], Duration::from_millis(200));
        assert!(result.is_err_and(|e| e.contains("timed out")));
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_failing_command_reports_its_status_and_stderr() {
        let Some(sh) = find_tool("sh") else {
            eprintln!("skipped: no `sh` binary");
            return;
        };
        let result = run(&sh, &["-c", "echo 'iptables: Permission denied (you must be root)' >&2; exit 4"], Duration::from_secs(5));
        let message = result.err().unwrap_or_default();
        assert!(message.contains("exit status: 4"), "{message}");
        assert!(message.contains("needs root"), "{message}");
    }

    #[test]
    fn sysctls_come_from_the_proc_tree() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("net/ipv4/ip_forward");
        std::fs::create_dir_all(file.parent().unwrap_or(dir.path())).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&file, "0\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_sysctls(dir.path()).as_deref(), Some("net.ipv4.ip_forward = 0\n"));
    }

    /// The CNI directory is read live, in name order, config files only; a snapshot bundle
    /// keeps them and reads them back.
    #[test]
    fn cni_configurations_are_read_live_and_kept_in_bundles() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cni = dir.path().join("net.d");
        std::fs::create_dir_all(&cni).unwrap_or_else(|e| panic!("{e}"));
        for (name, text) in [
            ("20-calico.conflist", r#"{"name": "k8s-pod-network", "plugins": [{"type": "calico"}]}"#),
            ("10-flannel.conflist", r#"{"name": "cbr0", "plugins": [{"type": "flannel"}]}"#),
            ("10-flannel.conflist.bak", "old"),
        ] {
            std::fs::write(cni.join(name), text).unwrap_or_else(|e| panic!("{e}"));
        }
        let missing = dir.path().join("missing");
        let options = LiveOptions {
            timeout: Duration::from_secs(5),
            daemon_json: missing.clone(),
            ufw_conf: missing.clone(),
            proc_sys: missing.clone(),
            proc_net: missing,
            cni_conf_dir: cni,
        };
        let (capture, _) = read_live(&options);
        let names: Vec<&str> = capture.texts.iter().map(|t| t.name.as_str()).filter(|n| n.starts_with("cni/")).collect();
        assert_eq!(names, ["cni/10-flannel.conflist", "cni/20-calico.conflist"]);
        let bundle_path = dir.path().join("host.json");
        std::fs::write(&bundle_path, super::super::write_bundle(&capture, &[])).unwrap_or_else(|e| panic!("{e}"));
        let (facts, errors) = super::super::load_path(&bundle_path);
        assert!(errors.is_empty(), "{errors:?}");
        let read: Vec<(&str, Vec<String>)> = facts.cni_configs.iter().map(|c| (c.file.as_str(), c.plugins.clone())).collect();
        assert_eq!(read, [("10-flannel.conflist", vec!["flannel".to_string()]), ("20-calico.conflist", vec!["calico".to_string()])]);
    }
}

//! End-to-end tests of the `netdoctor` binary: the examples, every output format,
//! exit codes, broken input, secrets, and the docs generated from the registry.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn netdoctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_PROFILES")
        .output()
        .expect("run netdoctor")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(args: &[&str]) -> (serde_json::Value, i32) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = netdoctor(&all);
    let value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)));
    (value, out.status.code().unwrap_or(-1))
}

fn rules_of(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn each_example_reports_its_intended_rule_and_nothing_else() {
    let cases: &[(&str, &[&str], i32)] = &[
        ("examples/split-networks", &["ND102"], 1),
        ("examples/default-bridge", &["ND101"], 1),
        ("examples/vpn-overlap", &["ND202"], 1),
        ("examples/hardcoded-ip", &["ND205"], 1),
        ("examples/hostname-typo", &["ND301"], 1),
        ("examples/exposed-database", &["ND510"], 1),
        ("examples/dns-override", &["ND302"], 1),
        ("examples/clean-webapp", &[], 0),
        ("examples/k8s-vpn-node", &["ND202"], 1),
        ("examples/k8s-calico-tiers", &["ND409"], 1),
    ];
    for (dir, want, code) in cases {
        let (report, status) = json(&["check", dir]);
        assert_eq!(rules_of(&report), *want, "{dir}: {report:#}");
        assert_eq!(status, *code, "{dir}");
        assert_eq!(report["errors"], serde_json::json!([]), "{dir}");
    }
}

#[test]
fn text_output_points_at_the_line_with_a_caret() {
    let out = netdoctor(&["check", "examples/split-networks"]);
    let text = stdout(&out);
    insta::assert_snapshot!(text);
    assert!(!text.contains('\u{1b}'), "no colour when NO_COLOR is set and stdout is not a terminal");
}

/// `why` blames only the first failing layer: a later layer that would fail for the
/// same reason is `skip`, not reached, with no fix of its own.
#[test]
fn why_blames_only_the_first_failing_layer() {
    let (doc, code) = json(&["why", "web", "db", "--port", "tcp/5432", "-f", "examples/split-networks/compose.yaml"]);
    assert_eq!((code, doc["verdict"].as_str()), (1, Some("denied")), "{doc:#}");
    let steps = doc["steps"].as_array().unwrap();
    let failing: Vec<u64> = steps.iter().filter(|s| s["status"] == "fail").filter_map(|s| s["layer"].as_u64()).collect();
    assert_eq!(failing, [1], "{doc:#}");
    let dns = &steps[2];
    assert_eq!(dns["status"], "skip", "{doc:#}");
    assert_eq!(dns["evidence"][0], "not reached: layer 1 (attachment) fails first", "{doc:#}");
    assert!(dns.get("fix").is_none(), "{doc:#}");
    assert!(steps[0]["fix"].as_str().unwrap().contains("add `backend` to the `networks:` of `web`"), "{doc:#}");
}

/// One short flag, one meaning: `-p` names a Compose project on every subcommand that
/// takes one, as `--project-name` (and `--project`).
#[test]
fn the_project_flag_is_the_same_everywhere() {
    for command in ["check", "why", "probe", "snapshot"] {
        let help = stdout(&netdoctor(&[command, "--help"]));
        assert!(help.contains("-p, --project-name <NAME>"), "{command}: {help}");
    }
    let (report, code) = json(&["check", "examples/split-networks", "--project", "other"]);
    assert_eq!((code, report["errors"].as_array().map(Vec::len)), (1, Some(0)), "{report:#}");
}

/// ND301 points at the host inside the value, not at the variable: the caret is under
/// the host, which is shown while the credentials stay masked, and JSON's column is the
/// host's too.
#[test]
fn an_unresolvable_host_is_underlined_inside_its_value() {
    let text = stdout(&netdoctor(&["check", "examples/hostname-typo"]));
    assert!(
        text.contains("  --> examples/hostname-typo/compose.yaml:17:36\n   |\n17 |       AMQP_URL: amqp://***@rabbbitmq:5672\n   |                            ^^^^^^^^^\n"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: nginx\n    environment:\n      DB_HOST: dbb\n      DB_PASSWORD: dbb-secret\n  db:\n    image: postgres\n",
    )
    .unwrap();
    let text = stdout(&netdoctor(&["check", dir.path().to_str().unwrap()]));
    assert!(text.contains("5 |       DB_HOST: dbb\n  |                ^^^\n"), "{text}");
    assert!(!text.contains("dbb-secret"), "{text}");
    let (report, _) = json(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(report["findings"][0]["location"]["column"], 16, "{report:#}");
}

#[test]
fn json_and_sarif_outputs() {
    let (report, _) = json(&["check", "examples/hostname-typo"]);
    insta::assert_json_snapshot!("hostname-typo.json", report);
    let out = netdoctor(&["check", "examples/exposed-database", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["ruleId"] == "ND510"));
}

#[test]
fn secrets_never_reach_any_output() {
    for dir in ["examples/split-networks", "examples/default-bridge", "examples/hostname-typo", "examples/exposed-database"] {
        for format in ["text", "json", "sarif"] {
            let out = netdoctor(&["check", dir, "--format", format]);
            let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
            for secret in ["changeme", "wp-secret", "guest:guest", "rails:rails", "grafana:grafana"] {
                assert!(!all.contains(secret), "{dir} --format {format} leaks `{secret}`:\n{all}");
            }
        }
    }
}

#[test]
fn fail_on_select_and_ignore() {
    let (_, code) = json(&["check", "examples/exposed-database", "--fail-on", "error"]);
    assert_eq!(code, 0, "ND510 is a warning");
    let (report, code) = json(&["check", "examples/split-networks", "--ignore", "ND102"]);
    assert_eq!((rules_of(&report), code), (vec![], 0));
    let (report, _) = json(&["check", "examples/split-networks", "--select", "ND3"]);
    assert!(rules_of(&report).is_empty());
    let out = netdoctor(&["check", "examples/split-networks", "--select", "ND999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ND999"));
}

#[test]
fn output_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.sarif");
    let out = netdoctor(&["check", "examples/split-networks", "--format", "sarif", "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let sarif: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "ND102");
}

#[test]
fn explain_and_rules() {
    let out = netdoctor(&["explain", "ND102"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("explain-ND102", stdout(&out));
    let out = netdoctor(&["explain", "ND10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean"));
    let out = netdoctor(&["explain", "no-shared-network"]);
    assert!(stdout(&out).starts_with("# ND102 no-shared-network"));
}

/// `docs/rules/*.md` and the README's rule table are generated from the registry;
/// run with `UPDATE_DOCS=1` to rewrite them.
#[test]
fn docs_match_the_registry() {
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let rules: Vec<serde_json::Value> = serde_json::from_slice(&netdoctor(&["rules", "--format", "json"]).stdout).unwrap();
    let docs = repo().join("docs/rules");
    for rule in &rules {
        let id = rule["id"].as_str().unwrap();
        let page = stdout(&netdoctor(&["explain", id]));
        let path = docs.join(format!("{id}.md"));
        if update {
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(&path, &page).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(on_disk, page, "{} is stale: run `UPDATE_DOCS=1 cargo test -p netdoctor-cli docs_match`", path.display());
    }
    let table = stdout(&netdoctor(&["rules", "--format", "md"]));
    let readme_path = repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
    let (head, rest) = readme.split_once(start).expect("README has a rules:start marker");
    let (_, tail) = rest.split_once(end).expect("README has a rules:end marker");
    let fresh = format!("{head}{start}{table}{end}{tail}");
    if update {
        std::fs::write(&readme_path, &fresh).unwrap();
    }
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let example = stdout(&netdoctor(&["check", "examples/split-networks"]));
    assert!(
        readme.contains(&format!("$ netdoctor check examples/split-networks\n{}```", example.trim_end().to_string() + "\n")),
        "the README's example output is stale: paste the output of `netdoctor check examples/split-networks`"
    );
    assert_eq!(readme, fresh, "the README rule table is stale: run `UPDATE_DOCS=1 cargo test -p netdoctor-cli docs_match`");
}

/// Writes `content` as compose.yaml in a fresh directory and checks it.
fn check_broken(content: &[u8]) -> (Output, Duration, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), content).unwrap();
    let start = Instant::now();
    let out = netdoctor(&["check", dir.path().to_str().unwrap()]);
    (out, start.elapsed(), dir)
}

/// Settings are not peers, whatever the variable is called: only the real host name in
/// this project is checked (and its typo reported).
#[test]
fn settings_in_host_variables_are_not_peers() {
    let project = "services:\n  app:\n    image: app\n    environment:\n      CACHE_HOST: \"false\"\n      PROXY_HOST: \"off\"\n      SMTP_SERVER: none\n      HEALTH_HOST_TIMEOUT: 30s\n      DB_HOST: postgress\n      SOCKET_ADDR: /var/run/app.sock\n  postgres:\n    image: postgres\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), project).unwrap();
    let (report, _) = json(&["check", dir.path().to_str().unwrap()]);
    let nd301: Vec<&str> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "ND301").filter_map(|f| f["message"].as_str()).collect();
    assert_eq!(nd301.len(), 1, "{report:#}");
    assert!(nd301[0].contains("postgress"), "{nd301:?}");
}

#[test]
fn broken_input_exits_2_with_a_located_error() {
    let deep = format!("services: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    let mut huge = b"services:\n  web:\n    image: nginx\n    labels:\n".to_vec();
    while huge.len() < 15 * 1024 * 1024 {
        huge.extend_from_slice(format!("      label{}: \"{}\"\n", huge.len(), "x".repeat(100)).as_bytes());
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed yaml", b"services:\n  web:\n    image: [nginx\n".to_vec(), ":4:1: invalid yaml"),
        ("wrong type", b"services:\n  web:\n    image: nginx\n    networks: 5\n".to_vec(), ":4:"),
        ("unknown network_mode", b"services:\n  web:\n    image: nginx\n    network_mode: \"bridge:x\"\n".to_vec(), ":4:"),
        ("unset required variable", b"services:\n  web:\n    image: \"${NETDOCTOR_TEST_UNSET_VAR?must be set}\"\n".to_vec(), ":3:"),
        ("empty file", Vec::new(), "compose.yaml"),
        ("binary file", vec![0x7f, b'E', b'L', b'F', 0, 1, 2, 3, 0xff, 0xfe], "compose.yaml"),
        ("alias bomb", bomb.as_bytes().to_vec(), "compose.yaml"),
        ("deep nesting", deep.into_bytes(), ":1:"),
        ("15 MB file", huge, "compose.yaml"),
    ];
    for (what, content, located) in cases {
        let (out, took, _dir) = check_broken(&content);
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{what}: {all}");
        assert!(!all.contains("panicked"), "{what} panicked: {all}");
        let error_line = all.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("{what}: no error line in {all}"));
        assert!(error_line.contains("compose.yaml") && error_line.contains(located), "{what}: {error_line}");
        assert!(took < Duration::from_secs(20), "{what} took {took:?}");
        // The line the error points at is shown with a caret, a very long one cut.
        if what == "wrong type" {
            // The message names `services.web.networks` already: no `= in:` line repeats it.
            assert!(all.contains("4 |     networks: 5\n  |               ^\n\n"), "{what}: {all}");
        }
        if what == "deep nesting" {
            assert!(all.contains("1 | ") && all.lines().all(|l| l.chars().count() < 400), "{what}: {}", &all[..all.len().min(2000)]);
        }
    }
}

/// An input error names where in the document it is, in text and in JSON, for Compose
/// files and manifests alike.
#[test]
fn input_errors_name_the_path_inside_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("compose.yaml");
    std::fs::write(&compose, "services:\n  web:\n    image: nginx\n    ports:\n      - 80\n      - \"8080:http\"\n").unwrap();
    let out = netdoctor(&["check", compose.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(v["errors"][0]["path"], "services.web.ports[1]", "{v:#}");
    let manifest = dir.path().join("policy.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: a}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 5432, protocol: TPC}\n",
    )
    .unwrap();
    let out = netdoctor(&["check", manifest.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("= in: spec.ingress[0].ports[0].protocol\n"), "{text}");
}

#[test]
fn broken_config_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), "services:\n  web:\n    image: nginx\n").unwrap();
    std::fs::write(dir.path().join("netdoctor.toml"), "[[external_ranges]]\nname = \"vpn\"\ncidr = \"10.0.0.0/33\"\n").unwrap();
    let out = netdoctor(&["check", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("netdoctor.toml:3:"), "{text}");
}

#[test]
fn closed_stdout_pipe_exits_quietly() {
    // The read end is closed before the program starts, so its first write fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_netdoctor"))
        .args(["check", "examples/split-networks"])
        .current_dir(repo())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.is_empty(), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

#[test]
fn config_file_expected_flows_severity_and_ignore() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("examples/clean-webapp/compose.yaml"), dir.path().join("compose.yaml")).unwrap();
    let config = "ignore = [\"ND107\"]\n\n[severity]\nND102 = \"warning\"\n\n[[expected_flows]]\nfrom = \"proxy\"\nto = \"db\"\nport = \"tcp/5432\"\n";
    std::fs::write(dir.path().join("netdoctor.toml"), config).unwrap();
    let (report, code) = json(&["check", dir.path().to_str().unwrap()]);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    let f = &findings[0];
    assert_eq!((f["rule"].as_str(), f["severity"].as_str()), (Some("ND102"), Some("warning")));
    assert!(f["location"]["file"].as_str().unwrap().ends_with("netdoctor.toml"), "{f:#}");
    assert_eq!(f["location"]["line"], 6);
    assert!(f["message"].as_str().unwrap().contains("expected flow"), "{f:#}");
    assert_eq!(code, 1);
    let (_, code) = json(&["check", dir.path().to_str().unwrap(), "--fail-on", "error"]);
    assert_eq!(code, 0, "the flag wins over the file's default");

    std::fs::write(dir.path().join("netdoctor.toml"), "[[expected_flows]]\nfrom = \"nobody\"\nto = \"db\"\n").unwrap();
    let (report, code) = json(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(report["errors"][0]["message"].as_str().unwrap().contains("nobody"), "{report:#}");
}

#[test]
fn compose_flags_select_files_profiles_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let base = "services:\n  web:\n    image: web\n    environment:\n      API: http://${API_HOST:?set API_HOST}:8080\n  api:\n    image: api\n    profiles: [full]\n";
    std::fs::write(dir.path().join("base.yaml"), base).unwrap();
    std::fs::write(dir.path().join("prod.env"), "API_HOST=api\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let file = dir.path().join("base.yaml");
    let env = dir.path().join("prod.env");
    // Without the profile, `api` is not part of the project: the name cannot resolve.
    let (report, _) = json(&["check", "-f", file.to_str().unwrap(), "--env-file", env.to_str().unwrap(), d]);
    assert_eq!(rules_of(&report), ["ND301"], "{report:#}");
    let (report, code) = json(&["check", "-f", file.to_str().unwrap(), "--env-file", env.to_str().unwrap(), "--profile", "full", d]);
    assert_eq!((rules_of(&report), code), (vec![], 0), "{report:#}");
    // Without the env file the required variable is missing: a located input error.
    let (report, code) = json(&["check", "-f", file.to_str().unwrap(), d]);
    assert_eq!(code, 2);
    assert_eq!(report["errors"][0]["line"], 5, "{report:#}");
}

/// Colour on a terminal, never with NO_COLOR (`script` gives the program a terminal).
#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let binary = env!("CARGO_BIN_EXE_netdoctor");
    let on_tty = |no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &format!("{binary} check examples/dns-override"), "/dev/null"]).current_dir(repo()).env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        cmd.output().expect("`script` (util-linux) runs the program on a pseudo-terminal")
    };
    let coloured = on_tty(false);
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\u{1b}[1;31merror[ND302]"), "{coloured:?}");
    let plain = on_tty(true);
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(text.contains("error[ND302]") && !text.contains('\u{1b}'), "{text}");
}

/// The README's first command is `cargo run --release -- check examples/…`: with two
/// binaries in the package, `cargo run` needs `default-run` to pick the CLI, and the
/// example must exist.
#[test]
fn the_readme_first_command_runs_the_cli_on_an_example() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let first = readme.lines().find(|l| l.starts_with("cargo run")).expect("the README starts with a `cargo run` command");
    let example = first.split_whitespace().find(|w| w.starts_with("examples/")).expect("the command checks an example");
    assert!(repo().join(example).is_dir(), "{example} does not exist");
    let manifest = std::fs::read_to_string(repo().join("crates/netdoctor-cli/Cargo.toml")).unwrap();
    let bins = manifest.matches("[[bin]]").count();
    assert!(bins < 2 || manifest.contains("default-run = \"netdoctor\""), "`cargo run` cannot choose between {bins} binaries");
    let out = netdoctor(&["check", example]);
    assert_eq!(out.status.code(), Some(1), "the example shows a finding: {}", stdout(&out));
}

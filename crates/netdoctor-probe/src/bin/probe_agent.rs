//! `netdoctor-probe-agent`: the probe binary netdoctor runs inside a throwaway
//! container that shares a target container's network namespace, when it cannot enter
//! that namespace itself (see `netdoctor_probe::agent`). It uses nothing but the probe
//! crate: no shell, no resolver library (probes use literal addresses).
//!
//! - `netdoctor-probe-agent run '<request JSON>'`: runs the probes, prints one JSON line.
//! - `netdoctor-probe-agent libs`: prints the shared objects it is linked with, one a
//!   line (nothing for a static build): what its image needs beside it.
//!
//! Exit codes: 0 answered, 2 a bad request.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (text, code) = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["run", request] => match netdoctor_probe::agent::serve(request) {
            Ok(answer) => (answer, 0),
            Err(e) => (format!("error: {e}"), 2),
        },
        ["libs"] => (netdoctor_probe::agent::mapped_libraries().join("\n"), 0),
        ["--version"] => (format!("netdoctor-probe-agent {}", env!("CARGO_PKG_VERSION")), 0),
        _ => (
            "usage: netdoctor-probe-agent run '<request JSON>' | libs | --version (netdoctor starts it; it is not meant to be run by hand)"
                .to_string(),
            2,
        ),
    };
    let mut out: Box<dyn Write> = if code == 0 { Box::new(std::io::stdout()) } else { Box::new(std::io::stderr()) };
    let _ = writeln!(out, "{text}");
    ExitCode::from(code)
}

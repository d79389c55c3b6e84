//! Skipping a test's real work, shared by the test suites (`#[path]`-included): never
//! silently, and never under CI.
//!
//! A suite that cannot do its work here (no root, no Docker daemon, no `../shared`, no
//! NCA) calls `skip`. Under `CI=true` (which `.ci/run` exports) that fails the test with
//! the reason. Otherwise the reason goes straight to standard error, past the test
//! harness's capture, so `cargo test` shows it for passing tests too, and into the file
//! `NETDOCTOR_SKIP_LOG` names, from which `.ci/run` prints its summary of skipped suites.

#![allow(dead_code)] // each suite uses what it needs

use std::io::Write as _;

/// Whether this is a CI run, where every suite must do its work.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips `suite` because of `why`: a test failure under CI, a visible note otherwise.
#[allow(clippy::panic)] // failing the test is the point under CI
pub fn skip(suite: &str, why: &str) {
    if ci() {
        panic!("{suite} cannot run: {why} (CI=true: every suite must do its work; .ci/run installs and starts what the tests need)");
    }
    // `io::stderr()` directly, not `eprintln!`: the test harness captures the macros only.
    let _ = writeln!(std::io::stderr(), "SKIPPED {suite}: {why}");
    if let Some(path) = std::env::var_os("NETDOCTOR_SKIP_LOG") {
        if let Ok(mut log) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(log, "{suite}: {why}");
        }
    }
}

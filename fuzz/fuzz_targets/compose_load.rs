//! Fuzzes the whole static pipeline on one compose file: `compose::load` (interpolation,
//! `extends`, `include`, merging, profiles), `compose::lower`, the engine's analysis and
//! every rule, as `netdoctor check` runs them. A panic, a hang or an error that is
//! neither at a line nor about a whole file is a bug.

#![no_main]

#[path = "common.rs"]
mod common;

use common::{check_located, run_rules, scratch_dir, write_input};
use libfuzzer_sys::fuzz_target;
use netdoctor_sources::compose::{self, LoadOptions};

fuzz_target!(|data: &[u8]| {
    write_input("compose.yaml", data);
    let opts = LoadOptions { working_dir: scratch_dir().clone(), ..LoadOptions::default() };
    let doc = match compose::load(&opts) {
        Ok(doc) => doc,
        Err(e) => return check_located(&e),
    };
    let model = match compose::lower(&doc) {
        Ok(model) => model,
        Err(errors) => return errors.iter().for_each(check_located),
    };
    run_rules(&model);
});

//! The model a real-looking project lowers to, snapshotted so every change to
//! loading or lowering shows up in review.
#![allow(clippy::unwrap_used)] // test code

use netdoctor_sources::compose::{self, LoadOptions};
use std::path::PathBuf;

#[test]
fn split_networks_example_model() {
    // Relative to the crate directory, so positions print the same on every machine.
    let opts = LoadOptions { working_dir: PathBuf::from("../../examples/split-networks"), ..LoadOptions::default() };
    let doc = compose::load(&opts).unwrap();
    let model = compose::lower(&doc).unwrap();
    insta::assert_yaml_snapshot!(model);
}

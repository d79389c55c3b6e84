//! Fuzzes the YAML reader: `yaml::decode` on raw bytes, then `yaml::parse` on the text
//! (lossily decoded, so that every input reaches the parser). A panic, a hang or an
//! error without a line is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netdoctor_sources::yaml;
use std::path::Path;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let file: Arc<Path> = Arc::from(Path::new("compose.yaml"));
    if let Err(e) = yaml::decode(data, &file) {
        assert!(e.line > 0, "decode error without a line: {e}");
    }
    let text = String::from_utf8_lossy(data);
    match yaml::parse(&text, file) {
        // Rendering walks the whole tree, as error messages and snapshots do.
        Ok(root) => drop(root.to_string()),
        Err(e) => assert!(e.line > 0 || e.message.starts_with("empty compose file"), "parse error without a line: {e}"),
    }
});

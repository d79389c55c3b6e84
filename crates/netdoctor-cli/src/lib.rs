//! The `netdoctor` command's library half: loading inputs, layering configuration,
//! running the rules and printing, so benchmarks and tests can drive the same code
//! as the binary.

pub mod check;
pub mod config;
pub mod explain;
pub mod host;
pub mod live;
pub mod matrix;
pub mod probe;
pub mod why;

use std::io::Write;

/// Writes to stdout and returns `code`; a reader that went away (a closed pipe) is
/// not an error and exits 0.
pub fn print(text: &str, code: u8) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            2
        }
    }
}

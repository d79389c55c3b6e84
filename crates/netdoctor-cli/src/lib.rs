//! The `netdoctor` command's library half: loading inputs, layering configuration,
//! running the rules and printing, so benchmarks and tests can drive the same code
//! as the binary.

pub mod check;
pub mod config;
pub mod diff;
pub mod explain;
pub mod host;
pub mod kube;
pub mod live;
pub mod matrix;
pub mod probe;
pub mod prober;
pub mod why;

use std::io::Write;

/// A reading problem, as reports show it.
pub(crate) fn input_error(e: netdoctor_sources::LoadError) -> netdoctor_report::InputError {
    netdoctor_report::InputError { file: e.file, line: e.line, column: e.column, message: e.message, path: e.path }
}

/// The text of each file, read once, for source excerpts; files that cannot be read are
/// left out (their excerpt is not shown).
pub(crate) fn source_texts(files: impl IntoIterator<Item = std::path::PathBuf>) -> std::collections::HashMap<std::path::PathBuf, String> {
    let mut sources = std::collections::HashMap::new();
    for path in files {
        if let std::collections::hash_map::Entry::Vacant(slot) = sources.entry(path) {
            if let Some(text) = netdoctor_sources::read_source_text(slot.key()) {
                slot.insert(text);
            }
        }
    }
    sources
}

/// Prints reading problems to standard error, each with its source line and a caret
/// (`check` prints them in its report the same way).
pub fn print_input_errors(errors: &[netdoctor_report::InputError]) {
    if errors.is_empty() {
        return;
    }
    let sources = source_texts(errors.iter().filter(|e| e.line > 0).map(|e| e.file.clone()));
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    eprint!("{}", netdoctor_report::render_input_errors(errors, &sources, color));
}

/// Writes `text` to `output`, or to stdout when there is none, and returns `code`
/// (2 when the file cannot be written).
pub fn emit(text: &str, output: Option<&std::path::Path>, code: u8) -> u8 {
    emit_described(text, output, code, None::<fn() -> String>)
}

/// Writes a snapshot like `emit`; when it went to a file, says so on stderr with
/// `describe`'s summary of what it holds: `wrote FILE (SUMMARY)`.
pub fn emit_snapshot(text: &str, output: Option<&std::path::Path>, code: u8, describe: impl FnOnce() -> String) -> u8 {
    emit_described(text, output, code, Some(describe))
}

fn emit_described(text: &str, output: Option<&std::path::Path>, code: u8, describe: Option<impl FnOnce() -> String>) -> u8 {
    match output {
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => {
                if let Some(describe) = describe {
                    eprintln!("wrote {} ({})", path.display(), describe());
                }
                code
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}; check the directory exists and is writable", path.display());
                2
            }
        },
        None => print(text, code),
    }
}

/// Writes what `write` produces to `output`, or to stdout, as it is produced (for
/// outputs too big to build in memory first); returns `code` like `emit`.
pub fn emit_streamed(output: Option<&std::path::Path>, code: u8, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> u8 {
    let result = match output {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => {
                let mut out = std::io::BufWriter::new(file);
                write(&mut out).and_then(|()| out.flush())
            }
            Err(e) => Err(e),
        },
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out).and_then(|()| out.flush())
        }
    };
    match result {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && output.is_none() => 0,
        Err(e) => {
            match output {
                Some(path) => eprintln!("error: cannot write {}: {e}; check the directory exists and is writable", path.display()),
                None => eprintln!("error: cannot write to standard output: {e}"),
            }
            2
        }
    }
}

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

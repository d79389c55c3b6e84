//! Captured host inputs: the text of each file of the layout, with where it came from
//! so every parsed fact gets an origin and every error a location.

use crate::error::LoadError;
use netdoctor_model::{Origin, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file names of the layout (see the module docs of `host`).
pub const LAYOUT: &[&str] = &[
    "iptables-save.txt",
    "iptables-legacy-save.txt",
    "iptables-nft-save.txt",
    "ip6tables-save.txt",
    "ip6tables-legacy-save.txt",
    "ip6tables-nft-save.txt",
    "nft-tables.txt",
    "nft.json",
    "ip-link.json",
    "ip-addr.json",
    "ip-route.json",
    "ip6-route.json",
    "ip-rule.json",
    "ip6-rule.json",
    "sysctl.txt",
    "daemon.json",
    "ufw.conf",
];

/// The folder of the layout holding CNI configurations (`cni/10-flannel.conflist`).
pub const CNI_DIR: &str = "cni";

/// Most CNI configuration files read from one directory.
pub const MAX_CNI_FILES: usize = 64;

/// Whether `name` is a file of the layout: one of `LAYOUT`, or `cni/<config file>`.
pub fn is_layout_name(name: &str) -> bool {
    LAYOUT.contains(&name) || name.strip_prefix("cni/").is_some_and(|file| !file.contains('/') && super::cni::is_config_name(file))
}

/// The CNI configuration files of a directory, by name (the order runtimes read them in),
/// at most `MAX_CNI_FILES`. A missing directory has none.
pub fn cni_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LoadError::unreadable(dir, format!("cannot read the CNI configuration directory: {e}"))),
    };
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            super::cni::is_config_name(&name).then(|| (name, e.path()))
        })
        .collect();
    files.sort();
    files.truncate(MAX_CNI_FILES);
    Ok(files)
}

/// Reads one captured file, refusing huge and non-UTF-8 ones.
pub fn read_text(path: &Path) -> Result<String, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::unreadable(path, format!("cannot read host facts file: {e}")))?;
    if meta.len() > MAX_INPUT_BYTES {
        return Err(LoadError::unreadable(path, format!("file is larger than {} MB", MAX_INPUT_BYTES / 1024 / 1024)));
    }
    let bytes = std::fs::read(path).map_err(|e| LoadError::unreadable(path, format!("cannot read host facts file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| LoadError::unreadable(path, format!("not UTF-8 text: {e}")))
}

/// Captured files larger than this are refused (a 20,000-rule dump is about 2 MB).
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Where one captured text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// A file on disk: origins are file positions, so reports can show excerpts.
    File(Arc<Path>),
    /// The output of a command run on this host (`iptables-save`).
    Live(String),
    /// A file of a snapshot bundle.
    Bundle { bundle: PathBuf, name: String },
}

impl InputSource {
    /// The origin of a position in the text.
    pub fn origin(&self, line: u32, column: u32) -> Origin {
        match self {
            InputSource::File(path) => Origin::File(Span::new(path.clone(), line, column)),
            InputSource::Live(command) => Origin::Logical(format!("host://{command}:{line}")),
            InputSource::Bundle { bundle, name } => Origin::Logical(format!("{}#{name}:{line}", bundle.display())),
        }
    }

    /// The path an error about this input names.
    pub fn path(&self) -> PathBuf {
        match self {
            InputSource::File(path) => path.to_path_buf(),
            InputSource::Live(command) => PathBuf::from(format!("host://{command}")),
            InputSource::Bundle { bundle, name } => PathBuf::from(format!("{}#{name}", bundle.display())),
        }
    }

    /// An error at a position of the text.
    pub fn error(&self, line: u32, column: u32, message: impl Into<String>) -> LoadError {
        LoadError::at_position(&self.path(), line, column, message)
    }
}

/// One captured file of the layout.
#[derive(Debug, Clone)]
pub struct CapturedText {
    /// Its name in the layout (`iptables-save.txt`).
    pub name: String,
    pub text: String,
    pub source: InputSource,
}

/// Everything captured about one host, before parsing.
#[derive(Debug, Clone)]
pub struct Capture {
    /// What was captured: the directory, the bundle, or `host://live`.
    pub origin: Origin,
    pub texts: Vec<CapturedText>,
}

impl Capture {
    /// The captured file called `name`.
    pub fn get(&self, name: &str) -> Option<&CapturedText> {
        self.texts.iter().find(|t| t.name == name)
    }
}

/// Reads the layout's files from a directory; missing files are simply absent.
pub fn from_dir(dir: &Path) -> Result<Capture, LoadError> {
    let mut texts = Vec::new();
    for name in LAYOUT {
        let path = dir.join(name);
        if std::fs::metadata(&path).is_err() {
            continue;
        }
        let text = read_text(&path)?;
        texts.push(CapturedText { name: (*name).to_string(), text, source: InputSource::File(Arc::from(path.as_path())) });
    }
    for (file, path) in cni_files(&dir.join(CNI_DIR))? {
        let text = read_text(&path)?;
        texts.push(CapturedText { name: format!("{CNI_DIR}/{file}"), text, source: InputSource::File(Arc::from(path.as_path())) });
    }
    if texts.is_empty() {
        let listing = format!("{}, {CNI_DIR}/*.conflist", LAYOUT.join(", "));
        return Err(LoadError::empty(dir, format!("no host facts found in the directory (expected any of: {listing})")));
    }
    Ok(Capture { origin: Origin::Logical(format!("{}", dir.display())), texts })
}

//! Errors of the sources: an input that could not be read, parsed or understood.

use netdoctor_model::Span;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What kind of problem a `LoadError` is, so callers decide on the kind, never on the
/// message's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// Something at a place in the input: syntax, a wrong type or value. Has a line,
    /// unless the reader lost the position (`LoadError::unlocated`).
    Invalid,
    /// The file or directory is missing or cannot be read (permissions, not text, too large).
    Unreadable,
    /// The file holds nothing to read.
    Empty,
    /// About the input as a whole rather than a place in it: a project's name, a
    /// directory's layout, a snapshot's version, what a live tool printed.
    WholeInput,
}

/// An input problem, located as precisely as the source allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no line (a missing file).
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub kind: LoadErrorKind,
    /// Where in the document the problem is, when the reader knows: a Compose file's
    /// `services.web.ports[0]`, a manifest object's `spec.ingress[0].ports[0].port`.
    pub path: Option<String>,
}

impl LoadError {
    /// Fills in `path` from the documents the error is in (a Compose project's merged
    /// document, a manifest's objects): the path inside the one holding the position.
    pub(crate) fn locate_in<'a>(&mut self, documents: impl IntoIterator<Item = &'a crate::tree::Node>) {
        if self.path.is_some() || self.line == 0 {
            return;
        }
        let span = netdoctor_model::Span::new(std::sync::Arc::from(self.file.as_path()), self.line, self.column);
        let found = documents.into_iter().filter_map(|d| d.locate(&span)).max_by_key(|(start, _)| *start);
        self.path = found.map(|(_, path)| path).filter(|p| !p.is_empty());
    }

    /// An error at a position.
    pub fn at(span: &Span, message: impl Into<String>) -> Self {
        LoadError {
            file: span.file.to_path_buf(),
            line: span.line,
            column: span.column,
            message: message.into(),
            kind: LoadErrorKind::Invalid,
            path: None,
        }
    }

    /// An error at a position (1-based line and column) of `file`.
    pub fn at_position(file: &Path, line: u32, column: u32, message: impl Into<String>) -> Self {
        LoadError { file: file.to_path_buf(), line, column, message: message.into(), kind: LoadErrorKind::Invalid, path: None }
    }

    fn whole(file: &Path, message: impl Into<String>, kind: LoadErrorKind) -> Self {
        LoadError { file: file.to_path_buf(), line: 0, column: 0, message: message.into(), kind, path: None }
    }

    /// The file or directory is missing or cannot be read.
    pub fn unreadable(file: &Path, message: impl Into<String>) -> Self {
        LoadError::whole(file, message, LoadErrorKind::Unreadable)
    }

    /// The file holds nothing to read.
    pub fn empty(file: &Path, message: impl Into<String>) -> Self {
        LoadError::whole(file, message, LoadErrorKind::Empty)
    }

    /// A problem with the input as a whole, where no line applies.
    pub fn whole_input(file: &Path, message: impl Into<String>) -> Self {
        LoadError::whole(file, message, LoadErrorKind::WholeInput)
    }

    /// A problem at a place the reader could not locate (a snapshot read through a
    /// value tree that keeps no positions).
    pub fn unlocated(file: &Path, message: impl Into<String>) -> Self {
        LoadError::whole(file, message, LoadErrorKind::Invalid)
    }

    /// Whether a reader can find the problem: it has a line, or no line applies (the
    /// file is missing, unreadable or empty, or the problem is the input as a whole).
    pub fn is_located(&self) -> bool {
        self.line > 0 || self.kind != LoadErrorKind::Invalid
    }

    /// The position as a span, when the error has one.
    pub fn span(&self) -> Option<Span> {
        (self.line > 0).then(|| Span::new(Arc::from(self.file.as_path()), self.line, self.column))
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

pub type Result<T, E = LoadError> = std::result::Result<T, E>;

/// Why a connection to a live source failed, decided from the error's typed causes
/// (or, for a reply, its status), never from message text; hints follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectCause {
    /// The socket or a file on the way is not accessible to this user.
    PermissionDenied,
    /// The TLS handshake failed: the server's certificate is not trusted, or the
    /// two sides do not agree on TLS.
    Tls,
    /// Plain HTTP was sent to a server that expects TLS.
    TlsExpected,
    /// Local setup is missing (the client certificates TLS was asked for).
    Setup,
    /// An endpoint netdoctor cannot reach by itself (`ssh://`).
    Unsupported,
    /// Anything else: refused, unreachable, no such socket.
    Other,
}

/// How a connection failure looks in the error's chain of causes: an I/O error of kind
/// `PermissionDenied`; a TLS error (rustls' own, or an I/O error of kind `InvalidData`,
/// which is how a TLS stream reports a failed handshake).
#[cfg(any(feature = "docker-live", feature = "kube-live"))]
pub(crate) fn connect_cause(e: &(dyn std::error::Error + 'static)) -> ConnectCause {
    let mut cur = Some(e);
    while let Some(err) = cur {
        #[cfg(feature = "kube-live")]
        if err.is::<rustls::Error>() {
            return ConnectCause::Tls;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::PermissionDenied => return ConnectCause::PermissionDenied,
                std::io::ErrorKind::InvalidData => return ConnectCause::Tls,
                _ => {}
            }
            // An I/O error's `source()` skips the error it wraps; look at that one too.
            if let Some(inner) = io.get_ref() {
                cur = Some(inner);
                continue;
            }
        }
        cur = err.source();
    }
    ConnectCause::Other
}

/// Whether a chain of causes holds a timeout: an I/O error of kind `TimedOut` or
/// tokio's elapsed deadline.
#[cfg(any(feature = "docker-live", feature = "kube-live"))]
pub(crate) fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        let io = err.downcast_ref::<std::io::Error>();
        if io.is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) || err.is::<tokio::time::error::Elapsed>() {
            return true;
        }
        // An I/O error's `source()` skips the error it wraps; look at that one too.
        cur = match io.and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    false
}

/// An error with its causes, for messages: hyper and rustls keep the useful part
/// ("Connection refused", "UnknownIssuer") in `source()`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cur = s.source();
    }
    text
}

/// A snapshot as pretty JSON with a trailing newline.
pub(crate) fn pretty_json_line<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Values that came from JSON always serialize back.
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_is_decided_by_kind_and_line_not_by_words() {
        let file = Path::new("compose.yaml");
        assert!(LoadError::at_position(file, 3, 7, "anything").is_located());
        assert!(LoadError::unreadable(file, "cannot read: permission denied").is_located());
        assert!(LoadError::empty(file, "empty compose file").is_located());
        assert!(LoadError::whole_input(file, "cannot derive a project name").is_located());
        // A problem at a place that was lost is not located, whatever its words say.
        let lost = LoadError::unlocated(file, "empty compose file");
        assert!(!lost.is_located() && lost.kind == LoadErrorKind::Invalid);
        assert_eq!(LoadError::at_position(file, 3, 7, "bad").to_string(), "compose.yaml:3:7: bad");
        assert_eq!(LoadError::unreadable(file, "missing").to_string(), "compose.yaml: missing");
    }
}

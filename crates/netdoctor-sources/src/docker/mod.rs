//! A live Docker Engine: its containers, networks and settings. Read first into a raw
//! `DockerSnapshot` (the engine's own JSON, environment values redacted), either live
//! through bollard (`live::read`, feature `docker-live`) or from a snapshot file, then
//! lowered into the model (`lower`), with Compose-managed containers mapped onto their
//! project's Compose files when those are readable.
//!
//! ```no_run
//! # #[cfg(feature = "docker-live")] {
//! use netdoctor_sources::docker::{self, live::LiveOptions, LowerOptions};
//! let snapshot = docker::live::read(&LiveOptions::default())?;
//! let lowered = docker::lower(&snapshot, &LowerOptions::default());
//! println!("{} workloads", lowered.model.workloads.len());
//! # }
//! # Ok::<(), netdoctor_sources::docker::Error>(())
//! ```

#[cfg(feature = "docker-live")]
pub mod agent;
pub mod context;
#[cfg(feature = "docker-live")]
pub mod live;
pub mod lower;
pub mod raw;
pub mod snapshot;

pub use lower::{lower, LowerOptions, Lowered, Selection};
pub use snapshot::DockerSnapshot;

pub use crate::error::ConnectCause;
use std::path::PathBuf;
use std::time::Duration;

/// A problem that stops a live read or a snapshot load.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("connecting to the Docker Engine at {endpoint}: {message}")]
    Connect { endpoint: String, message: String, cause: ConnectCause },
    #[error("{what} at {endpoint}: {message}")]
    Request { endpoint: String, what: String, status: Option<u16>, message: String },
    #[error("{what} at {endpoint}: no answer within {}s", after.as_secs_f32())]
    Timeout { endpoint: String, what: String, after: Duration },
    #[error("reading docker context `{name}`: {message}")]
    Context { name: String, message: String },
    #[error("reading snapshot {}", path.display())]
    ReadSnapshot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing snapshot {}: {message}", path.display())]
    ParseSnapshot { path: PathBuf, message: String },
}

impl Error {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Connect { cause: ConnectCause::PermissionDenied, .. } => Some(
                "the socket is not readable by this user: run with sudo, join the `docker` group, or point DOCKER_HOST at an engine you may use"
                    .into(),
            ),
            // The message already says which certificate file to provide.
            Error::Connect { cause: ConnectCause::Setup, .. } => None,
            Error::Connect { cause: ConnectCause::TlsExpected, .. } => Some(
                "the engine expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem".into(),
            ),
            Error::Connect { cause: ConnectCause::Unsupported, .. } => Some(
                "forward the engine's socket first: `ssh -nNT -L /tmp/docker.sock:/var/run/docker.sock HOST`, then use `--docker-host unix:///tmp/docker.sock`".into(),
            ),
            Error::Connect { cause: ConnectCause::Tls, .. } => Some(
                "the TLS handshake with the engine failed: check that DOCKER_CERT_PATH's ca.pem signed the engine's certificate, and that the engine listens with TLS".into(),
            ),
            Error::Connect { .. } => Some(
                "is dockerd running? Start it (`sudo systemctl start docker`), or set DOCKER_HOST / `--docker-host` to the engine's socket, or check offline with `--snapshot FILE`".into(),
            ),
            Error::Timeout { .. } => Some("the engine is slow to answer: raise `--docker-timeout`".into()),
            Error::Context { .. } => Some("check `docker context ls`, or set DOCKER_HOST".into()),
            _ => None,
        }
    }
}

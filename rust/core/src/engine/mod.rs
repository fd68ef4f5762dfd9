//! Container engines: Docker and Podman through their Docker-compatible API (bollard).
//! Self-hosted, the platform's "servers" are engines: a local socket, or TCP with mutual TLS
//! using certificates from the platform CA.

mod build;
mod connect;
mod containers;
mod copy;
mod exec;
mod images;
pub mod naming;
mod networks;
mod observe;
mod ports;
mod usage;
mod volumes;

pub use build::BuildSpec;
pub use connect::{Endpoint, Engine, EngineInfo, EngineKind, TlsFiles};
pub use containers::{ContainerSpec, ContainerState, Mount, PublishedPort, RestartPolicy};
pub use exec::{ExecResult, ExecSpec, Stream};
pub use images::{check_reference, ImageSummary};
pub use observe::{LogLine, Stats};
pub use ports::PortRange;
pub use usage::{check_concurrency, ContainerUsage, Usage};

use crate::names::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("engine unreachable at {endpoint}: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("image missing: {0}")]
    ImageMissing(String),
    #[error("name already in use: {0}")]
    NameConflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("no free host port in {start}-{end}")]
    PortsExhausted { start: u16, end: u16 },
    #[error("{argv:?} exited with code {exit_code}")]
    ExecFailed { argv: Vec<String>, exit_code: i64, output: String },
    #[error("timed out after {seconds} s: {what}")]
    Timeout { what: String, seconds: f64 },
    #[error("build of {tag} failed: {message}")]
    BuildFailed { tag: String, message: String },
    #[error("engine error ({status}): {message}")]
    Engine { status: u16, message: String },
}

impl Error {
    /// Maps a bollard error to ours; `subject` names what the call was about (an image,
    /// a container) for the 404 and 409 cases.
    pub(crate) fn from_engine(e: bollard::errors::Error, subject: &str) -> Self {
        use bollard::errors::Error as B;
        match e {
            B::DockerResponseServerError { status_code, message } => match status_code {
                404 if looks_like_missing_image(&message) => Error::ImageMissing(format!("{subject}: {message}")),
                404 => Error::NotFound(format!("{subject}: {message}")),
                409 => Error::NameConflict(format!("{subject}: {message}")),
                // Podman 4 answers a name conflict with 500.
                500 if message.contains("already in use") => Error::NameConflict(format!("{subject}: {message}")),
                status => Error::Engine { status, message },
            },
            B::IOError { .. }
            | B::HyperResponseError { .. }
            | B::HyperLegacyError { .. }
            | B::HttpClientError { .. }
            | B::SocketNotFoundError(_)
            | B::RequestTimeoutError => Error::Unreachable { endpoint: subject.to_string(), message: e.to_string() },
            other => Error::Engine { status: 0, message: other.to_string() },
        }
    }
}

fn looks_like_missing_image(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("no such image") || m.contains("image not known") || m.contains("image not found")
}

//! Routing on Traefik: its file provider's dynamic configuration, one file per site plus one
//! for the platform's own routes and one for the monitor server's, and a read-back through Traefik's API that each written
//! router is loaded and enabled.
//!
//! Traefik drops its *whole* file provider when any one file fails to parse, so every file is
//! built from validated, typed parts and written atomically (see `files::write_atomic`).

mod config;
mod route;
mod traefik;
mod yaml;

pub use config::ProxyConfig;
pub use route::{upstream, Certificate, MonitorRoute, Platform, Route, SiteRoute};
pub use traefik::{RouterStatus, TraefikApi};

use crate::names::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("cannot write the proxy configuration at {path}: {message}")]
    Io { path: String, message: String },
    #[error("Traefik's API unreachable: {0}")]
    Unreachable(String),
    #[error("Traefik's API answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("router {router} is {status} in Traefik: {}", errors.join("; "))]
    RouteDisabled { router: String, status: String, errors: Vec<String> },
    #[error(
        "Traefik did not load router {router} as written within {seconds:.1} s \
         (a broken file in the directory stops the whole file provider: see Traefik's log)"
    )]
    NotLoaded { router: String, seconds: f64 },
    #[error("router {router} is still served by Traefik after {seconds:.1} s")]
    StillPresent { router: String, seconds: f64 },
}

impl Error {
    fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        Error::Io { path: path.display().to_string(), message: e.to_string() }
    }
}

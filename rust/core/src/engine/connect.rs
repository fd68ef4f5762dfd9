//! Finding and connecting to an engine, and telling Docker from Podman.

use std::path::{Path, PathBuf};

use bollard::{Docker, API_DEFAULT_VERSION};

use super::Error;
use crate::names::ValidationError;

/// Seconds a single API call may take before it counts as unreachable.
const CALL_TIMEOUT: u64 = 120;

/// Client certificate, key and the CA that signed the engine's server certificate (all PEM
/// files, e.g. written by `IssuedCertificate::write_files`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub certificate: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port` of an engine listening with `--tlsverify`.
    Tcp {
        address: String,
        tls: TlsFiles,
    },
}

impl Endpoint {
    /// `unix:///run/podman/podman.sock`, a bare socket path, or `tcp://host:port` (which
    /// needs `tls`: an engine is never driven over the network in the clear).
    pub fn parse(url: &str, tls: Option<TlsFiles>) -> Result<Self, ValidationError> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        if url.starts_with('/') {
            return Ok(Self::Unix(PathBuf::from(url)));
        }
        if let Some(address) = url.strip_prefix("tcp://").or_else(|| url.strip_prefix("https://")) {
            let address = address.trim_end_matches('/');
            let valid =
                address.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !valid {
                return Err(ValidationError::new(format!("engine address must be tcp://host:port, got {url:?}")));
            }
            let tls = tls.ok_or_else(|| {
                ValidationError::new("a TCP engine endpoint needs mutual TLS (client certificate, key and CA)")
            })?;
            return Ok(Self::Tcp { address: address.to_string(), tls });
        }
        Err(ValidationError::new(format!("unsupported engine endpoint {url:?}: use unix:// or tcp://")))
    }

    /// The first that exists of: `DOCKER_HOST`, the Docker socket, the rootful Podman
    /// socket, the rootless Podman socket of this user.
    pub fn detect() -> Result<Self, Error> {
        if let Ok(host) = std::env::var("DOCKER_HOST") {
            if !host.is_empty() {
                return Ok(Self::parse(&host, None)?);
            }
        }
        let mut candidates = vec![PathBuf::from("/var/run/docker.sock"), PathBuf::from("/run/podman/podman.sock")];
        if let Ok(runtime) = std::env::var("XDG_RUNTIME_DIR") {
            candidates.push(Path::new(&runtime).join("podman/podman.sock"));
        }
        candidates.into_iter().find(|p| p.exists()).map(Self::Unix).ok_or_else(|| Error::Unreachable {
            endpoint: "auto".into(),
            message: "no engine found: set DOCKER_HOST, or start Docker or Podman (podman system service)".into(),
        })
    }

    pub fn display(&self) -> String {
        match self {
            Self::Unix(path) => format!("unix://{}", path.display()),
            Self::Tcp { address, .. } => format!("tcp://{address}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
        }
    }
}

#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub kind: EngineKind,
    pub version: String,
    /// The API version negotiated with the engine.
    pub api_version: String,
}

#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) client: Docker,
    endpoint: Endpoint,
    info: EngineInfo,
}

impl Engine {
    /// Connects, negotiates the API version and asks the engine what it is.
    pub async fn connect(endpoint: &Endpoint) -> Result<Self, Error> {
        crate::tls::use_ring();
        let shown = endpoint.display();
        let unreachable =
            |e: bollard::errors::Error| Error::Unreachable { endpoint: shown.clone(), message: e.to_string() };
        let client = match endpoint {
            Endpoint::Unix(path) => {
                if !path.exists() {
                    return Err(Error::Unreachable { endpoint: shown, message: "socket does not exist".into() });
                }
                Docker::connect_with_unix(&path.to_string_lossy(), CALL_TIMEOUT, API_DEFAULT_VERSION)
            }
            Endpoint::Tcp { address, tls } => Docker::connect_with_ssl(
                address,
                &tls.key,
                &tls.certificate,
                &tls.ca,
                CALL_TIMEOUT,
                API_DEFAULT_VERSION,
            ),
        }
        .map_err(unreachable)?;
        let client = client.negotiate_version().await.map_err(unreachable)?;
        let version = client.version().await.map_err(unreachable)?;
        let podman = version.components.iter().flatten().any(|c| c.name.to_ascii_lowercase().contains("podman"));
        let info = EngineInfo {
            kind: if podman { EngineKind::Podman } else { EngineKind::Docker },
            version: version.version.unwrap_or_default(),
            api_version: client.client_version().to_string(),
        };
        Ok(Self { client, endpoint: endpoint.clone(), info })
    }

    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// True when the engine runs on this machine, so its processes are ours to signal.
    pub fn is_local(&self) -> bool {
        matches!(self.endpoint, Endpoint::Unix(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_tcp_requires_tls() {
        assert!(
            matches!(Endpoint::parse("unix:///run/x.sock", None).unwrap(), Endpoint::Unix(p) if p == Path::new("/run/x.sock"))
        );
        assert!(matches!(Endpoint::parse("/run/x.sock", None).unwrap(), Endpoint::Unix(_)));
        let err = Endpoint::parse("tcp://10.0.0.2:2376", None).unwrap_err();
        assert!(err.to_string().contains("mutual TLS"));
        let tls = TlsFiles { ca: "ca".into(), certificate: "c".into(), key: "k".into() };
        assert!(matches!(Endpoint::parse("tcp://engine:2376", Some(tls.clone())).unwrap(), Endpoint::Tcp { .. }));
        assert!(Endpoint::parse("tcp://engine", Some(tls)).is_err());
        assert!(Endpoint::parse("ssh://engine", None).is_err());
    }
}

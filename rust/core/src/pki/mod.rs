//! The platform's own certificate authority (rcgen), replacing Let's Encrypt for sites on
//! self-hosted domains: a root and an intermediate, leaf certificates for DNS names and IP
//! addresses, encrypted keys at rest, and inspection for renewal.

mod authority;
mod inspect;
mod keys;
mod leaf;

use std::path::Path;

pub use authority::{CaOptions, CertificateAuthority, INTERMEDIATE_CERT, INTERMEDIATE_KEY, ROOT_CERT, ROOT_KEY};
pub use inspect::{inspect, CertificateInfo, DEFAULT_RENEWAL_DAYS};
pub use keys::{KeyType, PrivateKey};
pub use leaf::{
    self_signed, CertificateFiles, IssuedCertificate, LeafRequest, DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS,
};

use crate::names::ValidationError;
pub(crate) use keys::random_bytes;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the private key is encrypted: a passphrase is required")]
    PassphraseRequired,
    #[error("could not decrypt the private key: wrong passphrase or corrupted key")]
    WrongPassphrase,
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Certificate(String),
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

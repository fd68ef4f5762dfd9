//! S3-compatible object storage (MinIO, Garage, SeaweedFS, RustFS) for backups and tenant
//! files: keys confined to a tenant's prefix, streaming multipart uploads, presigned URLs,
//! which backups a rotation scheme expires, and keys of their own for tenants (Garage).

mod download;
mod garage;
mod keys;
mod parts;
mod rotation;
mod store;
mod transport;

pub use garage::{GarageAdmin, GrantedKey};
pub use keys::TenantPrefix;
pub use parts::{part_size, MAX_PARTS, MIN_PART_SIZE};
pub use rotation::{expired, Backup, Scheme};
pub use store::{ObjectInfo, PendingUpload, Store, StoreConfig, UploadOptions, SHA256_META};

use crate::names::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("storage unreachable: {0}")]
    Unreachable(String),
    #[error("access denied: {0}")]
    Denied(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("checksum mismatch for {key}: expected {expected}, got {actual}")]
    ChecksumMismatch { key: String, expected: String, actual: String },
    #[error("quota exceeded under {prefix}: {used} bytes used + {adding} would pass the quota of {quota}")]
    QuotaExceeded { prefix: String, used: u64, adding: u64, quota: u64 },
    #[error("cancelled")]
    Cancelled,
    #[error("{cause}; and multipart upload {upload_id} of {key} could not be aborted ({abort}): abort it once the store answers")]
    AbortFailed { cause: Box<Error>, key: String, upload_id: String, abort: Box<Error> },
    #[error("{0}")]
    Io(String),
    #[error("storage error ({status}): {message}")]
    S3 { status: u16, message: String },
}

impl Error {
    pub(crate) fn from_s3(e: s3::error::S3Error, subject: &str) -> Self {
        use s3::error::S3Error as S;
        match e {
            S::HttpFailWithBody(status, body) => Error::from_status(status, &body, subject),
            S::Reqwest(e) => Error::transport(e, subject),
            other => Error::S3 { status: 0, message: format!("{subject}: {other}") },
        }
    }

    pub(crate) fn from_status(status: u16, body: &str, subject: &str) -> Self {
        match status {
            404 => Error::NotFound(format!("{subject}: {}", brief(body))),
            403 => Error::Denied(format!("{subject}: {}", brief(body))),
            _ => Error::S3 { status, message: format!("{subject}: {}", brief(body)) },
        }
    }

    /// A request that got no complete answer: the store is down, restarting, or cut off.
    pub(crate) fn transport(e: reqwest::Error, subject: &str) -> Self {
        // Without its URL: a presigned one carries a signature that is as good as a key.
        Error::Unreachable(format!("{subject}: {}", chain(&e.without_url())))
    }

    /// Whether trying again may succeed: no answer, or the store says it is busy or failing.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Error::Unreachable(_) => true,
            Error::S3 { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            _ => false,
        }
    }
}

/// An error with its causes, which reqwest keeps apart ("error sending request" alone says
/// nothing of a refused connection or an unknown certificate).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The `<Message>` of an S3 XML error body, or its start.
fn brief(body: &str) -> String {
    match (body.find("<Message>"), body.find("</Message>")) {
        (Some(start), Some(end)) if start < end => body[start + 9..end].to_string(),
        _ => body.chars().take(200).collect(),
    }
}

//! S3-compatible object storage (MinIO, Garage, SeaweedFS, RustFS) for backups and tenant
//! files: keys confined to a tenant's prefix, streaming multipart uploads, presigned URLs,
//! and which backups a rotation scheme expires.

mod keys;
mod parts;
mod rotation;
mod store;

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
            S::HttpFailWithBody(404, body) => Error::NotFound(format!("{subject}: {}", brief(&body))),
            S::HttpFailWithBody(403, body) => Error::Denied(format!("{subject}: {}", brief(&body))),
            S::HttpFailWithBody(status, body) => Error::S3 { status, message: format!("{subject}: {}", brief(&body)) },
            S::Reqwest(e) if e.is_connect() || e.is_timeout() => Error::Unreachable(format!("{subject}: {e}")),
            other => Error::S3 { status: 0, message: format!("{subject}: {other}") },
        }
    }
}

/// The `<Message>` of an S3 XML error body, or its start.
fn brief(body: &str) -> String {
    match (body.find("<Message>"), body.find("</Message>")) {
        (Some(start), Some(end)) if start < end => body[start + 9..end].to_string(),
        _ => body.chars().take(200).collect(),
    }
}

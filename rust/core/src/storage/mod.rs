//! S3-compatible object storage (MinIO, Garage, SeaweedFS, RustFS) for backups and tenant
//! files. This first layer is what needs no server: keys confined to a tenant's prefix, the
//! part size of a multipart upload, and which backups a rotation scheme expires.

mod keys;
mod parts;
mod rotation;

pub use keys::TenantPrefix;
pub use parts::{part_size, MAX_PARTS, MIN_PART_SIZE};
pub use rotation::{expired, Backup, Scheme};

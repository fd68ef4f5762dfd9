//! A bucket on an S3-compatible store (rust-s3): objects, presigned URLs, and streaming
//! multipart uploads with bounded memory, per-part retries and a clean abort on failure.

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use s3::creds::Credentials;
use s3::error::S3Error;
use s3::serde_types::Part;
use s3::{Bucket, BucketConfiguration, Region};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::parts::{part_size, MAX_PARTS};
use super::Error;
use crate::names::ValidationError;

/// Metadata key under which the SHA-256 of an object's content is kept.
pub const SHA256_META: &str = "sha256";
const CONTENT_TYPE: &str = "application/octet-stream";

/// Where the store is and who we are to it. The secret never appears in `Debug` output.
#[derive(Clone)]
pub struct StoreConfig {
    pub endpoint: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// `https://host/bucket/key` rather than `https://bucket.host/key`.
    pub path_style: bool,
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("path_style", &self.path_style)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    /// The SHA-256 recorded at upload, when the object was uploaded with one.
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: String,
}

/// How a file is uploaded.
#[derive(Clone)]
pub struct UploadOptions {
    /// Parts in flight at once; memory is bounded by this times the part size.
    pub concurrency: usize,
    /// Attempts per part before the upload fails (and is aborted).
    pub attempts: u32,
    pub cancel: Arc<AtomicBool>,
    /// A tenant's (prefix, quota in bytes): the upload is refused before it starts when the
    /// prefix's usage plus the file would pass the quota.
    pub quota: Option<(String, u64)>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self { concurrency: 4, attempts: 5, cancel: Arc::new(AtomicBool::new(false)), quota: None }
    }
}

#[derive(Clone)]
pub struct Store {
    bucket: Box<Bucket>,
    config: StoreConfig,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("bucket", &self.bucket.name).field("config", &self.config).finish()
    }
}

impl Store {
    /// A handle on bucket `name`; no request is made until the first call.
    pub fn new(config: &StoreConfig, name: &str) -> Result<Self, Error> {
        crate::tls::use_ring();
        check_bucket_name(name)?;
        if !(config.endpoint.starts_with("http://") || config.endpoint.starts_with("https://")) {
            return Err(
                ValidationError::new(format!("endpoint must be an http(s) URL, got {:?}", config.endpoint)).into()
            );
        }
        let region =
            Region::Custom { region: config.region.clone(), endpoint: config.endpoint.trim_end_matches('/').into() };
        let credentials = Credentials::new(Some(&config.access_key), Some(&config.secret_key), None, None, None)
            .map_err(|e| Error::Invalid(ValidationError::new(format!("credentials: {e}"))))?;
        let bucket = Bucket::new(name, region, credentials).map_err(|e| Error::from_s3(e, name))?;
        let bucket = if config.path_style { bucket.with_path_style() } else { bucket };
        Ok(Self { bucket, config: config.clone() })
    }

    pub fn name(&self) -> &str {
        &self.bucket.name
    }

    /// Creates the bucket unless it exists already.
    pub async fn ensure_bucket(&self) -> Result<(), Error> {
        match self.bucket.exists().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => return Err(Error::from_s3(e, self.name())),
        }
        let region = self.bucket.region.clone();
        let credentials = self.bucket.credentials().await.map_err(|e| Error::from_s3(e, self.name()))?;
        let created = if self.config.path_style {
            Bucket::create_with_path_style(self.name(), region, credentials, BucketConfiguration::default()).await
        } else {
            Bucket::create(self.name(), region, credentials, BucketConfiguration::default()).await
        };
        created.map(|_| ()).map_err(|e| Error::from_s3(e, self.name()))
    }

    pub async fn put_bytes(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        let sha = hex::encode(Sha256::digest(data));
        self.with_metadata(&sha).put_object(key, data).await.map(|_| ()).map_err(|e| Error::from_s3(e, key))
    }

    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, Error> {
        let response = self.bucket.get_object(key).await.map_err(|e| Error::from_s3(e, key))?;
        Ok(response.bytes().to_vec())
    }

    pub async fn head(&self, key: &str) -> Result<ObjectInfo, Error> {
        let (head, _) = self.bucket.head_object(key).await.map_err(|e| Error::from_s3(e, key))?;
        Ok(ObjectInfo {
            key: key.to_string(),
            size: head.content_length.unwrap_or(0).max(0) as u64,
            sha256: head.metadata.and_then(|m| m.get(SHA256_META).cloned()),
        })
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        self.bucket.delete_object(key).await.map(|_| ()).map_err(|e| Error::from_s3(e, key))
    }

    /// Every object under `prefix`, all pages.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, Error> {
        let pages = self.bucket.list(prefix.to_string(), None).await.map_err(|e| Error::from_s3(e, prefix))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.contents)
            .map(|o| ObjectInfo { key: o.key, size: o.size, sha256: None })
            .collect())
    }

    /// Deletes every object under `prefix`; returns how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, Error> {
        let objects = self.list(prefix).await?;
        for object in &objects {
            self.delete(&object.key).await?;
        }
        Ok(objects.len())
    }

    /// (bytes, objects) under `prefix`.
    pub async fn usage(&self, prefix: &str) -> Result<(u64, u64), Error> {
        let objects = self.list(prefix).await?;
        Ok((objects.iter().map(|o| o.size).sum(), objects.len() as u64))
    }

    /// Refuses with `QuotaExceeded` when `adding` more bytes under `prefix` would pass
    /// `quota`; returns the bytes used now. For uploads and for admitting a new site.
    pub async fn check_quota(&self, prefix: &str, quota: u64, adding: u64) -> Result<u64, Error> {
        let (used, _) = self.usage(prefix).await?;
        if used.saturating_add(adding) > quota {
            return Err(Error::QuotaExceeded { prefix: prefix.to_string(), used, adding, quota });
        }
        Ok(used)
    }

    pub async fn presign_get(&self, key: &str, expiry_seconds: u32) -> Result<String, Error> {
        self.bucket.presign_get(key, expiry_seconds, None).await.map_err(|e| Error::from_s3(e, key))
    }

    pub async fn presign_put(&self, key: &str, expiry_seconds: u32) -> Result<String, Error> {
        self.bucket.presign_put(key, expiry_seconds, None, None).await.map_err(|e| Error::from_s3(e, key))
    }

    /// Bytes `start..=end` of `key` (to its end when `end` is None).
    pub async fn get_range(&self, key: &str, start: u64, end: Option<u64>) -> Result<Vec<u8>, Error> {
        // rust-s3 asserts this (a panic); it is the caller's input, so it is refused here.
        if end.is_some_and(|end| end < start) {
            return Err(ValidationError::new(format!("range end {end:?} is before its start {start}")).into());
        }
        let response = self.bucket.get_object_range(key, start, end).await.map_err(|e| Error::from_s3(e, key))?;
        Ok(response.bytes().to_vec())
    }

    /// Deletes each of `keys` (for example what a rotation expired); returns how many.
    pub async fn delete_keys(&self, keys: &[String]) -> Result<usize, Error> {
        for key in keys {
            self.delete(key).await?;
        }
        Ok(keys.len())
    }

    /// Begins a multipart upload that a client (a browser) sends itself, part by part, to
    /// URLs from `presign_part`; returns its upload id. The shape of Press's
    /// `press/api/site.py` `get_upload_link` / `multipart_exit`.
    pub async fn begin_multipart(&self, key: &str) -> Result<String, Error> {
        let started =
            self.bucket.initiate_multipart_upload(key, CONTENT_TYPE).await.map_err(|e| Error::from_s3(e, key))?;
        Ok(started.upload_id)
    }

    /// A presigned PUT URL for part `number` (1–10,000) of a multipart upload.
    pub async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        expiry_seconds: u32,
    ) -> Result<String, Error> {
        if !(1..=MAX_PARTS as u32).contains(&number) {
            return Err(ValidationError::new(format!("part number must be 1 to {MAX_PARTS}, got {number}")).into());
        }
        let queries = std::collections::HashMap::from([
            ("partNumber".to_string(), number.to_string()),
            ("uploadId".to_string(), upload_id.to_string()),
        ]);
        self.bucket.presign_put(key, expiry_seconds, None, Some(queries)).await.map_err(|e| Error::from_s3(e, key))
    }

    /// Completes a client-sent multipart upload from its parts' (number, ETag).
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        mut parts: Vec<(u32, String)>,
    ) -> Result<(), Error> {
        if parts.is_empty() {
            return Err(ValidationError::new("a multipart upload needs at least one part").into());
        }
        parts.sort_by_key(|(number, _)| *number);
        let parts = parts.into_iter().map(|(part_number, etag)| Part { part_number, etag }).collect();
        self.bucket
            .complete_multipart_upload(key, upload_id, parts)
            .await
            .map(|_| ())
            .map_err(|e| Error::from_s3(e, key))
    }

    /// Multipart uploads begun under `prefix` and neither completed nor aborted.
    pub async fn pending_uploads(&self, prefix: &str) -> Result<Vec<PendingUpload>, Error> {
        let pages =
            self.bucket.list_multiparts_uploads(Some(prefix), None).await.map_err(|e| Error::from_s3(e, prefix))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.uploads)
            .map(|u| PendingUpload { key: u.key, upload_id: u.id, initiated: u.initiated })
            .collect())
    }

    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), Error> {
        self.bucket.abort_upload(key, upload_id).await.map_err(|e| Error::from_s3(e, key))
    }

    /// Uploads the file at `path` to `key` in parts, at most `options.concurrency` in flight,
    /// each retried with exponential backoff and jitter. The SHA-256 of the content is
    /// recorded as metadata. `progress(bytes_done, bytes_total)` follows completed parts. On
    /// failure or cancellation the multipart upload is aborted, so nothing is left behind.
    pub async fn upload_file(
        &self,
        path: &Path,
        key: &str,
        options: &UploadOptions,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<ObjectInfo, Error> {
        if options.concurrency == 0 || options.attempts == 0 {
            return Err(ValidationError::new("concurrency and attempts must be at least 1").into());
        }
        let total = tokio::fs::metadata(path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?.len();
        let part =
            part_size(total).ok_or_else(|| ValidationError::new("file is larger than S3's 5 TiB object limit"))?;
        if let Some((prefix, quota)) = &options.quota {
            self.check_quota(prefix, *quota, total).await?;
        }
        // The digest goes into the object's metadata, which is set when the upload begins.
        let sha = file_sha256(path).await?;
        if total < part {
            // One request: a multipart upload cannot carry an empty part, and a small file
            // gains nothing from parts.
            if options.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            progress(0, total);
            let data = read_at(path, 0, total as usize).await?;
            self.with_metadata(&sha).put_object(key, &data).await.map_err(|e| Error::from_s3(e, key))?;
            progress(total, total);
            return Ok(ObjectInfo { key: key.to_string(), size: total, sha256: Some(sha) });
        }
        let started = self.with_metadata(&sha).initiate_multipart_upload(key, CONTENT_TYPE).await;
        let upload_id = started.map_err(|e| Error::from_s3(e, key))?.upload_id;

        let sent = self.send_parts(path, key, &upload_id, total, part, options, &mut progress).await;
        let completed = match sent {
            Ok(parts) => {
                self.bucket.complete_multipart_upload(key, &upload_id, parts).await.map_err(|e| Error::from_s3(e, key))
            }
            Err(e) => Err(e),
        };
        match completed {
            Ok(_) => Ok(ObjectInfo { key: key.to_string(), size: total, sha256: Some(sha) }),
            Err(cause) => Err(self.abort_after(cause, key, &upload_id, options.attempts).await),
        }
    }

    /// Aborts a failed upload, retrying while the store does not answer (it may be what
    /// failed), so no upload stays open; returns the error to report.
    async fn abort_after(&self, cause: Error, key: &str, upload_id: &str, attempts: u32) -> Error {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.bucket.abort_upload(key, upload_id).await {
                Ok(()) => return cause,
                Err(e) if attempt < attempts * 2 && retryable(&e) => tokio::time::sleep(backoff(attempt.min(5))).await,
                Err(e) => {
                    return Error::AbortFailed {
                        cause: Box::new(cause),
                        key: key.to_string(),
                        upload_id: upload_id.to_string(),
                        abort: Box::new(Error::from_s3(e, key)),
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_parts(
        &self,
        path: &Path,
        key: &str,
        upload_id: &str,
        total: u64,
        part: u64,
        options: &UploadOptions,
        progress: &mut impl FnMut(u64, u64),
    ) -> Result<Vec<Part>, Error> {
        let count = total.div_ceil(part).max(1) as u32;
        let mut in_flight = JoinSet::new();
        let mut done: Vec<Part> = Vec::with_capacity(count as usize);
        let mut sent = 0u64;
        progress(0, total);
        for number in 1..=count {
            if options.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            while in_flight.len() >= options.concurrency {
                let (part, size) = joined(in_flight.join_next().await)?;
                sent += size;
                done.push(part);
                progress(sent, total);
            }
            let offset = (u64::from(number) - 1) * part;
            let length = part.min(total - offset) as usize;
            let (bucket, key, upload_id, path) =
                (self.bucket.clone(), key.to_string(), upload_id.to_string(), path.to_path_buf());
            let attempts = options.attempts;
            in_flight.spawn(async move {
                send_part(&bucket, &path, offset, length, &key, number, &upload_id, attempts)
                    .await
                    .map(|p| (p, length as u64))
            });
        }
        while let Some(next) = in_flight.join_next().await {
            let (part, size) = joined(Some(next))?;
            sent += size;
            done.push(part);
            progress(sent, total);
        }
        if options.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        done.sort_by_key(|p| p.part_number);
        Ok(done)
    }

    /// Streams `key` into the file at `path` (written beside it, then renamed), checking the
    /// SHA-256 recorded at upload when `verify` is set; a mismatch leaves no file.
    pub async fn download_file(&self, key: &str, path: &Path, verify: bool) -> Result<ObjectInfo, Error> {
        let info = self.head(key).await?;
        let tmp = path.with_extension("part");
        let result = async {
            let mut out =
                tokio::fs::File::create(&tmp).await.map_err(|e| Error::Io(format!("{}: {e}", tmp.display())))?;
            let mut stream = self.bucket.get_object_stream(key).await.map_err(|e| Error::from_s3(e, key))?;
            let mut hasher = Sha256::new();
            use futures_util::StreamExt;
            while let Some(chunk) = stream.bytes().next().await {
                let chunk = chunk.map_err(|e| Error::from_s3(e, key))?;
                hasher.update(&chunk);
                out.write_all(&chunk).await.map_err(|e| Error::Io(format!("{}: {e}", tmp.display())))?;
            }
            out.sync_all().await.map_err(|e| Error::Io(format!("{}: {e}", tmp.display())))?;
            let actual = hex::encode(hasher.finalize());
            if let (true, Some(expected)) = (verify, &info.sha256) {
                if *expected != actual {
                    return Err(Error::ChecksumMismatch { key: key.to_string(), expected: expected.clone(), actual });
                }
            }
            tokio::fs::rename(&tmp, path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
            Ok(())
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result.map(|()| info)
    }

    /// The bucket with the SHA-256 metadata header that uploads carry (a constant header
    /// name and a hex value, both valid).
    fn with_metadata(&self, sha: &str) -> Bucket {
        let mut bucket = (*self.bucket).clone();
        bucket.add_header(&format!("x-amz-meta-{SHA256_META}"), sha);
        bucket
    }
}

/// Sends one part, reading it from the file for each attempt rather than keeping a copy for
/// retries: a part in flight is held once, by the request.
#[allow(clippy::too_many_arguments)]
async fn send_part(
    bucket: &Bucket,
    path: &Path,
    offset: u64,
    length: usize,
    key: &str,
    number: u32,
    upload_id: &str,
    attempts: u32,
) -> Result<Part, Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let chunk = read_at(path, offset, length).await?;
        match bucket.put_multipart_chunk(chunk, key, number, upload_id, CONTENT_TYPE).await {
            Ok(part) => return Ok(part),
            Err(e) if attempt < attempts && retryable(&e) => tokio::time::sleep(backoff(attempt)).await,
            Err(e) => return Err(Error::from_s3(e, key)),
        }
    }
}

async fn read_at(path: &Path, offset: u64, length: usize) -> Result<Vec<u8>, Error> {
    use tokio::io::AsyncSeekExt;
    let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    file.seek(std::io::SeekFrom::Start(offset)).await.map_err(io)?;
    let mut chunk = vec![0u8; length];
    file.read_exact(&mut chunk).await.map_err(io)?;
    Ok(chunk)
}

/// 200 ms doubled per attempt (at most 10 s), plus up to as much again at random, so that
/// parts retried together do not hit a recovering server in step.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(10));
    let jitter: [u8; 2] = crate::pki::random_bytes();
    base + base.mul_f64(f64::from(u16::from_le_bytes(jitter)) / f64::from(u16::MAX))
}

fn retryable(e: &S3Error) -> bool {
    match e {
        S3Error::HttpFailWithBody(status, _) => *status >= 500 || *status == 408 || *status == 429,
        S3Error::Reqwest(_) | S3Error::Io(_) => true,
        _ => false,
    }
}

fn joined(next: Option<Result<Result<(Part, u64), Error>, tokio::task::JoinError>>) -> Result<(Part, u64), Error> {
    match next {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(Error::Io(format!("part upload task failed: {e}"))),
        None => Err(Error::Io("no part in flight".into())),
    }
}

async fn file_sha256(path: &Path) -> Result<String, Error> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

/// S3 bucket names: 3–63 lower-case letters, digits, '-' and '.', starting and ending with a
/// letter or digit.
fn check_bucket_name(name: &str) -> Result<(), ValidationError> {
    let ok = (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        return Err(ValidationError::new(format!("invalid bucket name {name:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = StoreConfig {
            endpoint: "http://127.0.0.1:3900".into(),
            region: "garage".into(),
            access_key: "GK0123".into(),
            secret_key: "very-secret-value".into(),
            path_style: true,
        };
        let store = Store::new(&config, "backups").unwrap();
        assert!(!format!("{config:?}{store:?}").contains("very-secret-value"));
    }

    #[test]
    fn bad_buckets_and_endpoints_are_refused() {
        let config = StoreConfig {
            endpoint: "ftp://x".into(),
            region: "garage".into(),
            access_key: "a".into(),
            secret_key: "b".into(),
            path_style: true,
        };
        assert!(Store::new(&config, "backups").is_err());
        let config = StoreConfig { endpoint: "http://127.0.0.1:1".into(), ..config };
        for bad in ["ab", "UPPER", "-x-", "a_b", &"x".repeat(64)] {
            assert!(Store::new(&config, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        assert!(backoff(1) >= Duration::from_millis(400) && backoff(1) <= Duration::from_millis(800));
        assert!(backoff(30) <= Duration::from_secs(20));
    }
}

//! A bucket on an S3-compatible store (requests signed by rust-s3): objects, presigned URLs,
//! and streaming multipart uploads with bounded memory, per-part retries and a clean abort on
//! failure.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use s3::command::Command;
use s3::creds::Credentials;
use s3::serde_types::{
    CompleteMultipartUploadData, DeleteObjectsRequest, DeleteObjectsResult, InitiateMultipartUploadResponse,
    ListBucketResult, ListMultipartUploadsResult, ObjectIdentifier, Part,
};
use s3::{Bucket, BucketConfiguration, Region};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

use super::parts::{part_size, MAX_PARTS};
use super::transport::Transport;
use super::Error;
use crate::names::ValidationError;

/// Metadata key under which the SHA-256 of an object's content is kept.
pub const SHA256_META: &str = "sha256";
pub(super) const CONTENT_TYPE: &str = "application/octet-stream";
/// How long the URL a part is sent to stays valid: far longer than a part takes.
const PART_URL_SECONDS: u32 = 3600;
/// Bytes read from the file per chunk of a part's body.
const READ_BUFFER: usize = 256 * 1024;

/// Where the store is and who we are to it. The secret never appears in `Debug` output.
#[derive(Clone, Default)]
pub struct StoreConfig {
    pub endpoint: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// `https://host/bucket/key` rather than `https://bucket.host/key`.
    pub path_style: bool,
    /// PEM certificates trusted instead of the public roots: the platform CA, for a store
    /// that serves a certificate from it.
    pub ca_bundle: Option<String>,
    /// Where to connect whatever DNS says of the endpoint's host (and, addressed by virtual
    /// host, of the bucket's), like curl's `--connect-to`; TLS still checks the host's name.
    pub connect_address: Option<SocketAddr>,
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("path_style", &self.path_style)
            .field("ca_bundle", &self.ca_bundle.as_ref().map(|_| "(PEM)"))
            .field("connect_address", &self.connect_address)
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
    /// The file's SHA-256 (hex) when the caller has it, hashed as the file was written: the
    /// upload then skips its own pass over the file.
    pub sha256: Option<String>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self { concurrency: 10, attempts: 5, cancel: Arc::new(AtomicBool::new(false)), quota: None, sha256: None }
    }
}

#[derive(Clone)]
pub struct Store {
    pub(super) bucket: Box<Bucket>,
    config: StoreConfig,
    pub(super) http: Transport,
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
        let host = reqwest::Url::parse(&config.endpoint)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .and_then(|url| url.host_str().map(str::to_string))
            .ok_or_else(|| {
                ValidationError::new(format!("endpoint must be an http(s) URL, got {:?}", config.endpoint))
            })?;
        let hosts = if config.path_style { vec![host.clone()] } else { vec![host.clone(), format!("{name}.{host}")] };
        let http = Transport::new(config.ca_bundle.as_deref(), config.connect_address.map(|address| (address, hosts)))?;
        let region =
            Region::Custom { region: config.region.clone(), endpoint: config.endpoint.trim_end_matches('/').into() };
        let credentials = Credentials::new(Some(&config.access_key), Some(&config.secret_key), None, None, None)
            .map_err(|e| Error::Invalid(ValidationError::new(format!("credentials: {e}"))))?;
        let bucket = Bucket::new(name, region, credentials).map_err(|e| Error::from_s3(e, name))?;
        let bucket = if config.path_style { bucket.with_path_style() } else { bucket };
        Ok(Self { bucket, config: config.clone(), http })
    }

    pub fn name(&self) -> &str {
        &self.bucket.name
    }

    /// Creates the bucket unless it exists already.
    pub async fn ensure_bucket(&self) -> Result<(), Error> {
        match self.list_page("", None, Some(1)).await {
            Ok(_) => return Ok(()),
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let mut config = BucketConfiguration::default();
        config.set_region(self.bucket.region.clone());
        match self.http.send(&self.bucket, "", Command::CreateBucket { config }).await {
            Ok(_) => Ok(()),
            // 409: created meanwhile by another caller of ours (then it lists), or the name
            // belongs to someone else (then the conflict is the answer).
            Err(conflict @ Error::S3 { status: 409, .. }) => {
                self.list_page("", None, Some(1)).await.map(|_| ()).map_err(|_| conflict)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn put_bytes(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        let sha = hex::encode(Sha256::digest(data));
        let put =
            Command::PutObject { content: data, content_type: CONTENT_TYPE, custom_headers: None, multipart: None };
        self.http.send(&self.with_metadata(&sha), key, put).await.map(|_| ())
    }

    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, Error> {
        Ok(self.http.send(&self.bucket, key, Command::GetObject).await?.bytes(key).await?.to_vec())
    }

    pub async fn head(&self, key: &str) -> Result<ObjectInfo, Error> {
        let reply = self.http.send(&self.bucket, key, Command::HeadObject).await?;
        Ok(ObjectInfo {
            key: key.to_string(),
            size: reply.header("content-length").and_then(|n| n.parse().ok()).unwrap_or(0),
            sha256: reply.header(&format!("x-amz-meta-{SHA256_META}")).map(str::to_string),
        })
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        self.http.send(&self.bucket, key, Command::DeleteObject).await.map(|_| ())
    }

    async fn list_page(
        &self,
        prefix: &str,
        token: Option<String>,
        max: Option<usize>,
    ) -> Result<ListBucketResult, Error> {
        let list = Command::ListObjectsV2 {
            prefix: prefix.to_string(),
            delimiter: None,
            continuation_token: token,
            start_after: None,
            max_keys: max,
        };
        self.http.send(&self.bucket, "/", list).await?.xml(prefix).await
    }

    /// Every object under `prefix`, all pages.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, Error> {
        let mut objects = Vec::new();
        let mut token = None;
        loop {
            let page = self.list_page(prefix, token, None).await?;
            objects.extend(page.contents.into_iter().map(|o| ObjectInfo { key: o.key, size: o.size, sha256: None }));
            match page.next_continuation_token {
                Some(next) if page.is_truncated => token = Some(next),
                _ => return Ok(objects),
            }
        }
    }

    /// Deletes every object under `prefix`; returns how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, Error> {
        let keys: Vec<String> = self.list(prefix).await?.into_iter().map(|o| o.key).collect();
        self.delete_keys(&keys).await
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
        if end.is_some_and(|end| end < start) {
            return Err(ValidationError::new(format!("range end {end:?} is before its start {start}")).into());
        }
        let reply = self.http.send(&self.bucket, key, Command::GetObjectRange { start, end }).await?;
        Ok(reply.bytes(key).await?.to_vec())
    }

    /// Deletes each of `keys` (for example what a rotation expired), a thousand per request;
    /// returns how many.
    pub async fn delete_keys(&self, keys: &[String]) -> Result<usize, Error> {
        for chunk in keys.chunks(1000) {
            let objects = chunk.iter().map(ObjectIdentifier::new).collect();
            let delete = Command::DeleteObjects { data: DeleteObjectsRequest { objects, quiet: true } };
            let result: DeleteObjectsResult = self.http.send(&self.bucket, "/", delete).await?.xml("delete").await?;
            if let Some(failed) = result.errors.first() {
                let message = format!(
                    "{}: {} {} ({} keys not deleted)",
                    failed.key,
                    failed.code,
                    failed.message,
                    result.errors.len()
                );
                return Err(Error::S3 { status: 200, message });
            }
        }
        Ok(keys.len())
    }

    /// Begins a multipart upload that a client (a browser) sends itself, part by part, to
    /// URLs from `presign_part`; returns its upload id. The shape of Press's
    /// `press/api/site.py` `get_upload_link` / `multipart_exit`.
    pub async fn begin_multipart(&self, key: &str) -> Result<String, Error> {
        self.initiate(&self.bucket, key).await
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
        self.complete(key, upload_id, parts.into_iter().map(|(part_number, etag)| Part { part_number, etag }).collect())
            .await
    }

    async fn initiate(&self, bucket: &Bucket, key: &str) -> Result<String, Error> {
        let initiate = Command::InitiateMultipartUpload { content_type: CONTENT_TYPE };
        let started: InitiateMultipartUploadResponse = self.http.send(bucket, key, initiate).await?.xml(key).await?;
        Ok(started.upload_id)
    }

    async fn complete(&self, key: &str, upload_id: &str, parts: Vec<Part>) -> Result<(), Error> {
        let complete = Command::CompleteMultipartUpload { upload_id, data: CompleteMultipartUploadData { parts } };
        let reply = self.http.send(&self.bucket, key, complete).await?;
        // S3 may answer 200 and still fail: the error then is the body.
        let body = reply.bytes(key).await?;
        let text = String::from_utf8_lossy(&body);
        if text.contains("<Error>") {
            return Err(Error::from_status(500, &text, key));
        }
        Ok(())
    }

    /// Multipart uploads begun under `prefix` and neither completed nor aborted.
    pub async fn pending_uploads(&self, prefix: &str) -> Result<Vec<PendingUpload>, Error> {
        let mut pending = Vec::new();
        let (mut key_marker, mut upload_id_marker) = (None, None);
        loop {
            let list = Command::ListMultipartUploads {
                prefix: Some(prefix),
                delimiter: None,
                key_marker,
                upload_id_marker,
                max_uploads: None,
            };
            let page: ListMultipartUploadsResult = self.http.send(&self.bucket, "/", list).await?.xml(prefix).await?;
            pending.extend(page.uploads.into_iter().map(|u| PendingUpload {
                key: u.key,
                upload_id: u.id,
                initiated: u.initiated,
            }));
            if !page.is_truncated || page.next_marker.is_none() {
                return Ok(pending);
            }
            (key_marker, upload_id_marker) = (page.next_marker, page.next_upload_id_marker);
        }
    }

    pub async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), Error> {
        self.http.send(&self.bucket, key, Command::AbortMultipartUpload { upload_id }).await.map(|_| ())
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
        if let Some(sha) = &options.sha256 {
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(
                    ValidationError::new(format!("sha256 must be 64 lower-case hex digits, got {sha:?}")).into()
                );
            }
        }
        let total = tokio::fs::metadata(path).await.map_err(|e| Error::Io(format!("{}: {e}", path.display())))?.len();
        let part =
            part_size(total).ok_or_else(|| ValidationError::new("file is larger than S3's 5 TiB object limit"))?;
        if let Some((prefix, quota)) = &options.quota {
            self.check_quota(prefix, *quota, total).await?;
        }
        if total < part {
            // One request: a multipart upload cannot carry an empty part, and a small file
            // gains nothing from parts.
            if options.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            progress(0, total);
            let data = read_at(path, 0, total as usize).await?;
            self.put_bytes(key, &data).await?;
            progress(total, total);
            return Ok(ObjectInfo {
                key: key.to_string(),
                size: total,
                sha256: Some(hex::encode(Sha256::digest(&data))),
            });
        }
        // The digest goes into the object's metadata, which is set when the upload begins.
        let sha = match &options.sha256 {
            Some(known) => known.clone(),
            None => file_sha256(path).await?,
        };
        let upload_id = self.initiate(&self.with_metadata(&sha), key).await?;

        let sent = self.send_parts(path, key, &upload_id, total, part, options, &mut progress).await;
        let completed = match sent {
            Ok(parts) => self.complete(key, &upload_id, parts).await,
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
            match self.abort_upload(key, upload_id).await {
                Ok(()) => return cause,
                Err(e) if attempt < attempts * 2 && e.retryable() => tokio::time::sleep(backoff(attempt.min(5))).await,
                Err(e) => {
                    return Error::AbortFailed {
                        cause: Box::new(cause),
                        key: key.to_string(),
                        upload_id: upload_id.to_string(),
                        abort: Box::new(e),
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
            let length = part.min(total - offset);
            let (store, key, upload_id, path) =
                (self.clone(), key.to_string(), upload_id.to_string(), path.to_path_buf());
            let attempts = options.attempts;
            in_flight.spawn(async move {
                store.send_part(&path, offset, length, &key, number, &upload_id, attempts).await.map(|p| (p, length))
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

    /// Sends one part to a presigned URL, its body streamed from the file (read anew for each
    /// attempt), so a part in flight holds a read buffer rather than the part.
    #[allow(clippy::too_many_arguments)]
    async fn send_part(
        &self,
        path: &Path,
        offset: u64,
        length: u64,
        key: &str,
        number: u32,
        upload_id: &str,
        attempts: u32,
    ) -> Result<Part, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let url = self.presign_part(key, upload_id, number, PART_URL_SECONDS).await?;
            let body = part_body(path, offset, length).await?;
            match self.http.put_presigned(&url, body, length, key).await {
                Ok(reply) => {
                    let etag = reply.header("etag").ok_or_else(|| Error::S3 {
                        status: 200,
                        message: format!("{key}: part {number} was stored without an ETag"),
                    })?;
                    return Ok(Part { part_number: number, etag: etag.to_string() });
                }
                Err(e) if attempt < attempts && e.retryable() => tokio::time::sleep(backoff(attempt)).await,
                Err(e) => return Err(e),
            }
        }
    }

    /// The bucket with the SHA-256 metadata header that uploads carry (a constant header
    /// name and a hex value, both valid).
    fn with_metadata(&self, sha: &str) -> Bucket {
        let mut bucket = (*self.bucket).clone();
        bucket.add_header(&format!("x-amz-meta-{SHA256_META}"), sha);
        bucket
    }
}

async fn part_body(path: &Path, offset: u64, length: u64) -> Result<reqwest::Body, Error> {
    use tokio::io::AsyncSeekExt;
    let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
    let mut file = tokio::fs::File::open(path).await.map_err(io)?;
    file.seek(std::io::SeekFrom::Start(offset)).await.map_err(io)?;
    Ok(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file.take(length), READ_BUFFER)))
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
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(10));
    let jitter: [u8; 2] = crate::pki::random_bytes();
    base + base.mul_f64(f64::from(u16::from_le_bytes(jitter)) / f64::from(u16::MAX))
}

type PartResult = Result<(Part, u64), Error>;

fn joined(next: Option<Result<PartResult, tokio::task::JoinError>>) -> PartResult {
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
pub(super) fn check_bucket_name(name: &str) -> Result<(), ValidationError> {
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
            ..StoreConfig::default()
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
            ..StoreConfig::default()
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

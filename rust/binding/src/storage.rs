//! Python classes of object storage: `Store`, `CancelToken`, `TenantPrefix`, `GarageAdmin`
//! (tenant keys) and `expired_backups` (Press's rotation schemes on plain data).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use press_selfhosted_core::names::ValidationError;
use press_selfhosted_core::storage::{self, Backup, ObjectInfo, Scheme, StoreConfig, UploadOptions};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use time::{Date, OffsetDateTime};

use crate::errors::{run, Failure};
use crate::numbers::Number;
use crate::runtime::{awaitable, block_on, failed};

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Store>()?;
    module.add_class::<CancelToken>()?;
    module.add_class::<TenantPrefix>()?;
    module.add_class::<GarageAdmin>()?;
    module.add_class::<GrantedKey>()?;
    module.add_function(wrap_pyfunction!(expired_backups, module)?)?;
    Ok(())
}

/// Set from any thread to stop an upload between parts; the upload is then aborted.
#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct CancelToken(Arc<AtomicBool>);

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> Self {
        Self(Arc::new(AtomicBool::new(false)))
    }

    fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    #[getter]
    fn cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A tenant's part of a bucket; `key()` confines a relative key to it.
#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct TenantPrefix(storage::TenantPrefix);

#[pymethods]
impl TenantPrefix {
    #[new]
    fn new(prefix: &str) -> PyResult<Self> {
        Ok(Self(storage::TenantPrefix::new(prefix).map_err(Failure::from)?))
    }

    #[getter]
    fn prefix(&self) -> String {
        format!("{}/", self.0.as_str())
    }

    fn key(&self, relative: &str) -> PyResult<String> {
        Ok(self.0.key(relative).map_err(Failure::from)?)
    }

    fn __repr__(&self) -> String {
        format!("<TenantPrefix {}/>", self.0.as_str())
    }
}

#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct Store(Arc<storage::Store>);

/// The PEM of a CA bundle file, read before any request so a wrong path fails at once.
fn read_ca_bundle(path: Option<PathBuf>) -> PyResult<Option<String>> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|e| ValidationError::new(format!("CA bundle {}: {e}", path.display())))
    };
    Ok(path.map(read).transpose().map_err(Failure::from)?)
}

fn info(py: Python<'_>, o: ObjectInfo) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("key", o.key)?;
    dict.set_item("size", o.size)?;
    dict.set_item("sha256", o.sha256)?;
    Ok(dict)
}

#[pymethods]
impl Store {
    /// A bucket on an S3-compatible store. No request is made until the first call.
    #[new]
    #[pyo3(signature = (
        endpoint, bucket, *, access_key, secret_key, region = String::from("us-east-1"), path_style = true,
        ca_bundle = None, connect_address = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        endpoint: String,
        bucket: &str,
        access_key: String,
        secret_key: String,
        region: String,
        path_style: bool,
        ca_bundle: Option<PathBuf>,
        connect_address: Option<&str>,
    ) -> PyResult<Self> {
        let ca_bundle = read_ca_bundle(ca_bundle)?;
        let connect_address = connect_address
            .map(|address| {
                address
                    .parse()
                    .map_err(|_| ValidationError::new(format!("connect_address must be ip:port, got {address:?}")))
            })
            .transpose()
            .map_err(Failure::from)?;
        let config = StoreConfig { endpoint, region, access_key, secret_key, path_style, ca_bundle, connect_address };
        Ok(Self(Arc::new(storage::Store::new(&config, bucket).map_err(Failure::from)?)))
    }

    #[getter]
    fn bucket(&self) -> &str {
        self.0.name()
    }

    fn __repr__(&self) -> String {
        format!("<Store bucket={}>", self.0.name())
    }

    fn ensure_bucket(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || block_on(self.0.ensure_bucket()))
    }

    fn put_bytes(&self, py: Python<'_>, key: String, data: Vec<u8>) -> PyResult<()> {
        run(py, || block_on(self.0.put_bytes(&key, &data)))
    }

    fn get_bytes<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyBytes>> {
        let data = run(py, || block_on(self.0.get_bytes(&key)))?;
        Ok(PyBytes::new(py, &data))
    }

    /// Bytes `start..=end` of the object (to its end when `end` is None).
    #[pyo3(signature = (key, start, end = None))]
    fn get_range<'py>(
        &self,
        py: Python<'py>,
        key: String,
        start: Number<u64>,
        end: Option<Number<u64>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (start, end) = (start.get(), end.map(Number::get));
        let data = run(py, || block_on(self.0.get_range(&key, start, end)))?;
        Ok(PyBytes::new(py, &data))
    }

    fn delete_keys(&self, py: Python<'_>, keys: Vec<String>) -> PyResult<usize> {
        run(py, || block_on(self.0.delete_keys(&keys)))
    }

    /// Begins a multipart upload for a client to send itself; returns the upload id.
    fn begin_multipart(&self, py: Python<'_>, key: String) -> PyResult<String> {
        run(py, || block_on(self.0.begin_multipart(&key)))
    }

    #[pyo3(signature = (key, upload_id, number, *, expires = Number(3600)))]
    fn presign_part(
        &self,
        py: Python<'_>,
        key: String,
        upload_id: String,
        number: Number<u32>,
        expires: Number<u32>,
    ) -> PyResult<String> {
        run(py, || block_on(self.0.presign_part(&key, &upload_id, number.get(), expires.get())))
    }

    /// Completes a client-sent multipart upload from `[(part_number, etag)]`.
    fn complete_multipart(
        &self,
        py: Python<'_>,
        key: String,
        upload_id: String,
        parts: Vec<(Number<u32>, String)>,
    ) -> PyResult<()> {
        let parts = parts.into_iter().map(|(number, etag)| (number.get(), etag)).collect();
        run(py, || block_on(self.0.complete_multipart(&key, &upload_id, parts)))
    }

    /// `{"key", "size", "sha256"}`; sha256 is the checksum recorded at upload, or None.
    fn head<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let object = run(py, || block_on(self.0.head(&key)))?;
        info(py, object)
    }

    fn delete(&self, py: Python<'_>, key: String) -> PyResult<()> {
        run(py, || block_on(self.0.delete(&key)))
    }

    /// `[(key, size)]` under `prefix`, every page.
    #[pyo3(signature = (prefix = String::new()))]
    fn list(&self, py: Python<'_>, prefix: String) -> PyResult<Vec<(String, u64)>> {
        run(py, || Ok(block_on(self.0.list(&prefix))?.into_iter().map(|o| (o.key, o.size)).collect()))
    }

    fn delete_prefix(&self, py: Python<'_>, prefix: String) -> PyResult<usize> {
        run(py, || block_on(self.0.delete_prefix(&prefix)))
    }

    /// `(bytes, objects)` under `prefix`.
    fn usage(&self, py: Python<'_>, prefix: String) -> PyResult<(u64, u64)> {
        run(py, || block_on(self.0.usage(&prefix)))
    }

    /// Raises QuotaExceeded when `adding` bytes more under `prefix` would pass `quota`;
    /// returns the bytes used now.
    fn check_quota(&self, py: Python<'_>, prefix: String, quota: Number<u64>, adding: Number<u64>) -> PyResult<u64> {
        run(py, || block_on(self.0.check_quota(&prefix, quota.get(), adding.get())))
    }

    #[pyo3(signature = (key, *, expires = Number(3600)))]
    fn presign_get(&self, py: Python<'_>, key: String, expires: Number<u32>) -> PyResult<String> {
        run(py, || block_on(self.0.presign_get(&key, expires.get())))
    }

    #[pyo3(signature = (key, *, expires = Number(3600)))]
    fn presign_put(&self, py: Python<'_>, key: String, expires: Number<u32>) -> PyResult<String> {
        run(py, || block_on(self.0.presign_put(&key, expires.get())))
    }

    /// `[(key, upload_id, initiated)]` of multipart uploads neither completed nor aborted.
    #[pyo3(signature = (prefix = String::new()))]
    fn pending_uploads(&self, py: Python<'_>, prefix: String) -> PyResult<Vec<(String, String, String)>> {
        run(py, || {
            Ok(block_on(self.0.pending_uploads(&prefix))?
                .into_iter()
                .map(|u| (u.key, u.upload_id, u.initiated))
                .collect())
        })
    }

    fn abort_upload(&self, py: Python<'_>, key: String, upload_id: String) -> PyResult<()> {
        run(py, || block_on(self.0.abort_upload(&key, &upload_id)))
    }

    /// Uploads a file in parts (bounded memory, retried parts, aborted on failure) and
    /// records its SHA-256. `progress(done, total)` follows completed parts; `cancel` stops
    /// it; `quota=(prefix, bytes)` refuses it up front when the tenant would pass its quota.
    #[pyo3(signature = (path, key, *, concurrency = Number(10), attempts = Number(5), progress = None, cancel = None,
                        quota = None, sha256 = None))]
    #[allow(clippy::too_many_arguments)]
    fn upload_file<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        key: String,
        concurrency: Number<usize>,
        attempts: Number<u32>,
        progress: Option<Py<PyAny>>,
        cancel: Option<Py<CancelToken>>,
        quota: Option<(String, Number<u64>)>,
        sha256: Option<String>,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let token = token_of(cancel);
        let options = upload_options(concurrency, attempts, &token, quota, sha256);
        let mut reporter = Reporter::new(progress, &token);
        let result = run(py, || block_on(self.0.upload_file(&path, &key, &options, |d, t| reporter.report(d, t))));
        reporter.raised()?;
        info(py, result?)
    }

    /// Downloads `key` into the file at `path` as ranges fetched side by side; with `verify`,
    /// a content that does not match the SHA-256 recorded at upload raises ChecksumMismatch.
    /// `progress(done, total)` follows completed ranges; `cancel` stops it. A failed or
    /// cancelled download leaves no file.
    #[pyo3(signature = (key, path, *, verify = true, progress = None, cancel = None))]
    fn download_file<'py>(
        &self,
        py: Python<'py>,
        key: String,
        path: PathBuf,
        verify: bool,
        progress: Option<Py<PyAny>>,
        cancel: Option<Py<CancelToken>>,
    ) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let token = token_of(cancel);
        let mut reporter = Reporter::new(progress, &token);
        let result =
            run(py, || block_on(self.0.download_file(&key, &path, verify, &token, |d, t| reporter.report(d, t))));
        reporter.raised()?;
        info(py, result?)
    }

    /// The awaitable form of `upload_file` (same arguments): `await store.upload_file_async(...)`.
    #[pyo3(signature = (path, key, *, concurrency = Number(10), attempts = Number(5), progress = None, cancel = None,
                        quota = None, sha256 = None))]
    #[allow(clippy::too_many_arguments)]
    fn upload_file_async<'py>(
        &self,
        py: Python<'py>,
        path: PathBuf,
        key: String,
        concurrency: Number<usize>,
        attempts: Number<u32>,
        progress: Option<Py<PyAny>>,
        cancel: Option<Py<CancelToken>>,
        quota: Option<(String, Number<u64>)>,
        sha256: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let token = token_of(cancel);
        let options = upload_options(concurrency, attempts, &token, quota, sha256);
        let store = self.0.clone();
        awaitable(py, async move {
            let mut reporter = Reporter::new(progress, &token);
            let result = store.upload_file(&path, &key, &options, |d, t| reporter.report(d, t)).await;
            reporter.raised()?;
            let o = result.map_err(failed)?;
            Ok(Transferred { key: o.key, size: o.size, sha256: o.sha256 })
        })
    }

    /// The awaitable form of `download_file` (same arguments).
    #[pyo3(signature = (key, path, *, verify = true, progress = None, cancel = None))]
    fn download_file_async<'py>(
        &self,
        py: Python<'py>,
        key: String,
        path: PathBuf,
        verify: bool,
        progress: Option<Py<PyAny>>,
        cancel: Option<Py<CancelToken>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let token = token_of(cancel);
        let store = self.0.clone();
        awaitable(py, async move {
            let mut reporter = Reporter::new(progress, &token);
            let result = store.download_file(&key, &path, verify, &token, |d, t| reporter.report(d, t)).await;
            reporter.raised()?;
            let o = result.map_err(failed)?;
            Ok(Transferred { key: o.key, size: o.size, sha256: o.sha256 })
        })
    }
}

/// What an awaitable transfer gives: the same object info as the blocking form's dict.
#[derive(IntoPyObject)]
struct Transferred {
    key: String,
    size: u64,
    sha256: Option<String>,
}

fn upload_options(
    concurrency: Number<usize>,
    attempts: Number<u32>,
    token: &Arc<AtomicBool>,
    quota: Option<(String, Number<u64>)>,
    sha256: Option<String>,
) -> UploadOptions {
    UploadOptions {
        concurrency: concurrency.get(),
        attempts: attempts.get(),
        cancel: token.clone(),
        quota: quota.map(|(prefix, bytes)| (prefix, bytes.get())),
        sha256,
    }
}

fn token_of(cancel: Option<Py<CancelToken>>) -> Arc<AtomicBool> {
    cancel.map(|c| c.get().0.clone()).unwrap_or_else(|| Arc::new(AtomicBool::new(false)))
}

/// Passes a transfer's progress to a Python callback. A callback that raises cancels the
/// transfer, and its exception is what the caller gets.
struct Reporter {
    callback: Option<Py<PyAny>>,
    token: Arc<AtomicBool>,
    error: Option<PyErr>,
}

impl Reporter {
    fn new(callback: Option<Py<PyAny>>, token: &Arc<AtomicBool>) -> Self {
        Self { callback, token: token.clone(), error: None }
    }

    fn report(&mut self, done: u64, total: u64) {
        let (Some(callback), None) = (&self.callback, &self.error) else { return };
        if let Err(e) = Python::attach(|py| callback.call1(py, (done, total))) {
            self.error = Some(e);
            self.token.store(true, Ordering::Relaxed);
        }
    }

    fn raised(self) -> PyResult<()> {
        self.error.map_or(Ok(()), Err)
    }
}

/// The keys that Press's rotation `scheme` ("fifo" keeping `keep` per site, or "gfs" with
/// Press's windows) expires on `today`, from `backups` given as `(site, key, taken_at)`.
#[pyfunction]
#[pyo3(signature = (backups, *, scheme = "gfs", keep = Number(30), today = None))]
fn expired_backups(
    backups: Vec<(String, String, OffsetDateTime)>,
    scheme: &str,
    keep: Number<usize>,
    today: Option<Date>,
) -> PyResult<Vec<String>> {
    let scheme = match scheme {
        "fifo" => Scheme::Fifo { keep: keep.get() },
        "gfs" => Scheme::PRESS_GFS,
        other => {
            return Err(
                Failure::Invalid(ValidationError::new(format!("scheme must be fifo or gfs, got {other:?}"))).into()
            )
        }
    };
    let backups: Vec<Backup> =
        backups.into_iter().map(|(site, key, taken_at)| Backup { site, key, taken_at }).collect();
    let today = today.unwrap_or_else(|| OffsetDateTime::now_utc().date());
    Ok(storage::expired(&backups, scheme, today).map_err(Failure::from)?)
}

/// Garage's admin API: a bucket and a key of their own for each tenant.
#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct GarageAdmin(storage::GarageAdmin);

#[pymethods]
impl GarageAdmin {
    #[new]
    #[pyo3(signature = (url, token, *, ca_bundle = None))]
    fn new(url: &str, token: &str, ca_bundle: Option<PathBuf>) -> PyResult<Self> {
        let ca_bundle = read_ca_bundle(ca_bundle)?;
        Ok(Self(storage::GarageAdmin::new(url, token, ca_bundle.as_deref()).map_err(Failure::from)?))
    }

    fn __repr__(&self) -> String {
        format!("<GarageAdmin url={}>", self.0.url())
    }

    fn grant(&self, py: Python<'_>, bucket: String, key_name: String) -> PyResult<GrantedKey> {
        run(py, || block_on(self.0.grant(&bucket, &key_name))).map(GrantedKey)
    }

    fn key_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        run(py, || block_on(self.0.key_names()))
    }

    fn revoke(&self, py: Python<'_>, access_key: String) -> PyResult<bool> {
        run(py, || block_on(self.0.revoke(&access_key)))
    }
}

#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct GrantedKey(storage::GrantedKey);

#[pymethods]
impl GrantedKey {
    #[getter]
    fn bucket(&self) -> &str {
        &self.0.bucket
    }

    #[getter]
    fn access_key(&self) -> &str {
        &self.0.access_key
    }

    #[getter]
    fn secret_key(&self) -> &str {
        &self.0.secret_key
    }

    #[getter]
    fn created(&self) -> bool {
        self.0.created
    }

    fn __repr__(&self) -> String {
        format!("<GrantedKey bucket={} access_key={} created={}>", self.0.bucket, self.0.access_key, self.0.created)
    }
}

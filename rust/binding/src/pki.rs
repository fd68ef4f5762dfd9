//! Python classes of the certificate authority: `CertificateAuthority`, `IssuedCertificate`,
//! `CertificateInfo`, and the functions `inspect_certificate`, `self_signed_certificate`,
//! `decrypt_private_key`.

use std::collections::HashMap;
use std::path::PathBuf;

use press_selfhosted_core::names::ValidationError;
use press_selfhosted_core::pki::{self, CaOptions, KeyType, LeafRequest, PrivateKey};
use pyo3::prelude::*;
use time::OffsetDateTime;

use crate::errors::{run, Failure};
use crate::numbers::Number;

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<CertificateAuthority>()?;
    module.add_class::<IssuedCertificate>()?;
    module.add_class::<CertificateInfo>()?;
    module.add_function(wrap_pyfunction!(inspect_certificate, module)?)?;
    module.add_function(wrap_pyfunction!(self_signed_certificate, module)?)?;
    module.add_function(wrap_pyfunction!(decrypt_private_key, module)?)?;
    module.add("DEFAULT_RENEWAL_DAYS", pki::DEFAULT_RENEWAL_DAYS)?;
    Ok(())
}

#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct CertificateAuthority(pki::CertificateAuthority);

#[pymethods]
impl CertificateAuthority {
    #[staticmethod]
    #[pyo3(signature = (directory, *, name = None, key_type = "ecdsa-p256", passphrase = None,
                        root_validity_days = None, intermediate_validity_days = None))]
    fn create(
        py: Python<'_>,
        directory: PathBuf,
        name: Option<String>,
        key_type: &str,
        passphrase: Option<String>,
        root_validity_days: Option<Number<u32>>,
        intermediate_validity_days: Option<Number<u32>>,
    ) -> PyResult<Self> {
        let defaults = CaOptions::default();
        let options = CaOptions {
            name: name.unwrap_or(defaults.name),
            key_type: key_type.parse().map_err(Failure::from)?,
            root_validity_days: root_validity_days.map_or(defaults.root_validity_days, Number::get),
            intermediate_validity_days: intermediate_validity_days
                .map_or(defaults.intermediate_validity_days, Number::get),
        };
        run(py, || Ok(Self(pki::CertificateAuthority::create(&directory, &options, passphrase.as_deref())?)))
    }

    #[staticmethod]
    #[pyo3(signature = (directory, *, passphrase = None))]
    fn load(py: Python<'_>, directory: PathBuf, passphrase: Option<String>) -> PyResult<Self> {
        run(py, || Ok(Self(pki::CertificateAuthority::load(&directory, passphrase.as_deref())?)))
    }

    #[pyo3(signature = (names, *, key_type = "ecdsa-p256", validity_days = Number(pki::DEFAULT_VALIDITY_DAYS),
                        not_before = None, server = true, client = false))]
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        py: Python<'_>,
        names: Vec<String>,
        key_type: &str,
        validity_days: Number<u32>,
        not_before: Option<&Bound<'_, PyAny>>,
        server: bool,
        client: bool,
    ) -> PyResult<IssuedCertificate> {
        let request = leaf_request(names, key_type, validity_days, not_before, server, client)?;
        run(py, || Ok(IssuedCertificate(self.0.issue(&request)?)))
    }

    #[getter]
    fn directory(&self) -> PathBuf {
        self.0.directory().to_path_buf()
    }

    #[getter]
    fn root_pem(&self) -> &str {
        self.0.root_pem()
    }

    #[getter]
    fn intermediate_pem(&self) -> &str {
        self.0.intermediate_pem()
    }

    fn __repr__(&self) -> String {
        format!("<CertificateAuthority {}>", self.0.directory().display())
    }
}

#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct IssuedCertificate(pki::IssuedCertificate);

#[pymethods]
impl IssuedCertificate {
    #[getter]
    fn certificate_pem(&self) -> &str {
        &self.0.certificate_pem
    }

    #[getter]
    fn chain_pem(&self) -> &str {
        &self.0.chain_pem
    }

    #[getter]
    fn full_chain_pem(&self) -> String {
        self.0.full_chain_pem()
    }

    #[getter]
    fn key_type(&self) -> &'static str {
        self.0.key.key_type().as_str()
    }

    #[pyo3(signature = (passphrase = None))]
    fn private_key_pem(&self, py: Python<'_>, passphrase: Option<String>) -> PyResult<String> {
        run(py, || Ok(self.0.key.to_pem(passphrase.as_deref())?))
    }

    /// Writes the files and returns their paths by role:
    /// `certificate`, `chain`, `full_chain`, `private_key`.
    #[pyo3(signature = (directory, stem, *, passphrase = None))]
    fn write_files(
        &self,
        py: Python<'_>,
        directory: PathBuf,
        stem: String,
        passphrase: Option<String>,
    ) -> PyResult<HashMap<&'static str, PathBuf>> {
        run(py, || {
            let files = self.0.write_files(&directory, &stem, passphrase.as_deref())?;
            Ok(HashMap::from([
                ("certificate", files.certificate),
                ("chain", files.chain),
                ("full_chain", files.full_chain),
                ("private_key", files.private_key),
            ]))
        })
    }

    fn info(&self, py: Python<'_>) -> PyResult<CertificateInfo> {
        run(py, || Ok(CertificateInfo(pki::inspect(&self.0.certificate_pem)?)))
    }

    fn __repr__(&self) -> String {
        match pki::inspect(&self.0.certificate_pem) {
            Ok(info) => format!("<IssuedCertificate {} until {}>", info.names.join(", "), info.not_after.date()),
            Err(_) => "<IssuedCertificate>".into(),
        }
    }
}

#[pyclass(frozen, module = "press_selfhosted._native")]
pub struct CertificateInfo(pki::CertificateInfo);

#[pymethods]
impl CertificateInfo {
    #[getter]
    fn subject(&self) -> &str {
        &self.0.subject
    }

    #[getter]
    fn issuer(&self) -> &str {
        &self.0.issuer
    }

    #[getter]
    fn serial(&self) -> &str {
        &self.0.serial
    }

    #[getter]
    fn names(&self) -> Vec<String> {
        self.0.names.clone()
    }

    #[getter]
    fn not_before(&self) -> OffsetDateTime {
        self.0.not_before
    }

    #[getter]
    fn not_after(&self) -> OffsetDateTime {
        self.0.not_after
    }

    #[getter]
    fn is_ca(&self) -> bool {
        self.0.is_ca
    }

    #[getter]
    fn fingerprint_sha256(&self) -> &str {
        &self.0.fingerprint_sha256
    }

    /// Whole days left now; negative once expired.
    #[getter]
    fn days_left(&self) -> i64 {
        self.0.days_left(OffsetDateTime::now_utc())
    }

    #[pyo3(signature = (threshold_days = Number(pki::DEFAULT_RENEWAL_DAYS)))]
    fn needs_renewal(&self, threshold_days: Number<i64>) -> bool {
        self.0.needs_renewal(threshold_days.get(), OffsetDateTime::now_utc())
    }

    fn __repr__(&self) -> String {
        format!(
            "<CertificateInfo {} issued by {:?}, expires {}>",
            self.0.names.join(", "),
            self.0.issuer,
            self.0.not_after.date()
        )
    }
}

#[pyfunction]
fn inspect_certificate(py: Python<'_>, pem: String) -> PyResult<CertificateInfo> {
    run(py, || Ok(CertificateInfo(pki::inspect(&pem)?)))
}

#[pyfunction]
#[pyo3(signature = (names, *, key_type = "ecdsa-p256", validity_days = Number(pki::DEFAULT_VALIDITY_DAYS),
                    not_before = None))]
fn self_signed_certificate(
    py: Python<'_>,
    names: Vec<String>,
    key_type: &str,
    validity_days: Number<u32>,
    not_before: Option<&Bound<'_, PyAny>>,
) -> PyResult<IssuedCertificate> {
    let request = leaf_request(names, key_type, validity_days, not_before, true, false)?;
    run(py, || Ok(IssuedCertificate(pki::self_signed(&request)?)))
}

/// Returns the unencrypted PKCS#8 PEM of an (encrypted) private key, for servers such as
/// Traefik that cannot read encrypted keys.
#[pyfunction]
fn decrypt_private_key(py: Python<'_>, pem: String, passphrase: String) -> PyResult<String> {
    run(py, || Ok(PrivateKey::from_pem(&pem, Some(&passphrase))?.to_pem(None)?))
}

fn leaf_request(
    names: Vec<String>,
    key_type: &str,
    validity_days: Number<u32>,
    not_before: Option<&Bound<'_, PyAny>>,
    server: bool,
    client: bool,
) -> PyResult<LeafRequest> {
    let key_type: KeyType = key_type.parse().map_err(Failure::from)?;
    let not_before = not_before
        .map(|value| {
            value
                .extract::<OffsetDateTime>()
                .map_err(|_| Failure::Invalid(ValidationError::new("not_before must be a timezone-aware datetime")))
        })
        .transpose()?;
    Ok(LeafRequest {
        names,
        key_type,
        validity_days: validity_days.get(),
        not_before,
        server_auth: server,
        client_auth: client,
    })
}

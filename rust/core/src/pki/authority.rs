//! The platform's certificate authority: a long-lived root that signs one intermediate, and
//! the intermediate that signs every leaf. Issuing needs only the intermediate, so the root's
//! key can be moved offline once the CA is created.
//!
//! On disk, one directory (0700): `root.crt`, `root.key`, `intermediate.crt`,
//! `intermediate.key`; keys 0600, PKCS#8, encrypted when a passphrase is given.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::keys::{KeyType, PrivateKey};
use super::leaf::{random_serial, validity_window, IssuedCertificate, LeafRequest};
use super::{io_error, Error};
use crate::files;
use crate::names::ValidationError;

pub const ROOT_CERT: &str = "root.crt";
pub const ROOT_KEY: &str = "root.key";
pub const INTERMEDIATE_CERT: &str = "intermediate.crt";
pub const INTERMEDIATE_KEY: &str = "intermediate.key";

const MAX_CA_VALIDITY_DAYS: u32 = 25 * 365;

/// How a new CA is made.
#[derive(Debug, Clone)]
pub struct CaOptions {
    /// Organisation name; the subjects read "<name> Root CA" and "<name> Intermediate CA".
    pub name: String,
    pub key_type: KeyType,
    pub root_validity_days: u32,
    pub intermediate_validity_days: u32,
}

impl Default for CaOptions {
    fn default() -> Self {
        Self {
            name: "Press Self-Hosted".into(),
            key_type: KeyType::EcdsaP256,
            root_validity_days: 10 * 365,
            intermediate_validity_days: 5 * 365,
        }
    }
}

impl CaOptions {
    fn validate(&self) -> Result<(), ValidationError> {
        let name = self.name.trim();
        // The longest subject, "<name> Intermediate CA", must fit ub-common-name (64).
        if name.is_empty() || name.len() > 40 || name.chars().any(char::is_control) {
            return Err(ValidationError::new("CA name must be 1 to 40 characters without control characters"));
        }
        if !(1..=MAX_CA_VALIDITY_DAYS).contains(&self.root_validity_days) {
            return Err(ValidationError::new(format!(
                "root validity must be between 1 and {MAX_CA_VALIDITY_DAYS} days ({} given)",
                self.root_validity_days
            )));
        }
        if !(1..=self.root_validity_days).contains(&self.intermediate_validity_days) {
            return Err(ValidationError::new(format!(
                "intermediate validity must be between 1 day and the root's {} days ({} given)",
                self.root_validity_days, self.intermediate_validity_days
            )));
        }
        Ok(())
    }
}

pub struct CertificateAuthority {
    directory: PathBuf,
    root_pem: String,
    intermediate_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority").field("directory", &self.directory).finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Makes a new root and intermediate and writes them to `directory`, which must not hold
    /// a CA already. Nothing is written when the options are invalid.
    pub fn create(directory: &Path, options: &CaOptions, passphrase: Option<&str>) -> Result<Self, Error> {
        options.validate()?;
        if let Some(passphrase) = passphrase {
            if passphrase.is_empty() {
                return Err(ValidationError::new("passphrase is empty").into());
            }
        }
        let existing: Vec<_> = [ROOT_CERT, ROOT_KEY, INTERMEDIATE_CERT, INTERMEDIATE_KEY]
            .into_iter()
            .filter(|f| directory.join(f).exists())
            .collect();
        if !existing.is_empty() {
            return Err(Error::Certificate(format!(
                "a certificate authority already exists in {} ({}); load it instead",
                directory.display(),
                existing.join(", ")
            )));
        }

        let name = options.name.trim();
        let root_key = PrivateKey::generate(options.key_type)?;
        let root_params = ca_params(name, "Root CA", 1, options.root_validity_days);
        let root_cert = root_params.self_signed(root_key.key_pair()).map_err(signing)?;
        let root_issuer = Issuer::new(root_params, root_key.key_pair());

        let intermediate_key = PrivateKey::generate(options.key_type)?;
        let mut intermediate_params = ca_params(name, "Intermediate CA", 0, options.intermediate_validity_days);
        intermediate_params.use_authority_key_identifier_extension = true;
        let intermediate_cert =
            intermediate_params.signed_by(intermediate_key.key_pair(), &root_issuer).map_err(signing)?;

        let files = [
            (ROOT_KEY, root_key.to_pem(passphrase)?, files::PRIVATE),
            (INTERMEDIATE_KEY, intermediate_key.to_pem(passphrase)?, files::PRIVATE),
            (ROOT_CERT, root_cert.pem(), files::PUBLIC),
            (INTERMEDIATE_CERT, intermediate_cert.pem(), files::PUBLIC),
        ];
        files::ensure_dir(directory, 0o700).map_err(|e| io_error(directory, e))?;
        for (index, (file, data, mode)) in files.iter().enumerate() {
            let path = directory.join(file);
            if let Err(e) = files::write_atomic(&path, data.as_bytes(), *mode) {
                // Leave no half-made CA behind.
                for (written, _, _) in &files[..index] {
                    let _ = fs::remove_file(directory.join(written));
                }
                return Err(io_error(&path, e));
            }
        }
        Ok(Self {
            directory: directory.to_path_buf(),
            root_pem: root_cert.pem(),
            intermediate_pem: intermediate_cert.pem(),
            issuer: Issuer::new(intermediate_params, intermediate_key.into_key_pair()),
        })
    }

    /// Loads the CA in `directory` for issuing. Reads the root certificate, the intermediate
    /// certificate and the intermediate key; the root key is not needed.
    pub fn load(directory: &Path, passphrase: Option<&str>) -> Result<Self, Error> {
        let read = |file: &str| {
            let path = directory.join(file);
            fs::read_to_string(&path).map_err(|e| io_error(&path, e))
        };
        let root_pem = read(ROOT_CERT)?;
        let intermediate_pem = read(INTERMEDIATE_CERT)?;
        let key = PrivateKey::from_pem(&read(INTERMEDIATE_KEY)?, passphrase)?;

        let intermediate_der = pem_certificate(&intermediate_pem, INTERMEDIATE_CERT)?;
        let (_, intermediate) = X509Certificate::from_der(&intermediate_der)
            .map_err(|_| Error::Certificate(format!("{INTERMEDIATE_CERT} is not a valid certificate")))?;
        if intermediate.public_key().subject_public_key.data.as_ref() != key.key_pair().public_key_raw() {
            return Err(Error::Certificate(format!("{INTERMEDIATE_KEY} does not belong to {INTERMEDIATE_CERT}")));
        }
        if !intermediate.is_ca() {
            return Err(Error::Certificate(format!("{INTERMEDIATE_CERT} is not a CA certificate")));
        }
        pem_certificate(&root_pem, ROOT_CERT)?;
        let issuer = Issuer::from_ca_cert_der(&intermediate_der.clone().into(), key.into_key_pair())
            .map_err(|e| Error::Certificate(format!("{INTERMEDIATE_CERT}: {e}")))?;
        Ok(Self { directory: directory.to_path_buf(), root_pem, intermediate_pem, issuer })
    }

    /// Issues a leaf certificate signed by the intermediate.
    pub fn issue(&self, request: &LeafRequest) -> Result<IssuedCertificate, Error> {
        let params = request.to_params()?;
        let key = PrivateKey::generate(request.key_type)?;
        let certificate = params.signed_by(key.key_pair(), &self.issuer).map_err(signing)?;
        Ok(IssuedCertificate { certificate_pem: certificate.pem(), chain_pem: self.intermediate_pem.clone(), key })
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The trust anchor clients install.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    pub fn intermediate_pem(&self) -> &str {
        &self.intermediate_pem
    }
}

/// Parameters of a CA certificate. `path_len` bounds the CAs below it (the intermediate gets
/// 0: it signs leaves only).
fn ca_params(name: &str, role: &str, path_len: u8, days: u32) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, name);
    subject.push(DnType::CommonName, format!("{name} {role}"));
    params.distinguished_name = subject;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let (not_before, not_after) = validity_window(None, days);
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial());
    params
}

fn pem_certificate(text: &str, file: &str) -> Result<Vec<u8>, Error> {
    match pem::parse(text) {
        Ok(block) if block.tag() == "CERTIFICATE" => Ok(block.into_contents()),
        _ => Err(Error::Certificate(format!("{file} is not a PEM certificate"))),
    }
}

fn signing(e: rcgen::Error) -> Error {
    Error::Certificate(format!("signing failed: {e}"))
}

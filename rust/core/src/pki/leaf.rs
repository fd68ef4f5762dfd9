//! End-entity certificates: what may be asked for, and what comes back.

use std::path::{Path, PathBuf};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::keys::{random_bytes, KeyType, PrivateKey};
use super::{io_error, Error};
use crate::files;
use crate::names::{self, SubjectName, ValidationError};

pub const DEFAULT_VALIDITY_DAYS: u32 = 90;
/// The CA/Browser Forum's ceiling for publicly trusted TLS certificates.
pub const MAX_VALIDITY_DAYS: u32 = 397;
/// Let's Encrypt's limit; more names than this in one certificate is a mistake.
const MAX_NAMES: usize = 100;
/// Longest value allowed in a subject's common name (RFC 5280 ub-common-name).
const MAX_COMMON_NAME: usize = 64;
/// Default backdating of `not_before`, so that a client whose clock is slightly behind
/// still accepts a certificate issued a moment ago.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// What a leaf certificate is asked for.
#[derive(Debug, Clone)]
pub struct LeafRequest {
    /// DNS names (a wildcard allowed in the left-most label) and IP addresses.
    pub names: Vec<String>,
    pub key_type: KeyType,
    pub validity_days: u32,
    /// Start of validity; defaults to now (backdated a few minutes for clock skew).
    pub not_before: Option<OffsetDateTime>,
    pub server_auth: bool,
    pub client_auth: bool,
}

impl LeafRequest {
    /// A server certificate for `names` with the defaults: ECDSA P-256, 90 days.
    pub fn server(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            names: names.into_iter().map(Into::into).collect(),
            key_type: KeyType::EcdsaP256,
            validity_days: DEFAULT_VALIDITY_DAYS,
            not_before: None,
            server_auth: true,
            client_auth: false,
        }
    }

    /// Checks everything that can be checked before a key is made, and turns the request
    /// into certificate parameters with a fresh random serial.
    pub(crate) fn to_params(&self) -> Result<CertificateParams, ValidationError> {
        if self.names.is_empty() {
            return Err(ValidationError::new("a certificate needs at least one name"));
        }
        if self.names.len() > MAX_NAMES {
            return Err(ValidationError::new(format!(
                "a certificate may carry at most {MAX_NAMES} names ({} given)",
                self.names.len()
            )));
        }
        if !(1..=MAX_VALIDITY_DAYS).contains(&self.validity_days) {
            return Err(ValidationError::new(format!(
                "validity must be between 1 and {MAX_VALIDITY_DAYS} days ({} given)",
                self.validity_days
            )));
        }
        if !self.server_auth && !self.client_auth {
            return Err(ValidationError::new("a certificate needs server or client usage, or both"));
        }
        let mut subjects: Vec<SubjectName> = Vec::with_capacity(self.names.len());
        for name in &self.names {
            let subject = SubjectName::parse(name)?;
            if !subjects.contains(&subject) {
                subjects.push(subject);
            }
        }

        let mut params = CertificateParams::default();
        params.subject_alt_names = subjects
            .iter()
            .map(|s| match s {
                SubjectName::Dns(dns) => dns
                    .clone()
                    .try_into()
                    .map(SanType::DnsName)
                    .map_err(|_| ValidationError::new(format!("invalid DNS name {dns:?}"))),
                SubjectName::Ip(ip) => Ok(SanType::IpAddress(*ip)),
            })
            .collect::<Result<_, _>>()?;
        let mut subject = DistinguishedName::new();
        let first = subjects[0].to_string();
        if first.len() <= MAX_COMMON_NAME {
            subject.push(DnType::CommonName, first);
        }
        params.distinguished_name = subject;
        let (not_before, not_after) = validity_window(self.not_before, self.validity_days);
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial());
        // ExplicitNoCa writes basicConstraints CA:FALSE and a subject key identifier.
        params.is_ca = IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if self.server_auth {
            params.extended_key_usages.push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        if self.client_auth {
            params.extended_key_usages.push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        Ok(params)
    }
}

/// `(not_before, not_after)`: an explicit start is taken as given; the default start is now,
/// backdated by the clock-skew allowance, with the validity counted from now.
pub(crate) fn validity_window(start: Option<OffsetDateTime>, days: u32) -> (OffsetDateTime, OffsetDateTime) {
    let length = Duration::days(days.into());
    match start {
        Some(start) => (start, start + length),
        None => {
            let now = OffsetDateTime::now_utc();
            (now - CLOCK_SKEW, now + length)
        }
    }
}

/// 128 random bits, positive and of fixed length (RFC 5280 allows up to 20 octets).
pub(crate) fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = random_bytes();
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// A certificate with its private key, in the shapes web servers and Press expect:
/// the certificate, the chain of intermediates above it, and both together.
#[derive(Debug)]
pub struct IssuedCertificate {
    pub certificate_pem: String,
    /// Intermediate certificates, leaf's issuer first; empty for a self-signed certificate.
    pub chain_pem: String,
    pub key: PrivateKey,
}

/// Where `IssuedCertificate::write_files` put each part.
#[derive(Debug, Clone)]
pub struct CertificateFiles {
    pub certificate: PathBuf,
    pub chain: PathBuf,
    pub full_chain: PathBuf,
    pub private_key: PathBuf,
}

impl IssuedCertificate {
    pub fn full_chain_pem(&self) -> String {
        format!("{}{}", self.certificate_pem, self.chain_pem)
    }

    /// Writes `<stem>.crt`, `<stem>.chain.crt`, `<stem>.fullchain.crt` (0644) and `<stem>.key`
    /// (0600, encrypted when a passphrase is given) into `dir`, each atomically.
    pub fn write_files(&self, dir: &Path, stem: &str, passphrase: Option<&str>) -> Result<CertificateFiles, Error> {
        let stem = names::file_stem(stem)?;
        let key_pem = self.key.to_pem(passphrase)?;
        files::ensure_dir(dir, 0o700).map_err(|e| io_error(dir, e))?;
        let paths = CertificateFiles {
            certificate: dir.join(format!("{stem}.crt")),
            chain: dir.join(format!("{stem}.chain.crt")),
            full_chain: dir.join(format!("{stem}.fullchain.crt")),
            private_key: dir.join(format!("{stem}.key")),
        };
        let full_chain = self.full_chain_pem();
        let writes = [
            (&paths.private_key, key_pem.as_bytes(), files::PRIVATE),
            (&paths.certificate, self.certificate_pem.as_bytes(), files::PUBLIC),
            (&paths.chain, self.chain_pem.as_bytes(), files::PUBLIC),
            (&paths.full_chain, full_chain.as_bytes(), files::PUBLIC),
        ];
        for (path, data, mode) in writes {
            files::write_atomic(path, data, mode).map_err(|e| io_error(path, e))?;
        }
        Ok(paths)
    }
}

/// A self-signed certificate: the fallback for a domain when no CA is configured.
pub fn self_signed(request: &LeafRequest) -> Result<IssuedCertificate, Error> {
    let params = request.to_params()?;
    let key = PrivateKey::generate(request.key_type)?;
    let certificate =
        params.self_signed(key.key_pair()).map_err(|e| Error::Certificate(format!("signing failed: {e}")))?;
    Ok(IssuedCertificate { certificate_pem: certificate.pem(), chain_pem: String::new(), key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_requests_are_refused_with_the_reason() {
        let cases: Vec<(LeafRequest, &str)> = vec![
            (LeafRequest::server(Vec::<String>::new()), "at least one name"),
            (LeafRequest::server(["bad_name.test"]), "letters, digits"),
            (LeafRequest::server(["a.*.test"]), "left-most"),
            (LeafRequest { validity_days: 0, ..LeafRequest::server(["a.test"]) }, "between 1 and 397"),
            (LeafRequest { validity_days: 398, ..LeafRequest::server(["a.test"]) }, "between 1 and 397"),
            (LeafRequest { server_auth: false, ..LeafRequest::server(["a.test"]) }, "usage"),
            (LeafRequest::server((0..101).map(|i| format!("s{i}.test"))), "at most 100"),
        ];
        for (request, reason) in cases {
            let err = request.to_params().unwrap_err().to_string();
            assert!(err.contains(reason), "{request:?}: {err}");
        }
    }

    #[test]
    fn serials_are_random_positive_and_sixteen_bytes() {
        let a = random_serial().to_bytes();
        let b = random_serial().to_bytes();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a[0] & 0x80 == 0 && a[0] != 0);
    }

    #[test]
    fn long_first_names_leave_the_common_name_out_but_stay_in_the_sans() {
        let long = format!("{}.test", "a".repeat(60));
        let params = LeafRequest::server([long.as_str(), "short.test"]).to_params().unwrap();
        assert!(params.distinguished_name.get(&DnType::CommonName).is_none());
        assert_eq!(params.subject_alt_names.len(), 2);
    }

    #[test]
    fn duplicate_names_collapse_after_canonicalisation() {
        let params = LeafRequest::server(["A.test", "a.test.", "127.0.0.1"]).to_params().unwrap();
        assert_eq!(params.subject_alt_names.len(), 2);
    }
}

//! Reading a certificate back: who it is for, who issued it, and how long it has left.

use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::Error;

/// Press renews certificates this many days before they expire (`renew_tls_certificates`).
pub const DEFAULT_RENEWAL_DAYS: i64 = 25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    /// DNS names and IP addresses from the subject alternative names, in order.
    pub names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub is_ca: bool,
    /// SHA-256 of the DER encoding, lower-case hex.
    pub fingerprint_sha256: String,
}

impl CertificateInfo {
    /// Whole days until expiry at `now`; negative once expired (Press's `timedelta.days`).
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        let remaining = self.not_after - now;
        remaining.whole_days() - i64::from(remaining.is_negative() && remaining.whole_seconds() % 86_400 != 0)
    }

    /// True when the certificate expires within `threshold_days` of `now` (or already has).
    pub fn needs_renewal(&self, threshold_days: i64, now: OffsetDateTime) -> bool {
        self.not_after - now < Duration::days(threshold_days)
    }
}

/// Inspects the first certificate of a PEM text (a full chain reads as its leaf).
pub fn inspect(pem_text: &str) -> Result<CertificateInfo, Error> {
    let der = pem::parse_many(pem_text)
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.tag() == "CERTIFICATE"))
        .ok_or_else(|| Error::Certificate("no PEM certificate found".into()))?
        .into_contents();
    let (_, cert) =
        X509Certificate::from_der(&der).map_err(|e| Error::Certificate(format!("malformed certificate: {e}")))?;
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| san.value.general_names.iter().filter_map(general_name).collect())
        .unwrap_or_default();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der);
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex(cert.raw_serial()),
        names,
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        is_ca: cert.is_ca(),
        fingerprint_sha256: hex(fingerprint.as_ref()),
    })
}

fn general_name(name: &GeneralName<'_>) -> Option<String> {
    match name {
        GeneralName::DNSName(dns) => Some(dns.to_string()),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
            16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info_expiring_at(not_after: OffsetDateTime) -> CertificateInfo {
        CertificateInfo {
            subject: String::new(),
            issuer: String::new(),
            serial: String::new(),
            names: vec![],
            not_before: not_after - Duration::days(90),
            not_after,
            is_ca: false,
            fingerprint_sha256: String::new(),
        }
    }

    #[test]
    fn days_left_floors_like_python_timedelta() {
        let now = OffsetDateTime::now_utc();
        let info = info_expiring_at(now + Duration::days(30) - Duration::minutes(1));
        assert_eq!(info.days_left(now), 29);
        let expired = info_expiring_at(now - Duration::hours(1));
        assert_eq!(expired.days_left(now), -1);
        assert_eq!(info_expiring_at(now - Duration::days(2)).days_left(now), -2);
    }

    #[test]
    fn renewal_is_due_inside_the_threshold() {
        let now = OffsetDateTime::now_utc();
        assert!(!info_expiring_at(now + Duration::days(26)).needs_renewal(25, now));
        assert!(info_expiring_at(now + Duration::days(24)).needs_renewal(25, now));
        assert!(info_expiring_at(now - Duration::days(1)).needs_renewal(25, now));
    }

    #[test]
    fn garbage_is_a_certificate_error() {
        assert!(matches!(inspect("not a certificate"), Err(Error::Certificate(_))));
        let bogus = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(inspect(bogus), Err(Error::Certificate(_))));
    }
}

//! Validation of the names that cross the boundary: domain names, certificate subject names
//! and file stems. Everything the platform writes into a certificate, a DNS zone or a file
//! name passes through here first, so bad input is refused before anything is created.

use std::net::IpAddr;

/// Input that was refused before any work was done. The message names the offending value
/// and the rule it breaks; it never carries secrets because secrets are not names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(pub String);

impl ValidationError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

const MAX_LABEL: usize = 63;
const MAX_NAME: usize = 253;

/// A host name in canonical form: lower-case ASCII (IDNA A-labels), no trailing dot.
/// `allow_wildcard` admits a `*` as the whole left-most label, followed by at least two labels
/// so that a wildcard never covers a whole top-level domain.
pub fn domain(name: &str, allow_wildcard: bool) -> Result<String, ValidationError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err(ValidationError::new("domain name is empty"));
    }
    let (wildcard, rest) = match trimmed.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    if wildcard && !allow_wildcard {
        return Err(ValidationError::new(format!("wildcard not allowed here: {name:?}")));
    }
    if rest.contains('*') {
        return Err(ValidationError::new(format!("a wildcard may only be the whole left-most label: {name:?}")));
    }
    // Lengths are checked on the raw labels first so the message names the label the user
    // typed; IDNA then normalises case and converts Unicode labels to A-labels.
    check_lengths(name, rest)?;
    let ascii = idna::domain_to_ascii(rest)
        .map_err(|_| ValidationError::new(format!("not a valid internationalised domain name: {name:?}")))?;
    check_lengths(name, &ascii)?;
    for label in ascii.split('.') {
        check_label(name, label)?;
    }
    if ascii.split('.').next_back().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ValidationError::new(format!("top-level label is numeric: {name:?}")));
    }
    if wildcard {
        if ascii.split('.').count() < 2 {
            return Err(ValidationError::new(format!("a wildcard needs at least two labels after it: {name:?}")));
        }
        let full = format!("*.{ascii}");
        if full.len() > MAX_NAME {
            return Err(ValidationError::new(format!("domain name is longer than {MAX_NAME} characters: {name:?}")));
        }
        return Ok(full);
    }
    Ok(ascii)
}

fn check_lengths(original: &str, name: &str) -> Result<(), ValidationError> {
    if name.len() > MAX_NAME {
        return Err(ValidationError::new(format!(
            "domain name is longer than {MAX_NAME} characters ({} given)",
            original.len()
        )));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(ValidationError::new(format!("empty label in domain name {original:?}")));
        }
        if label.len() > MAX_LABEL {
            return Err(ValidationError::new(format!("label {label:?} is longer than {MAX_LABEL} characters")));
        }
    }
    Ok(())
}

fn check_label(original: &str, label: &str) -> Result<(), ValidationError> {
    let ldh = label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ldh {
        return Err(ValidationError::new(format!(
            "label {label:?} of {original:?} has characters other than letters, digits and hyphens"
        )));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(ValidationError::new(format!("label {label:?} of {original:?} starts or ends with a hyphen")));
    }
    Ok(())
}

/// A subject name of a certificate: an IP address or a domain name (wildcards allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectName {
    Dns(String),
    Ip(IpAddr),
}

impl SubjectName {
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        match name.parse::<IpAddr>() {
            Ok(ip) => Ok(Self::Ip(ip)),
            Err(_) => domain(name, true).map(Self::Dns),
        }
    }
}

impl std::fmt::Display for SubjectName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A file stem the platform derives file names from (e.g. a site's certificate files):
/// lower-case letters, digits, `.`, `-`, `_`; no leading dot; at most 200 bytes.
pub fn file_stem(stem: &str) -> Result<&str, ValidationError> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_');
    if stem.is_empty() || stem.len() > 200 || stem.starts_with('.') || !stem.bytes().all(allowed) {
        return Err(ValidationError::new(format!(
            "invalid file name {stem:?}: use lower-case letters, digits, '.', '-' and '_', not starting with '.'"
        )));
    }
    Ok(stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_case_trailing_dot_and_unicode() {
        assert_eq!(domain("Demo.TEST.", false).unwrap(), "demo.test");
        assert_eq!(domain("bücher.example", false).unwrap(), "xn--bcher-kva.example");
        assert_eq!(domain("*.Demo.test", true).unwrap(), "*.demo.test");
    }

    #[test]
    fn refuses_bad_domains_with_the_reason() {
        let cases = [
            ("", "empty"),
            (".", "empty"),
            ("a..b", "empty label"),
            ("-a.test", "hyphen"),
            ("a-.test", "hyphen"),
            ("a_b.test", "letters, digits"),
            ("a b.test", "letters, digits"),
            ("a\u{0}b.test", "letters, digits"),
            ("a.*.test", "left-most"),
            ("foo*.test", "left-most"),
            ("*.test", "two labels"),
            ("10.0.0.300", "numeric"),
        ];
        for (input, reason) in cases {
            let err = domain(input, true).unwrap_err().to_string();
            assert!(err.contains(reason), "{input:?}: {err}");
        }
        assert!(domain("*.demo.test", false).unwrap_err().to_string().contains("wildcard not allowed"));
    }

    #[test]
    fn enforces_label_and_name_lengths() {
        let label63 = "a".repeat(63);
        assert!(domain(&format!("{label63}.test"), false).is_ok());
        let err = domain(&format!("{}a.test", label63), false).unwrap_err().to_string();
        assert!(err.contains("longer than 63"), "{err}");
        // 4 labels of 63 + 3 dots = 255 > 253
        let long = [label63.as_str(); 4].join(".");
        assert!(domain(&long, false).unwrap_err().to_string().contains("longer than 253"));
        let exactly_253 = format!("{}.{}.{}.{}", label63, label63, label63, "a".repeat(61));
        assert_eq!(exactly_253.len(), 253);
        assert!(domain(&exactly_253, false).is_ok());
    }

    #[test]
    fn subject_names_accept_ips_and_domains() {
        assert_eq!(SubjectName::parse("127.0.0.1").unwrap(), SubjectName::Ip([127, 0, 0, 1].into()));
        assert_eq!(SubjectName::parse("::1").unwrap().to_string(), "::1");
        assert_eq!(SubjectName::parse("*.A.test").unwrap(), SubjectName::Dns("*.a.test".into()));
    }

    #[test]
    fn file_stems_cannot_escape_their_directory() {
        assert!(file_stem("site-1.demo.test").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "UPPER", "a\0b"] {
            assert!(file_stem(bad).is_err(), "{bad:?}");
        }
    }
}

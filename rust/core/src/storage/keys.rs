//! Object keys: every key a caller passes is checked and confined to its tenant's prefix;
//! a key that would leave it is an error, never silently rewritten.

use crate::names::ValidationError;

/// S3's limit on a key's length in bytes.
const MAX_KEY: usize = 1024;

/// A tenant's part of a bucket: `<prefix>/…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPrefix(String);

impl TenantPrefix {
    /// `prefix` is one or more path segments of lower-case letters, digits, `.`, `-`, `_`.
    pub fn new(prefix: &str) -> Result<Self, ValidationError> {
        let trimmed = prefix.trim_end_matches('/');
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
        };
        if trimmed.is_empty() || trimmed.len() > 256 || !trimmed.split('/').all(segment_ok) {
            return Err(ValidationError::new(format!(
                "invalid tenant prefix {prefix:?}: use path segments of lower-case letters, digits, '.', '-', '_'"
            )));
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full key of `relative` inside this tenant's prefix.
    pub fn key(&self, relative: &str) -> Result<String, ValidationError> {
        check_relative(relative)?;
        let key = format!("{}/{relative}", self.0);
        if key.len() > MAX_KEY {
            return Err(ValidationError::new(format!("object key is longer than {MAX_KEY} bytes")));
        }
        Ok(key)
    }

    /// The key relative to this prefix, when a full key lies inside it.
    pub fn relative<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(self.0.as_str())?.strip_prefix('/').filter(|rest| !rest.is_empty())
    }
}

fn check_relative(key: &str) -> Result<(), ValidationError> {
    let refuse = |why: &str| Err(ValidationError::new(format!("invalid object key {key:?}: {why}")));
    if key.is_empty() {
        return refuse("empty");
    }
    if key.starts_with('/') {
        return refuse("starts with '/'");
    }
    if key.chars().any(char::is_control) {
        return refuse("contains control characters");
    }
    if key.split('/').any(|segment| segment == ".." || segment == ".") {
        return refuse("'.' and '..' segments would leave the tenant's prefix");
    }
    if key.contains("//") || key.ends_with('/') {
        return refuse("empty path segment");
    }
    if key.contains('\\') {
        return refuse("contains a backslash");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_confined_to_the_tenant_prefix() {
        let tenant = TenantPrefix::new("tenants/acme/").unwrap();
        assert_eq!(tenant.key("backups/2026-11-25/db.sql.gz").unwrap(), "tenants/acme/backups/2026-11-25/db.sql.gz");
        assert_eq!(tenant.relative("tenants/acme/a/b").unwrap(), "a/b");
        assert_eq!(tenant.relative("tenants/acmeevil/a"), None, "a sibling prefix is not inside");
        assert_eq!(tenant.relative("tenants/acme/"), None);
        for bad in ["", "/etc/passwd", "../other/x", "a/../../x", "a/./b", "a//b", "a/", "a\nb", "a\u{0}b", "a\\..\\b"]
        {
            assert!(tenant.key(bad).is_err(), "{bad:?}");
        }
        assert!(tenant.key(&"x".repeat(1024)).is_err());
    }

    #[test]
    fn prefixes_are_validated() {
        assert_eq!(TenantPrefix::new("acme").unwrap().as_str(), "acme");
        for bad in ["", "/", "Acme", "a/../b", "a//b", "a b", ".."] {
            assert!(TenantPrefix::new(bad).is_err(), "{bad:?}");
        }
    }
}

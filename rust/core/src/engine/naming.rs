//! Every object the platform creates is named `erp-saas-cloud-c16-<kind>-<slug>` and carries
//! labels, so that the platform's state can be rebuilt from the engine alone.

use crate::names::ValidationError;

pub const PREFIX: &str = "erp-saas-cloud-c16";
/// What the object is to the platform: `bench`, `site`, `proxy`, `network`, …
pub const LABEL_KIND: &str = "io.press-selfhosted.kind";
pub const LABEL_SITE: &str = "io.press-selfhosted.site";
pub const LABEL_BENCH: &str = "io.press-selfhosted.bench";

/// `erp-saas-cloud-c16-<kind>-<slug>`; kind is lower-case letters and digits (1–20), slug is
/// lower-case letters, digits, `.`, `_`, `-`, starting with a letter or digit.
pub fn object_name(kind: &str, slug: &str) -> Result<String, ValidationError> {
    let kind_ok = (1..=20).contains(&kind.len())
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && kind.as_bytes()[0].is_ascii_lowercase();
    if !kind_ok {
        return Err(ValidationError::new(format!(
            "invalid object kind {kind:?}: use 1-20 lower-case letters and digits"
        )));
    }
    if !slug.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(ValidationError::new(format!(
            "invalid slug {slug:?}: must start with a lower-case letter or digit"
        )));
    }
    let name = format!("{PREFIX}-{kind}-{slug}");
    check_platform_name(&name)?;
    Ok(name)
}

/// A name the platform may create: its own prefix, then Docker's name rules, at most 128.
pub fn check_platform_name(name: &str) -> Result<&str, ValidationError> {
    let rest = name.strip_prefix(PREFIX).and_then(|r| r.strip_prefix('-')).unwrap_or("");
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-');
    let ok = !rest.is_empty()
        && name.len() <= 128
        && rest.as_bytes()[0].is_ascii_alphanumeric()
        && rest.bytes().all(allowed);
    if !ok {
        return Err(ValidationError::new(format!(
            "invalid object name {name:?}: must be {PREFIX}-<kind>-<slug> with lower-case letters, digits, '.', '_', '-' (at most 128)"
        )));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix_and_refuse_anything_else() {
        assert_eq!(object_name("bench", "b-0001").unwrap(), "erp-saas-cloud-c16-bench-b-0001");
        assert_eq!(object_name("site", "shop.example.com").unwrap(), "erp-saas-cloud-c16-site-shop.example.com");
        for (kind, slug) in
            [("", "x"), ("Bench", "x"), ("1x", "x"), ("bench", ""), ("bench", "-x"), ("bench", "a/b"), ("bench", "A")]
        {
            assert!(object_name(kind, slug).is_err(), "{kind:?} {slug:?}");
        }
        assert!(object_name("bench", &"a".repeat(120)).is_err());
        assert!(check_platform_name("other-container").is_err());
    }
}
